"""AsyncIoctx: object I/O in one pool (and namespace), the async twin of ``rados.Ioctx``.

Theory of operation: every public method builds a list of OSD sub-ops
(:mod:`rbdpy.rados.proto.ops`) for ONE object and hands it to :meth:`AsyncIoctx._operate`,
which wraps it in an Objecter :class:`~rbdpy.rados.objecter.Op` with this context's pool,
namespace, locator key, read snapshot and write snap context, awaits the reply and raises on
a negative result. ``_operate`` is also the internal op API the RBD layer uses (as librbd
only uses librados). Error translation to python-rados classes happens at each public
method, with python-rados' message text.

Mirrors: ceph src/librados/IoCtxImpl.cc (operate, operate_read, write, read, stat,
exec), src/pybind/rados/rados.pyx (Ioctx).
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rbdpy.rados import exceptions as rx
from rbdpy.rados.client import translate
from rbdpy.rados.objecter import Op, now_utime
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.denc import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.messages.osd import MOSDOpReply
from rbdpy.rados.proto.objecter_core import OpTarget
from rbdpy.rados.proto.ops import OSDOp
from rbdpy.rados.proto.types import SnapContext

if TYPE_CHECKING:
    from rbdpy.rados.client import AsyncRados

log = logging.getLogger(__name__)

Buffer = bytes | bytearray | memoryview

# CEPH_OSD_FLAG_* (ceph src/include/rados.h)
_FLAG_READ = 0x0010
_FLAG_WRITE = 0x0020
_FLAG_ONDISK = 0x0004
_FLAG_ACK = 0x0001


def _b(s: str | bytes) -> bytes:
    return s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)


class AsyncIoctx:
    """An I/O context for one pool; create with ``AsyncRados.open_ioctx``."""

    def __init__(self, rados: AsyncRados, pool_id: int, pool_name: str) -> None:
        self.rados = rados
        self.pool_id = pool_id
        self.name = pool_name
        self.nspace = ""
        self.locator_key = ""
        self.snap_read = CEPH_NOSNAP
        self.snapc = SnapContext()
        self.last_version = 0
        self.state = "open"

    # -- context -------------------------------------------------------------------------

    def require_ioctx_open(self) -> None:
        if self.state != "open":
            raise rx.IoctxStateError("The pool is closed.")

    def set_namespace(self, nspace: str) -> None:
        self.require_ioctx_open()
        self.nspace = nspace or ""

    def get_namespace(self) -> str:
        self.require_ioctx_open()
        return self.nspace

    def set_locator_key(self, loc_key: str) -> None:
        self.require_ioctx_open()
        self.locator_key = loc_key or ""

    def get_locator_key(self) -> str:
        self.require_ioctx_open()
        return self.locator_key

    def set_read(self, snap_id: int) -> None:
        self.require_ioctx_open()
        self.snap_read = snap_id

    def get_pool_id(self) -> int:
        self.require_ioctx_open()
        return self.pool_id

    def get_pool_name(self) -> str:
        self.require_ioctx_open()
        return self.name

    def get_last_version(self) -> int:
        self.require_ioctx_open()
        return self.last_version

    def close(self) -> None:
        self.state = "closed"

    # -- the internal op API -------------------------------------------------------------

    async def _operate(self, oid: str | bytes, osd_ops: Sequence[OSDOp], *,
                       flags: int = 0, snapc: SnapContext | None = None,
                       snapid: int | None = None, nspace: str | None = None,
                       ) -> MOSDOpReply:
        """Run ``osd_ops`` on one object; raise CephError for a negative overall result.

        Per-op results are in the returned reply (``reply.rvals``/``reply.outdata``).
        """
        self.require_ioctx_open()
        objecter = self.rados._objecter()
        op_flags = ops.ops_flags(osd_ops) | flags
        if not op_flags & (_FLAG_READ | _FLAG_WRITE):
            # Only CALLs: librados' exec is a read op; the OSD learns from the class
            # method's own flags whether it writes. Callers that need a snap context on a
            # writing method pass flags=WRITE (librbd does, through a write op).
            op_flags |= _FLAG_READ
        is_write = bool(op_flags & _FLAG_WRITE)
        if is_write:
            op_flags |= _FLAG_ONDISK
        target = OpTarget(base_pool=self.pool_id, base_oid=_b(oid),
                          key=_b(self.locator_key),
                          nspace=_b(self.nspace if nspace is None else nspace),
                          flags=op_flags)
        op = Op(target=target, ops=list(osd_ops), flags=op_flags,
                snapc=(snapc or self.snapc) if is_write else SnapContext(),
                snapid=CEPH_NOSNAP if is_write else (self.snap_read if snapid is None
                                                      else snapid),
                mtime=now_utime() if is_write else (0, 0))
        reply = await objecter.submit(op)
        self.last_version = reply.user_version
        if reply.result < 0:
            raise CephError(-reply.result, f"osd op on {oid!r} failed")
        return reply

    async def _op1(self, oid: str | bytes, op: OSDOp, **kw: Any) -> Any:
        """One op; its decoded result."""
        reply = await self._operate(oid, [op], **kw)
        return op.decode_reply(reply.rvals[0], reply.outdata[0])

    # -- python-rados object API ---------------------------------------------------------

    async def write(self, key: str, data: bytes, offset: int = 0) -> int:
        with translate(f'Ioctx.write({self.name}): failed to write {key}'):
            await self._op1(key, ops.write(offset, data))
        return 0

    async def write_full(self, key: str, data: bytes) -> int:
        with translate(f'Ioctx.write_full({self.name}): failed to write {key}'):
            await self._op1(key, ops.writefull(data))
        return 0

    async def append(self, key: str, data: bytes) -> int:
        with translate(f'Ioctx.append({self.name}): failed to append {key}'):
            await self._op1(key, ops.append(data))
        return 0

    async def writesame(self, key: str, data: bytes, write_len: int, offset: int = 0) -> None:
        with translate(f'Ioctx.writesame({self.name}): failed to write {key}'):
            await self._op1(key, ops.writesame(offset, write_len, data))

    async def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        with translate(f'Ioctx.read({self.name}): failed to read {key}'):
            out = await self._op1(key, ops.read(offset, length))
        return bytes(out)

    async def stat(self, key: str) -> tuple[int, time.struct_time]:
        with translate(f'Failed to stat {key!r}'):
            st = await self._op1(key, ops.stat())
        return st.size, time.localtime(st.mtime[0])

    async def trunc(self, key: str, size: int) -> int:
        with translate(f'Ioctx.trunc({self.name}): failed to truncate {key}'):
            await self._op1(key, ops.truncate(size))
        return 0

    async def remove_object(self, key: str) -> bool:
        with translate(f'Failed to remove \'{key}\''):
            await self._op1(key, ops.delete())
        return True

    async def get_xattr(self, key: str, xattr_name: str) -> bytes:
        with translate(f'Failed to get xattr {xattr_name!r}'):
            out = await self._op1(key, ops.getxattr(xattr_name))
        return bytes(out)

    async def get_xattrs(self, oid: str) -> dict[str, bytes]:
        with translate(f'Failed to get rados xattrs for object {oid!r}'):
            attrs: dict[str, bytes] = await self._op1(oid, ops.getxattrs())
        return attrs

    async def set_xattr(self, key: str, xattr_name: str, xattr_value: bytes) -> bool:
        with translate(f'Failed to set xattr {xattr_name!r}'):
            await self._op1(key, ops.setxattr(xattr_name, xattr_value))
        return True

    async def rm_xattr(self, key: str, xattr_name: str) -> bool:
        with translate(f'Failed to delete key {key!r} xattr {xattr_name!r}'):
            await self._op1(key, ops.rmxattr(xattr_name))
        return True

    async def execute(self, key: str, cls: str, method: str, data: bytes,
                      length: int = 8192) -> tuple[int, bytes]:
        with translate(f'Ioctx.exec({self.name}): failed to exec {cls}:{method} on {key}'):
            op = ops.call(cls, method, data)
            reply = await self._operate(key, [op])
        return reply.rvals[0], bytes(reply.outdata[0][:length])


def ioctx_not_found(pool: str) -> CephError:
    return CephError(errno.ENOENT, f"pool {pool!r} does not exist")
