"""The RBD trash: deferred deletion of images, and librbd's way of removing an image.

Theory of operation. ``rbd_trash`` (an omap, one per pool namespace) maps an image id to
a TrashImageSpec: where the image came from (``source``), its name, when it was trashed
and when its deferment ends, and a state (NORMAL, MOVING, REMOVING, RESTORING) that marks
a move, removal or restore in progress so an interrupted one can be recognised.

- :func:`move` (Trash::move) opens the image and takes its exclusive lock (EBUSY when a
  peer keeps it), refuses a migrating image (EBUSY) and a group member (EMLINK), then adds
  the trash entry in state MOVING, drops the id object and the directory entry, and sets
  the entry NORMAL. The image's header and data stay where they are: an image still open
  elsewhere keeps working until it is closed.
- :func:`remove` (Trash::remove) refuses an entry whose deferment has not ended (EPERM)
  unless forced, and one being moved (EUCLEAN) or restored (EBUSY); it marks the entry
  REMOVING, removes the image (rbdpy.librbd.image_remove, which refuses open images and
  snapshots), and drops the entry. A failure puts the entry back to NORMAL.
- :func:`restore` (Trash::restore) brings an entry back under its old or a new name
  (EEXIST when another image has that name), directory entry first, then drops the entry.
- :func:`purge` removes every user-trashed entry whose deferment ended by ``expire_ts``,
  retrying while one removal makes another possible (a parent whose last clone went).
- :func:`remove_by_name` is librbd's ``RBD.remove`` (api::Image::remove): the image goes
  through the trash with source REMOVING and is removed at once; a failure the user can
  fix (snapshots, watchers, group) restores it, any other failure (a progress callback
  that cancels) leaves the REMOVING entry, which ``list`` shows and a second ``remove``
  finishes. With ``rbd_move_to_trash_on_remove`` the image stays in the trash (source
  USER); a clone-v2 parent whose trashed snapshot still has clones moves there with
  source USER_PARENT when ``rbd_move_parent_to_trash_on_remove`` is set, otherwise
  ENOTEMPTY.

Mirrors: ceph src/librbd/api/Trash.cc, src/librbd/api/Image.cc (remove),
src/librbd/trash/MoveRequest.cc, src/librbd/trash/RemoveRequest.cc.
"""

from __future__ import annotations

import errno
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    RBD_DIRECTORY,
    RBD_FEATURE_MIGRATING,
    RBD_INFO,
    RBD_TRASH,
    data_object_name,
    header_name,
    id_obj_name,
    old_header_name,
)
from rbdpy.format.types import TrashImageSource, TrashImageSpec, TrashImageState
from rbdpy.librbd import format1
from rbdpy.librbd.coerce import utc_datetime
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.image_remove import ProgressFn, pre_remove, remove_format1_image, remove_image
from rbdpy.librbd.listing import trash_entries
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# python-rbd's names for rbd_trash_image_source_t (TrashIterator's "source")
SOURCE_NAMES = {
    TrashImageSource.USER: "USER",
    TrashImageSource.MIRRORING: "MIRRORING",
    TrashImageSource.MIGRATION: "MIGRATION",
    TrashImageSource.REMOVING: "REMOVING",
    TrashImageSource.USER_PARENT: "USER_PARENT",
}
# what trash_restore may bring back (Trash::ALLOWED_RESTORE_SOURCES)
RESTORABLE = frozenset({TrashImageSource.USER, TrashImageSource.MIRRORING,
                        TrashImageSource.USER_PARENT})
# removal failures after which RBD.remove puts the image back (api::Image::remove)
_RESTORE_AFTER = frozenset({errno.ENOTEMPTY, errno.EBUSY, errno.EMLINK})
# failures purge steps over, hoping a later removal clears them (Trash::purge)
_PURGE_RETRY = frozenset({errno.ENOTEMPTY, errno.EBUSY, errno.EMLINK, errno.EUCLEAN})


def entry_dict(image_id: str, spec: TrashImageSpec) -> dict[str, Any]:
    """A trash entry as python-rbd's TrashIterator and trash_get give it."""
    try:
        source = SOURCE_NAMES[TrashImageSource(spec.source)]
    except ValueError:  # a source newer than Pacific's
        source = str(spec.source)
    return {
        "id": image_id,
        "name": spec.name,
        "source": source,
        "deletion_time": utc_datetime(spec.deletion_time[0]),
        "deferment_end_time": utc_datetime(spec.deferment_end_time[0]),
    }


async def _option(ioctx: AsyncIoctx, name: str, default: str) -> str:
    """A librbd option as this pool sees it: the pool's ``conf_`` override first, then
    the client's configuration (Config::apply_pool_overrides)."""
    io = ioctx
    if ioctx.get_namespace():
        io = await ioctx.dup()
        io.set_namespace("")
    try:
        (value,) = await exec_ops(io, RBD_INFO, [cls_rbd.metadata_get("conf_" + name)])
        return str(value)
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    finally:
        if io is not ioctx:
            io.close()
    try:
        value = ioctx.rados.conf_get(name)
    except Exception as e:  # an option our conf layer does not know: the default
        log.debug("conf %s: %s", name, e)
        return default
    return default if value is None else str(value)


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "on")


async def _set_state(ioctx: AsyncIoctx, image_id: str, state: int, expect: int) -> None:
    try:
        await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_state_set(image_id, state, expect)])
    except CephError as e:
        if e.errno != errno.EOPNOTSUPP:  # OSDs older than Nautilus keep no state
            raise


async def _check_movable(ioctx: AsyncIoctx, image_id: str, source: int) -> None:
    """Trash::move's checks on the open image; ENOENT (no header) is fine."""
    ictx = ImageCtx(ioctx, image_id=image_id)
    try:
        await ictx.open_image()
    except CephError as e:
        if e.errno == errno.ENOENT:
            return
        raise
    try:
        try:
            await ictx.exclusive_lock.acquire()
        except CephError as e:
            raise CephError(errno.EBUSY, "cannot obtain exclusive lock - not moving") from e
        if ictx.features & RBD_FEATURE_MIGRATING:
            raise CephError(errno.EBUSY, "cannot move migrating image to trash")
        if source != TrashImageSource.MIGRATION:
            try:
                (group,) = await exec_ops(ioctx, ictx.header_oid,
                                          [cls_rbd.image_group_get()])
            except CephError as e:
                if e.errno != errno.EOPNOTSUPP:
                    raise
            else:
                if group.pool_id >= 0:
                    raise CephError(errno.EMLINK, "image is in a group - not moving to trash")
    finally:
        await ictx.close()


async def move_image(ioctx: AsyncIoctx, source: int, name: str, image_id: str,
                     delay: int) -> None:
    """Trash::move for a known id: checks, then the MoveRequest steps."""
    await _check_movable(ioctx, image_id, source)
    now = time.time()
    sec, nsec = int(now), int((now % 1) * 1e9)
    spec = TrashImageSpec(source, name, (sec, nsec), (sec + delay, nsec),
                          TrashImageState.MOVING)
    failure: CephError | None = None
    try:
        try:
            await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_add(image_id, spec)])
        except CephError as e:
            if e.errno != errno.EEXIST:  # an earlier, interrupted move of this image
                raise
        try:
            await ioctx.operate(id_obj_name(name), [ops.delete()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        try:
            await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_remove_image(name, image_id)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
    except CephError as e:
        failure = e
    await _set_state(ioctx, image_id, TrashImageState.NORMAL, TrashImageState.MOVING)
    if failure is not None:
        raise failure
    log.debug("moved image %r id %s to the trash (source %d, delay %ds)", name, image_id,
              source, delay)


async def move(ioctx: AsyncIoctx, name: str, delay: int,
               source: int = TrashImageSource.USER) -> None:
    """``RBD.trash_move``: look the name up (or find an interrupted move of it), move."""
    try:
        (image_id,) = await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_get_id(name)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        try:
            await ioctx.operate(old_header_name(name), [ops.stat()])
        except CephError as e2:
            if e2.errno != errno.ENOENT:
                raise
        else:
            raise CephError(errno.EOPNOTSUPP, "cannot move a format 1 image to the trash")
        specs = await trash_entries(ioctx)
        found = [i for i, s in specs.items() if s.source == TrashImageSource.USER
                 and s.state == TrashImageState.MOVING and s.name == name]
        if not found:
            raise CephError(errno.ENOENT, f"image {name!r} not found") from None
        image_id = found[0]
    if not name or not image_id:
        raise CephError(errno.EINVAL, "invalid image name/id")
    await move_image(ioctx, source, name, image_id, delay)


async def get(ioctx: AsyncIoctx, image_id: str) -> dict[str, Any]:
    (spec,) = await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_get(image_id)])
    return entry_dict(image_id, spec)


async def list_entries(ioctx: AsyncIoctx) -> list[dict[str, Any]]:
    """Trash::list without the REMOVING entries (python-rbd's trash_list), by id."""
    specs = await trash_entries(ioctx)
    return [entry_dict(i, s) for i, s in sorted(specs.items())
            if s.source != TrashImageSource.REMOVING]


async def remove(ioctx: AsyncIoctx, image_id: str, force: bool,
                 progress: ProgressFn | None = None) -> None:
    """``RBD.trash_remove``: Trash::remove and trash::RemoveRequest."""
    (spec,) = await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_get(image_id)])
    if time.time() < spec.deferment_end_time[0] + spec.deferment_end_time[1] / 1e9 \
            and not force:
        raise CephError(errno.EPERM, "deferment time has not expired")
    if spec.state == TrashImageState.MOVING:
        raise CephError(errno.EUCLEAN, "image is pending moving to the trash")
    if spec.state not in (TrashImageState.NORMAL, TrashImageState.REMOVING):
        raise CephError(errno.EBUSY, "image is pending restoration")
    await _set_state(ioctx, image_id, TrashImageState.REMOVING, TrashImageState.NORMAL)
    try:
        await remove_image(ioctx, image_id, spec.name, from_trash=True, progress=progress)
    except CephError:
        await _set_state(ioctx, image_id, TrashImageState.NORMAL, TrashImageState.REMOVING)
        raise
    try:
        await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_remove(image_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            log.debug("trash entry %s: removal failed: %s", image_id, e)


async def restore(ioctx: AsyncIoctx, image_id: str, new_name: str,
                  sources: frozenset[int] = RESTORABLE) -> None:
    """``RBD.trash_restore`` (Trash::restore); an empty ``new_name`` keeps the old one."""
    (spec,) = await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_get(image_id)])
    if spec.source not in sources:
        raise CephError(errno.EINVAL, f"trash source {spec.source} may not be restored")
    if spec.state not in (TrashImageState.NORMAL, TrashImageState.RESTORING):
        raise CephError(errno.EBUSY, "image is pending deletion")
    await _set_state(ioctx, image_id, TrashImageState.RESTORING, TrashImageState.NORMAL)
    name = new_name or spec.name
    create_id_obj = True
    try:
        (existing,) = await exec_ops(ioctx, id_obj_name(name), [cls_rbd.get_id()])
    except CephError as e:
        if e.errno != errno.ENOENT:
            await _set_state(ioctx, image_id, TrashImageState.NORMAL,
                             TrashImageState.RESTORING)
            raise
    else:
        if existing != image_id:  # not the leftover of an interrupted restore of ours
            await _set_state(ioctx, image_id, TrashImageState.NORMAL,
                             TrashImageState.RESTORING)
            raise CephError(errno.EEXIST, f"an image called {name!r} already exists")
        create_id_obj = False
    if create_id_obj:
        await exec_ops(ioctx, id_obj_name(name),
                       [ops.create(exclusive=True), cls_rbd.set_id(image_id)])
    try:
        await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_add_image(name, image_id)])
    except CephError as e:
        if e.errno != errno.EEXIST:
            raise
    try:
        await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_remove(image_id)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
    log.debug("restored image id %s as %r", image_id, name)


async def _pool_usage(ioctx: AsyncIoctx) -> dict[str, dict[str, Any]]:
    """``ceph df``'s per-pool stats by pool name (empty without a mgr's digest)."""
    rados: Any = ioctx.rados
    ret, out, _ = await rados.mon_command(json.dumps({"prefix": "df", "format": "json"}), b"")
    if ret < 0:
        raise CephError(-ret, "ceph df failed")
    try:
        return {p["name"]: p["stats"] for p in json.loads(out)["pools"]}
    except (ValueError, KeyError, TypeError) as e:
        raise CephError(errno.EBADMSG, "ceph df json output could not be parsed") from e


async def _used_bytes(ioctx: AsyncIoctx, image_id: str) -> int:
    """What removing the image frees: the image bytes of its existing data objects
    (librbd: a whole-object diff of HEAD from the beginning, without the parent)."""
    ictx = ImageCtx(ioctx, image_id=image_id, read_only=True)
    await ictx.open_image()
    try:
        object_size = 1 << ictx.order
        count = -(-ictx.size // object_size) if ictx.size else 0
        found = [False] * count

        def probe(objno: int) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                try:
                    await ictx.data_ioctx.operate(data_object_name(ictx.object_prefix, objno),
                                                  [ops.stat()])
                    found[objno] = True
                except CephError as e:
                    if e.errno != errno.ENOENT:
                        raise
            return run

        await fan_out([probe(n) for n in range(count)])
        return sum(min(object_size, ictx.size - n * object_size)
                   for n in range(count) if found[n])
    finally:
        await ictx.close()


async def _doomed_by_usage(ioctx: AsyncIoctx, specs: dict[str, TrashImageSpec],
                           threshold: float) -> list[str] | None:
    """Trash::purge's threshold pass: for each data pool above ``threshold``, the
    entries (oldest deferment first) whose data brings it back under; None when no pool
    is above it (then librbd purges nothing at all)."""
    by_pool: dict[str, list[str]] = {}
    for image_id in sorted(specs, key=lambda i: specs[i].deferment_end_time):
        try:
            (data_pool,) = await exec_ops(ioctx, header_name(image_id),
                                          [cls_rbd.get_data_pool()])
        except CephError as e:
            if e.errno not in (errno.ENOENT, errno.EOPNOTSUPP):
                raise
            data_pool = -1
        name = ioctx.get_pool_name()
        if data_pool >= 0 and data_pool != ioctx.pool_id:
            rados: Any = ioctx.rados
            found = await rados.pool_reverse_lookup(data_pool)
            if found is None:  # librbd skips an image whose data pool it cannot open
                log.debug("trash %s: data pool %d is gone", image_id, data_pool)
                continue
            name = str(found)
        by_pool.setdefault(name, []).append(image_id)
    doomed: list[str] = []
    freed = 0
    for name, stats in (await _pool_usage(ioctx)).items():
        if name not in by_pool:
            continue
        used = float(stats["percent_used"])
        if used <= threshold:
            continue
        freed = 0
        target = int((int(stats["max_avail"]) + int(stats["bytes_used"])) * (used - threshold))
        for image_id in by_pool[name]:
            try:
                freed += await _used_bytes(ioctx, image_id)
            except CephError as e:
                log.debug("trash %s: usage unknown: %s", image_id, e)
                continue
            doomed.append(image_id)
            if freed >= target:
                break
    return doomed if freed else None


async def purge(ioctx: AsyncIoctx, expire_ts: int, threshold: float,
                progress: ProgressFn | None = None) -> None:
    """``RBD.trash_purge`` (Trash::purge).

    ``expire_ts`` 0 means now. ``threshold`` -1 means none; otherwise it must lie in
    [0, 1] (EINVAL): in each data pool whose usage (``ceph df``) is above it, entries
    are taken oldest deferment first, whatever their deferment, until their data would
    bring the pool back under; when no pool is above it nothing is purged at all.
    """
    specs = {i: s for i, s in (await trash_entries(ioctx)).items()
             if s.source in (TrashImageSource.USER, TrashImageSource.USER_PARENT)}
    doomed: list[str] = []
    if threshold != -1:
        if threshold < 0 or threshold > 1:
            raise CephError(errno.EINVAL, "argument 'threshold' is out of valid range")
        by_usage = await _doomed_by_usage(ioctx, specs, threshold)
        if by_usage is None:
            log.debug("pool usage is at most %.0f%%", threshold * 100)
            return
        doomed = by_usage
    if expire_ts == 0:
        expire_ts = int(time.time())
    doomed += [i for i, s in sorted(specs.items())
               if expire_ts >= s.deferment_end_time[0] and i not in doomed]
    total, done = len(doomed), 0
    last_error = 1
    while doomed and last_error == 1:
        last_error = 0
        for image_id in list(doomed):
            try:
                await exec_ops(ioctx, RBD_TRASH, [cls_rbd.trash_get(image_id)])
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
                # gone already: a USER_PARENT image whose last clone was just removed
                doomed.remove(image_id)
                done += 1
                if progress is not None:
                    progress(done, total)
                continue
            try:
                await remove(ioctx, image_id, True)
            except CephError as e:
                if e.errno not in _PURGE_RETRY:
                    raise
                last_error = last_error or e.errno
                continue
            doomed.remove(image_id)
            done += 1
            if progress is not None:
                progress(done, total)
            last_error = 1
    if doomed:
        raise CephError(last_error, f"could not remove {len(doomed)} expired images")


async def remove_by_name(ioctx: AsyncIoctx, name: str,
                         progress: ProgressFn | None = None) -> None:
    """``RBD.remove`` as librbd 16.2 runs it (api::Image::remove); see the module text.

    :raises CephError: ENOENT when the image is neither in the directory nor half
        removed in the trash; a format 1 image is removed in place.
    """
    try:
        (image_id,) = await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_get_id(name)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        if await format1.exists(ioctx, name):
            await remove_format1_image(ioctx, name, progress)
            return
        for trashed_id, spec in (await trash_entries(ioctx)).items():
            if spec.name == name and spec.source == TrashImageSource.REMOVING:
                await remove(ioctx, trashed_id, True, progress)
                return
        raise
    source: int = TrashImageSource.REMOVING
    delay = 0
    if _true(await _option(ioctx, "rbd_move_to_trash_on_remove", "false")):
        source = TrashImageSource.USER
        delay = int(await _option(ioctx, "rbd_move_to_trash_on_remove_expire_seconds", "0"))
    else:
        try:
            await pre_remove(ioctx, image_id)
        except CephError as e:
            if e.errno == errno.ECHILD:
                if not _true(await _option(ioctx, "rbd_move_parent_to_trash_on_remove",
                                           "false")):
                    raise CephError(errno.ENOTEMPTY,
                                    "image has snapshots - not removing") from e
                source = TrashImageSource.USER_PARENT
            elif e.errno != errno.ENOENT:
                raise
    await move_image(ioctx, source, name, image_id, delay)
    if source != TrashImageSource.REMOVING:
        return
    try:
        await remove(ioctx, image_id, True, progress)
    except CephError as e:
        if e.errno in _RESTORE_AFTER:
            try:
                await restore(ioctx, image_id, name, frozenset({TrashImageSource.REMOVING}))
            except CephError as e2:
                log.debug("remove %r: restoring after %s failed: %s", name, e, e2)
        raise


__all__ = ["RESTORABLE", "SOURCE_NAMES", "entry_dict", "get", "list_entries", "move",
           "move_image", "purge", "remove", "remove_by_name", "restore"]
