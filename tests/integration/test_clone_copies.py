"""Copies and sparsify of clones against librbd: python-rbd and rbdpy run the same call on
twins made the same way (``rbd clone``), and the ``rbd`` CLI must see the results alike."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

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
