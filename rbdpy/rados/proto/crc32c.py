"""Ceph's crc32c: the raw Castagnoli register update, no inversion on entry or exit.

Theory of operation: Ceph's and Linux's ``crc32c(seed, data)`` just runs the reflected
Castagnoli polynomial (0x82F63B78) over ``data`` starting from ``seed``. The ``crc32c`` wheel
implements the zlib-style convention (invert on entry and on exit), so the raw form is
``wheel(data, seed ^ 0xFFFFFFFF) ^ 0xFFFFFFFF``. Callers choose the seed: msgr2 preambles use
0, msgr2 segments use 0xFFFFFFFF, BitVector (object map) crcs use 0.

Mirrors: ceph src/common/crc32c.cc (ceph_crc32c), kernel lib/crc32.c (__crc32c_le),
net/ceph/messenger_v2.c.
"""

from __future__ import annotations

from crc32c import crc32c as _wheel_crc32c

from rbdpy.rados.proto.bytestr import Buffer

_POLY = 0x82F63B78


def _make_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()


def ceph_crc32c(seed: int, data: Buffer) -> int:
    """The raw crc32c register update of ``data`` from ``seed`` (Ceph's convention)."""
    return _wheel_crc32c(data, seed ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def ceph_crc32c_pure(seed: int, data: Buffer) -> int:
    """Table-driven pure-Python equivalent of :func:`ceph_crc32c`, for tests only."""
    crc = seed & 0xFFFFFFFF
    table = _TABLE
    for b in bytes(data):
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc
