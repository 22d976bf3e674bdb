"""python-rbd compatible exception classes and the errno → exception maps.

Theory of operation: the librbd layer raises errno-carrying internal errors; at the edge
of every public async method they become one of these classes through :func:`make_ex`,
using :data:`errno_to_exception` for image calls and :data:`group_errno_to_exception`
for group calls (where ENOENT/EEXIST name an object, not an image), exactly as
python-rbd's ``make_ex(ret, msg, exception_map)``. Unlike rados, python-rbd's base
``Error`` is a bare ``Exception`` (no ``errno`` attribute); ``OSError`` and its subclasses
carry ``errno`` and print ``"[errno N] message"``. Names, bases, message prefixes and
``str()`` are pinned against the installed Pacific ``rbd`` module by
tests/compat/test_surface.py. These classes also pickle (Pacific's do not).

Mirrors: src/pybind/rbd/rbd.pyx (Error … OperationCanceled, errno_to_exception,
group_errno_to_exception, make_ex).
"""

from __future__ import annotations

import builtins
import errno as _errno
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

# rbd.pyx defines its own ECANCELED (125, the Linux value) because Python's errno module
# lacked it on some platforms; it is a public module-level name of python-rbd.
from rbdpy.librbd.constants import ECANCELED

__all__ = [
    "ECANCELED",
    "ArgumentOutOfRange",
    "ConnectionShutdown",
    "DiskQuotaExceeded",
    "Error",
    "FunctionNotSupported",
    "IOError",
    "ImageBusy",
    "ImageExists",
    "ImageHasSnapshots",
    "ImageNotFound",
    "IncompleteWriteError",
    "InvalidArgument",
    "LogicError",
    "NoSpace",
    "OSError",
    "ObjectExists",
    "ObjectNotFound",
    "OperationCanceled",
    "OperationNotSupported",
    "PermissionError",
    "ReadOnlyImage",
    "Timeout",
    "errno_to_exception",
    "group_errno_to_exception",
    "make_ex",
]

_PUBLIC_MODULE = "rbdpy.rbd"


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Unpickle without re-running ``__init__`` (which would prefix the message twice)."""
    obj = cls.__new__(cls)
    obj.args = args
    obj.__dict__.update(state)
    return obj


class Error(Exception):
    """Base class of every rbd exception (a bare ``Exception``, as in python-rbd)."""


class OSError(Error):
    """An errno from librbd's work; the class for errnos without their own.

    ``errno`` is the positive errno or None; ``str()`` is ``"[errno N] message"`` when it is
    set. Subclasses prefix the message with their kind, e.g. ``"RBD image not found (...)"``.
    """

    # Subclasses wrap the caller's message, e.g. "RBD image not found (%s)".
    _template: ClassVar[str] = "%s"

    errno: int | None

    def __init__(self, message: Any, errno: int | None = None) -> None:
        super().__init__(self._template % (message,))
        self.errno = errno

    def __str__(self) -> str:
        msg = super().__str__()
        if self.errno is None:
            return msg
        return f"[errno {self.errno}] {msg}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class PermissionError(OSError):
    """EPERM: the operation is not permitted."""

    _template = "RBD permission error (%s)"


class ImageNotFound(OSError):
    """ENOENT from an image call: no such image, snapshot, parent, ..."""

    _template = "RBD image not found (%s)"


class ObjectNotFound(OSError):
    """ENOENT from a group call."""

    _template = "RBD object not found (%s)"


class ImageExists(OSError):
    """EEXIST from an image call: the image or snapshot name is taken."""

    _template = "RBD image already exists (%s)"


class ObjectExists(OSError):
    """EEXIST from a group call."""

    _template = "RBD object already exists (%s)"


class IOError(OSError):
    """EIO: an I/O error."""

    _template = "RBD I/O error (%s)"


class NoSpace(OSError):
    """ENOSPC: the pool or cluster is full."""

    _template = "RBD insufficient space available (%s)"


class IncompleteWriteError(OSError):
    """A write that stored fewer bytes than it was given."""

    _template = "RBD incomplete write (%s)"


class InvalidArgument(OSError):
    """EINVAL: an argument librbd or the OSD refused."""

    _template = "RBD invalid argument (%s)"


class LogicError(OSError):
    """Misuse the binding itself detects (no errno from the cluster)."""

    _template = "RBD logic error (%s)"


class ReadOnlyImage(OSError):
    """EROFS: a write to an image opened read-only or at a snapshot."""

    _template = "RBD read-only image (%s)"


class ImageBusy(OSError):
    """EBUSY: e.g. removing an image another client still has open."""

    _template = "RBD image is busy (%s)"


class ImageHasSnapshots(OSError):
    """ENOTEMPTY: e.g. removing an image that still has snapshots."""

    _template = "RBD image has snapshots (%s)"


class FunctionNotSupported(OSError):
    """ENOSYS: the function is not supported."""

    _template = "RBD function not supported (%s)"


class ArgumentOutOfRange(OSError):
    """EDOM: a value out of its allowed range (e.g. an object size order)."""

    _template = "RBD arguments out of range (%s)"


class ConnectionShutdown(OSError):
    """ESHUTDOWN: the cluster handle was shut down."""

    _template = "RBD connection was shutdown (%s)"


class Timeout(OSError):
    """ETIMEDOUT: no answer in time."""

    _template = "RBD operation timeout (%s)"


class DiskQuotaExceeded(OSError):
    """EDQUOT: a pool quota is reached."""

    _template = "RBD disk quota exceeded (%s)"


class OperationNotSupported(OSError):
    """EOPNOTSUPP: the image's features or format do not allow it."""

    _template = "RBD operation not supported (%s)"


class OperationCanceled(OSError):
    """ECANCELED: the operation was cancelled."""

    _template = "RBD operation canceled (%s)"


for _cls in (
    Error,
    OSError,
    PermissionError,
    ImageNotFound,
    ObjectNotFound,
    ImageExists,
    ObjectExists,
    IOError,
    NoSpace,
    IncompleteWriteError,
    InvalidArgument,
    LogicError,
    ReadOnlyImage,
    ImageBusy,
    ImageHasSnapshots,
    FunctionNotSupported,
    ArgumentOutOfRange,
    ConnectionShutdown,
    Timeout,
    DiskQuotaExceeded,
    OperationNotSupported,
    OperationCanceled,
):
    # Pickle and repr name the public module, as trio and psycopg do for their classes.
    _cls.__module__ = _PUBLIC_MODULE
del _cls

_COMMON: dict[int, type[OSError]] = {
    _errno.EPERM: PermissionError,
    _errno.EIO: IOError,
    _errno.ENOSPC: NoSpace,
    _errno.EINVAL: InvalidArgument,
    _errno.EROFS: ReadOnlyImage,
    _errno.EBUSY: ImageBusy,
    _errno.ENOTEMPTY: ImageHasSnapshots,
    _errno.ENOSYS: FunctionNotSupported,
    _errno.EDOM: ArgumentOutOfRange,
    _errno.ESHUTDOWN: ConnectionShutdown,
    _errno.ETIMEDOUT: Timeout,
    _errno.EDQUOT: DiskQuotaExceeded,
    _errno.EOPNOTSUPP: OperationNotSupported,
    ECANCELED: OperationCanceled,
}

errno_to_exception: Mapping[int, type[OSError]] = MappingProxyType(
    {
        **_COMMON,
        _errno.ENOENT: ImageNotFound,
        _errno.EEXIST: ImageExists,
    }
)
group_errno_to_exception: Mapping[int, type[OSError]] = MappingProxyType(
    {
        **_COMMON,
        _errno.ENOENT: ObjectNotFound,
        _errno.EEXIST: ObjectExists,
    }
)
del _COMMON


def make_ex(
    ret: int, msg: str, exception_map: Mapping[int, type[OSError]] = errno_to_exception
) -> OSError:
    """Translate a librbd-style return code (sign ignored) into an exception instance.

    :param ret: the return code (``-errno`` or ``errno``)
    :param msg: the error message to use
    :param exception_map: :data:`errno_to_exception` or :data:`group_errno_to_exception`
    :returns: a subclass of :class:`OSError` (plain :class:`OSError` for unmapped errnos)
    """
    ret = builtins.abs(ret)
    cls = exception_map.get(ret)
    if cls is not None:
        return cls(msg, errno=ret)
    return OSError(msg, errno=ret)
