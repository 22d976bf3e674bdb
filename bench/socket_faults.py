"""What a dropped OSD connection costs: librbd against rbdpy, same ops, same run.

    .venv/bin/python bench/socket_faults.py                  # own devcluster in /tmp/rbdpy-faults
    .venv/bin/python bench/socket_faults.py --conf /tmp/x/ceph.conf --ops 2000 --reps 2

The cluster's OSDs get ``ms_inject_socket_failures`` (one socket operation in N fails, so the
OSD drops that connection) for the "faults" runs and 0 for the "clean" runs: this changes
the cluster's global config, so give it a cluster of its own (the default starts one and
stops it afterwards; with ``--conf`` the setting is put back to 0 at the end).

Each run is one process doing one fixed, seeded sequence of python-rbd calls on a fresh
image: writes (random offsets, up to 64 KiB of seeded random bytes), reads (checked at once
against an in-memory model of the image) and discards of whole objects (always zeroing,
whatever ``rbd_skip_partial_discard`` says). Only the op loop is timed; the image is created
before and read back in full, and compared with the model, after. The reference is librbd
(python3-rbd on /usr/bin/python3, ``rbd_cache=false``); rbdpy runs the very same code with
``from rbdpy import rados, rbd``. Clean and faulty runs alternate per repetition, the two
implementations back to back within each. Printed: seconds per run, and per implementation
slowdown = time with faults / time without; the acceptance figure of issue 21 is rbdpy's
time under faults over librbd's.

Run as a worker: ``socket_faults.py worker IMPL CONF POOL IMAGE OPS SEED`` (prints JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SYSTEM_PYTHON = "/usr/bin/python3"

IMAGE_SIZE = 32 << 20
OBJECT_ORDER = 20  # 1 MiB objects: 32 of them, so ops spread over every OSD
OBJECT_SIZE = 1 << OBJECT_ORDER
MAX_WRITE = 64 << 10


def op_sequence(n: int, seed: int) -> list[tuple[str, int, int]]:
    """(kind, offset, length) for ``n`` ops; the data of a write comes from its own seed."""
    rng = random.Random(seed)
    out: list[tuple[str, int, int]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.5:
            length = rng.randrange(1, MAX_WRITE + 1)
            out.append(("write", rng.randrange(0, IMAGE_SIZE - length + 1), length))
        elif roll < 0.88:
            length = rng.randrange(1, MAX_WRITE + 1)
            out.append(("read", rng.randrange(0, IMAGE_SIZE - length + 1), length))
        else:
            nobj = rng.randrange(1, 3)
            first = rng.randrange(0, IMAGE_SIZE // OBJECT_SIZE - nobj + 1)
            out.append(("discard", first * OBJECT_SIZE, nobj * OBJECT_SIZE))
    return out


def worker(impl: str, conf: str, pool: str, image: str, nops: int, seed: int) -> int:
    if impl == "librbd":
        import rados  # type: ignore[import-not-found]
        import rbd  # type: ignore[import-not-found]
        conf_overrides = {"rbd_cache": "false"}
    else:
        sys.path.insert(0, str(ROOT))
        from rbdpy import rados, rbd  # type: ignore[no-redef]
        conf_overrides = {}
    cluster = rados.Rados(conffile=conf, conf=conf_overrides)
    cluster.connect()
    ioctx = cluster.open_ioctx(pool)
    rbd.RBD().create(ioctx, image, IMAGE_SIZE, order=OBJECT_ORDER)
    img = rbd.Image(ioctx, image)
    model = bytearray(IMAGE_SIZE)
    mismatches = 0
    ops = op_sequence(nops, seed)
    data_rng = random.Random(seed + 1)
    payloads = [data_rng.randbytes(length) if kind == "write" else b""
                for kind, _, length in ops]
    slowest = (0.0, 0, "")
    slow = 0  # ops that took over 0.1 s: the stalls a fault costs
    t0 = time.monotonic()
    for i, ((kind, off, length), payload) in enumerate(zip(ops, payloads, strict=True)):
        t_op = time.monotonic()
        if kind == "write":
            img.write(payload, off)
            model[off:off + length] = payload
        elif kind == "read":
            if img.read(off, length) != model[off:off + length]:
                mismatches += 1
        else:
            img.discard(off, length)
            model[off:off + length] = bytes(length)
        dt = time.monotonic() - t_op
        slow += dt > 0.1
        if dt > slowest[0]:
            slowest = (dt, i, kind)
    elapsed = time.monotonic() - t0
    whole = b"".join(img.read(o, OBJECT_SIZE) for o in range(0, IMAGE_SIZE, OBJECT_SIZE))
    final_ok = whole == model
    img.close()
    rbd.RBD().remove(ioctx, image)
    ioctx.close()
    cluster.shutdown()
    print(json.dumps({"impl": impl, "seconds": elapsed, "ops": nops, "mismatches": mismatches,
                      "final_ok": final_ok, "slow_ops": slow, "slowest": slowest}))
    return 0


def run_worker(impl: str, conf: str, pool: str, nops: int, seed: int,
               timeout: float) -> dict[str, Any]:
    py = SYSTEM_PYTHON if impl == "librbd" else sys.executable
    image = f"sf-{impl}-{os.getpid()}-{time.monotonic_ns()}"
    cp = subprocess.run([py, __file__, "worker", impl, conf, pool, image, str(nops),
                         str(seed)], capture_output=True, text=True, timeout=timeout)
    if cp.returncode != 0:
        raise RuntimeError(f"{impl} worker failed (rc {cp.returncode}):\n{cp.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(cp.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conf", help="an existing cluster's ceph.conf (default: start one)")
    ap.add_argument("--dir", default="/tmp/rbdpy-faults", help="where to start the cluster")
    ap.add_argument("--pool", default="faults")
    ap.add_argument("--ops", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--inject", type=int, default=200,
                    help="ms_inject_socket_failures on the OSDs for the faulty runs")
    ap.add_argument("--timeout", type=float, default=900, help="per worker, seconds")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from rbdpy.devcluster import given_or_started

    with given_or_started(args.conf, args.dir, osds=3, mgr=False) as (conf, ctl):
        try:
            try:
                ctl.pool_create(args.pool, 32)
            except Exception:
                pass  # a reused cluster may have it already
            times: dict[tuple[str, str], list[float]] = {}
            bad = 0
            for rep in range(args.reps):
                for phase, inject in (("clean", 0), ("faults", args.inject)):
                    ctl.ceph("config", "set", "osd", "ms_inject_socket_failures", str(inject))
                    for impl in ("librbd", "rbdpy"):
                        r = run_worker(impl, conf, args.pool, args.ops, args.seed, args.timeout)
                        times.setdefault((impl, phase), []).append(r["seconds"])
                        bad += r["mismatches"] + (0 if r["final_ok"] else 1)
                        print(f"rep {rep + 1} {phase:6} {impl:6} {r['seconds']:7.2f} s  "
                              f"{r['ops']} ops  read mismatches {r['mismatches']}  "
                              f"final image {'ok' if r['final_ok'] else 'WRONG'}  ops > 0.1 s: "
                              f"{r['slow_ops']}, slowest {r['slowest'][0]:.2f} s "
                              f"(#{r['slowest'][1]} {r['slowest'][2]})", flush=True)
        finally:
            ctl.ceph("config", "set", "osd", "ms_inject_socket_failures", "0", check=False)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nms_inject_socket_failures={args.inject}, {args.ops} ops, seed {args.seed}, "
          f"{args.reps} rep(s), medians:")
    for impl in ("librbd", "rbdpy"):
        clean, faults = med[(impl, "clean")], med[(impl, "faults")]
        print(f"  {impl:6}  clean {clean:7.2f} s  faults {faults:7.2f} s  "
              f"slowdown {faults / clean:5.2f}x")
    under_faults = med[("rbdpy", "faults")] / med[("librbd", "faults")]
    clean_ratio = med[("rbdpy", "clean")] / med[("librbd", "clean")]
    print(f"  rbdpy/librbd under faults: {under_faults:.2f}x  (clean: {clean_ratio:.2f}x)")
    print(f"  data errors: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        _, _, impl_, conf_, pool_, image_, nops_, seed_ = sys.argv
        sys.exit(worker(impl_, conf_, pool_, image_, int(nops_), int(seed_)))
    sys.exit(main())
