"""Client <-> monitor messages: auth, maps, subscriptions, versions, commands, pool ops.

Theory of operation: each class is one Ceph message with its C++ field names, a ``TYPE`` and
the ``HEAD_VERSION``/``COMPAT_VERSION`` of its header file, and an ``encode``/``decode`` pair
written side by side in the same field order. ``decode`` receives the header version and reads
version-gated fields only when that version has them, as ``decode_payload`` does. Map bodies
(MonMap, OSDMap) stay raw ``memoryview``\\ s into the received segment; the map modules decode
them. Payloads of other layers (the cephx blobs inside MAuth/MAuthReply, command input and
output in the data segment) are carried, not interpreted.

What the client sends: MAuth (ticket renewal), MMonGetMap, MMonSubscribe, MMonGetVersion,
MMonCommand, MPoolOp, MStatfs. What it receives: MAuthReply, MMonMap, MMonSubscribeAck,
MMonGetVersionReply, MMonCommandAck, MPoolOpReply, MStatfsReply, MOSDMap, MConfig. Both
directions are implemented for every class, so tests can play the monitor.

Mirrors: ceph src/messages/{MAuth,MAuthReply,MMonGetMap,MMonMap,MMonSubscribe,
MMonSubscribeAck,MMonGetVersion,MMonGetVersionReply,MMonCommand,MMonCommandAck,MPoolOp,
MPoolOpReply,MStatfs,MStatfsReply,MOSDMap,MConfig}.h, src/include/ceph_fs.h
(ceph_mon_subscribe_item, ceph_mon_statfs_reply, POOL_OP_*); kernel net/ceph/mon_client.c.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import DecodeError
from rbdpy.rados.proto.messages.base import (
    Message,
    MsgType,
    PaxosServiceHeader,
    build_front,
    front_decoder,
    register,
)

log = logging.getLogger(__name__)

_NIL_FSID = b"\0" * 16

# CEPH_SUBSCRIBE_ONETIME (ceph_fs.h): deliver one map after ``start``, then forget.
CEPH_SUBSCRIBE_ONETIME = 1


class PoolOp(IntEnum):
    """POOL_OP_* (ceph src/include/rados.h; kernel ceph_fs.h)."""

    CREATE = 0x01
    DELETE = 0x02
    AUID_CHANGE = 0x03
    CREATE_SNAP = 0x11
    DELETE_SNAP = 0x12
    CREATE_UNMANAGED_SNAP = 0x21
    DELETE_UNMANAGED_SNAP = 0x22


def _str(dec: Decoder) -> str:
    return dec.string()


def _enc_str(enc: Encoder, s: str) -> None:
    enc.string(s)


def _blob_view(dec: Decoder) -> memoryview:
    return dec.blob_view()


def _u32(dec: Decoder) -> int:
    return dec.u32()


def _enc_u32(enc: Encoder, v: int) -> None:
    enc.u32(v)


def _enc_blob(enc: Encoder, b: Buffer) -> None:
    enc.blob(b)


# -- authentication ----------------------------------------------------------------------------


@register
@dataclass
class MAuth(Message):
    """MAuth (17): PaxosService header | le32 protocol | bufferlist auth_payload |
    le32 monmap_epoch.

    Under msgr2 the first authentication happens in AUTH frames; MAuth carries later cephx
    requests (service tickets, renewal). ``monmap_epoch`` is optional on decode (the kernel
    omits it). Header version 1, compat 0 (PaxosServiceMessage defaults).
    """

    TYPE = MsgType.AUTH

    protocol: int = 0
    auth_payload: Buffer = b""
    monmap_epoch: int = 0
    paxos: PaxosServiceHeader = field(default_factory=PaxosServiceHeader)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.paxos.encode(enc)
        enc.u32(self.protocol)
        enc.blob(self.auth_payload)
        enc.u32(self.monmap_epoch)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MAuth:
        dec = front_decoder(cls, front)
        paxos = PaxosServiceHeader.decode(dec)
        protocol = dec.u32()
        payload = dec.blob_view()
        epoch = dec.u32() if not dec.at_end() else 0
        return cls(protocol, payload, epoch, paxos)


@register
@dataclass
class MAuthReply(Message):
    """MAuthReply (18): le32 protocol | s32 result | le64 global_id | bufferlist result_bl |
    string result_msg. Header version 1."""

    TYPE = MsgType.AUTH_REPLY

    protocol: int = 0
    result: int = 0
    global_id: int = 0
    result_bl: Buffer = b""
    result_msg: str = ""

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.u32(self.protocol)
        enc.s32(self.result)
        enc.u64(self.global_id)
        enc.blob(self.result_bl)
        enc.string(self.result_msg)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MAuthReply:
        dec = front_decoder(cls, front)
        return cls(dec.u32(), dec.s32(), dec.u64(), dec.blob_view(), dec.string())


# -- monmap ------------------------------------------------------------------------------------


@register
@dataclass
class MMonGetMap(Message):
    """MMonGetMap (5): empty front; the mon answers with MMonMap."""

    TYPE = MsgType.MON_GET_MAP

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        return b"", b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonGetMap:
        return cls()


@register
@dataclass
class MMonMap(Message):
    """MMonMap (4): bufferlist monmapbl, kept as a raw view (decode with
    :func:`rbdpy.rados.proto.monmap.decode_monmap`)."""

    TYPE = MsgType.MON_MAP

    monmapbl: Buffer = b""

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        return build_front(lambda e: e.blob(self.monmapbl)), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonMap:
        dec = front_decoder(cls, front)
        return cls(dec.blob_view())


# -- subscriptions -----------------------------------------------------------------------------

_SUB_ITEM = struct.Struct("<QB")  # struct ceph_mon_subscribe_item: le64 start, u8 flags


@dataclass(frozen=True, slots=True)
class SubscribeItem:
    """``ceph_mon_subscribe_item``: first epoch wanted and CEPH_SUBSCRIBE_* flags."""

    start: int = 0
    flags: int = 0


def _sub_item(dec: Decoder) -> SubscribeItem:
    start, flags = dec.unpack(_SUB_ITEM)
    return SubscribeItem(start, flags)


def _enc_sub_item(enc: Encoder, item: SubscribeItem) -> None:
    enc.pack(_SUB_ITEM, item.start, item.flags)


@register
@dataclass
class MMonSubscribe(Message):
    """MMonSubscribe (15), HEAD_VERSION 3, COMPAT_VERSION 1:
    map<string what, ceph_mon_subscribe_item> | string hostname (v3).

    ``what`` is "monmap", "osdmap", "config", "mgrmap", ...; the map is sorted by name on
    the wire. Header version < 2 is the pre-SUBSCRIBE2 layout (Firefly era) and is rejected.
    """

    TYPE = MsgType.MON_SUBSCRIBE
    HEAD_VERSION = 3
    COMPAT_VERSION = 1

    what: dict[str, SubscribeItem] = field(default_factory=dict)
    hostname: str = ""

    def sub_want(self, what: str, start: int, flags: int = 0) -> None:
        self.what[what] = SubscribeItem(start, flags)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.map_(self.what, _enc_str, _enc_sub_item)
        enc.string(self.hostname)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonSubscribe:
        if version < 2:
            raise DecodeError(f"MMonSubscribe: pre-SUBSCRIBE2 header version {version}")
        dec = front_decoder(cls, front)
        what = dec.map_(_str, _sub_item, 4 + _SUB_ITEM.size)
        hostname = dec.string() if version >= 3 else ""  # added in v3 (Luminous)
        return cls(what, hostname)


@register
@dataclass
class MMonSubscribeAck(Message):
    """MMonSubscribeAck (16): le32 interval (seconds) | fsid (optional on decode).

    Renew subscriptions before ``interval`` runs out (librados renews at half of it).
    """

    TYPE = MsgType.MON_SUBSCRIBE_ACK

    interval: int = 0
    fsid: bytes = _NIL_FSID

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.u32(self.interval)
        enc.uuid(self.fsid)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonSubscribeAck:
        dec = front_decoder(cls, front)
        interval = dec.u32()
        fsid = dec.uuid() if not dec.at_end() else _NIL_FSID
        return cls(interval, fsid)


# -- versions ----------------------------------------------------------------------------------


@register
@dataclass
class MMonGetVersion(Message):
    """MMonGetVersion (19): le64 handle | string what ("osdmap", "monmap", "mdsmap").

    The reply is matched by ``handle`` (librados also puts it in the header tid).
    """

    TYPE = MsgType.MON_GET_VERSION

    handle: int = 0
    what: str = ""

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.u64(self.handle)
        enc.string(self.what)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonGetVersion:
        dec = front_decoder(cls, front)
        return cls(dec.u64(), dec.string())


@register
@dataclass
class MMonGetVersionReply(Message):
    """MMonGetVersionReply (20), HEAD_VERSION 2: le64 handle | le64 version |
    le64 oldest_version (v2)."""

    TYPE = MsgType.MON_GET_VERSION_REPLY
    HEAD_VERSION = 2

    handle: int = 0
    version: int = 0
    oldest_version: int = 0

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.u64(self.handle)
        enc.u64(self.version)
        enc.u64(self.oldest_version)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonGetVersionReply:
        dec = front_decoder(cls, front)
        handle = dec.u64()
        newest = dec.u64()
        oldest = dec.u64() if version >= 2 else 0  # added in v2
        return cls(handle, newest, oldest)


# -- commands ----------------------------------------------------------------------------------


@register
@dataclass
class MMonCommand(Message):
    """MMonCommand (50): PaxosService header | fsid | vector<string> cmd; input in data.

    ``cmd`` is normally one JSON object such as ``{"prefix": "status", "format": "json"}``.
    The command tid goes in the message header. Header version 1, compat 0.
    """

    TYPE = MsgType.MON_COMMAND

    fsid: bytes = _NIL_FSID
    cmd: list[str] = field(default_factory=list)
    inbl: Buffer = b""
    paxos: PaxosServiceHeader = field(default_factory=PaxosServiceHeader)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.paxos.encode(enc)
        enc.uuid(self.fsid)
        enc.list_(self.cmd, _enc_str)
        return enc.getvalue(), b"", self.inbl

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonCommand:
        dec = front_decoder(cls, front)
        paxos = PaxosServiceHeader.decode(dec)
        fsid = dec.uuid()
        cmd = dec.list_(_str, 4)
        return cls(fsid, cmd, data, paxos)


@register
@dataclass
class MMonCommandAck(Message):
    """MMonCommandAck (51): PaxosService header | s32 r | string rs | vector<string> cmd;
    the command's output is the data segment. Header version 1, compat 0.

    ``r`` is an ``errorcode32_t``: a negative errno, in Linux numbering on Linux peers.
    """

    TYPE = MsgType.MON_COMMAND_ACK

    r: int = 0
    rs: str = ""
    cmd: list[str] = field(default_factory=list)
    outbl: Buffer = b""
    paxos: PaxosServiceHeader = field(default_factory=PaxosServiceHeader)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.paxos.encode(enc)
        enc.s32(self.r)
        enc.string(self.rs)
        enc.list_(self.cmd, _enc_str)
        return enc.getvalue(), b"", self.outbl

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMonCommandAck:
        dec = front_decoder(cls, front)
        paxos = PaxosServiceHeader.decode(dec)
        r = dec.s32()
        rs = dec.string()
        cmd = dec.list_(_str, 4)
        return cls(r, rs, cmd, data, paxos)


# -- pool ops ----------------------------------------------------------------------------------


@register
@dataclass
class MPoolOp(Message):
    """MPoolOp (49), HEAD_VERSION 4, COMPAT_VERSION 2: PaxosService header | fsid |
    le32 pool | le32 op | le64 auid | le64 snapid | string name | u8 pad | s16 crush_rule.

    librados uses it for self-managed snapshot ids (CREATE/DELETE_UNMANAGED_SNAP, what RBD
    snapshots use) and pool create/delete. Decodes v2..v4 (v3 had a u8 crush_rule where
    v4 has the pad); the tid is the header tid.
    """

    TYPE = MsgType.POOLOP
    HEAD_VERSION = 4
    COMPAT_VERSION = 2

    fsid: bytes = _NIL_FSID
    pool: int = 0
    op: int = 0
    auid: int = 0
    snapid: int = 0
    name: str = ""
    crush_rule: int = 0
    paxos: PaxosServiceHeader = field(default_factory=PaxosServiceHeader)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.paxos.encode(enc)
        enc.uuid(self.fsid)
        enc.u32(self.pool)
        enc.u32(self.op)
        enc.u64(self.auid)
        enc.u64(self.snapid)
        enc.string(self.name)
        enc.u8(0)  # pad, "for v3->v4 encoding change"
        enc.s16(self.crush_rule)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MPoolOp:
        if version < 2:
            raise DecodeError(f"MPoolOp: header version {version} predates v2")
        dec = front_decoder(cls, front)
        paxos = PaxosServiceHeader.decode(dec)
        fsid = dec.uuid()
        pool = dec.u32()
        op = dec.u32()
        auid = dec.u64()
        snapid = dec.u64()
        name = dec.string()
        crush_rule = -1
        if version >= 3:
            pad = dec.u8()
            crush_rule = dec.s16() if version >= 4 else pad
        return cls(fsid, pool, op, auid, snapid, name, crush_rule, paxos)


@register
@dataclass
class MPoolOpReply(Message):
    """MPoolOpReply (48): PaxosService header | fsid | le32 replyCode | le32 epoch |
    bool has_response_data | [bufferlist response_data].

    ``replyCode`` is the op's result (a negative errno on failure, stored in a __u32 and read
    back signed); ``epoch`` is the OSDMap epoch that carries the change. For
    CREATE_UNMANAGED_SNAP the response data is the encoded le64 snap id. Header version 1.
    """

    TYPE = MsgType.POOLOP_REPLY

    fsid: bytes = _NIL_FSID
    replyCode: int = 0  # Ceph's member name, kept
    epoch: int = 0
    response_data: Buffer | None = None
    paxos: PaxosServiceHeader = field(default_factory=PaxosServiceHeader)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.paxos.encode(enc)
        enc.uuid(self.fsid)
        enc.s32(self.replyCode)
        enc.u32(self.epoch)
        # Ceph writes has_data = false for an empty bufferlist.
        if self.response_data:
            enc.bool_(True)
            enc.blob(self.response_data)
        else:
            enc.bool_(False)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MPoolOpReply:
        dec = front_decoder(cls, front)
        paxos = PaxosServiceHeader.decode(dec)
        fsid = dec.uuid()
        reply_code = dec.s32()
        epoch = dec.u32()
        response = dec.blob_view() if dec.bool_() else None
        return cls(fsid, reply_code, epoch, response, paxos)

    def snapid(self) -> int:
        """The le64 snap id a CREATE_UNMANAGED_SNAP reply carries."""
        if self.response_data is None or len(self.response_data) < 8:
            raise DecodeError("MPoolOpReply: no snap id in response data")
        v: int = struct.unpack_from("<Q", self.response_data, 0)[0]
        return v


# -- cluster statistics ------------------------------------------------------------------------


@register
@dataclass
class MStatfs(Message):
    """MStatfs (13), HEAD_VERSION 2, COMPAT_VERSION 1: PaxosService header | fsid |
    optional<s64> data_pool (v2).

    librados ``rados_cluster_stat`` sends it without a pool; the tid is the header tid.
    """

    TYPE = MsgType.STATFS
    HEAD_VERSION = 2
    COMPAT_VERSION = 1

    fsid: bytes = _NIL_FSID
    data_pool: int | None = None
    paxos: PaxosServiceHeader = field(default_factory=PaxosServiceHeader)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.paxos.encode(enc)
        enc.uuid(self.fsid)
        enc.optional(self.data_pool, Encoder.s64)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MStatfs:
        dec = front_decoder(cls, front)
        paxos = PaxosServiceHeader.decode(dec)
        fsid = dec.uuid()
        pool = dec.optional(Decoder.s64) if version >= 2 else None  # added in v2
        return cls(fsid, pool, paxos)


# struct ceph_mon_statfs_reply (packed): fsid[16], le64 version, then struct ceph_statfs:
# le64 kb, kb_used, kb_avail, num_objects.
_STATFS_REPLY = struct.Struct("<16sQQQQQ")


@register
@dataclass
class MStatfsReply(Message):
    """MStatfsReply (14): the raw ``ceph_mon_statfs_reply`` (no PaxosService header).

    ``kb``/``kb_used``/``kb_avail``/``num_objects`` are what librados ``cluster_stat`` and
    python-rados ``get_cluster_stats`` return. Header version 1.
    """

    TYPE = MsgType.STATFS_REPLY

    fsid: bytes = _NIL_FSID
    version: int = 0
    kb: int = 0
    kb_used: int = 0
    kb_avail: int = 0
    num_objects: int = 0

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        return (_STATFS_REPLY.pack(self.fsid, self.version, self.kb, self.kb_used,
                                   self.kb_avail, self.num_objects), b"", b"")

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MStatfsReply:
        dec = front_decoder(cls, front)
        fsid, ver, kb, used, avail, objs = dec.unpack(_STATFS_REPLY)
        return cls(bytes(fsid), ver, kb, used, avail, objs)


# -- osdmap ------------------------------------------------------------------------------------


def _skip_gap_removed_snaps(dec: Decoder) -> None:
    """Skip ``map<int64_t, snap_interval_set_t>`` (removed in Octopus; sent empty)."""
    for _ in range(dec.count(12)):
        dec.skip(8)  # pool id
        dec.skip(16 * dec.count(16))  # interval_set<snapid_t>: (start, len) pairs


@register
@dataclass
class MOSDMap(Message):
    """MOSDMap (41), HEAD_VERSION 4, COMPAT_VERSION 3: fsid | map<epoch, bufferlist>
    incremental_maps | map<epoch, bufferlist> maps | le32 oldest_map | le32 newest_map
    (v2) | map gap_removed_snaps (v4; removed in Octopus, always empty, read and dropped).

    The map bodies stay raw views into the front; ``oldest_map`` is what newer releases call
    ``cluster_osdmap_trim_lower_bound``.
    """

    TYPE = MsgType.OSD_MAP
    HEAD_VERSION = 4
    COMPAT_VERSION = 3

    fsid: bytes = _NIL_FSID
    incremental_maps: dict[int, Buffer] = field(default_factory=dict)
    maps: dict[int, Buffer] = field(default_factory=dict)
    oldest_map: int = 0
    newest_map: int = 0

    def get_first(self) -> int:
        """Lowest epoch carried (full or incremental), 0 if none."""
        epochs = list(self.maps) + list(self.incremental_maps)
        return min(epochs) if epochs else 0

    def get_last(self) -> int:
        """Highest epoch carried (full or incremental), 0 if none."""
        epochs = list(self.maps) + list(self.incremental_maps)
        return max(epochs) if epochs else 0

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.uuid(self.fsid)
        enc.map_(self.incremental_maps, _enc_u32, _enc_blob)
        enc.map_(self.maps, _enc_u32, _enc_blob)
        enc.u32(self.oldest_map)
        enc.u32(self.newest_map)
        enc.u32(0)  # gap_removed_snaps: empty since Octopus
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MOSDMap:
        if version < 3:
            raise DecodeError(f"MOSDMap: header version {version} predates v3")
        dec = front_decoder(cls, front)
        fsid = dec.uuid()
        with dec.named("incremental_maps"):
            inc: dict[int, Buffer] = dict(dec.map_(_u32, _blob_view, 8))
        with dec.named("maps"):
            full: dict[int, Buffer] = dict(dec.map_(_u32, _blob_view, 8))
        oldest = dec.u32()
        newest = dec.u32()
        if version >= 4:
            with dec.named("gap_removed_snaps"):
                _skip_gap_removed_snaps(dec)
        log.debug("osd_map(%s..%s src has %d..%d)", min(inc | full, default=0),
                  max(inc | full, default=0), oldest, newest)
        return cls(fsid, inc, full, oldest, newest)


# -- centralized config ------------------------------------------------------------------------


@register
@dataclass
class MConfig(Message):
    """MConfig (62), HEAD_VERSION 1, COMPAT_VERSION 1: map<string,string> config.

    The mon pushes it to a client subscribed to "config"; the values apply at the MON level
    of :class:`rbdpy.rados.proto.conf.ConfigValues` (below the conf file).
    """

    TYPE = MsgType.CONFIG
    HEAD_VERSION = 1
    COMPAT_VERSION = 1

    config: dict[str, str] = field(default_factory=dict)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        return build_front(lambda e: e.map_(self.config, _enc_str, _enc_str)), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MConfig:
        dec = front_decoder(cls, front)
        return cls(dec.map_(_str, _str, 8))


__all__ = [
    "CEPH_SUBSCRIBE_ONETIME",
    "MAuth",
    "MAuthReply",
    "MConfig",
    "MMonCommand",
    "MMonCommandAck",
    "MMonGetMap",
    "MMonGetVersion",
    "MMonGetVersionReply",
    "MMonMap",
    "MMonSubscribe",
    "MMonSubscribeAck",
    "MOSDMap",
    "MPoolOp",
    "MPoolOpReply",
    "MStatfs",
    "MStatfsReply",
    "PoolOp",
    "SubscribeItem",
]
