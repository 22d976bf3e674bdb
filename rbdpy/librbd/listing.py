"""Paged listings of a pool's (namespace's) ``rbd_directory`` and ``rbd_trash``.

Both are omaps read through cls_rbd in pages of 1024 entries; a missing object is an
empty listing. Image listing (directory), the trash and pool statistics all start from
these, so they live in the operations layer.

Mirrors: ceph src/librbd/api/Image.cc (list_images_v2), src/librbd/api/Trash.cc
(list_trash_image_specs).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.format.constants import RBD_DIRECTORY, RBD_TRASH
from rbdpy.format.types import TrashImageSource, TrashImageSpec
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

PAGE = 1024


async def directory_entries(ioctx: AsyncIoctx) -> dict[str, str]:
    """Every image of ``rbd_directory``: name → id."""
    out: dict[str, str] = {}
    start = ""
    while True:
        try:
            (page,) = await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_list(start, PAGE)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                break
            raise
        out.update(page)
        if len(page) < PAGE:
            break
        start = max(page)
    return out


async def trash_entries(ioctx: AsyncIoctx) -> dict[str, TrashImageSpec]:
    """Every entry of ``rbd_trash``: image id → TrashImageSpec (all sources)."""
    out: dict[str, TrashImageSpec] = {}
    start = ""
    while True:
        try:
            (page,) = await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_list(start, PAGE)])
        except CephError as e:
            if e.errno in (errno.ENOENT, errno.EOPNOTSUPP):
                break
            raise
        out.update(page)
        if len(page) < PAGE:
            break
        start = max(page)
    return out


async def images_with_removing(ioctx: AsyncIoctx) -> dict[str, str]:
    """The directory plus the images a removal left half done (trash source REMOVING):
    librbd lists those as images, so a second ``remove`` can finish them."""
    images = await directory_entries(ioctx)
    for image_id, spec in (await trash_entries(ioctx)).items():
        if spec.source == TrashImageSource.REMOVING:
            images.setdefault(spec.name, image_id)
    return images


__all__ = ["PAGE", "directory_entries", "images_with_removing", "trash_entries"]
