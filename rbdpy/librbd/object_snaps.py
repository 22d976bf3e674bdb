"""What one data object looked like at each snapshot: its LIST_SNAPS snap set, and the
object ranges that changed between two snapshots.

Shared by diff_iterate (``diff``) and deep copy (``deep_copy``), which both walk an
object's clones: librados' ``calc_snap_set_diff`` (src/librados/snap_set_diff.cc, as
Pacific has it) gives the ranges two versions do not share, and librbd's
``io::ObjectListSnapsRequest`` turns them into data (the object exists at the end) or
zeroed ranges (it does not, or shrank below its size at the start).
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, NamedTuple

from rbdpy.format.constants import data_object_name
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP, CEPH_SNAPDIR
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.librbd.image_ctx import ImageCtx
    from rbdpy.rados.proto.ops import ObjListSnapResponse

__all__ = ["Ranges", "SnapSetDiff", "exists_at", "intersect_ranges", "list_object_snaps",
           "object_delta", "snap_set_diff", "union_ranges"]

# -- byte ranges (librados interval_set<uint64_t>), as sorted disjoint [start, end) lists --

Ranges = list[tuple[int, int]]


def union_ranges(a: Ranges, b: Ranges) -> Ranges:
    """The union of two range lists, sorted and disjoint."""
    out: Ranges = []
    for start, end in sorted(a + b):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _erase(a: Ranges, start: int, end: int) -> Ranges:
    out: Ranges = []
    for s, e in a:
        if e <= start or s >= end:
            out.append((s, e))
            continue
        if s < start:
            out.append((s, start))
        if e > end:
            out.append((end, e))
    return out


def intersect_ranges(a: Ranges, start: int, end: int) -> Ranges:
    """The parts of ``a`` inside ``[start, end)``."""
    return [(max(s, start), min(e, end)) for s, e in a if s < end and e > start]


class SnapSetDiff(NamedTuple):
    """``calc_snap_set_diff``'s outputs."""

    ranges: Ranges
    end_size: int
    end_exists: bool
    whole_object: bool  # the snap set is broken (a clone without snaps): report it all


def snap_set_diff(snap_set: ObjListSnapResponse, start: int, end: int) -> SnapSetDiff:
    """The object ranges that differ between snapshot ``start`` (0: before the object
    existed) and ``end`` (CEPH_NOSNAP: the head), from a LIST_SNAPS reply.

    Each clone serves the snapshots ``[snaps[0], snaps[-1]]``; the head serves everything
    after the snap set's ``seq``. Walking from the clone serving ``start`` to the one
    serving ``end``, every step adds what the two neighbours do not share below the larger
    of their sizes.
    """
    diff: Ranges = []
    saw_start = False
    start_size = 0
    clones = snap_set.clones
    i = 0
    while i < len(clones):
        clone = clones[i]
        if clone.cloneid == CEPH_NOSNAP:
            first, last = snap_set.seq + 1, CEPH_NOSNAP
        elif not clone.snaps:
            return SnapSetDiff([], 0, False, True)  # a broken snap set: all of it
        else:
            first, last = clone.snaps[0], clone.snaps[-1]  # last < cloneid once trimmed
        if last < start:
            i += 1
            continue
        if not saw_start:
            if start < first:  # the object did not exist at start
                if clone.size:
                    diff = [(0, clone.size)]
                start_size = 0
            else:
                start_size = clone.size
            saw_start = True
        if end < first:
            break
        if end <= last:
            return SnapSetDiff(diff, clone.size, True, False)
        # Pacific's librados: everything below the larger of the two sizes that they do
        # not share. (Later releases stop the diff at a truncation below it; Pacific's
        # librbd reports the truncated tail as changed data, and so do we.)
        bound = clone.size
        i += 1
        if i < len(clones):
            bound = max(bound, clones[i].size)
        step: Ranges = [(0, bound)] if bound else []
        for off, length in clone.overlap:
            step = _erase(step, off, off + length)
        diff = union_ranges(diff, step)
    # past the end, or out of clones before it: the object does not exist at the end
    return SnapSetDiff([(0, start_size)] if start_size else [], 0, False, False)


async def list_object_snaps(ictx: ImageCtx, objectno: int) -> ObjListSnapResponse | None:
    """LIST_SNAPS of one data object (read at CEPH_SNAPDIR); None if it never existed."""
    try:
        snap_set: ObjListSnapResponse = await ictx.data_ioctx._op1(
            data_object_name(ictx.object_prefix, objectno, ictx.old_format), ops.list_snaps(),
            snapid=CEPH_SNAPDIR)
    except CephError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    return snap_set


def object_delta(snap_set: ObjListSnapResponse | None, start: int, end: int,
                 extent: tuple[int, int], whole_object: bool,
                 object_size: int) -> list[tuple[int, int, bool]]:
    """What changed in object range ``extent`` (offset, length) between snapshot ``start``
    (0: the beginning) and ``end``: ``(object offset, length, holds data)`` pieces, in
    order (librbd io::ObjectListSnapsRequest, as diff_iterate uses it).

    The diff from ``start`` to ``end`` is data where the object exists at the end; what a
    shrink of the object cut off since ``start`` is a zeroed range, and so is all of the
    diff when the object is gone at the end. With ``whole_object`` any change spreads to
    the whole object.
    """
    if snap_set is None:
        return []  # the object never existed: nothing to report
    lo, hi = extent[0], extent[0] + extent[1]
    start_size = 0
    if start:
        start_size = snap_set_diff(snap_set, 0, start).end_size
    result = snap_set_diff(snap_set, start, end)
    ranges, end_size, exists = result.ranges, result.end_size, result.end_exists
    if result.whole_object:
        ranges, exists, end_size = [(0, object_size)], True, object_size
    elif whole_object and ranges:
        ranges = [(0, object_size)]
    data = intersect_ranges(ranges, lo, hi)
    zeroed: Ranges = []
    if end_size < start_size:
        zeroed = intersect_ranges([(end_size, start_size)], lo, hi)
        for s, e in zeroed:
            data = _erase(data, s, e)
    if not exists:
        zeroed, data = union_ranges(zeroed, data), []
    pieces = [(s, e - s, True) for s, e in data] + [(s, e - s, False) for s, e in zeroed]
    return sorted(pieces)


def exists_at(snap_set: ObjListSnapResponse | None, snap_id: int) -> bool:
    """Whether the object exists at snapshot ``snap_id`` (CEPH_NOSNAP: the head)."""
    return snap_set is not None and snap_set_diff(snap_set, 0, snap_id).end_exists

