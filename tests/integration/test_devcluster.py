"""`rbdpy devcluster`: a real cluster comes up, answers the ceph CLI, survives fault drills."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rbdpy.devcluster import DevCluster, DevClusterError
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster


def ceph(conf: Path | str, *args: str) -> str:
    return subprocess.run(["ceph", "-c", str(conf), "--connect-timeout", "20", *args],
                          check=True, capture_output=True, text=True, timeout=60).stdout


def osd_stat(conf: Path | str) -> dict[str, int]:
    raw = json.loads(ceph(conf, "osd", "stat", "--format", "json"))
    body = raw.get("osdmap", raw)
    return {k: int(body[k]) for k in ("num_osds", "num_up_osds", "num_in_osds")}


def pool_names(conf: Path | str) -> list[str]:
    return list(json.loads(ceph(conf, "osd", "pool", "ls", "--format", "json")))


def wait_for(cond, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "condition not reached in time"
        time.sleep(0.2)


def test_session_cluster_is_healthy(cluster: SessionCluster) -> None:
    status = json.loads(ceph(cluster.conf, "-s", "--format", "json"))
    assert status["health"]["status"] in ("HEALTH_OK", "HEALTH_WARN")
    stat = osd_stat(cluster.conf)
    assert stat["num_osds"] >= 1
    assert stat["num_up_osds"] == stat["num_osds"]


def test_conf_only_binds_loopback(cluster: SessionCluster) -> None:
    dump = json.loads(ceph(cluster.conf, "mon", "dump", "--format", "json"))
    for mon in dump["mons"]:
        kinds = {a["type"] for a in mon["public_addrs"]["addrvec"]}
        assert kinds == {"v2", "v1"}
        for a in mon["public_addrs"]["addrvec"]:
            assert a["addr"].startswith("127.0.0.1:")


def test_kill_and_restart_osd_shows_in_osd_stat(tmp_path: Path) -> None:
    # A cluster of its own: a memstore OSD comes back empty, so restarting one of the
    # session cluster's would lose the PGs it alone held (size-1 pools such as the mgr's
    # device_health_metrics stay stale, and every later op on them hangs "queued for pg").
    dc = DevCluster(tmp_path / "restart")
    dc.start(osds=2)
    try:
        n = osd_stat(dc.conf_path)["num_osds"]
        dc.kill("osd.1")
        wait_for(lambda: osd_stat(dc.conf_path)["num_up_osds"] == n - 1)
        assert dc.status()["daemons"]["osd.1"]["running"] is False  # type: ignore[index]
        dc.restart("osd.1")
        assert osd_stat(dc.conf_path)["num_up_osds"] == n
    finally:
        dc.stop()


def test_pool_create_and_delete(cluster: SessionCluster) -> None:
    # How long the pair takes (the mon tuning at work): bench/bench_control.py.
    dc = cluster.devcluster()
    dc.pool_create("fastpool", application="")
    assert "fastpool" in pool_names(cluster.conf)
    dc.pool_delete("fastpool")
    assert "fastpool" not in pool_names(cluster.conf)


def test_two_clusters_side_by_side_and_stop_leaves_nothing(tmp_path: Path,
                                                            cluster: SessionCluster) -> None:
    second = DevCluster(tmp_path / "second")
    second.start(osds=1)
    try:
        # The session cluster is untouched and both answer independently.
        assert osd_stat(second.conf_path)["num_up_osds"] == 1
        assert osd_stat(cluster.conf)["num_up_osds"] >= 1
        fsids = {json.loads(ceph(c, "fsid", "--format", "json"))["fsid"]
                 for c in (second.conf_path, cluster.conf)}
        assert len(fsids) == 2
        with pytest.raises(DevClusterError, match="already holds a running cluster"):
            second.start(osds=1)
    finally:
        second.stop()
    assert second.running_daemons() == {}
    assert second._stray_pids() == []


def test_cli_start_status_stop(tmp_path: Path) -> None:
    d = tmp_path / "cli"
    exe = [sys.executable, "-m", "rbdpy.cli.main"]
    env = dict(os.environ)
    out = subprocess.run([*exe, "devcluster", "start", "--dir", str(d), "--osds", "1"],
                         check=True, capture_output=True, text=True, env=env,
                         timeout=120).stdout
    try:
        assert out.strip() == str(d / "ceph.conf")
        status = json.loads(subprocess.run([*exe, "devcluster", "status", "--dir", str(d)],
                                           check=True, capture_output=True, text=True,
                                           timeout=60).stdout)
        assert status["daemons"]["osd.0"]["up"] is True
        assert "ceph version" in status["ceph_version"]
    finally:
        subprocess.run([*exe, "devcluster", "stop", "--dir", str(d)], check=True,
                       capture_output=True, timeout=60)
    assert DevCluster(d)._stray_pids() == []
