"""Running many object operations of one request at once, with librbd's error semantics.

One image request becomes many object ops. They run concurrently up to a bound, every one is
allowed to finish, and the request then fails with the first error *in object order*:
librbd reports a single return code per request, so no ExceptionGroup ever leaves librbd.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import trio

# Object ops of one request in flight at once (librbd bounds it with
# rbd_concurrent_management_ops for maintenance and the objecter throttle for I/O).
MAX_CONCURRENT_OPS = 32


async def fan_out(jobs: Sequence[Callable[[], Awaitable[None]]],
                  limit: int = MAX_CONCURRENT_OPS) -> None:
    """Run ``jobs`` concurrently (at most ``limit`` at once); raise the first failure in
    job order once all have finished."""
    if len(jobs) == 1:
        await jobs[0]()
        return
    errors: list[Exception | None] = [None] * len(jobs)
    limiter = trio.CapacityLimiter(limit)

    async def run(i: int) -> None:
        async with limiter:
            try:
                await jobs[i]()
            except Exception as e:  # collected; re-raised in order below
                errors[i] = e

    async with trio.open_nursery() as nursery:
        for i in range(len(jobs)):
            nursery.start_soon(run, i)
    for e in errors:
        if e is not None:
            raise e


__all__ = ["MAX_CONCURRENT_OPS", "fan_out"]
