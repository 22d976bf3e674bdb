"""Copying an image into a new one (``Image.copy``): header settings, metadata, data.

The destination is created with the source's size and, unless the caller overrides them,
its order, features and striping; the metadata pairs are copied, then the data, one object
set (object size × stripe count) at a time with a few sets in flight. Runs of zeros are
skipped at 4 KiB granularity, so the copy is as sparse as librbd's.

Mirrors: ceph src/librbd/internal.cc (copy), src/librbd/deep_copy (the sparse read/write).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.coerce import as_uint64
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.create import create_image
from rbdpy.librbd.errors import translate
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.io import read, write
from rbdpy.librbd.metadata import metadata_list
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto.bytestr import to_bytes, to_str

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

# Granularity of the zero test when copying (librbd copies sparse at 4 KiB too).
_COPY_SPARSE_SIZE = 4096


async def copy(ictx: ImageCtx, dest_ioctx: AsyncIoctx, dest_name: str | bytes,
               features: int | None = None, order: int | None = None,
               stripe_unit: int | None = None, stripe_count: int | None = None,
               data_pool: str | None = None) -> None:
    ictx.require_not_closed()
    if not isinstance(dest_name, (str, bytes)):
        raise rbdx.InvalidArgument("dest_name must be a string")
    if data_pool is not None and not isinstance(data_pool, (str, bytes)):
        raise rbdx.InvalidArgument("data_pool must be a string")
    name = to_str(dest_name)
    with translate("error copying image {!r} to {!r}", ictx.name_bytes, to_bytes(dest_name)):
        await ictx.maybe_refresh()
        size = ictx.size
        feats = ictx.features if features is None else as_uint64(features)
        await create_image(
            dest_ioctx, name, size,
            ictx.order if order is None else as_uint64(order), feats,
            ictx.stripe_unit if stripe_unit is None else as_uint64(stripe_unit),
            ictx.stripe_count if stripe_count is None else as_uint64(stripe_count),
            to_str(data_pool) if data_pool is not None else None)
        dest = await ImageCtx.open(dest_ioctx, name)
        try:
            meta = await metadata_list(ictx)
            if meta:
                await dest.writing(lambda: exec_ops(
                    dest.ioctx, dest.header_oid,
                    [cls_rbd.metadata_set({k: v.encode() for k, v in meta})]))
            await _copy_data(ictx, dest, size)
        finally:
            await dest.close()


async def _copy_data(src: ImageCtx, dest: ImageCtx, size: int) -> None:
    # one object set of the source per step (internal.cc copy: period = object size *
    # stripe count), a few steps in flight
    period = src.layout.object_size * max(1, src.layout.stripe_count)

    def job(off: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            length = min(period, size - off)
            data = await read(src, off, length)
            view = memoryview(data)
            zero = bytes(_COPY_SPARSE_SIZE)
            start: int | None = None
            for i in range(0, length + _COPY_SPARSE_SIZE, _COPY_SPARSE_SIZE):
                chunk = view[i:i + _COPY_SPARSE_SIZE]
                nonzero = len(chunk) > 0 and chunk != zero[:len(chunk)]
                if nonzero and start is None:
                    start = i
                elif not nonzero and start is not None:
                    await write(dest, view[start:i], off + start)
                    start = None
        return run

    await fan_out([job(off) for off in range(0, size, period)], limit=4)


__all__ = ["copy"]
