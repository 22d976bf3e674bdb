"""RBD image snapshots: create, remove, rename, protect, roll back, limits, listing.

Theory of operation: an RBD snapshot is a self-managed RADOS snapshot of the image's data
pool, registered in the image header. Creating one allocates a snap id from the data pool
(MPoolOp CREATE_UNMANAGED_SNAP), records it with cls ``snapshot_add`` (which stamps the
snapshot with the header's size and the OSD's clock, enforces the snapshot limit with
EDQUOT and answers ESTALE when the id is not above ``snap_seq`` -- then we allocate again),
copies the HEAD object map to ``rbd_object_map.<id>.<snapid>`` and, with fast-diff, marks
HEAD's EXISTS entries EXISTS_CLEAN (cls ``object_map_snap_add``). From then on our writes
carry the new SnapContext, so the OSD clones each object on its first write after the
snapshot. All of that happens with our writes blocked and drained (librbd's "suspend
requests"), as the exclusive-lock owner, and ends with a HEADER_UPDATE notify so that other
clients refresh their snap context before their next write.

Removing a snapshot goes the other way (the tail lives in rbdpy.librbd.snap_remove, which
the clone bookkeeping shares; creation and rollback live in rbdpy.librbd.snap_create and
snap_rollback, which the group snapshots share): with fast-diff the snapshot's object map
is folded into the next newer map (cls ``object_map_snap_remove``), the snapshot's map object is
deleted, the snap id goes back to the pool (DELETE_UNMANAGED_SNAP, which lets the OSDs trim
the clones) and cls ``snapshot_remove`` drops it from the header. A snapshot that clone-v2
children still use is moved to the trash namespace instead (cls ``snapshot_trash_add``).

Rolling back resizes the image to the snapshot's size, writes the snapshot's object map
over HEAD's, and sends a ROLLBACK op (with the image SnapContext, so newer snapshots keep
their data) to every object that exists in either map, then reloads the object map.

Lookups by name match user-namespace snapshots only, as librbd's do; listing shows every
namespace (group, trash, mirror) with python-rbd's dicts. Snapshot records are read in one
compound op of cls ``snapshot_get`` calls and cached until the next header refresh.

Removing the last snapshot of a flattened clone that still read from the parent detaches
the clone from it (rbdpy.librbd.parent_link.detach_child). ``RBD_SNAP_REMOVE_FLATTEN``
(flattening the snapshot's clones first) is done by the face with
rbdpy.librbd.flatten.flatten_children before the removal.

Not implemented (librbd does it): the QUIESCE/UNQUIESCE notifies to other watchers
before a snapshot (only fsfreeze hooks of rbd-nbd act on them; we drain our own writes).

Mirrors: ceph src/librbd/api/Snapshot.cc, src/librbd/Operations.cc (snap_create,
snap_remove, snap_rename, snap_protect, snap_unprotect, snap_rollback, snap_set_limit),
src/librbd/operation/SnapshotCreateRequest.cc, SnapshotRemoveRequest.cc,
SnapshotRollbackRequest.cc, SnapshotProtectRequest.cc, SnapshotUnprotectRequest.cc,
SnapshotRenameRequest.cc, SnapshotLimitRequest.cc, src/librbd/object_map/
SnapshotCreateRequest.cc, SnapshotRemoveRequest.cc, SnapshotRollbackRequest.cc,
src/librbd/image/SetSnapRequest.cc, src/librbd/internal.cc (snap_list, snap_exists);
src/pybind/rbd/rbd.pyx (Image snapshot methods, SnapIterator).
"""

from __future__ import annotations

import datetime
import errno
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_rbd, v1_header
from rbdpy.format.constants import (
    RBD_FEATURE_LAYERING,
    RBD_GROUP_DIRECTORY,
    RBD_GROUP_HEADER_PREFIX,
    RBD_PROTECTION_STATUS_PROTECTED,
    RBD_PROTECTION_STATUS_UNPROTECTED,
    RBD_PROTECTION_STATUS_UNPROTECTING,
)
from rbdpy.format.types import (
    GroupSnapshotNamespace,
    MirrorSnapshotNamespace,
    ParentImageSpec,
    SnapshotInfo,
    SnapshotNamespace,
    SnapshotNamespaceType,
    TrashSnapshotNamespace,
    UnknownSnapshotNamespace,
)
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.coerce import UINT64_MAX, as_uint64, utc_datetime
from rbdpy.librbd.constants import (
    RBD_SNAP_REMOVE_UNPROTECT,
)
from rbdpy.librbd.errors import translate
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.parent_link import child_specs, detach_child
from rbdpy.librbd.snap_create import create_snapshot
from rbdpy.librbd.snap_remove import header_update as _header_update
from rbdpy.librbd.snap_remove import remove_snapshot_record
from rbdpy.librbd.snap_remove import snapshot_done as _snapshot_done
from rbdpy.librbd.snap_rollback import rollback_snapshot
from rbdpy.rados.proto.bytestr import to_str
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.librbd.image_ctx import ImageCtx

log = logging.getLogger(__name__)


# -- argument coercion as python-rbd's Cython signatures do it ------------------------------

def _name_arg(value: Any, what: str) -> bytes:
    """python-rbd ``cstr(value, what)``: str/bytes, else InvalidArgument."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    raise rbdx.InvalidArgument(f"{what} must be a string")


def _as_uint32(value: Any) -> int:
    """Cython's ``uint32_t`` coercion (python-rbd's ``remove_snap2`` flags)."""
    if isinstance(value, int) and value >= 1 << 32:
        raise OverflowError("value too large to convert to uint32_t")
    if isinstance(value, int) and value < 0:
        raise OverflowError("can't convert negative value to uint32_t")
    return as_uint64(value)


def _as_snap_id(value: Any) -> tuple[int, int]:
    """An id python-rbd takes as a signed integer (``snap_get_name``, ``set_snap_by_id``):
    (the value as given, for messages; the id it names, as librbd's uint64_t)."""
    if isinstance(value, int) and value < 0:
        if value < -(1 << 63):
            raise OverflowError("int too big to convert")
        return value, value & UINT64_MAX
    sid = as_uint64(value)
    return sid, sid


async def _require(ictx: ImageCtx, name: str) -> SnapshotInfo:
    info = await ictx.lookup_snap(name)
    if info is None:
        raise CephError(errno.ENOENT, f"snapshot {name!r} does not exist")
    return info


async def _require_id(ictx: ImageCtx, snap_id: int) -> SnapshotInfo:
    info = (await ictx.snap_infos()).get(snap_id)
    if info is None:
        raise CephError(errno.ENOENT, f"snapshot id {snap_id} does not exist")
    return info


# -- create (operation/SnapshotCreateRequest, object_map/SnapshotCreateRequest) ------------

async def create_snap(ictx: ImageCtx, name: Any, flags: int = 0) -> None:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    sname = to_str(bname)
    as_uint64(flags)
    with translate("error creating snapshot {!r} from {!r}", bname, ictx.name_bytes):
        ictx.require_not_read_only()
        # Operations::snap_create checks the name before asking for the lock.
        if await ictx.lookup_snap(sname) is not None:
            raise CephError(errno.EEXIST, f"snapshot {sname!r} already exists")
        async with ictx.exclusive_op():
            if await ictx.lookup_snap(sname) is not None:
                raise CephError(errno.EEXIST, f"snapshot {sname!r} already exists")
            await create_snapshot(ictx, sname)


# -- remove (api::Snapshot::remove, operation/SnapshotRemoveRequest) -----------------------

async def remove_snap(ictx: ImageCtx, name: Any) -> None:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    with translate("error removing snapshot {!r} from {!r}", bname, ictx.name_bytes):
        await _remove(ictx, lambda: _require(ictx, to_str(bname)), 0)


async def remove_snap2(ictx: ImageCtx, name: Any, flags: Any) -> None:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    flags = _as_uint32(flags)
    with translate("error removing snapshot {!r} from {!r} with flags {:x}", bname,
                   ictx.name_bytes, flags):
        await _remove(ictx, lambda: _require(ictx, to_str(bname)), flags)


async def remove_snap_by_id(ictx: ImageCtx, snap_id: Any) -> None:
    ictx.require_not_closed()
    sid = as_uint64(snap_id)
    with translate("error removing snapshot {} from {!r}", sid, ictx.name_bytes):
        await _remove(ictx, lambda: _require_id(ictx, sid), 0)


async def _remove(ictx: ImageCtx, find: Callable[[], Awaitable[SnapshotInfo]],
                  flags: int) -> None:
    # api::Snapshot::remove looks the snapshot up (and its protection) before
    # Operations::snap_remove refuses a read-only image.
    info = await find()
    status = await _protection(ictx, info.id)
    if status != RBD_PROTECTION_STATUS_UNPROTECTED:
        if not flags & RBD_SNAP_REMOVE_UNPROTECT:
            raise CephError(errno.EBUSY, f"snapshot {info.name!r} is protected")
        ictx.require_not_read_only()
        await _unprotect(ictx, info)
    ictx.require_not_read_only()
    async with ictx.exclusive_op():
        info = await find()
        if await _protection(ictx, info.id) != RBD_PROTECTION_STATUS_UNPROTECTED:
            raise CephError(errno.EBUSY, f"snapshot {info.name!r} is protected")
        await _remove_snapshot(ictx, info)


async def _remove_snapshot(ictx: ImageCtx, info: SnapshotInfo) -> None:
    snap_id = info.id
    if ictx.old_format:
        # no clones, no trash namespace: only the header entry and the snap id go
        await remove_snapshot_record(ictx, snap_id, info.name)
        return
    # SnapshotRemoveRequest::send_trash_snap / handle_get_snap: clone-v2 children keep
    # the snapshot alive in the trash namespace; the last child's detach removes it.
    (fresh,) = await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.snapshot_get(snap_id)])
    if await _last_parent_reference(ictx, snap_id):
        # SnapshotRemoveRequest::detach_child: a flattened clone's last snapshot that
        # still read from the parent goes, so the parent forgets this child
        await detach_child(ictx)
    if fresh.child_count > 0:
        if not isinstance(fresh.snapshot_namespace, TrashSnapshotNamespace):
            await _header_update(ictx, [cls_rbd.snapshot_trash_add(snap_id)])
            log.debug("image %s: snapshot %d moved to the trash (has children)",
                      ictx.name, snap_id)
        await _snapshot_done(ictx)
        return
    await remove_snapshot_record(ictx, snap_id, info.name)


async def _last_parent_reference(ictx: ImageCtx, snap_id: int) -> bool:
    """Whether ``snap_id`` is the only thing left (HEAD flattened, no other snapshot)
    that maps onto the parent (SnapshotRemoveRequest::scan_for_parents)."""
    if not ictx.parent_spec.exists() or ictx.head_parent_overlap is not None:
        return False
    ids = sorted(ictx.snapc.snaps)
    overlaps = await exec_ops(ictx.ioctx, ictx.header_oid,
                              [cls_rbd.parent_overlap_get(s) for s in ids])
    with_parent = {s for s, o in zip(ids, overlaps, strict=True) if o is not None}
    return with_parent == {snap_id}


# -- rename (operation/SnapshotRenameRequest) -----------------------------------------------

async def rename_snap(ictx: ImageCtx, srcname: Any, dstname: Any) -> None:
    ictx.require_not_closed()
    src = _name_arg(srcname, "srcname")
    dst = _name_arg(dstname, "dstname")
    with translate("error renaming snapshot of {!r} from {!r} to {!r}", ictx.name_bytes, src, dst):
        ictx.require_not_read_only()

        async def check() -> SnapshotInfo:
            info = await _require(ictx, to_str(src))
            if await ictx.lookup_snap(to_str(dst)) is not None:
                raise CephError(errno.EEXIST, f"snapshot {to_str(dst)!r} already exists")
            return info

        await check()
        async with ictx.exclusive_op():
            info = await check()
            rename = v1_header.snap_rename if ictx.old_format else cls_rbd.snapshot_rename
            await _header_update(ictx, [rename(info.id, to_str(dst))])
            ictx.snap_table = None
            await _snapshot_done(ictx)


# -- protection (operation/SnapshotProtectRequest, SnapshotUnprotectRequest) ---------------

async def _protection(ictx: ImageCtx, snap_id: int) -> int:
    if ictx.old_format:
        return RBD_PROTECTION_STATUS_UNPROTECTED  # no layering, nothing to protect
    (status,) = await exec_ops(ictx.ioctx, ictx.header_oid,
                               [cls_rbd.get_protection_status(snap_id)])
    return int(status)


def _require_layering(ictx: ImageCtx) -> None:
    if not ictx.features & RBD_FEATURE_LAYERING:
        raise CephError(errno.ENOSYS, "image must support layering")


async def protect_snap(ictx: ImageCtx, name: Any) -> None:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    with translate("error protecting snapshot {!r}@{!r}", ictx.name_bytes, bname):
        ictx.require_not_read_only()
        await ictx.maybe_refresh()
        _require_layering(ictx)
        info = await _require(ictx, to_str(bname))
        if await _protection(ictx, info.id) == RBD_PROTECTION_STATUS_PROTECTED:
            raise CephError(errno.EBUSY, "snapshot is already protected")
        async with ictx.exclusive_op():
            info = await _require(ictx, to_str(bname))
            if await _protection(ictx, info.id) == RBD_PROTECTION_STATUS_PROTECTED:
                raise CephError(errno.EBUSY, "snapshot is already protected")
            await _header_update(ictx, [cls_rbd.set_protection_status(
                info.id, RBD_PROTECTION_STATUS_PROTECTED)])
            await _snapshot_done(ictx)


async def unprotect_snap(ictx: ImageCtx, name: Any) -> None:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    with translate("error unprotecting snapshot {!r}@{!r}", ictx.name_bytes, bname):
        ictx.require_not_read_only()
        # no layering check: clone v2 needs no protection, librbd 16.2 lets it through
        info = await _require(ictx, to_str(bname))
        await _unprotect(ictx, info)


async def _unprotect(ictx: ImageCtx, info: SnapshotInfo) -> None:
    """UNPROTECTING while we look for children, then UNPROTECTED, or back to PROTECTED
    (EBUSY) when some clone still depends on the snapshot."""
    async with ictx.exclusive_op():
        if await _protection(ictx, info.id) == RBD_PROTECTION_STATUS_UNPROTECTED:
            raise CephError(errno.EINVAL, "snapshot is already unprotected")
        await _header_update(ictx, [cls_rbd.set_protection_status(
            info.id, RBD_PROTECTION_STATUS_UNPROTECTING)])
        try:
            busy = await _has_v1_children(ictx, info)
        except BaseException:
            await _header_update(ictx, [cls_rbd.set_protection_status(
                info.id, RBD_PROTECTION_STATUS_PROTECTED)])
            raise
        status = RBD_PROTECTION_STATUS_PROTECTED if busy \
            else RBD_PROTECTION_STATUS_UNPROTECTED
        await _header_update(ictx, [cls_rbd.set_protection_status(info.id, status)])
        await _snapshot_done(ictx)
        if busy:
            raise CephError(errno.EBUSY, "snapshot has children")


async def _has_v1_children(ictx: ImageCtx, info: SnapshotInfo) -> bool:
    """Clone-v1 children (the ``rbd_children`` index of every pool): what librbd's
    SnapshotUnprotectRequest looks for; v2 clones need no protection."""
    spec = ParentImageSpec(ictx.ioctx.pool_id, ictx.ioctx.get_namespace(), ictx.image_id,
                           info.id)
    return bool(await child_specs(ictx.ioctx, spec, include_v2=False))


async def is_protected_snap(ictx: ImageCtx, name: Any) -> bool:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    with translate("error checking if snapshot {!r}@{!r} is protected", ictx.name_bytes, bname):
        info = await _require(ictx, to_str(bname))
        return await _protection(ictx, info.id) == RBD_PROTECTION_STATUS_PROTECTED


# -- rollback (operation/SnapshotRollbackRequest, object_map/SnapshotRollbackRequest) -----

async def rollback_to_snap(ictx: ImageCtx, name: Any) -> None:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    with translate("error rolling back image {!r} to snapshot {!r}", ictx.name_bytes, bname):
        ictx.require_writable()
        await _require(ictx, to_str(bname))
        # librbd rolls back only as the owner it can become without asking: a live peer
        # that owns the lock keeps it, and the rollback fails with EROFS.
        async with ictx.exclusive_op(ask_live_owner=False):
            info = await _require(ictx, to_str(bname))
            await rollback_snapshot(ictx, info)


# -- limits (operation/SnapshotLimitRequest) ----------------------------------------------

async def get_snap_limit(ictx: ImageCtx) -> int:
    ictx.require_not_closed()
    with translate("error getting snapshot limit for {!r}", ictx.name_bytes):
        (limit,) = await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.snapshot_get_limit()])
    return int(limit)


async def set_snap_limit(ictx: ImageCtx, limit: Any, what: str = "setting") -> int:
    ictx.require_not_closed()
    value = as_uint64(limit)
    with translate("error {} snapshot limit for {!r}", what, ictx.name_bytes):
        ictx.require_not_read_only()
        async with ictx.exclusive_op():
            # cls answers ERANGE when the image already has more snapshots than that
            await _header_update(ictx, [cls_rbd.snapshot_set_limit(value)])
            await ictx.notify_header(NotifyOp.HEADER_UPDATE)
    return 0


async def remove_snap_limit(ictx: ImageCtx) -> int:
    return await set_snap_limit(ictx, UINT64_MAX, "removing")


# -- queries -------------------------------------------------------------------------------

def _snap_dict(info: SnapshotInfo) -> dict[str, Any]:
    return {"id": info.id, "size": info.image_size, "name": info.name,
            "namespace": _namespace_type(info.snapshot_namespace)}


def _namespace_type(ns: SnapshotNamespace) -> int:
    if isinstance(ns, UnknownSnapshotNamespace):
        return ns.namespace_type
    return int(ns.SNAPSHOT_NAMESPACE_TYPE)


async def list_snaps(ictx: ImageCtx) -> list[dict[str, Any]]:
    """python-rbd's SnapIterator entries, by snapshot id; group/trash/mirror snapshots get
    their namespace dict (None when it cannot be read, as SnapIterator's ``except``)."""
    ictx.require_not_closed()
    with translate("error listing snapshots for image {!r}", ictx.name_bytes):
        infos = await ictx.snap_infos()
    out = []
    for info in infos.values():
        d = _snap_dict(info)
        extra = _NAMESPACE_DICTS.get(d["namespace"])
        if extra is not None:
            key, fn = extra
            try:
                d[key] = await fn(ictx, info.id)
            except rbdx.Error:
                d[key] = None
        out.append(d)
    return out


async def snap_exists(ictx: ImageCtx, name: Any) -> bool:
    ictx.require_not_closed()
    bname = _name_arg(name, "name")
    with translate("error getting snapshot exists for {!r}", ictx.name_bytes):
        return await ictx.lookup_snap(to_str(bname)) is not None


async def snap_get_id(ictx: ImageCtx, snap_name: Any) -> int:
    ictx.require_not_closed()
    bname = _name_arg(snap_name, "snap_name")
    with translate("error snap_get_id."):
        return (await _require(ictx, to_str(bname))).id


async def snap_get_name(ictx: ImageCtx, snap_id: Any) -> str:
    ictx.require_not_closed()
    _, sid = _as_snap_id(snap_id)
    with translate("error snap_get_name."):
        return (await _require_id(ictx, sid)).name


async def get_snap_timestamp(ictx: ImageCtx, snap_id: Any) -> datetime.datetime:
    ictx.require_not_closed()
    sid = as_uint64(snap_id)
    # librbd 16.2 asserts on an unknown id (Snapshot.cc get_timestamp); we answer ENOENT.
    with translate("error getting snapshot timestamp for image: {!r}, snap_id: {}",
                   ictx.name_bytes, sid):
        return utc_datetime((await _require_id(ictx, sid)).timestamp[0])


async def snap_get_namespace_type(ictx: ImageCtx, snap_id: Any) -> int:
    ictx.require_not_closed()
    sid = as_uint64(snap_id)
    with translate("error getting snapshot namespace type for image: {!r}, snap_id: {}",
                   ictx.name_bytes, sid):
        return _namespace_type((await _require_id(ictx, sid)).snapshot_namespace)


async def _namespace_of(ictx: ImageCtx, sid: int, kind: type[SnapshotNamespace]) -> Any:
    ns = (await _require_id(ictx, sid)).snapshot_namespace
    if not isinstance(ns, kind):
        raise CephError(errno.EINVAL, "snapshot is in another namespace")
    return ns


async def snap_get_group_namespace(ictx: ImageCtx, snap_id: Any) -> dict[str, Any]:
    ictx.require_not_closed()
    sid = as_uint64(snap_id)
    with translate("error getting snapshot group namespace for image: {!r}, snap_id: {}",
                   ictx.name_bytes, sid):
        ns: GroupSnapshotNamespace = await _namespace_of(ictx, sid, GroupSnapshotNamespace)
        # api::Snapshot::get_group_namespace: the group's name from the group directory
        # and the group snapshot's name from the group header, both in the group's pool.
        gio = await ictx.ioctx.rados.open_ioctx2(ns.group_pool)
        try:
            gio.set_namespace(ictx.ioctx.get_namespace())
            (group_name,) = await exec_ops(gio, RBD_GROUP_DIRECTORY,
                                           [cls_rbd.dir_get_name(ns.group_id)])
            (gsnap,) = await exec_ops(gio, RBD_GROUP_HEADER_PREFIX + ns.group_id,
                                      [cls_rbd.group_snap_get_by_id(ns.group_snapshot_id)])
        finally:
            gio.close()
    return {"pool": ns.group_pool, "name": group_name, "snap_name": gsnap.name}


async def snap_get_trash_namespace(ictx: ImageCtx, snap_id: Any) -> dict[str, Any]:
    ictx.require_not_closed()
    sid = as_uint64(snap_id)
    with translate("error getting snapshot trash namespace image: {!r}, snap_id: {}",
                   ictx.name_bytes, sid):
        ns: TrashSnapshotNamespace = await _namespace_of(ictx, sid, TrashSnapshotNamespace)
    return {"original_name": ns.original_name}


async def snap_get_mirror_namespace(ictx: ImageCtx, snap_id: Any) -> dict[str, Any]:
    ictx.require_not_closed()
    sid = as_uint64(snap_id)
    with translate("error getting snapshot mirror namespace for image: {!r}, snap_id: {}",
                   ictx.name_bytes, sid):
        ns: MirrorSnapshotNamespace = await _namespace_of(ictx, sid, MirrorSnapshotNamespace)
    return {"state": ns.state, "mirror_peer_uuids": sorted(ns.mirror_peer_uuids),
            "complete": ns.complete, "primary_mirror_uuid": ns.primary_mirror_uuid,
            "primary_snap_id": ns.primary_snap_id,
            "last_copied_object_number": ns.last_copied_object_number}


_NamespaceFn = Callable[["ImageCtx", Any], Awaitable[dict[str, Any]]]
# SnapIterator: the extra key and getter per namespace type.
_NAMESPACE_DICTS: dict[int, tuple[str, _NamespaceFn]] = {
    SnapshotNamespaceType.GROUP: ("group", snap_get_group_namespace),
    SnapshotNamespaceType.TRASH: ("trash", snap_get_trash_namespace),
    SnapshotNamespaceType.MIRROR: ("mirror", snap_get_mirror_namespace),
}


# -- set_snap (image/SetSnapRequest) --------------------------------------------------------

async def set_snap(ictx: ImageCtx, name: Any) -> None:
    ictx.require_not_closed()
    if name is None:
        with translate("error setting image {!r} to snapshot None", ictx.name_bytes):
            await _set_snap_id(ictx, CEPH_NOSNAP, None)
        return
    bname = _name_arg(name, "name")
    with translate("error setting image {!r} to snapshot {!r}", ictx.name_bytes, bname):
        info = await _require(ictx, to_str(bname))
        await _set_snap_id(ictx, info.id, info)


async def set_snap_by_id(ictx: ImageCtx, snap_id: Any) -> None:
    ictx.require_not_closed()
    if snap_id is None:
        with translate("error setting image {!r} to snapshot None", ictx.name_bytes):
            await _set_snap_id(ictx, CEPH_NOSNAP, None)
        return
    given, sid = _as_snap_id(snap_id)
    with translate("error setting image {!r} to snapshot {}", ictx.name_bytes, given):
        info = None if sid == CEPH_NOSNAP else await _require_id(ictx, sid)
        await _set_snap_id(ictx, sid, info)


async def _set_snap_id(ictx: ImageCtx, snap_id: int, info: SnapshotInfo | None) -> None:
    """Switch reads to a snapshot (or back to HEAD). Moving off HEAD drops the exclusive
    lock after in-flight writes, as SetSnapRequest shuts the lock down."""
    if snap_id != CEPH_NOSNAP and ictx.snap_id == CEPH_NOSNAP:
        await ictx.exclusive_lock.release()
    ictx.snap_id = snap_id
    ictx.snap_exists = True
    ictx.snap_name = info.name if info is not None else None
    await ictx.refresh()


__all__ = [
    "create_snap", "get_snap_limit", "get_snap_timestamp",
    "is_protected_snap", "list_snaps", "protect_snap", "remove_snap",
    "remove_snap2", "remove_snap_by_id", "remove_snap_limit", "rename_snap",
    "rollback_to_snap", "set_snap", "set_snap_by_id", "set_snap_limit", "snap_exists",
    "snap_get_group_namespace", "snap_get_id", "snap_get_mirror_namespace",
    "snap_get_name", "snap_get_namespace_type", "snap_get_trash_namespace",
    "unprotect_snap",
]
