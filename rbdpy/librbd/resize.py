"""Resizing an image (the HEAD size in the header), as the exclusive-lock owner.

Growing updates the object map first, so objects written right after the resize already
have entries, then the header. Shrinking lowers the in-memory size first (no new I/O past
the new end), trims the data objects past it, then writes the header and drops the object
map's tail. Either way the other clients hear a HEADER_UPDATE. Snapshot rollback reuses
:func:`resize_image` to bring HEAD back to the snapshot's size.

Mirrors: ceph src/librbd/operation/ResizeRequest.cc, operation/TrimRequest.cc.
"""

from __future__ import annotations

from rbdpy.format import cls_rbd, v1_header
from rbdpy.format.constants import OBJECT_NONEXISTENT
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.io import trim
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto import ops


async def resize(ictx: ImageCtx, size: int, allow_shrink: bool = True) -> None:
    """``Image.resize``: refuse a shrink when ``allow_shrink`` is False, else resize."""
    ictx.require_writable()
    await ictx.maybe_refresh()
    if not allow_shrink and size < ictx.size:
        raise rbdx.InvalidArgument("error allow_shrink is False but old_size > new_size")
    await ictx.writing(lambda: resize_image(ictx, size))


async def _store_size(ictx: ImageCtx, new_size: int) -> None:
    """The header's size: cls ``set_size``, or for a format 1 image the size field of the
    ``<name>.rbd`` struct written in place (ResizeRequest::send_update_header)."""
    if ictx.old_format:
        size_field = ops.write(v1_header.SIZE_OFFSET, v1_header.encode_size(new_size))
        await ictx.ioctx.operate(ictx.header_oid, [size_field])
    else:
        await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.set_size(new_size)])


async def resize_image(ictx: ImageCtx, new_size: int) -> None:
    """Set HEAD's size to ``new_size``; the caller owns the exclusive lock."""
    old_size = ictx.size
    if new_size == old_size:
        return
    new_objects = ictx.num_objects(new_size)
    om = ictx.object_map
    if new_size > old_size:
        if om is not None:
            await om.resize(new_objects, OBJECT_NONEXISTENT)
        await _store_size(ictx, new_size)
    else:
        ictx.size = new_size
        await trim(ictx, new_size, old_size)
        await _store_size(ictx, new_size)
        # A clone's overlap shrinks with it and never grows back: what lay past the new
        # end reads as zeros after a later grow (cls set_size lowers the stored one).
        if ictx.head_parent_overlap is not None:
            ictx.head_parent_overlap = min(ictx.head_parent_overlap, new_size)
            ictx.parent_overlap = ictx.head_parent_overlap
        if om is not None:
            await om.resize(new_objects, OBJECT_NONEXISTENT)
    ictx.size = new_size
    await ictx.notify_header(NotifyOp.HEADER_UPDATE)


__all__ = ["resize", "resize_image"]
