"""ceph.conf, keyring, argv and mon_host parsing, compared with the installed Ceph tools.

Oracles: ``ceph-conf -c FILE -n NAME --lookup KEY`` (section search + metavariables + the
conf grammar), ``monmaptool --create --generate`` (mon_host → initial monmap), and
``ceph-authtool`` (keyring files). Tests that need a tool skip when it is absent.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from rbdpy.rados.proto.conf import (
    Config,
    ConfParseError,
    cluster_from_conf_path,
    default_conf_search_path,
    expand_meta,
    keyring_lookup,
    mon_addr_from_section,
    normalize_key_name,
    parse_addr,
    parse_argv,
    parse_conf,
    parse_keyring,
    parse_mon_host,
    split_env_args,
    split_file_list,
)
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityAddrvec, EntityName

CEPH_CONF = shutil.which("ceph-conf")
MONMAPTOOL = shutil.which("monmaptool")
AUTHTOOL = shutil.which("ceph-authtool")
SHORT_HOST = socket.gethostname().split(".", 1)[0]

needs_ceph_conf = pytest.mark.skipif(CEPH_CONF is None, reason="ceph-conf not installed")


def _tool_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CEPH_CONF", "CEPH_ARGS")}
    env["HOME"] = "/nonexistent"
    return env


def ceph_conf_lookup(path: Path, name: str, key: str, cluster: str | None = None) -> str | None:
    """What ``ceph-conf --lookup`` prints (None when it finds nothing)."""
    cmd = [CEPH_CONF or "ceph-conf", "-c", str(path), "-n", name]
    if cluster:
        cmd += ["--cluster", cluster]
    cmd += ["--lookup", key]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=_tool_env())
    if "parse error" in p.stderr:
        raise ConfParseError(p.stderr.strip())
    return p.stdout.rstrip("\n") if p.returncode == 0 else None


def our_lookup(path: Path, name: str, key: str, cluster: str | None = None) -> str | None:
    cfg = Config(name, cluster=cluster or "", host=SHORT_HOST)
    cfg.apply_conf_file(parse_conf(path.read_text()), str(path))
    return cfg.get_val_from_conf_file(cfg.get_my_sections(), key)


BIG_CONF = """\
; comment
# another
[global]
\tfsid = 11111111-2222-3333-4444-555555555555
mon host = 10.0.0.1,10.0.0.2:6789 [v2:10.0.0.3:3300,v1:10.0.0.3:6789]   # trailing comment
log-file = /var/log/x-$name.log
  auth_client_required   =   cephx
quoted = "a value \\# not comment"  ; c
single = 'sq'
cont = abc \\
   def
esc = a\\;b\\\\c
empty =
keyring = /k/$cluster.$name.$type.$id.keyring
brace = ${cluster}-x
num = $num
runs = $run_dir/y
hosty = $host
auth   cluster    required = none
rec = $rec
loop_a = $loop_b
loop_b = $loop_a
unknown = $nope/$$/$
[client]
rbd cache = false
debug ms = 1
[client.admin]
debug_ms = 5
[mon.a]
mon addr = 10.0.0.9:6789
host = hosta
[osd]
  osd data = /osd/$id
[global]
fsid = 99999999-2222-3333-4444-555555555555
"""

BIG_KEYS = ["fsid", "mon_host", "mon host", "log_file", "log-file", "auth_client_required",
            "quoted", "single", "cont", "esc", "empty", "keyring", "brace", "num", "runs",
            "hosty", "auth_cluster_required", "rbd_cache", "debug_ms", "mon_addr", "osd data",
            "rec", "loop_a", "unknown", "nothere"]


@needs_ceph_conf
@pytest.mark.parametrize("name", ["client.admin", "client.foo", "osd.3", "mon.a"])
@pytest.mark.parametrize("cluster", [None, "xx"])
def test_lookup_matches_ceph_conf(tmp_path: Path, name: str, cluster: str | None) -> None:
    path = tmp_path / "t2.conf"
    path.write_text(BIG_CONF)
    for key in BIG_KEYS:
        assert our_lookup(path, name, key, cluster) == ceph_conf_lookup(path, name, key,
                                                                         cluster), key


EDGE_CASES = [
    ("[global]\nfoo = a\"b\n", "foo"),
    ("[global]\nfoo=bar\n", "foo"),
    ("[global]\nfoo = 1\nfoo = 2\n", "foo"),
    ("[global]\n\tfoo\tbar = 3\n", "foo_bar"),
    ("[global]\nfoo = \"  spaced  \"\n", "foo"),
    ("[global]\nfoo = a\\\\\n", "foo"),
    ("[global]\nfoo = a \\\n\n[client]\n", "foo"),
    ("[global]\r\nfoo = crlf\r\n", "foo"),
    ("[global]\nfoo = \\#x\n", "foo"),
    ("[global]\n  ; indented comment\nfoo = 1 # c\n", "foo"),
    ("[global]\nfoo = [v2:1.2.3.4:3300]\n", "foo"),
    ("[global]\nfoo = 1\n\n\n[client.admin]\nfoo = 2\n\n", "foo"),
    ("[ global ]\nfoo = 1\n", "foo"),
    ("fsid = y\n", "fsid"),
    ("\n\n[global]\nfoo = x=y==\n", "foo"),
]

PARSE_ERRORS = [
    "fsid = y\n[global]\nfoo = 1\n",
    "[global]\nfoo = \"a\" b\n",
    "[global]\nfoo bar\n",
    "[global]\n=bar\n",
    "[global]\nfoo[x] = 1\n",
    "[glo#bal]\nfoo = 1\n",
    "[global]\nfoo = \"a # b\"\n",
    "[global\nfoo = 1\n",
    "[global]\nfoo = 'it''s'\n",
    "[global]\nfoo = 'a' x\n",
]


@needs_ceph_conf
@pytest.mark.parametrize("text,key", EDGE_CASES)
def test_edge_cases_match_ceph_conf(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "e.conf"
    path.write_text(text)
    assert our_lookup(path, "client.admin", key) == ceph_conf_lookup(path, "client.admin", key)


@needs_ceph_conf
@pytest.mark.parametrize("text", PARSE_ERRORS)
def test_parse_errors_match_ceph_conf(tmp_path: Path, text: str) -> None:
    path = tmp_path / "e.conf"
    path.write_text(text)
    with pytest.raises(ConfParseError):
        ceph_conf_lookup(path, "client.admin", "foo")
    with pytest.raises(ConfParseError):
        parse_conf(text)


def test_missing_final_newline_is_accepted() -> None:
    # Ceph's grammar rejects this; accepting it is a deliberate leniency.
    assert parse_conf("[global]\nfsid = x").read("global", "fsid") == "x"


def test_invalid_utf8_rejected() -> None:
    with pytest.raises(ConfParseError, match="UTF-8"):
        parse_conf(b"[global]\nfoo = \xff\n")


def test_parse_structure() -> None:
    conf = parse_conf(BIG_CONF)
    assert list(conf.sections) == ["global", "client", "client.admin", "mon.a", "osd"]
    g = conf.sections["global"]
    assert g["fsid"] == "99999999-2222-3333-4444-555555555555"  # repeated section merged
    assert g["cont"] == "abc    def"  # continuation keeps the next line's indentation
    assert g["esc"] == "a;b\\c"
    assert g["quoted"] == "a value # not comment"
    assert "log-file" in g and "log_file" not in g  # dashes are not folded in files
    assert conf.read("global", "auth  cluster required") == "none"
    assert conf.read("nosuch", "x") is None


def test_normalize_key_name() -> None:
    assert normalize_key_name("  mon   host \t") == "mon_host"
    assert normalize_key_name("ms-client-mode") == "ms-client-mode"


def test_expand_meta() -> None:
    vals = {"a": "1", "b": "two"}
    assert expand_meta("$a-${b}/$c/$$/$", vals.get) == "1-two/$c/$$/$"


# -- mon_host ----------------------------------------------------------------------------------


def v2(host: str, port: int, nonce: int = 0) -> EntityAddr:
    return EntityAddr(AddrType.MSGR2, nonce, host, port)


def v1(host: str, port: int, nonce: int = 0) -> EntityAddr:
    return EntityAddr(AddrType.LEGACY, nonce, host, port)


def avs(*vecs: tuple[EntityAddr, ...]) -> list[EntityAddrvec]:
    return [EntityAddrvec(v) for v in vecs]


MON_HOSTS: list[tuple[str, list[EntityAddrvec]]] = [
    ("127.0.0.1", avs((v2("127.0.0.1", 3300), v1("127.0.0.1", 6789)))),
    ("127.0.0.1:6789", avs((v1("127.0.0.1", 6789),))),
    ("127.0.0.1:3300", avs((v2("127.0.0.1", 3300),))),
    ("[v2:127.0.0.1:3300,v1:127.0.0.1:6789]",
     avs((v2("127.0.0.1", 3300), v1("127.0.0.1", 6789)))),
    ("v2:127.0.0.1:3300/0", avs((v2("127.0.0.1", 3300),))),
    ("v1:1.2.3.4", avs((v1("1.2.3.4", 6789),))),
    ("10.0.0.1,10.0.0.2 10.0.0.3",
     avs(*[(v2(f"10.0.0.{i}", 3300), v1(f"10.0.0.{i}", 6789)) for i in (1, 2, 3)])),
    ("[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0],[v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0]",
     avs((v2("10.0.0.1", 3300), v1("10.0.0.1", 6789)),
         (v2("10.0.0.2", 3300), v1("10.0.0.2", 6789)))),
    ("v2:[::1]:3301/7", avs((v2("::1", 3301, 7),))),
    ("10.0.0.1;10.0.0.2", avs((v2("10.0.0.1", 3300), v1("10.0.0.1", 6789)),
                              (v2("10.0.0.2", 3300), v1("10.0.0.2", 6789)))),
]


@pytest.mark.parametrize("text,expected", MON_HOSTS)
def test_parse_mon_host(text: str, expected: list[EntityAddrvec]) -> None:
    assert parse_mon_host(text) == expected


def _monmaptool_generate(tmp_path: Path, conf: str) -> list[str]:
    path = tmp_path / "g.conf"
    path.write_text(conf)
    mm = tmp_path / "mm"
    subprocess.run([MONMAPTOOL or "monmaptool", "--create", "--clobber", "--generate", "-c",
                    str(path), str(mm)], check=True, capture_output=True, timeout=60,
                   env=_tool_env())
    out = subprocess.run([MONMAPTOOL or "monmaptool", "--print", str(mm)], check=True,
                         capture_output=True, text=True, timeout=60, env=_tool_env()).stdout
    return [line.split(" ", 1)[1].rsplit(" ", 1)[0] for line in out.splitlines()
            if " mon." in line]


def _fmt(av: EntityAddrvec) -> str:
    if len(av.addrs) == 1:
        return str(av.addrs[0])
    return str(av)


@pytest.mark.skipif(MONMAPTOOL is None, reason="monmaptool not installed")
@pytest.mark.parametrize("text,expected", MON_HOSTS)
def test_mon_host_matches_monmaptool(tmp_path: Path, text: str,
                                     expected: list[EntityAddrvec]) -> None:
    # Through the conf file, as the tool reads it (there ';' starts a comment).
    conf = f"[global]\nfsid = 11111111-2222-3333-4444-555555555555\nmon host = {text}\n"
    cfg = Config("client.admin")
    cfg.apply_conf_file(parse_conf(conf))
    assert sorted(_fmt(av) for av in cfg.mon_addrs()) == \
        sorted(_monmaptool_generate(tmp_path, conf))


def test_mon_host_other_port_adds_legacy_guess() -> None:
    # MonMap::_add_ambiguous_addr (client, not mkfs): an untyped odd port is tried as v2
    # and, as "<name>-legacy", as v1. monmaptool --generate (mkfs) shows only the v2 one.
    assert parse_mon_host("10.0.0.1:7000") == avs((v2("10.0.0.1", 7000),
                                                   v1("10.0.0.1", 7000)))


def test_mon_host_dns_names_unresolved() -> None:
    assert parse_mon_host("mon1.example.com:3300, mon2") == avs(
        (v2("mon1.example.com", 3300),),
        (v2("mon2", 3300), v1("mon2", 6789)))


def test_mon_host_ipv6_forms() -> None:
    assert parse_mon_host("[::1]:3300") == avs((v2("::1", 3300),))
    assert parse_mon_host("[::1]") == avs((v2("::1", 3300), v1("::1", 6789)))
    assert parse_mon_host("::2") == avs((v2("::2", 3300), v1("::2", 6789)))
    assert parse_mon_host("[v2:[fe80::1]:3300,v1:[fe80::1]:6789]") == avs(
        (v2("fe80::1", 3300), v1("fe80::1", 6789)))


def test_mon_host_duplicates_dropped() -> None:
    assert parse_mon_host("10.0.0.1:3300,10.0.0.1:3300") == avs((v2("10.0.0.1", 3300),))


@pytest.mark.parametrize("bad", ["[v2:1.2.3.4:3300", "1.2.3.4:xx", "v2:[::1", "a b:c:d",
                                 "1.2.3.4:70000", "1.2.3.4/x", "[]"])
def test_mon_host_errors(bad: str) -> None:
    with pytest.raises(CephError):
        parse_mon_host(bad)


def test_parse_addr() -> None:
    assert parse_addr("any:1.2.3.4:5/6") == EntityAddr(AddrType.ANY, 6, "1.2.3.4", 5)
    assert parse_addr("1.2.3.4", AddrType.LEGACY) == v1("1.2.3.4", 0)


@pytest.mark.skipif(MONMAPTOOL is None, reason="monmaptool not installed")
def test_mon_sections_match_monmaptool(tmp_path: Path) -> None:
    conf = ("[global]\nfsid = 11111111-2222-3333-4444-555555555555\n"
            "[mon.a]\nmon addr = 10.0.0.9:6789\n[mon.b]\nmon addr = 10.0.0.8\n"
            "[mon.c]\nmon addr = v2:10.0.0.7\n[mon.d]\nmon addr = 10.0.0.6:7777\n"
            "[mon.e]\nmon addr = 10.0.0.5:3300\n")
    cfg = Config("client.admin")
    cfg.apply_conf_file(parse_conf(conf))
    ours = sorted(_fmt(av) for av in cfg.mon_addrs())
    assert ours == sorted(_monmaptool_generate(tmp_path, conf))
    # 'mon addr' is a legacy field: untyped means v1, and a missing port is 6789 even for v2
    assert mon_addr_from_section("v2:10.0.0.7") == EntityAddrvec((v2("10.0.0.7", 6789),))


def test_mon_addrs_prefers_mon_host() -> None:
    cfg = Config("client.admin")
    cfg.apply_conf_file(parse_conf("[global]\nmon host = 1.1.1.1:3300\n"
                                   "[mon.a]\nmon addr = 2.2.2.2\n"))
    assert cfg.mon_addrs() == avs((v2("1.1.1.1", 3300),))
    cfg.set("mon_host_override", "v2:3.3.3.3:3300")
    assert cfg.mon_addrs() == avs((v2("3.3.3.3", 3300),))


def test_mon_addrs_none_configured() -> None:
    with pytest.raises(CephError) as ei:
        Config("client.admin").mon_addrs()
    assert ei.value.errno == 2


# -- keyrings ----------------------------------------------------------------------------------


@pytest.mark.skipif(AUTHTOOL is None, reason="ceph-authtool not installed")
def test_keyring_from_ceph_authtool(tmp_path: Path) -> None:
    path = tmp_path / "k"
    tool = AUTHTOOL or "ceph-authtool"
    subprocess.run([tool, "--create-keyring", str(path), "--gen-key", "-n", "client.foo",
                    "--cap", "mon", "allow *", "--cap", "osd", "allow rw pool=rbd"],
                   check=True, capture_output=True, timeout=60)
    subprocess.run([tool, str(path), "--gen-key", "-n", "client.bar"], check=True,
                   capture_output=True, timeout=60)
    keys = parse_keyring(path.read_text())
    for name in ("client.foo", "client.bar"):
        printed = subprocess.run([tool, str(path), "-n", name, "-p"], check=True,
                                 capture_output=True, text=True, timeout=60).stdout.strip()
        assert keys[name].key == printed
        assert keyring_lookup(keys, EntityName.parse(name)) == printed
    assert keys["client.foo"].caps == {"mon": "allow *", "osd": "allow rw pool=rbd"}
    assert keyring_lookup(keys, EntityName.parse("client.nobody")) is None


def test_keyring_plain() -> None:
    text = "[client.admin]\n\tkey = AQBx+2dlAAAAABAAm1f0o7rAYuM8C8aXrP9n7g==\n" \
           "\tcaps mon = \"allow *\"\n[client.nokey]\n\tcaps osd = \"allow\"\n"
    keys = parse_keyring(text)
    assert list(keys) == ["client.admin"]
    assert keys["client.admin"].key == "AQBx+2dlAAAAABAAm1f0o7rAYuM8C8aXrP9n7g=="


# -- argv --------------------------------------------------------------------------------------


def test_parse_argv_forms() -> None:
    p = parse_argv(["--client-mount-timeout", "55", "--rbd_default_order=24", "--rbd-cache",
                    "--keyring=/kk", "-m", "1.2.3.4", "--id", "bob", "pos", "--no-rbd-cache",
                    "-c", "/a.conf,/b.conf", "--cluster", "cl", "-n", "client.x",
                    "--debug-ms", "1/5", "--some-flag", "--", "--after"])
    assert p.options == [("client_mount_timeout", "55"), ("rbd_default_order", "24"),
                         ("rbd_cache", "true"), ("keyring", "/kk"), ("mon_host", "1.2.3.4"),
                         ("rbd_cache", "false"), ("debug_ms", "1/5"), ("some_flag", "true")]
    assert (p.id, p.name, p.cluster, p.conf) == ("bob", "client.x", "cl",
                                                 ["/a.conf", "/b.conf"])
    assert p.remaining == ["pos", "--after"]


def test_parse_argv_short_and_keyfile() -> None:
    p = parse_argv(["-i", "me", "-k", "/k", "-K", "/kf", "-x", "--user", "u2"])
    assert p.id == "u2"
    assert p.options == [("keyring", "/k"), ("keyfile", "/kf")]
    assert p.remaining == ["-x"]


def test_parse_argv_bool_does_not_eat_next_word() -> None:
    # ceph_argparse_binary_flag: "--rbd-cache false" leaves "false" as an argument
    p = parse_argv(["--rbd-cache", "false", "--rbd-cache=false", "--objecter-timeout", "-1"])
    assert p.options == [("rbd_cache", "true"), ("rbd_cache", "false"),
                         ("objecter_timeout", "-1")]
    assert p.remaining == ["false"]


def test_parse_argv_missing_value() -> None:
    with pytest.raises(CephError, match="requires an argument"):
        parse_argv(["--keyring"])


def test_split_env_args() -> None:
    assert split_env_args('--id foo  --keyring "/a b/k"') == ["--id", "foo", "--keyring",
                                                               "/a b/k"]


# -- paths -------------------------------------------------------------------------------------


def test_conf_search_path() -> None:
    assert default_conf_search_path() == ["/etc/ceph/$cluster.conf",
                                          "$home/.ceph/$cluster.conf", "$cluster.conf"]
    assert default_conf_search_path("/x.conf,/y.conf") == ["/x.conf", "/y.conf"]
    cfg = Config("client.admin", home="/home/u")
    assert cfg.conf_search_path() == ["/etc/ceph/ceph.conf", "/home/u/.ceph/ceph.conf",
                                      "ceph.conf"]
    assert Config("client.admin", cluster="c2").conf_search_path()[0] == "/etc/ceph/c2.conf"


def test_cluster_from_conf_path() -> None:
    assert cluster_from_conf_path("/etc/ceph/foo.conf") == "foo"
    assert cluster_from_conf_path("/tmp/whatever") == "ceph"


def test_split_file_list() -> None:
    assert split_file_list("/a, /b;;/c,") == ["/a", "/b", "/c"]
