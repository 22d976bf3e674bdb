"""Run one rbdpy workload (as bench/run.py does) under cProfile, or plainly for py-spy.

    .venv/bin/python bench/profile_op.py --conf CONF [--pool bench] [--seconds 3] [--mode crc]
        [--plain] [--top 40] KIND SIZE QD

KIND is ``read`` or ``write`` (reads expect the objects a write run left). Prints the
workload's figures (ops, CPU µs per op) and, unless ``--plain``, the functions with the most
own time. cProfile inflates small Python functions; use ``--plain`` under ``py-spy record``
for a sampled profile.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import workload  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--pool", default="bench")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--mode", default="crc", choices=("crc", "secure"))
    ap.add_argument("--plain", action="store_true", help="no cProfile (for py-spy)")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("kind", choices=("read", "write"))
    ap.add_argument("size", type=int)
    ap.add_argument("qd", type=int)
    args = ap.parse_args()
    prof = None if args.plain else cProfile.Profile()
    if prof is not None:
        prof.enable()
    res = workload.run_rbdpy(args.conf, args.pool, args.kind, args.size, args.qd,
                             args.seconds, args.mode)
    if prof is not None:
        prof.disable()
    ops = max(1, int(res["ops"]))
    print(f"ops {ops}  rate {ops / res['seconds']:.0f}/s  CPU {res['cpu'] / ops * 1e6:.0f} µs/op"
          f"  p50 {res['p50'] * 1e3:.2f} ms  p99 {res['p99'] * 1e3:.2f} ms")
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
