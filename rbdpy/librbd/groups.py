"""RBD groups and group snapshots: a named set of images snapshotted and rolled back together.

Theory of operation. A group lives in one pool (and RBD namespace):

- ``rbd_group_directory`` maps its name to an id (``group_dir_*``); the id is librbd's
  "uuid": this client's instance id then a 31-bit random number, both in bare hex;
- ``rbd_group_header.<id>`` holds the members (``image_<pool>_<image id>`` keys with a link
  state, ``group_image_*``) and the group snapshots (``snapshot_<id>``, ``group_snap_*``);
- each member's own header names the group back (``rbd_group_ref``, ``image_group_*``).

Adding an image writes the group side INCOMPLETE, then the image side, then marks the link
ATTACHED; removing goes the other way (INCOMPLETE, image side, group side), so a crash
leaves an INCOMPLETE entry a later removal cleans up. An image moved to the trash keeps
both links (librbd's trash move leaves them), so it drops out of ``list_images`` (it has no
directory name) and reappears when restored; removing an image that is still a member
fails with EMLINK (rbdpy.librbd.directory checks the header's group link).

A group snapshot is recorded INCOMPLETE first (``group_snap_set``: EEXIST for a name in
use), then every member is opened by id, all their exclusive locks are taken and their
writes held back at once -- that is what makes the set crash-consistent -- and each gets a
snapshot in the group namespace (``GroupSnapshotNamespace(group pool, group id, group snap
id)``) named ``.group.<group pool in hex>_<group id>_<group snap id>``. The record then
becomes COMPLETE with each member's (pool, image id, snap id). On failure the member
snapshots made so far and the record are removed again; a member whose snapshot failed
is reported as ENOENT, as librbd 16.2 does (it finds no snapshot there afterwards).
librbd first sends QUIESCE to the members' watchers and waits for their acknowledgements;
with no quiesce handler registered (every watcher acknowledges at once) that is a no-op,
which is what rbdpy does: the flags
``RBD_SNAP_CREATE_SKIP_QUIESCE`` / ``RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR`` are checked
(at most one of them, nothing else) and change nothing.

Removing a group snapshot removes each member's group-namespace snapshot (a member already
without it is fine), then the record; rolling back takes every member's lock and rolls each
back to its snapshot (rbdpy.librbd.snap_rollback), reporting progress per object of each
image. Removing a group removes its snapshots, takes every image out, then deletes the
header and the directory entry; a group that does not exist is no error.

Mirrors: ceph src/librbd/api/Group.cc, src/librbd/api/Utils.cc
(snap_create_flags_api_to_internal), src/librbd/image/PreRemoveRequest.cc (check_group),
src/cls/rbd/cls_rbd.cc (group_*), src/pybind/rbd/rbd.pyx (Group, GroupImageIterator,
GroupSnapIterator, Image.group).
"""

from __future__ import annotations

import errno
import logging
import random
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import trio

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    RBD_DIRECTORY,
    RBD_GROUP_DIRECTORY,
    group_header_name,
    header_name,
)
from rbdpy.format.types import (
    GroupImageLinkState,
    GroupImageSpec,
    GroupImageStatus,
    GroupSnapshot,
    GroupSnapshotNamespace,
    GroupSnapshotState,
    GroupSpec,
    ImageSnapshotSpec,
    SnapshotInfo,
)
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd.constants import (
    RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR,
    RBD_SNAP_CREATE_SKIP_QUIESCE,
)
from rbdpy.librbd.exclusive_lock import notify_header
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.parent_link import open_ioctx_at
from rbdpy.librbd.snap_create import create_snapshot
from rbdpy.librbd.snap_remove import remove_snapshot_record
from rbdpy.librbd.snap_rollback import rollback_snapshot
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# cls_rbd's page size for the directory, member and snapshot listings
_PAGE = 1024
# how long a failed or cancelled group snapshot may spend removing what it made
_UNDO_SECONDS = 60.0

ProgressCallback = Callable[[int, int], object]


def _group_uuid(ioctx: AsyncIoctx) -> str:
    """librbd's generate_uuid: the client's instance id, then glibc ``rand()`` (31 bits)
    reduced modulo 0xFFFFFFFF, each in bare lower-case hex."""
    return f"{ioctx.rados.get_instance_id():x}{random.getrandbits(31):x}"


def member_snap_name(pool_id: int, group_id: str, group_snap_id: str) -> str:
    """The name of a member's snapshot in a group snapshot (calc_ind_image_snap_name)."""
    return f".group.{pool_id:x}_{group_id}_{group_snap_id}"


# -- the group directory --------------------------------------------------------------------

async def _group_id(ioctx: AsyncIoctx, name: str) -> str:
    """The id of the group ``name`` (ENOENT when there is none)."""
    (group_id,) = await exec_ops(ioctx, RBD_GROUP_DIRECTORY, [cls_rbd.dir_get_id(name)])
    return str(group_id)


async def list_groups(ioctx: AsyncIoctx) -> list[str]:
    """The names of the pool's groups, sorted (no directory yet: none)."""
    names: list[str] = []
    start = ""
    while True:
        try:
            (page,) = await exec_ops(ioctx, RBD_GROUP_DIRECTORY,
                                     [cls_rbd.group_dir_list(start, _PAGE)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                return names
            raise
        names.extend(page)
        if len(page) < _PAGE:
            return names
        start = max(page)


async def create_group(ioctx: AsyncIoctx, name: str) -> None:
    """A directory entry, then an empty header (the entry goes again if that fails)."""
    group_id = _group_uuid(ioctx)
    await exec_ops(ioctx, RBD_GROUP_DIRECTORY, [cls_rbd.group_dir_add(name, group_id)])
    try:
        await ioctx.operate(group_header_name(group_id), [ops.create(exclusive=True)])
    except CephError:
        try:
            await exec_ops(ioctx, RBD_GROUP_DIRECTORY,
                           [cls_rbd.group_dir_remove(name, group_id)])
        except CephError as e:
            log.debug("group %r: directory cleanup failed: %s", name, e)
        raise
    log.debug("created group %r id %s", name, group_id)


async def remove_group(ioctx: AsyncIoctx, name: str) -> None:
    """Snapshots, then members, then header and directory entry; nothing there is fine."""
    try:
        group_id = await _group_id(ioctx, name)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        group_id = ""
    if group_id:
        for snap in await _snap_records(ioctx, group_id):
            await _remove_snap_record(ioctx, group_id, snap)
        for member in await _member_records(ioctx, group_id):
            image_io = await open_ioctx_at(ioctx, member.spec.pool_id, ioctx.get_namespace())
            try:
                await _unlink_image(ioctx, group_id, image_io, member.spec.image_id)
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
            finally:
                image_io.close()
    for step in (lambda: ioctx.operate(group_header_name(group_id), [ops.delete()]),
                 lambda: exec_ops(ioctx, RBD_GROUP_DIRECTORY,
                                  [cls_rbd.group_dir_remove(name, group_id)])):
        try:
            await step()
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
    log.debug("removed group %r id %s", name, group_id)


async def rename_group(ioctx: AsyncIoctx, src: str, dest: str) -> None:
    group_id = await _group_id(ioctx, src)
    try:
        await exec_ops(ioctx, RBD_GROUP_DIRECTORY,
                       [cls_rbd.group_dir_rename(src, dest, group_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise


# -- members ---------------------------------------------------------------------------------

async def _member_records(ioctx: AsyncIoctx, group_id: str) -> list[GroupImageStatus]:
    members: list[GroupImageStatus] = []
    start: GroupImageSpec | None = None
    while True:
        (page,) = await exec_ops(ioctx, group_header_name(group_id),
                                 [cls_rbd.group_image_list(start, _PAGE)])
        members.extend(page)
        if len(page) < _PAGE:
            return members
        start = page[-1].spec


def _same_namespace(group_io: AsyncIoctx, image_io: AsyncIoctx) -> None:
    if group_io.get_namespace() != image_io.get_namespace():
        raise CephError(errno.EINVAL, "group and image cannot be in different namespaces")


async def _notify_image(image_io: AsyncIoctx, image_id: str) -> None:
    """HEADER_UPDATE to the image's clients, as ImageWatcher::notify_header_update."""
    await notify_header(image_io, header_name(image_id), NotifyOp.HEADER_UPDATE, 0, image_id)


async def add_image(group_io: AsyncIoctx, group_name: str, image_io: AsyncIoctx,
                    image_name: str) -> None:
    _same_namespace(group_io, image_io)
    group_id = await _group_id(group_io, group_name)
    (image_id,) = await exec_ops(image_io, RBD_DIRECTORY, [cls_rbd.dir_get_id(image_name)])
    header = group_header_name(group_id)
    spec = GroupImageSpec(image_id, image_io.pool_id)
    await exec_ops(group_io, header, [cls_rbd.group_image_set(
        GroupImageStatus(spec, GroupImageLinkState.INCOMPLETE))])
    try:
        # EEXIST when the image already belongs to another group
        await exec_ops(image_io, header_name(image_id), [cls_rbd.image_group_add(
            GroupSpec(group_id, group_io.pool_id))])
    except CephError:
        try:
            await exec_ops(group_io, header, [cls_rbd.group_image_remove(spec)])
        except CephError as e:
            log.debug("group %r: cleanup of member %s failed: %s", group_name, image_id, e)
        raise
    await _notify_image(image_io, image_id)
    await exec_ops(group_io, header, [cls_rbd.group_image_set(
        GroupImageStatus(spec, GroupImageLinkState.ATTACHED))])


async def _unlink_image(group_io: AsyncIoctx, group_id: str, image_io: AsyncIoctx,
                        image_id: str) -> None:
    """librbd's group_image_remove: INCOMPLETE, the image's link, the group's entry."""
    header = group_header_name(group_id)
    spec = GroupImageSpec(image_id, image_io.pool_id)
    await exec_ops(group_io, header, [cls_rbd.group_image_set(
        GroupImageStatus(spec, GroupImageLinkState.INCOMPLETE))])
    try:
        await exec_ops(image_io, header_name(image_id), [cls_rbd.image_group_remove(
            GroupSpec(group_id, group_io.pool_id))])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    else:
        await _notify_image(image_io, image_id)
    await exec_ops(group_io, header, [cls_rbd.group_image_remove(spec)])


async def remove_image(group_io: AsyncIoctx, group_name: str, image_io: AsyncIoctx,
                       image_name: str) -> None:
    _same_namespace(group_io, image_io)
    group_id = await _group_id(group_io, group_name)
    (image_id,) = await exec_ops(image_io, RBD_DIRECTORY, [cls_rbd.dir_get_id(image_name)])
    await _unlink_image(group_io, group_id, image_io, str(image_id))


async def list_images(group_io: AsyncIoctx, group_name: str) -> list[dict[str, Any]]:
    """python-rbd's GroupImageIterator entries (name, pool id, link state), in the group
    header's order; librbd answers an empty list for a group that does not exist, and
    leaves out members without a directory name (moved to the trash)."""
    try:
        group_id = await _group_id(group_io, group_name)
        members = await _member_records(group_io, group_id)
    except CephError:
        return []
    out: list[dict[str, Any]] = []
    for member in members:
        image_io = await open_ioctx_at(group_io, member.spec.pool_id,
                                       group_io.get_namespace())
        try:
            (name,) = await exec_ops(image_io, RBD_DIRECTORY,
                                     [cls_rbd.dir_get_name(member.spec.image_id)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                continue
            raise
        finally:
            image_io.close()
        out.append({"name": name, "pool": member.spec.pool_id, "state": int(member.state)})
    return out


async def image_group(ictx: ImageCtx) -> dict[str, Any]:
    """``Image.group()``: the group's pool id and name (pool -1 and "" when none)."""
    await ictx.maybe_refresh()
    (spec,) = await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.image_group_get()])
    if not spec.is_valid():
        return {"pool": -1, "name": ""}
    group_io = await open_ioctx_at(ictx.ioctx, spec.pool_id, ictx.ioctx.get_namespace())
    try:
        (name,) = await exec_ops(group_io, RBD_GROUP_DIRECTORY,
                                 [cls_rbd.dir_get_name(spec.group_id)])
    finally:
        group_io.close()
    return {"pool": spec.pool_id, "name": name}


# -- group snapshots ----------------------------------------------------------------------

async def _snap_records(ioctx: AsyncIoctx, group_id: str) -> list[GroupSnapshot]:
    snaps: list[GroupSnapshot] = []
    start: GroupSnapshot | None = None
    while True:
        (page,) = await exec_ops(ioctx, group_header_name(group_id),
                                 [cls_rbd.group_snap_list(start, _PAGE)])
        snaps.extend(page)
        if len(page) < _PAGE:
            return snaps
        start = page[-1]


async def _find_snap(ioctx: AsyncIoctx, group_name: str,
                     snap_name: str) -> tuple[str, GroupSnapshot]:
    group_id = await _group_id(ioctx, group_name)
    for snap in await _snap_records(ioctx, group_id):
        if snap.name == snap_name:
            return group_id, snap
    raise CephError(errno.ENOENT, f"group snapshot {snap_name!r} does not exist")


async def list_snaps(ioctx: AsyncIoctx, group_name: str) -> list[dict[str, Any]]:
    """python-rbd's GroupSnapIterator entries (name, state) in the header's order (by
    group snapshot id); a group that does not exist has none."""
    try:
        group_id = await _group_id(ioctx, group_name)
        snaps = await _snap_records(ioctx, group_id)
    except CephError:
        return []
    return [{"name": s.name, "state": int(s.state)} for s in snaps]


def check_snap_create_flags(flags: int) -> None:
    """snap_create_flags_api_to_internal: one quiesce flag at most, nothing else."""
    rest = flags
    if rest & RBD_SNAP_CREATE_SKIP_QUIESCE:
        rest &= ~RBD_SNAP_CREATE_SKIP_QUIESCE
    elif rest & RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR:
        rest &= ~RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR
    if rest:
        raise CephError(errno.EINVAL, f"invalid snap create flags {flags:#x}")


class _Members:
    """The members of a group snapshot, opened by id in their pools (the caller closes)."""

    def __init__(self) -> None:
        self.images: list[ImageCtx] = []
        self._ioctxs: list[AsyncIoctx] = []

    async def open(self, group_io: AsyncIoctx, specs: list[tuple[int, str]]) -> None:
        for pool_id, image_id in specs:
            io = await open_ioctx_at(group_io, pool_id, group_io.get_namespace())
            self._ioctxs.append(io)
            ictx = ImageCtx(io, None, None, False, image_id)
            await ictx.open_image()
            self.images.append(ictx)

    async def close(self) -> None:
        for ictx in self.images:
            try:
                await ictx.close()
            except CephError as e:
                log.debug("image %s: close failed: %s", ictx.name, e)
        for io in self._ioctxs:
            io.close()


async def _group_snap_info(ictx: ImageCtx, ns: GroupSnapshotNamespace) -> SnapshotInfo | None:
    """The member's snapshot in namespace ``ns`` (librbd's get_group_snap_id)."""
    for info in (await ictx.snap_infos()).values():
        if info.snapshot_namespace == ns:
            return info
    return None


async def create_snap(group_io: AsyncIoctx, group_name: str, snap_name: str,
                      flags: int) -> None:
    check_snap_create_flags(flags)
    group_id = await _group_id(group_io, group_name)
    members = await _member_records(group_io, group_id)
    record = GroupSnapshot(_group_uuid(group_io), snap_name, GroupSnapshotState.INCOMPLETE,
                           [ImageSnapshotSpec(m.spec.pool_id, m.spec.image_id)
                            for m in members])
    header = group_header_name(group_id)
    # EEXIST: a group snapshot of that name exists
    await exec_ops(group_io, header, [cls_rbd.group_snap_set(record)])
    ns = GroupSnapshotNamespace(group_io.pool_id, group_id, record.id)
    name = member_snap_name(group_io.pool_id, group_id, record.id)
    opened = _Members()
    made: list[ImageCtx] = []
    try:
        try:
            await opened.open(group_io, [(m.spec.pool_id, m.spec.image_id) for m in members])
            async with AsyncExitStack() as held:
                # every member's lock and write gate at once: a crash-consistent set
                for ictx in opened.images:
                    await held.enter_async_context(ictx.exclusive_op())
                specs = []
                for ictx in opened.images:
                    snap_id = await _create_member_snap(ictx, name, ns)
                    made.append(ictx)
                    specs.append(ImageSnapshotSpec(ictx.ioctx.pool_id, ictx.image_id, snap_id))
            record.snaps = specs
            record.state = GroupSnapshotState.COMPLETE
            await exec_ops(group_io, header, [cls_rbd.group_snap_set(record)])
        except BaseException:
            # shielded (and bounded): a cancelled creation still removes what it made
            with trio.move_on_after(_UNDO_SECONDS, shield=True):
                await _undo_snap(group_io, header, record, ns, made)
            raise
    finally:
        await opened.close()
    log.debug("group %r: snapshot %r id %s of %d image(s)", group_name, snap_name,
              record.id, len(members))


async def _create_member_snap(ictx: ImageCtx, name: str, ns: GroupSnapshotNamespace) -> int:
    """One member's snapshot. librbd 16.2 reports a member whose snapshot failed (seen
    with EDQUOT, the member's snapshot limit) as ENOENT: its group code finds no snapshot
    in the namespace afterwards and answers that, so we do too."""
    try:
        return await create_snapshot(ictx, name, ns)
    except CephError as e:
        log.debug("image %s: group member snapshot failed: %s", ictx.name, e)
        raise CephError(errno.ENOENT, f"no snapshot of the group made on {ictx.name}") from e


async def _undo_snap(group_io: AsyncIoctx, header: str, record: GroupSnapshot,
                     ns: GroupSnapshotNamespace, made: list[ImageCtx]) -> None:
    """A failed group snapshot: drop the member snapshots made and the record (errors
    only logged, as librbd's cleanup)."""
    for ictx in made:
        try:
            await _remove_member_snap(ictx, ns)
        except CephError as e:
            log.debug("image %s: cleanup of group snapshot failed: %s", ictx.name, e)
    try:
        await exec_ops(group_io, header, [cls_rbd.group_snap_remove(record.id)])
    except CephError as e:
        log.debug("group snapshot %s: cleanup of the record failed: %s", record.id, e)


async def _remove_member_snap(ictx: ImageCtx, ns: GroupSnapshotNamespace) -> None:
    async with ictx.exclusive_op():
        info = await _group_snap_info(ictx, ns)
        if info is not None:
            await remove_snapshot_record(ictx, info.id, info.name)


async def _remove_snap_record(group_io: AsyncIoctx, group_id: str,
                              snap: GroupSnapshot) -> None:
    """group_snap_remove_by_record: each member's snapshot, then the record."""
    ns = GroupSnapshotNamespace(group_io.pool_id, group_id, snap.id)
    opened = _Members()
    try:
        await opened.open(group_io, [(s.pool, s.image_id) for s in snap.snaps])
        for ictx in opened.images:
            await _remove_member_snap(ictx, ns)
        await exec_ops(group_io, group_header_name(group_id),
                       [cls_rbd.group_snap_remove(snap.id)])
    finally:
        await opened.close()


async def remove_snap(group_io: AsyncIoctx, group_name: str, snap_name: str) -> None:
    group_id, snap = await _find_snap(group_io, group_name, snap_name)
    await _remove_snap_record(group_io, group_id, snap)


async def rename_snap(group_io: AsyncIoctx, group_name: str, old_name: str,
                      new_name: str) -> None:
    if old_name == new_name:
        raise CephError(errno.EEXIST, "the new name is the old one")
    group_id, snap = await _find_snap(group_io, group_name, old_name)
    snap.name = new_name
    # EEXIST: another group snapshot has that name
    await exec_ops(group_io, group_header_name(group_id), [cls_rbd.group_snap_set(snap)])


async def rollback_snap(group_io: AsyncIoctx, group_name: str, snap_name: str,
                        progress: ProgressCallback | None = None) -> None:
    """Roll every member the group snapshot names back (all locks held at once); a
    member that lost its snapshot is skipped, as librbd ignores ENOENT there."""
    group_id, snap = await _find_snap(group_io, group_name, snap_name)
    # librbd 16.2 does not look at the state: an INCOMPLETE record rolls back whatever
    # member snapshots it names (none when the creation stopped before recording them)
    ns = GroupSnapshotNamespace(group_io.pool_id, group_id, snap.id)
    opened = _Members()
    try:
        await opened.open(group_io, [(s.pool, s.image_id) for s in snap.snaps])
        async with AsyncExitStack() as held:
            for ictx in opened.images:
                await held.enter_async_context(ictx.exclusive_op())
            for ictx in opened.images:
                info = await _group_snap_info(ictx, ns)
                if info is None:
                    log.debug("image %s: no snapshot of group snapshot %s", ictx.name,
                              snap.id)
                    continue
                await rollback_snapshot(ictx, info, progress)
    finally:
        await opened.close()


__all__ = [
    "add_image", "check_snap_create_flags", "create_group", "create_snap", "image_group",
    "list_groups", "list_images", "list_snaps", "member_snap_name", "remove_group",
    "remove_image", "remove_snap", "rename_group", "rename_snap", "rollback_snap",
]
