"""Monitor failover cases of issue #21 item 5, each on a 3-mon devcluster of its own.

- An exclusive-lock hand-over between two live clients while the mon leader is killed:
  the REQUEST_LOCK / RELEASED_LOCK exchange runs over watch/notify on the OSDs, and
  blocklisting is only for dead owners, so nothing in it may wait for a monitor. The test
  first hands over while the survivors elect, then hands back with no quorum possible at
  all (two of three mons dead), which turns "needs no mon" into a plain assertion.
- A monitor re-addressed in the monmap: two mons get new ports (``DevCluster.move_mon``,
  ``ceph mon set-addrs`` + ``--inject-monmap``), then the one mon left at an address in the
  client's ``mon_host`` is killed. A handle connected before can then reach a monitor only
  through addresses it learned from monmap updates; it must go on serving mon commands and
  image I/O.

Time bounds here are hang guards (``trio.fail_after``), not measurements; the stall of a
failover is measured in bench/mon_failover.py.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import trio

from rbdpy.devcluster import DevCluster, readdress_conf
from rbdpy.librbd.api import AsyncRBD
from rbdpy.librbd.image import AsyncImage
from rbdpy.rados.client import AsyncRados
from rbdpy.rados.proto.types import EntityAddr

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(170)]

MiB = 1 << 20
BLOCK = 4096
POOL = "rbd"
# exclusive-lock + object-map + fast-diff + deep-flatten + layering, as the other tests use.
FEATURES = 61
# Hang guards. A hand-over to a live owner takes a notify round trip and a cls call;
# rbdpy's own bound on waiting for a live owner is 30 s (LOCK_ACQUIRE_TIMEOUT).
HANDOVER_GUARD = 40.0
# Mons electing after a kill, a hunt round or two with backoff, a command.
MON_GUARD = 60.0

T = TypeVar("T")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking devcluster/CLI call off the trio thread, so the handles' background
    tasks (mon and OSD sessions, watches) keep running meanwhile."""
    return await trio.to_thread.run_sync(lambda: fn(*args))


def quorum(dc: DevCluster) -> dict[str, Any]:
    q = dc.ceph_json("quorum_status", timeout=60)
    assert isinstance(q, dict)
    return q


def wait_quorum_of(dc: DevCluster, names: set[str], timeout: float = 90) -> None:
    """Block until exactly the mons ``names`` (without "mon.") form the quorum."""
    end = time.monotonic() + timeout
    while True:
        cp = dc.ceph("quorum_status", "--format", "json", timeout=20, check=False)
        if cp.returncode == 0 and set(json.loads(cp.stdout)["quorum_names"]) == names:
            return
        if time.monotonic() > end:
            raise AssertionError(f"the mons {sorted(names)} formed no quorum in {timeout} s")
        time.sleep(0.5)


def assert_no_auth_failure(caplog: pytest.LogCaptureFixture) -> None:
    """No hunt took a mon for one that refused our key: several logins of one parallel hunt
    reclaiming our global_id at once must each succeed (monclient._login_copy)."""
    refused = [r.getMessage() for r in caplog.records
               if r.name == "rbdpy.rados.monclient" and "authentication failed" in r.getMessage()]
    assert not refused


async def connect(dc: DevCluster) -> AsyncRados:
    r = AsyncRados(conffile=str(dc.conf_path))
    with trio.fail_after(MON_GUARD):
        await r.connect(timeout=MON_GUARD)
    return r


async def start_cluster(tmp_path: Path) -> DevCluster:
    dc = DevCluster(tmp_path / "x")
    await in_thread(lambda: dc.start(mons=3, osds=2))
    await in_thread(dc.pool_create, POOL)
    return dc


async def test_lock_hand_over_while_the_mon_leader_dies(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rbdpy.rados.monclient")
    dc = await start_cluster(tmp_path)
    handles: list[AsyncRados] = []
    try:
        ra, rb = await connect(dc), await connect(dc)
        handles += [ra, rb]
        io_a, io_b = await ra.open_ioctx(POOL), await rb.open_ioctx(POOL)
        await AsyncRBD().create(io_a, "img", 8 * MiB, features=FEATURES)
        img_a = await AsyncImage.open(io_a, "img")
        img_b = await AsyncImage.open(io_b, "img")
        await img_a.write(b"A" * BLOCK, 0)
        assert await img_a.is_exclusive_lock_owner()
        assert not await img_b.is_exclusive_lock_owner()

        # 1. Kill the leader; B writes at once, while the survivors elect a new one.
        leader = f"mon.{(await in_thread(quorum, dc))['quorum_leader_name']}"
        await in_thread(dc.kill, leader)
        with trio.fail_after(HANDOVER_GUARD):
            await img_b.write(b"B" * BLOCK, BLOCK)
        assert await img_b.is_exclusive_lock_owner()
        assert not await img_a.is_exclusive_lock_owner()

        # 2. Kill a second mon: no quorum can form now, so a hand-over that waited for a
        # monitor anywhere would hang here. A takes the lock back from the live B.
        others = [n for n in dc.load_state().names("mon.") if n != leader]
        await in_thread(dc.kill, others[0])
        with trio.fail_after(HANDOVER_GUARD):
            await img_a.write(b"a" * BLOCK, 2 * BLOCK)
        assert await img_a.is_exclusive_lock_owner()
        assert not await img_b.is_exclusive_lock_owner()
        expected = b"A" * BLOCK + b"B" * BLOCK + b"a" * BLOCK
        with trio.fail_after(HANDOVER_GUARD):
            for img in (img_a, img_b):
                assert await img.read(0, 3 * BLOCK) == expected

        # 3. Mons back: both handles serve mon commands again (they hunted all along).
        for name in (leader, others[0]):
            await in_thread(dc.restart, name)
        await in_thread(wait_quorum_of, dc, {n[4:] for n in dc.load_state().names("mon.")})
        with trio.fail_after(MON_GUARD):
            for r in (ra, rb):
                ret, out, outs = await r.mon_command(
                    json.dumps({"prefix": "fsid", "format": "json"}), b"")
                assert ret == 0, outs
                assert json.loads(out)["fsid"] == r.get_fsid()
        await img_b.close()
        await img_a.close()
        assert_no_auth_failure(caplog)
    finally:
        for r in handles:
            await r.shutdown()
        await in_thread(dc.stop)


def msgr2_addrs(r: AsyncRados) -> set[EntityAddr]:
    """The msgr2 addresses of the mons in the handle's current monmap."""
    assert r.monc is not None and r.monc.monmap is not None
    return {a for av in r.monc.monmap.addrvecs() if (a := av.msgr2()) is not None}


async def test_handle_follows_mons_moved_to_new_addresses(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="rbdpy.rados.monclient")
    dc = await start_cluster(tmp_path)
    r: AsyncRados | None = None
    try:
        r = await connect(dc)
        io = await r.open_ioctx(POOL)
        await AsyncRBD().create(io, "img", 8 * MiB, features=FEATURES)
        img = await AsyncImage.open(io, "img")
        await img.write(b"1" * BLOCK, 0)
        assert r.monc is not None
        mon_host_ports = {a.port for a in r.monc.mon_addrs}  # what ceph.conf named
        assert len(mon_host_ports) == 3

        # Move two of the three mons, so that they alone can form a quorum.
        moved: dict[str, int] = {}
        for name in ("mon.b", "mon.c"):
            spec = await in_thread(dc.move_mon, name)
            moved[name] = spec.v2_port
            # move_mon's promises: the state file, ceph.conf and the monmap agree.
            assert dc.load_state().get(name).v2_port == spec.v2_port
            conf = dc.conf_path.read_text()
            assert re.search(rf"\[mon\.{name[4:]}\]\nmon addr = \[v2:127\.0\.0\.1:"
                             rf"{spec.v2_port},v1:127\.0\.0\.1:{spec.v1_port}\]", conf)
            # The handle learns the new address from the monmap subscription (polled:
            # the MonClient has no "monmap changed" event for outsiders to wait on).
            with trio.fail_after(MON_GUARD):
                while spec.v2_port not in {a.port for a in msgr2_addrs(r)}:  # noqa: ASYNC110
                    await trio.sleep(0.1)
        assert not set(moved.values()) & mon_host_ports

        # Kill the one mon still at a mon_host address: only the moved mons can serve.
        await in_thread(dc.kill, "mon.a", signal.SIGKILL)
        # The CLI reads the rewritten ceph.conf; the handle knows only its old mon_host and
        # the monmaps it was sent. Survivors that have not yet noticed the death still
        # report a quorum with a, so wait for the new one first.
        await in_thread(wait_quorum_of, dc, {"b", "c"})
        # Whichever mon the session was with, make it hunt now: over its monmap, where a is
        # dead and only the learned addresses of b and c answer.
        assert r.monc.conn is not None
        await r.monc.conn.aclose()
        with trio.fail_after(MON_GUARD):
            ret, out, outs = await r.mon_command(
                json.dumps({"prefix": "quorum_status", "format": "json"}), b"")
        assert ret == 0, outs
        assert set(json.loads(out)["quorum_names"]) == {"b", "c"}
        # Its session is with a moved mon, whose address only a monmap update could tell.
        assert r.monc.conn is not None and r.monc.conn.addr.port in moved.values()

        with trio.fail_after(MON_GUARD):
            await img.write(b"2" * BLOCK, BLOCK)
            assert await img.read(0, 2 * BLOCK) == b"1" * BLOCK + b"2" * BLOCK
            await img.close()
            # Pool ops go through the mon session too.
            await r.create_pool("after-move")
            assert "after-move" in await r.list_pools()
        assert_no_auth_failure(caplog)
    finally:
        if r is not None:
            await r.shutdown()
        await in_thread(dc.stop)


def test_readdress_conf_replaces_whole_ports_only() -> None:
    conf = ("mon host = [v2:127.0.0.1:4567,v1:127.0.0.1:4568],"
            "[v2:127.0.0.1:45678,v1:127.0.0.1:45679]\n"
            "[mon.a]\nmon addr = [v2:127.0.0.1:4567,v1:127.0.0.1:4568]\n")
    out = readdress_conf(conf, (4567, 4568), (5001, 5002))
    assert out == ("mon host = [v2:127.0.0.1:5001,v1:127.0.0.1:5002],"
                   "[v2:127.0.0.1:45678,v1:127.0.0.1:45679]\n"
                   "[mon.a]\nmon addr = [v2:127.0.0.1:5001,v1:127.0.0.1:5002]\n")
