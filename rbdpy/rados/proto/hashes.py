"""Ceph's integer and string hashes: Jenkins mixing for CRUSH and for object names.

Theory of operation: both families are built on Bob Jenkins' 1996 96-bit "mix" of three
32-bit words (nine subtract/xor-shift steps). The CRUSH hashes (``crush_hash32_*``) fold one
to five 32-bit inputs into a state seeded with 1315423911, using the constants 231232 and
1232 as filler words; the inputs themselves are mixed *and mutated* in a fixed order, so the
order of the ``_mix`` calls below is part of the function. The string hash
``ceph_str_hash_rjenkins`` is lookup2 over the bytes (12-byte little-endian blocks, then the
length and the 0-11 byte tail). ``ceph_str_hash_linux`` is the old dcache hash, kept for
pools whose ``object_hash`` is 1. All arithmetic is modulo 2**32; callers may pass signed
ints (negative bucket ids, ``x``), which are taken as their two's complement.

Mirrors: ceph src/crush/hash.c, src/common/ceph_hash.cc; kernel net/ceph/crush/hash.c,
net/ceph/ceph_hash.c.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from rbdpy.rados.proto.bytestr import Buffer

__all__ = [
    "CEPH_STR_HASH_LINUX",
    "CEPH_STR_HASH_RJENKINS",
    "CRUSH_HASH_RJENKINS1",
    "CrushHash3Lanes",
    "ceph_str_hash",
    "ceph_str_hash_linux",
    "ceph_str_hash_rjenkins",
    "crush_hash32",
    "crush_hash32_2",
    "crush_hash32_3",
    "crush_hash32_4",
    "crush_hash32_5",
]

_M = 0xFFFFFFFF

# ceph src/crush/hash.h: the only CRUSH hash type ever defined.
CRUSH_HASH_RJENKINS1 = 0
# ceph src/include/ceph_hash.h: pg_pool_t::object_hash values.
CEPH_STR_HASH_LINUX = 1
CEPH_STR_HASH_RJENKINS = 2

_SEED = 1315423911  # crush_hash_seed
_X = 231232
_Y = 1232


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    """Jenkins' 96-bit mix; returns the three mutated words (all mod 2**32)."""
    a = (a - b - c) & _M
    a ^= c >> 13
    b = (b - c - a) & _M
    b ^= (a << 8) & _M
    c = (c - a - b) & _M
    c ^= b >> 13
    a = (a - b - c) & _M
    a ^= c >> 12
    b = (b - c - a) & _M
    b ^= (a << 16) & _M
    c = (c - a - b) & _M
    c ^= b >> 5
    a = (a - b - c) & _M
    a ^= c >> 3
    b = (b - c - a) & _M
    b ^= (a << 10) & _M
    c = (c - a - b) & _M
    c ^= b >> 15
    return a, b, c


def crush_hash32(a: int, hash_type: int = CRUSH_HASH_RJENKINS1) -> int:
    """``crush_hash32(type, a)``; unknown hash types hash to 0 as in Ceph."""
    if hash_type != CRUSH_HASH_RJENKINS1:
        return 0
    a &= _M
    h = _SEED ^ a
    _b, _x, h = _mix(a, _X, h)
    _y, _a, h = _mix(_Y, a, h)
    return h


def crush_hash32_2(a: int, b: int, hash_type: int = CRUSH_HASH_RJENKINS1) -> int:
    """``crush_hash32_2(type, a, b)``: is_out, pps (HASHPSPOOL), primary affinity."""
    if hash_type != CRUSH_HASH_RJENKINS1:
        return 0
    a &= _M
    b &= _M
    h = _SEED ^ a ^ b
    a, b, h = _mix(a, b, h)
    _x, a, h = _mix(_X, a, h)
    b, _y, h = _mix(b, _Y, h)
    return h


def crush_hash32_3(a: int, b: int, c: int, hash_type: int = CRUSH_HASH_RJENKINS1) -> int:
    """``crush_hash32_3(type, a, b, c)``: straw/straw2 draws and permutations.

    This is the mapper's hottest function, so the three-input variant is written out in
    full (five mixes, 45 steps) instead of calling ``_mix``: the tuple packing of a helper
    call costs more than the arithmetic.
    """
    if hash_type != CRUSH_HASH_RJENKINS1:
        return 0
    a &= _M
    b &= _M
    c &= _M
    h = _SEED ^ a ^ b ^ c
    x = _X
    y = _Y
    # mix(a, b, h)
    a = (a - b - h) & _M; a ^= h >> 13  # noqa: E702
    b = (b - h - a) & _M; b ^= (a << 8) & _M  # noqa: E702
    h = (h - a - b) & _M; h ^= b >> 13  # noqa: E702
    a = (a - b - h) & _M; a ^= h >> 12  # noqa: E702
    b = (b - h - a) & _M; b ^= (a << 16) & _M  # noqa: E702
    h = (h - a - b) & _M; h ^= b >> 5  # noqa: E702
    a = (a - b - h) & _M; a ^= h >> 3  # noqa: E702
    b = (b - h - a) & _M; b ^= (a << 10) & _M  # noqa: E702
    h = (h - a - b) & _M; h ^= b >> 15  # noqa: E702
    # mix(c, x, h)
    c = (c - x - h) & _M; c ^= h >> 13  # noqa: E702
    x = (x - h - c) & _M; x ^= (c << 8) & _M  # noqa: E702
    h = (h - c - x) & _M; h ^= x >> 13  # noqa: E702
    c = (c - x - h) & _M; c ^= h >> 12  # noqa: E702
    x = (x - h - c) & _M; x ^= (c << 16) & _M  # noqa: E702
    h = (h - c - x) & _M; h ^= x >> 5  # noqa: E702
    c = (c - x - h) & _M; c ^= h >> 3  # noqa: E702
    x = (x - h - c) & _M; x ^= (c << 10) & _M  # noqa: E702
    h = (h - c - x) & _M; h ^= x >> 15  # noqa: E702
    # mix(y, a, h)
    y = (y - a - h) & _M; y ^= h >> 13  # noqa: E702
    a = (a - h - y) & _M; a ^= (y << 8) & _M  # noqa: E702
    h = (h - y - a) & _M; h ^= a >> 13  # noqa: E702
    y = (y - a - h) & _M; y ^= h >> 12  # noqa: E702
    a = (a - h - y) & _M; a ^= (y << 16) & _M  # noqa: E702
    h = (h - y - a) & _M; h ^= a >> 5  # noqa: E702
    y = (y - a - h) & _M; y ^= h >> 3  # noqa: E702
    a = (a - h - y) & _M; a ^= (y << 10) & _M  # noqa: E702
    h = (h - y - a) & _M; h ^= a >> 15  # noqa: E702
    # mix(b, x, h)
    b = (b - x - h) & _M; b ^= h >> 13  # noqa: E702
    x = (x - h - b) & _M; x ^= (b << 8) & _M  # noqa: E702
    h = (h - b - x) & _M; h ^= x >> 13  # noqa: E702
    b = (b - x - h) & _M; b ^= h >> 12  # noqa: E702
    x = (x - h - b) & _M; x ^= (b << 16) & _M  # noqa: E702
    h = (h - b - x) & _M; h ^= x >> 5  # noqa: E702
    b = (b - x - h) & _M; b ^= h >> 3  # noqa: E702
    x = (x - h - b) & _M; x ^= (b << 10) & _M  # noqa: E702
    h = (h - b - x) & _M; h ^= x >> 15  # noqa: E702
    # mix(y, c, h)
    y = (y - c - h) & _M; y ^= h >> 13  # noqa: E702
    c = (c - h - y) & _M; c ^= (y << 8) & _M  # noqa: E702
    h = (h - y - c) & _M; h ^= c >> 13  # noqa: E702
    y = (y - c - h) & _M; y ^= h >> 12  # noqa: E702
    c = (c - h - y) & _M; c ^= (y << 16) & _M  # noqa: E702
    h = (h - y - c) & _M; h ^= c >> 5  # noqa: E702
    y = (y - c - h) & _M; y ^= h >> 3  # noqa: E702
    c = (c - h - y) & _M; c ^= (y << 10) & _M  # noqa: E702
    h = (h - y - c) & _M; h ^= c >> 15  # noqa: E702
    return h


# Jenkins' mix in three rounds of (a, b, c) steps: the shifts of each round.
_MIX_SHIFTS = ((13, 8, 13), (12, 16, 5), (3, 10, 15))


def _mix_lanes(a: int, b: int, c: int, m: int, g: int) -> tuple[int, int, int]:
    """:func:`_mix` on every 64-bit lane of ``a``, ``b``, ``c`` at once (see
    :class:`CrushHash3Lanes`): ``g`` puts 2**34 under each lane so that subtracting two
    32-bit words never borrows from the lane above, ``m`` keeps each lane's low 32 bits
    (and drops what a right shift carried in from the lane above)."""
    for right_a, left_b, right_c in _MIX_SHIFTS:
        a = (a + g - b - c) & m
        a ^= c >> right_a & m
        b = (b + g - c - a) & m
        b ^= a << left_b & m
        c = (c + g - a - b) & m
        c ^= b >> right_c & m
    return a, b, c


class CrushHash3Lanes:
    """``crush_hash32_3(a, b, c)`` for many ``b`` and one ``a``, ``c``: a straw2 draw.

    A straw2 bucket hashes (x, item, r) for every item to pick one; in Python each hash
    costs ~6 us of interpreted arithmetic. Here the items sit in 64-bit lanes of one big
    integer and each of the hash's 45 steps runs on all lanes at once as a handful of
    big-integer operations, which CPython does in C: 27 items hash in ~16 us instead of
    ~180. Results are bit-identical to :func:`crush_hash32_3` (the test suite compares
    them on random inputs); only the rjenkins1 hash exists.
    """

    __slots__ = ("_guard", "_mask", "_ones", "_packed", "_unpack", "_x", "_y", "count")

    def __init__(self, bs: Sequence[int]) -> None:
        self.count = n = len(bs)
        self._ones = int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00" * n, "little")
        self._mask = _M * self._ones
        self._guard = (1 << 34) * self._ones
        self._x = _X * self._ones  # the hash's two filler words, in every lane
        self._y = _Y * self._ones
        self._packed = int.from_bytes(
            b"".join((b & _M).to_bytes(8, "little") for b in bs), "little")
        self._unpack = struct.Struct(f"<{n}Q").unpack

    def hash3(self, a: int, c: int) -> tuple[int, ...]:
        """``[crush_hash32_3(a, b, c) for b in bs]``."""
        ones, m, g = self._ones, self._mask, self._guard
        a &= _M
        c &= _M
        b = self._packed
        h = ((_SEED ^ a ^ c) * ones) ^ b
        a *= ones
        c *= ones
        a, b, h = _mix_lanes(a, b, h, m, g)
        c, x, h = _mix_lanes(c, self._x, h, m, g)
        y, a, h = _mix_lanes(self._y, a, h, m, g)
        b, x, h = _mix_lanes(b, x, h, m, g)
        y, c, h = _mix_lanes(y, c, h, m, g)
        return self._unpack(h.to_bytes(8 * self.count, "little"))


def crush_hash32_4(a: int, b: int, c: int, d: int,
                   hash_type: int = CRUSH_HASH_RJENKINS1) -> int:
    """``crush_hash32_4(type, a, b, c, d)``: list and tree bucket draws."""
    if hash_type != CRUSH_HASH_RJENKINS1:
        return 0
    a &= _M
    b &= _M
    c &= _M
    d &= _M
    h = _SEED ^ a ^ b ^ c ^ d
    a, b, h = _mix(a, b, h)
    c, d, h = _mix(c, d, h)
    a, x, h = _mix(a, _X, h)
    y, b, h = _mix(_Y, b, h)
    c, x, h = _mix(c, x, h)
    y, d, h = _mix(y, d, h)
    return h


def crush_hash32_5(a: int, b: int, c: int, d: int, e: int,
                   hash_type: int = CRUSH_HASH_RJENKINS1) -> int:
    """``crush_hash32_5(type, a, b, c, d, e)`` (unused by the mapper; exported by Ceph)."""
    if hash_type != CRUSH_HASH_RJENKINS1:
        return 0
    a &= _M
    b &= _M
    c &= _M
    d &= _M
    e &= _M
    h = _SEED ^ a ^ b ^ c ^ d ^ e
    a, b, h = _mix(a, b, h)
    c, d, h = _mix(c, d, h)
    e, x, h = _mix(e, _X, h)
    y, a, h = _mix(_Y, a, h)
    b, x, h = _mix(b, x, h)
    y, c, h = _mix(y, c, h)
    d, x, h = _mix(d, x, h)
    y, e, h = _mix(y, e, h)
    return h


def ceph_str_hash_rjenkins(data: Buffer) -> int:
    """Jenkins lookup2 over ``data``: the object-name hash of every modern pool.

    :returns: the 32-bit hash (``"foo"`` → 0x7fc1f406).
    """
    k = bytes(data)
    length = len(k)
    a = b = 0x9E3779B9  # golden ratio, lookup2's arbitrary initial value
    c = 0
    pos = 0
    while length - pos >= 12:
        a = (a + int.from_bytes(k[pos : pos + 4], "little")) & _M
        b = (b + int.from_bytes(k[pos + 4 : pos + 8], "little")) & _M
        c = (c + int.from_bytes(k[pos + 8 : pos + 12], "little")) & _M
        a, b, c = _mix(a, b, c)
        pos += 12
    # Tail: bytes 0-3 go to a, 4-7 to b, 8-10 to c shifted up one byte, because the low
    # byte of c carries the total length (ceph_hash.cc's fall-through switch).
    tail = k[pos:]
    c = (c + length) & _M
    a = (a + int.from_bytes(tail[0:4], "little")) & _M
    b = (b + int.from_bytes(tail[4:8], "little")) & _M
    c = (c + (int.from_bytes(tail[8:11], "little") << 8)) & _M
    _a, _b, c = _mix(a, b, c)
    return c


def ceph_str_hash_linux(data: Buffer) -> int:
    """The Linux dcache string hash (``CEPH_STR_HASH_LINUX``), truncated to 32 bits."""
    h = 0
    for ch in bytes(data):
        # Only + and * are involved, so reducing mod 2**32 at every step is the same as
        # Ceph's unsigned long arithmetic truncated on return.
        h = ((h + (ch << 4) + (ch >> 4)) * 11) & _M
    return h


def ceph_str_hash(hash_type: int, data: Buffer) -> int:
    """``ceph_str_hash(type, s, len)``; unknown types hash to -1 as in Ceph."""
    if hash_type == CEPH_STR_HASH_RJENKINS:
        return ceph_str_hash_rjenkins(data)
    if hash_type == CEPH_STR_HASH_LINUX:
        return ceph_str_hash_linux(data)
    return _M
