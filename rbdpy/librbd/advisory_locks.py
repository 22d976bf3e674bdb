"""Advisory locks: the user-visible ``lock_exclusive``/``lock_shared``/``unlock``/
``break_lock``/``list_lockers`` calls on an image.

They are cls ``lock`` calls on the same ``rbd_lock`` of the header that the managed
exclusive lock uses, with python-rbd's semantics: a user lock is refused (EBUSY) while this
client owns the managed lock itself, and breaking another client's lock blocklists that
client first (``rbd_blocklist_on_break_lock``, on by default), so it cannot keep writing.

Mirrors: ceph src/librbd/internal.cc (lock, unlock, break_lock, list_lockers).
"""

from __future__ import annotations

import errno
from typing import Any

from rbdpy.format import cls_lock
from rbdpy.format.constants import RBD_LOCK_NAME
from rbdpy.librbd.exclusive_lock import addr_text
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto.bytestr import to_str
from rbdpy.rados.proto.errors import CephError


async def list_lockers(ictx: ImageCtx) -> dict[str, Any] | list[Any]:
    """python-rbd's shape: ``[]`` when unlocked, else tag, exclusive flag and lockers."""
    try:
        (info,) = await exec_ops(ictx.ioctx, ictx.header_oid, [cls_lock.get_info(RBD_LOCK_NAME)])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise
        return []
    if not info.lockers:
        return []
    return {
        "tag": info.tag,
        "exclusive": info.lock_type == cls_lock.ClsLockType.EXCLUSIVE,
        "lockers": [(str(lid.locker), lid.cookie, addr_text(li.addr))
                    for lid, li in info.lockers.items()],
    }


async def lock(ictx: ImageCtx, kind: cls_lock.ClsLockType, cookie: str | bytes,
               tag: str | bytes) -> None:
    # librbd refuses advisory locks while it owns the managed lock itself.
    if ictx.exclusive_lock.is_owner:
        raise CephError(errno.EBUSY, "image exclusively locked by this client")
    await exec_ops(ictx.ioctx, ictx.header_oid, [cls_lock.lock(
        RBD_LOCK_NAME, kind, to_str(cookie), to_str(tag), "", (0, 0), 0)])


async def unlock(ictx: ImageCtx, cookie: str | bytes) -> None:
    await exec_ops(ictx.ioctx, ictx.header_oid,
                   [cls_lock.unlock(RBD_LOCK_NAME, to_str(cookie))])


async def break_lock(ictx: ImageCtx, client: str | bytes, cookie: str | bytes) -> None:
    try:
        locker = cls_lock.EntityNameT.parse(to_str(client))
    except ValueError:
        raise CephError(errno.EINVAL, f"bad client name {client!r}") from None
    cookie_text = to_str(cookie)
    (info,) = await exec_ops(ictx.ioctx, ictx.header_oid, [cls_lock.get_info(RBD_LOCK_NAME)])
    match = [li for lid, li in info.lockers.items()
             if lid.locker == locker and lid.cookie == cookie_text]
    if not match:
        raise CephError(errno.ENOENT, "no such locker")
    # rbd_blocklist_on_break_lock (default true): fence the client first.
    await ictx.ioctx.rados.blocklist_add(addr_text(match[0].addr))
    await exec_ops(ictx.ioctx, ictx.header_oid, [cls_lock.break_lock(
        RBD_LOCK_NAME, locker, cookie_text)])


__all__ = ["break_lock", "list_lockers", "lock", "unlock"]
