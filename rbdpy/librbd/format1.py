"""Format 1 (legacy) images on RADOS: detect, read the header, create, list, unlist.

Theory of operation: a format 1 image is one header object ``<name>.rbd`` (codec in
rbdpy.format.v1_header) plus ``rb.*`` data objects, and a name in the TMAP data of
``rbd_directory``. There is no id, no exclusive lock, no object map, no metadata: the
header carries size, order, block name and the snapshot table. :class:`ImageCtx` asks
:func:`read_header` at every open and refresh when it found the image in this format
(librbd's OpenRequest tries format 2's ``rbd_id.<name>`` first, then stats the v1 header).

Creation is librbd's ``create_v1`` (src/librbd/internal.cc): the directory entry first
(TMAPUP set), then the header written whole, and the directory entry taken back if that
write fails. Removal (image/RemoveRequest.cc, v1 path) ends with :func:`unlist`.

Mirrors: ceph src/librbd/internal.cc (create_v1, init_rbd_header, tmap_set, tmap_rm,
detect_format), src/librbd/image/OpenRequest.cc (send_v1_detect_header),
image/RefreshRequest.cc (send_v1_read_header), api/Image.cc (list_images: the TMAP names).
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from rbdpy.format.constants import RBD_DIRECTORY
from rbdpy.format.v1_header import (
    HeaderError,
    HeaderV1,
    decode_header,
    decode_tmap_keys,
    encode_new_header,
    header_object_name,
    tmap_rm_command,
    tmap_set_command,
)
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)


async def exists(ioctx: AsyncIoctx, name: str) -> bool:
    """True when ``<name>.rbd`` exists (librbd ``detect_format``'s first stat)."""
    try:
        await ioctx.operate(header_object_name(name), [ops.stat()])
    except CephError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    return True


async def read_header(ioctx: AsyncIoctx, name: str) -> HeaderV1:
    """The decoded header; ENOENT when absent, ENXIO when it is not a v1 header
    (RefreshRequest::handle_v1_read_header)."""
    reply = await ioctx.operate(header_object_name(name), [ops.read(0, 0)])
    try:
        return decode_header(reply.outdata[0])
    except HeaderError as e:
        raise CephError(errno.ENXIO, str(e)) from e


async def list_names(ioctx: AsyncIoctx) -> list[str]:
    """Names of the pool's format 1 images (the TMAP in ``rbd_directory``'s data)."""
    try:
        reply = await ioctx.operate(RBD_DIRECTORY, [ops.read(0, 0)])
    except CephError as e:
        if e.errno == errno.ENOENT:
            return []
        raise
    try:
        return decode_tmap_keys(reply.outdata[0])
    except HeaderError as e:
        raise CephError(errno.EIO, str(e)) from e


async def create(ioctx: AsyncIoctx, name: str, size: int, order: int,
                 block_name: str) -> None:
    """``create_v1``: the directory entry, then the header; the entry is taken back when
    the header write fails. The caller has checked the name is free and the order."""
    await ioctx.operate(RBD_DIRECTORY, [ops.tmapup(tmap_set_command(name))])
    try:
        await ioctx.operate(header_object_name(name),
                            [ops.write(0, encode_new_header(block_name, size, order))])
    except BaseException:
        try:
            await unlist(ioctx, name)
        except CephError as e:
            log.debug("create %r: could not take back the directory entry: %s", name, e)
        raise
    log.debug("created format 1 image %r block name %s size %d order %d", name,
              block_name, size, order)


async def rename(ioctx: AsyncIoctx, src: str, dst: str) -> None:
    """RenameRequest's v1 path: copy the header to ``<dst>.rbd`` (which must not exist),
    swap the names in the directory in one TMAPUP, drop the old header (a missing one is
    only logged, as librbd). The caller checked the destination name is free."""
    reply = await ioctx.operate(header_object_name(src), [ops.read(0, 0)])
    header = bytes(reply.outdata[0])
    await ioctx.operate(header_object_name(dst),
                        [ops.create(exclusive=True), ops.writefull(header)])
    await ioctx.operate(RBD_DIRECTORY,
                        [ops.tmapup(tmap_set_command(dst) + tmap_rm_command(src))])
    try:
        await ioctx.operate(header_object_name(src), [ops.delete()])
    except CephError as e:
        log.debug("rename %r: old header not removed: %s", src, e)
    log.debug("renamed format 1 image %r to %r", src, dst)


async def unlist(ioctx: AsyncIoctx, name: str) -> None:
    """Remove ``name`` from the TMAP directory (librbd ``tmap_rm``)."""
    await ioctx.operate(RBD_DIRECTORY, [ops.tmapup(tmap_rm_command(name))])


__all__ = ["create", "exists", "list_names", "read_header", "rename", "unlist"]
