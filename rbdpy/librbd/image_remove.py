"""Removing one image: the pre-removal checks and the removal itself.

Theory of operation. librbd removes an image in two requests, and so does this module:

- :func:`pre_remove` (PreRemoveRequest) opens the image by id, takes its exclusive lock
  (EBUSY when it cannot), refuses a migrating image (EBUSY), refuses user snapshots
  (ENOTEMPTY), refuses watchers other than ourselves (EBUSY) and group members (EMLINK),
  and deletes the snapshots librbd deletes on its own: trash-namespace snapshots no clone
  uses any more. A trash snapshot that still has clones cannot go; the check then ends
  with ECHILD, which the caller turns into ENOTEMPTY or, with
  ``rbd_move_parent_to_trash_on_remove``, into a trash move that waits for the last
  clone (rbdpy.librbd.trash).
- :func:`remove_image` (RemoveRequest) runs the checks on its own open context, deletes
  the data objects while reporting ``(object number, object count)`` to a progress
  callback before each window of objects, as TrimRequest does, leaves the parent (a
  clone; a parent waiting in the trash for its last clone then goes too), and deletes
  the header, the object map and -- unless the image came from the trash, whose move
  already did -- the id object and the directory entry. A progress
  callback that returns a negative errno stops the removal before the next window: the
  objects already deleted stay deleted and the header stays (librbd's behaviour, which
  leaves a trash entry the caller can finish later).

Mirrors: ceph src/librbd/image/PreRemoveRequest.cc, src/librbd/image/RemoveRequest.cc,
src/librbd/operation/TrimRequest.cc.
"""

from __future__ import annotations

import errno
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    RBD_DIRECTORY,
    RBD_FEATURE_MIGRATING,
    RBD_TRASH,
    data_object_name,
    header_name,
    id_obj_name,
    object_map_name,
)
from rbdpy.format.types import TrashImageSource, TrashImageState, TrashSnapshotNamespace
from rbdpy.format.v1_header import header_object_name
from rbdpy.librbd import format1
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.parent_link import detach_child, open_ioctx_at
from rbdpy.librbd.snap_remove import remove_snapshot_record
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError
from rbdpy.striping.striper import get_num_objects

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# A progress callback: ``(done, total)``; it may be a coroutine function. A negative int
# result cancels the operation with that errno (python-rbd: the callback's return value
# goes back to librbd's ProgressContext).
ProgressFn = Callable[[int, int], object]

# objects deleted between two progress checks (librbd: rbd_concurrent_management_ops)
_WINDOW = 10


async def report_progress(progress: ProgressFn | None, done: int, total: int) -> None:
    """Call ``progress(done, total)``; a negative int result raises CephError(-result)."""
    if progress is None:
        return
    result = progress(done, total)
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, int) and not isinstance(result, bool) and result < 0:
        raise CephError(-result, "progress callback stopped the operation")


async def _pre_remove_checks(ictx: ImageCtx) -> bool:
    """PreRemoveRequest on an open context; True when a trashed snapshot kept its clones
    (librbd's ECHILD), after every snapshot that could go went."""
    await ictx.exclusive_lock.acquire()
    if ictx.features & RBD_FEATURE_MIGRATING:
        raise CephError(errno.EBUSY, "image in migration state - not removing")
    infos = await ictx.snap_infos()
    if any(not isinstance(i.snapshot_namespace, TrashSnapshotNamespace)
           for i in infos.values()):
        raise CephError(errno.ENOTEMPTY, "image has snapshots - not removing")
    watchers = await ictx.ioctx.list_watchers(ictx.header_oid)
    mine = ictx.watch_handle()
    gid = ictx.ioctx.rados.get_instance_id()
    if any(not (w.cookie == mine and w.name.num == gid) for w in watchers):
        raise CephError(errno.EBUSY, "image has watchers - not removing")
    try:
        (group,) = await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.image_group_get()])
        if group.pool_id >= 0:
            raise CephError(errno.EMLINK, "image is in a group - not removing")
    except CephError as e:
        if e.errno != errno.EOPNOTSUPP:
            raise
    kept_for_clones = False
    for snap_id, info in infos.items():
        if info.child_count:
            kept_for_clones = True
            continue
        async with ictx.exclusive_op():
            await remove_snapshot_record(ictx, snap_id, info.name)
    return kept_for_clones


async def pre_remove(ioctx: AsyncIoctx, image_id: str) -> None:
    """librbd's ``pre_remove_image``: may ``image_id`` be removed right now?

    :raises CephError: ECHILD (a trashed snapshot still has clones), ENOTEMPTY, EBUSY,
        EMLINK as in the module text; ENOENT when the header is gone.
    """
    ictx = ImageCtx(ioctx, image_id=image_id)
    await ictx.open_image()
    try:
        if await _pre_remove_checks(ictx):
            raise CephError(errno.ECHILD, "a trashed snapshot still has clones")
    finally:
        await ictx.close()


async def _delete_data_objects(ictx: ImageCtx, progress: ProgressFn | None) -> None:
    count = get_num_objects(ictx.layout, ictx.size)
    om = ictx.object_map

    def delete(objno: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            oid = data_object_name(ictx.object_prefix, objno, ictx.old_format)
            try:
                await ictx.data_ioctx.operate(oid, [ops.delete()], snapc=ictx.snapc)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        return run

    for start in range(0, count, _WINDOW):
        window = range(start, min(start + _WINDOW, count))
        for objno in window:
            await report_progress(progress, objno, count)
        doomed = [n for n in window if om is None or om.may_exist(n)]
        if om is not None:
            await om.mark_pending(doomed)
        await fan_out([delete(n) for n in doomed])
        if om is not None:
            await om.mark_removed(doomed)


async def _delete(ioctx: AsyncIoctx, oid: str) -> None:
    try:
        await ioctx.operate(oid, [ops.delete()])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise


async def _remove_trashed_parent(ioctx: AsyncIoctx, pool_id: int, namespace: str,
                                 image_id: str) -> None:
    """A parent that ``RBD.remove`` moved to the trash (source USER_PARENT) goes once its
    last clone left and it has no snapshot any more (librbd's DetachChildRequest).
    Failures are logged, not raised: the clone's own removal succeeded."""
    pio = await open_ioctx_at(ioctx, pool_id, namespace)
    try:
        try:
            (spec,) = await exec_ops(pio, RBD_TRASH, [cls_rbd.trash_get(image_id)])
            if spec.source != TrashImageSource.USER_PARENT \
                    or spec.state != TrashImageState.NORMAL:
                return
            (snapc,) = await exec_ops(pio, header_name(image_id),
                                      [cls_rbd.get_snapcontext()])
            if snapc.snaps:
                return
            await exec_ops(pio, RBD_TRASH, [cls_rbd.trash_state_set(
                image_id, TrashImageState.REMOVING, TrashImageState.NORMAL)])
            try:
                await remove_image(pio, image_id, spec.name, from_trash=True)
            except CephError:
                await exec_ops(pio, RBD_TRASH, [cls_rbd.trash_state_set(
                    image_id, TrashImageState.NORMAL, TrashImageState.REMOVING)])
                raise
            await exec_ops(pio, RBD_TRASH, [cls_rbd.trash_remove(image_id)])
            log.debug("removed trashed parent %s", image_id)
        except CephError as e:
            log.debug("trashed parent %s stays: %s", image_id, e)
    finally:
        pio.close()


async def remove_image(ioctx: AsyncIoctx, image_id: str, name: str, *,
                       from_trash: bool, progress: ProgressFn | None = None) -> None:
    """RemoveRequest for the image ``image_id`` (called ``name``).

    A missing header (ENOENT on open) only clears what is left of the image.
    ``from_trash``: the trash move already dropped the id object and directory entry.

    :raises CephError: the pre-removal errors (ECHILD becomes ENOTEMPTY), the progress
        callback's errno, or a RADOS failure.
    """
    ictx = ImageCtx(ioctx, image_id=image_id)
    try:
        await ictx.open_image()
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        log.debug("remove %s: header gone, clearing leftovers", image_id)
    else:
        try:
            if await _pre_remove_checks(ictx):
                raise CephError(errno.ENOTEMPTY, "image has snapshots - not removing")
            ictx.io_start()
            try:
                await _delete_data_objects(ictx, progress)
            finally:
                ictx.io_done()
            if ictx.object_map is not None:
                await ictx.object_map.unlock()
                ictx.object_map = None
            parent = ictx.parent_spec
            await detach_child(ictx)
        except BaseException:
            await ictx.close()
            raise
        # the header carries the lock and the watch: it goes after we let both go
        ictx.exclusive_lock.forget()
        await ictx.close()
        if parent.exists():
            await _remove_trashed_parent(ioctx, parent.pool_id, parent.pool_namespace,
                                         parent.image_id)
    await _delete(ioctx, header_name(image_id))
    await _delete(ioctx, object_map_name(image_id))
    if from_trash:
        log.debug("removed trashed image %s", image_id)
        return
    await _delete(ioctx, id_obj_name(name))
    try:
        await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_remove_image(name, image_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    log.debug("removed image %r id %s", name, image_id)


async def remove_format1_image(ioctx: AsyncIoctx, name: str,
                               progress: ProgressFn | None = None) -> None:
    """RemoveRequest for a format 1 image (no id, no trash: librbd removes those in
    place): refused with snapshots or other watchers, then the data objects, the
    ``<name>.rbd`` header and the name in the directory's TMAP."""
    ictx = ImageCtx(ioctx, name)
    await ictx.open_image()
    try:
        if ictx.snapc.snaps:
            raise CephError(errno.ENOTEMPTY, "image has snapshots - not removing")
        watchers = await ioctx.list_watchers(ictx.header_oid)
        mine = ictx.watch_handle()
        gid = ioctx.rados.get_instance_id()
        if any(not (w.cookie == mine and w.name.num == gid) for w in watchers):
            raise CephError(errno.EBUSY, "image has watchers - not removing")
        ictx.io_start()
        try:
            await _delete_data_objects(ictx, progress)
        finally:
            ictx.io_done()
    finally:
        await ictx.close()
    await _delete(ioctx, header_object_name(name))
    await format1.unlist(ioctx, name)
    log.debug("removed format 1 image %r", name)


__all__ = ["ProgressFn", "pre_remove", "remove_format1_image", "remove_image",
           "report_progress"]
