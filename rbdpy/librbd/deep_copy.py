"""Deep copy (``Image.deep_copy``): a new image with the source's snapshots, their data and
its metadata.

librbd's deep copy, as 16.2 leaves the destination:

* **header**: the source's size at its read point (HEAD, or the snapshot set), order,
  stripe unit and count and features (less the ones librbd enables implicitly: striping,
  data-pool, fast-diff, operations -- the create request works them out again), unless the
  caller names others. The data pool is *not* the source's: like a plain create, the
  destination takes the caller's ``data_pool`` or the pool's ``rbd_default_data_pool``.
* **snapshots**: every user snapshot up to the read point, oldest first, with the same
  name and size (the header size is set to the snapshot's before it is added, as librbd's
  SetHeadRequest does), then the protection of the protected ones, then HEAD's size.
  Other namespaces (trash, group, mirror) are not copied.
* **objects skipped** (ImageCopyRequest): when the source has fast-diff and every object
  map it walks is valid, the object-map diff from the oldest snapshot (any namespace)
  through the read point -- each snapshot's map and, read at HEAD, HEAD's -- names the
  objects that are nonexistent in all of them; those are not copied at all, even if
  RADOS holds something for them (an object with a snap set but no clone and no head,
  as a shrink of a clone leaves where the copy-up data was all zeros). Without fast-diff,
  or with an invalid or too small map, every object is copied.
* **data**: object by object, snapshot by snapshot. The source object's LIST_SNAPS snap
  set says which ranges changed between two copied snapshots (the same
  ``calc_snap_set_diff`` walk diff_iterate uses); only those are read (SPARSE_READ at the
  later snapshot) and written to the destination object, with the destination's snap
  context as of the earlier snapshot. The OSD then clones the destination object exactly
  where the source object was cloned, so every destination snapshot reads what the
  source's did and untouched objects stay shared. A range a shrink cut off becomes a
  truncate, an object gone at a snapshot a remove.
* **object maps**: each destination snapshot's map (and HEAD's) says, per object,
  nonexistent, EXISTS if the copy wrote it in that snapshot's step, EXISTS_CLEAN if it
  exists unchanged since the snapshot before (fast-diff). When the source is read at a
  snapshot, that snapshot is the last one copied and HEAD's map equals its map.
* **metadata**: every image-meta pair.

A clone (api::Image::deep_copy without ``flatten``) is copied into a clone of the same
parent snapshot -- the one named by the oldest snapshot (of any namespace) that has a
parent, else by HEAD:

* **the clone** is made as CloneRequest makes one: the clone format chosen for the
  destination pool (parent_link.clone_format: on a cluster that does not require mimic
  clients, ``auto`` means v1), the parent snapshot's size, the copy's features and
  layout, the parent linked both ways, and the *parent's* image metadata copied (the
  source's pairs are set over them afterwards).
* **the parent per snapshot** follows SetHeadRequest before each snapshot is added: the
  header size first (a shrink also shrinks the head overlap), then, if the destination's
  head link differs from the one the source snapshot had, ``parent_detach`` and
  ``parent_attach`` with the snapshot's overlap. At HEAD the wanted link is the
  destination's current spec with the source's HEAD overlap: for a flattened source
  whose snapshots still use the parent that overlap is 0, cls refuses the attach
  (EINVAL) and the copy fails, as librbd's does, its snapshots left behind.
* **data** (ObjectCopyRequest with ``hide_parent``, the source having a parent at its
  read point): an object the source never had (no snap set, or skipped by the object-map
  diff above) is not written, so the copy reads through
  the parent as the source does. Where an object did not hold data at the first
  snapshot, all of it counts as zeroed in that step while the object is inside the
  destination's parent overlap there; a zeroed range from offset 0 to the end becomes an
  empty object (create + truncate 0) rather than a removal, hiding the parent. Once an
  object is beyond the destination's overlap (a shrink), its ranges are cut as in a
  plain image, but a cut from offset 0 still leaves an empty object -- which librbd's
  object map calls nonexistent (``rbd object-map check`` then objects); so do we.

Not done (NotImplementedError, nothing created):

* a clone copied with another object layout (order or striping) than its own; librbd
  then also reads parent data into objects that straddle source objects, which rbdpy
  does not reproduce;
* a clone with an object that is absent at some version (so the source reads the
  parent there) over parent data that is not all zeros, while the copy would keep an
  object there: librbd's copy then reads zeros, a wrong copy. librbd's own writes never
  leave such an object (a copy-up of data reaches the snapshots too), so this takes a
  foreign writer; it is checked before anything is created.

Mirrors: ceph src/librbd/api/Image.cc (deep_copy), DeepCopyRequest.cc,
deep_copy/SnapshotCopyRequest.cc, SetHeadRequest.cc, ObjectCopyRequest.cc,
MetadataCopyRequest.cc.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_lock, cls_rbd
from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_LAYERING,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURES_IMPLICIT_ENABLE,
    RBD_FLAG_FAST_DIFF_INVALID,
    RBD_LOCK_NAME,
    RBD_PROTECTION_STATUS_PROTECTED,
    data_object_name,
    object_map_name,
)
from rbdpy.format.object_map import BitVector
from rbdpy.format.types import ParentImageSpec, UserSnapshotNamespace
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.coerce import as_uint64
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.create import create_image
from rbdpy.librbd.errors import translate
from rbdpy.librbd.exclusive_lock import WATCHER_LOCK_TAG
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.io import read
from rbdpy.librbd.metadata import metadata_list
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.object_snaps import (
    Ranges,
    exists_at,
    list_object_snaps,
    object_delta,
    union_ranges,
)
from rbdpy.librbd.parent_link import (
    attach_child,
    attach_parent,
    clone_format,
    detach_parent,
    open_ioctx_at,
    remove_new_clone,
)
from rbdpy.rados import exceptions as radosx
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import to_bytes, to_str
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.types import SnapContext
from rbdpy.striping.layout import FileLayout
from rbdpy.striping.striper import extent_to_file, file_to_extents, get_num_objects

if TYPE_CHECKING:
    from rbdpy.format.cls import ClsCall
    from rbdpy.rados.ioctx import AsyncIoctx
    from rbdpy.rados.proto.ops import ObjListSnapResponse, OSDOp

log = logging.getLogger(__name__)

# Destination objects copied at once (librbd: rbd_concurrent_management_ops, 10).
_CONCURRENT_OBJECTS = 10


@dataclass
class _Point:
    """One version the copy reproduces: a source snapshot (or the source's HEAD) and the
    destination version it becomes."""

    src_snap_id: int  # CEPH_NOSNAP: the source's HEAD
    size: int
    name: str = ""
    protected: bool = False
    # the source's parent overlap at this version (None: no parent there)
    parent_overlap: int | None = None
    dst_snap_id: int = CEPH_NOSNAP  # filled in once the destination snapshot exists
    # the destination's parent overlap at this version, once set (0: no parent)
    dst_overlap: int = 0


@dataclass
class _ObjectPlan:
    """One destination object: the source objects its image ranges come from."""

    objectno: int
    sources: list[int] = field(default_factory=list)


async def deep_copy(ictx: ImageCtx, dest_ioctx: AsyncIoctx, dest_name: str | bytes,
                    features: int | None = None, order: int | None = None,
                    stripe_unit: int | None = None, stripe_count: int | None = None,
                    data_pool: str | bytes | None = None) -> None:
    ictx.require_not_closed()
    if not isinstance(dest_name, (str, bytes)):
        raise rbdx.InvalidArgument("dest_name must be a string")
    if data_pool is not None and not isinstance(data_pool, (str, bytes)):
        raise rbdx.InvalidArgument("data_pool must be a string")
    name = to_str(dest_name)
    with translate("error copying image {!r} to {!r}", ictx.name_bytes, to_bytes(dest_name)):
        await ictx.maybe_refresh()
        points = await _points(ictx)
        parent = await _copy_parent(ictx)
        feats = ictx.features & ~RBD_FEATURES_IMPLICIT_ENABLE if features is None \
            else as_uint64(features)
        obj_order = ictx.order if order is None else as_uint64(order)
        unit = ictx.stripe_unit if stripe_unit is None else as_uint64(stripe_unit)
        count = ictx.stripe_count if stripe_count is None else as_uint64(stripe_count)
        pool = to_str(data_pool) if data_pool is not None else None
        head = _LinkState(None, 0, ictx.size)
        if parent is None:
            await create_image(dest_ioctx, name, ictx.size, obj_order, feats, unit, count,
                               pool)
        else:
            if (obj_order, unit, count) != (ictx.order, ictx.stripe_unit,
                                            ictx.stripe_count):
                raise NotImplementedError(
                    f"deep copy of clone {ictx.name!r} with another object layout: rbdpy "
                    "copies a clone only with its own order and striping")
        snap_sets: dict[int, ObjListSnapResponse | None] = {}
        holes = await _object_map_holes(ictx)
        if ictx.has_parent():
            await _refuse_hiding_parent_data(ictx, points, snap_sets, holes)
        if parent is not None:
            head = await _create_clone(ictx, parent, dest_ioctx, name, feats, obj_order,
                                       unit, count, pool)
        dest = await ImageCtx.open(dest_ioctx, name)
        try:
            async with dest.exclusive_op():
                await _copy_snapshots(dest, points, ictx, head)
                await _copy_objects(ictx, dest, points, snap_sets, holes)
                await _copy_metadata(ictx, dest)
            await dest.refresh()
            await dest.notify_header(NotifyOp.HEADER_UPDATE)
        finally:
            await dest.close()


@dataclass
class _LinkState:
    """The destination's HEAD as librbd's in-memory view tracks it while snapshots are
    added: its parent spec (None: none), the overlap, and the size."""

    spec: ParentImageSpec | None
    overlap: int
    size: int


async def _copy_parent(ictx: ImageCtx) -> ParentImageSpec | None:
    """The parent snapshot the copy is cloned from: the oldest snapshot's (whatever its
    namespace), or HEAD's without snapshots; None: the copy is a plain image."""
    if not ictx.parent_spec.exists():
        return None
    infos = await ictx.snap_infos()
    overlap = (await ictx.parent_overlap_at(min(infos)) if infos
               else ictx.head_parent_overlap)
    return ictx.parent_spec if overlap is not None else None


async def _create_clone(src: ImageCtx, spec: ParentImageSpec, dest_ioctx: AsyncIoctx,
                        name: str, features: int, order: int, stripe_unit: int,
                        stripe_count: int, data_pool: str | None) -> _LinkState:
    """CloneRequest as deep copy drives it: the destination, a clone of ``spec``."""
    fmt = await clone_format(dest_ioctx)
    if fmt == 1 and spec.pool_namespace != dest_ioctx.get_namespace():
        raise CephError(errno.EXDEV, "clone v2 required for cross-namespace clones")
    pio = await open_ioctx_at(src.ioctx, spec.pool_id, spec.pool_namespace)
    try:
        parent = ImageCtx(pio, image_id=spec.image_id, read_only=True, snap_id=spec.snap_id)
        await parent.open_image()
        try:
            if not parent.features & RBD_FEATURE_LAYERING:
                raise CephError(errno.ENOSYS, "parent image must support layering")
            (status,) = await exec_ops(pio, parent.header_oid,
                                       [cls_rbd.get_protection_status(spec.snap_id)])
            if fmt == 1 and status != RBD_PROTECTION_STATUS_PROTECTED:
                raise CephError(errno.EINVAL, "parent snapshot must be protected")
            if not features & RBD_FEATURE_LAYERING:
                raise CephError(errno.ENOSYS, "cloning image must support layering")
            await create_image(dest_ioctx, name, parent.size, order, features, stripe_unit,
                               stripe_count, data_pool)
            # a failure from here on removes the new image again, as CloneRequest does
            child = ImageCtx(dest_ioctx, name)
            try:
                await child.open_image()
            except BaseException:
                await remove_new_clone(dest_ioctx, name, None)
                raise
            try:
                await attach_parent(child, spec, parent.size)
                await attach_child(child, parent, spec.snap_id, fmt)
                await _copy_metadata(parent, child)
            except BaseException:
                await remove_new_clone(dest_ioctx, name, child)
                raise
            await child.close()
            log.debug("deep copy to %r: a v%d clone of %s", name, fmt, spec)
            return _LinkState(spec, parent.size, parent.size)
        finally:
            await parent.close()
    finally:
        pio.close()


async def _points(ictx: ImageCtx) -> list[_Point]:
    """The versions to reproduce, oldest first: the user snapshots up to the read point,
    then HEAD unless the source is read at a snapshot (which is then the last one)."""
    infos = await ictx.snap_infos()
    points = []
    for snap_id in sorted(infos):
        info = infos[snap_id]
        if snap_id > ictx.snap_id or not isinstance(info.snapshot_namespace,
                                                     UserSnapshotNamespace):
            continue
        points.append(_Point(snap_id, info.image_size, info.name,
                             parent_overlap=await ictx.parent_overlap_at(snap_id)))
    if points and not ictx.old_format:  # a format 1 snapshot is never protected
        statuses = await exec_ops(ictx.ioctx, ictx.header_oid, [
            cls_rbd.get_protection_status(p.src_snap_id) for p in points])
        for point, status in zip(points, statuses, strict=True):
            point.protected = status == RBD_PROTECTION_STATUS_PROTECTED
    if ictx.snap_id == CEPH_NOSNAP:
        points.append(_Point(CEPH_NOSNAP, ictx.size, parent_overlap=ictx.head_parent_overlap))
    return points


def _header_lock_assert(ictx: ImageCtx) -> list[ClsCall[Any]]:
    """Header changes only while we still own the destination's exclusive lock."""
    if not ictx.exclusive_lock.is_owner:
        return []
    return [cls_lock.assert_locked(RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE,
                                   ictx.exclusive_lock.cookie, WATCHER_LOCK_TAG)]


async def _copy_snapshots(dest: ImageCtx, points: list[_Point], src: ImageCtx,
                          head: _LinkState) -> None:
    """SnapshotCopyRequest on a new destination: each snapshot is added once the header
    has its size and parent link (SetHeadRequest); protection follows; then HEAD gets
    the source's size and parent overlap (only when the source is read at HEAD). The
    snapshots' object maps are written once the data is copied."""
    spec = head.spec
    snaps = [p for p in points if p.src_snap_id != CEPH_NOSNAP]
    for point in snaps:
        try:
            point.dst_snap_id = await dest.data_ioctx.create_self_managed_snap()
        except radosx.Error as e:  # the ioctx speaks python-rados; we want the errno back
            raise CephError(e.errno or errno.EIO, str(e)) from e
        wanted = spec if point.parent_overlap is not None else None
        await _set_head(dest, head, point.size, wanted, point.parent_overlap or 0)
        point.dst_overlap = head.overlap
        await exec_ops(dest.ioctx, dest.header_oid, [
            *_header_lock_assert(dest), cls_rbd.snapshot_add(point.dst_snap_id, point.name)])
        if dest.features & RBD_FEATURE_OBJECT_MAP:
            # SnapshotCreateRequest: the snapshot's map, empty until the data is copied
            await exec_ops(dest.ioctx, object_map_name(dest.image_id, point.dst_snap_id), [
                cls_rbd.object_map_save(BitVector(get_num_objects(dest.layout, point.size)))])
        log.debug("deep copy to %s: snapshot %r is id %d", dest.name, point.name,
                  point.dst_snap_id)
    protect = [p for p in snaps if p.protected]
    if protect and not dest.features & RBD_FEATURE_LAYERING:
        raise CephError(errno.ENOSYS, "image must support layering")
    if protect:
        await exec_ops(dest.ioctx, dest.header_oid, [
            *_header_lock_assert(dest),
            *(cls_rbd.set_protection_status(p.dst_snap_id, RBD_PROTECTION_STATUS_PROTECTED)
              for p in protect)])
    if points[-1].src_snap_id == CEPH_NOSNAP:
        # the wanted link: the destination's current spec, the source's HEAD overlap
        await _set_head(dest, head, src.size, head.spec, src.head_parent_overlap or 0)
        points[-1].dst_overlap = head.overlap
    await dest.refresh()


async def _set_head(dest: ImageCtx, head: _LinkState, size: int,
                    spec: ParentImageSpec | None, overlap: int) -> None:
    """SetHeadRequest: the header's size, then its parent link, changed only where they
    differ from ``head`` (which is updated). A link is replaced by detaching it and
    attaching the new one; cls refuses an attach with overlap 0 (EINVAL)."""
    if size != head.size:
        # Two ops: within one compound op, snapshot_add would still read the old size.
        await exec_ops(dest.ioctx, dest.header_oid, [*_header_lock_assert(dest),
                                                     cls_rbd.set_size(size)])
        if size < head.size and head.spec is not None:
            head.overlap = min(head.overlap, size)  # cls shrank the overlap with the size
        head.size = size
    if head.spec is not None and (head.spec != spec or head.overlap != overlap):
        await detach_parent(dest)
        head.spec, head.overlap = None, 0
    if (head.spec, head.overlap) != (spec, overlap):
        assert spec is not None
        await attach_parent(dest, spec, overlap)
        head.spec, head.overlap = spec, overlap


# -- data ----------------------------------------------------------------------------------

def _plan_objects(src: FileLayout, dst: FileLayout, size: int) -> list[_ObjectPlan]:
    """Every destination object of an image of ``size`` bytes and the source objects that
    hold its image ranges (the same object when the layouts agree)."""
    plans = []
    for objectno in range(get_num_objects(dst, size)):
        plan = _ObjectPlan(objectno)
        if src == dst:
            plan.sources = [objectno]
        else:
            found: set[int] = set()
            for off, length in extent_to_file(dst, objectno, 0, dst.object_size):
                length = min(length, size - off)
                if length > 0:
                    found.update(ex.objectno for ex in file_to_extents(src, off, length))
            plan.sources = sorted(found)
        plans.append(plan)
    return plans


@dataclass
class _Chunk:
    """A changed range of one destination object and where it comes from."""

    dst_offset: int
    length: int
    has_data: bool
    src_objectno: int
    src_offset: int


def _dst_chunks(src: FileLayout, dst: FileLayout, objectno: int, src_objectno: int,
                pieces: Sequence[tuple[int, int, bool]]) -> list[_Chunk]:
    """Pieces of a source object (object offset, length, holds data) as ranges of the
    destination object ``objectno``. Between two layouts a piece is cut at the smaller
    stripe unit: such a chunk is contiguous in the image and in both objects."""
    if src == dst:
        return [_Chunk(off, length, data, src_objectno, off) for off, length, data in pieces]
    grain = min(src.stripe_unit, dst.stripe_unit)
    chunks = []
    for off, length, data in pieces:
        for img_off, img_len in extent_to_file(src, src_objectno, off, length):
            at, stop = img_off, img_off + img_len
            while at < stop:
                step = min(at - at % grain + grain, stop) - at
                (dex,) = file_to_extents(dst, at, step)
                if dex.objectno == objectno:
                    (sex,) = file_to_extents(src, at, step)
                    chunks.append(_Chunk(dex.offset, step, data, src_objectno, sex.offset))
                at += step
    return chunks


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, overlapping or touching (offset, length) ranges joined."""
    out: list[tuple[int, int]] = []
    for off, length in sorted(ranges):
        if out and off <= out[-1][0] + out[-1][1]:
            end = max(out[-1][0] + out[-1][1], off + length)
            out[-1] = (out[-1][0], end - out[-1][0])
        else:
            out.append((off, length))
    return out


async def _object_map_holes(src: ImageCtx) -> frozenset[int]:
    """The source objects ImageCopyRequest skips: nonexistent in every object map from
    the oldest snapshot (of any namespace) through the read point, HEAD's included when
    read at HEAD (object_map::DiffRequest from snapshot 0: DIFF_STATE_HOLE). Empty when
    that diff cannot be had -- no fast-diff, an invalid flag, a short map, the read
    point's map missing -- and librbd then copies every object."""
    if not src.features & RBD_FEATURE_FAST_DIFF:
        return frozenset()
    infos = await src.snap_infos()
    walked = [s for s in sorted(infos) if s <= src.snap_id]
    if src.snap_id == CEPH_NOSNAP:
        walked.append(CEPH_NOSNAP)
    flags = await exec_ops(src.ioctx, src.header_oid,
                           [cls_rbd.get_flags(snap_id) for snap_id in walked])
    if any(f & RBD_FLAG_FAST_DIFF_INVALID for f in flags):
        return frozenset()
    seen: set[int] = set()  # objects some map calls anything but nonexistent
    largest = 0  # the diff state grows to the largest map walked
    for snap_id in walked:
        size = src.head_size if snap_id == CEPH_NOSNAP else infos[snap_id].image_size
        count = get_num_objects(src.layout, size)
        try:
            (bits,) = await exec_ops(src.ioctx, object_map_name(src.image_id, snap_id),
                                     [cls_rbd.object_map_load()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            if snap_id == walked[-1]:
                return frozenset()
            continue  # an intermediate snapshot being removed: librbd passes over it
        if len(bits) < count:
            return frozenset()  # librbd: "object map too small"
        seen.update(n for n in range(count) if bits[n] != OBJECT_NONEXISTENT)
        largest = max(largest, count)
    return frozenset(range(largest)) - seen


async def _copy_objects(src: ImageCtx, dest: ImageCtx, points: list[_Point],
                        snap_sets: dict[int, ObjListSnapResponse | None],
                        holes: frozenset[int]) -> None:
    """Every destination object through every point; then the object maps.
    ``snap_sets``: the source objects' snap sets listed so far (completed here);
    ``holes``: source objects the object-map diff lets us skip."""
    max_size = max(p.size for p in points)
    plans = _plan_objects(src.layout, dest.layout, max_size)
    # states[i][objectno]: the object map state of the object at points[i]
    states = [bytearray(len(plans)) for _ in points]
    # ObjectCopyRequest's hide_parent: the source reads from a parent at its read point
    # (the layouts are then the same: one source object per destination object)
    hide_parent = src.has_parent()

    def job(plan: _ObjectPlan) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if all(n in holes for n in plan.sources):
                return  # ImageCopyRequest: "skipping non-existent object"
            for n in plan.sources:
                if n not in snap_sets:
                    snap_sets[n] = await list_object_snaps(src, n)
            if hide_parent:
                await _copy_clone_object(src, dest, points, plan.objectno,
                                         snap_sets[plan.objectno], states)
            else:
                await _copy_object(src, dest, points, plan, snap_sets, states)
        return run

    await fan_out([job(p) for p in plans], limit=_CONCURRENT_OBJECTS)
    if dest.object_map is not None:
        await _write_object_maps(dest, points, states)


async def _copy_object(src: ImageCtx, dest: ImageCtx, points: list[_Point],
                       plan: _ObjectPlan, snap_sets: dict[int, ObjListSnapResponse | None],
                       states: list[bytearray]) -> None:
    """ObjectCopyRequest: one destination object, point by point."""
    oid = data_object_name(dest.object_prefix, plan.objectno, dest.old_format)
    fast_diff = bool(dest.features & RBD_FEATURE_FAST_DIFF)
    exists, size = False, 0
    prev_src, prev_dst_snaps = 0, SnapContext()
    for index, point in enumerate(points):
        now_exists = any(exists_at(snap_sets[n], point.src_snap_id) for n in plan.sources)
        osd_ops: list[OSDOp] = []
        if not now_exists:
            if exists:
                osd_ops.append(ops.delete())
            size = 0
        else:
            chunks: list[_Chunk] = []
            for n in plan.sources:
                pieces = object_delta(snap_sets[n], prev_src, point.src_snap_id,
                                      (0, src.layout.object_size), False,
                                      src.layout.object_size)
                chunks.extend(_dst_chunks(src.layout, dest.layout, plan.objectno, n, pieces))
            writes, holes = await _read_chunks(src, point.src_snap_id, chunks)
            zeroes = _merge([(c.dst_offset, c.length) for c in chunks if not c.has_data]
                            + holes)
            # ObjectCopyRequest's zero rules: a zeroed range that reaches the end of the
            # object (as this step's writes leave it) is a truncate -- a remove from
            # offset 0 -- when it cuts into what the object held before; inside, a zero.
            end = max([size] + [off + len(data) for off, data in writes])
            placed: list[tuple[int, OSDOp]] = [(off, ops.write(off, data))
                                              for off, data in writes]
            now_exists = exists or bool(writes)
            for off, length in zeroes:
                if off + length >= end:
                    if off < size:
                        placed.append((off, ops.delete() if off == 0 else ops.truncate(off)))
                    now_exists = now_exists and off > 0
                    end = min(end, off)
                else:
                    placed.append((off, ops.zero(off, length)))
                    now_exists = True
            osd_ops = [op for _, op in sorted(placed, key=lambda item: item[0])]
            size = end
        if osd_ops:
            try:
                await dest.data_ioctx.operate(oid, osd_ops, snapc=prev_dst_snaps)
            except CephError as e:
                # removing an object that is not there: nothing to undo
                if e.errno != errno.ENOENT:
                    raise
        exists = now_exists
        if not exists:
            state = OBJECT_NONEXISTENT
        elif osd_ops or not fast_diff:
            state = OBJECT_EXISTS
        else:
            state = OBJECT_EXISTS_CLEAN
        states[index][plan.objectno] = state
        # the next point's writes come after this snapshot: its id joins the snap context
        prev_src = point.src_snap_id
        if point.dst_snap_id != CEPH_NOSNAP:
            prev_dst_snaps = SnapContext(point.dst_snap_id,
                                         (point.dst_snap_id, *prev_dst_snaps.snaps))


async def _refuse_hiding_parent_data(src: ImageCtx, points: list[_Point],
                                     snap_sets: dict[int, ObjListSnapResponse | None],
                                     holes: frozenset[int]) -> None:
    """NotImplementedError where librbd's copy would read differently from the source.

    Under hide_parent, librbd's copy keeps an object (an empty one, at worst) at a
    version where the source object is absent -- where the source reads its parent. That
    is only the same when the parent's data there is all zeros (librbd's own clones get
    there by a copy-up of zeros; a copy-up of data puts the object into the snapshots
    too). Checked before anything is created: every object the source has at some
    version, absent at a version still inside the (sticky) parent overlap, must read
    zeros from the parent there. Objects in ``holes`` are not copied, so they cannot
    hide anything. Fills ``snap_sets`` (every source object's snap set).
    """
    layout = src.layout
    parent = await src.get_parent()
    count = get_num_objects(layout, max(p.size for p in points))

    def job(objectno: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if objectno in holes:
                return
            snap_set = snap_sets[objectno] = await list_object_snaps(src, objectno)
            if snap_set is None or parent is None:
                return
            for point in points:
                overlap = point.parent_overlap or 0
                if _object_overlap(layout, objectno, overlap) == 0:
                    return  # hide_parent is off from here on
                if exists_at(snap_set, point.src_snap_id):
                    continue
                for off, length in extent_to_file(layout, objectno, 0, layout.object_size):
                    length = min(off + length, overlap) - off
                    if length > 0 and any(await read(parent, off, length)):
                        raise NotImplementedError(
                            f"deep copy of clone {src.name!r}: object {objectno} is absent "
                            f"at snapshot {point.src_snap_id:#x} over parent data; "
                            "librbd's copy would hide that data, rbdpy does not copy it")
        return run

    await fan_out([job(n) for n in range(count)], limit=_CONCURRENT_OBJECTS)


def _object_overlap(layout: FileLayout, objectno: int, overlap: int) -> int:
    """Bytes of object ``objectno`` whose image offsets lie below ``overlap``."""
    return sum(max(0, min(off + length, overlap) - off)
               for off, length in extent_to_file(layout, objectno, 0, layout.object_size))


def _subtract(ranges: Ranges, cut: Ranges) -> Ranges:
    """[start, end) ranges less the ranges ``cut``."""
    out = ranges
    for c_start, c_end in cut:
        kept: Ranges = []
        for start, end in out:
            if end <= c_start or start >= c_end:
                kept.append((start, end))
                continue
            if start < c_start:
                kept.append((start, c_start))
            if end > c_end:
                kept.append((c_end, end))
        out = kept
    return out


async def _copy_clone_object(src: ImageCtx, dest: ImageCtx, points: list[_Point],
                             objectno: int, snap_set: ObjListSnapResponse | None,
                             states: list[bytearray]) -> None:
    """ObjectCopyRequest for a source with a parent (hide_parent), same layout: one
    object through every point. See the module docstring for the rules it follows."""
    if snap_set is None:
        return  # never existed: every version reads through the parent, as the source's
    layout = dest.layout
    size = layout.object_size
    oid = data_object_name(dest.object_prefix, objectno, dest.old_format)
    fast_diff = bool(dest.features & RBD_FEATURE_FAST_DIFF)
    # ObjectListSnapsRequest from snapshot 0: each point's changes since the one before
    deltas, prev_src = [], 0
    for point in points:
        deltas.append(object_delta(snap_set, prev_src, point.src_snap_id, (0, size), False,
                                   size))
        prev_src = point.src_snap_id
    # no data at the first point: all of the object counts as zeroed there (under hide)
    initially_zeroed = not (exists_at(snap_set, points[0].src_snap_id) and deltas[0])
    hide = True  # once beyond the destination's overlap, it stays off
    exists, prev_end = False, 0
    prev_dst_snaps = SnapContext()
    for index, point in enumerate(points):
        may_exist = objectno < get_num_objects(layout, point.size)
        # (object offset, length, bytes; None: zeroed), in offset order
        entries: list[tuple[int, int, bytes | None]] = []
        if not may_exist and exists:
            entries.append((0, size, None))
            exists, prev_end = False, 0
        else:
            if hide and _object_overlap(layout, objectno, point.dst_overlap) == 0:
                hide = False
            chunks = [_Chunk(off, length, True, objectno, off)
                      for off, length, data in deltas[index] if data and may_exist]
            writes, holes = await _read_chunks(src, point.src_snap_id, chunks)
            zeroed = [(off, off + length) for off, length in holes]
            zeroed += [(off, off + length) for off, length, data in deltas[index] if not data]
            if hide and index == 0 and initially_zeroed:
                zeroed.append((0, size))
            written = union_ranges([], [(off, off + len(data)) for off, data in writes])
            zeroed = _subtract(union_ranges([], zeroed), written)
            end = prev_end
            if writes:
                exists = True
                end = max([end] + [off + len(data) for off, data in writes])
            entries.extend((off, len(data), data) for off, data in writes)
            for start, stop in zeroed:
                if stop >= end:
                    # zeroed to the end of what the object holds: cut it there
                    if (start == 0 and hide) or start < prev_end:
                        entries.append((start, size - start, None))
                    exists = start > 0 or hide
                    end = min(end, start)
                else:
                    entries.append((start, stop - start, None))
                    exists = True
            if exists:
                states[index][objectno] = OBJECT_EXISTS_CLEAN \
                    if fast_diff and not entries else OBJECT_EXISTS
            prev_end = end
        osd_ops: list[OSDOp] = []
        for off, length, data in sorted(entries, key=lambda e: e[0]):
            if data is not None:
                osd_ops.append(ops.write(off, data))
            elif off + length < size:
                osd_ops.append(ops.zero(off, length))
            elif off:
                osd_ops.append(ops.truncate(off))
            else:
                # an empty object, not a removal: the parent's data stays hidden
                osd_ops += [ops.create(False), ops.truncate(0)]
        if osd_ops:
            try:
                await dest.data_ioctx.operate(oid, osd_ops, snapc=prev_dst_snaps)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        if point.dst_snap_id != CEPH_NOSNAP:
            prev_dst_snaps = SnapContext(point.dst_snap_id,
                                         (point.dst_snap_id, *prev_dst_snaps.snaps))


async def _read_chunks(src: ImageCtx, snap_id: int, chunks: list[_Chunk]
                       ) -> tuple[list[tuple[int, bytes]], list[tuple[int, int]]]:
    """Read the data chunks at ``snap_id`` (SPARSE_READ, one op per source object): what to
    write (destination offset, bytes) and the holes inside the chunks (offset, length)."""
    by_object: dict[int, list[_Chunk]] = {}
    for chunk in chunks:
        if chunk.has_data:
            by_object.setdefault(chunk.src_objectno, []).append(chunk)
    writes: list[tuple[int, bytes]] = []
    holes: list[tuple[int, int]] = []
    for objectno, wanted in sorted(by_object.items()):
        reply = await src.data_ioctx.operate(
            data_object_name(src.object_prefix, objectno, src.old_format),
            [ops.sparse_read(c.src_offset, c.length) for c in wanted], snapid=snap_id)
        for chunk, rval, out in zip(wanted, reply.rvals, reply.outdata, strict=True):
            result = ops.sparse_read(chunk.src_offset, chunk.length).decode_reply(rval, out)
            shift = chunk.dst_offset - chunk.src_offset
            covered = chunk.src_offset
            pos = 0
            for off, length in result.extents:
                if off > covered:
                    holes.append((covered + shift, off - covered))
                writes.append((off + shift, bytes(result.data[pos:pos + length])))
                pos += length
                covered = off + length
            end = chunk.src_offset + chunk.length
            if covered < end:
                holes.append((covered + shift, end - covered))
    return writes, holes


async def _write_object_maps(dest: ImageCtx, points: list[_Point],
                             states: list[bytearray]) -> None:
    """Each destination snapshot's object map, and HEAD's (which equals the last
    snapshot's when the source was read at a snapshot)."""
    layout = dest.layout
    for point, row in zip(points, states, strict=True):
        bits = _bits(row, get_num_objects(layout, point.size))
        if point.dst_snap_id == CEPH_NOSNAP:
            continue
        await exec_ops(dest.ioctx, object_map_name(dest.image_id, point.dst_snap_id),
                       [cls_rbd.object_map_save(bits)])
    om = dest.object_map
    assert om is not None
    head = _bits(states[-1], get_num_objects(layout, dest.head_size))
    await exec_ops(dest.ioctx, om.oid, [
        cls_lock.assert_locked(RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, "", ""),
        cls_rbd.object_map_save(head)])
    om.bits = head


def _bits(row: bytearray, count: int) -> BitVector:
    bits = BitVector(count)
    for objectno in range(min(count, len(row))):
        if row[objectno]:
            bits[objectno] = row[objectno]
    return bits


async def _copy_metadata(src: ImageCtx, dest: ImageCtx) -> None:
    """MetadataCopyRequest: every image-meta pair."""
    pairs = await metadata_list(src)
    if pairs:
        await exec_ops(dest.ioctx, dest.header_oid,
                       [cls_rbd.metadata_set({k: to_bytes(v) for k, v in pairs})])


__all__ = ["deep_copy"]
