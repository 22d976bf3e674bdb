"""Copies and sparsify of clones against librbd: python-rbd and rbdpy run the same call on
twins made the same way (``rbd clone``), and the ``rbd`` CLI must see the results alike."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.integration.test_deep_copy import image_view, rbd, rbd_json
from tests.integration.test_rbd_snapshots import REPO, SYSTEM_PYTHON, _system_env

pytestmark = pytest.mark.cluster

MiB = 1 << 20

# Runs under python-rbd or rbdpy: one call on one image, its outcome printed.
_CALL = textwrap.dedent("""
    import json, sys
    if sys.argv[1] == "rbdpy":
        from rbdpy import rados, rbd
    else:
        import rados, rbd
    conf, pool, name, snap, method, args = sys.argv[2:8]
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    try:
        io = cluster.open_ioctx(pool)
        args = json.loads(args)
        if method == "copy":
            args[0] = io
        try:
            with rbd.Image(io, name, snapshot=snap or None) as image:
                getattr(image, method)(*args)
            print(json.dumps(["ok"]))
        except Exception as e:
            print(json.dumps([type(e).__name__, str(e)]))
    finally:
        cluster.shutdown()
""")


def call(which: str, conf: str, pool: str, name: str, method: str, *args: object,
         snap: str = "") -> list[str]:
    python = SYSTEM_PYTHON if which == "librbd" else sys.executable
    proc = subprocess.run(
        [python, "-c", _CALL, which, conf, pool, name, snap, method, json.dumps(args)],
        capture_output=True, timeout=300, check=False, cwd=REPO,
        env=_system_env() if which == "librbd" else None)
    assert proc.returncode == 0, proc.stderr.decode()
    result: list[str] = json.loads(proc.stdout)
    return result


# Runs under python-rbd: the parent (4 objects of data) and the children's writes.
_WRITE = textwrap.dedent("""
    import json, sys
    import rados, rbd
    conf, pool, name, writes = sys.argv[1:5]
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    try:
        io = cluster.open_ioctx(pool)
        with rbd.Image(io, name) as image:
            for kind, offset, length in json.loads(writes):
                if kind == "resize":
                    image.resize(offset)
                else:
                    image.write(bytes([kind]) * length, offset)
    finally:
        cluster.shutdown()
""")


def write(conf: str, pool: str, name: str, *writes: tuple[object, int, int]) -> None:
    subprocess.run([SYSTEM_PYTHON, "-c", _WRITE, conf, pool, name, json.dumps(writes)],
                   check=True, timeout=300, env=_system_env())


def make_parent(conf: str, pool: str) -> None:
    rbd(conf, "create", f"{pool}/parent", "--size", "4M", "--object-size", "1M")
    write(conf, pool, "parent", (ord("P"), 0, 4 * MiB))
    rbd(conf, "snap", "create", f"{pool}/parent@p")
    rbd(conf, "snap", "protect", f"{pool}/parent@p")


def make_child(conf: str, pool: str, name: str) -> None:
    rbd(conf, "clone", f"{pool}/parent@p", f"{pool}/{name}")
    write(conf, pool, name,
          (0, 1 * MiB, 1 * MiB),  # object 1: all zeros over parent data
          (0, 2 * MiB, 8192),  # object 2: zeros at its start, parent data after
          (ord("c"), 2 * MiB + 65536, 100),
          ("resize", 6 * MiB, 0),
          (0, 5 * MiB, 4096))  # object 5: past the overlap, only zeros


def test_sparsify_of_a_clone_keeps_parent_data_hidden(ceph_conf: str, pool: str) -> None:
    """SparsifyRequest: objects below the parent overlap are emptied, never removed (the
    parent's data would show through); past the overlap an all-zero object goes."""
    make_parent(ceph_conf, pool)
    for which in ("librbd", "rbdpy"):
        make_child(ceph_conf, pool, which)
        assert call(which, ceph_conf, pool, which, "sparsify", 4096) == ["ok"]
    ref = image_view(ceph_conf, f"{pool}/librbd")
    ours = image_view(ceph_conf, f"{pool}/rbdpy")
    assert ref["info"].pop("parent")["image"] == "parent"
    assert ours["info"].pop("parent")["image"] == "parent"
    assert ours == ref
    data = rbd(ceph_conf, "export", f"{pool}/rbdpy", "-")
    assert data[MiB:2 * MiB] == bytes(MiB)  # zeros, not the parent's P
    assert data[2 * MiB:2 * MiB + 8192] == bytes(8192)
    assert data[3 * MiB:4 * MiB] == b"P" * MiB


def test_copy_of_a_clone_is_flat(ceph_conf: str, pool: str) -> None:
    """internal.cc copy reads through the parent: the copy has no parent and the data the
    clone shows."""
    make_parent(ceph_conf, pool)
    make_child(ceph_conf, pool, "child")
    rbd(ceph_conf, "snap", "create", f"{pool}/child@c1")
    write(ceph_conf, pool, "child", (ord("h"), 3 * MiB, 4096))
    for which in ("librbd", "rbdpy"):
        assert call(which, ceph_conf, pool, "child", "copy", None, f"{which}-head") == ["ok"]
    ref = image_view(ceph_conf, f"{pool}/librbd-head")
    assert "parent" not in ref["info"]
    assert image_view(ceph_conf, f"{pool}/rbdpy-head") == ref
    assert rbd(ceph_conf, "export", f"{pool}/rbdpy-head", "-") == \
        rbd(ceph_conf, "export", f"{pool}/child", "-")


def test_copy_of_a_clone_at_a_snapshot(ceph_conf: str, pool: str) -> None:
    """At a snapshot of the clone, the copy holds what ``rbd export child@c1`` reads.

    librbd 16.2.15's copy does not: objects the clone had not copied up by that snapshot
    come out as zeros instead of the parent's data (object 0 below), while the objects
    copied up later keep it. rbdpy does not copy that loss; the header matches."""
    make_parent(ceph_conf, pool)
    make_child(ceph_conf, pool, "child")
    rbd(ceph_conf, "snap", "create", f"{pool}/child@c1")
    write(ceph_conf, pool, "child", (ord("h"), 3 * MiB, 4096))
    for which in ("librbd", "rbdpy"):
        assert call(which, ceph_conf, pool, "child", "copy", None, which,
                    snap="c1") == ["ok"]
    truth = rbd(ceph_conf, "export", f"{pool}/child@c1", "-")
    assert truth[:MiB] == b"P" * MiB and truth[3 * MiB:4 * MiB] == b"P" * MiB
    assert rbd(ceph_conf, "export", f"{pool}/rbdpy", "-") == truth
    theirs = rbd(ceph_conf, "export", f"{pool}/librbd", "-")
    assert theirs[:MiB] == bytes(MiB) and theirs[MiB:] == truth[MiB:]
    ref, ours = (rbd_json(ceph_conf, "info", f"{pool}/{w}") for w in ("librbd", "rbdpy"))
    for info in (ref, ours):
        for key in ("name", "id", "block_name_prefix", "create_timestamp",
                    "access_timestamp", "modify_timestamp"):
            info.pop(key)
    assert ours == ref
    assert ours["size"] == 6 * MiB and "parent" not in ours


# Runs under python-rbd or rbdpy: diff_iterate of one image in every mode, as JSON.
_DIFFS = textwrap.dedent("""
    import json, sys
    if sys.argv[1] == "rbdpy":
        from rbdpy import rados, rbd
    else:
        import rados, rbd
    conf, pool, name, snaps = sys.argv[2:6]
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    out = {}
    try:
        io = cluster.open_ioctx(pool)
        for snap in json.loads(snaps):
            with rbd.Image(io, name, snapshot=snap, read_only=True) as image:
                for include_parent in (True, False):
                    for whole_object in (False, True):
                        for start in (None, "c0"):
                            found = []
                            image.diff_iterate(
                                0, image.size(), start,
                                lambda o, n, e: found.append((o, n, bool(e))),
                                include_parent=include_parent, whole_object=whole_object)
                            key = f"{snap}@{start} parent={include_parent} whole={whole_object}"
                            out[key] = found
    finally:
        cluster.shutdown()
    print(json.dumps(out))
""")


def diffs(which: str, conf: str, pool: str, name: str, snaps: list[str | None]) -> Any:
    python = SYSTEM_PYTHON if which == "librbd" else sys.executable
    proc = subprocess.run([python, "-c", _DIFFS, which, conf, pool, name, json.dumps(snaps)],
                          capture_output=True, timeout=300, check=False, cwd=REPO,
                          env=_system_env() if which == "librbd" else None)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout)


# Runs under python-rbd: a parent with sparse data, a clone that copies some of it up,
# shrinks below the overlap and grows again, and a clone of that clone.
_LAYERS = textwrap.dedent("""
    import sys
    import rados, rbd
    conf, pool = sys.argv[1:3]
    M = 1 << 20
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    try:
        io = cluster.open_ioctx(pool)
        rbd.RBD().create(io, "parent", 8 * M, order=20, old_format=False, features=61)
        with rbd.Image(io, "parent") as im:
            im.write(b"P" * 5000, 0)
            im.write(b"Q" * 4096, 2 * M + 8192)
            im.write(b"R" * M, 5 * M)
            im.create_snap("p0")
            im.write(b"S" * 100, 6 * M + 100)
            im.create_snap("p")
            im.protect_snap("p")
            im.write(b"T" * 100, 7 * M)  # after the clone's snapshot: not seen
        rbd.RBD().clone(io, "parent", "p", io, "child", features=61)
        with rbd.Image(io, "child") as im:
            im.create_snap("c0")
            im.write(b"c" * 100, 2 * M + 100)  # copy-up of object 2
            im.write(b"d" * 100, 3 * M)  # nothing of the parent's there
            im.resize(6 * M + 4096)  # the overlap drops
            im.create_snap("c1")
            im.protect_snap("c1")
            im.resize(10 * M)
            im.write(b"e" * 100, 9 * M)
        rbd.RBD().clone(io, "child", "c1", io, "grandchild", features=1)
        with rbd.Image(io, "grandchild") as im:
            im.create_snap("c0")
            im.write(b"g" * 100, 5 * M + 10)
    finally:
        cluster.shutdown()
""")


def test_diff_iterate_include_parent_matches_librbd(ceph_conf: str, pool: str) -> None:
    """DiffIterate with include_parent: from the beginning, what the parent (and its
    parent) holds below the overlap shows in the objects the clone has no data of its
    own in; fast diff and LIST_SNAPS, at HEAD and at a snapshot, every mode alike."""
    subprocess.run([SYSTEM_PYTHON, "-c", _LAYERS, ceph_conf, pool], check=True,
                   timeout=300, env=_system_env())
    for name, snaps in (("child", [None, "c1"]), ("grandchild", [None])):
        theirs = diffs("librbd", ceph_conf, pool, name, snaps)
        assert diffs("rbdpy", ceph_conf, pool, name, snaps) == theirs, name
    with_parent = theirs["None@None parent=True whole=False"]
    assert [5 * MiB, MiB, True] in with_parent  # the grandparent's R, through the child
