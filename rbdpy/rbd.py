# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# mypy: disable-error-code="type-arg"
"""python-rbd's synchronous API, served by rbdpy's async librbd (``from rbdpy import rbd``).

``RBD``, ``Image`` and the iterators are a thin face over
:class:`rbdpy.librbd.api.AsyncRBD` and :class:`rbdpy.librbd.image.AsyncImage` (also
exported as :mod:`rbdpy.aio`). Each call finds the :class:`rbdpy._sync.Portal` of the
``rados.Rados`` handle behind the ioctx it is given -- one trio event loop on its own
thread per handle -- runs the matching coroutine there and blocks the calling thread until
it returns; its result is returned and its exception re-raised here. Calling this module
from inside a trio task raises ``RuntimeError``: trio code should use :mod:`rbdpy.aio`.

Errors: the cluster answers with an errno, which the librbd layer turns into python-rbd's
exception class through :func:`rbdpy.librbd.exceptions.make_ex` (ENOENT is
:class:`ImageNotFound`, EEXIST :class:`ImageExists`, EINVAL :class:`InvalidArgument`,
EBUSY :class:`ImageBusy`, EROFS :class:`ReadOnlyImage`, ...). Calls on a closed
:class:`Image` raise :class:`InvalidArgument`.

``aio_*`` methods return a :class:`Completion` at once; the operation runs on the portal and
``oncomplete`` is called on the portal's finisher thread (never the event loop's), so it
may use the blocking API again. A failed operation gives a negative errno as its return
value instead of raising.

Compatibility: names, signatures, defaults, ``RBD_*`` constants and exception classes are
those of Ceph Pacific (16.2) python-rbd, checked by tests/compat/test_surface.py.
``RBD.version`` and the feature-string conversions work without a cluster. Not implemented
yet, and raising ``NotImplementedError`` that names the missing capability: groups,
migration, mirroring, encryption.
"""

from __future__ import annotations

import errno
import functools
import queue
import re
import sys
import traceback
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import trio

from rbdpy.librbd import config
from rbdpy.librbd.api import AsyncRBD
from rbdpy.librbd.coerce import UINT64_MAX as _UINT64_MAX
from rbdpy.librbd.coerce import as_uint64 as _as_uint64
from rbdpy.librbd.constants import (
    MIRROR_IMAGE_STATUS_STATE_ERROR,
    MIRROR_IMAGE_STATUS_STATE_REPLAYING,
    MIRROR_IMAGE_STATUS_STATE_STARTING_REPLAY,
    MIRROR_IMAGE_STATUS_STATE_STOPPED,
    MIRROR_IMAGE_STATUS_STATE_STOPPING_REPLAY,
    MIRROR_IMAGE_STATUS_STATE_SYNCING,
    MIRROR_IMAGE_STATUS_STATE_UNKNOWN,
    RBD_CONFIG_SOURCE_CONFIG,
    RBD_CONFIG_SOURCE_IMAGE,
    RBD_CONFIG_SOURCE_POOL,
    RBD_ENCRYPTION_ALGORITHM_AES128,
    RBD_ENCRYPTION_ALGORITHM_AES256,
    RBD_ENCRYPTION_FORMAT_LUKS1,
    RBD_ENCRYPTION_FORMAT_LUKS2,
    RBD_FEATURE_DATA_POOL,
    RBD_FEATURE_DEEP_FLATTEN,
    RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_JOURNALING,
    RBD_FEATURE_LAYERING,
    RBD_FEATURE_MIGRATING,
    RBD_FEATURE_NON_PRIMARY,
    RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURE_OPERATIONS,
    RBD_FEATURE_STRIPINGV2,
    RBD_FEATURES_ALL,
    RBD_FEATURES_INCOMPATIBLE,
    RBD_FEATURES_MUTABLE,
    RBD_FEATURES_RW_INCOMPATIBLE,
    RBD_FEATURES_SINGLE_CLIENT,
    RBD_FLAG_FAST_DIFF_INVALID,
    RBD_FLAG_OBJECT_MAP_INVALID,
    RBD_GROUP_IMAGE_STATE_ATTACHED,
    RBD_GROUP_IMAGE_STATE_INCOMPLETE,
    RBD_GROUP_SNAP_STATE_COMPLETE,
    RBD_GROUP_SNAP_STATE_INCOMPLETE,
    RBD_IMAGE_MIGRATION_STATE_ABORTING,
    RBD_IMAGE_MIGRATION_STATE_ERROR,
    RBD_IMAGE_MIGRATION_STATE_EXECUTED,
    RBD_IMAGE_MIGRATION_STATE_EXECUTING,
    RBD_IMAGE_MIGRATION_STATE_PREPARED,
    RBD_IMAGE_MIGRATION_STATE_PREPARING,
    RBD_IMAGE_MIGRATION_STATE_UNKNOWN,
    RBD_IMAGE_OPTION_DATA_POOL,
    RBD_IMAGE_OPTION_FEATURES,
    RBD_IMAGE_OPTION_FORMAT,
    RBD_IMAGE_OPTION_ORDER,
    RBD_IMAGE_OPTION_STRIPE_COUNT,
    RBD_IMAGE_OPTION_STRIPE_UNIT,
    RBD_LOCK_MODE_EXCLUSIVE,
    RBD_LOCK_MODE_SHARED,
    RBD_MIRROR_IMAGE_DISABLED,
    RBD_MIRROR_IMAGE_DISABLING,
    RBD_MIRROR_IMAGE_ENABLED,
    RBD_MIRROR_IMAGE_MODE_JOURNAL,
    RBD_MIRROR_IMAGE_MODE_SNAPSHOT,
    RBD_MIRROR_MODE_DISABLED,
    RBD_MIRROR_MODE_IMAGE,
    RBD_MIRROR_MODE_POOL,
    RBD_MIRROR_PEER_ATTRIBUTE_NAME_KEY,
    RBD_MIRROR_PEER_ATTRIBUTE_NAME_MON_HOST,
    RBD_MIRROR_PEER_DIRECTION_RX,
    RBD_MIRROR_PEER_DIRECTION_RX_TX,
    RBD_MIRROR_PEER_DIRECTION_TX,
    RBD_OPERATION_FEATURE_CLONE_CHILD,
    RBD_OPERATION_FEATURE_CLONE_PARENT,
    RBD_OPERATION_FEATURE_GROUP,
    RBD_OPERATION_FEATURE_SNAP_TRASH,
    RBD_POOL_STAT_OPTION_IMAGE_MAX_PROVISIONED_BYTES,
    RBD_POOL_STAT_OPTION_IMAGE_PROVISIONED_BYTES,
    RBD_POOL_STAT_OPTION_IMAGE_SNAPSHOTS,
    RBD_POOL_STAT_OPTION_IMAGES,
    RBD_POOL_STAT_OPTION_TRASH_IMAGES,
    RBD_POOL_STAT_OPTION_TRASH_MAX_PROVISIONED_BYTES,
    RBD_POOL_STAT_OPTION_TRASH_PROVISIONED_BYTES,
    RBD_POOL_STAT_OPTION_TRASH_SNAPSHOTS,
    RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR,
    RBD_SNAP_CREATE_SKIP_QUIESCE,
    RBD_SNAP_MIRROR_STATE_NON_PRIMARY,
    RBD_SNAP_MIRROR_STATE_NON_PRIMARY_DEMOTED,
    RBD_SNAP_MIRROR_STATE_PRIMARY,
    RBD_SNAP_MIRROR_STATE_PRIMARY_DEMOTED,
    RBD_SNAP_NAMESPACE_TYPE_GROUP,
    RBD_SNAP_NAMESPACE_TYPE_MIRROR,
    RBD_SNAP_NAMESPACE_TYPE_TRASH,
    RBD_SNAP_NAMESPACE_TYPE_USER,
    RBD_SNAP_REMOVE_FLATTEN,
    RBD_SNAP_REMOVE_FORCE,
    RBD_SNAP_REMOVE_UNPROTECT,
    RBD_WRITE_ZEROES_FLAG_THICK_PROVISION,
)
from rbdpy.librbd.exceptions import (
    ECANCELED,
    ArgumentOutOfRange,
    ConnectionShutdown,
    DiskQuotaExceeded,
    Error,
    FunctionNotSupported,
    ImageBusy,
    ImageExists,
    ImageHasSnapshots,
    ImageNotFound,
    IncompleteWriteError,
    InvalidArgument,
    IOError,
    LogicError,
    NoSpace,
    ObjectExists,
    ObjectNotFound,
    OperationCanceled,
    OperationNotSupported,
    OSError,
    PermissionError,
    ReadOnlyImage,
    Timeout,
    make_ex,
)
from rbdpy.librbd.group import AsyncGroup
from rbdpy.librbd.image import AsyncImage
from rbdpy.rados.proto.bytestr import to_bytes

if TYPE_CHECKING:
    from rbdpy._sync import Pending

__all__ = [
    "ECANCELED",
    "MIRROR_IMAGE_STATUS_STATE_ERROR",
    "MIRROR_IMAGE_STATUS_STATE_REPLAYING",
    "MIRROR_IMAGE_STATUS_STATE_STARTING_REPLAY",
    "MIRROR_IMAGE_STATUS_STATE_STOPPED",
    "MIRROR_IMAGE_STATUS_STATE_STOPPING_REPLAY",
    "MIRROR_IMAGE_STATUS_STATE_SYNCING",
    "MIRROR_IMAGE_STATUS_STATE_UNKNOWN",
    "RBD",
    "RBD_CONFIG_SOURCE_CONFIG",
    "RBD_CONFIG_SOURCE_IMAGE",
    "RBD_CONFIG_SOURCE_POOL",
    "RBD_ENCRYPTION_ALGORITHM_AES128",
    "RBD_ENCRYPTION_ALGORITHM_AES256",
    "RBD_ENCRYPTION_FORMAT_LUKS1",
    "RBD_ENCRYPTION_FORMAT_LUKS2",
    "RBD_FEATURES_ALL",
    "RBD_FEATURES_INCOMPATIBLE",
    "RBD_FEATURES_MUTABLE",
    "RBD_FEATURES_RW_INCOMPATIBLE",
    "RBD_FEATURES_SINGLE_CLIENT",
    "RBD_FEATURE_DATA_POOL",
    "RBD_FEATURE_DEEP_FLATTEN",
    "RBD_FEATURE_EXCLUSIVE_LOCK",
    "RBD_FEATURE_FAST_DIFF",
    "RBD_FEATURE_JOURNALING",
    "RBD_FEATURE_LAYERING",
    "RBD_FEATURE_MIGRATING",
    "RBD_FEATURE_NON_PRIMARY",
    "RBD_FEATURE_OBJECT_MAP",
    "RBD_FEATURE_OPERATIONS",
    "RBD_FEATURE_STRIPINGV2",
    "RBD_FLAG_FAST_DIFF_INVALID",
    "RBD_FLAG_OBJECT_MAP_INVALID",
    "RBD_GROUP_IMAGE_STATE_ATTACHED",
    "RBD_GROUP_IMAGE_STATE_INCOMPLETE",
    "RBD_GROUP_SNAP_STATE_COMPLETE",
    "RBD_GROUP_SNAP_STATE_INCOMPLETE",
    "RBD_IMAGE_MIGRATION_STATE_ABORTING",
    "RBD_IMAGE_MIGRATION_STATE_ERROR",
    "RBD_IMAGE_MIGRATION_STATE_EXECUTED",
    "RBD_IMAGE_MIGRATION_STATE_EXECUTING",
    "RBD_IMAGE_MIGRATION_STATE_PREPARED",
    "RBD_IMAGE_MIGRATION_STATE_PREPARING",
    "RBD_IMAGE_MIGRATION_STATE_UNKNOWN",
    "RBD_IMAGE_OPTION_DATA_POOL",
    "RBD_IMAGE_OPTION_FEATURES",
    "RBD_IMAGE_OPTION_FORMAT",
    "RBD_IMAGE_OPTION_ORDER",
    "RBD_IMAGE_OPTION_STRIPE_COUNT",
    "RBD_IMAGE_OPTION_STRIPE_UNIT",
    "RBD_LOCK_MODE_EXCLUSIVE",
    "RBD_LOCK_MODE_SHARED",
    "RBD_MIRROR_IMAGE_DISABLED",
    "RBD_MIRROR_IMAGE_DISABLING",
    "RBD_MIRROR_IMAGE_ENABLED",
    "RBD_MIRROR_IMAGE_MODE_JOURNAL",
    "RBD_MIRROR_IMAGE_MODE_SNAPSHOT",
    "RBD_MIRROR_MODE_DISABLED",
    "RBD_MIRROR_MODE_IMAGE",
    "RBD_MIRROR_MODE_POOL",
    "RBD_MIRROR_PEER_ATTRIBUTE_NAME_KEY",
    "RBD_MIRROR_PEER_ATTRIBUTE_NAME_MON_HOST",
    "RBD_MIRROR_PEER_DIRECTION_RX",
    "RBD_MIRROR_PEER_DIRECTION_RX_TX",
    "RBD_MIRROR_PEER_DIRECTION_TX",
    "RBD_OPERATION_FEATURE_CLONE_CHILD",
    "RBD_OPERATION_FEATURE_CLONE_PARENT",
    "RBD_OPERATION_FEATURE_GROUP",
    "RBD_OPERATION_FEATURE_SNAP_TRASH",
    "RBD_POOL_STAT_OPTION_IMAGES",
    "RBD_POOL_STAT_OPTION_IMAGE_MAX_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_IMAGE_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_IMAGE_SNAPSHOTS",
    "RBD_POOL_STAT_OPTION_TRASH_IMAGES",
    "RBD_POOL_STAT_OPTION_TRASH_MAX_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_TRASH_PROVISIONED_BYTES",
    "RBD_POOL_STAT_OPTION_TRASH_SNAPSHOTS",
    "RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR",
    "RBD_SNAP_CREATE_SKIP_QUIESCE",
    "RBD_SNAP_MIRROR_STATE_NON_PRIMARY",
    "RBD_SNAP_MIRROR_STATE_NON_PRIMARY_DEMOTED",
    "RBD_SNAP_MIRROR_STATE_PRIMARY",
    "RBD_SNAP_MIRROR_STATE_PRIMARY_DEMOTED",
    "RBD_SNAP_NAMESPACE_TYPE_GROUP",
    "RBD_SNAP_NAMESPACE_TYPE_MIRROR",
    "RBD_SNAP_NAMESPACE_TYPE_TRASH",
    "RBD_SNAP_NAMESPACE_TYPE_USER",
    "RBD_SNAP_REMOVE_FLATTEN",
    "RBD_SNAP_REMOVE_FORCE",
    "RBD_SNAP_REMOVE_UNPROTECT",
    "RBD_WRITE_ZEROES_FLAG_THICK_PROVISION",
    "ArgumentOutOfRange",
    "ChildIterator",
    "Completion",
    "ConfigImageIterator",
    "ConfigPoolIterator",
    "ConnectionShutdown",
    "DiskQuotaExceeded",
    "Error",
    "FunctionNotSupported",
    "Group",
    "GroupImageIterator",
    "GroupSnapIterator",
    "IOError",
    "Image",
    "ImageBusy",
    "ImageExists",
    "ImageHasSnapshots",
    "ImageIterator",
    "ImageNotFound",
    "IncompleteWriteError",
    "InvalidArgument",
    "LockOwnerIterator",
    "LogicError",
    "MetadataIterator",
    "MirrorImageInfoIterator",
    "MirrorImageInstanceIdIterator",
    "MirrorImageStatusIterator",
    "MirrorPeerIterator",
    "NoSpace",
    "OSError",
    "ObjectExists",
    "ObjectNotFound",
    "OperationCanceled",
    "OperationNotSupported",
    "PermissionError",
    "PoolMetadataIterator",
    "ReadOnlyImage",
    "SnapIterator",
    "Timeout",
    "TrashIterator",
    "WatcherIterator",
    "cstr",
    "decode_cstr",
    "requires_not_closed",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _run_with_progress(portal: Any, afn: Callable[..., Any], on_progress: Callable[..., Any],
                       *args: Any) -> Any:
    """Run ``afn(*args, progress)`` on the loop while the caller's thread runs
    ``on_progress(done, total)`` for each report, as librbd calls a python-rbd progress
    callback on the thread that made the blocking call. An exception from the callback is
    printed and ignored, as python-rbd's Cython callback wrapper does."""
    reports: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
    pending = portal.spawn(afn, (*args, lambda done, total: reports.put((done, total))),
                           on_done=lambda _pending: reports.put(None))
    try:
        while (report := reports.get()) is not None:
            try:
                on_progress(*report)
            except Exception:
                print("Exception ignored in: 'rbd.progress_callback'", file=sys.stderr)
                traceback.print_exc()
    except BaseException:
        pending.cancel()
        pending.wait()
        raise
    return pending.result()


def _run_with_checked_progress(portal: Any, afn: Callable[..., Any],
                               on_progress: Callable[..., Any], *args: Any) -> Any:
    """Like :func:`_run_with_progress`, but the loop waits for each callback's return value:
    python-rbd hands it back to librbd, and a negative one stops the operation with that
    errno. A callback that returns None (or raises) lets the operation go on, as python-rbd's
    Cython wrapper does once it has printed the failed int conversion."""
    reports: queue.SimpleQueue[tuple[int, int, queue.SimpleQueue[int]] | None] = \
        queue.SimpleQueue()

    async def progress(done: int, total: int) -> int:
        reply: queue.SimpleQueue[int] = queue.SimpleQueue()
        reports.put((done, total, reply))
        return await trio.to_thread.run_sync(reply.get, abandon_on_cancel=True)

    pending = portal.spawn(afn, (*args, progress), on_done=lambda _pending: reports.put(None))
    try:
        while (report := reports.get()) is not None:
            done, total, reply = report
            verdict = 0
            try:
                value = on_progress(done, total)
                if isinstance(value, int):
                    verdict = value
            except Exception:
                print("Exception ignored in: 'rbd.progress_callback'", file=sys.stderr)
                traceback.print_exc()
            reply.put(verdict)
    except BaseException:
        pending.cancel()
        pending.wait()
        raise
    return pending.result()


def _nie(what: str, capability: str) -> NotImplementedError:
    """The error a facade method of a capability rbdpy lacks raises (never a silent success)."""
    return NotImplementedError(f"{what}: {capability} is not implemented in rbdpy yet")


def _ioctx_async(ioctx: Any) -> tuple[Any, Any]:
    """The portal and AsyncIoctx behind a ``rados.Ioctx`` (python-rbd: convert_ioctx)."""
    portal = getattr(ioctx, "_portal", None)
    aio = getattr(ioctx, "_async", None)
    if portal is None or aio is None:
        raise TypeError("ioctx must be an open rados.Ioctx")
    return portal, aio


# ----------------------------------------------------------------------------- helpers


def cstr(val: Any, name: str, encoding: str = "utf-8", opt: bool = False) -> bytes | None:
    """Return ``val`` as bytes: ``str`` is encoded with ``encoding``, ``bytes`` passes through.

    With ``opt=True`` a ``None`` is returned as ``None``. Any other type raises
    :class:`InvalidArgument`, whose message names the parameter ``name``.
    """
    if opt and val is None:
        return None
    if isinstance(val, bytes):
        return val
    if isinstance(val, str):
        return val.encode(encoding)
    raise InvalidArgument(f"{name} must be a string")


def decode_cstr(val: bytes | None, encoding: str = "utf-8") -> str | None:
    """Return ``val`` decoded with ``encoding`` (UTF-8 by default); ``None`` stays ``None``."""
    if val is None:
        return None
    return val.decode(encoding)


def requires_not_closed(f: _F) -> _F:
    """Decorator for :class:`Image` methods: call ``require_not_closed()`` before the method.

    A closed image therefore raises :class:`InvalidArgument` instead of running the method.
    """

    @functools.wraps(f)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.require_not_closed()
        return f(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


# The librbd version Pacific's python-rbd reports (rbd_version()).
_LIBRBD_VERSION = (1, 16, 0)

# librbd's feature-name table (features.h RBD_FEATURE_NAME_*); names are listed in byte
# order, which is the order features_to_string prints them (librbd keeps a std::map).
# Bit 11, dirty-cache, has a name but no python-rbd constant.
_FEATURE_BY_NAME: dict[str, int] = {
    "data-pool": RBD_FEATURE_DATA_POOL,
    "deep-flatten": RBD_FEATURE_DEEP_FLATTEN,
    "dirty-cache": 1 << 11,
    "exclusive-lock": RBD_FEATURE_EXCLUSIVE_LOCK,
    "fast-diff": RBD_FEATURE_FAST_DIFF,
    "journaling": RBD_FEATURE_JOURNALING,
    "layering": RBD_FEATURE_LAYERING,
    "migrating": RBD_FEATURE_MIGRATING,
    "non-primary": RBD_FEATURE_NON_PRIMARY,
    "object-map": RBD_FEATURE_OBJECT_MAP,
    "operations": RBD_FEATURE_OPERATIONS,
    "striping": RBD_FEATURE_STRIPINGV2,
}
# RBD_FEATURES_DEFAULT (layering, exclusive-lock, object-map, fast-diff, deep-flatten): what
# an empty string means to features_from_string -- the compiled default, not the
# rbd_default_features option.
_RBD_FEATURES_DEFAULT = 61
# Internal bits (operations, migrating, non-primary, dirty-cache) librbd refuses in a
# *numeric* feature string (RBD_FEATURES_INTERNAL | RBD_FEATURES_MUTABLE_INTERNAL).
_RBD_FEATURES_NUMERIC_REFUSED = (
    RBD_FEATURE_OPERATIONS | RBD_FEATURE_MIGRATING | RBD_FEATURE_NON_PRIMARY | (1 << 11)
)
# boost::trim / std::isspace in the C locale.
_CSPACE = " \t\n\v\f\r"
# What boost::lexical_cast<uint64_t> accepts (a sign, then decimal digits).
_DECIMAL = re.compile(r"[+-]?[0-9]+")


def _features_from_text(text: str) -> int | None:
    """librbd's rbd_features_from_string; None where librbd reports an error (EINVAL)."""
    value = text.strip(_CSPACE)
    if not value:
        return _RBD_FEATURES_DEFAULT
    if _DECIMAL.fullmatch(value):
        number = int(value)
        # lexical_cast wraps "-N" modulo 2**64, so anything but "-0" lands on unknown bits.
        if number < 0:
            number += 1 << 64
        if 0 <= number <= _UINT64_MAX:
            if number & ~RBD_FEATURES_ALL or number & _RBD_FEATURES_NUMERIC_REFUSED:
                return None
            return number
        # Out of range: lexical_cast fails and librbd retries it as a name list.
    features = 0
    for name in value.split(","):
        bit = _FEATURE_BY_NAME.get(name.strip(_CSPACE))
        if bit is None:
            return None
        # librbd adds rather than ORs, so a repeated name carries into the next bit.
        features += bit
    return features


def _return_code(pending: Pending[Any]) -> int:
    """librbd-style return value of a finished portal call (for Completion)."""
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


def _image_aio(image: Any, afn: Any, args: tuple[Any, ...], oncomplete: Any,
               with_data: bool = False) -> Completion:
    """Start ``afn(*args)`` on the image's portal with python-rbd Completion semantics.

    Errors never raise here: like librbd's failed AioCompletion they become a negative
    return value; the callback runs on the portal's finisher thread, as
    ``oncomplete(completion)`` or, for reads, ``oncomplete(completion, data or None)``.
    Writes, discards and flushes complete with 0 (librbd's aio return value).
    """
    comp = Completion(image, oncomplete)

    async def call() -> Any:
        value = await afn(*args)
        return value if with_data else None

    def on_done(pending: Pending[Any]) -> None:
        # Bind first: a fast op can finish (and this run on the finisher thread) before
        # spawn() below has returned the pending call to us.
        comp._attach(pending)
        try:
            if not oncomplete:
                return
            if with_data:
                ok = pending.exception() is None
                oncomplete(comp, pending.result() if ok else None)
            else:
                oncomplete(comp)
        except BaseException as e:  # python-rbd keeps it for wait_for_complete_and_cb
            comp._callback_exc = e
        finally:
            # Like python-rbd, the completion keeps the return value, not the data: a
            # read's buffer is freed (or recycled, see msgr2.buffers) as soon as the
            # callback lets go of it, not whenever the completion itself goes.
            pending._keep_only_return_code(_return_code(pending))

    comp._attach(image._portal.spawn(call, (), on_done))
    return comp


# ----------------------------------------------------------------------------- classes


class ChildIterator:
    """Children (clones) of an image or of its current snapshot, one dict each.

    Dict keys, as python-rbd: ``pool``, ``pool_namespace``, ``image``, ``id`` (strings) and
    ``trash`` (bool, whether the child sits in the trash). At the image itself (no snapshot
    set) the clones of every snapshot are listed. With ``descendants=True`` clones of clones
    are listed too, at any depth. The list is read when the iterator is made, sorted by
    pool, namespace and image name. Raises :class:`InvalidArgument` for a closed image.
    Async forms: ``rbdpy.aio.AsyncImage.list_children2`` and ``.list_descendants``.
    """

    def __iter__(self):
        return iter(self._children)

    def __init__(self, image, descendants=False):
        image.require_not_closed()
        fetch = image._async.list_descendants if descendants else image._async.list_children2
        self._children = image._portal.run(fetch)


class Completion:
    """Handle on one ``aio_*`` operation of an :class:`Image`, returned as soon as it starts.

    ``oncomplete`` (if given) runs on the portal's finisher thread when the operation ends.
    Poll with :meth:`is_complete`, block with :meth:`wait_for_complete_and_cb`, and read the
    outcome with :meth:`get_return_value` (librbd's convention: byte count for reads, 0 for
    other successes, a negative errno for failures).
    """

    _pending: Pending[Any] | None

    def __init__(self, image: Any, oncomplete: Any) -> None:
        self.image = image
        self.oncomplete = oncomplete
        self._pending = None
        # _image_aio's on_done callback stores an exception raised by ``oncomplete`` here;
        # python-rbd re-raises it from wait_for_complete_and_cb().
        self._callback_exc: BaseException | None = None

    def _attach(self, pending: Pending[Any]) -> None:
        """Bind this completion to the portal call that implements it (aio_* wiring)."""
        self._pending = pending

    def _require_pending(self, what: str) -> Pending[Any]:
        if self._pending is None:
            raise _nie(what, "asynchronous completions")
        return self._pending

    def is_complete(self):
        """Return True once the operation has finished (its callback may still be running)."""
        return self._require_pending("Completion.is_complete").done()

    def wait_for_complete_and_cb(self):
        """Block until the operation has finished and its ``oncomplete`` callback has returned.

        If the callback raised, that exception is raised here: call this to collect callback
        failures, which the finisher thread cannot report by itself.
        """
        self._require_pending("Completion.wait_for_complete_and_cb").wait_callback()
        if self._callback_exc is not None:
            raise self._callback_exc

    def get_return_value(self):
        """Return the operation's result code: the number of bytes for a read, 0 for any other
        success, a negative errno for a failure (-EIO when the error carries none).

        Before the operation has finished this is 0.
        """
        pending = self._require_pending("Completion.get_return_value")
        if not pending.done():
            return 0  # librbd: the value is only meaningful once complete
        return _return_code(pending)


class ConfigImageIterator:
    """Every librbd option an image may override, with the value that applies to this image.

    One dict per option: ``name``, ``value`` (str) and ``source``: ``RBD_CONFIG_SOURCE_CONFIG``
    (the client's configuration), ``..._POOL`` (a pool override) or ``..._IMAGE`` (an image
    override). Built in full when the iterator is created
    (:meth:`rbdpy.aio.AsyncImage.config_list`).
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, image):
        self.image = image
        self._items = image._portal.run(image._async.config_list)


class ConfigPoolIterator:
    """Every librbd option with the value that applies in a pool: dicts with ``name``, ``value``
    and ``source`` (``RBD_CONFIG_SOURCE_CONFIG`` or ``RBD_CONFIG_SOURCE_POOL``).

    Pool overrides are read from the pool's default namespace, in full, when the iterator is
    created (:meth:`rbdpy.aio.AsyncRBD.config_list`).
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, ioctx):
        portal, aio = _ioctx_async(ioctx)
        self._items = portal.run(config.config_list, aio)


class Group:
    """An RBD group (a set of images that can be snapshotted together) in a pool.

    ``Group(ioctx, name)`` does not look the group up: a group that does not exist raises
    :class:`ObjectNotFound` from the calls that need it and lists as empty, as python-rbd's.
    Errors use python-rbd's group map (ObjectNotFound, ObjectExists, ...). The image ioctx
    passed to :meth:`add_image` / :meth:`remove_image` must belong to the same
    ``rados.Rados`` handle. Async form: :class:`rbdpy.aio.AsyncGroup`.
    """

    def __init__(self, ioctx, name):
        name = cstr(name, "name")
        self._portal, aio = _ioctx_async(ioctx)
        self._async = AsyncGroup(aio, name)

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        return False

    def add_image(self, image_ioctx, image_name):
        """Make the image ``image_name`` of the pool behind ``image_ioctx`` a member of the group.

        Raises :class:`ObjectNotFound` (no such group or image), :class:`ObjectExists` (the
        image is in another group), :class:`InvalidArgument` (group and image in different
        namespaces). Adding a member again is no error.
        """
        _, image_aio = _ioctx_async(image_ioctx)
        return self._portal.run(self._async.add_image, image_aio, image_name)

    def remove_image(self, image_ioctx, image_name):
        """Take the image ``image_name`` (in the pool behind ``image_ioctx``) out of the group.

        The image keeps its group-namespace snapshots. :class:`ObjectNotFound` for a group or
        image that does not exist; an image that is no member is no error.
        """
        _, image_aio = _ioctx_async(image_ioctx)
        return self._portal.run(self._async.remove_image, image_aio, image_name)

    def list_images(self):
        """Return a :class:`GroupImageIterator` over the group's members."""
        return GroupImageIterator(self)

    def create_snap(self, snap_name, flags=0):
        """Snapshot every member of the group at once, as group snapshot ``snap_name``.

        Each member gets a snapshot in the group namespace (``.group.<pool>_<group id>_<snap
        id>``) while all members' writes are held back. ``flags``: at most one of
        ``RBD_SNAP_CREATE_SKIP_QUIESCE`` and ``RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR`` (else
        :class:`InvalidArgument`); rbdpy registers no quiesce handlers, so both act as librbd
        does when no watcher has one. :class:`ObjectExists` for a name in use.
        """
        return self._portal.run(self._async.create_snap, snap_name, flags)

    def remove_snap(self, snap_name):
        """Delete the group snapshot ``snap_name`` and its members' snapshots."""
        return self._portal.run(self._async.remove_snap, snap_name)

    def rename_snap(self, old_snap_name, new_snap_name):
        """Rename the group snapshot ``old_snap_name`` to ``new_snap_name``."""
        return self._portal.run(self._async.rename_snap, old_snap_name, new_snap_name)

    def list_snaps(self):
        """Return a :class:`GroupSnapIterator` over the group's snapshots."""
        return GroupSnapIterator(self)

    def rollback_to_snap(self, name):
        """Roll every member image back to the group snapshot ``name`` (all members' locks
        held at once). :class:`ObjectNotFound` for an unknown snapshot.

        python-rbd 16.2 takes no progress callback here; the async form
        ``rbdpy.aio.AsyncGroup.rollback_to_snap(name, on_progress)`` reports one
        ``(done, total)`` per object of each member.
        """
        return self._portal.run(self._async.rollback_to_snap, name)


class GroupImageIterator:
    """Members of a :class:`Group`: dicts with ``name`` (str), ``pool`` (int, pool id) and
    ``state`` (``RBD_GROUP_IMAGE_STATE_*``), read when the iterator is made. Members moved
    to the trash are left out, as librbd does."""

    def __iter__(self):
        return iter(self._images)

    def __init__(self, group):
        self._images = group._portal.run(group._async.list_images)


class GroupSnapIterator:
    """Snapshots of a :class:`Group`: dicts with ``name`` (str) and ``state``
    (``RBD_GROUP_SNAP_STATE_*``), read when the iterator is made."""

    def __iter__(self):
        return iter(self._snaps)

    def __init__(self, group):
        self._snaps = group._portal.run(group._async.list_snaps)


class Image:
    """An open RBD image (format 2): I/O, snapshots, locks, metadata and configuration.

    Opening resolves the name (or id), reads the header, and for a read-write open registers
    a watch on it, so other clients see this one as a watcher and their header changes reach
    it. Writes and maintenance operations take the image's exclusive lock first when the
    image has that feature; closing gives it back. Every call runs the :class:`AsyncImage
    <rbdpy.librbd.image.AsyncImage>` method of the same name on the handle's portal
    (``rbdpy.aio.AsyncImage`` is the async form). Use it as a context manager, or call
    :meth:`close`. Any call may raise :class:`ImageNotFound` once the image has been removed
    underneath.
    """

    def __repr__(self):
        return f"rbd.Image(ioctx, {getattr(self, 'name', None)!r})"

    def __init__(
        self, ioctx, name=None, snapshot=None, read_only=False, image_id=None, _oncomplete=None
    ):
        """Open the image called ``name``, or the one whose id is ``image_id``, in ``ioctx``'s pool.

        Give exactly one of ``name`` and ``image_id``; otherwise :class:`InvalidArgument`.
        ``snapshot`` opens the image at that snapshot: reads come from it and I/O writes raise
        :class:`ReadOnlyImage` until ``set_snap(None)``. ``read_only=True`` registers no header
        watch and never takes the exclusive lock; every change is refused with
        :class:`ReadOnlyImage`, and the cached header may fall behind other clients' changes.

        Raises :class:`ImageNotFound` for an unknown image or snapshot and
        :class:`FunctionNotSupported` for an image using features rbdpy cannot handle. Async
        form: ``await rbdpy.aio.AsyncImage.open(ioctx, ...)``.
        """
        self._closed = True
        portal, aio = _ioctx_async(ioctx)
        self._portal = portal
        self.ioctx = ioctx
        if _oncomplete is not None:
            # python-rbd refuses these before starting the open
            if name is None and image_id is None:
                raise InvalidArgument("image name or image id was not specified")
            if name is not None and image_id is not None:
                raise InvalidArgument("only need to specify image name or image id")
            self._open_completion = self._start_open(aio, name, snapshot, read_only, image_id,
                                                     _oncomplete)
            return
        self._opened(portal.run(AsyncImage.open, aio, name, snapshot, read_only, image_id),
                     name)

    def _opened(self, async_image, name):
        """Bind the open AsyncImage to this object (end of a blocking or aio open)."""
        self._async = async_image
        # Dropped without close(), the image still closes (watch removed, lock released),
        # as python-rbd's deallocation does; at exit too, like module teardown there.
        self._finalizer = weakref.finalize(self, self._portal.run_for_finalizer,
                                           async_image.close)
        self.name = to_bytes(async_image.name) if name is None else cstr(name, "name")
        self._closed = False

    def _start_open(self, aio, name, snapshot, read_only, image_id, oncomplete):
        """RBD.aio_open_image: open on the portal; ``oncomplete(completion, self)`` on the
        finisher thread, the image usable there when the return value is 0."""
        comp = Completion(self, oncomplete)

        def on_done(pending):
            comp._attach(pending)
            try:
                if pending.exception() is None:
                    self._opened(pending.result(), name)
                oncomplete(comp, self)
            except BaseException as e:  # python-rbd keeps it for wait_for_complete_and_cb
                comp._callback_exc = e
            finally:
                pending._keep_only_return_code(_return_code(pending))

        comp._attach(self._portal.spawn(AsyncImage.open,
                                        (aio, name, snapshot, read_only, image_id), on_done))
        return comp

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        """Close the image (see :meth:`close`) and let any exception propagate."""
        self.close()
        return False

    def require_not_closed(self):
        """Raise :class:`InvalidArgument` if this image has been closed; return None otherwise."""
        if getattr(self, "_closed", True):
            raise InvalidArgument("image is closed")

    def close(self):
        """Close the image: wait for in-flight writes, release the exclusive lock if held and drop
        the header watch.

        A second call does nothing. Use no other method afterwards (they raise
        :class:`InvalidArgument`). Async form: ``rbdpy.aio.AsyncImage.close``.
        """
        if not getattr(self, "_closed", True):
            self._closed = True
            self._finalizer.detach()
            self._portal.run(self._async.close)

    @requires_not_closed
    def aio_close(self, oncomplete):
        """Close the image without blocking; return a :class:`Completion` at once.

        ``oncomplete(completion)`` runs on the portal's finisher thread once the image is
        closed (return value 0; the image then counts as closed, as after :meth:`close`).
        Async form: ``rbdpy.aio.AsyncImage.close``.
        """
        comp = Completion(self, oncomplete)

        def on_done(pending):
            comp._attach(pending)
            try:
                if pending.exception() is None:
                    self._closed = True
                    self._finalizer.detach()
                if oncomplete:
                    oncomplete(comp)
            except BaseException as e:
                comp._callback_exc = e
            finally:
                pending._keep_only_return_code(_return_code(pending))

        comp._attach(self._portal.spawn(self._async.close, (), on_done))
        return comp

    @requires_not_closed
    def resize(self, size, allow_shrink=True):
        """Set the image size to ``size`` bytes.

        Shrinking deletes or trims the data past the new end; with ``allow_shrink=False`` a
        smaller size raises :class:`InvalidArgument` instead. Other clients with the image open
        are told to re-read the header. Raises :class:`ReadOnlyImage` on a read-only open or
        while a snapshot is set. Async form: ``rbdpy.aio.AsyncImage.resize``.
        """
        return self._portal.run(self._async.resize, size, allow_shrink)

    @requires_not_closed
    def stat(self):
        """Return a dict describing the image (of the snapshot, if one is set).

        Keys: ``size`` (bytes), ``obj_size`` (bytes per RADOS object), ``num_objs`` (objects
        needed for ``size``), ``order`` (``obj_size == 2 ** order``), ``block_name_prefix``
        (prefix of the data objects' names), and the obsolete ``parent_pool`` (always
        ``2**64 - 1``) and ``parent_name`` (always ``b""``), kept for python-rbd compatibility.
        Async form: ``rbdpy.aio.AsyncImage.stat``.
        """
        return self._portal.run(self._async.stat)

    @requires_not_closed
    def get_name(self):
        """Return the image's name (str). Async form: ``rbdpy.aio.AsyncImage.get_name``."""
        return self._portal.run(self._async.get_name)

    @requires_not_closed
    def id(self):
        """Return the image's internal id (str), the suffix of its ``rbd_header.<id>`` object.

        Async form: ``rbdpy.aio.AsyncImage.id``.
        """
        return self._portal.run(self._async.id)

    @requires_not_closed
    def block_name_prefix(self):
        """Return the prefix shared by the names of the image's data objects (str).

        Async form: ``rbdpy.aio.AsyncImage.block_name_prefix``.
        """
        return self._portal.run(self._async.block_name_prefix)

    @requires_not_closed
    def data_pool_id(self):
        """Return the id of the pool holding the image's data objects.

        That is the separate data pool when the image was created with one, else the image's own
        pool. Async form: ``rbdpy.aio.AsyncImage.data_pool_id``.
        """
        return self._portal.run(self._async.data_pool_id)

    @requires_not_closed
    def get_parent_image_spec(self):
        """Return the parent of a cloned image as a dict (``pool_name``, ``pool_namespace``,
        ``image_name``, ``snap_name``).

        The parent is that of the snapshot currently set, or of the image itself. A parent
        snapshot the user removed while clones still used it shows its trash name (a UUID).
        Raises :class:`ImageNotFound` for an image (or snapshot) without a parent. Async
        form: ``rbdpy.aio.AsyncImage.get_parent_image_spec``.
        """
        return self._portal.run(self._async.get_parent_image_spec)

    @requires_not_closed
    def parent_info(self):
        """Older form of :meth:`get_parent_image_spec`: a ``(pool name, image name, snapshot name)``
        tuple. Raises :class:`ImageNotFound` without a parent. Async form:
        ``rbdpy.aio.AsyncImage.parent_info``.
        """
        return self._portal.run(self._async.parent_info)

    @requires_not_closed
    def parent_id(self):
        """Return the image id of a clone's parent (str).

        Raises :class:`ImageNotFound` without a parent. Async form:
        ``rbdpy.aio.AsyncImage.parent_id``.
        """
        return self._portal.run(self._async.parent_id)

    @requires_not_closed
    def migration_source_spec(self):
        """Return the source spec (dict) of an image that is the target of a live migration:
        ``image_id``, ``image_name``, ``pool_id``, ``pool_namespace``, ``type`` (``native``).

        Raises :class:`InvalidArgument` for an image that is not a migration destination.
        Async form: ``rbdpy.aio.AsyncImage.migration_source_spec``.
        """
        return self._portal.run(self._async.migration_source_spec)

    @requires_not_closed
    def old_format(self):
        """Return whether the image is in the old (format 1) layout (a ``<name>.rbd`` header,
        ``rb.*`` data objects). Async form: ``rbdpy.aio.AsyncImage.old_format``.
        """
        return self._portal.run(self._async.old_format)

    @requires_not_closed
    def size(self):
        """Return the size in bytes of the image, or of the snapshot currently set.

        Re-reads the header first if another client announced a change. Async form:
        ``rbdpy.aio.AsyncImage.size``.
        """
        return self._portal.run(self._async.size)

    @requires_not_closed
    def features(self):
        """Return the image's ``RBD_FEATURE_*`` bitmask. Async form:
        ``rbdpy.aio.AsyncImage.features``.
        """
        return self._portal.run(self._async.features)

    @requires_not_closed
    def update_features(self, features, enabled):
        """Turn the features in the ``features`` bitmask on (``enabled=True``) or off.

        Only features librbd lets change after creation qualify (exclusive-lock, object-map,
        fast-diff, journaling; a few more may only be disabled); object-map and fast-diff follow
        each other where librbd requires it. Raises :class:`InvalidArgument` for a feature that
        cannot change, is already in the asked state, or whose dependencies are missing,
        :class:`OperationNotSupported` for journaling (not implemented in rbdpy) and
        :class:`ReadOnlyImage` on a read-only open or at a snapshot. Async form:
        ``rbdpy.aio.AsyncImage.update_features``.
        """
        return self._portal.run(self._async.update_features, features, enabled)

    @requires_not_closed
    def op_features(self):
        """Return the image's ``RBD_OPERATION_FEATURE_*`` bitmask. Async form:
        ``rbdpy.aio.AsyncImage.op_features``.
        """
        return self._portal.run(self._async.op_features)

    @requires_not_closed
    def overlap(self):
        """Return how many bytes of a clone (at the snapshot set, if any) still map to its
        parent; 0 for an image without a parent, as python-rbd answers.

        Async form: ``rbdpy.aio.AsyncImage.overlap``.
        """
        return self._portal.run(self._async.overlap)

    @requires_not_closed
    def flags(self):
        """Return the image's ``RBD_FLAG_*`` bitmask (e.g. an invalid object map).

        Async form: ``rbdpy.aio.AsyncImage.flags``.
        """
        return self._portal.run(self._async.flags)

    @requires_not_closed
    def group(self):
        """Return the group the image belongs to, as a dict with ``pool`` (id) and ``name``
        (``{"pool": -1, "name": ""}`` when it is in none). Async form:
        ``rbdpy.aio.AsyncImage.group``.
        """
        return self._portal.run(self._async.group)

    @requires_not_closed
    def is_exclusive_lock_owner(self):
        """Return True while this open image holds the image's exclusive lock.

        Async form: ``rbdpy.aio.AsyncImage.is_exclusive_lock_owner``.
        """
        return self._portal.run(self._async.is_exclusive_lock_owner)

    @requires_not_closed
    def copy(
        self,
        dest_ioctx,
        dest_name,
        features=None,
        order=None,
        stripe_unit=None,
        stripe_count=None,
        data_pool=None,
    ):
        """Create the image ``dest_name`` in ``dest_ioctx``'s pool holding a copy of this one.

        The copy has this image's size (at the current snapshot, if one is set), its data and its
        metadata. ``features``, ``order``, ``stripe_unit``, ``stripe_count`` and ``data_pool``
        default to this image's layout. Snapshots are not copied (see :meth:`deep_copy`). Raises
        :class:`ImageExists` if the name is taken, :class:`InvalidArgument` for a bad name or
        layout. Async form: ``rbdpy.aio.AsyncImage.copy``.
        """
        _, dest_aio = _ioctx_async(dest_ioctx)
        return self._portal.run(self._async.copy, dest_aio, dest_name, features, order,
                                stripe_unit, stripe_count, data_pool)

    @requires_not_closed
    def deep_copy(
        self,
        dest_ioctx,
        dest_name,
        features=None,
        order=None,
        stripe_unit=None,
        stripe_count=None,
        data_pool=None,
    ):
        """Copy the image together with its snapshots to ``dest_name`` in ``dest_ioctx``'s pool.

        The copy gets every user snapshot up to the current one (names, sizes, protection and
        the data of each, sharing unchanged objects between snapshots as the source does),
        then HEAD (the current snapshot's data if one is set), and the metadata. ``order``,
        ``stripe_unit``, ``stripe_count`` and ``features`` default to this image's;
        ``data_pool`` defaults to the destination pool's default, not this image's data pool.
        A clone's copy is a clone of the same parent snapshot (in the destination pool's
        ``rbd_default_clone_format``), each snapshot keeping its parent overlap.
        Raises :class:`ImageExists` if the name is taken, :class:`InvalidArgument` for a bad
        name or layout (or a flattened clone whose snapshots still use the parent, as
        librbd); ``NotImplementedError`` for a clone copied into another layout, or one
        librbd would copy wrongly (see rbdpy.librbd.deep_copy). Async form:
        ``rbdpy.aio.AsyncImage.deep_copy``.
        """
        _, dest_aio = _ioctx_async(dest_ioctx)
        return self._portal.run(self._async.deep_copy, dest_aio, dest_name, features, order,
                                stripe_unit, stripe_count, data_pool)

    @requires_not_closed
    def list_snaps(self):
        """Return a :class:`SnapIterator` over the image's snapshots."""
        return SnapIterator(self)

    @requires_not_closed
    def create_snap(self, name, flags=0):
        """Take a snapshot called ``name`` of the image's current contents.

        ``flags`` accepts the ``RBD_SNAP_CREATE_*`` values; rbdpy sends no quiesce requests to
        other watchers, so they change nothing. Raises :class:`ImageExists` if the name is taken
        and :class:`ReadOnlyImage` on a read-only open. Async form:
        ``rbdpy.aio.AsyncImage.create_snap``.
        """
        return self._portal.run(self._async.create_snap, name, flags)

    @requires_not_closed
    def rename_snap(self, srcname, dstname):
        """Give the snapshot ``srcname`` the new name ``dstname``.

        Raises :class:`ImageNotFound` if ``srcname`` does not exist and :class:`ImageExists` if
        ``dstname`` does. Async form: ``rbdpy.aio.AsyncImage.rename_snap``.
        """
        return self._portal.run(self._async.rename_snap, srcname, dstname)

    @requires_not_closed
    def remove_snap(self, name):
        """Delete the snapshot ``name``.

        A snapshot that clone-v2 children still use is not deleted but moved to the trash
        snapshot namespace (listed with ``namespace`` 2 under a generated name); it goes when
        its last child is removed or flattened. Raises :class:`ImageNotFound` if there is no
        such snapshot, :class:`ImageBusy` if it is protected, :class:`ReadOnlyImage` on a
        read-only open. Async form:
        ``rbdpy.aio.AsyncImage.remove_snap``.
        """
        return self._portal.run(self._async.remove_snap, name)

    @requires_not_closed
    def remove_snap2(self, name, flags):
        """Delete the snapshot ``name``, with ``RBD_SNAP_REMOVE_*`` ``flags``.

        ``RBD_SNAP_REMOVE_FLATTEN`` first flattens every clone of the snapshot (raising
        :class:`ImageBusy` for a clone that has snapshots and no deep-flatten);
        ``RBD_SNAP_REMOVE_UNPROTECT`` then unprotects a protected snapshot
        (``RBD_SNAP_REMOVE_FORCE`` is both). Otherwise as :meth:`remove_snap`. Async form:
        ``rbdpy.aio.AsyncImage.remove_snap2``.
        """
        return self._portal.run(self._async.remove_snap2, name, flags)

    @requires_not_closed
    def remove_snap_by_id(self, snap_id):
        """Delete the snapshot whose id is ``snap_id``; errors as :meth:`remove_snap`.

        Async form: ``rbdpy.aio.AsyncImage.remove_snap_by_id``.
        """
        return self._portal.run(self._async.remove_snap_by_id, snap_id)

    @requires_not_closed
    def rollback_to_snap(self, name):
        """Make the image's contents those of the snapshot ``name`` again.

        Every data object is rolled back, so this takes time proportional to the image size.
        Raises :class:`ImageNotFound` for an unknown snapshot and :class:`ReadOnlyImage` on a
        read-only open or while a snapshot is set. Async form:
        ``rbdpy.aio.AsyncImage.rollback_to_snap``.
        """
        return self._portal.run(self._async.rollback_to_snap, name)

    @requires_not_closed
    def protect_snap(self, name):
        """Protect the snapshot ``name``: it can then not be removed (and may be cloned).

        Raises :class:`ImageNotFound` for an unknown snapshot, :class:`ImageBusy` if it is
        already protected and :class:`FunctionNotSupported` if the image lacks the layering
        feature. Async form: ``rbdpy.aio.AsyncImage.protect_snap``.
        """
        return self._portal.run(self._async.protect_snap, name)

    @requires_not_closed
    def unprotect_snap(self, name):
        """Lift the protection of the snapshot ``name`` so that it can be removed.

        Raises :class:`ImageNotFound` for an unknown snapshot, :class:`InvalidArgument` if it is
        not protected and :class:`ImageBusy` while clones of it exist. Async form:
        ``rbdpy.aio.AsyncImage.unprotect_snap``.
        """
        return self._portal.run(self._async.unprotect_snap, name)

    @requires_not_closed
    def is_protected_snap(self, name):
        """Return whether the snapshot ``name`` is protected.

        Raises :class:`ImageNotFound` for an unknown snapshot. Async form:
        ``rbdpy.aio.AsyncImage.is_protected_snap``.
        """
        return self._portal.run(self._async.is_protected_snap, name)

    @requires_not_closed
    def snap_exists(self, name):
        """Return whether the image has a snapshot called ``name``.

        Async form: ``rbdpy.aio.AsyncImage.snap_exists``.
        """
        return self._portal.run(self._async.snap_exists, name)

    @requires_not_closed
    def get_snap_limit(self):
        """Return the most snapshots this image may have (``2**64 - 1`` when unlimited).

        Async form: ``rbdpy.aio.AsyncImage.get_snap_limit``.
        """
        return self._portal.run(self._async.get_snap_limit)

    @requires_not_closed
    def set_snap_limit(self, limit):
        """Allow at most ``limit`` snapshots on this image.

        The cluster refuses a limit below the current number of snapshots. Async form:
        ``rbdpy.aio.AsyncImage.set_snap_limit``.
        """
        return self._portal.run(self._async.set_snap_limit, limit)

    @requires_not_closed
    def get_snap_timestamp(self, snap_id):
        """Return when the snapshot ``snap_id`` was taken, as a naive UTC ``datetime``.

        Raises :class:`ImageNotFound` for an unknown id. Async form:
        ``rbdpy.aio.AsyncImage.get_snap_timestamp``.
        """
        return self._portal.run(self._async.get_snap_timestamp, snap_id)

    @requires_not_closed
    def remove_snap_limit(self):
        """Drop the snapshot limit (sets it to the largest value).

        Async form: ``rbdpy.aio.AsyncImage.remove_snap_limit``.
        """
        return self._portal.run(self._async.remove_snap_limit)

    @requires_not_closed
    def set_snap(self, name):
        """Read from the snapshot ``name`` from now on; ``None`` goes back to the image itself.

        While a snapshot is set, I/O writes raise :class:`ReadOnlyImage` and the exclusive lock is
        released. Raises :class:`ImageNotFound` for an unknown snapshot. Async form:
        ``rbdpy.aio.AsyncImage.set_snap``.
        """
        return self._portal.run(self._async.set_snap, name)

    @requires_not_closed
    def set_snap_by_id(self, snap_id):
        """Like :meth:`set_snap`, selecting the snapshot by its id (``None``: the image itself).

        Async form: ``rbdpy.aio.AsyncImage.set_snap_by_id``.
        """
        return self._portal.run(self._async.set_snap_by_id, snap_id)

    @requires_not_closed
    def snap_get_name(self, snap_id):
        """Return the name of the snapshot whose id is ``snap_id``.

        Raises :class:`ImageNotFound` for an unknown id. Async form:
        ``rbdpy.aio.AsyncImage.snap_get_name``.
        """
        return self._portal.run(self._async.snap_get_name, snap_id)

    @requires_not_closed
    def snap_get_id(self, snap_name):
        """Return the id of the snapshot called ``snap_name``.

        Raises :class:`ImageNotFound` for an unknown name. Async form:
        ``rbdpy.aio.AsyncImage.snap_get_id``.
        """
        return self._portal.run(self._async.snap_get_id, snap_name)

    @requires_not_closed
    def read(self, offset, length, fadvise_flags=0):
        """Return ``length`` bytes read at byte ``offset`` of the image (or of the snapshot set).

        A range running past the end comes back shortened; an ``offset`` at or beyond the end
        raises :class:`InvalidArgument` (unless ``length`` is 0). Unwritten areas read as zeros.
        ``fadvise_flags`` are passed to the OSDs as hints. Async form:
        ``rbdpy.aio.AsyncImage.read``; see also :meth:`aio_read`.
        """
        return self._portal.run(self._async.read, offset, length, fadvise_flags)

    @requires_not_closed
    def diff_iterate(
        self, offset, length, from_snapshot, iterate_cb, include_parent=True, whole_object=False
    ):
        """Report which parts of ``offset .. offset+length`` changed, by calling
        ``iterate_cb(offset, length, exists)`` for each changed extent.

        ``exists`` is False where the extent now reads as zeros. Changes are counted since the
        snapshot ``from_snapshot``, or since the image was created if it is None, up to the
        snapshot currently set (or the image itself). ``whole_object=True`` reports whole objects
        (faster with fast-diff). With ``include_parent`` (the default), a diff of a clone since
        its creation also reports the parent's data the clone shows (below the overlap, where
        the clone has no data of its own). The extents are computed first, then the callback
        runs on the calling thread: an exception it raises stops the iteration and propagates.

        Raises :class:`ImageNotFound` if ``from_snapshot`` does not exist and
        :class:`InvalidArgument` if it is newer than the snapshot set. Async forms:
        ``rbdpy.aio.AsyncImage.diff_iterate`` and ``rbdpy.aio.AsyncImage.diff_extents`` (a list).
        """
        # The extents are computed on the event loop, the callback runs here, on the
        # caller's thread: it may raise (propagated, as python-rbd does) or call the
        # blocking API.
        extents = self._portal.run(self._async.diff_extents, offset, length, from_snapshot,
                                   include_parent, whole_object)
        for extent_offset, extent_length, exists in extents:
            iterate_cb(extent_offset, extent_length, exists)

    @requires_not_closed
    def write(self, data, offset, fadvise_flags=0):
        """Write the bytes-like ``data`` at byte ``offset``; return the number of bytes written.

        An ``offset`` at or beyond the end of the image raises :class:`InvalidArgument`; a write
        that runs past the end stores what fits and raises :class:`IncompleteWriteError`. Raises
        :class:`ReadOnlyImage` on a read-only open or while a snapshot is set, ``TypeError`` if
        ``data`` is not bytes-like. Takes the exclusive lock first when the image has that
        feature. Async form: ``rbdpy.aio.AsyncImage.write``; see also :meth:`aio_write`.
        """
        return self._portal.run(self._async.write, data, offset, fadvise_flags)

    @requires_not_closed
    def discard(self, offset, length):
        """Deallocate ``length`` bytes at ``offset``; the range then reads as zeros.

        Whole objects are deleted, partial ones truncated or zeroed; very small pieces at the
        edges may be left as they are. Range and read-only errors as :meth:`write`. Async form:
        ``rbdpy.aio.AsyncImage.discard``.
        """
        return self._portal.run(self._async.discard, offset, length)

    @requires_not_closed
    def write_zeroes(self, offset, length, zero_flags=0):
        """Make ``length`` bytes at ``offset`` read as zeros.

        By default space is released where whole objects are covered and the rest is zeroed in
        place. ``zero_flags=RBD_WRITE_ZEROES_FLAG_THICK_PROVISION`` writes real zeros instead;
        other flags raise :class:`InvalidArgument`. Range and read-only errors as :meth:`write`.
        Async form: ``rbdpy.aio.AsyncImage.write_zeroes``.
        """
        return self._portal.run(self._async.write_zeroes, offset, length, zero_flags)

    @requires_not_closed
    def flush(self):
        """Return once every write issued so far has completed.

        rbdpy keeps no write-back cache: each write is acknowledged when the OSDs commit it, so
        this only waits for writes still in flight. Async form: ``rbdpy.aio.AsyncImage.flush``.
        """
        return self._portal.run(self._async.flush)

    @requires_not_closed
    def invalidate_cache(self):
        """Drop cached image data: a no-op, since rbdpy keeps no client-side cache."""
        return None  # no client-side cache

    @requires_not_closed
    def stripe_unit(self):
        """Return the image's stripe unit in bytes. Async form:
        ``rbdpy.aio.AsyncImage.stripe_unit``.
        """
        return self._portal.run(self._async.stripe_unit)

    @requires_not_closed
    def stripe_count(self):
        """Return over how many objects the image stripes. Async form:
        ``rbdpy.aio.AsyncImage.stripe_count``.
        """
        return self._portal.run(self._async.stripe_count)

    @requires_not_closed
    def create_timestamp(self):
        """Return when the image was created (naive UTC ``datetime``).

        Async form: ``rbdpy.aio.AsyncImage.create_timestamp``.
        """
        return self._portal.run(self._async.create_timestamp)

    @requires_not_closed
    def access_timestamp(self):
        """Return the image's last-access time as recorded in its header (naive UTC ``datetime``).

        Async form: ``rbdpy.aio.AsyncImage.access_timestamp``.
        """
        return self._portal.run(self._async.access_timestamp)

    @requires_not_closed
    def modify_timestamp(self):
        """Return the image's last-modification time as recorded in its header (naive UTC
        ``datetime``). Async form: ``rbdpy.aio.AsyncImage.modify_timestamp``.
        """
        return self._portal.run(self._async.modify_timestamp)

    @requires_not_closed
    def flatten(self, on_progress=None):
        """Copy into a clone all data it still reads from its parent, then detach it.

        ``on_progress(done, total)``, if given, is called on the calling thread as objects
        are done. Raises :class:`InvalidArgument` for an image without a parent and
        :class:`ReadOnlyImage` for a read-only or snapshot open. Async form:
        ``rbdpy.aio.AsyncImage.flatten``.
        """
        if on_progress is None:
            return self._portal.run(self._async.flatten)
        return _run_with_progress(self._portal, self._async.flatten, on_progress)

    @requires_not_closed
    def sparsify(self, sparse_size):
        """Free the space of zero-filled runs of at least ``sparse_size`` bytes inside the image's
        objects.

        ``sparse_size`` must be a power of two from 4096 up to the object size, else
        :class:`InvalidArgument`; :class:`ReadOnlyImage` on a read-only open or at a snapshot.
        Async form: ``rbdpy.aio.AsyncImage.sparsify``.
        """
        return self._portal.run(self._async.sparsify, sparse_size)

    @requires_not_closed
    def rebuild_object_map(self):
        """Recompute the object map from the data objects that exist, and clear its invalid flag.

        Raises :class:`InvalidArgument` if the image has no object-map feature and
        :class:`OperationNotSupported` while a snapshot is set (rebuilding a snapshot's map is not
        implemented in rbdpy). Async form: ``rbdpy.aio.AsyncImage.rebuild_object_map``.
        """
        return self._portal.run(self._async.rebuild_object_map)

    @requires_not_closed
    def list_children(self):
        """Return ``(pool name, image name)`` for each clone of the snapshot currently set (of
        every snapshot when none is set), sorted; clones in the trash are left out.

        Clone v2 children are read from this image's header, clone v1 children from the
        ``rbd_children`` object of every pool. Async form:
        ``rbdpy.aio.AsyncImage.list_children``.
        """
        return self._portal.run(self._async.list_children)

    @requires_not_closed
    def list_children2(self):
        """Return a :class:`ChildIterator` over the clones of the image or of its current
        snapshot (trashed clones included, with ``trash=True``).
        """
        return ChildIterator(self)

    @requires_not_closed
    def list_descendants(self):
        """Return a :class:`ChildIterator` over the clones of the image and their clones, at any
        depth.
        """
        return ChildIterator(self, descendants=True)

    @requires_not_closed
    def list_lockers(self):
        """Return who holds advisory locks (see :meth:`lock_exclusive`) on the image.

        An empty list if nobody does, else a dict: ``tag`` (shared by every holder),
        ``exclusive`` (bool) and ``lockers``, holding one ``(client, cookie, address)`` tuple per
        holder. Async form: ``rbdpy.aio.AsyncImage.list_lockers``.
        """
        return self._portal.run(self._async.list_lockers)

    @requires_not_closed
    def lock_acquire(self, lock_mode):
        """Take the image's exclusive (managed) lock and keep it until :meth:`lock_release`.

        Only ``RBD_LOCK_MODE_EXCLUSIVE`` is supported (other modes raise
        :class:`OperationNotSupported`). From then on this image no longer hands the lock to
        other clients that ask for it, and does not take it back by itself once released. A lock
        held by a live client is not requested: that raises :class:`ReadOnlyImage`; a dead
        holder's lock is broken. Raises :class:`InvalidArgument` without the exclusive-lock
        feature and :class:`ReadOnlyImage` on a read-only open. Async form:
        ``rbdpy.aio.AsyncImage.lock_acquire``.
        """
        return self._portal.run(self._async.lock_acquire, lock_mode)

    @requires_not_closed
    def lock_release(self):
        """Give back the exclusive lock taken by :meth:`lock_acquire`, after in-flight writes.

        Raises :class:`InvalidArgument` if this image does not hold it. Async form:
        ``rbdpy.aio.AsyncImage.lock_release``.
        """
        return self._portal.run(self._async.lock_release)

    @requires_not_closed
    def lock_get_owners(self):
        """Return a :class:`LockOwnerIterator` naming who holds the exclusive lock."""
        return LockOwnerIterator(self)

    @requires_not_closed
    def lock_break(self, lock_mode, lock_owner):
        """Break the exclusive lock held by another client, whose address ``lock_owner`` is as
        :meth:`lock_get_owners` reports it.

        The holder is blocklisted first so that it cannot write afterwards. Only
        ``RBD_LOCK_MODE_EXCLUSIVE`` is supported (:class:`OperationNotSupported` otherwise).
        Raises :class:`ImageBusy` if ``lock_owner`` is not the holder or this image holds the
        lock itself, :class:`ImageNotFound` if nobody holds it. Async form:
        ``rbdpy.aio.AsyncImage.lock_break``.
        """
        return self._portal.run(self._async.lock_break, lock_mode, lock_owner)

    @requires_not_closed
    def lock_exclusive(self, cookie):
        """Take an advisory exclusive lock on the image under ``cookie``.

        Advisory locks are separate from the exclusive lock that guards writes, though they keep
        it from being taken. Raises :class:`ImageBusy` if another client or cookie holds a lock
        (or this image holds the exclusive lock) and :class:`ImageExists` if this client already
        holds it under ``cookie``. Async form: ``rbdpy.aio.AsyncImage.lock_exclusive``.
        """
        return self._portal.run(self._async.lock_exclusive, cookie)

    @requires_not_closed
    def lock_shared(self, cookie, tag):
        """Take an advisory shared lock under ``cookie``; every holder must use the same ``tag``.

        Errors as :meth:`lock_exclusive`. Async form: ``rbdpy.aio.AsyncImage.lock_shared``.
        """
        return self._portal.run(self._async.lock_shared, cookie, tag)

    @requires_not_closed
    def unlock(self, cookie):
        """Release the advisory lock this client holds under ``cookie``.

        Raises :class:`ImageNotFound` if there is no such lock. Async form:
        ``rbdpy.aio.AsyncImage.unlock``.
        """
        return self._portal.run(self._async.unlock, cookie)

    @requires_not_closed
    def break_lock(self, client, cookie):
        """Remove the advisory lock held by another client (``client`` as ``"client.<id>"``, with
        its ``cookie``), blocklisting that client first.

        Raises :class:`ImageNotFound` if that client holds no such lock and
        :class:`InvalidArgument` for a malformed client name. Async form:
        ``rbdpy.aio.AsyncImage.break_lock``.
        """
        return self._portal.run(self._async.break_lock, client, cookie)

    @requires_not_closed
    def mirror_image_enable(self, mode=RBD_MIRROR_IMAGE_MODE_JOURNAL):
        """Start mirroring the image, in ``RBD_MIRROR_IMAGE_MODE_*`` ``mode``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_enable", "RBD mirroring")

    @requires_not_closed
    def mirror_image_disable(self, force):
        """Stop mirroring the image (``force`` even if the peer cannot be told).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_disable", "RBD mirroring")

    @requires_not_closed
    def mirror_image_promote(self, force):
        """Make this copy of a mirrored image the primary one (``force`` even if the peer is
        unreachable).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_promote", "RBD mirroring")

    @requires_not_closed
    def mirror_image_demote(self):
        """Make this copy of a mirrored image non-primary.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_demote", "RBD mirroring")

    @requires_not_closed
    def mirror_image_resync(self):
        """Ask for this non-primary mirrored image to be copied again from the primary.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_resync", "RBD mirroring")

    @requires_not_closed
    def mirror_image_create_snapshot(self, flags=0):
        """Take a mirror snapshot (snapshot-based mirroring) and return its id.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_create_snapshot", "RBD mirroring")

    @requires_not_closed
    def aio_mirror_image_create_snapshot(self, flags, oncomplete):
        """Start :meth:`mirror_image_create_snapshot`; ``oncomplete(completion, snap_id)`` gets the
        id.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.aio_mirror_image_create_snapshot", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_info(self):
        """Return the image's mirroring info: a dict with ``global_id`` (str), ``state`` (int) and
        ``primary`` (bool).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_get_info", "RBD mirroring")

    @requires_not_closed
    def aio_mirror_image_get_info(self, oncomplete):
        """Start :meth:`mirror_image_get_info`; ``oncomplete(completion, info)`` gets the dict.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.aio_mirror_image_get_info", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_mode(self):
        """Return the image's ``RBD_MIRROR_IMAGE_MODE_*``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_get_mode", "RBD mirroring")

    @requires_not_closed
    def aio_mirror_image_get_mode(self, oncomplete):
        """Start :meth:`mirror_image_get_mode`; ``oncomplete(completion, mode)`` gets the mode.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.aio_mirror_image_get_mode", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_status(self):
        """Return the image's mirroring status, a dict shaped like the items of
        :class:`MirrorImageStatusIterator`.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_get_status", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_instance_id(self):
        """Return the id of the rbd-mirror instance replaying this image (str).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("Image.mirror_image_get_instance_id", "RBD mirroring")

    @requires_not_closed
    def aio_read(self, offset, length, oncomplete, fadvise_flags=0):
        """Start reading ``length`` bytes at ``offset``; return a :class:`Completion` at once.

        ``oncomplete(completion, data)`` is called on the portal's finisher thread with the bytes,
        or with ``None`` if the read failed; the completion's return value is the byte count or a
        negative errno (range rules as :meth:`read`). A negative or non-integer ``offset`` or
        ``length`` raises ``OverflowError``/``TypeError`` right away. The completion keeps only the
        return value, not the data. Async form: ``rbdpy.aio.AsyncImage.read``.
        """
        offset, length = _as_uint64(offset), _as_uint64(length)
        return _image_aio(self, self._async.read, (offset, length, fadvise_flags), oncomplete,
                          with_data=True)

    @requires_not_closed
    def aio_write(self, data, offset, oncomplete, fadvise_flags=0):
        """Start writing ``data`` at ``offset``; return a :class:`Completion` at once.

        ``oncomplete(completion)`` is called on the portal's finisher thread; the return value is
        0 or a negative errno (errors as :meth:`write`). Non-bytes ``data`` raises ``TypeError``
        right away. Async form: ``rbdpy.aio.AsyncImage.write``.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"expected bytes, {type(data).__name__} found")
        return _image_aio(self, self._async.write, (data, _as_uint64(offset), fadvise_flags),
                          oncomplete)

    @requires_not_closed
    def aio_discard(self, offset, length, oncomplete):
        """Start :meth:`discard` of ``length`` bytes at ``offset``; return a :class:`Completion`.

        ``oncomplete(completion)`` runs on the portal's finisher thread; the return value is 0 or
        a negative errno. Async form: ``rbdpy.aio.AsyncImage.discard``.
        """
        return _image_aio(self, self._async.discard, (_as_uint64(offset), _as_uint64(length)),
                          oncomplete)

    @requires_not_closed
    def aio_write_zeroes(self, offset, length, oncomplete, zero_flags=0):
        """Start :meth:`write_zeroes` on ``length`` bytes at ``offset``; return a Completion.

        ``oncomplete(completion)`` runs on the portal's finisher thread; the return value is 0 or
        a negative errno. Async form: ``rbdpy.aio.AsyncImage.write_zeroes``.
        """
        return _image_aio(self, self._async.write_zeroes,
                          (_as_uint64(offset), _as_uint64(length), zero_flags), oncomplete)

    @requires_not_closed
    def aio_flush(self, oncomplete):
        """Start :meth:`flush`; return a :class:`Completion` that ends once earlier writes have.

        ``oncomplete(completion)`` runs on the portal's finisher thread. Async form:
        ``rbdpy.aio.AsyncImage.flush``.
        """
        return _image_aio(self, self._async.flush, (), oncomplete)

    @requires_not_closed
    def metadata_get(self, key):
        """Return the image metadata value stored under ``key`` (str).

        Raises ``KeyError`` if the key is not set. Async form:
        ``rbdpy.aio.AsyncImage.metadata_get``.
        """
        return self._portal.run(self._async.metadata_get, key)

    @requires_not_closed
    def metadata_set(self, key, value):
        """Store ``value`` under ``key`` in the image's metadata, replacing any previous value.

        Keys starting with ``conf_`` are configuration overrides: an unknown option or a bad
        value raises :class:`InvalidArgument`. Async form: ``rbdpy.aio.AsyncImage.metadata_set``.
        """
        return self._portal.run(self._async.metadata_set, key, value)

    @requires_not_closed
    def metadata_remove(self, key):
        """Delete ``key`` from the image's metadata.

        Raises ``KeyError`` if the key is not set. Async form:
        ``rbdpy.aio.AsyncImage.metadata_remove``.
        """
        return self._portal.run(self._async.metadata_remove, key)

    @requires_not_closed
    def metadata_list(self):
        """Return a :class:`MetadataIterator` over the image's ``(key, value)`` metadata."""
        return MetadataIterator(self)

    @requires_not_closed
    def watchers_list(self):
        """Return a :class:`WatcherIterator` over the clients watching the image's header."""
        return WatcherIterator(self)

    @requires_not_closed
    def config_list(self):
        """Return a :class:`ConfigImageIterator`: every option and its value for this image."""
        return ConfigImageIterator(self)

    @requires_not_closed
    def config_set(self, key, value):
        """Override the librbd option ``key`` with ``value`` for this image only.

        The override is stored in the image metadata as ``conf_<key>``. An option that cannot be
        set per image, or an invalid value, raises :class:`InvalidArgument`. Async form:
        ``rbdpy.aio.AsyncImage.config_set``.
        """
        return self._portal.run(self._async.config_set, key, value)

    @requires_not_closed
    def config_get(self, key):
        """Return this image's own override of the option ``key`` (str).

        Raises ``KeyError`` if the image does not override it. Async form:
        ``rbdpy.aio.AsyncImage.config_get``.
        """
        return self._portal.run(self._async.config_get, key)

    @requires_not_closed
    def config_remove(self, key):
        """Drop this image's override of the option ``key``.

        Raises ``KeyError`` if the image does not override it. Async form:
        ``rbdpy.aio.AsyncImage.config_remove``.
        """
        return self._portal.run(self._async.config_remove, key)

    @requires_not_closed
    def snap_get_namespace_type(self, snap_id):
        """Return the ``RBD_SNAP_NAMESPACE_TYPE_*`` of the snapshot ``snap_id`` (user, group,
        trash or mirror). Raises :class:`ImageNotFound` for an unknown id. Async form:
        ``rbdpy.aio.AsyncImage.snap_get_namespace_type``.
        """
        return self._portal.run(self._async.snap_get_namespace_type, snap_id)

    @requires_not_closed
    def snap_get_group_namespace(self, snap_id):
        """For a snapshot taken as part of a group snapshot, return a dict with ``pool`` (the
        group's pool id), ``name`` (the group) and ``snap_name`` (the group snapshot).

        Raises :class:`InvalidArgument` if ``snap_id`` is not such a snapshot and
        :class:`ImageNotFound` for an unknown id. Async form:
        ``rbdpy.aio.AsyncImage.snap_get_group_namespace``.
        """
        return self._portal.run(self._async.snap_get_group_namespace, snap_id)

    @requires_not_closed
    def snap_get_trash_namespace(self, snap_id):
        """For a snapshot moved to the snapshot trash, return a dict with ``original_name``.

        Raises :class:`InvalidArgument` if ``snap_id`` is not such a snapshot and
        :class:`ImageNotFound` for an unknown id. Async form:
        ``rbdpy.aio.AsyncImage.snap_get_trash_namespace``.
        """
        return self._portal.run(self._async.snap_get_trash_namespace, snap_id)

    @requires_not_closed
    def snap_get_mirror_namespace(self, snap_id):
        """For a mirror snapshot, return a dict with ``state`` (``RBD_SNAP_MIRROR_STATE_*``),
        ``mirror_peer_uuids`` (list), ``complete`` (bool), ``primary_mirror_uuid``,
        ``primary_snap_id`` and ``last_copied_object_number``.

        Raises :class:`InvalidArgument` if ``snap_id`` is not a mirror snapshot and
        :class:`ImageNotFound` for an unknown id. Async form:
        ``rbdpy.aio.AsyncImage.snap_get_mirror_namespace``.
        """
        return self._portal.run(self._async.snap_get_mirror_namespace, snap_id)

    @requires_not_closed
    def encryption_format(self, format, passphrase, cipher_alg=RBD_ENCRYPTION_ALGORITHM_AES256):
        """Format the image for encryption (``RBD_ENCRYPTION_FORMAT_LUKS1``/``LUKS2``) with
        ``passphrase`` and cipher ``cipher_alg``.

        Not implemented in rbdpy yet (encryption): raises ``NotImplementedError``.
        """
        raise _nie("Image.encryption_format", "image encryption")

    @requires_not_closed
    def encryption_load(self, format, passphrase):
        """Unlock an encrypted image with ``passphrase`` so that I/O is decrypted.

        Not implemented in rbdpy yet (encryption): raises ``NotImplementedError``.
        """
        raise _nie("Image.encryption_load", "image encryption")


class ImageIterator:
    """The images of the ioctx's pool (and namespace): dicts with ``id`` and ``name`` (str),
    sorted by name.

    The pool directory is read in full when the iterator is built
    (:meth:`rbdpy.aio.AsyncRBD.list2`).
    """

    def __iter__(self):
        yield from self._images

    def __init__(self, ioctx):
        portal, aio = _ioctx_async(ioctx)
        self.ioctx = ioctx
        self._images = portal.run(AsyncRBD().list2, aio)


class LockOwnerIterator:
    """Owners of an image's exclusive (managed) lock: dicts with ``mode``
    (``RBD_LOCK_MODE_EXCLUSIVE``) and ``owner`` (the holder's address, str).

    Empty when nobody holds the lock. Read when the iterator is built
    (:meth:`rbdpy.aio.AsyncImage.lock_get_owners`); raises :class:`InvalidArgument` if the
    image lacks the exclusive-lock feature.
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, image):
        self.image = image
        self._items = image._portal.run(image._async.lock_get_owners)


class MetadataIterator:
    """An image's metadata as ``(key, value)`` string pairs, in key order.

    All pairs are fetched, page by page, when the iterator is built
    (:meth:`rbdpy.aio.AsyncImage.metadata_list`).
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, image):
        self.image = image
        self._items = image._portal.run(image._async.metadata_list)

    def get_next_chunk(self):
        # The whole list is fetched up front (in pages) by __init__.
        return None


class MirrorImageInfoIterator:
    """Mirroring info of a pool's images as ``(image_id, info)`` pairs, optionally only those in
    mirror mode ``mode_filter``.

    Not implemented in rbdpy yet (mirroring): constructing one raises ``NotImplementedError``.
    """

    def __iter__(self):
        raise _nie("MirrorImageInfoIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx, mode_filter):
        raise _nie("MirrorImageInfoIterator.__init__", "RBD mirroring")

    def get_next_chunk(self):
        raise _nie("MirrorImageInfoIterator.get_next_chunk", "RBD mirroring")


class MirrorImageInstanceIdIterator:
    """``(image_id, instance_id)`` pairs: which rbd-mirror instance handles each image of a pool.

    Not implemented in rbdpy yet (mirroring): constructing one raises ``NotImplementedError``.
    """

    def __iter__(self):
        raise _nie("MirrorImageInstanceIdIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx):
        raise _nie("MirrorImageInstanceIdIterator.__init__", "RBD mirroring")

    def get_next_chunk(self):
        raise _nie("MirrorImageInstanceIdIterator.get_next_chunk", "RBD mirroring")


class MirrorImageStatusIterator:
    """Mirroring status of each image of a pool, one dict per image.

    Keys as python-rbd: ``name``, ``id``, ``info`` (dict), ``state``, ``description``,
    ``last_update`` (datetime), ``up`` (bool) and ``remote_statuses``, a list of dicts with
    ``mirror_uuid``, ``state``, ``description``, ``last_update`` and ``up``.

    Not implemented in rbdpy yet (mirroring): constructing one raises ``NotImplementedError``.
    """

    def __iter__(self):
        raise _nie("MirrorImageStatusIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx):
        raise _nie("MirrorImageStatusIterator.__init__", "RBD mirroring")

    def get_next_chunk(self):
        raise _nie("MirrorImageStatusIterator.get_next_chunk", "RBD mirroring")


class MirrorPeerIterator:
    """Mirroring peers of a pool: dicts with ``uuid``, ``direction``
    (``RBD_MIRROR_PEER_DIRECTION_*``), ``site_name``, ``mirror_uuid`` and ``client_name``.

    Not implemented in rbdpy yet (mirroring): constructing one raises ``NotImplementedError``.
    """

    def __iter__(self):
        raise _nie("MirrorPeerIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx):
        raise _nie("MirrorPeerIterator.__init__", "RBD mirroring")


class PoolMetadataIterator:
    """A pool's RBD metadata as ``(key, value)`` string pairs, in key order.

    All pairs are fetched when the iterator is built
    (:meth:`rbdpy.aio.AsyncRBD.pool_metadata_list`).
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, ioctx):
        portal, aio = _ioctx_async(ioctx)
        self._items = portal.run(config.pool_metadata_list, aio)

    def get_next_chunk(self):
        # The whole list is fetched up front (in pages) by __init__.
        return None


class RBD:
    """Pool-level RBD calls: create, list, rename and remove images, pool metadata and
    configuration overrides, pool initialisation, feature-name conversion.

    The object holds no state; each call takes the ``rados.Ioctx`` of the pool (and
    namespace) it works on and runs on that handle's portal. Async form:
    :class:`rbdpy.aio.AsyncRBD`, whose methods take an ``AsyncIoctx``.
    """

    def version(self):
        """Return the librbd version rbdpy reports, as ``(major, minor, extra)``: that of Pacific's
        librbd, ``(1, 16, 0)``. No cluster is involved.
        """
        return _LIBRBD_VERSION

    def create(
        self,
        ioctx,
        name,
        size,
        order=None,
        old_format=False,
        features=None,
        stripe_unit=None,
        stripe_count=None,
        data_pool=None,
    ):
        """Create a format 2 image called ``name`` of ``size`` bytes in ``ioctx``'s pool.

        ``order`` (objects of ``2 ** order`` bytes), ``stripe_unit``, ``stripe_count`` and
        ``data_pool`` (name of a separate pool for the data objects) set the layout; None means
        the client's ``rbd_default_*`` option.

        ``features`` is an ``RBD_FEATURE_*`` bitmask (default: ``rbd_default_features``, limited
        to what the OSDs support); fast-diff follows object-map, and the striping and data-pool
        bits follow the layout. ``old_format=True`` refuses features, striping and a
        data pool, then creates in the client's ``rbd_default_format`` as librbd 16.2 does:
        format 2 by default; format 1 (``<name>.rbd`` header) only when RBD_FORCE_ALLOW_V1
        is set in the environment, :class:`InvalidArgument` otherwise.

        Raises :class:`ImageExists` if the name is taken, :class:`InvalidArgument` for an empty
        or non-string name, a bad layout or incompatible features, :class:`FunctionNotSupported`
        for unknown feature bits, :class:`OperationNotSupported` for journaling (not implemented
        in rbdpy), ``TypeError``/``OverflowError`` for a size that is not a non-negative integer.
        A failed create removes what it had written. Async form: ``rbdpy.aio.AsyncRBD.create``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().create, aio, name, size, order, old_format, features,
                          stripe_unit, stripe_count, data_pool)

    def clone(
        self,
        p_ioctx,
        p_name,
        p_snapname,
        c_ioctx,
        c_name,
        features=None,
        order=None,
        stripe_unit=None,
        stripe_count=None,
        data_pool=None,
    ):
        """Create ``c_name`` in ``c_ioctx``'s pool (and namespace) as a copy-on-write clone of
        the snapshot ``p_snapname`` of ``p_name`` in ``p_ioctx``'s pool (and namespace).

        The clone has the snapshot's size. ``features`` (default: the parent's, less the
        implicit bits), ``order`` and ``stripe_unit``/``stripe_count`` (default: the
        parent's) and ``data_pool`` work as in :meth:`create`; features must include
        layering. The clone format follows the ``rbd_default_clone_format`` option (the
        child pool's config override first): ``1`` needs a protected snapshot and records
        the child in ``rbd_children``; ``2`` needs no protection and records it in the
        parent's header; ``auto`` picks 2 when the cluster requires mimic or newer clients.
        A clone across namespaces needs format 2.

        Raises :class:`ImageNotFound` for an unknown parent or snapshot,
        :class:`ImageExists` if ``c_name`` is taken, :class:`InvalidArgument` for an
        unprotected snapshot with format 1, an empty name or a bad layout,
        :class:`FunctionNotSupported` when the parent or the requested features lack
        layering or name unknown bits, ``OSError`` (errno EXDEV) for a format-1 clone across
        namespaces. Async form: ``rbdpy.aio.AsyncRBD.clone``.
        """
        p_portal, p_aio = _ioctx_async(p_ioctx)
        _, c_aio = _ioctx_async(c_ioctx)
        return p_portal.run(AsyncRBD().clone, p_aio, p_name, p_snapname, c_aio, c_name,
                            features, order, stripe_unit, stripe_count, data_pool)

    def list(self, ioctx):
        """Return the names of the images in ``ioctx``'s pool (and namespace), sorted.

        Async form: ``rbdpy.aio.AsyncRBD.list``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().list, aio)

    def list2(self, ioctx):
        """Return an :class:`ImageIterator` (``id`` and ``name`` of each image) over ``ioctx``'s
        pool.
        """
        return ImageIterator(ioctx)

    def remove(self, ioctx, name, on_progress=None):
        """Delete the image ``name`` from ``ioctx``'s pool with all its data objects.

        As librbd, the image passes through the trash: a failure the caller can fix
        (snapshots, watchers) puts it back; any other failure leaves it half removed --
        :meth:`list` still shows it and another ``remove`` finishes it.
        ``on_progress(done, total)``, if given, is called on the calling thread before each
        data object goes; a negative return value stops the removal with that errno
        (``-errno.ECANCELED``: :class:`OperationCanceled`). Raises :class:`ImageNotFound` if
        there is no such image, :class:`ImageHasSnapshots` while it has snapshots and
        :class:`ImageBusy` while another client has it open (or a crashed client's watch has
        not timed out yet). A clone leaves its parent's children; a clone-v2 parent whose
        removed snapshot still has clones raises :class:`ImageHasSnapshots`, or moves to the
        trash until its last clone goes when ``rbd_move_parent_to_trash_on_remove`` is set.
        Async form: ``rbdpy.aio.AsyncRBD.remove``.
        """
        portal, aio = _ioctx_async(ioctx)
        if on_progress is None:
            return portal.run(AsyncRBD().remove, aio, name)
        return _run_with_checked_progress(portal, AsyncRBD().remove, on_progress, aio, name)

    def rename(self, ioctx, src, dest):
        """Rename the image ``src`` of ``ioctx``'s pool to ``dest``.

        Raises :class:`ImageNotFound` if ``src`` does not exist, :class:`ImageExists` if
        ``dest`` does, :class:`InvalidArgument` for an empty ``dest``. Async form:
        ``rbdpy.aio.AsyncRBD.rename``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().rename, aio, src, dest)

    def trash_move(self, ioctx, name, delay=0):
        """Move the image ``name`` into the pool's (namespace's) trash; it can be removed from
        there only after ``delay`` seconds (unless forced) and restored until then.

        The image keeps its id, header and data; a client that has it open keeps using it
        until it closes it. Raises :class:`ImageNotFound` for an unknown image,
        :class:`ImageBusy` when another client keeps its exclusive lock or it is migrating,
        ``OverflowError``/``TypeError`` for a bad ``delay``. Async form:
        ``rbdpy.aio.AsyncRBD.trash_move``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().trash_move, aio, name, delay)

    def trash_purge(self, ioctx, expire_ts=None, threshold=-1):
        """Remove the trash entries (moved there by a user) whose deferment ended before
        ``expire_ts`` (a naive UTC ``datetime``; default: now). With ``threshold`` (0 to 1)
        and the pool's usage (``ceph df``) above it, every such entry goes, oldest deferment
        first.

        Raises :class:`InvalidArgument` for a threshold outside [0, 1] and the error of the
        last removal that failed when some entries could not go (an image with snapshots or
        still open). Async form: ``rbdpy.aio.AsyncRBD.trash_purge``.
        """
        portal, aio = _ioctx_async(ioctx)
        if expire_ts:
            expire_ts.timetuple()  # python-rbd's AttributeError for a non-datetime
        return portal.run(AsyncRBD().trash_purge, aio, expire_ts, threshold)

    def trash_remove(self, ioctx, image_id, force=False, on_progress=None):
        """Delete the trashed image ``image_id`` and its data.

        Raises :class:`PermissionError` while its deferment has not ended (unless ``force``),
        :class:`ImageNotFound` for an unknown id, :class:`ImageHasSnapshots` and
        :class:`ImageBusy` as :meth:`remove`. ``on_progress(done, total)`` is called on the
        calling thread before each data object goes; returning a negative errno stops the
        removal with that error (``-errno.ECANCELED``: :class:`OperationCanceled`), and the
        entry stays in the trash. Async form: ``rbdpy.aio.AsyncRBD.trash_remove``.
        """
        portal, aio = _ioctx_async(ioctx)
        if on_progress is None:
            return portal.run(AsyncRBD().trash_remove, aio, image_id, force)
        return _run_with_checked_progress(portal, AsyncRBD().trash_remove, on_progress, aio,
                                          image_id, force)

    def trash_get(self, ioctx, image_id):
        """Return the trash entry of ``image_id`` as a dict shaped like :class:`TrashIterator`'s.

        Raises :class:`ImageNotFound` for an id not in the trash. Async form:
        ``rbdpy.aio.AsyncRBD.trash_get``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().trash_get, aio, image_id)

    def trash_list(self, ioctx):
        """Return a :class:`TrashIterator` over the pool's (namespace's) trash."""
        return TrashIterator(ioctx)

    def trash_restore(self, ioctx, image_id, name):
        """Bring the trashed image ``image_id`` back under the name ``name`` (an empty name:
        the one it had).

        Raises :class:`ImageNotFound` for an id not in the trash, :class:`ImageExists` when
        another image has that name. Async form: ``rbdpy.aio.AsyncRBD.trash_restore``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().trash_restore, aio, image_id, name)

    def migration_prepare(
        self,
        ioctx,
        image_name,
        dest_ioctx,
        dest_image_name,
        features=None,
        order=None,
        stripe_unit=None,
        stripe_count=None,
        data_pool=None,
    ):
        """Start a live migration of ``image_name`` to ``dest_image_name`` in ``dest_ioctx``'s pool
        (possibly a new layout, as in :meth:`create`).

        The source goes to the trash (source MIGRATION), the destination is created and
        reads through the source until :meth:`migration_execute` copied everything. Raises
        :class:`ImageBusy` while the image is open elsewhere or already migrating, and
        ``NotImplementedError`` for images rbdpy cannot migrate yet (with snapshots, clones,
        in a group). Async form: ``rbdpy.aio.AsyncRBD.migration_prepare``.
        """
        portal, aio = _ioctx_async(ioctx)
        _, dest_aio = _ioctx_async(dest_ioctx)
        return portal.run(AsyncRBD().migration_prepare, aio, image_name, dest_aio,
                          dest_image_name, features, order, stripe_unit, stripe_count,
                          data_pool)

    def migration_prepare_import(
        self,
        source_spec,
        dest_ioctx,
        dest_image_name,
        features=None,
        order=None,
        stripe_unit=None,
        stripe_count=None,
        data_pool=None,
    ):
        """Start a live import into ``dest_image_name`` from the external source described by the
        JSON ``source_spec`` (a string).

        rbdpy reads ``{"type": "raw", "stream": {"type": "file", "file_path": ...}}`` sources;
        other formats and streams raise ``NotImplementedError``. Execute, commit and abort take
        the destination's name. Async form: ``rbdpy.aio.AsyncRBD.migration_prepare_import``.
        """
        portal, dest_aio = _ioctx_async(dest_ioctx)
        return portal.run(AsyncRBD().migration_prepare_import, source_spec, dest_aio,
                          dest_image_name, features, order, stripe_unit, stripe_count,
                          data_pool)

    def migration_execute(self, ioctx, image_name, on_progress=None):
        """Copy the data of a prepared migration of ``image_name`` (source or destination name)
        into the destination; ``on_progress(done, total)`` runs on the calling thread.

        Raises :class:`InvalidArgument` unless the migration is prepared. Async form:
        ``rbdpy.aio.AsyncRBD.migration_execute``.
        """
        return self._migration_step("migration_execute", ioctx, image_name, on_progress)

    def migration_commit(self, ioctx, image_name, on_progress=None):
        """Finish an executed migration of ``image_name``, deleting the source.

        Raises :class:`InvalidArgument` unless the migration is executed. Async form:
        ``rbdpy.aio.AsyncRBD.migration_commit``.
        """
        return self._migration_step("migration_commit", ioctx, image_name, on_progress)

    def migration_abort(self, ioctx, image_name, on_progress=None):
        """Undo an unfinished migration of ``image_name``: the destination is deleted and the
        source comes back under its name. Async form: ``rbdpy.aio.AsyncRBD.migration_abort``.
        """
        return self._migration_step("migration_abort", ioctx, image_name, on_progress)

    def _migration_step(self, method, ioctx, image_name, on_progress):
        portal, aio = _ioctx_async(ioctx)
        step = getattr(AsyncRBD(), method)
        if on_progress is None:
            return portal.run(step, aio, image_name)
        return _run_with_progress(portal, step, on_progress, aio, image_name)

    def migration_status(self, ioctx, image_name):
        """Return the migration state of ``image_name``: a dict naming source and destination
        (``source_pool_id``, ``source_pool_namespace``, ``source_image_name``,
        ``source_image_id`` and the same four ``dest_*`` keys), ``state``
        (``RBD_IMAGE_MIGRATION_STATE_*``) and ``state_description``. As python-rbd 16.2's,
        ``dest_pool_id`` repeats the source pool id. Async form:
        ``rbdpy.aio.AsyncRBD.migration_status``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().migration_status, aio, image_name)

    def mirror_site_name_get(self, rados):
        """Return the site name this cluster uses for mirroring (takes a ``rados.Rados``).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_site_name_get", "RBD mirroring")

    def mirror_site_name_set(self, rados, site_name):
        """Set the site name this cluster uses for mirroring to ``site_name``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_site_name_set", "RBD mirroring")

    def mirror_mode_get(self, ioctx):
        """Return the pool's ``RBD_MIRROR_MODE_*``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_mode_get", "RBD mirroring")

    def mirror_mode_set(self, ioctx, mirror_mode):
        """Set the pool's mirroring mode to ``mirror_mode`` (``RBD_MIRROR_MODE_*``).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_mode_set", "RBD mirroring")

    def mirror_uuid_get(self, ioctx):
        """Return the pool's mirroring uuid (str).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_uuid_get", "RBD mirroring")

    def mirror_peer_bootstrap_create(self, ioctx):
        """Return a token another cluster can import to become this pool's mirroring peer.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_bootstrap_create", "RBD mirroring")

    def mirror_peer_bootstrap_import(self, ioctx, direction, token):
        """Configure a mirroring peer from ``token`` (made by :meth:`mirror_peer_bootstrap_create`
        on the other cluster), in ``RBD_MIRROR_PEER_DIRECTION_*`` ``direction``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_bootstrap_import", "RBD mirroring")

    def mirror_peer_add(
        self, ioctx, site_name, client_name, direction=RBD_MIRROR_PEER_DIRECTION_RX_TX
    ):
        """Register the mirroring peer ``client_name`` at ``site_name`` and return its uuid.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_add", "RBD mirroring")

    def mirror_peer_remove(self, ioctx, uuid):
        """Unregister the mirroring peer ``uuid``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_remove", "RBD mirroring")

    def mirror_peer_list(self, ioctx):
        """Return a :class:`MirrorPeerIterator` over the pool's peers.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_list", "RBD mirroring")

    def mirror_peer_set_client(self, ioctx, uuid, client_name):
        """Change the client name used to reach the mirroring peer ``uuid``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_set_client", "RBD mirroring")

    def mirror_peer_set_name(self, ioctx, uuid, site_name):
        """Change the site name of the mirroring peer ``uuid``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_set_name", "RBD mirroring")

    def mirror_peer_set_cluster(self, ioctx, uuid, cluster_name):
        """Older spelling of :meth:`mirror_peer_set_name` (``cluster_name`` is the site name).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_set_cluster", "RBD mirroring")

    def mirror_peer_get_attributes(self, ioctx, uuid):
        """Return the extra attributes of the mirroring peer ``uuid`` (``mon_host`` and ``key``).

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_get_attributes", "RBD mirroring")

    def mirror_peer_set_attributes(self, ioctx, uuid, attributes):
        """Store ``attributes`` (``mon_host``, ``key``) for the mirroring peer ``uuid``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_peer_set_attributes", "RBD mirroring")

    def mirror_image_status_list(self, ioctx):
        """Return a :class:`MirrorImageStatusIterator` over the pool's mirrored images.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_image_status_list", "RBD mirroring")

    def mirror_image_status_summary(self, ioctx):
        """Return ``(state, count)`` pairs counting the pool's mirrored images by state.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_image_status_summary", "RBD mirroring")

    def mirror_image_instance_id_list(self, ioctx):
        """Return a :class:`MirrorImageInstanceIdIterator` for the pool.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_image_instance_id_list", "RBD mirroring")

    def mirror_image_info_list(self, ioctx, mode_filter=None):
        """Return a :class:`MirrorImageInfoIterator` for the pool, optionally only the images in
        mirror mode ``mode_filter``.

        Not implemented in rbdpy yet (mirroring): raises ``NotImplementedError``.
        """
        raise _nie("RBD.mirror_image_info_list", "RBD mirroring")

    def pool_metadata_get(self, ioctx, key):
        """Return the pool metadata value stored under ``key`` (str).

        Raises ``KeyError`` if the key is not set. Async form:
        ``rbdpy.aio.AsyncRBD.pool_metadata_get``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_metadata_get, aio, key)

    def pool_metadata_set(self, ioctx, key, value):
        """Store ``value`` under ``key`` in the pool's RBD metadata.

        ``conf_*`` keys are configuration overrides and are checked: an unknown option or a bad
        value raises :class:`InvalidArgument`. Async form:
        ``rbdpy.aio.AsyncRBD.pool_metadata_set``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_metadata_set, aio, key, value)

    def pool_metadata_remove(self, ioctx, key):
        """Delete ``key`` from the pool's RBD metadata.

        Raises ``KeyError`` if the key is not set. Async form:
        ``rbdpy.aio.AsyncRBD.pool_metadata_remove``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_metadata_remove, aio, key)

    def pool_metadata_list(self, ioctx):
        """Return a :class:`PoolMetadataIterator` over the pool's ``(key, value)`` metadata."""
        return PoolMetadataIterator(ioctx)

    def config_list(self, ioctx):
        """Return a :class:`ConfigPoolIterator`: every option and the value in force in the pool."""
        return ConfigPoolIterator(ioctx)

    def config_get(self, ioctx, key):
        """Return the pool's own override of the option ``key`` (str).

        Raises ``KeyError`` if the pool does not override it. Async form:
        ``rbdpy.aio.AsyncRBD.config_get``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.config_get, aio, key)

    def config_set(self, ioctx, key, value):
        """Override the librbd option ``key`` with ``value`` for every image of the pool.

        Stored as pool metadata ``conf_<key>``; an unknown option or a bad value raises
        :class:`InvalidArgument`. Async form: ``rbdpy.aio.AsyncRBD.config_set``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.config_set, aio, key, value)

    def config_remove(self, ioctx, key):
        """Drop the pool's override of the option ``key``.

        Raises ``KeyError`` if the pool does not override it. Async form:
        ``rbdpy.aio.AsyncRBD.config_remove``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.config_remove, aio, key)

    def group_create(self, ioctx, name):
        """Create an empty group called ``name`` in ``ioctx``'s pool.

        :class:`ObjectExists` if a group of that name exists, :class:`InvalidArgument` for
        an empty name. Async form: ``rbdpy.aio.AsyncRBD.group_create``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().group_create, aio, name)

    def group_remove(self, ioctx, name):
        """Delete the group ``name``, first taking every member image out of it.

        Its group snapshots (and their member snapshots) go too. A group that does not
        exist is no error. Async form: ``rbdpy.aio.AsyncRBD.group_remove``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().group_remove, aio, name)

    def group_list(self, ioctx):
        """Return the names of the groups in ``ioctx``'s pool.

        Sorted by name. Async form: ``rbdpy.aio.AsyncRBD.group_list``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().group_list, aio)

    def group_rename(self, ioctx, src, dest):
        """Rename the group ``src`` to ``dest``.

        :class:`ImageNotFound` if ``src`` does not exist, :class:`ImageExists` if ``dest``
        does (python-rbd's classes for this call). Async form:
        ``rbdpy.aio.AsyncRBD.group_rename``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().group_rename, aio, src, dest)

    def namespace_create(self, ioctx, name):
        """Create the RBD namespace ``name`` in ``ioctx``'s pool (whatever namespace ``ioctx``
        is set to). Raises :class:`ImageExists` if it exists, :class:`InvalidArgument` for an
        empty name. Async form: ``rbdpy.aio.AsyncRBD.namespace_create``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().namespace_create, aio, name)

    def namespace_remove(self, ioctx, name):
        """Delete the RBD namespace ``name`` from ``ioctx``'s pool. Raises :class:`ImageBusy`
        while it holds images or trash entries, :class:`ImageNotFound` for an unknown one.
        Async form: ``rbdpy.aio.AsyncRBD.namespace_remove``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().namespace_remove, aio, name)

    def namespace_exists(self, ioctx, name):
        """Return whether ``ioctx``'s pool has the RBD namespace ``name``. Async form:
        ``rbdpy.aio.AsyncRBD.namespace_exists``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().namespace_exists, aio, name)

    def namespace_list(self, ioctx):
        """Return the names of the RBD namespaces in ``ioctx``'s pool. Async form:
        ``rbdpy.aio.AsyncRBD.namespace_list``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().namespace_list, aio)

    def pool_init(self, ioctx, force):
        """Prepare ``ioctx``'s pool for RBD, as ``rbd pool init`` does.

        Tags the pool with the ``rbd`` application (``force`` lets that replace another
        application's tag), then, unless the pool turns ``rbd_validate_pool`` off, checks once
        that the pool supports self-managed snapshots and overwrites (an erasure-coded pool
        without overwrites gives :class:`InvalidArgument`). Async form:
        ``rbdpy.aio.AsyncRBD.pool_init``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_init, aio, force)

    def pool_stats_get(self, ioctx):
        """Return the image and trash statistics of ``ioctx``'s pool (and namespace) as
        python-rbd's dict: ``image_count``, ``image_provisioned_bytes`` (sum of HEAD sizes),
        ``image_max_provisioned_bytes`` (sum over images of the largest of HEAD's and the
        snapshots' sizes), ``image_snap_count``, and the same four ``trash_*`` figures for
        the trash. Async form: ``rbdpy.aio.AsyncRBD.pool_stats_get``.
        """
        portal, aio = _ioctx_async(ioctx)
        return portal.run(AsyncRBD().pool_stats_get, aio)

    def features_to_string(self, features):
        """Return the comma-separated names of the features in the bitmask ``features``, in
        alphabetical order (``"exclusive-lock,layering"``).

        Raises :class:`InvalidArgument` for bits librbd does not know, ``TypeError`` or
        ``OverflowError`` for a value that is not a non-negative 64-bit integer. Runs locally.
        """
        bits = _as_uint64(features)
        if bits & ~RBD_FEATURES_ALL:
            raise make_ex(-errno.EINVAL, "error converting features bitmask to str")
        return ",".join(name for name, bit in _FEATURE_BY_NAME.items() if bits & bit)

    def features_from_string(self, str_features):
        """Return the feature bitmask named by ``str_features``, parsed as librbd does.

        Accepts comma-separated feature names or a decimal number; an empty (or blank) string
        gives librbd's compiled default features, not ``rbd_default_features``. Unknown names or
        bits raise :class:`InvalidArgument`. Runs locally.
        """
        raw = cstr(str_features, "str_features")
        assert raw is not None
        features = _features_from_text(raw.decode("utf-8", "surrogateescape"))
        if features is None:
            raise make_ex(-errno.EINVAL, "error getting features bitmask from str")
        return features

    def aio_open_image(
        self, oncomplete, ioctx, name=None, snapshot=None, read_only=False, image_id=None
    ):
        """Open an image without blocking; return a :class:`Completion` at once.

        ``oncomplete(completion, image)`` runs on the portal's finisher thread with the
        :class:`Image` (usable when ``completion.get_return_value()`` is 0; a failed open
        gives the negative errno, e.g. ``-errno.ENOENT``). Arguments as :class:`Image`;
        close the image with :meth:`Image.close` or :meth:`Image.aio_close`. Async form:
        ``await rbdpy.aio.AsyncImage.open(...)``.
        """
        if oncomplete is None:
            # python-rbd then opens the image blocking and has no completion to return
            Image(ioctx, name, snapshot, read_only, image_id)
            return None
        image = Image(ioctx, name, snapshot, read_only, image_id, _oncomplete=oncomplete)
        comp, image._open_completion = image._open_completion, None
        return comp


class SnapIterator:
    """The snapshots of an image, in snapshot-id order, one dict each.

    Every dict has ``id`` (int), ``size`` (image size at snapshot time, bytes), ``name`` (str)
    and ``namespace`` (``RBD_SNAP_NAMESPACE_TYPE_*``). Snapshots outside the user namespace
    also carry a ``group``, ``trash`` or ``mirror`` dict (``None`` if it cannot be read); see
    the ``snap_get_*_namespace`` methods of :class:`Image`. Read when the iterator is built
    (:meth:`rbdpy.aio.AsyncImage.list_snaps`).
    """

    def __iter__(self):
        yield from self._snaps

    def __init__(self, image):
        self.image = image
        self._snaps = image._portal.run(image._async.list_snaps)


class TrashIterator:
    """Images in a pool's (namespace's) trash, by id: dicts with ``id``, ``name``,
    ``source`` (``"USER"``, ``"MIRRORING"``, ``"MIGRATION"``, ``"USER_PARENT"``) and the
    naive UTC datetimes ``deletion_time`` and ``deferment_end_time``.

    Read when the iterator is built (:meth:`rbdpy.aio.AsyncRBD.trash_list`).
    """

    def __iter__(self):
        yield from self._entries

    def __init__(self, ioctx):
        portal, aio = _ioctx_async(ioctx)
        self._entries = portal.run(AsyncRBD().trash_list, aio)


class WatcherIterator:
    """Clients watching an image's header: dicts with ``addr`` (str), ``id`` (int, the client's
    global id) and ``cookie`` (int, the watch handle).

    Read when the iterator is built (:meth:`rbdpy.aio.AsyncImage.watchers_list`).
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, image):
        self.image = image
        self._items = image._portal.run(image._async.watchers_list)
