"""cls_rbd call builders and reply decoders: one function per method librbd uses.

Theory of operation: an RBD image is a handful of RADOS objects whose metadata lives in
omap and is only ever changed through the OSD class "rbd" (src/cls/rbd/cls_rbd.cc). Each
function below is the pair ``<method>_start``/``<method>_finish`` of Ceph's
cls_rbd_client: it encodes the method's input and returns a :class:`ClsCall` whose
``decode_reply`` reads the OSD's output (``DecodeError``/EBADMSG if it does not decode).
Functions are named exactly as the cls method and grouped by the object they are sent to,
in cls_rbd_client.h's order. They never do I/O: librbd sends them, often several in one
compound op on the same object (e.g. get_size + get_features + get_snapcontext +
parent_get on ``rbd_header.<id>``).

There is no "snapshot_list" method (a Pacific OSD answers EOPNOTSUPP): librbd lists
snapshots with :func:`get_snapcontext` and one :func:`snapshot_get` per id, batched.

Encodings are Ceph's plain ``encode()`` of the listed arguments, in order: integers
little-endian (``snapid_t`` is a le64), ``std::string``/``bufferlist`` a le32 length and
bytes, ``bool`` one byte, enums as noted (u8 unless a method says otherwise), containers
a le32 count then elements, cls::rbd types as versioned envelopes (rbdpy.format.types).
Reply decoders accept the envelope versions those types accept and skip fields newer OSDs
append (see each type's docstring); plain-integer replies have no version to check.

Mirrors: ceph src/cls/rbd/cls_rbd_client.h / cls_rbd_client.cc (argument and reply
encodings), src/cls/rbd/cls_rbd.cc (what the OSD decodes and returns),
src/cls/rbd/cls_rbd_types.h (DirectoryState, MirrorMode, AssertSnapcSeqState).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import IntEnum
from typing import NamedTuple, TypeVar

from rbdpy.format.cls import ClsCall, build
from rbdpy.format.object_map import BitVector
from rbdpy.format.types import (
    ChildImageSpec,
    GroupImageSpec,
    GroupImageStatus,
    GroupSnapshot,
    GroupSpec,
    MigrationSpec,
    MirrorImage,
    ParentImageSpec,
    SnapshotInfo,
    SnapshotNamespace,
    TrashImageSpec,
    UserSnapshotNamespace,
    UTime,
)
from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.types import SnapContext

_CLS = "rbd"

_T = TypeVar("_T")
_Enc = Callable[[Encoder], None]
_Dec = Callable[[Decoder], _T]


class DirectoryState(IntEnum):
    """``cls::rbd::DirectoryState`` (encoded as u8)."""

    READY = 0
    ADD_DISABLED = 1


class MirrorMode(IntEnum):
    """``cls::rbd::MirrorMode`` (encoded as le32 by mirror_mode_get/set)."""

    DISABLED = 0
    IMAGE = 1
    POOL = 2


class AssertSnapcSeqState(IntEnum):
    """``cls::rbd::AssertSnapcSeqState`` (encoded as u8)."""

    GT_MAX_SNAP_ID = 0
    LE_SNAP_ID = 1


class ImageSize(NamedTuple):
    """``get_size`` reply: the wire order is u8 order, le64 size."""

    size: int
    order: int


class Features(NamedTuple):
    """``get_features`` reply: le64 features, le64 incompatible features."""

    features: int
    incompatible: int


class StripeUnitCount(NamedTuple):
    """``get_stripe_unit_count`` reply: le64 stripe_unit, le64 stripe_count."""

    stripe_unit: int
    stripe_count: int


class LegacyParent(NamedTuple):
    """``get_parent`` reply: s64 pool, string image id, le64 snap id, le64 overlap.

    The spec's namespace is always "" (the legacy method predates pool namespaces).
    """

    spec: ParentImageSpec
    overlap: int


# -- small encoders/decoders shared by many methods ------------------------------------------

def _rd(method: str, encode: _Enc | None = None,
        reply: _Dec[_T] | None = None) -> ClsCall[_T]:
    return build(_CLS, method, encode, reply)


def _wr(method: str, encode: _Enc | None = None) -> ClsCall[None]:
    return build(_CLS, method, encode, None, write=True)


def _u64(dec: Decoder) -> int:
    return dec.u64()


def _s64(dec: Decoder) -> int:
    return dec.s64()


def _string(dec: Decoder) -> str:
    return dec.string()


def _utime(dec: Decoder) -> UTime:
    return dec.utime()


def _str_map(dec: Decoder) -> dict[str, str]:
    return dec.map_(Decoder.string, Decoder.string, 8)


def _put_snap(snap_id: int) -> _Enc:
    return lambda enc: enc.u64(snap_id)


def _put_string(s: str) -> _Enc:
    return lambda enc: enc.string(s)


def _put_start_max(start: str, max_return: int) -> _Enc:
    def put(enc: Encoder) -> None:
        enc.string(start)
        enc.u64(max_return)
    return put


def _put_name_id(name: str, image_id: str) -> _Enc:
    def put(enc: Encoder) -> None:
        enc.string(name)
        enc.string(image_id)
    return put


# =========================================================================================
# rbd_header.<id>
# =========================================================================================

def create(size: int, order: int, features: int, object_prefix: str,
           data_pool_id: int = -1) -> ClsCall[None]:
    """``create``: initialise a new header (librbd precedes it with CREATE(EXCL)).

    In: le64 size, u8 order, le64 features, string object_prefix, s64 data_pool_id
    (-1: no separate data pool).
    """
    def put(enc: Encoder) -> None:
        enc.u64(size)
        enc.u8(order)
        enc.u64(features)
        enc.string(object_prefix)
        enc.s64(data_pool_id)
    return _wr("create", put)


def get_features(snap_id: int = CEPH_NOSNAP, read_only: bool = False) -> ClsCall[Features]:
    """``get_features``: in le64 snap_id, bool read_only; out le64 features, le64 incompat.

    ``read_only`` lets an OSD answer for images with features only a read-only open
    tolerates (librbd passes whether the image is opened read-only).
    """
    def put(enc: Encoder) -> None:
        enc.u64(snap_id)
        enc.bool_(read_only)

    def reply(dec: Decoder) -> Features:
        return Features(dec.u64(), dec.u64())
    return _rd("get_features", put, reply)


def set_features(features: int, mask: int) -> ClsCall[None]:
    """``set_features``: le64 features, le64 mask (only bits in ``mask`` change)."""
    def put(enc: Encoder) -> None:
        enc.u64(features)
        enc.u64(mask)
    return _wr("set_features", put)


def get_object_prefix() -> ClsCall[str]:
    """``get_object_prefix``: out string (``rbd_data.<id>`` or ``rbd_data.<pool>.<id>``)."""
    return _rd("get_object_prefix", None, _string)


def get_data_pool() -> ClsCall[int]:
    """``get_data_pool``: out s64 pool id, -1 when data lives in the header's pool."""
    return _rd("get_data_pool", None, _s64)


def get_size(snap_id: int = CEPH_NOSNAP) -> ClsCall[ImageSize]:
    """``get_size``: in le64 snap_id; out u8 order, le64 size (ENOENT: no such snap)."""
    def reply(dec: Decoder) -> ImageSize:
        order = dec.u8()
        return ImageSize(dec.u64(), order)
    return _rd("get_size", _put_snap(snap_id), reply)


def set_size(size: int) -> ClsCall[None]:
    """``set_size``: le64 size (the head's size; librbd resizes the object map first)."""
    return _wr("set_size", lambda enc: enc.u64(size))


def get_flags(snap_id: int = CEPH_NOSNAP) -> ClsCall[int]:
    """``get_flags``: in le64 snap_id; out le64 flags (RBD_FLAG_*)."""
    return _rd("get_flags", _put_snap(snap_id), _u64)


def set_flags(snap_id: int, flags: int, mask: int) -> ClsCall[None]:
    """``set_flags``: wire order le64 flags, le64 mask, le64 snap_id."""
    def put(enc: Encoder) -> None:
        enc.u64(flags)
        enc.u64(mask)
        enc.u64(snap_id)
    return _wr("set_flags", put)


def op_features_get() -> ClsCall[int]:
    """``op_features_get``: out le64 RBD_OPERATION_FEATURE_* bits."""
    return _rd("op_features_get", None, _u64)


def op_features_set(op_features: int, mask: int) -> ClsCall[None]:
    """``op_features_set``: le64 op_features, le64 mask."""
    def put(enc: Encoder) -> None:
        enc.u64(op_features)
        enc.u64(mask)
    return _wr("op_features_set", put)


def get_parent(snap_id: int = CEPH_NOSNAP) -> ClsCall[LegacyParent]:
    """``get_parent`` (pre-Nautilus clone API): in le64 snap_id.

    Out s64 pool, string image_id, le64 snap_id, le64 overlap; pool -1 means no parent.
    """
    def reply(dec: Decoder) -> LegacyParent:
        pool_id = dec.s64()
        image_id = dec.string()
        parent_snap = dec.u64()
        return LegacyParent(ParentImageSpec(pool_id, "", image_id, parent_snap), dec.u64())
    return _rd("get_parent", _put_snap(snap_id), reply)


def set_parent(spec: ParentImageSpec, overlap: int) -> ClsCall[None]:
    """``set_parent`` (legacy): s64 pool, string image_id, le64 snap_id, le64 overlap.

    :raises ValueError: the spec names a pool namespace (the legacy call cannot carry one).
    """
    if spec.pool_namespace:
        raise ValueError("set_parent cannot carry a pool namespace; use parent_attach")

    def put(enc: Encoder) -> None:
        enc.s64(spec.pool_id)
        enc.string(spec.image_id)
        enc.u64(spec.snap_id)
        enc.u64(overlap)
    return _wr("set_parent", put)


def remove_parent() -> ClsCall[None]:
    """``remove_parent`` (legacy): no input."""
    return _wr("remove_parent")


def parent_get() -> ClsCall[ParentImageSpec]:
    """``parent_get``: out cls::rbd::ParentImageSpec (EOPNOTSUPP on pre-Nautilus OSDs)."""
    return _rd("parent_get", None, ParentImageSpec.decode)


def parent_overlap_get(snap_id: int = CEPH_NOSNAP) -> ClsCall[int | None]:
    """``parent_overlap_get``: in le64 snap_id; out optional<le64> overlap."""
    def reply(dec: Decoder) -> int | None:
        return dec.optional(Decoder.u64)
    return _rd("parent_overlap_get", _put_snap(snap_id), reply)


def parent_attach(spec: ParentImageSpec, overlap: int, reattach: bool = False) -> ClsCall[None]:
    """``parent_attach``: ParentImageSpec, le64 overlap, bool reattach."""
    def put(enc: Encoder) -> None:
        spec.encode(enc)
        enc.u64(overlap)
        enc.bool_(reattach)
    return _wr("parent_attach", put)


def parent_detach() -> ClsCall[None]:
    """``parent_detach``: no input."""
    return _wr("parent_detach")


# -- rbd_children (clone v1 index) ---------------------------------------------------------

def _put_legacy_spec(enc: Encoder, spec: ParentImageSpec) -> None:
    if spec.pool_namespace:
        raise ValueError("the rbd_children index cannot carry a pool namespace")
    enc.s64(spec.pool_id)
    enc.string(spec.image_id)
    enc.u64(spec.snap_id)


def add_child(parent: ParentImageSpec, child_image_id: str) -> ClsCall[None]:
    """``add_child`` on ``rbd_children``: s64 pool, string parent id, le64 snap, string child.
    """
    def put(enc: Encoder) -> None:
        _put_legacy_spec(enc, parent)
        enc.string(child_image_id)
    return _wr("add_child", put)


def remove_child(parent: ParentImageSpec, child_image_id: str) -> ClsCall[None]:
    """``remove_child`` on ``rbd_children``: same input as :func:`add_child`."""
    def put(enc: Encoder) -> None:
        _put_legacy_spec(enc, parent)
        enc.string(child_image_id)
    return _wr("remove_child", put)


def get_children(parent: ParentImageSpec) -> ClsCall[list[str]]:
    """``get_children`` on ``rbd_children``: in the parent spec; out set<string> child ids."""
    def reply(dec: Decoder) -> list[str]:
        return dec.list_(Decoder.string, 4)
    return _rd("get_children", lambda enc: _put_legacy_spec(enc, parent), reply)


# -- snapshots ------------------------------------------------------------------------------

def snapshot_get(snap_id: int) -> ClsCall[SnapshotInfo]:
    """``snapshot_get``: in le64 snap_id; out cls::rbd::SnapshotInfo (ENOENT: no snap)."""
    return _rd("snapshot_get", _put_snap(snap_id), SnapshotInfo.decode)


def snapshot_add(snap_id: int, snap_name: str,
                 snap_namespace: SnapshotNamespace | None = None) -> ClsCall[None]:
    """``snapshot_add``: wire order string name, le64 snap_id, SnapshotNamespace.

    ESTALE when ``snap_id`` is not above the header's snap_seq (allocate a new id).
    """
    ns = UserSnapshotNamespace() if snap_namespace is None else snap_namespace

    def put(enc: Encoder) -> None:
        enc.string(snap_name)
        enc.u64(snap_id)
        ns.encode(enc)
    return _wr("snapshot_add", put)


def snapshot_remove(snap_id: int) -> ClsCall[None]:
    """``snapshot_remove``: le64 snap_id."""
    return _wr("snapshot_remove", _put_snap(snap_id))


def snapshot_rename(src_snap_id: int, dst_name: str) -> ClsCall[None]:
    """``snapshot_rename``: le64 snap_id, string new name."""
    def put(enc: Encoder) -> None:
        enc.u64(src_snap_id)
        enc.string(dst_name)
    return _wr("snapshot_rename", put)


def snapshot_trash_add(snap_id: int) -> ClsCall[None]:
    """``snapshot_trash_add``: le64 snap_id (moves a snap with clones to the trash ns)."""
    return _wr("snapshot_trash_add", _put_snap(snap_id))


def get_snapcontext() -> ClsCall[SnapContext]:
    """``get_snapcontext``: out SnapContext (le64 seq, vector<le64> snaps, newest first).

    A context that is not valid (snaps not strictly descending, or above seq) is EBADMSG,
    as in ``get_snapcontext_finish``.
    """
    def reply(dec: Decoder) -> SnapContext:
        snapc = SnapContext.decode(dec)
        if not snapc.is_valid():
            raise dec.error(f"invalid snap context {snapc}")
        return snapc
    return _rd("get_snapcontext", None, reply)


def get_snapshot_name(snap_id: int) -> ClsCall[str]:
    """``get_snapshot_name``: in le64 snap_id; out string."""
    return _rd("get_snapshot_name", _put_snap(snap_id), _string)


def get_snapshot_timestamp(snap_id: int) -> ClsCall[UTime]:
    """``get_snapshot_timestamp``: in le64 snap_id; out utime_t."""
    return _rd("get_snapshot_timestamp", _put_snap(snap_id), _utime)


def get_all_features() -> ClsCall[int]:
    """``get_all_features``: out le64, every feature bit this OSD's cls_rbd supports."""
    return _rd("get_all_features", None, _u64)


# -- data objects ----------------------------------------------------------------------------

def copyup(data: Buffer) -> ClsCall[None]:
    """``copyup`` on a data object: the raw parent data, no length prefix.

    The OSD writes it only if the object does not exist yet. The data is passed on as is
    (no copy: a whole object of it travels with every copy-up).
    """
    return ClsCall(_CLS, "copyup", data, _no_output, write=True)


def _no_output(dec: Decoder) -> None:
    return None


def sparse_copyup(extent_map: Mapping[int, int] | Sequence[tuple[int, int]],
                  data: bytes) -> ClsCall[None]:
    """``sparse_copyup``: map<le64 offset, le64 length>, bufferlist data (extents packed).

    ``extent_map`` is kept in the given order (neorados sends a vector of pairs, librados a
    map; both encode as a le32 count then pairs).
    """
    pairs = list(extent_map.items()) if isinstance(extent_map, Mapping) else list(extent_map)

    def put(enc: Encoder) -> None:
        enc.u32(len(pairs))
        for off, length in pairs:
            enc.u64(off)
            enc.u64(length)
        enc.blob(data)
    return _wr("sparse_copyup", put)


# -- snapshot protection, limits ---------------------------------------------------------

def get_protection_status(snap_id: int) -> ClsCall[int]:
    """``get_protection_status``: in le64 snap_id; out u8 RBD_PROTECTION_STATUS_*."""
    def reply(dec: Decoder) -> int:
        return dec.u8()
    return _rd("get_protection_status", _put_snap(snap_id), reply)


def set_protection_status(snap_id: int, protection_status: int) -> ClsCall[None]:
    """``set_protection_status``: le64 snap_id, u8 status."""
    def put(enc: Encoder) -> None:
        enc.u64(snap_id)
        enc.u8(protection_status)
    return _wr("set_protection_status", put)


def snapshot_get_limit() -> ClsCall[int]:
    """``snapshot_get_limit``: out le64 (UINT64_MAX when no limit is set)."""
    return _rd("snapshot_get_limit", None, _u64)


def snapshot_set_limit(limit: int) -> ClsCall[None]:
    """``snapshot_set_limit``: le64 limit (UINT64_MAX removes the limit)."""
    return _wr("snapshot_set_limit", lambda enc: enc.u64(limit))


# -- striping, timestamps ------------------------------------------------------------------

def get_stripe_unit_count() -> ClsCall[StripeUnitCount]:
    """``get_stripe_unit_count``: out le64 stripe_unit, le64 stripe_count.

    Without the STRIPINGV2 feature the OSD fails the call with ENOEXEC; librbd then uses
    the object size and a count of 1.
    """
    def reply(dec: Decoder) -> StripeUnitCount:
        return StripeUnitCount(dec.u64(), dec.u64())
    return _rd("get_stripe_unit_count", None, reply)


def set_stripe_unit_count(stripe_unit: int, stripe_count: int) -> ClsCall[None]:
    """``set_stripe_unit_count``: le64 stripe_unit, le64 stripe_count."""
    def put(enc: Encoder) -> None:
        enc.u64(stripe_unit)
        enc.u64(stripe_count)
    return _wr("set_stripe_unit_count", put)


def get_create_timestamp() -> ClsCall[UTime]:
    """``get_create_timestamp``: out utime_t."""
    return _rd("get_create_timestamp", None, _utime)


def get_access_timestamp() -> ClsCall[UTime]:
    """``get_access_timestamp``: out utime_t."""
    return _rd("get_access_timestamp", None, _utime)


def set_access_timestamp() -> ClsCall[None]:
    """``set_access_timestamp``: no input; the OSD stores its own clock."""
    return _wr("set_access_timestamp")


def get_modify_timestamp() -> ClsCall[UTime]:
    """``get_modify_timestamp``: out utime_t."""
    return _rd("get_modify_timestamp", None, _utime)


def set_modify_timestamp() -> ClsCall[None]:
    """``set_modify_timestamp``: no input; the OSD stores its own clock."""
    return _wr("set_modify_timestamp")


# =========================================================================================
# rbd_id.<name>
# =========================================================================================

def get_id() -> ClsCall[str]:
    """``get_id``: out string image id."""
    return _rd("get_id", None, _string)


def set_id(image_id: str) -> ClsCall[None]:
    """``set_id``: string image id (ENOENT unless the object exists: librbd sends
    CREATE(EXCL) first in the same op; EEXIST if an id is already set)."""
    return _wr("set_id", _put_string(image_id))


# =========================================================================================
# rbd_directory
# =========================================================================================

def dir_get_id(image_name: str) -> ClsCall[str]:
    """``dir_get_id``: in string name; out string id."""
    return _rd("dir_get_id", _put_string(image_name), _string)


def dir_get_name(image_id: str) -> ClsCall[str]:
    """``dir_get_name``: in string id; out string name."""
    return _rd("dir_get_name", _put_string(image_id), _string)


def dir_list(start: str = "", max_return: int = 1024) -> ClsCall[dict[str, str]]:
    """``dir_list``: in string start_after (a name), le64 max; out map<name, id>."""
    return _rd("dir_list", _put_start_max(start, max_return), _str_map)


def dir_add_image(name: str, image_id: str) -> ClsCall[None]:
    """``dir_add_image``: string name, string id."""
    return _wr("dir_add_image", _put_name_id(name, image_id))


def dir_remove_image(name: str, image_id: str) -> ClsCall[None]:
    """``dir_remove_image``: string name, string id."""
    return _wr("dir_remove_image", _put_name_id(name, image_id))


def dir_state_assert(directory_state: DirectoryState) -> ClsCall[None]:
    """``dir_state_assert``: u8 DirectoryState (EBUSY if the directory is in another)."""
    return build(_CLS, "dir_state_assert", lambda enc: enc.u8(directory_state))


def dir_state_set(directory_state: DirectoryState) -> ClsCall[None]:
    """``dir_state_set``: u8 DirectoryState (ADD_DISABLED needs an empty directory)."""
    return _wr("dir_state_set", lambda enc: enc.u8(directory_state))


def dir_rename_image(src: str, dest: str, image_id: str) -> ClsCall[None]:
    """``dir_rename_image``: string src name, string dest name, string id."""
    def put(enc: Encoder) -> None:
        enc.string(src)
        enc.string(dest)
        enc.string(image_id)
    return _wr("dir_rename_image", put)


# =========================================================================================
# rbd_object_map.<id>[.<snap id>]
# =========================================================================================

def _put_bitvector_no_crc(object_map: BitVector) -> _Enc:
    # object_map_save/snap_remove send a copy with crcs disabled: the OSD recomputes them.
    copy = BitVector(len(object_map), object_map.data, crc_enabled=False)
    return copy.encode


def object_map_load() -> ClsCall[BitVector]:
    """``object_map_load``: out BitVector<2> (crcs checked when present)."""
    return _rd("object_map_load", None, BitVector.decode)


def object_map_save(object_map: BitVector) -> ClsCall[None]:
    """``object_map_save``: BitVector<2> with an empty footer (no crcs)."""
    return _wr("object_map_save", _put_bitvector_no_crc(object_map))


def object_map_resize(object_count: int, default_state: int) -> ClsCall[None]:
    """``object_map_resize``: le64 object_count, u8 state for new entries."""
    def put(enc: Encoder) -> None:
        enc.u64(object_count)
        enc.u8(default_state)
    return _wr("object_map_resize", put)


def object_map_update(start_object_no: int, end_object_no: int, new_object_state: int,
                      current_object_state: int | None = None) -> ClsCall[None]:
    """``object_map_update``: le64 start, le64 end (exclusive), u8 new state,
    optional<u8> current state (only entries in that state change)."""
    def put(enc: Encoder) -> None:
        enc.u64(start_object_no)
        enc.u64(end_object_no)
        enc.u8(new_object_state)
        enc.optional(current_object_state, Encoder.u8)
    return _wr("object_map_update", put)


def object_map_snap_add() -> ClsCall[None]:
    """``object_map_snap_add``: no input; HEAD's EXISTS entries become EXISTS_CLEAN."""
    return _wr("object_map_snap_add")


def object_map_snap_remove(object_map: BitVector) -> ClsCall[None]:
    """``object_map_snap_remove``: the removed snapshot's BitVector<2>, no crcs."""
    return _wr("object_map_snap_remove", _put_bitvector_no_crc(object_map))


# =========================================================================================
# rbd_header.<id>: metadata, clone v2 children, migration
# =========================================================================================

def metadata_set(data: Mapping[str, bytes]) -> ClsCall[None]:
    """``metadata_set``: map<string, bufferlist> (stored as omap ``metadata_<key>``)."""
    def put(enc: Encoder) -> None:
        enc.map_(dict(data), Encoder.string, Encoder.blob)
    return _wr("metadata_set", put)


def metadata_remove(key: str) -> ClsCall[None]:
    """``metadata_remove``: string key (ENOENT if absent)."""
    return _wr("metadata_remove", _put_string(key))


def metadata_list(start: str = "", max_return: int = 0) -> ClsCall[dict[str, bytes]]:
    """``metadata_list``: in string start_after, le64 max (0: OSD's default page);
    out map<string, bufferlist>."""
    def reply(dec: Decoder) -> dict[str, bytes]:
        return dec.map_(Decoder.string, Decoder.blob, 8)
    return _rd("metadata_list", _put_start_max(start, max_return), reply)


def metadata_get(key: str) -> ClsCall[str]:
    """``metadata_get``: in string key; out the value as a string (ENOENT if absent)."""
    return _rd("metadata_get", _put_string(key), _string)


def _put_snap_child(snap_id: int, child: ChildImageSpec) -> _Enc:
    def put(enc: Encoder) -> None:
        enc.u64(snap_id)
        child.encode(enc)
    return put


def child_attach(snap_id: int, child: ChildImageSpec) -> ClsCall[None]:
    """``child_attach`` on the parent's header: le64 snap_id, ChildImageSpec."""
    return _wr("child_attach", _put_snap_child(snap_id, child))


def child_detach(snap_id: int, child: ChildImageSpec) -> ClsCall[None]:
    """``child_detach`` on the parent's header: le64 snap_id, ChildImageSpec."""
    return _wr("child_detach", _put_snap_child(snap_id, child))


def children_list(snap_id: int) -> ClsCall[list[ChildImageSpec]]:
    """``children_list``: in le64 snap_id; out set<ChildImageSpec> (ENOENT: no children)."""
    def reply(dec: Decoder) -> list[ChildImageSpec]:
        return dec.list_(ChildImageSpec.decode, 6)
    return _rd("children_list", _put_snap(snap_id), reply)


def migration_set(migration_spec: MigrationSpec) -> ClsCall[None]:
    """``migration_set``: cls::rbd::MigrationSpec."""
    return _wr("migration_set", migration_spec.encode)


def migration_set_state(state: int, description: str) -> ClsCall[None]:
    """``migration_set_state``: u8 MigrationState, string description."""
    def put(enc: Encoder) -> None:
        enc.u8(state)
        enc.string(description)
    return _wr("migration_set_state", put)


def migration_get() -> ClsCall[MigrationSpec]:
    """``migration_get``: out cls::rbd::MigrationSpec (EINVAL unless MIGRATING is set)."""
    return _rd("migration_get", None, MigrationSpec.decode)


def migration_remove() -> ClsCall[None]:
    """``migration_remove``: no input."""
    return _wr("migration_remove")


def assert_snapc_seq(snapc_seq: int, state: AssertSnapcSeqState) -> ClsCall[None]:
    """``assert_snapc_seq`` on a data object: le64 snapc_seq, u8 state (ERANGE if not)."""
    def put(enc: Encoder) -> None:
        enc.u64(snapc_seq)
        enc.u8(state)
    return _wr("assert_snapc_seq", put)


# =========================================================================================
# rbd_mirroring (basics)
# =========================================================================================

def mirror_uuid_get() -> ClsCall[str]:
    """``mirror_uuid_get``: out string (ENOENT while mirroring was never enabled)."""
    return _rd("mirror_uuid_get", None, _string)


def mirror_mode_get() -> ClsCall[MirrorMode]:
    """``mirror_mode_get``: out le32 MirrorMode; a missing object means DISABLED."""
    def reply(dec: Decoder) -> MirrorMode:
        mode = dec.u32()
        try:
            return MirrorMode(mode)
        except ValueError:
            raise dec.error(f"unknown mirror mode {mode}") from None
    return _rd("mirror_mode_get", None, reply)


def mirror_mode_set(mirror_mode: MirrorMode) -> ClsCall[None]:
    """``mirror_mode_set``: le32 MirrorMode."""
    return _wr("mirror_mode_set", lambda enc: enc.u32(mirror_mode))


def mirror_image_list(start: str = "", max_return: int = 1024) -> ClsCall[dict[str, str]]:
    """``mirror_image_list``: in string start (image id), le64 max;
    out map<image id, global image id>."""
    return _rd("mirror_image_list", _put_start_max(start, max_return), _str_map)


def mirror_image_get(image_id: str) -> ClsCall[MirrorImage]:
    """``mirror_image_get``: in string image id; out cls::rbd::MirrorImage."""
    return _rd("mirror_image_get", _put_string(image_id), MirrorImage.decode)


def mirror_image_set(image_id: str, mirror_image: MirrorImage) -> ClsCall[None]:
    """``mirror_image_set``: string image id, cls::rbd::MirrorImage."""
    def put(enc: Encoder) -> None:
        enc.string(image_id)
        mirror_image.encode(enc)
    return _wr("mirror_image_set", put)


def mirror_image_remove(image_id: str) -> ClsCall[None]:
    """``mirror_image_remove``: string image id."""
    return _wr("mirror_image_remove", _put_string(image_id))


# =========================================================================================
# groups: rbd_group_directory, rbd_group_header.<id>, and the image side on rbd_header.<id>
# =========================================================================================

def group_dir_list(start: str = "", max_return: int = 1024) -> ClsCall[dict[str, str]]:
    """``group_dir_list``: in string start, le64 max; out map<group name, group id>."""
    return _rd("group_dir_list", _put_start_max(start, max_return), _str_map)


def group_dir_add(name: str, group_id: str) -> ClsCall[None]:
    """``group_dir_add``: string name, string id."""
    return _wr("group_dir_add", _put_name_id(name, group_id))


def group_dir_rename(src: str, dest: str, group_id: str) -> ClsCall[None]:
    """``group_dir_rename``: string src, string dest, string id."""
    def put(enc: Encoder) -> None:
        enc.string(src)
        enc.string(dest)
        enc.string(group_id)
    return _wr("group_dir_rename", put)


def group_dir_remove(name: str, group_id: str) -> ClsCall[None]:
    """``group_dir_remove``: string name, string id."""
    return _wr("group_dir_remove", _put_name_id(name, group_id))


def group_image_remove(spec: GroupImageSpec) -> ClsCall[None]:
    """``group_image_remove`` on the group header: GroupImageSpec."""
    return _wr("group_image_remove", spec.encode)


def group_image_list(start: GroupImageSpec | None = None,
                     max_return: int = 1024) -> ClsCall[list[GroupImageStatus]]:
    """``group_image_list``: in GroupImageSpec start_after, le64 max;
    out vector<GroupImageStatus>."""
    first = GroupImageSpec() if start is None else start

    def put(enc: Encoder) -> None:
        first.encode(enc)
        enc.u64(max_return)

    def reply(dec: Decoder) -> list[GroupImageStatus]:
        return dec.list_(GroupImageStatus.decode, 6)
    return _rd("group_image_list", put, reply)


def group_image_set(status: GroupImageStatus) -> ClsCall[None]:
    """``group_image_set`` on the group header: GroupImageStatus."""
    return _wr("group_image_set", status.encode)


def image_group_add(group_spec: GroupSpec) -> ClsCall[None]:
    """``image_group_add`` on the image header: GroupSpec."""
    return _wr("image_group_add", group_spec.encode)


def image_group_remove(group_spec: GroupSpec) -> ClsCall[None]:
    """``image_group_remove`` on the image header: GroupSpec."""
    return _wr("image_group_remove", group_spec.encode)


def image_group_get() -> ClsCall[GroupSpec]:
    """``image_group_get`` on the image header: out GroupSpec (pool -1: no group)."""
    return _rd("image_group_get", None, GroupSpec.decode)


def group_snap_set(snapshot: GroupSnapshot) -> ClsCall[None]:
    """``group_snap_set`` on the group header: GroupSnapshot."""
    return _wr("group_snap_set", snapshot.encode)


def group_snap_remove(snap_id: str) -> ClsCall[None]:
    """``group_snap_remove`` on the group header: string group snapshot id."""
    return _wr("group_snap_remove", _put_string(snap_id))


def group_snap_get_by_id(snap_id: str) -> ClsCall[GroupSnapshot]:
    """``group_snap_get_by_id``: in string group snapshot id; out GroupSnapshot."""
    return _rd("group_snap_get_by_id", _put_string(snap_id), GroupSnapshot.decode)


def group_snap_list(start: GroupSnapshot | None = None,
                    max_return: int = 1024) -> ClsCall[list[GroupSnapshot]]:
    """``group_snap_list``: in GroupSnapshot start_after (only its id is used), le64 max;
    out vector<GroupSnapshot>."""
    first = GroupSnapshot() if start is None else start

    def put(enc: Encoder) -> None:
        first.encode(enc)
        enc.u64(max_return)

    def reply(dec: Decoder) -> list[GroupSnapshot]:
        return dec.list_(GroupSnapshot.decode, 6)
    return _rd("group_snap_list", put, reply)


# =========================================================================================
# rbd_trash
# =========================================================================================

def trash_add(image_id: str, trash_spec: TrashImageSpec) -> ClsCall[None]:
    """``trash_add``: string image id, TrashImageSpec (EEXIST if already there)."""
    def put(enc: Encoder) -> None:
        enc.string(image_id)
        trash_spec.encode(enc)
    return _wr("trash_add", put)


def trash_remove(image_id: str) -> ClsCall[None]:
    """``trash_remove``: string image id."""
    return _wr("trash_remove", _put_string(image_id))


def trash_list(start: str = "", max_return: int = 1024) -> ClsCall[dict[str, TrashImageSpec]]:
    """``trash_list``: in string start (image id), le64 max; out map<id, TrashImageSpec>."""
    def reply(dec: Decoder) -> dict[str, TrashImageSpec]:
        return dec.map_(Decoder.string, TrashImageSpec.decode, 10)
    return _rd("trash_list", _put_start_max(start, max_return), reply)


def trash_get(image_id: str) -> ClsCall[TrashImageSpec]:
    """``trash_get``: in string image id; out TrashImageSpec."""
    return _rd("trash_get", _put_string(image_id), TrashImageSpec.decode)


def trash_state_set(image_id: str, trash_state: int, expect_state: int) -> ClsCall[None]:
    """``trash_state_set``: string id, u8 new TrashImageState, u8 expected current state."""
    def put(enc: Encoder) -> None:
        enc.string(image_id)
        enc.u8(trash_state)
        enc.u8(expect_state)
    return _wr("trash_state_set", put)


# =========================================================================================
# rbd_namespace
# =========================================================================================

def namespace_add(name: str) -> ClsCall[None]:
    """``namespace_add``: string name."""
    return _wr("namespace_add", _put_string(name))


def namespace_remove(name: str) -> ClsCall[None]:
    """``namespace_remove``: string name."""
    return _wr("namespace_remove", _put_string(name))


def namespace_list(start: str = "", max_return: int = 1024) -> ClsCall[list[str]]:
    """``namespace_list``: in string start, le64 max; out list<string>."""
    def reply(dec: Decoder) -> list[str]:
        return dec.list_(Decoder.string, 4)
    return _rd("namespace_list", _put_start_max(start, max_return), reply)


# =========================================================================================
# data objects: sparsify
# =========================================================================================

def sparsify(sparse_size: int, remove_empty: bool) -> ClsCall[None]:
    """``sparsify`` on a data object: le64 sparse_size, bool remove_empty."""
    def put(enc: Encoder) -> None:
        enc.u64(sparse_size)
        enc.bool_(remove_empty)
    return _wr("sparsify", put)
