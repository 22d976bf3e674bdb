"""Clones: making one, listing an image's children, and what a clone says of its parent.

Theory of operation: a clone is a format-2 image whose header names a parent snapshot
(pool, namespace, image id, snap id) and an overlap, the byte range still read from that
parent. :func:`clone` follows librbd's CloneRequest: settle the clone format (``1``,
``2`` or ``auto`` from ``rbd_default_clone_format``, the child pool's config override
taking precedence; ``auto`` means v2 once the cluster requires mimic clients), open the
parent at its snapshot (metadata only), check it (layering, v1 needs a protected
snapshot), create the child image with the parent snapshot's size and, by default, the
parent's features, order and striping (rbdpy.librbd.create), then attach the parent in
the child's header and the child to the parent (rbdpy.librbd.parent_link) and copy the
parent's image metadata. A failure after the child exists removes it again.

Children of a parent snapshot are found as librbd's api::Image::list_descendants finds
them (parent_link.child_specs: v2 from the parent header, v1 from every pool's
``rbd_children``); names come from the child pool's directory, or from its trash (then
``trash`` is True). Listing at HEAD covers every snapshot of the image, trashed ones
included; descendants go down through each child's snapshots. The result is sorted by
pool, namespace and image name, as librbd returns it.

The parent queries read the context's ``parent_spec`` and the overlap at the read point
(HEAD or the snapshot set): no overlap there means no parent (ENOENT), except for
``overlap`` itself, which is 0 for an image without a parent, as librbd answers.

Mirrors: ceph src/librbd/image/CloneRequest.cc, src/librbd/api/Image.cc (clone,
list_children, list_descendants, get_parent), src/librbd/internal.cc (get_overlap),
src/librbd/deep_copy/MetadataCopyRequest.cc, src/pybind/rbd/rbd.pyx (clone,
list_children, ChildIterator, parent_info, parent_id, get_parent_image_spec, overlap).
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    RBD_DIRECTORY,
    RBD_FEATURE_LAYERING,
    RBD_FEATURES_ALL,
    RBD_FEATURES_IMPLICIT_ENABLE,
    RBD_PROTECTION_STATUS_PROTECTED,
    RBD_TRASH,
    header_name,
)
from rbdpy.format.types import ParentImageSpec
from rbdpy.librbd.create import create_image
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.parent_link import (
    attach_child,
    attach_parent,
    child_specs,
    clone_format,
    open_ioctx_at,
    remove_new_clone,
)
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# metadata_list page size (MetadataCopyRequest)
_METADATA_PAGE = 64


# -- clone -----------------------------------------------------------------------------------

async def clone(p_ioctx: AsyncIoctx, p_name: str, p_snapname: str, c_ioctx: AsyncIoctx,
                c_name: str, features: int | None, order: int | None,
                stripe_unit: int | None, stripe_count: int | None,
                data_pool: str | None) -> None:
    """CloneRequest with arguments already coerced; errors as CephError."""
    if features is not None and features & ~RBD_FEATURES_ALL:
        raise CephError(errno.ENOSYS, "librbd does not support requested features")
    fmt = await clone_format(c_ioctx)
    if fmt == 1 and p_ioctx.get_namespace() != c_ioctx.get_namespace():
        raise CephError(errno.EXDEV, "clone v2 required for cross-namespace clones")
    parent = ImageCtx(p_ioctx, p_name, snapshot=p_snapname, read_only=True)
    await parent.open_image()
    try:
        if parent.old_format:
            # librbd looks the parent's id up in the format 2 directory: a format 1
            # image is not there
            raise CephError(errno.ENOENT, f"parent image {p_name!r} has no id")
        await _clone_from(parent, fmt, c_ioctx, c_name, features, order, stripe_unit,
                          stripe_count, data_pool)
    finally:
        await parent.close()


async def _clone_from(parent: ImageCtx, fmt: int, c_ioctx: AsyncIoctx, c_name: str,
                      features: int | None, order: int | None, stripe_unit: int | None,
                      stripe_count: int | None, data_pool: str | None) -> None:
    snap_id = parent.snap_id
    if not parent.features & RBD_FEATURE_LAYERING:
        raise CephError(errno.ENOSYS, "parent image must support layering")
    if features is None:
        features = parent.features & ~RBD_FEATURES_IMPLICIT_ENABLE
    (status,) = await exec_ops(parent.ioctx, parent.header_oid,
                               [cls_rbd.get_protection_status(snap_id)])
    if fmt == 1 and status != RBD_PROTECTION_STATUS_PROTECTED:
        raise CephError(errno.EINVAL, "parent snapshot must be protected")
    if not features & RBD_FEATURE_LAYERING:
        raise CephError(errno.ENOSYS, "cloning image must support layering")
    try:
        await c_ioctx.operate(c_name + ".rbd", [ops.stat()])
        raise CephError(errno.EEXIST, f"rbd image {c_name} already exists")
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    # create_child: the parent's order and striping unless given
    await create_image(c_ioctx, c_name, parent.size,
                       parent.order if order is None else order, features,
                       parent.stripe_unit if stripe_unit is None else stripe_unit,
                       parent.stripe_count if stripe_count is None else stripe_count,
                       data_pool)
    child = ImageCtx(c_ioctx, c_name)
    try:
        await child.open_image()
    except BaseException:
        await remove_new_clone(c_ioctx, c_name, None)
        raise
    try:
        spec = ParentImageSpec(parent.ioctx.pool_id, parent.ioctx.get_namespace(),
                               parent.image_id, snap_id)
        await attach_parent(child, spec, parent.size)
        await attach_child(child, parent, snap_id, fmt)
        await _copy_metadata(parent, child)
    except BaseException:
        await remove_new_clone(c_ioctx, c_name, child)
        raise
    await child.close()
    log.debug("cloned %s@%d into %r (v%d, id %s)", parent.image_id, snap_id, c_name, fmt,
              child.image_id)


async def _copy_metadata(parent: ImageCtx, child: ImageCtx) -> None:
    """MetadataCopyRequest: the parent's image metadata, page by page, onto the child."""
    start = ""
    while True:
        (page,) = await exec_ops(parent.ioctx, parent.header_oid,
                                 [cls_rbd.metadata_list(start, _METADATA_PAGE)])
        if page:
            await exec_ops(child.ioctx, child.header_oid, [cls_rbd.metadata_set(page)])
        if len(page) < _METADATA_PAGE:
            return
        start = max(page)


# -- children -------------------------------------------------------------------------------

async def _child_name(cio: AsyncIoctx, image_id: str) -> tuple[str, bool] | None:
    """(name, in trash) of a child image, None if it is gone."""
    try:
        (name,) = await exec_ops(cio, RBD_DIRECTORY, [cls_rbd.dir_get_name(image_id)])
        return str(name), False
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    try:
        (entry,) = await exec_ops(cio, RBD_TRASH, [cls_rbd.trash_get(image_id)])
        return entry.name, True
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    return None


async def _descend(ioctx: AsyncIoctx, spec: ParentImageSpec, max_level: int | None,
                   out: list[dict[str, Any]]) -> None:
    for child in sorted(await child_specs(ioctx, spec)):
        try:
            cio = await open_ioctx_at(ioctx, child.pool_id, child.pool_namespace)
        except CephError:
            continue  # the child's pool went away
        try:
            found = await _child_name(cio, child.image_id)
            if found is None:
                continue
            name, trash = found
            out.append({"pool": cio.get_pool_name(), "pool_namespace": child.pool_namespace,
                        "image": name, "id": child.image_id, "trash": trash})
            if max_level is not None and max_level <= 0:
                continue
            try:
                (snapc,) = await exec_ops(cio, header_name(child.image_id),
                                          [cls_rbd.get_snapcontext()])
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
                continue
            deeper = None if max_level is None else max_level - 1
            for snap_id in sorted(snapc.snaps):
                await _descend(ioctx, ParentImageSpec(child.pool_id, child.pool_namespace,
                                                      child.image_id, snap_id), deeper, out)
        finally:
            cio.close()


async def list_descendants(ictx: ImageCtx, max_level: int | None) -> list[dict[str, Any]]:
    """Children of the snapshot set (of every snapshot at HEAD), down ``max_level`` more
    levels (None: all), as python-rbd's ChildIterator dicts, sorted."""
    await ictx.maybe_refresh()
    snap_ids = [ictx.snap_id] if ictx.snap_id != CEPH_NOSNAP else sorted(ictx.snapc.snaps)
    out: list[dict[str, Any]] = []
    for snap_id in snap_ids:
        await _descend(ictx.ioctx, ParentImageSpec(ictx.ioctx.pool_id,
                                                   ictx.ioctx.get_namespace(),
                                                   ictx.image_id, snap_id), max_level, out)
    out.sort(key=lambda c: (c["pool"], c["pool_namespace"], c["image"]))
    return out


async def list_children(ictx: ImageCtx) -> list[tuple[str, str]]:
    """(pool name, image name) of each direct child not in the trash."""
    return [(c["pool"], c["image"]) for c in await list_descendants(ictx, 0)
            if not c["trash"]]


# -- the parent -----------------------------------------------------------------------------

async def parent_image_spec(ictx: ImageCtx) -> dict[str, str]:
    """The parent at the read point: pool_name, pool_namespace, image_name, image_id,
    snap_name (api::Image::get_parent). ENOENT when there is none."""
    await ictx.maybe_refresh()
    spec = ictx.parent_spec
    if ictx.parent_overlap is None or not spec.exists():
        raise CephError(errno.ENOENT, f"image {ictx.name!r} has no parent")
    pool_name = await ictx.ioctx.rados.pool_reverse_lookup(spec.pool_id)
    if pool_name is None:
        raise CephError(errno.ENOENT, f"parent pool {spec.pool_id} does not exist")
    pio = await open_ioctx_at(ictx.ioctx, spec.pool_id, spec.pool_namespace)
    try:
        found = await _child_name(pio, spec.image_id)
        (snap,) = await exec_ops(pio, header_name(spec.image_id),
                                 [cls_rbd.snapshot_get(spec.snap_id)])
    finally:
        pio.close()
    return {"pool_name": pool_name, "pool_namespace": spec.pool_namespace,
            "image_name": found[0] if found is not None else "",
            "image_id": spec.image_id, "snap_name": snap.name}


async def overlap(ictx: ImageCtx) -> int:
    """Bytes of the image (at the read point) still mapped onto the parent; 0 without
    one (ImageCtx::get_parent_overlap)."""
    await ictx.maybe_refresh()
    if ictx.snap_id != CEPH_NOSNAP and not ictx.snap_exists:
        raise CephError(errno.ENOENT, "the snapshot set was removed")
    return ictx.parent_overlap or 0


__all__ = ["clone", "clone_format", "list_children", "list_descendants", "overlap",
           "parent_image_spec"]
