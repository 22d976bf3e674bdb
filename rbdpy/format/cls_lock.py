"""cls_lock: advisory object locks (the RBD exclusive lock lives on top of them).

Theory of operation: the OSD class "lock" keeps, per object and lock name, an xattr
``lock.<name>`` holding a :class:`LockInfo` -- the map of current lockers (who: an
``entity_name_t`` plus a cookie; and what: expiration, address, description), the lock type
and a tag every locker must match. Clients never touch the xattr; they call the methods
below. Every method's input is one versioned op struct (envelope v1, compat 1), and
``get_info``'s output is a ``cls_lock_get_info_reply``, whose layout is the xattr's
``lock_info_t``. RBD uses lock name ``rbd_lock``, an exclusive lock, tag ``internal`` and
cookie ``auto <watch handle>`` (librbd ManagedLock).

Decoders accept struct_v >= 1 with compat <= 1 and skip fields a newer release appends
(DECODE_START_LEGACY_COMPAT_LEN(1, 1, 1): Pacific and later always write v1 envelopes;
the pre-envelope legacy form is far below the Pacific floor and rejected).

Mirrors: ceph src/cls/lock/cls_lock_ops.h (op structs), cls_lock_types.h (ClsLockType,
LOCK_FLAG_*, locker_id_t, locker_info_t, lock_info_t), cls_lock_client.cc (method names),
src/msg/msg_types.h (entity_name_t); kernel net/ceph/cls_lock_client.c.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import ClassVar, Protocol, TypeVar

from rbdpy.format.cls import ClsCall, build
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.types import EntityAddr

_CLS = "lock"

UTime = tuple[int, int]

_T = TypeVar("_T")


class ClsLockType(IntEnum):
    """``ClsLockType`` (u8 on the wire)."""

    NONE = 0
    EXCLUSIVE = 1
    SHARED = 2
    # added in Octopus: the lock object is removed when the last locker unlocks
    EXCLUSIVE_EPHEMERAL = 3


LOCK_FLAG_MAY_RENEW = 0x1
"""Re-locking with the same cookie renews instead of failing with EEXIST."""
LOCK_FLAG_MUST_RENEW = 0x2
"""The lock must already be held by this cookie (ENOENT otherwise)."""

# ceph_entity_name types (src/include/msgr.h CEPH_ENTITY_TYPE_*)
_ENTITY_TYPES = {0x01: "mon", 0x02: "mds", 0x04: "osd", 0x08: "client", 0x10: "mgr",
                 0x20: "auth"}
_ENTITY_TYPE_IDS = {v: k for k, v in _ENTITY_TYPES.items()}


@dataclass(frozen=True, slots=True, order=True)
class EntityNameT:
    """``entity_name_t``: u8 type + le64 num, e.g. ``client.4123``.

    Not to be confused with cephx's ``EntityName`` (le32 type + string id,
    rbdpy.rados.proto.types.EntityName). Ordered like Ceph's ``operator<`` (type, num),
    which orders the lockers map.
    """

    CEPH_TYPE: ClassVar[str] = "entity_name_t"

    type: int = 0
    num: int = 0

    @classmethod
    def parse(cls, text: str) -> EntityNameT:
        """``"client.4123"`` -> EntityNameT(8, 4123)."""
        kind, _, num = text.partition(".")
        if kind not in _ENTITY_TYPE_IDS or not num.isdigit():
            raise ValueError(f"not an entity name: {text!r}")
        return cls(_ENTITY_TYPE_IDS[kind], int(num))

    def __str__(self) -> str:
        return f"{_ENTITY_TYPES.get(self.type, 'unknown')}.{self.num}"

    @classmethod
    def decode(cls, dec: Decoder) -> EntityNameT:
        return cls(dec.u8(), dec.s64())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        enc.u8(self.type)
        enc.s64(self.num)


@dataclass(frozen=True, slots=True, order=True)
class LockerId:
    """``rados::cls::lock::locker_id_t``: v1 (compat 1) { entity_name_t locker, cookie }."""

    CEPH_TYPE: ClassVar[str] = "rados::cls::lock::locker_id_t"

    locker: EntityNameT = field(default_factory=EntityNameT)
    cookie: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> LockerId:
        with dec.struct("locker_id_t", min_v=1, max_compat=1):
            return cls(EntityNameT.decode(dec), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            self.locker.encode(enc)
            enc.string(self.cookie)


@dataclass(frozen=True, slots=True)
class LockerInfo:
    """``rados::cls::lock::locker_info_t``: v1 (compat 1)
    { utime expiration (0: never), entity_addr_t addr, string description }.

    The address is the locker's as the OSD saw it, written in the new (MSG_ADDR2) form
    with type LEGACY even for msgr2 clients: compare addresses ignoring the type.
    """

    CEPH_TYPE: ClassVar[str] = "rados::cls::lock::locker_info_t"

    expiration: UTime = (0, 0)
    addr: EntityAddr = field(default_factory=EntityAddr)
    description: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> LockerInfo:
        with dec.struct("locker_info_t", min_v=1, max_compat=1):
            return cls(dec.utime(), EntityAddr.decode(dec), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.utime(self.expiration)
            self.addr.encode(enc)
            enc.string(self.description)


@dataclass(slots=True)
class LockInfo:
    """``rados::cls::lock::lock_info_t`` = ``cls_lock_get_info_reply``: v1 (compat 1)
    { map<locker_id_t, locker_info_t> lockers, u8 lock_type, string tag }.

    The ``lock.<name>`` xattr holds this; ``get_info`` returns the same layout.
    """

    CEPH_TYPE: ClassVar[str] = "rados::cls::lock::lock_info_t"

    lockers: dict[LockerId, LockerInfo] = field(default_factory=dict)
    lock_type: int = ClsLockType.NONE
    tag: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> LockInfo:
        with dec.struct("lock_info_t", min_v=1, max_compat=1):
            lockers = dec.map_(LockerId.decode, LockerInfo.decode, 20)
            return cls(lockers, dec.u8(), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.map_(self.lockers, lambda e, k: k.encode(e), lambda e, v: v.encode(e))
            enc.u8(self.lock_type)
            enc.string(self.tag)


@dataclass(slots=True)
class ClsLockLockOp:
    """``cls_lock_lock_op`` (input of ``lock``): v1 (compat 1) { name, u8 type, cookie,
    tag, description, utime duration (0: forever), u8 flags }."""

    CEPH_TYPE: ClassVar[str] = "cls_lock_lock_op"

    name: str = ""
    type: int = ClsLockType.NONE
    cookie: str = ""
    tag: str = ""
    description: str = ""
    duration: UTime = (0, 0)
    flags: int = 0

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockLockOp:
        with dec.struct("cls_lock_lock_op", min_v=1, max_compat=1):
            return cls(dec.string(), dec.u8(), dec.string(), dec.string(), dec.string(),
                       dec.utime(), dec.u8())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.name)
            enc.u8(self.type)
            enc.string(self.cookie)
            enc.string(self.tag)
            enc.string(self.description)
            enc.utime(self.duration)
            enc.u8(self.flags)


@dataclass(slots=True)
class ClsLockUnlockOp:
    """``cls_lock_unlock_op`` (input of ``unlock``): v1 (compat 1) { name, cookie }."""

    CEPH_TYPE: ClassVar[str] = "cls_lock_unlock_op"

    name: str = ""
    cookie: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockUnlockOp:
        with dec.struct("cls_lock_unlock_op", min_v=1, max_compat=1):
            return cls(dec.string(), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.name)
            enc.string(self.cookie)


@dataclass(slots=True)
class ClsLockBreakOp:
    """``cls_lock_break_op`` (input of ``break_lock``): v1 (compat 1)
    { name, entity_name_t locker, cookie }."""

    CEPH_TYPE: ClassVar[str] = "cls_lock_break_op"

    name: str = ""
    locker: EntityNameT = field(default_factory=EntityNameT)
    cookie: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockBreakOp:
        with dec.struct("cls_lock_break_op", min_v=1, max_compat=1):
            return cls(dec.string(), EntityNameT.decode(dec), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.name)
            self.locker.encode(enc)
            enc.string(self.cookie)


@dataclass(slots=True)
class ClsLockGetInfoOp:
    """``cls_lock_get_info_op`` (input of ``get_info``): v1 (compat 1) { name }."""

    CEPH_TYPE: ClassVar[str] = "cls_lock_get_info_op"

    name: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockGetInfoOp:
        with dec.struct("cls_lock_get_info_op", min_v=1, max_compat=1):
            return cls(dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.name)


@dataclass(slots=True)
class ClsLockListLocksReply:
    """``cls_lock_list_locks_reply`` (output of ``list_locks``): v1 (compat 1)
    { list<string> locks }."""

    CEPH_TYPE: ClassVar[str] = "cls_lock_list_locks_reply"

    locks: list[str] = field(default_factory=list)

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockListLocksReply:
        with dec.struct("cls_lock_list_locks_reply", min_v=1, max_compat=1):
            return cls(dec.list_(Decoder.string, 4))

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.list_(self.locks, Encoder.string)


@dataclass(slots=True)
class ClsLockAssertOp:
    """``cls_lock_assert_op`` (input of ``assert_locked``): v1 (compat 1)
    { name, u8 type, cookie, tag }."""

    CEPH_TYPE: ClassVar[str] = "cls_lock_assert_op"

    name: str = ""
    type: int = ClsLockType.NONE
    cookie: str = ""
    tag: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockAssertOp:
        with dec.struct("cls_lock_assert_op", min_v=1, max_compat=1):
            return cls(dec.string(), dec.u8(), dec.string(), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.name)
            enc.u8(self.type)
            enc.string(self.cookie)
            enc.string(self.tag)


@dataclass(slots=True)
class ClsLockSetCookieOp:
    """``cls_lock_set_cookie_op`` (input of ``set_cookie``): v1 (compat 1)
    { name, u8 type, cookie, tag, new_cookie }."""

    CEPH_TYPE: ClassVar[str] = "cls_lock_set_cookie_op"

    name: str = ""
    type: int = ClsLockType.NONE
    cookie: str = ""
    tag: str = ""
    new_cookie: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockSetCookieOp:
        with dec.struct("cls_lock_set_cookie_op", min_v=1, max_compat=1):
            return cls(dec.string(), dec.u8(), dec.string(), dec.string(), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(1, 1):
            enc.string(self.name)
            enc.u8(self.type)
            enc.string(self.cookie)
            enc.string(self.tag)
            enc.string(self.new_cookie)


ClsLockGetInfoReply = LockInfo
"""``cls_lock_get_info_reply`` has exactly ``lock_info_t``'s layout."""

TYPES: dict[str, type] = {
    "cls_lock_lock_op": ClsLockLockOp,
    "cls_lock_unlock_op": ClsLockUnlockOp,
    "cls_lock_break_op": ClsLockBreakOp,
    "cls_lock_get_info_op": ClsLockGetInfoOp,
    "cls_lock_get_info_reply": LockInfo,
    "cls_lock_list_locks_reply": ClsLockListLocksReply,
    "cls_lock_assert_op": ClsLockAssertOp,
    "cls_lock_set_cookie_op": ClsLockSetCookieOp,
    "rados::cls::lock::lock_info_t": LockInfo,
    "rados::cls::lock::locker_id_t": LockerId,
    "rados::cls::lock::locker_info_t": LockerInfo,
    # the corpus also files these under their unqualified names
    "lock_info_t": LockInfo,
    "locker_id_t": LockerId,
    "locker_info_t": LockerInfo,
}
"""Ceph type name -> class, for corpus tests."""


# -- method builders ----------------------------------------------------------------------------

class _OpStruct(Protocol):
    def encode(self, enc: Encoder, features: int = 0) -> None: ...


def _op(method: str, op: _OpStruct, *, write: bool,
        reply: Callable[[Decoder], _T] | None = None) -> ClsCall[_T]:
    return build(_CLS, method, op.encode, reply, write=write)


def lock(name: str, type: ClsLockType, cookie: str, tag: str = "", description: str = "",
         duration: UTime = (0, 0), flags: int = 0) -> ClsCall[None]:
    """``lock``: take (or, with LOCK_FLAG_MAY_RENEW, renew) a lock.

    EBUSY: held by someone else (or an incompatible type/tag); EEXIST: this locker already
    holds it with this cookie.
    """
    return _op("lock", ClsLockLockOp(name, type, cookie, tag, description, duration, flags),
               write=True)


def unlock(name: str, cookie: str) -> ClsCall[None]:
    """``unlock``: release this client's lock (ENOENT if it does not hold it)."""
    return _op("unlock", ClsLockUnlockOp(name, cookie), write=True)


def break_lock(name: str, locker: EntityNameT, cookie: str) -> ClsCall[None]:
    """``break_lock``: remove another client's lock (ENOENT if no such locker)."""
    return _op("break_lock", ClsLockBreakOp(name, locker, cookie), write=True)


def get_info(name: str) -> ClsCall[LockInfo]:
    """``get_info``: the lockers, type and tag of lock ``name`` (ENOENT when never taken;
    an empty LockInfo once everyone unlocked)."""
    return _op("get_info", ClsLockGetInfoOp(name), write=False, reply=LockInfo.decode)


def list_locks() -> ClsCall[list[str]]:
    """``list_locks``: the names of all locks on the object (no input)."""
    def reply(dec: Decoder) -> list[str]:
        return ClsLockListLocksReply.decode(dec).locks
    return build(_CLS, "list_locks", None, reply)


def assert_locked(name: str, type: ClsLockType, cookie: str, tag: str = "") -> ClsCall[None]:
    """``assert_locked``: fail the compound op (EBUSY) unless this lock is held as given."""
    return _op("assert_locked", ClsLockAssertOp(name, type, cookie, tag), write=False)


def set_cookie(name: str, type: ClsLockType, cookie: str, tag: str,
               new_cookie: str) -> ClsCall[None]:
    """``set_cookie``: replace this client's cookie on a held lock (librbd after a
    re-watch gives the lock the new watch handle)."""
    return _op("set_cookie", ClsLockSetCookieOp(name, type, cookie, tag, new_cookie),
               write=True)
