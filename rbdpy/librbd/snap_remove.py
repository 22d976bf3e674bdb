"""Dropping one snapshot record from an image: object map, snap id, header entry.

Theory of operation: this is the tail of librbd's SnapshotRemoveRequest, shared by the
snapshot subsystem (``Image.remove_snap``) and by the clone bookkeeping
(rbdpy.librbd.parent_link), which removes a parent's trash-namespace snapshot once its
last clone-v2 child has gone. The caller runs it inside :meth:`ImageCtx.exclusive_op`
and has already decided the snapshot may go (no protection, no children).

With fast-diff, the snapshot's object map is folded into the next newer map (cls
``object_map_snap_remove``; HEAD's in-memory copy follows), then the snapshot's map object
is deleted; the snap id goes back to the data pool (DELETE_UNMANAGED_SNAP, which lets the
OSDs trim the clones) and cls ``snapshot_remove`` drops the header entry. Every header
write asserts we still own the exclusive lock; a HEADER_UPDATE tells the other clients.

Mirrors: ceph src/librbd/operation/SnapshotRemoveRequest.cc (remove_object_map,
release_snap_id, remove_snap), src/librbd/object_map/SnapshotRemoveRequest.cc,
src/librbd/object_map/InvalidateRequest.cc.
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_lock, cls_rbd, v1_header
from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    RBD_FEATURE_FAST_DIFF,
    RBD_FLAG_FAST_DIFF_INVALID,
    RBD_FLAG_OBJECT_MAP_INVALID,
    RBD_LOCK_NAME,
    object_map_name,
)
from rbdpy.format.object_map import BitVector
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd.exclusive_lock import WATCHER_LOCK_TAG
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados import exceptions as radosx
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.format.cls import ClsCall
    from rbdpy.librbd.image_ctx import ImageCtx

log = logging.getLogger(__name__)


def header_lock_assert(ictx: ImageCtx) -> list[ClsCall[Any]]:
    """librbd's ``assert_header_locked``: a header update fails (EBUSY) unless we still
    own the exclusive lock, so a client that lost it cannot change the snapshot table."""
    if not ictx.exclusive_lock.is_owner:
        return []
    return [cls_lock.assert_locked(RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE,
                                   ictx.exclusive_lock.cookie, WATCHER_LOCK_TAG)]


def om_lock_assert() -> ClsCall[None]:
    """The object map object's own lock (empty cookie and tag), held with the image lock."""
    return cls_lock.assert_locked(RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, "", "")


async def header_update(ictx: ImageCtx, calls: list[ClsCall[Any]]) -> None:
    await exec_ops(ictx.ioctx, ictx.header_oid, header_lock_assert(ictx) + calls)


async def release_snap_id(ictx: ImageCtx, snap_id: int) -> None:
    """Give the id back to the pool (DELETE_UNMANAGED_SNAP): the OSDs trim its clones."""
    try:
        await ictx.data_ioctx.remove_self_managed_snap(snap_id)
    except radosx.Error as e:
        # ENOENT: already released (a retried removal), as librbd tolerates.
        if e.errno != errno.ENOENT:
            raise CephError(e.errno or errno.EIO, str(e)) from e


async def invalidate_map(ictx: ImageCtx, snap_id: int) -> None:
    """object_map::InvalidateRequest: flag a map invalid (rebuild needed), never fail."""
    flags = RBD_FLAG_OBJECT_MAP_INVALID | RBD_FLAG_FAST_DIFF_INVALID
    log.debug("image %s: flagging object map of snap %#x invalid", ictx.name, snap_id)
    try:
        await header_update(ictx, [cls_rbd.set_flags(snap_id, flags, flags)])
    except CephError as e:
        log.debug("image %s: invalidating object map failed: %s", ictx.name, e)
    if snap_id == CEPH_NOSNAP:
        ictx.flags |= flags


async def snapshot_done(ictx: ImageCtx) -> None:
    """Re-read the header (new snap context for our writes) and tell the other clients."""
    await ictx.refresh()
    await ictx.notify_header(NotifyOp.HEADER_UPDATE)


async def remove_snapshot_record(ictx: ImageCtx, snap_id: int, name: str) -> None:
    """Object map, snap id, header entry of snapshot ``snap_id``; then refresh and notify.

    Run inside ``ictx.exclusive_op()``; the snapshot must be free to go.
    """
    if ictx.object_map is not None:
        await object_map_snapshot_remove(ictx, snap_id)
    await release_snap_id(ictx, snap_id)
    try:
        await header_update(ictx, [v1_header.snap_remove(name) if ictx.old_format
                                   else cls_rbd.snapshot_remove(snap_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    log.debug("image %s: removed snapshot %r id %d", ictx.name, name, snap_id)
    await snapshot_done(ictx)


async def object_map_snapshot_remove(ictx: ImageCtx, snap_id: int) -> None:
    """Fold the snapshot's map into the next newer one (fast-diff), drop its object."""
    om = ictx.object_map
    assert om is not None
    snap_oid = object_map_name(ictx.image_id, snap_id)
    if ictx.features & RBD_FEATURE_FAST_DIFF:
        newer = sorted(s for s in ictx.snapc.snaps if s > snap_id)
        next_id = newer[0] if newer else CEPH_NOSNAP
        next_oid = object_map_name(ictx.image_id, next_id)
        try:
            (snap_map,) = await exec_ops(ictx.ioctx, snap_oid, [cls_rbd.object_map_load()])
        except CephError as e:
            if e.errno == errno.ENOENT:
                # handle_load_map: already removed by an earlier, interrupted attempt
                return
            await invalidate_map(ictx, next_id)
            snap_map = None
        if snap_map is not None:
            (snap_flags,) = await exec_ops(ictx.ioctx, ictx.header_oid,
                                           [cls_rbd.get_flags(snap_id)])
            if snap_flags & RBD_FLAG_OBJECT_MAP_INVALID:
                # an invalid map cannot tell the next one which objects were clean
                await invalidate_map(ictx, next_id)
            else:
                calls: list[ClsCall[Any]] = [cls_rbd.object_map_snap_remove(snap_map)]
                if next_id == CEPH_NOSNAP:
                    calls.insert(0, om_lock_assert())
                try:
                    await exec_ops(ictx.ioctx, next_oid, calls)
                except CephError as e:
                    if e.errno != errno.ENOENT:
                        await invalidate_map(ictx, next_id)
                else:
                    if next_id == CEPH_NOSNAP:
                        fold_into_head(om.bits, snap_map)
    try:
        await ictx.ioctx.operate(snap_oid, [ops.delete()])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise


def fold_into_head(head: BitVector, snap_map: BitVector) -> None:
    """The in-memory side of ``object_map_snap_remove`` on HEAD: an entry clean relative
    to the removed snapshot is dirty relative to the one before it unless it was clean
    there too (object_map::SnapshotRemoveRequest::update_object_map)."""
    n = len(snap_map)
    for i in range(len(head)):
        if head[i] == OBJECT_EXISTS_CLEAN and (i >= n or snap_map[i] == OBJECT_EXISTS):
            head[i] = OBJECT_EXISTS


__all__ = [
    "fold_into_head", "header_lock_assert", "header_update", "invalidate_map",
    "object_map_snapshot_remove", "om_lock_assert", "release_snap_id",
    "remove_snapshot_record", "snapshot_done",
]
