"""RBD namespaces of a pool: create, remove, list, exists.

Theory of operation. A namespace is a RADOS namespace the pool's ``rbd_namespace`` object
(default namespace) lists. Creating one adds it there, then makes the namespace's own
``rbd_trash`` and sets its ``rbd_directory`` READY (undoing the earlier steps if a later
one fails). Removal disables the directory for new images and deletes it in one op (EBUSY
from cls while it still lists images), refuses a non-empty trash, deletes the
namespace's pool-level objects and drops the name; a refusal puts the directory back to
READY and reports EBUSY. ``exists`` asserts the namespace's directory is READY.

Every call works from the pool of ``ioctx`` whatever namespace it is set to, as librbd's
do (they work on a copy of the ioctx).

Mirrors: ceph src/librbd/api/Namespace.cc.
"""

from __future__ import annotations

import errno
import logging
from typing import TYPE_CHECKING

from rbdpy.format import cls_rbd
from rbdpy.format.cls_rbd import DirectoryState
from rbdpy.format.constants import (
    RBD_CHILDREN,
    RBD_DIRECTORY,
    RBD_GROUP_DIRECTORY,
    RBD_INFO,
    RBD_MIRRORING,
    RBD_NAMESPACE,
    RBD_TASK,
    RBD_TRASH,
)
from rbdpy.librbd.object_io import exec_ops
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.errors import CephError

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx

log = logging.getLogger(__name__)

# the pool-level objects a namespace may hold (Namespace.cc POOL_OBJECTS)
_NAMESPACE_OBJECTS = (RBD_CHILDREN, RBD_GROUP_DIRECTORY, RBD_INFO, RBD_MIRRORING, RBD_TASK,
                      RBD_TRASH, RBD_DIRECTORY)
_PAGE = 1024


async def _at(ioctx: AsyncIoctx, namespace: str) -> AsyncIoctx:
    io = await ioctx.dup()
    io.set_namespace(namespace)
    return io


async def _delete(io: AsyncIoctx, oid: str) -> None:
    try:
        await io.operate(oid, [ops.delete()])
    except CephError as e:
        if e.errno != errno.ENOENT:
            raise


async def create(ioctx: AsyncIoctx, name: str) -> None:
    if not name:
        raise CephError(errno.EINVAL, "namespace name must not be empty")
    default = await _at(ioctx, "")
    space = await _at(ioctx, name)
    try:
        await exec_ops(default, RBD_NAMESPACE, [cls_rbd.namespace_add(name)])
        try:
            await space.operate(RBD_TRASH, [ops.create(exclusive=False)])
            try:
                await exec_ops(space, RBD_DIRECTORY,
                               [cls_rbd.dir_state_set(DirectoryState.READY)])
            except CephError:
                await _delete(space, RBD_DIRECTORY)
                await _delete(space, RBD_TRASH)
                raise
        except CephError:
            try:
                await exec_ops(default, RBD_NAMESPACE, [cls_rbd.namespace_remove(name)])
            except CephError as e:
                log.debug("namespace %r: undoing the add failed: %s", name, e)
            raise
    finally:
        default.close()
        space.close()
    log.debug("created namespace %r", name)


async def remove(ioctx: AsyncIoctx, name: str) -> None:
    if not name:
        raise CephError(errno.EINVAL, "namespace name must not be empty")
    default = await _at(ioctx, "")
    space = await _at(ioctx, name)
    try:
        busy = False
        try:
            await exec_ops(space, RBD_DIRECTORY,
                           [cls_rbd.dir_state_set(DirectoryState.ADD_DISABLED), ops.delete()])
        except CephError as e:
            if e.errno == errno.EBUSY:
                busy = True  # the directory still lists images
            elif e.errno != errno.ENOENT:
                raise
        if not busy:
            try:
                (entries,) = await exec_ops(space, RBD_TRASH, [cls_rbd.trash_list("", 1)])
            except CephError as e:
                if e.errno != errno.ENOENT:
                    raise
                entries = {}
            busy = bool(entries)
        if busy:
            try:
                await exec_ops(space, RBD_DIRECTORY,
                               [cls_rbd.dir_state_set(DirectoryState.READY)])
            except CephError as e:
                log.debug("namespace %r: restoring the directory failed: %s", name, e)
            raise CephError(errno.EBUSY, f"namespace {name!r} is not empty")
        for oid in _NAMESPACE_OBJECTS:
            await _delete(space, oid)
        await exec_ops(default, RBD_NAMESPACE, [cls_rbd.namespace_remove(name)])
    finally:
        default.close()
        space.close()
    log.debug("removed namespace %r", name)


async def list_names(ioctx: AsyncIoctx) -> list[str]:
    default = await _at(ioctx, "")
    names: list[str] = []
    start = ""
    try:
        while True:
            try:
                (page,) = await exec_ops(default, RBD_NAMESPACE,
                                         [cls_rbd.namespace_list(start, _PAGE)])
            except CephError as e:
                if e.errno == errno.ENOENT:
                    break
                raise
            names.extend(page)
            if len(page) < _PAGE:
                break
            start = page[-1]
    finally:
        default.close()
    return names


async def exists(ioctx: AsyncIoctx, name: str) -> bool:
    if not name:
        raise CephError(errno.EINVAL, "namespace name must not be empty")
    space = await _at(ioctx, name)
    try:
        await exec_ops(space, RBD_DIRECTORY, [cls_rbd.dir_state_assert(DirectoryState.READY)])
    except CephError as e:
        if e.errno == errno.ENOENT:
            return False
        raise
    finally:
        space.close()
    return True


__all__ = ["create", "exists", "list_names", "remove"]
