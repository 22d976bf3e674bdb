"""The trio-native async API: the same classes and method names as ``rbdpy.rados`` and
``rbdpy.rbd``, with ``async`` methods.

    import trio
    from rbdpy import aio

    async def main():
        async with aio.open_rados(conffile="/etc/ceph/ceph.conf") as cluster:
            print(await cluster.list_pools())

    trio.run(main)

``open_rados`` runs the handle's background tasks (mon and OSD sessions, watches) in the
caller's task; ``async with aio.AsyncRados(...)`` or a bare ``connect()`` runs them in a trio
system task, as a python-rados handle that may outlive the task that connected it.

Exceptions are the same classes as the sync API raises (``rbdpy.rados.ObjectNotFound``...).
"""

from __future__ import annotations

from rbdpy.librbd.api import AsyncRBD
from rbdpy.librbd.group import AsyncGroup
from rbdpy.librbd.image import AsyncImage
from rbdpy.rados.client import AsyncRados, open_rados
from rbdpy.rados.ioctx import AsyncIoctx, AsyncWatch, ObjectLister, OmapResult, ReadOp, WriteOp

__all__ = [
    "AsyncGroup",
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
    "open_rados",
]


async def connect(*args: object, timeout: float = 0, **kwargs: object) -> AsyncRados:
    """Create an :class:`AsyncRados` with ``Rados``' arguments and connect it."""
    r = AsyncRados(*args, **kwargs)  # type: ignore[arg-type]
    await r.connect(timeout)
    return r
