# mypy: disallow-untyped-calls=False
# (the facade keeps python-rbd's untyped signatures)
"""Issue 21, "a handle that never dies": python-rbd usage patterns that killed rbdpy.

Ordinary python-rbd programs hold exceptions (``unittest``'s assertRaises clears their
frames), drop images and iterators without closing them, leave ``Rados`` handles to the
collector, share one handle between threads, register callbacks that raise, and shut a
handle down with aio in flight. One script does all of that and prints what it saw; it
runs with Ceph's modules on /usr/bin/python3 and with ``from rbdpy import rados, rbd``,
and both must print the same thing. The rest drives rbdpy alone where python-rbd has no
counterpart to compare with (collections forced on rbdpy's own threads) or where
librados' behaviour is not something to copy (shutdown with aio in flight).
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from rbdpy import rados, rbd
from rbdpy._sync import PortalClosedError
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

SCRIPT = r'''
import gc, hashlib, json, subprocess, sys, threading, traceback, unittest
import rados, rbd

conf, pool = sys.argv[1], sys.argv[2]
out = []
case = unittest.TestCase("__init__")

def chain(exc):
    seen = []
    while exc is not None and all(exc is not s for s in seen):
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen

def held(kind, fn, *args):
    """assertRaises keeps the exception and clears its frames: so do it on the whole chain."""
    with case.assertRaises(kind) as ctx:
        fn(*args)
    for e in chain(ctx.exception):
        traceback.clear_frames(e.__traceback__)
    out.append(["held", type(ctx.exception).__name__])
    return ctx.exception

r = rados.Rados(conffile=conf)
r.connect()
io = r.open_ioctx(pool)
R = rbd.RBD()
R.create(io, "image1", 8 << 20, 22, old_format=False, features=61)
im = rbd.Image(io, "image1")
im.write(b"\x5a" * 4096, 0)
im.copy(io, "image2")
# The repro of ../shared/repro/finalizer.py, then a sample of calls that fail.
keep = [held(rbd.ImageExists, im.copy, io, "image2")]
cp = rbd.Image(io, "image2")
out.append(["copy", hashlib.sha256(cp.read(0, 4096)).hexdigest()[:16]])
cp.close()
keep.append(held(rbd.ImageNotFound, rbd.Image, io, "missing"))
keep.append(held(rbd.ImageExists, R.create, io, "image1", 1 << 20))
keep.append(held(rbd.ImageNotFound, R.remove, io, "missing"))
keep.append(held(rbd.ImageNotFound, im.remove_snap, "no-such-snap"))
keep.append(held(rbd.ImageNotFound, im.set_snap, "no-such-snap"))
keep.append(held(rbd.InvalidArgument, im.read, 9 << 20, 10))
keep.append(held(rbd.ImageBusy, R.remove, io, "image1"))
keep.append(held(rados.ObjectNotFound, io.read, "no-such-object"))
keep.append(held(rados.ObjectNotFound, io.stat, "no-such-object"))
keep.append(held(rados.ObjectNotFound, r.open_ioctx, "no-such-pool"))
out.append(["after held", im.read(0, 4) == b"\x5a" * 4, len(keep)])

# Images dropped without close(): by reference count, and inside a collected cycle.
R.remove(io, "image2")
im.create_snap("s1")
snaps = iter(im.list_snaps())
out.append(["first snap", next(snaps)["name"]])
del snaps  # an iterator dropped half way
objects = io.list_objects()
out.append(["an object", type(next(objects)).__name__])
del objects
im.remove_snap("s1")
del im
R.remove(io, "image1")
out.append(["dropped image removed", sorted(R.list(io))])
R.create(io, "imgC", 4 << 20, 22, old_format=False, features=61)
cyc = [rbd.Image(io, "imgC")]
cyc[0].write(b"c" * 512, 0)
cyc.append(cyc)
del cyc
gc.collect()
R.remove(io, "imgC")
out.append(["collected image removed", sorted(R.list(io))])

# A second handle left to the collector, with an ioctx and an image of its own.
r2 = rados.Rados(conffile=conf)
r2.connect()
io2 = r2.open_ioctx(pool)
R.create(io2, "img2", 4 << 20, 22, old_format=False, features=61)
im2 = rbd.Image(io2, "img2")
im2.write(b"2" * 512, 0)
del im2, io2, r2
gc.collect()
R.remove(io, "img2")
out.append(["handle collected, its image removed", sorted(R.list(io))])

# A watch dropped without close() is unwatched.
io.write_full("watched", b"w")
watch = io.watch("watched", lambda *args: None)
def watchers():
    ls = subprocess.run(["rados", "-c", conf, "-p", pool, "listwatchers", "watched"],
                        capture_output=True, text=True, timeout=60)
    return ls.stdout.count("watcher=")
out.append(["watchers", watchers()])
del watch
gc.collect()
out.append(["watchers after drop", watchers()])

# 8 threads sharing one image (each its own 64 KiB range) and the handle.
R.create(io, "shared", 8 << 20, 22, old_format=False, features=61)
shared = rbd.Image(io, "shared")
# The lock taken first: concurrent first writes racing the lock's acquisition are
# test_first_writes_racing_the_lock_acquisition's business.
shared.write(b"\0", 0)
errors = []
def worker(n):
    try:
        for i in range(12):
            data = bytes([n * 16 + i]) * 65536
            shared.write(data, n << 20)
            if shared.read(n << 20, 65536) != data:
                errors.append(["mismatch", n, i])
            try:
                io.stat("no-such-object-%d" % n)
            except rados.ObjectNotFound as e:
                traceback.clear_frames(e.__traceback__)
            io.write_full("obj-%d" % n, data[:100])
    except Exception as e:
        errors.append(["error", n, type(e).__name__])
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
out.append(["threads", errors, hashlib.sha256(shared.read(0, 8 << 20)).hexdigest()[:16]])

# Callbacks that raise: rbd re-raises from wait_for_complete_and_cb, the handle goes on.
def bad_callback(completion, *rest):
    raise KeyError("from a callback")
comp = shared.aio_write(b"w" * 4096, 0, bad_callback)
try:
    comp.wait_for_complete_and_cb()
    out.append(["rbd callback", "no exception"])
except KeyError as e:
    traceback.clear_frames(e.__traceback__)
    out.append(["rbd callback", "KeyError", comp.get_return_value()])
comp = shared.aio_read(0, 4096, bad_callback)
try:
    comp.wait_for_complete_and_cb()
except KeyError:
    pass
comp = io.aio_write("raise-cb", b"x" * 100, 0, bad_callback)
comp.wait_for_complete_and_cb()
out.append(["rados callback", comp.get_return_value(), io.read("raise-cb") == b"x" * 100])
out.append(["handle still serves", shared.read(0, 4) == b"wwww"])
shared.close()
R.remove(io, "shared")

# An image left open at exit is closed by the interpreter's teardown (rbd_close there).
R.create(io, "at-exit", 4 << 20, 22, old_format=False, features=61)
left_open = rbd.Image(io, "at-exit")
left_open.write(b"e" * 512, 0)
out.append(["lock owner", left_open.is_exclusive_lock_owner()])
print(json.dumps(out))
sys.stdout.flush()
'''


def _run_script(python: list[str], conf: str, pool: str, rbdpy_imports: bool) -> list[Any]:
    text = SCRIPT.replace("import rados, rbd", "from rbdpy import rados, rbd") \
        if rbdpy_imports else SCRIPT
    cp = subprocess.run([*python, "-c", text, conf, pool], capture_output=True, text=True,
                        timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    result: list[Any] = json.loads(cp.stdout.strip().splitlines()[-1])
    return result


def _rbd_cli(conf: str, *args: str) -> str:
    return subprocess.run(["rbd", "-c", conf, *args], check=True, capture_output=True,
                          text=True, timeout=120).stdout


def _left_open_is_closed(conf: str, pool: str) -> bool:
    """The image the script left open has no watcher and no lock any more: removable."""
    status = json.loads(_rbd_cli(conf, "status", f"{pool}/at-exit", "--format", "json"))
    locks = json.loads(_rbd_cli(conf, "lock", "ls", f"{pool}/at-exit", "--format", "json"))
    _rbd_cli(conf, "rm", f"{pool}/at-exit")
    return status["watchers"] == [] and not locks


def test_usage_patterns_script_runs_as_under_python_rbd(cluster: SessionCluster,
                                                         pool: str) -> None:
    conf = str(cluster.conf)
    theirs = _run_script(["/usr/bin/python3"], conf, pool, False)
    theirs_closed = _left_open_is_closed(conf, pool)
    ours = _run_script([sys.executable], conf, pool, True)
    ours_closed = _left_open_is_closed(conf, pool)
    assert ours == theirs
    assert ours_closed and theirs_closed


def test_finalizer_repro_runs_clean_in_process(cluster: SessionCluster, pool: str) -> None:
    """../shared/repro/finalizer.py, under pytest (where the worker's finalization from the
    caller's thread first showed as 'Exception ignored in: <coroutine Portal._worker>')."""
    import unittest

    with rados.Rados(conffile=str(cluster.conf)) as r, r.open_ioctx(pool) as io:
        rbd.RBD().create(io, "image1", 8 << 20, 22, old_format=False, features=61)
        with rbd.Image(io, "image1") as im:
            im.write(b"r" * 256, 256)
            im.copy(io, "image2")
            case = unittest.TestCase("__init__")
            for _ in range(5):
                case.assertRaises(rbd.ImageExists, im.copy, io, "image2")
            with rbd.Image(io, "image2") as cp:
                assert cp.read(256, 256) == b"r" * 256
        rbd.RBD().remove(io, "image2")
        rbd.RBD().remove(io, "image1")
        assert r._portal is not None and not r._portal.closed


# ------------------------------------------------------------------ rbdpy only


@pytest.fixture
def handle(cluster: SessionCluster, pool: str) -> Iterator[tuple[rados.Rados, rados.Ioctx]]:
    r = rados.Rados(conffile=str(cluster.conf))
    r.connect()
    io = r.open_ioctx(pool)
    try:
        yield r, io
    finally:
        io.close()
        r.shutdown()


def test_collections_on_every_thread_with_io_in_flight(
    handle: tuple[rados.Rados, rados.Ioctx],
) -> None:
    """gc.collect() on the loop thread, in finisher callbacks and on a foreign thread,
    while sync and aio I/O run and held exceptions have their frames cleared."""
    r, io = handle
    rbd.RBD().create(io, "gc-img", 16 << 20, 22, old_format=False, features=61)
    img = rbd.Image(io, "gc-img")
    img.write(b"\0", 0)  # lock first: see test_first_writes_racing_the_lock_acquisition
    stop = threading.Event()
    errors: list[str] = []

    async def collect_on_loop() -> None:
        gc.collect()
        await trio.lowlevel.checkpoint()

    portal = r._portal
    assert portal is not None

    def loop_collector() -> None:
        while not stop.is_set():
            portal.run(collect_on_loop)

    def foreign_collector() -> None:
        while not stop.is_set():
            gc.collect()

    def writer(n: int) -> None:
        try:
            for i in range(30):
                data = bytes([n * 40 + i]) * 8192
                img.write(data, n << 20)
                if img.read(n << 20, 8192) != data:
                    errors.append(f"mismatch {n}/{i}")
                try:
                    io.stat(f"nothing-{n}")
                except rados.ObjectNotFound as exc:
                    traceback.clear_frames(exc.__traceback__)
        except Exception as exc:
            errors.append(repr(exc))

    helpers = [threading.Thread(target=loop_collector),
               threading.Thread(target=foreign_collector)]
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in helpers + writers:
        t.start()
    comps = [img.aio_write(bytes([i]) * 4096, (8 << 20) + i * 4096,
                           lambda _c: gc.collect()) for i in range(64)]
    for t in writers:
        t.join(300)
    stop.set()
    for t in helpers:
        t.join(60)
    for c in comps:
        c.wait_for_complete_and_cb()
    assert errors == []
    assert all(c.get_return_value() == 0 for c in comps)
    assert img.read(8 << 20, 64 * 4096) == b"".join(bytes([i]) * 4096 for i in range(64))
    img.close()
    rbd.RBD().remove(io, "gc-img")
    assert not portal.closed


def test_shutdown_with_aio_in_flight_completes_every_completion(cluster: SessionCluster,
                                                                pool: str) -> None:
    r = rados.Rados(conffile=str(cluster.conf))
    r.connect()
    io = r.open_ioctx(pool)
    called: list[int] = []
    lock = threading.Lock()

    def on_complete(comp: Any) -> None:
        with lock:
            called.append(comp.get_return_value())

    rbd.RBD().create(io, "inflight", 64 << 20, 22, old_format=False, features=61)
    img = rbd.Image(io, "inflight")
    img.write(b"\0", 0)
    comps: list[Any] = [io.aio_write(f"inflight-{i}", b"z" * 65536, 0, on_complete)
                        for i in range(200)]
    comps += [img.aio_write(b"q" * 65536, i * 65536, on_complete) for i in range(200)]
    done = threading.Event()

    def shut() -> None:
        r.shutdown()
        done.set()

    closer = threading.Thread(target=shut)
    closer.start()
    closer.join(120)
    assert done.is_set(), "shutdown() hung with aio in flight"
    waiter = threading.Thread(target=lambda: [c.wait_for_complete_and_cb() for c in comps])
    waiter.start()
    waiter.join(60)
    assert not waiter.is_alive(), "a completion never completed"
    codes = [c.get_return_value() for c in comps]
    assert all(code == 0 or code < 0 for code in codes)
    assert len(called) == len(comps)
    with pytest.raises((rados.Error, PortalClosedError)):  # the handle is gone, cleanly
        io.write_full("after", b"x")
    # Its finalizer finds the handle gone and does nothing (the OSDs drop the watch of
    # the closed session after its timeout, as with librados; the pool goes with the test).
    del img
    gc.collect()


LEFT_TO_COLLECTOR = r'''
import gc, os, sys
from rbdpy import rados, rbd
def threads(): return len(os.listdir("/proc/self/task"))
base = threads()
r = rados.Rados(conffile=sys.argv[1]); r.connect()
io = r.open_ioctx(sys.argv[2])
rbd.RBD().create(io, "collected", 4 << 20, 22, old_format=False, features=61)
im = rbd.Image(io, "collected"); im.write(b"c" * 512, 0)
obj = io.list_objects()
during = threads()
del r, io, im, obj
gc.collect()
print(base, during > base, threads())
r = rados.Rados(conffile=sys.argv[1]); r.connect()   # left for the exit
r.open_ioctx(sys.argv[2]).write_full("exit-obj", b"e")
'''


def test_rados_left_to_the_collector_shuts_down(cluster: SessionCluster, pool: str) -> None:
    cp = subprocess.run([sys.executable, "-c", LEFT_TO_COLLECTOR, str(cluster.conf), pool],
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0 and cp.stderr == "", cp.stderr[-3000:]
    base, grew, after = cp.stdout.split()
    assert grew == "True" and after == base  # every portal thread joined
    # The image was closed before the handle went: nothing holds it.
    _rbd_cli(str(cluster.conf), "rm", f"{pool}/collected")


def test_first_writes_racing_the_lock_acquisition(handle: tuple[rados.Rados, rados.Ioctx],
                                                  ) -> None:
    """8 threads' first writes to a fresh image (object map on): every write reads back."""
    _, io = handle
    lost: list[tuple[int, int]] = []
    for trial in range(4):
        name = f"first-writes-{trial}"
        rbd.RBD().create(io, name, 8 << 20, 22, old_format=False, features=61)
        with rbd.Image(io, name) as img:
            def write(n: int, img: rbd.Image = img) -> None:
                img.write(bytes([n + 1]) * 65536, n << 20)

            threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(120)
            lost += [(trial, n) for n in range(8)
                     if img.read(n << 20, 65536) != bytes([n + 1]) * 65536]
        rbd.RBD().remove(io, name)
    assert lost == []
