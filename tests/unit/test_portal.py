"""rbdpy._sync.Portal: the per-handle trio thread behind the sync facade."""

from __future__ import annotations

import gc
import inspect
import logging
import os
import select
import signal
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from rbdpy._sync import CallCancelled, Pending, Portal, PortalClosedError

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup
else:  # pragma: no cover
    from exceptiongroup import BaseExceptionGroup  # type: ignore[import-not-found,unused-ignore]


def _portal_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("test-portal")}


@pytest.fixture
def portal() -> Iterator[Portal]:
    p = Portal("test-portal")
    p.start()
    try:
        yield p
    finally:
        p.close()
    assert not _portal_threads(), "portal threads leaked"


async def _add(a: int, b: int, *, scale: int = 1) -> int:
    await trio.lowlevel.checkpoint()
    return (a + b) * scale


async def _thread_name() -> str:
    return threading.current_thread().name


class Boom(Exception):
    pass


async def _boom() -> None:
    await trio.lowlevel.checkpoint()
    raise Boom("kaput")


# --------------------------------------------------------------------- run


def test_run_returns_value_and_passes_kwargs(portal: Portal) -> None:
    assert portal.run(_add, 2, 3) == 5
    assert portal.run(_add, 2, 3, scale=10) == 50


def test_run_executes_on_the_trio_thread(portal: Portal) -> None:
    assert portal.run(_thread_name) == "test-portal-trio"


def test_run_reraises_the_call_exception(portal: Portal) -> None:
    with pytest.raises(Boom, match="kaput"):
        portal.run(_boom)
    # The handle survives a failed call.
    assert portal.run(_add, 1, 1) == 2


def test_run_from_many_threads(portal: Portal) -> None:
    results: dict[int, int] = {}

    async def slow_square(i: int) -> int:
        await trio.sleep(0.01)
        return i * i

    def worker(i: int) -> None:
        results[i] = portal.run(slow_square, i)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {i: i * i for i in range(16)}


def test_run_before_start_and_after_close() -> None:
    p = Portal("test-portal-x")
    with pytest.raises(PortalClosedError, match="not started"):
        p.run(_add, 1, 2)
    p.start()
    assert p.run(_add, 1, 2) == 3
    p.close()
    assert p.closed
    with pytest.raises(PortalClosedError, match="closed"):
        p.run(_add, 1, 2)
    with pytest.raises(PortalClosedError):
        p.spawn(_add, (1, 2))
    assert not _portal_threads()


def test_start_twice_is_an_error(portal: Portal) -> None:
    with pytest.raises(RuntimeError, match="already started"):
        portal.start()


def test_close_is_idempotent_and_joins_threads() -> None:
    before = set(threading.enumerate())
    p = Portal("test-portal-idem")
    p.start()
    assert len(set(threading.enumerate()) - before) == 2  # trio thread + finisher
    p.close()
    p.close()
    assert set(threading.enumerate()) - before == set()


def test_close_without_start() -> None:
    p = Portal("test-portal-never")
    p.close()
    assert p.closed


def test_context_manager() -> None:
    with Portal("test-portal-ctx") as p:
        assert p.run(_add, 1, 2) == 3
    assert p.closed
    assert not _portal_threads()


def test_many_portals_do_not_leak_threads() -> None:
    before = threading.active_count()
    for i in range(20):
        with Portal(f"test-portal-{i}") as p:
            p.run(_add, i, i)
    assert threading.active_count() == before


def test_close_fails_calls_in_flight() -> None:
    p = Portal("test-portal-inflight")
    p.start()
    entered = threading.Event()
    errors: list[BaseException] = []

    async def hang() -> None:
        entered.set()
        await trio.sleep_forever()

    def caller() -> None:
        try:
            p.run(hang)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=caller)
    t.start()
    assert entered.wait(5)
    p.close()
    t.join(5)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], PortalClosedError)


def test_keyboard_interrupt_cancels_the_running_call(portal: Portal) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    entered = threading.Event()
    unwound = threading.Event()

    async def hang() -> None:
        entered.set()
        try:
            await trio.sleep_forever()
        finally:
            unwound.set()

    main_ident = threading.main_thread().ident
    assert main_ident is not None

    def interrupt() -> None:
        if entered.wait(5):
            time.sleep(0.05)  # let the caller block in its wait
            signal.pthread_kill(main_ident, signal.SIGINT)

    killer = threading.Thread(target=interrupt)
    killer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            portal.run(hang)
    finally:
        killer.join()
    # run() waited for the cancelled task to unwind before propagating.
    assert unwound.is_set()
    assert portal.run(_add, 1, 1) == 2


async def test_run_from_trio_points_to_aio() -> None:
    p = Portal("test-portal-fromtrio")
    await trio.to_thread.run_sync(p.start)
    try:
        with pytest.raises(RuntimeError, match=r"rbdpy\.aio"):
            p.run(_add, 1, 2)
        with pytest.raises(RuntimeError, match=r"rbdpy\.aio"):
            p.close()
        # The supported escape hatch: a worker thread may block.
        assert await trio.to_thread.run_sync(p.run, _add, 1, 2) == 3
    finally:
        await trio.to_thread.run_sync(p.close)


def test_run_from_inside_the_portal_loop_is_refused(portal: Portal) -> None:
    async def reenter() -> None:
        portal.run(_add, 1, 2)

    with pytest.raises(RuntimeError, match=r"rbdpy\.aio"):
        portal.run(reenter)


# --------------------------------------------------------------------- spawn / finisher


def test_spawn_callbacks_run_on_one_finisher_thread(portal: Portal) -> None:
    seen: list[tuple[str, int]] = []
    lock = threading.Lock()

    def on_done(p: Pending[int]) -> None:
        with lock:
            seen.append((threading.current_thread().name, p.result()))

    pendings = [portal.spawn(_add, (i, 0), on_done) for i in range(10)]
    for p in pendings:
        assert p.wait_callback(5)
        assert p.done() and p.callback_done()
    assert sorted(v for _, v in seen) == list(range(10))
    assert {name for name, _ in seen} == {"test-portal-finisher"}


def test_spawn_result_and_exception(portal: Portal) -> None:
    ok = portal.spawn(_add, (20, 22))
    bad = portal.spawn(_boom)
    assert ok.result() == 42
    assert ok.exception() is None
    assert isinstance(bad.exception(), Boom)
    with pytest.raises(Boom):
        bad.result()
    # Without on_done, the callback phase is complete as soon as the call is.
    assert ok.callback_done()


def test_callback_may_call_the_blocking_api(portal: Portal) -> None:
    got: list[int] = []

    def on_done(p: Pending[int]) -> None:
        got.append(portal.run(_add, p.result(), 1))

    pending = portal.spawn(_add, (1, 1), on_done)
    assert pending.wait_callback(5)
    assert got == [3]


def test_raising_callback_is_logged_and_finisher_survives(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    def bad_cb(p: Pending[Any]) -> None:
        raise ValueError("callback bug")

    with caplog.at_level(logging.ERROR, logger="rbdpy._sync"):
        first = portal.spawn(_add, (1, 2), bad_cb)
        assert first.wait_callback(5)
    assert "callback bug" in caplog.text
    second_seen = threading.Event()
    portal.spawn(_add, (1, 2), lambda p: second_seen.set())
    assert second_seen.wait(5)


def _spawn_hanging(portal: Portal) -> Pending[None]:
    """A spawned call that runs (it has started) until it is cancelled."""
    started = threading.Event()

    async def hang() -> None:
        started.set()
        await trio.sleep_forever()

    pending = portal.spawn(hang)
    assert started.wait(5)
    return pending


def test_spawn_cancel(portal: Portal) -> None:
    pending = _spawn_hanging(portal)
    pending.cancel()
    assert pending.wait(5)
    assert isinstance(pending.exception(), CallCancelled)
    pending.cancel()  # no-op once finished


def test_close_drains_pending_callbacks() -> None:
    p = Portal("test-portal-drain")
    p.start()
    delivered: list[BaseException | None] = []

    async def hang() -> None:
        await trio.sleep_forever()

    p.spawn(hang, (), lambda pend: delivered.append(pend.exception()))
    time.sleep(0.05)
    p.close()
    assert len(delivered) == 1 and isinstance(delivered[0], PortalClosedError)


def test_close_from_a_callback() -> None:
    p = Portal("test-portal-cbclose")
    p.start()
    closed = threading.Event()

    def on_done(pend: Pending[int]) -> None:
        p.close()
        closed.set()

    p.spawn(_add, (1, 1), on_done)
    assert closed.wait(5)
    assert p.closed
    # The finisher exits on its own after the callback returns.
    deadline = time.monotonic() + 5
    while _portal_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _portal_threads()


# --------------------------------------------------------------------- background tasks


def test_background_task_runs_until_close() -> None:
    p = Portal("test-portal-bg")
    p.start()
    ticks = threading.Semaphore(0)
    cancelled = threading.Event()

    async def ticker() -> None:
        try:
            while True:
                ticks.release()
                await trio.sleep(0.001)
        finally:
            cancelled.set()

    p.start_background(ticker)
    assert ticks.acquire(timeout=5) and ticks.acquire(timeout=5)
    assert p.run(_add, 1, 1) == 2  # calls still served alongside
    p.close()
    assert cancelled.is_set()
    assert not _portal_threads()


def test_background_crash_closes_the_portal() -> None:
    p = Portal("test-portal-crash")
    p.start()
    p.start_background(_boom)
    deadline = time.monotonic() + 5
    while not p.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert p.closed
    with pytest.raises(PortalClosedError, match="crashed") as info:
        p.run(_add, 1, 1)
    assert isinstance(info.value.__cause__, Boom)
    p.close()
    assert not _portal_threads()


# --------------------------------------------------------------------- workers


async def _current_task_id() -> int:
    await trio.lowlevel.checkpoint()
    return id(trio.lowlevel.current_task())


def test_idle_workers_carry_later_calls(portal: Portal) -> None:
    # Sequential calls reuse one parked worker task instead of starting a task each.
    ids = {portal.run(_current_task_id) for _ in range(20)}
    assert len(ids) == 1


def test_a_cancel_hits_only_its_own_call(portal: Portal) -> None:
    victim = _spawn_hanging(portal)
    bystanders = [portal.spawn(_add, (i, 1)) for i in range(10)]
    victim.cancel()
    assert victim.wait(5) and isinstance(victim.exception(), CallCancelled)
    assert [p.result() for p in bystanders] == [i + 1 for i in range(10)]
    # the worker whose scope was cancelled is gone; the portal goes on with the others
    assert portal.run(_add, 2, 3) == 5
    # a late cancel of a finished call must not touch the call its worker runs next
    victim.cancel()
    bystanders[0].cancel()
    assert portal.run(_add, 4, 4) == 8


def test_cancel_before_start_never_runs_the_call(portal: Portal) -> None:
    ran = []

    async def record() -> None:
        ran.append(1)

    gate = threading.Event()

    async def block() -> None:
        await trio.to_thread.run_sync(gate.wait)

    blockers = [portal.spawn(block) for _ in range(3)]
    pending = portal.spawn(record)
    pending.cancel()
    gate.set()
    assert pending.wait(5)
    for b in blockers:
        assert b.wait(5)
    # either cancelled before it ran, or it ran to completion first: never half-way
    assert isinstance(pending.exception(), CallCancelled) or ran == [1]


def test_burst_of_spawns_all_complete(portal: Portal) -> None:
    done = threading.Semaphore(0)
    pendings = [portal.spawn(_add, (i, i), lambda p: done.release()) for i in range(500)]
    for _ in range(500):
        assert done.acquire(timeout=10)
    assert [p.result() for p in pendings] == [2 * i for i in range(500)]
    assert all(p.callback_done() for p in pendings)


def test_latch_wait_timeout_and_many_waiters(portal: Portal) -> None:
    gate = threading.Event()

    async def slow() -> int:
        await trio.to_thread.run_sync(gate.wait)
        return 7

    pending = portal.spawn(slow)
    assert pending.wait(0.05) is False and not pending.done()
    results: list[int] = []
    waiters = [threading.Thread(target=lambda: results.append(pending.result()))
               for _ in range(5)]
    for t in waiters:
        t.start()
    gate.set()
    for t in waiters:
        t.join(5)
    assert results == [7] * 5 and pending.done() and pending.wait(0)


# --------------------------------------------------------------------- doorbell


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_many_portals_do_not_leak_descriptors() -> None:
    with Portal("test-portal-warm") as p:  # trio's own first-use descriptors
        p.run(_add, 0, 0)
    before = _open_fds()
    for i in range(20):
        with Portal(f"test-portal-{i}") as p:
            p.run(_add, i, i)
        assert p._doorbell is None
    assert _open_fds() == before


def test_calls_arriving_while_every_worker_is_busy_still_run(portal: Portal) -> None:
    # The listener is busy with a hanging call, so nobody listens on the doorbell: the
    # calls submitted meanwhile take the run_sync_soon hand-out path.
    gate = threading.Event()

    async def hang() -> str:
        await trio.to_thread.run_sync(gate.wait)
        return "released"

    blocker = portal.spawn(hang)
    time.sleep(0.05)
    assert [portal.run(_add, i, 1) for i in range(20)] == [i + 1 for i in range(20)]
    gate.set()
    assert blocker.result() == "released"
    # and the doorbell is served again afterwards, by one worker
    ids = {portal.run(_current_task_id) for _ in range(20)}
    assert len(ids) == 1


def test_doorbell_and_hand_out_paths_race_from_many_threads(portal: Portal) -> None:
    # Callers on several threads mixing blocking calls and spawns keep the listener
    # busy, idle and busy again: every call must run exactly once.
    errors: list[BaseException] = []
    ran = []

    async def record(i: int) -> int:
        ran.append(i)
        await trio.lowlevel.checkpoint()
        return i

    def caller(base: int) -> None:
        try:
            for i in range(base, base + 300):
                if i % 3:
                    assert portal.run(record, i) == i
                else:
                    assert portal.spawn(record, (i,)).result() == i
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert sorted(ran) == [k * 1000 + i for k in range(4) for i in range(300)]


def test_a_cancelled_listener_call_leaves_the_doorbell_served(portal: Portal) -> None:
    # The worker that was listening runs the call; cancelling it ends that worker, and
    # the doorbell must still find a listener for the calls after it.
    victim = _spawn_hanging(portal)
    victim.cancel()
    assert victim.wait(5) and isinstance(victim.exception(), CallCancelled)
    for i in range(10):
        assert portal.run(_add, i, i) == 2 * i


def test_doorbell_falls_back_to_a_pipe_without_eventfd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "eventfd", raising=False)
    with Portal("test-portal-pipe") as p:
        assert p._doorbell is not None and p._doorbell.fileno != p._doorbell._write_fd
        assert [p.run(_add, i, 1) for i in range(50)] == [i + 1 for i in range(50)]
        done = threading.Semaphore(0)
        spawned = [p.spawn(_add, (i, i), lambda _: done.release()) for i in range(50)]
        for _ in range(50):
            assert done.acquire(timeout=10)
        assert [s.result() for s in spawned] == [2 * i for i in range(50)]
    assert p._doorbell is None


# ------------------------------------------------- exceptions handed to callers (issue 21)
#
# A caller may keep an exception and clear its frames (unittest's assertRaises runs
# traceback.clear_frames on what it caught). Clearing the frame of a suspended coroutine
# closes that coroutine from the caller's thread, so no exception a caller gets may
# reference a frame of the loop.


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc``, its causes and contexts, and the members of any group among them."""
    out: list[BaseException] = []
    todo = [exc]
    while todo:
        e = todo.pop()
        if any(e is seen for seen in out):
            continue
        out.append(e)
        todo += [x for x in (e.__cause__, e.__context__) if x is not None]
        if isinstance(e, BaseExceptionGroup):
            todo += list(e.exceptions)
    return out


def _frames(exc: BaseException) -> list[Any]:
    return [f for e in _chain(exc) for f, _ in traceback.walk_tb(e.__traceback__)]


def _loop_frames(exc: BaseException) -> list[Any]:
    """Frames of coroutines (all of them run on the loop here) anywhere in the chain."""
    return [f for f in _frames(exc) if f.f_code.co_flags & inspect.CO_COROUTINE]


async def _nested_failure() -> None:
    try:
        await _boom()
    except Boom as exc:
        raise ValueError("wrapped") from exc


def test_run_hands_over_no_loop_frames_but_keeps_them_as_a_note(portal: Portal) -> None:
    with pytest.raises(Boom) as info:
        portal.run(_boom)
    exc = info.value
    assert _loop_frames(exc) == []
    # The caller's own frames are there, as for any exception.
    assert any(f.f_code.co_name == "run" for f in _frames(exc))
    note = "\n".join(getattr(exc, "__notes__", []))
    assert "event-loop traceback" in note and "_boom" in note and "_worker" not in note


def test_clear_frames_on_held_exceptions_leaves_the_portal_alive(portal: Portal) -> None:
    # The failure, without a cluster: a held exception whose frames are cleared
    # from the caller's thread, again and again, while the same workers keep serving.
    held: list[BaseException] = []
    for _ in range(50):
        try:
            portal.run(_nested_failure)
        except ValueError as exc:
            held.append(exc)
            for e in _chain(exc):
                traceback.clear_frames(e.__traceback__)
        assert portal.run(_add, 1, 1) == 2
    assert not portal.closed
    assert isinstance(held[-1].__cause__, Boom)
    assert _loop_frames(held[-1]) == []
    assert "_boom" in "\n".join(getattr(held[-1].__cause__, "__notes__", []))


def test_chained_and_grouped_exceptions_are_detached(portal: Portal) -> None:
    async def boom_now() -> None:  # no checkpoint: not cancelled by its sibling's failure
        raise Boom("now")

    async def wrapped_now() -> None:
        try:
            await boom_now()
        except Boom as exc:
            raise ValueError("wrapped") from exc

    async def group() -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(boom_now)
            nursery.start_soon(wrapped_now)

    with pytest.raises(BaseExceptionGroup) as info:
        portal.run(group)
    kinds = sorted(type(e).__name__ for e in _chain(info.value))
    assert "Boom" in kinds and "ValueError" in kinds
    assert _loop_frames(info.value) == []
    assert portal.run(_add, 2, 2) == 4


def test_a_stored_exception_raised_to_many_callers_gives_each_its_own_copy(
    portal: Portal,
) -> None:
    stored = Boom("stored on the loop")

    async def raise_stored() -> None:
        await trio.lowlevel.checkpoint()
        raise stored

    got: list[BaseException] = []
    for _ in range(3):
        try:
            portal.run(raise_stored)
        except Boom as exc:
            got.append(exc)
    assert len({id(e) for e in got}) == 3 and all(e is not stored for e in got)
    assert all(str(e) == "stored on the loop" and _loop_frames(e) == [] for e in got)
    # The loop's own object is left as the loop left it; notes do not pile up.
    assert not hasattr(stored, "__notes__")
    assert all(len(getattr(e, "__notes__", [])) == 1 for e in got)


class _Unbuildable(Exception):
    """An exception class whose args cannot rebuild it (a copy is impossible)."""

    def __init__(self, a: int, b: int) -> None:
        super().__init__(f"{a}+{b}")


def test_an_exception_that_cannot_be_copied_still_loses_its_loop_frames(
    portal: Portal,
) -> None:
    async def raise_unbuildable() -> None:
        await trio.lowlevel.checkpoint()
        raise _Unbuildable(1, 2)

    with pytest.raises(_Unbuildable, match=r"1\+2") as info:
        portal.run(raise_unbuildable)
    assert _loop_frames(info.value) == []
    traceback.clear_frames(info.value.__traceback__)
    assert portal.run(_add, 1, 2) == 3


class _OddGroup(BaseExceptionGroup):  # type: ignore[misc,type-arg,unused-ignore]
    """A group subclass whose derive() (the inherited one) makes a plain group."""


def test_an_uncopyable_group_is_stripped_in_place(portal: Portal) -> None:
    async def raise_odd() -> None:
        members: list[Exception] = []
        for _ in range(2):
            try:
                await _boom()
            except Boom as exc:
                members.append(exc)
        raise _OddGroup("odd", members)

    with pytest.raises(_OddGroup) as info:
        portal.run(raise_odd)
    assert len(info.value.exceptions) == 2 and _loop_frames(info.value) == []
    assert portal.run(_add, 1, 2) == 3


def test_spawned_call_exception_is_detached(portal: Portal) -> None:
    pending = portal.spawn(_nested_failure)
    exc = pending.exception()
    assert isinstance(exc, ValueError) and _loop_frames(exc) == []
    assert exc.__traceback__ is None  # nothing raised it on the caller's side yet


def test_background_crash_cause_is_detached() -> None:
    p = Portal("test-portal-crashcause")
    p.start()
    try:
        p.start_background(_boom)
        deadline = time.monotonic() + 5
        while not p.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(PortalClosedError) as info:
            p.run(_add, 1, 1)
        assert isinstance(info.value.__cause__, Boom)
        assert _loop_frames(info.value) == []
    finally:
        p.close()


# ------------------------------------------------------- garbage collection anywhere


def test_gc_on_the_loop_thread_the_finisher_and_a_foreign_thread(portal: Portal) -> None:
    """Collections forced on every thread while calls are in flight and exceptions with
    cleared frames pile up: the portal keeps serving."""
    stop = threading.Event()
    errors: list[BaseException] = []

    async def collect_on_loop() -> None:
        gc.collect()
        await trio.lowlevel.checkpoint()

    def collector() -> None:
        while not stop.is_set():
            gc.collect(0)
            time.sleep(0.001)

    def caller() -> None:
        try:
            for i in range(100):
                try:
                    portal.run(_nested_failure)
                except ValueError as exc:
                    traceback.clear_frames(exc.__traceback__)
                assert portal.run(_add, i, 1) == i + 1
        except BaseException as exc:
            errors.append(exc)

    foreign = threading.Thread(target=collector)
    callers = [threading.Thread(target=caller) for _ in range(4)]
    foreign.start()
    for t in callers:
        t.start()
    pendings = [
        portal.spawn(collect_on_loop, (), lambda _p: gc.collect()) for _ in range(20)
    ]
    for t in callers:
        t.join(60)
    stop.set()
    foreign.join(10)
    assert all(p.wait_callback(10) for p in pendings)
    assert errors == [] and not portal.closed
    assert portal.run(_add, 1, 1) == 2


# ------------------------------------------------------------- run_for_finalizer


class _Resource:
    """Stands for a facade object (an Image) whose finalizer runs a call on the loop."""

    def __init__(self, portal: Portal, closed: list[str]) -> None:
        async def close() -> None:
            await trio.lowlevel.checkpoint()
            closed.append(threading.current_thread().name)

        self.finalizer = weakref.finalize(self, portal.run_for_finalizer, close)
        self.finalizer.atexit = False


def test_finalizer_on_a_caller_thread_waits_for_its_call(portal: Portal) -> None:
    closed: list[str] = []
    res = _Resource(portal, closed)
    del res
    assert closed == ["test-portal-trio"]  # done by the time `del` returns


def test_finalizer_inside_a_collection_defers_and_the_next_call_sees_it_done(
    portal: Portal,
) -> None:
    closed: list[str] = []
    res = _Resource(portal, closed)
    cycle: list[Any] = [res]
    cycle.append(cycle)
    del res, cycle
    gc.collect()  # the finalizer runs inside the collection: it must not block there
    portal.run(_add, 0, 0)  # ... and the next call on the portal finishes it first
    assert closed == ["test-portal-trio"]


def test_finalizer_on_the_loop_thread_is_handed_to_the_finisher(portal: Portal) -> None:
    closed: list[str] = []
    holder: list[Any] = [_Resource(portal, closed)]

    async def drop_on_loop() -> None:
        holder.clear()  # the last reference goes on the trio thread
        await trio.lowlevel.checkpoint()

    portal.run(drop_on_loop)
    portal.run(_add, 0, 0)
    assert closed == ["test-portal-trio"]


def test_finalizer_in_a_finisher_callback(portal: Portal) -> None:
    closed: list[str] = []
    holder: list[Any] = [_Resource(portal, closed)]
    pending = portal.spawn(_add, (1, 2), lambda _p: holder.clear())
    assert pending.wait_callback(10)
    assert closed == ["test-portal-trio"]


def test_finalizer_after_close_does_nothing() -> None:
    closed: list[str] = []
    p = Portal("test-portal-finclosed")
    p.start()
    res = _Resource(p, closed)
    p.close()
    del res
    assert closed == []


def test_finalizer_then_close_shuts_the_portal_down() -> None:
    p = Portal("test-portal-finshut")
    p.start()
    done: list[bool] = []

    async def shutdown() -> None:
        done.append(True)

    p.run_for_finalizer(shutdown, then_close=True)
    assert done == [True] and p.closed
    assert not [t for t in threading.enumerate() if t.name.startswith("test-portal-finshut")]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_finalizer_in_a_forked_child_does_not_wait_for_threads_it_lacks(
    portal: Portal,
) -> None:
    closed: list[str] = []
    res = _Resource(portal, closed)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            del res  # no portal thread here: waiting for one would hang forever
            os.write(write_fd, b"ok")
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 60)
        if not ready:  # the child hangs: do not hang the test run with it
            os.kill(pid, signal.SIGKILL)
        assert ready and os.read(read_fd, 2) == b"ok"
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    assert closed == []
    del res
    assert closed == ["test-portal-trio"]
