"""The long fault soak, on demand (not part of CI): the fault suite's fsx run, much longer.

    .venv/bin/python tools/soak.py [--ops 100000] [--min-restarts 30] [--seed N] [--aio]
                                   [--no-object-map] [--socket-failures 500]
                                   [--restart-pause 3] [--dir DIR] [--keep]

Starts a private 3-OSD bluestore devcluster (in DIR, default a fresh temporary directory;
never a shared cluster), sets ``ms_inject_socket_failures`` on its OSDs, and runs the
fsx-style model (tests/faults/fsx.py) through the python-rbd facade (or ``rbdpy.aio`` with
16 tasks, ``--aio``) while one OSD is restarted every few seconds. It goes on until both
``--ops`` ops and ``--min-restarts`` restarts are done, printing progress every 30 s and at
the end: ops, reads checked, restarts, mismatches, elapsed time. A mismatch ends the run
with the seed and the op log; the exit status is 1 then (and on any other failure).
``kill -USR1 <pid>`` prints every thread's stack.
"""

from __future__ import annotations

import argparse
import faulthandler
import random
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rbdpy import rbd  # noqa: E402
from tests.faults.faultcluster import (  # noqa: E402
    SOCKET_FAILURE_RATE,
    OsdRestarter,
    RunStats,
    start_fault_cluster,
)
from tests.faults.fsx import Mismatch  # noqa: E402
from tests.faults.run_aio import run_fsx_aio  # noqa: E402
from tests.faults.run_sync import run_fsx_sync  # noqa: E402

PROGRESS_EVERY = 30.0


def soak(directory: Path, args: argparse.Namespace) -> int:
    fc = start_fault_cluster(directory, socket_failure_rate=args.socket_failures)
    print(f"soak: seed {args.seed}, cluster {fc.conf}, ms_inject_socket_failures "
          f"{args.socket_failures}, {'rbdpy.aio x16' if args.aio else 'python-rbd facade'}",
          flush=True)
    mismatches = 0
    stats = RunStats(args.seed)
    restarter = OsdRestarter(fc.control, pause=args.restart_pause, seed=args.seed)
    last_report = time.monotonic()
    # Without the object map: sidesteps the lock-window bug (tests/faults/test_lock_window.py)
    # to soak everything else.
    features = (rbd.RBD_FEATURE_LAYERING | rbd.RBD_FEATURE_EXCLUSIVE_LOCK
                | rbd.RBD_FEATURE_DEEP_FLATTEN) if args.no_object_map else None
    min_ops: int = args.ops
    min_restarts: int = args.min_restarts

    def keep_going(s: RunStats) -> bool:
        nonlocal last_report
        if time.monotonic() - last_report >= PROGRESS_EVERY:
            last_report = time.monotonic()
            print(f"soak: {s.ops} ops, {s.reads_checked} reads checked, "
                  f"{restarter.restarts} restarts, {time.monotonic() - s.started:.0f} s",
                  flush=True)
        if restarter.error is not None:
            return False
        return s.ops < min_ops or restarter.restarts < min_restarts

    try:
        with restarter:
            if args.aio:
                trio.run(lambda: run_fsx_aio(fc.conf, fc.pool, args.seed,
                                             keep_going=keep_going, features=features,
                                             stats=stats))
            else:
                run_fsx_sync(fc.conf, fc.pool, args.seed, keep_going=keep_going,
                             features=features, stats=stats)
    except Mismatch as e:
        mismatches += 1
        print(e, flush=True)
    except BaseException:
        traceback.print_exc()
        print(f"soak: the run failed (seed {args.seed})", flush=True)
        mismatches = -1
    finally:
        if not args.keep:
            fc.control.stop()
    if restarter.error is not None:
        print(f"soak: restarting an OSD failed: {restarter.error!r}", flush=True)
    elapsed = time.monotonic() - stats.started
    print(f"soak done: seed {args.seed}, ops {stats.ops}, reads checked "
          f"{stats.reads_checked}, OSD restarts {restarter.restarts}, mismatches "
          f"{max(mismatches, 0)}, elapsed {elapsed:.1f} s", flush=True)
    return 0 if mismatches == 0 and restarter.error is None else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ops", type=int, default=100_000)
    ap.add_argument("--min-restarts", type=int, default=30)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--aio", action="store_true", help="rbdpy.aio with 16 tasks")
    ap.add_argument("--no-object-map", action="store_true",
                    help="create the image with layering, exclusive-lock, deep-flatten only")
    ap.add_argument("--socket-failures", type=int, default=SOCKET_FAILURE_RATE,
                    help="ms_inject_socket_failures on the OSDs (0: off)")
    ap.add_argument("--restart-pause", type=float, default=3.0,
                    help="seconds between OSD restarts")
    ap.add_argument("--dir", type=Path, help="cluster directory (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="leave the cluster running (with --dir)")
    args = ap.parse_args()
    # `kill -USR1 <pid>` prints every thread's stack (a hung run can be looked at alive).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    if args.dir is not None:
        return soak(args.dir, args)
    with tempfile.TemporaryDirectory(prefix="rbdpy-soak-") as tmp:
        return soak(Path(tmp) / "cl", args)


if __name__ == "__main__":
    sys.exit(main())
