"""Client <-> OSD messages: MOSDOp, MOSDOpReply, MOSDBackoff, MWatchNotify.

Theory of operation: an Objecter request is one MOSDOp: the target (spg_t of the acting
primary, the object's raw 32-bit hash, the osdmap epoch it was computed with), the request
flags, the object (locator + name), the op vector (38-byte ``ceph_osd_op`` records, see
:mod:`rbdpy.rados.proto.ops`), the snap id/context, and the attempt number. The inputs of all
ops travel concatenated in the *data* segment; :meth:`MOSDOp.encode_pieces` returns them as
a list of the caller's own buffers so a write payload is never copied (the msgr2 layer must
accept several data pieces for that; ``encode()`` joins them for the single-buffer API).

The OSD answers with an MOSDOpReply matched by header tid (and ``retry_attempt``): the overall
result, the same op records with ``payload_len`` = output size, per-op return values, the
object versions, and an optional redirect. Per-op outputs are zero-copy slices of the reply's
data segment. MOSDBackoff asks the client to hold ops for a pg/object range (BLOCK, answered
with ACK_BLOCK) and to resend them (UNBLOCK). MWatchNotify delivers notifies to watchers,
the completion of a notify to its sender, and watch errors; the watcher's answer is an OSD op
(NOTIFY_ACK), not a message.

Only the encodings a Pacific+ peer uses are implemented: MOSDOp v8 (RESEND_ON_SPLIT, every
OSD since Luminous), MOSDOpReply v8, MOSDBackoff v1, MWatchNotify v3.

Mirrors: ceph src/messages/MOSDOp.h (encode_payload, the v8 branch; decode_payload +
finish_decode), src/messages/MOSDOpReply.h, src/messages/MOSDBackoff.h,
src/messages/MWatchNotify.h, src/msg/Message.cc (encode_trace); kernel net/ceph/osd_client.c
(encode_request_partial, encode_request_finish, decode_MOSDOpReply, handle_backoff,
handle_watch_notify).
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.messages.base import Message, MsgType, front_decoder, register
from rbdpy.rados.proto.ops import (
    EVersion,
    HObject,
    ObjectLocator,
    OSDOp,
    OsdReqId,
    SpgId,
    encode_ops_data,
    split_ops_data,
)
from rbdpy.rados.proto.types import PgId

log = logging.getLogger(__name__)

_ZERO_REQID = OsdReqId()

# blkin_trace_info: le64 trace_id, le64 span_id, le64 parent_span_id (Message::encode_trace
# always writes it, zero when untraced).
_TRACE = struct.Struct("<QQQ")
_ZERO_TRACE = (0, 0, 0)
# Fixed run after the spg in MOSDOp v8: le32 hash, le32 osdmap_epoch, le32 flags
_OP_HEAD = struct.Struct("<III")
# After client_inc in MOSDOp: le32 client_inc, utime mtime (sec, nsec)
_INC_MTIME = struct.Struct("<iII")
# MOSDOpReply after pg_t: le64 flags, le32 result, eversion_t (le64 version, le32 epoch),
# le32 osdmap_epoch, le32 num_ops
_REPLY_HEAD = struct.Struct("<QiQIII")
_EVERSION = struct.Struct("<QI")

# -- the hot paths: one pack / one unpack per fixed run ---------------------------------------
# MOSDOp front up to the reqid: spg_t envelope (v1, compat 1, len 18) | pg_t (u8 1, le64 pool,
# le32 seed, le32 preferred -1) | s8 shard | le32 hash | le32 osdmap_epoch | le32 flags
_MOSDOP_HEAD = struct.Struct("<BBIBqIibIII")
# osd_reqid_t envelope (v2, compat 2, len 21) + an all-zero entity_name_t/tid/inc (the OSD
# fills it in from the connection), then an all-zero blkin trace: constant bytes.
_MOSDOP_REQID_TRACE = (struct.pack("<BBI", 2, 2, 21) + bytes(21)) + bytes(_TRACE.size)
# le32 client_inc | utime mtime | object_locator_t envelope (v6, compat, len) | le64 pool |
# le32 preferred (-1) | le32 key length
_MOSDOP_MID = struct.Struct("<iIIBBIqiI")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")
# le64 oloc hash | le32 oid length
_OLOC_HASH_OID = struct.Struct("<qI")
# le64 snapid | le64 snap_seq | le32 number of snaps
_SNAP_HEAD = struct.Struct("<QQI")
# le32 retry_attempt | le64 features
_RETRY_FEATURES = struct.Struct("<iQ")
# MOSDOpReply after the oid: pg_t (u8 v, le64 pool, le32 seed, le32 preferred) + _REPLY_HEAD
_REPLY_FIXED = struct.Struct("<BqIiQiQIII")
_OSD_OP = struct.Struct("<HI28sI")  # ceph_osd_op, see proto.ops
# retry_attempt | rvals[n] | eversion replay_version | le64 user_version | u8 do_redirect,
# one Struct per op count (cached: n is 1-3 in practice)
_REPLY_TAILS: dict[int, struct.Struct] = {}


def _reply_tail(n: int) -> struct.Struct:
    st = _REPLY_TAILS.get(n)
    if st is None:
        st = struct.Struct(f"<i{n}iQIQB")
        if len(_REPLY_TAILS) < 64:
            _REPLY_TAILS[n] = st
    return st


def encode_osd_op_front(pool: int, seed: int, shard: int, hash: int, osdmap_epoch: int,
                        flags: int, client_inc: int, mtime: tuple[int, int], oloc_pool: int,
                        key: bytes, nspace: bytes, oloc_hash: int, oid: bytes,
                        ops: list[OSDOp], snapid: int, snap_seq: int,
                        snaps: tuple[int, ...] | list[int], retry_attempt: int,
                        features: int) -> bytes:
    """The MOSDOp v8 front with an all-zero reqid and trace (what clients send).

    Same bytes as :meth:`MOSDOp.encode_front` (pinned by the same capture), built from a
    few precompiled Structs instead of the generic Encoder: this runs once per op sent.
    """
    parts = [
        _MOSDOP_HEAD.pack(1, 1, 18, 1, pool, seed, -1, shard, hash, osdmap_epoch, flags),
        _MOSDOP_REQID_TRACE,
        # object_locator_t: an explicit hash raises compat to 6 (see ObjectLocator.encode)
        _MOSDOP_MID.pack(client_inc, mtime[0], mtime[1], 6, 6 if oloc_hash != -1 else 3,
                         28 + len(key) + len(nspace), oloc_pool, -1, len(key)),
        key, _U32.pack(len(nspace)), nspace, _OLOC_HASH_OID.pack(oloc_hash, len(oid)), oid,
        _U16.pack(len(ops)),
    ]
    pack_op = _OSD_OP.pack
    for o in ops:
        ind = o.indata
        parts.append(pack_op(o.op, o.flags, o.union,
                             len(ind[0]) if len(ind) == 1 else sum(len(b) for b in ind)))
    parts.append(_SNAP_HEAD.pack(snapid, snap_seq, len(snaps)))
    if snaps:
        parts.append(struct.pack(f"<{len(snaps)}Q", *snaps))
    parts.append(_RETRY_FEATURES.pack(retry_attempt, features))
    return b"".join(parts)


def _enc_trace(enc: Encoder, trace: tuple[int, int, int]) -> None:
    enc.pack(_TRACE, *trace)


# -- MOSDOp --------------------------------------------------------------------------------------


@register
@dataclass
class MOSDOp(Message):
    """MOSDOp (42), v8 / compat 3. Front, in order:

    ``spg_t pgid | le32 hash | le32 osdmap_epoch | le32 flags | osd_reqid_t reqid |
    blkin trace (3 × le64) | le32 client_inc | utime mtime | object_locator_t oloc |
    string oid | le16 num_ops | num_ops × ceph_osd_op | le64 snapid | le64 snap_seq |
    vector<le64> snaps | le32 retry_attempt | le64 features``.

    ``pgid`` is the *folded* pg of the acting primary (with the EC shard, -1 otherwise) and
    ``hash`` the raw object hash. Decode accepts only v8 (what every Luminous+ peer sends);
    it exists for tests and fake OSDs.
    """

    TYPE = MsgType.OSD_OP
    HEAD_VERSION = 8
    COMPAT_VERSION = 3

    pgid: SpgId = field(default_factory=lambda: SpgId(PgId(0, 0)))
    hash: int = 0
    osdmap_epoch: int = 0
    flags: int = 0
    reqid: OsdReqId = field(default_factory=OsdReqId)
    trace: tuple[int, int, int] = _ZERO_TRACE
    client_inc: int = 0
    mtime: tuple[int, int] = (0, 0)
    oloc: ObjectLocator = field(default_factory=ObjectLocator)
    oid: str | bytes = ""
    ops: list[OSDOp] = field(default_factory=list)
    snapid: int = CEPH_NOSNAP
    snap_seq: int = 0
    snaps: list[int] = field(default_factory=list)
    retry_attempt: int = 0
    features: int = 0

    def encode_front(self) -> bytes:
        if self.reqid == _ZERO_REQID and self.trace == _ZERO_TRACE:
            oid = self.oid.encode("utf-8", "surrogateescape") if isinstance(self.oid, str) \
                else bytes(self.oid)
            oloc = self.oloc
            return encode_osd_op_front(
                self.pgid.pgid.pool, self.pgid.pgid.seed, self.pgid.shard, self.hash,
                self.osdmap_epoch, self.flags, self.client_inc, self.mtime, oloc.pool,
                oloc.key.encode("utf-8", "surrogateescape"),
                oloc.nspace.encode("utf-8", "surrogateescape"), oloc.hash, oid, self.ops,
                self.snapid, self.snap_seq, self.snaps, self.retry_attempt, self.features)
        return self._encode_front_generic()

    def _encode_front_generic(self) -> bytes:
        enc = Encoder()
        self.pgid.encode(enc)
        enc.pack(_OP_HEAD, self.hash, self.osdmap_epoch, self.flags)
        self.reqid.encode(enc)
        _enc_trace(enc, self.trace)
        # -- the OSD decodes the rest after dispatch (MOSDOp::finish_decode) --
        enc.pack(_INC_MTIME, self.client_inc, self.mtime[0], self.mtime[1])
        self.oloc.encode(enc)
        enc.string(self.oid)
        enc.u16(len(self.ops))
        for o in self.ops:
            o.encode(enc)
        enc.u64(self.snapid)
        enc.u64(self.snap_seq)
        enc.u32(len(self.snaps))
        for s in self.snaps:
            enc.u64(s)
        enc.s32(self.retry_attempt)
        enc.u64(self.features)
        return enc.getvalue()

    def encode_pieces(self, features: int = 0) -> tuple[bytes, bytes, list[Buffer]]:
        """(front, middle, data pieces): the ops' inputs are the caller's buffers."""
        if log.isEnabledFor(logging.DEBUG):
            log.debug("osd_op tid %d %s %s [%s] e%d flags %#x attempt %d", self.tid,
                      self.pgid.pgid, self.oid, ",".join(o.name for o in self.ops),
                      self.osdmap_epoch, self.flags, self.retry_attempt)
        return self.encode_front(), b"", encode_ops_data(self.ops)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        front, middle, pieces = self.encode_pieces(features)
        if not pieces:
            data: Buffer = b""
        elif len(pieces) == 1:
            data = pieces[0]
        else:
            # The single-buffer message API forces a join (a copy); see encode_pieces.
            data = b"".join(pieces)
        return front, middle, data

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MOSDOp:
        dec = front_decoder(cls, front)
        if version != 8:
            raise dec.error(f"MOSDOp v{version} not supported (v8 only)")
        pgid = SpgId.decode(dec)
        hash_, epoch, flags = dec.unpack(_OP_HEAD)
        reqid = OsdReqId.decode(dec)
        trace = dec.unpack(_TRACE)
        client_inc, sec, nsec = dec.unpack(_INC_MTIME)
        oloc = ObjectLocator.decode(dec)
        oid = dec.string()
        n = dec.u16()
        ops = [OSDOp.decode(dec) for _ in range(n)]
        snapid = dec.u64()
        snap_seq = dec.u64()
        snaps = dec.list_(Decoder.u64, 8)
        retry_attempt = dec.s32()
        features = dec.u64()
        for o, piece in zip(ops, split_ops_data(ops, data, "MOSDOp.data"), strict=True):
            o.indata = (piece,) if len(piece) else ()
        return cls(pgid, hash_, epoch, flags, reqid, (trace[0], trace[1], trace[2]),
                   client_inc, (sec, nsec), oloc, oid, ops, snapid, snap_seq, snaps,
                   retry_attempt, features)


# -- MOSDOpReply -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequestRedirect:
    """``request_redirect_t``: envelope(1,1) object_locator_t redirect_locator |
    string redirect_object | bufferlist osd_instructions (legacy, always empty)."""

    CEPH_TYPE = "request_redirect_t"

    redirect_locator: ObjectLocator = field(default_factory=ObjectLocator)
    redirect_object: str = ""

    def encode(self, enc: Encoder) -> None:
        with enc.struct(1, 1):
            self.redirect_locator.encode(enc)
            enc.string(self.redirect_object)
            enc.u32(0)  # the removed osd_instructions bufferlist

    @classmethod
    def decode(cls, dec: Decoder) -> RequestRedirect:
        with dec.struct("request_redirect_t", max_compat=1):
            loc = ObjectLocator.decode(dec)
            obj = dec.string()
            dec.blob_view()  # skip osd_instructions (legacy)
        return cls(loc, obj)


@register
@dataclass
class MOSDOpReply(Message):
    """MOSDOpReply (43), v8 (compat 2). Front:

    ``string oid | pg_t pgid | le64 flags | le32 result | eversion_t bad_replay_version |
    le32 osdmap_epoch | le32 num_ops | num_ops × ceph_osd_op | le32 retry_attempt |
    num_ops × le32 rval | eversion_t replay_version | le64 user_version | u8 do_redirect |
    [request_redirect_t] | blkin trace (v8)``.

    Decode accepts v7 and later (a newer tail is ignored, as Ceph ignores unread front).
    ``outdata[i]`` is a ``memoryview`` slice of the data segment for op i.
    """

    TYPE = MsgType.OSD_OPREPLY
    HEAD_VERSION = 8
    COMPAT_VERSION = 2

    oid: str = ""
    pgid: PgId = field(default_factory=lambda: PgId(0, 0))
    flags: int = 0
    result: int = 0
    bad_replay_version: EVersion = field(default_factory=EVersion)
    osdmap_epoch: int = 0
    ops: list[OSDOp] = field(default_factory=list)
    retry_attempt: int = 0
    rvals: list[int] = field(default_factory=list)
    outdata: list[memoryview] = field(default_factory=list)
    replay_version: EVersion = field(default_factory=EVersion)
    user_version: int = 0
    redirect: RequestRedirect | None = None
    trace: tuple[int, int, int] = _ZERO_TRACE

    @property
    def do_redirect(self) -> bool:
        return self.redirect is not None

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.string(self.oid)
        self.pgid.encode(enc)
        enc.pack(_REPLY_HEAD, self.flags, self.result, self.bad_replay_version.version,
                 self.bad_replay_version.epoch, self.osdmap_epoch, len(self.ops))
        outs = self.outdata or [memoryview(b"")] * len(self.ops)
        for o, out in zip(self.ops, outs, strict=True):
            o.encode(enc, payload_len=len(out))
        enc.s32(self.retry_attempt)
        for r in self.rvals:
            enc.s32(r)
        enc.pack(_EVERSION, self.replay_version.version, self.replay_version.epoch)
        enc.u64(self.user_version)
        enc.bool_(self.redirect is not None)
        if self.redirect is not None:
            self.redirect.encode(enc)
        _enc_trace(enc, self.trace)
        return enc.getvalue(), b"", b"".join(outs)

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MOSDOpReply:
        if version >= 8:
            try:
                reply = cls._decode_fast(version, front, data)
            except (struct.error, UnicodeError, ValueError):
                reply = None  # malformed: the generic path names the problem
            if reply is not None:
                return reply
        return cls._decode_generic(version, front, middle, data)

    @classmethod
    def _decode_fast(cls, version: int, front: memoryview,
                     data: memoryview) -> MOSDOpReply | None:
        """The common reply (no redirect) with a handful of ``unpack_from`` calls.

        Returns None when the reply needs the generic decoder (a redirect, or bad input,
        which the generic decoder then reports with its usual DecodeError).
        """
        (olen,) = _U32.unpack_from(front, 0)
        pos = 4 + olen
        if pos > len(front):
            return None
        oid = bytes(front[4:pos]).decode("utf-8", "surrogateescape")
        (pgv, pool, seed, _pref, flags, result, bad_v, bad_e, epoch,
         n) = _REPLY_FIXED.unpack_from(front, pos)
        pos += _REPLY_FIXED.size
        if pgv != 1 or n * 42 > len(front) - pos:
            return None
        end_ops = pos + n * 38
        ops = [OSDOp(op, fl, un, payload_len=pl)
               for op, fl, un, pl in _OSD_OP.iter_unpack(front[pos:end_ops])]
        tail = _reply_tail(n)
        vals = tail.unpack_from(front, end_ops)
        pos = end_ops + tail.size
        if vals[-1]:  # do_redirect
            return None
        trace = _TRACE.unpack_from(front, pos)
        outdata = split_ops_data(ops, data, "MOSDOpReply.data")
        if log.isEnabledFor(logging.DEBUG):
            log.debug("osd_op_reply %s %s.%x = %d rvals %s e%d uv%d attempt %d", oid, pool,
                      seed, result, list(vals[1:n + 1]), epoch, vals[-2], vals[0])
        return cls(oid, PgId(pool, seed), flags, result, EVersion(bad_v, bad_e), epoch, ops,
                   vals[0], list(vals[1:n + 1]), outdata, EVersion(vals[n + 1], vals[n + 2]),
                   vals[-2], None, (trace[0], trace[1], trace[2]))

    @classmethod
    def _decode_generic(cls, version: int, front: memoryview, middle: memoryview,
                        data: memoryview) -> MOSDOpReply:
        dec = front_decoder(cls, front)
        if version < 7:
            raise dec.error(f"MOSDOpReply v{version} is older than Luminous")
        oid = dec.string()
        pgid = PgId.decode(dec)
        flags, result, bad_v, bad_e, epoch, n = dec.unpack(_REPLY_HEAD)
        if n * 42 > dec.remaining:  # 38-byte op + 4-byte rval each
            raise dec.error(f"num_ops {n} exceeds the front")
        ops = [OSDOp.decode(dec) for _ in range(n)]
        retry_attempt = dec.s32()
        rvals = [dec.s32() for _ in range(n)]
        outdata = split_ops_data(ops, data, "MOSDOpReply.data")
        rv, re_ = dec.unpack(_EVERSION)
        user_version = dec.u64()
        redirect = RequestRedirect.decode(dec) if dec.bool_() else None
        trace = dec.unpack(_TRACE) if version >= 8 else _ZERO_TRACE
        if log.isEnabledFor(logging.DEBUG):
            log.debug("osd_op_reply %s %s = %d rvals %s e%d uv%d attempt %d", oid, pgid,
                      result, rvals, epoch, user_version, retry_attempt)
        return cls(oid, pgid, flags, result, EVersion(bad_v, bad_e), epoch, ops,
                   retry_attempt, rvals, outdata, EVersion(rv, re_), user_version, redirect,
                   (trace[0], trace[1], trace[2]))

    def op_results(self) -> list[tuple[int, memoryview]]:
        """(rval, outdata) per op."""
        return list(zip(self.rvals, self.outdata, strict=True))


# -- MOSDBackoff -----------------------------------------------------------------------------------


@register
@dataclass
class MOSDBackoff(Message):
    """MOSDBackoff (61), v1 / compat 1:
    ``spg_t pgid | le32 map_epoch | u8 op | le64 id | hobject_t begin | hobject_t end``.

    The OSD sends BLOCK (hold ops to objects in [begin, end); begin == end means just that
    object) and later UNBLOCK; the client answers a BLOCK with ACK_BLOCK carrying the same
    pgid, id, begin and end (kernel handle_backoff_block).
    """

    TYPE = MsgType.OSD_BACKOFF
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    pgid: SpgId = field(default_factory=lambda: SpgId(PgId(0, 0)))
    map_epoch: int = 0
    op: int = 0
    id: int = 0
    begin: HObject = field(default_factory=HObject)
    end: HObject = field(default_factory=HObject)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.pgid.encode(enc)
        enc.u32(self.map_epoch)
        enc.u8(self.op)
        enc.u64(self.id)
        self.begin.encode(enc)
        self.end.encode(enc)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MOSDBackoff:
        dec = front_decoder(cls, front)
        pgid = SpgId.decode(dec)
        epoch = dec.u32()
        op = dec.u8()
        id_ = dec.u64()
        begin = HObject.decode(dec)
        end = HObject.decode(dec)
        return cls(pgid, epoch, op, id_, begin, end)

    def ack(self, map_epoch: int | None = None) -> MOSDBackoff:
        """The ACK_BLOCK answer to this BLOCK."""
        return MOSDBackoff(self.pgid, self.map_epoch if map_epoch is None else map_epoch,
                           2, self.id, self.begin, self.end)


# -- MWatchNotify ----------------------------------------------------------------------------------


class WatchEvent:
    """``CEPH_WATCH_EVENT_*`` (ceph src/include/rados.h)."""

    NOTIFY = 1
    NOTIFY_COMPLETE = 2
    DISCONNECT = 3


@register
@dataclass
class MWatchNotify(Message):
    """MWatchNotify (44), v3 / compat 1. Front:

    ``u8 proto_ver (1) | u8 opcode | le64 cookie | le64 ver | le64 notify_id |
    bufferlist bl | le32 return_code (v2+) | le64 notifier_gid (v3+)``.

    For NOTIFY, ``bl`` is the notifier's payload. For NOTIFY_COMPLETE the OSD leaves ``bl``
    empty and puts the encoded acks/timeouts in the message's *data* segment (the kernel
    reads it from there); :attr:`payload` returns whichever is present.
    """

    TYPE = MsgType.WATCH_NOTIFY
    HEAD_VERSION = 3
    COMPAT_VERSION = 1

    opcode: int = 0
    cookie: int = 0
    ver: int = 0
    notify_id: int = 0
    bl: Buffer = b""
    return_code: int = 0
    notifier_gid: int = 0
    data: Buffer = b""
    proto_ver: int = 1

    @property
    def payload(self) -> Buffer:
        return self.bl if len(self.bl) else self.data

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.u8(self.proto_ver)
        enc.u8(self.opcode)
        enc.u64(self.cookie)
        enc.u64(self.ver)
        enc.u64(self.notify_id)
        enc.blob(self.bl)
        enc.s32(self.return_code)
        enc.u64(self.notifier_gid)
        return enc.getvalue(), b"", self.data

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MWatchNotify:
        dec = front_decoder(cls, front)
        proto_ver = dec.u8()
        opcode = dec.u8()
        cookie = dec.u64()
        ver = dec.u64()
        notify_id = dec.u64()
        bl = dec.blob_view() if proto_ver >= 1 else memoryview(b"")
        # return_code added in header v2, notifier_gid in v3 (kernel handle_watch_notify)
        rc = dec.s32() if version >= 2 else 0
        gid = dec.u64() if version >= 3 else 0
        return cls(opcode, cookie, ver, notify_id, bl, rc, gid, data, proto_ver)


__all__ = [
    "MOSDBackoff",
    "MOSDOp",
    "MOSDOpReply",
    "MWatchNotify",
    "RequestRedirect",
    "WatchEvent",
]
