"""How long a monitor failover stalls mon commands: librados against rbdpy, same kills.

    .venv/bin/python bench/mon_failover.py                 # own 3-mon devcluster in /tmp/rbdpy-mon3
    .venv/bin/python bench/mon_failover.py --conf /tmp/m3/ceph.conf --trials 2

Needs a cluster with three monitors of its own (the leader is killed, twice per trial). Two
worker processes run side by side through the same kills: python-rados on /usr/bin/python3
(librados) and rbdpy's facade (``from rbdpy import rados``), each calling ``mon_command``
(``osd dump``) in a loop and recording when every command completed. The driver, per trial:
kills the quorum leader (SIGKILL), waits for the two survivors to form a quorum, restarts
the killed monitor and waits until all three are in quorum, then does it again to the new
leader. Printed per implementation: commands completed, commands failed, and the longest
gap between two completions (the stall a caller saw), with the gap's position relative to
the kills.

Run as a worker: ``mon_failover.py worker IMPL CONF STOPFILE`` (prints JSON).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SYSTEM_PYTHON = "/usr/bin/python3"
COMMAND = json.dumps({"prefix": "osd dump", "format": "json"})


def worker(impl: str, conf: str, stopfile: str) -> int:
    if impl == "librados":
        import rados  # type: ignore[import-not-found]
    else:
        sys.path.insert(0, str(ROOT))
        from rbdpy import rados  # type: ignore[no-redef]
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    done: list[float] = []
    failed = 0
    print("ready", flush=True)
    while not os.path.exists(stopfile):
        ret, _, _ = cluster.mon_command(COMMAND, b"")
        if ret == 0:
            done.append(time.time())
        else:
            failed += 1
    cluster.shutdown()
    print(json.dumps({"impl": impl, "done": done, "failed": failed}), flush=True)
    return 0


def longest_gap(times: list[float]) -> tuple[float, float]:
    """(gap seconds, wall time the gap started)."""
    best = (0.0, 0.0)
    for a, b in itertools.pairwise(times):
        if b - a > best[0]:
            best = (b - a, a)
    return best


def leader(ctl: Any) -> str:
    q = ctl.ceph_json("quorum_status", timeout=120)
    return f"mon.{q['quorum_leader_name']}"


def wait_quorum(ctl: Any, size: int, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if len(ctl.ceph_json("quorum_status", timeout=60)["quorum"]) >= size:
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"no quorum of {size} within {timeout} s")


def trial(ctl: Any, conf: str, kills: int) -> dict[str, Any]:
    stopfile = Path(tempfile.mkdtemp()) / "stop"
    procs = {impl: subprocess.Popen(
        [SYSTEM_PYTHON if impl == "librados" else sys.executable, __file__, "worker", impl,
         conf, str(stopfile)], stdout=subprocess.PIPE, text=True)
        for impl in ("librados", "rbdpy")}
    for p in procs.values():
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
    events: list[tuple[float, str]] = []
    try:
        time.sleep(3)
        for _ in range(kills):
            victim = leader(ctl)
            events.append((time.time(), f"kill {victim}"))
            ctl.kill(victim)
            wait_quorum(ctl, 2)
            events.append((time.time(), "quorum of 2"))
            ctl.restart(victim)
            wait_quorum(ctl, 3)
            events.append((time.time(), f"{victim} back, quorum of 3"))
            time.sleep(2)
        time.sleep(3)
    finally:
        stopfile.touch()
    out: dict[str, Any] = {"events": events}
    for impl, p in procs.items():
        stdout, _ = p.communicate(timeout=300)
        out[impl] = json.loads(stdout.strip().splitlines()[-1])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--conf", help="a 3-mon cluster's ceph.conf (default: start one)")
    ap.add_argument("--dir", default="/tmp/rbdpy-mon3")
    ap.add_argument("--trials", type=int, default=1)
    ap.add_argument("--kills", type=int, default=2, help="leader kills per trial")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from rbdpy.devcluster import given_or_started

    worst: dict[str, float] = {}
    with given_or_started(args.conf, args.dir, mons=3, osds=1, mgr=False) as (conf, ctl):
        for t in range(args.trials):
            r = trial(ctl, conf, args.kills)
            t0 = r["events"][0][0]
            print(f"trial {t + 1}: " + "; ".join(f"+{when - t0:.1f} s {what}"
                                                  for when, what in r["events"]))
            for impl in ("librados", "rbdpy"):
                gap, at = longest_gap(r[impl]["done"])
                worst[impl] = max(worst.get(impl, 0.0), gap)
                print(f"  {impl:8} {len(r[impl]['done']):6} commands, {r[impl]['failed']} "
                      f"failed, longest stall {gap:6.2f} s (from +{at - t0:.1f} s)",
                      flush=True)
    print(f"\nworst stall over {args.trials} trial(s) of {args.kills} leader kills: "
          + ", ".join(f"{impl} {gap:.2f} s" for impl, gap in worst.items()))
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        sys.exit(worker(sys.argv[2], sys.argv[3], sys.argv[4]))
    sys.exit(main())
