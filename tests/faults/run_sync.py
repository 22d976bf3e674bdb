"""The fsx model run through the python-rbd facade (``from rbdpy import rados, rbd``)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from rbdpy import rados, rbd
from tests.faults.faultcluster import CLIENT_CONF, RunStats
from tests.faults.fsx import (
    GRAIN,
    OBJECT_ORDER,
    ImageModel,
    Op,
    OpGenerator,
    OpLog,
    check_read,
    check_size,
    payload,
    second_look,
)

MIN_SIZE = 4 << 20
MAX_SIZE = 12 << 20
MAX_IO = 256 << 10


def apply_op(img: Any, model: ImageModel, op: Op, log: OpLog, stats: RunStats) -> None:
    """Do ``op`` on the image and on the model; check what the image returns."""
    if op.kind == "write":
        data = payload(op.n, op.offset, op.length)
        img.write(data, op.offset)
        model.write(op.offset, data)
    elif op.kind == "read":
        got = img.read(op.offset, op.length)
        want = model.expected(op.offset, op.length)
        if got != want:
            check_read(log, op, got, want,
                       second_look(img.read(op.offset, op.length), got, want))
        stats.reads_checked += 1
    elif op.kind == "discard":
        img.discard(op.offset, op.length)
        model.discard(op.offset, op.length)
    elif op.kind == "resize":
        img.resize(op.offset)
        model.resize(op.offset)
        check_size(log, op, img.size(), model.size)
    elif op.kind == "snap":
        img.create_snap(op.snap)
        model.snap(op.snap)
    elif op.kind == "rmsnap":
        img.remove_snap(op.snap)
        del model.snaps[op.snap]
    elif op.kind == "rollback":
        img.rollback_to_snap(op.snap)
        model.rollback(op.snap)
        check_size(log, op, img.size(), model.size)
    elif op.kind == "snapread":
        img.set_snap(op.snap)
        try:
            got = img.read(op.offset, op.length)
        finally:
            img.set_snap(None)
        check_read(log, op, got, model.expected(op.offset, op.length, op.snap))
        stats.reads_checked += 1
    else:
        raise ValueError(f"unknown op {op}")


def verify_everything(img: Any, model: ImageModel, log: OpLog, n: int,
                      stats: RunStats) -> None:
    """Read back the whole head and every snapshot and compare with the model."""
    check_size(log, Op(n, "final size"), img.size(), model.size)
    for off in range(0, model.size, 4 << 20):
        length = min(4 << 20, model.size - off)
        apply_op(img, model, Op(n, "read", off, length), log, stats)
    for name, data in model.snaps.items():
        for off in range(0, len(data), 4 << 20):
            length = min(4 << 20, len(data) - off)
            apply_op(img, model, Op(n, "snapread", off, length, name), log, stats)


def run_fsx_sync(conf: str, pool: str, seed: int, *,
                 keep_going: Callable[[RunStats], bool], features: int | None = None,
                 stats: RunStats | None = None,
                 progress: Callable[[RunStats], None] | None = None) -> RunStats:
    """Run ops while ``keep_going(stats)`` says so, then read back and check every byte.

    Raises :class:`~tests.faults.fsx.Mismatch` on the first wrong read.
    """
    rng = random.Random(seed)
    log = OpLog(seed)
    # the caller's stats object, if given, shows how far a run got when it raises
    stats = stats if stats is not None else RunStats(seed)
    size = rng.randint(MIN_SIZE // GRAIN, MAX_SIZE // GRAIN) * GRAIN
    model = ImageModel(size)
    gen = OpGenerator(rng, base=0, span=MAX_SIZE, max_io=MAX_IO, global_ops=True,
                      min_size=MIN_SIZE, max_size=MAX_SIZE)
    name = f"fsx-sync-{seed}"
    with rados.Rados(conffile=conf, conf=CLIENT_CONF) as cluster, \
            cluster.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, name, size, order=OBJECT_ORDER, features=features)
        with rbd.Image(ioctx, name) as img:
            n = 0
            while keep_going(stats):
                n += 1
                op = gen.next(n, model)
                log.add(op)
                apply_op(img, model, op, log, stats)
                stats.ops = n
                if progress is not None and n % 1000 == 0:
                    progress(stats)
            verify_everything(img, model, log, n + 1, stats)
            for snap in model.snaps:
                img.remove_snap(snap)
        rbd.RBD().remove(ioctx, name)
    stats.elapsed = time.monotonic() - stats.started
    return stats
