"""The RBD object map: a ``ceph::BitVector<2>`` with one 2-bit state per data object.

Theory of operation: ``rbd_object_map.<image id>`` (and ``.<snap id %016x>`` copies) hold
an encoded ``BitVector<2>`` in three parts, each readable on its own so the OSD class can
update a few entries in place (cls_rbd ``object_map_update`` reads and rewrites only the
4 KiB blocks it touches):

* header: a bufferlist (le32 length) holding envelope(v1, compat 1){ le64 element count };
  18 bytes in all.
* data: ``ceil(count / 4)`` bytes, NOT length-prefixed; element ``i`` lives in byte
  ``i // 4`` at bit ``6 - 2 * (i % 4)`` -- object 0 in the MOST significant bits.
* footer: a bufferlist holding, when crcs are enabled, le32 crc32c(0) of the header
  bufferlist's content, le32 number of data blocks, then one le32 crc32c(0) per 4096-byte
  block of the data (the last block may be short); an empty footer means "no crcs" (what
  ``object_map_save`` callers send; the OSD turns crcs back on when it writes the object).

Decoding checks the header crc and every block crc when present, like Ceph, and refuses a
footer whose crc count does not match the data's block count. States and the rules
librbd and the OSD class apply when changing them are below.

Mirrors: ceph src/common/bit_vector.hpp (BitVector<_b>::encode/decode, BLOCK_SIZE 4096,
compute_index), src/cls/rbd/cls_rbd.cc (object_map_resize, object_map_update,
object_map_snap_add, object_map_snap_remove), src/librbd/ObjectMap.cc (update_required,
object_may_exist); kernel drivers/block/rbd.c (__rbd_object_map_get, rbd_object_map_load).
"""

from __future__ import annotations

import errno as _errno
import logging
from collections.abc import Iterator

from rbdpy.format.constants import (
    MAX_OBJECT_MAP_OBJECT_COUNT,
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    OBJECT_PENDING,
)
from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.crc32c import ceph_crc32c
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.errors import CephError, DecodeError

__all__ = [
    "BLOCK_SIZE",
    "OBJECT_EXISTS",
    "OBJECT_EXISTS_CLEAN",
    "OBJECT_NONEXISTENT",
    "OBJECT_PENDING",
    "BitVector",
    "object_may_exist",
    "object_may_not_exist",
    "update_required",
]

log = logging.getLogger(__name__)

BIT_COUNT = 2
ELEMENTS_PER_BYTE = 8 // BIT_COUNT
MASK = (1 << BIT_COUNT) - 1
# BitVector<_b>::BLOCK_SIZE: data crcs cover 4096-byte blocks of the packed data.
BLOCK_SIZE = 4096
HEADER_LENGTH = 18  # le32 bufferlist length + 6-byte envelope + le64 size


def _shift(index: int) -> int:
    """Bit position of element ``index`` inside its byte (compute_index: MSB first)."""
    return (ELEMENTS_PER_BYTE - 1 - index % ELEMENTS_PER_BYTE) * BIT_COUNT


def _data_length(size: int) -> int:
    return -(-size // ELEMENTS_PER_BYTE)


def _block_crcs(data: Buffer) -> list[int]:
    view = memoryview(data)
    return [ceph_crc32c(0, view[off:off + BLOCK_SIZE])
            for off in range(0, len(view), BLOCK_SIZE)]


def _encode_header(size: int) -> bytes:
    enc = Encoder()
    with enc.struct(1, 1):
        enc.u64(size)
    return enc.getvalue()


class BitVector:
    """``ceph::BitVector<2>``: ``size`` 2-bit elements packed MSB-first, plus crcs.

    Equality is Ceph's ``operator==``: same size and same data bytes (crcs aside).

    :param size: number of elements (objects).
    :param data: packed data, ``ceil(size / 4)`` bytes; zeroes when omitted.
    :param crc_enabled: whether ``encode`` writes the crc footer.
    """

    CEPH_TYPE = "ceph::BitVector<2>"

    __slots__ = ("_size", "crc_enabled", "data")

    def __init__(self, size: int = 0, data: Buffer | None = None,
                 crc_enabled: bool = True) -> None:
        if size < 0:
            raise ValueError(f"negative BitVector size {size}")
        self._size = size
        if data is None:
            self.data = bytearray(_data_length(size))
        else:
            if len(data) != _data_length(size):
                raise ValueError(f"BitVector of {size} elements needs "
                                 f"{_data_length(size)} data bytes, got {len(data)}")
            self.data = bytearray(data)
        self.crc_enabled = crc_enabled

    @classmethod
    def filled(cls, size: int, state: int) -> BitVector:
        """A vector of ``size`` elements all set to ``state``."""
        byte = 0
        for _ in range(ELEMENTS_PER_BYTE):
            byte = (byte << BIT_COUNT) | (state & MASK)
        bv = cls(size, bytes([byte]) * _data_length(size))
        bv._clear_tail()
        return bv

    # -- element access ------------------------------------------------------------------

    def __len__(self) -> int:
        return self._size

    @property
    def size(self) -> int:
        return self._size

    def _check(self, index: int) -> int:
        if index < 0:
            index += self._size
        if not 0 <= index < self._size:
            raise IndexError(f"object {index} outside object map of {self._size}")
        return index

    def __getitem__(self, index: int) -> int:
        index = self._check(index)
        return (self.data[index // ELEMENTS_PER_BYTE] >> _shift(index)) & MASK

    def __setitem__(self, index: int, state: int) -> None:
        index = self._check(index)
        if not 0 <= state <= MASK:
            raise ValueError(f"object map state {state} does not fit {BIT_COUNT} bits")
        byte = index // ELEMENTS_PER_BYTE
        shift = _shift(index)
        self.data[byte] = (self.data[byte] & ~(MASK << shift) & 0xFF) | (state << shift)

    def __iter__(self) -> Iterator[int]:
        data = self.data
        for index in range(self._size):
            yield (data[index // ELEMENTS_PER_BYTE] >> _shift(index)) & MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitVector):
            return NotImplemented
        return self._size == other._size and self.data == other.data

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"BitVector(size={self._size}, data={bytes(self.data[:16]).hex()}" + (
            "...)" if len(self.data) > 16 else ")")

    def _clear_tail(self) -> None:
        # Bits past the last element stay zero, as Ceph's resize(zero=true) leaves them.
        tail = self._size % ELEMENTS_PER_BYTE
        if tail:
            self.data[-1] &= (0xFF << (8 - tail * BIT_COUNT)) & 0xFF

    def resize(self, size: int) -> None:
        """Grow with zero (NONEXISTENT) elements or truncate (``BitVector::resize``).

        Truncation drops whole bytes only, as Ceph does: stale bits may remain past the
        end inside the last byte and are encoded as they are.
        """
        if size < 0:
            raise ValueError(f"negative BitVector size {size}")
        length = _data_length(size)
        if length > len(self.data):
            self.data.extend(bytes(length - len(self.data)))
        else:
            del self.data[length:]
        self._size = size

    # -- encoding ------------------------------------------------------------------------

    def encode(self, enc: Encoder, features: int = 0) -> None:
        """``BitVector::encode``: header bufferlist, raw data, footer bufferlist."""
        header = _encode_header(self._size)
        enc.blob(header)
        enc.raw(self.data)
        if not self.crc_enabled:
            enc.blob(b"")
            return
        crcs = _block_crcs(self.data)
        footer = Encoder()
        footer.u32(ceph_crc32c(0, header))
        footer.u32(len(crcs))
        for crc in crcs:
            footer.u32(crc)
        enc.blob(footer.getvalue())

    @classmethod
    def decode(cls, dec: Decoder) -> BitVector:
        """Decode a ``ceph::BitVector<2>``; header envelope v1+, compat <= 1.

        Unknown header fields of a newer version are skipped (and still covered by the
        header crc). The footer's block count word is not trusted (Ceph ignores it too);
        the crcs present must number exactly the data's 4 KiB blocks.

        :raises DecodeError: short data, or a header/data crc mismatch.
        """
        with dec.named("BitVector<2>"):
            header_bytes = dec.blob_view()
            hdec = Decoder(header_bytes, "BitVector<2>.header")
            with hdec.struct("header", min_v=1, max_compat=1):
                size = hdec.u64()
            if not hdec.at_end():
                raise hdec.error("trailing bytes after the header envelope")
            data = dec.raw(_data_length(size))
            footer = dec.blob_view()
            bv = cls(size, data, crc_enabled=len(footer) > 0)
            if bv.crc_enabled:
                bv._verify_footer(footer, header_bytes)
        return bv

    def _verify_footer(self, footer: memoryview, header_bytes: memoryview) -> None:
        fdec = Decoder(footer, "BitVector<2>.footer")
        # decode_header_crc: the crc is only checked when the footer carries one.
        if fdec.remaining > 0:
            header_crc = fdec.u32()
            actual = ceph_crc32c(0, header_bytes)
            if header_crc != actual:
                raise DecodeError(f"BitVector<2>: incorrect header CRC 0x{header_crc:08x}"
                                  f" (computed 0x{actual:08x})")
        if fdec.remaining >= 4:
            fdec.u32()  # block count: informational, Ceph counts the crcs that follow
        stored = [fdec.u32() for _ in range(fdec.remaining // 4)]
        computed = _block_crcs(self.data)
        if len(stored) != len(computed):
            raise DecodeError(f"BitVector<2>: invalid data block CRCs: {len(stored)} for "
                              f"{len(computed)} blocks")
        for block, (want, got) in enumerate(zip(stored, computed, strict=True)):
            if want != got:
                raise DecodeError(f"BitVector<2>: invalid data block CRC in block {block}: "
                                  f"0x{want:08x} != 0x{got:08x}")

    @classmethod
    def from_bytes(cls, data: Buffer) -> BitVector:
        """Decode a whole ``rbd_object_map.*`` object (or ``object_map_load`` reply)."""
        return decode_all(data, cls.decode, "BitVector<2>")

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.encode(enc)
        return enc.getvalue()

    # -- what cls_rbd does to a stored map -----------------------------------------------

    def object_map_resize(self, object_count: int, default_state: int) -> None:
        """cls_rbd ``object_map_resize``: grow filled with ``default_state``, or shrink.

        :raises CephError: EINVAL past :data:`MAX_OBJECT_MAP_OBJECT_COUNT`; ESTALE when a
            dropped entry is not ``default_state`` (an object there may still exist).
        """
        if object_count > MAX_OBJECT_MAP_OBJECT_COUNT:
            raise CephError(_errno.EINVAL, f"object map too large: {object_count}")
        old = self._size
        if object_count < old:
            for index in range(object_count, old):
                if self[index] != default_state:
                    raise CephError(_errno.ESTALE,
                                    f"object map indicates object still exists: {index}")
            self.resize(object_count)
        elif object_count > old:
            self.resize(object_count)
            # Always written, even NONEXISTENT: bits left in the old last byte by an
            # earlier shrink must not resurface.
            for index in range(old, object_count):
                self[index] = default_state

    def object_map_update(self, start: int, end: int, new_state: int,
                          current_state: int | None = None) -> bool:
        """cls_rbd ``object_map_update`` on ``[start, end)``; returns whether anything changed.

        An entry changes when it differs from ``new_state`` and either no
        ``current_state`` filter is given, it equals the filter, or the filter is EXISTS
        and the entry is EXISTS_CLEAN (a write after a snapshot).

        :raises CephError: ERANGE unless ``start < end <= size``.
        """
        if start >= end or end > self._size:
            raise CephError(_errno.ERANGE, f"object map update {start}..{end} outside "
                                           f"{self._size} objects")
        updated = False
        for index in range(start, end):
            state = self[index]
            if state == new_state:
                continue
            if (current_state is None or state == current_state
                    or (current_state == OBJECT_EXISTS and state == OBJECT_EXISTS_CLEAN)):
                self[index] = new_state
                updated = True
        return updated

    def object_map_snap_add(self) -> bool:
        """cls_rbd ``object_map_snap_add``: EXISTS becomes EXISTS_CLEAN after a snapshot."""
        updated = False
        for index, state in enumerate(self):
            if state == OBJECT_EXISTS:
                self[index] = OBJECT_EXISTS_CLEAN
                updated = True
        return updated

    def object_map_snap_remove(self, snap_map: BitVector) -> bool:
        """cls_rbd ``object_map_snap_remove``: EXISTS_CLEAN back to EXISTS where the removed
        snapshot's map says EXISTS or does not reach (its data now only lives in HEAD)."""
        updated = False
        snap_size = len(snap_map)
        for index, state in enumerate(self):
            if state == OBJECT_EXISTS_CLEAN and (
                    index >= snap_size or snap_map[index] == OBJECT_EXISTS):
                self[index] = OBJECT_EXISTS
                updated = True
        return updated


# -- librbd's rules (src/librbd/ObjectMap.cc) ---------------------------------------------

def update_required(state: int, new_state: int) -> bool:
    """Whether librbd must send an object-map update before/after I/O (``update_required``).

    No update when nothing changes, when marking PENDING an object that does not exist
    (nothing to delete), or when marking NONEXISTENT an object that was not PENDING
    (only a discard that first set PENDING may complete to NONEXISTENT).
    """
    if state == new_state:
        return False
    if new_state == OBJECT_PENDING and state == OBJECT_NONEXISTENT:
        return False
    return not (new_state == OBJECT_NONEXISTENT and state != OBJECT_PENDING)


def object_may_exist(state: int) -> bool:
    """librbd ``object_may_exist``: anything but NONEXISTENT means "ask the OSD"."""
    return state != OBJECT_NONEXISTENT


def object_may_not_exist(state: int) -> bool:
    """librbd ``object_may_not_exist``: only EXISTS / EXISTS_CLEAN prove the object is there."""
    return state not in (OBJECT_EXISTS, OBJECT_EXISTS_CLEAN)
