"""A private bluestore devcluster under faults: OSD restarts and socket-failure injection.

Never the shared cluster: restarting its OSDs and setting ``ms_inject_socket_failures``
would break everybody else's runs. Bluestore, because a restarted memstore OSD comes back
empty — the data must survive the restart for the model check to mean anything.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rbdpy.devcluster import DevCluster

#: An OSD fails one socket operation in this many (``ms_inject_socket_failures``).
SOCKET_FAILURE_RATE = 500
#: What an OSD logs (at level 0, so always) each time it injects a socket failure.
INJECTION_LOG_LINE = "injecting socket failure"
#: Seconds between the end of one OSD restart and the start of the next.
RESTART_PAUSE = 3.0
#: Client settings for the fsx runs: an op stuck this long fails the run (TimedOut)
#: instead of hanging it; far above an OSD's restart time (~3 s here).
CLIENT_CONF = {"rados_osd_op_timeout": "45"}


@dataclass
class FaultCluster:
    """The running fault cluster and the pool the fsx runs use."""

    control: DevCluster
    pool: str

    @property
    def conf(self) -> str:
        return str(self.control.conf_path)

    def injected_socket_failures(self) -> int:
        """How many socket failures the OSDs have injected so far (their logs say so)."""
        return sum(path.read_text(errors="replace").count(INJECTION_LOG_LINE)
                   for path in (self.control.dir / "log").glob("osd.*.log"))


def start_fault_cluster(directory: Path, *, socket_failure_rate: int = SOCKET_FAILURE_RATE,
                        pool: str = "fsx") -> FaultCluster:
    """Start 3 bluestore OSDs (one mon), turn on socket-failure injection, create a pool."""
    dc = DevCluster(directory)
    dc.start(osds=3, objectstore="bluestore")
    try:
        if socket_failure_rate:
            dc.ceph("config", "set", "osd", "ms_inject_socket_failures",
                    str(socket_failure_rate))
        dc.pool_create(pool)
    except BaseException:
        dc.stop()
        raise
    return FaultCluster(dc, pool)


@dataclass
class OsdRestarter:
    """A thread that restarts one random OSD, waits until it is up, pauses, and again.

    Use as a context manager; ``restarts`` counts completed restarts, ``error`` keeps the
    first failure (which also stops the thread).
    """

    cluster: DevCluster
    pause: float = RESTART_PAUSE
    seed: int = 0
    restarts: int = 0
    error: BaseException | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> OsdRestarter:
        self._thread = threading.Thread(target=self._run, name="osd-restarter", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop after the restart in progress (if any) has completed."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        rng = random.Random(self.seed)
        osds = self.cluster.load_state().names("osd.")
        try:
            while not self._stop.wait(self.pause):
                self.cluster.restart(rng.choice(osds), timeout=90)
                self.restarts += 1
        except BaseException as e:  # reported by the test, which owns the thread
            self.error = e


@dataclass
class RunStats:
    """What one fsx run did."""

    seed: int
    ops: int = 0
    reads_checked: int = 0
    elapsed: float = 0.0
    started: float = field(default_factory=time.monotonic)
