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
    """`Error` class, derived from `Exception`"""

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
    """`OSError` class, derived from `Error`"""


class InvalidArgumentError(Error):
    """`InvalidArgumentError` class, derived from `Error` (EINVAL)."""

    _template = "RADOS invalid argument (%s)"


class ExtendMismatch(Error):
    """A cmpext found different content; ``offset`` is where the first difference is."""

    offset: int

    def __init__(self, message: Any, errno: int, offset: int) -> None:
        super().__init__(f"object content does not match ({message})", errno)
        self.offset = offset


class PermissionError(OSError):
    """`PermissionError` class, derived from `OSError` (EPERM)."""

    _template = "RADOS permission error (%s)"


class PermissionDeniedError(OSError):
    """deal with EACCES related."""

    _template = "RADOS permission denied (%s)"


class ObjectNotFound(OSError):
    """`ObjectNotFound` class, derived from `OSError` (ENOENT)."""

    _template = "RADOS object not found (%s)"


class NoData(OSError):
    """`NoData` class, derived from `OSError` (ENODATA)."""

    _template = "RADOS no data (%s)"


class ObjectExists(OSError):
    """`ObjectExists` class, derived from `OSError` (EEXIST)."""

    _template = "RADOS object exists (%s)"


class ObjectBusy(OSError):
    """`ObjectBusy` class, derived from `OSError` (EBUSY)."""

    _template = "RADOS object busy (%s)"


class IOError(OSError):
    """`IOError` class, derived from `OSError` (EIO)."""

    _template = "RADOS I/O error (%s)"


class NoSpace(OSError):
    """`NoSpace` class, derived from `OSError` (ENOSPC)."""

    _template = "RADOS no space (%s)"


class NotConnected(OSError):
    """`NotConnected` class, derived from `OSError` (ENOTCONN)."""

    _template = "RADOS not connected (%s)"


class RadosStateError(Error):
    """`RadosStateError` class, derived from `Error`"""

    _template = "RADOS rados state (%s)"


class IoctxStateError(Error):
    """`IoctxStateError` class, derived from `Error`"""

    _template = "RADOS Ioctx state error (%s)"


class ObjectStateError(Error):
    """`ObjectStateError` class, derived from `Error`"""

    _template = "RADOS object state error (%s)"


class LogicError(Error):
    """`LogicError` class, derived from `Error`"""

    _template = "RADOS logic error (%s)"


class TimedOut(OSError):
    """`TimedOut` class, derived from `OSError` (ETIMEDOUT)."""

    _template = "RADOS timed out (%s)"


class InProgress(Error):
    """`InProgress` class, derived from `Error` (EINPROGRESS)."""

    _template = "RADOS in progress error (%s)"


class IsConnected(Error):
    """`IsConnected` class, derived from `Error` (EISCONN)."""

    _template = "RADOS is connected error (%s)"


class ConnectionShutdown(OSError):
    """`ConnectionShutdown` class, derived from `OSError` (ESHUTDOWN)."""

    _template = "RADOS connection was shutdown (%s)"


class InterruptedOrTimeoutError(OSError):
    """`InterruptedOrTimeoutError` class, derived from `OSError` (EINTR)."""

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
