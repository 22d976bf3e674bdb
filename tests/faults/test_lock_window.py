"""Writes that arrive while the exclusive lock is being acquired (found by the aio fsx run).

The first write of an image takes the exclusive lock, then loads the object map. A write
that arrives between the two must still mark its object EXISTS in the map before writing,
or the map (on the OSD too) says NONEXISTENT for an object that holds data: rbdpy's reads
then return zeros, and ``rbd object-map check`` finds the map wrong and invalidates it.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest
import trio

from rbdpy import aio
from tests.faults.faultcluster import FaultCluster

pytestmark = pytest.mark.cluster

WRITERS = 16
STAGGER = 0.002  # seconds between the writers' starts: some land inside the acquisition


async def test_writes_during_lock_acquisition_are_in_the_object_map(
        fault_cluster: FaultCluster) -> None:
    name = f"lockwin-{uuid.uuid4().hex[:8]}"
    r = aio.AsyncRados(conffile=fault_cluster.conf)
    await r.connect()
    try:
        ioctx = await r.open_ioctx(fault_cluster.pool)
        await aio.AsyncRBD().create(ioctx, name, WRITERS << 20, order=20)
        img = await aio.AsyncImage.open(ioctx, name)

        async def writer(i: int) -> None:
            await trio.sleep(i * STAGGER)
            await img.write(bytes([i + 1]) * 4096, i << 20)

        async with trio.open_nursery() as nursery:
            for i in range(WRITERS):
                nursery.start_soon(writer, i)
        zeroed = [i for i in range(WRITERS)
                  if await img.read(i << 20, 4096) != bytes([i + 1]) * 4096]
        await img.close()
    finally:
        await r.shutdown()
    # librbd's verdict on the object map rbdpy left behind
    check = subprocess.run(["rbd", "-c", fault_cluster.conf, "object-map", "check",
                            f"{fault_cluster.pool}/{name}"],
                           capture_output=True, text=True, timeout=120)
    subprocess.run(["rbd", "-c", fault_cluster.conf, "rm", f"{fault_cluster.pool}/{name}"],
                   capture_output=True, timeout=120)
    assert zeroed == [], f"objects read back as zeros: {zeroed}"
    assert "invalidating object map" not in check.stderr, check.stderr
