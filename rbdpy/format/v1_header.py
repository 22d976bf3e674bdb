"""Format 1 ("legacy") RBD images: the ``<name>.rbd`` header and the TMAP directory.

A format 1 image has no id and no cls_rbd state of its own. Its header object
``<name>.rbd`` holds one packed little-endian C struct (ceph src/include/rbd_types.h,
``struct rbd_obj_header_ondisk``), 112 bytes, followed by the snapshot table:

====== ==== ============================================================
offset size field
====== ==== ============================================================
0      40   banner text, ``"<<< Rados Block Device Image >>>\\n"`` NUL-padded
40     24   block name (the data object prefix, ``rb.<hi>.<lo>.<rand>``), NUL-padded
64     4    signature ``"RBD\\0"``
68     8    version ``"001.005\\0"``
76     1    order (object size is ``1 << order``)
77     3    crypt type, compression type, unused (all 0)
80     8    image size
88     8    snapshot sequence (the snap context's seq)
96     4    snapshot count
100    4    reserved
104    8    length of the snapshot-name area
112    16n  per snapshot: id (u64), size (u64), newest first
...         the names, each NUL-terminated, in the same order
====== ==== ============================================================

librbd (src/librbd/internal.cc ``init_rbd_header``, ``create_v1``) writes the fixed part
at creation; cls_rbd's ``snap_add``/``snap_remove`` (old_snapshot_add/remove) rewrite the
table. Readers: librbd's image/RefreshRequest.cc (``handle_v1_read_header``: ENXIO when
the object is shorter than the struct or the banner differs) and the kernel's
drivers/block/rbd.c (``rbd_dev_v1_header_info``, ``rbd_header_from_disk``).

Format 1 images are listed in the *data* of ``rbd_directory`` as a TMAP (a header
bufferlist, then a map of name → empty bufferlist); librbd adds and removes names with a
TMAPUP op whose payload is a list of (op byte, key[, value]) commands (``tmap_set``,
``tmap_rm`` in internal.cc; the op letters are CEPH_OSD_TMAP_* in include/rados.h).
Format 2 entries live in the omap of the same object, so the two coexist.

Data objects are ``<block name>.<objectno %012x>`` (rbdpy.format.constants.data_object_name
with ``old_format=True``).

Pinned by tests/vectors/format1/ (headers and a directory written by librbd 16.2.15).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from rbdpy.format.cls import ClsCall, build
from rbdpy.rados.proto.bytestr import Buffer, to_bytes, to_str
from rbdpy.rados.proto.denc import Encoder

HEADER_SUFFIX = ".rbd"
HEADER_TEXT = b"<<< Rados Block Device Image >>>\n"
HEADER_SIGNATURE = b"RBD"
HEADER_VERSION = b"001.005"
# text[40] block_name[24] signature[4] version[8] order,crypt,comp,unused
# image_size snap_seq snap_count reserved snap_names_len
_FIXED = struct.Struct("<40s24s4s8sBBBBQQIIQ")
HEADER_SIZE = _FIXED.size  # 112
# where image_size sits: librbd's v1 resize rewrites only these 8 bytes
SIZE_OFFSET = 80
_SNAP = struct.Struct("<QQ")
BLOCK_NAME_SIZE = 24

# CEPH_OSD_TMAP_* command letters (include/rados.h)
TMAP_SET = ord("s")
TMAP_RM = ord("r")


class HeaderError(ValueError):
    """Bytes that are not a format 1 header (librbd answers ENXIO)."""


@dataclass(frozen=True)
class SnapshotV1:
    """One entry of the header's snapshot table."""

    id: int
    size: int
    name: str


@dataclass(frozen=True)
class HeaderV1:
    """The decoded ``<name>.rbd`` object."""

    block_name: str
    order: int
    size: int
    snap_seq: int = 0
    # newest first, as the header stores them
    snapshots: tuple[SnapshotV1, ...] = field(default_factory=tuple)


def header_object_name(image_name: str) -> str:
    """``<name>.rbd`` (librbd ``util::old_header_name``)."""
    return image_name + HEADER_SUFFIX


def block_name_for(instance_id: int, extra: int) -> str:
    """The block name librbd's ``init_rbd_header`` makes: ``rb.<hi>.<lo>.<extra>`` in hex,
    from the creating client's instance id (split in 32-bit halves) and a random u32."""
    return f"rb.{instance_id >> 32:x}.{instance_id & 0xFFFF_FFFF:x}.{extra & 0xFFFF_FFFF:x}"


def _cstr(raw: bytes) -> str:
    return to_str(raw.split(b"\0", 1)[0])


def decode_header(data: Buffer) -> HeaderV1:
    """Decode a whole header object; :class:`HeaderError` when it is not one."""
    raw = bytes(data)
    if len(raw) < HEADER_SIZE:
        raise HeaderError(f"format 1 header too short ({len(raw)} bytes)")
    (text, block_name, _sig, _ver, order, _crypt, _comp, _unused, size, snap_seq,
     snap_count, _reserved, names_len) = _FIXED.unpack_from(raw, 0)
    if not text.startswith(HEADER_TEXT):
        raise HeaderError("unrecognized format 1 header banner")
    table_end = HEADER_SIZE + _SNAP.size * snap_count
    if len(raw) < table_end + names_len:
        raise HeaderError("format 1 header truncated in its snapshot table")
    names = raw[table_end:table_end + names_len].split(b"\0")
    if len(names) < snap_count:
        raise HeaderError("format 1 header has fewer snapshot names than snapshots")
    snaps = []
    for i in range(snap_count):
        snap_id, snap_size = _SNAP.unpack_from(raw, HEADER_SIZE + i * _SNAP.size)
        snaps.append(SnapshotV1(snap_id, snap_size, to_str(names[i])))
    return HeaderV1(_cstr(block_name), order, size, snap_seq, tuple(snaps))


def encode_new_header(block_name: str, size: int, order: int) -> bytes:
    """The 112 bytes ``create_v1`` writes (no snapshots)."""
    name = to_bytes(block_name)
    if len(name) >= BLOCK_NAME_SIZE:
        raise ValueError("block name too long")
    return _FIXED.pack(HEADER_TEXT, name, HEADER_SIGNATURE, HEADER_VERSION, order, 0, 0, 0,
                       size, 0, 0, 0, 0)


def encode_size(size: int) -> bytes:
    """The 8 bytes librbd's ResizeRequest writes at :data:`SIZE_OFFSET` (v1 path)."""
    return struct.pack("<Q", size)


# cls_rbd's methods for the old format (cls_rbd.cc: old_snapshot_add/old_snapshot_remove,
# registered as "snap_add"/"snap_remove"); they rewrite the header's snapshot table.

def snap_add(name: str, snap_id: int) -> ClsCall[None]:
    """``snap_add``: string name, le64 snap id (ESTALE below snap_seq, EEXIST for a
    name already there)."""
    def put(enc: Encoder) -> None:
        enc.string(name)
        enc.u64(snap_id)
    return build("rbd", "snap_add", put, None, write=True)


def snap_remove(name: str) -> ClsCall[None]:
    """``snap_remove``: string name (ENOENT when absent)."""
    def put(enc: Encoder) -> None:
        enc.string(name)
    return build("rbd", "snap_remove", put, None, write=True)


def snap_rename(snap_id: int, new_name: str) -> ClsCall[None]:
    """``snap_rename`` (old_snapshot_rename): le64 snap id, string new name (ENOENT for
    an unknown id, EEXIST for a name already there)."""
    def put(enc: Encoder) -> None:
        enc.u64(snap_id)
        enc.string(new_name)
    return build("rbd", "snap_rename", put, None, write=True)


def _enc_string(value: bytes) -> bytes:
    return struct.pack("<I", len(value)) + value


def tmap_set_command(key: str) -> bytes:
    """TMAPUP payload adding ``key`` with an empty value (librbd ``tmap_set``)."""
    return bytes([TMAP_SET]) + _enc_string(to_bytes(key)) + _enc_string(b"")


def tmap_rm_command(key: str) -> bytes:
    """TMAPUP payload removing ``key`` (librbd ``tmap_rm``; ENOENT if absent)."""
    return bytes([TMAP_RM]) + _enc_string(to_bytes(key))


def decode_tmap_keys(data: Buffer) -> list[str]:
    """The keys of a TMAP object's data (librbd ``list`` of old-format images); an empty
    object has none."""
    raw = bytes(data)
    if not raw:
        return []
    pos = 0

    def u32() -> int:
        nonlocal pos
        if pos + 4 > len(raw):
            raise HeaderError("truncated TMAP")
        (value,) = struct.unpack_from("<I", raw, pos)
        pos += 4
        return int(value)

    def blob() -> bytes:
        nonlocal pos
        n = u32()
        if pos + n > len(raw):
            raise HeaderError("truncated TMAP")
        value = raw[pos:pos + n]
        pos += n
        return value

    blob()  # the TMAP header
    keys = []
    for _ in range(u32()):
        keys.append(to_str(blob()))
        blob()  # the value (empty for rbd_directory)
    return keys


__all__ = [
    "BLOCK_NAME_SIZE",
    "HEADER_SIZE",
    "HEADER_SUFFIX",
    "SIZE_OFFSET",
    "HeaderError",
    "HeaderV1",
    "SnapshotV1",
    "block_name_for",
    "decode_header",
    "decode_tmap_keys",
    "encode_new_header",
    "encode_size",
    "header_object_name",
    "snap_add",
    "snap_remove", "snap_rename",
    "tmap_rm_command",
    "tmap_set_command",
]
