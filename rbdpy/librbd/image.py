"""AsyncImage: an open RBD image (format 2) — metadata, exclusive lock, advisory locks.

Theory of operation: opening resolves the name to an id (``rbd_id.<name>`` get_id, or
``dir_get_name`` when opened by id), then refreshes the header ``rbd_header.<id>`` in ONE
compound op of cls_rbd getters (size, features, object prefix, flags, snap context, op
features, data pool, create timestamp; plus stripe unit/count when the image has
STRIPINGV2), as librbd's RefreshRequest batches ``get_mutable_metadata`` and
``get_immutable_metadata``. A read-write open registers a watch on the header, as librbd's
ImageWatcher does: its handle makes our exclusive-lock cookie ``auto <handle>``, other
clients see us among the watchers (so ``rbd rm`` refuses while we have the image open), and
their notifications reach us.

The exclusive lock (feature EXCLUSIVE_LOCK) is taken lazily before the first write or
maintenance op (librbd's ``exclusive_lock`` with the default ``rbd_acquire_lock...``
behaviour): cls ``lock`` of ``rbd_lock`` on the header, type exclusive, tag "internal",
cookie "auto <watch handle>". When another client holds it, we look for its watch: a live
owner is asked to release with a REQUEST_LOCK notify and we retry; a dead owner (no watch)
is blocklisted through the monitors and its lock broken. Once we own it we announce
ACQUIRED_LOCK, lock and load the object map; when a peer asks us for the lock we answer
"will release" and release it after in-flight I/O, announcing RELEASED_LOCK; close releases
it too. Header changes we make (resize, metadata) end with a HEADER_UPDATE notify; a
HEADER_UPDATE from a peer makes us refresh before the next operation.

Snapshots (``rbdpy.librbd.snapshots``) run as maintenance ops (``_exclusive_op``): one at
a time, with new writes held at a gate and in-flight ones drained, as the lock owner. An
image opened at a snapshot is still a read-write open (python-rbd's ``rbd_open``): only
I/O writes and HEAD changes are EROFS there, and it holds no lock while reading.

Advisory locks (``lock_exclusive``/``lock_shared``/``unlock``/``break_lock``/``list_lockers``)
are cls ``lock`` calls on the same ``rbd_lock`` of the header, with python-rbd's semantics.

Mirrors: ceph src/librbd/image/OpenRequest.cc, RefreshRequest.cc, CloseRequest.cc,
src/librbd/ImageWatcher.cc, ManagedLock.cc, managed_lock/AcquireRequest.cc,
BreakRequest.cc, GetLockerRequest.cc, src/librbd/WatchNotifyTypes.cc,
src/librbd/internal.cc (lock_*, list_lockers, metadata_*), operation/ResizeRequest.cc;
src/pybind/rbd/rbd.pyx (Image); kernel drivers/block/rbd.c (rbd_try_lock,
rbd_request_lock, find_watcher).
"""

from __future__ import annotations

import datetime
import errno
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import trio

from rbdpy.format import cls_lock, cls_rbd
from rbdpy.format.constants import (
    OBJECT_NONEXISTENT,
    RBD_DIRECTORY,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURE_STRIPINGV2,
    RBD_FLAG_OBJECT_MAP_INVALID,
    RBD_LOCK_NAME,
    header_name,
    id_obj_name,
)
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.object_map import ObjectMap, exec_ops
from rbdpy.rados.proto.bytestr import to_bytes, to_str
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.types import SnapContext
from rbdpy.striping.layout import FileLayout
from rbdpy.striping.striper import get_num_objects

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx, AsyncWatch

log = logging.getLogger(__name__)

# RBD_FEATURES_ALL as librbd 16.2 knows it: the features this client implements for I/O.
# Journaling is not implemented: such images open read-only-safe only.
_SUPPORTED_FEATURES = 0x0FFF & ~0x40

# librbd's WATCHER_LOCK_TAG and cookie prefix (ManagedLock.cc, util::encode_lock_cookie).
WATCHER_LOCK_TAG = "internal"
WATCHER_LOCK_COOKIE_PREFIX = "auto"

# How long a write waits for a live lock owner to hand the lock over before giving up
# with EBUSY (librbd waits forever; a bounded wait keeps a wedged peer from hanging us).
LOCK_ACQUIRE_TIMEOUT = 30.0
_LOCK_RETRY_INTERVAL = 0.5
# librbd's notify timeout for lock messages (ImageWatcher: 5 s).
_NOTIFY_TIMEOUT_MS = 5000


# -- watch/notify payloads (src/librbd/WatchNotifyTypes.h/.cc) -----------------------------

class NotifyOp:
    """``librbd::watch_notify::NotifyOp`` (le32 on the wire)."""

    ACQUIRED_LOCK = 0
    RELEASED_LOCK = 1
    REQUEST_LOCK = 2
    HEADER_UPDATE = 3


# Ops that are notifications rather than requests to the owner: ASYNC_PROGRESS,
# ASYNC_COMPLETE, QUIESCE, UNQUIESCE (the latter two go to every watcher; librbd acks them
# without a response message when nothing is to be quiesced).
_NOT_PROXIED = frozenset({4, 5, 18, 19})

# NotifyMessage is ENCODE_START(7, 1) in Pacific; readers need compat <= 1.
_NOTIFY_MESSAGE_V = 7


def encode_notify(op: int, gid: int = 0, handle: int = 0, force: bool | None = None) -> bytes:
    """NotifyMessage { le32 op; payload }: lock ops carry ClientId (le64 gid, le64 handle),
    REQUEST_LOCK also ``bool force``; HEADER_UPDATE has no payload."""
    enc = Encoder()
    with enc.struct(_NOTIFY_MESSAGE_V, 1):
        enc.u32(op)
        if op in (NotifyOp.ACQUIRED_LOCK, NotifyOp.RELEASED_LOCK, NotifyOp.REQUEST_LOCK):
            enc.u64(gid)
            enc.u64(handle)
        if op == NotifyOp.REQUEST_LOCK:
            enc.bool_(bool(force))
    return enc.getvalue()


def decode_notify_op(payload: bytes) -> int | None:
    """The notify op of a NotifyMessage; None for an empty (legacy HEADER_UPDATE) or
    undecodable payload."""
    if not payload:
        return NotifyOp.HEADER_UPDATE
    try:
        dec = Decoder(payload, "librbd::watch_notify::NotifyMessage")
        with dec.struct("NotifyMessage", min_v=1, max_compat=1):
            return dec.u32()
    except CephError:
        return None


def encode_response(result: int) -> bytes:
    """ResponseMessage = envelope(1, 1) { s32 result }: the lock owner's ack payload."""
    enc = Encoder()
    with enc.struct(1, 1):
        enc.s32(result)
    return enc.getvalue()


def decode_response(payload: bytes) -> int | None:
    """The result of a ResponseMessage ack payload; None when empty or undecodable."""
    if not payload:
        return None
    try:
        dec = Decoder(payload, "librbd::watch_notify::ResponseMessage")
        with dec.struct("ResponseMessage", min_v=1, max_compat=1):
            return dec.s32()
    except CephError:
        return None


def _utc(t: tuple[int, int]) -> datetime.datetime:
    # python-rbd: datetime.utcfromtimestamp(tv_sec) -- naive UTC, whole seconds.
    return datetime.datetime.fromtimestamp(t[0], datetime.timezone.utc).replace(tzinfo=None)


def as_uint64(value: Any) -> int:
    """Cython's ``uint64_t`` argument coercion, as python-rbd's signatures apply it."""
    if isinstance(value, float):
        value = int(value)
    if not isinstance(value, int):
        try:
            value = value.__index__()
        except AttributeError:
            raise TypeError("an integer is required") from None
    if value < 0:
        raise OverflowError("can't convert negative value to uint64_t")
    if value >= 1 << 64:
        raise OverflowError("int too big to convert")
    return int(value)


class _Translate:
    """``with _Translate("error ..."):`` turns CephError into python-rbd's class."""

    def __init__(self, msg: str) -> None:
        self.msg = msg

    def __enter__(self) -> None:
        return None

    def __exit__(self, tp: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, CephError):
            raise rbdx.make_ex(exc.errno, self.msg) from exc
        if isinstance(exc, trio.TooSlowError):
            raise rbdx.make_ex(errno.ETIMEDOUT, self.msg) from exc


translate = _Translate


class AsyncImage:
    """An open RBD image; the async twin of ``rbd.Image`` (same methods, awaited).

    Construct with ``await AsyncImage.open(ioctx, name, ...)`` (or ``async with``).
    """

    def __init__(self, ioctx: AsyncIoctx, name: str | bytes | None = None,
                 snapshot: str | bytes | None = None, read_only: bool = False,
                 image_id: str | bytes | None = None) -> None:
        if name is None and image_id is None:
            raise rbdx.InvalidArgument("image name or image id was not specified")
        if name is not None and image_id is not None:
            raise rbdx.InvalidArgument("only need to specify image name or image id")
        for what, v in (("name", name), ("snapshot", snapshot), ("image_id", image_id)):
            if v is not None and not isinstance(v, (str, bytes)):
                raise rbdx.InvalidArgument(f"{what} must be a string")
        self.ioctx = ioctx
        self.name = to_str(name) if name is not None else ""
        self._name_arg = to_bytes(name if name is not None else image_id or "")
        self.image_id = to_str(image_id) if image_id is not None else ""
        self.snap_name = to_str(snapshot) if snapshot is not None else None
        self.snap_id = CEPH_NOSNAP
        # Opening at a snapshot is not a read-only open (python-rbd uses rbd_open): I/O
        # writes fail with EROFS while a snapshot is set, snapshot maintenance works.
        self.read_only = bool(read_only)
        self.header_oid = ""
        self.size_ = 0
        self.head_size_ = 0
        self.order = 22
        self.features_ = 0
        self.incompatible = 0
        self.flags_ = 0
        self.op_features_ = 0
        self.object_prefix = ""
        self.stripe_unit_ = 0
        self.stripe_count_ = 0
        self.layout = FileLayout(1 << 22, 1, 1 << 22)
        self.data_pool_id_ = -1
        self.data_ioctx: AsyncIoctx = ioctx
        self.snapc = SnapContext()
        self.create_ts = (0, 0)
        self.closed = True
        self._watch: AsyncWatch | None = None
        self.object_map: ObjectMap | None = None
        self.lock_owner = False
        self._lock_mutex = trio.Lock()
        self._needs_refresh = False
        # in-flight I/O, drained before the lock is handed over
        self._io_in_flight = 0
        self._io_idle = trio.Event()
        self._io_idle.set()
        self._release_requested = False
        self._peer_released = trio.Event()
        self._watch_lost = False
        # snapshot records by id, read on demand and dropped by every refresh
        self._snap_infos: dict[int, Any] | None = None
        # maintenance ops (snapshots) run one at a time; while one runs, new writes wait
        self._maint_mutex = trio.Lock()
        self._write_gate: trio.Event | None = None
        # lock_acquire() switches to librbd's StandardPolicy: no automatic acquisition,
        # peers' lock requests refused (rbdpy.librbd.maintenance)
        self._manual_lock = False

    # -- open / refresh / close ------------------------------------------------------------

    @classmethod
    async def open(cls, ioctx: AsyncIoctx, name: str | bytes | None = None,
                   snapshot: str | bytes | None = None, read_only: bool = False,
                   image_id: str | bytes | None = None) -> AsyncImage:
        """Open an image (python-rbd ``Image(ioctx, name, snapshot, read_only, image_id)``)."""
        img = cls(ioctx, name, snapshot, read_only, image_id)
        snap = to_bytes(snapshot) if snapshot is not None else None
        with translate(f"error opening image {img._name_arg!r} at snapshot {snap!r}"):
            await img._open()
        return img

    async def _open(self) -> None:
        io = self.ioctx
        if not self.image_id:
            (self.image_id,) = await exec_ops(io, id_obj_name(self.name), [cls_rbd.get_id()])
        else:
            try:
                (self.name,) = await exec_ops(io, RBD_DIRECTORY,
                                              [cls_rbd.dir_get_name(self.image_id)])
            except CephError as e:
                # An image in the trash has no directory entry; librbd then opens it
                # nameless if the header exists.
                if e.errno != errno.ENOENT:
                    raise
        self.header_oid = header_name(self.image_id)
        await self.refresh()
        if self.data_pool_id_ >= 0 and self.data_pool_id_ != io.pool_id:
            self.data_ioctx = await io.rados.open_ioctx2(self.data_pool_id_)
            self.data_ioctx.set_namespace(io.get_namespace())
        if self.snap_name is not None:
            await self._set_snap_by_name(self.snap_name)
        unsupported = self.incompatible & ~_SUPPORTED_FEATURES
        if unsupported:
            raise CephError(errno.ENOSYS, f"image uses unsupported features {unsupported:#x}")
        if not self.read_only:
            self._watch = await io.watch(self.header_oid, self._handle_notify,
                                         self._handle_watch_error)
        self.closed = False
        log.debug("opened image %r id %s size %d features %#x", self.name, self.image_id,
                  self.size_, self.features_)

    async def refresh(self) -> None:
        """Re-read the header in one compound op (RefreshRequest v2)."""
        calls: list[Any] = [
            cls_rbd.get_size(CEPH_NOSNAP),
            cls_rbd.get_features(CEPH_NOSNAP, self.read_only),
            cls_rbd.get_object_prefix(),
            cls_rbd.get_flags(CEPH_NOSNAP),
            cls_rbd.get_snapcontext(),
            cls_rbd.op_features_get(),
            cls_rbd.get_data_pool(),
            cls_rbd.get_create_timestamp(),
        ]
        res = await exec_ops(self.ioctx, self.header_oid, calls)
        size, feats, self.object_prefix, self.flags_, self.snapc, self.op_features_, \
            self.data_pool_id_, self.create_ts = res
        self.size_, self.order = size.size, size.order
        self.head_size_ = size.size
        self._snap_infos = None
        self.features_, self.incompatible = feats.features, feats.incompatible
        if self.features_ & RBD_FEATURE_STRIPINGV2:
            (suc,) = await exec_ops(self.ioctx, self.header_oid,
                                    [cls_rbd.get_stripe_unit_count()])
            self.stripe_unit_, self.stripe_count_ = suc.stripe_unit, suc.stripe_count
        else:
            self.stripe_unit_, self.stripe_count_ = 1 << self.order, 1
        self.layout = FileLayout.for_image(self.order, self.stripe_unit_, self.stripe_count_)
        self._needs_refresh = False
        if self.snap_id != CEPH_NOSNAP:
            try:
                (snap_size,) = await exec_ops(self.ioctx, self.header_oid,
                                              [cls_rbd.get_size(self.snap_id)])
                self.size_ = snap_size.size
            except CephError as e:
                # The snapshot we read from was removed by someone: librbd then reports
                # size 0 and fails reads.
                if e.errno != errno.ENOENT:
                    raise
                self.size_ = 0

    async def _set_snap_by_name(self, snap_name: str) -> None:
        from rbdpy.librbd import snapshots

        info = await snapshots.lookup(self, snap_name)
        if info is None:
            raise CephError(errno.ENOENT, f"snapshot {snap_name!r} not found")
        self.snap_id = info.id
        self.size_ = info.image_size

    async def _maybe_refresh(self) -> None:
        if self._needs_refresh:
            await self.refresh()

    async def close(self) -> None:
        """Release the exclusive lock and the header watch (CloseRequest)."""
        if self.closed:
            return
        self.closed = True
        with translate(f"error while closing image {to_bytes(self.name)!r}"):
            await self._io_idle.wait()
            if self.lock_owner:
                await self._release_lock()
            if self._watch is not None:
                watch, self._watch = self._watch, None
                try:
                    await watch.close()
                except Exception as e:  # a watch already gone must not fail close
                    log.debug("close %s: unwatch failed: %s", self.name, e)
            if self.data_ioctx is not self.ioctx:
                self.data_ioctx.close()

    async def __aenter__(self) -> AsyncImage:
        if self.closed and not self.header_oid:
            await self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def require_not_closed(self) -> None:
        if self.closed:
            raise rbdx.InvalidArgument("image is closed")

    def require_writable(self) -> None:
        """I/O writes and HEAD changes: refused on a read-only open or at a snapshot."""
        self.require_not_read_only()
        if self.snap_id != CEPH_NOSNAP:
            raise CephError(errno.EROFS, "a snapshot is set: image is read-only")

    def require_not_read_only(self) -> None:
        """Snapshot maintenance: librbd checks only the open mode (``ictx->read_only``)."""
        if self.read_only:
            raise CephError(errno.EROFS, "image is read-only")

    # -- plain getters -----------------------------------------------------------------------

    @property
    def _bname(self) -> bytes:
        return to_bytes(self.name)

    async def size(self) -> int:
        self.require_not_closed()
        with translate(f"error getting size for image {self._bname!r}"):
            await self._maybe_refresh()
        return self.size_

    async def stat(self) -> dict[str, Any]:
        self.require_not_closed()
        with translate(f"error getting info for image {self._bname!r}"):
            await self._maybe_refresh()
        obj_size = 1 << self.order
        return {
            "size": self.size_,
            "obj_size": obj_size,
            # librbd's info(): Striper::get_num_objects over the image size.
            "num_objs": get_num_objects(self.layout, self.size_),
            "order": self.order,
            "block_name_prefix": self.object_prefix,
            # deprecated fields: librbd fills -1 (as uint64) and an empty name.
            "parent_pool": (1 << 64) - 1,
            "parent_name": b"",
        }

    async def get_name(self) -> str:
        self.require_not_closed()
        return self.name

    async def id(self) -> str:
        self.require_not_closed()
        return self.image_id

    async def block_name_prefix(self) -> str:
        self.require_not_closed()
        return self.object_prefix

    async def data_pool_id(self) -> int:
        self.require_not_closed()
        return self.data_pool_id_ if self.data_pool_id_ >= 0 else self.ioctx.pool_id

    async def old_format(self) -> bool:
        self.require_not_closed()
        return False

    async def features(self) -> int:
        self.require_not_closed()
        with translate(f"error getting features for image {self._bname!r}"):
            await self._maybe_refresh()
        return self.features_

    async def flags(self) -> int:
        self.require_not_closed()
        with translate(f"error getting flags for image {self._bname!r}"):
            await self._maybe_refresh()
        return self.flags_

    async def op_features(self) -> int:
        self.require_not_closed()
        with translate(f"error getting op features for image {self._bname!r}"):
            await self._maybe_refresh()
        return self.op_features_

    async def stripe_unit(self) -> int:
        self.require_not_closed()
        return self.stripe_unit_

    async def stripe_count(self) -> int:
        self.require_not_closed()
        return self.stripe_count_

    async def create_timestamp(self) -> datetime.datetime:
        self.require_not_closed()
        return _utc(self.create_ts)

    async def access_timestamp(self) -> datetime.datetime:
        self.require_not_closed()
        with translate(f"error getting access timestamp for image: {self._bname!r}"):
            (t,) = await exec_ops(self.ioctx, self.header_oid,
                                  [cls_rbd.get_access_timestamp()])
        return _utc(t)

    async def modify_timestamp(self) -> datetime.datetime:
        self.require_not_closed()
        with translate(f"error getting modify timestamp for image: {self._bname!r}"):
            (t,) = await exec_ops(self.ioctx, self.header_oid,
                                  [cls_rbd.get_modify_timestamp()])
        return _utc(t)

    async def is_exclusive_lock_owner(self) -> bool:
        self.require_not_closed()
        return self.lock_owner

    def num_objects(self, size: int | None = None) -> int:
        return get_num_objects(self.layout, self.size_ if size is None else size)

    # -- header watch: notifications from peers ---------------------------------------------

    def _handle_notify(self, notify_id: int, notifier_id: int, watch_id: int,
                       data: bytes) -> bytes | None:
        op = decode_notify_op(data)
        log.debug("image %s: notify op %s from %d", self.name, op, notifier_id)
        if op == NotifyOp.HEADER_UPDATE:
            self._needs_refresh = True
        elif op == NotifyOp.RELEASED_LOCK:
            self._peer_released.set()
        elif op == NotifyOp.REQUEST_LOCK:
            if self.lock_owner and self._manual_lock:
                # StandardPolicy::lock_requested: the owner keeps the lock
                return encode_response(-errno.EROFS)
            if self.lock_owner and not self._release_requested:
                self._release_requested = True
                self.ioctx.rados._nursery.start_soon(self._release_on_request)
                return encode_response(0)
            if self.lock_owner:
                return encode_response(0)
        elif op is not None and op > NotifyOp.HEADER_UPDATE and op not in _NOT_PROXIED:
            # A maintenance op (snap create, resize, ...) proxied to the lock owner. We do
            # not run peers' ops: as owner we answer EOPNOTSUPP, which makes librbd fall
            # back to requesting the lock and running the op itself (what librbd's own
            # ImageWatcher answers for an op it does not know). Non-owners ack empty.
            if self.lock_owner:
                return encode_response(-errno.EOPNOTSUPP)
        return None

    def _handle_watch_error(self, watch_id: int, err: int) -> None:
        # The watch is gone, so our lock cookie no longer proves we are alive; librbd
        # re-registers and re-takes the lock. We drop ownership: the next write re-acquires.
        log.debug("image %s: header watch error %d", self.name, err)
        self.lock_owner = False
        self._watch_lost = True

    async def _release_on_request(self) -> None:
        try:
            async with self._lock_mutex:
                await self._io_idle.wait()
                if self.lock_owner:
                    await self._release_lock()
        except Exception as e:  # background task: never take the cluster handle down
            log.debug("image %s: release on request failed: %s", self.name, e)
        finally:
            self._release_requested = False

    async def _notify_header(self, op: int) -> None:
        gid = self.ioctx.rados.get_instance_id()
        handle = self._watch.id if self._watch is not None else 0
        try:
            await self.ioctx._notify(self.header_oid, encode_notify(op, gid, handle),
                                     _NOTIFY_TIMEOUT_MS)
        except CephError as e:
            log.debug("image %s: notify %d failed: %s", self.name, op, e)

    # -- exclusive lock (ManagedLock) -------------------------------------------------------

    @property
    def _cookie(self) -> str:
        handle = self._watch.id if self._watch is not None else 0
        return f"{WATCHER_LOCK_COOKIE_PREFIX} {handle}"

    async def acquire_lock(self) -> None:
        """Own the exclusive lock before a write/maintenance op (no-op without the feature)."""
        if not self.features_ & RBD_FEATURE_EXCLUSIVE_LOCK or self.lock_owner:
            return
        if self._manual_lock:
            # StandardPolicy: only lock_acquire() takes the lock (librbd: EROFS)
            raise CephError(errno.EROFS, "exclusive lock not held (managed by hand)")
        async with self._lock_mutex:
            if self.lock_owner:
                return
            if self._watch_lost:
                await self._rewatch()
            with trio.move_on_after(LOCK_ACQUIRE_TIMEOUT) as scope:
                while not await self._try_lock():
                    # retry when the owner announces RELEASED_LOCK, or after a while
                    with trio.move_on_after(_LOCK_RETRY_INTERVAL):
                        await self._peer_released.wait()
                    self._peer_released = trio.Event()
            if scope.cancelled_caught:
                raise CephError(errno.EBUSY, "timed out waiting for the exclusive lock")
            await self._post_acquire()

    async def _rewatch(self) -> None:
        """Register a new header watch after losing ours (ImageWatcher re-register): the
        lock cookie names the watch, so without a live one we cannot own the lock."""
        old, self._watch = self._watch, None
        if old is not None:
            try:
                await old.close()
            except Exception as e:  # the old registration is gone anyway
                log.debug("image %s: closing lost watch: %s", self.name, e)
        self.object_map = None
        self._watch = await self.ioctx.watch(self.header_oid, self._handle_notify,
                                             self._handle_watch_error)
        self._watch_lost = False
        self._needs_refresh = True

    async def _try_lock(self) -> bool:
        """One AcquireRequest round: lock, or deal with the current owner. True if ours."""
        if self._watch is None:
            raise CephError(errno.EROFS, "no header watch (read-only open)")
        try:
            await exec_ops(self.ioctx, self.header_oid, [cls_lock.lock(
                RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, self._cookie,
                WATCHER_LOCK_TAG, "", (0, 0), 0)])
            return True
        except CephError as e:
            if e.errno == errno.EEXIST:
                return True
            if e.errno != errno.EBUSY:
                raise
        # GetLockerRequest: who holds it, and is it a lock we may take over?
        try:
            (info,) = await exec_ops(self.ioctx, self.header_oid,
                                     [cls_lock.get_info(RBD_LOCK_NAME)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                return False  # released meanwhile: retry
            raise
        if not info.lockers:
            return False
        if (info.tag != WATCHER_LOCK_TAG
                or info.lock_type != cls_lock.ClsLockType.EXCLUSIVE):
            # An advisory (user) lock: librbd treats it as an incompatible locker.
            raise CephError(errno.EBUSY, "image locked by an external (advisory) lock")
        locker_id, locker_info = next(iter(info.lockers.items()))
        prefix, _, handle_text = locker_id.cookie.partition(" ")
        if prefix != WATCHER_LOCK_COOKIE_PREFIX or not handle_text.isdigit():
            raise CephError(errno.EBUSY, "image locked with a foreign cookie")
        handle = int(handle_text)
        watchers = await self.ioctx.list_watchers(self.header_oid)
        alive = any(w.cookie == handle and w.name.num == locker_id.locker.num
                    and _same_addr(w.addr, locker_info.addr) for w in watchers)
        if alive:
            log.debug("image %s: lock owned by live %s, requesting it", self.name,
                      locker_id.locker)
            gid = self.ioctx.rados.get_instance_id()
            me = self._watch.id
            res: Any = None
            try:
                _, res = await self.ioctx._notify(
                    self.header_oid,
                    encode_notify(NotifyOp.REQUEST_LOCK, gid, me, False),
                    _NOTIFY_TIMEOUT_MS)
            except CephError as e:
                log.debug("request lock notify failed: %s", e)
            # ImageWatcher::handle_request_lock: an owner that will not release (its
            # lock is managed by hand) answers -EROFS, which fails our op
            if res is not None and any(decode_response(p) == -errno.EROFS
                                       for p in res.acks.values()):
                raise CephError(errno.EROFS, "lock owner refused to release the lock")
            return False
        if locker_id.locker.num == self.ioctx.rados.get_instance_id():
            # Our own lock, left by a watch this client lost (ReacquireRequest territory):
            # drop it without fencing ourselves.
            await exec_ops(self.ioctx, self.header_oid, [cls_lock.break_lock(
                RBD_LOCK_NAME, locker_id.locker, locker_id.cookie)])
            return False
        # BreakRequest: the owner's watch is gone, it is dead. Blocklist it so a late
        # write of the old owner cannot land after ours, then break its lock.
        addr = locker_info.addr
        log.debug("image %s: breaking lock of dead owner %s at %s", self.name,
                  locker_id.locker, addr)
        try:
            await self.ioctx.rados.blocklist_add(f"{addr.host}:{addr.port}/{addr.nonce}")
        except Exception as e:
            log.debug("blocklist of %s failed: %s", addr, e)
        try:
            await exec_ops(self.ioctx, self.header_oid, [cls_lock.break_lock(
                RBD_LOCK_NAME, locker_id.locker, locker_id.cookie)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        return False

    async def _post_acquire(self) -> None:
        self.lock_owner = True
        log.debug("image %s: acquired exclusive lock (%s)", self.name, self._cookie)
        try:
            # The owner may have changed the header meanwhile (PostAcquireRequest refreshes).
            await self.refresh()
            if (self.features_ & RBD_FEATURE_OBJECT_MAP
                    and not self.flags_ & RBD_FLAG_OBJECT_MAP_INVALID):
                om = ObjectMap(self.ioctx, self.image_id)
                await om.lock()
                await om.load(self.num_objects(self.head_size_))
                self.object_map = om
        except BaseException:
            await self._release_lock()
            raise
        await self._notify_header(NotifyOp.ACQUIRED_LOCK)

    async def _release_lock(self) -> None:
        """PreReleaseRequest + ReleaseRequest: object map unlock, unlock, announce."""
        self.lock_owner = False
        om, self.object_map = self.object_map, None
        try:
            if om is not None:
                await om.unlock()
            try:
                await exec_ops(self.ioctx, self.header_oid,
                               [cls_lock.unlock(RBD_LOCK_NAME, self._cookie)])
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        finally:
            await self._notify_header(NotifyOp.RELEASED_LOCK)
        log.debug("image %s: released exclusive lock", self.name)

    # -- in-flight I/O accounting (drained before handing the lock over) ------------------

    def _io_start(self) -> None:
        self._io_in_flight += 1
        if self._io_idle.is_set():
            self._io_idle = trio.Event()

    def _io_done(self) -> None:
        self._io_in_flight -= 1
        if self._io_in_flight == 0:
            self._io_idle.set()

    async def _writing(self, fn: Callable[[], Awaitable[Any]]) -> Any:
        """Run a mutating op as the lock owner, counted as in-flight I/O."""
        self.require_writable()
        await self._maybe_refresh()
        while True:
            gate = self._write_gate
            if gate is not None:
                await gate.wait()  # a snapshot is being taken: wait, as librbd queues
                continue
            await self.acquire_lock()
            if self._write_gate is None:
                break
        # no checkpoint between the last gate check and here
        self._io_start()
        try:
            return await fn()
        finally:
            self._io_done()

    @asynccontextmanager
    async def _exclusive_op(self) -> AsyncIterator[None]:
        """A maintenance op (snapshot create/remove/rollback, ...): one at a time, new
        writes held back and in-flight ones drained (librbd's block_writes /
        suspend_requests), run as the exclusive-lock owner and counted as in-flight I/O so
        a peer's lock request waits for it."""
        async with self._maint_mutex:
            gate = trio.Event()
            self._write_gate = gate
            try:
                await self._io_idle.wait()
                await self._maybe_refresh()
                await self.acquire_lock()
                self._io_start()
                try:
                    yield
                finally:
                    self._io_done()
                if self.snap_id != CEPH_NOSNAP and self.lock_owner:
                    # Reading a snapshot: librbd holds no lock (and no HEAD object map,
                    # which must not filter snapshot reads) there; give it back.
                    async with self._lock_mutex:
                        if self.lock_owner:
                            await self._release_lock()
            finally:
                self._write_gate = None
                gate.set()

    # -- resize (operation/ResizeRequest.cc) ------------------------------------------------

    async def resize(self, size: int, allow_shrink: bool = True) -> None:
        self.require_not_closed()
        size = as_uint64(size)
        with translate(f"error resizing image {self._bname!r}"):
            self.require_writable()
            await self._maybe_refresh()
            if not allow_shrink and size < self.size_:
                raise rbdx.InvalidArgument(
                    "error allow_shrink is False but old_size > new_size")
            await self._writing(lambda: self._resize(size))

    async def _resize(self, new_size: int) -> None:
        from rbdpy.librbd import io as image_io

        old_size = self.size_
        if new_size == old_size:
            return
        new_objects = self.num_objects(new_size)
        om = self.object_map
        if new_size > old_size:
            # grow: map first, so objects written right after the resize have entries
            if om is not None:
                await om.resize(new_objects, OBJECT_NONEXISTENT)
            await exec_ops(self.ioctx, self.header_oid, [cls_rbd.set_size(new_size)])
        else:
            # shrink: stop I/O past the end first (librbd updates the size in memory
            # before trimming), trim, then the header, then drop the map's tail
            self.size_ = new_size
            await image_io.trim(self, new_size, old_size)
            await exec_ops(self.ioctx, self.header_oid, [cls_rbd.set_size(new_size)])
            if om is not None:
                await om.resize(new_objects, OBJECT_NONEXISTENT)
        self.size_ = new_size
        await self._notify_header(NotifyOp.HEADER_UPDATE)

    # -- metadata (internal.cc metadata_*) --------------------------------------------------

    async def metadata_get(self, key: str | bytes) -> str:
        self.require_not_closed()
        k = to_bytes(key)
        try:
            (v,) = await exec_ops(self.ioctx, self.header_oid, [cls_rbd.metadata_get(to_str(k))])
        except CephError as e:
            if e.errno == errno.ENOENT:
                raise KeyError(f"no metadata {k!r} for image {self._bname!r}") from None
            raise rbdx.make_ex(e.errno, f"error getting metadata {k!r} for image "
                                        f"{self._bname!r}") from e
        return str(v)

    async def metadata_set(self, key: str | bytes, value: str | bytes) -> None:
        self.require_not_closed()
        if not isinstance(key, (str, bytes)):
            raise rbdx.InvalidArgument("key must be a string")
        if not isinstance(value, (str, bytes)):
            raise rbdx.InvalidArgument("value must be a string")
        k, v = to_bytes(key), to_bytes(value)
        with translate(f"error setting metadata {k!r} for image {self._bname!r}"):
            from rbdpy.librbd.config import check_override

            check_override(to_str(k), to_str(v), image=True)  # conf_* keys (Operations.cc)
            await self._writing(lambda: self._meta_op(cls_rbd.metadata_set({to_str(k): v})))

    async def metadata_remove(self, key: str | bytes) -> None:
        self.require_not_closed()
        k = to_bytes(key)
        try:
            # librbd's metadata_remove reads the key first: a missing key is ENOENT
            await exec_ops(self.ioctx, self.header_oid, [cls_rbd.metadata_get(to_str(k))])
            await self._writing(lambda: self._meta_op(cls_rbd.metadata_remove(to_str(k))))
        except CephError as e:
            if e.errno == errno.ENOENT:
                raise KeyError(f"no metadata {k!r} for image {self._bname!r}") from None
            raise rbdx.make_ex(e.errno, f"error removing metadata {k!r} for image "
                                        f"{self._bname!r}") from e

    async def _meta_op(self, call: Any) -> None:
        await exec_ops(self.ioctx, self.header_oid, [call])
        await self._notify_header(NotifyOp.HEADER_UPDATE)

    async def metadata_list(self) -> list[tuple[str, str]]:
        self.require_not_closed()
        out: list[tuple[str, str]] = []
        start = ""
        with translate(f"error listing metadata for image {self._bname!r}"):
            while True:
                (page,) = await exec_ops(self.ioctx, self.header_oid,
                                         [cls_rbd.metadata_list(start, 64)])
                out.extend((k, v.decode("utf-8", "replace")) for k, v in page.items())
                if len(page) < 64:
                    break
                start = max(page)
        return out

    # -- advisory locks (internal.cc lock/unlock/break_lock/list_lockers) -----------------

    async def list_lockers(self) -> dict[str, Any] | list[Any]:
        self.require_not_closed()
        with translate("error listing images"):
            try:
                (info,) = await exec_ops(self.ioctx, self.header_oid,
                                         [cls_lock.get_info(RBD_LOCK_NAME)])
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
                return []
        if not info.lockers:
            return []
        return {
            "tag": info.tag,
            "exclusive": info.lock_type == cls_lock.ClsLockType.EXCLUSIVE,
            "lockers": [(str(lid.locker), lid.cookie,
                         f"{li.addr.host}:{li.addr.port}/{li.addr.nonce}")
                        for lid, li in info.lockers.items()],
        }

    async def _advisory_lock(self, kind: int, cookie: str | bytes, tag: str | bytes,
                             what: str) -> None:
        self.require_not_closed()
        with translate(f"error acquiring {what} lock on image"):
            # librbd refuses advisory locks while it owns the managed lock itself.
            if self.lock_owner:
                raise CephError(errno.EBUSY, "image exclusively locked by this client")
            await exec_ops(self.ioctx, self.header_oid, [cls_lock.lock(
                RBD_LOCK_NAME, cls_lock.ClsLockType(kind), to_str(to_bytes(cookie)),
                to_str(to_bytes(tag)),
                "", (0, 0), 0)])

    async def lock_exclusive(self, cookie: str | bytes) -> None:
        await self._advisory_lock(cls_lock.ClsLockType.EXCLUSIVE, cookie, "", "exclusive")

    async def lock_shared(self, cookie: str | bytes, tag: str | bytes) -> None:
        await self._advisory_lock(cls_lock.ClsLockType.SHARED, cookie, tag, "shared")

    async def unlock(self, cookie: str | bytes) -> None:
        self.require_not_closed()
        with translate("error unlocking image"):
            await exec_ops(self.ioctx, self.header_oid,
                           [cls_lock.unlock(RBD_LOCK_NAME, to_str(to_bytes(cookie)))])

    async def break_lock(self, client: str | bytes, cookie: str | bytes) -> None:
        self.require_not_closed()
        with translate("error unlocking image"):
            try:
                locker = cls_lock.EntityNameT.parse(to_str(to_bytes(client)))
            except ValueError:
                raise CephError(errno.EINVAL, f"bad client name {client!r}") from None
            (info,) = await exec_ops(self.ioctx, self.header_oid,
                                     [cls_lock.get_info(RBD_LOCK_NAME)])
            match = [li for lid, li in info.lockers.items()
                     if lid.locker == locker and lid.cookie == to_str(to_bytes(cookie))]
            if not match:
                raise CephError(errno.ENOENT, "no such locker")
            # rbd_blocklist_on_break_lock (default true): fence the client first.
            addr = match[0].addr
            await self.ioctx.rados.blocklist_add(f"{addr.host}:{addr.port}/{addr.nonce}")
            await exec_ops(self.ioctx, self.header_oid, [cls_lock.break_lock(
                RBD_LOCK_NAME, locker, to_str(to_bytes(cookie)))])

    # -- snapshots: see rbdpy.librbd.snapshots ----------------------------------------------

    async def list_snaps(self) -> list[dict[str, Any]]:
        from rbdpy.librbd import snapshots

        return await snapshots.list_snaps(self)

    async def create_snap(self, name: str | bytes, flags: int = 0) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.create_snap(self, name, flags)

    async def rename_snap(self, srcname: str | bytes, dstname: str | bytes) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.rename_snap(self, srcname, dstname)

    async def remove_snap(self, name: str | bytes) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.remove_snap(self, name)

    async def remove_snap2(self, name: str | bytes, flags: int) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.remove_snap2(self, name, flags)

    async def remove_snap_by_id(self, snap_id: int) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.remove_snap_by_id(self, snap_id)

    async def rollback_to_snap(self, name: str | bytes) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.rollback_to_snap(self, name)

    async def protect_snap(self, name: str | bytes) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.protect_snap(self, name)

    async def unprotect_snap(self, name: str | bytes) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.unprotect_snap(self, name)

    async def is_protected_snap(self, name: str | bytes) -> bool:
        from rbdpy.librbd import snapshots

        return await snapshots.is_protected_snap(self, name)

    async def snap_exists(self, name: str | bytes) -> bool:
        from rbdpy.librbd import snapshots

        return await snapshots.snap_exists(self, name)

    async def get_snap_limit(self) -> int:
        from rbdpy.librbd import snapshots

        return await snapshots.get_snap_limit(self)

    async def set_snap_limit(self, limit: int) -> int:
        from rbdpy.librbd import snapshots

        return await snapshots.set_snap_limit(self, limit)

    async def get_snap_timestamp(self, snap_id: int) -> datetime.datetime:
        from rbdpy.librbd import snapshots

        return await snapshots.get_snap_timestamp(self, snap_id)

    async def remove_snap_limit(self) -> int:
        from rbdpy.librbd import snapshots

        return await snapshots.remove_snap_limit(self)

    async def set_snap(self, name: str | bytes | None) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.set_snap(self, name)

    async def set_snap_by_id(self, snap_id: int | None) -> None:
        from rbdpy.librbd import snapshots

        return await snapshots.set_snap_by_id(self, snap_id)

    async def snap_get_name(self, snap_id: int) -> str:
        from rbdpy.librbd import snapshots

        return await snapshots.snap_get_name(self, snap_id)

    async def snap_get_id(self, snap_name: str | bytes) -> int:
        from rbdpy.librbd import snapshots

        return await snapshots.snap_get_id(self, snap_name)

    async def snap_get_namespace_type(self, snap_id: int) -> int:
        from rbdpy.librbd import snapshots

        return await snapshots.snap_get_namespace_type(self, snap_id)

    async def snap_get_group_namespace(self, snap_id: int) -> dict[str, Any]:
        from rbdpy.librbd import snapshots

        return await snapshots.snap_get_group_namespace(self, snap_id)

    async def snap_get_trash_namespace(self, snap_id: int) -> dict[str, Any]:
        from rbdpy.librbd import snapshots

        return await snapshots.snap_get_trash_namespace(self, snap_id)

    async def snap_get_mirror_namespace(self, snap_id: int) -> dict[str, Any]:
        from rbdpy.librbd import snapshots

        return await snapshots.snap_get_mirror_namespace(self, snap_id)

    async def diff_iterate(self, offset: int, length: int, from_snapshot: str | bytes | None,
                           iterate_cb: Any, include_parent: bool = True,
                           whole_object: bool = False) -> None:
        """``iterate_cb(offset, length, exists)`` for each extent changed since
        ``from_snapshot`` (None: ever); see :mod:`rbdpy.librbd.diff` for how."""
        for extent in await self.diff_extents(offset, length, from_snapshot, include_parent,
                                              whole_object):
            iterate_cb(*extent)

    async def diff_extents(self, offset: int, length: int, from_snapshot: str | bytes | None,
                           include_parent: bool = True,
                           whole_object: bool = False) -> list[tuple[int, int, bool]]:
        """What :meth:`diff_iterate` reports, as a list."""
        from rbdpy.librbd import diff

        self.require_not_closed()
        offset, length = as_uint64(offset), as_uint64(length)
        snap = to_str(from_snapshot) if from_snapshot is not None else None
        # python-rbd's message, with the name as the bytes it passes to librbd
        label = None if from_snapshot is None else to_bytes(from_snapshot)
        with translate(f"error generating diff from snapshot {label}"):
            return await diff.diff_extents(self, offset, length, snap, include_parent,
                                           whole_object)

    # -- I/O: see rbdpy.librbd.io ---------------------------------------------------------------

    async def read(self, offset: int, length: int, fadvise_flags: int = 0) -> bytes:
        from rbdpy.librbd import io as image_io

        self.require_not_closed()
        offset, length = as_uint64(offset), as_uint64(length)
        with translate(f"error reading {self._bname!r} {offset}~{length}"):
            return await image_io.read(self, offset, length, fadvise_flags)

    async def write(self, data: bytes | bytearray | memoryview, offset: int,
                    fadvise_flags: int = 0) -> int:
        from rbdpy.librbd import io as image_io

        self.require_not_closed()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be a byte string")
        offset = as_uint64(offset)
        length = len(data)
        with translate(f"error writing to {self._bname!r}"):
            written = await image_io.write(self, data, offset, fadvise_flags)
        if written < length:
            raise rbdx.IncompleteWriteError(f"Wrote only {written} out of {length} bytes")
        return written

    async def discard(self, offset: int, length: int) -> None:
        from rbdpy.librbd import io as image_io

        self.require_not_closed()
        offset, length = as_uint64(offset), as_uint64(length)
        with translate(f"error discarding region {offset}~{length}"):
            await image_io.discard(self, offset, length)

    async def flush(self) -> None:
        """Writes are acknowledged on commit (no client cache): wait for in-flight ones."""
        self.require_not_closed()
        await self._io_idle.wait()

    async def write_zeroes(self, offset: int, length: int, zero_flags: int = 0) -> None:
        from rbdpy.librbd import io as image_io

        self.require_not_closed()
        offset, length = as_uint64(offset), as_uint64(length)
        with translate(f"error zeroing region {offset}~{length}"):
            await image_io.write_zeroes(self, offset, length, int(zero_flags))

    async def invalidate_cache(self) -> None:
        """No client-side cache: nothing to drop (librbd with rbd_cache=false)."""
        self.require_not_closed()

    # -- maintenance, managed lock, config: see rbdpy.librbd.maintenance / .config ----------

    async def update_features(self, features: int, enabled: bool) -> None:
        from rbdpy.librbd import maintenance

        await maintenance.update_features(self, features, enabled)

    async def rebuild_object_map(self) -> None:
        from rbdpy.librbd import maintenance

        await maintenance.rebuild_object_map(self)

    async def sparsify(self, sparse_size: int) -> None:
        from rbdpy.librbd import maintenance

        await maintenance.sparsify(self, sparse_size)

    async def copy(self, dest_ioctx: AsyncIoctx, dest_name: str | bytes,
                   features: int | None = None, order: int | None = None,
                   stripe_unit: int | None = None, stripe_count: int | None = None,
                   data_pool: str | None = None) -> None:
        from rbdpy.librbd import maintenance

        await maintenance.copy(self, dest_ioctx, dest_name, features, order, stripe_unit,
                               stripe_count, data_pool)

    async def watchers_list(self) -> list[dict[str, Any]]:
        from rbdpy.librbd import maintenance

        return await maintenance.watchers_list(self)

    async def lock_acquire(self, lock_mode: int) -> None:
        from rbdpy.librbd import maintenance

        await maintenance.lock_acquire(self, lock_mode)

    async def lock_release(self) -> None:
        from rbdpy.librbd import maintenance

        await maintenance.lock_release(self)

    async def lock_get_owners(self) -> list[dict[str, Any]]:
        from rbdpy.librbd import maintenance

        return await maintenance.lock_get_owners(self)

    async def lock_break(self, lock_mode: int, lock_owner: str | bytes) -> None:
        from rbdpy.librbd import maintenance

        await maintenance.lock_break(self, lock_mode, lock_owner)

    async def config_list(self) -> list[dict[str, Any]]:
        from rbdpy.librbd import config

        return await config.image_config_list(self)

    async def config_get(self, key: str | bytes) -> str:
        from rbdpy.librbd import config

        return await config.image_config_get(self, key)

    async def config_set(self, key: str | bytes, value: str | bytes) -> None:
        from rbdpy.librbd import config

        await config.image_config_set(self, key, value)

    async def config_remove(self, key: str | bytes) -> None:
        from rbdpy.librbd import config

        await config.image_config_remove(self, key)


def _same_addr(a: Any, b: Any) -> bool:
    # The lock records the address as entity_addr_t type LEGACY even for msgr2 clients,
    # so compare everything but the type (kernel find_watcher does the same).
    return bool(a.host == b.host and a.port == b.port and a.nonce == b.nonce)


__all__ = ["AsyncImage", "NotifyOp", "as_uint64", "decode_notify_op", "encode_notify",
           "encode_response", "translate"]
