"""BackgroundTasks: a crashing background task is reported once and contained."""

from __future__ import annotations

import logging

import pytest
import trio
import trio.testing

from rbdpy.rados.background import BackgroundTasks


async def test_crash_is_logged_once_and_handed_to_on_crash(
        caplog: pytest.LogCaptureFixture) -> None:
    crashes: list[BaseException] = []
    survivor_ran = trio.Event()

    async def broken() -> None:
        await trio.lowlevel.checkpoint()
        raise RuntimeError("injected")

    async def survivor() -> None:
        await trio.sleep(0.01)
        survivor_ran.set()
        await trio.sleep_forever()

    caplog.set_level(logging.WARNING, logger="rbdpy")
    async with trio.open_nursery() as nursery:
        bg = BackgroundTasks("test handle")
        await nursery.start(bg.run)
        bg.start_soon(survivor, name="survivor")
        bg.start_soon(broken, name="broken", on_crash=crashes.append)
        await survivor_ran.wait()  # the crash did not cancel its sibling
        assert bg.running
        bg.close()
    assert not bg.running and bg.closed
    assert [type(e) for e in crashes] == [RuntimeError]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "test handle broken" in warnings[0].getMessage()
    assert "injected" in warnings[0].getMessage()


async def test_a_crash_inside_a_nested_nursery_is_named_by_its_error(
        caplog: pytest.LogCaptureFixture) -> None:
    async def nested() -> None:
        async with trio.open_nursery() as n:
            n.start_soon(trio.sleep_forever)
            raise KeyError("deep")

    caplog.set_level(logging.WARNING, logger="rbdpy")
    async with trio.open_nursery() as nursery:
        bg = BackgroundTasks("h")
        await nursery.start(bg.run)
        bg.start_soon(nested, name="nested")
        await trio.testing.wait_all_tasks_blocked()
        bg.close()
    (w,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "KeyError('deep')" in w.getMessage()


async def test_a_service_is_restarted_at_once_after_a_crash() -> None:
    runs = 0
    third_run = trio.Event()

    async def service() -> None:
        nonlocal runs
        runs += 1
        if runs < 3:
            raise RuntimeError(f"crash {runs}")
        third_run.set()
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        bg = BackgroundTasks("h")
        await nursery.start(bg.run)
        bg.start_service(service, name="svc")
        with trio.fail_after(5):
            await third_run.wait()
        bg.close()
        await bg.wait_closed()
    assert runs == 3


async def test_start_after_close_is_refused() -> None:
    async with trio.open_nursery() as nursery:
        bg = BackgroundTasks("h")
        await nursery.start(bg.run)
        bg.close()
    with pytest.raises(RuntimeError):
        bg.start_soon(trio.sleep, 0)
