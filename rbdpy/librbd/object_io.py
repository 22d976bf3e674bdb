"""The seam between librbd and RADOS: the typed interface librbd drives, and ``exec_ops``.

librbd never reaches into the rados driver layer's internals. Everything it does to objects
goes through the :class:`ImageIoctx` protocol below (the methods of
:class:`rbdpy.rados.ioctx.AsyncIoctx` it relies on) and the :class:`ClusterHandle` behind
it; :func:`exec_ops` turns cls calls and plain OSD ops into one compound op. Keeping the
seam this narrow lets the I/O paths run against an in-memory object store in unit tests,
and tells the rados layer exactly which of its methods librbd depends on.

Errors cross the seam as :class:`~rbdpy.rados.proto.errors.CephError` (an errno); only the
public face translates them (rbdpy.librbd.errors).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from rbdpy.format.cls import ClsCall
from rbdpy.rados.proto.ops import OsdFlag, OSDOp
from rbdpy.rados.proto.types import SnapContext


class OperateReply(Protocol):
    """What an executed compound op returns: one return value and one output per op."""

    @property
    def rvals(self) -> Sequence[int]: ...

    @property
    def outdata(self) -> Sequence[memoryview]: ...


class NotifyAcks(Protocol):
    """The acknowledgements of a notify, by (watcher gid, watch cookie)."""

    @property
    def acks(self) -> Mapping[Any, bytes]: ...


class WatchHandle(Protocol):
    """A registered watch: its id (the cookie peers see) and how to remove it."""

    @property
    def id(self) -> int: ...

    async def close(self) -> None: ...


NotifyCallback = Callable[[int, int, int, bytes], "bytes | None"]
WatchErrorCallback = Callable[[int, int], None]


class ClusterHandle(Protocol):
    """What librbd needs from the cluster handle (``AsyncRados``) itself."""

    def get_instance_id(self) -> int: ...

    async def blocklist_add(self, client_address: str, expire_seconds: int = 0) -> None: ...


class ImageIoctx(Protocol):
    """What librbd needs from a pool I/O context (``AsyncIoctx``)."""

    @property
    def rados(self) -> ClusterHandle: ...

    @property
    def pool_id(self) -> int: ...

    async def operate(self, oid: str | bytes, osd_ops: Sequence[OSDOp], *, flags: int = 0,
                      snapc: SnapContext | None = None, snapid: int | None = None,
                      ) -> OperateReply:
        """Run ``osd_ops`` on one object as one op; CephError for a negative result."""
        ...

    async def notify_with_acks(self, obj: str | bytes, payload: bytes, timeout_ms: int
                               ) -> tuple[int, NotifyAcks | None]:
        """Notify the object's watchers and wait: (return code, their acks)."""
        ...

    async def watch(self, obj: str, callback: NotifyCallback,
                    error_callback: WatchErrorCallback | None = None,
                    timeout: int | None = None) -> WatchHandle: ...

    async def list_watchers(self, obj: str) -> list[Any]: ...


async def exec_ops(ioctx: ImageIoctx, oid: str, calls: Sequence[ClsCall[Any] | OSDOp],
                   snapc: SnapContext | None = None, snapid: int | None = None) -> list[Any]:
    """Run cls calls (and plain ops) on one object in ONE compound op; decoded results.

    A mutating call makes the whole op a write (the WRITE flag, so the image snap context
    travels with it), as librados' ObjectWriteOperation does. The first failing op fails
    the whole op and its errno is raised as CephError, as librados' aio_operate reports it.
    """
    osd_ops = [c.op() if isinstance(c, ClsCall) else c for c in calls]
    write = any(c.write if isinstance(c, ClsCall) else c.is_write() for c in calls)
    reply = await ioctx.operate(oid, osd_ops, flags=OsdFlag.WRITE if write else 0, snapc=snapc,
                                snapid=snapid)
    return [o.decode_reply(r, d) for o, r, d in zip(osd_ops, reply.rvals, reply.outdata,
                                                    strict=True)]


__all__ = ["ClusterHandle", "ImageIoctx", "NotifyAcks", "NotifyCallback", "OperateReply",
           "WatchErrorCallback", "WatchHandle", "exec_ops"]
