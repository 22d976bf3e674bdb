"""cls_rbd value types: the structures cls_rbd methods take and return, and header records.

Theory of operation: every type here is a versioned envelope (``u8 v | u8 compat | le32
len | body``) written by Ceph's ENCODE_START/FINISH; ``decode`` reads the fields it knows
for the envelope's version and skips the rest (newer releases append fields), ``encode``
writes the version Pacific writes. Each class keeps Ceph's member names, and its ``decode``
and ``encode`` sit side by side in field order. Enumerations travel as ``u8`` unless noted.
``SnapshotNamespace`` is Ceph's variant: one envelope holding a ``le32`` type tag and the
type's fields; unknown tags decode to :class:`UnknownSnapshotNamespace`, which keeps the
raw body so it re-encodes unchanged.

Mirrors: ceph src/cls/rbd/cls_rbd_types.h / cls_rbd_types.cc (ParentImageSpec,
ChildImageSpec, GroupSpec, GroupImageSpec, GroupImageStatus, ImageSnapshotSpec,
GroupSnapshot, SnapshotNamespace and its variants, SnapshotInfo, MirrorImage,
TrashImageSpec, MigrationSpec), src/cls/rbd/cls_rbd.h (cls_rbd_parent, cls_rbd_snap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar

from rbdpy.format.constants import RBD_PROTECTION_STATUS_UNPROTECTED
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import Decoder, Encoder

UTime = tuple[int, int]  # (seconds, nanoseconds), utime_t


class SnapshotNamespaceType(IntEnum):
    """``cls::rbd::SnapshotNamespaceType`` (encoded as le32 inside SnapshotNamespace)."""

    USER = 0
    GROUP = 1
    TRASH = 2
    MIRROR = 3


class MirrorSnapshotState(IntEnum):
    """``cls::rbd::MirrorSnapshotState``."""

    PRIMARY = 0
    PRIMARY_DEMOTED = 1
    NON_PRIMARY = 2
    NON_PRIMARY_DEMOTED = 3


class MirrorImageMode(IntEnum):
    """``cls::rbd::MirrorImageMode``."""

    JOURNAL = 0
    SNAPSHOT = 1


class MirrorImageState(IntEnum):
    """``cls::rbd::MirrorImageState``."""

    DISABLING = 0
    ENABLED = 1
    DISABLED = 2
    CREATING = 3


class TrashImageSource(IntEnum):
    """``cls::rbd::TrashImageSource``."""

    USER = 0
    MIRRORING = 1
    MIGRATION = 2
    REMOVING = 3
    USER_PARENT = 4


class TrashImageState(IntEnum):
    """``cls::rbd::TrashImageState``."""

    NORMAL = 0
    MOVING = 1
    REMOVING = 2
    RESTORING = 3


class MigrationHeaderType(IntEnum):
    """``cls::rbd::MigrationHeaderType``."""

    SRC = 1
    DST = 2


class MigrationState(IntEnum):
    """``cls::rbd::MigrationState``."""

    ERROR = 0
    PREPARING = 1
    PREPARED = 2
    EXECUTING = 3
    EXECUTED = 4
    ABORTING = 5


class GroupImageLinkState(IntEnum):
    """``cls::rbd::GroupImageLinkState``."""

    ATTACHED = 0
    INCOMPLETE = 1


class GroupSnapshotState(IntEnum):
    """``cls::rbd::GroupSnapshotState``."""

    INCOMPLETE = 0
    COMPLETE = 1


def _u64_map(dec: Decoder) -> dict[int, int]:
    return dec.map_(Decoder.u64, Decoder.u64, 16)


def _put_u64_map(enc: Encoder, m: dict[int, int]) -> None:
    enc.map_(m, Encoder.u64, Encoder.u64)


# -- image specs ----------------------------------------------------------------------------

@dataclass(slots=True)
class ParentImageSpec:
    """``cls::rbd::ParentImageSpec``: v1 (compat 1), decoded from v1 up.

    Returned by cls ``parent_get``; argument of ``parent_attach``.
    """

    CEPH_TYPE: ClassVar[str] = "cls::rbd::ParentImageSpec"

    pool_id: int = -1
    pool_namespace: str = ""
    image_id: str = ""
    snap_id: int = CEPH_NOSNAP

    def exists(self) -> bool:
        return self.pool_id >= 0 and bool(self.image_id) and self.snap_id != CEPH_NOSNAP

    @classmethod
    def decode(cls, dec: Decoder) -> ParentImageSpec:
        with dec.struct("ParentImageSpec", min_v=1, max_compat=1):
            return cls(dec.s64(), dec.string(), dec.string(), dec.u64())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.s64(self.pool_id)
            enc.string(self.pool_namespace)
            enc.string(self.image_id)
            enc.u64(self.snap_id)


@dataclass(slots=True, order=True, frozen=True)
class ChildImageSpec:
    """``cls::rbd::ChildImageSpec``: v2 (compat 1); v1 lacks ``pool_namespace``.

    Ordered like Ceph's ``operator<`` (pool, namespace, id) for ``children_list`` sets.
    """

    CEPH_TYPE: ClassVar[str] = "cls::rbd::ChildImageSpec"

    pool_id: int = -1
    pool_namespace: str = ""
    image_id: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> ChildImageSpec:
        with dec.struct("ChildImageSpec", min_v=1, max_compat=1) as v:
            pool_id = dec.s64()
            image_id = dec.string()
            # added in v2 (Nautilus)
            pool_namespace = dec.string() if v >= 2 else ""
        return cls(pool_id, pool_namespace, image_id)

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(2, 1):
            enc.s64(self.pool_id)
            enc.string(self.image_id)
            enc.string(self.pool_namespace)


@dataclass(slots=True)
class GroupSpec:
    """``cls::rbd::GroupSpec``: v1 (compat 1). Returned by ``image_group_get``."""

    CEPH_TYPE: ClassVar[str] = "cls::rbd::GroupSpec"

    group_id: str = ""
    pool_id: int = -1

    def is_valid(self) -> bool:
        return bool(self.group_id) and self.pool_id != -1

    @classmethod
    def decode(cls, dec: Decoder) -> GroupSpec:
        with dec.struct("GroupSpec", min_v=1, max_compat=1):
            pool_id = dec.s64()
            group_id = dec.string()
        return cls(group_id, pool_id)

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.s64(self.pool_id)
            enc.string(self.group_id)


@dataclass(slots=True)
class GroupImageSpec:
    """``cls::rbd::GroupImageSpec``: v1 (compat 1)."""

    CEPH_TYPE: ClassVar[str] = "cls::rbd::GroupImageSpec"

    image_id: str = ""
    pool_id: int = -1

    @classmethod
    def decode(cls, dec: Decoder) -> GroupImageSpec:
        with dec.struct("GroupImageSpec", min_v=1, max_compat=1):
            return cls(dec.string(), dec.s64())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.image_id)
            enc.s64(self.pool_id)


@dataclass(slots=True)
class GroupImageStatus:
    """``cls::rbd::GroupImageStatus``: v1 (compat 1): spec + u8 link state."""

    CEPH_TYPE: ClassVar[str] = "cls::rbd::GroupImageStatus"

    spec: GroupImageSpec = field(default_factory=GroupImageSpec)
    state: int = GroupImageLinkState.INCOMPLETE

    @classmethod
    def decode(cls, dec: Decoder) -> GroupImageStatus:
        with dec.struct("GroupImageStatus", min_v=1, max_compat=1):
            return cls(GroupImageSpec.decode(dec), dec.u8())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            self.spec.encode(enc)
            enc.u8(self.state)


@dataclass(slots=True)
class ImageSnapshotSpec:
    """``cls::rbd::ImageSnapshotSpec``: v1 (compat 1)."""

    CEPH_TYPE: ClassVar[str] = "cls::rbd::ImageSnapshotSpec"

    pool: int = 0
    image_id: str = ""
    snap_id: int = 0

    @classmethod
    def decode(cls, dec: Decoder) -> ImageSnapshotSpec:
        with dec.struct("ImageSnapshotSpec", min_v=1, max_compat=1):
            return cls(dec.s64(), dec.string(), dec.u64())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.s64(self.pool)
            enc.string(self.image_id)
            enc.u64(self.snap_id)


@dataclass(slots=True)
class GroupSnapshot:
    """``cls::rbd::GroupSnapshot``: v1 (compat 1)."""

    CEPH_TYPE: ClassVar[str] = "cls::rbd::GroupSnapshot"

    id: str = ""
    name: str = ""
    state: int = GroupSnapshotState.INCOMPLETE
    snaps: list[ImageSnapshotSpec] = field(default_factory=list)

    @classmethod
    def decode(cls, dec: Decoder) -> GroupSnapshot:
        with dec.struct("GroupSnapshot", min_v=1, max_compat=1):
            return cls(dec.string(), dec.string(), dec.u8(),
                       dec.list_(ImageSnapshotSpec.decode, 6))

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.id)
            enc.string(self.name)
            enc.u8(self.state)
            enc.list_(self.snaps, lambda e, s: s.encode(e))


# -- snapshot namespaces --------------------------------------------------------------------

class SnapshotNamespace:
    """``cls::rbd::SnapshotNamespace``: envelope v1 (compat 1) { le32 type; type fields }.

    ``SnapshotNamespace.decode`` returns the concrete variant; every variant encodes the
    whole envelope. The body of a variant is not versioned itself: newer fields a release
    appends are skipped by the envelope.
    """

    __slots__ = ()

    CEPH_TYPE: ClassVar[str] = "cls::rbd::SnapshotNamespace"
    SNAPSHOT_NAMESPACE_TYPE: ClassVar[int] = -1

    @classmethod
    def decode(cls, dec: Decoder) -> SnapshotNamespace:
        with dec.struct("SnapshotNamespace", min_v=1, max_compat=1):
            snap_type = dec.u32()
            variant = _NAMESPACE_TYPES.get(snap_type)
            if variant is None:
                return UnknownSnapshotNamespace(snap_type, bytes(dec.raw(dec.remaining)))
            return variant._decode_body(dec)

    @classmethod
    def _decode_body(cls, dec: Decoder) -> SnapshotNamespace:
        raise NotImplementedError

    def _encode_body(self, enc: Encoder) -> None:
        raise NotImplementedError

    def _type(self) -> int:
        return self.SNAPSHOT_NAMESPACE_TYPE

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.u32(self._type())
            self._encode_body(enc)


@dataclass(slots=True, frozen=True)
class UserSnapshotNamespace(SnapshotNamespace):
    """An ordinary snapshot (type 0, no fields)."""

    SNAPSHOT_NAMESPACE_TYPE: ClassVar[int] = SnapshotNamespaceType.USER

    @classmethod
    def _decode_body(cls, dec: Decoder) -> UserSnapshotNamespace:
        return cls()

    def _encode_body(self, enc: Encoder) -> None:
        pass


@dataclass(slots=True, frozen=True)
class GroupSnapshotNamespace(SnapshotNamespace):
    """A member of a group snapshot (type 1): s64 group_pool, group_id, group_snapshot_id."""

    SNAPSHOT_NAMESPACE_TYPE: ClassVar[int] = SnapshotNamespaceType.GROUP

    group_pool: int = 0
    group_id: str = ""
    group_snapshot_id: str = ""

    @classmethod
    def _decode_body(cls, dec: Decoder) -> GroupSnapshotNamespace:
        return cls(dec.s64(), dec.string(), dec.string())

    def _encode_body(self, enc: Encoder) -> None:
        enc.s64(self.group_pool)
        enc.string(self.group_id)
        enc.string(self.group_snapshot_id)


@dataclass(slots=True, frozen=True)
class TrashSnapshotNamespace(SnapshotNamespace):
    """A removed snapshot still needed by clones (type 2): name, le32 original type."""

    SNAPSHOT_NAMESPACE_TYPE: ClassVar[int] = SnapshotNamespaceType.TRASH

    original_name: str = ""
    original_snapshot_namespace_type: int = SnapshotNamespaceType.USER

    @classmethod
    def _decode_body(cls, dec: Decoder) -> TrashSnapshotNamespace:
        return cls(dec.string(), dec.u32())

    def _encode_body(self, enc: Encoder) -> None:
        enc.string(self.original_name)
        enc.u32(self.original_snapshot_namespace_type)


@dataclass(slots=True, frozen=True)
class MirrorSnapshotNamespace(SnapshotNamespace):
    """A snapshot-based mirroring snapshot (type 3).

    ``primary_snap_id`` doubles as ``clean_since_snap_id`` on primary snapshots (a C++
    union); ``mirror_peer_uuids`` is a ``set<string>`` (sorted on the wire).
    """

    SNAPSHOT_NAMESPACE_TYPE: ClassVar[int] = SnapshotNamespaceType.MIRROR

    state: int = MirrorSnapshotState.NON_PRIMARY
    complete: bool = False
    mirror_peer_uuids: frozenset[str] = frozenset()
    primary_mirror_uuid: str = ""
    primary_snap_id: int = CEPH_NOSNAP
    last_copied_object_number: int = 0
    snap_seqs: tuple[tuple[int, int], ...] = ()

    @classmethod
    def _decode_body(cls, dec: Decoder) -> MirrorSnapshotNamespace:
        state = dec.u8()
        complete = dec.bool_()
        peers = frozenset(dec.list_(Decoder.string, 4))
        primary_mirror_uuid = dec.string()
        primary_snap_id = dec.u64()
        last_copied = dec.u64()
        snap_seqs = tuple(sorted(_u64_map(dec).items()))
        return cls(state, complete, peers, primary_mirror_uuid, primary_snap_id,
                   last_copied, snap_seqs)

    def _encode_body(self, enc: Encoder) -> None:
        enc.u8(self.state)
        enc.bool_(self.complete)
        enc.list_(sorted(self.mirror_peer_uuids), Encoder.string)
        enc.string(self.primary_mirror_uuid)
        enc.u64(self.primary_snap_id)
        enc.u64(self.last_copied_object_number)
        _put_u64_map(enc, dict(self.snap_seqs))


@dataclass(slots=True, frozen=True)
class UnknownSnapshotNamespace(SnapshotNamespace):
    """A namespace type this client does not know; the body is kept verbatim."""

    namespace_type: int = -1
    body: bytes = b""

    def _type(self) -> int:
        return self.namespace_type & 0xFFFF_FFFF

    def _encode_body(self, enc: Encoder) -> None:
        enc.raw(self.body)


_NAMESPACE_TYPES: dict[int, type[SnapshotNamespace]] = {
    int(SnapshotNamespaceType.USER): UserSnapshotNamespace,
    int(SnapshotNamespaceType.GROUP): GroupSnapshotNamespace,
    int(SnapshotNamespaceType.TRASH): TrashSnapshotNamespace,
    int(SnapshotNamespaceType.MIRROR): MirrorSnapshotNamespace,
}


@dataclass(slots=True)
class SnapshotInfo:
    """``cls::rbd::SnapshotInfo``: v1 (compat 1). Returned by cls ``snapshot_get``.

    Fields: u64 id, SnapshotNamespace, name, u64 image_size, utime timestamp,
    le32 child_count.
    """

    CEPH_TYPE: ClassVar[str] = "cls::rbd::SnapshotInfo"

    id: int = CEPH_NOSNAP
    snapshot_namespace: SnapshotNamespace = field(default_factory=UserSnapshotNamespace)
    name: str = ""
    image_size: int = 0
    timestamp: UTime = (0, 0)
    child_count: int = 0

    @classmethod
    def decode(cls, dec: Decoder) -> SnapshotInfo:
        with dec.struct("SnapshotInfo", min_v=1, max_compat=1):
            return cls(dec.u64(), SnapshotNamespace.decode(dec), dec.string(), dec.u64(),
                       dec.utime(), dec.u32())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.u64(self.id)
            self.snapshot_namespace.encode(enc)
            enc.string(self.name)
            enc.u64(self.image_size)
            enc.utime(self.timestamp)
            enc.u32(self.child_count)


# -- mirroring, trash, migration ------------------------------------------------------------

@dataclass(slots=True)
class MirrorImage:
    """``cls::rbd::MirrorImage``: v2 (compat 1): global id, u8 state, (v2) u8 mode."""

    CEPH_TYPE: ClassVar[str] = "cls::rbd::MirrorImage"

    mode: int = MirrorImageMode.JOURNAL
    global_image_id: str = ""
    state: int = MirrorImageState.DISABLING

    @classmethod
    def decode(cls, dec: Decoder) -> MirrorImage:
        with dec.struct("MirrorImage", min_v=1, max_compat=1) as v:
            global_image_id = dec.string()
            state = dec.u8()
            # added in v2 (Octopus): snapshot-based mirroring
            mode = dec.u8() if v >= 2 else MirrorImageMode.JOURNAL
        return cls(mode, global_image_id, state)

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(2, 1):
            enc.string(self.global_image_id)
            enc.u8(self.state)
            enc.u8(self.mode)


@dataclass(slots=True)
class TrashImageSpec:
    """``cls::rbd::TrashImageSpec``: v2 (compat 1). Value of ``rbd_trash`` ``id_<id>`` keys.

    u8 source, name, utime deletion_time, utime deferment_end_time, (v2) u8 state.
    """

    CEPH_TYPE: ClassVar[str] = "cls::rbd::TrashImageSpec"

    source: int = TrashImageSource.USER
    name: str = ""
    deletion_time: UTime = (0, 0)
    deferment_end_time: UTime = (0, 0)
    state: int = TrashImageState.NORMAL

    @classmethod
    def decode(cls, dec: Decoder) -> TrashImageSpec:
        with dec.struct("TrashImageSpec", min_v=1, max_compat=1) as v:
            source = dec.u8()
            name = dec.string()
            deletion_time = dec.utime()
            deferment_end_time = dec.utime()
            # added in v2 (Nautilus)
            state = dec.u8() if v >= 2 else TrashImageState.NORMAL
        return cls(source, name, deletion_time, deferment_end_time, state)

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(2, 1):
            enc.u8(self.source)
            enc.string(self.name)
            enc.utime(self.deletion_time)
            enc.utime(self.deferment_end_time)
            enc.u8(self.state)


@dataclass(slots=True)
class MigrationSpec:
    """``cls::rbd::MigrationSpec``: v3; compat 3 when ``source_spec`` is set, else 1.

    v2 added ``mirror_image_mode`` (Octopus), v3 ``source_spec`` (Pacific, import-only
    migration from a non-RBD source).
    """

    CEPH_TYPE: ClassVar[str] = "cls::rbd::MigrationSpec"

    header_type: int = MigrationHeaderType.SRC
    pool_id: int = -1
    pool_namespace: str = ""
    image_name: str = ""
    image_id: str = ""
    source_spec: str = ""
    snap_seqs: dict[int, int] = field(default_factory=dict)
    overlap: int = 0
    flatten: bool = False
    mirroring: bool = False
    mirror_image_mode: int = MirrorImageMode.JOURNAL
    state: int = MigrationState.ERROR
    state_description: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> MigrationSpec:
        with dec.struct("MigrationSpec", min_v=1, max_compat=3) as v:
            spec = cls(header_type=dec.u8(), pool_id=dec.s64(),
                       pool_namespace=dec.string(), image_name=dec.string(),
                       image_id=dec.string(), snap_seqs=_u64_map(dec),
                       overlap=dec.u64(), flatten=dec.bool_(), mirroring=dec.bool_(),
                       state=dec.u8(), state_description=dec.string())
            if v >= 2:
                spec.mirror_image_mode = dec.u8()
            if v >= 3:
                spec.source_spec = dec.string()
        return spec

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(3, 3 if self.source_spec else 1):
            enc.u8(self.header_type)
            enc.s64(self.pool_id)
            enc.string(self.pool_namespace)
            enc.string(self.image_name)
            enc.string(self.image_id)
            _put_u64_map(enc, self.snap_seqs)
            enc.u64(self.overlap)
            enc.bool_(self.flatten)
            enc.bool_(self.mirroring)
            enc.u8(self.state)
            enc.string(self.state_description)
            enc.u8(self.mirror_image_mode)
            enc.string(self.source_spec)


# -- header omap records (cls_rbd.h) --------------------------------------------------------

@dataclass(slots=True)
class ClsRbdParent:
    """``cls_rbd_parent``, the header's ``parent`` key: v2 (compat 2) only.

    s64 pool_id, pool_namespace, image_id, u64 snap_id, optional<u64> head_overlap.
    v1 (pre-Nautilus OSDs, a plain u64 overlap and no namespace) is below the floor.
    """

    CEPH_TYPE: ClassVar[str] = "cls_rbd_parent"

    pool_id: int = -1
    pool_namespace: str = ""
    image_id: str = ""
    snap_id: int = CEPH_NOSNAP
    head_overlap: int | None = None

    def exists(self) -> bool:
        return self.pool_id >= 0 and bool(self.image_id) and self.snap_id != CEPH_NOSNAP

    @classmethod
    def decode(cls, dec: Decoder) -> ClsRbdParent:
        with dec.struct("cls_rbd_parent", min_v=2, max_compat=2):
            return cls(dec.s64(), dec.string(), dec.string(), dec.u64(),
                       dec.optional(Decoder.u64))

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(2, 2):
            enc.s64(self.pool_id)
            enc.string(self.pool_namespace)
            enc.string(self.image_id)
            enc.u64(self.snap_id)
            enc.optional(self.head_overlap, Encoder.u64)


@dataclass(slots=True)
class ClsRbdSnap:
    """``cls_rbd_snap``, the header's ``snapshot_<id %016x>`` keys: v8 (compat 8) up.

    u64 id, name, u64 image_size, u8 protection_status, u64 flags, SnapshotNamespace,
    utime timestamp, le32 child_count, optional<u64> parent_overlap. Encodings with
    compat < 8 (pre-Nautilus OSDs: unused features word and an embedded parent) are below
    the floor.
    """

    CEPH_TYPE: ClassVar[str] = "cls_rbd_snap"

    id: int = CEPH_NOSNAP
    name: str = ""
    image_size: int = 0
    protection_status: int = RBD_PROTECTION_STATUS_UNPROTECTED
    flags: int = 0
    snapshot_namespace: SnapshotNamespace = field(default_factory=UserSnapshotNamespace)
    timestamp: UTime = (0, 0)
    child_count: int = 0
    parent_overlap: int | None = None

    @classmethod
    def decode(cls, dec: Decoder) -> ClsRbdSnap:
        dec.need(2)
        if dec.buf[dec.pos + 1] < 8:  # struct_compat: < 8 means the pre-Nautilus layout
            raise dec.error("cls_rbd_snap: struct_compat < 8 (pre-Nautilus) not supported")
        with dec.struct("cls_rbd_snap", min_v=8, max_compat=8):
            return cls(dec.u64(), dec.string(), dec.u64(), dec.u8(), dec.u64(),
                       SnapshotNamespace.decode(dec), dec.utime(), dec.u32(),
                       dec.optional(Decoder.u64))

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(8, 8):
            enc.u64(self.id)
            enc.string(self.name)
            enc.u64(self.image_size)
            enc.u8(self.protection_status)
            enc.u64(self.flags)
            self.snapshot_namespace.encode(enc)
            enc.utime(self.timestamp)
            enc.u32(self.child_count)
            enc.optional(self.parent_overlap, Encoder.u64)


TYPES: dict[str, type] = {t.CEPH_TYPE: t for t in (
    ParentImageSpec, ChildImageSpec, GroupSpec, GroupImageSpec, GroupImageStatus,
    ImageSnapshotSpec, GroupSnapshot, SnapshotNamespace, SnapshotInfo, MirrorImage,
    TrashImageSpec, MigrationSpec, ClsRbdParent, ClsRbdSnap)}
"""CEPH_TYPE -> class, for corpus tests."""
