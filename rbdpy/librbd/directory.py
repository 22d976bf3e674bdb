"""The pool's image directory: listing, removing and renaming images.

Theory of operation: ``rbd_directory`` (an omap of name ↔ id) lists a pool's images. Removal
opens the image, refuses while it has snapshots (ENOTEMPTY) or watchers other than ourselves
(EBUSY), takes the exclusive lock, deletes the data objects, then the header (which carries
the lock and the watch, so it goes after we let both go), the object map, the directory
entry and the id object; a clone first leaves its parent's list of children
(rbdpy.librbd.parent_link.detach_child). Rename writes the new id object, renames the
directory entry, then drops the old id object, undoing the first step if the second fails.

Mirrors: ceph src/librbd/image/RemoveRequest.cc, src/librbd/api/Image.cc (list_images,
rename), src/librbd/internal.cc (rename).
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING, Any

import trio

from rbdpy.format import cls_rbd
from rbdpy.format.constants import RBD_DIRECTORY, id_obj_name, object_map_name
from rbdpy.format.v1_header import header_object_name
from rbdpy.librbd import format1
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.io import remove_all_objects
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.parent_link import detach_child
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError
from rbdpy.striping.striper import get_num_objects

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)


async def list_images(ioctx: AsyncIoctx) -> dict[str, str]:
    """Every image of the pool's directory: name → id (format 1 images: id "")."""
    out: dict[str, str] = dict.fromkeys(await format1.list_names(ioctx), "")
    start = ""
    while True:
        try:
            (page,) = await exec_ops(ioctx, RBD_DIRECTORY,
                                     [cls_rbd.dir_list(start, 1024)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                break
            raise
        out.update(page)
        if len(page) < 1024:
            break
        start = max(page)
    return out


async def remove_image(ioctx: AsyncIoctx, name: str, on_progress: Any = None) -> None:
    """RemoveRequest for the image called ``name``; errors as CephError."""
    ictx = ImageCtx(ioctx, name)
    await ictx.open_image()
    try:
        if ictx.migration_spec is not None:
            # librbd: an image taking part in a migration goes by migration abort/commit
            raise CephError(errno.EBUSY, "image is being migrated")
        if ictx.snapc.snaps:
            raise CephError(errno.ENOTEMPTY, "image has snapshots")
        watchers = await ioctx.list_watchers(ictx.header_oid)
        mine = ictx.watch_handle()
        gid = ioctx.rados.get_instance_id()
        others = [w for w in watchers if not (w.cookie == mine and w.name.num == gid)]
        if others:
            raise CephError(errno.EBUSY, "image still has watchers")
        # PreRemoveRequest::check_group: a group member stays (rbdpy.librbd.groups);
        # a format 1 image cannot be in a group
        if not ictx.old_format:
            (group,) = await exec_ops(ioctx, ictx.header_oid, [cls_rbd.image_group_get()])
            if group.is_valid():
                raise CephError(errno.EMLINK, "image is in a group")
        await ictx.exclusive_lock.acquire()
        ictx.io_start()
        try:
            # librbd's TrimRequest reports (objects done, object count) to the
            # ProgressContext; the user's callback runs on a worker thread, never on
            # the trio thread (it may call back into the blocking API).
            count = get_num_objects(ictx.layout, ictx.size)
            if on_progress is not None:
                await trio.to_thread.run_sync(on_progress, 0, count)
            await remove_all_objects(ictx)
            if on_progress is not None:
                await trio.to_thread.run_sync(on_progress, count, count)
        finally:
            ictx.io_done()
        if ictx.object_map is not None:
            await ictx.object_map.unlock()
            ictx.object_map = None
        # RemoveRequest::detach_child: a clone leaves its parent's children
        if not ictx.old_format:
            await detach_child(ictx)
    except BaseException:
        await ictx.close()
        raise
    # The header carries the lock and the watch: remove it last of the image's own
    # state, after dropping our watch (RemoveRequest: remove_header).
    ictx.exclusive_lock.forget()
    await ictx.close()
    if ictx.old_format:
        # RemoveRequest's v1 tail: the header, then the TMAP directory entry
        await ioctx.operate(header_object_name(name), [ops.delete()])
        await format1.unlist(ioctx, name)
        log.debug("removed format 1 image %r", name)
        return
    for oid in (ictx.header_oid, object_map_name(ictx.image_id)):
        try:
            await ioctx.operate(oid, [ops.delete()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
    try:
        await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_remove_image(name, ictx.image_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    try:
        await ioctx.operate(id_obj_name(name), [ops.delete()])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    log.debug("removed image %r id %s", name, ictx.image_id)


async def _rename_format1(ioctx: AsyncIoctx, src_name: str, dest_name: str) -> None:
    """Operations::rename for a format 1 image: the destination must be free in either
    format (detect_format), then RenameRequest's v1 steps (rbdpy.librbd.format1)."""
    if not dest_name:
        raise CephError(errno.EINVAL, "destination name must not be empty")
    for oid in (id_obj_name(dest_name), header_object_name(dest_name)):
        try:
            await ioctx.operate(oid, [ops.stat()])
            raise CephError(errno.EEXIST, f"rbd image {dest_name} already exists")
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
    await format1.rename(ioctx, src_name, dest_name)


async def rename_image(ioctx: AsyncIoctx, src_name: str, dest_name: str) -> None:
    """Rename: the new id object, the directory entry, then drop the old id object."""
    try:
        (image_id,) = await exec_ops(ioctx, id_obj_name(src_name), [cls_rbd.get_id()])
    except CephError as e:
        if e.errno == errno.ENOENT and await format1.exists(ioctx, src_name):
            await _rename_format1(ioctx, src_name, dest_name)
            return
        raise
    if not dest_name:
        raise CephError(errno.EINVAL, "destination name must not be empty")
    try:
        await ioctx.operate(id_obj_name(dest_name), [ops.stat()])
        raise CephError(errno.EEXIST, f"rbd image {dest_name} already exists")
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    await exec_ops(ioctx, id_obj_name(dest_name),
                   [ops.create(exclusive=True), cls_rbd.set_id(image_id)])
    try:
        await exec_ops(ioctx, RBD_DIRECTORY,
                       [cls_rbd.dir_rename_image(src_name, dest_name, image_id)])
    except BaseException:
        await ioctx.operate(id_obj_name(dest_name), [ops.delete()])
        raise
    await ioctx.operate(id_obj_name(src_name), [ops.delete()])


__all__ = ["list_images", "remove_image", "rename_image"]
