"""Live migration of an image (``RBD.migration_*``): prepare, execute, commit, abort, status.

Theory of operation, as librbd 16.2 leaves the pools (native format, one cluster):

* **prepare**: the source must have no watchers but us. It leaves its pool's directory for
  the trash (``rbd_trash`` entry of source MIGRATION, its ``rbd_id.<name>`` object gone),
  the destination is created by name in the destination pool with the source's size and
  layout (or the caller's features/order/striping/data pool), the source's image-meta
  pairs are copied, and both headers get a ``migration`` spec (cls ``migration_set``, which
  also sets the MIGRATING feature): the source's names the destination (type SRC), the
  destination's names the source (type DST) with the overlap (the source's size) and the
  snapshot map. Both go PREPARING → PREPARED.
* **during the migration** every open of the destination reads through the source as if
  it were a parent (rbdpy.librbd.image_ctx, ``_refresh_migration``): an object the
  destination lacks is read from the source, a write copies the object up first. The
  source opens read-only only.
* **execute**: EXECUTING, then every destination object below the overlap is copied up
  from the source as the destination's exclusive-lock owner (an empty copy-up, as
  librbd's MigrateRequest; cls ``copyup`` never overwrites an object a writer already
  made), with ``on_progress(started, total)`` as each object starts and the source
  header's description ``N% complete``; then EXECUTED and a header update to the
  destination's clients.
* **commit** (EXECUTED only): the destination's migration spec goes (and the MIGRATING
  feature with it), the source's data objects, header and object map are deleted and its
  trash entry removed.
* **abort**: the destination is deleted (objects, header, object map, directory entry, id
  object), the source comes back from the trash under its name and loses its spec.
* **status**: both specs, as librbd's ``image_migration_status_t``.

Any of the calls finds the migration from either name: the destination's (its header's
spec names the source) or the source's (a MIGRATION entry of the pool's trash).

**Import-only** (``prepare_import``): only a destination exists; its spec has pool -1,
the source as librbd's normalized JSON ``source_spec``, overlap = the source's size and
``flatten`` set. Reads and copy-ups go to the source through
rbdpy.librbd.migration_stream (raw images in local files); execute is the same copy-up
pass, commit drops the destination's spec, abort deletes the destination.

Not supported (raises NotImplementedError): images with snapshots (librbd copies them and
copies objects up snapshot by snapshot), clones, images in a group or mirrored, and import
sources other than a raw file (qcow, native, http, s3).

Mirrors: ceph src/librbd/api/Migration.cc, operation/MigrateRequest.cc,
image/RefreshRequest.cc (migration header), trash/MoveRequest.cc, api/Trash.cc (restore).
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    RBD_DIRECTORY,
    RBD_FEATURE_JOURNALING,
    RBD_FEATURES_ALL,
    RBD_FEATURES_INTERNAL,
    RBD_TRASH,
    header_name,
    id_obj_name,
    object_map_name,
)
from rbdpy.format.object_map import object_may_not_exist
from rbdpy.format.types import (
    MigrationHeaderType,
    MigrationSpec,
    MigrationState,
    TrashImageSource,
    TrashImageSpec,
)
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.create import create_image
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.io import copyup, parent_extents, remove_all_objects
from rbdpy.librbd.migration_stream import RawFileStream, normalized, parse_source_spec
from rbdpy.librbd.object_io import exec_ops
from rbdpy.librbd.parent_link import open_ioctx_at
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], object]

# rbd_concurrent_management_ops (Pacific default), as flatten's copy-ups
_CONCURRENT_COPYUPS = 10

# RBD_IMAGE_MIGRATION_STATE_UNKNOWN: what status reports for a cls state it does not know
# (the known ones, ERROR 0 to ABORTING 5, have the same numbers in both enums)
_STATE_UNKNOWN = -1
_KNOWN_STATES = frozenset(int(s) for s in MigrationState)


def _unsupported(what: str) -> NotImplementedError:
    """A limit of rbdpy's migration, not an error librbd would report."""
    return NotImplementedError(f"live migration of {what} is not implemented in rbdpy yet")


# -- finding a migration ------------------------------------------------------------------

@dataclass
class _Migration:
    """Both ends of one migration and their specs, found from either name."""

    src_ioctx: AsyncIoctx
    src_id: str
    src_spec: MigrationSpec  # on the source header: names the destination
    dst_ioctx: AsyncIoctx
    dst_spec: MigrationSpec | None  # on the destination header (None if it is gone)
    owned: list[AsyncIoctx]

    @property
    def dst_id(self) -> str:
        return self.src_spec.image_id

    @property
    def dst_name(self) -> str:
        return self.src_spec.image_name

    def close(self) -> None:
        for io in self.owned:
            io.close()

    async def set_state(self, state: int, description: str) -> None:
        """Migration::set_state: the source header first, then the destination's."""
        await exec_ops(self.src_ioctx, header_name(self.src_id),
                       [cls_rbd.migration_set_state(state, description)])
        await exec_ops(self.dst_ioctx, header_name(self.dst_id),
                       [cls_rbd.migration_set_state(state, description)])


async def _migration_get(ioctx: AsyncIoctx, image_id: str) -> MigrationSpec:
    (found,) = await exec_ops(ioctx, header_name(image_id), [cls_rbd.migration_get()])
    spec: MigrationSpec = found
    if spec.header_type not in (MigrationHeaderType.SRC, MigrationHeaderType.DST):
        raise CephError(errno.EINVAL, f"unexpected migration header type {spec.header_type}")
    return spec


async def _trash_search(ioctx: AsyncIoctx, name: str) -> str:
    """The id of the pool's trashed migration source called ``name`` (ENOENT if none)."""
    start = ""
    while True:
        try:
            (page,) = await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_list(start, 1024)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                break
            raise
        for image_id, entry in page.items():
            if entry.source == TrashImageSource.MIGRATION and entry.name == name:
                return str(image_id)
        if len(page) < 1024:
            break
        start = max(page)
    raise CephError(errno.ENOENT, f"no migration source named {name!r}")


async def _find(ioctx: AsyncIoctx, name: str) -> _Migration:
    """open_source_image: the migration ``name`` (source or destination) takes part in."""
    owned: list[AsyncIoctx] = []
    try:
        try:
            (image_id,) = await exec_ops(ioctx, id_obj_name(name), [cls_rbd.get_id()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
            src_ioctx, src_id = ioctx, await _trash_search(ioctx, name)
        else:
            spec = await _migration_get(ioctx, image_id)
            if spec.header_type == MigrationHeaderType.DST:
                src_ioctx = await open_ioctx_at(ioctx, spec.pool_id, spec.pool_namespace)
                owned.append(src_ioctx)
                src_id = spec.image_id
            else:
                src_ioctx, src_id = ioctx, image_id
        src_spec = await _migration_get(src_ioctx, src_id)
        if src_spec.header_type != MigrationHeaderType.SRC:
            raise CephError(errno.EINVAL, "migration source has no source header")
        dst_ioctx = await open_ioctx_at(src_ioctx, src_spec.pool_id, src_spec.pool_namespace)
        owned.append(dst_ioctx)
        try:
            dst_spec: MigrationSpec | None = await _migration_get(dst_ioctx,
                                                                  src_spec.image_id)
        except CephError as e:
            if e.errno not in (errno.ENOENT, errno.EINVAL):
                raise
            dst_spec = None
        return _Migration(src_ioctx, src_id, src_spec, dst_ioctx, dst_spec, owned)
    except BaseException:
        for io in owned:
            io.close()
        raise


@dataclass
class _Import:
    """An import-only migration: only the destination exists in RADOS."""

    ioctx: AsyncIoctx
    name: str
    image_id: str
    spec: MigrationSpec

    async def set_state(self, state: int, description: str) -> None:
        await exec_ops(self.ioctx, header_name(self.image_id),
                       [cls_rbd.migration_set_state(state, description)])


async def _find_import(ioctx: AsyncIoctx, name: str) -> _Import | None:
    """The import-only migration whose destination is called ``name``, if it is one."""
    try:
        (image_id,) = await exec_ops(ioctx, id_obj_name(name), [cls_rbd.get_id()])
    except CephError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    spec = await _migration_get(ioctx, image_id)
    if spec.header_type != MigrationHeaderType.DST or not spec.source_spec:
        return None
    return _Import(ioctx, name, image_id, spec)


def _require_no_snapshots(mig: _Migration) -> None:
    if mig.dst_spec is not None and mig.dst_spec.snap_seqs:
        raise _unsupported("images with snapshots")


# -- prepare ------------------------------------------------------------------------------

async def prepare(src_ioctx: AsyncIoctx, src_name: str, dst_ioctx: AsyncIoctx,
                  dst_name: str, features: int | None, order: int | None,
                  stripe_unit: int | None, stripe_count: int | None,
                  data_pool: str | None) -> None:
    """Migration::prepare for a format 2 source; errors as CephError."""
    dst_name = dst_name or src_name
    src = ImageCtx(src_ioctx, src_name)
    await src.open_image()
    try:
        if src.old_format:
            # librbd migrates a format 1 source too (its own v1 prepare path); rbdpy not yet
            raise NotImplementedError("rbdpy does not migrate format 1 images yet")
        if src.migration_spec is not None:
            raise CephError(errno.EBUSY, "image is already being migrated")
        watchers = await src_ioctx.list_watchers(src.header_oid)
        mine, gid = src.watch_handle(), src_ioctx.rados.get_instance_id()
        if [w for w in watchers if not (w.cookie == mine and w.name.num == gid)]:
            raise CephError(errno.EBUSY, "image has watchers - not migrating")
        await _check_source(src)
        new_features = src.features if features is None else features
        if new_features & ~RBD_FEATURES_ALL:
            raise CephError(errno.ENOSYS, "librbd does not support requested features")
        new_features &= ~RBD_FEATURES_INTERNAL
        layout = (src.order if order is None else order,
                  src.stripe_unit if stripe_unit is None else stripe_unit,
                  src.stripe_count if stripe_count is None else stripe_count)
        size = src.size
        src_id = src.image_id
        (meta,) = await exec_ops(src_ioctx, src.header_oid, [cls_rbd.metadata_list("", 0)])
    finally:
        await src.close()

    await _unlink_source(src_ioctx, src_name, src_id)
    src_spec = MigrationSpec(MigrationHeaderType.SRC, dst_ioctx.pool_id,
                             dst_ioctx.get_namespace(), dst_name, "",
                             state=MigrationState.PREPARING)
    try:
        await create_image(dst_ioctx, dst_name, size, layout[0], new_features, layout[1],
                           layout[2], data_pool)
    except BaseException:
        await _relink_source(src_ioctx, src_name, src_id)
        raise
    (dst_id,) = await exec_ops(dst_ioctx, id_obj_name(dst_name), [cls_rbd.get_id()])
    src_spec.image_id = dst_id
    dst_spec = MigrationSpec(MigrationHeaderType.DST, src_ioctx.pool_id,
                             src_ioctx.get_namespace(), src_name, src_id, overlap=size,
                             state=MigrationState.PREPARING)
    mig = _Migration(src_ioctx, src_id, src_spec, dst_ioctx, dst_spec, [])
    try:
        await exec_ops(src_ioctx, header_name(src_id), [cls_rbd.migration_set(src_spec)])
        if meta:
            await exec_ops(dst_ioctx, header_name(dst_id), [cls_rbd.metadata_set(meta)])
        await exec_ops(dst_ioctx, header_name(dst_id), [cls_rbd.migration_set(dst_spec)])
        await mig.set_state(MigrationState.PREPARED, "")
    except BaseException:
        await _abort(mig, None)
        raise
    log.debug("migration prepared: pool %d %s (%s) -> pool %d %s (%s)", src_ioctx.pool_id,
              src_name, src_id, dst_ioctx.pool_id, dst_name, dst_id)


async def prepare_import(source_spec: str, dst_ioctx: AsyncIoctx, dst_name: str,
                         features: int | None, order: int | None, stripe_unit: int | None,
                         stripe_count: int | None, data_pool: str | None) -> None:
    """Migration::prepare_import: a destination that reads through a non-RBD source.
    rbdpy reads raw images in local files only (NotImplementedError for the rest)."""
    spec = parse_source_spec(source_spec)
    try:
        stream = RawFileStream.from_spec(spec)
    except CephError as e:
        if e.errno == errno.ENOSYS:
            raise _unsupported(f"from the source {normalized(spec)}") from e
        raise
    size = await stream.size()
    await create_image(dst_ioctx, dst_name, size, order, features, stripe_unit or 0,
                       stripe_count or 0, data_pool)
    (dst_id,) = await exec_ops(dst_ioctx, id_obj_name(dst_name), [cls_rbd.get_id()])
    dst_spec = MigrationSpec(MigrationHeaderType.DST, -1, source_spec=normalized(spec),
                             overlap=size, flatten=True, state=MigrationState.PREPARING)
    imported = _Import(dst_ioctx, dst_name, dst_id, dst_spec)
    try:
        await exec_ops(dst_ioctx, header_name(dst_id), [cls_rbd.migration_set(dst_spec)])
        await imported.set_state(MigrationState.PREPARED, "")
    except BaseException:
        await _remove_destination(dst_ioctx, dst_name, dst_id, None)
        raise
    log.debug("import prepared: %s -> pool %d %s (%s)", dst_spec.source_spec,
              dst_ioctx.pool_id, dst_name, dst_id)


async def _check_source(src: ImageCtx) -> None:
    """What rbdpy's migration cannot carry over yet refuses up front (ENOSYS)."""
    if src.snapc.snaps:
        raise _unsupported("images with snapshots")
    if src.parent_spec.exists():
        raise _unsupported("clones")
    if src.features & RBD_FEATURE_JOURNALING:
        raise _unsupported("journaled (mirrored) images")
    try:
        (group,) = await exec_ops(src.ioctx, src.header_oid, [cls_rbd.image_group_get()])
    except CephError as e:
        if e.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
            raise
    else:
        if group.pool_id >= 0:
            raise _unsupported("images in a group")


async def _unlink_source(ioctx: AsyncIoctx, name: str, image_id: str) -> None:
    """trash::MoveRequest with source MIGRATION and no delay: the trash entry, then the
    id object and the directory entry go."""
    now = _utime_now()
    entry = TrashImageSpec(TrashImageSource.MIGRATION, name, now, now)
    await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_add(image_id, entry)])
    await _delete(ioctx, id_obj_name(name))
    await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_remove_image(name, image_id)])


async def _relink_source(ioctx: AsyncIoctx, name: str, image_id: str) -> None:
    """Trash restore of the source under its name: id object, directory, trash entry."""
    await exec_ops(ioctx, id_obj_name(name),
                   [ops.create(exclusive=True), cls_rbd.set_id(image_id)])
    await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_add_image(name, image_id)])
    try:
        await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_remove(image_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise


def _utime_now() -> tuple[int, int]:
    now = time.time_ns()
    return now // 1_000_000_000, now % 1_000_000_000


async def _delete(ioctx: AsyncIoctx, oid: str) -> None:
    try:
        await ioctx.operate(oid, [ops.delete()])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise


# -- execute ------------------------------------------------------------------------------

async def execute(ioctx: AsyncIoctx, name: str,
                  on_progress: ProgressCallback | None = None) -> None:
    """Migration::execute: copy every object up from the source into the destination."""
    imported = await _find_import(ioctx, name)
    if imported is not None:
        _require_state(imported.spec, MigrationState.PREPARED, "prepared")
        await _execute(imported, imported.ioctx, imported.image_id, on_progress, None)
        return
    mig = await _find(ioctx, name)
    try:
        _require_state(mig.src_spec, MigrationState.PREPARED, "prepared")
        _require_no_snapshots(mig)
        src_header = header_name(mig.src_id)

        async def describe(description: str) -> None:
            # MigrationProgressContext: the source header tells `rbd status` how far
            await exec_ops(mig.src_ioctx, src_header, [cls_rbd.migration_set_state(
                MigrationState.EXECUTING, description)])

        await _execute(mig, mig.dst_ioctx, mig.dst_id, on_progress, describe)
    finally:
        mig.close()


def _require_state(spec: MigrationSpec, state: MigrationState, what: str) -> None:
    if spec.state != state:
        raise CephError(errno.EINVAL, f"current migration state is {spec.state} "
                        f"(should be '{what}')")


async def _execute(mig: _Migration | _Import, dst_ioctx: AsyncIoctx, dst_id: str,
                   on_progress: ProgressCallback | None,
                   describe: Callable[[str], Awaitable[None]] | None) -> None:
    await mig.set_state(MigrationState.EXECUTING, "")
    dst = ImageCtx(dst_ioctx, image_id=dst_id)
    await dst.open_image()
    try:
        await _copy_up_all(dst, on_progress, describe)
        await mig.set_state(MigrationState.EXECUTED, "")
        await dst.notify_header(NotifyOp.HEADER_UPDATE)
    finally:
        await dst.close()


async def _copy_up_all(dst: ImageCtx, on_progress: ProgressCallback | None,
                       describe: Callable[[str], Awaitable[None]] | None) -> None:
    """MigrateRequest as the destination's lock owner: an empty copy-up per object the
    destination may lack, below the migration overlap."""
    async with dst.exclusive_op():
        overlap = dst.head_parent_overlap or 0
        total = dst.num_objects(min(overlap, dst.size))
        started = 0
        described = ""

        async def migrate_object(objectno: int) -> None:
            nonlocal described, started
            # AsyncObjectThrottle reports each object as it starts: (0, n) .. (n-1, n)
            position = started
            started += 1
            if on_progress is not None:
                on_progress(position, total)
            description = f"{position * 100 // total}% complete"
            if describe is not None and description != described:
                described = description
                await describe(description)
            om = dst.object_map
            known = om is not None and objectno < len(om) \
                and not object_may_not_exist(om.bits[objectno])
            if not known and parent_extents(dst, objectno):
                # False: a writer's copy-up of the object was in flight; look again
                while not await copyup(dst, objectno, []):
                    pass

        await fan_out([partial(migrate_object, n) for n in range(total)],
                      _CONCURRENT_COPYUPS)
    log.debug("migration %s: %d objects copied up", dst.name, total)


# -- commit / abort -----------------------------------------------------------------------

async def commit(ioctx: AsyncIoctx, name: str,
                 on_progress: ProgressCallback | None = None) -> None:
    """Migration::commit: the destination stands alone, the source is deleted."""
    imported = await _find_import(ioctx, name)
    if imported is not None:
        _require_state(imported.spec, MigrationState.EXECUTED, "executed")
        await _drop_destination_header(imported.ioctx, imported.image_id)
        return
    mig = await _find(ioctx, name)
    try:
        _require_state(mig.src_spec, MigrationState.EXECUTED, "executed")
        _require_no_snapshots(mig)
        await _drop_destination_header(mig.dst_ioctx, mig.dst_id)
        await _remove_image(mig.src_ioctx, mig.src_id, on_progress)
        try:
            await exec_ops(mig.src_ioctx, RBD_TRASH, [cls_rbd.trash_remove(mig.src_id)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
    finally:
        mig.close()


async def _drop_destination_header(ioctx: AsyncIoctx, image_id: str) -> None:
    """The destination stands alone: its migration spec (and MIGRATING) go."""
    dst = ImageCtx(ioctx, image_id=image_id)
    dst.ignore_migrating = True
    await dst.open_image()
    try:
        try:
            await exec_ops(ioctx, dst.header_oid, [cls_rbd.migration_remove()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        await dst.notify_header(NotifyOp.HEADER_UPDATE)
    finally:
        await dst.close()


async def abort(ioctx: AsyncIoctx, name: str,
                on_progress: ProgressCallback | None = None) -> None:
    """Migration::abort: delete the destination and give the source its name back."""
    imported = await _find_import(ioctx, name)
    if imported is not None:
        await _remove_destination(imported.ioctx, imported.name, imported.image_id,
                                  on_progress)
        return
    mig = await _find(ioctx, name)
    try:
        _require_no_snapshots(mig)
        await _abort(mig, on_progress)
    finally:
        mig.close()


async def _abort(mig: _Migration, on_progress: ProgressCallback | None) -> None:
    if mig.dst_spec is not None:
        try:
            await _remove_destination(mig.dst_ioctx, mig.dst_name, mig.dst_id, on_progress)
        except CephError as e:
            # librbd: a destination that cannot be removed is not fatal to the abort
            log.warning("migration abort: removing destination %s failed: %s",
                        mig.dst_id, e)
    (src_name,) = await exec_ops(mig.src_ioctx, RBD_TRASH, [cls_rbd.trash_get(mig.src_id)])
    await _relink_source(mig.src_ioctx, src_name.name, mig.src_id)
    try:
        await exec_ops(mig.src_ioctx, header_name(mig.src_id), [cls_rbd.migration_remove()])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    await _notify(mig.src_ioctx, mig.src_id)


async def _remove_destination(ioctx: AsyncIoctx, name: str, image_id: str,
                              on_progress: ProgressCallback | None) -> None:
    await _remove_image(ioctx, image_id, on_progress)
    try:
        await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_remove_image(name, image_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    await _delete(ioctx, id_obj_name(name))


async def _notify(ioctx: AsyncIoctx, image_id: str) -> None:
    ctx = ImageCtx(ioctx, image_id=image_id, read_only=True)
    ctx.ignore_migrating = True
    await ctx.open_image()
    try:
        await ctx.notify_header(NotifyOp.HEADER_UPDATE)
    finally:
        await ctx.close()


async def _remove_image(ioctx: AsyncIoctx, image_id: str,
                        on_progress: ProgressCallback | None) -> None:
    """image::RemoveRequest with ignore_migrating, by id: data objects as the lock owner,
    then the header and the object map (the caller drops the name and the trash entry)."""
    ctx = ImageCtx(ioctx, image_id=image_id)
    ctx.ignore_migrating = True
    await ctx.open_image()
    try:
        if ctx.snapc.snaps:
            raise _unsupported("images with snapshots")
        await ctx.exclusive_lock.acquire()
        total = ctx.num_objects()
        if on_progress is not None:
            on_progress(0, total)
        ctx.io_start()
        try:
            await remove_all_objects(ctx)
        finally:
            ctx.io_done()
        if on_progress is not None:
            on_progress(total, total)
        if ctx.object_map is not None:
            await ctx.object_map.unlock()
            ctx.object_map = None
    except BaseException:
        await ctx.close()
        raise
    ctx.exclusive_lock.forget()
    await ctx.close()
    await _delete(ioctx, ctx.header_oid)
    await _delete(ioctx, object_map_name(image_id))


# -- status -------------------------------------------------------------------------------

async def status(ioctx: AsyncIoctx, name: str) -> dict[str, Any]:
    """Migration::status (image_migration_status_t) as a dict of python-rbd's keys."""
    imported = await _find_import(ioctx, name)
    if imported is not None:
        return {"source_pool_id": -1, "source_pool_namespace": "", "source_image_name": "",
                "source_image_id": "", "dest_pool_id": ioctx.pool_id,
                "dest_pool_namespace": ioctx.get_namespace(), "dest_image_name": name,
                "dest_image_id": imported.image_id, "state": _state(imported.spec),
                "state_description": imported.spec.state_description}
    mig = await _find(ioctx, name)
    try:
        src_name = mig.dst_spec.image_name if mig.dst_spec is not None else ""
        if not src_name:
            (entry,) = await exec_ops(mig.src_ioctx, RBD_TRASH,
                                      [cls_rbd.trash_get(mig.src_id)])
            src_name = entry.name
        return {
            "source_pool_id": mig.src_ioctx.pool_id,
            "source_pool_namespace": mig.src_ioctx.get_namespace(),
            "source_image_name": src_name,
            "source_image_id": mig.src_id,
            "dest_pool_id": mig.src_spec.pool_id,
            "dest_pool_namespace": mig.src_spec.pool_namespace,
            "dest_image_name": mig.dst_name,
            "dest_image_id": mig.dst_id,
            "state": _state(mig.src_spec),
            "state_description": mig.src_spec.state_description,
        }
    finally:
        mig.close()


def _state(spec: MigrationSpec) -> int:
    return spec.state if spec.state in _KNOWN_STATES else _STATE_UNKNOWN


async def source_spec(ictx: ImageCtx) -> dict[str, Any]:
    """``Image.migration_source_spec`` of a migration destination (EINVAL otherwise)."""
    await ictx.maybe_refresh()
    spec = ictx.migration_spec
    if spec is None or spec.header_type != MigrationHeaderType.DST:
        raise CephError(errno.EINVAL, "image is not a migration destination")
    if spec.source_spec:
        return parse_source_spec(spec.source_spec)
    return {"image_id": spec.image_id, "image_name": spec.image_name,
            "pool_id": spec.pool_id, "pool_namespace": spec.pool_namespace,
            "type": "native"}


__all__ = ["abort", "commit", "execute", "prepare", "prepare_import", "source_spec",
           "status"]
