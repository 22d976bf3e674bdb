"""RBD feature bits, header flags and the names of the RADOS objects an RBD pool holds.

Theory of operation: an image's capabilities are a 64-bit feature mask kept in its header;
a client must refuse to open an image whose *incompatible* features it does not know (and
refuse to write one with unknown *rw-incompatible* features). librbd names each feature
("layering", "exclusive-lock", ...) for the CLI and for ``rbd_default_features``;
``features_to_string`` / ``features_from_string`` reproduce librbd's conversions exactly,
including its ordering (alphabetical, from a ``std::map``), its numeric form and its
errors. The object-name builders produce the format-2 names (``rbd_id.<name>``,
``rbd_header.<id>``, ``<object_prefix>.<objectno %016x>``, ``rbd_object_map.<id>[.<snap>]``)
plus the format-1 names needed to recognise and read a legacy image.

Mirrors: ceph src/include/rbd/features.h, src/include/rbd_types.h,
src/include/rbd/object_map_types.h, src/librbd/Features.cc, src/librbd/Utils.cc,
src/librbd/ObjectMap.cc (object_map_name), src/librbd/image/CreateRequest.cc (object
prefix); kernel drivers/block/rbd_types.h.
"""

from __future__ import annotations

import errno as _errno
import re

from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

# -- feature bits (src/include/rbd/features.h) ------------------------------------------

RBD_FEATURE_LAYERING = 1 << 0
RBD_FEATURE_STRIPINGV2 = 1 << 1
RBD_FEATURE_EXCLUSIVE_LOCK = 1 << 2
RBD_FEATURE_OBJECT_MAP = 1 << 3
RBD_FEATURE_FAST_DIFF = 1 << 4
RBD_FEATURE_DEEP_FLATTEN = 1 << 5
RBD_FEATURE_JOURNALING = 1 << 6
RBD_FEATURE_DATA_POOL = 1 << 7
RBD_FEATURE_OPERATIONS = 1 << 8
RBD_FEATURE_MIGRATING = 1 << 9
RBD_FEATURE_NON_PRIMARY = 1 << 10
RBD_FEATURE_DIRTY_CACHE = 1 << 11

RBD_FEATURES_DEFAULT = (RBD_FEATURE_LAYERING | RBD_FEATURE_EXCLUSIVE_LOCK
                        | RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF
                        | RBD_FEATURE_DEEP_FLATTEN)

RBD_FEATURE_NAME_LAYERING = "layering"
RBD_FEATURE_NAME_STRIPINGV2 = "striping"
RBD_FEATURE_NAME_EXCLUSIVE_LOCK = "exclusive-lock"
RBD_FEATURE_NAME_OBJECT_MAP = "object-map"
RBD_FEATURE_NAME_FAST_DIFF = "fast-diff"
RBD_FEATURE_NAME_DEEP_FLATTEN = "deep-flatten"
RBD_FEATURE_NAME_JOURNALING = "journaling"
RBD_FEATURE_NAME_DATA_POOL = "data-pool"
RBD_FEATURE_NAME_OPERATIONS = "operations"
RBD_FEATURE_NAME_MIGRATING = "migrating"
RBD_FEATURE_NAME_NON_PRIMARY = "non-primary"
RBD_FEATURE_NAME_DIRTY_CACHE = "dirty-cache"

# Features that make an image unreadable by clients that do not understand them.
RBD_FEATURES_INCOMPATIBLE = (RBD_FEATURE_LAYERING | RBD_FEATURE_STRIPINGV2
                             | RBD_FEATURE_DATA_POOL | RBD_FEATURE_DIRTY_CACHE)

# Features that make an image unwritable by clients that do not understand them.
RBD_FEATURES_RW_INCOMPATIBLE = (RBD_FEATURES_INCOMPATIBLE | RBD_FEATURE_EXCLUSIVE_LOCK
                                | RBD_FEATURE_OBJECT_MAP | RBD_FEATURE_FAST_DIFF
                                | RBD_FEATURE_DEEP_FLATTEN | RBD_FEATURE_JOURNALING
                                | RBD_FEATURE_OPERATIONS | RBD_FEATURE_MIGRATING
                                | RBD_FEATURE_NON_PRIMARY)

RBD_FEATURES_ALL = (RBD_FEATURE_LAYERING | RBD_FEATURE_STRIPINGV2
                    | RBD_FEATURE_EXCLUSIVE_LOCK | RBD_FEATURE_OBJECT_MAP
                    | RBD_FEATURE_FAST_DIFF | RBD_FEATURE_DEEP_FLATTEN
                    | RBD_FEATURE_JOURNALING | RBD_FEATURE_DATA_POOL
                    | RBD_FEATURE_OPERATIONS | RBD_FEATURE_MIGRATING
                    | RBD_FEATURE_NON_PRIMARY | RBD_FEATURE_DIRTY_CACHE)

# Features that may be enabled or disabled on an existing image.
RBD_FEATURES_MUTABLE = (RBD_FEATURE_EXCLUSIVE_LOCK | RBD_FEATURE_OBJECT_MAP
                        | RBD_FEATURE_FAST_DIFF | RBD_FEATURE_JOURNALING
                        | RBD_FEATURE_NON_PRIMARY | RBD_FEATURE_DIRTY_CACHE)

# Mutable, but only by librbd itself (mirroring, persistent cache).
RBD_FEATURES_MUTABLE_INTERNAL = RBD_FEATURE_NON_PRIMARY | RBD_FEATURE_DIRTY_CACHE

# Features that may be disabled but never re-enabled.
RBD_FEATURES_DISABLE_ONLY = RBD_FEATURE_DEEP_FLATTEN

# Features that only work while a single client writes the image.
RBD_FEATURES_SINGLE_CLIENT = (RBD_FEATURE_EXCLUSIVE_LOCK | RBD_FEATURE_OBJECT_MAP
                              | RBD_FEATURE_FAST_DIFF | RBD_FEATURE_JOURNALING
                              | RBD_FEATURE_DIRTY_CACHE)

# Features librbd turns on by itself when the situation calls for them.
RBD_FEATURES_IMPLICIT_ENABLE = (RBD_FEATURE_STRIPINGV2 | RBD_FEATURE_DATA_POOL
                                | RBD_FEATURE_FAST_DIFF | RBD_FEATURE_OPERATIONS
                                | RBD_FEATURE_MIGRATING | RBD_FEATURE_NON_PRIMARY
                                | RBD_FEATURE_DIRTY_CACHE)

# Features the user can never request.
RBD_FEATURES_INTERNAL = RBD_FEATURE_OPERATIONS | RBD_FEATURE_MIGRATING

# librbd's RBD_FEATURE_MAP is a std::map<std::string, uint64_t>: iteration, and therefore
# features_to_string's output, is in name order.
RBD_FEATURE_MAP: dict[str, int] = dict(sorted({
    RBD_FEATURE_NAME_LAYERING: RBD_FEATURE_LAYERING,
    RBD_FEATURE_NAME_STRIPINGV2: RBD_FEATURE_STRIPINGV2,
    RBD_FEATURE_NAME_EXCLUSIVE_LOCK: RBD_FEATURE_EXCLUSIVE_LOCK,
    RBD_FEATURE_NAME_OBJECT_MAP: RBD_FEATURE_OBJECT_MAP,
    RBD_FEATURE_NAME_FAST_DIFF: RBD_FEATURE_FAST_DIFF,
    RBD_FEATURE_NAME_DEEP_FLATTEN: RBD_FEATURE_DEEP_FLATTEN,
    RBD_FEATURE_NAME_JOURNALING: RBD_FEATURE_JOURNALING,
    RBD_FEATURE_NAME_DATA_POOL: RBD_FEATURE_DATA_POOL,
    RBD_FEATURE_NAME_OPERATIONS: RBD_FEATURE_OPERATIONS,
    RBD_FEATURE_NAME_MIGRATING: RBD_FEATURE_MIGRATING,
    RBD_FEATURE_NAME_NON_PRIMARY: RBD_FEATURE_NON_PRIMARY,
    RBD_FEATURE_NAME_DIRTY_CACHE: RBD_FEATURE_DIRTY_CACHE,
}.items()))

# -- operation features (header "op_features"; features.h) --------------------------------

RBD_OPERATION_FEATURE_CLONE_PARENT = 1 << 0
RBD_OPERATION_FEATURE_CLONE_CHILD = 1 << 1
RBD_OPERATION_FEATURE_GROUP = 1 << 2
RBD_OPERATION_FEATURE_SNAP_TRASH = 1 << 3

RBD_OPERATION_FEATURE_NAME_CLONE_PARENT = "clone-parent"
RBD_OPERATION_FEATURE_NAME_CLONE_CHILD = "clone-child"
RBD_OPERATION_FEATURE_NAME_GROUP = "group"
RBD_OPERATION_FEATURE_NAME_SNAP_TRASH = "snap-trash"

RBD_OPERATION_FEATURES_ALL = (RBD_OPERATION_FEATURE_CLONE_PARENT
                              | RBD_OPERATION_FEATURE_CLONE_CHILD
                              | RBD_OPERATION_FEATURE_GROUP
                              | RBD_OPERATION_FEATURE_SNAP_TRASH)

# In bit order, as the rbd CLI prints "op_features" (tools/rbd/action/Info.cc).
RBD_OPERATION_FEATURE_MAP: dict[str, int] = {
    RBD_OPERATION_FEATURE_NAME_CLONE_PARENT: RBD_OPERATION_FEATURE_CLONE_PARENT,
    RBD_OPERATION_FEATURE_NAME_CLONE_CHILD: RBD_OPERATION_FEATURE_CLONE_CHILD,
    RBD_OPERATION_FEATURE_NAME_GROUP: RBD_OPERATION_FEATURE_GROUP,
    RBD_OPERATION_FEATURE_NAME_SNAP_TRASH: RBD_OPERATION_FEATURE_SNAP_TRASH,
}

# -- header flags (librbd/Types.h; include/rbd/librbd.h) ----------------------------------

RBD_FLAG_OBJECT_MAP_INVALID = 1 << 0
RBD_FLAG_FAST_DIFF_INVALID = 1 << 1

# -- snapshot protection status (rbd_types.h) ---------------------------------------------

RBD_PROTECTION_STATUS_UNPROTECTED = 0
RBD_PROTECTION_STATUS_UNPROTECTING = 1
RBD_PROTECTION_STATUS_PROTECTED = 2
RBD_PROTECTION_STATUS_LAST = 3

# -- object names (src/include/rbd_types.h) -----------------------------------------------

RBD_HEADER_PREFIX = "rbd_header."
RBD_OBJECT_MAP_PREFIX = "rbd_object_map."
RBD_DATA_PREFIX = "rbd_data."
RBD_ID_PREFIX = "rbd_id."

RBD_SUFFIX = ".rbd"  # format 1: "<name>.rbd" holds the whole header
RBD_DIRECTORY = "rbd_directory"
RBD_INFO = "rbd_info"
RBD_NAMESPACE = "rbd_namespace"
RBD_TASK = "rbd_task"
RBD_CHILDREN = "rbd_children"
RBD_LOCK_NAME = "rbd_lock"
RBD_MIRRORING = "rbd_mirroring"
RBD_MIRROR_LEADER = "rbd_mirror_leader"
RBD_MIRROR_INSTANCE_PREFIX = "rbd_mirror_instance."
RBD_GROUP_HEADER_PREFIX = "rbd_group_header."
RBD_GROUP_DIRECTORY = "rbd_group_directory"
RBD_TRASH = "rbd_trash"

RBD_DEFAULT_OBJ_ORDER = 22  # 4 MiB objects
RBD_MAX_OBJ_NAME_SIZE = 96
RBD_MAX_BLOCK_NAME_SIZE = 24
# "rbd_data." + id + NUL must fit the 24-byte block name of the old on-disk header.
RBD_MAX_IMAGE_ID_LENGTH = 14
# rbd_data.[<pool id, max 19>.]<image id, max 14>; v1 rb.<hi>.<lo>.<extra>.
RBD_MAX_BLOCK_NAME_PREFIX_LENGTH = 43

# Format 1 on-disk header (struct rbd_obj_header_ondisk) magic strings.
RBD_HEADER_TEXT = b"<<< Rados Block Device Image >>>\n"
RBD_MIGRATE_HEADER_TEXT = b"<<< Migrating RBD Image      >>>\n"
RBD_HEADER_SIGNATURE = b"RBD"
RBD_HEADER_VERSION = b"001.005"

# -- object map states (src/include/rbd/object_map_types.h) -------------------------------

OBJECT_NONEXISTENT = 0
OBJECT_EXISTS = 1
OBJECT_PENDING = 2
OBJECT_EXISTS_CLEAN = 3

# cls::rbd::MAX_OBJECT_MAP_OBJECT_COUNT: object_map_resize refuses larger maps (EINVAL) and
# librbd refuses to create an object-map image spanning more objects.
MAX_OBJECT_MAP_OBJECT_COUNT = 256_000_000


# -- feature strings (src/librbd/Features.cc) ---------------------------------------------

_NUMBER = re.compile(r"[+-]?[0-9]+")

def features_to_string(features: int) -> str:
    """Comma-separated feature names in librbd's (alphabetical) order.

    :raises CephError: EINVAL if ``features`` has bits librbd does not name, as
        ``rbd_features_to_string`` (python-rbd's ``RBD.features_to_string``) reports.
    """
    names = [name for name, bit in RBD_FEATURE_MAP.items() if features & bit]
    unknown = features & ~RBD_FEATURES_ALL
    if unknown:
        raise CephError(_errno.EINVAL, f"ignoring unknown feature mask 0x{unknown:x}")
    return ",".join(names)


def features_from_string(value: str) -> int:
    """Parse a feature list or number as librbd does (``rbd_features_from_string``).

    An empty (or blank) string means :data:`RBD_FEATURES_DEFAULT`. A decimal number is a
    mask: unknown bits, and the bits no user may set (``RBD_FEATURES_INTERNAL`` and
    ``RBD_FEATURES_MUTABLE_INTERNAL``), are errors. Otherwise a comma-separated list of
    names, each trimmed; librbd *adds* the values, so a repeated name counts twice.

    :raises CephError: EINVAL for anything librbd would complain about (it drops the
        offending part and the C API then returns -EINVAL).
    """
    text = value.strip()
    if not text:
        return RBD_FEATURES_DEFAULT
    if _NUMBER.fullmatch(text):
        # boost::lexical_cast<uint64_t> takes a sign ("-1" wraps to all ones).
        features = int(text)
        if not -(1 << 64) < features < 1 << 64:
            raise CephError(_errno.EINVAL, f"feature mask {text} out of range")
        features &= (1 << 64) - 1
        unknown = features & ~RBD_FEATURES_ALL
        if unknown:
            raise CephError(_errno.EINVAL, f"ignoring unknown feature mask 0x{unknown:x}")
        internal = features & (RBD_FEATURES_INTERNAL | RBD_FEATURES_MUTABLE_INTERNAL)
        if internal:
            raise CephError(_errno.EINVAL, f"ignoring feature mask 0x{internal:x}")
        return features
    features = 0
    bad: list[str] = []
    for name in text.split(","):
        bit = RBD_FEATURE_MAP.get(name.strip())
        if bit is None:
            bad.append(name.strip())
        else:
            features += bit
    if bad:
        raise CephError(_errno.EINVAL,
                        ", ".join(f"ignoring unknown feature {n}" for n in bad))
    return features


def op_features_to_string(op_features: int) -> str:
    """Operation feature names, comma-separated in bit order (as ``rbd info`` lists them)."""
    return ",".join(n for n, bit in RBD_OPERATION_FEATURE_MAP.items() if op_features & bit)


# -- object names (src/librbd/Utils.cc, ObjectMap.cc, image/CreateRequest.cc) -------------

def id_obj_name(image_name: str) -> str:
    """``rbd_id.<name>``: holds the image id of format-2 image ``image_name``."""
    return RBD_ID_PREFIX + image_name


def header_name(image_id: str) -> str:
    """``rbd_header.<id>``: the format-2 header (omap metadata, lock, watch target)."""
    return RBD_HEADER_PREFIX + image_id


def old_header_name(image_name: str) -> str:
    """``<name>.rbd``: the whole format-1 header; its existence marks a legacy image."""
    return image_name + RBD_SUFFIX


def group_header_name(group_id: str) -> str:
    """``rbd_group_header.<group id>``."""
    return RBD_GROUP_HEADER_PREFIX + group_id


def object_map_name(image_id: str, snap_id: int = CEPH_NOSNAP) -> str:
    """``rbd_object_map.<id>`` for HEAD, ``rbd_object_map.<id>.<snap_id %016x>`` for a snap."""
    oid = RBD_OBJECT_MAP_PREFIX + image_id
    if snap_id != CEPH_NOSNAP:
        oid += f".{snap_id:016x}"
    return oid


def data_object_prefix(image_id: str, data_pool_pool_id: int | None = None) -> str:
    """The ``object_prefix`` librbd stores when it creates an image.

    ``rbd_data.<id>``, or ``rbd_data.<metadata pool id>.<id>`` when the data lives in a
    separate data pool (so images of several pools sharing one data pool cannot clash).
    Readers must use the prefix stored in the header rather than rebuild it.

    :param data_pool_pool_id: the id of the pool holding the *header* (not of the data
        pool), or None for no data pool.
    """
    if data_pool_pool_id is None:
        return RBD_DATA_PREFIX + image_id
    return f"{RBD_DATA_PREFIX}{data_pool_pool_id}.{image_id}"


def data_object_name(object_prefix: str, objectno: int, old_format: bool = False) -> str:
    """``<object_prefix>.<objectno>``: ``%016x`` for format 2, ``%012x`` for format 1."""
    if old_format:
        return f"{object_prefix}.{objectno:012x}"
    return f"{object_prefix}.{objectno:016x}"


def generate_image_id(instance_id: int, extra: int) -> str:
    """An image id as librbd makes one (``util::generate_image_id``).

    hex(client instance id) + hex(random u32), keeping the last
    :data:`RBD_MAX_IMAGE_ID_LENGTH` characters.

    :param instance_id: the rados client's global/instance id.
    :param extra: a random 32-bit value.
    """
    image_id = f"{instance_id:x}{extra & 0xFFFF_FFFF:x}"
    return image_id[-RBD_MAX_IMAGE_ID_LENGTH:]
