"""AsyncImage: the public async face of an open RBD image (``rbdpy.aio.AsyncImage``).

Every method does three things and nothing else: check and coerce its arguments the way
python-rbd's Cython signatures do, call one subsystem with the image context, and translate
errors into python-rbd's exceptions with python-rbd's message for that call
(rbdpy.librbd.errors). The state lives in :class:`~rbdpy.librbd.image_ctx.ImageCtx`; the
work lives in the subsystem modules beside this one:

- ``io`` — read, write, discard, write_zeroes;
- ``resize``, ``metadata``, ``advisory_locks``;
- ``snapshots`` — create, remove, rename, protect, roll back, limits, set_snap;
- ``diff`` — diff_iterate from object maps or the OSDs' LIST_SNAPS;
- ``maintenance`` — feature updates, object map rebuild, sparsify, watchers, the lock by hand;
- ``flatten`` — copy a clone's parent data in and detach it;
- ``layering`` — children of the image, the parent of a clone and its overlap;
- ``groups`` — the group the image belongs to;
- ``copy`` and ``config``.

rbdpy.rbd's ``Image`` wraps this class method for method on the handle's event loop thread.
"""

from __future__ import annotations

import datetime
import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_lock, cls_rbd
from rbdpy.librbd import (
    advisory_locks,
    config,
    copy,
    deep_copy,
    diff,
    flatten,
    groups,
    io,
    layering,
    maintenance,
    metadata,
    migration,
    resize,
    snapshots,
)
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.coerce import UINT64_MAX, as_uint64, utc_datetime
from rbdpy.librbd.constants import RBD_SNAP_REMOVE_FLATTEN
from rbdpy.librbd.errors import translate
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto.bytestr import Buffer, to_bytes, to_str
from rbdpy.rados.proto.errors import CephError
from rbdpy.striping.striper import get_num_objects

if TYPE_CHECKING:
    from collections.abc import Callable

    from rbdpy.rados.ioctx import AsyncIoctx


class AsyncImage:
    """An open RBD image; the async twin of ``rbd.Image`` (same methods, awaited).

    Open with ``await AsyncImage.open(ioctx, name, ...)`` or ``async with``.
    """

    def __init__(self, ioctx: AsyncIoctx, name: str | bytes | None = None,
                 snapshot: str | bytes | None = None, read_only: bool = False,
                 image_id: str | bytes | None = None) -> None:
        self._ctx = ImageCtx(ioctx, name, snapshot, read_only, image_id)

    @classmethod
    async def open(cls, ioctx: AsyncIoctx, name: str | bytes | None = None,
                   snapshot: str | bytes | None = None, read_only: bool = False,
                   image_id: str | bytes | None = None) -> AsyncImage:
        """Open an image by name or id, optionally at a snapshot or read-only."""
        image = cls(ioctx, name, snapshot, read_only, image_id)
        await image._open()
        return image

    async def _open(self) -> None:
        ctx = self._ctx
        snap = to_bytes(ctx.snap_name) if ctx.snap_name is not None else None
        with translate("error opening image {!r} at snapshot {!r}", ctx.name_arg, snap):
            await ctx.open_image()

    @property
    def ioctx(self) -> AsyncIoctx:
        return self._ctx.ioctx

    @property
    def name(self) -> str:
        return self._ctx.name

    async def close(self) -> None:
        """Release the exclusive lock and the header watch; later calls fail."""
        with translate("error while closing image {!r}", self._ctx.name_bytes):
            await self._ctx.close()

    async def __aenter__(self) -> AsyncImage:
        if self._ctx.closed and not self._ctx.header_oid:
            await self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _checked(self) -> ImageCtx:
        ctx = self._ctx
        ctx.require_not_closed()
        return ctx

    # -- what the header says ----------------------------------------------------------------

    async def _refreshed(self, what: str) -> ImageCtx:
        ctx = self._checked()
        with translate("error getting {} for image {!r}", what, ctx.name_bytes):
            await ctx.maybe_refresh()
        return ctx

    async def size(self) -> int:
        return (await self._refreshed("size")).size

    async def stat(self) -> dict[str, Any]:
        ctx = await self._refreshed("info")
        return {
            "size": ctx.size,
            "obj_size": 1 << ctx.order,
            # librbd's info(): the striper's object count over the image size
            "num_objs": get_num_objects(ctx.layout, ctx.size),
            "order": ctx.order,
            "block_name_prefix": ctx.object_prefix,
            # librbd fills the deprecated parent fields with -1 (as uint64) and ""
            "parent_pool": UINT64_MAX,
            "parent_name": b"",
        }

    async def features(self) -> int:
        return (await self._refreshed("features")).features

    async def flags(self) -> int:
        return (await self._refreshed("flags")).flags

    async def op_features(self) -> int:
        return (await self._refreshed("op features")).op_features

    async def get_name(self) -> str:
        return self._checked().name

    async def id(self) -> str:
        ctx = self._checked()
        if ctx.old_format:
            # librbd's get_id: a format 1 image has no id (EINVAL)
            with translate("error getting id for image {!r}", ctx.name_bytes):
                raise CephError(errno.EINVAL, "format 1 images have no id")
        return ctx.image_id

    async def block_name_prefix(self) -> str:
        return self._checked().object_prefix

    async def data_pool_id(self) -> int:
        ctx = self._checked()
        return ctx.data_pool_id if ctx.data_pool_id >= 0 else ctx.ioctx.pool_id

    async def old_format(self) -> bool:
        return self._checked().old_format

    async def stripe_unit(self) -> int:
        return self._checked().stripe_unit

    async def stripe_count(self) -> int:
        return self._checked().stripe_count

    async def create_timestamp(self) -> datetime.datetime:
        return utc_datetime(self._checked().create_timestamp[0])

    async def access_timestamp(self) -> datetime.datetime:
        return await self._header_timestamp("access", cls_rbd.get_access_timestamp())

    async def modify_timestamp(self) -> datetime.datetime:
        return await self._header_timestamp("modify", cls_rbd.get_modify_timestamp())

    async def _header_timestamp(self, what: str, call: Any) -> datetime.datetime:
        ctx = self._checked()
        if ctx.old_format:
            return utc_datetime(0)  # librbd reads no timestamps from a format 1 header
        with translate("error getting {} timestamp for image: {!r}", what, ctx.name_bytes):
            (stamp,) = await exec_ops(ctx.ioctx, ctx.header_oid, [call])
        return utc_datetime(stamp[0])

    async def is_exclusive_lock_owner(self) -> bool:
        ctx = self._checked()
        with translate("error getting lock status for image {!r}", ctx.name_bytes):
            ctx.require_not_blocklisted()
        return ctx.exclusive_lock.is_owner

    # -- resize, metadata ----------------------------------------------------------------------

    async def resize(self, size: int, allow_shrink: bool = True) -> None:
        ctx = self._checked()
        size = as_uint64(size)
        with translate("error resizing image {!r}", ctx.name_bytes):
            await resize.resize(ctx, size, allow_shrink)

    async def metadata_get(self, key: str | bytes) -> str:
        return await metadata.metadata_get(self._checked(), key)

    async def metadata_set(self, key: str | bytes, value: str | bytes) -> None:
        ctx = self._checked()
        if not isinstance(key, (str, bytes)):
            raise rbdx.InvalidArgument("key must be a string")
        if not isinstance(value, (str, bytes)):
            raise rbdx.InvalidArgument("value must be a string")
        k, v = to_bytes(key), to_bytes(value)
        with translate("error setting metadata {!r} for image {!r}", k, ctx.name_bytes):
            await metadata.metadata_set(ctx, k, v)

    async def metadata_remove(self, key: str | bytes) -> None:
        await metadata.metadata_remove(self._checked(), key)

    async def metadata_list(self) -> list[tuple[str, str]]:
        ctx = self._checked()
        with translate("error listing metadata for image {!r}", ctx.name_bytes):
            return await metadata.metadata_list(ctx)

    # -- advisory locks ------------------------------------------------------------------------

    async def list_lockers(self) -> dict[str, Any] | list[Any]:
        ctx = self._checked()
        with translate("error listing images"):
            return await advisory_locks.list_lockers(ctx)

    async def lock_exclusive(self, cookie: str | bytes) -> None:
        ctx = self._checked()
        with translate("error acquiring exclusive lock on image"):
            await advisory_locks.lock(ctx, cls_lock.ClsLockType.EXCLUSIVE, cookie, "")

    async def lock_shared(self, cookie: str | bytes, tag: str | bytes) -> None:
        ctx = self._checked()
        with translate("error acquiring shared lock on image"):
            await advisory_locks.lock(ctx, cls_lock.ClsLockType.SHARED, cookie, tag)

    async def unlock(self, cookie: str | bytes) -> None:
        ctx = self._checked()
        with translate("error unlocking image"):
            await advisory_locks.unlock(ctx, cookie)

    async def break_lock(self, client: str | bytes, cookie: str | bytes) -> None:
        ctx = self._checked()
        with translate("error unlocking image"):
            await advisory_locks.break_lock(ctx, client, cookie)

    # -- snapshots -----------------------------------------------------------------------------

    async def list_snaps(self) -> list[dict[str, Any]]:
        return await snapshots.list_snaps(self._ctx)

    async def create_snap(self, name: str | bytes, flags: int = 0) -> None:
        await snapshots.create_snap(self._ctx, name, flags)

    async def rename_snap(self, srcname: str | bytes, dstname: str | bytes) -> None:
        await snapshots.rename_snap(self._ctx, srcname, dstname)

    async def remove_snap(self, name: str | bytes) -> None:
        await snapshots.remove_snap(self._ctx, name)

    async def remove_snap2(self, name: str | bytes, flags: int) -> None:
        ctx = self._checked()
        if isinstance(name, (str, bytes)) and isinstance(flags, int) \
                and 0 <= flags < 1 << 32 and flags & RBD_SNAP_REMOVE_FLATTEN:
            # api::Snapshot::remove flattens the snapshot's clones before anything else
            with translate("error removing snapshot {!r} from {!r} with flags {:x}",
                           to_bytes(name), ctx.name_bytes, flags):
                await flatten.flatten_children(ctx, to_str(name))
        await snapshots.remove_snap2(ctx, name, flags)

    async def remove_snap_by_id(self, snap_id: int) -> None:
        await snapshots.remove_snap_by_id(self._ctx, snap_id)

    async def rollback_to_snap(self, name: str | bytes) -> None:
        await snapshots.rollback_to_snap(self._ctx, name)

    async def protect_snap(self, name: str | bytes) -> None:
        await snapshots.protect_snap(self._ctx, name)

    async def unprotect_snap(self, name: str | bytes) -> None:
        await snapshots.unprotect_snap(self._ctx, name)

    async def is_protected_snap(self, name: str | bytes) -> bool:
        return await snapshots.is_protected_snap(self._ctx, name)

    async def snap_exists(self, name: str | bytes) -> bool:
        return await snapshots.snap_exists(self._ctx, name)

    async def get_snap_limit(self) -> int:
        return await snapshots.get_snap_limit(self._ctx)

    async def set_snap_limit(self, limit: int) -> int:
        return await snapshots.set_snap_limit(self._ctx, limit)

    async def remove_snap_limit(self) -> int:
        return await snapshots.remove_snap_limit(self._ctx)

    async def get_snap_timestamp(self, snap_id: int) -> datetime.datetime:
        return await snapshots.get_snap_timestamp(self._ctx, snap_id)

    async def set_snap(self, name: str | bytes | None) -> None:
        await snapshots.set_snap(self._ctx, name)

    async def set_snap_by_id(self, snap_id: int | None) -> None:
        await snapshots.set_snap_by_id(self._ctx, snap_id)

    async def snap_get_name(self, snap_id: int) -> str:
        return await snapshots.snap_get_name(self._ctx, snap_id)

    async def snap_get_id(self, snap_name: str | bytes) -> int:
        return await snapshots.snap_get_id(self._ctx, snap_name)

    async def snap_get_namespace_type(self, snap_id: int) -> int:
        return await snapshots.snap_get_namespace_type(self._ctx, snap_id)

    async def snap_get_group_namespace(self, snap_id: int) -> dict[str, Any]:
        return await snapshots.snap_get_group_namespace(self._ctx, snap_id)

    async def snap_get_trash_namespace(self, snap_id: int) -> dict[str, Any]:
        return await snapshots.snap_get_trash_namespace(self._ctx, snap_id)

    async def snap_get_mirror_namespace(self, snap_id: int) -> dict[str, Any]:
        return await snapshots.snap_get_mirror_namespace(self._ctx, snap_id)

    # -- clones: children and parent ----------------------------------------------------------

    async def list_children(self) -> list[tuple[str, str]]:
        """(pool name, image name) of each clone of the snapshot set (at HEAD: of every
        snapshot), children in the trash left out."""
        ctx = self._checked()
        with translate("error listing children."):
            return await layering.list_children(ctx)

    async def list_children2(self) -> list[dict[str, Any]]:
        """What ``rbd.ChildIterator(image)`` yields: pool, pool_namespace, image, id,
        trash."""
        ctx = self._checked()
        with translate("error listing children."):
            return await layering.list_descendants(ctx, 0)

    async def list_descendants(self) -> list[dict[str, Any]]:
        """As :meth:`list_children2`, with the clones of clones at any depth."""
        ctx = self._checked()
        with translate("error listing children."):
            return await layering.list_descendants(ctx, None)

    async def get_parent_image_spec(self) -> dict[str, str]:
        spec = await self._parent()
        return {key: spec[key] for key in ("pool_name", "pool_namespace", "image_name",
                                            "snap_name")}

    async def parent_info(self) -> tuple[str, str, str]:
        spec = await self._parent()
        return spec["pool_name"], spec["image_name"], spec["snap_name"]

    async def parent_id(self) -> str:
        return (await self._parent())["image_id"]

    async def migration_source_spec(self) -> dict[str, Any]:
        """The migration source of a migration destination (python-rbd 16.2's dict)."""
        ctx = self._checked()
        with translate("error retrieving migration source"):
            return await migration.source_spec(ctx)

    async def _parent(self) -> dict[str, str]:
        ctx = self._checked()
        with translate("error getting parent info for image {!r}", ctx.name_arg):
            return await layering.parent_image_spec(ctx)

    async def overlap(self) -> int:
        ctx = self._checked()
        with translate("error getting overlap for image {!r}", ctx.name_arg):
            return await layering.overlap(ctx)

    # -- groups ------------------------------------------------------------------------------------

    async def group(self) -> dict[str, Any]:
        """The image's group: ``pool`` (id, -1 for none) and ``name``."""
        ctx = self._checked()
        with translate("error getting group for image {!r}", ctx.name_bytes):
            return await groups.image_group(ctx)

    # -- diff ------------------------------------------------------------------------------------

    async def diff_iterate(self, offset: int, length: int, from_snapshot: str | bytes | None,
                           iterate_cb: Callable[[int, int, bool], Any],
                           include_parent: bool = True, whole_object: bool = False) -> None:
        """``iterate_cb(offset, length, exists)`` for each extent changed since
        ``from_snapshot`` (None: since the image was created)."""
        for extent in await self.diff_extents(offset, length, from_snapshot, include_parent,
                                              whole_object):
            iterate_cb(*extent)

    async def diff_extents(self, offset: int, length: int, from_snapshot: str | bytes | None,
                           include_parent: bool = True,
                           whole_object: bool = False) -> list[tuple[int, int, bool]]:
        """What :meth:`diff_iterate` reports, as a list of (offset, length, exists)."""
        ctx = self._checked()
        offset, length = as_uint64(offset), as_uint64(length)
        # python-rbd's message names the snapshot as the bytes it passed to librbd
        label = None if from_snapshot is None else to_bytes(from_snapshot)
        snap = None if from_snapshot is None else to_str(from_snapshot)
        with translate("error generating diff from snapshot {!r}", label):
            return await diff.diff_extents(ctx, offset, length, snap, include_parent,
                                           whole_object)

    # -- I/O ---------------------------------------------------------------------------------------

    async def read(self, offset: int, length: int, fadvise_flags: int = 0) -> bytes:
        ctx = self._checked()
        offset, length = as_uint64(offset), as_uint64(length)
        with translate("error reading {!r} {}~{}", ctx.name_bytes, offset, length):
            return await io.read(ctx, offset, length, fadvise_flags)

    async def write(self, data: Buffer, offset: int, fadvise_flags: int = 0) -> int:
        ctx = self._checked()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be a byte string")
        offset = as_uint64(offset)
        length = len(data)
        with translate("error writing to {!r}", ctx.name_bytes):
            written = await io.write(ctx, data, offset, fadvise_flags)
        if written < length:
            raise rbdx.IncompleteWriteError(f"Wrote only {written} out of {length} bytes")
        return written

    async def discard(self, offset: int, length: int) -> None:
        ctx = self._checked()
        offset, length = as_uint64(offset), as_uint64(length)
        with translate("error discarding region {}~{}", offset, length):
            await io.discard(ctx, offset, length)

    async def write_zeroes(self, offset: int, length: int, zero_flags: int = 0) -> None:
        ctx = self._checked()
        offset, length = as_uint64(offset), as_uint64(length)
        with translate("error zeroing region {}~{}", offset, length):
            await io.write_zeroes(ctx, offset, length, int(zero_flags))

    async def flush(self) -> None:
        """Writes are acknowledged on commit (no client cache): wait for in-flight ones."""
        ctx = self._checked()
        with translate("error flushing image"):
            ctx.require_not_blocklisted()
            await ctx.wait_io_idle()

    async def invalidate_cache(self) -> None:
        """No client-side cache: nothing to drop (librbd with rbd_cache=false)."""
        self._checked()

    # -- maintenance, the lock by hand, copy, config -------------------------------------------

    async def update_features(self, features: int, enabled: bool) -> None:
        await maintenance.update_features(self._ctx, features, enabled)

    async def rebuild_object_map(self) -> None:
        await maintenance.rebuild_object_map(self._ctx)

    async def sparsify(self, sparse_size: int) -> None:
        await maintenance.sparsify(self._ctx, sparse_size)

    async def flatten(self, on_progress: Callable[[int, int], object] | None = None) -> None:
        """Copy the parent's data into this clone and detach it from its parent.
        ``on_progress(done, total)`` runs on the event loop's thread, once per object."""
        await flatten.flatten(self._ctx, on_progress)

    async def watchers_list(self) -> list[dict[str, Any]]:
        return await maintenance.watchers_list(self._ctx)

    async def lock_acquire(self, lock_mode: int) -> None:
        await maintenance.lock_acquire(self._ctx, lock_mode)

    async def lock_release(self) -> None:
        await maintenance.lock_release(self._ctx)

    async def lock_get_owners(self) -> list[dict[str, Any]]:
        return await maintenance.lock_get_owners(self._ctx)

    async def lock_break(self, lock_mode: int, lock_owner: str | bytes) -> None:
        await maintenance.lock_break(self._ctx, lock_mode, lock_owner)

    async def copy(self, dest_ioctx: AsyncIoctx, dest_name: str | bytes,
                   features: int | None = None, order: int | None = None,
                   stripe_unit: int | None = None, stripe_count: int | None = None,
                   data_pool: str | None = None) -> None:
        await copy.copy(self._ctx, dest_ioctx, dest_name, features, order, stripe_unit,
                        stripe_count, data_pool)

    async def deep_copy(self, dest_ioctx: AsyncIoctx, dest_name: str | bytes,
                        features: int | None = None, order: int | None = None,
                        stripe_unit: int | None = None, stripe_count: int | None = None,
                        data_pool: str | None = None) -> None:
        await deep_copy.deep_copy(self._ctx, dest_ioctx, dest_name, features, order,
                                  stripe_unit, stripe_count, data_pool)

    async def config_list(self) -> list[dict[str, Any]]:
        return await config.image_config_list(self._ctx)

    async def config_get(self, key: str | bytes) -> str:
        return await config.image_config_get(self._ctx, key)

    async def config_set(self, key: str | bytes, value: str | bytes) -> None:
        await config.image_config_set(self._ctx, key, value)

    async def config_remove(self, key: str | bytes) -> None:
        await config.image_config_remove(self._ctx, key)


__all__ = ["AsyncImage"]
