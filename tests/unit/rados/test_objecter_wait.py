"""Op.wait(): a reply that lands after the waiter was cancelled must not reschedule it."""

from __future__ import annotations

import trio
import trio.testing

from rbdpy.rados.objecter import Op
from rbdpy.rados.proto.objecter_core import OpTarget


async def test_finish_after_cancel_does_not_reschedule_twice() -> None:
    op = Op(target=OpTarget(base_pool=1, base_oid=b"x"), ops=[], flags=0)
    scope = trio.CancelScope()

    async def waiter() -> None:
        with scope:
            await op.wait()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(waiter)
        await trio.testing.wait_all_tasks_blocked()
        # Cancellation and the reply in the same step, before the waiter runs again.
        scope.cancel()
        op.finish()
    assert scope.cancelled_caught and op.finished


async def test_finish_wakes_the_waiter() -> None:
    op = Op(target=OpTarget(base_pool=1, base_oid=b"x"), ops=[], flags=0)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(op.wait)
        await trio.testing.wait_all_tasks_blocked()
        op.finish()
    assert op.finished
