# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# mypy: disable-error-code="type-arg"
"""rbdpy's drop-in for python-rados: ``from rbdpy import rados`` in place of ``import rados``.

Theory of operation: a synchronous facade over the trio-native core. The names, parameter
lists, defaults, ``LIBRADOS_*`` constants and exception classes are python-rados' (Ceph
Pacific), re-exported from :mod:`rbdpy.rados.constants` and :mod:`rbdpy.rados.exceptions`
and pinned by tests/compat/test_surface.py; the docstrings are rbdpy's own.

A connected :class:`Rados` owns one :class:`rbdpy._sync.Portal` (a thread running trio)
and an :class:`~rbdpy.rados.client.AsyncRados`. An :class:`Ioctx` shares its handle's
portal and drives one :class:`~rbdpy.rados.ioctx.AsyncIoctx`; most methods are one call,
``self._portal.run(self._async.<same name>, ...)``. Errors are therefore translated in
one place, by the async method: an errno from the OSD, the monitor or the client itself
becomes the class :data:`rbdpy.rados.exceptions.errno_to_exception` names for it, through
:func:`~rbdpy.rados.exceptions.make_ex`, and ``rbdpy.aio`` callers see the same classes.

``aio_*`` calls start the same coroutine with ``Portal.spawn`` and return a
:class:`Completion`; their callbacks, like watch callbacks, run on worker threads and never
on the trio thread, so they may call back into this API. :class:`ReadOp`/:class:`WriteOp`
collect sub-operations in the async layer's op builders. What rbdpy cannot do yet raises
``NotImplementedError`` naming the call (see ``_nie``); nothing succeeds silently.

Mirrors: src/pybind/rados/rados.pyx (Ceph 16.2).
"""

from __future__ import annotations

import datetime
import errno
import functools
import os
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar

from rbdpy._sync import Portal
from rbdpy.rados.client import AsyncRados
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
    make_ex,
)
from rbdpy.rados.ioctx import ReadOp as _AsyncReadOp
from rbdpy.rados.ioctx import WriteOp as _AsyncWriteOp

if TYPE_CHECKING:
    from rbdpy._sync import Pending

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


#: Entity types EntityName::from_str knows (ceph_entity_type names).
_ENTITY_TYPES = frozenset({"auth", "mon", "osd", "mds", "mgr", "client"})

#: A length no cls output reaches (aio_execute does not limit its output).
_NO_LIMIT = 1 << 62


def _typed_str(val: Any, name: str) -> None:
    """Cython's check of a parameter typed ``str`` (python-rados' message)."""
    if not isinstance(val, str):
        raise TypeError(f"Argument '{name}' has incorrect type (expected str, "
                        f"got {type(val).__name__})")


def _nie(what: str, capability: str) -> NotImplementedError:
    """Build the ``NotImplementedError`` an unsupported call raises: ``"<what>: <capability> ..."``.
    """
    return NotImplementedError(f"{what}: {capability} is not implemented in rbdpy yet")


# ----------------------------------------------------------------------------- helpers


def cstr(val: Any, name: str, encoding: str = "utf-8", opt: bool = False) -> bytes | None:
    """Return ``val`` as bytes: str is encoded with ``encoding``, bytes pass through.

    ``None`` is returned as is when ``opt`` is true. Anything else raises ``TypeError``
    with the message ``"<name> must be a string"``.
    """
    if opt and val is None:
        return None
    if isinstance(val, bytes):
        return val
    if isinstance(val, str):
        return val.encode(encoding)
    raise TypeError(f"{name} must be a string")


def cstr_list(list_str: Sequence[Any], name: str, encoding: str = "utf-8") -> list[bytes | None]:
    """Apply :func:`cstr` to every item; like python-rados, items use UTF-8 whatever ``encoding``.
    """
    # python-rados ignores ``encoding`` here (each item uses cstr's default); so do we.
    return [cstr(s, name) for s in list_str]


def decode_cstr(val: bytes | None, encoding: str = "utf-8") -> str | None:
    """Return ``val`` decoded with ``encoding`` (UTF-8 by default); None stays None."""
    if val is None:
        return None
    return val.decode(encoding)


def flatten_dict(d: dict[str, str], name: str) -> bytes | None:
    """Encode ``d`` as ``key NUL value NUL ...`` bytes (the form librados' service-map calls take).
    """
    # librados' service-map calls take "k\0v\0k\0v\0" strings.
    return cstr("".join(item + "\0" for item in chain.from_iterable(d.items())), name)


def set_object_locator(func: _F) -> _F:
    """Decorator for :class:`Object` methods: use the object's locator key on its ioctx.

    The ioctx's key is put back after the call returns (not when it raises, matching
    python-rados). An object without a locator key leaves the ioctx untouched.
    """

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
    """Decorator for :class:`Object` methods: use the object's namespace on its ioctx.

    The ioctx's namespace is put back after the call returns (not when it raises, matching
    python-rados); an object whose ``nspace`` is None raises :class:`LogicError`.
    """

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


def _live_portal(portal: Portal | None, call: str = "run") -> Portal:
    """``portal``, the thread a facade object shares with its :class:`Rados`, for ``.<call>``.

    It is None only for an :class:`Ioctx` built by hand over a handle that never connected
    (python-rados would hand librados a NULL ioctx there), or once a concurrent
    :meth:`Rados.shutdown` dropped it. Such calls have always failed with the AttributeError
    of ``None.<call>``; they still do, word for word.
    """
    if portal is None:
        raise AttributeError(f"'NoneType' object has no attribute '{call}'", name=call, obj=None)
    return portal


async def _to_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run the blocking callable ``fn(*args)`` on a trio worker thread and await it."""
    import trio

    return await trio.to_thread.run_sync(fn, *args)


def _return_code(pending: Pending[Any]) -> int:
    """The integer a finished aio call reports, as librados would.

    A failure gives ``-errno`` (``-EIO`` when the exception has none), an int result itself,
    a bytes-like result its length, and anything else 0.
    """
    exc = pending.exception()
    if exc is not None:
        code = getattr(exc, "errno", None)
        return -abs(code) if isinstance(code, int) and code else -errno.EIO
    value = pending.result()
    if isinstance(value, bool):
        return 0  # a call that only succeeded (remove, setxattr, rmxattr): librados' 0
    if isinstance(value, int):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(value)
    return 0


# ----------------------------------------------------------------------------- classes


class Completion:
    """Handle on one ``aio_*`` or ``operate_aio_*`` call of an :class:`Ioctx`.

    Create it only through those methods: a Completion not bound to a call raises
    ``NotImplementedError`` from its query and wait methods. Callbacks run on the portal's
    finisher thread once the call has finished, and only if ``oncomplete`` was given
    (``onsafe`` then runs after it); since librados has one completion state, "safe" and
    "complete" are the same moment. After the callbacks, the completion keeps only the
    return code, not a read's data.
    """

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
        """Bind this completion to the portal call ``pending`` that carries it out."""
        self._pending = pending

    def _require_pending(self, what: str) -> Pending[Any]:
        if self._pending is None:
            raise _nie(what, "asynchronous completions")
        return self._pending

    def is_safe(self) -> bool:
        """True once the call has finished; the same as :meth:`is_complete`."""
        return self.is_complete()

    def is_complete(self) -> bool:
        """True once the call has finished, whether or not its callback has returned yet."""
        return self._require_pending("Completion.is_complete").done()

    def wait_for_safe(self):
        """Block until the call finishes; the same as :meth:`wait_for_complete`."""
        self.wait_for_complete()

    def wait_for_complete(self):
        """Block until the call finishes; its callback may still be running when this returns."""
        self._require_pending("Completion.wait_for_complete").wait()

    def wait_for_safe_and_cb(self):
        """The same as :meth:`wait_for_complete_and_cb`."""
        return self.wait_for_complete_and_cb()

    def wait_for_complete_and_cb(self):
        """Block until the call has finished and its callbacks have returned; returns 0."""
        self._require_pending("Completion.wait_for_complete_and_cb").wait_callback()
        # librados returns rados_aio_wait_for_complete_and_cb()'s own status: always 0.
        return 0

    def get_return_value(self) -> int:
        """The call's result code: 0 while it runs, then ``-errno`` on failure.

        On success: the call's integer result, or the length of the data a read returned, or 0.
        """
        pending = self._require_pending("Completion.get_return_value")
        if not pending.done():
            return 0  # librados: rval is only meaningful once complete
        return _return_code(pending)


class Ioctx:
    """I/O context: object operations in one pool, namespace, locator key and read snapshot.

    Get one from :meth:`Rados.open_ioctx` or :meth:`Rados.open_ioctx2`; it is a context
    manager that closes itself. Each cluster operation runs the
    :class:`~rbdpy.rados.ioctx.AsyncIoctx` method of the same name (the ``rbdpy.aio`` API) on
    the handle's portal, and fails the same way:

    * :class:`IoctxStateError` once the context is closed;
    * the :mod:`rbdpy.rados.exceptions` class for the errno the OSD or monitor returned, e.g.
      :class:`ObjectNotFound` (ENOENT), :class:`ObjectExists` (EEXIST),
      :class:`PermissionDeniedError` (EACCES), :class:`TimedOut` (ETIMEDOUT), else
      :class:`OSError` with that ``errno``;
    * ``TypeError`` for a name argument that is neither str nor bytes.

    The ``aio_*`` methods return a :class:`Completion` instead of blocking.
    """

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
        """Start ``afn(*args)`` on the portal and return the :class:`Completion` bound to it.

        Callbacks run on the portal's finisher thread and only when ``oncomplete`` is given:
        ``done(completion, pending)`` if supplied (for callbacks that take results), else
        ``oncomplete(completion)`` followed by ``onsafe(completion)``. The completion is listed in
        ``complete_completions``/``safe_completions`` until its callbacks are done.
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

        comp._attach(_live_portal(self._portal, "spawn").spawn(afn, args, on_done))
        return comp

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        self.close()
        return False

    def dup(self):
        """Open a new :class:`Ioctx` on the same pool, with this one's namespace.

        The locator key and read snapshot are not copied. Async: :meth:`AsyncIoctx.dup`.
        """
        ioctx = self._rados.open_ioctx2(self.get_pool_id())
        ioctx.set_namespace(self.get_namespace())
        return ioctx

    def aio_stat(
        self,
        object_name: str,
        oncomplete: Callable[[Completion, int | None, time.struct_time | None], None],
    ) -> Completion:
        """Start a stat of ``object_name``; returns a :class:`Completion`.

        ``oncomplete(completion, size, mtime)`` receives what :meth:`stat` returns, or
        ``(completion, None, None)`` when the stat failed (the return value then holds
        ``-errno``).
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
        """Start writing ``to_write`` into ``object_name`` at ``offset``; returns a Completion.

        ``oncomplete(completion)`` then ``onsafe(completion)`` run once the OSDs have applied
        the write. The synchronous form is :meth:`write`.
        """
        return self._aio(self._async.write, (object_name, to_write, offset), oncomplete, onsafe)

    def aio_write_full(
        self,
        object_name: str,
        to_write: bytes,
        oncomplete: Callable | None = None,
        onsafe: Callable | None = None,
    ) -> Completion:
        """Start replacing the whole content of ``object_name`` by ``to_write``.

        Returns a :class:`Completion`; callbacks as for :meth:`aio_write`. Synchronous form:
        :meth:`write_full`.
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
        """Start a :meth:`writesame`: ``to_write`` repeated over ``write_len`` bytes.

        It starts at ``offset``. Returns a :class:`Completion`; ``oncomplete(completion)`` runs
        when it is done.
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
        """Start appending ``to_append`` to ``object_name``; returns a :class:`Completion`.

        Callbacks as for :meth:`aio_write`. Synchronous form: :meth:`append`.
        """
        return self._aio(self._async.append, (object_name, to_append), oncomplete, onsafe)

    def aio_flush(self):
        """Block until every aio call started on this context, and every write in flight, is done.

        Async: :meth:`AsyncIoctx.aio_flush` (which waits for the writes only).
        """
        with self.lock:
            pendings = [c._pending for c in self._aio_tracked if c._pending is not None]
        for pending in pendings:
            pending.wait()
        _live_portal(self._portal).run(self._async.aio_flush)

    def aio_cmpext(
        self, object_name: str, cmp_buf: bytes, offset: int = 0, oncomplete: Callable | None = None
    ) -> Completion:
        """Start a :meth:`cmpext` of ``cmp_buf`` against ``object_name`` at ``offset``.

        Returns a :class:`Completion` whose return value is what :meth:`cmpext` returns: 0 for
        equal bytes, ``-(MAX_ERRNO + i)`` when byte ``i`` of ``cmp_buf`` differs, ``-errno`` on
        failure.
        """
        return self._aio(self._async.cmpext, (object_name, cmp_buf, offset), oncomplete, None)

    def aio_rmxattr(
        self, object_name: str, xattr_name: str, oncomplete: Callable | None = None
    ) -> Completion:
        """Start removing extended attribute ``xattr_name`` of ``object_name``.

        Returns a :class:`Completion`. Synchronous form: :meth:`rm_xattr`.
        """
        return self._aio(self._async.rm_xattr, (object_name, xattr_name), oncomplete, None)

    def aio_read(
        self, object_name: str, length: int, offset: int, oncomplete: Callable | None = None
    ) -> Completion:
        """Start reading up to ``length`` bytes of ``object_name`` from ``offset``.

        Returns a :class:`Completion`; ``oncomplete(completion, data)`` receives the bytes read,
        or None when the read failed (the return value then holds ``-errno``).
        """
        def done(comp, pending):
            assert oncomplete is not None  # _aio calls done only when oncomplete is given
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
        """Start an object-class call, as :meth:`execute` does; returns a :class:`Completion`.

        ``oncomplete(completion, out)`` and then ``onsafe(completion, out)`` receive the method's
        whole output (``length`` does not limit it, as in python-rados), or None when the call
        failed; the return value is the output's length or ``-errno``.
        """
        async def run():
            # python-rados' aio_execute hands over the whole output whatever ``length``
            # says (librados writes it past the buffer it was given): no ERANGE here.
            _, out = await self._async.execute(object_name, cls, method, data, _NO_LIMIT)
            return out

        # Not named ``data``: run() above reads the ``data`` argument when it starts.
        def output(pending):
            return pending.result() if pending.exception() is None else None

        def done(comp, pending):
            assert oncomplete is not None  # _aio calls done only when oncomplete is given
            oncomplete(comp, output(pending))
            if onsafe:
                onsafe(comp, output(pending))

        return self._aio(run, (), oncomplete, None, done)

    def aio_setxattr(
        self,
        object_name: str,
        xattr_name: str,
        xattr_value: bytes,
        oncomplete: Callable | None = None,
    ) -> Completion:
        """Start setting extended attribute ``xattr_name`` of ``object_name`` to ``xattr_value``.

        Returns a :class:`Completion`. Synchronous form: :meth:`set_xattr`.
        """
        return self._aio(self._async.set_xattr, (object_name, xattr_name, xattr_value),
                         oncomplete, None)

    def aio_remove(
        self, object_name: str, oncomplete: Callable | None = None, onsafe: Callable | None = None
    ) -> Completion:
        """Start deleting ``object_name``; returns a :class:`Completion`.

        Callbacks as for :meth:`aio_write`; a missing object gives ``-ENOENT`` as return value.
        """
        return self._aio(self._async.remove_object, (object_name,), oncomplete, onsafe)

    def require_ioctx_open(self):
        """Raise :class:`IoctxStateError` unless this context is still open."""
        if self.state != "open":
            raise IoctxStateError(f"The pool is {self.state}")

    def set_locator_key(self, loc_key: str):
        """Place later objects by ``loc_key`` instead of by their own names; "" goes back to names.

        Every object written with the same key lands in the same placement group. Local: no
        message is sent. ``TypeError`` for a key that is not str or bytes.
        """
        self.require_ioctx_open()
        cstr(loc_key, "loc_key")
        if self._async is not None:
            self._async.set_locator_key(loc_key)
        self.locator_key = loc_key

    def get_locator_key(self) -> str:
        """The current locator key ("" when objects are placed by name)."""
        return self.locator_key

    def set_read(self, snap_id: int):
        """Make later reads see pool or self-managed snapshot ``snap_id``.

        ``LIBRADOS_SNAP_HEAD`` returns to the current data. Local; ``TypeError`` if
        ``snap_id`` is not an int.
        """
        self.require_ioctx_open()
        if not isinstance(snap_id, int):
            raise TypeError("an integer is required")
        if self._async is not None:
            self._async.set_read(snap_id)
        self._read_snap = snap_id

    def set_namespace(self, nspace: str):
        """Use namespace ``nspace`` for later operations; None or "" is the default namespace.

        ``LIBRADOS_ALL_NSPACES`` makes :meth:`list_objects` cover every namespace. Local: no
        message is sent.
        """
        self.require_ioctx_open()
        if nspace is None:
            nspace = ""
        cstr(nspace, "nspace")
        if self._async is not None:
            self._async.set_namespace(nspace)
        self.nspace = nspace

    def get_namespace(self) -> str:
        """The current namespace ("" for the default one)."""
        return self.nspace

    def close(self):
        """Close the context; later calls on it raise :class:`IoctxStateError`.

        Operations already submitted still complete. Closing twice is harmless.
        """
        if self.state == "open":
            # rados_ioctx_destroy: ops already submitted still complete.
            if self._async is not None:
                self._async.close()
            self.state = "closed"

    def write(self, key: str, data: bytes, offset: int = 0):
        """Write ``data`` into object ``key`` at byte ``offset``, creating the object if needed.

        Bytes outside the written range are kept. Returns 0. Async: :meth:`AsyncIoctx.write`.
        """
        self.require_ioctx_open()
        return _live_portal(self._portal).run(self._async.write, key, data, offset)

    def write_full(self, key: str, data: bytes):
        """Make ``data`` the whole content of object ``key``, atomically; returns 0.

        The object is created if needed, and anything past ``len(data)`` is dropped. Async:
        :meth:`AsyncIoctx.write_full`.
        """
        self.require_ioctx_open()
        return _live_portal(self._portal).run(self._async.write_full, key, data)

    def writesame(self, key: str, data: bytes, write_len: int, offset: int = 0):
        """Fill ``write_len`` bytes of object ``key`` from ``offset`` with copies of ``data``.

        ``write_len`` must be a multiple of ``len(data)``; otherwise the OSD answers EINVAL
        (:class:`InvalidArgumentError`). Async: :meth:`AsyncIoctx.writesame`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.writesame, key, data, write_len, offset)

    def append(self, key: str, data: bytes):
        """Add ``data`` at the end of object ``key``, creating it if needed; returns 0.

        Async: :meth:`AsyncIoctx.append`.
        """
        self.require_ioctx_open()
        return _live_portal(self._portal).run(self._async.append, key, data)

    def read(self, key: str, length: int = 8192, offset: int = 0) -> bytes:
        """Return up to ``length`` bytes of object ``key`` starting at ``offset``.

        Fewer bytes come back near the end of the object, and b"" past it.
        :class:`ObjectNotFound` if the object does not exist. Async: :meth:`AsyncIoctx.read`.
        """
        self.require_ioctx_open()
        # Cython's conversions of python-rados' size_t length and uint64_t offset.
        if length < 0:
            raise OverflowError("can't convert negative value to size_t")
        if offset < 0:
            raise OverflowError("can't convert negative value to uint64_t")
        data: bytes = _live_portal(self._portal).run(self._async.read, key, length, offset)
        return data

    def execute(
        self, key: str, cls: str, method: str, data: bytes, length: int = 8192
    ) -> tuple[int, object]:
        """Call method ``method`` of object class ``cls`` (an OSD plugin) on object ``key``.

        ``data`` is the method's input. Returns ``(n, out)``: the method's output and its
        length. Output longer than ``length`` bytes raises :class:`OSError` with errno ERANGE,
        as python-rados does; an error the method returns is raised as the matching exception
        class. Async: :meth:`AsyncIoctx.execute`.
        """
        self.require_ioctx_open()
        length_and_out: tuple[int, object] = _live_portal(self._portal).run(
            self._async.execute, key, cls, method, data, length)
        return length_and_out

    def get_stats(self) -> dict[str, int]:
        """Usage figures of this pool, as a dict of ints.

        Keys: ``num_bytes``, ``num_kb``, ``num_objects``, ``num_object_clones``,
        ``num_object_copies``, ``num_objects_missing_on_primary``, ``num_objects_unfound``,
        ``num_objects_degraded``, ``num_rd``, ``num_rd_kb``, ``num_wr``, ``num_wr_kb``
        (``num_rd``/``num_wr`` count operations, the ``_kb`` keys data).

        rbdpy reads them from the monitor's ``df detail`` report, so they lag behind recent
        I/O. The clone, missing, unfound and degraded counts are reported as 0,
        ``num_object_copies`` is objects times the pool's replica count, and a pool the
        manager has not reported yet gives all zeros. Async: :meth:`AsyncIoctx.get_stats`.
        """
        self.require_ioctx_open()
        return _live_portal(self._portal).run(self._async.get_stats)

    def remove_object(self, key: str) -> bool:
        """Delete object ``key``; returns True.

        Snapshots of the object are kept. :class:`ObjectNotFound` if it does not exist. Async:
        :meth:`AsyncIoctx.remove_object`.
        """
        self.require_ioctx_open()
        removed: bool = _live_portal(self._portal).run(self._async.remove_object, key)
        return removed

    def trunc(self, key: str, size: int):
        """Set the size of object ``key`` to ``size`` bytes; returns 0.

        Growing adds zeros, shrinking drops the tail. Async: :meth:`AsyncIoctx.trunc`.
        """
        self.require_ioctx_open()
        return _live_portal(self._portal).run(self._async.trunc, key, size)

    def cmpext(self, key: str, cmp_buf: bytes, offset: int = 0) -> int:
        """Compare ``cmp_buf`` with the bytes of object ``key`` at ``offset``.

        Returns 0 when they are equal, and ``-(MAX_ERRNO + i)`` when byte ``i`` of ``cmp_buf``
        is the first that differs (a mismatch is a result here, not an exception). Other
        failures raise. Async: :meth:`AsyncIoctx.cmpext`.
        """
        self.require_ioctx_open()
        outcome: int = _live_portal(self._portal).run(self._async.cmpext, key, cmp_buf, offset)
        return outcome

    def stat(self, key: str) -> tuple[int, time.struct_time]:
        """Return ``(size, mtime)`` of object ``key``; ``mtime`` is a local ``time.struct_time``.

        :class:`ObjectNotFound` if it does not exist. Async: :meth:`AsyncIoctx.stat`.
        """
        self.require_ioctx_open()
        size_and_mtime: tuple[int, time.struct_time] = _live_portal(self._portal).run(
            self._async.stat, key)
        return size_and_mtime

    def get_xattr(self, key: str, xattr_name: str) -> bytes:
        """Return the value (bytes) of extended attribute ``xattr_name`` of object ``key``.

        :class:`NoData` if the attribute is not set, :class:`ObjectNotFound` if the object does
        not exist. Async: :meth:`AsyncIoctx.get_xattr`.
        """
        self.require_ioctx_open()
        value: bytes = _live_portal(self._portal).run(self._async.get_xattr, key, xattr_name)
        return value

    def get_xattrs(self, oid: str) -> XattrIterator:
        """Return an :class:`XattrIterator` over ``(name, value)`` for every xattr of ``oid``.

        The attributes are fetched here, in one request; errors are raised here too. Async:
        :meth:`AsyncIoctx.get_xattrs` (a dict).
        """
        self.require_ioctx_open()
        return XattrIterator(self, oid)

    def set_xattr(self, key: str, xattr_name: str, xattr_value: bytes) -> bool:
        """Set extended attribute ``xattr_name`` of object ``key`` to ``xattr_value``; returns True.

        The object is created if needed. Async: :meth:`AsyncIoctx.set_xattr`.
        """
        self.require_ioctx_open()
        done: bool = _live_portal(self._portal).run(self._async.set_xattr, key, xattr_name,
                                                    xattr_value)
        return done

    def rm_xattr(self, key: str, xattr_name: str) -> bool:
        """Remove extended attribute ``xattr_name`` from object ``key``; returns True.

        Async: :meth:`AsyncIoctx.rm_xattr`.
        """
        self.require_ioctx_open()
        done: bool = _live_portal(self._portal).run(self._async.rm_xattr, key, xattr_name)
        return done

    def notify(self, obj: str, msg: str = "", timeout_ms: int = 5000) -> bool:
        """Send ``msg`` to every watcher of ``obj`` and wait until all acknowledged; returns True.

        ``timeout_ms`` is rounded down to whole seconds (at least 1); 0 means 10 seconds.
        :class:`TimedOut` when a watcher did not answer in time. Async:
        :meth:`AsyncIoctx.notify`.
        """
        self.require_ioctx_open()
        acked: bool = _live_portal(self._portal).run(self._async.notify, obj, msg, timeout_ms)
        return acked

    def aio_notify(
        self,
        obj: str,
        oncomplete: Callable[[Completion, int, list | None, list | None], None],
        msg: str = "",
        timeout_ms: int = 5000,
    ) -> Completion:
        """Start a :meth:`notify`; returns a :class:`Completion`.

        ``oncomplete(completion, ret, acks, timeouts)`` gets the return code, the
        acknowledgements as ``(notifier_id, cookie, payload)`` and the watchers that did not
        answer as ``(notifier_id, cookie)``; both lists are None unless ``ret`` is 0.
        """
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
        """Watch ``obj`` for notifications; returns a :class:`Watch` (close it to stop).

        ``callback(notify_id, notifier_id, watch_id, data)`` runs for each notify, one at a
        time, on a worker thread; what it returns (bytes or None) is sent back as the
        acknowledgement payload. ``error_callback(watch_id, -errno)`` runs if the watch is lost
        (``-ENOTCONN`` when the OSD dropped it). ``timeout`` is how many seconds the OSD keeps
        the watch without hearing from this client (0 or None: the OSD's default). Async:
        :meth:`AsyncIoctx.watch`.
        """
        self.require_ioctx_open()
        return Watch(self, obj, callback, error_callback, timeout)

    def list_objects(self) -> ObjectIterator:
        """Return an :class:`ObjectIterator` over the objects of the current namespace.

        With ``LIBRADOS_ALL_NSPACES`` as namespace it covers every namespace. Objects are
        fetched page by page while iterating. Async: :meth:`AsyncIoctx.list_objects`.
        """
        self.require_ioctx_open()
        return ObjectIterator(self)

    def list_snaps(self) -> SnapIterator:
        """Return a :class:`SnapIterator` over this pool's snapshots (read now, in id order)."""
        self.require_ioctx_open()
        return SnapIterator(self)

    def get_pool_id(self) -> int:
        """The id of this context's pool."""
        pool_id: int = self._async.get_pool_id()
        return pool_id

    def get_pool_name(self) -> str:
        """The name of this context's pool."""
        pool_name: str = self._async.get_pool_name()
        return pool_name

    def create_snap(self, snap_name: str):
        """Take a pool snapshot named ``snap_name``; returns when the OSD map shows it.

        :class:`ObjectExists` if the name is taken. Pool snapshots and self-managed snapshots
        exclude each other on one pool. Async: :meth:`AsyncIoctx.create_snap`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.create_snap, snap_name)

    def remove_snap(self, snap_name: str):
        """Delete pool snapshot ``snap_name``; :class:`ObjectNotFound` if there is none.

        Async: :meth:`AsyncIoctx.remove_snap`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.remove_snap, snap_name)

    def lookup_snap(self, snap_name: str) -> Snap:
        """Return the :class:`Snap` of pool snapshot ``snap_name``.

        :class:`ObjectNotFound` if there is none. Async: :meth:`AsyncIoctx.lookup_snap` (the id).
        """
        self.require_ioctx_open()
        snap_id = _live_portal(self._portal).run(self._async.lookup_snap, snap_name)
        return Snap(self, snap_name, snap_id)

    def snap_rollback(self, oid: str, snap_name: str):
        """Restore object ``oid`` to its content at pool snapshot ``snap_name``.

        :class:`ObjectNotFound` if the snapshot does not exist. Async:
        :meth:`AsyncIoctx.snap_rollback`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.snap_rollback, oid, snap_name)

    def create_self_managed_snap(self):
        """Allocate a new self-managed snapshot id from the monitors and return it.

        Writes only preserve it once it is part of the write context
        (:meth:`set_self_managed_snap_write`). Async: :meth:`AsyncIoctx.create_self_managed_snap`.
        """
        self.require_ioctx_open()
        return _live_portal(self._portal).run(self._async.create_self_managed_snap)

    def remove_self_managed_snap(self, snap_id: int):
        """Release self-managed snapshot id ``snap_id``; the OSDs then trim its clones.

        Async: :meth:`AsyncIoctx.remove_self_managed_snap`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.remove_self_managed_snap, snap_id)

    def set_self_managed_snap_write(self, snaps: Sequence[int | str]):
        """Use ``snaps`` (self-managed snapshot ids) as the snapshot context of later writes.

        The newest id becomes the sequence number; order does not matter. A repeated id raises
        :class:`InvalidArgumentError`. Local: no message is sent.
        """
        self.require_ioctx_open()
        self._async.set_self_managed_snap_write(snaps)

    def rollback_self_managed_snap(self, oid: str, snap_id: int):
        """Restore object ``oid`` to its content at self-managed snapshot ``snap_id``.

        Async: :meth:`AsyncIoctx.rollback_self_managed_snap`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.rollback_self_managed_snap, oid, snap_id)

    def get_last_version(self) -> int:
        """The object version the OSD reported for the last operation on this context."""
        self.require_ioctx_open()
        version: int = self._async.get_last_version()
        return version

    def create_write_op(self) -> WriteOp:
        """Return a new, empty :class:`WriteOp` (run it with :meth:`operate_write_op`)."""
        return WriteOp().create()

    def create_read_op(self) -> ReadOp:
        """Return a new, empty :class:`ReadOp` (run it with :meth:`operate_read_op`)."""
        return ReadOp().create()

    def release_write_op(self, write_op):
        """Discard the sub-operations of ``write_op``."""
        write_op.release()

    def release_read_op(self, read_op: ReadOp):
        """Discard the sub-operations of ``read_op``."""
        read_op.release()

    def set_omap(self, write_op: WriteOp, keys: Sequence[str], values: Sequence[bytes]):
        """Add to ``write_op`` the setting of omap ``keys`` to ``values`` (pairwise).

        :class:`Error` if the two sequences differ in length. Nothing is sent until the op is
        run.
        """
        cstr_list(keys, "keys")
        self._async.set_omap(write_op, keys, values)

    def operate_write_op(
        self, write_op: WriteOp, oid: str, mtime: int = 0, flags: int = LIBRADOS_OPERATION_NOFLAG
    ):
        """Run the sub-operations of ``write_op`` on object ``oid``, all or none.

        ``mtime`` is the modification time to record (seconds since the epoch; 0 is now) and
        ``flags`` are ``LIBRADOS_OPERATION_*`` bits. The first failing sub-operation's errno is
        raised. Async: :meth:`AsyncIoctx.operate_write_op`.
        """
        cstr(oid, "oid")
        _live_portal(self._portal).run(self._async.operate_write_op, write_op, oid, mtime, flags)

    def operate_aio_write_op(
        self,
        write_op: WriteOp,
        oid: str,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
        mtime: int = 0,
        flags: int = LIBRADOS_OPERATION_NOFLAG,
    ) -> Completion:
        """Start :meth:`operate_write_op`; returns a :class:`Completion`.

        Callbacks as for :meth:`aio_write`.
        """
        cstr(oid, "oid")
        return self._aio(self._async.operate_aio_write_op, (write_op, oid, mtime, flags),
                         oncomplete, onsafe)

    def operate_read_op(self, read_op: ReadOp, oid: str, flag: int = LIBRADOS_OPERATION_NOFLAG):
        """Run the sub-operations of ``read_op`` on object ``oid``.

        ``flag`` takes ``LIBRADOS_OPERATION_*`` bits. Afterwards the omap iterators that
        ``get_omap_*`` returned for this op hold their results. Async:
        :meth:`AsyncIoctx.operate_read_op`.
        """
        cstr(oid, "oid")
        _live_portal(self._portal).run(self._async.operate_read_op, read_op, oid, flag)

    def operate_aio_read_op(
        self,
        read_op: ReadOp,
        oid: str,
        oncomplete: Callable[[Completion], None] | None = None,
        onsafe: Callable[[Completion], None] | None = None,
        flag: int = LIBRADOS_OPERATION_NOFLAG,
    ) -> Completion:
        """Start :meth:`operate_read_op`; returns a :class:`Completion`.

        The op's omap iterators are filled once it is complete.
        """
        cstr(oid, "oid")
        return self._aio(self._async.operate_aio_read_op, (read_op, oid, flag), oncomplete,
                         onsafe)

    def get_omap_vals(
        self, read_op: ReadOp, start_after: str, filter_prefix: str, max_return: int
    ) -> tuple[OmapIterator, int]:
        """Add an omap read to ``read_op``: pairs whose key has ``filter_prefix``.

        Keys sort after ``start_after`` ("" for the first), at most ``max_return`` pairs.
        Returns ``(iterator, 0)``; the :class:`OmapIterator` yields ``(key, value)`` once the op
        has been run (the 0 is kept for compatibility only).
        """
        result, ret = self._async.get_omap_vals(read_op, start_after, filter_prefix,
                                               max_return)
        return OmapIterator(self, result), ret

    def get_omap_keys(
        self, read_op: ReadOp, start_after: str, max_return: int
    ) -> tuple[OmapIterator, int]:
        """Add an omap key listing to ``read_op``: up to ``max_return`` keys after ``start_after``.

        Returns ``(iterator, 0)``; after the op has run, the :class:`OmapIterator` yields
        ``(key, None)``.
        """
        result, ret = self._async.get_omap_keys(read_op, start_after, max_return)
        return OmapIterator(self, result), ret

    def get_omap_vals_by_keys(
        self, read_op: ReadOp, keys: Sequence[str]
    ) -> tuple[OmapIterator, int]:
        """Add to ``read_op`` a read of the omap values of ``keys``; absent keys are skipped.

        Returns ``(iterator, 0)``; after the op has run, the :class:`OmapIterator` yields
        ``(key, value)``.
        """
        cstr_list(keys, "keys")
        result, ret = self._async.get_omap_vals_by_keys(read_op, keys)
        return OmapIterator(self, result), ret

    def remove_omap_keys(self, write_op: WriteOp, keys: Sequence[str]):
        """Add to ``write_op`` the removal of omap ``keys``."""
        cstr_list(keys, "keys")
        self._async.remove_omap_keys(write_op, keys)

    def clear_omap(self, write_op: WriteOp):
        """Add to ``write_op`` the removal of every omap pair of the object."""
        self._async.clear_omap(write_op)

    def remove_omap_range2(self, write_op: WriteOp, key_begin: str, key_end: str):
        """Add to ``write_op`` the removal of the omap keys from ``key_begin`` up to, not including,
        ``key_end``.
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
        """Take the exclusive advisory lock ``name`` on object ``key`` as owner ``cookie``.

        Done by the OSD's ``lock`` object class. ``desc`` is free text, ``duration`` the seconds
        until the lock expires (None: never), ``flags`` are passed to the class as is. Another
        owner holding the lock gives :class:`ObjectBusy`, holding it ourselves already
        :class:`ObjectExists`. Async: :meth:`AsyncIoctx.lock_exclusive`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.lock_exclusive, key, name, cookie, desc,
                                       duration, flags)

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
        """Take the shared advisory lock ``name`` on object ``key`` as owner ``cookie``.

        Holders must agree on ``tag``; other arguments and errors as for
        :meth:`lock_exclusive`. Async: :meth:`AsyncIoctx.lock_shared`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.lock_shared, key, name, cookie, tag, desc,
                                       duration, flags)

    def unlock(self, key: str, name: str, cookie: str):
        """Release lock ``name`` held on object ``key`` by owner ``cookie``.

        :class:`ObjectNotFound` if that owner does not hold it. Async: :meth:`AsyncIoctx.unlock`.
        """
        self.require_ioctx_open()
        _live_portal(self._portal).run(self._async.unlock, key, name, cookie)

    def set_osdmap_full_try(self):
        """Let later operations try even when the cluster or pool is flagged full.

        They carry the FULL_TRY flag; the OSDs still refuse writes past their failsafe ratio.
        """
        self._async.set_osdmap_full_try()

    def unset_osdmap_full_try(self):
        """Stop sending the FULL_TRY flag (undo :meth:`set_osdmap_full_try`)."""
        self._async.unset_osdmap_full_try()

    def application_enable(self, app_name: str, force: bool = False):
        """Tag this pool as used by application ``app_name`` (e.g. "rbd", "rgw", "cephfs").

        A pool that already has another application needs ``force=True``. Sent as a monitor
        command; returns once this client has the OSD map it produced. Async:
        :meth:`AsyncIoctx.application_enable`.
        """
        _live_portal(self._portal).run(self._async.application_enable, app_name, force)

    def application_list(self) -> list[str]:
        """Names of the applications enabled on this pool, sorted, from this client's OSD map."""
        return _live_portal(self._portal).run(self._async.application_list)

    def application_metadata_get(self, app_name: str, key: str) -> str:
        """Return the value stored under ``key`` for application ``app_name`` on this pool.

        :class:`ObjectNotFound` if the application or the key is absent. Read from the OSD map.
        """
        value: str = _live_portal(self._portal).run(self._async.application_metadata_get,
                                                    app_name, key)
        return value

    def application_metadata_set(self, app_name: str, key: str, value: str):
        """Store ``value`` under ``key`` for application ``app_name`` on this pool.

        A monitor command; returns once this client has the resulting OSD map. Async:
        :meth:`AsyncIoctx.application_metadata_set`.
        """
        _live_portal(self._portal).run(self._async.application_metadata_set, app_name, key, value)

    def application_metadata_remove(self, app_name: str, key: str):
        """Remove ``key`` from the metadata of application ``app_name`` on this pool.

        A monitor command, like :meth:`application_metadata_set`.
        """
        _live_portal(self._portal).run(self._async.application_metadata_remove, app_name, key)

    def application_metadata_list(self, app_name: str) -> list[tuple[str, str]]:
        """The ``(key, value)`` metadata pairs of application ``app_name``, sorted by key.

        :class:`ObjectNotFound` if the application is not enabled on this pool.
        """
        return _live_portal(self._portal).run(self._async.application_metadata_list, app_name)

    def alignment(self) -> int | None:
        """The size appends must be a multiple of in this pool, or None if any size is fine.

        Only an erasure-coded pool without overwrites has one: its stripe width.
        """
        alignment: int | None = self._async.alignment()
        return alignment


class MonitorLog:
    """Subscription to the cluster log: ``MonitorLog(cluster, level, callback, arg)`` calls
    ``cluster.monitor_log(level, callback, arg)`` (see :meth:`Rados.monitor_log`)."""

    def __init__(self, cluster, level, callback, arg):
        self.level = level
        self.callback = callback
        self.arg = arg
        self.cluster = cluster
        self.cluster.monitor_log(level, callback, arg)


class Object:
    """File-like view of one object: reads and writes move a position, as in a file.

    Each method switches the ioctx to the object's namespace and locator key for the call
    (see :func:`set_object_namespace`). After :meth:`remove`, every method raises
    :class:`ObjectStateError`.
    """

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
        """Raise :class:`ObjectStateError` once the object has been removed."""
        if self.state != "exists":
            raise ObjectStateError(f"The object is {self.state}")

    @set_object_locator
    @set_object_namespace
    def read(self, length=1048576):
        """Read up to ``length`` bytes at the current position and advance past them."""
        self.require_object_exists()
        data = self.ioctx.read(self.key, length, self.offset)
        self.offset += len(data)
        return data

    @set_object_locator
    @set_object_namespace
    def write(self, string_to_write):
        """Write ``string_to_write`` (bytes) at the current position; advance past it on success."""
        self.require_object_exists()
        ret = self.ioctx.write(self.key, string_to_write, self.offset)
        if ret == 0:
            self.offset += len(string_to_write)
        return ret

    @set_object_locator
    @set_object_namespace
    def remove(self):
        """Delete the object; this wrapper is unusable afterwards."""
        self.require_object_exists()
        self.ioctx.remove_object(self.key)
        self.state = "removed"

    @set_object_locator
    @set_object_namespace
    def stat(self) -> tuple[int, time.struct_time]:
        """Return ``(size, mtime)`` as :meth:`Ioctx.stat` does."""
        self.require_object_exists()
        return self.ioctx.stat(self.key)

    def seek(self, position: int):
        """Move the current position to byte ``position``."""
        self.require_object_exists()
        self.offset = position

    @set_object_locator
    @set_object_namespace
    def get_xattr(self, xattr_name: str) -> bytes:
        """Return the value of extended attribute ``xattr_name``."""
        self.require_object_exists()
        return self.ioctx.get_xattr(self.key, xattr_name)

    @set_object_locator
    @set_object_namespace
    def get_xattrs(self) -> XattrIterator:
        """Return an :class:`XattrIterator` over the object's extended attributes."""
        self.require_object_exists()
        return self.ioctx.get_xattrs(self.key)

    @set_object_locator
    @set_object_namespace
    def set_xattr(self, xattr_name: str, xattr_value: bytes) -> bool:
        """Set extended attribute ``xattr_name`` to ``xattr_value``; returns True."""
        self.require_object_exists()
        return self.ioctx.set_xattr(self.key, xattr_name, xattr_value)

    @set_object_locator
    @set_object_namespace
    def rm_xattr(self, xattr_name: str) -> bool:
        """Remove extended attribute ``xattr_name``; returns True."""
        self.require_object_exists()
        return self.ioctx.rm_xattr(self.key, xattr_name)


class ObjectIterator:
    """Iterator of :class:`Object`, one per object listed by :meth:`Ioctx.list_objects`.

    Pages of names are fetched from the OSDs, placement group by placement group, as the
    iteration needs them; a failure raises from ``next()``.
    """

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
            page = _live_portal(self.ioctx._portal).run(self.ioctx._async._list_page, self._lister)
            if not page:
                raise StopIteration
            self._page = list(reversed(page))
        key, nspace, locator = self._page.pop()
        return Object(self.ioctx, key, locator or None, nspace)


class OmapIterator:
    """Iterator of the ``(key, value)`` pairs one omap read of a :class:`ReadOp` returned.

    Empty until the op has been run; an empty value comes back as None.
    """

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
    """Mixin making an op a context manager: ``with`` creates it and releases it on exit."""

    def __enter__(self):
        return self.create()  # type: ignore[attr-defined]  # ReadOp/WriteOp mixin

    def __exit__(self, type, msg, traceback):
        self.release()  # type: ignore[attr-defined]  # ReadOp/WriteOp mixin


class Rados:
    """A cluster handle: configure it, :meth:`connect`, open :class:`Ioctx` objects, shut down.

    Its ``state`` goes from "configuring" to "connected" to "shutdown"; a call made in the
    wrong state raises :class:`RadosStateError`. Used as a context manager it connects on
    entry and shuts down on exit.

    Constructor: give ``rados_id`` ("admin") or ``name`` ("client.admin"), not both
    (:class:`Error`); the default is client.admin. Configuration is applied in this order,
    later values winning: ``$CEPH_ARGS``, ``conf_defaults``, the file(s) ``conffile`` names
    (``NO_CONF_FILE``, the default, reads none; ``DEFAULT_CONF_FILES`` or "" searches
    ``$CEPH_CONF``, /etc/ceph/$cluster.conf, ~/.ceph/$cluster.conf, ./$cluster.conf), then
    ``conf``. Sharing a ``context`` is not implemented (``NotImplementedError``).

    Each call runs the :class:`~rbdpy.rados.client.AsyncRados` method of the same name (the
    ``rbdpy.aio`` API) on the handle's portal thread; errors are the classes of
    :mod:`rbdpy.rados.exceptions` for the errno the monitors or OSDs returned.
    """

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
        kind, dot, _ = name.partition(".")
        if not dot or kind not in _ENTITY_TYPES:
            # rados_create2: EntityName::from_str wants "<type>.<id>" with a known type.
            raise Error(f"rados_initialize failed with error code: {-errno.EINVAL}")
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
        self._service_daemon: tuple[str, str, dict[str, str]] | None = None
        # The async handle does the configuring (same precedence as python-rados:
        # CEPH_ARGS, conf_defaults, then the file(s), then conf).
        # ``name`` now says who we are (python-rados turns rados_id into it).
        self._async = AsyncRados(name=name, clustername=clustername,
                                 conf_defaults=conf_defaults,
                                 conffile=None if conffile is None else conffile,
                                 conf=conf, flags=flags)
        self.state = "configuring"

    def get_addrs(self):
        """This client's address on its monitor session, as librados prints it (``"ip:0/nonce"``).

        "[]" when the session has no address (yet).
        """
        self.require_state("connected")
        return self._async.get_addrs()

    def require_state(self, *args):
        """Raise :class:`RadosStateError` unless ``state`` is one of ``args``."""
        if self.state in args:
            return
        raise RadosStateError(
            f"You cannot perform that operation on a Rados object in state {self.state}."
        )

    def shutdown(self):
        """Disconnect and stop the handle's thread; the handle cannot be used again.

        Safe to call more than once, and on a handle that never connected.
        """
        if self.state != "shutdown":
            if self._portal is not None:
                self._finalizer.detach()
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
        """The librados API version rbdpy implements, ``Version(3, 0, 0)`` (Pacific's); local."""
        return Version(*_LIBRADOS_VERSION)

    def conf_read_file(self, path: str | None = None):
        """Apply the first existing file of ``path`` (comma/semicolon-separated list).

        None searches ``$CEPH_CONF``, /etc/ceph/$cluster.conf, ~/.ceph/$cluster.conf,
        ./$cluster.conf. :class:`ObjectNotFound` if no file exists, :class:`InvalidArgumentError`
        if one does not parse.
        """
        self.require_state("configuring", "connected")
        cstr(path, "path", opt=True)
        self._async.conf_read_file(path)

    def conf_parse_argv(self, args: Sequence[str]):
        """Apply the configuration options found in ``args`` (``--mon-host``, ``-k``,
        ``--rados-osd-op-timeout 5`` ...) and return the other arguments, in order.

        As python-rados (``rados_conf_parse_argv_remainder``): ``--id``, ``--name``,
        ``--conf``/``-c`` and ``--cluster`` are not applied but returned, as is any unknown
        ``--option`` (``--yes-i-really-really-mean-it``); ``parsed_args`` keeps the whole
        input. An empty ``args`` returns None.
        """
        self.require_state("configuring", "connected")
        if not args:
            return None
        cstr_list(args, "args")
        remaining = self._async.conf_parse_argv(args)
        self.parsed_args = args
        return remaining

    def conf_parse_env(self, var: str | None = "CEPH_ARGS"):
        """Apply the Ceph options in environment variable ``var`` ($CEPH_ARGS by default).

        An unset or empty variable changes nothing.
        """
        self.require_state("configuring", "connected")
        if not var or not os.environ.get(var):
            return  # nothing to parse: librados does nothing either
        self._async.conf_parse_env(var)

    def conf_get(self, option: str) -> str | None:
        """The value of configuration option ``option`` as a string; None if it has none.

        "-" and " " in the name count as "_". Local: no message is sent.
        """
        self.require_state("configuring", "connected")
        cstr(option, "option")
        return self._async.conf_get(option)

    def conf_set(self, option: str, val: str):
        """Set configuration option ``option`` to ``val`` (a string).

        An option rbdpy knows is checked and normalized (:class:`InvalidArgumentError` for a bad
        value); one it does not know is kept as a plain string instead of being refused with
        ENOENT as librados does, so that conf files with server options still load. Local;
        options read at connect time must be set before :meth:`connect`.
        """
        self.require_state("configuring", "connected")
        cstr(option, "option")
        cstr(val, "val")
        self._async.conf_set(option, val)

    def ping_monitor(self, mon_id: str):
        """Ask monitor ``mon_id`` (its name, "a") directly how it is; returns its JSON text
        (health and mon_status), as a string.

        Uses a session of its own with that monitor. :class:`ObjectNotFound` if the monmap
        has no such monitor ("mon.a" is not stripped, as in python-rados),
        :class:`InvalidArgumentError` for "". Only on a connected handle in rbdpy
        (python-rados can also ping from a configuring one; that raises
        ``NotImplementedError`` here). Async:
        :meth:`AsyncRados.ping_monitor`.
        """
        self.require_state("configuring", "connected")
        cstr(mon_id, "mon_id")
        if self.state != "connected":
            raise _nie("Rados.ping_monitor", "pinging a monitor before connect()")
        return _live_portal(self._portal).run(self._async.ping_monitor, mon_id)

    def connect(self, timeout: int = 0):
        """Start the handle's thread, authenticate with a monitor and fetch the cluster maps.

        ``timeout`` is in seconds; 0 uses the ``client_mount_timeout`` option. Typical failures:
        :class:`PermissionDeniedError` for a wrong key or unknown entity, :class:`TimedOut`
        when no monitor answers in time, :class:`ObjectNotFound` when no monitor address is
        configured. On failure the handle stays "configuring". Async: :meth:`AsyncRados.connect`.
        """
        self.require_state("configuring")
        self._portal = Portal(f"rbdpy {self._async.config.name}")
        self._portal.start()
        try:
            self._portal.run(self._async.connect, timeout)
        except BaseException:
            self._portal.close()
            self._portal = None
            raise
        # A handle the collector takes is shut down (its sessions closed, its threads
        # joined) instead of leaking both; nothing reachable can use it any more, since
        # every Ioctx, Image, Watch and in-flight Completion refers back to this object.
        self._finalizer = weakref.finalize(self, self._portal.run_for_finalizer,
                                           self._async.shutdown, then_close=True)
        self._finalizer.atexit = False
        self.state = "connected"
        if self._service_daemon is not None:  # registered while configuring
            service, daemon, metadata = self._service_daemon
            self._portal.run(self._async.service_daemon_register, service, daemon, metadata)

    def get_instance_id(self) -> int:
        """The global id the monitors gave this client session."""
        self.require_state("connected")
        return self._async.get_instance_id()

    def get_cluster_stats(self) -> dict[str, int]:
        """Cluster-wide usage: a dict with ``kb``, ``kb_used``, ``kb_avail`` and ``num_objects``.

        The monitors' figures lag behind recent writes. Async:
        :meth:`AsyncRados.get_cluster_stats`.
        """
        self.require_state("connected")
        return _live_portal(self._portal).run(self._async.get_cluster_stats)

    def pool_exists(self, pool_name: str) -> bool:
        """True if this client's OSD map has a pool named ``pool_name``."""
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        return _live_portal(self._portal).run(self._async.pool_exists, pool_name)

    def pool_lookup(self, pool_name: str) -> int | None:
        """The id of pool ``pool_name``, or None if there is none."""
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        return _live_portal(self._portal).run(self._async.pool_lookup, pool_name)

    def pool_reverse_lookup(self, pool_id: int):
        """The name of the pool with id ``pool_id``, or None if there is none."""
        self.require_state("connected")
        return _live_portal(self._portal).run(self._async.pool_reverse_lookup, pool_id)

    def create_pool(self, pool_name: str, crush_rule: int | None = None, auid: int | None = None):
        """Create pool ``pool_name`` with the monitors' defaults; returns once the OSD map has it.

        ``crush_rule`` picks a CRUSH rule by id (None: the monitors' default). ``auid`` is
        accepted and ignored, as the monitors no longer keep pool owners. :class:`ObjectExists`
        if the name is taken. Async: :meth:`AsyncRados.create_pool`.
        """
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        _live_portal(self._portal).run(self._async.create_pool, pool_name, crush_rule, auid)

    def get_pool_base_tier(self, pool_id: int) -> int:
        """The pool that pool ``pool_id`` is a cache tier of, or ``pool_id`` itself if none.

        :class:`ObjectNotFound` if the pool does not exist.
        """
        self.require_state("connected")
        return _live_portal(self._portal).run(self._async.get_pool_base_tier, pool_id)

    def delete_pool(self, pool_name: str):
        """Delete pool ``pool_name`` and its objects; the OSDs reclaim the space afterwards.

        :class:`ObjectNotFound` if there is no such pool; the monitors refuse with EPERM
        (:class:`PermissionError`) unless ``mon_allow_pool_delete`` is true. Async:
        :meth:`AsyncRados.delete_pool`.
        """
        self.require_state("connected")
        cstr(pool_name, "pool_name")
        _live_portal(self._portal).run(self._async.delete_pool, pool_name)

    def get_inconsistent_pgs(self, pool_id: int) -> list[str]:
        """Not implemented in rbdpy yet: raises ``NotImplementedError``."""
        raise _nie("Rados.get_inconsistent_pgs", "the cluster connection")

    def list_pools(self) -> list[str]:
        """Names of all pools in this client's OSD map, by pool id."""
        self.require_state("connected")
        return _live_portal(self._portal).run(self._async.list_pools)

    def get_fsid(self) -> str:
        """The cluster's fsid, as a UUID string (``xxxxxxxx-xxxx-...``)."""
        self.require_state("connected")
        return self._async.get_fsid()

    def open_ioctx(self, ioctx_name: str) -> Ioctx:
        """Return an :class:`Ioctx` on the pool named ``ioctx_name``.

        :class:`ObjectNotFound` if there is no such pool. Async: :meth:`AsyncRados.open_ioctx`.
        """
        self.require_state("connected")
        cstr(ioctx_name, "ioctx_name")
        aio = _live_portal(self._portal).run(self._async.open_ioctx, ioctx_name)
        io = Ioctx(self, ioctx_name)
        io._async = aio
        return io

    def open_ioctx2(self, pool_id: int) -> Ioctx:
        """Return an :class:`Ioctx` on the pool with id ``pool_id``.

        :class:`ObjectNotFound` if there is no such pool. Async: :meth:`AsyncRados.open_ioctx2`.
        """
        self.require_state("connected")
        aio = _live_portal(self._portal).run(self._async.open_ioctx2, pool_id)
        io = Ioctx(self, aio.get_pool_name())
        io._async = aio
        return io

    def mon_command(
        self, cmd: str, inbuf: bytes, timeout: int = 0, target: str | int | None = None
    ) -> tuple[int, bytes, str]:
        """Send monitor command ``cmd`` (a JSON object as a string) with input ``inbuf``.

        Returns ``(ret, outbuf, outs)``: the return code (``-errno`` on failure; not raised),
        the output bytes and the status string. ``target`` (a monitor's name, or its rank as
        an int or a string of digits) sends the command to that one monitor over a session
        of its own: ``(-ENOENT, b"", "mon dne")`` / ``"mon rank dne"`` if there is none.
        ``timeout`` is ignored, as python-rados does; ``rados_mon_op_timeout`` (seconds,
        0 = none) bounds the wait, then ``ret`` is ``-ETIMEDOUT``. For example
        ``mon_command(json.dumps({"prefix": "df", "format": "json"}), b"")``. Async:
        :meth:`AsyncRados.mon_command`.
        """
        self.require_state("connected")
        _typed_str(cmd, "cmd")
        if isinstance(target, int):
            target = str(target)
        target_raw = cstr(target, "target", opt=True)
        name = target_raw.decode("utf-8") if target_raw else None
        return _live_portal(self._portal).run(self._async.mon_command, cmd, inbuf, 0, name)

    def osd_command(
        self, osdid: int, cmd: str, inbuf: bytes, timeout: int = 0
    ) -> tuple[int, bytes, str]:
        """Send command ``cmd`` (JSON text) to OSD ``osdid``; returns ``(ret, outbuf, outs)``.

        As python-rados: failures are in ``ret`` -- ``(-ENOENT, b"", "osd dne")``,
        ``(-ENXIO, b"", "osd down")``, the OSD's own ``-EINVAL`` and message for a command it
        does not know. ``timeout`` is ignored; ``rados_osd_op_timeout`` bounds the wait.
        Async: :meth:`AsyncRados.osd_command`.
        """
        self.require_state("connected")
        _typed_str(cmd, "cmd")
        if not isinstance(osdid, int) or isinstance(osdid, bool):
            raise TypeError("an integer is required")
        return _live_portal(self._portal).run(self._async.osd_command, osdid, cmd, inbuf)

    def mgr_command(
        self, cmd: str, inbuf: bytes, timeout: int = 0, target: str | None = None
    ) -> tuple[int, str, bytes]:
        """Send command ``cmd`` (JSON text) to the active mgr; returns ``(ret, outbuf, outs)``.

        With ``target`` (a mgr's name) the command is for that mgr and waits until it is
        the active one. With no active mgr the call waits for one (a failover is followed);
        ``rados_mon_op_timeout`` bounds the wait, after which librados' answer is returned:
        ``(ETIMEDOUT, b"", "")`` -- a positive code. ``timeout`` is ignored. Async:
        :meth:`AsyncRados.mgr_command`.
        """
        self.require_state("connected")
        _typed_str(cmd, "cmd")
        target_raw = cstr(target, "target", opt=True)
        name = None if target_raw is None else target_raw.decode("utf-8")
        # python-rados annotates (int, str, bytes) but returns (ret, outbuf bytes, outs str).
        ret, outbuf, outs = _live_portal(self._portal).run(self._async.mgr_command, cmd,
                                                           inbuf, 0, name)
        return ret, outbuf, outs  # type: ignore[return-value]

    def pg_command(
        self, pgid: str, cmd: str, inbuf: bytes, timeout: int = 0
    ) -> tuple[int, bytes, str]:
        """Send command ``cmd`` (JSON text) to the primary OSD of pg ``pgid`` ("1.0").

        Returns ``(ret, outbuf, outs)``; ``(-ENOENT, b"", "pool dne")`` for a pool that
        does not exist, ``-EINVAL`` for a pgid that does not parse. ``timeout`` is ignored;
        ``rados_osd_op_timeout`` bounds the wait. Async: :meth:`AsyncRados.pg_command`.
        """
        self.require_state("connected")
        pgid_raw = cstr(pgid, "pgid")
        _typed_str(cmd, "cmd")
        assert pgid_raw is not None
        return _live_portal(self._portal).run(self._async.pg_command,
                                              pgid_raw.decode("utf-8"), cmd, inbuf)

    def wait_for_latest_osdmap(self) -> int:
        """Wait until this client has the newest OSD map the monitors know of; returns 0.

        Async: :meth:`AsyncRados.wait_for_latest_osdmap`.
        """
        self.require_state("connected")
        return _live_portal(self._portal).run(self._async.wait_for_latest_osdmap)

    def blocklist_add(self, client_address: str, expire_seconds: int = 0):
        """Block the client at ``client_address`` (``ip:port/nonce``) from the OSDs.

        ``expire_seconds`` of 0 lets the monitors choose the duration. Sent as an ``osd
        blocklist add`` monitor command. Async: :meth:`AsyncRados.blocklist_add`.
        """
        self.require_state("connected")
        cstr(client_address, "client_address")
        _live_portal(self._portal).run(self._async.blocklist_add, client_address, expire_seconds)

    def monitor_log(
        self,
        level: str,
        callback: Callable[[object, str, str, str, int, int, int, str, str], None] | None = None,
        arg: object | None = None,
    ):
        """Receive the cluster log at ``level`` (one of ``MONITOR_LEVELS``) or above.

        ``callback(arg, line, who, sec, nsec, seq, level, msg)`` runs for each entry, in
        order, on a worker thread (never the handle's loop thread); the text arguments are
        ``bytes`` as python-rados passes them. ``callback=None`` stops the subscription. A
        new call replaces the previous subscription (of either kind). :class:`LogicError`
        for an unknown level or a callback that is not callable. Async:
        :meth:`AsyncRados.monitor_log`.
        """
        self._monitor_log(level, callback, arg, 1)

    def monitor_log2(
        self,
        level: str,
        callback: Callable[[object, str, str, str, str, int, int, int, str, str], None]
        | None = None,
        arg: object | None = None,
    ):
        """As :meth:`monitor_log`, with the channel and the sender's name:
        ``callback(arg, line, channel, name, who, sec, nsec, seq, level, msg)``."""
        self._monitor_log(level, callback, arg, 2)

    def _monitor_log(self, level, callback, arg, flavour: int) -> None:
        if level not in MONITOR_LEVELS:
            raise LogicError("invalid monitor level " + level)
        if callback is not None and not callable(callback):
            raise LogicError("callback must be a callable function or None")
        cstr(level, "level")
        if callback is None:
            if self.state == "connected":
                _live_portal(self._portal).run(self._async.monitor_log, level, None)
            self.monitor_callback = None
            self.monitor_callback2 = None
            return
        if self.state != "connected":
            raise make_ex(errno.ENOTCONN, "error calling rados_monitor_log")
        cb = (callback, arg)

        async def deliver(entry) -> None:
            # One entry at a time, in order, on a worker thread (the finisher's role).
            enc = [t.encode("utf-8", "surrogateescape") for t in
                   (entry.line, entry.channel, entry.name_text, entry.who, entry.level,
                    entry.msg)]
            line, channel, name, who, lvl, msg = enc
            sec, nsec = entry.stamp
            if flavour == 1:
                await _to_thread(callback, arg, line, who, sec, nsec, entry.seq, lvl, msg)
            else:
                await _to_thread(callback, arg, line, channel, name, who, sec, nsec,
                                 entry.seq, lvl, msg)

        _live_portal(self._portal).run(self._async.monitor_log, level, deliver)
        # Kept like python-rados' attributes (which also keep the callback alive).
        self.monitor_callback = cb if flavour == 1 else None
        self.monitor_callback2 = cb if flavour == 2 else None

    def service_daemon_register(self, service: str, daemon: str, metadata: dict[str, str]):
        """Appear in the mgr's service map (``ceph service dump``) as ``service.daemon``.

        ``metadata`` is static information shown with it (rbdpy adds the host's, as librados
        does). The mgr session announces it and reports every few seconds while the handle
        lives. Called before :meth:`connect`, it takes effect at connect. :class:`Error`
        subclasses for librados' refusals: a second registration (EEXIST), a reserved
        service name such as "osd" or an empty name (EINVAL). Async:
        :meth:`AsyncRados.service_daemon_register`.
        """
        service_raw = cstr(service, "service")
        daemon_raw = cstr(daemon, "daemon")
        flatten_dict(metadata, "metadata")
        assert service_raw is not None and daemon_raw is not None
        svc, dmn = service_raw.decode("utf-8"), daemon_raw.decode("utf-8")
        meta = {str(k): str(v) for k, v in metadata.items()}
        if self.state == "connected":
            _live_portal(self._portal).run(self._async.service_daemon_register, svc, dmn, meta)
            return
        if self._service_daemon is not None:
            raise make_ex(errno.EEXIST, "error calling service_register()")
        if svc in ("osd", "mds", "client", "mon", "mgr") or not svc or not dmn:
            raise make_ex(errno.EINVAL, "error calling service_register()")
        self._service_daemon = (svc, dmn, meta)

    def service_daemon_update(self, status: dict[str, str]):
        """Replace this service daemon's status (shown by ``ceph service dump``).

        :class:`NotConnected` on a handle that is not connected. Async:
        :meth:`AsyncRados.service_daemon_update`.
        """
        flatten_dict(status, "status")
        if self.state != "connected":
            raise make_ex(errno.ENOTCONN, "error calling service_daemon_update()")
        _live_portal(self._portal).run(self._async.service_daemon_update,
                                       {str(k): str(v) for k, v in status.items()})


class ReadOp:
    """A compound read: sub-operations run together by :meth:`Ioctx.operate_read_op`.

    Omap reads are added through the ioctx (``get_omap_*``). The async equivalent is
    :class:`rbdpy.rados.ioctx.ReadOp`.
    """

    def create(self) -> ReadOp:
        """Start with no sub-operations; returns this op."""
        # The ops live in an async-layer ReadOp that AsyncIoctx.operate_read_op runs.
        self._compound = _AsyncReadOp()
        return self

    def release(self):
        """Drop every sub-operation added so far."""
        self._compound.release()

    def cmpext(self, cmp_buf: bytes, offset: int = 0):
        """Add a check that the object's bytes at ``offset`` equal ``cmp_buf``.

        A mismatch makes the whole op fail.
        """
        self._compound.cmpext(cmp_buf, offset)

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG):
        """Set ``LIBRADOS_OP_FLAG_*`` bits on the sub-operation added last (none added: no effect).
        """
        self._compound.set_flags(flags)


class ReadOpCtx(ReadOp, OpCtx):
    """A :class:`ReadOp` usable as ``with ReadOpCtx() as op:``."""


class Snap:
    """A pool snapshot: ``name``, ``snap_id`` and the :class:`Ioctx` it was found through."""

    ioctx: Ioctx
    name: str
    snap_id: int

    def __init__(self, ioctx: Ioctx, name: str, snap_id: int) -> None:
        self.ioctx = ioctx
        self.name = name
        self.snap_id = snap_id

    def __str__(self):
        return f"rados.Snap(ioctx={self.ioctx},name={self.name},snap_id={self.snap_id:d})"

    def get_timestamp(self) -> datetime.datetime:
        """When the snapshot was taken, as a naive local ``datetime.datetime`` (whole seconds).

        :class:`ObjectNotFound` if the snapshot no longer exists.
        """
        stamp = _live_portal(self.ioctx._portal).run(self.ioctx._async.get_snap_stamp, self.snap_id)
        return datetime.datetime.fromtimestamp(int(stamp))


class SnapIterator:
    """Iterator of :class:`Snap` for the pool's snapshots, read once when it is created."""

    ioctx: Ioctx

    def __init__(self, ioctx: Ioctx) -> None:
        self.ioctx = ioctx
        self._snaps = _live_portal(ioctx._portal).run(ioctx._async.list_snaps)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._snaps:
            raise StopIteration
        snap_id, name, _ = self._snaps.pop(0)
        return Snap(self.ioctx, name, snap_id)


class Version:
    """A ``major.minor.extra`` version number, as :meth:`Rados.version` returns."""

    def __init__(self, major, minor, extra):
        self.major = major
        self.minor = minor
        self.extra = extra

    def __str__(self):
        return f"{self.major:d}.{self.minor:d}.{self.extra:d}"


class Watch:
    """A watch on one object, made by :meth:`Ioctx.watch`; a context manager that closes it.

    It runs on its own duplicate of the ioctx, closed with the watch. Its callbacks run on
    worker threads, never on the trio thread, one at a time. Async:
    :class:`rbdpy.rados.ioctx.AsyncWatch`.
    """

    def __init__(self, ioctx, oid, callback, error_callback, timeout):
        self.id = 0
        self.ioctx = ioctx.dup()
        self.oid = cstr(oid, "oid")
        self.callback = callback
        self.error_callback = error_callback
        portal = self.ioctx._portal
        # The loop holds the callbacks below; they reach this object through a weak
        # reference, so that a Watch dropped without close() is collected and unwatched,
        # as python-rados' deallocation does.
        this = weakref.ref(self)

        # Callbacks never run on the trio thread (they may call this API back): each
        # one hops to a worker thread, one at a time per watch, as librados' finisher.
        async def on_notify(notify_id, notifier_id, watch_id, data):
            watch = this()
            if watch is None:
                return None
            callback = watch.callback
            del watch  # the last reference must not go on the loop while we wait
            return await _to_thread(callback, notify_id, notifier_id, watch_id, data)

        async def on_error(watch_id, error):
            watch = this()
            error_callback = None if watch is None else watch.error_callback
            del watch
            if error_callback is not None:
                await _to_thread(error_callback, watch_id, error)

        self._watch = portal.run(self.ioctx._async.watch, oid, on_notify, on_error,
                                 timeout)
        self._finalizer = weakref.finalize(self, portal.run_for_finalizer, self._watch.close)
        self.id = self._watch.get_id()

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        self.close()
        return False

    def get_id(self) -> int:
        """The watch's id (the cookie passed to callbacks as ``watch_id``); 0 once closed."""
        return self.id

    def check(self):
        """Time since the OSD last confirmed the watch, as a ``datetime.timedelta``.

        If the watch has been lost, raises the matching error instead (:class:`NotConnected`
        when the OSD dropped it).
        """
        self.ioctx.require_ioctx_open()
        return datetime.timedelta(seconds=self._watch.check())

    def close(self):
        """Unregister the watch and close its ioctx; closing again does nothing.

        A watch the OSD already forgot is not an error.
        """
        if self.id == 0:
            return
        self.ioctx.require_ioctx_open()
        self._finalizer.detach()
        try:
            self.ioctx._portal.run(self._watch.close)
        finally:
            self.id = 0
        self.ioctx.close()


class WriteOp:
    """A compound write: sub-operations :meth:`Ioctx.operate_write_op` applies all or none.

    Omap changes are added through the ioctx (``set_omap``, ``remove_omap_keys``, ...).
    The async equivalent is :class:`rbdpy.rados.ioctx.WriteOp`.
    """

    def create(self) -> WriteOp:
        """Start with no sub-operations; returns this op."""
        # The ops live in an async-layer WriteOp that AsyncIoctx.operate_write_op runs.
        self._compound = _AsyncWriteOp()
        return self

    def release(self):
        """Drop every sub-operation added so far."""
        self._compound.release()

    def new(self, exclusive: int | None = None):
        """Add creation of the object; with a true ``exclusive`` an existing object fails the op."""
        self._compound.new(exclusive)

    def remove(self):
        """Add deletion of the object."""
        self._compound.remove()

    def set_flags(self, flags: int = LIBRADOS_OPERATION_NOFLAG):
        """Set ``LIBRADOS_OP_FLAG_*`` bits on the sub-operation added last (none added: no effect).
        """
        self._compound.set_flags(flags)

    def set_xattr(self, xattr_name: str, xattr_value: bytes):
        """Add setting extended attribute ``xattr_name`` to ``xattr_value``."""
        cstr(xattr_name, "xattr_name")
        self._compound.set_xattr(xattr_name, xattr_value)

    def rm_xattr(self, xattr_name: str):
        """Add removal of extended attribute ``xattr_name``."""
        cstr(xattr_name, "xattr_name")
        self._compound.rm_xattr(xattr_name)

    def append(self, to_write: bytes):
        """Add appending ``to_write`` at the end of the object."""
        self._compound.append(to_write)

    def write_full(self, to_write: bytes):
        """Add replacing the object's whole content by ``to_write``."""
        self._compound.write_full(to_write)

    def write(self, to_write: bytes, offset: int = 0):
        """Add writing ``to_write`` at byte ``offset``."""
        self._compound.write(to_write, offset)

    def assert_version(self, version: int):
        """Add a guard: the op fails unless the object's version is ``version``."""
        self._compound.assert_version(version)

    def zero(self, offset: int, length: int):
        """Add zeroing ``length`` bytes from byte ``offset``."""
        self._compound.zero(offset, length)

    def truncate(self, offset: int):
        """Add setting the object's size to ``offset`` bytes."""
        self._compound.truncate(offset)

    def execute(self, cls: str, method: str, data: bytes):
        """Add a call of object-class method ``cls.method`` with input ``data``."""
        cstr(cls, "cls")
        cstr(method, "method")
        self._compound.execute(cls, method, data)

    def writesame(self, to_write: bytes, write_len: int, offset: int = 0):
        """Add filling ``write_len`` bytes from ``offset`` with copies of ``to_write``."""
        self._compound.writesame(to_write, write_len, offset)

    def cmpext(self, cmp_buf: bytes, offset: int = 0):
        """Add a check that the object's bytes at ``offset`` equal ``cmp_buf``.

        A mismatch makes the whole op fail.
        """
        self._compound.cmpext(cmp_buf, offset)

    def omap_cmp(self, key: str, val: str, cmp_op: int = LIBRADOS_CMPXATTR_OP_EQ):
        """Add a guard comparing the omap value of ``key`` with ``val``.

        ``cmp_op`` is a ``LIBRADOS_CMPXATTR_OP_*`` constant (EQ by default); the op fails when
        the comparison is false.
        """
        cstr(key, "key")
        cstr(val, "val")
        self._compound.omap_cmp(key, val, cmp_op)


class WriteOpCtx(WriteOp, OpCtx):
    """A :class:`WriteOp` usable as ``with WriteOpCtx() as op:``."""


class XattrIterator:
    """Iterator of ``(name, value)`` for an object's extended attributes, sorted by name.

    All attributes are fetched when it is created (see :meth:`Ioctx.get_xattrs`).
    """

    ioctx: Ioctx
    oid: bytes | None

    def __init__(self, ioctx: Ioctx, oid: str) -> None:
        self.ioctx = ioctx
        self.oid = cstr(oid, "oid")
        attrs = _live_portal(ioctx._portal).run(ioctx._async.get_xattrs, oid)
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
