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
from collections.abc import Awaitable, Callable, Sequence, Set
from functools import partial
from typing import TYPE_CHECKING

import trio

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    RBD_FEATURE_FAST_DIFF,
    data_object_name,
    object_map_name,
)
from rbdpy.format.object_map import object_may_exist, object_may_not_exist
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.msgr2.buffers import as_bytes
from rbdpy.rados.proto.ops import OsdFlag, OSDOp
from rbdpy.rados.proto.types import SnapContext
from rbdpy.striping.striper import ObjectExtent, extent_to_file, file_to_extents, get_num_objects

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
    return data_object_name(ictx.object_prefix, objectno, ictx.old_format)


# -- read --------------------------------------------------------------------------------------


async def read(ictx: ImageCtx, offset: int, length: int, fadvise_flags: int = 0) -> bytes:
    if length == 0:
        return b""
    ictx.require_not_blocklisted()
    await ictx.maybe_refresh()
    if not ictx.snap_exists:
        raise CephError(errno.ENOENT, f"snapshot {ictx.snap_id:#x} no longer exists")
    length = _clip(ictx, offset, length)
    return await _read_range(ictx, offset, length, fadvise_flags)


async def _read_range(ictx: ImageCtx, offset: int, length: int, fadvise_flags: int) -> bytes:
    """Read a range inside the image at its read point, through to the parent chain."""
    extents = file_to_extents(ictx.layout, offset, length)
    # (buffer offset, bytes the object returned for that piece); a piece shorter than its
    # buffer extent, or missing (object absent), reads as zeros.
    pieces: list[tuple[int, Buffer]] = []
    await fan_out([partial(_read_extent, ictx, offset, ex, fadvise_flags, pieces)
                   for ex in extents])
    log.debug("read %s %d~%d: %d object extents", ictx.name, offset, length, len(extents))
    return _assemble(pieces, length)


async def _read_extent(ictx: ImageCtx, base: int, ex: ObjectExtent, fadvise_flags: int,
                       pieces: list[tuple[int, Buffer]]) -> None:
    """Read one object extent (of a request starting at image offset ``base``); add what
    it holds to ``pieces``. An object the image lacks is a hole, or, below the parent
    overlap, the parent's data (librbd's ObjectReadRequest::read_parent)."""
    if _may_exist_at_read_point(ictx, ex.objectno):
        try:
            reply = await ictx.data_ioctx.operate(
                _oid(ictx, ex.objectno), [ops.read(ex.offset, ex.length, fadvise_flags)],
                snapid=ictx.snap_id)
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        else:
            # The object exists: it holds all of its data, a copy-up having brought in
            # whatever the parent had for it; a short read is zeros past its end.
            _scatter(reply.outdata[0], ex, pieces)
            return
    if ictx.has_parent():
        await _read_from_parent(ictx, [(base + buf_off, buf_len, buf_off)
                                       for buf_off, buf_len in ex.buffer_extents], pieces)


def _may_exist_at_read_point(ictx: ImageCtx, objectno: int) -> bool:
    """False only when the object map of the read point says the object is absent: HEAD's
    while we own the lock, or the snapshot's being read."""
    if ictx.snap_id == CEPH_NOSNAP:
        om = ictx.object_map
        return om is None or om.may_exist(objectno)
    bits = ictx.snap_object_map
    return bits is None or objectno >= len(bits) or object_may_exist(bits[objectno])


def _scatter(data: Buffer, ex: ObjectExtent, pieces: list[tuple[int, Buffer]]) -> None:
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


async def _read_from_parent(ictx: ImageCtx, ranges: Sequence[tuple[int, int, int]],
                            pieces: list[tuple[int, Buffer]]) -> None:
    """Read image ranges ``(image offset, length, buffer offset)`` from the parent, each
    clipped to the parent overlap; beyond it the image reads zeros."""
    overlap = ictx.parent_overlap
    stream = ictx.migration_stream
    if stream is not None and overlap is not None:
        # an import-only migration's source is read at the image offset
        for image_off, length, buf_off in ranges:
            length = min(length, overlap - image_off)
            if length > 0:
                pieces.append((buf_off, await stream.read(image_off, length)))
        return
    parent = await ictx.get_parent()
    if parent is None or overlap is None:
        return
    for image_off, length, buf_off in ranges:
        length = min(length, overlap - image_off, parent.size - image_off)
        if length > 0:
            pieces.append((buf_off, await _read_range(parent, image_off, length, 0)))


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
    length = _clip(ictx, offset, length)
    mv = memoryview(data)
    if mv.format != "B" or mv.ndim != 1:
        mv = mv.cast("B")
    extents = file_to_extents(ictx.layout, offset, length)

    async def do_write() -> None:
        om = ictx.object_map
        fresh = {ex.objectno for ex in extents
                 if om is None or not _known_to_exist(ictx, ex.objectno)}
        # what the map said before this write marks them: absent ones of a clone go
        # straight to copy-up
        absent = {n for n in fresh if not om.may_exist(n)} \
            if om is not None and ictx.has_parent() else _NONE
        if om is not None:
            # also turns EXISTS_CLEAN (fast-diff) into EXISTS; no I/O when all are EXISTS
            await om.mark_exists([ex.objectno for ex in extents])
        await fan_out([partial(_write_extent, ictx, ex, mv, fadvise_flags, fresh, absent)
                       for ex in extents])

    await ictx.writing(do_write)
    log.debug("write %s %d~%d: %d object extents", ictx.name, offset, length, len(extents))
    return length


async def _write_extent(ictx: ImageCtx, ex: ObjectExtent, mv: memoryview, fadvise_flags: int,
                        fresh: set[int], absent: Set[int]) -> None:
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
    await _modify_object(ictx, ex.objectno, osd_ops, ex.objectno in absent)


async def _modify_object(ictx: ImageCtx, objectno: int, osd_ops: list[OSDOp],
                         known_absent: bool) -> None:
    """Apply write ops to one data object of HEAD, copying the parent's data up first when
    the object is below the parent overlap and the image does not have it yet
    (AbstractObjectWriteRequest: guard with assert_exists, copy up on ENOENT)."""
    oid = _oid(ictx, objectno)
    if not ictx.has_parent() or not parent_extents(ictx, objectno):
        await ictx.data_ioctx.operate(oid, osd_ops, snapc=ictx.snapc)
        return
    while True:
        if not known_absent:
            try:
                await ictx.data_ioctx.operate(oid, [ops.assert_exists(), *osd_ops],
                                              snapc=ictx.snapc)
                return
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        if await copyup(ictx, objectno, osd_ops):
            return
        known_absent = False  # another request copied the object up meanwhile: retry


def parent_extents(ictx: ImageCtx, objectno: int) -> list[tuple[int, int]]:
    """The image extents of HEAD object ``objectno`` that still map onto the parent (the
    whole object's extents clipped to the overlap), in object order. Within one object the
    image offsets grow with the object offset, so these are a prefix of the object."""
    overlap = ictx.parent_overlap
    if not overlap:
        return []
    layout = ictx.layout
    extents = []
    for image_off, length in extent_to_file(layout, objectno, 0, layout.object_size):
        length = min(length, overlap - image_off)
        if length <= 0:
            break
        extents.append((image_off, length))
    return extents


async def copyup(ictx: ImageCtx, objectno: int, osd_ops: Sequence[OSDOp]) -> bool:
    """Bring the parent's data for a HEAD object into the image, then apply ``osd_ops``
    (none: flatten's copy-up only). One copy-up per object at a time, as librbd's
    copyup_list: a request finding one in flight waits for it and returns False, and
    the caller retries its write against the object the other one created."""
    pending = ictx.copyups_in_flight.get(objectno)
    if pending is not None:
        await pending.wait()
        return False
    done = trio.Event()
    ictx.copyups_in_flight[objectno] = done
    try:
        await _copy_up(ictx, objectno, osd_ops)
    finally:
        del ictx.copyups_in_flight[objectno]
        done.set()
    return True


async def _copy_up(ictx: ImageCtx, objectno: int, osd_ops: Sequence[OSDOp]) -> None:
    """CopyupRequest: read the object's parent data, then cls ``copyup`` it in with the
    write. cls copyup writes only into an object that does not exist yet, so a race with
    another client's copy-up of the same object is harmless."""
    data = await _read_parent_object(ictx, objectno)
    zero = _all_zero(data)
    if zero:
        if not osd_ops:
            return  # flatten: the parent has nothing here, so there is nothing to copy
        data = b""
    snapc = ictx.snapc
    if not osd_ops and ictx.object_map is not None:
        # Flatten's copy-up creates the object (a write marked it before it started).
        # Under snapshots the new object holds exactly what they hold, so with fast-diff
        # it is clean since the last one (what `rbd object-map check` expects, and what
        # librbd's flatten leaves).
        clean = bool(snapc.snaps) and bool(ictx.features & RBD_FEATURE_FAST_DIFF)
        await ictx.object_map.update(objectno, objectno + 1,
                                     OBJECT_EXISTS_CLEAN if clean else OBJECT_EXISTS)
    oid = _oid(ictx, objectno)
    object_size = ictx.layout.object_size
    copy_in = [cls_rbd.copyup(data).op(), ops.set_alloc_hint(object_size, object_size)]
    if snapc.snaps and not zero:
        # With snapshots, the copy-up goes first under an empty snap context: the OSD
        # then clones the object for every existing snapshot at the next write, so the
        # snapshots keep the parent's data too (what makes a deep flatten possible).
        await _mark_copied_into_snapshots(ictx, objectno)
        await ictx.data_ioctx.operate(oid, copy_in, flags=OsdFlag.WRITE,
                                      snapc=SnapContext())
        if osd_ops:
            await ictx.data_ioctx.operate(oid, osd_ops, snapc=snapc)
    else:
        await ictx.data_ioctx.operate(oid, [*copy_in, *osd_ops], flags=OsdFlag.WRITE,
                                      snapc=snapc)
    log.debug("copyup %s object %d: %d bytes from the parent", ictx.name, objectno,
              len(data))


def _all_zero(data: bytes) -> bool:
    # the first page settles most objects; then one memcmp against fresh zero pages
    head = data[:4096]
    if head.count(0) != len(head):
        return False
    return data == bytes(len(data))


async def _read_parent_object(ictx: ImageCtx, objectno: int) -> bytes:
    """The parent's bytes for a whole HEAD object, from object offset 0 up to the overlap."""
    stream = ictx.migration_stream
    if stream is not None:  # an import-only migration's source
        return b"".join([await stream.read(off, length)
                         for off, length in parent_extents(ictx, objectno)])
    parent = await ictx.get_parent()
    if parent is None:
        return b""
    extents = [(off, min(length, parent.size - off))
               for off, length in parent_extents(ictx, objectno) if off < parent.size]
    chunks: list[bytes] = [b""] * len(extents)

    async def read_one(i: int) -> None:
        chunks[i] = await _read_range(parent, extents[i][0], extents[i][1], 0)

    await fan_out([partial(read_one, i) for i in range(len(extents))])
    return b"".join(chunks)


async def _mark_copied_into_snapshots(ictx: ImageCtx, objectno: int) -> None:
    """A copy-up under snapshots puts the parent's data into every snapshot's clone of the
    object: their object maps say so (the oldest EXISTS, later ones EXISTS_CLEAN with
    fast-diff as they share its data), as CopyupRequest::update_object_maps does."""
    if ictx.object_map is None:
        return
    fast_diff = bool(ictx.features & RBD_FEATURE_FAST_DIFF)
    for i, snap_id in enumerate(sorted(ictx.snapc.snaps)):
        state = OBJECT_EXISTS_CLEAN if fast_diff and i > 0 else OBJECT_EXISTS
        try:
            await exec_ops(ictx.ioctx, object_map_name(ictx.image_id, snap_id), [
                cls_rbd.object_map_update(objectno, objectno + 1, state, None)])
        except CephError as e:
            if e.errno != errno.ENOENT:  # a snapshot removed meanwhile
                raise


_NONE: frozenset[int] = frozenset()


def _known_to_exist(ictx: ImageCtx, objectno: int) -> bool:
    om = ictx.object_map
    if om is None or objectno >= len(om):
        return False
    return not object_may_not_exist(om.bits[objectno])


# -- discard / trim ----------------------------------------------------------------------------


async def _discard_extents(ictx: ImageCtx, extents: Sequence[ObjectExtent]) -> None:
    """Remove / truncate / zero object extents (ObjectDiscardRequest), as the lock owner.

    Below a clone's parent overlap nothing is removed: a removed object would read the
    parent's data again. Those extents truncate or zero instead, copying the parent's
    data up first where the image lacks the object (librbd's discard with
    OBJECT_DISCARD_FLAG_DISABLE_CLONE_REMOVE), so they read as zeros afterwards.
    """
    om = ictx.object_map
    object_size = ictx.layout.object_size
    under_parent = {ex.objectno for ex in extents
                    if ictx.has_parent() and parent_extents(ictx, ex.objectno)}
    absent = {n for n in under_parent if om is not None and not om.may_exist(n)}
    removes = [ex.objectno for ex in extents if ex.offset == 0 and ex.length == object_size
               and ex.objectno not in under_parent
               and (om is None or om.may_exist(ex.objectno))]
    if om is not None and removes:
        await om.mark_pending(removes)
    if om is not None:
        # A truncate/zero changes the object: with fast-diff an EXISTS_CLEAN entry (clean
        # since the last snapshot) must become EXISTS first (librbd's pre-write object
        # map update for discards that do not remove the object).
        for n in sorted({ex.objectno for ex in extents if ex.objectno not in removes}):
            await om.update(n, n + 1, OBJECT_EXISTS, OBJECT_EXISTS_CLEAN)
        # a copy-up creates the object
        await om.mark_exists(sorted(absent))

    def job(ex: ObjectExtent) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if ex.objectno in under_parent:
                change = ops.truncate(ex.offset) if ex.offset + ex.length >= object_size \
                    else ops.zero(ex.offset, ex.length)
                await _modify_object(ictx, ex.objectno, [change], ex.objectno in absent)
                return
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
    """Delete/truncate everything in [new_size, old_size) (TrimRequest); lock owner only.

    A clone with snapshots first copies the parent's data up into the doomed objects
    below the overlap, then removes them: the removal under the snap context leaves that
    data in the snapshots' clones, so a rollback to one of them brings it back after the
    overlap has shrunk (TrimRequest's copy-up step).
    """
    layout = ictx.layout
    first_gone = get_num_objects(layout, new_size)
    last = get_num_objects(layout, old_size)
    om = ictx.object_map
    keep_for_snapshots: list[int] = []
    if ictx.has_parent() and ictx.snapc.snaps:
        overlap_objects = get_num_objects(layout, min(ictx.parent_overlap or 0, old_size))
        keep_for_snapshots = list(range(first_gone, min(overlap_objects, last)))
    gone = [n for n in range(first_gone, last) if n not in keep_for_snapshots
            and (om is None or om.may_exist(n))]
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

    def copy_up_and_remove(objno: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            absent = om is not None and not om.may_exist(objno)
            try:
                await _modify_object(ictx, objno, [ops.delete()], absent)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        return run

    await fan_out([copy_up_and_remove(n) for n in keep_for_snapshots])
    await fan_out([job(n) for n in gone])
    if om is not None:
        await om.mark_pending(keep_for_snapshots)
        await om.mark_removed([*gone, *keep_for_snapshots])
    # boundary objects: the parts of surviving objects past the new end
    if new_size < old_size:
        boundary = [ex for ex in file_to_extents(layout, new_size, old_size - new_size)
                    if ex.objectno < first_gone]
        if boundary:
            await _discard_extents(ictx, boundary)


async def remove_all_objects(ictx: ImageCtx) -> None:
    """Image removal: every data object (the object map says which may exist)."""
    await trim(ictx, 0, ictx.size)


__all__ = ["DISCARD_GRANULARITY", "copyup", "discard", "parent_extents", "read",
           "remove_all_objects", "trim", "write", "write_zeroes"]
