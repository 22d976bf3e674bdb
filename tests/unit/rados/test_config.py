"""Config layering, conf_get/conf_set semantics and key lookup, compared with python-rados.

The oracle is the distro's python-rados 16.2.15 (importable only by /usr/bin/python3), run in
a subprocess with no cluster: ``Rados(conffile=...)`` + ``conf_parse_env`` +
``conf_parse_argv`` + ``conf_set``, then ``conf_get`` for each key.
"""

from __future__ import annotations

import errno
import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from rbdpy.rados.config import find_key, new_config, parse_env, read_conf_file
from rbdpy.rados.proto.conf import OPTIONS, Config, ConfLevel
from rbdpy.rados.proto.errors import CephError

SYSTEM_PYTHON = "/usr/bin/python3"


def _has_python_rados() -> bool:
    try:
        return subprocess.run([SYSTEM_PYTHON, "-c", "import rados"], capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


needs_rados = pytest.mark.skipif(not _has_python_rados(),
                                 reason="python-rados not importable by /usr/bin/python3")

_ORACLE = textwrap.dedent("""
    import json, os, sys, rados
    spec = json.loads(sys.argv[1])
    kw = {"conffile": spec["conffile"]}
    if spec.get("clustername"):
        kw["clustername"] = spec["clustername"]
    if spec.get("name"):
        kw["name"] = spec["name"]
    r = rados.Rados(**kw)
    if spec.get("env") is not None:
        os.environ["CEPH_ARGS"] = spec["env"]
        r.conf_parse_env()
    if spec.get("argv"):
        r.conf_parse_argv(["prog"] + spec["argv"])
    errors = {}
    for k, v in spec.get("set", []):
        try:
            r.conf_set(k, v)
        except rados.Error as e:
            errors[k] = e.errno
    out = {}
    for k in spec["keys"]:
        out[k] = r.conf_get(k)
    print(json.dumps({"values": out, "set_errors": errors}))
""")


def oracle(spec: dict[str, Any]) -> dict[str, Any]:
    p = subprocess.run([SYSTEM_PYTHON, "-c", _ORACLE, json.dumps(spec)], capture_output=True,
                       text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    assert p.returncode == 0, p.stderr
    result: dict[str, Any] = json.loads(p.stdout)
    return result


def ours(cfg: Config, keys: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for k in keys:
        try:
            out[k] = cfg.get(k)
        except CephError as e:
            assert e.errno == errno.ENOENT
            out[k] = None  # python-rados' conf_get maps ENOENT to None
    return out


# -- defaults ----------------------------------------------------------------------------------


@needs_rados
def test_defaults_match_python_rados() -> None:
    keys = [*sorted(OPTIONS), "nonexistent", "ms client mode", "ms-client-mode", "name",
            "cluster"]
    expected = oracle({"conffile": None, "clustername": "ceph", "keys": keys})["values"]
    assert ours(Config("client.admin", cluster="ceph"), keys) == expected


def test_required_defaults() -> None:
    cfg = Config("client.admin", cluster="ceph")
    assert cfg.get("ms_client_mode") == "crc secure"
    assert cfg.get("ms_mon_client_mode") == "secure crc"
    assert cfg.get_int("client_mount_timeout") == 300
    assert cfg.get_int("rados_osd_op_timeout") == 0
    assert cfg.get_int("rados_mon_op_timeout") == 0
    assert cfg.get_int("rbd_default_features") == 61
    assert cfg.get_int("rbd_default_order") == 22
    assert cfg.get_int("rbd_default_format") == 2
    # Pacific's librados reports rbd_cache true (checked against python-rados above).
    assert cfg.get_bool("rbd_cache") is True
    assert cfg.keyring_paths() == ["/etc/ceph/ceph.client.admin.keyring",
                                   "/etc/ceph/ceph.keyring", "/etc/ceph/keyring",
                                   "/etc/ceph/keyring.bin"]


def test_unknown_option_is_enoent() -> None:
    with pytest.raises(CephError) as ei:
        Config().get("nonexistent")
    assert ei.value.errno == errno.ENOENT


# -- layering ----------------------------------------------------------------------------------

CONF = """\
[global]
rbd-cache = false
rbd default order = 23
client_mount_timeout = 77
keyring = /k/$cluster.$name
admin socket = $run_dir/$cluster-$name.asok
foo_unknown = 3
rados osd op timeout = 5m
rbd default features = layering,exclusive-lock
[client]
rbd default format = 1
client_mount_timeout = 88
objecter_timeout = 2.5
[client.admin]
client_mount_timeout = 99
[client.other]
client_mount_timeout = 11
"""

KEYS = ["rbd_cache", "rbd_default_order", "rbd_default_format", "client_mount_timeout",
        "keyring", "admin_socket", "foo_unknown", "rados_osd_op_timeout", "objecter_timeout",
        "rbd_default_features", "mon_host", "rbd_default_stripe_unit", "debug_ms"]


def _ours_full(path: Path, name: str, env: str | None, argv: list[str],
               sets: list[tuple[str, str]]) -> tuple[dict[str, str | None], dict[str, int]]:
    cfg = new_config(name)
    read_conf_file(cfg, str(path))
    if env is not None:
        parse_env(cfg, env={"CEPH_ARGS": env})
    if argv:
        cfg.parse_argv(argv)
    errors: dict[str, int] = {}
    for k, v in sets:
        try:
            cfg.set(k, v)
        except CephError as e:
            errors[k] = e.errno
    return ours(cfg, KEYS), errors


SCENARIOS: list[dict[str, Any]] = [
    {"name": "client.admin"},
    {"name": "client.other"},
    {"name": "client.nobody"},
    {"name": "client.admin",
     "env": "--client-mount-timeout 55 --rbd_default_order=24 --rbd-cache --keyring=/kk"},
    {"name": "client.admin", "env": "--debug-ms 1/5 --mon-host 10.1.1.1",
     "argv": ["--no-rbd-cache", "-m", "1.2.3.4", "--rbd_default_format", "1", "extra",
              "--rbd-default-stripe-unit", "4M"]},
    {"name": "client.admin", "env": "--client-mount-timeout 55",
     "argv": ["--client-mount-timeout", "66"],
     "set": [["client mount timeout", "44"], ["rbd_cache", "1"], ["rbd_default_order", "abc"],
             ["rbd_default_features", "3"], ["objecter_timeout", "7"]]},
]


@needs_rados
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: json.dumps(s)[:60])
def test_layers_match_python_rados(tmp_path: Path, scenario: dict[str, Any]) -> None:
    path = tmp_path / "t3.conf"  # the cluster name comes from the file name: "t3"
    path.write_text(CONF)
    spec = {"conffile": str(path), "keys": KEYS, **scenario}
    expected = oracle(spec)
    got, errors = _ours_full(path, scenario["name"], scenario.get("env"),
                             scenario.get("argv", []),
                             [tuple(x) for x in scenario.get("set", [])])
    # Deliberate difference: a conf-file key that is not one of Ceph's options is still
    # readable here (librados says ENOENT), so options rbdpy does not list keep working.
    assert expected["values"].pop("foo_unknown") is None
    assert got.pop("foo_unknown") == "3"
    assert got == expected["values"]
    assert errors == expected["set_errors"]


def test_levels_order() -> None:
    cfg = Config("client.admin", cluster="ceph")
    cfg.set_mon_values({"rbd_default_order": "20"})
    assert cfg.get("rbd_default_order") == "20"
    cfg.set("rbd_default_order", "21", ConfLevel.FILE)
    assert cfg.get("rbd_default_order") == "21"  # the conf file beats the mon
    cfg.parse_env("--rbd-default-order 22")
    cfg.parse_argv(["--rbd-default-order", "23"])
    assert cfg.get("rbd_default_order") == "23"
    cfg.set("rbd_default_order", "24")
    assert cfg.get("rbd_default_order") == "24"
    cfg.rm_val("rbd_default_order")
    assert cfg.get("rbd_default_order") == "23"
    assert cfg.is_set("rbd_default_order")
    assert not cfg.is_set("rbd_default_format")


def test_meta_expansion_and_loops() -> None:
    cfg = Config("client.admin", cluster="c1", host="h", pid=42, cctid=7, home="/home/x")
    cfg.set("admin_socket", "$run_dir/$cluster-$name.$pid.$cctid.asok")
    assert cfg.get("admin_socket") == "/var/run/ceph/c1-client.admin.42.7.asok"
    cfg.set("log_file", "$home/$host/$type/$id/$num/${cluster}")
    assert cfg.get("log_file") == "/home/x/h/client/admin/admin/c1"
    cfg.set("a_opt", "$b_opt")
    cfg.set("b_opt", "$a_opt")
    assert cfg.get("a_opt") == "$b_opt"  # a loop leaves the value as written (as Ceph does)
    cfg.set("host", "explicit")
    assert cfg.get("log_file").split("/")[3] == "explicit"


def test_set_validation() -> None:
    cfg = Config()
    for key, bad in [("rbd_cache", "maybe"), ("rbd_default_order", "-1"),
                     ("objecter_timeout", "x"), ("rbd_default_features", "nosuch"),
                     ("client_mount_timeout", "5 parsecs")]:
        with pytest.raises(CephError) as ei:
            cfg.set(key, bad)
        assert ei.value.errno == errno.EINVAL
    cfg.set("rbd_default_features", "layering, deep-flatten")
    assert cfg.get("rbd_default_features") == "33"
    cfg.set("client_mount_timeout", "2m")
    assert cfg.get("client_mount_timeout") == "120"
    cfg.set("rbd_cache_size", "64M")
    assert cfg.get("rbd_cache_size") == str(64 << 20)
    with pytest.raises(CephError):
        cfg.set("", "x")


# -- files and keys ----------------------------------------------------------------------------


def test_read_conf_file_search(tmp_path: Path) -> None:
    cfg = new_config(cluster="ceph")
    missing = str(tmp_path / "nope.conf")
    with pytest.raises(CephError) as ei:
        read_conf_file(cfg, None, env={"CEPH_CONF": missing})
    assert ei.value.errno == errno.ENOENT
    path = tmp_path / "c.conf"
    path.write_text("[global]\nmon host = 1.2.3.4:3300\n")
    assert read_conf_file(cfg, f"{missing},{path}") == str(path)
    assert cfg.get("mon_host") == "1.2.3.4:3300"
    assert cfg.cluster == "ceph"  # an explicit cluster name is kept
    cfg2 = new_config()
    assert read_conf_file(cfg2, None, env={"CEPH_CONF": str(path)}) == str(path)
    assert cfg2.cluster == "c"


def test_read_conf_file_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.conf"
    path.write_text("[global\n")
    with pytest.raises(CephError) as ei:
        read_conf_file(new_config(), str(path))
    assert ei.value.errno == errno.EINVAL


def test_find_key(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring"
    keyring.write_text("[client.admin]\n\tkey = AQAAdminKey==\n[client.foo]\n\tkey = AQFoo==\n")
    cfg = new_config("client.foo", cluster="ceph")
    cfg.set("keyring", f"{tmp_path}/missing,{keyring}")
    assert find_key(cfg) == "AQFoo=="
    keyfile = tmp_path / "kf"
    keyfile.write_text("AQFromFile==\n")
    cfg.set("keyfile", str(keyfile))
    assert find_key(cfg) == "AQFromFile=="
    cfg.set("key", "AQDirect==")
    assert find_key(cfg) == "AQDirect=="
    other = new_config("client.bar", cluster="ceph")
    other.set("keyring", str(keyring))
    with pytest.raises(CephError) as ei:
        find_key(other)
    assert ei.value.errno == errno.ENOENT


def test_find_key_default_keyring_path(tmp_path: Path) -> None:
    cfg = new_config("client.admin", cluster="mycl")
    conf = tmp_path / "mycl.conf"
    conf.write_text(f"[global]\nkeyring = {tmp_path}/$cluster.$name.keyring\n")
    read_conf_file(cfg, str(conf))
    (tmp_path / "mycl.client.admin.keyring").write_text("[client.admin]\nkey = AQX==\n")
    assert find_key(cfg) == "AQX=="
