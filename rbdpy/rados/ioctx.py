"""AsyncIoctx: object I/O in one pool (and namespace), the async twin of ``rados.Ioctx``.

Theory of operation: every public method builds a list of OSD sub-ops
(:mod:`rbdpy.rados.proto.ops`) for ONE object and hands it to :meth:`AsyncIoctx._operate`,
which wraps it in an Objecter :class:`~rbdpy.rados.objecter.Op` with this context's pool,
namespace, locator key, read snapshot and write snap context, awaits the reply and raises on
a negative result. ``_operate`` is also the internal op API the RBD layer uses (as librbd
only uses librados). Error translation to python-rados classes happens at each public
method, with python-rados' message text.

Compound operations: :class:`WriteOp`/:class:`ReadOp` collect sub-ops (librados'
ObjectWriteOperation/ObjectReadOperation); ``operate_write_op``/``operate_read_op`` send
them as one MOSDOp and hand each op's output to the :class:`OmapResult` the builder
returned (how ``rados_read_op_omap_get_vals2`` fills its iterator).

Listing: :class:`ObjectLister` walks every PG of the pool with PGNLS ops aimed at the pg
itself (no object name; ``precalc_seed``), resuming each PG from the cursor the OSD returns
until it reports the PG exhausted, exactly as librados' NListContext does.

Watch/notify are *linger* operations (Objecter LingerOp): a watch registers with a WATCH op
and then lives in a background task that pings it every few seconds and re-registers it
(RECONNECT, gen+1) when the OSD says the watch lost its connection — after our session to
the OSD reset or the OSD restarted. MWatchNotify messages reach :class:`WatchRegistry`
through the Objecter's ``on_watch_notify`` hook and are dispatched by cookie: a NOTIFY runs
the watch's callback (in order, one at a time) and answers with NOTIFY_ACK carrying the
callback's return value; a NOTIFY_COMPLETE finishes the matching ``notify()``.

Mirrors: ceph src/librados/IoCtxImpl.cc (operate, operate_read, write, read, stat, exec,
nlist, watch, notify, selfmanaged_snap_*, snap_*, application_*), src/osdc/Objecter.cc
(linger_watch, _send_linger_ping, _linger_ping, handle_watch_notify, pg_read, list_nobjects),
src/cls/lock/cls_lock_client.cc, src/pybind/rados/rados.pyx (Ioctx, messages, return values).
"""

from __future__ import annotations

import errno
import functools
import inspect
import itertools
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

import trio

from rbdpy.format import cls_lock
from rbdpy.format.cls_lock import ClsLockType
from rbdpy.rados import exceptions as rx
from rbdpy.rados.background import report_crash
from rbdpy.rados.client import AsyncRados, translate
from rbdpy.rados.objecter import Objecter, Op, now_utime
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import to_bytes, to_str
from rbdpy.rados.proto.constants import CEPH_NOSNAP, POOL_FLAG_EC_OVERWRITES, OsdFlag
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.messages.mon import PoolOp
from rbdpy.rados.proto.messages.osd import MOSDOpReply, MWatchNotify, WatchEvent
from rbdpy.rados.proto.msgr2.buffers import as_bytes
from rbdpy.rados.proto.objecter_core import OpTarget, calc_target
from rbdpy.rados.proto.ops import HObject, OSDOp, WatchOp
from rbdpy.rados.proto.osdmap import PgPool
from rbdpy.rados.proto.types import SnapContext
from rbdpy.rados.session import RadosSession, register_ioctx_factory
from rbdpy.rados.transport import Connection

log = logging.getLogger(__name__)
_debug = functools.partial(log.isEnabledFor, logging.DEBUG)


# LIBRADOS_OPERATION_* → CEPH_OSD_FLAG_* (librados IoCtxImpl translate_flags).
_OPERATION_FLAGS = (
    (1, OsdFlag.BALANCE_READS),
    (2, OsdFlag.LOCALIZE_READS),
    (4, OsdFlag.RWORDERED),
    (8, OsdFlag.IGNORE_CACHE),
    (16, OsdFlag.SKIPRWLOCKS),
    (32, OsdFlag.IGNORE_OVERLAY),
    (64, OsdFlag.FULL_TRY),
    (128, OsdFlag.FULL_FORCE),
    (256, OsdFlag.IGNORE_REDIRECT),
    (512, OsdFlag.ORDERSNAP),
    (1024, OsdFlag.RETURNVEC),
)

MAX_ERRNO = ops.MAX_ERRNO
LIBRADOS_ALL_NSPACES = ops.LIBRADOS_ALL_NSPACES

# librados watch_check cadence: the Objecter pings every registered watch each tick
# (objecter_tick_interval, 5 s); the OSD drops a watch after osd_client_watch_timeout (30 s).
WATCH_PING_INTERVAL = 5.0
# client_notify_timeout: the notify timeout when the caller gives 0.
_DEFAULT_NOTIFY_TIMEOUT = 10
# PGNLS page size (librados NListContext default of rados_nobjects_list_next).
_NLS_PAGE = 1024


def _raise_translated(e: BaseException, msg: str) -> NoReturn:
    """What ``with translate(msg):`` does with ``e`` (raises the python-rados exception)."""
    with translate(msg):
        raise e
    raise AssertionError("unreachable")  # translate re-raises every CephError/TooSlowError


def translate_operation_flags(flags: int) -> int:
    """``LIBRADOS_OPERATION_*`` bits → MOSDOp ``CEPH_OSD_FLAG_*`` bits."""
    out = 0
    for lib, osd in _OPERATION_FLAGS:
        if flags & lib:
            out |= osd
    return out


# -- compound operations -----------------------------------------------------------------


@dataclass(eq=False)
class OmapResult:
    """Where one omap read op's output lands after the compound op ran.

    ``items`` stays None until ``operate_read_op`` finished; keys-only reads give values
    of None (what python-rados' OmapIterator yields for ``get_omap_keys``).
    """

    items: list[tuple[str, bytes | None]] | None = None
    more: bool = False
    rval: int = 0

    def _fill(self, rval: int, value: Any) -> None:
        self.rval = rval
        if rval < 0 or value is None:
            self.items = []
            return
        if isinstance(value, tuple):
            value, self.more = value
        if isinstance(value, dict):
            self.items = [(k, bytes(v)) for k, v in sorted(value.items())]
        else:
            self.items = [(k, None) for k in value]


class _CompoundOp:
    """Sub-ops collected for one ``operate_*`` call (librados ObjectOperation)."""

    def __init__(self) -> None:
        self._ops: list[OSDOp] = []
        self._sinks: dict[int, OmapResult] = {}

    def create(self) -> Any:
        self._ops = []
        self._sinks = {}
        return self

    def release(self) -> None:
        self._ops = []
        self._sinks = {}

    @property
    def _compound(self) -> _CompoundOp:
        # The facade's ReadOp/WriteOp (plain classes, as python-rados') wrap one of these
        # in their own ``_compound``; the ioctx methods accept either.
        return self

    def _add(self, op: OSDOp, sink: OmapResult | None = None) -> None:
        if sink is not None:
            self._sinks[len(self._ops)] = sink
        self._ops.append(op)

    def set_flags(self, flags: int = 0) -> None:
        """Set per-op flags (``LIBRADOS_OP_FLAG_*`` = ``CEPH_OSD_OP_FLAG_*``) on the last op."""
        if self._ops:
            self._ops[-1].flags |= int(flags)

    def cmpext(self, cmp_buf: bytes, offset: int = 0) -> None:
        self._add(ops.cmpext(offset, cmp_buf))


class ReadOp(_CompoundOp):
    """A compound read (``rados_read_op_t``); omap reads are added through the ioctx."""


class WriteOp(_CompoundOp):
    """A compound write (``rados_write_op_t``), python-rados method names."""

    def new(self, exclusive: int | None = None) -> None:
        self._add(ops.create(bool(exclusive)))

    def remove(self) -> None:
        self._add(ops.delete())

    def set_xattr(self, xattr_name: str, xattr_value: bytes) -> None:
        self._add(ops.setxattr(xattr_name, xattr_value))

    def rm_xattr(self, xattr_name: str) -> None:
        self._add(ops.rmxattr(xattr_name))

    def append(self, to_write: bytes) -> None:
        self._add(ops.append(to_write))

    def write_full(self, to_write: bytes) -> None:
        self._add(ops.writefull(to_write))

    def write(self, to_write: bytes, offset: int = 0) -> None:
        self._add(ops.write(offset, to_write))

    def assert_version(self, version: int) -> None:
        self._add(ops.assert_version(version))

    def zero(self, offset: int, length: int) -> None:
        self._add(ops.zero(offset, length))

    def truncate(self, offset: int) -> None:
        self._add(ops.truncate(offset))

    def execute(self, cls: str, method: str, data: bytes) -> None:
        self._add(ops.call(cls, method, data))

    def writesame(self, to_write: bytes, write_len: int, offset: int = 0) -> None:
        self._add(ops.writesame(offset, write_len, to_write))

    def omap_cmp(self, key: str, val: str | bytes, cmp_op: int = 1) -> None:
        self._add(ops.omap_cmp({to_str(key): (to_bytes(val), cmp_op)}))


# -- object listing --------------------------------------------------------------------------


class ObjectLister:
    """Walks every PG of a pool with PGNLS (librados NListContext + Objecter::list_nobjects).

    :meth:`next_page` returns the next batch of ``(oid, nspace, locator)``; an empty batch
    means the listing is complete.
    """

    def __init__(self, ioctx: AsyncIoctx, nspace: str) -> None:
        self._ioctx = ioctx
        self._nspace = nspace
        self._pg = 0
        self._pg_num: int | None = None
        self._cursor: HObject | None = None
        self._start_epoch = 0
        self.done = False

    async def next_page(self) -> list[tuple[str, str, str]]:
        io = self._ioctx
        while not self.done:
            osdmap = io._session.osdmap
            pool = osdmap.pools.get(io.pool_id) if osdmap is not None else None
            if osdmap is None or pool is None:
                raise CephError(errno.ENOENT, f"pool {io.pool_id} does not exist")
            if self._pg_num is None:
                self._pg_num = pool.pg_num
                self._start_epoch = osdmap.epoch
            if self._pg >= self._pg_num:
                self.done = True
                break
            target = OpTarget(base_pool=io.pool_id, base_oid=b"", nspace=to_bytes(self._nspace),
                              flags=OsdFlag.READ | OsdFlag.IGNORE_OVERLAY,
                              precalc_seed=self._pg)
            op = ops.pgnls(_NLS_PAGE, self._cursor, self._start_epoch)
            reply = await io._session.require_objecter().submit(
                Op(target=target, ops=[op], flags=OsdFlag.READ | OsdFlag.IGNORE_OVERLAY,
                   snapid=CEPH_NOSNAP))
            if reply.result < 0:
                raise CephError(-reply.result, f"pgnls on pg {io.pool_id}.{self._pg:x}")
            resp: ops.PgNlsResponse = op.decode_reply(reply.rvals[0], reply.outdata[0])
            log.debug("pgnls %d.%x: %d entries, result %d", io.pool_id, self._pg,
                      len(resp.entries), reply.result)
            # result 1 (or a max cursor) = this pg is exhausted (PrimaryLogPG do_pg_op).
            if reply.result == 1 or resp.handle.is_max():
                self._pg += 1
                self._cursor = None
            else:
                self._cursor = resp.handle
            if resp.entries:
                return [(e.oid, e.nspace, e.locator) for e in resp.entries]
        return []

    def __aiter__(self) -> AsyncIterator[tuple[str, str, str]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[str, str, str]]:
        while True:
            page = await self.next_page()
            if not page:
                return
            for item in page:
                yield item


# -- watch / notify ------------------------------------------------------------------------------

NotifyCallback = Callable[[int, int, int, bytes], Any]
ErrorCallback = Callable[[int, int], Any]


@dataclass(eq=False)
class _Linger:
    """One watch or in-flight notify (Objecter::LingerOp)."""

    cookie: int
    oid: str | bytes = ""
    is_watch: bool = True
    # watch
    callback: NotifyCallback | None = None
    error_callback: ErrorCallback | None = None
    gen: int = 0
    timeout: int = 0
    last_confirmed: float = 0.0
    last_error: int = 0
    queue_send: trio.MemorySendChannel[MWatchNotify] | None = None
    scope: trio.CancelScope | None = None
    # notify
    notify_id: int = 0
    complete: MWatchNotify | None = None
    completed: trio.Event = field(default_factory=trio.Event)


class WatchRegistry:
    """Lingers of one cluster handle, by cookie; fed by the Objecter's MWatchNotify hook."""

    _by_objecter: ClassVar[weakref.WeakKeyDictionary[Objecter, WatchRegistry]] = \
        weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self.lingers: dict[int, _Linger] = {}
        self._ids = itertools.count(1)

    @classmethod
    def of(cls, objecter: Objecter) -> WatchRegistry:
        reg = cls._by_objecter.get(objecter)
        if reg is None:
            reg = cls._by_objecter[objecter] = cls()
            objecter.on_watch_notify = reg.handle_watch_notify
        return reg

    def new(self, **kw: Any) -> _Linger:
        lg = _Linger(cookie=next(self._ids), **kw)
        self.lingers[lg.cookie] = lg
        return lg

    def handle_watch_notify(self, msg: MWatchNotify) -> None:
        """Objecter::handle_watch_notify: route by cookie."""
        lg = self.lingers.get(msg.cookie)
        log.debug("watch-notify op %d cookie %d notify_id %d rc %d (%s)", msg.opcode,
                  msg.cookie, msg.notify_id, msg.return_code,
                  "known" if lg is not None else "unknown")
        if lg is None:
            return
        if msg.opcode == WatchEvent.NOTIFY_COMPLETE:
            if not lg.is_watch and (lg.notify_id in (0, msg.notify_id)):
                lg.complete = msg
                lg.completed.set()
        elif lg.is_watch and lg.queue_send is not None:
            # NOTIFY and DISCONNECT are handled in order by the watch's own task.
            try:
                lg.queue_send.send_nowait(msg)
            except (trio.WouldBlock, trio.BrokenResourceError, trio.ClosedResourceError):
                log.debug("watch %d: event dropped (queue closed or full)", lg.cookie)


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a user callback that may be sync or async."""
    r = fn(*args)
    if inspect.isawaitable(r):
        r = await r
    return r


class AsyncWatch:
    """A registered watch; the async twin of ``rados.Watch``."""

    def __init__(self, ioctx: AsyncIoctx, linger: _Linger) -> None:
        self.ioctx = ioctx
        self._linger = linger
        self.id = linger.cookie

    def get_id(self) -> int:
        return self.id

    def check(self) -> float:
        """Seconds since the OSD last confirmed the watch (raises on a watch error)."""
        lg = self._linger
        if lg.last_error:
            raise rx.make_ex(lg.last_error, "check error")
        return max(0.0, time.monotonic() - lg.last_confirmed)

    async def close(self) -> None:
        """Unregister the watch (UNWATCH); a watch already gone is not an error."""
        if self.id == 0:
            return
        lg = self._linger
        io = self.ioctx
        io.require_ioctx_open()
        if lg.scope is not None:
            lg.scope.cancel()
        try:
            with translate("unwatch error"):
                try:
                    await io._operate(lg.oid, [ops.watch(lg.cookie, WatchOp.UNWATCH)])
                except CephError as e:
                    if e.errno not in (errno.ENOENT, errno.ENOTCONN):
                        raise
        finally:
            io._registry().lingers.pop(lg.cookie, None)
            if lg.queue_send is not None:
                lg.queue_send.close()
            self.id = 0

    async def __aenter__(self) -> AsyncWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# -- the io context ----------------------------------------------------------------------------


class AsyncIoctx:
    """An I/O context for one pool; create with ``AsyncRados.open_ioctx``."""

    def __init__(self, rados: AsyncRados, pool_id: int, pool_name: str) -> None:
        #: The cluster handle (librbd and callers use its public API).
        self.rados = rados
        #: What this context's own work uses of the handle (session.py's interface).
        self._session: RadosSession = rados
        self.pool_id = pool_id
        self.name = pool_name
        self.nspace = ""
        self.locator_key = ""
        self.snap_read = CEPH_NOSNAP
        self.snapc = SnapContext()
        self.last_version = 0
        self.state = "open"
        self.extra_flags = 0
        self._writes_in_flight = 0
        self._writes_idle = trio.Event()
        self._writes_idle.set()

    # -- context -------------------------------------------------------------------------

    def require_ioctx_open(self) -> None:
        if self.state != "open":
            raise rx.IoctxStateError(f"The pool is {self.state}")

    def set_namespace(self, nspace: str | None) -> None:
        self.require_ioctx_open()
        self.nspace = nspace or ""

    def get_namespace(self) -> str:
        return self.nspace

    def set_locator_key(self, loc_key: str | None) -> None:
        self.require_ioctx_open()
        self.locator_key = loc_key or ""

    def get_locator_key(self) -> str:
        return self.locator_key

    def set_read(self, snap_id: int) -> None:
        self.require_ioctx_open()
        self.snap_read = snap_id

    def get_pool_id(self) -> int:
        return self.pool_id

    def get_pool_name(self) -> str:
        return self.name

    def get_last_version(self) -> int:
        self.require_ioctx_open()
        return self.last_version

    def set_osdmap_full_try(self) -> None:
        self.extra_flags |= OsdFlag.FULL_TRY

    def unset_osdmap_full_try(self) -> None:
        self.extra_flags &= ~OsdFlag.FULL_TRY

    def close(self) -> None:
        self.state = "closed"

    async def dup(self) -> AsyncIoctx:
        """A new context on the same pool and namespace (python-rados ``dup``)."""
        io: AsyncIoctx = await self.rados.open_ioctx2(self.pool_id)
        io.set_namespace(self.nspace)
        return io

    def _pool(self) -> PgPool:
        osdmap = self._session.osdmap
        pool = osdmap.pools.get(self.pool_id) if osdmap is not None else None
        if pool is None:
            raise CephError(errno.ENOENT, f"pool {self.name!r} does not exist")
        return pool

    def _registry(self) -> WatchRegistry:
        return WatchRegistry.of(self._session.require_objecter())

    # -- the internal op API -------------------------------------------------------------

    async def _operate(self, oid: str | bytes, osd_ops: Sequence[OSDOp], *,
                       flags: int = 0, snapc: SnapContext | None = None,
                       snapid: int | None = None, nspace: str | None = None,
                       mtime: tuple[int, int] | None = None,
                       ) -> MOSDOpReply:
        """Run ``osd_ops`` on one object; raise CephError for a negative overall result.

        Per-op results are in the returned reply (``reply.rvals``/``reply.outdata``).
        """
        if self.state != "open":
            self.require_ioctx_open()
        objecter = self._session.require_objecter()
        op_flags = ops.ops_flags(osd_ops) | flags | self.extra_flags
        if not op_flags & (OsdFlag.READ | OsdFlag.WRITE):
            # Only CALLs: librados' exec is a read op; the OSD learns from the class
            # method's own flags whether it writes. Callers that need a snap context on a
            # writing method pass flags=WRITE (librbd does, through a write op).
            op_flags |= OsdFlag.READ
        is_write = op_flags & OsdFlag.WRITE
        if is_write:
            op_flags |= OsdFlag.ONDISK
        target = OpTarget(self.pool_id, to_bytes(oid), to_bytes(self.locator_key),
                          to_bytes(self.nspace if nspace is None else nspace), op_flags)
        if is_write:
            op = Op(target, list(osd_ops), op_flags, snapc or self.snapc, CEPH_NOSNAP,
                    mtime or now_utime())
        else:
            op = Op(target, list(osd_ops), op_flags,
                    snapid=self.snap_read if snapid is None else snapid)
        if _debug():
            log.debug("op %r [%s] flags %#x", oid, ",".join(o.name for o in osd_ops),
                      op_flags)
        if is_write:
            self._writes_in_flight += 1
            if self._writes_idle.is_set():
                self._writes_idle = trio.Event()
            try:
                reply = await objecter.submit(op)
            finally:
                self._writes_in_flight -= 1
                if self._writes_in_flight == 0:
                    self._writes_idle.set()
        else:
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

    # The three hottest calls skip ``translate``'s context manager and build its message
    # only when there is an error to report.

    async def write(self, key: str, data: bytes, offset: int = 0) -> int:
        op = ops.write(offset, data)
        try:
            reply = await self._operate(key, [op])
            op.decode_reply(reply.rvals[0], reply.outdata[0])  # raises for rval < 0
        except (CephError, trio.TooSlowError) as e:
            _raise_translated(e, f'Ioctx.write({self.name}): failed to write {to_str(key)}')
        return 0

    async def write_full(self, key: str, data: bytes) -> int:
        op = ops.writefull(data)
        try:
            reply = await self._operate(key, [op])
            op.decode_reply(reply.rvals[0], reply.outdata[0])  # raises for rval < 0
        except (CephError, trio.TooSlowError) as e:
            _raise_translated(e, f'Ioctx.write_full({self.name}): failed to write {to_str(key)}')
        return 0

    async def append(self, key: str, data: bytes) -> int:
        with translate(f'Ioctx.append({self.name}): failed to append {to_str(key)}'):
            await self._op1(key, ops.append(data))
        return 0

    async def writesame(self, key: str, data: bytes, write_len: int, offset: int = 0) -> None:
        with translate(f'Ioctx.writesame({self.name}): failed to write {to_str(key)}'):
            await self._op1(key, ops.writesame(offset, write_len, data))

    async def create(self, key: str, exclusive: bool = True) -> None:
        """Create the object (``rados_write_op_create``); EEXIST when ``exclusive``."""
        with translate(f'Ioctx.create({self.name}): failed to create {to_str(key)}'):
            await self._op1(key, ops.create(exclusive))

    async def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        op = ops.read(offset, length)
        try:
            reply = await self._operate(key, [op])
            out = op.decode_reply(reply.rvals[0], reply.outdata[0])
            # A 0-length READ returns the whole object and rados_read's buffer is
            # ``length`` bytes: more data than that is -ERANGE (librados rados_read).
            if len(out) > length:
                raise CephError(errno.ERANGE, "read returned more than the buffer")
        except (CephError, trio.TooSlowError) as e:
            _raise_translated(e, f'Ioctx.read({self.name}): failed to read {to_str(key)}')
        # A large reply's data segment is its own bytes object: handed over, no copy.
        return as_bytes(out)

    async def stat(self, key: str) -> tuple[int, time.struct_time]:
        with translate(f'Failed to stat {key!r}'):
            st = await self._op1(key, ops.stat())
        return st.size, time.localtime(st.mtime[0])

    async def trunc(self, key: str, size: int) -> int:
        with translate(f'Ioctx.trunc({self.name}): failed to truncate {to_str(key)}'):
            await self._op1(key, ops.truncate(size))
        return 0

    async def remove_object(self, key: str) -> bool:
        with translate(f'Failed to remove \'{to_str(key)}\''):
            await self._op1(key, ops.delete())
        return True

    async def cmpext(self, key: str, cmp_buf: bytes, offset: int = 0) -> int:
        """0 if the object matches ``cmp_buf`` at ``offset``, else ``-MAX_ERRNO - index``
        of the first differing byte (librados ``rados_cmpext``)."""
        with translate(f'Ioctx.cmpext({self.name}): failed to compare {to_str(key)}'):
            try:
                await self._op1(key, ops.cmpext(offset, cmp_buf))
            except CephError as e:
                if e.errno >= MAX_ERRNO:
                    return -e.errno
                raise
        return 0

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
        with translate(f'Ioctx.read({self.name}): failed to read {to_str(key)}'):
            op = ops.call(cls, method, data)
            reply = await self._operate(key, [op])
            out = bytes(reply.outdata[0])
            if len(out) > length:
                # rados_exec refuses output that does not fit the caller's buffer.
                raise CephError(errno.ERANGE, f"cls output of {len(out)} bytes > {length}")
        # rados_exec returns the output length.
        return len(out), out

    # -- aio: the same calls, for Completion-style callers --------------------------------

    async def aio_flush(self) -> None:
        """Wait until every write submitted through this context has completed."""
        while self._writes_in_flight:
            await self._writes_idle.wait()

    # -- compound operations -------------------------------------------------------------

    def create_write_op(self) -> WriteOp:
        return WriteOp().create()  # type: ignore[no-any-return]

    def create_read_op(self) -> ReadOp:
        return ReadOp().create()  # type: ignore[no-any-return]

    def release_write_op(self, write_op: WriteOp) -> None:
        write_op._compound.release()

    def release_read_op(self, read_op: ReadOp) -> None:
        read_op._compound.release()

    def set_omap(self, write_op: WriteOp, keys: Sequence[str | bytes],
                 values: Sequence[bytes]) -> None:
        if len(keys) != len(values):
            raise rx.Error("Rados(): keys and values must have the same number of items")
        pairs = {to_str(k): to_bytes(v) for k, v in zip(keys, values, strict=True)}
        write_op._compound._add(ops.omap_set_vals(pairs))

    def remove_omap_keys(self, write_op: WriteOp, keys: Sequence[str | bytes]) -> None:
        write_op._compound._add(ops.omap_rm_keys([to_str(k) for k in keys]))

    def clear_omap(self, write_op: WriteOp) -> None:
        write_op._compound._add(ops.omap_clear())

    def remove_omap_range2(self, write_op: WriteOp, key_begin: str, key_end: str) -> None:
        write_op._compound._add(ops.omap_rm_key_range(to_str(key_begin), to_str(key_end)))

    def get_omap_vals(self, read_op: ReadOp, start_after: str, filter_prefix: str,
                      max_return: int) -> tuple[OmapResult, int]:
        sink = OmapResult()
        read_op._compound._add(ops.omap_get_vals2(to_str(start_after or ""),
                                                  to_str(filter_prefix or ""), max_return), sink)
        return sink, 0  # python-rados: "0 is meaningless; there for backward-compat"

    def get_omap_keys(self, read_op: ReadOp, start_after: str,
                      max_return: int) -> tuple[OmapResult, int]:
        sink = OmapResult()
        read_op._compound._add(ops.omap_get_keys2(to_str(start_after or ""), max_return), sink)
        return sink, 0

    def get_omap_vals_by_keys(self, read_op: ReadOp,
                              keys: Sequence[str | bytes]) -> tuple[OmapResult, int]:
        sink = OmapResult()
        read_op._compound._add(ops.omap_get_vals_by_keys([to_str(k) for k in keys]), sink)
        return sink, 0

    # The names librbd's seam uses (rbdpy.librbd.object_io.ImageIoctx).
    operate = _operate

    async def _operate_compound(self, op: _CompoundOp, oid: str | bytes, flags: int,
                                mtime: int = 0, write: bool = False) -> None:
        cop = op._compound
        # librados moves an op's steps into the request (ObjectOperation is swapped into
        # the Objecter op): a reused op object sends only what was added since, and an
        # op with no steps completes at once with 0 (IoCtxImpl::operate/operate_read).
        steps, sinks = cop._ops, cop._sinks
        cop._ops, cop._sinks = [], {}
        if not steps:
            await trio.lowlevel.checkpoint()
            return
        extra = translate_operation_flags(flags)
        if write:
            extra |= OsdFlag.WRITE
        mt = (int(mtime), 0) if mtime else None
        try:
            reply = await self._operate(oid, steps, flags=extra, mtime=mt)
        except CephError:
            for sink in sinks.values():
                sink._fill(-1, None)
            raise
        for i, sink in sinks.items():
            rval = reply.rvals[i]
            sink._fill(rval, steps[i].decode_reply(rval, reply.outdata[i])
                       if rval >= 0 else None)

    async def operate_write_op(self, write_op: WriteOp, oid: str, mtime: int = 0,
                               flags: int = 0) -> None:
        with translate(f"Failed to operate write op for oid {to_str(oid)}"):
            await self._operate_compound(write_op, oid, flags, mtime, write=True)

    async def operate_aio_write_op(self, write_op: WriteOp, oid: str, mtime: int = 0,
                                   flags: int = 0) -> None:
        with translate(f"Failed to operate aio write op for oid {to_str(oid)}"):
            await self._operate_compound(write_op, oid, flags, mtime, write=True)

    async def operate_read_op(self, read_op: ReadOp, oid: str, flag: int = 0) -> None:
        with translate(f"Failed to operate read op for oid {to_str(oid)}"):
            await self._operate_compound(read_op, oid, flag)

    async def operate_aio_read_op(self, read_op: ReadOp, oid: str, flag: int = 0) -> None:
        with translate(f"Failed to operate aio read op for oid {to_str(oid)}"):
            await self._operate_compound(read_op, oid, flag)

    # -- listing ---------------------------------------------------------------------------

    def list_objects(self) -> ObjectLister:
        """All objects of this context's namespace (every namespace when it is
        ``LIBRADOS_ALL_NSPACES``), as ``(oid, nspace, locator)``: ``async for``."""
        self.require_ioctx_open()
        return ObjectLister(self, self.nspace)

    async def _list_page(self, lister: ObjectLister) -> list[tuple[str, str, str]]:
        with translate(f"error iterating over the objects in ioctx '{self.name}'"):
            return await lister.next_page()

    # -- locks (cls "lock") -------------------------------------------------------------------

    async def _lock(self, key: str, name: str, cookie: str, tag: str, desc: str,
                    duration: float | None, flags: int, lock_type: ClsLockType) -> None:
        # rados_lock_*: a timeval duration, NULL (None) = never expires.
        secs = float(duration or 0)
        call = cls_lock.lock(name, lock_type, cookie, tag, desc,
                             (int(secs), round((secs - int(secs)) * 1e9)), flags)
        with translate(f"Ioctx.rados_lock_exclusive({self.name}): failed to set lock "
                       f"{name} on {to_str(key)}"):
            await self._operate(key, [call.op()], flags=OsdFlag.WRITE)

    async def lock_exclusive(self, key: str, name: str, cookie: str, desc: str = "",
                             duration: int | None = None, flags: int = 0) -> None:
        await self._lock(key, name, cookie, "", desc, duration, flags, ClsLockType.EXCLUSIVE)

    async def lock_shared(self, key: str, name: str, cookie: str, tag: str, desc: str = "",
                          duration: int | None = None, flags: int = 0) -> None:
        await self._lock(key, name, cookie, tag, desc, duration, flags, ClsLockType.SHARED)

    async def unlock(self, key: str, name: str, cookie: str) -> None:
        # python-rados reports a failed unlock with the lock_exclusive text.
        with translate(f"Ioctx.rados_lock_exclusive({self.name}): failed to set lock "
                       f"{name} on {to_str(key)}"):
            await self._operate(key, [cls_lock.unlock(name, cookie).op()], flags=OsdFlag.WRITE)

    # -- pool snapshots --------------------------------------------------------------------

    def _snap_by_name(self, snap_name: str) -> int | None:
        for sid, info in self._pool().snaps.items():
            if info.name == snap_name:
                return sid
        return None

    async def create_snap(self, snap_name: str) -> None:
        with translate(f"Failed to create snap {snap_name}"):
            # Objecter::create_pool_snap checks the name against its map first.
            if self._snap_by_name(snap_name) is not None:
                raise CephError(errno.EEXIST, "snapshot exists")
            await self._session.pool_op(PoolOp.CREATE_SNAP, pool=self.pool_id, name=snap_name)

    async def remove_snap(self, snap_name: str) -> None:
        with translate(f"Failed to remove snap {snap_name}"):
            if self._snap_by_name(snap_name) is None:
                raise CephError(errno.ENOENT, "no such snapshot")
            await self._session.pool_op(PoolOp.DELETE_SNAP, pool=self.pool_id, name=snap_name)

    async def lookup_snap(self, snap_name: str) -> int:
        """The id of pool snapshot ``snap_name``."""
        with translate(f"Failed to lookup snap {snap_name}"):
            sid = self._snap_by_name(snap_name)
            if sid is None:
                raise CephError(errno.ENOENT, "no such snapshot")
        return sid

    async def list_snaps(self) -> list[tuple[int, str, float]]:
        """Pool snapshots as ``(snap_id, name, timestamp)``, by id."""
        with translate(f"error calling rados_snap_list for ioctx '{self.name}'"):
            snaps = self._pool().snaps
        return [(sid, snaps[sid].name, snaps[sid].stamp[0] + snaps[sid].stamp[1] / 1e9)
                for sid in sorted(snaps)]

    async def get_snap_stamp(self, snap_id: int) -> float:
        with translate("rados_ioctx_snap_get_stamp error"):
            info = self._pool().snaps.get(snap_id)
            if info is None:
                raise CephError(errno.ENOENT, "no such snapshot")
        return info.stamp[0] + info.stamp[1] / 1e9

    async def snap_rollback(self, oid: str, snap_name: str) -> None:
        with translate(f"Failed to rollback {to_str(oid)}"):
            sid = self._snap_by_name(snap_name)
            if sid is None:
                raise CephError(errno.ENOENT, "no such snapshot")
            await self._op1(oid, ops.rollback(sid))

    # -- self-managed snapshots -------------------------------------------------------------

    async def create_self_managed_snap(self) -> int:
        with translate("Failed to create self-managed snapshot"):
            return await self._session.pool_op(PoolOp.CREATE_UNMANAGED_SNAP, pool=self.pool_id)

    async def remove_self_managed_snap(self, snap_id: int) -> None:
        with translate("Failed to remove self-managed snapshot"):
            await self._session.pool_op(PoolOp.DELETE_UNMANAGED_SNAP, pool=self.pool_id,
                                      snapid=int(snap_id))

    def set_self_managed_snap_write(self, snaps: Sequence[int | str]) -> None:
        """Use ``snaps`` (newest = seq) as the write snap context of later writes."""
        self.require_ioctx_open()
        ordered = sorted((int(x) for x in snaps), reverse=True)
        seq = ordered[0] if ordered else 0
        # SnapContext::is_valid: strictly descending ids, none newer than seq.
        if len(set(ordered)) != len(ordered):
            raise rx.make_ex(errno.EINVAL, "Failed to update snapshot write context")
        self.snapc = SnapContext(seq, tuple(ordered))

    async def rollback_self_managed_snap(self, oid: str, snap_id: int) -> None:
        with translate(f"Failed to rollback {to_str(oid)}"):
            await self._op1(oid, ops.rollback(int(snap_id)))

    # -- pool information ----------------------------------------------------------------------

    async def get_stats(self) -> dict[str, int]:
        """Pool usage (``rados_ioctx_pool_stat``): the mon's MGetPoolStats answer."""
        self.require_ioctx_open()
        with translate(f"Ioctx.get_stats({self.name}): get_stats failed"):
            return await self._pool_stats()

    async def _pool_stats(self) -> dict[str, int]:
        # From the mon's `df detail` (the PGMap digest MGetPoolStats also reads); fields
        # the digest does not carry per pool in `df` are derived as librados derives them.
        assert self._session.monc is not None
        r, out, outs = await self._session.monc.command(
            [json.dumps({"prefix": "df", "detail": "detail", "format": "json"})])
        if r < 0:
            raise CephError(-r, outs)
        for p in json.loads(out).get("pools", []):
            if p.get("id") == self.pool_id:
                st = p["stats"]
                used = int(st.get("bytes_used", 0))
                return {"num_bytes": used, "num_kb": (used + 1023) // 1024,
                        "num_objects": int(st.get("objects", 0)),
                        "num_object_clones": 0,
                        "num_object_copies": int(st.get("objects", 0)) * self._pool().size,
                        "num_objects_missing_on_primary": 0,
                        "num_objects_unfound": 0,
                        "num_objects_degraded": 0,
                        "num_rd": int(st.get("rd", 0)),
                        "num_rd_kb": int(st.get("rd_bytes", 0)) // 1024,
                        "num_wr": int(st.get("wr", 0)),
                        "num_wr_kb": int(st.get("wr_bytes", 0)) // 1024}
        # A pool the mgr has not reported yet has no usage: librados returns zeros then.
        return {k: 0 for k in ("num_bytes", "num_kb", "num_objects", "num_object_clones",
                               "num_object_copies", "num_objects_missing_on_primary",
                               "num_objects_unfound", "num_objects_degraded", "num_rd",
                               "num_rd_kb", "num_wr", "num_wr_kb")}

    def alignment(self) -> int | None:
        """Append alignment an erasure-coded pool without overwrites requires, else None."""
        with translate("error checking alignment"):
            pool = self._pool()
        if pool.is_erasure() and not pool.flags & POOL_FLAG_EC_OVERWRITES:
            return pool.stripe_width
        return None

    # -- application metadata (mon commands, then the map they produce) ---------------------

    async def _mon(self, cmd: Mapping[str, Any]) -> None:
        assert self._session.monc is not None
        r, _, outs = await self._session.monc.command([json.dumps(dict(cmd))])
        if r < 0:
            raise CephError(-r, outs)
        # librados waits for the map the command produced before returning.
        await self._session.wait_for_latest_osdmap()

    async def application_enable(self, app_name: str, force: bool = False) -> None:
        cmd: dict[str, Any] = {"prefix": "osd pool application enable", "pool": self.name,
                               "app": app_name}
        if force:
            cmd["yes_i_really_mean_it"] = True
        with translate("error enabling application"):
            await self._mon(cmd)

    async def application_list(self) -> list[str] | None:
        try:
            pool = self._pool()
        except CephError:
            return None
        return sorted(pool.application_metadata)

    async def application_metadata_get(self, app_name: str, key: str) -> str:
        with translate("error getting metadata"):
            meta = self._pool().application_metadata
            if app_name not in meta or key not in meta[app_name]:
                raise CephError(errno.ENOENT, "no such application metadata")
        return meta[app_name][key]

    async def application_metadata_set(self, app_name: str, key: str, value: str) -> None:
        with translate("error setting application metadata"):
            await self._mon({"prefix": "osd pool application set", "pool": self.name,
                             "app": app_name, "key": key, "value": value})

    async def application_metadata_remove(self, app_name: str, key: str) -> None:
        with translate("error removing application metadata"):
            await self._mon({"prefix": "osd pool application rm", "pool": self.name,
                             "app": app_name, "key": key})

    async def application_metadata_list(self, app_name: str) -> list[tuple[str, str]]:
        with translate("error listing application metadata"):
            meta = self._pool().application_metadata
            if app_name not in meta:
                raise CephError(errno.ENOENT, "application not enabled")
        return sorted(meta[app_name].items())

    # -- watch / notify --------------------------------------------------------------------------

    async def watch(self, obj: str, callback: NotifyCallback,
                    error_callback: ErrorCallback | None = None,
                    timeout: int | None = None) -> AsyncWatch:
        """Register a watch on ``obj``.

        ``callback(notify_id, notifier_id, watch_id, data)`` runs for every notify, one at a
        time; its return value (bytes or None) is the acknowledgement payload.
        ``error_callback(watch_id, -errno)`` runs when the watch is lost.
        """
        self.require_ioctx_open()
        reg = self._registry()
        lg = reg.new(oid=obj, callback=callback, error_callback=error_callback,
                     timeout=int(timeout or 0))
        send, recv = trio.open_memory_channel[MWatchNotify](1000)
        lg.queue_send = send
        try:
            with translate("watch error"):
                await self._operate(obj, [ops.watch(lg.cookie, WatchOp.WATCH, 0, lg.timeout)],
                                    flags=OsdFlag.WRITE)
        except BaseException:
            reg.lingers.pop(lg.cookie, None)
            raise
        lg.last_confirmed = time.monotonic()
        log.debug("watch %d registered on %r", lg.cookie, obj)
        self._session.background.start_soon(self._watch_task, lg, recv,
                                            name=f"watch {lg.cookie}")
        return AsyncWatch(self, lg)

    async def _watch_task(self, lg: _Linger,
                          recv: trio.MemoryReceiveChannel[MWatchNotify]) -> None:
        """Serve one watch until it is closed (its scope is cancelled).

        An internal error while serving it (an event handler, the keepalive) is reported
        once and resets the watch session: the watch is re-registered (RECONNECT, as after
        an OSD session reset) and served on; only the event being handled is lost.
        """
        with trio.CancelScope() as scope:
            lg.scope = scope
            async with recv:
                while True:
                    try:
                        async with trio.open_nursery() as nursery:
                            nursery.start_soon(self._watch_keepalive, lg)
                            async for msg in recv:
                                await self._watch_event(lg, msg)
                            nursery.cancel_scope.cancel()
                        return
                    except Exception as e:
                        report_crash(f"watch {lg.cookie}", e)
                    await self._watch_reconnect(lg)

    async def _watch_event(self, lg: _Linger, msg: MWatchNotify) -> None:
        if msg.opcode == WatchEvent.NOTIFY:
            reply: Any = None
            try:
                assert lg.callback is not None
                reply = await _call(lg.callback, msg.notify_id, msg.notifier_gid,
                                    lg.cookie, bytes(msg.payload))
            except Exception:
                # python-rados lets a callback exception escape into the C callback,
                # where it is printed and dropped; the notify is still acknowledged.
                log.exception("watch %d: notify callback raised", lg.cookie)
            payload = to_bytes(reply) if reply is not None else b""
            try:
                await self._operate(lg.oid, [ops.notify_ack(msg.notify_id, lg.cookie,
                                                            payload)])
            except CephError as e:
                log.debug("watch %d: notify_ack %d failed: %s", lg.cookie, msg.notify_id, e)
        elif msg.opcode == WatchEvent.DISCONNECT:
            log.debug("watch %d: OSD disconnected it; reconnecting", lg.cookie)
            await self._watch_reconnect(lg)

    def _osd_conn_of(self, oid: str | bytes) -> Connection | None:
        """The OSD connection that carries ops on ``oid`` now (None while there is none)."""
        osdmap = self._session.osdmap
        if osdmap is None:
            return None
        t = OpTarget(self.pool_id, to_bytes(oid), to_bytes(self.locator_key),
                     to_bytes(self.nspace), OsdFlag.READ)
        calc_target(osdmap, t)
        s = self._session.require_objecter().sessions.get(t.osd)
        conn = s.conn if s is not None else None
        return conn if conn is not None and not conn.closed else None

    async def _watch_keepalive(self, lg: _Linger) -> None:
        """Ping every WATCH_PING_INTERVAL; re-register at once when the session to the
        watched object's OSD was replaced (librados' _linger_ops_resend on a reset): the
        OSD then resends every notify still waiting for our ack."""
        objecter = self._session.require_objecter()
        registered_on = self._osd_conn_of(lg.oid)
        while not lg.last_error:
            replaced = False
            with trio.move_on_after(WATCH_PING_INTERVAL):
                while not replaced:
                    await objecter.wait_sessions_changed()
                    now = self._osd_conn_of(lg.oid)
                    replaced = now is not None and now is not registered_on
            if replaced:
                registered_on = self._osd_conn_of(lg.oid)
                await self._watch_reconnect(lg)
                continue
            try:
                await self._operate(lg.oid, [ops.watch(lg.cookie, WatchOp.PING, lg.gen)],
                                    flags=OsdFlag.READ)
                lg.last_confirmed = time.monotonic()
            except CephError as e:
                log.debug("watch %d: ping failed: %s", lg.cookie, e)
                if e.errno == errno.ETIMEDOUT:
                    # The OSD kept the watch but lost its connection: re-register.
                    await self._watch_reconnect(lg)
                else:
                    await self._watch_failed(lg, e.errno)

    async def _watch_reconnect(self, lg: _Linger) -> None:
        lg.gen += 1
        try:
            await self._operate(lg.oid, [ops.watch(lg.cookie, WatchOp.RECONNECT, lg.gen,
                                                   lg.timeout)], flags=OsdFlag.WRITE)
            lg.last_confirmed = time.monotonic()
            log.debug("watch %d: reconnected (gen %d)", lg.cookie, lg.gen)
        except CephError as e:
            await self._watch_failed(lg, e.errno)

    async def _watch_failed(self, lg: _Linger, err: int) -> None:
        # librados normalizes a lost registration to -ENOTCONN (_normalize_watch_error).
        code = errno.ENOTCONN if err in (errno.ENOENT, errno.ENOTCONN, errno.ETIMEDOUT) \
            else err
        lg.last_error = code
        log.debug("watch %d lost: errno %d", lg.cookie, code)
        if lg.error_callback is not None:
            try:
                await _call(lg.error_callback, lg.cookie, -code)
            except Exception:
                log.exception("watch %d: error callback raised", lg.cookie)

    async def _notify(self, obj: str | bytes, payload: bytes, timeout_ms: int
                      ) -> tuple[int, ops.NotifyResult | None]:
        """Send a notify and wait for its completion: (return code, acks/timeouts)."""
        self.require_ioctx_open()
        reg = self._registry()
        lg = reg.new(oid=obj, is_watch=False)
        timeout_s = timeout_ms // 1000 if timeout_ms else _DEFAULT_NOTIFY_TIMEOUT
        if timeout_ms and not timeout_s:
            timeout_s = 1
        objecter = self._session.require_objecter()
        try:
            # The OSD completes the notify itself after timeout_s; allow a margin for
            # the message (librados' notify timer does the same).
            with trio.move_on_after(timeout_s + 10):
                while True:
                    sub = ops.notify(lg.cookie, payload, timeout_s)
                    lg.notify_id = 0  # until the reply names it: take any completion
                    op = await self._notify_op(obj, sub)
                    assert op.reply is not None
                    if not lg.completed.is_set():
                        lg.notify_id = sub.decode_reply(op.reply.rvals[0],
                                                        op.reply.outdata[0])
                    sent_on = op.via  # NOTIFY_COMPLETE comes on the same session
                    log.debug("notify %d on %r: notify_id %d", lg.cookie, obj,
                              lg.notify_id)
                    if await self._notify_completed_on(lg, objecter, sent_on):
                        break
                    # The session that would bring NOTIFY_COMPLETE was replaced (client
                    # sessions are lossy): notify again, as librados resends a linger
                    # notify after a reset, instead of waiting out the timeout.
                    log.debug("notify %d on %r: OSD session reset; notifying again",
                              lg.cookie, obj)
            msg = lg.complete
            if msg is None:
                return -errno.ETIMEDOUT, None
            try:
                result = ops.decode_notify_result(msg.payload) if len(msg.payload) \
                    else ops.NotifyResult({}, [])
            except CephError:
                result = None
            return msg.return_code, result
        finally:
            reg.lingers.pop(lg.cookie, None)

    async def _notify_op(self, oid: str | bytes, notify: OSDOp) -> Op:
        """Send one NOTIFY op (a read); the finished Op, which says where it was answered."""
        self.require_ioctx_open()
        flags = OsdFlag.READ | self.extra_flags
        target = OpTarget(self.pool_id, to_bytes(oid), to_bytes(self.locator_key),
                          to_bytes(self.nspace), flags)
        op = Op(target, [notify], flags, snapid=self.snap_read)
        reply = await self._session.require_objecter().submit(op)
        self.last_version = reply.user_version
        if reply.result < 0:
            raise CephError(-reply.result, f"notify on {oid!r} failed")
        return op

    async def _notify_completed_on(self, lg: _Linger, objecter: Objecter,
                                   sent_on: Connection | None) -> bool:
        """Wait for ``lg``'s NOTIFY_COMPLETE: True once it came, False when the connection
        it would come on (``sent_on``, where the notify was answered) closed first."""
        if sent_on is None or sent_on.closed:
            return lg.completed.is_set()
        async with trio.open_nursery() as nursery:
            async def until_closed() -> None:
                # The Objecter signals a session change after a connection closed.
                while not sent_on.closed:
                    await objecter.wait_sessions_changed()
                nursery.cancel_scope.cancel()

            nursery.start_soon(until_closed)
            await lg.completed.wait()
            nursery.cancel_scope.cancel()
        return lg.completed.is_set()
    notify_with_acks = _notify

    async def notify(self, obj: str, msg: str | bytes = "", timeout_ms: int = 5000) -> bool:
        with translate(f"Failed to notify {obj!r}"):
            r, _ = await self._notify(obj, to_bytes(msg), timeout_ms)
            if r < 0:
                raise CephError(-r, "notify failed")
        return True

    async def aio_notify(self, obj: str, msg: str | bytes = "", timeout_ms: int = 5000
                         ) -> tuple[int, list[tuple[int, int, bytes]] | None,
                                    list[tuple[int, int]] | None]:
        """(return code, acks as (notifier_id, cookie, payload), timeouts as
        (notifier_id, cookie)) — what python-rados' aio_notify passes its callback."""
        try:
            r, res = await self._notify(obj, to_bytes(msg), timeout_ms)
        except CephError as e:
            return -e.errno, None, None
        if r < 0 or res is None:
            return (r if r < 0 else -errno.EBADMSG), None, None
        acks = [(gid, cookie, res.acks[(gid, cookie)]) for gid, cookie in sorted(res.acks)]
        return 0, acks, list(res.timeouts)

    async def list_watchers(self, obj: str) -> list[ops.WatchItem]:
        with translate(f"Failed to list watchers of {to_str(obj)}"):
            resp: ops.ObjListWatchResponse = await self._op1(obj, ops.list_watchers())
        return list(resp.entries)


__all__ = [
    "LIBRADOS_ALL_NSPACES",
    "AsyncIoctx",
    "AsyncWatch",
    "ObjectLister",
    "OmapResult",
    "ReadOp",
    "WatchRegistry",
    "WriteOp",
    "translate_operation_flags",
]

# The handle makes its I/O contexts through this (AsyncRados.open_ioctx; see session.py).
register_ioctx_factory(AsyncIoctx)
