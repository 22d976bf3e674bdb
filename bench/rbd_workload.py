"""One RBD image benchmark workload in one process, for one implementation; prints JSON.

Run as ``python rbd_workload.py IMPL CONF POOL IMAGE KIND SIZE QD SECONDS`` where IMPL is

- ``librbd``: Ceph's python3-rbd on /usr/bin/python3 (librbd, ``rbd_cache=false``),
  ``aio_write``/``aio_read`` with completions, a semaphore holding QD in flight — the same
  shape as the librados reference in workload.py;
- ``rbdpy-sync``: the same code against rbdpy's python-rbd facade (``from rbdpy import
  rados, rbd``), i.e. what a python-rbd user switching imports gets;
- ``rbdpy``: ``rbdpy.aio.AsyncImage`` with QD trio tasks (rbdpy's fast path).

KIND is ``write``/``read`` (4 MiB requests walk the image sequentially, smaller ones hit
random SIZE-aligned offsets), ``blockwrite``/``blockread`` (the same, one at a time
through the blocking ``Image.write``/``Image.read``; rbdpy.aio simply awaits each),
``open`` (connect + open ioctx + open image, SECONDS is the number of timed repetitions
after one untimed warm-up; close/shutdown are not timed but their CPU counts), or the
setup steps ``prepare`` (create the image of SIZE bytes with the default features and
write every byte of it, so reads hit real objects) and ``remove``, which only the librbd
implementation runs.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from typing import Any

BIG = 1 << 20  # requests at least this big walk the image sequentially


def pct(lat: list[float], p: float) -> float:
    if not lat:
        return 0.0
    s = sorted(lat)
    return s[min(len(s) - 1, int(p * len(s)))]


def offsets(size: int, image_size: int) -> Any:
    """Endless request offsets: sequential wrap-around for big requests, random otherwise."""
    nblocks = image_size // size
    if size >= BIG:
        i = 0
        while True:
            yield (i % nblocks) * size
            i += 1
    rng = random.Random(12345)  # same offset sequence for every implementation
    while True:
        yield rng.randrange(nblocks) * size


def conf_for(impl: str) -> dict[str, str]:
    # rbdpy has no client cache; librbd's is switched off so both go straight to the OSDs
    return {"rbd_cache": "false"} if impl == "librbd" else {}


def run_completions(impl: str, conf: str, pool: str, image: str, kind: str, size: int,
                    qd: int, seconds: float) -> dict[str, float]:
    """python-rbd style: aio_* with completions, a semaphore for QD (librbd and facade)."""
    if impl == "librbd":
        import rados  # type: ignore[import-not-found]
        import rbd  # type: ignore[import-not-found]
    else:
        from rbdpy import rados, rbd

    if kind == "open":
        return run_open_sync(rados, rbd, impl, conf, pool, image, int(seconds))
    r = rados.Rados(conffile=conf, conf=conf_for(impl))
    r.connect()
    io = r.open_ioctx(pool)
    if kind == "prepare":
        return prepare(rbd, io, image, size)
    if kind == "remove":
        # A killed client's header watch lingers until the OSD times it out (30 s).
        for _ in range(45):
            try:
                rbd.RBD().remove(io, image)
                break
            except rbd.ImageBusy:
                time.sleep(1)
        io.close()
        r.shutdown()
        return {}
    img = rbd.Image(io, image)
    image_size = img.size()
    payload = b"\xa5" * size
    if kind in ("blockread", "blockwrite"):
        return run_blocking(r, io, img, kind, size, image_size, payload, seconds)
    sem = threading.Semaphore(qd)
    lat: list[float] = []
    lock = threading.Lock()
    errors: list[int] = []
    ops = 0
    cb_errors = 0
    offs = offsets(size, image_size)

    def done(start: float) -> Any:
        def cb(comp: Any, *rest: Any) -> None:
            nonlocal ops, cb_errors
            try:
                rv = comp.get_return_value()
            except Exception:
                # rbdpy's facade can run the callback before aio_* has bound the
                # Completion to its call (then get_return_value raises); counted and
                # reported instead of leaving the queue-depth semaphore short for good.
                rv = 0
                with lock:
                    cb_errors += 1
            with lock:
                if rv < 0:
                    errors.append(rv)
                lat.append(time.monotonic() - start)
                ops += 1
            sem.release()
        return cb

    cpu0 = time.process_time()
    t0 = time.monotonic()
    end = t0 + seconds
    while time.monotonic() < end:
        acquire(sem, impl, r, ops)
        start = time.monotonic()
        off = next(offs)
        if kind == "write":
            img.aio_write(payload, off, done(start))
        else:
            img.aio_read(off, size, done(start))
    for _ in range(qd):
        acquire(sem, impl, r, ops)
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    img.close()
    io.close()
    r.shutdown()
    if errors:
        raise SystemExit(f"{impl} errors: {errors[:5]}")
    return {"ops": ops, "bytes": ops * size, "seconds": wall, "cpu": cpu,
            "p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "cb_errors": cb_errors}


def run_blocking(r: Any, io: Any, img: Any, kind: str, size: int, image_size: int,
                 payload: bytes, seconds: float) -> dict[str, float]:
    """One request at a time through the blocking calls (``Image.read``/``Image.write``):
    what backup and restore tools built on python-rbd do."""
    lat: list[float] = []
    offs = offsets(size, image_size)
    cpu0 = time.process_time()
    t0 = time.monotonic()
    end = t0 + seconds
    while time.monotonic() < end:
        off = next(offs)
        start = time.monotonic()
        if kind == "blockwrite":
            img.write(payload, off)
        else:
            img.read(off, size)
        lat.append(time.monotonic() - start)
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    img.close()
    io.close()
    r.shutdown()
    return {"ops": len(lat), "bytes": len(lat) * size, "seconds": wall, "cpu": cpu,
            "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


async def dump_tasks() -> None:
    """Print where every trio task of this run is parked (innermost frames), to stderr."""
    import trio

    def frames(coro: Any) -> list[str]:
        out = []
        while coro is not None:
            f = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
            if f is not None:
                out.append(f"{f.f_code.co_name}:{f.f_lineno}")
            coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
        return out

    def walk(task: Any, depth: int) -> None:
        print(f"{'  ' * depth}{task.name}: {' > '.join(frames(task.coro)[-6:])}",
              file=sys.stderr)
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                walk(child, depth + 1)

    walk(trio.lowlevel.current_root_task(), 0)


STALL = 30.0  # no completion for this long: report the client's state and fail the run


def acquire(sem: threading.Semaphore, impl: str, r: Any, ops: int) -> None:
    """``sem.acquire()`` that turns a lost completion into a diagnosed failure, not a hang."""
    if sem.acquire(timeout=STALL):
        return
    print(f"{impl}: no completion for {STALL:.0f} s after {ops} ops", file=sys.stderr)
    if impl == "rbdpy-sync":
        # What the objecter still waits for (ops per OSD session, writer state)
        async def dump() -> None:
            ob = r._async.objecter
            print(f"objecter waiting={ob._waiting} homeless={len(ob.homeless)}",
                  file=sys.stderr)
            for osd, s in ob.sessions.items():
                c = s.conn
                state = ("no conn" if c is None else
                         f"closed={c.closed} unsent={len(c._unsent)} "
                         f"has_data={c.proto.has_data_to_send} parked={c._writer_parked} "
                         f"send_locked={c._send_lock.locked()}")
                print(f"  osd.{osd}: {len(s.ops)} ops {sorted(s.ops)[:8]} {state}",
                      file=sys.stderr)
        try:
            r._portal.run(dump)
            r._portal.run(dump_tasks)
        except Exception as e:
            print(f"state dump failed: {e!r}", file=sys.stderr)
    sys.stderr.flush()
    os._exit(3)  # the stuck client would hang in shutdown


def prepare(rbd: Any, io: Any, image: str, image_size: int) -> dict[str, float]:
    """Create the image (default features) and fill it with 4 MiB writes, 16 in flight."""
    try:
        rbd.RBD().remove(io, image)  # leftover of an interrupted run
    except rbd.ImageNotFound:
        pass
    rbd.RBD().create(io, image, image_size)
    img = rbd.Image(io, image)
    chunk = 4 << 20
    sem = threading.Semaphore(16)
    errors: list[int] = []

    def cb(comp: Any) -> None:
        if comp.get_return_value() < 0:
            errors.append(comp.get_return_value())
        sem.release()

    for off in range(0, image_size, chunk):
        sem.acquire()
        img.aio_write(b"\x5a" * min(chunk, image_size - off), off, cb)
    for _ in range(16):
        sem.acquire()
    img.close()
    if errors:
        raise SystemExit(f"prepare errors: {errors[:5]}")
    return {}


def run_open_sync(rados: Any, rbd: Any, impl: str, conf: str, pool: str, image: str,
                  n: int) -> dict[str, float]:
    lat: list[float] = []
    cpu0 = 0.0
    for i in range(n + 1):
        if i == 1:  # the first round warms imports and caches; not counted
            cpu0 = time.process_time()
        start = time.monotonic()
        r = rados.Rados(conffile=conf, conf=conf_for(impl))
        r.connect()
        io = r.open_ioctx(pool)
        img = rbd.Image(io, image)
        if i:
            lat.append(time.monotonic() - start)
        img.close()
        io.close()
        r.shutdown()
    cpu = time.process_time() - cpu0
    return {"ops": n, "bytes": 0, "seconds": sum(lat), "cpu": cpu,
            "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


def run_aio(conf: str, pool: str, image: str, kind: str, size: int, qd: int,
            seconds: float) -> dict[str, float]:
    """rbdpy.aio: QD trio tasks each awaiting AsyncImage.read/write in a loop."""
    import trio

    from rbdpy import aio

    async def open_lat(n: int) -> dict[str, float]:
        lat: list[float] = []
        cpu0 = 0.0
        for i in range(n + 1):
            if i == 1:
                cpu0 = time.process_time()
            start = time.monotonic()
            r = aio.AsyncRados(conffile=conf)
            await r.connect()
            io = await r.open_ioctx(pool)
            img = await aio.AsyncImage.open(io, image)
            if i:
                lat.append(time.monotonic() - start)
            await img.close()
            await r.shutdown()
        cpu = time.process_time() - cpu0
        return {"ops": n, "bytes": 0, "seconds": sum(lat), "cpu": cpu,
                "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}

    async def main() -> dict[str, float]:
        if kind == "open":
            return await open_lat(int(seconds))
        r = aio.AsyncRados(conffile=conf)
        await r.connect()
        io = await r.open_ioctx(pool)
        img = await aio.AsyncImage.open(io, image)
        image_size = await img.size()
        payload = b"\xa5" * size
        lat: list[float] = []
        offs = offsets(size, image_size)
        cpu0 = time.process_time()
        t0 = time.monotonic()
        end = t0 + seconds

        async def worker() -> None:
            while time.monotonic() < end:
                off = next(offs)
                start = time.monotonic()
                if kind in ("write", "blockwrite"):
                    await img.write(payload, off)
                else:
                    await img.read(off, size)
                lat.append(time.monotonic() - start)

        async def watchdog() -> None:
            seen = -1
            while True:
                await trio.sleep(STALL)
                if len(lat) == seen:
                    print(f"rbdpy: no completion for {STALL:.0f} s after {seen} ops",
                          file=sys.stderr)
                    await dump_tasks()
                    sys.stderr.flush()
                    os._exit(3)
                seen = len(lat)

        async with trio.open_nursery() as outer:
            outer.start_soon(watchdog)
            async with trio.open_nursery() as n:
                for _ in range(qd):
                    n.start_soon(worker)
            outer.cancel_scope.cancel()
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        await img.close()
        await r.shutdown()
        return {"ops": len(lat), "bytes": len(lat) * size, "seconds": wall, "cpu": cpu,
                "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}

    return trio.run(main)


def main() -> None:
    impl, conf, pool, image, kind, size, qd, seconds = sys.argv[1:9]
    if impl == "rbdpy":
        res = run_aio(conf, pool, image, kind, int(size), int(qd), float(seconds))
    else:
        res = run_completions(impl, conf, pool, image, kind, int(size), int(qd),
                              float(seconds))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
