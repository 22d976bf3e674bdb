"""Wire constants shared across the layers, each defined once (cf. the kernel's rados.h).

Snapshot id specials, MOSDOp flags and per-op flags, and the pool flags the client acts on.
Other modules import these names from here; a constant that drifts between two copies is a bug
the wire does not forgive.

Mirrors: ceph src/include/rados.h (CEPH_NOSNAP, CEPH_SNAPDIR, CEPH_OSD_FLAG_*,
CEPH_OSD_OP_FLAG_*), src/osd/osd_types.h (pg_pool_t::FLAG_*).
"""

from __future__ import annotations

from enum import IntFlag

# snapid_t specials: the head of an object, and the pseudo-snapshot LIST_SNAPS reads.
CEPH_NOSNAP = 0xFFFF_FFFF_FFFF_FFFE
CEPH_SNAPDIR = 0xFFFF_FFFF_FFFF_FFFF

# pg_pool_t::FLAG_EC_OVERWRITES: an erasure-coded pool that accepts partial overwrites.
POOL_FLAG_EC_OVERWRITES = 1 << 17


class OsdFlag(IntFlag):
    """``CEPH_OSD_FLAG_*``: the le32 ``flags`` of an MOSDOp (reply: le64, same bits)."""

    ACK = 0x0001
    ONNVRAM = 0x0002
    ONDISK = 0x0004
    RETRY = 0x0008
    READ = 0x0010
    WRITE = 0x0020
    ORDERSNAP = 0x0040
    PEERSTAT_OLD = 0x0080
    BALANCE_READS = 0x0100
    PARALLELEXEC = 0x0200
    PGOP = 0x0400
    EXEC = 0x0800
    EXEC_PUBLIC = 0x1000
    LOCALIZE_READS = 0x2000
    RWORDERED = 0x4000
    IGNORE_CACHE = 0x8000
    SKIPRWLOCKS = 0x10000
    IGNORE_OVERLAY = 0x20000
    FLUSH = 0x40000
    MAP_SNAP_CLONE = 0x80000
    ENFORCE_SNAPC = 0x100000
    REDIRECTED = 0x200000
    KNOWN_REDIR = 0x400000
    FULL_TRY = 0x800000
    FULL_FORCE = 0x1000000
    IGNORE_REDIRECT = 0x2000000
    RETURNVEC = 0x4000000  # Octopus+: per-op rvals/outdata even when the op vector fails


class OsdOpFlag(IntFlag):
    """``CEPH_OSD_OP_FLAG_*``: per-op flags (``ceph_osd_op.flags``)."""

    EXCL = 0x1
    FAILOK = 0x2
    FADVISE_RANDOM = 0x4
    FADVISE_SEQUENTIAL = 0x8
    FADVISE_WILLNEED = 0x10
    FADVISE_DONTNEED = 0x20
    FADVISE_NOCACHE = 0x40
    FADVISE_FUA = 0x80  # Octopus+
