"""diff_iterate: which parts of an image changed since a snapshot (or ever).

What is here is librbd's *fast diff*: with ``whole_object=True`` on an image with the
fast-diff feature and valid object maps, the answer comes from the object maps alone
(librbd/api/DiffIterate.cc, librbd/object_map/DiffRequest.cc in its diff-iterate mode).
Each object carries a state -- hole or data, unchanged or updated -- through the maps of
the starting snapshot, every snapshot after it and the end (the image's current snapshot,
or HEAD):

* the starting snapshot's map sets data (or updated data, for a PENDING entry) / hole;
* after it, data that disappears becomes an updated hole, data that is anything but
  EXISTS_CLEAN (written since the snapshot before: a snapshot turns every EXISTS of HEAD
  into EXISTS_CLEAN) becomes updated data, an updated hole that reappears updated data;
* a hole stays a hole on intermediate snapshots and becomes updated data only if the
  object exists at the end: from the beginning of time only the end map matters;
* the state vector follows each map's size (a shrink drops what it cut off, a growth
  starts the new objects as holes).

Updated data is reported with ``exists=True``, updated holes with ``exists=False``.

Every other diff -- byte-granular (``whole_object=False``), or on an image without
fast-diff or with an invalid fast-diff flag -- asks the OSDs, one stripe period at a time:
one LIST_SNAPS per object (read at CEPH_SNAPDIR) gives its clones, the snapshots each
serves, its size and what it shares with the next one. librados' ``calc_snap_set_diff``
(src/librados/snap_set_diff.cc, as Pacific has it: a step between two clones counts
everything they do not share below the larger size) gives the object ranges that differ
between the two versions, and librbd's ``io::ObjectListSnapsRequest`` turns them into
data (the object exists at the end) or zeroed ranges (it does not, or shrank below its
size at the start). The period's pieces are mapped to image offsets and reported in image
order, neighbours of one kind merged.

``include_parent`` (a diff from the beginning of a clone): the parent's own diff from its
beginning to the parent snapshot, below the overlap at the read point, is read first; in
each object the clone has no data of its own in (a hole by its object map, or no object
at the end by LIST_SNAPS) the parts the parent holds data in are reported as data,
merged with the clone's own extents. librbd's DiffIterate does this in both modes; the
parent's diff uses the same ``whole_object`` choice.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    OBJECT_PENDING,
    RBD_FEATURE_FAST_DIFF,
    RBD_FLAG_FAST_DIFF_INVALID,
    object_map_name,
)
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.object_snaps import (
    Ranges,
    SnapSetDiff,
    exists_at,
    intersect_ranges,
    list_object_snaps,
    object_delta,
    snap_set_diff,
    union_ranges,
)
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError
from rbdpy.striping.striper import ObjectExtent, file_to_extents, get_num_objects

if TYPE_CHECKING:
    from rbdpy.librbd.image_ctx import ImageCtx
    from rbdpy.rados.proto.ops import ObjListSnapResponse

__all__ = ["DIFF_DATA", "DIFF_DATA_UPDATED", "DIFF_HOLE", "DIFF_HOLE_UPDATED", "SnapSetDiff",
           "diff_extents", "diff_states", "object_delta", "snap_set_diff"]

# librbd's object_map::DiffState (object_map/Types.h)
DIFF_HOLE = 0  # unchanged hole
DIFF_DATA = 1  # unchanged data
DIFF_HOLE_UPDATED = 2  # new hole
DIFF_DATA_UPDATED = 3  # new data

#: One reported extent: image offset, length, whether it holds data.
Extent = tuple[int, int, bool]

# rbd_concurrent_management_ops (Pacific default)
_CONCURRENT_LIST_SNAPS = 10


def _next_state(state: int, obj: int, at_end: bool) -> int:
    if state == DIFF_HOLE:
        return DIFF_DATA_UPDATED if obj != OBJECT_NONEXISTENT and at_end else DIFF_HOLE
    if state == DIFF_DATA:
        if obj == OBJECT_NONEXISTENT:
            return DIFF_HOLE_UPDATED
        return DIFF_DATA if obj == OBJECT_EXISTS_CLEAN else DIFF_DATA_UPDATED
    # an updated hole or updated data: whatever the object is now, updated
    return DIFF_HOLE_UPDATED if obj == OBJECT_NONEXISTENT else DIFF_DATA_UPDATED


def diff_states(maps: Sequence[Sequence[int]], from_snapshot: bool) -> list[int]:
    """Per-object diff state from object maps ordered oldest to newest.

    With ``from_snapshot``, ``maps[0]`` is the starting snapshot's map; the last map is
    always the end's. Each map is already cut to its version's object count.
    """
    states: list[int] = []
    last = len(maps) - 1
    for index, current in enumerate(maps):
        at_start = from_snapshot and index == 0
        at_end = index == last
        overlap = min(len(current), len(states))
        del states[len(current):]
        for i in range(overlap):
            states[i] = _next_state(states[i], current[i], at_end)
        for obj in current[overlap:]:
            if obj == OBJECT_NONEXISTENT:
                states.append(DIFF_HOLE)
            elif not at_start:
                # the beginning of time, or a growth: an implicit hole before this map
                states.append(DIFF_DATA_UPDATED if at_end else DIFF_HOLE)
            else:
                states.append(DIFF_DATA_UPDATED if obj == OBJECT_PENDING else DIFF_DATA)
    return states


def _to_image(ex: ObjectExtent, at: int,
              pieces: list[tuple[int, int, bool]]) -> list[Extent]:
    """Object ranges of ``ex`` (one object's part of the period at ``at``) as image
    extents, through its buffer extents."""
    out: list[Extent] = []
    opos = ex.offset
    for buf_off, buf_len in ex.buffer_extents:
        for off, length, has_data in pieces:
            s, e = max(off, opos), min(off + length, opos + buf_len)
            if s < e:
                out.append((at + buf_off + s - opos, e - s, has_data))
        opos += buf_len
    return out


async def _load_states(ictx: ImageCtx, from_snap_id: int,
                       end_snap_id: int) -> list[int] | None:
    """The object-map diff between two points, or None when fast diff cannot answer."""
    infos = await ictx.snap_infos()
    from_start = from_snap_id == 0
    # From the beginning of time only the end version matters (see the module doc).
    points = [] if from_start else [
        s for s in sorted(infos) if from_snap_id <= s < end_snap_id]
    points.append(end_snap_id)
    flags = await exec_ops(ictx.ioctx, ictx.header_oid,
                           [cls_rbd.get_flags(snap_id) for snap_id in points])
    if any(f & RBD_FLAG_FAST_DIFF_INVALID for f in flags):
        return None
    maps: list[list[int]] = []
    for snap_id in points:
        size = ictx.head_size if snap_id == CEPH_NOSNAP else infos[snap_id].image_size
        try:
            (bits,) = await exec_ops(ictx.ioctx, object_map_name(ictx.image_id, snap_id),
                                     [cls_rbd.object_map_load()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            if snap_id in (from_snap_id, end_snap_id):
                return None
            continue  # an intermediate snapshot being removed: librbd skips it too
        count = get_num_objects(ictx.layout, size)
        if len(bits) < count:
            return None  # librbd: "object map too small"
        maps.append(list(bits)[:count])
    return diff_states(maps, not from_start)


async def diff_extents(ictx: ImageCtx, offset: int, length: int,
                       from_snapshot: str | None, include_parent: bool = True,
                       whole_object: bool = False) -> list[Extent]:
    """What ``diff_iterate`` reports, in order: ``(offset, length, exists)`` extents.

    :raises CephError: ENOENT for an unknown ``from_snapshot``, EINVAL for one after the
        image's current snapshot or an offset past the end
    """
    await ictx.wait_io_idle()  # librbd flushes first: in-flight writes count
    await ictx.maybe_refresh()
    from_snap_id = 0
    if from_snapshot is not None:
        info = await ictx.lookup_snap(from_snapshot)
        if info is None:
            raise CephError(errno.ENOENT, f"snapshot {from_snapshot!r} not found")
        from_snap_id = info.id
    end_snap_id = ictx.snap_id
    if length == 0:
        return []
    if offset >= ictx.size:
        raise CephError(errno.EINVAL, f"offset {offset} at or past image end {ictx.size}")
    length = min(length, ictx.size - offset)
    if from_snap_id == end_snap_id:
        return []
    if from_snap_id > end_snap_id:
        raise CephError(errno.EINVAL, "from_snapshot is after the image's current snapshot")
    states = None
    if whole_object and ictx.features & RBD_FEATURE_FAST_DIFF:
        states = await _load_states(ictx, from_snap_id, end_snap_id)
    parent_diff: Ranges = []
    if include_parent and from_snap_id == 0:
        parent_diff = await _parent_diff(ictx, whole_object)
    periods = _periods(ictx, offset, length)
    if states is None:
        return await _list_snaps_extents(ictx, periods, from_snap_id, end_snap_id,
                                         whole_object, parent_diff)
    object_states: list[int] = states  # narrowed, for the closure

    def whole_extent(ex: ObjectExtent, at: int) -> list[tuple[int, int, bool]]:
        n = ex.objectno
        state = object_states[n] if n < len(object_states) else DIFF_HOLE
        if state == DIFF_HOLE:
            # no data of the child's own there: what the parent shows through
            return _parent_pieces(ex, at, parent_diff)
        if state not in (DIFF_DATA_UPDATED, DIFF_HOLE_UPDATED):
            return []
        return [(ex.offset, ex.length, state == DIFF_DATA_UPDATED)]

    return _report(periods, whole_extent)


async def _parent_diff(ictx: ImageCtx, whole_object: bool) -> Ranges:
    """The image ranges the parent holds data in below the overlap at the read point (the
    parent's own diff from its beginning to the parent snapshot, through its parents
    too), as librbd's DiffIterate collects them before a diff from the beginning; []
    for an image without a parent there."""
    overlap = ictx.parent_overlap or 0
    if overlap == 0:
        return []
    parent = await ictx.get_parent()
    if parent is None:
        return []
    length = min(overlap, parent.size)
    if length == 0:
        return []
    extents = await diff_extents(parent, 0, length, None, True, whole_object)
    # a discard can leave a hole in the parent: only its data counts
    return union_ranges([], [(off, off + ln) for off, ln, exists in extents if exists])


def _parent_pieces(ex: ObjectExtent, at: int,
                   parent_diff: Ranges) -> list[tuple[int, int, bool]]:
    """The parts of object extent ``ex`` (of the period at image offset ``at``) whose
    image ranges hold parent data, as object ranges with data."""
    pieces: list[tuple[int, int, bool]] = []
    opos = ex.offset
    for buf_off, buf_len in ex.buffer_extents:
        start = at + buf_off
        for s, e in intersect_ranges(parent_diff, start, start + buf_len):
            pieces.append((opos + s - start, e - s, True))
        opos += buf_len
    return pieces


def _periods(ictx: ImageCtx, offset: int, length: int) -> list[tuple[int, list[ObjectExtent]]]:
    """The range cut at stripe-period boundaries (librbd diffs one period at a time): each
    piece's image offset and its object extents."""
    period = ictx.layout.period
    out = []
    at, stop = offset, offset + length
    while at < stop:
        chunk = min(at - at % period + period, stop) - at
        out.append((at, file_to_extents(ictx.layout, at, chunk)))
        at += chunk
    return out


def _report(periods: list[tuple[int, list[ObjectExtent]]],
            delta: Callable[[ObjectExtent, int], list[tuple[int, int, bool]]]
            ) -> list[Extent]:
    """Each period's changed object ranges (``delta`` of each of its object extents and the
    period's image offset) as image extents, in the order librbd reports them."""
    out: list[Extent] = []
    for at, extents in periods:
        pieces: list[Extent] = []
        for ex in extents:
            pieces.extend(_to_image(ex, at, delta(ex, at)))
        out.extend(_in_image_order(pieces))
    return out


def _in_image_order(pieces: list[Extent]) -> list[Extent]:
    """One stripe period's extents as librbd reports them: in image order, neighbours of
    the same kind merged (librbd collects a period in an interval map)."""
    pieces.sort()
    merged: list[Extent] = []
    for piece in pieces:
        if merged and merged[-1][0] + merged[-1][1] == piece[0] \
                and merged[-1][2] == piece[2]:
            merged[-1] = (merged[-1][0], merged[-1][1] + piece[1], piece[2])
        else:
            merged.append(piece)
    return merged



async def _list_snaps_extents(ictx: ImageCtx,
                              periods: list[tuple[int, list[ObjectExtent]]], start: int,
                              end: int, whole_object: bool,
                              parent_diff: Ranges) -> list[Extent]:
    """The diff through LIST_SNAPS, object by object, reported period by period; an
    object the image has no data of its own in shows the parent's (``parent_diff``)."""
    snap_sets: dict[int, ObjListSnapResponse | None] = {}

    def job(objectno: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            snap_sets[objectno] = await list_object_snaps(ictx, objectno)
        return run

    objectnos = sorted({ex.objectno for _, extents in periods for ex in extents})
    # librbd bounds these with rbd_concurrent_management_ops (10)
    await fan_out([job(n) for n in objectnos], limit=_CONCURRENT_LIST_SNAPS)

    def delta(ex: ObjectExtent, at: int) -> list[tuple[int, int, bool]]:
        snap_set = snap_sets[ex.objectno]
        pieces = object_delta(snap_set, start, end, (ex.offset, ex.length), whole_object,
                              ictx.layout.object_size)
        if not pieces and parent_diff and not exists_at(snap_set, end):
            return _parent_pieces(ex, at, parent_diff)
        return pieces

    return _report(periods, delta)
