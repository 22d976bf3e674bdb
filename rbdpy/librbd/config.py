"""Pool metadata, pool- and image-level config overrides, and ``rbd pool init``.

Theory of operation: librbd keeps pool metadata as cls_rbd ``metadata_*`` key/values in the
omap of the pool's ``rbd_info`` object (stored as ``metadata_<key>``), and image metadata in
the image header's omap. A config override is metadata whose key is ``conf_<option>``: at
pool level in ``rbd_info`` of the default namespace, at image level in the header.
Setting one validates it first -- the option must be one of the ``rbd_*`` options librbd
lets that level override (:mod:`rbdpy.librbd.config_schema`) and the value must parse as
that option's type within its bounds (ConfigProxy::set_val) -- else EINVAL; a pool-level
change also bumps ``rbd_config_pool_override_update_timestamp`` in the mon config
database so running librbd clients re-read their pool overrides.

``config_list`` shows every option with its value and source: CONFIG (this client's
configuration, else the compiled default), POOL, IMAGE -- the order of librbd's
``Config::list`` (a std::map, so sorted by name).

``pool_init`` is ``rbd pool init``: enable the "rbd" application on the pool, then
ValidatePoolRequest in the default namespace -- when ``rbd_info`` does not already say
"overwrite validated": allocate a self-managed snapshot (forces the pool into
self-managed snap mode; EINVAL if it has pool snapshots), create ``rbd_info`` = "validate",
drop the snapshot, overwrite with "overwrite validated" (EOPNOTSUPP from an EC pool without
overwrites becomes EINVAL).

Mirrors: ceph src/librbd/api/PoolMetadata.cc, src/librbd/api/Config.cc, src/librbd/api/Pool.cc
(init), src/librbd/image/ValidatePoolRequest.cc, src/librbd/Operations.cc (metadata_set
validation), src/librbd/Utils.cc (is_metadata_config_override), src/common/options.h
(Option::parse_value), src/common/strtol.cc (strict_si_cast, strict_iec_cast);
src/pybind/rbd/rbd.pyx (config_*, pool_metadata_*, pool_init, ConfigPoolIterator,
ConfigImageIterator).
"""

from __future__ import annotations

import errno
import logging
import time
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_rbd
from rbdpy.format.constants import RBD_INFO
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.config_check import CONF_PREFIX, check_override
from rbdpy.librbd.config_schema import RBD_OPTIONS, RbdOption
from rbdpy.librbd.errors import translate
from rbdpy.librbd.metadata import header_change, metadata_list
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import to_bytes, to_str
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.librbd.image_ctx import ImageCtx
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# rbd_config_source_t
RBD_CONFIG_SOURCE_CONFIG = 0
RBD_CONFIG_SOURCE_POOL = 1
RBD_CONFIG_SOURCE_IMAGE = 2
# Config.cc / GetMetadataRequest page size
_MAX_KEYS = 64

_OVERWRITE_VALIDATED = b"overwrite validated"
_VALIDATE = b"validate"

def _client_value(ioctx: AsyncIoctx, opt: RbdOption) -> str:
    """The option as this client's configuration has it (librbd: cct->_conf.get_val)."""
    try:
        conf = ioctx.rados.config
        if conf.is_set(opt.name):
            return str(conf.get(opt.name))
    except Exception as e:  # unknown to our conf layer: the compiled default
        log.debug("conf %s: %s", opt.name, e)
    return opt.default


# -- pool metadata (api/PoolMetadata.cc) -------------------------------------------------------


async def _default_ns(ioctx: AsyncIoctx) -> AsyncIoctx:
    if not ioctx.get_namespace():
        return ioctx
    dup = await ioctx.dup()
    dup.set_namespace("")
    return dup


async def _pool_meta_list(ioctx: AsyncIoctx, start: str = "",
                          prefix: str = "") -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    while True:
        try:
            (page,) = await exec_ops(ioctx, RBD_INFO, [cls_rbd.metadata_list(start, _MAX_KEYS)])
        except CephError as e:
            if e.errno == errno.ENOENT:
                break  # no rbd_info yet: no metadata
            raise
        items = sorted(page.items())
        for k, v in items:
            if prefix and not k.startswith(prefix):
                return out
            out.append((k, bytes(v)))
        if len(items) < _MAX_KEYS:
            break
        start = items[-1][0]
    return out


async def _update_pool_timestamp(ioctx: AsyncIoctx) -> None:
    """Tell librbd clients the pool overrides changed (PoolMetadata.cc)."""
    import json

    cmd = json.dumps({"prefix": "config set", "who": "global",
                      "name": "rbd_config_pool_override_update_timestamp",
                      "value": str(int(time.time()))})
    try:
        monc = ioctx.rados.monc
        assert monc is not None
        r, _, outs = await monc.command([cmd])
        if r < 0:
            log.debug("pool override timestamp update failed: %d %s", r, outs)
    except Exception as e:  # not fatal in librbd either
        log.debug("pool override timestamp update failed: %s", e)


async def pool_metadata_get(ioctx: AsyncIoctx, key: str | bytes) -> str:
    k = to_str(_key(key, "key"))
    try:
        (v,) = await exec_ops(ioctx, RBD_INFO, [cls_rbd.metadata_get(k)])
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise KeyError(f"no metadata {to_bytes(k)!r}") from None
        raise rbdx.make_ex(e.errno, f"error getting metadata {to_bytes(k)!r}") from e
    return str(v)


async def pool_metadata_set(ioctx: AsyncIoctx, key: str | bytes, value: str | bytes) -> None:
    k = to_str(_key(key, "key"))
    v = to_bytes(_key(value, "value"))
    with translate("error setting metadata {!r}", to_bytes(k)):
        await _pool_metadata_set(ioctx, k, v)


async def _pool_metadata_set(ioctx: AsyncIoctx, k: str, v: bytes) -> None:
    check_override(k, to_str(v), image=False)
    await exec_ops(ioctx, RBD_INFO, [cls_rbd.metadata_set({k: v})])
    if k.startswith(CONF_PREFIX):
        await _update_pool_timestamp(ioctx)


async def pool_metadata_remove(ioctx: AsyncIoctx, key: str | bytes) -> None:
    k = to_str(_key(key, "key"))
    try:
        await _pool_metadata_remove(ioctx, k)
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise KeyError(f"no metadata {to_bytes(k)!r}") from None
        raise rbdx.make_ex(e.errno, f"error removing metadata {to_bytes(k)!r}") from e


async def _pool_metadata_remove(ioctx: AsyncIoctx, k: str) -> None:
    # librbd reads the key first: a missing key is ENOENT, not a silent success
    await exec_ops(ioctx, RBD_INFO, [cls_rbd.metadata_get(k)])
    await exec_ops(ioctx, RBD_INFO, [cls_rbd.metadata_remove(k)])
    if k.startswith(CONF_PREFIX):
        await _update_pool_timestamp(ioctx)


async def pool_metadata_list(ioctx: AsyncIoctx) -> list[tuple[str, str]]:
    with translate("error listing metadata"):
        pairs = await _pool_meta_list(ioctx)
    return [(k, v.decode("utf-8", "replace")) for k, v in pairs]


def _key(value: Any, what: str) -> str | bytes:
    if not isinstance(value, (str, bytes)):
        raise rbdx.InvalidArgument(f"{what} must be a string")
    return value


# -- pool config overrides (rbd.pyx RBD.config_*, api/Config.cc) ------------------------------


async def config_list(ioctx: AsyncIoctx) -> list[dict[str, Any]]:
    with translate("error listing config options"):
        base = await _default_ns(ioctx)
        return await _config_rows(base, image=None)


async def _config_rows(ioctx: AsyncIoctx, image: ImageCtx | None) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for name, opt in sorted(RBD_OPTIONS.items()):
        if image is not None and not opt.image:
            continue
        rows[name] = {"name": name, "value": _client_value(ioctx, opt),
                      "source": RBD_CONFIG_SOURCE_CONFIG}
    for k, v in await _pool_meta_list(ioctx, CONF_PREFIX, CONF_PREFIX):
        row = rows.get(k[len(CONF_PREFIX):])
        if row is not None:
            row["value"], row["source"] = v.decode("utf-8", "replace"), RBD_CONFIG_SOURCE_POOL
    if image is not None:
        for k, sv in await metadata_list(image):
            row = rows.get(k[len(CONF_PREFIX):]) if k.startswith(CONF_PREFIX) else None
            if row is not None:
                row["value"], row["source"] = sv, RBD_CONFIG_SOURCE_IMAGE
    return list(rows.values())


async def config_get(ioctx: AsyncIoctx, key: str | bytes) -> str:
    k = to_str(_key(key, "key"))
    pool = ioctx.get_pool_name()
    try:
        (v,) = await exec_ops(ioctx, RBD_INFO, [cls_rbd.metadata_get(CONF_PREFIX + k)])
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise KeyError(f"no config {k} for pool {pool}") from None
        raise rbdx.make_ex(e.errno, f"error getting config {k} for pool {pool}") from e
    return str(v)


async def config_set(ioctx: AsyncIoctx, key: str | bytes, value: str | bytes) -> None:
    k = to_str(_key(key, "key"))
    v = to_bytes(_key(value, "value"))
    with translate("error setting config {} for pool {}", k, ioctx.get_pool_name()):
        await _pool_metadata_set(ioctx, CONF_PREFIX + k, v)


async def config_remove(ioctx: AsyncIoctx, key: str | bytes) -> None:
    k = to_str(_key(key, "key"))
    pool = ioctx.get_pool_name()
    try:
        await _pool_metadata_remove(ioctx, CONF_PREFIX + k)
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise KeyError(f"no config {k} for pool {pool}") from None
        raise rbdx.make_ex(e.errno, f"error removing config {k} for pool {pool}") from e


# -- image config overrides (rbd.pyx Image.config_*) -------------------------------------------


async def image_config_list(ictx: ImageCtx) -> list[dict[str, Any]]:
    ictx.require_not_closed()
    with translate("error listing config options for image {!r}", ictx.name_bytes):
        base = await _default_ns(ictx.ioctx)
        return await _config_rows(base, image=ictx)


async def image_config_get(ictx: ImageCtx, key: str | bytes) -> str:
    ictx.require_not_closed()
    k = to_str(_key(key, "key"))
    try:
        (v,) = await exec_ops(ictx.ioctx, ictx.header_oid,
                              [cls_rbd.metadata_get(CONF_PREFIX + k)])
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise KeyError(f"no config {k} for image {ictx.name_bytes!r}") from None
        raise rbdx.make_ex(e.errno, f"error getting config {k} for image "
                                    f"{ictx.name_bytes!r}") from e
    return str(v)


async def image_config_set(ictx: ImageCtx, key: str | bytes, value: str | bytes) -> None:
    ictx.require_not_closed()
    k = to_str(_key(key, "key"))
    v = to_bytes(_key(value, "value"))
    with translate("error setting config {} for image {!r}", k, ictx.name_bytes):
        check_override(CONF_PREFIX + k, to_str(v), image=True)
        await ictx.writing(lambda: header_change(ictx, cls_rbd.metadata_set({CONF_PREFIX + k: v})))


async def image_config_remove(ictx: ImageCtx, key: str | bytes) -> None:
    ictx.require_not_closed()
    k = to_str(_key(key, "key"))
    try:
        await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.metadata_get(CONF_PREFIX + k)])
        await ictx.writing(lambda: header_change(ictx, cls_rbd.metadata_remove(CONF_PREFIX + k)))
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise KeyError(f"no config {k} for image {ictx.name_bytes!r}") from None
        raise rbdx.make_ex(e.errno, f"error removing config {k} for image "
                                    f"{ictx.name_bytes!r}") from e


# -- rbd pool init (api/Pool.cc init, image/ValidatePoolRequest.cc) --------------------------


async def pool_init(ioctx: AsyncIoctx, force: bool = False) -> None:
    with translate("error initializing pool"):
        await _app_enable(ioctx, bool(force))
        io = await _default_ns(ioctx)
        # rbd_validate_pool (default true), possibly overridden at pool level
        try:
            (flag,) = await exec_ops(io, RBD_INFO,
                                     [cls_rbd.metadata_get(CONF_PREFIX + "rbd_validate_pool")])
            if str(flag).lower() in ("false", "0"):
                return
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise
        await _validate_pool(io)


async def _app_enable(ioctx: AsyncIoctx, force: bool) -> None:
    import json

    cmd: dict[str, Any] = {"prefix": "osd pool application enable",
                           "pool": ioctx.get_pool_name(), "app": "rbd"}
    if force:
        cmd["yes_i_really_mean_it"] = True
    monc = ioctx.rados.monc
    assert monc is not None
    r, _, outs = await monc.command([json.dumps(cmd)])
    if r < 0:
        raise CephError(-r, outs)
    await ioctx.rados.wait_for_latest_osdmap()


async def _validate_pool(io: AsyncIoctx) -> None:
    try:
        reply = await io.operate(RBD_INFO, [ops.read(0, 0)])
        content: bytes | None = bytes(reply.outdata[0])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        content = None
    if content == _OVERWRITE_VALIDATED:
        return
    if content != _VALIDATE:
        # a self-managed snapshot id forces the pool into self-managed snaps mode
        from rbdpy.rados.proto.messages.mon import PoolOp

        try:
            snap_id = await io.rados.pool_op(PoolOp.CREATE_UNMANAGED_SNAP, pool=io.pool_id)
        except CephError as e:
            log.debug("pool %s: self-managed snapshot allocation failed: %s", io.name, e)
            raise
        failure: CephError | None = None
        try:
            await io.operate(RBD_INFO, [ops.create(exclusive=True), ops.write(0, _VALIDATE)],
                              flags=ops.OsdFlag.WRITE)
        except CephError as e:
            if e.errno == errno.EOPNOTSUPP:
                failure = CephError(errno.EINVAL, "pool missing required overwrite support")
            elif e.errno != errno.EEXIST:
                failure = e
        try:
            await io.rados.pool_op(PoolOp.DELETE_UNMANAGED_SNAP, pool=io.pool_id,
                                    snapid=snap_id)
        except CephError as e:  # not fatal (ValidatePoolRequest)
            log.debug("pool %s: removing validation snapshot failed: %s", io.name, e)
        if failure is not None:
            raise failure
    try:
        await io.operate(RBD_INFO, [ops.write(0, _OVERWRITE_VALIDATED)],
                          flags=ops.OsdFlag.WRITE)
    except CephError as e:
        if e.errno == errno.EOPNOTSUPP:
            raise CephError(errno.EINVAL, "pool missing required overwrite support") from e
        raise


__all__ = ["config_get", "config_list", "config_remove",
           "config_set", "image_config_get", "image_config_list", "image_config_remove",
           "image_config_set", "pool_init", "pool_metadata_get", "pool_metadata_list",
           "pool_metadata_remove", "pool_metadata_set"]
