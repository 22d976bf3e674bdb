"""The pool's image directory: listing and renaming images.

Theory of operation: ``rbd_directory`` (an omap of name ↔ id) lists a pool's images (with
the half-removed ones of the trash, rbdpy.librbd.listing). Removal goes through the trash
as librbd's does (rbdpy.librbd.trash.remove_by_name). Rename writes the new id object,
renames the directory entry, then drops the old id object, undoing the first step if the
second fails.

Mirrors: ceph src/librbd/api/Image.cc (list_images, rename), src/librbd/internal.cc
(rename).
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.format.constants import RBD_DIRECTORY, id_obj_name
from rbdpy.format.v1_header import header_object_name
from rbdpy.librbd import format1
from rbdpy.librbd.listing import images_with_removing
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)


async def list_images(ioctx: AsyncIoctx) -> dict[str, str]:
    """Every image of the pool's directory, and the ones a removal left half done
    (librbd lists those too): name → id (format 1 images: id "")."""
    out: dict[str, str] = dict.fromkeys(await format1.list_names(ioctx), "")
    out.update(await images_with_removing(ioctx))
    return out


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


__all__ = ["list_images", "rename_image"]
