# mypy: allow-untyped-defs, allow-untyped-calls, allow-incomplete-defs
# mypy: disable-error-code="type-arg"
"""python-rbd compatible synchronous API (``from rbdpy import rbd``).

Theory of operation: this module is the *facade* over the trio-native librbd layer. It has
the public surface of Ceph Pacific's ``rbd`` module -- every class, method signature and
docstring, every ``RBD_*`` constant and exception class (re-exported from
:mod:`rbdpy.librbd.constants` and :mod:`rbdpy.librbd.exceptions`) -- pinned by
tests/compat/test_surface.py against the installed module.

``RBD``, ``Image`` and ``Group`` will keep a reference to their ioctx's handle portal
(:class:`rbdpy._sync.Portal`) and to their async counterpart. Until the async layer
lands, every method that needs the cluster raises ``NotImplementedError`` (via ``_nie``)
-- never a silent success. Pure local methods are implemented: ``RBD.version``,
``RBD.features_to_string`` / ``features_from_string`` (librbd's feature-name table and
its parsing quirks, checked against the installed librbd by the compat test), the
closed-image checks and context managers.

COORDINATOR WIRING CONVENTION: replace each ``raise _nie("Class.method", ...)`` with a
one-liner ``return self._portal.run(self._async.method, <same arguments>)``; errors are
translated by the async layer with :func:`rbdpy.librbd.exceptions.make_ex`. Methods that
python-rbd guards with ``requires_not_closed`` carry the same decorator here. ``aio_*``
methods use ``self._portal.spawn(...)`` and ``Completion._attach(pending)``. Places that
need more than a one-liner are marked ``# WIRE:``.

Mirrors: src/pybind/rbd/rbd.pyx (Ceph 16.2); feature names from src/include/rbd/features.h
and src/librbd/Features.cc.
"""

from __future__ import annotations

import errno
import functools
import operator
import re
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

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


def _nie(what: str, capability: str) -> NotImplementedError:
    """The error every not-yet-wired facade method raises (never a silent success)."""
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
    """
    Create a byte string from a Python string

    :param basestring val: Python string
    :param str name: Name of the string parameter, for exceptions
    :param str encoding: Encoding to use
    :param bool opt: If True, None is allowed
    :rtype: bytes
    :raises: :class:`InvalidArgument`
    """
    if opt and val is None:
        return None
    if isinstance(val, bytes):
        return val
    if isinstance(val, str):
        return val.encode(encoding)
    raise InvalidArgument(f"{name} must be a string")


def decode_cstr(val: bytes | None, encoding: str = "utf-8") -> str | None:
    """
    Decode a byte string into a Python string.

    :param bytes val: byte string
    :rtype: unicode or None
    """
    if val is None:
        return None
    return val.decode(encoding)


def requires_not_closed(f: _F) -> _F:
    """Guard an :class:`Image` method: raise :class:`InvalidArgument` once it is closed."""

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
_UINT64_MAX = (1 << 64) - 1


def _as_uint64(value: Any) -> int:
    """Convert like Cython's ``uint64_t`` argument coercion (TypeError / OverflowError)."""
    if isinstance(value, float):
        value = int(value)
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError("an integer is required") from None
    if number < 0:
        raise OverflowError("can't convert negative value to uint64_t")
    if number > _UINT64_MAX:
        raise OverflowError("int too big to convert")
    return number


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
    """Iterator over child info for the image or its snapshot.

    Yields a dictionary containing information about a child.

    Keys are:

    * ``pool`` (str) - name of the pool

    * ``pool_namespace`` (str) - namespace of the pool

    * ``image`` (str) - name of the child

    * ``id`` (str) - id of the child

    * ``trash`` (bool) - True if child is in trash bin
    """

    def __iter__(self):
        raise _nie("ChildIterator.__iter__", "clone children listing")

    def __init__(self, image, descendants=False):
        raise _nie("ChildIterator.__init__", "clone children listing")


class Completion:
    """completion object"""

    _pending: Pending[Any] | None

    def __init__(self, image: Any, oncomplete: Any) -> None:
        self.image = image
        self.oncomplete = oncomplete
        self._pending = None
        # WIRE: the aio_* on_done wrapper stores an exception raised by ``oncomplete`` here;
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
        """Has an asynchronous operation completed?

        This does not imply that the callback has finished.

        :returns: True if the operation is completed
        """
        return self._require_pending("Completion.is_complete").done()

    def wait_for_complete_and_cb(self):
        """Wait for an asynchronous operation to complete

        This method waits for the callback to execute, if one was provided.
        It will also re-raise any exceptions raised by the callback. You
        should call this to "reap" asynchronous completions and ensure that
        any exceptions in the callbacks are handled, as an exception internal
        to this module may have occurred.
        """
        self._require_pending("Completion.wait_for_complete_and_cb").wait_callback()
        if self._callback_exc is not None:
            raise self._callback_exc

    def get_return_value(self):
        """Get the return value of an asychronous operation

        The return value is set when the operation is complete.

        :returns: int - return value of the operation
        """
        pending = self._require_pending("Completion.get_return_value")
        if not pending.done():
            return 0  # librbd: the value is only meaningful once complete
        return _return_code(pending)


class ConfigImageIterator:
    """Iterator over image-level overrides for an image.

    Yields a dictionary containing information about an override.

    Keys are:

    * ``name`` (str) - override name

    * ``value`` (str) - override value

    * ``source`` (str) - override source
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, image):
        self.image = image
        self._items = image._portal.run(image._async.config_list)


class ConfigPoolIterator:
    """Iterator over pool-level overrides for a pool.

    Yields a dictionary containing information about an override.

    Keys are:

    * ``name`` (str) - override name

    * ``value`` (str) - override value

    * ``source`` (str) - override source
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, ioctx):
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        self._items = portal.run(config.config_list, aio)


class Group:
    """This class represents an RBD group. It is used to interact with
    snapshots and images members.
    """

    def __init__(self, ioctx, name):
        raise _nie("Group.__init__", "RBD groups")

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        return False

    def add_image(self, image_ioctx, image_name):
        """Add an image to a group.

        :param image_ioctx: determines which RADOS pool the image belongs to.
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the image to add
        :type name: str

        :raises: :class:`ObjectNotFound`
        :raises: :class:`ObjectExists`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("Group.add_image", "RBD groups")

    def remove_image(self, image_ioctx, image_name):
        """Remove an image from a group.

        :param image_ioctx: determines which RADOS pool the image belongs to.
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the image to remove
        :type name: str

        :raises: :class:`ObjectNotFound`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("Group.remove_image", "RBD groups")

    def list_images(self):
        """Iterate over the images of a group.

        :returns: :class:`GroupImageIterator`
        """
        raise _nie("Group.list_images", "RBD groups")

    def create_snap(self, snap_name, flags=0):
        """Create a snapshot for the group.

        :param snap_name: the name of the snapshot to create
        :param flags: create snapshot flags
        :type name: str

        :raises: :class:`ObjectNotFound`
        :raises: :class:`ObjectExists`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("Group.create_snap", "RBD groups")

    def remove_snap(self, snap_name):
        """Remove a snapshot from the group.

        :param snap_name: the name of the snapshot to remove
        :type name: str

        :raises: :class:`ObjectNotFound`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("Group.remove_snap", "RBD groups")

    def rename_snap(self, old_snap_name, new_snap_name):
        """Rename group's snapshot.

        :raises: :class:`ObjectNotFound`
        :raises: :class:`ObjectExists`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("Group.rename_snap", "RBD groups")

    def list_snaps(self):
        """Iterate over the images of a group.

        :returns: :class:`GroupSnapIterator`
        """
        raise _nie("Group.list_snaps", "RBD groups")

    def rollback_to_snap(self, name):
        """Rollback group to snapshot.

        :param name: the group snapshot to rollback to
        :type name: str
        :raises: :class:`ObjectNotFound`
        :raises: :class:`IOError`
        """
        raise _nie("Group.rollback_to_snap", "RBD groups")


class GroupImageIterator:
    """Iterator over image info for a group.

    Yields a dictionary containing information about an image.

    Keys are:

    * ``name`` (str) - name of the image

    * ``pool`` (int) - id of the pool this image belongs to

    * ``state`` (int) - state of the image
    """

    def __iter__(self):
        raise _nie("GroupImageIterator.__iter__", "RBD groups")

    def __init__(self, group):
        raise _nie("GroupImageIterator.__init__", "RBD groups")


class GroupSnapIterator:
    """Iterator over snaps specs for a group.

    Yields a dictionary containing information about a snapshot.

    Keys are:

    * ``name`` (str) - name of the snapshot

    * ``state`` (int) - state of the snapshot
    """

    def __iter__(self):
        raise _nie("GroupSnapIterator.__iter__", "RBD groups")

    def __init__(self, group):
        raise _nie("GroupSnapIterator.__init__", "RBD groups")


class Image:
    """This class represents an RBD image. It is used to perform I/O on
    the image and interact with snapshots.

    **Note**: Any method of this class may raise :class:`ImageNotFound`
    if the image has been deleted.
    """

    def __repr__(self):
        return f"rbd.Image(ioctx, {getattr(self, 'name', None)!r})"

    def __init__(
        self, ioctx, name=None, snapshot=None, read_only=False, image_id=None, _oncomplete=None
    ):
        """Open the image at the given snapshot.
        Specify either name or id, otherwise :class:`InvalidArgument` is raised.

        If a snapshot is specified, the image will be read-only, unless
        :func:`Image.set_snap` is called later.

        If read-only mode is used, metadata for the :class:`Image`
        object (such as which snapshots exist) may become obsolete. See
        the C api for more details.

        To clean up from opening the image, :func:`Image.close` should
        be called.  For ease of use, this is done automatically when
        an :class:`Image` is used as a context manager (see :pep:`343`).

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the image
        :type name: str
        :param snapshot: which snapshot to read from
        :type snaphshot: str
        :param read_only: whether to open the image in read-only mode
        :type read_only: bool
        :param image_id: the id of the image
        :type image_id: str
        """
        from rbdpy.librbd.image import AsyncImage

        self._closed = True
        portal, aio = _ioctx_async(ioctx)
        self._portal = portal
        self.ioctx = ioctx
        self._async = portal.run(AsyncImage.open, aio, name, snapshot, read_only, image_id)
        # Dropped without close(), the image still closes (watch removed, lock released),
        # as python-rbd's deallocation does; at exit too, like module teardown there.
        self._finalizer = weakref.finalize(self, portal.run_for_finalizer, self._async.close)
        self.name = self._async.name.encode() if name is None else cstr(name, "name")
        self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, type_, value, traceback):
        """Closes the image. See :func:`close`"""
        self.close()
        return False

    def require_not_closed(self):
        """Checks if the Image is not closed

        :raises: :class:`InvalidArgument`
        """
        if getattr(self, "_closed", True):
            raise InvalidArgument("image is closed")

    def close(self):
        """Release the resources used by this image object.

        After this is called, this object should not be used.
        """
        if not getattr(self, "_closed", True):
            self._closed = True
            self._finalizer.detach()
            self._portal.run(self._async.close)

    @requires_not_closed
    def aio_close(self, oncomplete):
        """Asynchronously close the image.

        After this is called, this object should not be used.

        :param oncomplete: what to do when close is complete
        :type oncomplete: completion
        :returns: :class:`Completion` - the completion object
        """
        raise _nie("Image.aio_close", "asynchronous I/O")

    @requires_not_closed
    def resize(self, size, allow_shrink=True):
        """Change the size of the image, allow shrink.

        :param size: the new size of the image
        :type size: int
        :param allow_shrink: permit shrinking
        :type allow_shrink: bool
        """
        return self._portal.run(self._async.resize, size, allow_shrink)

    @requires_not_closed
    def stat(self):
        """Get information about the image. Currently parent pool and
        parent name are always -1 and ''.

        :returns: dict - contains the following keys:

            * ``size`` (int) - the size of the image in bytes

            * ``obj_size`` (int) - the size of each object that comprises the
              image

            * ``num_objs`` (int) - the number of objects in the image

            * ``order`` (int) - log_2(object_size)

            * ``block_name_prefix`` (str) - the prefix of the RADOS objects used
              to store the image

            * ``parent_pool`` (int) - deprecated

            * ``parent_name``  (str) - deprecated

            See also :meth:`format` and :meth:`features`.
        """
        return self._portal.run(self._async.stat)

    @requires_not_closed
    def get_name(self):
        """Get the RBD image name

        :returns: str - image name
        """
        return self._portal.run(self._async.get_name)

    @requires_not_closed
    def id(self):
        """Get the RBD v2 internal image id

        :returns: str - image id
        """
        return self._portal.run(self._async.id)

    @requires_not_closed
    def block_name_prefix(self):
        """Get the RBD block name prefix

        :returns: str - block name prefix
        """
        return self._portal.run(self._async.block_name_prefix)

    @requires_not_closed
    def data_pool_id(self):
        """Get the pool id of the pool where the data of this RBD image is stored.

        :returns: int - the pool id
        """
        return self._portal.run(self._async.data_pool_id)

    @requires_not_closed
    def get_parent_image_spec(self):
        """Get spec of the cloned image's parent

        :returns: dict - contains the following keys:
            * ``pool_name`` (str) - parent pool name
            * ``pool_namespace`` (str) - parent pool namespace
            * ``image_name`` (str) - parent image name
            * ``snap_name`` (str) - parent snapshot name

        :raises: :class:`ImageNotFound` if the image doesn't have a parent
        """
        raise _nie("Image.get_parent_image_spec", "clone parents")

    @requires_not_closed
    def parent_info(self):
        """Deprecated. Use `get_parent_image_spec` instead.

        Get information about a cloned image's parent (if any)

        :returns: tuple - ``(pool name, image name, snapshot name)`` components
                  of the parent image
        :raises: :class:`ImageNotFound` if the image doesn't have a parent
        """
        raise _nie("Image.parent_info", "clone parents")

    @requires_not_closed
    def parent_id(self):
        """Get image id of a cloned image's parent (if any)

        :returns: str - the parent id
        :raises: :class:`ImageNotFound` if the image doesn't have a parent
        """
        raise _nie("Image.parent_id", "clone parents")

    @requires_not_closed
    def migration_source_spec(self):
        """Get migration source spec (if any)

        :returns: dict
        :raises: :class:`ImageNotFound` if the image is not migration destination
        """
        raise _nie("Image.migration_source_spec", "live image migration")

    @requires_not_closed
    def old_format(self):
        """Find out whether the image uses the old RBD format.

        :returns: bool - whether the image uses the old RBD format
        """
        return self._portal.run(self._async.old_format)

    @requires_not_closed
    def size(self):
        """Get the size of the image. If open to a snapshot, returns the
        size of that snapshot.

        :returns: int - the size of the image in bytes
        """
        return self._portal.run(self._async.size)

    @requires_not_closed
    def features(self):
        """Get the features bitmask of the image.

        :returns: int - the features bitmask of the image
        """
        return self._portal.run(self._async.features)

    @requires_not_closed
    def update_features(self, features, enabled):
        """Update the features bitmask of the image by enabling/disabling
        a single feature.  The feature must support the ability to be
        dynamically enabled/disabled.

        :param features: feature bitmask to enable/disable
        :type features: int
        :param enabled: whether to enable/disable the feature
        :type enabled: bool
        :raises: :class:`InvalidArgument`
        """
        return self._portal.run(self._async.update_features, features, enabled)

    @requires_not_closed
    def op_features(self):
        """Get the op features bitmask of the image.

        :returns: int - the op features bitmask of the image
        """
        return self._portal.run(self._async.op_features)

    @requires_not_closed
    def overlap(self):
        """Get the number of overlapping bytes between the image and its parent
        image. If open to a snapshot, returns the overlap between the snapshot
        and the parent image.

        :returns: int - the overlap in bytes
        :raises: :class:`ImageNotFound` if the image doesn't have a parent
        """
        raise _nie("Image.overlap", "images")

    @requires_not_closed
    def flags(self):
        """Get the flags bitmask of the image.

        :returns: int - the flags bitmask of the image
        """
        return self._portal.run(self._async.flags)

    @requires_not_closed
    def group(self):
        """Get information about the image's group.

        :returns: dict - contains the following keys:

            * ``pool`` (int) - id of the group pool

            * ``name`` (str) - name of the group
        """
        raise _nie("Image.group", "RBD groups")

    @requires_not_closed
    def is_exclusive_lock_owner(self):
        """Get the status of the image exclusive lock.

        :returns: bool - true if the image is exclusively locked
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
        """Copy the image to another location.

        :param dest_ioctx: determines which pool to copy into
        :type dest_ioctx: :class:`rados.Ioctx`
        :param dest_name: the name of the copy
        :type dest_name: str
        :param features: bitmask of features to enable; if set, must include layering
        :type features: int
        :param order: the image is split into (2**order) byte objects
        :type order: int
        :param stripe_unit: stripe unit in bytes (default None to let librbd decide)
        :type stripe_unit: int
        :param stripe_count: objects to stripe over before looping
        :type stripe_count: int
        :param data_pool: optional separate pool for data blocks
        :type data_pool: str
        :raises: :class:`TypeError`
        :raises: :class:`InvalidArgument`
        :raises: :class:`ImageExists`
        :raises: :class:`FunctionNotSupported`
        :raises: :class:`ArgumentOutOfRange`
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
        """Deep copy the image to another location.

        :param dest_ioctx: determines which pool to copy into
        :type dest_ioctx: :class:`rados.Ioctx`
        :param dest_name: the name of the copy
        :type dest_name: str
        :param features: bitmask of features to enable; if set, must include layering
        :type features: int
        :param order: the image is split into (2**order) byte objects
        :type order: int
        :param stripe_unit: stripe unit in bytes (default None to let librbd decide)
        :type stripe_unit: int
        :param stripe_count: objects to stripe over before looping
        :type stripe_count: int
        :param data_pool: optional separate pool for data blocks
        :type data_pool: str
        :raises: :class:`TypeError`
        :raises: :class:`InvalidArgument`
        :raises: :class:`ImageExists`
        :raises: :class:`FunctionNotSupported`
        :raises: :class:`ArgumentOutOfRange`
        """
        raise _nie("Image.deep_copy", "image copy")

    @requires_not_closed
    def list_snaps(self):
        """Iterate over the snapshots of an image.

        :returns: :class:`SnapIterator`
        """
        return SnapIterator(self)

    @requires_not_closed
    def create_snap(self, name, flags=0):
        """Create a snapshot of the image.

        :param name: the name of the snapshot
        :type name: str
        :raises: :class:`ImageExists`, :class:`InvalidArgument`
        """
        return self._portal.run(self._async.create_snap, name, flags)

    @requires_not_closed
    def rename_snap(self, srcname, dstname):
        """rename a snapshot of the image.

        :param srcname: the src name of the snapshot
        :type srcname: str
        :param dstname: the dst name of the snapshot
        :type dstname: str
        :raises: :class:`ImageExists`
        """
        return self._portal.run(self._async.rename_snap, srcname, dstname)

    @requires_not_closed
    def remove_snap(self, name):
        """Delete a snapshot of the image.

        :param name: the name of the snapshot
        :type name: str
        :raises: :class:`IOError`, :class:`ImageBusy`, :class:`ImageNotFound`
        """
        return self._portal.run(self._async.remove_snap, name)

    @requires_not_closed
    def remove_snap2(self, name, flags):
        """Delete a snapshot of the image.

        :param name: the name of the snapshot
        :param flags: the flags for removal
        :type name: str
        :raises: :class:`IOError`, :class:`ImageBusy`
        """
        return self._portal.run(self._async.remove_snap2, name, flags)

    @requires_not_closed
    def remove_snap_by_id(self, snap_id):
        """Delete a snapshot of the image by its id.

        :param id: the id of the snapshot
        :type name: int
        :raises: :class:`IOError`, :class:`ImageBusy`
        """
        return self._portal.run(self._async.remove_snap_by_id, snap_id)

    @requires_not_closed
    def rollback_to_snap(self, name):
        """Revert the image to its contents at a snapshot. This is a
        potentially expensive operation, since it rolls back each
        object individually.

        :param name: the snapshot to rollback to
        :type name: str
        :raises: :class:`IOError`
        """
        return self._portal.run(self._async.rollback_to_snap, name)

    @requires_not_closed
    def protect_snap(self, name):
        """Mark a snapshot as protected. This means it can't be deleted
        until it is unprotected.

        :param name: the snapshot to protect
        :type name: str
        :raises: :class:`IOError`, :class:`ImageNotFound`
        """
        return self._portal.run(self._async.protect_snap, name)

    @requires_not_closed
    def unprotect_snap(self, name):
        """Mark a snapshot unprotected. This allows it to be deleted if
        it was protected.

        :param name: the snapshot to unprotect
        :type name: str
        :raises: :class:`IOError`, :class:`ImageNotFound`
        """
        return self._portal.run(self._async.unprotect_snap, name)

    @requires_not_closed
    def is_protected_snap(self, name):
        """Find out whether a snapshot is protected from deletion.

        :param name: the snapshot to check
        :type name: str
        :returns: bool - whether the snapshot is protected
        :raises: :class:`IOError`, :class:`ImageNotFound`
        """
        return self._portal.run(self._async.is_protected_snap, name)

    @requires_not_closed
    def snap_exists(self, name):
        """Find out whether a snapshot is exists.

        :param name: the snapshot to check
        :type name: str
        :returns: bool - whether the snapshot is exists
        """
        return self._portal.run(self._async.snap_exists, name)

    @requires_not_closed
    def get_snap_limit(self):
        """Get the snapshot limit for an image.

        :returns: int - the snapshot limit for an image
        """
        return self._portal.run(self._async.get_snap_limit)

    @requires_not_closed
    def set_snap_limit(self, limit):
        """Set the snapshot limit for an image.

        :param limit: the new limit to set
        """
        return self._portal.run(self._async.set_snap_limit, limit)

    @requires_not_closed
    def get_snap_timestamp(self, snap_id):
        """Get the snapshot timestamp for an image.
        :param snap_id: the snapshot id of a snap shot
        :returns: datetime - the snapshot timestamp for an image
        """
        return self._portal.run(self._async.get_snap_timestamp, snap_id)

    @requires_not_closed
    def remove_snap_limit(self):
        """Remove the snapshot limit for an image, essentially setting
        the limit to the maximum size allowed by the implementation.
        """
        return self._portal.run(self._async.remove_snap_limit)

    @requires_not_closed
    def set_snap(self, name):
        """Set the snapshot to read from. Writes will raise ReadOnlyImage
        while a snapshot is set. Pass None to unset the snapshot
        (reads come from the current image) , and allow writing again.

        :param name: the snapshot to read from, or None to unset the snapshot
        :type name: str or None
        """
        return self._portal.run(self._async.set_snap, name)

    @requires_not_closed
    def set_snap_by_id(self, snap_id):
        """Set the snapshot to read from. Writes will raise ReadOnlyImage
        while a snapshot is set. Pass None to unset the snapshot
        (reads come from the current image) , and allow writing again.

        :param snap_id: the snapshot to read from, or None to unset the snapshot
        :type snap_id: int
        """
        return self._portal.run(self._async.set_snap_by_id, snap_id)

    @requires_not_closed
    def snap_get_name(self, snap_id):
        """Get snapshot name by id.

        :param snap_id: the snapshot id
        :type snap_id: int
        :returns: str - snapshot name
        :raises: :class:`ImageNotFound`
        """
        return self._portal.run(self._async.snap_get_name, snap_id)

    @requires_not_closed
    def snap_get_id(self, snap_name):
        """Get snapshot id by name.

        :param snap_name: the snapshot name
        :type snap_name: str
        :returns: int - snapshot id
        :raises: :class:`ImageNotFound`
        """
        return self._portal.run(self._async.snap_get_id, snap_name)

    @requires_not_closed
    def read(self, offset, length, fadvise_flags=0):
        """Read data from the image. Raises :class:`InvalidArgument` if
        part of the range specified is outside the image.

        :param offset: the offset to start reading at
        :type offset: int
        :param length: how many bytes to read
        :type length: int
        :param fadvise_flags: fadvise flags for this read
        :type fadvise_flags: int
        :returns: str - the data read
        :raises: :class:`InvalidArgument`, :class:`IOError`
        """
        return self._portal.run(self._async.read, offset, length, fadvise_flags)

    @requires_not_closed
    def diff_iterate(
        self, offset, length, from_snapshot, iterate_cb, include_parent=True, whole_object=False
    ):
        """Iterate over the changed extents of an image.

        This will call iterate_cb with three arguments:

        (offset, length, exists)

        where the changed extent starts at offset bytes, continues for
        length bytes, and is full of data (if exists is True) or zeroes
        (if exists is False).

        If from_snapshot is None, it is interpreted as the beginning
        of time and this generates all allocated extents.

        The end version is whatever is currently selected (via set_snap)
        for the image.

        iterate_cb may raise an exception, which will abort the diff and will be
        propagated to the caller.

        Raises :class:`InvalidArgument` if from_snapshot is after
        the currently set snapshot.

        Raises :class:`ImageNotFound` if from_snapshot is not the name
        of a snapshot of the image.

        :param offset: start offset in bytes
        :type offset: int
        :param length: size of region to report on, in bytes
        :type length: int
        :param from_snapshot: starting snapshot name, or None
        :type from_snapshot: str or None
        :param iterate_cb: function to call for each extent
        :type iterate_cb: function acception arguments for offset,
                           length, and exists
        :param include_parent: True if full history diff should include parent
        :type include_parent: bool
        :param whole_object: True if diff extents should cover whole object
        :type whole_object: bool
        :raises: :class:`InvalidArgument`, :class:`IOError`,
                 :class:`ImageNotFound`
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
        """Write data to the image. Raises :class:`InvalidArgument` if
        part of the write would fall outside the image.

        :param data: the data to be written
        :type data: bytes
        :param offset: where to start writing data
        :type offset: int
        :param fadvise_flags: fadvise flags for this write
        :type fadvise_flags: int
        :returns: int - the number of bytes written
        :raises: :class:`IncompleteWriteError`, :class:`LogicError`,
                 :class:`InvalidArgument`, :class:`IOError`
        """
        return self._portal.run(self._async.write, data, offset, fadvise_flags)

    @requires_not_closed
    def discard(self, offset, length):
        """Trim the range from the image. It will be logically filled
        with zeroes.
        """
        return self._portal.run(self._async.discard, offset, length)

    @requires_not_closed
    def write_zeroes(self, offset, length, zero_flags=0):
        """Zero the range from the image. By default it will attempt to
        discard/unmap as much space as possible but any unaligned
        extent segments will still be zeroed.
        """
        return self._portal.run(self._async.write_zeroes, offset, length, zero_flags)

    @requires_not_closed
    def flush(self):
        """Block until all writes are fully flushed if caching is enabled."""
        return self._portal.run(self._async.flush)

    @requires_not_closed
    def invalidate_cache(self):
        """Drop any cached data for the image."""
        return None  # no client-side cache

    @requires_not_closed
    def stripe_unit(self):
        """Return the stripe unit used for the image."""
        return self._portal.run(self._async.stripe_unit)

    @requires_not_closed
    def stripe_count(self):
        """Return the stripe count used for the image."""
        return self._portal.run(self._async.stripe_count)

    @requires_not_closed
    def create_timestamp(self):
        """Return the create timestamp for the image."""
        return self._portal.run(self._async.create_timestamp)

    @requires_not_closed
    def access_timestamp(self):
        """Return the access timestamp for the image."""
        return self._portal.run(self._async.access_timestamp)

    @requires_not_closed
    def modify_timestamp(self):
        """Return the modify timestamp for the image."""
        return self._portal.run(self._async.modify_timestamp)

    @requires_not_closed
    def flatten(self, on_progress=None):
        """Flatten clone image (copy all blocks from parent to child)
        :param on_progress: optional progress callback function
        :type on_progress: callback function
        """
        raise _nie("Image.flatten", "clones")

    @requires_not_closed
    def sparsify(self, sparse_size):
        """Reclaim space for zeroed image extents"""
        return self._portal.run(self._async.sparsify, sparse_size)

    @requires_not_closed
    def rebuild_object_map(self):
        """Rebuild the object map for the image HEAD or currently set snapshot"""
        return self._portal.run(self._async.rebuild_object_map)

    @requires_not_closed
    def list_children(self):
        """List children of the currently set snapshot (set via set_snap()).

        :returns: list - a list of (pool name, image name) tuples
        """
        raise _nie("Image.list_children", "clone children listing")

    @requires_not_closed
    def list_children2(self):
        """Iterate over the children of the image or its snapshot.

        :returns: :class:`ChildIterator`
        """
        raise _nie("Image.list_children2", "clone children listing")

    @requires_not_closed
    def list_descendants(self):
        """Iterate over the descendants of the image.

        :returns: :class:`ChildIterator`
        """
        raise _nie("Image.list_descendants", "clone children listing")

    @requires_not_closed
    def list_lockers(self):
        """List clients that have locked the image and information
        about the lock.

        :returns: dict - contains the following keys:

                  * ``tag`` - the tag associated with the lock (every
                    additional locker must use the same tag)
                  * ``exclusive`` - boolean indicating whether the
                     lock is exclusive or shared
                  * ``lockers`` - a list of (client, cookie, address)
                    tuples
        """
        return self._portal.run(self._async.list_lockers)

    @requires_not_closed
    def lock_acquire(self, lock_mode):
        """Acquire a managed lock on the image.

        :param lock_mode: lock mode to set
        :type lock_mode: int
        :raises: :class:`ImageBusy` if the lock could not be acquired
        """
        return self._portal.run(self._async.lock_acquire, lock_mode)

    @requires_not_closed
    def lock_release(self):
        """Release a managed lock on the image that was previously acquired."""
        return self._portal.run(self._async.lock_release)

    @requires_not_closed
    def lock_get_owners(self):
        """Iterate over the lock owners of an image.

        :returns: :class:`LockOwnerIterator`
        """
        return LockOwnerIterator(self)

    @requires_not_closed
    def lock_break(self, lock_mode, lock_owner):
        """Break the image lock held by a another client.

        :param lock_owner: the owner of the lock to break
        :type lock_owner: str
        """
        return self._portal.run(self._async.lock_break, lock_mode, lock_owner)

    @requires_not_closed
    def lock_exclusive(self, cookie):
        """Take an exclusive lock on the image.

        :raises: :class:`ImageBusy` if a different client or cookie locked it
                 :class:`ImageExists` if the same client and cookie locked it
        """
        return self._portal.run(self._async.lock_exclusive, cookie)

    @requires_not_closed
    def lock_shared(self, cookie, tag):
        """Take a shared lock on the image. The tag must match
        that of the existing lockers, if any.

        :raises: :class:`ImageBusy` if a different client or cookie locked it
                 :class:`ImageExists` if the same client and cookie locked it
        """
        return self._portal.run(self._async.lock_shared, cookie, tag)

    @requires_not_closed
    def unlock(self, cookie):
        """Release a lock on the image that was locked by this rados client."""
        return self._portal.run(self._async.unlock, cookie)

    @requires_not_closed
    def break_lock(self, client, cookie):
        """Release a lock held by another rados client."""
        return self._portal.run(self._async.break_lock, client, cookie)

    @requires_not_closed
    def mirror_image_enable(self, mode=RBD_MIRROR_IMAGE_MODE_JOURNAL):
        """Enable mirroring for the image."""
        raise _nie("Image.mirror_image_enable", "RBD mirroring")

    @requires_not_closed
    def mirror_image_disable(self, force):
        """Disable mirroring for the image.

        :param force: force disabling
        :type force: bool
        """
        raise _nie("Image.mirror_image_disable", "RBD mirroring")

    @requires_not_closed
    def mirror_image_promote(self, force):
        """Promote the image to primary for mirroring.

        :param force: force promoting
        :type force: bool
        """
        raise _nie("Image.mirror_image_promote", "RBD mirroring")

    @requires_not_closed
    def mirror_image_demote(self):
        """Demote the image to secondary for mirroring."""
        raise _nie("Image.mirror_image_demote", "RBD mirroring")

    @requires_not_closed
    def mirror_image_resync(self):
        """Flag the image to resync."""
        raise _nie("Image.mirror_image_resync", "RBD mirroring")

    @requires_not_closed
    def mirror_image_create_snapshot(self, flags=0):
        """Create mirror snapshot.

        :param flags: create snapshot flags
        :type flags: int
        :returns: int - the snapshot Id
        """
        raise _nie("Image.mirror_image_create_snapshot", "RBD mirroring")

    @requires_not_closed
    def aio_mirror_image_create_snapshot(self, flags, oncomplete):
        """Asynchronously create mirror snapshot.

        Raises :class:`InvalidArgument` if the image is not in mirror
        snapshot mode.

        oncomplete will be called with the created snap ID as
        well as the completion:

        oncomplete(completion, snap_id)

        :param flags: create snapshot flags
        :type flags: int
        :param oncomplete: what to do when the read is complete
        :type oncomplete: completion
        :returns: :class:`Completion` - the completion object
        :raises: :class:`InvalidArgument`
        """
        raise _nie("Image.aio_mirror_image_create_snapshot", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_info(self):
        """Get mirror info for the image.

        :returns: dict - contains the following keys:

            * ``global_id`` (str) - image global id

            * ``state`` (int) - mirror state

            * ``primary`` (bool) - is image primary
        """
        raise _nie("Image.mirror_image_get_info", "RBD mirroring")

    @requires_not_closed
    def aio_mirror_image_get_info(self, oncomplete):
        """Asynchronously get mirror info for the image.

        oncomplete will be called with the returned info as
        well as the completion:

        oncomplete(completion, info)

        :param oncomplete: what to do when get info is complete
        :type oncomplete: completion
        :returns: :class:`Completion` - the completion object
        """
        raise _nie("Image.aio_mirror_image_get_info", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_mode(self):
        """Get mirror mode for the image.

        :returns: int - mirror mode
        """
        raise _nie("Image.mirror_image_get_mode", "RBD mirroring")

    @requires_not_closed
    def aio_mirror_image_get_mode(self, oncomplete):
        """Asynchronously get mirror mode for the image.

        oncomplete will be called with the returned mode as
        well as the completion:

        oncomplete(completion, mode)

        :param oncomplete: what to do when get info is complete
        :type oncomplete: completion
        :returns: :class:`Completion` - the completion object
        """
        raise _nie("Image.aio_mirror_image_get_mode", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_status(self):
        """Get mirror status for the image.

        :returns: dict - contains the following keys:

            * ``name`` (str) - mirror image name

            * ``id`` (str) - mirror image id

            * ``info`` (dict) - mirror image info

            * ``state`` (int) - status mirror state

            * ``description`` (str) - status description

            * ``last_update`` (datetime) - last status update time

            * ``up`` (bool) - is mirroring agent up

            * ``remote_statuses`` (array) -

            *   ``mirror_uuid`` (str) - remote mirror uuid

            *   ``state`` (int) - status mirror state

            *   ``description`` (str) - status description

            *   ``last_update`` (datetime) - last status update time

            *   ``up`` (bool) - is mirroring agent up
        """
        raise _nie("Image.mirror_image_get_status", "RBD mirroring")

    @requires_not_closed
    def mirror_image_get_instance_id(self):
        """Get mirror instance id for the image.

        :returns: str - instance id
        """
        raise _nie("Image.mirror_image_get_instance_id", "RBD mirroring")

    @requires_not_closed
    def aio_read(self, offset, length, oncomplete, fadvise_flags=0):
        """Asynchronously read data from the image

        Raises :class:`InvalidArgument` if part of the range specified is
        outside the image.

        oncomplete will be called with the returned read value as
        well as the completion:

        oncomplete(completion, data_read)

        :param offset: the offset to start reading at
        :type offset: int
        :param length: how many bytes to read
        :type length: int
        :param oncomplete: what to do when the read is complete
        :type oncomplete: completion
        :param fadvise_flags: fadvise flags for this read
        :type fadvise_flags: int
        :returns: :class:`Completion` - the completion object
        :raises: :class:`InvalidArgument`, :class:`IOError`
        """
        offset, length = _as_uint64(offset), _as_uint64(length)
        return _image_aio(self, self._async.read, (offset, length, fadvise_flags), oncomplete,
                          with_data=True)

    @requires_not_closed
    def aio_write(self, data, offset, oncomplete, fadvise_flags=0):
        """Asynchronously write data to the image

        Raises :class:`InvalidArgument` if part of the write would fall outside
        the image.

        oncomplete will be called with the completion:

        oncomplete(completion)

        :param data: the data to be written
        :type data: bytes
        :param offset: the offset to start writing at
        :type offset: int
        :param oncomplete: what to do when the write is complete
        :type oncomplete: completion
        :param fadvise_flags: fadvise flags for this write
        :type fadvise_flags: int
        :returns: :class:`Completion` - the completion object
        :raises: :class:`InvalidArgument`, :class:`IOError`
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"expected bytes, {type(data).__name__} found")
        return _image_aio(self, self._async.write, (data, _as_uint64(offset), fadvise_flags),
                          oncomplete)

    @requires_not_closed
    def aio_discard(self, offset, length, oncomplete):
        """Asynchronously trim the range from the image. It will be logically
        filled with zeroes.
        """
        return _image_aio(self, self._async.discard, (_as_uint64(offset), _as_uint64(length)),
                          oncomplete)

    @requires_not_closed
    def aio_write_zeroes(self, offset, length, oncomplete, zero_flags=0):
        """Asynchronously Zero the range from the image. By default it will attempt
        to discard/unmap as much space as possible but any unaligned extent
        segments will still be zeroed.
        """
        return _image_aio(self, self._async.write_zeroes,
                          (_as_uint64(offset), _as_uint64(length), zero_flags), oncomplete)

    @requires_not_closed
    def aio_flush(self, oncomplete):
        """Asynchronously wait until all writes are fully flushed if caching is
        enabled.
        """
        return _image_aio(self, self._async.flush, (), oncomplete)

    @requires_not_closed
    def metadata_get(self, key):
        """Get image metadata for the given key.

        :param key: metadata key
        :type key: str
        :returns: str - metadata value
        """
        return self._portal.run(self._async.metadata_get, key)

    @requires_not_closed
    def metadata_set(self, key, value):
        """Set image metadata for the given key.

        :param key: metadata key
        :type key: str
        :param value: metadata value
        :type value: str
        """
        return self._portal.run(self._async.metadata_set, key, value)

    @requires_not_closed
    def metadata_remove(self, key):
        """Remove image metadata for the given key.

        :param key: metadata key
        :type key: str
        """
        return self._portal.run(self._async.metadata_remove, key)

    @requires_not_closed
    def metadata_list(self):
        """List image metadata.

        :returns: :class:`MetadataIterator`
        """
        return MetadataIterator(self)

    @requires_not_closed
    def watchers_list(self):
        """List image watchers.

        :returns: :class:`WatcherIterator`
        """
        return WatcherIterator(self)

    @requires_not_closed
    def config_list(self):
        """List image-level config overrides.

        :returns: :class:`ConfigImageIterator`
        """
        return ConfigImageIterator(self)

    @requires_not_closed
    def config_set(self, key, value):
        """Set an image-level configuration override.

        :param key: key
        :type key: str
        :param value: value
        :type value: str
        """
        return self._portal.run(self._async.config_set, key, value)

    @requires_not_closed
    def config_get(self, key):
        """Get an image-level configuration override.

        :param key: key
        :type key: str
        :returns: str - value
        """
        return self._portal.run(self._async.config_get, key)

    @requires_not_closed
    def config_remove(self, key):
        """Remove an image-level configuration override.

        :param key: key
        :type key: str
        """
        return self._portal.run(self._async.config_remove, key)

    @requires_not_closed
    def snap_get_namespace_type(self, snap_id):
        """Get the snapshot namespace type.
        :param snap_id: the snapshot id of a snap shot
        :type key: int
        """
        return self._portal.run(self._async.snap_get_namespace_type, snap_id)

    @requires_not_closed
    def snap_get_group_namespace(self, snap_id):
        """get the group namespace details.
        :param snap_id: the snapshot id of the group snapshot
        :type key: int
        :returns: dict - contains the following keys:

            * ``pool`` (int) - pool id

            * ``name`` (str) - group name

            * ``snap_name`` (str) - group snap name
        """
        return self._portal.run(self._async.snap_get_group_namespace, snap_id)

    @requires_not_closed
    def snap_get_trash_namespace(self, snap_id):
        """get the trash namespace details.
        :param snap_id: the snapshot id of the trash snapshot
        :type key: int
        :returns: dict - contains the following keys:

            * ``original_name`` (str) - original snap name
        """
        return self._portal.run(self._async.snap_get_trash_namespace, snap_id)

    @requires_not_closed
    def snap_get_mirror_namespace(self, snap_id):
        """get the mirror namespace details.
        :param snap_id: the snapshot id of the mirror snapshot
        :type key: int
        :returns: dict - contains the following keys:

            * ``state`` (int) - the snapshot state

            * ``mirror_peer_uuids`` (list) - mirror peer uuids

            * ``complete`` (bool) - True if snapshot is complete

            * ``primary_mirror_uuid`` (str) - primary mirror uuid

            * ``primary_snap_id`` (int) - primary snapshot Id

            *  ``last_copied_object_number`` (int) - last copied object number
        """
        return self._portal.run(self._async.snap_get_mirror_namespace, snap_id)

    @requires_not_closed
    def encryption_format(self, format, passphrase, cipher_alg=RBD_ENCRYPTION_ALGORITHM_AES256):
        raise _nie("Image.encryption_format", "image encryption")

    @requires_not_closed
    def encryption_load(self, format, passphrase):
        raise _nie("Image.encryption_load", "image encryption")


class ImageIterator:
    """Iterator over RBD images in a pool

    Yields a dictionary containing information about the images

    Keys are:

    * ``id`` (str) - image id

    * ``name`` (str) - image name
    """

    def __iter__(self):
        yield from self._images

    def __init__(self, ioctx):
        from rbdpy.librbd.api import AsyncRBD

        portal, aio = _ioctx_async(ioctx)
        self.ioctx = ioctx
        self._images = portal.run(AsyncRBD().list2, aio)


class LockOwnerIterator:
    """Iterator over managed lock owners for an image

    Yields a dictionary containing information about the image's lock

    Keys are:

    * ``mode`` (int) - active lock mode

    * ``owner`` (str) - lock owner name
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, image):
        self.image = image
        self._items = image._portal.run(image._async.lock_get_owners)


class MetadataIterator:
    """Iterator over metadata list for an image.

    Yields ``(key, value)`` tuple.

    * ``key`` (str) - metadata key
    * ``value`` (str) - metadata value
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
    """Iterator over mirror image info for a pool.

    Yields ``(image_id, info)`` tuple.
    """

    def __iter__(self):
        raise _nie("MirrorImageInfoIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx, mode_filter):
        raise _nie("MirrorImageInfoIterator.__init__", "RBD mirroring")

    def get_next_chunk(self):
        raise _nie("MirrorImageInfoIterator.get_next_chunk", "RBD mirroring")


class MirrorImageInstanceIdIterator:
    """Iterator over mirror image instance id for a pool.

    Yields ``(image_id, instance_id)`` tuple.
    """

    def __iter__(self):
        raise _nie("MirrorImageInstanceIdIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx):
        raise _nie("MirrorImageInstanceIdIterator.__init__", "RBD mirroring")

    def get_next_chunk(self):
        raise _nie("MirrorImageInstanceIdIterator.get_next_chunk", "RBD mirroring")


class MirrorImageStatusIterator:
    """Iterator over mirror image status for a pool.

    Yields a dictionary containing mirror status of an image.

    Keys are:

        * ``name`` (str) - mirror image name

        * ``id`` (str) - mirror image id

        * ``info`` (dict) - mirror image info

        * ``state`` (int) - status mirror state

        * ``description`` (str) - status description

        * ``last_update`` (datetime) - last status update time

        * ``up`` (bool) - is mirroring agent up

        * ``remote_statuses`` (array) -

        *   ``mirror uuid`` (str) - remote mirror uuid

        *   ``state`` (int) - status mirror state

        *   ``description`` (str) - status description

        *   ``last_update`` (datetime) - last status update time

        *   ``up`` (bool) - is mirroring agent up
    """

    def __iter__(self):
        raise _nie("MirrorImageStatusIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx):
        raise _nie("MirrorImageStatusIterator.__init__", "RBD mirroring")

    def get_next_chunk(self):
        raise _nie("MirrorImageStatusIterator.get_next_chunk", "RBD mirroring")


class MirrorPeerIterator:
    """Iterator over mirror peer info for a pool.

    Yields a dictionary containing information about a peer.

    Keys are:

    * ``uuid`` (str) - uuid of the peer

    * ``direction`` (int) - direction enum

    * ``site_name`` (str) - cluster name of the peer

    * ``mirror_uuid`` (str) - mirror uuid of the peer

    * ``client_name`` (str) - client name of the peer
    """

    def __iter__(self):
        raise _nie("MirrorPeerIterator.__iter__", "RBD mirroring")

    def __init__(self, ioctx):
        raise _nie("MirrorPeerIterator.__init__", "RBD mirroring")


class PoolMetadataIterator:
    """Iterator over pool metadata list.

    Yields ``(key, value)`` tuple.

    * ``key`` (str) - metadata key
    * ``value`` (str) - metadata value
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, ioctx):
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        self._items = portal.run(config.pool_metadata_list, aio)

    def get_next_chunk(self):
        # The whole list is fetched up front (in pages) by __init__.
        return None


class RBD:
    """This class wraps librbd CRUD functions."""

    def version(self):
        """Get the version number of the ``librbd`` C library.

        :returns: a tuple of ``(major, minor, extra)`` components of the
                  librbd version
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
        """Create an rbd image.

        :param ioctx: the context in which to create the image
        :type ioctx: :class:`rados.Ioctx`
        :param name: what the image is called
        :type name: str
        :param size: how big the image is in bytes
        :type size: int
        :param order: the image is split into (2**order) byte objects
        :type order: int
        :param old_format: whether to create an old-style image that
                           is accessible by old clients, but can't
                           use more advanced features like layering.
        :type old_format: bool
        :param features: bitmask of features to enable
        :type features: int
        :param stripe_unit: stripe unit in bytes (default None to let librbd decide)
        :type stripe_unit: int
        :param stripe_count: objects to stripe over before looping
        :type stripe_count: int
        :param data_pool: optional separate pool for data blocks
        :type data_pool: str
        :raises: :class:`ImageExists`
        :raises: :class:`TypeError`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        portal, aio = _ioctx_async(ioctx)
        from rbdpy.librbd.api import AsyncRBD

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
        """Clone a parent rbd snapshot into a COW sparse child.

        :param p_ioctx: the parent context that represents the parent snap
        :type ioctx: :class:`rados.Ioctx`
        :param p_name: the parent image name
        :type name: str
        :param p_snapname: the parent image snapshot name
        :type name: str
        :param c_ioctx: the child context that represents the new clone
        :type ioctx: :class:`rados.Ioctx`
        :param c_name: the clone (child) name
        :type name: str
        :param features: bitmask of features to enable; if set, must include layering
        :type features: int
        :param order: the image is split into (2**order) byte objects
        :type order: int
        :param stripe_unit: stripe unit in bytes (default None to let librbd decide)
        :type stripe_unit: int
        :param stripe_count: objects to stripe over before looping
        :type stripe_count: int
        :param data_pool: optional separate pool for data blocks
        :type data_pool: str
        :raises: :class:`TypeError`
        :raises: :class:`InvalidArgument`
        :raises: :class:`ImageExists`
        :raises: :class:`FunctionNotSupported`
        :raises: :class:`ArgumentOutOfRange`
        """
        raise _nie("RBD.clone", "clones")

    def list(self, ioctx):
        """List image names.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: list -- a list of image names
        """
        portal, aio = _ioctx_async(ioctx)
        from rbdpy.librbd.api import AsyncRBD

        return portal.run(AsyncRBD().list, aio)

    def list2(self, ioctx):
        """Iterate over the images in the pool.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :returns: :class:`ImageIterator`
        """
        return ImageIterator(ioctx)

    def remove(self, ioctx, name, on_progress=None):
        """Delete an RBD image. This may take a long time, since it does
        not return until every object that comprises the image has
        been deleted. Note that all snapshots must be deleted before
        the image can be removed. If there are snapshots left,
        :class:`ImageHasSnapshots` is raised. If the image is still
        open, or the watch from a crashed client has not expired,
        :class:`ImageBusy` is raised.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the image to remove
        :type name: str
        :param on_progress: optional progress callback function
        :type on_progress: callback function
        :raises: :class:`ImageNotFound`, :class:`ImageBusy`,
                 :class:`ImageHasSnapshots`
        """
        portal, aio = _ioctx_async(ioctx)
        from rbdpy.librbd.api import AsyncRBD

        return portal.run(AsyncRBD().remove, aio, name, on_progress)

    def rename(self, ioctx, src, dest):
        """Rename an RBD image.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param src: the current name of the image
        :type src: str
        :param dest: the new name of the image
        :type dest: str
        :raises: :class:`ImageNotFound`, :class:`ImageExists`
        """
        portal, aio = _ioctx_async(ioctx)
        from rbdpy.librbd.api import AsyncRBD

        return portal.run(AsyncRBD().rename, aio, src, dest)

    def trash_move(self, ioctx, name, delay=0):
        """Move an RBD image to the trash.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the image to remove
        :type name: str
        :param delay: time delay in seconds before the image can be deleted
                      from trash
        :type delay: int
        :raises: :class:`ImageNotFound`
        """
        raise _nie("RBD.trash_move", "the RBD trash")

    def trash_purge(self, ioctx, expire_ts=None, threshold=-1):
        """Delete RBD images from trash in bulk.

        By default it removes images with deferment end time less than now.

        The timestamp is configurable, e.g. delete images that have expired a
        week ago.

        If the threshold is used it deletes images until X% pool usage is met.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param expire_ts: timestamp for images to be considered as expired (UTC)
        :type expire_ts: datetime
        :param threshold: percentage of pool usage to be met (0 to 1)
        :type threshold: float
        """
        raise _nie("RBD.trash_purge", "the RBD trash")

    def trash_remove(self, ioctx, image_id, force=False, on_progress=None):
        """Delete an RBD image from trash. If image deferment time has not
        expired :class:`PermissionError` is raised.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_id: the id of the image to remove
        :type image_id: str
        :param force: force remove even if deferment time has not expired
        :type force: bool
        :param on_progress: optional progress callback function
        :type on_progress: callback function
        :raises: :class:`ImageNotFound`, :class:`PermissionError`
        """
        raise _nie("RBD.trash_remove", "the RBD trash")

    def trash_get(self, ioctx, image_id):
        """Retrieve RBD image info from trash.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_id: the id of the image to restore
        :type image_id: str
        :returns: dict - contains the following keys:

            * ``id`` (str) - image id

            * ``name`` (str) - image name

            * ``source`` (str) - source of deletion

            * ``deletion_time`` (datetime) - time of deletion

            * ``deferment_end_time`` (datetime) - time that an image is allowed
              to be removed from trash

        :raises: :class:`ImageNotFound`
        """
        raise _nie("RBD.trash_get", "the RBD trash")

    def trash_list(self, ioctx):
        """List all entries from trash.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :returns: :class:`TrashIterator`
        """
        raise _nie("RBD.trash_list", "the RBD trash")

    def trash_restore(self, ioctx, image_id, name):
        """Restore an RBD image from trash.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_id: the id of the image to restore
        :type image_id: str
        :param name: the new name of the restored image
        :type name: str
        :raises: :class:`ImageNotFound`
        """
        raise _nie("RBD.trash_restore", "the RBD trash")

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
        """Prepare an RBD image migration.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_name: the current name of the image
        :type src: str
        :param dest_ioctx: determines which pool to migration into
        :type dest_ioctx: :class:`rados.Ioctx`
        :param dest_image_name: the name of the destination image (may be the same image)
        :type dest_image_name: str
        :param features: bitmask of features to enable; if set, must include layering
        :type features: int
        :param order: the image is split into (2**order) byte objects
        :type order: int
        :param stripe_unit: stripe unit in bytes (default None to let librbd decide)
        :type stripe_unit: int
        :param stripe_count: objects to stripe over before looping
        :type stripe_count: int
        :param data_pool: optional separate pool for data blocks
        :type data_pool: str
        :raises: :class:`TypeError`
        :raises: :class:`InvalidArgument`
        :raises: :class:`ImageExists`
        :raises: :class:`FunctionNotSupported`
        :raises: :class:`ArgumentOutOfRange`
        """
        raise _nie("RBD.migration_prepare", "live image migration")

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
        """Prepare an RBD image migration.

        :param source_spec: JSON-encoded source-spec
        :type source_spec: str
        :param dest_ioctx: determines which pool to migration into
        :type dest_ioctx: :class:`rados.Ioctx`
        :param dest_image_name: the name of the destination image (may be the same image)
        :type dest_image_name: str
        :param features: bitmask of features to enable; if set, must include layering
        :type features: int
        :param order: the image is split into (2**order) byte objects
        :type order: int
        :param stripe_unit: stripe unit in bytes (default None to let librbd decide)
        :type stripe_unit: int
        :param stripe_count: objects to stripe over before looping
        :type stripe_count: int
        :param data_pool: optional separate pool for data blocks
        :type data_pool: str
        :raises: :class:`TypeError`
        :raises: :class:`InvalidArgument`
        :raises: :class:`ImageExists`
        :raises: :class:`FunctionNotSupported`
        :raises: :class:`ArgumentOutOfRange`
        """
        raise _nie("RBD.migration_prepare_import", "live image migration")

    def migration_execute(self, ioctx, image_name, on_progress=None):
        """Execute a prepared RBD image migration.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_name: the name of the image
        :type image_name: str
        :param on_progress: optional progress callback function
        :type on_progress: callback function
        :raises: :class:`ImageNotFound`
        """
        raise _nie("RBD.migration_execute", "live image migration")

    def migration_commit(self, ioctx, image_name, on_progress=None):
        """Commit an executed RBD image migration.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_name: the name of the image
        :type image_name: str
        :param on_progress: optional progress callback function
        :type on_progress: callback function
        :raises: :class:`ImageNotFound`
        """
        raise _nie("RBD.migration_commit", "live image migration")

    def migration_abort(self, ioctx, image_name, on_progress=None):
        """Cancel a previously started but interrupted migration.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_name: the name of the image
        :type image_name: str
        :param on_progress: optional progress callback function
        :type on_progress: callback function
        :raises: :class:`ImageNotFound`
        """
        raise _nie("RBD.migration_abort", "live image migration")

    def migration_status(self, ioctx, image_name):
        """Return RBD image migration status.

        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param image_name: the name of the image
        :type image_name: str
        :returns: dict - contains the following keys:

            * ``source_pool_id`` (int) - source image pool id

            * ``source_pool_namespace`` (str) - source image pool namespace

            * ``source_image_name`` (str) - source image name

            * ``source_image_id`` (str) - source image id

            * ``dest_pool_id`` (int) - destination image pool id

            * ``dest_pool_namespace`` (str) - destination image pool namespace

            * ``dest_image_name`` (str) - destination image name

            * ``dest_image_id`` (str) - destination image id

            * ``state`` (int) - current migration state

            * ``state_description`` (str) - migration state description

        :raises: :class:`ImageNotFound`
        """
        raise _nie("RBD.migration_status", "live image migration")

    def mirror_site_name_get(self, rados):
        """Get the local cluster's friendly site name

        :param rados: cluster connection
        :type rados: :class: rados.Rados
        :returns: str - local site name
        """
        raise _nie("RBD.mirror_site_name_get", "RBD mirroring")

    def mirror_site_name_set(self, rados, site_name):
        """Set the local cluster's friendly site name

        :param rados: cluster connection
        :type rados: :class: rados.Rados
        :param site_name: friendly site name
        :type str:
        """
        raise _nie("RBD.mirror_site_name_set", "RBD mirroring")

    def mirror_mode_get(self, ioctx):
        """Get pool mirror mode.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: int - pool mirror mode
        """
        raise _nie("RBD.mirror_mode_get", "RBD mirroring")

    def mirror_mode_set(self, ioctx, mirror_mode):
        """Set pool mirror mode.

        :param ioctx: determines which RADOS pool is written
        :type ioctx: :class:`rados.Ioctx`
        :param mirror_mode: mirror mode to set
        :type mirror_mode: int
        """
        raise _nie("RBD.mirror_mode_set", "RBD mirroring")

    def mirror_uuid_get(self, ioctx):
        """Get pool mirror uuid

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: ste - pool mirror uuid
        """
        raise _nie("RBD.mirror_uuid_get", "RBD mirroring")

    def mirror_peer_bootstrap_create(self, ioctx):
        """Creates a new RBD mirroring bootstrap token for an
        external cluster.

        :param ioctx: determines which RADOS pool is written
        :type ioctx: :class:`rados.Ioctx`
        :returns: str - bootstrap token
        """
        raise _nie("RBD.mirror_peer_bootstrap_create", "RBD mirroring")

    def mirror_peer_bootstrap_import(self, ioctx, direction, token):
        """Import a bootstrap token from an external cluster to
        auto-configure the mirror peer.

        :param ioctx: determines which RADOS pool is written
        :type ioctx: :class:`rados.Ioctx`
        :param direction: mirror peer direction
        :type direction: int
        :param token: bootstrap token
        :type token: str
        """
        raise _nie("RBD.mirror_peer_bootstrap_import", "RBD mirroring")

    def mirror_peer_add(
        self, ioctx, site_name, client_name, direction=RBD_MIRROR_PEER_DIRECTION_RX_TX
    ):
        """Add mirror peer.

        :param ioctx: determines which RADOS pool is used
        :type ioctx: :class:`rados.Ioctx`
        :param site_name: mirror peer site name
        :type site_name: str
        :param client_name: mirror peer client name
        :type client_name: str
        :param direction: the direction of the mirroring
        :type direction: int
        :returns: str - peer uuid
        """
        raise _nie("RBD.mirror_peer_add", "RBD mirroring")

    def mirror_peer_remove(self, ioctx, uuid):
        """Remove mirror peer.

        :param ioctx: determines which RADOS pool is used
        :type ioctx: :class:`rados.Ioctx`
        :param uuid: peer uuid
        :type uuid: str
        """
        raise _nie("RBD.mirror_peer_remove", "RBD mirroring")

    def mirror_peer_list(self, ioctx):
        """Iterate over the peers of a pool.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: :class:`MirrorPeerIterator`
        """
        raise _nie("RBD.mirror_peer_list", "RBD mirroring")

    def mirror_peer_set_client(self, ioctx, uuid, client_name):
        """Set mirror peer client name

        :param ioctx: determines which RADOS pool is written
        :type ioctx: :class:`rados.Ioctx`
        :param uuid: uuid of the mirror peer
        :type uuid: str
        :param client_name: client name of the mirror peer to set
        :type client_name: str
        """
        raise _nie("RBD.mirror_peer_set_client", "RBD mirroring")

    def mirror_peer_set_name(self, ioctx, uuid, site_name):
        """Set mirror peer site name

        :param ioctx: determines which RADOS pool is written
        :type ioctx: :class:`rados.Ioctx`
        :param uuid: uuid of the mirror peer
        :type uuid: str
        :param site_name: site name of the mirror peer to set
        :type site_name: str
        """
        raise _nie("RBD.mirror_peer_set_name", "RBD mirroring")

    def mirror_peer_set_cluster(self, ioctx, uuid, cluster_name):
        raise _nie("RBD.mirror_peer_set_cluster", "RBD mirroring")

    def mirror_peer_get_attributes(self, ioctx, uuid):
        """Get optional mirror peer attributes

        :param ioctx: determines which RADOS pool is written
        :type ioctx: :class:`rados.Ioctx`
        :param uuid: uuid of the mirror peer
        :type uuid: str

        :returns: dict - contains the following keys:

            * ``mon_host`` (str) - monitor addresses

            * ``key`` (str) - CephX key
        """
        raise _nie("RBD.mirror_peer_get_attributes", "RBD mirroring")

    def mirror_peer_set_attributes(self, ioctx, uuid, attributes):
        """Set optional mirror peer attributes

        :param ioctx: determines which RADOS pool is written
        :type ioctx: :class:`rados.Ioctx`
        :param uuid: uuid of the mirror peer
        :type uuid: str
        :param attributes: 'mon_host' and 'key' attributes
        :type attributes: dict
        """
        raise _nie("RBD.mirror_peer_set_attributes", "RBD mirroring")

    def mirror_image_status_list(self, ioctx):
        """Iterate over the mirror image statuses of a pool.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: :class:`MirrorImageStatusIterator`
        """
        raise _nie("RBD.mirror_image_status_list", "RBD mirroring")

    def mirror_image_status_summary(self, ioctx):
        """Get mirror image status summary of a pool.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: list - a list of (state, count) tuples
        """
        raise _nie("RBD.mirror_image_status_summary", "RBD mirroring")

    def mirror_image_instance_id_list(self, ioctx):
        """Iterate over the mirror image instance ids of a pool.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: :class:`MirrorImageInstanceIdIterator`
        """
        raise _nie("RBD.mirror_image_instance_id_list", "RBD mirroring")

    def mirror_image_info_list(self, ioctx, mode_filter=None):
        """Iterate over the mirror image instance ids of a pool.

        :param ioctx: determines which RADOS pool is read
        :param mode_filter: list images in this image mirror mode
        :type ioctx: :class:`rados.Ioctx`
        :returns: :class:`MirrorImageInfoIterator`
        """
        raise _nie("RBD.mirror_image_info_list", "RBD mirroring")

    def pool_metadata_get(self, ioctx, key):
        """Get pool metadata for the given key.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :param key: metadata key
        :type key: str
        :returns: str - metadata value
        """
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_metadata_get, aio, key)

    def pool_metadata_set(self, ioctx, key, value):
        """Set pool metadata for the given key.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :param key: metadata key
        :type key: str
        :param value: metadata value
        :type value: str
        """
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_metadata_set, aio, key, value)

    def pool_metadata_remove(self, ioctx, key):
        """Remove pool metadata for the given key.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :param key: metadata key
        :type key: str
        :returns: str - metadata value
        """
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_metadata_remove, aio, key)

    def pool_metadata_list(self, ioctx):
        """List pool metadata.

        :returns: :class:`PoolMetadataIterator`
        """
        return PoolMetadataIterator(ioctx)

    def config_list(self, ioctx):
        """List pool-level config overrides.

        :returns: :class:`ConfigPoolIterator`
        """
        return ConfigPoolIterator(ioctx)

    def config_get(self, ioctx, key):
        """Get a pool-level configuration override.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :param key: key
        :type key: str
        :returns: str - value
        """
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.config_get, aio, key)

    def config_set(self, ioctx, key, value):
        """Get a pool-level configuration override.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :param key: key
        :type key: str
        :param value: value
        :type value: str
        """
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.config_set, aio, key, value)

    def config_remove(self, ioctx, key):
        """Remove a pool-level configuration override.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :param key: key
        :type key: str
        :returns: str - value
        """
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.config_remove, aio, key)

    def group_create(self, ioctx, name):
        """Create a group.

        :param ioctx: determines which RADOS pool is used
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the group
        :type name: str
        :raises: :class:`ObjectExists`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("RBD.group_create", "RBD groups")

    def group_remove(self, ioctx, name):
        """Delete an RBD group. This may take a long time, since it does
        not return until every image in the group has been removed
        from the group.

        :param ioctx: determines which RADOS pool the group is in
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the group to remove
        :type name: str
        :raises: :class:`ObjectNotFound`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("RBD.group_remove", "RBD groups")

    def group_list(self, ioctx):
        """List groups.

        :param ioctx: determines which RADOS pool is read
        :type ioctx: :class:`rados.Ioctx`
        :returns: list -- a list of groups names
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("RBD.group_list", "RBD groups")

    def group_rename(self, ioctx, src, dest):
        """Rename an RBD group.

        :param ioctx: determines which RADOS pool the group is in
        :type ioctx: :class:`rados.Ioctx`
        :param src: the current name of the group
        :type src: str
        :param dest: the new name of the group
        :type dest: str
        :raises: :class:`ObjectExists`
        :raises: :class:`ObjectNotFound`
        :raises: :class:`InvalidArgument`
        :raises: :class:`FunctionNotSupported`
        """
        raise _nie("RBD.group_rename", "RBD groups")

    def namespace_create(self, ioctx, name):
        """Create an RBD namespace within a pool

        :param ioctx: determines which RADOS pool
        :type ioctx: :class:`rados.Ioctx`
        :param name: namespace name
        :type name: str
        """
        raise _nie("RBD.namespace_create", "RADOS namespaces management")

    def namespace_remove(self, ioctx, name):
        """Remove an RBD namespace from a pool

        :param ioctx: determines which RADOS pool
        :type ioctx: :class:`rados.Ioctx`
        :param name: namespace name
        :type name: str
        """
        raise _nie("RBD.namespace_remove", "RADOS namespaces management")

    def namespace_exists(self, ioctx, name):
        """Verifies if a namespace exists within a pool

        :param ioctx: determines which RADOS pool
        :type ioctx: :class:`rados.Ioctx`
        :param name: namespace name
        :type name: str
        :returns: bool - true if namespace exists
        """
        raise _nie("RBD.namespace_exists", "RADOS namespaces management")

    def namespace_list(self, ioctx):
        """List all namespaces within a pool

        :param ioctx: determines which RADOS pool
        :type ioctx: :class:`rados.Ioctx`
        :returns: list - collection of namespace names
        """
        raise _nie("RBD.namespace_list", "RADOS namespaces management")

    def pool_init(self, ioctx, force):
        """Initialize an RBD pool
        :param ioctx: determines which RADOS pool
        :type ioctx: :class:`rados.Ioctx`
        :param force: force init
        :type force: bool
        """
        from rbdpy.librbd import config

        portal, aio = _ioctx_async(ioctx)
        return portal.run(config.pool_init, aio, force)

    def pool_stats_get(self, ioctx):
        """Return RBD pool stats

        :param ioctx: determines which RADOS pool
        :type ioctx: :class:`rados.Ioctx`
        :returns: dict - contains the following keys:

            * ``image_count`` (int) - image count

            * ``image_provisioned_bytes`` (int) - image total HEAD provisioned bytes

            * ``image_max_provisioned_bytes`` (int) - image total max provisioned bytes

            * ``image_snap_count`` (int) - image snap count

            * ``trash_count`` (int) - trash image count

            * ``trash_provisioned_bytes`` (int) - trash total HEAD provisioned bytes

            * ``trash_max_provisioned_bytes`` (int) - trash total max provisioned bytes

            * ``trash_snap_count`` (int) - trash snap count
        """
        raise _nie("RBD.pool_stats_get", "pool management")

    def features_to_string(self, features):
        """Convert features bitmask to str.

        :param features: feature bitmask
        :type features: int
        :returns: str - the features str of the image
        :raises: :class:`InvalidArgument`
        """
        bits = _as_uint64(features)
        if bits & ~RBD_FEATURES_ALL:
            raise make_ex(-errno.EINVAL, "error converting features bitmask to str")
        return ",".join(name for name, bit in _FEATURE_BY_NAME.items() if bits & bit)

    def features_from_string(self, str_features):
        """Get features bitmask from str, if str_features is empty, it will return
        RBD_FEATURES_DEFAULT.

        :param str_features: feature str
        :type str_features: str
        :returns: int - the features bitmask of the image
        :raises: :class:`InvalidArgument`
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
        """Asynchronously open the image at the given snapshot.
        Specify either name or id, otherwise :class:`InvalidArgument` is raised.

        oncomplete will be called with the created Image object as
        well as the completion:

        oncomplete(completion, image)

        If a snapshot is specified, the image will be read-only, unless
        :func:`Image.set_snap` is called later.

        If read-only mode is used, metadata for the :class:`Image`
        object (such as which snapshots exist) may become obsolete. See
        the C api for more details.

        To clean up from opening the image, :func:`Image.close` or
        :func:`Image.aio_close` should be called.

        :param oncomplete: what to do when open is complete
        :type oncomplete: completion
        :param ioctx: determines which RADOS pool the image is in
        :type ioctx: :class:`rados.Ioctx`
        :param name: the name of the image
        :type name: str
        :param snapshot: which snapshot to read from
        :type snaphshot: str
        :param read_only: whether to open the image in read-only mode
        :type read_only: bool
        :param image_id: the id of the image
        :type image_id: str
        :returns: :class:`Completion` - the completion object
        """
        raise _nie("RBD.aio_open_image", "asynchronous I/O")


class SnapIterator:
    """Iterator over snapshot info for an image.

    Yields a dictionary containing information about a snapshot.

    Keys are:

    * ``id`` (int) - numeric identifier of the snapshot

    * ``size`` (int) - size of the image at the time of snapshot (in bytes)

    * ``name`` (str) - name of the snapshot

    * ``namespace`` (int) - enum for snap namespace

    * ``group`` (dict) - optional for group namespace snapshots

    * ``trash`` (dict) - optional for trash namespace snapshots

    * ``mirror`` (dict) - optional for mirror namespace snapshots
    """

    def __iter__(self):
        yield from self._snaps

    def __init__(self, image):
        self.image = image
        self._snaps = image._portal.run(image._async.list_snaps)


class TrashIterator:
    """Iterator over trash entries.

    Yields a dictionary containing trash info of an image.

    Keys are:

        * `id` (str) - image id

        * `name` (str) - image name

        * `source` (str) - source of deletion

        * `deletion_time` (datetime) - time of deletion

        * `deferment_end_time` (datetime) - time that an image is allowed to be
                                            removed from trash
    """

    def __iter__(self):
        raise _nie("TrashIterator.__iter__", "the RBD trash")

    def __init__(self, ioctx):
        raise _nie("TrashIterator.__init__", "the RBD trash")


class WatcherIterator:
    """Iterator over watchers of an image.

    Yields a dictionary containing information about a watcher.

    Keys are:

    * ``addr`` (str) - address of the watcher

    * ``id`` (int) - id of the watcher

    * ``cookie`` (int) - the watcher's cookie
    """

    def __iter__(self):
        yield from self._items

    def __init__(self, image):
        self.image = image
        self._items = image._portal.run(image._async.watchers_list)
