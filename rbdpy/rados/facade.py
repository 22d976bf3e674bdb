# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# mypy: disable-error-code="type-arg"
"""python-rados compatible synchronous API (``from rbdpy import rados``).

Theory of operation: this module is the *facade* over the trio-native core. It has the
public surface of Ceph Pacific's ``rados`` module -- every class, method signature and
docstring, every ``LIBRADOS_*`` constant and exception class (re-exported from
:mod:`rbdpy.rados.constants` and :mod:`rbdpy.rados.exceptions`) -- pinned by
tests/compat/test_surface.py against the installed module.

Each ``Rados`` handle owns one :class:`rbdpy._sync.Portal` (a trio thread) and an
``AsyncRados``; ``Ioctx`` keeps its handle's portal and its ``AsyncIoctx``, and each method
is a one-liner ``self._portal.run(self._async.method, ...)``: the async method translates
errors with :func:`rbdpy.rados.exceptions.make_ex`, so both APIs raise the same classes.
``aio_*`` methods start the same async methods with ``Portal.spawn`` and bind the call to a
:class:`Completion`; their callbacks (and watch callbacks) never run on the trio thread.
``ReadOp``/``WriteOp`` are the async layer's op builders with python-rados' docstrings.
Methods that still need the cluster and are not implemented raise ``NotImplementedError``
(via ``_nie``) -- never a silent success.

Mirrors: src/pybind/rados/rados.pyx (Ceph 16.2).
"""

from __future__ import annotations

import datetime
import errno
import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

from rbdpy.rados.constants import (
    ADMIN_AUID,
    ANONYMOUS_AUID,
    LIBRADOS_ALL_NSPACES,
    LIBRADOS_CMPXATTR_OP_EQ,
    LIBRADOS_CMPXATTR_OP_GT,
    LIBRADOS_CMPXATTR_OP_GTE,
    LIBRADOS_CMPXATTR_OP_LT,
    LIBRADOS_CMPXATTR_OP_LTE,
    LIBRADOS_CMPXATTR_OP_NE,
    LIBRADOS_CREATE_EXCLUSIVE,
    LIBRADOS_CREATE_IDEMPOTENT,
    LIBRADOS_OP_FLAG_EXCL,
    LIBRADOS_OP_FLAG_FADVISE_DONTNEED,
    LIBRADOS_OP_FLAG_FADVISE_NOCACHE,
    LIBRADOS_OP_FLAG_FADVISE_RANDOM,
    LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL,
    LIBRADOS_OP_FLAG_FADVISE_WILLNEED,
    LIBRADOS_OP_FLAG_FAILOK,
    LIBRADOS_OPERATION_BALANCE_READS,
    LIBRADOS_OPERATION_IGNORE_CACHE,
    LIBRADOS_OPERATION_IGNORE_OVERLAY,
    LIBRADOS_OPERATION_LOCALIZE_READS,
    LIBRADOS_OPERATION_NOFLAG,
    LIBRADOS_OPERATION_ORDER_READS_WRITES,
    LIBRADOS_OPERATION_SKIPRWLOCKS,
    LIBRADOS_SNAP_HEAD,
    MAX_ERRNO,
    MONITOR_LEVELS,
)
from rbdpy.rados.exceptions import (
    ConnectionShutdown,
    Error,
    ExtendMismatch,
    InProgress,
    InterruptedOrTimeoutError,
    InvalidArgumentError,
    IoctxStateError,
    IOError,
    IsConnected,
    LogicError,
    NoData,
    NoSpace,
    NotConnected,
    ObjectBusy,
    ObjectExists,
    ObjectNotFound,
    ObjectStateError,
    OSError,
    PermissionDeniedError,
    PermissionError,
    RadosStateError,
    TimedOut,
)

if TYPE_CHECKING:
    from rbdpy._sync import Pending, Portal

__all__ = [
    "ADMIN_AUID",
    "ANONYMOUS_AUID",
    "LIBRADOS_ALL_NSPACES",
    "LIBRADOS_CMPXATTR_OP_EQ",
    "LIBRADOS_CMPXATTR_OP_GT",
    "LIBRADOS_CMPXATTR_OP_GTE",
    "LIBRADOS_CMPXATTR_OP_LT",
    "LIBRADOS_CMPXATTR_OP_LTE",
    "LIBRADOS_CMPXATTR_OP_NE",
    "LIBRADOS_CREATE_EXCLUSIVE",
    "LIBRADOS_CREATE_IDEMPOTENT",
    "LIBRADOS_OPERATION_BALANCE_READS",
    "LIBRADOS_OPERATION_IGNORE_CACHE",
    "LIBRADOS_OPERATION_IGNORE_OVERLAY",
    "LIBRADOS_OPERATION_LOCALIZE_READS",
    "LIBRADOS_OPERATION_NOFLAG",
    "LIBRADOS_OPERATION_ORDER_READS_WRITES",
    "LIBRADOS_OPERATION_SKIPRWLOCKS",
    "LIBRADOS_OP_FLAG_EXCL",
    "LIBRADOS_OP_FLAG_FADVISE_DONTNEED",
    "LIBRADOS_OP_FLAG_FADVISE_NOCACHE",
    "LIBRADOS_OP_FLAG_FADVISE_RANDOM",
    "LIBRADOS_OP_FLAG_FADVISE_SEQUENTIAL",
    "LIBRADOS_OP_FLAG_FADVISE_WILLNEED",
    "LIBRADOS_OP_FLAG_FAILOK",
    "LIBRADOS_SNAP_HEAD",
    "MAX_ERRNO",
    "MONITOR_LEVELS",
    "Completion",
    "ConnectionShutdown",
    "Error",
    "ExtendMismatch",
    "IOError",
    "InProgress",
    "InterruptedOrTimeoutError",
    "InvalidArgumentError",
    "Ioctx",
    "IoctxStateError",
    "IsConnected",
    "LogicError",
    "MonitorLog",
    "NoData",
    "NoSpace",
    "NotConnected",
    "OSError",
    "Object",
    "ObjectBusy",
    "ObjectExists",
    "ObjectIterator",
    "ObjectNotFound",
    "ObjectStateError",
    "OmapIterator",
    "OpCtx",
    "PermissionDeniedError",
    "PermissionError",
    "Rados",
    "RadosStateError",
    "ReadOp",
    "ReadOpCtx",
    "Snap",
    "SnapIterator",
    "TimedOut",
    "Version",
    "Watch",
    "WriteOp",
    "WriteOpCtx",
    "XattrIterator",
    "cstr",
    "cstr_list",
    "decode_cstr",
    "flatten_dict",
    "set_object_locator",
    "set_object_namespace",
]

_F = TypeVar("_F", bound=Callable[..., Any])

# python-rados exposes this alias (a Cython workaround); kept for drop-in compatibility.
unicode = str


def _nie(what: str, capability: str) -> NotImplementedError:
    """The error every not-yet-wired facade method raises (never a silent success)."""
    return NotImplementedError(f"{what}: {capability} is not implemented in rbdpy yet")


# ----------------------------------------------------------------------------- helpers


def cstr(val: Any, name: str, encoding: str = "utf-8", opt: bool = False) -> bytes | None:
    """
    Create a byte string from a Python string

    :param basestring val: Python string
    :param str name: Name of the string parameter, for exceptions
    :param str encoding: Encoding to use
    :param bool opt: If True, None is allowed
    :raises: :class:`InvalidArgument`
    """
    if opt and val is None:
        return None
    if isinstance(val, bytes):
        return val
    if isinstance(val, str):
        return val.encode(encoding)
    raise TypeError(f"{name} must be a string")


def cstr_list(list_str: Sequence[Any], name: str, encoding: str = "utf-8") -> list[bytes | None]:
    # python-rados ignores ``encoding`` here (each item uses cstr's default); so do we.
    return [cstr(s, name) for s in list_str]


def decode_cstr(val: bytes | None, encoding: str = "utf-8") -> str | None:
    """
    Decode a byte string into a Python string.

    :param bytes val: byte string
    """
    if val is None:
        return None
    return val.decode(encoding)


def flatten_dict(d: dict[str, str], name: str) -> bytes | None:
    # librados' service-map calls take "k\0v\0k\0v\0" strings.
    return cstr("".join(item + "\0" for item in chain.from_iterable(d.items())), name)


def set_object_locator(func: _F) -> _F:
    """Run an :class:`Object` method with the ioctx locator key set to the object's."""

    @functools.wraps(func)
    def retfunc(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.locator_key is None:
            return func(self, *args, **kwargs)
        old_locator = self.ioctx.get_locator_key()
        self.ioctx.set_locator_key(self.locator_key)
        retval = func(self, *args, **kwargs)
        # Not in a finally, as upstream: a failed call leaves the ioctx's key changed.
        self.ioctx.set_locator_key(old_locator)
        return retval

    return retfunc  # type: ignore[return-value]


def set_object_namespace(func: _F) -> _F:
    """Run an :class:`Object` method with the ioctx namespace set to the object's."""

    @functools.wraps(func)
    def retfunc(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.nspace is None:
            raise LogicError("Namespace not set properly in context")
        old_nspace = self.ioctx.get_namespace()
        self.ioctx.set_namespace(self.nspace)
        retval = func(self, *args, **kwargs)
        self.ioctx.set_namespace(old_nspace)
        return retval

    return retfunc  # type: ignore[return-value]


# The librados API version Pacific's python-rados reports (rados_version()).
_LIBRADOS_VERSION = (3, 0, 0)


def _conf_key(option: Any) -> str:
    # Ceph option names treat "-" and " " as "_" (md_config_t::normalize_key_name).
    text = option.decode() if isinstance(option, bytes) else option
    return text.replace("-", "_").replace(" ", "_")


async def _to_thread(fn: Callable[..., Any], *args: Any) -> Any:
    import trio

    return await trio.to_thread.run_sync(fn, *args)


def _return_code(pending: Pending[Any]) -> int:
    """librados-style return value of a finished portal call (for Completion)."""
    exc = pending.exception()
    if exc is not None:
        code = getattr(exc, "errno", None)
        return -abs(code) if isinstance(code, int) and code else -errno.EIO
    value = pending.result()
    if isinstance(value, int):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    return 0


# ----------------------------------------------------------------------------- classes


class Completion:
    """completion object"""

    ioctx: Ioctx
    oncomplete: Any
    onsafe: Any

    _pending: Pending[Any] | None

    def __init__(self, ioctx: Ioctx, oncomplete: Any, onsafe: Any) -> None:
        self.ioctx = ioctx
        self.oncomplete = oncomplete
        self.onsafe = onsafe
        self._pending = None

    def _attach(self, pending: Pending[Any]) -> None:
        """Bind this completion to the portal call that implements it (aio_* wiring)."""
        self._pending = pending

    def _require_pending(self, what: str) -> Pending[Any]:
        if self._pending is None:
            raise _nie(what, "asynchronous completions")
        return self._pending

    def is_safe(self) -> bool:
        """Is an asynchronous operation safe?

        This does not imply that the safe callback has finished.

        :returns: True if the operation is safe
        """
        return self.is_complete()

    def is_complete(self) -> bool:
        """Has an asynchronous operation completed?

        This does not imply that the safe callback has finished.

        :returns: True if the operation is completed
        """
        return self._require_pending("Completion.is_complete").done()

    def wait_for_safe(self):
        """Wait for an asynchronous operation to be marked safe

        wait_for_safe() is an alias of wait_for_complete()  since Luminous
        """
        self.wait_for_complete()

    def wait_for_complete(self):
        """Wait for an asynchronous operation to complete

        This does not imply that the complete callback has finished.
        """
        self._require_pending("Completion.wait_for_complete").wait()

    def wait_for_safe_and_cb(self):
        """Wait for an asynchronous operation to be marked safe and for
        the safe callback to have returned
        """
        return self.wait_for_complete_and_cb()

    def wait_for_complete_and_cb(self):
        """Wait for an asynchronous operation to complete and for the
        complete callback to have returned

        :returns:  whether the operation is completed
        """
        self._require_pending("Completion.wait_for_complete_and_cb").wait_callback()
        # librados returns rados_aio_wait_for_complete_and_cb()'s own status: always 0.
        return 0

    def get_return_value(self) -> int:
        """Get the return value of an asychronous operation

        The return value is set when the operation is complete or safe,
        whichever comes first.

        :returns: int - return value of the operation
        """
        pending = self._require_pending("Completion.get_return_value")
        if not pending.done():
            return 0  # librados: rval is only meaningful once complete
        return _return_code(pending)


class Ioctx:
    """rados.Ioctx object"""

    complete_completions: list[Completion]
    locator_key: str
    lock: threading.Lock
    name: str
    nspace: str
    safe_completions: list[Completion]
    state: str

    def __init__(self, rados, name):
        self._rados = rados
        self.name = name
        self.state = "open"
        self.locator_key = ""
        self.nspace = ""
        self.lock = threading.Lock()
        self.safe_completions: list[Completion] = []
        self.complete_completions: list[Completion] = []
        self._read_snap = LIBRADOS_SNAP_HEAD
        # Rados.open_ioctx sets _async to the AsyncIoctx this facade drives.
        self._portal: Portal | None = getattr(rados, "_portal", None)
        self._async: Any = None
        self._aio_tracked: set[Completion] = set()

    def _aio(self, afn, args, oncomplete, onsafe, done=None) -> Completion:
        """Start ``afn(*args)`` on the portal; python-rados Completion semantics.

        As librados, callbacks run only when ``oncomplete`` is given (then ``onsafe``
        after it), on the portal's finisher thread; ``done(completion, pending)``
        replaces the plain ``oncomplete(completion); onsafe(completion)``.
        """
        comp = Completion(self, oncomplete, onsafe)
        with self.lock:
            self._aio_tracked.add(comp)
            if oncomplete:
                self.complete_completions.append(comp)
            if onsafe:
                self.safe_completions.append(comp)

        def on_done(pending):
            # Bind first: a fast op can finish (and its callback run on the finisher
            # thread) before spawn() has returned to the caller below.
            comp._attach(pending)
            try:
                if oncomplete:
                    if done is not None:
                        done(comp, pending)
                    else:
                        oncomplete(comp)
                        if onsafe:
                            onsafe(comp)
            finally:
                # The completion keeps the return value, not a read's data: the buffer
                # goes (or is recycled, see msgr2.buffers) once the callback drops it.
                pending._keep_only_return_code(_return_code(pending))
                with self.lock:
                    self._aio_tracked.discard(comp)
                    if comp in self.complete_completions:
                        self.complete_completions.remove(comp)
                    if comp in self.safe_completions:
                        self.safe_completions.remove(comp)

        comp._attach(self._portal.spawn(afn, args, on_done))
        return comp

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        self.close()
        return False

    def dup(self):
        """Duplicate IoCtx"""
        ioctx = self._rados.open_ioctx2(self.get_pool_id())
        ioctx.set_namespace(self.get_namespace())
        return ioctx

    def aio_stat(
        self,
        object_name: str,
        oncomplete: Callable[[Completion, int | None, time.struct_time | None], None],
    ) -> Completion:
        """Asynchronously get object stats (size/mtime)

        oncomplete will be called with the returned size and mtime
        as well as the completion:

        oncomplete(completion, size, mtime)

        :param object_name: the name of the object to get stats from
        :param oncomplete: what to do when the stat is complete

        :raises: :class:`Error`
        :returns: completion object
        """
        def done(comp, pending):
            exc = pending.exception()
            if exc is None:
                size, mtime = pending.result()
                return oncomplete(comp, size, mtime)
            return oncomplete(comp, None, None)

        return self._aio(self._async.stat, (object_name,), oncomplete, None, done)

    def aio_write(
        self,
        object_name: str,
        to_write: bytes,
        offset: int = 0,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
    ) -> Completion:
        """Write data to an object asynchronously

        Queues the write and returns.

        :param object_name: name of the object
        :param to_write: data to write
        :param offset: byte offset in the object to begin writing at
        :param oncomplete: what to do when the write is safe and complete in memory
            on all replicas
        :param onsafe:  what to do when the write is safe and complete on storage
            on all replicas

        :raises: :class:`Error`
        :returns: completion object
        """
        return self._aio(self._async.write, (object_name, to_write, offset), oncomplete, onsafe)

    def aio_write_full(
        self,
        object_name: str,
        to_write: bytes,
        oncomplete: Callable | None = None,
        onsafe: Callable | None = None,
    ) -> Completion:
        """Asynchronously write an entire object

        The object is filled with the provided data. If the object exists,
        it is atomically truncated and then written.
        Queues the write and returns.

        :param object_name: name of the object
        :param to_write: data to write
        :param oncomplete: what to do when the write is safe and complete in memory
            on all replicas
        :param onsafe:  what to do when the write is safe and complete on storage
            on all replicas

        :raises: :class:`Error`
        :returns: completion object
        """
        return self._aio(self._async.write_full, (object_name, to_write), oncomplete, onsafe)

    def aio_writesame(
        self,
        object_name: str,
        to_write: bytes,
        write_len: int,
        offset: int = 0,
        oncomplete: Callable | None = None,
    ) -> Completion:
        """Asynchronously write the same buffer multiple times

        :param object_name: name of the object
        :param to_write: data to write
        :param write_len: total number of bytes to write
        :param offset: byte offset in the object to begin writing at
        :param oncomplete: what to do when the writesame is safe and
            complete in memory on all replicas
        :raises: :class:`Error`
        :returns: completion object
        """
        return self._aio(self._async.writesame, (object_name, to_write, write_len, offset),
                         oncomplete, None)

    def aio_append(
        self,
        object_name: str,
        to_append: bytes,
        oncomplete: Callable | None = None,
        onsafe: Callable | None = None,
    ) -> Completion:
        """Asynchronously append data to an object

        Queues the write and returns.

        :param object_name: name of the object
        :param to_append: data to append
        :param offset: byte offset in the object to begin writing at
        :param oncomplete: what to do when the write is safe and complete in memory
            on all replicas
        :param onsafe:  what to do when the write is safe and complete on storage
            on all replicas

        :raises: :class:`Error`
        :returns: completion object
        """
        return self._aio(self._async.append, (object_name, to_append), oncomplete, onsafe)

    def aio_flush(self):
        """Block until all pending writes in an io context are safe

        :raises: :class:`Error`
        """
        with self.lock:
            pendings = [c._pending for c in self._aio_tracked if c._pending is not None]
        for pending in pendings:
            pending.wait()
        self._portal.run(self._async.aio_flush)

    def aio_cmpext(
        self, object_name: str, cmp_buf: bytes, offset: int = 0, oncomplete: Callable | None = None
    ) -> Completion:
        """Asynchronously compare an on-disk object range with a buffer
        :param object_name: the name of the object
        :param cmp_buf: buffer containing bytes to be compared with object contents
        :param offset: object byte offset at which to start the comparison
        :param oncomplete: what to do when the write is safe and complete in memory
            on all replicas

        :raises: :class:`TypeError`
        returns: 0 - on success, negative error code on failure,
                 (-MAX_ERRNO - mismatch_off) on mismatch
        """
        return self._aio(self._async.cmpext, (object_name, cmp_buf, offset), oncomplete, None)

    def aio_rmxattr(
        self, object_name: str, xattr_name: str, oncomplete: Callable | None = None
    ) -> Completion:
        """Asynchronously delete an extended attribute from an object

        :param object_name: the name of the object to remove xattr from
        :param xattr_name: which extended attribute to remove
        :param oncomplete: what to do when the rmxattr completes

        :raises: :class:`Error`
        :returns: completion object
        """
        return self._aio(self._async.rm_xattr, (object_name, xattr_name), oncomplete, None)

    def aio_read(
        self, object_name: str, length: int, offset: int, oncomplete: Callable | None = None
    ) -> Completion:
        """Asynchronously read data from an object

        oncomplete will be called with the returned read value as
        well as the completion:

        oncomplete(completion, data_read)

        :param object_name: name of the object to read from
        :param length: the number of bytes to read
        :param offset: byte offset in the object to begin reading from
        :param oncomplete: what to do when the read is complete

        :raises: :class:`Error`
        :returns: completion object
        """
        def done(comp, pending):
            return oncomplete(comp, pending.result() if pending.exception() is None else None)

        return self._aio(self._async.read, (object_name, length, offset), oncomplete, None,
                         done)

    def aio_execute(
        self,
        object_name: str,
        cls: str,
        method: str,
        data: bytes,
        length: int = 8192,
        oncomplete: Callable[[Completion, bytes], None] | None = None,
        onsafe: Callable[[Completion, bytes], None] | None = None,
    ) -> Completion:
        """Asynchronously execute an OSD class method on an object.

        oncomplete and onsafe will be called with the data returned from
        the plugin as well as the completion:

        oncomplete(completion, data)
        onsafe(completion, data)

        :param object_name: name of the object
        :param cls: name of the object class
        :param method: name of the method
        :param data: input data
        :param length: size of output buffer in bytes (default=8192)
        :param oncomplete: what to do when the execution is complete
        :param onsafe:  what to do when the execution is safe and complete

        :raises: :class:`Error`
        :returns: completion object
        """
        async def run():
            _, out = await self._async.execute(object_name, cls, method, data, length)
            return out

        def data(pending):
            return pending.result() if pending.exception() is None else None

        def done(comp, pending):
            oncomplete(comp, data(pending))
            if onsafe:
                onsafe(comp, data(pending))

        return self._aio(run, (), oncomplete, None, done)

    def aio_setxattr(
        self,
        object_name: str,
        xattr_name: str,
        xattr_value: bytes,
        oncomplete: Callable | None = None,
    ) -> Completion:
        """Asynchronously set an extended attribute on an object

        :param object_name: the name of the object to set xattr to
        :param xattr_name: which extended attribute to set
        :param xattr_value: the value of the  extended attribute
        :param oncomplete: what to do when the setxttr completes

        :raises: :class:`Error`
        :returns: completion object
        """
        return self._aio(self._async.set_xattr, (object_name, xattr_name, xattr_value),
                         oncomplete, None)

    def aio_remove(
        self, object_name: str, oncomplete: Callable | None = None, onsafe: Callable | None = None
    ) -> Completion:
        """Asynchronously remove an object

        :param object_name: name of the object to remove
        :param oncomplete: what to do when the remove is safe and complete in memory
            on all replicas
        :param onsafe:  what to do when the remove is safe and complete on storage
            on all replicas

        :raises: :class:`Error`
        :returns: completion object
        """
        return self._aio(self._async.remove_object, (object_name,), oncomplete, onsafe)

    def require_ioctx_open(self):
        """Checks if the rados.Ioctx object state is 'open'

        :raises: IoctxStateError
        """
        if self.state != "open":
            raise IoctxStateError(f"The pool is {self.state}")

    def set_locator_key(self, loc_key: str):
        """Set the key for mapping objects to pgs within an io context.

        The key is used instead of the object name to determine which
        placement groups an object is put in. This affects all subsequent
        operations of the io context - until a different locator key is
        set, all objects in this io context will be placed in the same pg.

        :param loc_key: the key to use as the object locator, or NULL to discard
            any previously set key

        :raises: :class:`TypeError`
        """
        self.require_ioctx_open()
        cstr(loc_key, "loc_key")
        if self._async is not None:
            self._async.set_locator_key(loc_key)
        self.locator_key = loc_key

    def get_locator_key(self) -> str:
        """Get the locator_key of context

        :returns: locator_key
        """
        return self.locator_key

    def set_read(self, snap_id: int):
        """Set the snapshot for reading objects.

        To stop to read from snapshot, use set_read(LIBRADOS_SNAP_HEAD)

        :param snap_id: the snapshot Id

        :raises: :class:`TypeError`
        """
        self.require_ioctx_open()
        if not isinstance(snap_id, int):
            raise TypeError("an integer is required")
        if self._async is not None:
            self._async.set_read(snap_id)
        self._read_snap = snap_id

    def set_namespace(self, nspace: str):
        """Set the namespace for objects within an io context.

        The namespace in addition to the object name fully identifies
        an object. This affects all subsequent operations of the io context
        - until a different namespace is set, all objects in this io context
        will be placed in the same namespace.

        :param nspace: the namespace to use, or None/"" for the default namespace

        :raises: :class:`TypeError`
        """
        self.require_ioctx_open()
        if nspace is None:
            nspace = ""
        cstr(nspace, "nspace")
        if self._async is not None:
            self._async.set_namespace(nspace)
        self.nspace = nspace

    def get_namespace(self) -> str:
        """Get the namespace of context

        :returns: namespace
        """
        return self.nspace

    def close(self):
        """Close a rados.Ioctx object.

        This just tells librados that you no longer need to use the io context.
        It may not be freed immediately if there are pending asynchronous
        requests on it, but you should not use an io context again after
        calling this function on it.
        """
        if self.state == "open":
            # rados_ioctx_destroy: ops already submitted still complete.
            if self._async is not None:
                self._async.close()
            self.state = "closed"

    def write(self, key: str, data: bytes, offset: int = 0):
        """Write data to an object synchronously

        :param key: name of the object
        :param data: data to write
        :param offset: byte offset in the object to begin writing at

        :raises: :class:`TypeError`
        :raises: :class:`LogicError`
        :returns: int - 0 on success
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.write, key, data, offset)

    def write_full(self, key: str, data: bytes):
        """Write an entire object synchronously.

        The object is filled with the provided data. If the object exists,
        it is atomically truncated and then written.

        :param key: name of the object
        :param data: data to write

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: int - 0 on success
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.write_full, key, data)

    def writesame(self, key: str, data: bytes, write_len: int, offset: int = 0):
        """Write the same buffer multiple times
        :param key: name of the object
        :param data: data to write
        :param write_len: total number of bytes to write
        :param offset: byte offset in the object to begin writing at

        :raises: :class:`TypeError`
        :raises: :class:`LogicError`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.writesame, key, data, write_len, offset)

    def append(self, key: str, data: bytes):
        """Append data to an object synchronously

        :param key: name of the object
        :param data: data to write

        :raises: :class:`TypeError`
        :raises: :class:`LogicError`
        :returns: int - 0 on success
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.append, key, data)

    def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        """Read data from an object synchronously

        :param key: name of the object
        :param length: the number of bytes to read (default=8192)
        :param offset: byte offset in the object to begin reading at

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: str - data read from object
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.read, key, length, offset)

    def execute(
        self, key: str, cls: str, method: str, data: bytes, length: int = 8192
    ) -> tuple[int, object]:
        """Execute an OSD class method on an object.

        :param key: name of the object
        :param cls: name of the object class
        :param method: name of the method
        :param data: input data
        :param length: size of output buffer in bytes (default=8192)

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: (ret, method output)
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.execute, key, cls, method, data, length)

    def get_stats(self) -> dict[str, int]:
        """Get pool usage statistics

        :returns: dict - contains the following keys:

            - ``num_bytes`` (int) - size of pool in bytes

            - ``num_kb`` (int) - size of pool in kbytes

            - ``num_objects`` (int) - number of objects in the pool

            - ``num_object_clones`` (int) - number of object clones

            - ``num_object_copies`` (int) - number of object copies

            - ``num_objects_missing_on_primary`` (int) - number of objets
                missing on primary

            - ``num_objects_unfound`` (int) - number of unfound objects

            - ``num_objects_degraded`` (int) - number of degraded objects

            - ``num_rd`` (int) - bytes read

            - ``num_rd_kb`` (int) - kbytes read

            - ``num_wr`` (int) - bytes written

            - ``num_wr_kb`` (int) - kbytes written
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.get_stats)

    def remove_object(self, key: str) -> bool:
        """Delete an object

        This does not delete any snapshots of the object.

        :param key: the name of the object to delete

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: bool - True on success
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.remove_object, key)

    def trunc(self, key: str, size: int):
        """Resize an object

        If this enlarges the object, the new area is logically filled with
        zeroes. If this shrinks the object, the excess data is removed.

        :param key: the name of the object to resize
        :param size: the new size of the object in bytes

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: int - 0 on success, otherwise raises error
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.trunc, key, size)

    def cmpext(self, key: str, cmp_buf: bytes, offset: int = 0) -> int:
        """Compare an on-disk object range with a buffer
        :param key: the name of the object
        :param cmp_buf: buffer containing bytes to be compared with object contents
        :param offset: object byte offset at which to start the comparison

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: 0 - on success, negative error code on failure,
                 (-MAX_ERRNO - mismatch_off) on mismatch
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.cmpext, key, cmp_buf, offset)

    def stat(self, key: str) -> tuple[int, time.struct_time]:
        """Get object stats (size/mtime)

        :param key: the name of the object to get stats from

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: (size,timestamp)
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.stat, key)

    def get_xattr(self, key: str, xattr_name: str) -> bytes:
        """Get the value of an extended attribute on an object.

        :param key: the name of the object to get xattr from
        :param xattr_name: which extended attribute to read

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: str - value of the xattr
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.get_xattr, key, xattr_name)

    def get_xattrs(self, oid: str) -> XattrIterator:
        """Start iterating over xattrs on an object.

        :param oid: the name of the object to get xattrs from

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: XattrIterator
        """
        self.require_ioctx_open()
        return XattrIterator(self, oid)

    def set_xattr(self, key: str, xattr_name: str, xattr_value: bytes) -> bool:
        """Set an extended attribute on an object.

        :param key: the name of the object to set xattr to
        :param xattr_name: which extended attribute to set
        :param xattr_value: the value of the  extended attribute

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: bool - True on success, otherwise raise an error
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.set_xattr, key, xattr_name, xattr_value)

    def rm_xattr(self, key: str, xattr_name: str) -> bool:
        """Removes an extended attribute on from an object.

        :param key: the name of the object to remove xattr from
        :param xattr_name: which extended attribute to remove

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: bool - True on success, otherwise raise an error
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.rm_xattr, key, xattr_name)

    def notify(self, obj: str, msg: str = "", timeout_ms: int = 5000) -> bool:
        """Send a rados notification to an object.

        :param obj: the name of the object to notify
        :param msg: optional message to send in the notification
        :param timeout_ms: notify timeout (in ms)

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: bool - True on success, otherwise raise an error
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.notify, obj, msg, timeout_ms)

    def aio_notify(
        self,
        obj: str,
        oncomplete: Callable[[Completion, int, list | None, list | None], None],
        msg: str = "",
        timeout_ms: int = 5000,
    ) -> Completion:
        """Asynchronously send a rados notification to an object"""
        self.require_ioctx_open()
        lists: list = [None, None]

        async def run():
            ret, lists[0], lists[1] = await self._async.aio_notify(obj, msg, timeout_ms)
            return ret

        def done(comp, pending):
            ret = _return_code(pending)
            return oncomplete(comp, ret, lists[0] if ret == 0 else None,
                              lists[1] if ret == 0 else None)

        return self._aio(run, (), oncomplete, None, done)

    def watch(
        self,
        obj: str,
        callback: Callable[[int, str, int, bytes], None],
        error_callback: Callable[[int], None] | None = None,
        timeout: int | None = None,
    ) -> Watch:
        """Register an interest in an object.

        :param obj: the name of the object to notify
        :param callback: what to do when a notify is received on this object
        :param error_callback: what to do when the watch session encounters an error
        :param timeout: how many seconds the connection will keep after disconnection

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: watch_id - internal id assigned to this watch
        """
        self.require_ioctx_open()
        return Watch(self, obj, callback, error_callback, timeout)

    def list_objects(self) -> ObjectIterator:
        """Get ObjectIterator on rados.Ioctx object.

        :returns: ObjectIterator
        """
        self.require_ioctx_open()
        return ObjectIterator(self)

    def list_snaps(self) -> SnapIterator:
        """Get SnapIterator on rados.Ioctx object.

        :returns: SnapIterator
        """
        self.require_ioctx_open()
        return SnapIterator(self)

    def get_pool_id(self) -> int:
        """Get pool id

        :returns: int - pool id
        """
        return self._async.get_pool_id()

    def get_pool_name(self) -> str:
        """Get pool name

        :returns: str - pool name
        """
        return self._async.get_pool_name()

    def create_snap(self, snap_name: str):
        """Create a pool-wide snapshot

        :param snap_name: the name of the snapshot

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.create_snap, snap_name)

    def remove_snap(self, snap_name: str):
        """Removes a pool-wide snapshot

        :param snap_name: the name of the snapshot

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.remove_snap, snap_name)

    def lookup_snap(self, snap_name: str) -> Snap:
        """Get the id of a pool snapshot

        :param snap_name: the name of the snapshot to lookop

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        :returns: Snap - on success
        """
        self.require_ioctx_open()
        return Snap(self, snap_name, self._portal.run(self._async.lookup_snap, snap_name))

    def snap_rollback(self, oid: str, snap_name: str):
        """Rollback an object to a snapshot

        :param oid: the name of the object
        :param snap_name: the name of the snapshot

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.snap_rollback, oid, snap_name)

    def create_self_managed_snap(self):
        """Creates a self-managed snapshot

        :returns: snap id on success

        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        return self._portal.run(self._async.create_self_managed_snap)

    def remove_self_managed_snap(self, snap_id: int):
        """Removes a self-managed snapshot

        :param snap_id: the name of the snapshot

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.remove_self_managed_snap, snap_id)

    def set_self_managed_snap_write(self, snaps: Sequence[int | str]):
        """Updates the write context to the specified self-managed
        snapshot ids.

        :param snaps: all associated self-managed snapshot ids

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._async.set_self_managed_snap_write(snaps)

    def rollback_self_managed_snap(self, oid: str, snap_id: int):
        """Rolls an specific object back to a self-managed snapshot revision

        :param oid: the name of the object
        :param snap_id: the name of the snapshot

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.rollback_self_managed_snap, oid, snap_id)

    def get_last_version(self) -> int:
        """Return the version of the last object read or written to.

        This exposes the internal version number of the last object read or
        written via this io context

        :returns: version of the last object used
        """
        self.require_ioctx_open()
        return self._async.get_last_version()

    def create_write_op(self) -> WriteOp:
        """create write operation object.
        need call release_write_op after use
        """
        return WriteOp().create()

    def create_read_op(self) -> ReadOp:
        """create read operation object.
        need call release_read_op after use
        """
        return ReadOp().create()

    def release_write_op(self, write_op):
        """release memory alloc by create_write_op"""
        write_op.release()

    def release_read_op(self, read_op: ReadOp):
        """release memory alloc by create_read_op
        :para read_op: read_op object
        """
        read_op.release()

    def set_omap(self, write_op: WriteOp, keys: Sequence[str], values: Sequence[bytes]):
        """set keys values to write_op
        :para write_op: write_operation object
        :para keys: a tuple of keys
        :para values: a tuple of values
        """
        cstr_list(keys, "keys")
        self._async.set_omap(write_op, keys, values)

    def operate_write_op(
        self, write_op: WriteOp, oid: str, mtime: int = 0, flags: int = LIBRADOS_OPERATION_NOFLAG
    ):
        """execute the real write operation
        :para write_op: write operation object
        :para oid: object name
        :para mtime: the time to set the mtime to, 0 for the current time
        :para flags: flags to apply to the entire operation
        """
        cstr(oid, "oid")
        self._portal.run(self._async.operate_write_op, write_op, oid, mtime, flags)

    def operate_aio_write_op(
        self,
        write_op: WriteOp,
        oid: str,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
        mtime: int = 0,
        flags: int = LIBRADOS_OPERATION_NOFLAG,
    ) -> Completion:
        """execute the real write operation asynchronously
        :para write_op: write operation object
        :para oid: object name
        :param oncomplete: what to do when the remove is safe and complete in memory
            on all replicas
        :param onsafe:  what to do when the remove is safe and complete on storage
            on all replicas
        :para mtime: the time to set the mtime to, 0 for the current time
        :para flags: flags to apply to the entire operation

        :raises: :class:`Error`
        :returns: completion object
        """
        cstr(oid, "oid")
        return self._aio(self._async.operate_aio_write_op, (write_op, oid, mtime, flags),
                         oncomplete, onsafe)

    def operate_read_op(self, read_op: ReadOp, oid: str, flag: int = LIBRADOS_OPERATION_NOFLAG):
        """execute the real read operation
        :para read_op: read operation object
        :para oid: object name
        :para flag: flags to apply to the entire operation
        """
        cstr(oid, "oid")
        self._portal.run(self._async.operate_read_op, read_op, oid, flag)

    def operate_aio_read_op(
        self,
        read_op: ReadOp,
        oid: str,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
        flag: int = LIBRADOS_OPERATION_NOFLAG,
    ) -> Completion:
        """execute the real read operation
        :para read_op: read operation object
        :para oid: object name
        :param oncomplete: what to do when the remove is safe and complete in memory
            on all replicas
        :param onsafe:  what to do when the remove is safe and complete on storage
            on all replicas
        :para flag: flags to apply to the entire operation
        """
        cstr(oid, "oid")
        return self._aio(self._async.operate_aio_read_op, (read_op, oid, flag), oncomplete,
                         onsafe)

    def get_omap_vals(
        self, read_op: ReadOp, start_after: str, filter_prefix: str, max_return: int
    ) -> tuple[OmapIterator, int]:
        """get the omap values
        :para read_op: read operation object
        :para start_after: list keys starting after start_after
        :para filter_prefix: list only keys beginning with filter_prefix
        :para max_return: list no more than max_return key/value pairs
        :returns: an iterator over the requested omap values, return value from this action
        """
        result, ret = self._async.get_omap_vals(read_op, start_after, filter_prefix,
                                               max_return)
        return OmapIterator(self, result), ret

    def get_omap_keys(
        self, read_op: ReadOp, start_after: str, max_return: int
    ) -> tuple[OmapIterator, int]:
        """get the omap keys
        :para read_op: read operation object
        :para start_after: list keys starting after start_after
        :para max_return: list no more than max_return key/value pairs
        :returns: an iterator over the requested omap values, return value from this action
        """
        result, ret = self._async.get_omap_keys(read_op, start_after, max_return)
        return OmapIterator(self, result), ret

    def get_omap_vals_by_keys(
        self, read_op: ReadOp, keys: Sequence[str]
    ) -> tuple[OmapIterator, int]:
        """get the omap values by keys
        :para read_op: read operation object
        :para keys: input key tuple
        :returns: an iterator over the requested omap values, return value from this action
        """
        cstr_list(keys, "keys")
        result, ret = self._async.get_omap_vals_by_keys(read_op, keys)
        return OmapIterator(self, result), ret

    def remove_omap_keys(self, write_op: WriteOp, keys: Sequence[str]):
        """remove omap keys specifiled
        :para write_op: write operation object
        :para keys: input key tuple
        """
        cstr_list(keys, "keys")
        self._async.remove_omap_keys(write_op, keys)

    def clear_omap(self, write_op: WriteOp):
        """Remove all key/value pairs from an object
        :para write_op: write operation object
        """
        self._async.clear_omap(write_op)

    def remove_omap_range2(self, write_op: WriteOp, key_begin: str, key_end: str):
        """Remove key/value pairs from an object whose keys are in the range
        [key_begin, key_end)
        :param write_op: write operation object
        :param key_begin: the lower bound of the key range to remove
        :param key_end: the upper bound of the key range to remove
        """
        self._async.remove_omap_range2(write_op, key_begin, key_end)

    def lock_exclusive(
        self,
        key: str,
        name: str,
        cookie: str,
        desc: str = "",
        duration: int | None = None,
        flags: int = 0,
    ):
        """Take an exclusive lock on an object

        :param key: name of the object
        :param name: name of the lock
        :param cookie: cookie of the lock
        :param desc: description of the lock
        :param duration: duration of the lock in seconds
        :param flags: flags

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.lock_exclusive, key, name, cookie, desc, duration, flags)

    def lock_shared(
        self,
        key: str,
        name: str,
        cookie: str,
        tag: str,
        desc: str = "",
        duration: int | None = None,
        flags: int = 0,
    ):
        """Take a shared lock on an object

        :param key: name of the object
        :param name: name of the lock
        :param cookie: cookie of the lock
        :param tag: tag of the lock
        :param desc: description of the lock
        :param duration: duration of the lock in seconds
        :param flags: flags

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.lock_shared, key, name, cookie, tag, desc, duration,
                         flags)

    def unlock(self, key: str, name: str, cookie: str):
        """Release a shared or exclusive lock on an object

        :param key: name of the object
        :param name: name of the lock
        :param cookie: cookie of the lock

        :raises: :class:`TypeError`
        :raises: :class:`Error`
        """
        self.require_ioctx_open()
        self._portal.run(self._async.unlock, key, name, cookie)

    def set_osdmap_full_try(self):
        """Set global osdmap_full_try label to true"""
        self._async.set_osdmap_full_try()

    def unset_osdmap_full_try(self):
        """Unset"""
        self._async.unset_osdmap_full_try()

    def application_enable(self, app_name: str, force: bool = False):
        """Enable an application on an OSD pool

        :param app_name: application name
        :type app_name: str
        :param force: False if only a single app should exist per pool
        :type expire_seconds: boool

        :raises: :class:`Error`
        """
        self._portal.run(self._async.application_enable, app_name, force)

    def application_list(self) -> list[str]:
        """Returns a list of enabled applications

        :returns: list of app name string
        """
        return self._portal.run(self._async.application_list)

    def application_metadata_get(self, app_name: str, key: str) -> str:
        """Gets application metadata on an OSD pool for the given key

        :param app_name: application name
        :type app_name: str
        :param key: metadata key
        :type key: str
        :returns: str - metadata value

        :raises: :class:`Error`
        """
        return self._portal.run(self._async.application_metadata_get, app_name, key)

    def application_metadata_set(self, app_name: str, key: str, value: str):
        """Sets application metadata on an OSD pool

        :param app_name: application name
        :type app_name: str
        :param key: metadata key
        :type key: str
        :param value: metadata value
        :type value: str

        :raises: :class:`Error`
        """
        self._portal.run(self._async.application_metadata_set, app_name, key, value)

    def application_metadata_remove(self, app_name: str, key: str):
        """Remove application metadata from an OSD pool

        :param app_name: application name
        :type app_name: str
        :param key: metadata key
        :type key: str

        :raises: :class:`Error`
        """
        self._portal.run(self._async.application_metadata_remove, app_name, key)

    def application_metadata_list(self, app_name: str) -> list[tuple[str, str]]:
        """Returns a list of enabled applications

        :param app_name: application name
        :type app_name: str
        :returns: list of key/value tuples
        """
        return self._portal.run(self._async.application_metadata_list, app_name)

    def alignment(self) -> int:
        """Returns pool alignment

        :returns:
            Number of alignment bytes required by the current pool, or None if
            alignment is not required.
        """
        return self._async.alignment()


class MonitorLog:
    """For watching cluster log messages.  Instantiate an object and keep
    it around while callback is periodically called.  Construct with
    'level' to monitor 'level' messages (one of MONITOR_LEVELS).
    arg will be passed to the callback.

    callback will be called with:
        arg (given to __init__)
        line (the full line, including timestamp, who, level, msg)
        who (which entity issued the log message)
        timestamp_sec (sec of a struct timespec)
        timestamp_nsec (sec of a struct timespec)
        seq (sequence number)
        level (string representing the level of the log message)
        msg (the message itself)
    callback's return value is ignored
    """

    def __init__(self, cluster, level, callback, arg):
        self.level = level
        self.callback = callback
        self.arg = arg
        self.cluster = cluster
        self.cluster.monitor_log(level, callback, arg)


class Object:
    """Rados object wrapper, makes the object look like a file"""

    ioctx: Ioctx

    def __init__(self, ioctx, key, locator_key=None, nspace=None):
        self.key = key
        self.ioctx = ioctx
        self.offset = 0
        self.state = "exists"
        self.locator_key = locator_key
        self.nspace = "" if nspace is None else nspace

    def __str__(self):
        nspace = "--default--" if self.nspace == "" else self.nspace
        return (
            f"rados.Object(ioctx={self.ioctx},key={self.key},nspace={nspace},"
            f"locator={self.locator_key})"
        )

    def require_object_exists(self):
        if self.state != "exists":
            raise ObjectStateError(f"The object is {self.state}")

    @set_object_locator
    @set_object_namespace
    def read(self, length=1048576):
        self.require_object_exists()
        data = self.ioctx.read(self.key, length, self.offset)
        self.offset += len(data)
        return data

    @set_object_locator
    @set_object_namespace
    def write(self, string_to_write):
        self.require_object_exists()
        ret = self.ioctx.write(self.key, string_to_write, self.offset)
        if ret == 0:
            self.offset += len(string_to_write)
        return ret

    @set_object_locator
    @set_object_namespace
    def remove(self):
        self.require_object_exists()
        self.ioctx.remove_object(self.key)
        self.state = "removed"

    @set_object_locator
    @set_object_namespace
    def stat(self) -> tuple[int, time.struct_time]:
        self.require_object_exists()
        return self.ioctx.stat(self.key)

    def seek(self, position: int):
        self.require_object_exists()
        self.offset = position

    @set_object_locator
    @set_object_namespace
    def get_xattr(self, xattr_name: str) -> bytes:
        self.require_object_exists()
        return self.ioctx.get_xattr(self.key, xattr_name)

    @set_object_locator
    @set_object_namespace
    def get_xattrs(self) -> XattrIterator:
        self.require_object_exists()
        return self.ioctx.get_xattrs(self.key)

    @set_object_locator
    @set_object_namespace
    def set_xattr(self, xattr_name: str, xattr_value: bytes) -> bool:
        self.require_object_exists()
        return self.ioctx.set_xattr(self.key, xattr_name, xattr_value)

    @set_object_locator
    @set_object_namespace
    def rm_xattr(self, xattr_name: str) -> bool:
        self.require_object_exists()
        return self.ioctx.rm_xattr(self.key, xattr_name)


class ObjectIterator:
    """rados.Ioctx Object iterator"""

    ioctx: Ioctx

    def __init__(self, ioctx: Ioctx) -> None:
        self.ioctx = ioctx
        self._lister = ioctx._async.list_objects()
        self._page: list[tuple[str, str, str]] = []

    def __iter__(self):
        return self

    def __next__(self):
        while not self._page:
            if self._lister.done:
                raise StopIteration
            page = self.ioctx._portal.run(self.ioctx._async._list_page, self._lister)
            if not page:
                raise StopIteration
            self._page = list(reversed(page))
        key, nspace, locator = self._page.pop()
        return Object(self.ioctx, key, locator or None, nspace)


class OmapIterator:
    """Omap iterator"""

    ioctx: Ioctx

    def __init__(self, ioctx: Ioctx, result: Any = None) -> None:
        # ``result`` is filled in when the read op that produced this iterator runs.
        self.ioctx = ioctx
        self._result = result
        self._index = 0

    def __iter__(self):
        return self

    def __next__(self):
        items = self._result.items if self._result is not None else None
        if not items or self._index >= len(items):
            raise StopIteration
        key, value = items[self._index]
        self._index += 1
        # librados hands python-rados a NULL value pointer for an empty value.
        return key, (value or None)


class OpCtx:
    def __enter__(self):
        return self.create()  # type: ignore[attr-defined]  # ReadOp/WriteOp mixin

    def __exit__(self, type, msg, traceback):
        self.release()  # type: ignore[attr-defined]  # ReadOp/WriteOp mixin


class Rados:
    """This class wraps librados functions"""

    conf_defaults: dict[str, str] | None
    conffile: str | int | None
    monitor_callback: Any
    monitor_callback2: Any
    parsed_args: Sequence[str]
    rados_id: str | None
    state: str
    NO_CONF_FILE = -1
    DEFAULT_CONF_FILES = -2

    def __init__(
        self,
        rados_id: str | None = None,
        name: str | None = None,
        clustername: str | None = None,
        conf_defaults: dict[str, str] | None = None,
        conffile: str | int | None = NO_CONF_FILE,
        conf: dict[str, str] | None = None,
        flags: int = 0,
        context: object = None,
    ):
        self.monitor_callback = None
        self.monitor_callback2 = None
        self.parsed_args = []
        self.conf_defaults = conf_defaults
        self.conffile = conffile
        self.rados_id = rados_id
        if rados_id and name:
            raise Error("Rados(): can't supply both rados_id and name")
        if rados_id:
            name = "client." + rados_id
        if name is None:
            name = "client.admin"
        cstr(name, "name")
        cstr("" if clustername is None else clustername, "clustername")
        if context:
            raise _nie("Rados.__init__(context=...)", "sharing a librados CephContext")
        self._entity_name = name
        self._clustername = clustername or ""
        self._flags = flags
        if conffile not in (self.NO_CONF_FILE, self.DEFAULT_CONF_FILES, None):
            cstr(conffile, "conffile")
        for key, value in (conf_defaults or {}).items():
            cstr(key, "key")
            cstr(value, "value")
        self._portal: Portal | None = None
        # The async handle does the configuring (same precedence as python-rados:
        # CEPH_ARGS, conf_defaults, then the file(s), then conf).
        from rbdpy.rados.client import AsyncRados
        from rbdpy.rados.ioctx import AsyncIoctx  # noqa: F401 (registers the ioctx factory)

        self._async = AsyncRados(rados_id=rados_id, name=name, clustername=clustername,
                                 conf_defaults=conf_defaults,
                                 conffile=None if conffile is None else conffile,
                                 conf=conf, flags=flags)
        self.state = "configuring"

    def get_addrs(self):
        """Get associated client addresses with this RADOS session."""
        self.require_state("connected")
        return self._async.get_addrs()

    def require_state(self, *args):
        """Checks if the Rados object is in a special state

        :raises: :class:`RadosStateError`
        """
        if self.state in args:
            return
        raise RadosStateError(
            f"You cannot perform that operation on a Rados object in state {self.state}."
        )

    def shutdown(self):
        """Disconnects from the cluster.  Call this explicitly when a
        Rados.connect()ed object is no longer used.
        """
        if self.state != "shutdown":
            if self._portal is not None:
                try:
                    self._portal.run(self._async.shutdown)
                finally:
                    self._portal.close()
                    self._portal = None
            self.state = "shutdown"

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, type_, value, traceback):
        self.shutdown()
        return False

    def version(self) -> Version:
        """Get the version number of the ``librados`` C library.

        :returns: a tuple of ``(major, minor, extra)`` components of the
                  librados version
        """
        return Version(*_LIBRADOS_VERSION)

    def conf_read_file(self, path: str | None = None):
        """Configure the cluster handle using a Ceph config file.

        :param path: path to the config file
        """
        self.require_state("configuring", "connected")
        cstr(path, "path", opt=True)
        self._async.conf_read_file(path)

    def conf_parse_argv(self, args: Sequence[str]):
        """Parse known arguments from args, and remove; returned
        args contain only those unknown to ceph
        """
        self.require_state("configuring", "connected")
        if not args:
            return None
        cstr_list(args, "args")
        self.parsed_args = self._async.conf_parse_argv(args)
        return self.parsed_args

    def conf_parse_env(self, var: str | None = "CEPH_ARGS"):
        """Parse known arguments from an environment variable, normally
        CEPH_ARGS.
        """
        self.require_state("configuring", "connected")
        if not var or not os.environ.get(var):
            return  # nothing to parse: librados does nothing either
        self._async.conf_parse_env(var)

    def conf_get(self, option: str) -> str | None:
        """Get the value of a configuration option

        :param option: which option to read

        :returns: str - value of the option or None
        :raises: :class:`TypeError`
        """
        self.require_state("configuring", "connected")
        cstr(option, "option")
        return self._async.conf_get(option)

    def conf_set(self, option: str, val: str):
        """Set the value of a configuration option

        :param option: which option to set
        :param option: value of the option

        :raises: :class:`TypeError`, :class:`ObjectNotFound`
        """
        self.require_state("configuring", "connected")
        cstr(option, "option")
        cstr(val, "val")
        self._async.conf_set(option, val)

    def ping_monitor(self, mon_id: str):
        """Ping a monitor to assess liveness

        May be used as a simply way to assess liveness, or to obtain
        information about the monitor in a simple way even in the
        absence of quorum.

        :param mon_id: the ID portion of the monitor's name (i.e., mon.<ID>)
        :returns: the string reply from the monitor
        """
        raise _nie("Rados.ping_monitor", "the cluster log")

    def connect(self, timeout: int = 0):
        """Connect to the cluster.  Use shutdown() to release resources."""
        self.require_state("configuring")
        from rbdpy._sync import Portal

        self._portal = Portal(f"rbdpy {self._async.config.name}")
        self._portal.start()
        try:
            self._portal.run(self._async.connect, timeout)
        except BaseException:
            self._portal.close()
            self._portal = None
            raise
        self.state = "connected"

    def get_instance_id(self) -> int:
        """Get a global id for current instance"""
        self.require_state("connected")
        return self._async.get_instance_id()

    def get_cluster_stats(self) -> dict[str, int]:
        """Read usage info about the cluster

        This tells you total space, space used, space available, and number
        of objects. These are not updated immediately when data is written,
        they are eventually consistent.

        :returns: dict - contains the following keys:

            - ``kb`` (int) - total space

            - ``kb_used`` (int) - space used

            - ``kb_avail`` (int) - free space available

            - ``num_objects`` (int) - number of objects
        """
        self.require_state("connected")
        return self._portal.run(self._async.get_cluster_stats)

    def pool_exists(self, pool_name: str) -> bool:
        """Checks if a given pool exists.

        :param pool_name: name of the pool to check

        :raises: :class:`TypeError`, :class:`Error`
        :returns: bool - whether the pool exists, false otherwise.
        """
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        return self._portal.run(self._async.pool_exists, pool_name)

    def pool_lookup(self, pool_name: str) -> int:
        """Returns a pool's ID based on its name.

        :param pool_name: name of the pool to look up

        :raises: :class:`TypeError`, :class:`Error`
        :returns: int - pool ID, or None if it doesn't exist
        """
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        return self._portal.run(self._async.pool_lookup, pool_name)

    def pool_reverse_lookup(self, pool_id: int):
        """Returns a pool's name based on its ID.

        :param pool_id: ID of the pool to look up

        :raises: :class:`TypeError`, :class:`Error`
        :returns: string - pool name, or None if it doesn't exist
        """
        self.require_state("connected")
        return self._portal.run(self._async.pool_reverse_lookup, pool_id)

    def create_pool(self, pool_name: str, crush_rule: int | None = None, auid: int | None = None):
        """Create a pool:
        - with default settings: if crush_rule=None and auid=None
        - with a specific CRUSH rule: crush_rule given
        - with a specific auid: auid given
        - with a specific CRUSH rule and auid: crush_rule and auid given

        :param pool_name: name of the pool to create
        :param crush_rule: rule to use for placement in the new pool
        :param auid: id of the owner of the new pool

        :raises: :class:`TypeError`, :class:`Error`
        """
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        self._portal.run(self._async.create_pool, pool_name, crush_rule, auid)

    def get_pool_base_tier(self, pool_id: int) -> int:
        """Get base pool

        :returns: base pool, or pool_id if tiering is not configured for the pool
        """
        self.require_state("connected")
        return self._portal.run(self._async.get_pool_base_tier, pool_id)

    def delete_pool(self, pool_name: str):
        """Delete a pool and all data inside it.

        The pool is removed from the cluster immediately,
        but the actual data is deleted in the background.

        :param pool_name: name of the pool to delete

        :raises: :class:`TypeError`, :class:`Error`
        """
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        self._portal.run(self._async.delete_pool, pool_name)

    def get_inconsistent_pgs(self, pool_id: int) -> list[str]:
        """List inconsistent placement groups in the given pool

        :param pool_id: ID of the pool in which PGs are listed
        :returns: list - inconsistent placement groups
        """
        raise _nie("Rados.get_inconsistent_pgs", "the cluster connection")

    def list_pools(self) -> list[str]:
        """Gets a list of pool names.

        :returns: list - of pool names.
        """
        self.require_state("connected")
        return self._portal.run(self._async.list_pools)

    def get_fsid(self) -> str:
        """Get the fsid of the cluster as a hexadecimal string.

        :raises: :class:`Error`
        :returns: str - cluster fsid
        """
        self.require_state("connected")
        return self._async.get_fsid()

    def open_ioctx(self, ioctx_name: str) -> Ioctx:
        """Create an io context

        The io context allows you to perform operations within a particular
        pool.

        :param ioctx_name: name of the pool

        :raises: :class:`TypeError`, :class:`Error`
        :returns: Ioctx - Rados Ioctx object
        """
        self.require_state("connected")
        cstr(ioctx_name, "ioctx_name")
        aio = self._portal.run(self._async.open_ioctx, ioctx_name)
        io = Ioctx(self, ioctx_name)
        io._async = aio
        return io

    def open_ioctx2(self, pool_id: int) -> Ioctx:
        """Create an io context

        The io context allows you to perform operations within a particular
        pool.

        :param pool_id: ID of the pool

        :raises: :class:`TypeError`, :class:`Error`
        :returns: Ioctx - Rados Ioctx object
        """
        self.require_state("connected")
        aio = self._portal.run(self._async.open_ioctx2, pool_id)
        io = Ioctx(self, aio.get_pool_name())
        io._async = aio
        return io

    def mon_command(
        self, cmd: str, inbuf: bytes, timeout: int = 0, target: str | int | None = None
    ) -> tuple[int, bytes, str]:
        """Send a command to the mon.

        mon_command[_target](cmd, inbuf, outbuf, outbuflen, outs, outslen)

        :param cmd: JSON formatted string.
        :param inbuf: optional string.
        :param timeout: This parameter is ignored.
        :param target: name or rank of a specific mon. Optional
        :return: (int ret, string outbuf, string outs)

        Example:

        >>> import json
        >>> c = Rados(conffile='/etc/ceph/ceph.conf')
        >>> c.connect()
        >>> cmd = json.dumps({"prefix": "osd safe-to-destroy", "ids": ["2"], "format": "json"})
        >>> c.mon_command(cmd, b'')
        """
        self.require_state("connected")
        cstr(cmd, "cmd")
        return self._portal.run(self._async.mon_command, cmd, inbuf, timeout, target)

    def osd_command(
        self, osdid: int, cmd: str, inbuf: bytes, timeout: int = 0
    ) -> tuple[int, bytes, str]:
        """osd_command(osdid, cmd, inbuf, outbuf, outbuflen, outs, outslen)

        :return: (int ret, string outbuf, string outs)
        """
        raise _nie("Rados.osd_command", "mon/osd/mgr/pg commands")

    def mgr_command(
        self, cmd: str, inbuf: bytes, timeout: int = 0, target: str | None = None
    ) -> tuple[int, str, bytes]:
        """:return: (int ret, string outbuf, string outs)"""
        raise _nie("Rados.mgr_command", "mon/osd/mgr/pg commands")

    def pg_command(
        self, pgid: str, cmd: str, inbuf: bytes, timeout: int = 0
    ) -> tuple[int, bytes, str]:
        """pg_command(pgid, cmd, inbuf, outbuf, outbuflen, outs, outslen)

        :return: (int ret, string outbuf, string outs)
        """
        raise _nie("Rados.pg_command", "mon/osd/mgr/pg commands")

    def wait_for_latest_osdmap(self) -> int:
        self.require_state("connected")
        return self._portal.run(self._async.wait_for_latest_osdmap)

    def blocklist_add(self, client_address: str, expire_seconds: int = 0):
        """Blocklist a client from the OSDs

        :param client_address: client address
        :param expire_seconds: number of seconds to blocklist

        :raises: :class:`Error`
        """
        self.require_state("connected")
        cstr(client_address, "client_address")
        self._portal.run(self._async.blocklist_add, client_address, expire_seconds)

    def monitor_log(
        self,
        level: str,
        callback: Callable[[object, str, str, str, int, int, int, str, str], None] | None = None,
        arg: object | None = None,
    ):
        raise _nie("Rados.monitor_log", "the cluster log")

    def monitor_log2(
        self,
        level: str,
        callback: Callable[[object, str, str, str, str, int, int, int, str, str], None]
        | None = None,
        arg: object | None = None,
    ):
        raise _nie("Rados.monitor_log2", "the cluster log")

    def service_daemon_register(self, service: str, daemon: str, metadata: dict[str, str]):
        """:param str service: service name (e.g. "rgw")
        :param str daemon: daemon name (e.g. "gwfoo")
        :param dict metadata: static metadata about the register daemon
               (e.g., the version of Ceph, the kernel version.)
        """
        raise _nie("Rados.service_daemon_register", "service daemon registration")

    def service_daemon_update(self, status: dict[str, str]):
        raise _nie("Rados.service_daemon_update", "service daemon registration")


class ReadOp:
    def create(self):
        # The ops live in an async-layer ReadOp that AsyncIoctx.operate_read_op runs.
        # Imported here, not at module level: importing any rbdpy.rados.proto module runs
        # this package's __init__, which must stay light (and free of import cycles).
        from rbdpy.rados.ioctx import ReadOp as _AsyncReadOp

        self._compound = _AsyncReadOp()
        return self

    def release(self):
        self._compound.release()

    def cmpext(self, cmp_buf: bytes, offset: int = 0):
        """Ensure that given object range (extent) satisfies comparison
        :param cmp_buf: buffer containing bytes to be compared with object contents
        :param offset: object byte offset at which to start the comparison
        """
        self._compound.cmpext(cmp_buf, offset)

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG):
        """Set flags for the last operation added to this read_op.
        :para flags: flags to apply to the last operation
        """
        self._compound.set_flags(flags)


class ReadOpCtx(ReadOp, OpCtx):
    """read operation context manager"""


class Snap:
    """Snapshot object"""

    ioctx: Ioctx
    name: str
    snap_id: int

    def __init__(self, ioctx: Ioctx, name: str, snap_id: int) -> None:
        self.ioctx = ioctx
        self.name = name
        self.snap_id = snap_id

    def __str__(self):
        return f"rados.Snap(ioctx={self.ioctx},name={self.name},snap_id={self.snap_id:d})"

    def get_timestamp(self) -> float:
        """Find when a snapshot in the current pool occurred

        :raises: :class:`Error`
        :returns: datetime - the data and time the snapshot was created
        """
        stamp = self.ioctx._portal.run(self.ioctx._async.get_snap_stamp, self.snap_id)
        return datetime.datetime.fromtimestamp(int(stamp))


class SnapIterator:
    """Snapshot iterator"""

    ioctx: Ioctx

    def __init__(self, ioctx: Ioctx) -> None:
        self.ioctx = ioctx
        self._snaps = ioctx._portal.run(ioctx._async.list_snaps)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._snaps:
            raise StopIteration
        snap_id, name, _ = self._snaps.pop(0)
        return Snap(self.ioctx, name, snap_id)


class Version:
    """Version information"""

    def __init__(self, major, minor, extra):
        self.major = major
        self.minor = minor
        self.extra = extra

    def __str__(self):
        return f"{self.major:d}.{self.minor:d}.{self.extra:d}"


class Watch:
    """watch object"""

    def __init__(self, ioctx, oid, callback, error_callback, timeout):
        self.id = 0
        self.ioctx = ioctx.dup()
        self.oid = cstr(oid, "oid")
        self.callback = callback
        self.error_callback = error_callback
        portal = self.ioctx._portal

        # Callbacks never run on the trio thread (they may call this API back): each
        # one hops to a worker thread, one at a time per watch, as librados' finisher.
        async def on_notify(notify_id, notifier_id, watch_id, data):
            return await _to_thread(self.callback, notify_id, notifier_id, watch_id, data)

        async def on_error(watch_id, error):
            if self.error_callback is not None:
                await _to_thread(self.error_callback, watch_id, error)

        self._watch = portal.run(self.ioctx._async.watch, oid, on_notify, on_error,
                                 timeout)
        self.id = self._watch.get_id()

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        self.close()
        return False

    def get_id(self) -> int:
        return self.id

    def check(self):
        """Check on watch validity.

        :raises: :class:`Error`
        :returns: timedelta since last confirmed valid
        """
        self.ioctx.require_ioctx_open()
        return datetime.timedelta(seconds=self._watch.check())

    def close(self):
        """Unregister an interest in an object.

        :raises: :class:`Error`
        """
        if self.id == 0:
            return
        self.ioctx.require_ioctx_open()
        try:
            self.ioctx._portal.run(self._watch.close)
        finally:
            self.id = 0
        self.ioctx.close()


class WriteOp:
    def create(self):
        # The ops live in an async-layer WriteOp that AsyncIoctx.operate_write_op runs.
        from rbdpy.rados.ioctx import WriteOp as _AsyncWriteOp

        self._compound = _AsyncWriteOp()
        return self

    def release(self):
        self._compound.release()

    def new(self, exclusive: int | None = None):
        """Create the object."""
        self._compound.new(exclusive)

    def remove(self):
        """Remove object."""
        self._compound.remove()

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG):
        """Set flags for the last operation added to this write_op.
        :para flags: flags to apply to the last operation
        """
        self._compound.set_flags(flags)

    def set_xattr(self, xattr_name: str, xattr_value: bytes):
        """Set an extended attribute on an object.
        :param xattr_name: name of the xattr
        :param xattr_value: buffer to set xattr to
        """
        cstr(xattr_name, "xattr_name")
        self._compound.set_xattr(xattr_name, xattr_value)

    def rm_xattr(self, xattr_name: str):
        """Removes an extended attribute on from an object.
        :param xattr_name: name of the xattr to remove
        """
        cstr(xattr_name, "xattr_name")
        self._compound.rm_xattr(xattr_name)

    def append(self, to_write: bytes):
        """Append data to an object synchronously
        :param to_write: data to write
        """
        self._compound.append(to_write)

    def write_full(self, to_write: bytes):
        """Write whole object, atomically replacing it.
        :param to_write: data to write
        """
        self._compound.write_full(to_write)

    def write(self, to_write: bytes, offset: int = 0):
        """Write to offset.
        :param to_write: data to write
        :param offset: byte offset in the object to begin writing at
        """
        self._compound.write(to_write, offset)

    def assert_version(self, version: int):
        """Check if object's version is the expected one.
        :param version: expected version of the object
        :param type: int
        """
        self._compound.assert_version(version)

    def zero(self, offset: int, length: int):
        """Zero part of an object.
        :param offset: byte offset in the object to begin writing at
        :param offset: number of zero to write
        """
        self._compound.zero(offset, length)

    def truncate(self, offset: int):
        """Truncate an object.
        :param offset: byte offset in the object to begin truncating at
        """
        self._compound.truncate(offset)

    def execute(self, cls: str, method: str, data: bytes):
        """Execute an OSD class method on an object

        :param cls: name of the object class
        :param method: name of the method
        :param data: input data
        """
        cstr(cls, "cls")
        cstr(method, "method")
        self._compound.execute(cls, method, data)

    def writesame(self, to_write: bytes, write_len: int, offset: int = 0):
        """Write the same buffer multiple times
        :param to_write: data to write
        :param write_len: total number of bytes to write
        :param offset: byte offset in the object to begin writing at
        """
        self._compound.writesame(to_write, write_len, offset)

    def cmpext(self, cmp_buf: bytes, offset: int = 0):
        """Ensure that given object range (extent) satisfies comparison
        :param cmp_buf: buffer containing bytes to be compared with object contents
        :param offset: object byte offset at which to start the comparison
        """
        self._compound.cmpext(cmp_buf, offset)

    def omap_cmp(self, key: str, val: str, cmp_op: int = LIBRADOS_CMPXATTR_OP_EQ):
        """Ensure that an omap key value satisfies comparison
        :param key: omap key whose associated value is evaluated for comparison
        :param val: value to compare with
        :param cmp_op: comparison operator, one of LIBRADOS_CMPXATTR_OP_EQ (1),
            LIBRADOS_CMPXATTR_OP_GT (3), or LIBRADOS_CMPXATTR_OP_LT (5).
        """
        cstr(key, "key")
        cstr(val, "val")
        self._compound.omap_cmp(key, val, cmp_op)


class WriteOpCtx(WriteOp, OpCtx):
    """write operation context manager"""


class XattrIterator:
    """Extended attribute iterator"""

    ioctx: Ioctx
    oid: bytes | None

    def __init__(self, ioctx: Ioctx, oid: str) -> None:
        self.ioctx = ioctx
        self.oid = cstr(oid, "oid")
        attrs = ioctx._portal.run(ioctx._async.get_xattrs, oid)
        self._items = sorted(attrs.items())

    def __iter__(self):
        return self

    def __next__(self):
        if not self._items:
            raise StopIteration
        return self._items.pop(0)


def _public_module_names() -> None:
    # Classes and helpers defined here are published as ``rbdpy.rados.X`` (the package re-exports
    # them), as python-rados publishes them as ``rados.X``: reprs, pickles and the surface test
    # see that name.
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", None) == __name__:
            obj.__module__ = "rbdpy.rados"


_public_module_names()
