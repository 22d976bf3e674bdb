"""Issue "RBD images" (first cut): create/open/I/O/resize/remove on rbdpy's own wire.

Every result is checked against what Ceph itself sees: the ``rbd`` CLI (``info --format
json``, ``export``, ``import``, ``object-map check``, ``lock ls``, ``bench``, ``rm``) and the
reference python-rbd (``/usr/bin/python3``) running the same calls for error parity.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.api import AsyncRBD
from rbdpy.librbd.image import AsyncImage
from rbdpy.rados.client import AsyncRados
from rbdpy.rados.ioctx import AsyncIoctx
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

KiB = 1024
MiB = 1024 * KiB
SYSTEM_PYTHON = "/usr/bin/python3"


async def rbd_cli(conf: str, pool: str, *args: str, stdin: bytes | None = None,
                  check: bool = True, timeout: float = 120) -> bytes:
    """Run ``rbd -c conf -p pool args`` (in a thread: it blocks)."""
    argv = ["rbd", "-c", conf, "-p", pool, *args]

    def go() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                              check=False)

    proc = await trio.to_thread.run_sync(go)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)}: {proc.stderr.decode()}")
    return proc.stdout + (b"" if check else proc.stderr)


async def rados_cli(conf: str, pool: str, *args: str) -> str:
    """Run ``rados -c conf -p pool args`` in a thread; its stdout."""
    def go() -> str:
        return subprocess.run(["rados", "-c", conf, "-p", pool, *args], capture_output=True,
                              text=True, timeout=60, check=True).stdout

    return await trio.to_thread.run_sync(go)


async def ceph_cli(conf: str, *args: str) -> str:
    """Run ``ceph -c conf args`` in a thread; stdout and stderr (blocklist ls uses both)."""
    def go() -> str:
        p = subprocess.run(["ceph", "-c", conf, *args], capture_output=True, text=True,
                           timeout=60, check=True)
        return p.stdout + p.stderr

    return await trio.to_thread.run_sync(go)


async def info(conf: str, pool: str, name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(await rbd_cli(conf, pool, "info", "--format", "json",
                                                   name))
    return out


async def export(conf: str, pool: str, name: str, tmp: Path) -> bytes:
    path = tmp / f"export-{uuid.uuid4().hex}"
    await rbd_cli(conf, pool, "export", name, str(path))
    return path.read_bytes()


async def object_map_check(conf: str, pool: str, name: str) -> None:
    """``rbd object-map check`` flags the map invalid when it finds a mismatch."""
    out = await rbd_cli(conf, pool, "object-map", "check", name, check=False)
    assert b"invalid" not in out.lower(), out
    assert (await info(conf, pool, name))["flags"] == []


@pytest.fixture
async def rio(ceph_conf: str, pool: str) -> AsyncIterator[AsyncIoctx]:
    async with AsyncRados(conffile=ceph_conf) as r:
        yield await r.open_ioctx(pool)


def _random_writes(rng: random.Random, size: int, n: int) -> list[tuple[int, bytes]]:
    writes = []
    for i in range(n):
        length = rng.choice([1, 511, 4096, 65537, 3 * MiB + 17])
        off = rng.randrange(0, size - length)
        if i == 0:
            off = 4 * MiB - 100  # spans an object boundary for every layout here
            length = 300
        writes.append((off, rng.randbytes(length)))
    return writes


# -- rbdpy creates, Ceph checks ------------------------------------------------------------------

CREATE_CASES = [
    # (id, create kwargs, expected rbd info subset)
    ("default", {}, {"order": 22, "features": ["layering", "exclusive-lock", "object-map",
                                               "fast-diff", "deep-flatten"]}),
    ("striped", {"stripe_unit": 64 * KiB, "stripe_count": 8},
     {"order": 22, "stripe_unit": 64 * KiB, "stripe_count": 8,
      "features": ["layering", "striping", "exclusive-lock", "object-map", "fast-diff",
                   "deep-flatten"]}),
    ("order20_nolock", {"order": 20, "features": 1}, {"order": 20, "features": ["layering"]}),
]


@pytest.mark.parametrize("case", CREATE_CASES, ids=[c[0] for c in CREATE_CASES])
async def test_rbdpy_create_write_then_rbd_cli_agrees(rio: AsyncIoctx, ceph_conf: str,
                                                      pool: str, tmp_path: Path,
                                                      case: tuple[str, dict[str, Any],
                                                                  dict[str, Any]]) -> None:
    _, kwargs, expected = case
    name = f"img-{case[0]}"
    size = 24 * MiB + 4096
    await AsyncRBD().create(rio, name, size, **kwargs)
    got = await info(ceph_conf, pool, name)
    assert got["size"] == size
    for k, v in expected.items():
        assert got[k] == v, (k, got)
    assert name in await AsyncRBD().list(rio)

    model = bytearray(size)
    rng = random.Random(case[0])
    async with await AsyncImage.open(rio, name) as img:
        assert (await img.stat())["block_name_prefix"] == got["block_name_prefix"]
        assert await img.id() == got["id"]
        for off, data in _random_writes(rng, size, 12):
            assert await img.write(data, off) == len(data)
            model[off:off + len(data)] = data
        # reads go through the same striping: whole image and an unaligned window
        assert await img.read(0, size) == model
        assert await img.read(4 * MiB - 7, 2 * MiB + 3) == model[4 * MiB - 7:6 * MiB - 4]

    assert await export(ceph_conf, pool, name, tmp_path) == model
    if "object-map" in got["features"]:
        await object_map_check(ceph_conf, pool, name)
    await rbd_cli(ceph_conf, pool, "rm", name)
    assert name not in await AsyncRBD().list(rio)


async def test_data_pool(rio: AsyncIoctx, cluster: SessionCluster, ceph_conf: str,
                         pool: str, tmp_path: Path) -> None:
    data_pool = f"{pool}-data"
    cluster.devcluster().pool_create(data_pool)
    try:
        await AsyncRBD().create(rio, "dp", 9 * MiB, data_pool=data_pool)
        got = await info(ceph_conf, pool, "dp")
        assert got["data_pool"] == data_pool
        assert "data-pool" in got["features"]
        data = random.Random(1).randbytes(5 * MiB)
        async with await AsyncImage.open(rio, "dp") as img:
            assert await img.data_pool_id() == await rio.rados.pool_lookup(data_pool)
            await img.write(data, 3 * MiB)
        assert (await export(ceph_conf, pool, "dp", tmp_path))[3 * MiB:8 * MiB] == data
        # the data objects live in the data pool, named by the header's prefix
        objs = [o for o in (await rados_cli(ceph_conf, data_pool, "ls")).split()
                if o != "rbd_info"]
        assert objs and all(o.startswith(got["block_name_prefix"]) for o in objs)
        await object_map_check(ceph_conf, pool, "dp")
        await AsyncRBD().remove(rio, "dp")
        assert (await rados_cli(ceph_conf, data_pool, "ls")).split() == ["rbd_info"]
    finally:
        cluster.devcluster().pool_delete(data_pool)


# -- Ceph creates, rbdpy reads and writes -------------------------------------------------

CLI_CASES = [
    ("default", []),
    ("su64k_sc8", ["--stripe-unit", "64K", "--stripe-count", "8"]),
    ("os1m", ["--object-size", "1M"]),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
async def test_rbd_cli_images_read_and_written_by_rbdpy(
        rio: AsyncIoctx, ceph_conf: str, pool: str, tmp_path: Path,
        case: tuple[str, list[str]]) -> None:
    name = f"cli-{case[0]}"
    size = 10 * MiB + 12 * KiB
    src = tmp_path / "src"
    data = bytearray(random.Random(case[0]).randbytes(size))
    data[2 * MiB:3 * MiB] = bytes(MiB)  # a hole: rbd import leaves it sparse
    src.write_bytes(data)
    await rbd_cli(ceph_conf, pool, "import", *case[1], str(src), name)
    async with await AsyncImage.open(rio, name) as img:
        assert await img.size() == size
        assert await img.read(0, size) == data
        assert await img.read(MiB + 3, 3 * MiB) == data[MiB + 3:4 * MiB + 3]
        for off, chunk in _random_writes(random.Random(7), size, 8):
            await img.write(chunk, off)
            data[off:off + len(chunk)] = chunk
        await img.discard(5 * MiB, 2 * MiB)  # 64 KiB aligned: really zeroed
        data[5 * MiB:7 * MiB] = bytes(2 * MiB)
        assert await img.read(0, size) == data
    assert await export(ceph_conf, pool, name, tmp_path) == data
    await object_map_check(ceph_conf, pool, name)


async def test_exclusive_lock_handover_with_rbd_cli(rio: AsyncIoctx, ceph_conf: str,
                                                    pool: str, tmp_path: Path) -> None:
    """We own the lock; ``rbd bench`` asks for it (REQUEST_LOCK), we hand it over, and
    take it back for our next write."""
    await AsyncRBD().create(rio, "lk", 8 * MiB)
    async with await AsyncImage.open(rio, "lk") as img:
        await img.write(b"A" * 4096, 0)
        assert await img.is_exclusive_lock_owner()
        lockers = await img.list_lockers()
        assert isinstance(lockers, dict)
        assert lockers["tag"] == "internal"
        assert lockers["lockers"][0][1].startswith("auto ")
        await rbd_cli(ceph_conf, pool, "bench", "--io-type", "write", "--io-size", "4K",
                      "--io-total", "64K", "--io-pattern", "seq", "lk", timeout=60)
        for _ in range(200):  # the release runs in the background after our ack
            if not await img.is_exclusive_lock_owner():
                break
            await trio.sleep(0.05)
        assert not await img.is_exclusive_lock_owner()
        await img.write(b"B" * 4096, 4 * MiB)
        assert await img.is_exclusive_lock_owner()
        assert await img.read(4 * MiB, 4096) == b"B" * 4096
    exported = await export(ceph_conf, pool, "lk", tmp_path)
    assert exported[4 * MiB:4 * MiB + 4096] == b"B" * 4096
    await object_map_check(ceph_conf, pool, "lk")


# -- resize, metadata, advisory locks, remove ----------------------------------------------------


async def test_resize_metadata_locks_remove(rio: AsyncIoctx, ceph_conf: str,
                                            pool: str, tmp_path: Path) -> None:
    rbd = AsyncRBD()
    await rbd.create(rio, "rs", 12 * MiB)
    async with await AsyncImage.open(rio, "rs") as img:
        await img.write(b"x" * (12 * MiB), 0)
        await img.resize(20 * MiB)
        assert (await info(ceph_conf, pool, "rs"))["size"] == 20 * MiB
        assert await img.read(12 * MiB, 4096) == bytes(4096)
        with pytest.raises(rbdx.InvalidArgument):
            await img.resize(MiB, allow_shrink=False)
        await img.resize(5 * MiB + 5)
        assert await img.size() == 5 * MiB + 5
        prefix = await img.block_name_prefix()
    objs = (await rados_cli(ceph_conf, pool, "ls")).split()
    data_objs = sorted(o for o in objs if o.startswith(prefix))
    assert data_objs == [f"{prefix}.{n:016x}" for n in range(2)]
    stat = await rados_cli(ceph_conf, pool, "stat", data_objs[1])
    assert stat.rstrip().endswith(f"size {MiB + 5}")
    exported = await export(ceph_conf, pool, "rs", tmp_path)
    assert exported == b"x" * (5 * MiB + 5)
    await object_map_check(ceph_conf, pool, "rs")

    async with await AsyncImage.open(rio, "rs") as img:
        await img.metadata_set("conf_rbd_cache", "false")
        await img.metadata_set(b"k2", b"v2")
        assert await img.metadata_get("k2") == "v2"
        assert await img.metadata_list() == [("conf_rbd_cache", "false"), ("k2", "v2")]
        await img.metadata_remove("k2")
        with pytest.raises(KeyError, match="no metadata b'k2' for image b'rs'"):
            await img.metadata_get("k2")
        with pytest.raises(KeyError):
            await img.metadata_remove("k2")
        cli = json.loads(await rbd_cli(ceph_conf, pool, "image-meta", "list", "rs",
                                       "--format", "json"))
        assert cli == {"conf_rbd_cache": "false"}

    async with await AsyncImage.open(rio, "rs") as img:
        assert await img.list_lockers() == []
        await img.lock_shared("c1", "tag1")
        await img.lock_shared("c2", "tag1")
        with pytest.raises(rbdx.ImageExists):
            await img.lock_shared("c2", "tag1")
        with pytest.raises(rbdx.ImageBusy):
            await img.lock_shared("c3", "other")
        with pytest.raises(rbdx.ImageBusy):
            await img.lock_exclusive("c4")
        lockers = await img.list_lockers()
        assert isinstance(lockers, dict)
        cli_locks = json.loads(await rbd_cli(ceph_conf, pool, "lock", "ls", "rs",
                                             "--format", "json"))
        assert {(lk["locker"], lk["id"], lk["address"]) for lk in cli_locks} == \
            set(lockers["lockers"])
        assert lockers["tag"] == "tag1" and lockers["exclusive"] is False
        await img.unlock("c1")
        with pytest.raises(rbdx.ImageNotFound):
            await img.unlock("c1")
        with pytest.raises(rbdx.InvalidArgument):
            await img.break_lock("garbage", "c2")
        with pytest.raises(rbdx.ImageNotFound):
            await img.break_lock("client.999999", "c2")
        await img.unlock("c2")
        await img.lock_exclusive("e1")
        with pytest.raises(rbdx.ImageExists):
            await img.lock_exclusive("e1")
        await img.unlock("e1")

    # an open image (its watch) makes removal busy, snapshots make it refuse
    async with await AsyncImage.open(rio, "rs"):
        with pytest.raises(rbdx.ImageBusy, match="error removing image"):
            await AsyncRBD().remove(rio, "rs")
    await rbd_cli(ceph_conf, pool, "snap", "create", "rs@s1")
    with pytest.raises(rbdx.ImageHasSnapshots):
        await rbd.remove(rio, "rs")
    await rbd_cli(ceph_conf, pool, "snap", "rm", "rs@s1")
    await rbd.rename(rio, "rs", "rs2")
    assert "rs2" in (await rbd_cli(ceph_conf, pool, "ls")).decode().split()
    await rbd.remove(rio, "rs2")
    assert await rbd.list(rio) == []
    leftovers = (await rados_cli(ceph_conf, pool, "ls")).split()
    # removal passes through the trash, as librbd's does: its (empty) omap object stays
    assert [o for o in leftovers if o not in ("rbd_directory", "rbd_info", "rbd_trash")] == []


async def test_bad_input_writes_nothing(rio: AsyncIoctx, ceph_conf: str, pool: str) -> None:
    rbd = AsyncRBD()
    with pytest.raises(rbdx.InvalidArgument, match="error creating image"):
        await rbd.create(rio, "", MiB)
    with pytest.raises(rbdx.ArgumentOutOfRange):
        await rbd.create(rio, "o", MiB, order=26)
    with pytest.raises(rbdx.InvalidArgument):
        await rbd.create(rio, "s", MiB, stripe_unit=65536)
    with pytest.raises(rbdx.FunctionNotSupported):
        await rbd.create(rio, "f", MiB, features=1 << 20)
    with pytest.raises(rbdx.ImageNotFound):
        await rbd.create(rio, "d", MiB, data_pool="no-such-pool")
    with pytest.raises(OverflowError):
        await rbd.create(rio, "n", -1)
    with pytest.raises(rbdx.InvalidArgument, match="format 1"):
        await rbd.create(rio, "old", MiB, old_format=True, features=1)
    assert await rbd.list(rio) == []

    await rbd.create(rio, "b", 2 * MiB)
    with pytest.raises(rbdx.ImageExists):
        await rbd.create(rio, "b", MiB)
    with pytest.raises(rbdx.ImageNotFound, match=r"error opening image b'nope' at snapshot"):
        await AsyncImage.open(rio, "nope")
    with pytest.raises(rbdx.ImageNotFound):
        await AsyncImage.open(rio, "b", snapshot="nosnap")
    with pytest.raises(rbdx.InvalidArgument):
        await AsyncImage.open(rio)
    async with await AsyncImage.open(rio, "b") as img:
        with pytest.raises(rbdx.InvalidArgument, match=r"error reading b'b' 2097152~10"):
            await img.read(2 * MiB, 10)
        assert await img.read(2 * MiB + 5, 0) == b""
        with pytest.raises(OverflowError):
            await img.read(-1, 10)
        with pytest.raises(rbdx.InvalidArgument, match="error writing to b'b'"):
            await img.write(b"x", 2 * MiB)
        with pytest.raises(rbdx.IncompleteWriteError, match="Wrote only 5 out of 10 bytes"):
            await img.write(b"y" * 10, 2 * MiB - 5)
        with pytest.raises(TypeError):
            await img.write("str", 0)  # type: ignore[arg-type]
        with pytest.raises(rbdx.InvalidArgument):
            await img.discard(1 << 62, 10)
        assert await img.read(2 * MiB - 5, 10) == b"y" * 5
    async with await AsyncImage.open(rio, "b", read_only=True) as img:
        with pytest.raises(rbdx.ReadOnlyImage):
            await img.write(b"z", 0)
        with pytest.raises(rbdx.ReadOnlyImage):
            await img.discard(0, 4096)
        with pytest.raises(rbdx.ReadOnlyImage):
            await img.resize(MiB)
        with pytest.raises(rbdx.ReadOnlyImage):
            await img.metadata_set("a", "b")
        assert await img.read(0, 1) == b"\0"
    await img.close()
    with pytest.raises(rbdx.InvalidArgument, match="image is closed"):
        await img.size()
    # names librbd does not restrict (python-rbd 16.2 accepts them)
    for odd in ("a/b", "a@b"):
        await rbd.create(rio, odd, MiB)
        async with await AsyncImage.open(rio, odd) as img:
            assert await img.get_name() == odd
        await rbd.remove(rio, odd)


# -- error parity with python-rbd (sync facade vs /usr/bin/python3) ------------------------------

PARITY_SCRIPT = textwrap.dedent("""
    import json, sys
    import {rados_mod} as rados, {rbd_mod} as rbd
    conf, pool = sys.argv[1], sys.argv[2]
    c = rados.Rados(conffile=conf); c.connect()
    io = c.open_ioctx(pool)
    R = rbd.RBD()
    out = []
    def t(label, fn):
        try:
            r = fn()
            out.append([label, "ok", repr(r) if isinstance(r, (int, bytes, str, list)) else ""])
        except Exception as e:
            out.append([label, type(e).__name__, str(e)])
    t("create empty", lambda: R.create(io, "", 1 << 20))
    t("create order", lambda: R.create(io, "x", 1 << 20, order=30))
    t("create su", lambda: R.create(io, "x", 1 << 20, stripe_unit=4096))
    t("create feat", lambda: R.create(io, "x", 1 << 20, features=1 << 30))
    t("create om", lambda: R.create(io, "x", 1 << 20, features=8))
    t("create neg", lambda: R.create(io, "x", -5))
    t("create name", lambda: R.create(io, 5, 1 << 20))
    t("create old", lambda: R.create(io, "x", 1 << 20, old_format=True, stripe_unit=65536))
    t("create ok", lambda: R.create(io, "{img}", 4 << 20))
    t("create dup", lambda: R.create(io, "{img}", 4 << 20))
    t("open missing", lambda: rbd.Image(io, "missing"))
    t("open none", lambda: rbd.Image(io))
    t("open both", lambda: rbd.Image(io, "a", image_id="b"))
    t("remove missing", lambda: R.remove(io, "missing"))
    t("rename missing", lambda: R.rename(io, "missing", "y"))
    img = rbd.Image(io, "{img}")
    t("read end", lambda: img.read(4 << 20, 1))
    t("read neg", lambda: img.read(-1, 1))
    t("write end", lambda: img.write(b"a", 4 << 20))
    t("write short", lambda: img.write(b"abcdef", (4 << 20) - 2))
    t("write str", lambda: img.write("abc", 0))
    t("discard end", lambda: img.discard(4 << 20, 5))
    t("resize noshrink", lambda: img.resize(1, allow_shrink=False))
    t("meta missing", lambda: img.metadata_get("nokey"))
    t("meta rm missing", lambda: img.metadata_remove("nokey"))
    t("meta bad value", lambda: img.metadata_set("k", 5))
    t("unlock missing", lambda: img.unlock("nocookie"))
    t("break bad", lambda: img.break_lock("garbage", "c"))
    t("remove open", lambda: R.remove(io, "{img}"))
    t("stat", lambda: sorted(img.stat()))
    img.close()
    t("closed", lambda: img.size())
    ro = rbd.Image(io, "{img}", read_only=True)
    t("ro write", lambda: ro.write(b"a", 0))
    t("ro resize", lambda: ro.resize(1))
    t("ro meta", lambda: ro.metadata_set("a", "b"))
    ro.close()
    t("remove", lambda: R.remove(io, "{img}"))
    t("list", lambda: R.list(io))
    io.close(); c.shutdown()
    print(json.dumps(out))
""")


def test_error_parity_with_python_rbd(ceph_conf: str, pool: str) -> None:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    ref = subprocess.run(
        [SYSTEM_PYTHON, "-c", PARITY_SCRIPT.format(rados_mod="rados", rbd_mod="rbd",
                                                    img="par-ref"), ceph_conf, pool],
        capture_output=True, text=True, timeout=120, check=True, env=env)
    ours = subprocess.run(
        [sys.executable, "-c",
         PARITY_SCRIPT.format(rados_mod="rbdpy.rados", rbd_mod="rbdpy.rbd", img="par-us"),
         ceph_conf, pool],
        capture_output=True, text=True, timeout=120, check=True,
        cwd=Path(__file__).resolve().parents[2])
    expected = json.loads(ref.stdout.replace("par-ref", "IMG"))
    got = json.loads(ours.stdout.replace("par-us", "IMG"))
    assert [g for g in got] == [e for e in expected]


HOLDER_SCRIPT = textwrap.dedent("""
    import rados, rbd, sys, time
    c = rados.Rados(conffile=sys.argv[1]); c.connect()
    io = c.open_ioctx(sys.argv[2])
    with rbd.Image(io, sys.argv[3]) as img:
        img.write(b"L" * 4096, 0)
        print(img.is_exclusive_lock_owner(), flush=True)
        time.sleep(3)
        # rbdpy asked for the lock meanwhile; librbd handed it over
        print(img.is_exclusive_lock_owner(), flush=True)
        img.write(b"M" * 4096, 8192)
    c.shutdown()
""")


async def test_exclusive_lock_handover_with_librbd(rio: AsyncIoctx, ceph_conf: str,
                                                   pool: str) -> None:
    """librbd (python3-rbd) owns the lock; our write requests it, librbd releases; then
    librbd's next write requests it back from us and we release."""
    await AsyncRBD().create(rio, "ho", 8 * MiB)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    async with trio.open_nursery() as nursery:
        done = trio.Event()
        result: dict[str, bytes] = {}

        async def holder() -> None:
            proc = await trio.run_process([SYSTEM_PYTHON, "-c", HOLDER_SCRIPT, ceph_conf,
                                           pool, "ho"], capture_stdout=True, env=env)
            result["out"] = proc.stdout
            done.set()

        nursery.start_soon(holder)
        async with await AsyncImage.open(rio, "ho") as img:
            for _ in range(100):  # wait until librbd owns the lock
                lockers = await img.list_lockers()
                if lockers:
                    break
                await trio.sleep(0.05)
            await img.write(b"R" * 4096, 4096)
            assert await img.is_exclusive_lock_owner()
            await done.wait()
            assert result["out"].split() == [b"True", b"False"]
            assert not await img.is_exclusive_lock_owner()
            assert await img.read(0, 12288) == b"L" * 4096 + b"R" * 4096 + b"M" * 4096


async def test_snapshots_cow_and_snapshot_reads(rio: AsyncIoctx, ceph_conf: str,
                                                pool: str, tmp_path: Path) -> None:
    """A snapshot taken by the CLI while we hold the image open: our next write must carry
    the new SnapContext (the OSD then preserves the old data), and the snapshot opens
    read-only with its own size."""
    await AsyncRBD().create(rio, "sn", 8 * MiB)
    async with await AsyncImage.open(rio, "sn") as img:
        await img.write(b"A" * MiB, 3 * MiB)
        await rbd_cli(ceph_conf, pool, "snap", "create", "sn@s1")
        await img.write(b"B" * MiB, 3 * MiB + 512 * KiB)
        await img.resize(16 * MiB)
    assert (await export(ceph_conf, pool, "sn@s1", tmp_path))[3 * MiB:4 * MiB] == b"A" * MiB
    async with await AsyncImage.open(rio, "sn", snapshot="s1") as snap:
        assert await snap.size() == 8 * MiB
        assert await snap.read(3 * MiB, MiB) == b"A" * MiB
        with pytest.raises(rbdx.ReadOnlyImage):
            await snap.write(b"x", 0)
    async with await AsyncImage.open(rio, "sn") as img:
        assert await img.read(3 * MiB, MiB) == b"A" * (512 * KiB) + b"B" * (512 * KiB)
    await object_map_check(ceph_conf, pool, "sn")
    with pytest.raises(rbdx.ImageHasSnapshots):
        await AsyncRBD().remove(rio, "sn")


async def test_dead_lock_owner_is_blocklisted_and_broken(rio: AsyncIoctx, ceph_conf: str,
                                                          pool: str) -> None:
    """A managed lock ("auto <handle>", tag internal) whose owner has no watch left: the
    owner is dead, so we blocklist its address and break the lock (BreakRequest)."""
    await AsyncRBD().create(rio, "dead", 8 * MiB)
    image_id = (await info(ceph_conf, pool, "dead"))["id"]
    await rados_cli(ceph_conf, pool, "lock", "get", f"rbd_header.{image_id}", "rbd_lock",
                    "--lock-tag", "internal", "--lock-cookie", "auto 123456",
                    "--lock-type", "exclusive")
    stale = json.loads(await rbd_cli(ceph_conf, pool, "lock", "ls", "dead", "--format",
                                     "json"))
    assert [lk["id"] for lk in stale] == ["auto 123456"]
    async with await AsyncImage.open(rio, "dead") as img:
        with trio.fail_after(20):
            await img.write(b"D" * 512, 0)
        assert await img.is_exclusive_lock_owner()
    blocklist = await ceph_cli(ceph_conf, "osd", "blocklist", "ls")
    assert stale[0]["address"] in blocklist
    await ceph_cli(ceph_conf, "osd", "blocklist", "rm", stale[0]["address"])
    # an advisory lock of another kind is not ours to break: the write gives up, EBUSY
    await rados_cli(ceph_conf, pool, "lock", "get", f"rbd_header.{image_id}", "rbd_lock",
                    "--lock-cookie", "user", "--lock-type", "exclusive")
    async with await AsyncImage.open(rio, "dead") as img:
        with pytest.raises(rbdx.ImageBusy, match="error writing to b'dead'"):
            await img.write(b"E", 0)
        assert await img.read(0, 2) == b"DD"
