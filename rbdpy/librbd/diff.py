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
Every other case -- byte-granular diffs (``whole_object=False``), images without
fast-diff or with an invalid fast-diff flag -- needs the OSD's LIST_SNAPS per object,
which rbdpy does not speak yet: those raise NotImplementedError.
"""

from __future__ import annotations

import errno
from collections.abc import Sequence
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
from rbdpy.librbd import snapshots
from rbdpy.librbd.object_map import exec_ops
from rbdpy.rados.proto.denc import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError
from rbdpy.striping.striper import file_to_extents, get_num_objects

if TYPE_CHECKING:
    from rbdpy.librbd.image import AsyncImage

__all__ = ["DIFF_DATA", "DIFF_DATA_UPDATED", "DIFF_HOLE", "DIFF_HOLE_UPDATED", "diff_extents",
           "diff_states"]

# librbd's object_map::DiffState (object_map/Types.h)
DIFF_HOLE = 0  # unchanged hole
DIFF_DATA = 1  # unchanged data
DIFF_HOLE_UPDATED = 2  # new hole
DIFF_DATA_UPDATED = 3  # new data

#: One reported extent: image offset, length, whether it holds data.
Extent = tuple[int, int, bool]


def _next_state(state: int, obj: int, at_end: bool) -> int:
    if state == DIFF_HOLE:
        return DIFF_DATA_UPDATED if obj != OBJECT_NONEXISTENT and at_end else DIFF_HOLE
    if state == DIFF_DATA:
        if obj == OBJECT_NONEXISTENT:
            return DIFF_HOLE_UPDATED
        return DIFF_DATA if obj == OBJECT_EXISTS_CLEAN else DIFF_DATA_UPDATED
    if state == DIFF_HOLE_UPDATED:
        return DIFF_HOLE_UPDATED if obj == OBJECT_NONEXISTENT else DIFF_DATA_UPDATED
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


async def _load_states(img: AsyncImage, from_snap_id: int,
                       end_snap_id: int) -> list[int] | None:
    """The object-map diff between two points, or None when fast diff cannot answer."""
    infos = await snapshots.snap_infos(img)
    from_start = from_snap_id == 0
    # From the beginning of time only the end version matters (see the module doc).
    points = [] if from_start else [
        s for s in sorted(infos) if from_snap_id <= s < end_snap_id]
    points.append(end_snap_id)
    flags = await exec_ops(img.ioctx, img.header_oid,
                           [cls_rbd.get_flags(snap_id) for snap_id in points])
    if any(f & RBD_FLAG_FAST_DIFF_INVALID for f in flags):
        return None
    maps: list[list[int]] = []
    for snap_id in points:
        size = img.head_size_ if snap_id == CEPH_NOSNAP else infos[snap_id].image_size
        try:
            (bits,) = await exec_ops(img.ioctx, object_map_name(img.image_id, snap_id),
                                     [cls_rbd.object_map_load()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            if snap_id in (from_snap_id, end_snap_id):
                return None
            continue  # an intermediate snapshot being removed: librbd skips it too
        count = get_num_objects(img.layout, size)
        if len(bits) < count:
            return None  # librbd: "object map too small"
        maps.append(list(bits)[:count])
    return diff_states(maps, not from_start)


async def diff_extents(img: AsyncImage, offset: int, length: int,
                       from_snapshot: str | None, include_parent: bool = True,
                       whole_object: bool = False) -> list[Extent]:
    """What ``diff_iterate`` reports, in order: ``(offset, length, exists)`` extents.

    :raises CephError: ENOENT for an unknown ``from_snapshot``, EINVAL for one after the
        image's current snapshot or an offset past the end
    :raises NotImplementedError: when only LIST_SNAPS could answer (see the module doc)
    """
    del include_parent  # rbdpy opens no clones: there is no parent to include
    await img._io_idle.wait()  # librbd flushes first: in-flight writes count
    await img._maybe_refresh()
    from_snap_id = 0
    if from_snapshot is not None:
        info = await snapshots.lookup(img, from_snapshot)
        if info is None:
            raise CephError(errno.ENOENT, f"snapshot {from_snapshot!r} not found")
        from_snap_id = info.id
    end_snap_id = img.snap_id
    if length == 0:
        return []
    if offset >= img.size_:
        raise CephError(errno.EINVAL, f"offset {offset} at or past image end {img.size_}")
    length = min(length, img.size_ - offset)
    if from_snap_id == end_snap_id:
        return []
    if from_snap_id > end_snap_id:
        raise CephError(errno.EINVAL, "from_snapshot is after the image's current snapshot")
    states = None
    if whole_object and img.features_ & RBD_FEATURE_FAST_DIFF:
        states = await _load_states(img, from_snap_id, end_snap_id)
    if states is None:
        raise NotImplementedError(
            "rbdpy: diff_iterate answers from object maps only (whole_object=True on an "
            "image with a valid fast-diff map); other diffs need the OSD's LIST_SNAPS, "
            "not implemented")
    out: list[Extent] = []
    period = img.layout.period
    at, end = offset, offset + length
    while at < end:
        # librbd walks one stripe period at a time and reports its extents in image
        # order, neighbours of the same kind merged (an interval map per period)
        chunk = min(at - at % period + period, end) - at
        pieces: list[Extent] = []
        for ex in file_to_extents(img.layout, at, chunk):
            state = states[ex.objectno] if ex.objectno < len(states) else DIFF_HOLE
            if state not in (DIFF_DATA_UPDATED, DIFF_HOLE_UPDATED):
                continue
            for buf_off, buf_len in ex.buffer_extents:
                pieces.append((at + buf_off, buf_len, state == DIFF_DATA_UPDATED))
        pieces.sort()
        merged: list[Extent] = []
        for piece in pieces:
            if merged and merged[-1][0] + merged[-1][1] == piece[0] \
                    and merged[-1][2] == piece[2]:
                merged[-1] = (merged[-1][0], merged[-1][1] + piece[1], piece[2])
            else:
                merged.append(piece)
        out.extend(merged)
        at += chunk
    return out

