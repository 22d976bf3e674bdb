"""Issue "Clones and layering": clones made by librbd (the ``rbd`` CLI), read, written and
flattened by rbdpy; ``rbd export`` and ``rbd object-map check`` judge the result.

Covers clone v1 and v2, a striped parent, a parent in another pool, a three-level chain,
copy-up under snapshots (the snapshots keep their data after a deep flatten), discards
below the overlap (zeros, never the parent's data again), a shrink that lowers the overlap
for good, and flatten with and without deep-flatten.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from rbdpy import rados, rbd
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

MiB = 1 << 20


def _rbd(cluster: SessionCluster, *args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["rbd", "-c", str(cluster.conf), *args], input=data, check=True,
                          capture_output=True, timeout=300).stdout


def _info(cluster: SessionCluster, spec: str) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(_rbd(cluster, "info", spec, "--format", "json"))
    return info


def _object_map_clean(cluster: SessionCluster, spec: str) -> None:
    check = subprocess.run(["rbd", "-c", str(cluster.conf), "object-map", "check", spec],
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stderr


def _golden(cluster: SessionCluster, spec: str, size: int, seed: int,
            *import_args: str) -> bytearray:
    """A parent image written by librbd: random data with a zero hole; snapshot ``s``,
    protected (clone v1 needs that)."""
    rng = random.Random(seed)
    data = bytearray(rng.randbytes(size))
    data[size // 3:size // 3 + 2 * MiB] = bytes(2 * MiB)
    _rbd(cluster, "import", "--no-progress", *import_args, "-", spec, data=bytes(data))
    _rbd(cluster, "snap", "create", spec + "@s")
    _rbd(cluster, "snap", "protect", spec + "@s")
    return data


def _clone(cluster: SessionCluster, parent: str, child: str, clone_format: int,
           *args: str) -> None:
    _rbd(cluster, "clone", "--rbd-default-clone-format", str(clone_format), *args,
         parent + "@s", child)


def _name() -> str:
    return "l" + uuid.uuid4().hex[:8]


@pytest.fixture
def ioctx(cluster: SessionCluster, pool: str) -> Iterator[rados.Ioctx]:
    with rados.Rados(conffile=str(cluster.conf)) as r, r.open_ioctx(pool) as io:
        yield io


def _scribble(img: rbd.Image, model: bytearray, rng: random.Random, count: int) -> None:
    for _ in range(count):
        off = rng.randrange(0, len(model) - 1)
        data = rng.randbytes(min(rng.randrange(1, 300_000), len(model) - off))
        img.write(data, off)
        model[off:off + len(data)] = data


@pytest.mark.parametrize("clone_format", [1, 2])
@pytest.mark.parametrize("striped", [False, True], ids=["plain", "striped"])
def test_librbd_clone_reads_writes_flattens(cluster: SessionCluster, pool: str,
                                            ioctx: rados.Ioctx, clone_format: int,
                                            striped: bool) -> None:
    layout = ["--stripe-unit", "65536", "--stripe-count", "4", "--order", "20"] \
        if striped else []
    parent, child = f"{pool}/{_name()}", f"{pool}/{_name()}"
    model = _golden(cluster, parent, 10 * MiB, 5, *layout)
    _clone(cluster, parent, child, clone_format, *layout)
    child_name = child.split("/")[1]
    rng = random.Random(clone_format * 10 + striped)
    with rbd.Image(ioctx, child_name) as img:
        assert img.read(0, len(model)) == bytes(model)
        _scribble(img, model, rng, 20)
        img.discard(4 * MiB, 2 * MiB)  # whole objects below the overlap: zeros, not parent
        model[4 * MiB:6 * MiB] = bytes(2 * MiB)
        img.write_zeroes(7 * MiB + 123, 4000)
        model[7 * MiB + 123:7 * MiB + 4123] = bytes(4000)
        assert img.read(0, len(model)) == bytes(model)
        img.create_snap("c1")
        at_snapshot = bytes(model)
        _scribble(img, model, rng, 10)
        reports: list[tuple[int, int, str]] = []
        img.flatten(on_progress=lambda done, total: reports.append(
            (done, total, threading.current_thread().name)))
        assert reports and reports[-1][0] == reports[-1][1]
        assert {name for _, _, name in reports} == {threading.current_thread().name}
        with pytest.raises(rbd.InvalidArgument):
            img.flatten()
        assert img.read(0, len(model)) == bytes(model)
    assert _rbd(cluster, "export", "--no-progress", child, "-") == bytes(model)
    assert _rbd(cluster, "export", "--no-progress", child + "@c1", "-") == at_snapshot
    assert "parent" not in _info(cluster, child)
    assert _rbd(cluster, "children", parent + "@s").strip() == b""
    _object_map_clean(cluster, child)
    _object_map_clean(cluster, child + "@c1")


def test_three_levels_and_another_pool(cluster: SessionCluster, pool: str,
                                       ioctx: rados.Ioctx) -> None:
    other = "lay-other"
    subprocess.run(["ceph", "-c", str(cluster.conf), "osd", "pool", "create", other, "8"],
                   check=True, capture_output=True, timeout=120)
    subprocess.run(["rbd", "-c", str(cluster.conf), "pool", "init", other], check=True,
                   capture_output=True, timeout=120)
    grand = f"{other}/{_name()}"
    model = _golden(cluster, grand, 9 * MiB, 7)
    middle, leaf = f"{pool}/{_name()}", f"{pool}/{_name()}"
    _clone(cluster, grand, middle, 2)
    rng = random.Random(3)
    with rbd.Image(ioctx, middle.split("/")[1]) as img:
        _scribble(img, model, rng, 8)
        img.create_snap("s")
        img.protect_snap("s")
    _clone(cluster, middle, leaf, 1)
    with rbd.Image(ioctx, leaf.split("/")[1]) as img:
        assert img.read(0, len(model)) == bytes(model)
        _scribble(img, model, rng, 8)
        assert img.read(0, len(model)) == bytes(model)
    assert _rbd(cluster, "export", "--no-progress", leaf, "-") == bytes(model)
    _object_map_clean(cluster, leaf)


def test_shrink_lowers_the_overlap_for_good(cluster: SessionCluster, pool: str,
                                            ioctx: rados.Ioctx) -> None:
    parent, child = f"{pool}/{_name()}", f"{pool}/{_name()}"
    model = _golden(cluster, parent, 8 * MiB, 9)
    _clone(cluster, parent, child, 2)
    with rbd.Image(ioctx, child.split("/")[1]) as img:
        img.resize(3 * MiB + 4096)
        img.resize(8 * MiB)
        expected = bytes(model[:3 * MiB + 4096]) + bytes(8 * MiB - 3 * MiB - 4096)
        assert img.read(0, 8 * MiB) == expected
    assert _info(cluster, child)["parent"]["overlap"] == 3 * MiB + 4096
    assert _rbd(cluster, "export", "--no-progress", child, "-") == expected
    _object_map_clean(cluster, child)


def test_flatten_without_deep_flatten_keeps_the_snapshots_link(
        cluster: SessionCluster, pool: str, ioctx: rados.Ioctx) -> None:
    parent, child = f"{pool}/{_name()}", f"{pool}/{_name()}"
    model = _golden(cluster, parent, 6 * MiB, 11)
    _clone(cluster, parent, child, 1, "--image-feature", "layering,exclusive-lock")
    with rbd.Image(ioctx, child.split("/")[1]) as img:
        img.create_snap("before")
        img.write(b"x" * 1000, 10)
        model[10:1010] = b"x" * 1000
        img.flatten()
        assert img.read(0, len(model)) == bytes(model)
    # the snapshot still reads through the parent, so the parent keeps its child
    assert _rbd(cluster, "children", parent + "@s").strip() == child.encode()
    assert _rbd(cluster, "export", "--no-progress", child, "-") == bytes(model)


def test_clone_of_a_snapshot_reads_the_snapshot(cluster: SessionCluster, pool: str,
                                                ioctx: rados.Ioctx) -> None:
    parent, child = f"{pool}/{_name()}", f"{pool}/{_name()}"
    model = _golden(cluster, parent, 5 * MiB, 13)
    with rbd.Image(ioctx, parent.split("/")[1]) as img:
        img.write(b"later" * 100, 0)  # after the snapshot: the clone must not see it
    _clone(cluster, parent, child, 2)
    with rbd.Image(ioctx, child.split("/")[1], read_only=True) as img:
        assert img.read(0, len(model)) == bytes(model)


def test_rollback_past_a_shrink_brings_the_parent_data_back(
        cluster: SessionCluster, pool: str, ioctx: rados.Ioctx) -> None:
    """librbd's TrimRequest copies the doomed objects up before removing them when the
    clone has snapshots; the overlap stays shrunk after the rollback (checked against
    the rbd CLI doing the same), yet the image reads the snapshot's data."""
    parent, child = f"{pool}/{_name()}", f"{pool}/{_name()}"
    model = _golden(cluster, parent, 8 * MiB, 17)
    _clone(cluster, parent, child, 2)
    with rbd.Image(ioctx, child.split("/")[1]) as img:
        img.create_snap("a")
        img.resize(3 * MiB)
        img.rollback_to_snap("a")
        assert img.size() == 8 * MiB
        assert img.read(0, 8 * MiB) == bytes(model)
    assert _info(cluster, child)["parent"]["overlap"] == 3 * MiB
    assert _rbd(cluster, "export", "--no-progress", child, "-") == bytes(model)
    _object_map_clean(cluster, child)
    _object_map_clean(cluster, child + "@a")


def test_concurrent_writers_to_one_absent_object(cluster: SessionCluster, pool: str,
                                                 ioctx: rados.Ioctx) -> None:
    """Many aio writes land in one object the clone lacks: one copy-up, every write kept."""
    parent, child = f"{pool}/{_name()}", f"{pool}/{_name()}"
    model = _golden(cluster, parent, 4 * MiB, 19)
    _clone(cluster, parent, child, 2)
    rng = random.Random(19)
    with rbd.Image(ioctx, child.split("/")[1]) as img:
        completions = []
        for i in range(32):
            off = i * 100_000 + rng.randrange(0, 50_000)
            data = rng.randbytes(30_000)
            model[off:off + len(data)] = data
            completions.append(img.aio_write(data, off, lambda c: None))
        for completion in completions:
            completion.wait_for_complete_and_cb()
            assert completion.get_return_value() == 0
        assert img.read(0, len(model)) == bytes(model)
    assert _rbd(cluster, "export", "--no-progress", child, "-") == bytes(model)
    _object_map_clean(cluster, child)


def test_a_peer_flatten_is_seen_by_an_open_clone(cluster: SessionCluster, pool: str,
                                                 ioctx: rados.Ioctx) -> None:
    parent, child = f"{pool}/{_name()}", f"{pool}/{_name()}"
    model = _golden(cluster, parent, 4 * MiB, 23)
    _clone(cluster, parent, child, 2)
    with rbd.Image(ioctx, child.split("/")[1]) as img:
        assert img.read(0, 4096) == bytes(model[:4096])
        _rbd(cluster, "flatten", "--no-progress", child)  # librbd asks us for the lock
        _rbd(cluster, "snap", "unprotect", parent + "@s")
        _rbd(cluster, "snap", "rm", "--no-progress", parent + "@s")
        _rbd(cluster, "rm", "--no-progress", parent)  # the parent is gone for good
        img.write(b"after", 0)
        model[:5] = b"after"
        assert img.read(0, len(model)) == bytes(model)
