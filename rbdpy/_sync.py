"""The sync portal: one trio event loop per cluster handle, driven from blocking code.

Theory of operation. librados gives each cluster handle its own threads (messenger,
timers, finisher); rbdpy gives each ``rados.Rados`` handle one :class:`Portal`:

* ``start()`` launches a daemon thread running ``trio.run``. Its main task opens the
  handle's nursery, starts the first worker, publishes the trio token and sleeps until
  ``close()``.
* ``run(afn, ...)`` puts the call in the portal's inbox and blocks the calling thread on
  a latch (a lock released once); the outcome is re-raised in the caller. Each call runs
  on a long-lived worker task of the nursery (see :meth:`Portal._worker` for why workers
  outlive calls). An idle portal has one worker *listening* on a doorbell (an eventfd; a
  pipe where the OS has none): the first call of a burst rings it, and the listener
  wakes, takes the whole inbox, runs the first call itself and hands the others to parked
  workers -- one event-loop wake-up and no task hand-over per call at queue depth 1.
  While no worker listens (all busy), a burst is handed out by one
  ``TrioToken.run_sync_soon`` instead. A ``KeyboardInterrupt`` (or any
  exception raised into the blocked wait) cancels the call, waits for it to unwind, and
  propagates — so Ctrl-C never leaves an orphan operation running (psycopg's concern).
* Calling ``run()``/``close()`` from inside a trio run would block that event loop (or
  deadlock, if it is the portal's own), so it raises ``RuntimeError`` pointing to
  :mod:`rbdpy.aio`.
* ``spawn(afn, args, on_done)`` is the ``aio_*``/``Completion`` path: it returns a
  :class:`Pending` immediately; when ``afn`` finishes, ``on_done(pending)`` runs on the
  portal's single **finisher thread**, never on the trio thread, so a callback may call
  the blocking API again (librados' Finisher plays the same role).
* ``start_background(afn)`` runs long-lived tasks (keepalive, map subscriptions, watch
  pings) in the nursery. A background task that raises is a bug that kills the handle:
  the nursery is cancelled and later calls raise :class:`PortalClosedError` chained to it.
* ``close()`` cancels the nursery, joins the trio thread, drains the finisher and joins
  it. It is idempotent; callers still waiting get :class:`PortalClosedError`.
* Nothing a caller receives refers to the loop. An exception crosses over as a copy
  without traceback (chain and group members too), its loop-side frames kept as text in
  a note: a caller that clears the frames of an exception it holds (``unittest``'s
  assertRaises does) would otherwise close the portal's suspended coroutines from its own
  thread and kill the loop.
* ``run_for_finalizer(afn, ...)`` serves objects that go away unclosed (an image, a
  handle, a watch): it waits for the call where a thread may block, as python-rbd's
  deallocation does, and otherwise (on a trio thread, inside a garbage collection that
  may have interrupted anything) hands it to the finisher; the next ``run()`` on the
  portal finishes such leftovers first, so ``del image; RBD().remove(...)`` works.

Mirrors: librados' per-RadosClient threads and Finisher (src/librados/RadosClient.cc,
src/common/Finisher.h); trio.from_thread's token-based re-entry.
"""

from __future__ import annotations

import copy
import gc
import itertools
import linecache
import logging
import os
import queue
import sys
import threading
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar

import outcome
import sniffio
import trio

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup
else:  # pragma: no cover - trio depends on the backport there
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found, unused-ignore]

__all__ = ["CallCancelled", "Pending", "Portal", "PortalClosedError"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

# Idle worker tasks a portal keeps for the next burst of calls (see Portal._worker).
_MAX_PARKED_WORKERS = 256

_FROM_TRIO_MESSAGE = (
    "rbdpy's synchronous API (rbdpy.rados / rbdpy.rbd) was called from inside a trio task; "
    "blocking here would stall the event loop. Use the async API in rbdpy.aio from trio "
    "code (or call the sync API through trio.to_thread.run_sync)."
)


class PortalClosedError(RuntimeError):
    """The portal was closed (or crashed) before or while the call ran."""


class CallCancelled(RuntimeError):
    """The call was cancelled through :meth:`Pending.cancel` before it finished."""


def _in_trio() -> bool:
    """True on a thread that is running a trio loop (ours or anybody's).

    Asked on every blocking call, so it reads sniffio's thread-local -- which trio sets
    for the duration of ``trio.run`` (and of each guest-mode tick) -- instead of catching
    the RuntimeError ``current_trio_token()`` raises outside trio (~5 us a call).
    """
    return getattr(sniffio.thread_local, "name", None) == "trio"



# ----------------------------------------------------------------------------- hand-over
#
# An exception caught on the loop thread carries a traceback whose frames belong to the
# loop: the portal worker's coroutine (alive across calls) and whatever suspended
# coroutine frames an exception picked up on its way (a session reader that failed an op,
# say). A caller that keeps the exception may clear those frames from its own thread --
# ``unittest``'s assertRaises runs ``traceback.clear_frames`` -- and clearing the frame of
# a suspended coroutine closes that coroutine there and then, from the wrong thread:
# the worker dies mid-await and takes the event loop with it. So nothing that crosses to
# a caller keeps a loop-side traceback. Callers get a copy of the exception (a stored
# exception may be raised again on the loop, which would graft fresh loop frames onto
# the very object a caller holds), its cause/context chain and group members copied the
# same way, and the loop-side frames survive as text in a note.

_MAX_LOOP_FRAMES = 40  # a note of the innermost frames is enough to find a bug



def _loop_traceback_text(tb: TracebackType | None) -> str | None:
    """The frames of ``tb`` as traceback text, minus the portal's own worker frame.

    Written out by hand: ``traceback.StackSummary`` would stat every source file and
    work out column carets, several times the cost of the copy itself.
    """
    frames = [
        (frame.f_code, lineno)
        for frame, lineno in traceback.walk_tb(tb)
        if frame.f_code is not _WORKER_CODE
    ]
    if not frames:
        return None
    lines = ["rbdpy event-loop traceback (most recent call last):"]
    for code, lineno in frames[-_MAX_LOOP_FRAMES:]:
        lines.append(f'  File "{code.co_filename}", line {lineno}, in {code.co_name}')
        source = linecache.getline(code.co_filename, lineno).strip()
        if source:
            lines.append(f"    {source}")
    return "\n".join(lines)


def _add_note(exc: BaseException, note: str) -> None:
    if sys.version_info >= (3, 11):
        exc.add_note(note)
    else:  # 3.10: kept where 3.11's traceback printing would look for it
        notes = getattr(exc, "__notes__", None)
        exc.__notes__ = [*notes, note] if isinstance(notes, list) else [note]  # type: ignore[attr-defined]


def _copy_exception(exc: BaseException, members: list[BaseException] | None) -> BaseException:
    """A new exception equal to ``exc`` in type, args and attributes; ``exc`` itself when
    it cannot be copied faithfully (its class rebuilds it some other way)."""
    try:
        if members is not None:
            assert isinstance(exc, BaseExceptionGroup)
            clone: BaseException = exc.derive(members)
            vars(clone).update(vars(exc))
        else:
            clone = copy.copy(exc)
    except Exception:
        return exc
    if type(clone) is not type(exc):
        return exc
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list):
        clone.__notes__ = list(notes)  # type: ignore[attr-defined]  # not the original's list
    return clone


def _detach(exc: BaseException) -> BaseException:
    """``exc`` as it may be handed to another thread: no traceback anywhere in its chain.

    Runs on the thread that caught ``exc`` (the loop's), before anyone else can see it.
    Never raises: should copying fail, ``exc`` itself loses its traceback.
    """
    try:
        return _detach_chain(exc, {})
    except Exception as err:  # pragma: no cover - a note or a copy that blew up
        logger.debug("rbdpy: could not copy %r for its caller: %r", exc, err)
        exc.__traceback__ = None
        return exc


def _detach_chain(exc: BaseException, seen: dict[int, BaseException]) -> BaseException:
    done = seen.get(id(exc))
    if done is not None:
        return done
    members: list[BaseException] | None = None
    if isinstance(exc, BaseExceptionGroup):
        seen[id(exc)] = exc  # a member that contains its own group: stop there
        members = [_detach_chain(m, seen) for m in exc.exceptions]
    clone = _copy_exception(exc, members)
    seen[id(exc)] = clone
    if clone is exc and members is not None:
        # An uncopyable group keeps its own members: strip them where they are.
        _strip_in_place(exc, set())
    text = _loop_traceback_text(exc.__traceback__)
    cause, context = exc.__cause__, exc.__context__
    suppress = exc.__suppress_context__
    clone.__traceback__ = None
    clone.__cause__ = None if cause is None else _detach_chain(cause, seen)
    clone.__context__ = None if context is None else _detach_chain(context, seen)
    clone.__suppress_context__ = suppress
    if text is not None:
        _add_note(clone, text)
    return clone


def _strip_in_place(exc: BaseException, seen: set[int]) -> None:
    """Drop the traceback of ``exc``, of its chain and of its members, in place."""
    if id(exc) in seen:
        return
    seen.add(id(exc))
    exc.__traceback__ = None
    for other in (exc.__cause__, exc.__context__):
        if other is not None:
            _strip_in_place(other, seen)
    if isinstance(exc, BaseExceptionGroup):
        for member in exc.exceptions:
            _strip_in_place(member, seen)


# Set while a garbage collection runs, to the thread running it: finalizers called from a
# collection may interrupt any code, even code holding one of our locks, so they must not
# block (see Portal.run_for_finalizer).
_collecting_thread: int | None = None


def _note_collection(phase: str, info: dict[str, int]) -> None:
    global _collecting_thread
    _collecting_thread = threading.get_ident() if phase == "start" else None


gc.callbacks.append(_note_collection)


class _OrphanJob:
    """Work left behind by an object the collector took (an image to close, a handle to
    shut down), done by whichever thread claims it first: the portal's finisher, or the
    next caller of :meth:`Portal.run` (so that ``del image; RBD().remove(...)`` sees the
    image closed, as with python-rbd)."""

    __slots__ = ("_afn", "_args", "_claims", "_then_close", "done", "portal", "runner")

    def __init__(
        self,
        portal: Portal,
        afn: Callable[..., Awaitable[object]],
        args: tuple[Any, ...],
        then_close: bool,
    ) -> None:
        self.portal = portal
        self._afn = afn
        self._args = args
        self._then_close = then_close
        self._claims = itertools.count()  # next() is atomic: the first taker gets 0
        self.done = _Latch()
        self.runner: int | None = None  # the thread that claimed it

    def claim(self) -> bool:
        if next(self._claims) != 0:
            return False
        self.runner = threading.get_ident()
        return True

    def execute(self) -> None:
        """Run the job (the caller has claimed it); never raises."""
        try:
            self.portal._run_quietly(self._afn, self._args, self._then_close)
        finally:
            self.done.set()
            _orphans.discard(self)


# Jobs not done yet, across every portal (set.add/discard are atomic under the GIL).
_orphans: set[_OrphanJob] = set()


def _reap_orphans(portal: Portal) -> None:
    """Finish ``portal``'s orphan jobs before a caller's next call on it: run the
    unclaimed ones here, wait for those another thread is running (a job never waits for
    another job, so no cycle)."""
    me = threading.get_ident()
    for job in list(_orphans):
        if job.portal is not portal or job.runner == me:
            continue  # another handle's, or the job this thread is running (a shutdown)
        if job.claim():
            job.execute()
        else:
            job.done.wait()


class _Doorbell:
    """A descriptor the event loop waits on and any thread can make readable: an eventfd
    (Linux), else a non-blocking pipe."""

    __slots__ = ("_write_fd", "fileno")

    _ONE = (1).to_bytes(8, sys.byteorder)  # an eventfd takes one 8-byte counter increment

    def __init__(self) -> None:
        if hasattr(os, "eventfd"):
            fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            self.fileno, self._write_fd = fd, fd
        else:
            read_fd, write_fd = os.pipe()
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)
            self.fileno, self._write_fd = read_fd, write_fd

    def ring(self) -> None:
        try:
            os.write(self._write_fd, self._ONE)
        except BlockingIOError:  # pragma: no cover - a full pipe is rung already
            pass

    def drain(self) -> None:
        try:
            os.read(self.fileno, 4096)
        except BlockingIOError:
            pass  # nothing to read: a spurious wake-up (each ring is drained by its listener)

    def close(self) -> None:
        os.close(self.fileno)
        if self._write_fd != self.fileno:
            os.close(self._write_fd)


class _Latch:
    """A one-shot flag other threads can block on: ``threading.Event`` without the
    Condition -- a lock held until :meth:`set` releases it for good."""

    __slots__ = ("_flag", "_lock")

    def __init__(self) -> None:
        self._flag = False
        self._lock = threading.Lock()
        self._lock.acquire()

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        # Called at most once per latch, by the thread that finishes the call (callers
        # guard it); the flag goes first so a woken waiter sees it set.
        if not self._flag:
            self._flag = True
            self._lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        if self._flag:
            return True
        if self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0.0)):
            self._lock.release()  # pass it on to the next waiter
            return True
        return self._flag


class Pending(Generic[T]):
    """One submitted call: its outcome, and whether its completion callback has run.

    Created by :meth:`Portal.spawn` (and internally by :meth:`Portal.run`). Outcome fields
    are written once, on the trio thread, before ``_done`` is set; readers wait on it.
    """

    def __init__(
        self,
        portal: Portal,
        afn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        on_done: Callable[[Pending[T]], object] | None,
    ) -> None:
        self._portal = portal
        self._afn = afn
        self._args = args
        self._kwargs = kwargs
        self._on_done = on_done
        # Completion signals: each a lock held from birth and released once. A bare lock is
        # a fraction of a threading.Event's cost (which builds a Condition and a deque),
        # and aio callers that never wait pay nothing more.
        self._done = _Latch()
        self._cb_done = _Latch()
        self._value: T | None = None
        self._exc: BaseException | None = None
        self._scope: trio.CancelScope | None = None
        # Set with the scope's cancel() by Pending.cancel(): the worker reads this flag
        # instead of ``scope.cancel_called``, a property that reads the clock each time.
        self._scope_cancelled = False
        self._cancel_requested = False

    # -- caller side (any thread) --

    def done(self) -> bool:
        """True once the async function has finished (successfully or not)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the call finished; returns :meth:`done` (False on timeout)."""
        return self._done.wait(timeout)

    def callback_done(self) -> bool:
        """True once ``on_done`` has returned (immediately after :meth:`done` if none)."""
        return self._cb_done.is_set()

    def wait_callback(self, timeout: float | None = None) -> bool:
        """Block until the completion callback has returned."""
        return self._cb_done.wait(timeout)

    def exception(self) -> BaseException | None:
        """The exception the call raised, or None; blocks until done."""
        self._done.wait()
        return self._exc

    def result(self) -> T:
        """The call's return value, or raise its exception; blocks until done."""
        self._done.wait()
        if self._exc is not None:
            raise self._exc
        return self._value  # type: ignore[return-value]

    def cancel(self) -> None:
        """Ask the trio thread to cancel the call; no-op once it has finished."""
        if self._done.is_set():
            return
        try:
            self._portal._call_soon(self._cancel_in_trio)
        except PortalClosedError:
            pass  # loop gone: the call has been (or is being) failed by close()

    # -- trio side --

    def _cancel_in_trio(self) -> None:
        self._cancel_requested = True
        if self._scope is not None:
            self._scope_cancelled = True
            self._scope.cancel()

    def _finish(self, value: T | None, exc: BaseException | None) -> None:
        if self._done.is_set():
            return
        # The one place an outcome crosses from the loop to callers: see _detach.
        self._value, self._exc = value, None if exc is None else _detach(exc)
        self._done.set()
        if self._on_done is None:
            self._cb_done.set()
        else:
            self._portal._finisher_queue.put(self)

    def _keep_only_return_code(self, code: int) -> None:
        """Drop the call's value (a read's data), keeping ``code`` as its result, and the
        callback (which usually refers back to its completion: a cycle)."""
        if self._exc is None:
            self._value = code  # type: ignore[assignment]
        self._on_done = None

    def _run_callback(self) -> None:
        on_done = self._on_done
        assert on_done is not None
        try:
            on_done(self)
        except Exception:
            # python-rados prints and swallows exceptions from completion callbacks; a
            # raising callback must not kill the finisher that serves every other one.
            logger.exception("rbdpy: completion callback %r raised", on_done)
        finally:
            self._cb_done.set()


class Portal:
    """A trio event loop on a daemon thread, serving blocking callers (one per handle)."""

    def __init__(self, name: str = "rbdpy") -> None:
        self.name = name
        self._lock = threading.Lock()
        self._state = "new"  # new -> running -> closed
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._pending: set[Pending[Any]] = set()
        self._crash: BaseException | None = None
        self._loop_exited = False
        self._trio_thread: threading.Thread | None = None
        self._finisher: threading.Thread | None = None
        self._finisher_queue: queue.SimpleQueue[Pending[Any] | _OrphanJob | None] = (
            queue.SimpleQueue()
        )
        self._inbox: deque[Pending[Any]] = deque()
        self._drain_scheduled = False
        self._parked: list[trio.lowlevel.Task] = []
        # The doorbell: a worker waits for it to become readable while ``_listening``;
        # both are guarded by ``_lock`` so that no caller rings a closed descriptor.
        self._doorbell: _Doorbell | None = None
        self._listening = False
        # A forked child inherits this object but not its threads (see run_for_finalizer).
        self._pid = os.getpid()

    # ------------------------------------------------------------------ lifecycle

    @property
    def closed(self) -> bool:
        """True after :meth:`close`, or once the loop has died (background crash)."""
        return self._state == "closed" or self._loop_exited

    def start(self) -> None:
        """Start the trio thread and the finisher thread; returns once the loop is up."""
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"portal {self.name!r} was already started")
            self._state = "running"
            self._finisher = threading.Thread(
                target=self._finisher_main, name=f"{self.name}-finisher", daemon=True
            )
            self._trio_thread = threading.Thread(
                target=self._trio_main, name=f"{self.name}-trio", daemon=True
            )
            self._finisher.start()
            self._trio_thread.start()
        self._started.wait()
        if self._start_error is not None:
            self.close()
            raise RuntimeError(f"portal {self.name!r} failed to start") from self._start_error
        logger.debug("portal %s started", self.name)

    def close(self) -> None:
        """Cancel everything in the nursery, join both threads. Idempotent."""
        if _in_trio():
            raise RuntimeError(_FROM_TRIO_MESSAGE)
        with self._lock:
            if self._state == "closed":
                return
            was_running = self._state == "running"
            self._state = "closed"
        if not was_running:
            return
        token = self._token
        if token is not None:
            try:
                token.run_sync_soon(self._cancel_nursery)
            except trio.RunFinishedError:
                pass  # already exiting (crash path)
        assert self._trio_thread is not None and self._finisher is not None
        self._trio_thread.join()
        # Every call has finished by now and queued its callback; the sentinel goes last
        # so the finisher drains them before it exits.
        self._finisher_queue.put(None)
        if threading.current_thread() is not self._finisher:
            self._finisher.join()
        logger.debug("portal %s closed", self.name)

    def __enter__(self) -> Portal:
        if self._state == "new":
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ calls

    def run(self, afn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``await afn(*args, **kwargs)`` on the portal's loop; block for its outcome.

        :raises RuntimeError: when called from inside a trio run (use :mod:`rbdpy.aio`)
        :raises PortalClosedError: when the portal is closed, or closes during the call
        """
        if _in_trio():
            raise RuntimeError(_FROM_TRIO_MESSAGE)
        if _orphans:
            _reap_orphans(self)
        return self._call(afn, args, kwargs)

    def _call(
        self, afn: Callable[..., Awaitable[T]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        """:meth:`run` without its checks: submit, wait, hand back the outcome."""
        pending: Pending[T] = Pending(self, afn, args, kwargs, None)
        self._submit(pending)
        try:
            pending._done.wait()
        except BaseException:
            # KeyboardInterrupt (or another asynchronous exception) hit the blocked wait:
            # cancel the operation and let it unwind before propagating, so nothing keeps
            # running behind the caller's back. A second Ctrl-C here escapes immediately.
            logger.debug("portal %s: interrupt, cancelling %r", self.name, afn)
            pending.cancel()
            pending._done.wait()
            raise
        return pending.result()

    def spawn(
        self,
        afn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...] = (),
        on_done: Callable[[Pending[T]], object] | None = None,
    ) -> Pending[T]:
        """Start ``afn(*args)`` without waiting; ``on_done(pending)`` runs on the finisher.

        Never blocks, so it may also be called from trio code.

        :raises PortalClosedError: at once if the portal is not running (no callback runs)
        """
        pending: Pending[T] = Pending(self, afn, tuple(args), {}, on_done)
        self._submit(pending)
        return pending

    def start_background(
        self, afn: Callable[..., Awaitable[object]], *args: Any, name: str | None = None
    ) -> None:
        """Run a long-lived task in the handle's nursery until :meth:`close`.

        If it raises (anything but cancellation), the portal crashes: the nursery is
        cancelled and every later call raises :class:`PortalClosedError` from that error.
        """

        def spawn_in_trio() -> None:
            if self._nursery is None or self._crash is not None:
                return
            self._nursery.start_soon(self._background_task, afn, args, name=name or afn)

        self._call_soon(spawn_in_trio)

    def run_for_finalizer(
        self, afn: Callable[..., Awaitable[object]], *args: Any, then_close: bool = False
    ) -> None:
        """Run ``await afn(*args)`` for an object that was never closed and is going away
        (a ``weakref.finalize`` callback); then :meth:`close` the portal if ``then_close``.

        Finalizers run wherever the last reference went: in plain caller code (``del
        image``), on the loop or finisher thread, or inside a garbage collection that
        interrupted any code at all -- maybe code that holds one of this portal's locks,
        or trio's. Where waiting is safe (a thread that runs no trio loop, outside a
        collection) this waits for the call, as python-rbd's deallocation waits for
        ``rbd_close``; anywhere else it leaves the call to the finisher thread, and the
        next :meth:`run` on this portal finishes it first. Never raises; does nothing once
        the portal is closed, while the interpreter shuts down (no thread runs then), or
        in a forked child (which has none of the portal's threads).
        """
        if (self._state != "running" or self._loop_exited or sys.is_finalizing()
                or os.getpid() != self._pid):
            return
        # Registered even when done here and now, so that a call another thread makes
        # meanwhile on this portal waits for it (an image closed on the finisher thread
        # by its last completion, say).
        job = _OrphanJob(self, afn, args, then_close)
        _orphans.add(job)
        if _in_trio() or _collecting_thread == threading.get_ident():
            # SimpleQueue.put is reentrant: safe even from a collection that interrupted
            # this very queue.
            self._finisher_queue.put(job)
        elif job.claim():
            job.execute()

    def _run_quietly(
        self, afn: Callable[..., Awaitable[object]], args: tuple[Any, ...], then_close: bool
    ) -> None:
        try:
            if then_close:
                # Objects collected together with their handle (one cycle) go first: an
                # image still open when its handle shuts down would keep its lock.
                _reap_orphans(self)
            self._call(afn, args, {})
        except PortalClosedError:
            pass
        except Exception as exc:
            # Nobody is left to tell: python-rbd's deallocation drops rbd_close's error too.
            logger.debug("portal %s: finalizer call %r failed: %r", self.name, afn, exc)
        finally:
            if then_close:
                self.close()

    # ------------------------------------------------------------------ internals

    def _call_soon(self, fn: Callable[[], None]) -> None:
        """Schedule ``fn`` on the trio thread, or raise PortalClosedError."""
        token = self._token
        if self._state != "running" or token is None or self._loop_exited:
            raise self._closed_error()
        try:
            token.run_sync_soon(fn)
        except trio.RunFinishedError:
            raise self._closed_error() from None

    def _closed_error(self) -> PortalClosedError:
        if self._state == "new":
            err = PortalClosedError(f"portal {self.name!r} is not started")
        elif self._crash is not None:
            err = PortalClosedError(f"portal {self.name!r} crashed: {self._crash!r}")
            err.__cause__ = self._crash
        else:
            err = PortalClosedError(f"portal {self.name!r} is closed")
        return err

    def _submit(self, pending: Pending[Any]) -> None:
        # Registered before scheduling so that, whatever happens to the loop, the trio
        # thread's exit path can fail it instead of leaving its waiter blocked forever.
        # Submissions queue in an inbox that one wake-up empties: a burst of aio calls
        # wakes the trio thread once, not once per call.
        with self._lock:
            if self._state != "running" or self._token is None or self._loop_exited:
                raise self._closed_error()
            self._pending.add(pending)
            self._inbox.append(pending)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
            if self._listening and self._doorbell is not None:
                # Rung under the lock: the listener stops listening (and the loop's exit
                # closes the descriptor) only while holding it. The counter remembers the
                # ring, so one that lands before the listener awaits is not lost.
                self._doorbell.ring()
                return
        try:
            self._call_soon(self._drain_inbox)
        except PortalClosedError as exc:
            with self._lock:
                stranded = list(self._inbox)
                self._inbox.clear()
                self._drain_scheduled = False
                for other in stranded:
                    self._pending.discard(other)
            for other in stranded:
                if other is not pending:
                    other._finish(None, exc)
            raise

    def _take_inbox(self) -> list[Pending[Any]]:
        with self._lock:
            batch = list(self._inbox)
            self._inbox.clear()
            self._drain_scheduled = False
        return batch

    def _drain_inbox(self) -> None:
        """On the trio thread: hand every call submitted since the last drain to a worker."""
        self._hand_out(self._take_inbox())

    def _hand_out(self, batch: list[Pending[Any]]) -> None:
        nursery = self._nursery
        for pending in batch:
            if nursery is None or self._crash is not None or self._state != "running":
                self._fail(pending, self._closed_error())
                continue
            if self._parked:
                trio.lowlevel.reschedule(self._parked.pop(), outcome.Value(pending))
                continue
            try:
                nursery.start_soon(self._worker, pending, name=f"{self.name}-worker")
            except RuntimeError as exc:  # nursery closed to new arrivals
                self._fail(pending, self._closed_error())
                logger.debug("portal %s: late submission refused: %r", self.name, exc)

    def _fail(self, pending: Pending[Any], exc: BaseException) -> None:
        pending._finish(None, exc)
        with self._lock:
            self._pending.discard(pending)

    async def _park(self) -> Pending[Any]:
        """Wait, idle, until :meth:`_hand_out` gives this worker its next call."""
        task = trio.lowlevel.current_task()
        self._parked.append(task)

        def abort(_: Any) -> trio.lowlevel.Abort:
            self._parked.remove(task)
            return trio.lowlevel.Abort.SUCCEEDED

        pending: Pending[Any] = await trio.lowlevel.wait_task_rescheduled(abort)
        return pending

    def _claim_doorbell(self) -> bool:
        """Become the listener if no worker is one (and the loop still runs)."""
        with self._lock:
            if self._listening or self._doorbell is None:
                return False
            self._listening = True
            return True

    def _release_doorbell(self) -> None:
        with self._lock:
            self._listening = False

    async def _listen(self) -> Pending[Any] | None:
        """As the listener, wait for the doorbell; None when it rang for nothing.

        The listener takes the whole inbox when the bell rings, keeps the first call for
        itself (no hand-over to another task: the call starts in this very scheduler
        batch) and hands out the rest.
        """
        doorbell = self._doorbell
        assert doorbell is not None  # closed only once the loop has exited
        try:
            await trio.lowlevel.wait_readable(doorbell.fileno)
        finally:
            self._release_doorbell()
        doorbell.drain()
        batch = self._take_inbox()
        if not batch:
            return None
        self._hand_out(batch[1:])
        return batch[0]

    async def _worker(self, pending: Pending[Any] | None, listener: bool = False) -> None:
        """Run calls one after another; between them listen on the doorbell, or park.

        Workers outlive their calls because a trio task and a cancel scope cost more than
        many a call they would carry (tens of microseconds against a 4 KiB read's ~70):
        the portal starts one only when no parked worker is free, and keeps up to
        ``_MAX_PARKED_WORKERS`` of them. The worker's single scope serves
        :meth:`Pending.cancel` for whichever call it is running; a worker whose scope was
        cancelled ends after that call (its scope is spent) and others take over.

        A worker that finishes a call claims the listener's role (when free) *before* it
        opens the caller's latch: a blocking caller's next call, submitted the moment the
        latch opens, then rings the bell instead of taking the slower hand-out path.
        """
        current = pending
        try:
            with trio.CancelScope() as scope:
                while True:
                    while pending is None:
                        if not listener:
                            listener = self._claim_doorbell()
                        if listener:
                            listener = False  # _listen gives the role up, however it ends
                            pending = await self._listen()
                        else:
                            pending = await self._park()
                    current = pending
                    value: Any = None
                    exc: BaseException | None = None
                    if pending._cancel_requested:
                        exc = CallCancelled(f"{pending._afn!r} was cancelled")
                    else:
                        pending._scope = scope
                        try:
                            value = await pending._afn(*pending._args, **pending._kwargs)
                        except trio.Cancelled:
                            raise
                        except BaseException as e:
                            # Any other outcome belongs to the caller, not to the nursery.
                            exc = e
                        finally:
                            pending._scope = None
                    spent = pending._scope_cancelled  # our scope is cancelled for good
                    if not spent:
                        listener = self._claim_doorbell()
                    pending._finish(value, exc)
                    with self._lock:
                        self._pending.discard(pending)
                    pending = current = None
                    if spent or (
                        not listener and len(self._parked) >= _MAX_PARKED_WORKERS
                    ):
                        return
            # Only reached when our own scope swallowed the Cancelled: Pending.cancel().
            if current is not None:
                self._fail(current, CallCancelled(f"{current._afn!r} was cancelled"))
        except trio.Cancelled:
            # The nursery itself is being cancelled: close() or a background crash.
            if current is not None:
                self._fail(current, self._closed_error())
            raise
        finally:
            if listener:
                self._release_doorbell()

    async def _background_task(
        self, afn: Callable[..., Awaitable[object]], args: tuple[Any, ...]
    ) -> None:
        try:
            await afn(*args)
        except trio.Cancelled:
            raise
        except BaseException as exc:
            logger.error("portal %s: background task %r crashed: %r", self.name, afn, exc)
            self._crash = _detach(exc)
            self._cancel_nursery()

    def _cancel_nursery(self) -> None:
        if self._nursery is not None:
            self._nursery.cancel_scope.cancel()

    async def _main(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                self._token = trio.lowlevel.current_trio_token()
                # The first listener holds the role from the start, so that the very
                # first call already rings the bell.
                listener = self._claim_doorbell()
                nursery.start_soon(self._worker, None, listener, name=f"{self.name}-worker")
                self._started.set()
                await trio.sleep_forever()
        finally:
            # Set on the trio thread, so every later drain and background spawn sees it.
            self._nursery = None

    def _trio_main(self) -> None:
        try:
            self._doorbell = _Doorbell()
            trio.run(self._main)
        except BaseException as exc:  # the trio thread must never die with a traceback
            if not self._started.is_set():
                self._start_error = _detach(exc)
            else:
                logger.error("portal %s: event loop ended with %r", self.name, exc)
        finally:
            self._loop_exited = True
            # Anything submitted but never started (race with close or crash) fails here.
            with self._lock:
                leftovers = list(self._pending)
                self._pending.clear()
                self._listening = False
                if self._doorbell is not None:
                    self._doorbell.close()
                    self._doorbell = None
            for pending in leftovers:
                pending._finish(None, self._closed_error())
            self._started.set()

    def _finisher_main(self) -> None:
        while True:
            item = self._finisher_queue.get()
            if item is None:
                return
            if isinstance(item, _OrphanJob):
                if item.claim():
                    item.execute()
            else:
                item._run_callback()


# The portal's own frame in every loop-side traceback: left out of the note (_detach).
_WORKER_CODE = Portal._worker.__code__
