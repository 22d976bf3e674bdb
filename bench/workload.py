"""One benchmark workload in one process, for either implementation; prints JSON.

Run as ``python workload.py IMPL CONF POOL KIND SIZE QD SECONDS [MODE]`` where IMPL is
``rbdpy`` (rbdpy.aio, run with the venv's python), ``rbdpy-sync`` (rbdpy's python-rados
facade running the same completion code as the reference) or ``librados`` (run with
/usr/bin/python3, which has Ceph's python-rados). KIND is ``write`` or ``read`` (read
expects the objects the write left), or ``prefill`` (IMPL librados: write those objects
once, untimed). All keep QD requests in flight over distinct objects
and report ops, bytes, wall seconds, process CPU seconds and latency percentiles.
"""

from __future__ import annotations

import json
import sys
import threading
import time

NOBJ = 64  # objects cycled through (reads hit what the write phase left)


def obj_name(i: int, size: int) -> str:
    return f"bench.{size}.{i % NOBJ}"


def pct(lat: list[float], p: float) -> float:
    if not lat:
        return 0.0
    s = sorted(lat)
    return s[min(len(s) - 1, int(p * len(s)))]


def run_librados(conf: str, pool: str, kind: str, size: int, qd: int, seconds: float,
                 mode: str, impl: str = "librados") -> dict[str, float]:
    """python-rados style: aio_* with completions, a semaphore for QD. ``impl`` librados
    runs Ceph's python3-rados; ``rbdpy-sync`` the very same code on rbdpy's facade."""
    if impl == "librados":
        import rados  # type: ignore[import-not-found]
    else:
        from rbdpy import rados

    r = rados.Rados(conffile=conf, conf={"ms_client_mode": mode, "ms_mon_client_mode": mode})
    r.connect()
    io = r.open_ioctx(pool)
    payload = b"\xa5" * size
    sem = threading.Semaphore(qd)
    lat: list[float] = []
    lock = threading.Lock()
    ops = 0
    cpu0 = time.process_time()
    t0 = time.monotonic()
    end = t0 + seconds
    i = 0
    errors: list[int] = []

    def done(start: float) -> object:
        def cb(comp: object, *rest: object) -> None:
            nonlocal ops
            rv = comp.get_return_value()  # type: ignore[attr-defined]
            with lock:
                if rv < 0:
                    errors.append(rv)
                lat.append(time.monotonic() - start)
                ops += 1
            sem.release()
        return cb

    while time.monotonic() < end:
        sem.acquire()
        start = time.monotonic()
        name = obj_name(i, size)
        if kind == "write":
            io.aio_write_full(name, payload, oncomplete=done(start))
        else:
            io.aio_read(name, size, 0, done(start))
        i += 1
    for _ in range(qd):
        sem.acquire()
    wall = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    io.close()
    r.shutdown()
    if errors:
        raise SystemExit(f"{impl} errors: {errors[:5]}")
    return {"ops": ops, "bytes": ops * size, "seconds": wall, "cpu": cpu,
            "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}


def run_rbdpy(conf: str, pool: str, kind: str, size: int, qd: int, seconds: float,
              mode: str) -> dict[str, float]:
    import trio

    from rbdpy import aio

    async def main() -> dict[str, float]:
        r = aio.AsyncRados(conffile=conf, conf={"ms_client_mode": mode,
                                                "ms_mon_client_mode": mode})
        await r.connect()
        io = await r.open_ioctx(pool)
        payload = b"\xa5" * size
        lat: list[float] = []
        counter = iter(range(1 << 62))
        cpu0 = time.process_time()
        t0 = time.monotonic()
        end = t0 + seconds

        async def worker() -> None:
            while time.monotonic() < end:
                i = next(counter)
                start = time.monotonic()
                name = obj_name(i, size)
                if kind == "write":
                    await io.write_full(name, payload)
                else:
                    await io.read(name, size, 0)
                lat.append(time.monotonic() - start)

        async with trio.open_nursery() as n:
            for _ in range(qd):
                n.start_soon(worker)
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        await r.shutdown()
        return {"ops": len(lat), "bytes": len(lat) * size, "seconds": wall, "cpu": cpu,
                "p50": pct(lat, 0.5), "p99": pct(lat, 0.99)}

    return trio.run(main)


def prefill(conf: str, pool: str, size: int) -> dict[str, float]:
    """Write each of the NOBJ objects of ``size`` once (librados, untimed): what the read
    cases expect when no write case ran before them (``run.py --only read``)."""
    import rados  # type: ignore[import-not-found]

    with rados.Rados(conffile=conf) as r, r.open_ioctx(pool) as io:
        payload = b"\xa5" * size
        for i in range(NOBJ):
            io.write_full(obj_name(i, size), payload)
    return {"ops": NOBJ, "bytes": NOBJ * size}


def main() -> None:
    impl, conf, pool, kind, size, qd, seconds = sys.argv[1:8]
    mode = sys.argv[8] if len(sys.argv) > 8 else "crc"
    if kind == "prefill":
        res = prefill(conf, pool, int(size))
    elif impl == "rbdpy":
        res = run_rbdpy(conf, pool, kind, int(size), int(qd), float(seconds), mode)
    else:
        res = run_librados(conf, pool, kind, int(size), int(qd), float(seconds), mode, impl)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
