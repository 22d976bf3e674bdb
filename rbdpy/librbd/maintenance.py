"""Image maintenance: feature updates, object-map rebuild, sparsify, copy, watchers and the
managed exclusive lock driven by hand.

Theory of operation: every mutating operation here runs through the image's
``_exclusive_op`` (one maintenance op at a time, new writes held back, in-flight ones
drained, the exclusive lock owned when the image has the feature) -- librbd's
``Operations::execute_*`` with ``prepare_lock`` + ``block_writes``.

* ``update_features`` follows ``Operations::update_features`` for the checks (mutable set,
  object-map and fast-diff enabled/disabled together, already-enabled/disabled is EINVAL)
  and EnableFeaturesRequest / DisableFeaturesRequest for the effects: enabling object-map
  creates an empty (all NONEXISTENT) map per HEAD and snapshot and raises the
  OBJECT_MAP_INVALID / FAST_DIFF_INVALID flags -- librbd 16.2 does *not* rebuild it (checked
  with ``rbd feature enable`` + ``rbd info``: "flags: object map invalid, fast diff
  invalid"); ``rebuild_object_map`` clears them. Disabling object-map deletes the map
  objects and clears the flags; disabling exclusive-lock releases the lock. Journaling is
  refused (EOPNOTSUPP: rbdpy has no journal).
* ``rebuild_object_map`` (RebuildObjectMapRequest for HEAD): stat every data object,
  save the whole map with ``object_map_save`` under the map's cls lock, clear the invalid
  flags.
* ``sparsify`` (SparsifyRequest / SparsifyObjectRequest): read each object that may
  exist; an all-zero object is removed (object map PENDING, then NONEXISTENT) -- unless
  the image is a clone and the object lies below HEAD's parent overlap, where removing it
  would let the parent's data show through: it is truncated to nothing instead --,
  otherwise every ``sparse_size``-aligned zero run is punched (zero op; truncate when it
  reaches the object's end).
* ``copy`` (internal.cc copy): create the destination with the source's features, order
  and striping unless given, copy the image metadata, then copy data one object set at a
  time, writing only the ``4 KiB`` blocks that are not all zero.
* ``lock_acquire``/``lock_release``/``lock_get_owners``/``lock_break`` follow internal.cc
  (Pacific): ``lock_acquire`` switches the image to librbd's StandardPolicy -- no automatic
  acquisition before writes (EROFS instead) and lock requests from peers are refused with
  EROFS -- then takes the lock only if it is free or its owner is dead (a live owner: EROFS).

Mirrors: ceph src/librbd/Operations.cc (update_features, rebuild_object_map, sparsify),
operation/EnableFeaturesRequest.cc, DisableFeaturesRequest.cc,
operation/RebuildObjectMapRequest.cc, operation/SparsifyRequest.cc, object_map/CreateRequest.cc,
object_map/RemoveRequest.cc, src/librbd/internal.cc (copy, lock_acquire, lock_release,
lock_get_owners, lock_break), src/librbd/api/Image.cc (list_watchers),
src/librbd/managed_lock/GetLockerRequest.cc, BreakRequest.cc; src/pybind/rbd/rbd.pyx.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_lock, cls_rbd
from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_NONEXISTENT,
    RBD_FEATURE_DEEP_FLATTEN,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_JOURNALING,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURES_DISABLE_ONLY,
    RBD_FEATURES_MUTABLE,
    RBD_FEATURES_MUTABLE_INTERNAL,
    RBD_FLAG_FAST_DIFF_INVALID,
    RBD_FLAG_OBJECT_MAP_INVALID,
    RBD_LOCK_NAME,
    data_object_name,
    object_map_name,
)
from rbdpy.format.object_map import BitVector
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd.coerce import as_uint64
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.errors import translate
from rbdpy.librbd.exclusive_lock import addr_text, get_locker
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.object_map import ObjectMap
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import to_str
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.librbd.image_ctx import ImageCtx

log = logging.getLogger(__name__)

# RBD_LOCK_MODE_* (librbd.h rbd_lock_mode_t)
RBD_LOCK_MODE_EXCLUSIVE = 0
RBD_LOCK_MODE_SHARED = 1

# Operations.cc sparsify: a power of two, at least 4 KiB, at most the object size.
_MIN_SPARSE_SIZE = 4096


async def _snap_sizes(ictx: ImageCtx) -> list[tuple[int, int]]:
    """(snap_id, size) for HEAD (CEPH_NOSNAP) and every snapshot of the image."""
    out = [(CEPH_NOSNAP, ictx.head_size)]
    snaps = list(ictx.snapc.snaps)
    if snaps:
        res = await exec_ops(ictx.ioctx, ictx.header_oid,
                             [cls_rbd.get_size(s) for s in snaps])
        out.extend((s, r.size) for s, r in zip(snaps, res, strict=True))
    return out


async def _set_flags_all(ictx: ImageCtx, flags: int, mask: int) -> None:
    """SetFlagsRequest: the same flag change on HEAD and on every snapshot."""
    calls = [cls_rbd.set_flags(CEPH_NOSNAP, flags, mask)]
    calls.extend(cls_rbd.set_flags(s, flags, mask) for s in ictx.snapc.snaps)
    await exec_ops(ictx.ioctx, ictx.header_oid, calls)


# -- update_features (Operations::update_features, Enable/DisableFeaturesRequest) -----------


async def update_features(ictx: ImageCtx, features: int, enabled: bool) -> None:
    ictx.require_not_closed()
    features = as_uint64(features)
    with translate("error updating features for image {!r}", ictx.name_bytes):
        ictx.require_writable()
        if ictx.old_format:
            # Operations::update_features: a format 1 image has no feature bits at all
            raise CephError(errno.EINVAL, "format 1 images do not support features")
        await ictx.maybe_refresh()
        disable_mask = RBD_FEATURES_MUTABLE | RBD_FEATURES_DISABLE_ONLY
        if ((enabled and features & ~RBD_FEATURES_MUTABLE)
                or (not enabled and features & ~disable_mask)
                or features & RBD_FEATURES_MUTABLE_INTERNAL):
            raise CephError(errno.EINVAL, "cannot update immutable features")
        if features == 0:
            raise CephError(errno.EINVAL, "update requires at least one feature")
        have = ictx.features
        # object-map and fast-diff travel together (Operations.cc)
        set_om = bool(features & RBD_FEATURE_OBJECT_MAP)
        set_fd = bool(features & RBD_FEATURE_FAST_DIFF)
        if ((enabled and ((set_om and not have & RBD_FEATURE_FAST_DIFF)
                          or (set_fd and not have & RBD_FEATURE_OBJECT_MAP)))
                or (not enabled and set_om and have & RBD_FEATURE_FAST_DIFF)):
            features |= RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF
        if enabled and features & have:
            raise CephError(errno.EINVAL, "one or more requested features are already "
                                          "enabled")
        if not enabled and features & ~have:
            raise CephError(errno.EINVAL, "one or more requested features are already "
                                          "disabled")
        if features & RBD_FEATURE_JOURNALING:
            if enabled and not (have | features) & RBD_FEATURE_EXCLUSIVE_LOCK:
                raise CephError(errno.EINVAL, "cannot enable journaling without "
                                              "exclusive-lock")
            raise CephError(errno.EOPNOTSUPP, "journaling is not implemented in rbdpy")
        async with ictx.exclusive_op():
            if enabled:
                await _enable_features(ictx, features)
            else:
                await _disable_features(ictx, features)
        await ictx.refresh()
        await ictx.notify_header(NotifyOp.HEADER_UPDATE)


async def _enable_features(ictx: ImageCtx, features: int) -> None:
    new_features = ictx.features | features
    enable_flags = 0
    if features & RBD_FEATURE_OBJECT_MAP:
        if not new_features & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "cannot enable object-map: exclusive-lock must "
                                          "be enabled first")
        enable_flags |= RBD_FLAG_OBJECT_MAP_INVALID
    if features & RBD_FEATURE_FAST_DIFF:
        if not new_features & RBD_FEATURE_OBJECT_MAP:
            raise CephError(errno.EINVAL, "cannot enable fast-diff: object-map must be "
                                          "enabled first")
        enable_flags |= RBD_FLAG_FAST_DIFF_INVALID
    # EnableFeaturesRequest order: flags, then features, then the (empty) object maps.
    if enable_flags:
        await _set_flags_all(ictx, enable_flags, enable_flags)
    await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.set_features(new_features, features)])
    if features & RBD_FEATURE_OBJECT_MAP:
        # object_map::CreateRequest: one map per HEAD and snapshot, all NONEXISTENT
        for snap_id, size in await _snap_sizes(ictx):
            await exec_ops(ictx.ioctx, object_map_name(ictx.image_id, snap_id), [
                cls_rbd.object_map_resize(ictx.num_objects(size), OBJECT_NONEXISTENT)])
    log.debug("image %s: enabled features %#x", ictx.name, features)


async def _disable_features(ictx: ImageCtx, features: int) -> None:
    new_features = ictx.features & ~features
    mask = features
    disable_flags = 0
    if features & RBD_FEATURE_EXCLUSIVE_LOCK:
        if new_features & (RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_JOURNALING):
            raise CephError(errno.EINVAL, "cannot disable exclusive-lock: object-map and "
                                          "journaling must be disabled first")
        mask |= RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_JOURNALING
    if features & RBD_FEATURE_FAST_DIFF:
        disable_flags |= RBD_FLAG_FAST_DIFF_INVALID
    if features & RBD_FEATURE_OBJECT_MAP:
        if new_features & RBD_FEATURE_FAST_DIFF:
            raise CephError(errno.EINVAL, "cannot disable object-map while fast-diff is "
                                          "enabled")
        disable_flags |= RBD_FLAG_OBJECT_MAP_INVALID
        # object_map::RemoveRequest: HEAD and every snapshot map
        om, ictx.object_map = ictx.object_map, None
        if om is not None:
            await om.unlock()
        for snap_id, _ in await _snap_sizes(ictx):
            try:
                await ictx.ioctx.operate(object_map_name(ictx.image_id, snap_id),
                                         [ops.delete()], flags=ops.OsdFlag.WRITE)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
    await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.set_features(new_features, mask)])
    if disable_flags:
        await _set_flags_all(ictx, 0, disable_flags)
    if features & RBD_FEATURE_EXCLUSIVE_LOCK and ictx.exclusive_lock.is_owner:
        # the lock is gone with the feature (ExclusiveLock shut down)
        await ictx.exclusive_lock.drop()
    if features & RBD_FEATURE_DEEP_FLATTEN:
        log.debug("image %s: deep-flatten disabled", ictx.name)
    log.debug("image %s: disabled features %#x", ictx.name, features)


# -- rebuild_object_map (RebuildObjectMapRequest, HEAD) --------------------------------------


async def rebuild_object_map(ictx: ImageCtx) -> None:
    ictx.require_not_closed()
    with translate("error rebuilding object map {!r}", ictx.name_bytes):
        await ictx.maybe_refresh()
        if not ictx.features & RBD_FEATURE_OBJECT_MAP:
            raise CephError(errno.EINVAL, "image must support object-map feature")
        ictx.require_not_read_only()
        if ictx.snap_id != CEPH_NOSNAP:
            # librbd rebuilds the snapshot's map from list_snaps; not implemented here
            raise CephError(errno.EOPNOTSUPP, "rebuilding a snapshot's object map is not "
                                              "implemented in rbdpy")
        async with ictx.exclusive_op():
            await _rebuild_head(ictx)
        await ictx.notify_header(NotifyOp.HEADER_UPDATE)


async def _object_exists(ictx: ImageCtx, objectno: int) -> bool:
    try:
        await ictx.data_ioctx.operate(
            data_object_name(ictx.object_prefix, objectno, ictx.old_format), [ops.stat()])
    except CephError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    return True


async def _rebuild_head(ictx: ImageCtx) -> None:
    count = ictx.num_objects(ictx.head_size)
    states = [OBJECT_NONEXISTENT] * count

    def job(n: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if await _object_exists(ictx, n):
                states[n] = OBJECT_EXISTS
        return run

    await fan_out([job(n) for n in range(count)])
    bits = BitVector(count)
    for n, state in enumerate(states):
        if state != OBJECT_NONEXISTENT:
            bits[n] = state
    om = ictx.object_map
    if om is None:
        # an invalid map is not loaded at lock time: take its lock now
        om = ObjectMap(ictx.ioctx, ictx.image_id)
        await om.lock()
    await exec_ops(ictx.ioctx, om.oid, [
        cls_lock.assert_locked(RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, "", ""),
        cls_rbd.object_map_save(bits)])
    om.bits = bits
    ictx.object_map = om
    await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.set_flags(
        CEPH_NOSNAP, 0, RBD_FLAG_OBJECT_MAP_INVALID | RBD_FLAG_FAST_DIFF_INVALID)])
    ictx.flags &= ~(RBD_FLAG_OBJECT_MAP_INVALID | RBD_FLAG_FAST_DIFF_INVALID)
    log.debug("image %s: object map rebuilt, %d of %d objects exist", ictx.name,
              sum(1 for s in states if s != OBJECT_NONEXISTENT), count)


# -- sparsify (SparsifyRequest / SparsifyObjectRequest) ---------------------------------------


async def sparsify(ictx: ImageCtx, sparse_size: int) -> None:
    ictx.require_not_closed()
    sparse_size = as_uint64(sparse_size)
    with translate("error sparsifying {!r}", ictx.name_bytes):
        await ictx.maybe_refresh()
        object_size = ictx.layout.object_size
        if (sparse_size < _MIN_SPARSE_SIZE or sparse_size & (sparse_size - 1)
                or sparse_size > object_size):
            raise CephError(errno.EINVAL, "sparse size should be power of two not less "
                                          "than 4096 and not larger than the object size")
        ictx.require_writable()
        async with ictx.exclusive_op():
            count = ictx.num_objects(ictx.size)
            # SparsifyRequest: an object of a clone below HEAD's parent overlap may not be
            # removed, even when it holds only zeros -- without it, reads would fall
            # through to the parent's data. It is truncated to nothing instead.
            overlap = ictx.head_parent_overlap or 0
            keep_below = ictx.num_objects(overlap) if overlap > 0 else 0
            await fan_out([_sparsify_job(ictx, n, sparse_size, n >= keep_below)
                           for n in range(count)], limit=8)


def _sparsify_job(ictx: ImageCtx, objectno: int, sparse_size: int, remove_empty: bool
                  ) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        om = ictx.object_map
        if om is not None and not om.may_exist(objectno):
            return
        oid = data_object_name(ictx.object_prefix, objectno, ictx.old_format)
        try:
            reply = await ictx.data_ioctx.operate(
                oid, [ops.read(0, ictx.layout.object_size)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                return
            raise
        data = memoryview(reply.outdata[0])
        size = len(data)
        zero = bytes(sparse_size)
        if data == bytes(size) and not remove_empty:
            # all zeros over parent data: the object stays, empty (object map unchanged)
            if size:
                await ictx.data_ioctx.operate(oid, [ops.assert_exists(), ops.truncate(0)],
                                              snapc=ictx.snapc)
                log.debug("sparsify %s: emptied %s (it hides parent data)", ictx.name, oid)
            return
        if data == bytes(size):
            # all zeros: remove the object (object map PENDING around it)
            if om is not None:
                await om.mark_pending([objectno])
            await ictx.data_ioctx.operate(oid, [ops.delete()], snapc=ictx.snapc)
            if om is not None:
                await om.mark_removed([objectno])
            log.debug("sparsify %s: removed empty %s", ictx.name, oid)
            return
        # zero runs of aligned sparse_size chunks
        runs: list[tuple[int, int]] = []
        for i in range(0, size, sparse_size):
            chunk = data[i:i + sparse_size]
            if len(chunk) == sparse_size and chunk == zero:
                if runs and runs[-1][0] + runs[-1][1] == i:
                    runs[-1] = (runs[-1][0], runs[-1][1] + sparse_size)
                else:
                    runs.append((i, sparse_size))
        osd_ops = []
        for off, length in runs:
            if off + length >= size:
                osd_ops.append(ops.truncate(off))
            else:
                osd_ops.append(ops.zero(off, length))
        if osd_ops:
            await ictx.data_ioctx.operate(oid, [ops.assert_exists(), *osd_ops],
                                          snapc=ictx.snapc)
            log.debug("sparsify %s: %s: punched %d zero runs", ictx.name, oid, len(runs))
    return run


# -- watchers (api/Image.cc list_watchers) ----------------------------------------------------


async def watchers_list(ictx: ImageCtx) -> list[dict[str, Any]]:
    ictx.require_not_closed()
    with translate("error listing watchers"):
        watchers = await ictx.ioctx.list_watchers(ictx.header_oid)
    # python-rbd's key order: addr, id, cookie
    return [{"addr": addr_text(w.addr), "id": w.name.num, "cookie": w.cookie}
            for w in watchers]


# -- managed exclusive lock by hand (internal.cc lock_*) ----------------------------------------


def _require_exclusive_lock_feature(ictx: ImageCtx) -> None:
    if not ictx.features & RBD_FEATURE_EXCLUSIVE_LOCK:
        raise CephError(errno.EINVAL, "exclusive-lock feature is not enabled")


async def lock_acquire(ictx: ImageCtx, lock_mode: int) -> None:
    ictx.require_not_closed()
    with translate("error acquiring lock on image"):
        if lock_mode != RBD_LOCK_MODE_EXCLUSIVE:
            raise CephError(errno.EOPNOTSUPP, "unsupported lock mode")
        ictx.require_not_read_only()
        await ictx.maybe_refresh()
        _require_exclusive_lock_feature(ictx)
        await ictx.exclusive_lock.acquire_by_hand()


async def lock_release(ictx: ImageCtx) -> None:
    ictx.require_not_closed()
    with translate("error releasing lock on image"):
        if not ictx.features & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "not exclusive lock owner")
        await ictx.exclusive_lock.release_by_hand()


async def lock_get_owners(ictx: ImageCtx) -> list[dict[str, Any]]:
    ictx.require_not_closed()
    with translate("error listing lock owners for image {!r}", ictx.name_bytes):
        await ictx.maybe_refresh()
        _require_exclusive_lock_feature(ictx)
        owner = await get_locker(ictx.ioctx, ictx.header_oid)
    if owner is None:
        return []  # python-rbd's LockOwnerIterator: ENOENT = no owners
    return [{"mode": RBD_LOCK_MODE_EXCLUSIVE, "owner": addr_text(owner[1].addr)}]


async def lock_break(ictx: ImageCtx, lock_mode: int, lock_owner: str | bytes) -> None:

    ictx.require_not_closed()
    with translate("error breaking lock on image"):
        if lock_mode != RBD_LOCK_MODE_EXCLUSIVE:
            raise CephError(errno.EOPNOTSUPP, "unsupported lock mode")
        ictx.require_not_read_only()
        await ictx.maybe_refresh()
        _require_exclusive_lock_feature(ictx)
        owner = await get_locker(ictx.ioctx, ictx.header_oid)
        if owner is None:
            raise CephError(errno.ENOENT, "image is not locked")
        locker_id, locker_info = owner
        if addr_text(locker_info.addr) != to_str(lock_owner):
            raise CephError(errno.EBUSY, "client is not lock owner")
        if ictx.exclusive_lock.is_owner:
            # librbd 16.2 answers EBUSY when the image itself owns the lock (observed)
            raise CephError(errno.EBUSY, "the lock is owned by this image")
        if locker_id.locker.num == ictx.ioctx.rados.get_instance_id():
            # BreakRequest refuses to blocklist its own client
            raise CephError(errno.EINVAL, "attempting to self-blocklist")
        # BreakRequest with force: blocklist (rbd_blocklist_on_break_lock) then break
        await ictx.ioctx.rados.blocklist_add(addr_text(locker_info.addr))
        try:
            await exec_ops(ictx.ioctx, ictx.header_oid, [cls_lock.break_lock(
                RBD_LOCK_NAME, locker_id.locker, locker_id.cookie)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise


__all__ = ["RBD_LOCK_MODE_EXCLUSIVE", "RBD_LOCK_MODE_SHARED", "lock_acquire",
           "lock_break", "lock_get_owners", "lock_release", "rebuild_object_map",
           "sparsify", "update_features", "watchers_list"]
