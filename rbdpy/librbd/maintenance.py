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
  exist; an all-zero object is removed (object map PENDING, then NONEXISTENT), otherwise
  every ``sparse_size``-aligned zero run is punched (zero op; truncate when it reaches the
  object's end).
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
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.image import (
    WATCHER_LOCK_COOKIE_PREFIX,
    WATCHER_LOCK_TAG,
    NotifyOp,
    _same_addr,
    as_uint64,
    translate,
)
from rbdpy.librbd.io import fan_out
from rbdpy.librbd.object_map import ObjectMap, exec_ops
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import to_bytes, to_str
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.librbd.image import AsyncImage
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# RBD_LOCK_MODE_* (librbd.h rbd_lock_mode_t)
RBD_LOCK_MODE_EXCLUSIVE = 0
RBD_LOCK_MODE_SHARED = 1

# Operations.cc sparsify: a power of two, at least 4 KiB, at most the object size.
_MIN_SPARSE_SIZE = 4096
# Granularity of the zero test when copying (librbd copies sparse at 4 KiB too).
_COPY_SPARSE_SIZE = 4096


def _addr_str(addr: Any) -> str:
    """entity_addr_t as librbd prints a locker/watcher address: ``ip:port/nonce``."""
    return f"{addr.host}:{addr.port}/{addr.nonce}"


async def _snap_sizes(img: AsyncImage) -> list[tuple[int, int]]:
    """(snap_id, size) for HEAD (CEPH_NOSNAP) and every snapshot of the image."""
    out = [(CEPH_NOSNAP, img.head_size_)]
    snaps = list(img.snapc.snaps)
    if snaps:
        res = await exec_ops(img.ioctx, img.header_oid,
                             [cls_rbd.get_size(s) for s in snaps])
        out.extend((s, r.size) for s, r in zip(snaps, res, strict=True))
    return out


async def _set_flags_all(img: AsyncImage, flags: int, mask: int) -> None:
    """SetFlagsRequest: the same flag change on HEAD and on every snapshot."""
    calls = [cls_rbd.set_flags(CEPH_NOSNAP, flags, mask)]
    calls.extend(cls_rbd.set_flags(s, flags, mask) for s in img.snapc.snaps)
    await exec_ops(img.ioctx, img.header_oid, calls)


# -- update_features (Operations::update_features, Enable/DisableFeaturesRequest) -----------


async def update_features(img: AsyncImage, features: int, enabled: bool) -> None:
    img.require_not_closed()
    features = as_uint64(features)
    with translate(f"error updating features for image {img._bname!r}"):
        img.require_writable()
        await img._maybe_refresh()
        disable_mask = RBD_FEATURES_MUTABLE | RBD_FEATURES_DISABLE_ONLY
        if ((enabled and features & ~RBD_FEATURES_MUTABLE)
                or (not enabled and features & ~disable_mask)
                or features & RBD_FEATURES_MUTABLE_INTERNAL):
            raise CephError(errno.EINVAL, "cannot update immutable features")
        if features == 0:
            raise CephError(errno.EINVAL, "update requires at least one feature")
        have = img.features_
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
        async with img._exclusive_op():
            if enabled:
                await _enable_features(img, features)
            else:
                await _disable_features(img, features)
        await img.refresh()
        await img._notify_header(NotifyOp.HEADER_UPDATE)


async def _enable_features(img: AsyncImage, features: int) -> None:
    new_features = img.features_ | features
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
        await _set_flags_all(img, enable_flags, enable_flags)
    await exec_ops(img.ioctx, img.header_oid, [cls_rbd.set_features(new_features, features)])
    if features & RBD_FEATURE_OBJECT_MAP:
        # object_map::CreateRequest: one map per HEAD and snapshot, all NONEXISTENT
        for snap_id, size in await _snap_sizes(img):
            await exec_ops(img.ioctx, object_map_name(img.image_id, snap_id), [
                cls_rbd.object_map_resize(img.num_objects(size), OBJECT_NONEXISTENT)])
    log.debug("image %s: enabled features %#x", img.name, features)


async def _disable_features(img: AsyncImage, features: int) -> None:
    new_features = img.features_ & ~features
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
        om, img.object_map = img.object_map, None
        if om is not None:
            await om.unlock()
        for snap_id, _ in await _snap_sizes(img):
            try:
                await img.ioctx._operate(object_map_name(img.image_id, snap_id),
                                         [ops.delete()], flags=ops.OsdFlag.WRITE)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
    await exec_ops(img.ioctx, img.header_oid, [cls_rbd.set_features(new_features, mask)])
    if disable_flags:
        await _set_flags_all(img, 0, disable_flags)
    if features & RBD_FEATURE_EXCLUSIVE_LOCK and img.lock_owner:
        # the lock is gone with the feature (ExclusiveLock shut down)
        await img._release_lock()
    if features & RBD_FEATURE_DEEP_FLATTEN:
        log.debug("image %s: deep-flatten disabled", img.name)
    log.debug("image %s: disabled features %#x", img.name, features)


# -- rebuild_object_map (RebuildObjectMapRequest, HEAD) --------------------------------------


async def rebuild_object_map(img: AsyncImage) -> None:
    img.require_not_closed()
    with translate(f"error rebuilding object map {img._bname!r}"):
        await img._maybe_refresh()
        if not img.features_ & RBD_FEATURE_OBJECT_MAP:
            raise CephError(errno.EINVAL, "image must support object-map feature")
        img.require_not_read_only()
        if img.snap_id != CEPH_NOSNAP:
            # librbd rebuilds the snapshot's map from list_snaps; not implemented here
            raise CephError(errno.EOPNOTSUPP, "rebuilding a snapshot's object map is not "
                                              "implemented in rbdpy")
        async with img._exclusive_op():
            await _rebuild_head(img)
        await img._notify_header(NotifyOp.HEADER_UPDATE)


async def _object_exists(img: AsyncImage, objectno: int) -> bool:
    try:
        await img.data_ioctx._operate(data_object_name(img.object_prefix, objectno),
                                      [ops.stat()])
    except CephError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    return True


async def _rebuild_head(img: AsyncImage) -> None:
    count = img.num_objects(img.head_size_)
    states = [OBJECT_NONEXISTENT] * count

    def job(n: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if await _object_exists(img, n):
                states[n] = OBJECT_EXISTS
        return run

    await fan_out([job(n) for n in range(count)])
    bits = BitVector(count)
    for n, state in enumerate(states):
        if state != OBJECT_NONEXISTENT:
            bits[n] = state
    om = img.object_map
    if om is None:
        # an invalid map is not loaded at lock time: take its lock now
        om = ObjectMap(img.ioctx, img.image_id)
        await om.lock()
    await exec_ops(img.ioctx, om.oid, [
        cls_lock.assert_locked(RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, "", ""),
        cls_rbd.object_map_save(bits)])
    om.bits = bits
    img.object_map = om
    await exec_ops(img.ioctx, img.header_oid, [cls_rbd.set_flags(
        CEPH_NOSNAP, 0, RBD_FLAG_OBJECT_MAP_INVALID | RBD_FLAG_FAST_DIFF_INVALID)])
    img.flags_ &= ~(RBD_FLAG_OBJECT_MAP_INVALID | RBD_FLAG_FAST_DIFF_INVALID)
    log.debug("image %s: object map rebuilt, %d of %d objects exist", img.name,
              sum(1 for s in states if s != OBJECT_NONEXISTENT), count)


# -- sparsify (SparsifyRequest / SparsifyObjectRequest) ---------------------------------------


async def sparsify(img: AsyncImage, sparse_size: int) -> None:
    img.require_not_closed()
    sparse_size = as_uint64(sparse_size)
    with translate(f"error sparsifying {img._bname!r}"):
        await img._maybe_refresh()
        object_size = img.layout.object_size
        if (sparse_size < _MIN_SPARSE_SIZE or sparse_size & (sparse_size - 1)
                or sparse_size > object_size):
            raise CephError(errno.EINVAL, "sparse size should be power of two not less "
                                          "than 4096 and not larger than the object size")
        img.require_writable()
        async with img._exclusive_op():
            count = img.num_objects(img.size_)
            await fan_out([_sparsify_job(img, n, sparse_size) for n in range(count)],
                          limit=8)


def _sparsify_job(img: AsyncImage, objectno: int, sparse_size: int
                  ) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        om = img.object_map
        if om is not None and not om.may_exist(objectno):
            return
        oid = data_object_name(img.object_prefix, objectno)
        try:
            reply = await img.data_ioctx._operate(
                oid, [ops.read(0, img.layout.object_size)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                return
            raise
        data = memoryview(reply.outdata[0])
        size = len(data)
        zero = bytes(sparse_size)
        if data == bytes(size):
            # all zeros: remove the object (object map PENDING around it)
            if om is not None:
                await om.mark_pending([objectno])
            await img.data_ioctx._operate(oid, [ops.delete()], snapc=img.snapc)
            if om is not None:
                await om.mark_removed([objectno])
            log.debug("sparsify %s: removed empty %s", img.name, oid)
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
            await img.data_ioctx._operate(oid, [ops.assert_exists(), *osd_ops],
                                          snapc=img.snapc)
            log.debug("sparsify %s: %s: punched %d zero runs", img.name, oid, len(runs))
    return run


# -- copy (internal.cc copy) --------------------------------------------------------------------


async def copy(img: AsyncImage, dest_ioctx: AsyncIoctx, dest_name: str | bytes,
               features: int | None = None, order: int | None = None,
               stripe_unit: int | None = None, stripe_count: int | None = None,
               data_pool: str | None = None) -> None:
    from rbdpy.librbd.api import AsyncRBD
    from rbdpy.librbd.image import AsyncImage as _AsyncImage

    img.require_not_closed()
    if not isinstance(dest_name, (str, bytes)):
        raise rbdx.InvalidArgument("dest_name must be a string")
    if data_pool is not None and not isinstance(data_pool, (str, bytes)):
        raise rbdx.InvalidArgument("data_pool must be a string")
    name = to_str(dest_name)
    with translate(f"error copying image {img._bname!r} to {to_bytes(dest_name)!r}"):
        await img._maybe_refresh()
        size = img.size_
        feats = img.features_ if features is None else as_uint64(features)
        await AsyncRBD()._create(
            dest_ioctx, name, size,
            img.order if order is None else as_uint64(order), feats,
            img.stripe_unit_ if stripe_unit is None else as_uint64(stripe_unit),
            img.stripe_count_ if stripe_count is None else as_uint64(stripe_count),
            to_str(data_pool) if data_pool is not None else None)
        dest = await _AsyncImage.open(dest_ioctx, name)
        try:
            meta = await img.metadata_list()
            if meta:
                await dest._writing(lambda: exec_ops(
                    dest.ioctx, dest.header_oid,
                    [cls_rbd.metadata_set({k: v.encode() for k, v in meta})]))
            await _copy_data(img, dest, size)
        finally:
            await dest.close()


async def _copy_data(src: AsyncImage, dest: AsyncImage, size: int) -> None:
    from rbdpy.librbd import io as image_io

    # one object set of the source per step (internal.cc copy: period = object size *
    # stripe count), a few steps in flight
    period = src.layout.object_size * max(1, src.layout.stripe_count)

    def job(off: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            length = min(period, size - off)
            data = await image_io.read(src, off, length)
            view = memoryview(data)
            zero = bytes(_COPY_SPARSE_SIZE)
            start: int | None = None
            for i in range(0, length + _COPY_SPARSE_SIZE, _COPY_SPARSE_SIZE):
                chunk = view[i:i + _COPY_SPARSE_SIZE]
                nonzero = len(chunk) > 0 and chunk != zero[:len(chunk)]
                if nonzero and start is None:
                    start = i
                elif not nonzero and start is not None:
                    await image_io.write(dest, view[start:i], off + start)
                    start = None
        return run

    await fan_out([job(off) for off in range(0, size, period)], limit=4)


# -- watchers (api/Image.cc list_watchers) ----------------------------------------------------


async def watchers_list(img: AsyncImage) -> list[dict[str, Any]]:
    img.require_not_closed()
    with translate("error listing watchers"):
        watchers = await img.ioctx.list_watchers(img.header_oid)
    return [{"id": w.name.num, "addr": _addr_str(w.addr), "cookie": w.cookie}
            for w in watchers]


# -- managed exclusive lock by hand (internal.cc lock_*) ----------------------------------------


async def _get_locker(img: AsyncImage) -> tuple[Any, Any]:
    """GetLockerRequest: the managed lock's (LockerId, LockerInfo); ENOENT when unlocked,
    EBUSY when the lock is not librbd's (advisory/foreign)."""
    (info,) = await exec_ops(img.ioctx, img.header_oid, [cls_lock.get_info(RBD_LOCK_NAME)])
    if not info.lockers:
        raise CephError(errno.ENOENT, "image is not locked")
    if info.tag != WATCHER_LOCK_TAG or info.lock_type != cls_lock.ClsLockType.EXCLUSIVE:
        raise CephError(errno.EBUSY, "image locked by an incompatible lock")
    locker_id, locker_info = next(iter(info.lockers.items()))
    prefix, _, handle = locker_id.cookie.partition(" ")
    if prefix != WATCHER_LOCK_COOKIE_PREFIX or not handle.isdigit():
        raise CephError(errno.EBUSY, "image locked with a foreign cookie")
    return locker_id, locker_info


def _require_exclusive_lock_feature(img: AsyncImage) -> None:
    if not img.features_ & RBD_FEATURE_EXCLUSIVE_LOCK:
        raise CephError(errno.EINVAL, "exclusive-lock feature is not enabled")


async def lock_acquire(img: AsyncImage, lock_mode: int) -> None:
    img.require_not_closed()
    with translate("error acquiring lock on image"):
        if lock_mode != RBD_LOCK_MODE_EXCLUSIVE:
            raise CephError(errno.EOPNOTSUPP, "unsupported lock mode")
        img.require_not_read_only()
        await img._maybe_refresh()
        _require_exclusive_lock_feature(img)
        # StandardPolicy from now on: no automatic acquisition, peers' requests refused
        img._manual_lock = True
        if img.lock_owner:
            return
        async with img._lock_mutex:
            if img.lock_owner:
                return
            if img._watch_lost:
                await img._rewatch()
            for _ in range(3):
                if await _try_lock_once(img):
                    await img._post_acquire()
                    return
            raise CephError(errno.EROFS, "failed to acquire exclusive lock")


async def _try_lock_once(img: AsyncImage) -> bool:
    """One ManagedLock::acquire_lock round that never asks a live owner to release:
    True if the lock is ours, False to retry (a dead owner was broken), EROFS if a live
    client holds it."""
    if img._watch is None:
        raise CephError(errno.EROFS, "no header watch (read-only open)")
    try:
        await exec_ops(img.ioctx, img.header_oid, [cls_lock.lock(
            RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, img._cookie, WATCHER_LOCK_TAG,
            "", (0, 0), 0)])
        return True
    except CephError as e:
        if e.errno == errno.EEXIST:
            return True
        if e.errno != errno.EBUSY:
            raise
    try:
        locker_id, locker_info = await _get_locker(img)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    handle = int(locker_id.cookie.partition(" ")[2])
    watchers = await img.ioctx.list_watchers(img.header_oid)
    if any(w.cookie == handle and w.name.num == locker_id.locker.num
           and _same_addr(w.addr, locker_info.addr) for w in watchers):
        raise CephError(errno.EROFS, "exclusive lock is held by a live client")
    # dead owner: the automatic path breaks it (blocklist + break)
    await img._try_lock()
    return False


async def lock_release(img: AsyncImage) -> None:
    img.require_not_closed()
    with translate("error releasing lock on image"):
        if not img.features_ & RBD_FEATURE_EXCLUSIVE_LOCK or not img.lock_owner:
            raise CephError(errno.EINVAL, "not exclusive lock owner")
        async with img._lock_mutex:
            await img._io_idle.wait()
            if img.lock_owner:
                await img._release_lock()


async def lock_get_owners(img: AsyncImage) -> list[dict[str, Any]]:
    img.require_not_closed()
    with translate(f"error listing lock owners for image {img._bname!r}"):
        await img._maybe_refresh()
        _require_exclusive_lock_feature(img)
        try:
            _, locker_info = await _get_locker(img)
        except CephError as e:
            if e.errno == errno.ENOENT:
                return []  # python-rbd's LockOwnerIterator: ENOENT = no owners
            raise
    return [{"mode": RBD_LOCK_MODE_EXCLUSIVE, "owner": _addr_str(locker_info.addr)}]


async def lock_break(img: AsyncImage, lock_mode: int, lock_owner: str | bytes) -> None:

    img.require_not_closed()
    with translate("error breaking lock on image"):
        if lock_mode != RBD_LOCK_MODE_EXCLUSIVE:
            raise CephError(errno.EOPNOTSUPP, "unsupported lock mode")
        img.require_not_read_only()
        await img._maybe_refresh()
        _require_exclusive_lock_feature(img)
        locker_id, locker_info = await _get_locker(img)
        if _addr_str(locker_info.addr) != to_str(to_bytes(lock_owner)):
            raise CephError(errno.EBUSY, "client is not lock owner")
        if img.lock_owner:
            # librbd 16.2 answers EBUSY when the image itself owns the lock (observed)
            raise CephError(errno.EBUSY, "the lock is owned by this image")
        if locker_id.locker.num == img.ioctx.rados.get_instance_id():
            # BreakRequest refuses to blocklist its own client
            raise CephError(errno.EINVAL, "attempting to self-blocklist")
        # BreakRequest with force: blocklist (rbd_blocklist_on_break_lock) then break
        await img.ioctx.rados.blocklist_add(_addr_str(locker_info.addr))
        try:
            await exec_ops(img.ioctx, img.header_oid, [cls_lock.break_lock(
                RBD_LOCK_NAME, locker_id.locker, locker_id.cookie)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise


__all__ = ["RBD_LOCK_MODE_EXCLUSIVE", "RBD_LOCK_MODE_SHARED", "copy", "lock_acquire",
           "lock_break", "lock_get_owners", "lock_release", "rebuild_object_map",
           "sparsify", "update_features", "watchers_list"]
