"""The omap of an image header object (``rbd_header.<id>``), key by key.

Theory of operation: the ``rbd`` object class keeps a format-2 image's metadata as omap
entries of its header object. librbd (and rbdpy) read and change them only through cls
methods (:mod:`rbdpy.format.cls_rbd`); this module knows each key's *stored* encoding so a
raw omap dump — ``rados listomapvals rbd_header.<id>`` — can be decoded and re-encoded, which
is how rbdpy's types are pinned to what Ceph itself wrote. Keys this module does not know
decode as raw bytes, so a newer release's additions never break a dump.

Mirrors: ceph src/cls/rbd/cls_rbd.cc (the key names and what each method stores: "size",
"order", "features", "object_prefix", "snap_seq", "snapshot_%016llx", "parent",
"stripe_unit", "stripe_count", "data_pool_id", "flags", "op_features",
"create_timestamp", "access_timestamp", "modify_timestamp", "metadata_<key>",
"snap_limit"), src/cls/rbd/cls_rbd.h (cls_rbd_parent, cls_rbd_snap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rbdpy.format.types import ClsRbdParent, ClsRbdSnap
from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all

SNAPSHOT_KEY_PREFIX = "snapshot_"
METADATA_KEY_PREFIX = "metadata_"

_Codec = tuple[Callable[[Decoder], Any], Callable[[Encoder, Any], None]]

_U64: _Codec = (Decoder.u64, Encoder.u64)
_U8: _Codec = (Decoder.u8, Encoder.u8)
_STR: _Codec = (Decoder.string, Encoder.string)
_UTIME: _Codec = (Decoder.utime, Encoder.utime)
_PARENT: _Codec = (ClsRbdParent.decode, lambda e, v: v.encode(e))
_SNAP: _Codec = (ClsRbdSnap.decode, lambda e, v: v.encode(e))

#: Fixed keys and their stored encodings (cls_rbd.cc).
HEADER_KEYS: dict[str, _Codec] = {
    "size": _U64,
    "order": _U8,
    "features": _U64,
    "object_prefix": _STR,
    "snap_seq": _U64,
    "parent": _PARENT,
    "stripe_unit": _U64,
    "stripe_count": _U64,
    "data_pool_id": _U64,
    "flags": _U64,
    "op_features": _U64,
    "snap_limit": _U64,
    "create_timestamp": _UTIME,
    "access_timestamp": _UTIME,
    "modify_timestamp": _UTIME,
}


def _codec(key: str) -> _Codec | None:
    if key in HEADER_KEYS:
        return HEADER_KEYS[key]
    if key.startswith(SNAPSHOT_KEY_PREFIX):
        return _SNAP
    return None


def decode_header_value(key: str, value: Buffer) -> Any:
    """Decode one header omap value; ``metadata_*`` and unknown keys stay raw bytes.

    :raises DecodeError: the value does not decode as its key's type, or has extra bytes.
    """
    codec = _codec(key)
    if codec is None:
        return bytes(value)
    return decode_all(value, codec[0], f"rbd_header[{key}]")


def encode_header_value(key: str, value: Any) -> bytes:
    """The stored bytes of one header omap value (the inverse of decode_header_value)."""
    codec = _codec(key)
    if codec is None:
        return bytes(value)
    enc = Encoder()
    codec[1](enc, value)
    return enc.getvalue()
