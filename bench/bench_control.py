"""Control-path times the tests used to assert, measured here instead (tests check behaviour).

    .venv/bin/python bench/bench_control.py [--conf CEPH_CONF] [--reps 5]

Without --conf a 1-OSD memstore devcluster is started in a temporary directory and stopped
afterwards. Cases (median, min and max of REPS runs, seconds):

- ``wrong key (crc|secure)``: ``connect`` with a key the mon does not know, until
  PermissionDeniedError (a refusal should take one round trip, not a timeout);
- ``unknown user``: the same for an entity the mon has no key for;
- ``no mon, timeout=1.5``: ``connect(timeout=1.5)`` towards a port nothing listens on, until
  TimedOut (should be close to the 1.5 s asked for);
- ``pool create+delete``: devcluster's ``pool_create`` + ``pool_delete`` through the ceph CLI
  (shows the mon's short paxos propose interval at work).
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import statistics
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import trio

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rbdpy.devcluster import DevCluster  # noqa: E402
from rbdpy.rados import exceptions as rx  # noqa: E402
from rbdpy.rados.client import AsyncRados  # noqa: E402


def random_key() -> str:
    """A well-formed cephx secret no cluster knows."""
    raw = struct.pack("<HIIH", 1, 0, 0, 16) + os.urandom(16)
    return base64.b64encode(raw).decode()


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()  # nothing listens there any more
    return port


async def time_refusal(make: Callable[[], AsyncRados], expected: type[BaseException],
                       timeout: float) -> float:
    handle = make()
    t0 = time.monotonic()
    try:
        await handle.connect(timeout=timeout)
    except expected:
        return time.monotonic() - t0
    finally:
        await handle.shutdown()
    raise RuntimeError(f"connect succeeded; expected {expected.__name__}")


def cases(conf: str) -> dict[str, Callable[[], Awaitable[float]]]:
    def wrong_key(mode: str) -> Callable[[], Awaitable[float]]:
        return lambda: time_refusal(
            lambda: AsyncRados(conffile=conf, conf={"key": random_key(),
                                                    "ms_mon_client_mode": mode}),
            rx.PermissionDeniedError, 20)

    return {
        "wrong key (crc)": wrong_key("crc"),
        "wrong key (secure)": wrong_key("secure"),
        "unknown user": lambda: time_refusal(
            lambda: AsyncRados(rados_id="nosuchuser", conffile=conf,
                               conf={"key": random_key()}),
            rx.PermissionDeniedError, 20),
        "no mon, timeout=1.5": lambda: time_refusal(
            lambda: AsyncRados(conf={"mon_host": f"v2:127.0.0.1:{closed_port()}",
                                     "key": random_key()}),
            rx.TimedOut, 1.5),
    }


def time_pool_cycle(dc: DevCluster) -> float:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    dc.pool_create(name, application="")
    dc.pool_delete(name)
    return time.monotonic() - t0


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<24} median {statistics.median(samples):7.3f} s"
          f"   min {min(samples):7.3f}   max {max(samples):7.3f}   (n={len(samples)})")


def run(conf: str, reps: int) -> None:
    for name, case in cases(conf).items():
        report(name, [trio.run(case) for _ in range(reps)])
    dc = DevCluster(Path(conf).parent)
    report("pool create+delete", [time_pool_cycle(dc) for _ in range(reps)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conf", help="a devcluster's ceph.conf (default: start one)")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    if args.conf:
        run(args.conf, args.reps)
        return 0
    with tempfile.TemporaryDirectory(prefix="rbdpy-bench-control-") as tmp:
        dc = DevCluster(Path(tmp) / "cl")
        dc.start(osds=1)
        try:
            run(str(dc.conf_path), args.reps)
        finally:
            dc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
