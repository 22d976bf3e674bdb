"""``RBD.pool_stats_get``: image and trash counts, provisioned bytes, snapshots.

Theory of operation, as librbd's api::Pool::get_stats: the images are those of the
directory plus half-removed ones (rbdpy.librbd.listing.images_with_removing), the trash
images every trash entry but the half-removed. For each image, one read of the header
gives the HEAD size (provisioned bytes) and the snap context (the snapshot count); a
second reads every snapshot's size, and the largest of HEAD's and the snapshots' is the
image's max provisioned bytes. An image whose header is gone counts but adds no bytes.

Mirrors: ceph src/librbd/api/Pool.cc.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.format.constants import header_name
from rbdpy.format.types import TrashImageSource
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.listing import images_with_removing, trash_entries
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx


async def _image_sizes(ioctx: AsyncIoctx, image_id: str) -> tuple[int, int, int]:
    """(HEAD size, max size over HEAD and snapshots, snapshot count); zeros if gone."""
    oid = header_name(image_id)
    try:
        head, snapc = await exec_ops(ioctx, oid, [cls_rbd.get_size(CEPH_NOSNAP),
                                                  cls_rbd.get_snapcontext()])
        largest = head.size
        if snapc.snaps:
            sizes = await exec_ops(ioctx, oid, [cls_rbd.get_size(s) for s in snapc.snaps])
            largest = max([largest, *(s.size for s in sizes)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return 0, 0, 0
    return head.size, largest, len(snapc.snaps)


async def _totals(ioctx: AsyncIoctx, image_ids: Iterable[str]) -> tuple[int, int, int, int]:
    ids = list(image_ids)
    results: list[tuple[int, int, int]] = [(0, 0, 0)] * len(ids)

    def job(i: int) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            results[i] = await _image_sizes(ioctx, ids[i])
        return run

    await fan_out([job(i) for i in range(len(ids))])
    return (len(ids), sum(r[0] for r in results), sum(r[1] for r in results),
            sum(r[2] for r in results))


async def pool_stats(ioctx: AsyncIoctx) -> dict[str, int]:
    """python-rbd's ``pool_stats_get`` dict for ``ioctx``'s pool and namespace."""
    images = await images_with_removing(ioctx)
    trashed = [i for i, s in (await trash_entries(ioctx)).items()
               if s.source != TrashImageSource.REMOVING]
    count, provisioned, max_provisioned, snaps = await _totals(ioctx, images.values())
    t_count, t_provisioned, t_max, t_snaps = await _totals(ioctx, trashed)
    return {
        "image_count": count,
        "image_provisioned_bytes": provisioned,
        "image_max_provisioned_bytes": max_provisioned,
        "image_snap_count": snaps,
        "trash_count": t_count,
        "trash_provisioned_bytes": t_provisioned,
        "trash_max_provisioned_bytes": t_max,
        "trash_snap_count": t_snaps,
    }


__all__ = ["pool_stats"]
