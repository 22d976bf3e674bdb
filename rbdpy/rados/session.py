"""What an I/O context needs from its cluster handle: the ``RadosSession`` interface.

``AsyncIoctx`` (ioctx.py) sits one layer above ``AsyncRados`` (client.py): it may import the
client, the client never imports it. The ioctx's own work only touches the small surface
below — the current OSD map, the Objecter, the MonClient, pool ops and the handle's
background tasks — so it can be driven (and unit-tested) by anything that has them.

The client still has to *create* ioctxs (``AsyncRados.open_ioctx`` is python-rados API).
It does so through the factory the ioctx module registers here when it is imported
(:func:`register_ioctx_factory`), so the arrow between the two modules points one way.

Mirrors: librados keeps the same split — IoCtxImpl holds a RadosClient pointer and only
uses its objecter, monclient and pool-op calls (src/librados/IoCtxImpl.h).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rbdpy.rados.background import BackgroundTasks
from rbdpy.rados.monclient import MonClient
from rbdpy.rados.objecter import Objecter
from rbdpy.rados.proto.osdmap import OSDMap


class RadosSession(Protocol):
    """The part of a connected cluster handle an I/O context uses."""

    @property
    def osdmap(self) -> OSDMap | None:
        """The newest OSD map the handle has (None before the first one)."""

    @property
    def monc(self) -> MonClient | None:
        """The handle's MonClient (None before ``connect``)."""

    @property
    def background(self) -> BackgroundTasks:
        """Where the ioctx starts its long-lived tasks (watches)."""

    def require_objecter(self) -> Objecter:
        """The Objecter; CephError(ENOTCONN) unless the handle is connected."""

    async def pool_op(self, op: int, pool: int = 0, name: str = "", snapid: int = 0,
                      crush_rule: int = 0) -> int:
        """Send an MPoolOp; return once our map has its epoch (the new snap id, or 0)."""

    async def wait_for_latest_osdmap(self) -> int:
        """Wait until the handle has the newest OSD map the monitors know."""


#: ``factory(handle, pool_id, pool_name)`` → a new I/O context on that pool.
IoctxFactory = Callable[[Any, int, str], Any]

_ioctx_factory: IoctxFactory | None = None


def register_ioctx_factory(factory: IoctxFactory) -> None:
    """Called once by rbdpy.rados.ioctx at import: how handles make their ioctxs."""
    global _ioctx_factory
    _ioctx_factory = factory


def ioctx_factory() -> IoctxFactory:
    """The registered factory.

    :raises RuntimeError: rbdpy.rados.ioctx was never imported (every public entry point —
        ``rbdpy.aio``, the facade — imports it).
    """
    if _ioctx_factory is None:
        raise RuntimeError("no I/O context factory registered: import rbdpy.rados.ioctx")
    return _ioctx_factory
