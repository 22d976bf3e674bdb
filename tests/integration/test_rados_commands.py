"""python-rados' command calls, cluster log and service daemons: rbdpy against Ceph's own.

One script, written for python-rados, runs under the reference binding (``/usr/bin/python3``,
``import rados``) and under ``from rbdpy import rados``; the two outputs must agree, after
normalizing what legitimately differs between two clients (stamps, the client's own
address and id, ages). The commands are also checked against the ``ceph`` CLI
(``ceph tell osd.N version``, ``ceph pg X.0 query``, ``ceph mgr services``,
``ceph tell mon.X mon_status``). Parts that need a mgr are skipped on a cluster without one
(the shared devcluster has none); ``rbdpy devcluster start --mgr`` makes one that has.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import trio

from rbdpy.aio import open_rados
from rbdpy.devcluster import DevCluster
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

# Plain python-rados code; only the import line differs between the two runs.
SCRIPT = r'''
import json, sys, threading, time
IMPORT
conf, pool_id, tag, with_mgr = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
out = {}
def j(d):
    return json.dumps(d)
def res(r):
    ret, outbuf, outs = r
    return [ret, outbuf.decode("utf-8", "replace"), outs]
def exc(fn, *args, **kw):
    try:
        return ["ok", fn(*args, **kw)]
    except Exception as e:
        return [type(e).__name__, str(e), getattr(e, "errno", None)]
cluster = rados.Rados(conffile=conf)
out["service_unconnected"] = exc(cluster.service_daemon_update, {"a": "b"})
out["log_unconnected"] = exc(cluster.monitor_log, "info", lambda *a: None, None)
cluster.connect()
mons = json.loads(cluster.mon_command(j({"prefix": "mon dump", "format": "json"}), b"")[1])
names = [m["name"] for m in mons["mons"]]
status = j({"prefix": "mon_status", "format": "json"})
out["mon_plain"] = res(cluster.mon_command(status, b""))
for t in (names[0], names[-1], 0, str(len(names) - 1)):
    r = res(cluster.mon_command(status, b"", target=t))
    doc = json.loads(r[1])
    out["mon_target_%s" % t] = [r[0], doc["name"], doc["rank"], doc["quorum"], r[2]]
out["mon_target_empty"] = res(cluster.mon_command(status, b"", target=""))[0::2]
out["mon_target_dne"] = res(cluster.mon_command(status, b"", target="nonesuch"))
out["mon_rank_dne"] = res(cluster.mon_command(status, b"", target=len(names)))
out["mon_target_type"] = exc(cluster.mon_command, status, b"", target=1.5)
out["mon_cmd_type"] = exc(cluster.mon_command, 123, b"")
out["mon_bad_json"] = res(cluster.mon_command("not json", b""))
out["osd_version"] = res(cluster.osd_command(0, j({"prefix": "version"}), b""))
out["osd_unknown"] = res(cluster.osd_command(0, j({"prefix": "nonesuch"}), b""))
out["osd_bad_json"] = res(cluster.osd_command(0, "not json", b""))
out["osd_dne"] = res(cluster.osd_command(4242, j({"prefix": "version"}), b""))
out["osd_negative"] = res(cluster.osd_command(-1, j({"prefix": "version"}), b""))
out["osd_type"] = exc(cluster.osd_command, "0", j({"prefix": "version"}), b"")
pg = "%d.0" % pool_id
r = res(cluster.pg_command(pg, j({"prefix": "query", "pgid": pg}), b""))
q = json.loads(r[1])
out["pg_query"] = [r[0], q["info"]["pgid"], q["up"], q["acting"], q["state"], r[2]]
out["pg_no_pgid"] = res(cluster.pg_command(pg, j({"prefix": "query"}), b""))
out["pg_unknown"] = res(cluster.pg_command(pg, j({"prefix": "zork", "pgid": pg}), b""))
out["pg_not_here"] = res(cluster.pg_command("%d.7f" % pool_id,
                         j({"prefix": "query", "pgid": "%d.7f" % pool_id}), b""))
out["pg_pool_dne"] = res(cluster.pg_command("4242.0", j({"prefix": "query"}), b""))
ping = json.loads(cluster.ping_monitor(names[0]))
out["ping"] = [sorted(ping), ping["mon_status"]["name"], sorted(ping["health"])]
out["ping_others"] = [json.loads(cluster.ping_monitor(n))["mon_status"]["name"]
                      for n in names[1:]]
out["ping_prefixed"] = exc(cluster.ping_monitor, "mon." + names[0])
out["ping_empty"] = exc(cluster.ping_monitor, "")
out["ping_dne"] = exc(cluster.ping_monitor, "nonesuch")
out["log_bad_level"] = exc(cluster.monitor_log, "loud", None, None)
out["log_bad_callback"] = exc(cluster.monitor_log, "info", 42, None)
# The cluster log, both callback flavours: our own entry comes back through the mons.
for flavour in (1, 2):
    got, seen = [], threading.Event()
    text = "%s-log%d" % (tag, flavour)
    def cb(*args):
        if args[-1] == text.encode():
            got.append(args)
            seen.set()
    if flavour == 1:
        cluster.monitor_log("info", cb, "ARG")
    else:
        cluster.monitor_log2("info", cb, "ARG2")
    time.sleep(1)
    cluster.mon_command(j({"prefix": "log", "logtext": [text]}), b"")
    seen.wait(30)
    out["log%d" % flavour] = [[type(a).__name__ for a in got[0]],
                              [a.decode() if isinstance(a, bytes) else a for a in got[0]]
                              ] if got else None
    out["log%d_attrs" % flavour] = [cluster.monitor_callback is not None,
                                    cluster.monitor_callback2 is not None]
cluster.monitor_log("info", None, None)
out["log_off_attrs"] = [cluster.monitor_callback, cluster.monitor_callback2]
if with_mgr:
    r = res(cluster.mgr_command(j({"prefix": "pg stat", "format": "json"}), b""))
    out["mgr_pg_stat"] = [r[0], sorted(json.loads(r[1])), r[2]]
    out["mgr_unknown"] = res(cluster.mgr_command(j({"prefix": "nonesuch"}), b""))
    active = json.loads(cluster.mon_command(j({"prefix": "mgr dump", "format": "json"}),
                                            b"")[1])["active_name"]
    r = res(cluster.mgr_command(j({"prefix": "mgr_status"}), b"", target=active))
    out["mgr_tell"] = [r[0], sorted(json.loads(r[1])), r[2]]
    out["mgr_services"] = res(cluster.mon_command(j({"prefix": "mgr services",
                                                     "format": "json"}), b""))
    out["service_bad"] = exc(cluster.service_daemon_register, "osd", "x", {})
    cluster.service_daemon_register("rbdpy-test", tag, {"purpose": "parity"})
    out["service_again"] = exc(cluster.service_daemon_register, "rbdpy-test", tag, {})
    cluster.service_daemon_update({"state": "serving"})
    entry = None
    for _ in range(60):
        dump = json.loads(cluster.mon_command(j({"prefix": "service dump",
                                                 "format": "json"}), b"")[1])
        daemons = dump["services"].get("rbdpy-test", {}).get("daemons", {})
        entry = next((d for d in daemons.values() if isinstance(d, dict)
                      and d.get("metadata", {}).get("purpose") == "parity"
                      and d.get("metadata", {}).get("id") in (None, tag)), None)
        if entry is not None:
            break
        time.sleep(1)
    out["service"] = None if entry is None else [
        entry["metadata"]["purpose"], sorted(k for k in ("arch", "hostname")
                                             if k in entry["metadata"])]
else:
    # No active mgr: the command waits; rados_mon_op_timeout ends the wait with
    # librados' (ETIMEDOUT, b"", "") -- a positive code.
    cluster.conf_set("rados_mon_op_timeout", "2")
    out["mgr_no_mgr"] = res(cluster.mgr_command(j({"prefix": "pg stat"}), b""))
    cluster.conf_set("rados_mon_op_timeout", "0")
cluster.shutdown()
print(json.dumps(out, default=repr))
'''


def _run(python: str, import_line: str, conf: str, pool_id: int, tag: str,
         with_mgr: bool) -> dict[str, Any]:
    p = subprocess.run([python, "-c", SCRIPT.replace("IMPORT", import_line), conf,
                        str(pool_id), tag, "1" if with_mgr else "0"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out: dict[str, Any] = json.loads(p.stdout)
    return out


def _ceph(conf: str, *args: str) -> Any:
    p = subprocess.run(["ceph", "-c", conf, *args, "--format", "json"], capture_output=True,
                       text=True, timeout=60, check=True)
    return json.loads(p.stdout) if p.stdout.strip() else None


def _normalize_log(entry: list[Any] | None, tag: str) -> list[Any]:
    """What both clients must agree on in one callback: the argument types and texts, with
    the stamp, the sender's address and the run's tag taken out."""
    assert entry is not None
    types, args = entry
    args = [a.replace(tag, "TAG") if isinstance(a, str) else a for a in args]
    stamp, _, args[1] = args[1].partition(" ")
    assert stamp[:4].isdigit() and "T" in stamp  # "2026-12-07T16:47:06.941564+0000"
    who = 2 if len(args) == 8 else 4  # monitor_log / monitor_log2 argument lists
    args[who] = args[who].split(" ")[0]  # "client.? 127.0.0.1:0/NONCE" -> "client.?"
    args[who + 1] = args[who + 2] = None  # sec, nsec
    return [types, args]


def test_commands_log_and_services_match_python_rados(cluster: SessionCluster,
                                                      pool: str) -> None:
    conf = str(cluster.conf)
    pool_id = next(p["pool_id"] for p in _ceph(conf, "osd", "pool", "ls", "detail")
                   if p["pool_name"] == pool)
    with_mgr = bool(_ceph(conf, "mgr", "dump")["available"])
    tag = uuid.uuid4().hex[:8]
    ours = _run(sys.executable, "from rbdpy import rados", conf, pool_id, "o" + tag,
                with_mgr)
    theirs = _run("/usr/bin/python3", "import rados", conf, pool_id, "t" + tag, with_mgr)

    for key in ("log1", "log2"):
        assert _normalize_log(ours.pop(key), "o" + tag) == _normalize_log(theirs.pop(key),
                                                                          "t" + tag)
    for run in (ours, theirs):
        run["pg_query"][4] = run["pg_query"][4].split("+")[0]  # "active" in both
    assert ours == theirs

    # And as the ceph CLI sees the same things.
    assert json.loads(ours["osd_version"][1]) == _ceph(conf, "tell", "osd.0", "version")
    cli_q = _ceph(conf, "pg", f"{pool_id}.0", "query")
    assert ours["pg_query"][1:4] == [cli_q["info"]["pgid"], cli_q["up"], cli_q["acting"]]
    mon_name = ours["mon_target_0"][1]
    cli_mon = _ceph(conf, "tell", f"mon.{mon_name}", "mon_status")
    assert ours["mon_target_0"][1:4] == [cli_mon["name"], cli_mon["rank"], cli_mon["quorum"]]
    if with_mgr:
        assert json.loads(ours["mgr_services"][1]) == _ceph(conf, "mgr", "services")
        assert ours["service"] is not None and ours["service"][0] == "parity"


# The rows of issue #20's table: constructor names, conf_parse_argv, aio return values,
# cls errors and execute's output limit.
SEMANTICS = r'''
import json, sys
IMPORT
conf, pool, tag = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
def exc(fn, *a, **kw):
    try:
        r = fn(*a, **kw)
        return ["ok", r if isinstance(r, (str, int, list, type(None))) else type(r).__name__]
    except Exception as e:
        return [type(e).__name__, str(e), getattr(e, "errno", None)]
for kw in ({"rados_id": "admin"}, {"rados_id": ""}, {"name": "invalid"}, {"name": "foo.bar"},
           {"name": "client."}, {"name": "osd.0"},
           {"rados_id": "admin", "name": "client.admin"}):
    out["ctor " + json.dumps(kw)] = exc(
        lambda: rados.Rados(conffile=conf, **kw).conf_get("name"))
r = rados.Rados(conffile=conf)
for args in (["osd", "pool", "delete", "foobar", "foobar", "--yes-i-really-really-mean-it"],
             ["--name", "client.admin", "x"], ["--id", "admin", "-c", conf, "y"],
             ["--rados-osd-op-timeout", "5", "z"], ["--rados_osd_op_timeout=6", "w"],
             ["--debug-ms", "0", "--foo", "bar"], [],
             ["-k", "/nonexist", "--keyring=/x", "--no-mon-config", "a"]):
    out["argv " + " ".join(args)] = [exc(r.conf_parse_argv, args),
                                     r.conf_get("rados_osd_op_timeout"), list(r.parsed_args)]
r.shutdown()
r = rados.Rados(conffile=conf)  # the handle above was given a keyring that does not exist
r.connect()
io = r.open_ioctx(pool)
obj = tag + "obj"
io.write_full(obj, b"data")
for method in ("nonesuch", "bad_reader", "record_hello", "writes_dont_return_data",
               "say_hello"):
    got = []
    comp = io.aio_execute(obj, "hello", method, b"x",
                          oncomplete=lambda c, d: got.append(None if d is None else d.decode()))
    comp.wait_for_complete_and_cb()
    out["aio_execute " + method] = [comp.get_return_value(), got]
    out["execute " + method] = exc(lambda: list(io.execute(obj, "hello", method, b"x")))
out["execute length"] = exc(io.execute, obj, "hello", "say_hello", b"", length=4)
out["execute length fits"] = exc(lambda: [io.execute(obj, "hello", "say_hello", b"",
                                                     length=13)[0]])
got = []
comp = io.aio_execute(obj, "hello", "say_hello", b"", length=4,
                      oncomplete=lambda c, d: got.append(d.decode()))
comp.wait_for_complete_and_cb()
out["aio_execute length"] = [comp.get_return_value(), got]
for name in ("aio_remove", "aio_setxattr", "aio_rmxattr"):
    io.write_full(obj + "2", b"x")
    io.set_xattr(obj + "2", "a", b"b")
    if name == "aio_remove":
        comp = io.aio_remove(obj + "2")
    elif name == "aio_setxattr":
        comp = io.aio_setxattr(obj + "2", "c", b"d")
    else:
        comp = io.aio_rmxattr(obj + "2", "a")
    comp.wait_for_complete()
    out[name] = repr(comp.get_return_value())
io.remove_object(obj + "2")
io.remove_object(obj)
io.close()
r.shutdown()
print(json.dumps(out, default=repr))
'''


def _run_semantics(python: str, import_line: str, conf: str, pool: str, tag: str
                   ) -> dict[str, Any]:
    p = subprocess.run([python, "-c", SEMANTICS.replace("IMPORT", import_line), conf, pool,
                        tag], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    out: dict[str, Any] = json.loads(p.stdout)
    return out


def test_issue_table_semantics_match_python_rados(cluster: SessionCluster, pool: str) -> None:
    conf = str(cluster.conf)
    # One object name for both runs (each removes its objects before the next starts).
    ours = _run_semantics(sys.executable, "from rbdpy import rados", conf, pool, "p-")
    theirs = _run_semantics("/usr/bin/python3", "import rados", conf, pool, "p-")
    assert ours == theirs
    # The table's rows, spelled out.
    assert ours['ctor {"rados_id": "admin"}'][0] == "ok"
    assert ours['ctor {"name": "invalid"}'] == [
        "Error", "rados_initialize failed with error code: -22", None]
    assert ours["argv osd pool delete foobar foobar --yes-i-really-really-mean-it"][0] == [
        "ok", ["osd", "pool", "delete", "foobar", "foobar", "--yes-i-really-really-mean-it"]]
    assert [ours[n] for n in ("aio_remove", "aio_setxattr", "aio_rmxattr")] == ["0"] * 3
    assert ours["execute length"][0::2] == ["OSError", 34]


# Facade calls issue #20 lists as untested (item 5): aio calls and their completions,
# open_ioctx2, get_pool_base_tier, conf_read_file, get_addrs, WriteOp.execute, the aio
# compound ops, Object.seek.
FACADE_CALLS = r'''
import json, sys, time
IMPORT
conf, pool, tag = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
def exc(fn, *a, **kw):
    try:
        r = fn(*a, **kw)
        if isinstance(r, bytes): r = r.decode("utf-8", "replace")
        if isinstance(r, tuple): r = list(r)
        plain = isinstance(r, (str, int, list, type(None), bool, float))
        return ["ok", r if plain else type(r).__name__]
    except Exception as e:
        return [type(e).__name__, str(e), getattr(e, "errno", None)]
r = rados.Rados(conffile=conf)
out["conf_read_file"] = exc(r.conf_read_file, conf)
out["conf_read_file missing"] = exc(r.conf_read_file, "/nonexistent.conf")
r.connect()
import re
out["addrs"] = bool(re.fullmatch(r"[0-9.]+:0/[0-9]+", r.get_addrs()))
out["conf_read_file connected"] = exc(r.conf_read_file, conf)
io = r.open_ioctx(pool)
pid = io.get_pool_id()
out["pool_name"] = io.get_pool_name()
io2 = r.open_ioctx2(pid)
out["ioctx2 name"] = io2.get_pool_name()
out["ioctx2 dne"] = exc(r.open_ioctx2, 987654)
out["base_tier"] = r.get_pool_base_tier(pid) == pid
out["base_tier dne"] = exc(r.get_pool_base_tier, 987654)
o = tag + "o"
def wait(c):
    c.wait_for_complete()
    return [c.is_complete(), c.is_safe(), c.get_return_value()]
out["aio_write_full"] = wait(io.aio_write_full(o, b"hello world"))
out["aio_append"] = wait(io.aio_append(o, b"!!"))
out["read"] = io.read(o).decode()
got = []
c = io.aio_stat(o, oncomplete=lambda c, size, mtime: got.append(size))
c.wait_for_complete_and_cb()
out["aio_stat"] = [c.get_return_value(), got]
got = []
c = io.aio_stat(tag + "missing", oncomplete=lambda c, size, mtime: got.append(size))
c.wait_for_complete_and_cb()
out["aio_stat missing"] = [c.get_return_value(), got]
out["aio_cmpext eq"] = wait(io.aio_cmpext(o, b"hello", 0))
out["aio_cmpext ne"] = wait(io.aio_cmpext(o, b"hellX", 0))
out["aio_writesame"] = wait(io.aio_writesame(o, b"ab", 6, 2))
out["read2"] = io.read(o).decode()
out["aio_remove missing"] = wait(io.aio_remove(tag + "missing"))
out["aio_rmxattr missing"] = wait(io.aio_rmxattr(o, "nope"))
with rados.WriteOpCtx() as op:
    op.execute("hello", "record_hello", b"x")
    out["writeop execute"] = exc(io.operate_write_op, op, tag + "h")
out["writeop result"] = io.read(tag + "h").decode()
with rados.WriteOpCtx() as op:
    op.write_full(b"via aio op")
    c = io.operate_aio_write_op(op, tag + "w")
    out["aio write op"] = wait(c)
with rados.ReadOpCtx() as op:
    it, ret = io.get_omap_vals(op, "", "", 10)
    c = io.operate_aio_read_op(op, tag + "w")
    out["aio read op"] = wait(c)
obj = rados.Object(io, o)
out["object read"] = obj.read(5).decode()
obj.seek(6)
out["object seek read"] = obj.read(3).decode()
out["object seek bad"] = exc(obj.seek, -1)
out["object stat"] = obj.stat()[0]
for name in (o, tag + "h", tag + "w"):
    io.remove_object(name)
out["after remove"] = exc(obj.read, 1)
io2.close()
io.close()
r.shutdown()
print(json.dumps(out, default=repr))
'''


def test_facade_calls_match_python_rados(cluster: SessionCluster, pool: str) -> None:
    conf = str(cluster.conf)
    runs = []
    for python, imp in ((sys.executable, "from rbdpy import rados"),
                        ("/usr/bin/python3", "import rados")):
        p = subprocess.run([python, "-c", FACADE_CALLS.replace("IMPORT", imp), conf, pool,
                            "p-"], capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-3000:]
        runs.append(json.loads(p.stdout))
    ours, theirs = runs
    assert ours == theirs
    assert ours["addrs"] is True and ours["conf_read_file connected"][0::2] == ["OSError", 38]
    assert ours["aio_write_full"] == [True, True, 0]


# Issue #20 item 4: librados moves an op's steps into the request on operate, so a reused
# WriteOp/ReadOp sends only what was added since (and an emptied op does nothing).
OP_REUSE = r'''
import json, sys
IMPORT
r = rados.Rados(conffile=sys.argv[1]); r.connect()
io = r.open_ioctx(sys.argv[2])
out = {}
def exc(fn, *a):
    try: return ["ok", fn(*a)]
    except Exception as e: return [type(e).__name__, str(e)]
for o in ("ru1", "ru2", "ru3"):
    try: io.remove_object(o)
    except rados.ObjectNotFound: pass
op = io.create_write_op()
op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
op.write_full(b"first")
out["op1"] = exc(io.operate_write_op, op, "ru1")
op.append(b"+more")
out["op2"] = exc(io.operate_write_op, op, "ru1")
out["ru1"] = io.read("ru1").decode()
out["op3 empty"] = exc(io.operate_write_op, op, "ru2")
out["ru2 exists"] = exc(io.stat, "ru2")[0]
io.release_write_op(op)
rop = io.create_read_op()
it, ret = io.get_omap_vals(rop, "", "", 10)
out["rop1"] = exc(io.operate_read_op, rop, "ru1")
out["rop2"] = exc(io.operate_read_op, rop, "ru3")
io.release_read_op(rop)
with rados.WriteOpCtx() as op:
    op.write_full(b"A")
    out["ctx1"] = exc(io.operate_write_op, op, "ru3")
    op.append(b"B")
    out["ctx2"] = exc(io.operate_write_op, op, "ru3")
out["ru3"] = io.read("ru3").decode()
for o in ("ru1", "ru2", "ru3"):
    try: io.remove_object(o)
    except rados.ObjectNotFound: pass
print(json.dumps(out))
r.shutdown()
'''


def test_reused_ops_send_only_new_steps_as_python_rados(cluster: SessionCluster,
                                                        pool: str) -> None:
    conf = str(cluster.conf)
    runs = []
    for python, imp in ((sys.executable, "from rbdpy import rados"),
                        ("/usr/bin/python3", "import rados")):
        p = subprocess.run([python, "-c", OP_REUSE.replace("IMPORT", imp), conf, pool],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-3000:]
        runs.append(json.loads(p.stdout))
    assert runs[0] == runs[1]
    assert runs[0]["op2"] == ["ok", None] and runs[0]["ru1"] == "first+more"


# Issue #20 item 4: the handle's state machine and cluster-level calls (RadosStateError
# before connect and after shutdown, blocklist_add, wait_for_latest_osdmap, pool errors,
# set_osdmap_full_try, a closed ioctx).
STATE_CALLS = r'''
import json, sys
IMPORT
out = {}
def exc(fn, *a, **kw):
    try:
        r = fn(*a, **kw)
        plain = isinstance(r, (str, int, list, type(None), bool, float, dict))
        return ["ok", r if plain else type(r).__name__]
    except Exception as e:
        return [type(e).__name__, str(e), getattr(e, "errno", None)]
r = rados.Rados(conffile=sys.argv[1])
out["fsid before"] = exc(r.get_fsid)
out["inst before"] = exc(r.get_instance_id)
out["wait before"] = exc(r.wait_for_latest_osdmap)
out["version"] = str(r.version())
r.connect()
out["connect again"] = exc(r.connect)
out["fsid len"] = len(r.get_fsid())
out["inst type"] = type(r.get_instance_id()).__name__
out["wait"] = exc(r.wait_for_latest_osdmap)
out["blocklist"] = exc(r.blocklist_add, "192.0.2.77:0/123", 60)
out["blocklist bad"] = exc(r.blocklist_add, "not an address")
r.mon_command(json.dumps({"prefix": "osd blocklist", "blocklistop": "rm",
                          "addr": "192.0.2.77:0/123"}), b"")
out["create existing"] = exc(r.create_pool, sys.argv[2])
out["delete missing"] = exc(r.delete_pool, "hg-nonesuch")
out["open missing"] = exc(r.open_ioctx, "hg-nonesuch")
out["lookup missing"] = exc(r.pool_lookup, "hg-nonesuch")
out["reverse missing"] = exc(r.pool_reverse_lookup, 987654)
out["exists"] = [r.pool_exists(sys.argv[2]), r.pool_exists("hg-nonesuch")]
out["stats keys"] = sorted(r.get_cluster_stats())
io = r.open_ioctx(sys.argv[2])
out["full try"] = [exc(io.set_osdmap_full_try), exc(io.unset_osdmap_full_try)]
io.close()
out["closed ioctx"] = exc(io.read, "x")
r.shutdown()
out["after shutdown"] = exc(r.get_fsid)
out["open after shutdown"] = exc(r.open_ioctx, "x")
out["shutdown again"] = exc(r.shutdown)
print(json.dumps(out))
'''


def test_state_and_cluster_calls_match_python_rados(cluster: SessionCluster,
                                                    pool: str) -> None:
    conf = str(cluster.conf)
    runs = []
    for python, imp in ((sys.executable, "from rbdpy import rados"),
                        ("/usr/bin/python3", "import rados")):
        p = subprocess.run([python, "-c", STATE_CALLS.replace("IMPORT", imp), conf, pool],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr[-3000:]
        runs.append(json.loads(p.stdout))
    assert runs[0] == runs[1]
    assert runs[0]["fsid before"][0] == "RadosStateError"


DOWN_MON = r'''
import json, sys
IMPORT
r = rados.Rados(conffile=sys.argv[1], conf={"mon_client_ping_timeout": "3"})
r.connect()
out = {"target": list(r.mon_command(json.dumps({"prefix": "mon_status"}), b"", target="b"))}
out["target"][1] = out["target"][1].decode()
try:
    r.ping_monitor("b")
except Exception as e:
    out["ping"] = [type(e).__name__, str(e)]
r.shutdown()
print(json.dumps(out))
'''


async def test_mgr_command_and_service_follow_a_mgr_failover(tmp_path: Path) -> None:
    """``ceph mgr fail``: a command issued while the mgr restarts is answered by the next
    active mgr, and the service daemon reappears in the new mgr's service map. Then a
    monitor goes down: a command and a ping addressed to it fail as python-rados' do. On a
    cluster of its own (the shared one is never failed over)."""
    if shutil.which("ceph-mgr") is None:
        pytest.skip("ceph-mgr is not installed")
    dc = DevCluster(tmp_path / "mgrfail")
    dc.start(mons=3, osds=1, mgr=True, memstore_bytes=1 << 30, osd_memory=512 << 20)
    status = json.dumps({"prefix": "pg stat", "format": "json"})  # a plain mgr command
    try:
        async with open_rados(conffile=str(dc.conf_path)) as r:
            await r.service_daemon_register("rbdpy-failover", "d1", {"k": "v"})
            with trio.fail_after(120):
                ret, _, outs = await r.mgr_command(status, b"")
            assert ret == 0, outs  # outs may warn that the pg stats are not yet complete

            async def active_gid() -> int:
                ret, out, _ = await r.mon_command(
                    json.dumps({"prefix": "mgr dump", "format": "json"}), b"")
                assert ret == 0
                gid: int = json.loads(out)["active_gid"]
                return gid

            before = await active_gid()
            ret, _, outs = await r.mon_command(json.dumps({"prefix": "mgr fail",
                                                           "who": "x"}), b"")
            assert ret == 0, outs
            with trio.fail_after(120):
                ret, out, outs = await r.mgr_command(status, b"")
            assert ret == 0 and "pg_summary" in json.loads(out), outs
            assert await active_gid() != before
            # a tell to the new active mgr by name (MCommand over the mgr session)
            ret, out, outs = await r.mgr_command(json.dumps({"prefix": "mgr_status"}), b"",
                                                 target="x")
            assert (ret, outs) == (0, "") and "mgrmap_epoch" in json.loads(out)
            with trio.fail_after(120):
                while True:
                    _, out, _ = await r.mon_command(
                        json.dumps({"prefix": "service dump", "format": "json"}), b"")
                    daemons = json.loads(out)["services"].get("rbdpy-failover", {}).get(
                        "daemons", {})
                    if "d1" in daemons:
                        break
                    await trio.sleep(1)
            assert daemons["d1"]["metadata"]["k"] == "v"
        dc.kill("mon.b")
        runs = []
        for python, imp in ((sys.executable, "from rbdpy import rados"),
                            ("/usr/bin/python3", "import rados")):
            p = await trio.run_process([python, "-c", DOWN_MON.replace("IMPORT", imp),
                                        str(dc.conf_path)], capture_stdout=True,
                                       capture_stderr=True, check=False)
            assert p.returncode == 0, p.stderr.decode()[-2000:]
            runs.append(json.loads(p.stdout))
        assert runs[0] == runs[1]
        assert runs[0] == {"target": [-6, "", "mon unavailable"],
                           "ping": ["TimedOut",
                                    "[errno 110] RADOS timed out (error calling ping_monitor)"]}
    finally:
        dc.stop()
