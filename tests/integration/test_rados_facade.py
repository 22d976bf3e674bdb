"""A script written for python-rados runs unchanged on ``from rbdpy import rados``.

The same script also runs under the reference python-rados (``/usr/bin/python3``); both
must print the same thing, and the ``rados`` CLI must read back what rbdpy wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

# Plain python-rados code; only the import line differs between the two runs.
SCRIPT = r'''
import json, sys
IMPORT
conf, pool, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
with rados.Rados(conffile=conf) as cluster:
    with cluster.open_ioctx(pool) as ioctx:
        ioctx.write_full(prefix + "obj", b"hello world")
        ioctx.write(prefix + "obj", b"W", 0)
        out["read"] = ioctx.read(prefix + "obj").decode()
        out["size"] = ioctx.stat(prefix + "obj")[0]
        ioctx.set_xattr(prefix + "obj", "color", b"blue")
        out["xattr"] = ioctx.get_xattr(prefix + "obj", "color").decode()
        out["xattrs"] = sorted((k, v.decode()) for k, v in ioctx.get_xattrs(prefix + "obj"))
        with rados.WriteOpCtx() as op:
            ioctx.set_omap(op, ("k1", "k2"), (b"v1", b"v2"))
            ioctx.operate_write_op(op, prefix + "obj")
        with rados.ReadOpCtx() as op:
            it, ret = ioctx.get_omap_vals(op, "", "", 10)
            ioctx.operate_read_op(op, prefix + "obj")
            out["omap"] = [(k, v.decode()) for k, v in it]
        ioctx.write_full(prefix + "gone", b"x")
        out["listed"] = sorted(o.key for o in ioctx.list_objects()
                               if o.key.startswith(prefix))
        out["removed"] = ioctx.remove_object(prefix + "gone")
        try:
            ioctx.read(prefix + "gone")
        except rados.ObjectNotFound as e:
            out["error"] = [type(e).__name__, str(e)]
        done = []
        c = ioctx.aio_write(prefix + "aio", b"async", 0, oncomplete=lambda c: done.append(1))
        c.wait_for_complete_and_cb()
        out["aio"] = [c.get_return_value(), done, ioctx.read(prefix + "aio").decode()]
        # a cls call through aio_execute: the input reaches the OSD, the output the callback
        got = []
        c = ioctx.aio_execute(prefix + "aio", "hello", "say_hello", b"abc",
                              oncomplete=lambda c, data: got.append(data.decode()))
        c.wait_for_complete_and_cb()
        out["aio_execute"] = [c.get_return_value(), got]
        out["execute"] = list(ioctx.execute(prefix + "aio", "hello", "say_hello", b"xyz"))
        out["execute"][1] = out["execute"][1].decode()
print(json.dumps(out))
'''


def _run(python: str, import_line: str, conf: str, pool: str, prefix: str) -> dict:
    p = subprocess.run([python, "-c", SCRIPT.replace("IMPORT", import_line), conf, pool,
                        prefix], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(p.stdout)


def _cli(conf: str, pool: str, *args: str) -> bytes:
    return subprocess.run(["rados", "-c", conf, "-p", pool, *args], capture_output=True,
                          check=True, timeout=30).stdout


def test_python_rados_script_runs_unchanged(cluster: SessionCluster, pool: str) -> None:
    conf = str(cluster.conf)
    ours = _run(sys.executable, "from rbdpy import rados", conf, pool, "rbdpy-")
    theirs = _run("/usr/bin/python3", "import rados", conf, pool, "ref-")
    ours["listed"] = [n.removeprefix("rbdpy-") for n in ours["listed"]]
    theirs["listed"] = [n.removeprefix("ref-") for n in theirs["listed"]]
    ours["error"][1] = ours["error"][1].replace("rbdpy-", "")
    theirs["error"][1] = theirs["error"][1].replace("ref-", "")
    assert ours == theirs
    assert _cli(conf, pool, "get", "rbdpy-obj", "-") == b"Wello world"
    assert _cli(conf, pool, "getxattr", "rbdpy-obj", "color") == b"blue"
    assert _cli(conf, pool, "listomapvals", "rbdpy-obj").decode().split("\n")[0] == "k1"
    assert _cli(conf, pool, "getomapval", "rbdpy-obj", "k2", "/dev/stdout").endswith(b"v2")
    assert b"rbdpy-gone" not in _cli(conf, pool, "ls")
