"""fsx-style model tests under faults: an OSD restarted every few seconds while the OSDs
drop one socket operation in SOCKET_FAILURE_RATE, on the suite's private bluestore cluster.

Each run draws seeded random ops (writes, reads, discards, resizes, snapshots, rollbacks,
reads of old snapshots), checks every read against an in-memory model, and at the end
reads back the whole image and every snapshot. Not a byte may differ, and no op may hang.
A failure message starts with the seed; rerun one with ``RBDPY_FSX_SEED=<seed>``.

A run goes on until both MIN_RESTARTS OSD restarts and MIN_OPS ops are done, so runs cross
the same number of restarts however fast the machine is — but for MAX_SECONDS at most, which
keeps the module's time bounded on a slow machine (it then checks fewer ops). The long soak
(100k ops, 30+ restarts) is tools/soak.py.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import pytest
import trio

from tests.faults.faultcluster import FaultCluster, OsdRestarter, RunStats
from tests.faults.run_aio import run_fsx_aio
from tests.faults.run_sync import run_fsx_sync

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

MIN_RESTARTS = 5
MIN_OPS = 500
MAX_SECONDS = 90.0


def fsx_seed() -> int:
    """RBDPY_FSX_SEED, else a fresh one (printed, and named by any failure)."""
    seed = int(os.environ.get("RBDPY_FSX_SEED") or random.randrange(1 << 31))
    print(f"fsx seed {seed} (rerun with RBDPY_FSX_SEED={seed})")
    return seed


def until_enough(restarter: OsdRestarter) -> Callable[[RunStats], bool]:
    def keep_going(stats: RunStats) -> bool:
        if restarter.error is not None or time.monotonic() - stats.started > MAX_SECONDS:
            return False
        return restarter.restarts < MIN_RESTARTS or stats.ops < MIN_OPS
    return keep_going


def check_faults(fc: FaultCluster, restarter: OsdRestarter, stats: RunStats) -> None:
    """The faults really happened; print what the run went through."""
    assert restarter.error is None, f"restarting an OSD failed: {restarter.error!r}"
    assert restarter.restarts >= 1, "no OSD restart completed during the run"
    print(f"seed {stats.seed}: {stats.ops} ops, {stats.reads_checked} reads checked, "
          f"{restarter.restarts} OSD restarts, {fc.injected_socket_failures()} socket "
          f"failures injected so far, {stats.elapsed:.1f} s")


def test_fsx_facade_under_osd_restarts_and_socket_failures(
        fault_cluster: FaultCluster) -> None:
    seed = fsx_seed()
    with OsdRestarter(fault_cluster.control, seed=seed) as restarter:
        stats = run_fsx_sync(fault_cluster.conf, fault_cluster.pool, seed,
                             keep_going=until_enough(restarter))
    check_faults(fault_cluster, restarter, stats)


@pytest.mark.timeout(120)
async def test_fsx_aio_16_tasks_under_osd_restarts_and_socket_failures(
        fault_cluster: FaultCluster) -> None:
    seed = fsx_seed()
    restarter = OsdRestarter(fault_cluster.control, seed=seed).__enter__()
    try:
        stats = await run_fsx_aio(fault_cluster.conf, fault_cluster.pool, seed,
                                  keep_going=until_enough(restarter), tasks=16)
    finally:
        # the restart in progress ends in the thread, not on the event loop
        await trio.to_thread.run_sync(restarter.stop)
    check_faults(fault_cluster, restarter, stats)
