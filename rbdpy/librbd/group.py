"""AsyncGroup: the public async face of one RBD group (``rbdpy.aio.AsyncGroup``).

The async twin of python-rbd's ``rbd.Group``: each method coerces its arguments as the
Cython signature does, calls rbdpy.librbd.groups, and translates errors with python-rbd's
message and its group exception map (``group_errno_to_exception``). Like ``rbd.Group``,
constructing one does not look the group up: a group that does not exist fails at the
first call that needs it (ObjectNotFound), and lists as empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd import groups
from rbdpy.librbd.coerce import as_uint64
from rbdpy.librbd.errors import translate_group
from rbdpy.rados.proto.bytestr import to_bytes, to_str

if TYPE_CHECKING:
    from rbdpy.rados.ioctx import AsyncIoctx


def _name_arg(value: Any, what: str) -> str:
    """python-rbd ``cstr(value, what)``: str/bytes, else InvalidArgument."""
    if not isinstance(value, (str, bytes)):
        raise rbdx.InvalidArgument(f"{what} must be a string")
    return to_str(value)


class AsyncGroup:
    """The group ``name`` of the pool (and namespace) behind ``ioctx``."""

    def __init__(self, ioctx: AsyncIoctx, name: str | bytes) -> None:
        self._name = _name_arg(name, "name")
        self._ioctx = ioctx

    @property
    def name_bytes(self) -> bytes:
        return to_bytes(self._name)

    async def add_image(self, image_ioctx: AsyncIoctx, image_name: str | bytes) -> None:
        name = _name_arg(image_name, "image_name")
        with translate_group("error adding image to group"):
            await groups.add_image(self._ioctx, self._name, image_ioctx, name)

    async def remove_image(self, image_ioctx: AsyncIoctx, image_name: str | bytes) -> None:
        name = _name_arg(image_name, "image_name")
        with translate_group("error removing image from group"):
            await groups.remove_image(self._ioctx, self._name, image_ioctx, name)

    async def list_images(self) -> list[dict[str, Any]]:
        """Members: dicts with ``name``, ``pool`` (id) and ``state`` (link state)."""
        with translate_group("error listing images for group {}", self.name_bytes):
            return await groups.list_images(self._ioctx, self._name)

    async def create_snap(self, snap_name: str | bytes, flags: int = 0) -> None:
        name = _name_arg(snap_name, "snap_name")
        flags = as_uint64(flags)
        with translate_group("error creating group snapshot"):
            await groups.create_snap(self._ioctx, self._name, name, flags)

    async def remove_snap(self, snap_name: str | bytes) -> None:
        name = _name_arg(snap_name, "snap_name")
        with translate_group("error removing group snapshot"):
            await groups.remove_snap(self._ioctx, self._name, name)

    async def rename_snap(self, old_snap_name: str | bytes,
                          new_snap_name: str | bytes) -> None:
        old = _name_arg(old_snap_name, "old_snap_name")
        new = _name_arg(new_snap_name, "new_snap_name")
        with translate_group("error renaming group snapshot"):
            await groups.rename_snap(self._ioctx, self._name, old, new)

    async def list_snaps(self) -> list[dict[str, Any]]:
        """Group snapshots: dicts with ``name`` and ``state`` (complete or not)."""
        with translate_group("error listing snapshots for group {}", self.name_bytes):
            return await groups.list_snaps(self._ioctx, self._name)

    async def rollback_to_snap(self, name: str | bytes,
                               on_progress: Callable[[int, int], object] | None = None
                               ) -> None:
        """Roll every member back; ``on_progress(done, total)`` runs on the event loop's
        thread per object of each image."""
        snap = _name_arg(name, "name")
        with translate_group("error rolling back group to snapshot"):
            await groups.rollback_snap(self._ioctx, self._name, snap, on_progress)


__all__ = ["AsyncGroup"]
