"""Creating an image: the objects of a format-2 image, built in librbd's order.

Theory of operation: an image is a directory entry (``rbd_directory`` omap, name ↔ id), an
id object (``rbd_id.<name>``), a header (``rbd_header.<id>``), an optional object map
(``rbd_object_map.<id>``) and, later, its data objects. Creation checks that neither format
of the name exists, settles the features (defaults from ``rbd_default_features``, internal
bits dropped, fast-diff following object-map, the OSD's cls_rbd asked which it supports when
the caller gave none), the order, striping and data pool (configured defaults when not
given), then builds the objects one compound op each: directory entry, id object (CREATE
exclusive + ``set_id``), header (CREATE exclusive + ``create``), striping parameters,
object map. A failure undoes the steps already done, newest first.

Used by the public ``create`` and by image copy.

Mirrors: ceph src/librbd/image/CreateRequest.cc, src/librbd/internal.cc (create).
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
from typing import TYPE_CHECKING, Any

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
from rbdpy.format.v1_header import block_name_for, header_object_name
from rbdpy.librbd import format1
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto import ops
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


async def _require_name_free(ioctx: AsyncIoctx, name: str) -> None:
    """internal.cc create(): the name must not exist, in either format, first."""
    if not name:
        raise CephError(errno.EINVAL, "image name must not be empty")
    for oid in (id_obj_name(name), header_object_name(name)):
        try:
            await ioctx.operate(oid, [ops.stat()])
            raise CephError(errno.EEXIST, f"rbd image {name} already exists")
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise


async def create_image_default_format(ioctx: AsyncIoctx, name: str, size: int,
                                      order: int | None) -> None:
    """librbd's oldest create call (``rbd_create``, python-rbd's ``old_format=True``): only
    the order is given, so the format is the client's ``rbd_default_format``.

    Format 2 (the default) is :func:`create_image` with every other choice left to the
    configuration. Format 1 follows internal.cc ``create``: the name check and the order
    first, then a refusal (EINVAL) unless ``RBD_FORCE_ALLOW_V1`` is in the environment,
    then ``create_v1`` (EINVAL in a namespace; the block name from our instance id and a
    random u32, as ``init_rbd_header``).
    """
    if _conf_int(ioctx, "rbd_default_format", 2) != 1:
        await create_image(ioctx, name, size, order, None, 0, 0, None)
        return
    await _require_name_free(ioctx, name)
    if not order:
        order = _conf_int(ioctx, "rbd_default_order", _DEFAULT_ORDER)
    validate_order(order)
    if "RBD_FORCE_ALLOW_V1" not in os.environ:
        raise CephError(errno.EINVAL, "format 1 image creation unsupported")
    if ioctx.get_namespace():
        raise CephError(errno.EINVAL, "format 1 images cannot live in a namespace")
    block_name = block_name_for(ioctx.rados.get_instance_id(), secrets.randbits(32))
    await format1.create(ioctx, name, size, order, block_name)


async def create_image(ioctx: AsyncIoctx, name: str, size: int, order: int | None,
                       features: int | None, stripe_unit: int, stripe_count: int,
                       data_pool: str | None) -> None:
    """CreateRequest with arguments already coerced; errors as CephError."""
    await _require_name_free(ioctx, name)

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
        await _undo_create(ioctx, name, image_id, undo)
        raise
    log.debug("created image %r id %s size %d features %#x order %d", name, image_id,
              size, features, order)

async def _undo_create(ioctx: AsyncIoctx, name: str, image_id: str,
                       undo: list[tuple[str, Any]]) -> None:
    for step, _ in reversed(undo):
        try:
            if step == "object_map":
                await ioctx.operate(object_map_name(image_id), [ops.delete()])
            elif step == "header":
                await ioctx.operate(header_name(image_id), [ops.delete()])
            elif step == "id":
                await ioctx.operate(id_obj_name(name), [ops.delete()])
            elif step == "dir":
                await exec_ops(ioctx, RBD_DIRECTORY,
                               [cls_rbd.dir_remove_image(name, image_id)])
        except CephError as e:
            log.debug("create cleanup %s failed: %s", step, e)


__all__ = ["create_image"]
