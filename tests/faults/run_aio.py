"""The fsx model run through ``rbdpy.aio``: concurrent trio tasks on disjoint regions.

The image is cut into ``tasks`` regions of REGION bytes, each owned by one task (writes,
reads and discards there only), and a tail beyond them. A run goes in rounds: all tasks do
OPS_PER_ROUND ops at once, then — with every task parked — one op of the image-wide
generator: I/O in the tail, resizes (which move only the tail's end), snapshots, rollbacks
(which rewind every region) and snapshot reads over the whole image. So the model stays
exact while 16 requests are in flight.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import trio

from rbdpy import aio
from tests.faults.faultcluster import CLIENT_CONF, RunStats
from tests.faults.fsx import (
    GRAIN,
    OBJECT_ORDER,
    ImageModel,
    Mismatch,
    Op,
    OpGenerator,
    OpLog,
    check_read,
    check_size,
    payload,
    second_look,
)

REGION = 512 << 10
TAIL = 4 << 20
MAX_IO = 128 << 10
OPS_PER_ROUND = 6
#: One op stuck longer than this fails the run (OSD restarts take ~3 s).
OP_DEADLINE = 60.0


async def apply_op(img: aio.AsyncImage, model: ImageModel, op: Op, log: OpLog,
                   stats: RunStats) -> None:
    """Do ``op`` on the image and on the model; check what the image returns."""
    try:
        with trio.fail_after(OP_DEADLINE):
            await _apply(img, model, op, log, stats)
    except trio.TooSlowError:
        raise Mismatch(log.report(op, f"no answer within {OP_DEADLINE:.0f} s")) from None


async def _apply(img: aio.AsyncImage, model: ImageModel, op: Op, log: OpLog,
                 stats: RunStats) -> None:
    if op.kind == "write":
        data = payload(op.n, op.offset, op.length)
        await img.write(data, op.offset)
        model.write(op.offset, data)
    elif op.kind == "read":
        got = await img.read(op.offset, op.length)
        want = model.expected(op.offset, op.length)
        if got != want:
            check_read(log, op, got, want, await diagnose(img, op, got, want))
        stats.reads_checked += 1
    elif op.kind == "discard":
        await img.discard(op.offset, op.length)
        model.discard(op.offset, op.length)
    elif op.kind == "resize":
        await img.resize(op.offset)
        model.resize(op.offset)
        check_size(log, op, await img.size(), model.size)
    elif op.kind == "snap":
        await img.create_snap(op.snap)
        model.snap(op.snap)
    elif op.kind == "rmsnap":
        await img.remove_snap(op.snap)
        del model.snaps[op.snap]
    elif op.kind == "rollback":
        await img.rollback_to_snap(op.snap)
        model.rollback(op.snap)
        check_size(log, op, await img.size(), model.size)
    elif op.kind == "snapread":
        await img.set_snap(op.snap)
        try:
            got = await img.read(op.offset, op.length)
        finally:
            await img.set_snap(None)
        check_read(log, op, got, model.expected(op.offset, op.length, op.snap))
        stats.reads_checked += 1
    else:
        raise ValueError(f"unknown op {op}")


async def diagnose(img: aio.AsyncImage, op: Op, got: bytes, want: bytes) -> str:
    """Facts for a mismatch report: a second read, and what the object map says about
    the object holding the first wrong byte."""
    notes = [second_look(await img.read(op.offset, op.length), got, want)]
    first = next(i for i in range(len(got)) if got[i] != want[i])
    objectno = (op.offset + first) >> OBJECT_ORDER
    om = img._ctx.object_map  # the image context behind the public face
    if om is not None:
        notes.append(f"object map: object {objectno} may_exist={om.may_exist(objectno)}")
    return "; ".join(notes)


async def run_fsx_aio(conf: str, pool: str, seed: int, *,
                      keep_going: Callable[[RunStats], bool], tasks: int = 16,
                      features: int | None = None, stats: RunStats | None = None,
                      progress: Callable[[RunStats], None] | None = None) -> RunStats:
    """Rounds of ``tasks`` concurrent region tasks plus one image-wide op, while
    ``keep_going(stats)`` says so; then every byte of the head and snapshots is checked."""
    rng = random.Random(seed)
    log = OpLog(seed, keep=120)
    # the caller's stats object, if given, shows how far a run got when it raises
    stats = stats if stats is not None else RunStats(seed)
    regions_end = tasks * REGION
    model = ImageModel(regions_end + TAIL)
    # Op numbers: region task i numbers its ops i, i + stride, ...; the image-wide
    # generator takes the numbers ≡ tasks (mod stride). Unique, and the same every run.
    stride = tasks + 1
    region_gens = [OpGenerator(random.Random(f"{seed}/{i}"), base=i * REGION, span=REGION,
                               max_io=MAX_IO, global_ops=False) for i in range(tasks)]
    image_gen = OpGenerator(rng, base=regions_end, span=TAIL, max_io=MAX_IO,
                            global_ops=True, min_size=regions_end + GRAIN,
                            max_size=regions_end + TAIL)
    counts = [0] * stride
    name = f"fsx-aio-{seed}"

    def number(who: int) -> int:
        counts[who] += 1
        return who + stride * counts[who]

    r = aio.AsyncRados(conffile=conf, conf=CLIENT_CONF)
    await r.connect()
    try:
        ioctx = await r.open_ioctx(pool)
        await aio.AsyncRBD().create(ioctx, name, model.size, order=OBJECT_ORDER,
                                    features=features)
        img = await aio.AsyncImage.open(ioctx, name)

        async def region_task(i: int) -> None:
            for _ in range(OPS_PER_ROUND):
                op = region_gens[i].next(number(i), model)
                log.add(op)
                await apply_op(img, model, op, log, stats)
                stats.ops += 1

        while keep_going(stats):
            async with trio.open_nursery() as nursery:
                for i in range(tasks):
                    nursery.start_soon(region_task, i)
            op = image_gen.next(number(tasks), model)
            if op.kind == "snapread":  # the whole snapshot is quiet now: read anywhere
                snap_size = len(model.snaps[op.snap])
                length = min(rng.randint(1, 4 * MAX_IO), snap_size)
                op = Op(op.n, op.kind, rng.randint(0, snap_size - length), length, op.snap)
            log.add(op)
            await apply_op(img, model, op, log, stats)
            stats.ops += 1
            if progress is not None:
                progress(stats)
        final = number(tasks)
        await apply_op(img, model, Op(final, "read", 0, model.size), log, stats)
        for snap, data in model.snaps.items():
            await apply_op(img, model, Op(final, "snapread", 0, len(data), snap), log, stats)
            await img.remove_snap(snap)
        await img.close()
        await aio.AsyncRBD().remove(ioctx, name)
    finally:
        await r.shutdown()
    stats.elapsed = time.monotonic() - stats.started
    return stats
