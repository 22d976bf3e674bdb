"""The runtime object map of an open image: which data objects may exist.

Theory of operation: with the OBJECT_MAP feature, ``rbd_object_map.<id>`` holds one 2-bit
state per data object (``rbdpy.format.object_map.BitVector``). Only the exclusive-lock
owner changes it, and it guards the object itself with a second cls lock (``rbd_lock``,
exclusive, empty cookie and tag) taken when the image lock is acquired and dropped when it
is released; every update carries an ``assert_locked`` so a client that lost the lock
cannot scribble on the map. The in-memory copy mirrors what the OSD stores: an update is
sent first (``object_map_update`` with the same start/end/state/current-state the OSD
applies) and applied locally only once the OSD accepted it, so a failed write never
leaves the map claiming less than the truth. Updates are skipped when no entry in the
range would change (``ObjectMap::update_required``).

The I/O path calls :meth:`ObjectMap.update` before writing an object (→ EXISTS) and around
removing one (→ PENDING before, → NONEXISTENT after). Reads consult :meth:`may_exist`.

Mirrors: ceph src/librbd/ObjectMap.cc (aio_update, update_required, object_may_exist),
src/librbd/object_map/LockRequest.cc, UnlockRequest.cc, UpdateRequest.cc, RefreshRequest.cc,
src/librbd/operation/ResizeRequest.cc (object map grow/shrink).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rbdpy.format import cls_lock, cls_rbd
from rbdpy.format.cls import ClsCall
from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_NONEXISTENT,
    OBJECT_PENDING,
    RBD_LOCK_NAME,
    object_map_name,
)
from rbdpy.format.object_map import BitVector, object_may_exist, update_required
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.ops import OSDOp

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

_FLAG_WRITE = ops.OsdFlag.WRITE


async def exec_ops(ioctx: AsyncIoctx, oid: str, calls: Sequence[ClsCall[Any] | OSDOp],
                   **kw: Any) -> list[Any]:
    """Run cls calls (and plain ops) on one object in ONE compound op; decoded results.

    A mutating call puts the op in librados' ObjectWriteOperation (WRITE flag, so the
    image snap context travels with it). The first failing op fails the whole op, and its
    errno is raised as :class:`CephError`, as librados' aio_operate returns it.
    """
    osd_ops = [c.op() if isinstance(c, ClsCall) else c for c in calls]
    write = any(c.write if isinstance(c, ClsCall) else c.is_write() for c in calls)
    reply = await ioctx._operate(oid, osd_ops, flags=_FLAG_WRITE if write else 0, **kw)
    return [o.decode_reply(r, d) for o, r, d in zip(osd_ops, reply.rvals, reply.outdata,
                                                    strict=True)]


class ObjectMap:
    """The HEAD object map of an image, held while owning the exclusive lock."""

    def __init__(self, ioctx: AsyncIoctx, image_id: str, snap_id: int = CEPH_NOSNAP) -> None:
        self.ioctx = ioctx
        self.oid = object_map_name(image_id, snap_id)
        self.bits = BitVector()
        self.locked = False

    # -- lock / load / unlock (object_map::LockRequest, RefreshRequest, UnlockRequest) ----

    async def lock(self) -> None:
        """Take the object map's own cls lock, breaking stale holders (LockRequest)."""
        for _ in range(3):
            try:
                await exec_ops(self.ioctx, self.oid, [cls_lock.lock(
                    RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, "", "", "")])
                self.locked = True
                return
            except CephError as e:
                if e.errno == errno.EEXIST:
                    self.locked = True
                    return
                if e.errno != errno.EBUSY:
                    raise
            # A previous owner died holding it: the image lock (which we hold) is what
            # counts, so librbd breaks every locker of the map object.
            (info,) = await exec_ops(self.ioctx, self.oid,
                                     [cls_lock.get_info(RBD_LOCK_NAME)])
            for locker in info.lockers:
                log.debug("object map %s: breaking stale lock of %s", self.oid,
                          locker.locker)
                try:
                    await exec_ops(self.ioctx, self.oid, [cls_lock.break_lock(
                        RBD_LOCK_NAME, locker.locker, locker.cookie)])
                except CephError as e:
                    if e.errno != errno.ENOENT:
                        raise
        raise CephError(errno.EBUSY, f"cannot lock object map {self.oid}")

    async def load(self, object_count: int) -> None:
        """Read the map (RefreshRequest); resize it if it disagrees with the image size."""
        (self.bits,) = await exec_ops(self.ioctx, self.oid, [cls_rbd.object_map_load()])
        if len(self.bits) != object_count:
            # librbd's RefreshRequest "resizes" a map of the wrong size rather than
            # failing the open; new entries are NONEXISTENT.
            log.debug("object map %s has %d entries, image needs %d: resizing", self.oid,
                      len(self.bits), object_count)
            await self.resize(object_count, OBJECT_NONEXISTENT)

    async def unlock(self) -> None:
        if not self.locked:
            return
        self.locked = False
        try:
            await exec_ops(self.ioctx, self.oid, [cls_lock.unlock(RBD_LOCK_NAME, "")])
        except CephError as e:
            if e.errno != errno.ENOENT:
                raise

    # -- queries and updates --------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.bits)

    def may_exist(self, objectno: int) -> bool:
        """False only when the map says the object is absent (ObjectMap::object_may_exist)."""
        if objectno >= len(self.bits):
            return True
        return object_may_exist(self.bits[objectno])

    def existing(self) -> list[int]:
        """Object numbers the map does not mark NONEXISTENT."""
        return [i for i, s in enumerate(self.bits) if s != OBJECT_NONEXISTENT]

    def _assert_locked(self) -> ClsCall[None]:
        return cls_lock.assert_locked(RBD_LOCK_NAME, cls_lock.ClsLockType.EXCLUSIVE, "", "")

    async def update(self, start: int, end: int, new_state: int,
                     current_state: int | None = None) -> None:
        """Set entries [start, end) to ``new_state`` (only those in ``current_state``)."""
        end = min(end, len(self.bits))
        if start >= end:
            return
        if not any(update_required(self.bits[i], new_state)
                   and (current_state is None or self.bits[i] == current_state)
                   for i in range(start, end)):
            return
        await exec_ops(self.ioctx, self.oid, [
            self._assert_locked(),
            cls_rbd.object_map_update(start, end, new_state, current_state)])
        self.bits.object_map_update(start, end, new_state, current_state)

    async def resize(self, object_count: int, default_state: int) -> None:
        """``object_map_resize`` (grow with ``default_state``; shrink drops the tail)."""
        calls: list[ClsCall[Any]] = [cls_rbd.object_map_resize(object_count, default_state)]
        if self.locked:
            calls.insert(0, self._assert_locked())
        await exec_ops(self.ioctx, self.oid, calls)
        self.bits.object_map_resize(object_count, default_state)

    async def mark_exists(self, objnos: Sequence[int]) -> None:
        """Before writing: EXISTS for every listed object not already marked so, one
        update per contiguous run (librbd updates per object; runs save round trips)."""
        todo = sorted({n for n in objnos if n < len(self.bits)
                       and self.bits[n] != OBJECT_EXISTS})
        for start, end in _runs(todo):
            await self.update(start, end, OBJECT_EXISTS)

    async def mark_pending(self, objnos: Sequence[int]) -> None:
        for start, end in _runs(sorted(set(objnos))):
            await self.update(start, end, OBJECT_PENDING)

    async def mark_removed(self, objnos: Sequence[int]) -> None:
        for start, end in _runs(sorted(set(objnos))):
            await self.update(start, end, OBJECT_NONEXISTENT, OBJECT_PENDING)


def _runs(sorted_nums: Sequence[int]) -> list[tuple[int, int]]:
    """[1,2,3,7] -> [(1,4), (7,8)]."""
    runs: list[tuple[int, int]] = []
    for n in sorted_nums:
        if runs and runs[-1][1] == n:
            runs[-1] = (runs[-1][0], n + 1)
        else:
            runs.append((n, n + 1))
    return runs
