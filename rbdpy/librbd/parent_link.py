"""The links between a clone and its parent snapshot: attach, detach, and who links where.

Theory of operation: a clone knows its parent through its own header (cls
``parent_attach``: the parent's pool, namespace, image id and snapshot id, plus the
overlap). The parent knows its children in one of two ways, chosen at clone time:

- clone v1: a key ``(parent pool, parent image id, parent snap id) -> {child ids}`` in the
  ``rbd_children`` object of the *child's* pool and namespace (cls ``add_child`` /
  ``remove_child``); the parent snapshot must stay protected while children exist;
- clone v2: the parent header's per-snapshot child set and child count (cls
  ``child_attach`` / ``child_detach``, which also set and clear the parent's
  ``clone-parent`` op feature); the child carries the ``clone-child`` op feature, which
  tells a later detach which of the two to undo, and cls ``parent_detach`` clears it
  once no snapshot of the child references the parent any more.

Detaching a v2 child from a parent snapshot that was already removed by the user (it
sits in the trash snapshot namespace, kept only for its children) removes that snapshot
when its child count reaches zero, as librbd's DetachChildRequest does.

Users: clone (rbdpy.librbd.layering) and deep copy of a clone (deep_copy: the clone format
and the attach steps), image removal (directory), flatten (the lead's
flatten subsystem calls :func:`detach_child` then :func:`detach_parent`), snapshot
unprotect and removal (snapshots: :func:`child_specs`).

Not done here (librbd does it): removing a parent image that waits in the RBD trash with
source USER_PARENT once its last snapshot went (rbdpy has no trash support yet).

Mirrors: ceph src/librbd/image/AttachParentRequest.cc, AttachChildRequest.cc,
DetachChildRequest.cc, DetachParentRequest.cc, src/librbd/api/Image.cc
(list_descendants: how v1 and v2 children are found), src/cls/rbd/cls_rbd.cc
(child_attach, child_detach, parent_detach).
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    RBD_CHILDREN,
    RBD_DIRECTORY,
    RBD_INFO,
    RBD_OPERATION_FEATURE_CLONE_CHILD,
    RBD_PROTECTION_STATUS_PROTECTED,
    header_name,
    id_obj_name,
    object_map_name,
)
from rbdpy.format.types import ChildImageSpec, ParentImageSpec, TrashSnapshotNamespace
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.snap_remove import remove_snapshot_record
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

_CLONE_FORMAT_OPTION = "rbd_default_clone_format"
# ceph_release_t: clone v2 needs mimic (13) or newer clients
_CEPH_RELEASE_MIMIC = 13


async def open_ioctx_at(ioctx: AsyncIoctx, pool_id: int, namespace: str) -> AsyncIoctx:
    """An ioctx on ``pool_id``/``namespace`` from the same handle (util::create_ioctx).

    The caller closes it. ENOENT if the pool is gone.
    """
    try:
        io: AsyncIoctx = await ioctx.rados.open_ioctx2(pool_id)
    except Exception as e:
        raise CephError(errno.ENOENT, f"pool {pool_id} does not exist") from e
    io.set_namespace(namespace)
    return io


def _v1_key(spec: ParentImageSpec) -> ParentImageSpec:
    # The rbd_children key has no namespace field (v1 clones never cross namespaces).
    return ParentImageSpec(spec.pool_id, "", spec.image_id, spec.snap_id)


# -- the clone format ------------------------------------------------------------------------

async def _pool_override(ioctx: AsyncIoctx, option: str) -> str | None:
    """The pool's ``conf_<option>`` override (pool metadata, default namespace)."""
    io = ioctx
    if ioctx.get_namespace():
        io = await ioctx.dup()
        io.set_namespace("")
    try:
        (value,) = await exec_ops(io, RBD_INFO, [cls_rbd.metadata_get("conf_" + option)])
        return str(value)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return None
    finally:
        if io is not ioctx:
            io.close()


def _conf_value(ioctx: AsyncIoctx, option: str) -> str | None:
    try:
        return ioctx.rados.conf_get(option)
    except Exception as e:  # an option our conf layer does not know: the default applies
        log.debug("conf %s: %s", option, e)
        return None


async def clone_format(c_ioctx: AsyncIoctx) -> int:
    """1 or 2, as CloneRequest::validate_options decides for a clone into ``c_ioctx``
    (``rbd_default_clone_format``: the pool's override, else the client's option, else
    ``auto``). Used by clone (layering) and deep copy (deep_copy)."""
    value = await _pool_override(c_ioctx, _CLONE_FORMAT_OPTION) \
        or _conf_value(c_ioctx, _CLONE_FORMAT_OPTION) or "auto"
    if value == "1":
        return 1
    if value == "auto":
        # librados get_min_compatible_client: max(computed, required); the computed
        # minimum of a 16.2 map never exceeds luminous, so the requirement decides.
        osdmap = c_ioctx.rados.osdmap
        required = osdmap.require_min_compat_client if osdmap is not None else 0
        return 2 if required >= _CEPH_RELEASE_MIMIC else 1
    return 2


# -- attach (clone) ------------------------------------------------------------------------

async def attach_parent(child: ImageCtx, spec: ParentImageSpec, overlap: int) -> None:
    """Record ``spec`` and ``overlap`` in the child's header (AttachParentRequest).

    cls ``parent_attach``; an OSD without it (EOPNOTSUPP) gets the legacy ``set_parent``
    when the parent lives in the child's namespace, else EXDEV (namespaces need newer
    OSDs).
    """
    try:
        await exec_ops(child.ioctx, child.header_oid, [cls_rbd.parent_attach(spec, overlap)])
        return
    except CephError as e:
        if e.errno != errno.EOPNOTSUPP:
            raise
    legacy = spec
    if spec.pool_namespace == child.ioctx.get_namespace():
        legacy = ParentImageSpec(spec.pool_id, "", spec.image_id, spec.snap_id)
    if legacy.pool_namespace:
        raise CephError(errno.EXDEV, "a parent in another namespace needs newer OSDs")
    log.debug("image %s: parent_attach unsupported, using set_parent", child.name)
    await exec_ops(child.ioctx, child.header_oid, [cls_rbd.set_parent(legacy, overlap)])


async def attach_child(child: ImageCtx, parent: ImageCtx, parent_snap_id: int,
                       clone_format: int) -> None:
    """Make the parent know the child (AttachChildRequest, no previous parent).

    v1: ``add_child`` in the child's pool's ``rbd_children``, then the parent snapshot
    must (still) be protected, else EINVAL. v2: the ``clone-child`` op feature on the
    child, then ``child_attach`` on the parent's header.
    """
    spec = ParentImageSpec(parent.ioctx.pool_id, parent.ioctx.get_namespace(),
                           parent.image_id, parent_snap_id)
    if clone_format == 1:
        await exec_ops(child.ioctx, RBD_CHILDREN,
                       [cls_rbd.add_child(_v1_key(spec), child.image_id)])
        # v1_refresh: a racing unprotect could have missed our fresh key
        try:
            (status,) = await exec_ops(parent.ioctx, parent.header_oid,
                                       [cls_rbd.get_protection_status(parent_snap_id)])
        except CephError as e:
            raise CephError(errno.EINVAL, "parent snapshot vanished") from e
        if status != RBD_PROTECTION_STATUS_PROTECTED:
            raise CephError(errno.EINVAL, "parent snapshot must be protected")
        return
    await exec_ops(child.ioctx, child.header_oid, [cls_rbd.op_features_set(
        RBD_OPERATION_FEATURE_CLONE_CHILD, RBD_OPERATION_FEATURE_CLONE_CHILD)])
    await exec_ops(parent.ioctx, parent.header_oid, [cls_rbd.child_attach(
        parent_snap_id, ChildImageSpec(child.ioctx.pool_id, child.ioctx.get_namespace(),
                                       child.image_id))])


async def remove_new_clone(ioctx: AsyncIoctx, name: str, child: ImageCtx | None) -> None:
    """Undo a clone that failed after its image was created (CloneRequest::remove_child):
    the parent's link to it, then its header, object map, id object and directory entry
    (it has no data yet). Best effort: the caller re-raises the error that got it here.
    Used by clone (layering) and deep copy of a clone (deep_copy)."""
    image_id = ""
    if child is not None:
        image_id = child.image_id
        try:
            await child.refresh()
            await detach_child(child)
        except CephError as e:
            log.debug("undo clone %r: detach: %s", name, e)
        await child.close()
    if not image_id:
        try:
            (image_id,) = await exec_ops(ioctx, id_obj_name(name), [cls_rbd.get_id()])
        except CephError as e:
            log.debug("undo clone %r: no id: %s", name, e)
            return
    for oid in (header_name(image_id), object_map_name(image_id), id_obj_name(name)):
        try:
            await ioctx.operate(oid, [ops.delete()])
        except CephError as e:
            log.debug("undo clone %r: delete %s: %s", name, oid, e)
    try:
        await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_remove_image(name, image_id)])
    except CephError as e:
        log.debug("undo clone %r: directory: %s", name, e)


# -- detach (removal, flatten, last snapshot of a flattened clone) -------------------------

async def detach_child(ictx: ImageCtx) -> None:
    """Make the parent forget the clone ``ictx`` (librbd's DetachChildRequest).

    ``ictx``: the clone's open context, refreshed; its ``parent_spec`` (cls
    ``parent_get``, the one parent shared by HEAD and the snapshots) names the parent
    snapshot. Nothing happens for an image without a parent. The clone's header is not
    changed: flatten calls :func:`detach_parent` afterwards, removal deletes the header.

    - v1 (the clone lacks the ``clone-child`` op feature): ``remove_child`` in the
      clone's pool's ``rbd_children``; ENOENT is fine;
    - v2: ``child_detach`` on the parent's header (ENOENT is fine: parent or link gone);
      if the parent snapshot is in the trash namespace and no child is left, the
      parent image is opened read-write (by id, without its own parent) and the
      snapshot removed; failures of that clean-up are logged, not raised (librbd's
      behaviour: the detach itself succeeded).

    Errors: CephError from the cls calls of the detach itself.
    """
    spec = ictx.parent_spec
    if not spec.exists():
        return  # no parent (or it vanished in a race): nothing to undo
    if not ictx.op_features & RBD_OPERATION_FEATURE_CLONE_CHILD:
        try:
            await exec_ops(ictx.ioctx, RBD_CHILDREN,
                           [cls_rbd.remove_child(_v1_key(spec), ictx.image_id)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        log.debug("image %s: v1 child link to %s removed", ictx.name, spec)
        return
    pio = await open_ioctx_at(ictx.ioctx, spec.pool_id, spec.pool_namespace)
    try:
        me = ChildImageSpec(ictx.ioctx.pool_id, ictx.ioctx.get_namespace(), ictx.image_id)
        try:
            await exec_ops(pio, header_name(spec.image_id),
                           [cls_rbd.child_detach(spec.snap_id, me)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        log.debug("image %s: v2 child link to %s removed", ictx.name, spec)
        await _remove_trashed_parent_snap(pio, spec)
    finally:
        pio.close()


async def _remove_trashed_parent_snap(pio: AsyncIoctx, spec: ParentImageSpec) -> None:
    """The parent snapshot the user already removed goes once its last child left."""
    try:
        (info,) = await exec_ops(pio, header_name(spec.image_id),
                                 [cls_rbd.snapshot_get(spec.snap_id)])
    except CephError as e:
        log.debug("parent %s snapshot %d: %s", spec.image_id, spec.snap_id, e)
        return
    if not isinstance(info.snapshot_namespace, TrashSnapshotNamespace) or info.child_count:
        return
    parent = ImageCtx(pio, image_id=spec.image_id)
    try:
        await parent.open_image()
    except CephError as e:
        log.debug("parent %s: cannot open it read/write: %s", spec.image_id, e)
        return
    try:
        async with parent.exclusive_op():
            (fresh,) = await exec_ops(pio, parent.header_oid,
                                      [cls_rbd.snapshot_get(spec.snap_id)])
            if fresh.child_count == 0:
                await remove_snapshot_record(parent, spec.snap_id, fresh.name)
    except CephError as e:
        if e.errno != errno.ENOENT:
            log.debug("parent %s: removing trashed snapshot %d failed: %s",
                      spec.image_id, spec.snap_id, e)
    finally:
        await parent.close()


async def detach_parent(ictx: ImageCtx) -> None:
    """Drop the parent link from the clone's own header (DetachParentRequest).

    cls ``parent_detach`` (legacy ``remove_parent`` on an OSD without it); ENOENT (no
    parent any more) is fine. cls keeps the spec while snapshots still reference it and
    clears the ``clone-child`` op feature when none does.
    """
    try:
        await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.parent_detach()])
    except CephError as e:
        if e.errno == errno.EOPNOTSUPP:
            try:
                await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.remove_parent()])
            except CephError as e2:
                if e2.errno != errno.ENOENT:
                    raise
        elif e.errno != errno.ENOENT:
            raise


# -- who links to a parent snapshot ----------------------------------------------------------

async def child_specs(ioctx: AsyncIoctx, spec: ParentImageSpec,
                      include_v2: bool = True) -> set[ChildImageSpec]:
    """Every child of the parent snapshot ``spec`` (api::Image::list_descendants, one
    level): v2 children from the parent header's ``children_list`` and v1 children from
    the ``rbd_children`` object of every (non-cache) pool, in the parent's namespace.

    ``ioctx``: any ioctx of the handle. A v1 child always lives in its parent's
    namespace. ``include_v2=False``: v1 children only (what snapshot unprotect scans
    for: v2 children do not need the protection).
    """
    out: set[ChildImageSpec] = set()
    if include_v2:
        pio = await open_ioctx_at(ioctx, spec.pool_id, spec.pool_namespace)
        try:
            (kids,) = await exec_ops(pio, header_name(spec.image_id),
                                     [cls_rbd.children_list(spec.snap_id)])
            out.update(kids)
        except CephError as e:
            if e.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
                raise
        finally:
            pio.close()
    rados = ioctx.rados
    for pool_name in await rados.list_pools():
        pool_id = await rados.pool_lookup(pool_name)
        if pool_id is None or await rados.get_pool_base_tier(pool_id) != pool_id:
            continue  # gone meanwhile, or a cache tier
        try:
            cio = await open_ioctx_at(ioctx, pool_id, spec.pool_namespace)
        except CephError:
            continue
        try:
            (ids,) = await exec_ops(cio, RBD_CHILDREN, [cls_rbd.get_children(_v1_key(spec))])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            ids = []
        finally:
            cio.close()
        out.update(ChildImageSpec(pool_id, spec.pool_namespace, child_id) for child_id in ids)
    return out


__all__ = ["attach_child", "attach_parent", "child_specs", "clone_format", "detach_child",
           "detach_parent", "open_ioctx_at", "remove_new_clone"]
