"""Issue "Wire": rbdpy's own msgr2 + cephx + MonClient against a real cluster.

Every result is compared with what Ceph's own CLI says about the same cluster.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest
import trio

from rbdpy.devcluster import DevCluster
from rbdpy.rados import exceptions as rx
from rbdpy.rados.client import AsyncRados
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

MODES = ["crc", "secure"]


def ceph_json(conf: Path | str, *args: str) -> object:
    out = subprocess.run(["ceph", "-c", str(conf), *args, "--format", "json"], check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)


def handle(conf: Path | str, mode: str = "crc", **conf_overrides: str) -> AsyncRados:
    return AsyncRados(conffile=str(conf), conf={"ms_mon_client_mode": mode,
                                                "ms_client_mode": mode, **conf_overrides})


@pytest.mark.parametrize("mode", MODES)
async def test_connect_and_osd_dump_matches_cli(cluster: SessionCluster, mode: str) -> None:
    r = handle(cluster.conf, mode)
    await r.connect(timeout=20)
    try:
        assert r.state == "connected"
        assert r.monc is not None and r.monc.conn is not None
        assert r.monc.conn.ready is not None
        assert r.monc.conn.ready.con_mode.name.lower() == mode
        ret, out, outs = await r.mon_command(
            json.dumps({"prefix": "osd dump", "format": "json"}), b"")
        assert ret == 0, outs
        ours = json.loads(out)
        theirs = ceph_json(cluster.conf, "osd", "dump")
        assert isinstance(theirs, dict)
        assert ours["fsid"] == theirs["fsid"] == r.get_fsid()
        # The CLI may see a later epoch if the map moved in between; never an earlier one.
        assert theirs["epoch"] >= ours["epoch"]
        assert r.get_instance_id() > 0
        assert r.osdmap is not None and r.osdmap.epoch <= theirs["epoch"]
        assert set(await r.list_pools()) == {p["pool_name"] for p in theirs["pools"]}
    finally:
        await r.shutdown()
    assert r.state == "shutdown"


@pytest.mark.parametrize("mode", MODES)
async def test_create_and_delete_pool(cluster: SessionCluster, mode: str) -> None:
    name = f"conn-{mode}-{os.getpid()}"
    async with handle(cluster.conf, mode) as r:
        assert not await r.pool_exists(name)
        await r.create_pool(name)
        assert await r.pool_exists(name)
        pid = await r.pool_lookup(name)
        assert pid is not None and await r.pool_reverse_lookup(pid) == name
        pools = ceph_json(cluster.conf, "osd", "pool", "ls")
        assert isinstance(pools, list) and name in pools
        with pytest.raises(rx.ObjectExists):
            await r.create_pool(name)
        await r.delete_pool(name)
        assert not await r.pool_exists(name)
        pools = ceph_json(cluster.conf, "osd", "pool", "ls")
        assert isinstance(pools, list) and name not in pools
        with pytest.raises(rx.ObjectNotFound):
            await r.delete_pool(name)


async def test_cluster_stats_and_latest_map(cluster: SessionCluster) -> None:
    async with handle(cluster.conf) as r:
        stats = await r.get_cluster_stats()
        assert set(stats) == {"kb", "kb_used", "kb_avail", "num_objects"}
        # A fresh cluster's mgr needs a few seconds before the mon has usage to report.
        with trio.fail_after(60):
            while stats["kb"] == 0:
                await trio.sleep(0.5)
                stats = await r.get_cluster_stats()
        assert stats["kb"] > 0
        await r.wait_for_latest_osdmap()
        theirs = ceph_json(cluster.conf, "osd", "dump")
        assert isinstance(theirs, dict)
        assert r.osdmap is not None and r.osdmap.epoch >= theirs["epoch"] - 1


def _other_key() -> str:
    raw = struct.pack("<HIIH", 1, 0, 0, 16) + os.urandom(16)
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("mode", MODES)
async def test_wrong_key_is_permission_denied(cluster: SessionCluster, mode: str) -> None:
    # How fast the refusal comes: bench/bench_control.py.
    r = handle(cluster.conf, mode, key=_other_key())
    with pytest.raises(rx.PermissionDeniedError) as info:
        await r.connect(timeout=20)
    assert info.value.errno == 13
    assert r.state == "configuring"


async def test_unknown_user_is_permission_denied(cluster: SessionCluster) -> None:
    r = AsyncRados(rados_id="nosuchuser", conffile=str(cluster.conf),
                   conf={"key": _other_key()})
    with pytest.raises(rx.PermissionDeniedError):
        await r.connect(timeout=20)


async def test_missing_keyring_is_an_error(cluster: SessionCluster, tmp_path: Path) -> None:
    r = AsyncRados(conffile=str(cluster.conf), conf={"keyring": str(tmp_path / "none")})
    with pytest.raises(rx.ObjectNotFound):
        await r.connect(timeout=5)


async def test_no_reachable_mon_times_out(tmp_path: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    r = AsyncRados(conf={"mon_host": f"v2:127.0.0.1:{port}", "key": _other_key()})
    # How close to the 1.5 s the give-up comes: bench/bench_control.py.
    with pytest.raises(rx.TimedOut):
        await r.connect(timeout=1.5)


async def test_key_never_in_error_text(cluster: SessionCluster) -> None:
    key = _other_key()
    r = handle(cluster.conf, key=key)
    with pytest.raises(rx.PermissionDeniedError) as info:
        await r.connect(timeout=20)
    assert key not in str(info.value) and key[:12] not in repr(info.value)


async def test_three_mons_one_killed(tmp_path: Path) -> None:
    dc = DevCluster(tmp_path / "threemons")
    dc.start(mons=3, osds=1)
    try:
        dc.kill("mon.b")
        for _ in range(3):
            r = AsyncRados(conffile=str(dc.conf_path))
            with trio.fail_after(30):
                await r.connect(timeout=25)
            try:
                ret, out, _ = await r.mon_command(json.dumps({"prefix": "fsid",
                                                              "format": "json"}), b"")
                assert ret == 0 and json.loads(out)["fsid"] == r.get_fsid()
            finally:
                await r.shutdown()
    finally:
        dc.stop()


async def test_hunting_dials_monitors_in_parallel(cluster: SessionCluster) -> None:
    """A monitor that accepts TCP and never answers does not hold up the hunt: the
    candidates are dialled at once and the first to authenticate wins (librados'
    mon_client_hunt_parallel); the losers' connections are closed."""
    probe = handle(cluster.conf)
    real = probe.config.get("mon_host")
    silent = trio.socket.socket()
    await silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    refused = trio.socket.socket()
    await refused.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
    silent_port = silent.getsockname()[1]
    refused_port = refused.getsockname()[1]
    r = handle(cluster.conf, mon_host=f"[v2:127.0.0.1:{silent_port}],"
                                      f"[v2:127.0.0.1:{refused_port}],{real}",
               # One round would outlast the test: only a parallel hunt gets through.
               mon_client_hunt_interval="600", mon_client_hunt_parallel="3")
    try:
        with trio.fail_after(60):
            await r.connect(timeout=60)
            accepted, _ = await silent.accept()
            # The silent mon lost the race: its connection is dropped, not left open.
            while await accepted.recv(4096):
                pass
            accepted.close()
        ret, _, outs = await r.mon_command(json.dumps({"prefix": "fsid"}), b"")
        assert ret == 0, outs
    finally:
        await r.shutdown()
        silent.close()
        refused.close()
