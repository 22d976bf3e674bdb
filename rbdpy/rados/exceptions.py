"""python-rados compatible exception classes and the errno → exception map.

Theory of operation: internals raise :class:`rbdpy.rados.proto.errors.CephError` carrying a
positive errno; the public edge (async methods, hence the sync facade too) turns that
errno into one of the classes below with :func:`make_ex`, exactly as python-rados turns a
negative librados return code into an exception. Class names, bases, constructor
signatures, message prefixes and the ``"[errno N] message"`` ``str()`` format are those of
Pacific's ``rados`` module (pinned by tests/compat/test_surface.py against the installed
module). Unlike Pacific's, these classes pickle and unpickle to an equal exception
(Pacific's ``__reduce__`` refers to a ``message`` attribute that is never set).

Mirrors: src/pybind/rados/rados.pyx (Error … ExtendMismatch, errno_to_exception, make_ex).
"""

from __future__ import annotations

import builtins
import errno as _errno
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

__all__ = [
    "MAX_ERRNO",
    "ConnectionShutdown",
    "Error",
    "ExtendMismatch",
    "IOError",
    "InProgress",
    "InterruptedOrTimeoutError",
    "InvalidArgumentError",
    "IoctxStateError",
    "IsConnected",
    "LogicError",
    "NoData",
    "NoSpace",
    "NotConnected",
    "OSError",
    "ObjectBusy",
    "ObjectExists",
    "ObjectNotFound",
    "ObjectStateError",
    "PermissionDeniedError",
    "PermissionError",
    "RadosStateError",
    "TimedOut",
    "errno_to_exception",
    "make_ex",
]

_PUBLIC_MODULE = "rbdpy.rados"

# librados' cmpext reports a mismatch as -(MAX_ERRNO + offset); values above MAX_ERRNO are
# therefore offsets, not errnos (include/linux's MAX_ERRNO, used by rados.pyx make_ex).
MAX_ERRNO = 4095


def _restore(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """Unpickle without re-running ``__init__`` (which would prefix the message twice)."""
    obj = cls.__new__(cls)
    obj.args = args
    obj.__dict__.update(state)
    return obj


class Error(Exception):
    """Base of every exception this package raises; ``errno`` is the positive errno or None.

    ``str()`` is ``"[errno N] message"`` when ``errno`` is set, else the message alone.
    Subclasses prefix the message with their kind, e.g. ``"RADOS object not found (...)"``.
    """

    # "%s" for the bare classes; subclasses wrap the caller's message, e.g.
    # "RADOS object not found (%s)", as rados.pyx does in each __init__.
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


class OSError(Error):
    """An errno reported by the cluster or the client; the class for errnos without their own."""


class InvalidArgumentError(Error):
    """EINVAL: the cluster or the client refused an argument."""

    _template = "RADOS invalid argument (%s)"


class ExtendMismatch(Error):
    """A cmpext found different content; ``offset`` is where the first difference is."""

    offset: int

    def __init__(self, message: Any, errno: int, offset: int) -> None:
        super().__init__(f"object content does not match ({message})", errno)
        self.offset = offset


class PermissionError(OSError):
    """EPERM: the operation is not permitted (e.g. pool deletion disabled)."""

    _template = "RADOS permission error (%s)"


class PermissionDeniedError(OSError):
    """EACCES: the entity's capabilities or key do not allow it."""

    _template = "RADOS permission denied (%s)"


class ObjectNotFound(OSError):
    """ENOENT: no such object, pool, snapshot, option, ..."""

    _template = "RADOS object not found (%s)"


class NoData(OSError):
    """ENODATA: e.g. an extended attribute that is not set."""

    _template = "RADOS no data (%s)"


class ObjectExists(OSError):
    """EEXIST: the object, pool or snapshot already exists."""

    _template = "RADOS object exists (%s)"


class ObjectBusy(OSError):
    """EBUSY: e.g. a lock held by another owner."""

    _template = "RADOS object busy (%s)"


class IOError(OSError):
    """EIO: an I/O error."""

    _template = "RADOS I/O error (%s)"


class NoSpace(OSError):
    """ENOSPC: the cluster or pool is full."""

    _template = "RADOS no space (%s)"


class NotConnected(OSError):
    """ENOTCONN: the handle is not connected, or a watch was lost."""

    _template = "RADOS not connected (%s)"


class RadosStateError(Error):
    """A :class:`~rbdpy.rados.Rados` call made in a state that does not allow it."""

    _template = "RADOS rados state (%s)"


class IoctxStateError(Error):
    """An :class:`~rbdpy.rados.Ioctx` call made after it was closed."""

    _template = "RADOS Ioctx state error (%s)"


class ObjectStateError(Error):
    """An :class:`~rbdpy.rados.Object` call made after the object was removed."""

    _template = "RADOS object state error (%s)"


class LogicError(Error):
    """Misuse the binding itself detects (no errno from the cluster)."""

    _template = "RADOS logic error (%s)"


class TimedOut(OSError):
    """ETIMEDOUT: no answer in time (connect, notify, ...)."""

    _template = "RADOS timed out (%s)"


class InProgress(Error):
    """EINPROGRESS: the operation is already under way."""

    _template = "RADOS in progress error (%s)"


class IsConnected(Error):
    """EISCONN: already connected."""

    _template = "RADOS is connected error (%s)"


class ConnectionShutdown(OSError):
    """ESHUTDOWN: the handle was shut down while a call waited on it."""

    _template = "RADOS connection was shutdown (%s)"


class InterruptedOrTimeoutError(OSError):
    """EINTR: the call was interrupted."""

    _template = "RADOS interrupted or timeout (%s)"


for _cls in (
    Error,
    OSError,
    InvalidArgumentError,
    ExtendMismatch,
    PermissionError,
    PermissionDeniedError,
    ObjectNotFound,
    NoData,
    ObjectExists,
    ObjectBusy,
    IOError,
    NoSpace,
    NotConnected,
    RadosStateError,
    IoctxStateError,
    ObjectStateError,
    LogicError,
    TimedOut,
    InProgress,
    IsConnected,
    ConnectionShutdown,
    InterruptedOrTimeoutError,
):
    # Pickle and repr name the public module, as trio and psycopg do for their classes.
    _cls.__module__ = _PUBLIC_MODULE
del _cls

errno_to_exception: Mapping[int, type[Error]] = MappingProxyType(
    {
        _errno.EPERM: PermissionError,
        _errno.ENOENT: ObjectNotFound,
        _errno.EIO: IOError,
        _errno.ENOSPC: NoSpace,
        _errno.EEXIST: ObjectExists,
        _errno.EBUSY: ObjectBusy,
        _errno.ENODATA: NoData,
        _errno.EINTR: InterruptedOrTimeoutError,
        _errno.ETIMEDOUT: TimedOut,
        _errno.EACCES: PermissionDeniedError,
        _errno.EINPROGRESS: InProgress,
        _errno.EISCONN: IsConnected,
        _errno.EINVAL: InvalidArgumentError,
        _errno.ENOTCONN: NotConnected,
        _errno.ESHUTDOWN: ConnectionShutdown,
    }
)
#: ARCHITECTURE §2 spelling of the same table.
ERRNO_TO_EXCEPTION = errno_to_exception


def make_ex(ret: int, msg: str) -> Error:
    """Translate a librados-style return code (sign ignored) into an exception instance.

    :param ret: the return code (``-errno`` or ``errno``)
    :param msg: the error message to use
    :returns: a subclass of :class:`Error`; :class:`ExtendMismatch` when ``abs(ret)``
        exceeds :data:`MAX_ERRNO` (a cmpext mismatch offset), :class:`OSError` for an
        errno without a dedicated class
    """
    ret = builtins.abs(ret)
    cls = errno_to_exception.get(ret)
    if cls is not None:
        return cls(msg, errno=ret)
    if ret > MAX_ERRNO:
        return ExtendMismatch(msg, ret, ret - MAX_ERRNO)
    return OSError(msg, errno=ret)
