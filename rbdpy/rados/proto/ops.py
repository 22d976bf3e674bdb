"""OSD operations: op codes and flags, ``ceph_osd_op``, op builders and reply decoders.

Theory of operation: one MOSDOp carries a vector of *ops* that the OSD runs in order against
one object, atomically for writes. Each op travels in two parts: a fixed 38-byte
``ceph_osd_op`` in the message front (op code, per-op flags, a 28-byte union whose meaning
depends on the op code, and ``payload_len``), and ``payload_len`` bytes of input in the data
segment, where the inputs of all ops are concatenated in op order. The reply mirrors this: the
same 38-byte records come back with ``payload_len`` set to each op's output size, the outputs
are concatenated in the reply's data segment, and a separate vector holds each op's return
value (``rval``).

Every builder here returns an :class:`OSDOp` — Ceph's ``OSDOp``: op code, flags, the packed
union, the input pieces, and a ``decode_reply(rval, outdata)`` that turns the op's output
into a Python value (or raises :class:`CephError` for ``rval < 0``). The input is kept as a
tuple of buffers so a write's payload stays the caller's own ``memoryview`` all the way to the
socket. Builders encode their inputs exactly as librados' ``ObjectOperation`` does; the
results were checked against a capture of librados 16.2.15 talking to a 16.2.15 OSD
(tests/vectors/osd/README.md).

The module also holds the small OSD wire types the ops and messages need: ``entity_name_t``,
``osd_reqid_t``, ``object_locator_t``, ``hobject_t``, ``spg_t``, and the listing/watch/snap
reply structures.

Mirrors: ceph src/include/rados.h (CEPH_OSD_OP_*, CEPH_OSD_FLAG_*, CEPH_OSD_OP_FLAG_*,
struct ceph_osd_op), src/osdc/Objecter.h (ObjectOperation: add_data, add_xattr, add_call,
omap_get_vals, omap_get_keys, watch, notify, notify_ack, list_watchers, list_snaps,
pg_nls, assert_version, cmpext, writesame), src/librados/librados_cxx.cc (assert_exists
= stat), src/osd/osd_types.h (osd_reqid_t, object_locator_t, pg_nls_response_t,
watch_item_t, obj_list_watch_response_t, clone_info, obj_list_snap_response_t),
src/common/hobject.h (hobject_t); kernel include/linux/ceph/rados.h,
net/ceph/osd_client.c (osd_req_encode_op).
"""

from __future__ import annotations

import errno
import logging
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from rbdpy.rados.proto.bytestr import Buffer, to_bytes
from rbdpy.rados.proto.constants import CEPH_NOSNAP, OsdFlag, OsdOpFlag
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.types import EntityAddr, PgId

log = logging.getLogger(__name__)

# -- op codes and flags ------------------------------------------------------------------------

_RD, _WR, _RMW, _CACHE = 0x1000, 0x2000, 0x3000, 0x8000
_DATA, _ATTR, _EXEC, _PG = 0x0200, 0x0300, 0x0400, 0x0500


class OsdOp(IntEnum):
    """``CEPH_OSD_OP_*`` (ceph src/include/rados.h ``__CEPH_FORALL_OSD_OPS``): mode|type|nr."""

    READ = _RD | _DATA | 1
    STAT = _RD | _DATA | 2
    MAPEXT = _RD | _DATA | 3
    SPARSE_READ = _RD | _DATA | 5
    NOTIFY = _RD | _DATA | 6
    NOTIFY_ACK = _RD | _DATA | 7
    ASSERT_VER = _RD | _DATA | 8
    LIST_WATCHERS = _RD | _DATA | 9
    LIST_SNAPS = _RD | _DATA | 10
    OMAPGETKEYS = _RD | _DATA | 17
    OMAPGETVALS = _RD | _DATA | 18
    OMAPGETHEADER = _RD | _DATA | 19
    OMAPGETVALSBYKEYS = _RD | _DATA | 20
    OMAP_CMP = _RD | _DATA | 25
    ISDIRTY = _RD | _DATA | 29
    CHECKSUM = _RD | _DATA | 31
    CMPEXT = _RD | _DATA | 32
    WRITE = _WR | _DATA | 1
    WRITEFULL = _WR | _DATA | 2
    TRUNCATE = _WR | _DATA | 3
    ZERO = _WR | _DATA | 4
    DELETE = _WR | _DATA | 5
    APPEND = _WR | _DATA | 6
    TMAPUP = _RMW | _DATA | 10  # format 1 rbd_directory (rbdpy.format.v1_header)
    CREATE = _WR | _DATA | 13
    ROLLBACK = _WR | _DATA | 14
    WATCH = _WR | _DATA | 15
    OMAPSETVALS = _WR | _DATA | 21
    OMAPSETHEADER = _WR | _DATA | 22
    OMAPCLEAR = _WR | _DATA | 23
    OMAPRMKEYS = _WR | _DATA | 24
    SETALLOCHINT = _WR | _DATA | 35
    WRITESAME = _WR | _DATA | 38
    OMAPRMKEYRANGE = _WR | _DATA | 44  # Nautilus+ (rados.h: "omap-rm-key-range")
    GETXATTR = _RD | _ATTR | 1
    GETXATTRS = _RD | _ATTR | 2
    CMPXATTR = _RD | _ATTR | 3
    SETXATTR = _WR | _ATTR | 1
    SETXATTRS = _WR | _ATTR | 2
    RESETXATTRS = _WR | _ATTR | 3
    RMXATTR = _WR | _ATTR | 4
    # rados.h: "the RD bit here is wrong"; a call may read and/or write.
    CALL = _RD | _EXEC | 1
    PGLS = _RD | _PG | 1
    PGLS_FILTER = _RD | _PG | 2
    PGNLS = _RD | _PG | 5
    PGNLS_FILTER = _RD | _PG | 6


def op_name(op: int) -> str:
    try:
        return OsdOp(op).name.lower()
    except ValueError:
        return f"op{op:#x}"


class WatchOp(IntEnum):
    """``CEPH_OSD_WATCH_OP_*`` (odd ids so pre-Giant OSDs never read them as UNWATCH)."""

    UNWATCH = 0
    LEGACY_WATCH = 1
    WATCH = 3
    RECONNECT = 5
    PING = 7


class CmpXattrOp(IntEnum):
    """``CEPH_OSD_CMPXATTR_OP_*``."""

    EQ = 1
    NE = 2
    GT = 3
    GTE = 4
    LT = 5
    LTE = 6


class CmpXattrMode(IntEnum):
    """``CEPH_OSD_CMPXATTR_MODE_*``."""

    STRING = 1
    U64 = 2


class BackoffOp(IntEnum):
    """``CEPH_OSD_BACKOFF_OP_*`` (MOSDBackoff.op)."""

    BLOCK = 1
    ACK_BLOCK = 2
    UNBLOCK = 3


# LIBRADOS_ALL_NSPACES (librados.h): the namespace that lists objects of every namespace.
LIBRADOS_ALL_NSPACES = "\001"
# -MAX_ERRNO - offset is how cmpext reports the first mismatching byte (rados.h, librados).
MAX_ERRNO = 4095
# hobject_t's pool of a "min" cookie (hobject_t::POOL_META is -1, INT64_MIN is "no pool").
_HOBJECT_NO_POOL = -(1 << 63)

# -- struct ceph_osd_op ------------------------------------------------------------------------

# struct ceph_osd_op (packed, 38 bytes): le16 op; le32 flags; 28-byte union; le32 payload_len
_OSD_OP = struct.Struct("<HI28sI")
OSD_OP_LEN = _OSD_OP.size
# Union views (rados.h), each padded with zeros to 28 bytes.
_U_EXTENT = struct.Struct("<QQQI")  # offset, length, truncate_size, truncate_seq
_U_XATTR = struct.Struct("<IIBB")  # name_len, value_len, cmp_op, cmp_mode
_U_CLS = struct.Struct("<BBBI")  # class_len, method_len, argc, indata_len
_U_PGLS = struct.Struct("<QI")  # count, start_epoch
_U_SNAP = struct.Struct("<Q")  # snapid
_U_WATCH = struct.Struct("<QQBII")  # cookie, ver (unused), op, gen, timeout
_U_NOTIFY = struct.Struct("<Q")  # cookie
_U_ASSERT_VER = struct.Struct("<QQ")  # unused, ver
_U_WRITESAME = struct.Struct("<QQI")  # offset, length, data_length
_U_ALLOC_HINT = struct.Struct("<QQI")  # expected_object_size, expected_write_size, flags
_UNION_LEN = 28
_ZERO_UNION = bytes(_UNION_LEN)

assert OSD_OP_LEN == 38


def _union(st: struct.Struct, *values: int) -> bytes:
    return st.pack(*values).ljust(_UNION_LEN, b"\0")


ReplyDecoder = Callable[[int, memoryview], Any]


def _no_output(rval: int, out: memoryview) -> None:
    return None


def _raw_output(rval: int, out: memoryview) -> memoryview:
    return out


@dataclass(slots=True)
class OSDOp:
    """One op of an MOSDOp: Ceph's ``OSDOp`` (``ceph_osd_op`` + indata + decode of outdata).

    :ivar op: the op code (:class:`OsdOp`).
    :ivar flags: per-op flags (:class:`OsdOpFlag`).
    :ivar union: the 28 packed union bytes; use the ``extent``/``xattr``/... readers.
    :ivar indata: input pieces, concatenated in the data segment (payload_len = their sum).
    :ivar decoder: turns ``(rval, outdata)`` into a value when ``rval >= 0``.
    :ivar payload_len: on decoded ops, the wire value (output length in replies).
    """

    op: int
    flags: int = 0
    union: bytes = _ZERO_UNION
    indata: tuple[Buffer, ...] = ()
    decoder: ReplyDecoder = field(default=_no_output, repr=False, compare=False)
    payload_len: int = -1

    @property
    def indata_len(self) -> int:
        return sum(len(p) for p in self.indata)

    @property
    def name(self) -> str:
        return op_name(self.op)

    def is_read(self) -> bool:
        """``ceph_osd_op_mode_read``: RD mode bit, except CALL (which may do either)."""
        return bool(self.op & _RD) and self.op != OsdOp.CALL

    def is_write(self) -> bool:
        """``ceph_osd_op_mode_modify``."""
        return bool(self.op & _WR)

    # -- the 38-byte record --------------------------------------------------------------

    def encode(self, enc: Encoder, payload_len: int | None = None) -> None:
        """``ceph_osd_op``; ``payload_len`` defaults to the input length (a request)."""
        n = self.indata_len if payload_len is None else payload_len
        enc.raw(_OSD_OP.pack(self.op, self.flags, self.union, n))

    @classmethod
    def decode(cls, dec: Decoder) -> OSDOp:
        """One raw ``ceph_osd_op`` (38 bytes); indata/outdata are attached by the message."""
        op, flags, union, payload_len = dec.unpack(_OSD_OP)
        return cls(op, flags, union, payload_len=payload_len)  # type: ignore[arg-type]

    # -- union readers ---------------------------------------------------------------------

    @property
    def extent(self) -> tuple[int, int, int, int]:
        """(offset, length, truncate_size, truncate_seq)."""
        return _U_EXTENT.unpack_from(self.union)

    @property
    def xattr(self) -> tuple[int, int, int, int]:
        """(name_len, value_len, cmp_op, cmp_mode)."""
        return _U_XATTR.unpack_from(self.union)

    @property
    def cls(self) -> tuple[int, int, int, int]:
        """(class_len, method_len, argc, indata_len)."""
        return _U_CLS.unpack_from(self.union)

    @property
    def watch(self) -> tuple[int, int, int, int, int]:
        """(cookie, ver, op, gen, timeout)."""
        return _U_WATCH.unpack_from(self.union)

    @property
    def u64_0(self) -> int:
        """The first le64 of the union: notify.cookie, snap.snapid, pgls.count."""
        v: int = _U_SNAP.unpack_from(self.union)[0]
        return v

    # -- replies ---------------------------------------------------------------------------

    def decode_reply(self, rval: int, outdata: memoryview) -> Any:
        """Decode this op's output.

        :raises CephError: ``rval`` < 0 (errno = -rval), or the output does not decode
            (DecodeError, EBADMSG).
        """
        if rval < 0:
            raise CephError(-rval, f"{self.name} failed")
        return self.decoder(rval, outdata)


def encode_ops_data(ops: Iterable[OSDOp]) -> list[Buffer]:
    """The data segment of an MOSDOp as pieces: every op's indata, in op order.

    Ceph's ``OSDOp::merge_osd_op_vector_in_data``; the pieces are the builders' buffers.
    """
    return [p for o in ops for p in o.indata if len(p)]


def split_ops_data(ops: list[OSDOp], data: memoryview, what: str) -> list[memoryview]:
    """Slice a data segment into per-op payloads by ``payload_len`` (zero copy).

    Ceph's ``OSDOp::split_osd_op_vector_{in,out}_data``.

    :raises DecodeError: the lengths do not add up to the segment.
    """
    out = []
    pos = 0
    for o in ops:
        n = o.payload_len
        if n < 0 or pos + n > len(data):
            raise Decoder(data, what).error(
                f"{o.name} payload_len {n} past the {len(data)}-byte data segment")
        out.append(data[pos:pos + n])
        pos += n
    if pos != len(data):
        raise Decoder(data, what).error(f"{len(data) - pos} data bytes not claimed by ops")
    return out


# -- small wire types ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntityNameT:
    """``entity_name_t``: u8 type + le64 num (client.4125 is (CLIENT, 4125))."""

    type: int = 0
    num: int = 0

    def encode(self, enc: Encoder) -> None:
        enc.u8(self.type)
        enc.s64(self.num)

    @classmethod
    def decode(cls, dec: Decoder) -> EntityNameT:
        return cls(dec.u8(), dec.s64())


@dataclass(frozen=True, slots=True)
class OsdReqId:
    """``osd_reqid_t``: envelope(2,2) entity_name_t name | le64 tid | le32 inc.

    librados and the kernel send it all zero; the OSD fills it from the connection and the
    message header (MOSDOp::get_reqid). struct_v 2 is the only version since Firefly.
    """

    CEPH_TYPE = "osd_reqid_t"

    name: EntityNameT = EntityNameT()
    tid: int = 0
    inc: int = 0

    def encode(self, enc: Encoder) -> None:
        with enc.struct(2, 2):
            self.name.encode(enc)
            enc.u64(self.tid)
            enc.s32(self.inc)

    @classmethod
    def decode(cls, dec: Decoder) -> OsdReqId:
        with dec.struct("osd_reqid_t", min_v=2, max_compat=2):
            name = EntityNameT.decode(dec)
            return cls(name, dec.u64(), dec.s32())


@dataclass(frozen=True, slots=True)
class ObjectLocator:
    """``object_locator_t``: envelope(6,3 or 6,6) le64 pool | le32 preferred | string key |
    string nspace | le64 hash.

    Accepts struct_v 5+ (v5 lacks ``hash``, -1 then; the kernel still sends v5); compat up
    to 6. ``preferred`` is always -1 since Firefly and is not kept. Newer tails are skipped.
    """

    CEPH_TYPE = "object_locator_t"

    pool: int = -1
    key: str = ""
    nspace: str = ""
    hash: int = -1

    def encode(self, enc: Encoder) -> None:
        # An explicit hash raises compat to 6: older decoders would ignore it and place
        # the op by name (object_locator_t::encode, ENCODE_FINISH_NEW_COMPAT; seen in
        # librados' pgnls requests).
        with enc.struct(6, 6 if self.hash != -1 else 3):
            enc.s64(self.pool)
            enc.s32(-1)  # preferred
            enc.string(self.key)
            enc.string(self.nspace)
            enc.s64(self.hash)

    @classmethod
    def decode(cls, dec: Decoder) -> ObjectLocator:
        with dec.struct("object_locator_t", min_v=5, max_compat=6) as v:
            pool = dec.s64()
            dec.skip(4)  # skip preferred (always -1)
            key = dec.string()
            nspace = dec.string()
            # hash added in v6 (Firefly)
            h = dec.s64() if v >= 6 else -1
        return cls(pool, key, nspace, h)


@dataclass(frozen=True, slots=True)
class HObject:
    """``hobject_t``: envelope(4,3) string key | string oid | le64 snap | le32 hash |
    bool max | string nspace | le64 pool.

    struct_v 4 is the only version since Firefly; compat up to 3. Used as the pgnls cursor
    and as MOSDBackoff's range ends.
    """

    CEPH_TYPE = "hobject_t"

    key: str = ""
    oid: str = ""
    snap: int = 0
    hash: int = 0
    max: bool = False
    nspace: str = ""
    pool: int = _HOBJECT_NO_POOL

    def encode(self, enc: Encoder) -> None:
        with enc.struct(4, 3):
            enc.string(self.key)
            enc.string(self.oid)
            enc.u64(self.snap)
            enc.u32(self.hash)
            enc.bool_(self.max)
            enc.string(self.nspace)
            enc.s64(self.pool)

    @classmethod
    def decode(cls, dec: Decoder) -> HObject:
        with dec.struct("hobject_t", min_v=4, max_compat=3):
            key = dec.string()
            oid = dec.string()
            snap = dec.u64()
            h = dec.u32()
            mx = dec.bool_()
            nspace = dec.string()
            pool = dec.s64()
        return cls(key, oid, snap, h, mx, nspace, pool)

    def is_max(self) -> bool:
        return self.max


@dataclass(frozen=True, slots=True)
class SpgId:
    """``spg_t``: envelope(1,1) pg_t pgid | s8 shard (-1 = NO_SHARD, replicated pools)."""

    CEPH_TYPE = "spg_t"

    pgid: PgId
    shard: int = -1

    def encode(self, enc: Encoder) -> None:
        with enc.struct(1, 1):
            self.pgid.encode(enc)
            enc.s8(self.shard)

    @classmethod
    def decode(cls, dec: Decoder) -> SpgId:
        with dec.struct("spg_t", min_v=1, max_compat=1):
            pgid = PgId.decode(dec)
            shard = dec.s8()
        return cls(pgid, shard)


@dataclass(frozen=True, slots=True)
class EVersion:
    """``eversion_t``: le64 version | le32 epoch (12 bytes, no envelope)."""

    version: int = 0
    epoch: int = 0


# -- reply structures ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListObject:
    """One entry of a pgnls reply (``librados::ListObjectImpl``): nspace, oid, locator."""

    nspace: str
    oid: str
    locator: str = ""


@dataclass(slots=True)
class PgNlsResponse:
    """``pg_nls_response_t``: envelope(1,1) hobject_t handle | le32 n |
    n × (string nspace, string oid, string locator).

    ``handle`` is the cursor for the next call; ``handle.max`` means the pg is exhausted.
    """

    CEPH_TYPE = "pg_nls_response_t"

    handle: HObject
    entries: list[ListObject]

    def encode(self, enc: Encoder) -> None:
        with enc.struct(1, 1):
            self.handle.encode(enc)
            enc.u32(len(self.entries))
            for e in self.entries:
                enc.string(e.nspace)
                enc.string(e.oid)
                enc.string(e.locator)

    @classmethod
    def decode(cls, dec: Decoder) -> PgNlsResponse:
        with dec.struct("pg_nls_response_t", min_v=1, max_compat=1):
            handle = HObject.decode(dec)
            n = dec.count(12)
            entries = [ListObject(dec.string(), dec.string(), dec.string()) for _ in range(n)]
        return cls(handle, entries)


@dataclass(frozen=True, slots=True)
class WatchItem:
    """``watch_item_t``: envelope(2,1) entity_name_t name | le64 cookie |
    le32 timeout_seconds | entity_addr_t addr (v2+).

    Accepts struct_v 1 (no addr) and later; compat 1.
    """

    CEPH_TYPE = "watch_item_t"

    name: EntityNameT
    cookie: int
    timeout_seconds: int
    addr: EntityAddr = field(default_factory=EntityAddr)

    def encode(self, enc: Encoder) -> None:
        with enc.struct(2, 1):
            self.name.encode(enc)
            enc.u64(self.cookie)
            enc.u32(self.timeout_seconds)
            self.addr.encode(enc)

    @classmethod
    def decode(cls, dec: Decoder) -> WatchItem:
        with dec.struct("watch_item_t", max_compat=1) as v:
            name = EntityNameT.decode(dec)
            cookie = dec.u64()
            timeout = dec.u32()
            # addr added in v2 (Hammer)
            addr = EntityAddr.decode(dec) if v >= 2 else EntityAddr()
        return cls(name, cookie, timeout, addr)


@dataclass(slots=True)
class ObjListWatchResponse:
    """``obj_list_watch_response_t``: envelope(1,1) list<watch_item_t> entries."""

    CEPH_TYPE = "obj_list_watch_response_t"

    entries: list[WatchItem]

    def encode(self, enc: Encoder) -> None:
        with enc.struct(1, 1):
            enc.list_(self.entries, lambda e, w: w.encode(e))

    @classmethod
    def decode(cls, dec: Decoder) -> ObjListWatchResponse:
        with dec.struct("obj_list_watch_response_t", max_compat=1):
            return cls(dec.list_(WatchItem.decode, 6))


@dataclass(slots=True)
class CloneInfo:
    """``clone_info``: envelope(1,1) le64 cloneid | vector<le64> snaps |
    vector<pair<le64,le64>> overlap | le64 size. ``cloneid`` CEPH_NOSNAP is the head."""

    CEPH_TYPE = "clone_info"

    cloneid: int
    snaps: list[int]
    overlap: list[tuple[int, int]]
    size: int

    def encode(self, enc: Encoder) -> None:
        with enc.struct(1, 1):
            enc.u64(self.cloneid)
            enc.list_(self.snaps, Encoder.u64)
            enc.u32(len(self.overlap))
            for off, ln in self.overlap:
                enc.u64(off)
                enc.u64(ln)
            enc.u64(self.size)

    @classmethod
    def decode(cls, dec: Decoder) -> CloneInfo:
        with dec.struct("clone_info", max_compat=1):
            cloneid = dec.u64()
            snaps = dec.list_(Decoder.u64, 8)
            n = dec.count(16)
            overlap = [(dec.u64(), dec.u64()) for _ in range(n)]
            size = dec.u64()
        return cls(cloneid, snaps, overlap, size)


@dataclass(slots=True)
class ObjListSnapResponse:
    """``obj_list_snap_response_t``: envelope(2,1) vector<clone_info> clones |
    le64 seq (v2+)."""

    CEPH_TYPE = "obj_list_snap_response_t"

    clones: list[CloneInfo]
    seq: int = 0

    def encode(self, enc: Encoder) -> None:
        with enc.struct(2, 1):
            enc.list_(self.clones, lambda e, c: c.encode(e))
            enc.u64(self.seq)

    @classmethod
    def decode(cls, dec: Decoder) -> ObjListSnapResponse:
        with dec.struct("obj_list_snap_response_t", max_compat=1) as v:
            clones = dec.list_(CloneInfo.decode, 6)
            # seq added in v2 (Firefly)
            seq = dec.u64() if v >= 2 else 0
        return cls(clones, seq)


@dataclass(slots=True)
class NotifyResult:
    """The payload of a NOTIFY_COMPLETE: who acked (with their reply) and who timed out.

    Encoded by the OSD (Watch.cc Notify::maybe_complete_notify) as
    ``map<pair<le64 gid, le64 cookie>, bufferlist> acks | list<pair<gid, cookie>> timeouts``.
    """

    acks: dict[tuple[int, int], bytes]
    timeouts: list[tuple[int, int]]

    def encode(self, enc: Encoder) -> None:
        enc.u32(len(self.acks))
        for (gid, cookie) in sorted(self.acks):
            enc.u64(gid)
            enc.u64(cookie)
            enc.blob(self.acks[(gid, cookie)])
        enc.u32(len(self.timeouts))
        for gid, cookie in self.timeouts:
            enc.u64(gid)
            enc.u64(cookie)

    @classmethod
    def decode(cls, dec: Decoder) -> NotifyResult:
        n = dec.count(20)
        acks: dict[tuple[int, int], bytes] = {}
        for _ in range(n):
            k = (dec.u64(), dec.u64())
            acks[k] = dec.blob()
        m = dec.count(16)
        timeouts = [(dec.u64(), dec.u64()) for _ in range(m)]
        return cls(acks, timeouts)


def decode_notify_result(data: Buffer) -> NotifyResult:
    """Decode a NOTIFY_COMPLETE payload (trailing bytes are an error)."""
    return decode_all(data, NotifyResult.decode, "notify_result")


# -- small decode helpers ------------------------------------------------------------------------


def _string(dec: Decoder) -> str:
    return dec.string()


def _blob(dec: Decoder) -> bytes:
    return dec.blob()


def _enc_str(enc: Encoder, s: str) -> None:
    enc.string(s)


def _enc_blob(enc: Encoder, b: Buffer) -> None:
    enc.blob(b)


def _encode(fn: Callable[[Encoder], None]) -> bytes:
    enc = Encoder()
    fn(enc)
    return enc.getvalue()


def _reply(fn: Callable[[Decoder], Any], what: str) -> ReplyDecoder:
    """A reply decoder that decodes all of the outdata with ``fn``."""

    def decode(rval: int, out: memoryview) -> Any:
        return decode_all(out, fn, what)

    return decode


# -- data ops --------------------------------------------------------------------------------------


def _extent_op(op: OsdOp, offset: int, length: int, data: tuple[Buffer, ...] = (),
               flags: int = 0, truncate_size: int = 0, truncate_seq: int = 0,
               decoder: ReplyDecoder = _no_output) -> OSDOp:
    return OSDOp(op, flags, _union(_U_EXTENT, offset, length, truncate_size, truncate_seq),
                 data, decoder)


_OP_READ = int(OsdOp.READ)
_OP_WRITE = int(OsdOp.WRITE)
_OP_WRITEFULL = int(OsdOp.WRITEFULL)
_U_EXTENT_TAIL = bytes(_UNION_LEN - _U_EXTENT.size)


def read(offset: int, length: int, flags: int = 0) -> OSDOp:
    """READ: the bytes (may be shorter than ``length`` at the end of the object).

    Reply: the data as a ``memoryview`` into the received segment.
    """
    # The per-request builders skip _extent_op's generality (they run once per I/O).
    return OSDOp(_OP_READ, flags, _U_EXTENT.pack(offset, length, 0, 0) + _U_EXTENT_TAIL,
                 (), _raw_output)


@dataclass(slots=True)
class SparseReadResult:
    """A SPARSE_READ reply: ``extents`` [(offset, length)] and the data of those extents,
    concatenated (``sum(lengths) == len(data)``)."""

    extents: list[tuple[int, int]]
    data: memoryview


def _decode_sparse(rval: int, out: memoryview) -> SparseReadResult:
    # ceph PrimaryLogPG do_sparse_read: encode(map<u64,u64> m) then encode(bufferlist data).
    dec = Decoder(out, "sparse_read")
    n = dec.count(16)
    extents = [(dec.u64(), dec.u64()) for _ in range(n)]
    data = dec.blob_view()
    if not dec.at_end():
        raise dec.error(f"{dec.remaining} trailing bytes")
    if sum(ln for _, ln in extents) != len(data):
        raise dec.error(f"extents cover {sum(ln for _, ln in extents)} bytes, "
                        f"data has {len(data)}")
    return SparseReadResult(extents, data)


def sparse_read(offset: int, length: int, flags: int = 0) -> OSDOp:
    """SPARSE_READ: the allocated extents in [offset, offset+length) and their data."""
    return _extent_op(OsdOp.SPARSE_READ, offset, length, flags=flags, decoder=_decode_sparse)


def write(offset: int, data: Buffer, flags: int = 0, truncate_size: int = 0,
          truncate_seq: int = 0) -> OSDOp:
    """WRITE ``data`` at ``offset``; ``data`` goes to the wire as is (zero copy)."""
    return OSDOp(_OP_WRITE, flags,
                 _U_EXTENT.pack(offset, len(data), truncate_size, truncate_seq)
                 + _U_EXTENT_TAIL, (data,))


def writefull(data: Buffer, flags: int = 0) -> OSDOp:
    """WRITEFULL: replace the object's data (creates it)."""
    return OSDOp(_OP_WRITEFULL, flags, _U_EXTENT.pack(0, len(data), 0, 0) + _U_EXTENT_TAIL,
                 (data,))


def append(data: Buffer, flags: int = 0) -> OSDOp:
    """APPEND: extent.offset is 0 and the OSD appends at the current size (Objecter
    ``append``)."""
    return _extent_op(OsdOp.APPEND, 0, len(data), (data,), flags)


def writesame(offset: int, length: int, data: Buffer, flags: int = 0) -> OSDOp:
    """WRITESAME: repeat ``data`` over [offset, offset+length); length must be a multiple."""
    if not data or length % len(data):
        raise CephError(errno.EINVAL, "writesame length must be a multiple of the data")
    return OSDOp(OsdOp.WRITESAME, flags, _union(_U_WRITESAME, offset, length, len(data)),
                 (data,))


def zero(offset: int, length: int) -> OSDOp:
    """ZERO: punch [offset, offset+length) (reads back as zeros)."""
    return _extent_op(OsdOp.ZERO, offset, length)


def truncate(size: int) -> OSDOp:
    """TRUNCATE to ``size`` (extent.offset = size, length 0, as Objecter ``truncate``)."""
    return _extent_op(OsdOp.TRUNCATE, size, 0)


def delete() -> OSDOp:
    """DELETE the object (ENOENT if absent)."""
    return OSDOp(OsdOp.DELETE)


def create(exclusive: bool = False) -> OSDOp:
    """CREATE; with ``exclusive`` the op flag EXCL makes it fail with EEXIST."""
    return OSDOp(OsdOp.CREATE, OsdOpFlag.EXCL if exclusive else 0)


@dataclass(frozen=True, slots=True)
class StatResult:
    """A STAT reply: size and mtime (``utime_t``: seconds, nanoseconds)."""

    size: int
    mtime: tuple[int, int]


_STAT = struct.Struct("<QII")  # le64 size, utime_t mtime


def _decode_stat(rval: int, out: memoryview) -> StatResult:
    if len(out) < _STAT.size:
        raise Decoder(out, "stat").error(f"stat reply of {len(out)} bytes")
    size, sec, nsec = _STAT.unpack_from(out)
    return StatResult(size, (sec, nsec))


def stat() -> OSDOp:
    """STAT: size and mtime."""
    return OSDOp(OsdOp.STAT, decoder=_decode_stat)


def assert_exists() -> OSDOp:
    """librados ``assert_exists()`` is a STAT whose output is ignored (ENOENT if absent)."""
    return OSDOp(OsdOp.STAT)


def assert_version(ver: int) -> OSDOp:
    """ASSERT_VER: fail with -ERANGE/-EOVERFLOW unless the object's user_version is ``ver``."""
    return OSDOp(OsdOp.ASSERT_VER, union=_union(_U_ASSERT_VER, 0, ver))


def cmpext(offset: int, data: Buffer, flags: int = 0) -> OSDOp:
    """CMPEXT: compare ``data`` with the object at ``offset``.

    On a mismatch the op (and message) result is ``-MAX_ERRNO - index`` of the first
    differing byte; :func:`cmpext_mismatch` recovers the index.
    """
    return _extent_op(OsdOp.CMPEXT, offset, len(data), (data,), flags)


def cmpext_mismatch(rval: int) -> int | None:
    """The mismatch offset encoded in a CMPEXT rval, or None if it is not a mismatch."""
    if rval <= -MAX_ERRNO:
        return -rval - MAX_ERRNO
    return None


def set_alloc_hint(expected_object_size: int, expected_write_size: int,
                   flags: int = 0) -> OSDOp:
    """SETALLOCHINT (librbd sends it before data writes; FAILOK is customary)."""
    return OSDOp(OsdOp.SETALLOCHINT, OsdOpFlag.FAILOK,
                 _union(_U_ALLOC_HINT, expected_object_size, expected_write_size, flags))


def rollback(snapid: int) -> OSDOp:
    """ROLLBACK the head to self-managed snap ``snapid`` (op.snap.snapid)."""
    return OSDOp(OsdOp.ROLLBACK, union=_union(_U_SNAP, snapid))


def list_snaps() -> OSDOp:
    """LIST_SNAPS: the object's clones; the MOSDOp's snapid must be CEPH_SNAPDIR."""
    return OSDOp(OsdOp.LIST_SNAPS,
                 decoder=_reply(ObjListSnapResponse.decode, "obj_list_snap_response_t"))


# -- class calls -------------------------------------------------------------------------------


def call(cls: str, method: str, indata: Buffer = b"",
         decoder: ReplyDecoder = _raw_output) -> OSDOp:
    """CALL ``cls.method(indata)``; the reply is the method's output (raw by default).

    The input is ``class | method | indata`` with the lengths in the union (argc 0).
    """
    c, m = to_bytes(cls), to_bytes(method)
    if len(c) > 255 or len(m) > 255:
        raise CephError(errno.EINVAL, "class/method name longer than 255 bytes")
    return OSDOp(OsdOp.CALL, 0, _union(_U_CLS, len(c), len(m), 0, len(indata)),
                 (c + m, indata) if len(indata) else (c + m,), decoder)


# -- xattrs ----------------------------------------------------------------------------------------


def _xattr_op(op: OsdOp, name: str, value: Buffer = b"", cmp_op: int = 0, cmp_mode: int = 0,
              decoder: ReplyDecoder = _no_output) -> OSDOp:
    n = to_bytes(name)
    pieces: tuple[Buffer, ...] = (n, value) if len(value) else (n,)
    return OSDOp(op, 0, _union(_U_XATTR, len(n), len(value), cmp_op, cmp_mode), pieces,
                 decoder)


def getxattr(name: str) -> OSDOp:
    """GETXATTR: the value (ENODATA if absent)."""
    return _xattr_op(OsdOp.GETXATTR, name, decoder=_raw_output)


def _decode_attrs(dec: Decoder) -> dict[str, bytes]:
    return dec.map_(_string, _blob, 8)


def getxattrs() -> OSDOp:
    """GETXATTRS: ``map<string, bufferlist>`` of the user xattrs."""
    return OSDOp(OsdOp.GETXATTRS, decoder=_reply(_decode_attrs, "xattrs"))


def setxattr(name: str, value: Buffer) -> OSDOp:
    """SETXATTR: input ``name | value``, lengths in the union."""
    return _xattr_op(OsdOp.SETXATTR, name, value)


def rmxattr(name: str) -> OSDOp:
    """RMXATTR."""
    return _xattr_op(OsdOp.RMXATTR, name)


def cmpxattr(name: str, cmp_op: int, value: Buffer | int) -> OSDOp:
    """CMPXATTR: fail with ECANCELED unless ``xattr <cmp_op> value``.

    An int compares as u64 (mode U64, value encoded le64, librados ``cmpxattr`` with
    uint64_t); bytes compare as strings.
    """
    if isinstance(value, int):
        return _xattr_op(OsdOp.CMPXATTR, name, struct.pack("<Q", value), cmp_op,
                         CmpXattrMode.U64)
    return _xattr_op(OsdOp.CMPXATTR, name, value, cmp_op, CmpXattrMode.STRING)


# -- omap ------------------------------------------------------------------------------------------
#
# librados sends omap inputs through ObjectOperation::add_data, which also writes the input
# length into extent.length (offset 0); the captured requests show it, so we do the same.


def _data_op(op: OsdOp, data: Buffer, decoder: ReplyDecoder = _no_output) -> OSDOp:
    return _extent_op(op, 0, len(data), (data,) if len(data) else (), decoder=decoder)



def _decode_keys_more(dec: Decoder) -> tuple[list[str], bool]:
    keys = dec.list_(_string, 4)
    # "more" is absent from pre-Luminous OSDs (Objecter C_ObjectOperation_decodekeys)
    more = dec.bool_() if not dec.at_end() else False
    return keys, more


def _decode_vals_more(dec: Decoder) -> tuple[dict[str, bytes], bool]:
    vals = dec.map_(_string, _blob, 8)
    more = dec.bool_() if not dec.at_end() else False
    return vals, more


def _decode_vals(dec: Decoder) -> dict[str, bytes]:
    return dec.map_(_string, _blob, 8)


def tmapup(commands: Buffer) -> OSDOp:
    """Apply TMAP commands to the object's data (librados ``tmap_update``)."""
    return _data_op(OsdOp.TMAPUP, commands)


def omap_get_keys2(start_after: str = "", max_return: int = 512) -> OSDOp:
    """OMAPGETKEYS: input ``string start_after | le64 max``.

    Reply: ``(keys, more)``; ``more`` says the OSD stopped at a limit.
    """
    enc = Encoder()
    enc.string(start_after)
    enc.u64(max_return)
    return _data_op(OsdOp.OMAPGETKEYS, enc.getvalue(),
                    _reply(_decode_keys_more, "omap_get_keys"))


def omap_get_vals2(start_after: str = "", filter_prefix: str = "",
                   max_return: int = 512) -> OSDOp:
    """OMAPGETVALS: input ``string start_after | le64 max | string filter_prefix``.

    Reply: ``(dict key → value, more)``.
    """
    enc = Encoder()
    enc.string(start_after)
    enc.u64(max_return)
    enc.string(filter_prefix)
    return _data_op(OsdOp.OMAPGETVALS, enc.getvalue(),
                    _reply(_decode_vals_more, "omap_get_vals"))


def omap_get_vals_by_keys(keys: Iterable[str]) -> OSDOp:
    """OMAPGETVALSBYKEYS: input ``set<string>``; reply the subset that exists."""
    ks = sorted(set(keys))
    return _data_op(OsdOp.OMAPGETVALSBYKEYS, _encode(lambda e: e.list_(ks, _enc_str)),
                    _reply(_decode_vals, "omap_get_vals_by_keys"))


def omap_get_header() -> OSDOp:
    """OMAPGETHEADER: the raw header bytes."""
    return OSDOp(OsdOp.OMAPGETHEADER, decoder=_raw_output)


def omap_set_vals(vals: Mapping[str, Buffer]) -> OSDOp:
    """OMAPSETVALS: input ``map<string, bufferlist>`` (sorted, as std::map)."""
    return _data_op(OsdOp.OMAPSETVALS,
                    _encode(lambda e: e.map_(dict(vals), _enc_str, _enc_blob)))


def omap_set_header(header: Buffer) -> OSDOp:
    """OMAPSETHEADER: input the raw header bytes."""
    return _data_op(OsdOp.OMAPSETHEADER, header)


def omap_clear() -> OSDOp:
    """OMAPCLEAR: drop every key and the header."""
    return OSDOp(OsdOp.OMAPCLEAR)


def omap_rm_keys(keys: Iterable[str]) -> OSDOp:
    """OMAPRMKEYS: input ``set<string>``."""
    ks = sorted(set(keys))
    return _data_op(OsdOp.OMAPRMKEYS, _encode(lambda e: e.list_(ks, _enc_str)))


def omap_rm_key_range(key_begin: str, key_end: str) -> OSDOp:
    """OMAPRMKEYRANGE: remove keys in [key_begin, key_end); input two strings."""
    enc = Encoder()
    enc.string(key_begin)
    enc.string(key_end)
    return _data_op(OsdOp.OMAPRMKEYRANGE, enc.getvalue())


def omap_cmp(assertions: Mapping[str, tuple[Buffer, int]]) -> OSDOp:
    """OMAP_CMP: input ``map<string, pair<bufferlist, le32 op>>``; ECANCELED on mismatch."""

    def enc_pair(e: Encoder, v: tuple[Buffer, int]) -> None:
        e.blob(v[0])
        e.s32(v[1])

    return _data_op(OsdOp.OMAP_CMP,
                    _encode(lambda e: e.map_(dict(assertions), _enc_str, enc_pair)))


# -- watch / notify --------------------------------------------------------------------------------


def watch(cookie: int, op: int = WatchOp.WATCH, gen: int = 0, timeout: int = 0) -> OSDOp:
    """WATCH (v2 sub-ops): register, reconnect (gen+1), ping or unwatch ``cookie``.

    ``timeout`` 0 lets the OSD use osd_client_watch_timeout (30 s).
    """
    return OSDOp(OsdOp.WATCH, union=_union(_U_WATCH, cookie, 0, op, gen, timeout))


def _decode_notify_id(rval: int, out: memoryview) -> int:
    # The NOTIFY reply outdata is the le64 notify_id (kernel linger_commit_cb); the real
    # outcome arrives later in an MWatchNotify NOTIFY_COMPLETE.
    if len(out) < 8:
        return 0
    v: int = struct.unpack_from("<Q", out)[0]
    return v


def notify(cookie: int, payload: Buffer = b"", timeout: int = 0,
           prot_ver: int = 1) -> OSDOp:
    """NOTIFY: input ``le32 prot_ver | le32 timeout_s | bufferlist payload``.

    Reply: the notify id; acks and timeouts come in NOTIFY_COMPLETE
    (:func:`decode_notify_result`).
    """
    head = struct.pack("<III", prot_ver, timeout, len(payload))
    return OSDOp(OsdOp.NOTIFY, union=_union(_U_NOTIFY, cookie),
                 indata=(head, payload) if len(payload) else (head,),
                 decoder=_decode_notify_id)


def notify_ack(notify_id: int, cookie: int, reply: Buffer = b"") -> OSDOp:
    """NOTIFY_ACK: input ``le64 notify_id | le64 cookie | bufferlist reply``.

    A watcher answers each MWatchNotify NOTIFY with this op on the watched object.
    """
    head = struct.pack("<QQI", notify_id, cookie, len(reply))
    # The union stays zero: everything travels in the input (Objecter notify_ack; the
    # captured librados request has an all-zero union).
    return OSDOp(OsdOp.NOTIFY_ACK, indata=(head, reply) if len(reply) else (head,))


def list_watchers() -> OSDOp:
    """LIST_WATCHERS: :class:`ObjListWatchResponse`."""
    return OSDOp(OsdOp.LIST_WATCHERS,
                 decoder=_reply(ObjListWatchResponse.decode, "obj_list_watch_response_t"))


# -- pg ops ----------------------------------------------------------------------------------------


def pgnls(max_entries: int, cursor: HObject | None = None, start_epoch: int = 0) -> OSDOp:
    """PGNLS: list up to ``max_entries`` objects of one pg after ``cursor``.

    Input: the ``hobject_t`` cursor (a default hobject_t to start). The MOSDOp goes to the
    pg with an empty oid, ``hash`` = the pg seed, a locator whose ``hash`` is the pg seed
    and whose ``nspace`` is the namespace (:data:`LIBRADOS_ALL_NSPACES` for all), and
    message flags READ|IGNORE_OVERLAY (what librados 16.2 sends; no PGOP flag). The op's
    union carries ``count`` and ``start_epoch`` (the epoch the listing began at).
    Reply: :class:`PgNlsResponse`; the MOSDOpReply result is 1 once the pg is exhausted
    (``handle.max`` is then set).
    """
    c = cursor if cursor is not None else HObject()
    return OSDOp(OsdOp.PGNLS, union=_union(_U_PGLS, max_entries, start_epoch),
                 indata=(_encode(c.encode),),
                 decoder=_reply(PgNlsResponse.decode, "pg_nls_response_t"))


# -- MOSDOp-level flags for a vector of ops ------------------------------------------------------


def ops_flags(ops: Iterable[OSDOp]) -> int:
    """READ/WRITE message flags implied by the ops (Objecter: read ops get READ, write
    ops WRITE). A CALL adds nothing: the caller knows whether the class method reads or
    writes (librados ``exec`` as a read op sends READ, in a write op WRITE)."""
    f = 0
    for o in ops:
        op = o.op
        if op == _CALL:
            continue
        # plain ints: IntFlag arithmetic costs a microsecond per operator
        if op & _WR:
            f |= _FLAG_WRITE
        elif op & _RD:
            f |= _FLAG_READ
    return f


_CALL = int(OsdOp.CALL)
_FLAG_READ = int(OsdFlag.READ)
_FLAG_WRITE = int(OsdFlag.WRITE)


__all__ = [
    "CEPH_NOSNAP",
    "LIBRADOS_ALL_NSPACES",
    "MAX_ERRNO",
    "OSD_OP_LEN",
    "BackoffOp",
    "CloneInfo",
    "CmpXattrMode",
    "CmpXattrOp",
    "EVersion",
    "EntityNameT",
    "HObject",
    "ListObject",
    "NotifyResult",
    "OSDOp",
    "ObjListSnapResponse",
    "ObjListWatchResponse",
    "ObjectLocator",
    "OsdFlag",
    "OsdOp",
    "OsdOpFlag",
    "OsdReqId",
    "PgNlsResponse",
    "SparseReadResult",
    "SpgId",
    "StatResult",
    "WatchItem",
    "WatchOp",
    "append",
    "assert_exists",
    "assert_version",
    "call",
    "cmpext",
    "cmpext_mismatch",
    "cmpxattr",
    "create",
    "decode_notify_result",
    "delete",
    "encode_ops_data",
    "getxattr",
    "getxattrs",
    "list_snaps",
    "list_watchers",
    "notify",
    "notify_ack",
    "omap_clear",
    "omap_cmp",
    "omap_get_header",
    "omap_get_keys2",
    "omap_get_vals2",
    "omap_get_vals_by_keys",
    "omap_rm_key_range",
    "omap_rm_keys",
    "omap_set_header",
    "omap_set_vals",
    "op_name",
    "ops_flags",
    "pgnls",
    "read",
    "rmxattr",
    "rollback",
    "set_alloc_hint",
    "setxattr",
    "sparse_read",
    "split_ops_data",
    "stat",
    "tmapup",
    "truncate",
    "watch",
    "write",
    "writefull",
    "writesame",
    "zero",
]
