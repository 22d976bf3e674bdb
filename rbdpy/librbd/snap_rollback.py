"""Rolling an image's HEAD back to one of its snapshots.

Theory of operation: the core of librbd's SnapshotRollbackRequest, shared by the snapshot
subsystem (``Image.rollback_to_snap``) and the group subsystem (``Group.rollback_to_snap``
rolls every member back to its group-namespace snapshot). The caller runs it inside
:meth:`ImageCtx.exclusive_op` and has found the snapshot.

The image is resized to the snapshot's size, the snapshot's object map is written over
HEAD's, and every object that exists in either map gets a ROLLBACK op (sent with the image
SnapContext, so newer snapshots keep their data); then HEAD's object map is reloaded.
``progress(done, total)`` runs on the event loop's thread after each object, the objects
with nothing to do included, as librbd's object throttle reports them.

Mirrors: ceph src/librbd/operation/SnapshotRollbackRequest.cc,
src/librbd/object_map/SnapshotRollbackRequest.cc.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rbdpy.format.constants import data_object_name, object_map_name
from rbdpy.format.object_map import BitVector, object_may_exist
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.resize import resize_image
from rbdpy.librbd.snap_create import read_whole
from rbdpy.librbd.snap_remove import invalidate_map, om_lock_assert, snapshot_done
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import decode_all
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.format.types import SnapshotInfo
    from rbdpy.librbd.image_ctx import ImageCtx

log = logging.getLogger(__name__)

# librbd's rbd_concurrent_management_ops default: objects rolled back at once.
CONCURRENT_MANAGEMENT_OPS = 10

ProgressCallback = Callable[[int, int], object]


async def rollback_snapshot(ictx: ImageCtx, info: SnapshotInfo,
                            progress: ProgressCallback | None = None) -> None:
    """Make HEAD what the snapshot ``info`` holds (size, object map, every object)."""
    snap_id = info.id
    if ictx.head_size != info.image_size:
        await resize_image(ictx, info.image_size)
    om = ictx.object_map
    head_bits: BitVector | None = None
    snap_bits: BitVector | None = None
    if om is not None:
        head_bits = om.bits
        try:
            raw = await read_whole(ictx, object_map_name(ictx.image_id, snap_id))
            snap_bits = decode_all(raw, BitVector.decode, "snapshot object map")
            await exec_ops(ictx.ioctx, om.oid, [om_lock_assert(), ops.writefull(raw)])
        except CephError as e:
            log.debug("image %s: object map rollback failed: %s", ictx.name, e)
            snap_bits = None
            await invalidate_map(ictx, CEPH_NOSNAP)
    num_objects = ictx.num_objects(info.image_size)
    snapc = ictx.snapc
    done = 0

    def needed(objno: int) -> bool:
        # C_RollbackObject: nothing to do where neither map has the object
        if head_bits is None or snap_bits is None:
            return True
        in_head = objno >= len(head_bits) or object_may_exist(head_bits[objno])
        in_snap = objno >= len(snap_bits) or object_may_exist(snap_bits[objno])
        return in_head or in_snap

    def job(objno: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            nonlocal done
            if needed(objno):
                try:
                    await ictx.data_ioctx.operate(
                        data_object_name(ictx.object_prefix, objno, ictx.old_format),
                        [ops.rollback(snap_id)], snapc=snapc)
                except CephError as e:
                    if e.errno != errno.ENOENT:
                        raise
            done += 1
            if progress is not None:
                progress(done, num_objects)
        return run

    if progress is None:
        jobs = [job(n) for n in range(num_objects) if needed(n)]
    else:
        jobs = [job(n) for n in range(num_objects)]
    await fan_out(jobs, CONCURRENT_MANAGEMENT_OPS)
    if om is not None:
        # send_refresh_object_map: HEAD's map is now the snapshot's
        await om.load(num_objects)
    log.debug("image %s: rolled back to snapshot %r id %d", ictx.name, info.name, snap_id)
    await snapshot_done(ictx)


__all__ = ["CONCURRENT_MANAGEMENT_OPS", "rollback_snapshot"]
