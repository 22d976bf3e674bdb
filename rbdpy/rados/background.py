"""BackgroundTasks: the one owner of a cluster handle's background tasks.

Theory of operation: a connected handle keeps tasks running between calls — the MonClient's
session loop, one task per OSD session, one per watch, and short helpers (an ack to send, a
lock to release). They all run in the nursery of ONE :class:`BackgroundTasks`, which the
handle holds (``AsyncRados.background``). Its :meth:`run` hosts that nursery: in the
caller's own nursery under ``async with open_rados(...)``, or, for a bare ``connect()``
(python-rados' model, where no caller nursery exists), in a trio system task.

Containment is the point. A task started here never lets an ``Exception`` reach the
nursery: the guard logs it once at WARNING (the traceback goes to DEBUG) and calls the
task's ``on_crash`` hook, which is where the owning layer resets *its* session and fails
the operations that cannot be resent. A *service* (:meth:`start_service`) is restarted at
once after a crash, and with a growing pause only when it keeps crashing. Nothing a
background task does can end the event loop or close the handle; only :meth:`close`
(``shutdown()``) stops them. Cancellation and ``KeyboardInterrupt``-like exceptions pass
through untouched.

Other layers (the ioctx's watches, librbd) start work through :meth:`start_soon` and never
see the nursery itself.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import trio

log = logging.getLogger(__name__)

#: Pauses before restarting a service that crashed again soon after its last restart;
#: the first restart is immediate.
_RESTART_PAUSES = (0.0, 0.05, 0.2, 1.0, 5.0)
#: A service that ran this long without crashing starts its pause sequence afresh.
_RESTART_RESET_AFTER = 30.0

CrashHook = Callable[[BaseException], None]


class TaskStarter(Protocol):
    """What a lower layer needs to start guarded background work (see BackgroundTasks)."""

    def start_soon(self, fn: Callable[..., Awaitable[object]], *args: Any,
                   name: str | None = None, on_crash: CrashHook | None = None) -> None:
        ...


def _where(exc: BaseException) -> str:
    """``file:line in function`` of the innermost frame of ``exc``'s traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    f = frames[-1]
    return f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"


def report_crash(what: str, exc: BaseException) -> None:
    """Log one background-task fault: one WARNING line, the traceback at DEBUG."""
    # A nursery inside the task wraps a lone error in a group; name the error itself.
    while len(getattr(exc, "exceptions", ())) == 1:
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    log.warning("%s: internal error %r at %s; that session is reset and the handle "
                "carries on", what, exc, _where(exc))
    log.debug("%s: traceback of the internal error", what, exc_info=exc)


def _non_cancelled(exc: BaseException) -> BaseException | None:
    """``exc`` without its ``trio.Cancelled`` parts (None when nothing else is left)."""
    if isinstance(exc, trio.Cancelled):
        return None
    split = getattr(exc, "split", None)
    if split is not None:  # a (Base)ExceptionGroup
        _, rest = split(trio.Cancelled)
        return rest  # type: ignore[no-any-return]
    return exc


class BackgroundTasks:
    """The nursery of one handle's background tasks, with their crash policy.

    :param owner: names the handle in task names and log lines.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self._nursery: trio.Nursery | None = None
        self._started = trio.Event()
        self._done: trio.Event | None = None
        self._closed = False

    @property
    def running(self) -> bool:
        """True while :meth:`run` hosts the nursery (tasks may be started)."""
        return self._nursery is not None

    @property
    def closed(self) -> bool:
        """True after :meth:`close`; a closed BackgroundTasks cannot run again."""
        return self._closed

    async def wait_running(self) -> None:
        """Until :meth:`run` has opened the nursery (returns at once if it has)."""
        await self._started.wait()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                  ) -> None:
        """Host the nursery until :meth:`close`; never raises anything but cancellation.

        Start it with ``await nursery.start(bg.run)`` (or as a system task): tasks may be
        started as soon as that returns.
        """
        if self._nursery is not None or self._closed:
            raise RuntimeError(f"{self.owner}: background tasks already running or closed")
        self._done = trio.Event()
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._started.set()
                task_status.started()
                await trio.sleep_forever()
        except BaseException as e:
            # Every task is guarded, so only cancellation (close(), or the host's scope)
            # should get here; a stray error must not crash a system task.
            rest = _non_cancelled(e)
            if rest is None or not isinstance(rest, Exception):
                raise
            report_crash(f"{self.owner} background", rest)
        finally:
            self._nursery = None
            self._done.set()

    def start_soon(self, fn: Callable[..., Awaitable[object]], *args: Any,
                   name: str | None = None, on_crash: CrashHook | None = None) -> None:
        """Start ``fn(*args)``; if it raises, report it once and call ``on_crash(exc)``.

        :raises RuntimeError: the tasks are not running (before connect, after shutdown).
        """
        nursery = self._nursery
        if nursery is None:
            raise RuntimeError(f"{self.owner}: background tasks are not running")
        label = name if name is not None else str(getattr(fn, "__qualname__", fn))
        nursery.start_soon(self._guarded, fn, args, label, on_crash, name=label)

    def start_service(self, fn: Callable[..., Awaitable[object]], *args: Any,
                      name: str) -> None:
        """Start a long-lived ``fn(*args)`` and restart it whenever it crashes.

        It ends for good when it returns normally or is cancelled.
        """
        self.start_soon(self._service, fn, args, name, name=name)

    def close(self) -> None:
        """Cancel every background task (idempotent); :meth:`wait_closed` waits for them."""
        self._closed = True
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    async def wait_closed(self) -> None:
        if self._done is not None:
            await self._done.wait()

    async def _guarded(self, fn: Callable[..., Awaitable[object]], args: tuple[Any, ...],
                       label: str, on_crash: CrashHook | None) -> None:
        try:
            await fn(*args)
        except Exception as e:
            report_crash(f"{self.owner} {label}", e)
            if on_crash is not None:
                try:
                    on_crash(e)
                except Exception as e2:
                    report_crash(f"{self.owner} {label} (crash handler)", e2)

    async def _service(self, fn: Callable[..., Awaitable[object]], args: tuple[Any, ...],
                       label: str) -> None:
        crashes = 0
        while True:
            started = time.monotonic()
            try:
                await fn(*args)
                return
            except Exception as e:
                report_crash(f"{self.owner} {label}", e)
            if time.monotonic() - started > _RESTART_RESET_AFTER:
                crashes = 0
            pause = _RESTART_PAUSES[min(crashes, len(_RESTART_PAUSES) - 1)]
            crashes += 1
            await trio.sleep(pause)  # 0: a checkpoint, so a crash loop stays cancellable
