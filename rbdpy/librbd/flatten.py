"""Flatten: copy into a clone everything it still reads from its parent, then detach it.

Theory of operation (librbd's FlattenRequest): as the exclusive-lock owner, every HEAD
object that lies below the parent overlap and that the image may lack is copied up -- the
copy-up of the write path with no write after it, so an object whose parent data is all
zeros is left absent. Objects the object map says exist are skipped. Copy-ups run
``rbd_concurrent_management_ops`` at a time; ``on_progress(done, total)`` is called per
object. Then the child leaves its parent: the parent's record of the child goes (the
``rbd_children`` index of the child's pool for a clone v1, ``child_detach`` on the parent
snapshot for v2, and a trashed parent snapshot with it once no child is left:
rbdpy.librbd.parent_link), unless the image has no deep-flatten and snapshots still read
from the parent -- those keep the link, as librbd keeps it -- and then HEAD's parent link
is dropped (cls ``parent_detach``, which keeps what snapshots still need).

A flatten interrupted (cancelled, or the client gone) before the detach leaves a
consistent clone: the objects already copied up hold exactly the parent's data, so reads
are unchanged, and running flatten again finishes the job.

Mirrors: ceph src/librbd/operation/FlattenRequest.cc, io/CopyupRequest.cc,
io/Utils.cc (trigger_copyup), image/DetachChildRequest.cc, image/DetachParentRequest.cc.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from functools import partial

from rbdpy.format.constants import RBD_FEATURE_DEEP_FLATTEN
from rbdpy.format.object_map import object_may_not_exist
from rbdpy.format.types import ParentImageSpec
from rbdpy.format.watch_notify import NotifyOp
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.errors import translate
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.io import copyup, parent_extents
from rbdpy.librbd.parent_link import child_specs, detach_child, detach_parent, open_ioctx_at
from rbdpy.rados.proto.errors import CephError

log = logging.getLogger(__name__)

# rbd_concurrent_management_ops (Pacific default)
CONCURRENT_COPYUPS = 10

ProgressCallback = Callable[[int, int], object]


async def flatten(ictx: ImageCtx, on_progress: ProgressCallback | None = None) -> None:
    """``Image.flatten``: copy the parent's data in and detach from the parent."""
    ictx.require_not_closed()
    with translate("error flattening {!r}", ictx.name_bytes):
        await _flatten(ictx, on_progress)


async def _flatten(ictx: ImageCtx, on_progress: ProgressCallback | None) -> None:
    ictx.require_writable()
    async with ictx.exclusive_op():
        if ictx.head_parent_overlap is None:
            raise CephError(errno.EINVAL, "image has no parent")
        await _copy_up_all(ictx, on_progress)
        await _detach(ictx)
        await ictx.refresh()
        await ictx.notify_header(NotifyOp.HEADER_UPDATE)


async def flatten_children(ictx: ImageCtx, snap_name: str) -> None:
    """Flatten every clone of the user snapshot ``snap_name`` (``RBD_SNAP_REMOVE_FLATTEN``,
    librbd's api::Image::flatten_children); errors as CephError.

    Each child is opened read-write by id in its own pool and namespace and flattened. A
    child without deep-flatten that has snapshots would keep the parent snapshot in use:
    EBUSY, as librbd ("snapshot in-use"). An unknown snapshot flattens nothing (the
    removal that follows reports it).
    """
    await ictx.maybe_refresh()
    info = await ictx.lookup_snap(snap_name)
    if info is None:
        return
    spec = ParentImageSpec(ictx.ioctx.pool_id, ictx.ioctx.get_namespace(), ictx.image_id,
                           info.id)
    for child in sorted(await child_specs(ictx.ioctx, spec)):
        cio = await open_ioctx_at(ictx.ioctx, child.pool_id, child.pool_namespace)
        try:
            cctx = ImageCtx(cio, image_id=child.image_id)
            await cctx.open_image()
            try:
                if not cctx.features & RBD_FEATURE_DEEP_FLATTEN and cctx.snapc.snaps:
                    raise CephError(errno.EBUSY, f"snapshot in use by {cctx.name!r}")
                await _flatten(cctx, None)
            finally:
                await cctx.close()
        finally:
            cio.close()
        log.debug("image %s: flattened child %s of snapshot %r", ictx.name,
                  child.image_id, snap_name)


async def _copy_up_all(ictx: ImageCtx, on_progress: ProgressCallback | None) -> None:
    overlap = ictx.head_parent_overlap or 0
    total = ictx.num_objects(min(overlap, ictx.size))
    done = 0
    om = ictx.object_map

    async def flatten_object(objectno: int) -> None:
        nonlocal done
        if (om is None or not _exists(ictx, objectno)) and parent_extents(ictx, objectno):
            # False: another request's copy-up of it was in flight; look again
            while not await copyup(ictx, objectno, []):
                pass
        done += 1
        if on_progress is not None:
            on_progress(done, total)

    # a window of copy-ups in flight, as librbd's AsyncObjectThrottle keeps
    await fan_out([partial(flatten_object, n) for n in range(total)], CONCURRENT_COPYUPS)


def _exists(ictx: ImageCtx, objectno: int) -> bool:
    """The object map says the object is there (EXISTS or EXISTS_CLEAN)."""
    om = ictx.object_map
    return om is not None and objectno < len(om) \
        and not object_may_not_exist(om.bits[objectno])


async def _detach(ictx: ImageCtx) -> None:
    spec = ictx.parent_spec
    # FlattenRequest: without deep-flatten, snapshots keep reading from the parent, so
    # the parent keeps knowing this child until the last such snapshot goes.
    keep_link = not ictx.features & RBD_FEATURE_DEEP_FLATTEN and bool(ictx.snapc.snaps)
    if not keep_link:
        await detach_child(ictx)
    await detach_parent(ictx)
    log.debug("flatten %s: detached from parent %s@%#x", ictx.name, spec.image_id,
              spec.snap_id)


__all__ = ["flatten", "flatten_children"]
