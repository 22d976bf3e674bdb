#!/usr/bin/python3
"""Drive librados (python3-rados, python3-rbd) through a fixed list of OSD ops.

Run with the SYSTEM python (/usr/bin/python3, which has the reference bindings) while
tcpdump records the OSD's port; tools/osd_capture_extract.py then turns the capture into
tests/vectors/osd/*.json. Each step prints one line "STEP <name>" before it runs, so the
order of MOSDOps in the capture can be matched to the steps.

usage: /usr/bin/python3 tools/osd_capture_workload.py CONF POOL
"""

import subprocess
import sys
import threading
import time

import rados
import rbd

conf, pool = sys.argv[1], sys.argv[2]
r = rados.Rados(conffile=conf, conf={"ms_client_mode": "crc"})
r.connect()
io = r.open_ioctx(pool)


def step(name: str) -> None:
    print("STEP", name, flush=True)
    time.sleep(0.05)  # keeps steps apart in the capture (the tids already order them)


step("cleanup")
for name in ("obj1", "obj2", "obj4"):
    try:
        io.remove_object(name)
    except rados.ObjectNotFound:
        pass
try:
    rbd.RBD().remove(io, "img1")
except rbd.ImageNotFound:
    pass

step("writefull")
io.write_full("obj1", b"hello world")
step("write")
io.write("obj1", b"XYZ", 2)
step("read")
print(io.read("obj1", 5, 0))
step("stat")
print(io.stat("obj1"))
step("setxattr")
io.set_xattr("obj1", "user.a", b"val")
step("getxattr")
print(io.get_xattr("obj1", "user.a"))
step("getxattrs")
print(list(io.get_xattrs("obj1")))
step("omap_set")
with rados.WriteOpCtx() as op:
    io.set_omap(op, ("k1", "k2", "k3"), (b"v1", b"value2", b""))
    io.operate_write_op(op, "obj1")
step("omap_get_vals")
with rados.ReadOpCtx() as op:
    it, ret = io.get_omap_vals(op, "", "", 2)
    io.operate_read_op(op, "obj1")
    print(list(it))
step("omap_get_keys")
with rados.ReadOpCtx() as op:
    it, ret = io.get_omap_keys(op, "k1", 10)
    io.operate_read_op(op, "obj1")
    print(list(it))
step("omap_get_vals_by_keys")
with rados.ReadOpCtx() as op:
    it, ret = io.get_omap_vals_by_keys(op, ("k2", "nope"))
    io.operate_read_op(op, "obj1")
    print(list(it))
step("omap_rm_keys")
with rados.WriteOpCtx() as op:
    io.remove_omap_keys(op, ("k3",))
    io.operate_write_op(op, "obj1")
step("omap_rm_range")
with rados.WriteOpCtx() as op:
    io.remove_omap_range2(op, "a", "k15")
    io.operate_write_op(op, "obj1")
step("call_hello")
print(io.execute("obj1", "hello", "say_hello", b"rbdpy"))
step("call_enoent")
try:
    io.execute("obj1", "hello", "no_such_method", b"")
except rados.Error as e:
    print("err", e)
step("append")
io.append("obj1", b"++")
step("cmpext_ok")
print(io.cmpext("obj1", b"heX", 0))
step("cmpext_mismatch")
print(io.cmpext("obj1", b"hello", 0))
step("writesame")
io.writesame("obj2", b"ab", 8, 0)
step("zero")
with rados.WriteOpCtx() as op:
    op.zero(2, 2)
    io.operate_write_op(op, "obj2")
step("trunc")
io.trunc("obj2", 6)
step("create_excl_exists")
with rados.WriteOpCtx() as op:
    op.new(rados.LIBRADOS_CREATE_EXCLUSIVE)
    try:
        io.operate_write_op(op, "obj2")
    except rados.Error as e:
        print("err", e)
step("assert_version")
ver = io.get_last_version()
with rados.WriteOpCtx() as op:
    op.assert_version(ver)
    op.write(b"Q", 0)
    io.operate_write_op(op, "obj2")
step("compound_read")
with rados.ReadOpCtx() as op:
    it, ret = io.get_omap_vals(op, "", "k", 100)
    op.set_flags(rados.LIBRADOS_OP_FLAG_FADVISE_DONTNEED)
    io.operate_read_op(op, "obj1", rados.LIBRADOS_OPERATION_BALANCE_READS)
    print(list(it))
step("rmxattr")
io.rm_xattr("obj1", "user.a")
step("clear_omap")
with rados.WriteOpCtx() as op:
    io.clear_omap(op)
    io.operate_write_op(op, "obj1")
step("read_enoent")
try:
    io.read("nosuch", 10, 0)
except rados.ObjectNotFound as e:
    print("err", e)
step("nspace_locator")
io.set_namespace("ns1")
io.set_locator_key("lk")
io.write_full("obj3", b"in ns1")
io.set_locator_key("")
io.set_namespace("")
step("list_objects")
io.set_namespace(rados.LIBRADOS_ALL_NSPACES)
print(sorted((o.nspace, o.key) for o in io.list_objects()))
io.set_namespace("")

step("watch")
got = threading.Event()


def cb(notify_id: int, notifier_id: int, watch_id: int, data: bytes) -> bytes:
    got.set()
    return b"ackdata"


w = io.watch("obj1", cb)
step("list_watchers")
subprocess.run(["rados", "-c", conf, "-p", pool, "--ms_client_mode", "crc", "listwatchers",
                "obj1"], check=True)
step("notify")
print(io.notify("obj1", "ping-payload", 5000))
got.wait(5)
step("unwatch")
w.close()

step("selfmanaged_snap")
snap = io.create_self_managed_snap()
io.set_self_managed_snap_write([snap])
io.write_full("obj4", b"after snap")
step("list_snaps")
subprocess.run(["rados", "-c", conf, "-p", pool, "--ms_client_mode", "crc", "listsnaps",
                "obj4"], check=True)
step("rollback")
io.rollback_self_managed_snap("obj4", snap)
io.set_self_managed_snap_write([])
io.remove_self_managed_snap(snap)

step("remove")
io.remove_object("obj2")

step("rbd_sparse_read")
rbd.RBD().create(io, "img1", 8 << 20)
with rbd.Image(io, "img1") as img:
    img.write(b"x" * 4096, 8192)
    print(len(img.read(0, 1 << 20)))
step("done")
io.close()
r.shutdown()
