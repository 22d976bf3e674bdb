"""The main job: rbdpy's most complete real work today, run against a live cluster.

Each step prints what rbdpy did and, where Ceph has an oracle, what Ceph says, so a reader
can see the two agree. Steps for capabilities that do not exist yet are listed as such.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def _ceph(conf: str, *args: str) -> str:
    return subprocess.run(["ceph", "-c", conf, *args], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def step_cluster(conf: str, pool: str) -> None:
    """The devcluster, as Ceph's own CLI sees it."""
    print(_ceph(conf, "-s").rstrip())


STEPS: list[tuple[str, Callable[[str, str], None]]] = [
    ("devcluster, seen by the ceph CLI", step_cluster),
]

#: Capabilities the main job will show once they exist (kept honest and current).
NOT_YET = [
    "rbdpy's own msgr2/cephx connection (Rados.connect, mon_command)",
    "object placement computed by rbdpy vs `ceph osd map`",
    "object I/O through rbdpy's Objecter",
    "RBD image create/write/read with rbdpy, verified by `rbd export`",
]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="rbdpy-demo", description=__doc__)
    ap.add_argument("--conf", required=True, help="ceph.conf of the cluster to use")
    ap.add_argument("--pool", default="rbd")
    args = ap.parse_args(argv)
    for title, fn in STEPS:
        print(f"\n== {title}")
        t0 = time.monotonic()
        fn(args.conf, args.pool)
        print(f"   ({time.monotonic() - t0:.2f} s)")
    if NOT_YET:
        print("\n== not built yet (the main job grows as these land):")
        for item in NOT_YET:
            print(f"   - {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
