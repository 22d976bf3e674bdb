"""Clones: reading one whose data all lives in its parent, then flattening it; librbd vs rbdpy.

    .venv/bin/python bench/clone_bench.py                        # own devcluster, 1 GiB, 4 reps
    .venv/bin/python bench/clone_bench.py --conf /tmp/x/ceph.conf --size-mib 256 --reps 2

Setup (librbd's ``rbd`` CLI, untimed): one parent image of SIZE, every byte written
(``rbd bench --io-type write`` sequential 4 MiB), snapshot ``base``. Per run, the driver
makes a fresh format-2 clone of ``parent@base`` with ``rbd clone``, so the clone holds no
object of its own; a worker process then

1. reads the whole clone sequentially in 4 MiB requests with QD requests in flight
   (``aio_read`` + completions + a semaphore: the same python-rbd code for librbd, i.e.
   python3-rbd on /usr/bin/python3 with ``rbd_cache=false``, and for rbdpy's facade,
   ``from rbdpy import rados, rbd``) — every request goes through to the parent;
2. checks, untimed, three 4 MiB pieces of the clone against the parent snapshot;
3. flattens the clone (``Image.flatten()``: every object copied up), timed.

The clone is removed after each run. One untimed warm-up run per implementation comes first
(the first run after the parent's 1 GiB of writes was 2-3x slower, whichever went first);
then runs alternate ABBA (librbd, rbdpy, rbdpy, librbd, ...), each in its own process.
Printed per run: seconds and client CPU seconds of the read and of the flatten; then
medians and ratio = librbd time / rbdpy time (> 1: rbdpy faster).

Worker: ``clone_bench.py worker IMPL CONF POOL CLONE QD`` (prints JSON).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SYSTEM_PYTHON = "/usr/bin/python3"
REQUEST = 4 << 20
PARENT = "parent"
SNAP = "base"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of the process
    return usage.ru_utime + usage.ru_stime


def read_all(img: Any, size: int, qd: int) -> None:
    """Sequential 4 MiB ``aio_read``s over the image, ``qd`` in flight."""
    slots = threading.Semaphore(qd)
    failures: list[int] = []

    def done(completion: Any, data: Any) -> None:
        if completion.get_return_value() < 0:
            failures.append(completion.get_return_value())
        slots.release()

    for off in range(0, size, REQUEST):
        slots.acquire()
        img.aio_read(off, min(REQUEST, size - off), done)
    for _ in range(qd):
        slots.acquire()
    if failures:
        raise RuntimeError(f"aio_read failed: {failures[:3]}")


def worker(impl: str, conf: str, pool: str, clone: str, qd: int) -> int:
    if impl == "librbd":
        import rados
        import rbd
        overrides = {"rbd_cache": "false"}
    else:
        sys.path.insert(0, str(ROOT))
        from rbdpy import rados, rbd
        overrides = {}
    with rados.Rados(conffile=conf, conf=overrides) as cluster, \
            cluster.open_ioctx(pool) as ioctx:
        with rbd.Image(ioctx, clone) as img:
            size = img.size()
            cpu0, t0 = cpu_seconds(), time.monotonic()
            read_all(img, size, qd)
            read_s, read_cpu = time.monotonic() - t0, cpu_seconds() - cpu0
            with rbd.Image(ioctx, PARENT, snapshot=SNAP, read_only=True) as parent:
                for off in (0, (size // 2) // REQUEST * REQUEST, size - REQUEST):
                    if img.read(off, REQUEST) != parent.read(off, REQUEST):
                        raise RuntimeError(f"clone differs from its parent at {off}")
            cpu0, t0 = cpu_seconds(), time.monotonic()
            img.flatten()
            flatten_s, flatten_cpu = time.monotonic() - t0, cpu_seconds() - cpu0
    print(json.dumps({"impl": impl, "size": size, "read_s": read_s, "read_cpu": read_cpu,
                      "flatten_s": flatten_s, "flatten_cpu": flatten_cpu}))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conf", help="an existing cluster's ceph.conf (default: start one)")
    ap.add_argument("--dir", default="/tmp/rbdpy-clonebench", help="where to start one")
    ap.add_argument("--pool", default="clonebench")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--qd", type=int, default=16)
    ap.add_argument("--reps", type=int, default=4, help="runs per implementation (ABBA)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs per implementation")
    ap.add_argument("--timeout", type=float, default=900, help="per worker, seconds")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from rbdpy.devcluster import given_or_started

    size = args.size_mib << 20
    with given_or_started(args.conf, args.dir, osds=3, mgr=False) as (conf, ctl):
        def rbd_cli(*words: str) -> None:
            subprocess.run(["rbd", "-c", conf, *words], check=True, capture_output=True,
                           timeout=args.timeout)

        ctl.pool_create(args.pool, 32)
        try:
            spec = f"{args.pool}/{PARENT}"
            rbd_cli("create", "--size", f"{args.size_mib}M", spec)
            rbd_cli("bench", "--io-type", "write", "--io-size", "4M", "--io-threads", "16",
                    "--io-total", f"{args.size_mib}M", "--io-pattern", "seq", spec)
            rbd_cli("snap", "create", f"{spec}@{SNAP}")
            results: dict[str, list[dict[str, Any]]] = {"librbd": [], "rbdpy": []}
            warmups = [("librbd", "rbdpy")] * args.warmup
            cycles = [("librbd", "rbdpy") if rep % 2 == 0 else ("rbdpy", "librbd")
                      for rep in range(args.reps)]
            for rep, order in enumerate(warmups + cycles, start=1 - args.warmup):
                for impl in order:
                    clone = f"clone-{impl}-{rep + args.warmup}"
                    rbd_cli("clone", "--rbd-default-clone-format", "2", f"{spec}@{SNAP}",
                            f"{args.pool}/{clone}")
                    py = SYSTEM_PYTHON if impl == "librbd" else sys.executable
                    cp = subprocess.run([py, __file__, "worker", impl, conf, args.pool, clone,
                                         str(args.qd)], capture_output=True, text=True,
                                        timeout=args.timeout)
                    rbd_cli("rm", "--no-progress", f"{args.pool}/{clone}")
                    if cp.returncode != 0:
                        raise RuntimeError(f"{impl} worker failed:\n{cp.stderr[-3000:]}")
                    r = json.loads(cp.stdout.strip().splitlines()[-1])
                    if rep > 0:
                        results[impl].append(r)
                    label = f"rep {rep}" if rep > 0 else "warm-up"
                    print(f"{label:7} {impl:6}  read {r['read_s']:6.2f} s "
                          f"({size / r['read_s'] / (1 << 20):7.1f} MiB/s, cpu "
                          f"{r['read_cpu']:5.2f} s)  flatten {r['flatten_s']:6.2f} s "
                          f"(cpu {r['flatten_cpu']:5.2f} s)", flush=True)
        finally:
            ctl.pool_delete(args.pool)
    print(f"\n{args.size_mib} MiB clone of a fully written parent, 4 MiB requests, "
          f"QD{args.qd}, {args.reps} run(s) each, medians (ratio = librbd time / rbdpy time):")
    for phase in ("read", "flatten"):
        lib = statistics.median(r[f"{phase}_s"] for r in results["librbd"])
        ours = statistics.median(r[f"{phase}_s"] for r in results["rbdpy"])
        lib_cpu = statistics.median(r[f"{phase}_cpu"] for r in results["librbd"])
        our_cpu = statistics.median(r[f"{phase}_cpu"] for r in results["rbdpy"])
        print(f"  {phase:8} librbd {lib:6.2f} s (cpu {lib_cpu:5.2f})  rbdpy {ours:6.2f} s "
              f"(cpu {our_cpu:5.2f})  ratio {lib / ours:.2f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, impl_, conf_, pool_, clone_, qd_ = sys.argv
        sys.exit(worker(impl_, conf_, pool_, clone_, int(qd_)))
    sys.exit(main())
