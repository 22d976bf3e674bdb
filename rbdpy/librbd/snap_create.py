"""Adding one snapshot record to an image: snap id, header entry, object map copy.

Theory of operation: the core of librbd's SnapshotCreateRequest, shared by the snapshot
subsystem (``Image.create_snap``, user namespace) and the group subsystem (a group
snapshot's member snapshots, group namespace). The caller runs it inside
:meth:`ImageCtx.exclusive_op` (writes held back and drained, we own the lock) and has
already checked the name.

A snap id is allocated from the data pool (MPoolOp CREATE_UNMANAGED_SNAP) and recorded
with cls ``snapshot_add`` together with the snapshot's namespace; the OSD stamps it with the
header's size and its clock, enforces the snapshot limit (EDQUOT) and answers ESTALE when
the id is not above ``snap_seq`` -- another client snapshotted meanwhile, so we allocate
again. The HEAD object map is then copied to ``rbd_object_map.<id>.<snapid>`` and, with
fast-diff, HEAD's EXISTS entries become EXISTS_CLEAN (cls ``object_map_snap_add``); a
failed map update invalidates the map rather than the snapshot.

Mirrors: ceph src/librbd/operation/SnapshotCreateRequest.cc (allocate_snap_id,
create_snap, create_object_map), src/librbd/object_map/SnapshotCreateRequest.cc.
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd, v1_header
from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    RBD_FEATURE_FAST_DIFF,
    object_map_name,
)
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.snap_remove import (
    header_update,
    invalidate_map,
    om_lock_assert,
    release_snap_id,
    snapshot_done,
)
from rbdpy.rados import exceptions as radosx
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.format.types import SnapshotNamespace
    from rbdpy.librbd.image_ctx import ImageCtx

log = logging.getLogger(__name__)


async def allocate_snap_id(ictx: ImageCtx) -> int:
    """A new self-managed snap id of the data pool (librados selfmanaged_snap_create)."""
    try:
        return await ictx.data_ioctx.create_self_managed_snap()
    except radosx.Error as e:  # the ioctx speaks python-rados; we want the errno back
        raise CephError(e.errno or errno.EIO, str(e)) from e


async def read_whole(ictx: ImageCtx, oid: str) -> bytes:
    """The whole content of a metadata object of the image's pool."""
    reply = await ictx.ioctx.operate(oid, [ops.read(0, 0)])
    return bytes(reply.outdata[0])


async def create_snapshot(ictx: ImageCtx, name: str,
                          namespace: SnapshotNamespace | None = None) -> int:
    """Record the snapshot ``name`` (user namespace unless ``namespace`` says otherwise)
    and snapshot the object map; returns the new snap id."""
    while True:
        snap_id = await allocate_snap_id(ictx)
        try:
            await header_update(ictx, [
                v1_header.snap_add(name, snap_id) if ictx.old_format
                else cls_rbd.snapshot_add(snap_id, name, namespace)])
        except CephError as e:
            await release_snap_id(ictx, snap_id)
            if e.errno == errno.ESTALE:
                # Another client's snapshot raised snap_seq past our id meanwhile.
                log.debug("image %s: snap id %d stale, allocating again", ictx.name, snap_id)
                await ictx.refresh()
                continue
            raise
        break
    log.debug("image %s: created snapshot %r id %d", ictx.name, name, snap_id)
    if ictx.object_map is not None:
        await _object_map_snapshot_create(ictx, snap_id)
    await snapshot_done(ictx)
    return snap_id


async def _object_map_snapshot_create(ictx: ImageCtx, snap_id: int) -> None:
    """Copy HEAD's map to the snapshot's (writes are blocked: the disk copy is current),
    then with fast-diff mark HEAD's EXISTS entries EXISTS_CLEAN."""
    om = ictx.object_map
    assert om is not None
    try:
        raw = await read_whole(ictx, om.oid)
        await ictx.ioctx.operate(object_map_name(ictx.image_id, snap_id),
                                 [ops.writefull(raw)])
        if ictx.features & RBD_FEATURE_FAST_DIFF:
            await exec_ops(ictx.ioctx, om.oid, [om_lock_assert(),
                                               cls_rbd.object_map_snap_add()])
            bits = om.bits
            for i in range(len(bits)):
                if bits[i] == OBJECT_EXISTS:
                    bits[i] = OBJECT_EXISTS_CLEAN
    except CephError as e:
        # object_map::Request: a failed map update invalidates the map, not the snapshot.
        log.debug("image %s: object map snapshot failed: %s", ictx.name, e)
        await invalidate_map(ictx, CEPH_NOSNAP)


__all__ = ["allocate_snap_id", "create_snapshot", "read_whole"]
