"""Exclusive-lock and snapshot edge cases, as librbd behaves (issue #21 item 8).

One script runs on python3-rbd (librbd 16.2, /usr/bin/python3) and on
``from rbdpy import rados, rbd`` with two images open on the same RBD image in one process;
the outcomes must be the same:

- reading at a snapshot that another handle removed and re-created under the same name is
  ImageNotFound (the snapshot read from is gone; the new one has another id);
- a follower's discard that changes no byte (pruned away by rbd_skip_partial_discard) takes
  the exclusive lock as a write does;
- a follower's rollback while a live peer owns the lock is ReadOnlyImage: librbd rolls back
  only as an owner it can become without asking.

Reading right after the removal (before any re-create) is not compared: librbd answers
zeros or ImageNotFound depending on whether its refresh has run yet; rbdpy always answers
ImageNotFound, which the script checks on its own.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

_SCRIPT = r"""
import sys, time
if sys.argv[4] == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
conf, pool, name = sys.argv[1], sys.argv[2], sys.argv[3]
def attempt(label, fn):
    try:
        print(label, "ok", repr(fn()))
    except Exception as e:
        print(label, type(e).__name__, e)
with rados.Rados(conffile=conf) as cluster:
    with cluster.open_ioctx(pool) as io:
        R = rbd.RBD()
        R.create(io, name, 8 << 20, features=61)
        with rbd.Image(io, name) as a, rbd.Image(io, name) as b:
            a.write(b"1" * 4096, 0)
            a.create_snap("s")
            a.write(b"2" * 4096, 0)
            b.set_snap("s")
            attempt("read at snap", lambda: b.read(0, 4))
            a.remove_snap("s")
            time.sleep(1)
            if sys.argv[4] == "rbdpy":
                attempt("RBDPY read after removal", lambda: b.read(0, 4))
            attempt("size after removal", lambda: b.size())
            a.create_snap("s")
            time.sleep(1)
            attempt("read after re-create", lambda: b.read(0, 4))
            attempt("back to head", lambda: b.set_snap(None))
            attempt("read head", lambda: b.read(0, 4))
            attempt("a owns", lambda: a.is_exclusive_lock_owner())
            attempt("b discards nothing", lambda: b.discard(100, 10))
            attempt("b owns after discard", lambda: b.is_exclusive_lock_owner())
            attempt("a owns after b's discard", lambda: a.is_exclusive_lock_owner())
            a.write(b"3", 0)
            attempt("a owns after writing", lambda: a.is_exclusive_lock_owner())
            attempt("b rolls back", lambda: b.rollback_to_snap("s"))
            attempt("b owns after rollback", lambda: b.is_exclusive_lock_owner())
            attempt("a still owns", lambda: a.is_exclusive_lock_owner())
            a.remove_snap("s")
        R.remove(io, name)
"""


def _run(python: str, impl: str, conf: str, pool: str, name: str) -> list[str]:
    proc = subprocess.run([python, "-c", _SCRIPT, conf, pool, name, impl],
                          capture_output=True, text=True, timeout=180, check=True)
    return [line.replace(name, "IMG") for line in proc.stdout.splitlines()]


def test_lock_and_snapshot_edges_match_librbd(cluster: SessionCluster, pool: str) -> None:
    theirs = _run("/usr/bin/python3", "librbd", str(cluster.conf), pool, "edge-ref")
    ours = _run(sys.executable, "rbdpy", str(cluster.conf), pool, "edge-us")
    own = [line for line in ours if line.startswith("RBDPY ")]
    assert own == ["RBDPY read after removal ImageNotFound [errno 2] RBD image not found "
                   "(error reading b'IMG' 0~4)"]
    assert [line for line in ours if not line.startswith("RBDPY ")] == theirs


_BLOCKLIST_SCRIPT = r"""
import sys, time
if sys.argv[4] == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
conf, pool, name = sys.argv[1], sys.argv[2], sys.argv[3]
def attempt(label, fn):
    try:
        print(label, "ok", repr(fn()))
    except Exception as e:
        print(label, type(e).__name__, e)
cluster = rados.Rados(conffile=conf)
cluster.connect()
io = cluster.open_ioctx(pool)
rbd.RBD().create(io, name, 8 << 20, features=61)
image = rbd.Image(io, name)
image.write(b"a" * 10, 0)
attempt("owner", image.is_exclusive_lock_owner)
# A peer breaks our lock; rbd_blocklist_on_break_lock (on by default) blocklists us first.
with rados.Rados(conffile=conf) as peer_cluster, peer_cluster.open_ioctx(pool) as peer_io:
    with rbd.Image(peer_io, name) as peer:
        owner = list(peer.lock_get_owners())[0]["owner"]
        peer.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, owner)
time.sleep(3)
attempt("owner after the break", image.is_exclusive_lock_owner)
attempt("write", lambda: image.write(b"b" * 10, 0))
attempt("read", lambda: image.read(0, 4))
attempt("size", image.size)
attempt("resize", lambda: image.resize(16 << 20))
attempt("create_snap", lambda: image.create_snap("x"))
attempt("list_snaps", lambda: list(image.list_snaps()))
attempt("metadata_set", lambda: image.metadata_set("k", "v"))
attempt("discard", lambda: image.discard(0, 4096))
attempt("flush", image.flush)
attempt("close", image.close)
"""


def test_blocklisted_by_a_lock_break_as_librbd(cluster: SessionCluster, pool: str) -> None:
    """A client whose lock a peer broke (and blocklisted) gets ConnectionShutdown from
    the lock status, I/O and every change; cached facts and close still work."""
    def run(python: str, impl: str, name: str) -> list[str]:
        proc = subprocess.run([python, "-c", _BLOCKLIST_SCRIPT, str(cluster.conf), pool,
                               name, impl], capture_output=True, text=True, timeout=180,
                              check=True)
        return [line.replace(name, "IMG") for line in proc.stdout.splitlines()]

    theirs = run("/usr/bin/python3", "librbd", "blk-ref")
    ours = run(sys.executable, "rbdpy", "blk-us")
    assert ours == theirs
    assert any("ConnectionShutdown" in line for line in theirs)
