"""Inputs of the cls "lock" methods python-rados exposes (lock, unlock).

Theory of operation: ``rados_lock_exclusive``/``rados_lock_shared``/``rados_unlock`` are
not OSD ops of their own: librados runs the object class "lock" through a CALL op in a
write operation. This module encodes the class methods' input structures; the ioctx sends
them with :func:`rbdpy.rados.proto.ops.call`. Both methods return nothing a client reads.

Mirrors: ceph src/cls/lock/cls_lock_ops.h (cls_lock_lock_op::encode,
cls_lock_unlock_op::encode), src/cls/lock/cls_lock_types.h (ClsLockType, LOCK_FLAG_*),
src/cls/lock/cls_lock_client.cc (lock, unlock).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all


class ClsLockType(IntEnum):
    """``ClsLockType`` (cls_lock_types.h)."""

    NONE = 0
    EXCLUSIVE = 1
    SHARED = 2
    EXCLUSIVE_EPHEMERAL = 3


# cls_lock_types.h
LOCK_FLAG_MAY_RENEW = 0x1
LOCK_FLAG_MUST_RENEW = 0x2


@dataclass(slots=True)
class ClsLockLockOp:
    """``cls_lock_lock_op``: envelope(1,1) string name | u8 type | string cookie |
    string tag | string description | utime duration | u8 flags.

    Decodes struct_v >= 1 (the only version through Tentacle); newer tails are skipped.
    """

    CEPH_TYPE = "cls_lock_lock_op"

    name: str = ""
    type: int = ClsLockType.NONE
    cookie: str = ""
    tag: str = ""
    description: str = ""
    duration: tuple[int, int] = (0, 0)
    flags: int = 0

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockLockOp:
        with dec.struct(cls.CEPH_TYPE, min_v=1, max_compat=1):
            return cls(dec.string(), dec.u8(), dec.string(), dec.string(), dec.string(),
                       dec.utime(), dec.u8())

    def encode(self, enc: Encoder) -> None:
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
    """``cls_lock_unlock_op``: envelope(1,1) string name | string cookie.

    Decodes struct_v >= 1; newer tails are skipped.
    """

    CEPH_TYPE = "cls_lock_unlock_op"

    name: str = ""
    cookie: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> ClsLockUnlockOp:
        with dec.struct(cls.CEPH_TYPE, min_v=1, max_compat=1):
            return cls(dec.string(), dec.string())

    def encode(self, enc: Encoder) -> None:
        with enc.struct(1, 1):
            enc.string(self.name)
            enc.string(self.cookie)


def encode_lock(name: str, lock_type: int, cookie: str, tag: str, description: str,
                duration: float | None, flags: int) -> bytes:
    """The input of ``lock.lock``; ``duration`` None (or 0) means "never expires"."""
    secs = 0.0 if duration is None else float(duration)
    whole = int(secs)
    op = ClsLockLockOp(name, lock_type, cookie, tag, description,
                       (whole, round((secs - whole) * 1e9)), flags)
    enc = Encoder()
    op.encode(enc)
    return enc.getvalue()


def encode_unlock(name: str, cookie: str) -> bytes:
    """The input of ``lock.unlock``."""
    enc = Encoder()
    ClsLockUnlockOp(name, cookie).encode(enc)
    return enc.getvalue()


def decode_lock_op(data: bytes) -> ClsLockLockOp:
    return decode_all(data, ClsLockLockOp.decode, "cls_lock_lock_op")


def decode_unlock_op(data: bytes) -> ClsLockUnlockOp:
    return decode_all(data, ClsLockUnlockOp.decode, "cls_lock_unlock_op")
