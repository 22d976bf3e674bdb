"""Micro-benchmark of the CRUSH mapper: µs per mapping, cold and cached.

"cold" maps N distinct inputs with a list of weights (no memoisation: every call runs the
rule); "cached" repeats the same inputs with a tuple of weights after one warm-up pass, so
every call is a memo hit (what the Objecter sees for a hot PG within one map epoch).

Usage: .venv/bin/python bench/bench_crush.py [MAP.bin ...] [--n N] [--rule R] [--rep K]
(defaults: tests/vectors/crush/alg_straw2.bin and big1024.bin, N=2000, rule 0, 3 replicas)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rbdpy.rados.proto.crush import CrushMap

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAPS = [ROOT / "tests/vectors/crush/alg_straw2.bin",
                ROOT / "tests/vectors/crush/big1024.bin"]


def bench(path: Path, n: int, rule: int, rep: int) -> None:
    data = path.read_bytes()
    t0 = time.perf_counter()
    m = CrushMap.decode(data)
    t_decode = time.perf_counter() - t0
    weights = [0x10000] * m.max_devices
    m.do_rule(rule, 0, rep, weights)  # builds the straw2 log table once per process

    t0 = time.perf_counter()
    for x in range(n):
        m.do_rule(rule, x, rep, weights)
    cold = (time.perf_counter() - t0) / n

    wt = tuple(weights)
    for x in range(n):
        m.do_rule(rule, x, rep, wt)
    t0 = time.perf_counter()
    for x in range(n):
        m.do_rule(rule, x, rep, wt)
    cached = (time.perf_counter() - t0) / n

    print(f"{path.name}: {m.max_devices} devices, {len(data)} bytes, decode "
          f"{t_decode * 1e3:.2f} ms; rule {rule} x{rep}: cold {cold * 1e6:.1f} µs/mapping, "
          f"cached {cached * 1e6:.2f} µs/mapping (n={n})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("maps", nargs="*", type=Path, default=DEFAULT_MAPS)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--rule", type=int, default=0)
    p.add_argument("--rep", type=int, default=3)
    args = p.parse_args()
    for path in args.maps:
        bench(path, args.n, args.rule, args.rep)


if __name__ == "__main__":
    main()
