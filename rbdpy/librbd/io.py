"""Image I/O: image byte ranges → per-object RADOS ops, many in flight at once.

Theory of operation: a request is clipped to the image size (librbd's ``clip_io``: a
request starting at or past the end is EINVAL, one crossing it is shortened), cut into
object extents by the striper (``file_to_extents``), and each object extent becomes ONE
OSD op on ``<object_prefix>.<objectno:016x>`` in the data pool. Object ops of one request
run concurrently in a nursery, at most :data:`MAX_CONCURRENT_OPS` at a time; their
failures are collected and the first one in object order is raised, which is librbd's
single return code (no ExceptionGroup leaves this module).

* Reads send READ at the image's snapshot; ENOENT (object never written) and short reads
  (object shorter than the extent) read as zeros; objects the object map marks
  NONEXISTENT are not asked at all. Bytes are scattered into the result through the
  extent's buffer extents.
* Writes run as the exclusive-lock owner (the image takes it on demand), carry the image
  SnapContext, mark the objects EXISTS in the object map *before* writing them, and send
  slices of the caller's buffer (zero copy unless fancy striping scatters one object
  extent over several buffer pieces). Objects that may not exist yet get librbd's
  allocation hint first.
* Discards follow librbd's ObjectDiscardRequest: a whole object is removed (object map
  PENDING before, NONEXISTENT after), an extent reaching the object's end truncates, any
  other extent zeroes. Like librbd with ``rbd_skip_partial_discard`` and
  ``rbd_discard_granularity_bytes`` = 64 KiB (Pacific defaults), each object extent is
  first shrunk inward to 64 KiB boundaries; what is left over is not discarded.
  Truncate/zero are preceded by an existence assertion so they never create objects
  behind the object map's back (ENOENT then means "nothing to do").
* Trim (resize shrink, image removal) deletes objects wholly past the new end and
  truncates/zeroes the boundary objects.

Mirrors: ceph src/librbd/io/ImageRequest.cc (ImageReadRequest, ImageWriteRequest,
ImageDiscardRequest::prune_object_extents), io/ObjectRequest.cc (ObjectReadRequest,
ObjectWriteRequest, ObjectDiscardRequest, add_write_hint), io/Utils.cc (clip_io),
operation/TrimRequest.cc; kernel drivers/block/rbd.c (rbd_img_fill_*, rbd_obj_read,
rbd_obj_write).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from rbdpy.format.constants import OBJECT_EXISTS, OBJECT_EXISTS_CLEAN, data_object_name
from rbdpy.format.object_map import object_may_not_exist
from rbdpy.librbd.concurrency import fan_out
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.msgr2.buffers import as_bytes
from rbdpy.rados.proto.ops import OSDOp
from rbdpy.striping.striper import ObjectExtent, file_to_extents, get_num_objects

if TYPE_CHECKING:
    from rbdpy.librbd.image_ctx import ImageCtx

log = logging.getLogger(__name__)


# rbd_discard_granularity_bytes (Pacific default).
DISCARD_GRANULARITY = 64 * 1024


def _clip(ictx: ImageCtx, offset: int, length: int) -> int:
    """librbd ``clip_io``: EINVAL at or past the end; shorten a request crossing it."""
    size = ictx.size
    if offset >= size:
        raise CephError(errno.EINVAL, f"offset {offset} at or past image end {size}")
    return min(length, size - offset)


def _oid(ictx: ImageCtx, objectno: int) -> str:
    return data_object_name(ictx.object_prefix, objectno)


# -- read --------------------------------------------------------------------------------------


async def read(ictx: ImageCtx, offset: int, length: int, fadvise_flags: int = 0) -> bytes:
    if length == 0:
        return b""
    ictx.require_not_blocklisted()
    await ictx.maybe_refresh()
    ictx.require_no_parent()
    if not ictx.snap_exists:
        raise CephError(errno.ENOENT, f"snapshot {ictx.snap_id:#x} no longer exists")
    length = _clip(ictx, offset, length)
    extents = file_to_extents(ictx.layout, offset, length)
    # (buffer offset, bytes the object returned for that piece); a piece shorter than its
    # buffer extent, or missing (object absent), reads as zeros.
    pieces: list[tuple[int, Buffer]] = []
    await fan_out([partial(_read_extent, ictx, ex, fadvise_flags, pieces) for ex in extents])
    log.debug("read %s %d~%d: %d object extents", ictx.name, offset, length, len(extents))
    return _assemble(pieces, length)


async def _read_extent(ictx: ImageCtx, ex: ObjectExtent, fadvise_flags: int,
                       pieces: list[tuple[int, Buffer]]) -> None:
    """Read one object extent; add what it holds to ``pieces`` (nothing for a hole)."""
    om = ictx.object_map
    if om is not None and not om.may_exist(ex.objectno):
        return
    try:
        reply = await ictx.data_ioctx.operate(
            _oid(ictx, ex.objectno), [ops.read(ex.offset, ex.length, fadvise_flags)],
            snapid=ictx.snap_id)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return  # never written: zeros
        raise
    data = reply.outdata[0]
    if len(ex.buffer_extents) == 1:
        pieces.append((ex.buffer_extents[0][0], data))
        return
    view = memoryview(data)
    pos = 0
    for buf_off, buf_len in ex.buffer_extents:
        if pos >= len(data):
            break
        pieces.append((buf_off, view[pos:pos + buf_len]))
        pos += buf_len


def _assemble(pieces: list[tuple[int, Buffer]], length: int) -> bytes:
    """The caller's ``length`` bytes from non-overlapping pieces; holes read as zeros.

    The common case -- one object returned the whole request -- hands back the received
    buffer itself: a 4 MiB read then costs no copy beyond the socket receive.
    """
    if len(pieces) == 1 and pieces[0][0] == 0 and len(pieces[0][1]) == length:
        return as_bytes(pieces[0][1])
    pieces.sort(key=lambda piece: piece[0])
    parts: list[Buffer] = []
    at = 0
    for buf_off, data in pieces:
        if buf_off > at:
            parts.append(bytes(buf_off - at))
        parts.append(data)
        at = buf_off + len(data)
    if at < length:
        parts.append(bytes(length - at))
    return b"".join(parts)


# -- write -------------------------------------------------------------------------------------


async def write(ictx: ImageCtx, data: Buffer, offset: int, fadvise_flags: int = 0) -> int:
    length = len(data)
    if length == 0:
        return 0
    ictx.require_writable()
    await ictx.maybe_refresh()
    ictx.require_no_parent()
    length = _clip(ictx, offset, length)
    mv = memoryview(data)
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    extents = file_to_extents(ictx.layout, offset, length)

    async def do_write() -> None:
        om = ictx.object_map
        fresh = {ex.objectno for ex in extents
                 if om is None or not _known_to_exist(ictx, ex.objectno)}
        if om is not None:
            # also turns EXISTS_CLEAN (fast-diff) into EXISTS; no I/O when all are EXISTS
            await om.mark_exists([ex.objectno for ex in extents])
        await fan_out([partial(_write_extent, ictx, ex, mv, fadvise_flags, fresh)
                       for ex in extents])

    await ictx.writing(do_write)
    log.debug("write %s %d~%d: %d object extents", ictx.name, offset, length, len(extents))
    return length


async def _write_extent(ictx: ImageCtx, ex: ObjectExtent, mv: memoryview, fadvise_flags: int,
                        fresh: set[int]) -> None:
    """Write one object extent from the caller's buffer."""
    if len(ex.buffer_extents) == 1:
        o, n = ex.buffer_extents[0]
        payload: Buffer = mv[o:o + n]
    else:
        payload = b"".join([mv[o:o + n] for o, n in ex.buffer_extents])
    osd_ops: list[OSDOp] = []
    if ex.objectno in fresh:
        # add_write_hint: tell the OSD the object's final size up front
        object_size = ictx.layout.object_size
        osd_ops.append(ops.set_alloc_hint(object_size, object_size))
    osd_ops.append(ops.write(ex.offset, payload, fadvise_flags))
    await ictx.data_ioctx.operate(_oid(ictx, ex.objectno), osd_ops, snapc=ictx.snapc)


def _known_to_exist(ictx: ImageCtx, objectno: int) -> bool:
    om = ictx.object_map
    if om is None or objectno >= len(om):
        return False
    return not object_may_not_exist(om.bits[objectno])


# -- discard / trim ----------------------------------------------------------------------------


async def _discard_extents(ictx: ImageCtx, extents: Sequence[ObjectExtent]) -> None:
    """Remove / truncate / zero object extents (ObjectDiscardRequest), as the lock owner."""
    om = ictx.object_map
    object_size = ictx.layout.object_size
    removes = [ex.objectno for ex in extents if ex.offset == 0 and ex.length == object_size
               and (om is None or om.may_exist(ex.objectno))]
    if om is not None and removes:
        await om.mark_pending(removes)
    if om is not None:
        # A truncate/zero changes the object: with fast-diff an EXISTS_CLEAN entry (clean
        # since the last snapshot) must become EXISTS first (librbd's pre-write object
        # map update for discards that do not remove the object).
        for n in sorted({ex.objectno for ex in extents if ex.objectno not in removes}):
            await om.update(n, n + 1, OBJECT_EXISTS, OBJECT_EXISTS_CLEAN)

    def job(ex: ObjectExtent) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if om is not None and not om.may_exist(ex.objectno):
                return
            if ex.offset == 0 and ex.length == object_size:
                osd_ops = [ops.delete()]
            elif ex.offset + ex.length >= object_size:
                osd_ops = [ops.assert_exists(), ops.truncate(ex.offset)]
            else:
                osd_ops = [ops.assert_exists(), ops.zero(ex.offset, ex.length)]
            try:
                await ictx.data_ioctx.operate(_oid(ictx, ex.objectno), osd_ops,
                                              snapc=ictx.snapc)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        return run

    await fan_out([job(ex) for ex in extents])
    if om is not None and removes:
        await om.mark_removed(removes)


def _prune(extents: list[ObjectExtent], granularity: int) -> list[ObjectExtent]:
    """ImageDiscardRequest::prune_object_extents: shrink each extent inward to
    ``granularity`` boundaries; drop what becomes empty."""
    out = []
    for ex in extents:
        start = -(-ex.offset // granularity) * granularity
        end = (ex.offset + ex.length) // granularity * granularity
        if start < end:
            out.append(ObjectExtent(ex.objectno, start, end - start))
    return out


async def discard(ictx: ImageCtx, offset: int, length: int,
                  granularity: int | None = None) -> None:
    """Discard; ``granularity`` 0 disables the inward pruning (write_zeroes' discard)."""
    if length == 0:
        return
    ictx.require_writable()
    await ictx.maybe_refresh()
    ictx.require_no_parent()
    length = _clip(ictx, offset, length)
    if granularity is None:
        granularity = DISCARD_GRANULARITY
    extents = file_to_extents(ictx.layout, offset, length)
    if granularity:
        extents = _prune(extents, min(granularity, ictx.layout.object_size))

    async def do_discard() -> None:
        # Even a discard that pruning left empty runs as a write: librbd takes the
        # exclusive lock for it all the same.
        if extents:
            await _discard_extents(ictx, extents)

    await ictx.writing(do_discard)


# RBD_WRITE_ZEROES_FLAG_THICK_PROVISION (librbd.h)
WRITE_ZEROES_FLAG_THICK_PROVISION = 1 << 0


async def write_zeroes(ictx: ImageCtx, offset: int, length: int, zero_flags: int = 0) -> None:
    """api/Io.cc aio_write_zeroes: unknown flags are EINVAL; by default a discard without
    granularity pruning (partial extents zeroed, whole objects removed); with
    THICK_PROVISION, zeros are written (librbd's write-same of a zero buffer), one object
    size at a time so memory stays bounded."""
    thick = bool(zero_flags & WRITE_ZEROES_FLAG_THICK_PROVISION)
    if zero_flags & ~WRITE_ZEROES_FLAG_THICK_PROVISION:
        raise CephError(errno.EINVAL, f"unsupported zero flags {zero_flags:#x}")
    if length == 0:
        return
    ictx.require_writable()
    await ictx.maybe_refresh()
    length = _clip(ictx, offset, length)
    if not thick:
        await discard(ictx, offset, length, granularity=0)
        return
    step = ictx.layout.object_size
    zeros = bytes(min(step, length))
    pos = offset
    end = offset + length
    while pos < end:
        n = min(step, end - pos)
        await write(ictx, memoryview(zeros)[:n], pos)
        pos += n


async def trim(ictx: ImageCtx, new_size: int, old_size: int) -> None:
    """Delete/truncate everything in [new_size, old_size) (TrimRequest); lock owner only."""
    layout = ictx.layout
    first_gone = get_num_objects(layout, new_size)
    last = get_num_objects(layout, old_size)
    om = ictx.object_map
    gone = [n for n in range(first_gone, last) if om is None or om.may_exist(n)]
    if om is not None:
        await om.mark_pending(gone)

    def job(objno: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            try:
                await ictx.data_ioctx.operate(_oid(ictx, objno), [ops.delete()],
                                              snapc=ictx.snapc)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        return run

    await fan_out([job(n) for n in gone])
    if om is not None:
        await om.mark_removed(gone)
    # boundary objects: the parts of surviving objects past the new end
    if new_size < old_size:
        boundary = [ex for ex in file_to_extents(layout, new_size, old_size - new_size)
                    if ex.objectno < first_gone]
        if boundary:
            await _discard_extents(ictx, boundary)


async def remove_all_objects(ictx: ImageCtx) -> None:
    """Image removal: every data object (the object map says which may exist)."""
    await trim(ictx, 0, ictx.size)


__all__ = ["DISCARD_GRANULARITY", "discard", "read",
           "remove_all_objects", "trim", "write", "write_zeroes"]
