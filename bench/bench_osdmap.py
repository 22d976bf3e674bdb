"""Benchmark: decode a 10,000-OSD OSDMap and map its PGs, against osdmaptool.

Builds the map with the installed Ceph tools (nothing is committed):
``crushtool --build --num_osds N host straw2 20 rack straw2 10 root straw2 0`` and
``osdmaptool --createsimple N --pg-bits 0 --with-default-pool --import-crush``, then all OSDs
are marked up and in (as ``osdmaptool --mark-up-in`` does, in memory). Reports, for rbdpy
(in process): the decode time (crc and CRUSH included) and µs per PG mapping (pg →
up/acting, cold and cached; object name → acting). For the reference, osdmaptool (C++) is
timed as processes, best of ``--repeat``: ``--mark-up-in --print`` minus a bare start
(``--help``) approximates its decode (plus printing), and ``--test-map-pgs --pool 1`` minus
``--print`` its mapping of all the pool's PGs.

Usage: .venv/bin/python bench/bench_osdmap.py [--osds 10000] [--pgs 1000] [--repeat 5]
``bench/run.py`` shows the same figures as its ``placement`` rows.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rbdpy.cli.osdmap import mark_up_in
from rbdpy.rados.proto.osdmap import OSDMap
from rbdpy.rados.proto.placement import (
    object_locator_to_pg,
    pg_to_up_acting_osds,
    raw_pg_to_pg,
)
from rbdpy.rados.proto.types import PgId


def build(n: int, d: Path) -> Path:
    """A fresh ``n``-OSD map with one pool of ``n`` PGs, from crushtool and osdmaptool."""
    om, cm = d / "om", d / "crush"
    subprocess.run(["crushtool", "--build", "--num_osds", str(n), "host", "straw2", "20",
                    "rack", "straw2", "10", "root", "straw2", "0", "-o", str(cm)],
                   check=True, capture_output=True)
    subprocess.run(["osdmaptool", "--createsimple", str(n), "--pg-bits", "0", "--pgp-bits",
                    "0", "--with-default-pool", str(om)], check=True, capture_output=True)
    subprocess.run(["osdmaptool", str(om), "--import-crush", str(cm)], check=True,
                   capture_output=True)
    return om


def time_rbdpy(data: bytes, pgs: int, repeat: int) -> dict[str, float]:
    """rbdpy in this process: decode ms (best of ``repeat``), µs per PG / object mapping."""
    best = float("inf")
    m = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        m = OSDMap.from_bytes(data)
        best = min(best, time.perf_counter() - t0)
    assert m is not None
    m = mark_up_in(m)
    pool = m.pools[1]
    n = min(pgs, pool.pg_num)
    out = {"decode_ms": best * 1e3, "pgs": float(n), "pool_pgs": float(pool.pg_num)}
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        for ps in range(n):
            pg_to_up_acting_osds(m, PgId(1, ps))
        out[f"pg_{label}_us"] = (time.perf_counter() - t0) / n * 1e6
    names = [f"rbd_data.1011f0810a9a.{i:016x}" for i in range(n)]
    t0 = time.perf_counter()
    for name in names:
        raw = object_locator_to_pg(m, 1, name)
        pg_to_up_acting_osds(m, raw_pg_to_pg(pool, raw))
    out["object_us"] = (time.perf_counter() - t0) / n * 1e6
    return out


def _best(args: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def time_osdmaptool(path: Path, pool_pgs: int, repeat: int) -> dict[str, float]:
    """osdmaptool as processes: decode(+print) ms and µs per PG of ``--test-map-pgs``."""
    start = _best(["osdmaptool", "--help"], repeat)
    printed = _best(["osdmaptool", str(path), "--mark-up-in", "--print"], repeat)
    mapped = _best(["osdmaptool", str(path), "--mark-up-in", "--test-map-pgs", "--pool",
                    "1"], repeat)
    return {"decode_ms": max(0.0, printed - start) * 1e3,
            "pg_cold_us": max(0.0, mapped - printed) / pool_pgs * 1e6}


def measure(osds: int, pgs: int, repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    """(osdmaptool figures, rbdpy figures) on one freshly built ``osds``-OSD map."""
    with tempfile.TemporaryDirectory() as tmp:
        path = build(osds, Path(tmp))
        ours = time_rbdpy(path.read_bytes(), pgs, repeat)
        ref = time_osdmaptool(path, int(ours["pool_pgs"]), repeat)
    return ref, ours


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--osds", type=int, default=10000)
    ap.add_argument("--pgs", type=int, default=1000, help="PGs rbdpy maps")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    ref, ours = measure(a.osds, a.pgs, a.repeat)
    print(f"{a.osds}-OSD map, pool of {ours['pool_pgs']:.0f} PGs")
    print(f"decode: rbdpy {ours['decode_ms']:.1f} ms (crc + CRUSH, best of {a.repeat}); "
          f"osdmaptool ~{ref['decode_ms']:.1f} ms (--print minus start)")
    print(f"pg -> up/acting cold: rbdpy {ours['pg_cold_us']:.1f} µs per pg over "
          f"{ours['pgs']:.0f} pgs; osdmaptool {ref['pg_cold_us']:.1f} µs per pg")
    print(f"pg -> up/acting warm (rbdpy): {ours['pg_warm_us']:.1f} µs per pg")
    print(f"object -> acting (rbdpy): {ours['object_us']:.1f} µs per object")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
