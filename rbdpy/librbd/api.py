"""AsyncRBD: pool-level image management — create, list, remove, rename.

Theory of operation: an image is a directory entry (``rbd_directory`` omap, name ↔ id), an
id object (``rbd_id.<name>``), a header (``rbd_header.<id>``), an optional object map
(``rbd_object_map.<id>``) and its data objects. Creation builds them in librbd's order,
each step one compound op, and on failure undoes the steps already done in reverse
(CreateRequest): directory entry, id object (CREATE exclusive + ``set_id``), feature
negotiation with the OSD's cls_rbd (``get_all_features``, only for default features), header
(CREATE exclusive + ``create``), striping parameters, object map. Removal opens the image,
refuses while it has snapshots (ENOTEMPTY) or other watchers (EBUSY), takes the exclusive
lock, deletes the data objects, then the header, object map, id object and directory entry
(RemoveRequest). Rename writes the new id object, renames the directory entry, then drops
the old id object.

Argument handling follows python-rbd 16.2 as observed on the installed module (see
tests/integration/test_rbd_images.py): ``old_format=True`` still creates a format 2 image
(Pacific's ``rbd_create`` ignores it once rbd_default_format is 2) but refuses features,
striping and data pool; object names are not restricted beyond being non-empty.

Mirrors: ceph src/librbd/image/CreateRequest.cc, RemoveRequest.cc, src/librbd/api/Image.cc
(list_images, rename), src/librbd/internal.cc (create, rename), src/pybind/rbd/rbd.pyx (RBD).
"""

from __future__ import annotations

import builtins
import errno
import logging
import secrets
from typing import TYPE_CHECKING, Any

import trio

from rbdpy.format import cls_rbd
from rbdpy.format.constants import (
    MAX_OBJECT_MAP_OBJECT_COUNT,
    OBJECT_NONEXISTENT,
    RBD_DIRECTORY,
    RBD_FEATURE_DATA_POOL,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_JOURNALING,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURE_STRIPINGV2,
    RBD_FEATURES_ALL,
    RBD_FEATURES_DEFAULT,
    RBD_FEATURES_INTERNAL,
    RBD_MAX_BLOCK_NAME_PREFIX_LENGTH,
    data_object_prefix,
    features_from_string,
    generate_image_id,
    header_name,
    id_obj_name,
    object_map_name,
)
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd import io as image_io
from rbdpy.librbd.image import AsyncImage, as_uint64, translate
from rbdpy.librbd.object_map import exec_ops
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import to_str
from rbdpy.rados.proto.errors import CephError
from rbdpy.striping.layout import FileLayout, validate_order, validate_striping
from rbdpy.striping.striper import get_num_objects

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# conf defaults librbd uses when the caller passes none (src/common/options.cc)
_DEFAULT_ORDER = 22


def _conf_int(ioctx: AsyncIoctx, key: str, default: int) -> int:
    try:
        v = ioctx.rados.conf_get(key)
    except Exception:
        return default
    try:
        return int(v) if v not in (None, "") else default
    except ValueError:
        return default


def _conf_str(ioctx: AsyncIoctx, key: str) -> str | None:
    try:
        return ioctx.rados.conf_get(key)
    except Exception:
        return None


def _name_arg(name: Any, what: str = "name") -> str:
    if not isinstance(name, (str, bytes)):
        raise rbdx.InvalidArgument(f"{what} must be a string")
    return to_str(name)


class AsyncRBD:
    """The async twin of ``rbd.RBD`` (pool-level calls take an :class:`AsyncIoctx`)."""

    # -- create ------------------------------------------------------------------------------

    async def create(self, ioctx: AsyncIoctx, name: str | bytes, size: int,
                     order: int | None = None, old_format: bool = False,
                     features: int | None = None, stripe_unit: int | None = None,
                     stripe_count: int | None = None, data_pool: str | None = None) -> None:
        """Create a format 2 image (python-rbd ``RBD.create``)."""
        image_name = _name_arg(name)
        size = as_uint64(size)
        if order is not None:
            order = as_uint64(order)
        if old_format:
            if (features or (stripe_unit not in (None, 0)) or (stripe_count not in (None, 0))
                    or data_pool):
                raise rbdx.InvalidArgument("format 1 images do not support feature masks, "
                                           "non-default striping, nor data pool")
            features = None
        with translate("error creating image"):
            await self._create(ioctx, image_name, size, order, features,
                               as_uint64(stripe_unit or 0), as_uint64(stripe_count or 0),
                               data_pool)

    async def _create(self, ioctx: AsyncIoctx, name: str, size: int, order: int | None,
                      features: int | None, stripe_unit: int, stripe_count: int,
                      data_pool: str | None) -> None:
        if not name:
            raise CephError(errno.EINVAL, "image name must not be empty")
        # internal.cc create(): the name must not exist (in either format) first
        for oid in (id_obj_name(name), name + ".rbd"):
            try:
                await ioctx._operate(oid, [ops.stat()])
                raise CephError(errno.EEXIST, f"rbd image {name} already exists")
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise

        negotiate = features is None
        if features is None:
            text = _conf_str(ioctx, "rbd_default_features")
            features = features_from_string(text) if text else RBD_FEATURES_DEFAULT
        if features & ~RBD_FEATURES_ALL:
            raise CephError(errno.ENOSYS, "librbd does not support requested features")
        # Observed on librbd 16.2: internal bits are dropped, fast-diff follows object-map.
        features &= ~RBD_FEATURES_INTERNAL
        if features & RBD_FEATURE_OBJECT_MAP:
            features |= RBD_FEATURE_FAST_DIFF
        else:
            features &= ~RBD_FEATURE_FAST_DIFF
        if features & RBD_FEATURE_OBJECT_MAP and not features & RBD_FEATURE_EXCLUSIVE_LOCK:
            raise CephError(errno.EINVAL, "cannot use object map without exclusive lock")
        if features & RBD_FEATURE_JOURNALING:
            if not features & RBD_FEATURE_EXCLUSIVE_LOCK:
                raise CephError(errno.EINVAL, "cannot use journaling without exclusive lock")
            raise CephError(errno.EOPNOTSUPP, "journaling is not implemented in rbdpy")

        if not order:
            order = _conf_int(ioctx, "rbd_default_order", _DEFAULT_ORDER)
        if not stripe_unit:
            stripe_unit = _conf_int(ioctx, "rbd_default_stripe_unit", 0)
        if not stripe_count:
            stripe_count = _conf_int(ioctx, "rbd_default_stripe_count", 0)
        if data_pool is None:
            data_pool = _conf_str(ioctx, "rbd_default_data_pool") or ""
        if data_pool and data_pool != ioctx.get_pool_name():
            features |= RBD_FEATURE_DATA_POOL
        else:
            data_pool = ""
            features &= ~RBD_FEATURE_DATA_POOL
        fancy = (stripe_unit != 0 and stripe_unit != (1 << order)) or (
            stripe_count != 0 and stripe_count != 1)
        if fancy:
            features |= RBD_FEATURE_STRIPINGV2
        else:
            features &= ~RBD_FEATURE_STRIPINGV2

        validate_order(order)
        validate_striping(order, stripe_unit, stripe_count)
        layout = FileLayout.for_image(order, stripe_unit, stripe_count)
        if (features & RBD_FEATURE_OBJECT_MAP
                and get_num_objects(layout, size) > MAX_OBJECT_MAP_OBJECT_COUNT):
            raise CephError(errno.EINVAL, "image size not compatible with object map")

        data_pool_id = -1
        if data_pool:
            pid = await ioctx.rados.pool_lookup(data_pool)
            if pid is None:
                raise CephError(errno.ENOENT, f"data pool {data_pool} does not exist")
            data_pool_id = pid

        image_id = generate_image_id(ioctx.rados.get_instance_id(), secrets.randbits(32))
        hdr = header_name(image_id)
        undo: list[tuple[str, Any]] = []
        try:
            await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_add_image(name, image_id)])
            undo.append(("dir", None))
            await exec_ops(ioctx, id_obj_name(name),
                           [ops.create(exclusive=True), cls_rbd.set_id(image_id)])
            undo.append(("id", None))
            if negotiate:
                try:
                    (all_features,) = await exec_ops(ioctx, RBD_DIRECTORY,
                                                     [cls_rbd.get_all_features()])
                    features &= all_features
                except CephError as e:
                    log.debug("get_all_features failed: %s", e)
            prefix = data_object_prefix(image_id,
                                        ioctx.pool_id if data_pool_id >= 0 else None)
            if len(prefix) > RBD_MAX_BLOCK_NAME_PREFIX_LENGTH:
                raise CephError(errno.EINVAL, f"object prefix {prefix!r} too large")
            try:
                await exec_ops(ioctx, hdr, [ops.create(exclusive=True), cls_rbd.create(
                    size, order, features, prefix, data_pool_id)])
            except CephError as e:
                if e.errno == errno.EEXIST:
                    raise CephError(errno.EBADF, "image id already in use") from e
                raise
            undo.append(("header", None))
            if fancy:
                await exec_ops(ioctx, hdr, [cls_rbd.set_stripe_unit_count(
                    stripe_unit or (1 << order), stripe_count or 1)])
            if features & RBD_FEATURE_OBJECT_MAP:
                await exec_ops(ioctx, object_map_name(image_id), [cls_rbd.object_map_resize(
                    get_num_objects(layout, size), OBJECT_NONEXISTENT)])
                undo.append(("object_map", None))
        except BaseException:
            await self._undo_create(ioctx, name, image_id, undo)
            raise
        log.debug("created image %r id %s size %d features %#x order %d", name, image_id,
                  size, features, order)

    async def _undo_create(self, ioctx: AsyncIoctx, name: str, image_id: str,
                           undo: list[tuple[str, Any]]) -> None:
        for step, _ in reversed(undo):
            try:
                if step == "object_map":
                    await ioctx._operate(object_map_name(image_id), [ops.delete()])
                elif step == "header":
                    await ioctx._operate(header_name(image_id), [ops.delete()])
                elif step == "id":
                    await ioctx._operate(id_obj_name(name), [ops.delete()])
                elif step == "dir":
                    await exec_ops(ioctx, RBD_DIRECTORY,
                                   [cls_rbd.dir_remove_image(name, image_id)])
            except CephError as e:
                log.debug("create cleanup %s failed: %s", step, e)

    # -- list ---------------------------------------------------------------------------------

    async def _dir(self, ioctx: AsyncIoctx) -> dict[str, str]:
        out: dict[str, str] = {}
        start = ""
        while True:
            try:
                (page,) = await exec_ops(ioctx, RBD_DIRECTORY,
                                         [cls_rbd.dir_list(start, 1024)])
            except CephError as e:
                if e.errno == errno.ENOENT:
                    break
                raise
            out.update(page)
            if len(page) < 1024:
                break
            start = max(page)
        return out

    async def list(self, ioctx: AsyncIoctx) -> list[str]:
        with translate("error listing images"):
            return sorted(await self._dir(ioctx))

    async def list2(self, ioctx: AsyncIoctx) -> builtins.list[dict[str, str]]:
        with translate("error listing images"):
            entries = await self._dir(ioctx)
        return [{"id": entries[n], "name": n} for n in sorted(entries)]

    # -- remove ---------------------------------------------------------------------------------

    async def remove(self, ioctx: AsyncIoctx, name: str | bytes,
                     on_progress: Any = None) -> None:
        image_name = _name_arg(name)
        with translate("error removing image"):
            await self._remove(ioctx, image_name, on_progress)

    async def _remove(self, ioctx: AsyncIoctx, name: str, on_progress: Any = None) -> None:
        img = AsyncImage(ioctx, name)
        await img._open()
        try:
            if img.snapc.snaps:
                raise CephError(errno.ENOTEMPTY, "image has snapshots")
            watchers = await ioctx.list_watchers(img.header_oid)
            mine = img._watch.id if img._watch is not None else None
            gid = ioctx.rados.get_instance_id()
            others = [w for w in watchers if not (w.cookie == mine and w.name.num == gid)]
            if others:
                raise CephError(errno.EBUSY, "image still has watchers")
            await img.acquire_lock()
            img._io_start()
            try:
                # librbd's TrimRequest reports (objects done, object count) to the
                # ProgressContext; the user's callback runs on a worker thread, never on
                # the trio thread (it may call back into the blocking API).
                count = get_num_objects(img.layout, img.size_)
                if on_progress is not None:
                    await trio.to_thread.run_sync(on_progress, 0, count)
                await image_io.remove_all_objects(img)
                if on_progress is not None:
                    await trio.to_thread.run_sync(on_progress, count, count)
            finally:
                img._io_done()
            if img.object_map is not None:
                await img.object_map.unlock()
                img.object_map = None
        except BaseException:
            await img.close()
            raise
        # The header carries the lock and the watch: remove it last of the image's own
        # state, after dropping our watch (RemoveRequest: remove_header).
        img.lock_owner = False
        await img.close()
        for oid in (img.header_oid, object_map_name(img.image_id)):
            try:
                await ioctx._operate(oid, [ops.delete()])
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
        try:
            await exec_ops(ioctx, RBD_DIRECTORY, [cls_rbd.dir_remove_image(name, img.image_id)])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        try:
            await ioctx._operate(id_obj_name(name), [ops.delete()])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        log.debug("removed image %r id %s", name, img.image_id)

    # -- rename ---------------------------------------------------------------------------------

    async def rename(self, ioctx: AsyncIoctx, src: str | bytes, dest: str | bytes) -> None:
        src_name, dest_name = _name_arg(src, "src"), _name_arg(dest, "dest")
        with translate("error renaming image"):
            (image_id,) = await exec_ops(ioctx, id_obj_name(src_name), [cls_rbd.get_id()])
            if not dest_name:
                raise CephError(errno.EINVAL, "destination name must not be empty")
            try:
                await ioctx._operate(id_obj_name(dest_name), [ops.stat()])
                raise CephError(errno.EEXIST, f"rbd image {dest_name} already exists")
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
            await exec_ops(ioctx, id_obj_name(dest_name),
                           [ops.create(exclusive=True), cls_rbd.set_id(image_id)])
            try:
                await exec_ops(ioctx, RBD_DIRECTORY,
                               [cls_rbd.dir_rename_image(src_name, dest_name, image_id)])
            except BaseException:
                await ioctx._operate(id_obj_name(dest_name), [ops.delete()])
                raise
            await ioctx._operate(id_obj_name(src_name), [ops.delete()])

    # -- pool init, pool metadata, pool config overrides: see rbdpy.librbd.config --------

    async def pool_init(self, ioctx: AsyncIoctx, force: bool = False) -> None:
        from rbdpy.librbd import config

        await config.pool_init(ioctx, force)

    async def pool_metadata_get(self, ioctx: AsyncIoctx, key: str | bytes) -> str:
        from rbdpy.librbd import config

        return await config.pool_metadata_get(ioctx, key)

    async def pool_metadata_set(self, ioctx: AsyncIoctx, key: str | bytes,
                                value: str | bytes) -> None:
        from rbdpy.librbd import config

        await config.pool_metadata_set(ioctx, key, value)

    async def pool_metadata_remove(self, ioctx: AsyncIoctx, key: str | bytes) -> None:
        from rbdpy.librbd import config

        await config.pool_metadata_remove(ioctx, key)

    async def pool_metadata_list(self, ioctx: AsyncIoctx) -> builtins.list[tuple[str, str]]:
        from rbdpy.librbd import config

        return await config.pool_metadata_list(ioctx)

    async def config_list(self, ioctx: AsyncIoctx) -> builtins.list[dict[str, Any]]:
        from rbdpy.librbd import config

        return await config.config_list(ioctx)

    async def config_get(self, ioctx: AsyncIoctx, key: str | bytes) -> str:
        from rbdpy.librbd import config

        return await config.config_get(ioctx, key)

    async def config_set(self, ioctx: AsyncIoctx, key: str | bytes,
                         value: str | bytes) -> None:
        from rbdpy.librbd import config

        await config.config_set(ioctx, key, value)

    async def config_remove(self, ioctx: AsyncIoctx, key: str | bytes) -> None:
        from rbdpy.librbd import config

        await config.config_remove(ioctx, key)

    # -- local helpers (python-rbd) ------------------------------------------------------

    def features_to_string(self, features: int) -> str:
        from rbdpy.format.constants import features_to_string

        with translate("error converting features bitmask to str"):
            return features_to_string(features)

    def features_from_string(self, str_features: str) -> int:
        with translate("error getting features bitmask from str"):
            return features_from_string(str_features)


__all__ = ["AsyncImage", "AsyncRBD"]
