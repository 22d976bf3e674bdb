"""The trio-native async API: the same classes and method names as ``rbdpy.rados`` and
``rbdpy.rbd``, with ``async`` methods.

    import trio
    from rbdpy import aio

    async def main():
        async with aio.AsyncRados(conffile="/etc/ceph/ceph.conf") as cluster:
            print(await cluster.list_pools())

    trio.run(main)

Exceptions are the same classes as the sync API raises (``rbdpy.rados.ObjectNotFound``...).
"""

from __future__ import annotations

from rbdpy.librbd.api import AsyncRBD
from rbdpy.librbd.image import AsyncImage
from rbdpy.rados.client import AsyncRados
from rbdpy.rados.ioctx import AsyncIoctx, AsyncWatch, ObjectLister, OmapResult, ReadOp, WriteOp

__all__ = [
    "AsyncImage",
    "AsyncIoctx",
    "AsyncRBD",
    "AsyncRados",
    "AsyncWatch",
    "ObjectLister",
    "OmapResult",
    "ReadOp",
    "WriteOp",
    "connect",
]


async def connect(*args: object, timeout: float = 0, **kwargs: object) -> AsyncRados:
    """Create an :class:`AsyncRados` with ``Rados``' arguments and connect it."""
    r = AsyncRados(*args, **kwargs)  # type: ignore[arg-type]
    await r.connect(timeout)
    return r
