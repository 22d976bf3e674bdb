"""Image metadata: the key/value pairs kept in the header's omap.

Reads go straight to the header. Writes (set, remove) are header changes: they run as the
exclusive-lock owner through :meth:`ImageCtx.writing` and end with a HEADER_UPDATE so other
clients re-read. Keys starting with ``conf_`` are per-image config overrides and are checked
against the option table first (rbdpy.librbd.config reads them back). A missing key is
python-rbd's KeyError, raised here with python-rbd's message.

Mirrors: ceph src/librbd/internal.cc (metadata_get, metadata_list), src/librbd/Operations.cc
(metadata_set, metadata_remove), operation/MetadataSetRequest.cc, MetadataRemoveRequest.cc.
"""

from __future__ import annotations

import errno
from typing import Any

from rbdpy.format import cls_rbd
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.config_check import check_override
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto.bytestr import to_bytes, to_str
from rbdpy.rados.proto.errors import CephError

# metadata_list page size (librbd lists 64 keys per cls call by default)
_LIST_PAGE = 64


def _key_error(key: bytes, ictx: ImageCtx) -> KeyError:
    return KeyError(f"no metadata {key!r} for image {ictx.name_bytes!r}")


async def metadata_get(ictx: ImageCtx, key: str | bytes) -> str:
    k = to_bytes(key)
    try:
        (value,) = await exec_ops(ictx.ioctx, ictx.header_oid,
                                  [cls_rbd.metadata_get(to_str(k))])
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise _key_error(k, ictx) from None
        raise rbdx.make_ex(e.errno, f"error getting metadata {k!r} for image "
                                    f"{ictx.name_bytes!r}") from e
    return str(value)


async def metadata_set(ictx: ImageCtx, key: bytes, value: bytes) -> None:
    check_override(to_str(key), to_str(value), image=True)  # conf_* keys (Operations.cc)
    await ictx.writing(lambda: header_change(ictx, cls_rbd.metadata_set({to_str(key): value})))


async def metadata_remove(ictx: ImageCtx, key: str | bytes) -> None:
    k = to_bytes(key)
    try:
        # librbd reads the key first: removing a missing key is ENOENT
        await exec_ops(ictx.ioctx, ictx.header_oid, [cls_rbd.metadata_get(to_str(k))])
        await ictx.writing(lambda: header_change(ictx, cls_rbd.metadata_remove(to_str(k))))
    except CephError as e:
        if e.errno == errno.ENOENT:
            raise _key_error(k, ictx) from None
        raise rbdx.make_ex(e.errno, f"error removing metadata {k!r} for image "
                                    f"{ictx.name_bytes!r}") from e


async def metadata_list(ictx: ImageCtx) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    start = ""
    while True:
        (page,) = await exec_ops(ictx.ioctx, ictx.header_oid,
                                 [cls_rbd.metadata_list(start, _LIST_PAGE)])
        out.extend((k, v.decode("utf-8", "replace")) for k, v in page.items())
        if len(page) < _LIST_PAGE:
            return out
        start = max(page)


async def header_change(ictx: ImageCtx, call: Any) -> None:
    """One cls call on the header, then HEADER_UPDATE (the caller owns the lock)."""
    await exec_ops(ictx.ioctx, ictx.header_oid, [call])
    await ictx.notify_header(NotifyOp.HEADER_UPDATE)


__all__ = ["header_change", "metadata_get", "metadata_list", "metadata_remove", "metadata_set"]
