"""AsyncRBD: the public async face of pool-level image management (``rbdpy.aio.AsyncRBD``).

Like :class:`~rbdpy.librbd.image.AsyncImage`, each method checks and coerces its arguments
as python-rbd's signatures do, calls one subsystem, and translates errors with python-rbd's
message for the call: creation in rbdpy.librbd.create, clones in rbdpy.librbd.layering,
listing/removal/renaming in rbdpy.librbd.directory, pool init/metadata/config overrides in
rbdpy.librbd.config, groups in rbdpy.librbd.groups.

python-rbd 16.2's argument handling, as observed on the installed module
(tests/integration/test_rbd_images.py, test_format1.py): ``old_format=True`` refuses
features, striping and a data pool, then creates in the client's rbd_default_format (format
2 by default; format 1 only with RBD_FORCE_ALLOW_V1 in the environment, EINVAL without);
image names are not restricted beyond being non-empty.
"""

from __future__ import annotations

import builtins
import time
from typing import TYPE_CHECKING, Any

from rbdpy.format.constants import features_from_string, features_to_string
from rbdpy.librbd import (
    config,
    directory,
    groups,
    layering,
    migration,
    namespaces,
    pool_stats,
    trash,
)
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.coerce import as_uint64
from rbdpy.librbd.create import create_image, create_image_default_format
from rbdpy.librbd.errors import translate, translate_group
from rbdpy.rados.proto.bytestr import to_bytes, to_str

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx


def _name_arg(name: Any, what: str = "name") -> str:
    if not isinstance(name, (str, bytes)):
        raise rbdx.InvalidArgument(f"{what} must be a string")
    return to_str(name)


class AsyncRBD:
    """The async twin of ``rbd.RBD`` (pool-level calls take an :class:`AsyncIoctx`)."""

    async def create(self, ioctx: AsyncIoctx, name: str | bytes, size: int,
                     order: int | None = None, old_format: bool = False,
                     features: int | None = None, stripe_unit: int | None = None,
                     stripe_count: int | None = None, data_pool: str | None = None) -> None:
        """Create an image (python-rbd ``RBD.create``)."""
        image_name = _name_arg(name)
        size = as_uint64(size)
        if order is not None:
            order = as_uint64(order)
        if old_format:
            if (features or (stripe_unit not in (None, 0)) or (stripe_count not in (None, 0))
                    or data_pool):
                raise rbdx.InvalidArgument("format 1 images do not support feature masks, "
                                           "non-default striping, nor data pool")
            with translate("error creating image"):
                await create_image_default_format(ioctx, image_name, size, order)
            return
        with translate("error creating image"):
            await create_image(ioctx, image_name, size, order, features,
                               as_uint64(stripe_unit or 0), as_uint64(stripe_count or 0),
                               data_pool)

    async def clone(self, p_ioctx: AsyncIoctx, p_name: str | bytes, p_snapname: str | bytes,
                    c_ioctx: AsyncIoctx, c_name: str | bytes, features: int | None = None,
                    order: int | None = None, stripe_unit: int | None = None,
                    stripe_count: int | None = None, data_pool: str | None = None) -> None:
        """Clone the snapshot ``p_snapname`` of ``p_name`` (python-rbd ``RBD.clone``)."""
        # python-rbd coerces in this order: p_snapname, p_name, c_name, data_pool, then
        # the numbers as librbd image options (uint64)
        snap_name = _name_arg(p_snapname, "p_snapname")
        parent_name = _name_arg(p_name, "p_name")
        child_name = _name_arg(c_name, "c_name")
        pool = None if data_pool is None else _name_arg(data_pool, "data_pool")
        numbers = [None if v is None else as_uint64(v)
                   for v in (features, order, stripe_unit, stripe_count)]
        with translate("error creating clone"):
            await layering.clone(p_ioctx, parent_name, snap_name, c_ioctx, child_name,
                                 numbers[0], numbers[1], numbers[2], numbers[3], pool)

    async def list(self, ioctx: AsyncIoctx) -> builtins.list[str]:
        with translate("error listing images"):
            return sorted(await directory.list_images(ioctx))

    async def list2(self, ioctx: AsyncIoctx) -> builtins.list[dict[str, str]]:
        with translate("error listing images"):
            entries = await directory.list_images(ioctx)
        return [{"id": entries[n], "name": n} for n in sorted(entries)]

    async def remove(self, ioctx: AsyncIoctx, name: str | bytes,
                     on_progress: Any = None) -> None:
        """Remove an image through the trash, as librbd does (rbdpy.librbd.trash).

        ``on_progress(done, total)`` runs on the event loop's thread before each data
        object goes (it may be a coroutine function); a negative int result stops the
        removal with that errno (-ECANCELED: OperationCanceled)."""
        image_name = _name_arg(name)
        with translate("error removing image"):
            await trash.remove_by_name(ioctx, image_name, on_progress)

    # -- the trash -------------------------------------------------------------------------

    async def trash_move(self, ioctx: AsyncIoctx, name: str | bytes, delay: int = 0) -> None:
        image_name = _name_arg(name)
        seconds = as_uint64(delay)
        with translate("error moving image to trash"):
            await trash.move(ioctx, image_name, seconds)

    async def trash_get(self, ioctx: AsyncIoctx, image_id: str | bytes) -> dict[str, Any]:
        ident = _name_arg(image_id, "image_id")
        with translate("error retrieving image from trash"):
            return await trash.get(ioctx, ident)

    async def trash_list(self, ioctx: AsyncIoctx) -> builtins.list[dict[str, Any]]:
        with translate("error listing the trash"):
            return await trash.list_entries(ioctx)

    async def trash_remove(self, ioctx: AsyncIoctx, image_id: str | bytes, force: bool = False,
                           on_progress: Any = None) -> None:
        """``on_progress`` as :meth:`remove`."""
        ident = _name_arg(image_id, "image_id")
        with translate("error deleting image from trash"):
            await trash.remove(ioctx, ident, bool(force), on_progress)

    async def trash_restore(self, ioctx: AsyncIoctx, image_id: str | bytes,
                            name: str | bytes) -> None:
        ident = _name_arg(image_id, "image_id")
        new_name = _name_arg(name)
        with translate("error restoring image from trash"):
            await trash.restore(ioctx, ident, new_name)

    async def trash_purge(self, ioctx: AsyncIoctx, expire_ts: Any = None,
                          threshold: float = -1) -> None:
        """``expire_ts``: a datetime, None for now. python-rbd reads it with
        ``time.mktime(expire_ts.timetuple())`` (local time), and so does rbdpy."""
        if not isinstance(threshold, (int, float)):
            # python-rbd declares it a C float
            raise TypeError(f"must be real number, not {type(threshold).__name__}")
        seconds = 0
        if expire_ts:
            seconds = int(time.mktime(expire_ts.timetuple()))
        with translate("error purging images from trash"):
            await trash.purge(ioctx, seconds, float(threshold))

    # -- namespaces and pool statistics ----------------------------------------------------

    async def namespace_create(self, ioctx: AsyncIoctx, name: str | bytes) -> None:
        ns = _name_arg(name)
        with translate("error creating namespace"):
            await namespaces.create(ioctx, ns)

    async def namespace_remove(self, ioctx: AsyncIoctx, name: str | bytes) -> None:
        ns = _name_arg(name)
        with translate("error removing namespace"):
            await namespaces.remove(ioctx, ns)

    async def namespace_exists(self, ioctx: AsyncIoctx, name: str | bytes) -> bool:
        ns = _name_arg(name)
        with translate("error verifying namespace"):
            return await namespaces.exists(ioctx, ns)

    async def namespace_list(self, ioctx: AsyncIoctx) -> builtins.list[str]:
        with translate("error listing namespaces"):
            return await namespaces.list_names(ioctx)

    async def pool_stats_get(self, ioctx: AsyncIoctx) -> dict[str, int]:
        with translate("error retrieving pool stats"):
            return await pool_stats.pool_stats(ioctx)

    async def rename(self, ioctx: AsyncIoctx, src: str | bytes, dest: str | bytes) -> None:
        src_name, dest_name = _name_arg(src, "src"), _name_arg(dest, "dest")
        with translate("error renaming image"):
            await directory.rename_image(ioctx, src_name, dest_name)

    # -- live migration (rbdpy.librbd.migration) ------------------------------------------

    async def migration_prepare(self, ioctx: AsyncIoctx, image_name: str | bytes,
                                dest_ioctx: AsyncIoctx, dest_image_name: str | bytes,
                                features: int | None = None, order: int | None = None,
                                stripe_unit: int | None = None,
                                stripe_count: int | None = None,
                                data_pool: str | None = None) -> None:
        """Start moving ``image_name`` to ``dest_image_name`` in ``dest_ioctx``'s pool."""
        src_name = _name_arg(image_name, "image_name")
        dst_name = _name_arg(dest_image_name, "dest_image_name")
        pool = None if data_pool is None else _name_arg(data_pool, "data_pool")
        numbers = [None if v is None else as_uint64(v)
                   for v in (features, order, stripe_unit, stripe_count)]
        with translate("error migrating image {!r}", to_bytes(src_name)):
            await migration.prepare(ioctx, src_name, dest_ioctx, dst_name, numbers[0],
                                    numbers[1], numbers[2], numbers[3], pool)

    async def migration_prepare_import(self, source_spec: str | bytes, dest_ioctx: AsyncIoctx,
                                       dest_image_name: str | bytes,
                                       features: int | None = None, order: int | None = None,
                                       stripe_unit: int | None = None,
                                       stripe_count: int | None = None,
                                       data_pool: str | None = None) -> None:
        """Start an import-only migration into ``dest_image_name`` from the JSON
        ``source_spec`` (rbdpy reads raw images in local files)."""
        if not isinstance(source_spec, (str, bytes)):
            raise rbdx.InvalidArgument("source_spec must be a string")
        spec = to_str(source_spec)
        dst_name = _name_arg(dest_image_name, "dest_image_name")
        pool = None if data_pool is None else _name_arg(data_pool, "data_pool")
        numbers = [None if v is None else as_uint64(v)
                   for v in (features, order, stripe_unit, stripe_count)]
        with translate("error migrating image {!r}", to_bytes(spec)):
            await migration.prepare_import(spec, dest_ioctx, dst_name, numbers[0],
                                           numbers[1], numbers[2], numbers[3], pool)

    async def migration_execute(self, ioctx: AsyncIoctx, image_name: str | bytes,
                                on_progress: Any = None) -> None:
        name = _name_arg(image_name, "image_name")
        # python-rbd 16.2 labels execute's and commit's errors as an abort's
        with translate("error aborting migration"):
            await migration.execute(ioctx, name, on_progress)

    async def migration_commit(self, ioctx: AsyncIoctx, image_name: str | bytes,
                               on_progress: Any = None) -> None:
        name = _name_arg(image_name, "image_name")
        with translate("error aborting migration"):
            await migration.commit(ioctx, name, on_progress)

    async def migration_abort(self, ioctx: AsyncIoctx, image_name: str | bytes,
                              on_progress: Any = None) -> None:
        name = _name_arg(image_name, "image_name")
        with translate("error aborting migration"):
            await migration.abort(ioctx, name, on_progress)

    async def migration_status(self, ioctx: AsyncIoctx,
                               image_name: str | bytes) -> dict[str, Any]:
        """python-rbd's dict; like python-rbd 16.2's binding, ``dest_pool_id`` repeats the
        source pool id (librbd itself reports the destination's)."""
        name = _name_arg(image_name, "image_name")
        with translate("error getting migration status"):
            status = await migration.status(ioctx, name)
        status["dest_pool_id"] = status["source_pool_id"]
        return status

    # -- pool init, pool metadata, pool config overrides ---------------------------------

    async def pool_init(self, ioctx: AsyncIoctx, force: bool = False) -> None:
        await config.pool_init(ioctx, force)

    async def pool_metadata_get(self, ioctx: AsyncIoctx, key: str | bytes) -> str:
        return await config.pool_metadata_get(ioctx, key)

    async def pool_metadata_set(self, ioctx: AsyncIoctx, key: str | bytes,
                                value: str | bytes) -> None:
        await config.pool_metadata_set(ioctx, key, value)

    async def pool_metadata_remove(self, ioctx: AsyncIoctx, key: str | bytes) -> None:
        await config.pool_metadata_remove(ioctx, key)

    async def pool_metadata_list(self, ioctx: AsyncIoctx) -> builtins.list[tuple[str, str]]:
        return await config.pool_metadata_list(ioctx)

    async def config_list(self, ioctx: AsyncIoctx) -> builtins.list[dict[str, Any]]:
        return await config.config_list(ioctx)

    async def config_get(self, ioctx: AsyncIoctx, key: str | bytes) -> str:
        return await config.config_get(ioctx, key)

    async def config_set(self, ioctx: AsyncIoctx, key: str | bytes,
                         value: str | bytes) -> None:
        await config.config_set(ioctx, key, value)

    async def config_remove(self, ioctx: AsyncIoctx, key: str | bytes) -> None:
        await config.config_remove(ioctx, key)

    # -- groups (rbdpy.librbd.groups; the group itself: rbdpy.librbd.group.AsyncGroup) --

    async def group_create(self, ioctx: AsyncIoctx, name: str | bytes) -> None:
        group_name = _name_arg(name)
        with translate_group("error creating group {!r}", to_bytes(group_name)):
            await groups.create_group(ioctx, group_name)

    async def group_remove(self, ioctx: AsyncIoctx, name: str | bytes) -> None:
        group_name = _name_arg(name)
        with translate_group("error removing group"):
            await groups.remove_group(ioctx, group_name)

    async def group_list(self, ioctx: AsyncIoctx) -> builtins.list[str]:
        with translate_group("error listing groups"):
            return await groups.list_groups(ioctx)

    async def group_rename(self, ioctx: AsyncIoctx, src: str | bytes,
                           dest: str | bytes) -> None:
        src_name, dest_name = _name_arg(src, "src"), _name_arg(dest, "dest")
        # python-rbd translates this one with the image map (ImageNotFound, ImageExists)
        with translate("error renaming group"):
            await groups.rename_group(ioctx, src_name, dest_name)

    # -- local helpers (python-rbd) ------------------------------------------------------

    def features_to_string(self, features: int) -> str:
        with translate("error converting features bitmask to str"):
            return features_to_string(features)

    def features_from_string(self, str_features: str) -> int:
        with translate("error getting features bitmask from str"):
            return features_from_string(str_features)


__all__ = ["AsyncRBD"]
