"""Benchmark: decode a 10,000-OSD OSDMap and map its PGs.

Builds the map with the installed Ceph tools (nothing is committed):
``crushtool --build --num_osds N host straw2 20 rack straw2 10 root straw2 0`` and
``osdmaptool --createsimple N --pg-bits 0 --with-default-pool --import-crush``, then all OSDs
are marked up and in (as ``osdmaptool --mark-up-in`` does, in memory). Reports the decode time
(CRUSH included) and µs per PG mapping (object name → up/acting), cold and warm.

Usage: .venv/bin/python bench/bench_osdmap.py [--osds 10000] [--pgs 2000] [--repeat 5]
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
    om, cm = d / "om", d / "crush"
    subprocess.run(["crushtool", "--build", "--num_osds", str(n), "host", "straw2", "20",
                    "rack", "straw2", "10", "root", "straw2", "0", "-o", str(cm)],
                   check=True, capture_output=True)
    subprocess.run(["osdmaptool", "--createsimple", str(n), "--pg-bits", "0", "--pgp-bits",
                    "0", "--with-default-pool", str(om)], check=True, capture_output=True)
    subprocess.run(["osdmaptool", str(om), "--import-crush", str(cm)], check=True,
                   capture_output=True)
    return om


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--osds", type=int, default=10000)
    ap.add_argument("--pgs", type=int, default=2000, help="PGs to map")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = build(a.osds, Path(tmp))
        data = path.read_bytes()
        print(f"built {a.osds}-OSD map ({len(data)} bytes) in {time.perf_counter() - t0:.1f}s")
    best = float("inf")
    m = None
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        m = OSDMap.from_bytes(data)
        best = min(best, time.perf_counter() - t0)
    assert m is not None
    print(f"decode (crc + CRUSH): best of {a.repeat}: {best * 1e3:.1f} ms")
    m = mark_up_in(m)
    pool = m.pools[1]
    n = min(a.pgs, pool.pg_num)
    for label in ("cold", "warm"):
        t0 = time.perf_counter()
        for ps in range(n):
            pg_to_up_acting_osds(m, PgId(1, ps))
        dt = time.perf_counter() - t0
        print(f"pg -> up/acting ({label}): {dt / n * 1e6:.1f} µs per pg over {n} pgs")
    names = [f"rbd_data.1011f0810a9a.{i:016x}" for i in range(n)]
    t0 = time.perf_counter()
    for name in names:
        raw = object_locator_to_pg(m, 1, name)
        pg_to_up_acting_osds(m, raw_pg_to_pg(pool, raw))
    dt = time.perf_counter() - t0
    print(f"object -> acting: {dt / n * 1e6:.1f} µs per object")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
