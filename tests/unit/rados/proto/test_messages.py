"""Mon message codecs, pinned to bytes a live Ceph 16.2.15 mon and client exchanged.

tests/vectors/mon_messages/pacific16215_mon_session.json holds every MESSAGE frame of a
python-rados 16.2.15 session with a 16.2.15 mon (msgr2.1 crc mode, captured with tcpdump;
see the README there). Each one must decode, carry the expected fields, and re-encode to
the same bytes with the same header version and compat_version. Layouts that the capture
does not cover (older header versions) are pinned to the header files they cite.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from rbdpy.rados.proto.denc import Encoder
from rbdpy.rados.proto.errors import DecodeError
from rbdpy.rados.proto.messages.base import (
    MESSAGE_TYPES,
    Message,
    MsgType,
    PaxosServiceHeader,
    UnknownMessage,
    decode_message,
    encode_message,
    msg_type_name,
    register,
    wire_compat_version,
)
from rbdpy.rados.proto.messages.mgr import MMgrMap
from rbdpy.rados.proto.messages.mon import (
    CEPH_SUBSCRIBE_ONETIME,
    MAuth,
    MAuthReply,
    MConfig,
    MMonCommand,
    MMonCommandAck,
    MMonGetMap,
    MMonGetVersion,
    MMonGetVersionReply,
    MMonMap,
    MMonSubscribe,
    MMonSubscribeAck,
    MOSDMap,
    MPoolOp,
    MPoolOpReply,
    MStatfs,
    MStatfsReply,
    PoolOp,
    SubscribeItem,
)
from tests.conftest import REPO_ROOT

SESSION_PATH = REPO_ROOT / "tests" / "vectors" / "mon_messages" / "pacific16215_mon_session.json"
SESSION: dict[str, Any] = json.loads(Path(SESSION_PATH).read_text())
FSID = bytes.fromhex(SESSION["fsid"].replace("-", ""))


def _decode(raw: dict[str, Any]) -> Message:
    return decode_message(raw["type"], raw["version"], raw["compat"],
                          bytes.fromhex(raw["front"]), bytes.fromhex(raw["middle"]),
                          bytes.fromhex(raw["data"]), raw["tid"])


def live(msg_type: int, direction: str | None = None) -> list[tuple[dict[str, Any], Message]]:
    return [(raw, _decode(raw)) for raw in SESSION["messages"]
            if raw["type"] == msg_type and (direction is None or raw["dir"] == direction)]


# -- every captured message --------------------------------------------------------------------


@pytest.mark.parametrize("raw", SESSION["messages"],
                         ids=lambda r: f"{r['dir']}-{r['seq']}-{msg_type_name(r['type'])}")
def test_live_message_roundtrip(raw: dict[str, Any]) -> None:
    msg = _decode(raw)
    if raw["type"] == MsgType.MGR_MAP:
        # Decoded for its head only (messages/mgr.py), never sent: nothing to re-encode.
        assert isinstance(msg, MMgrMap) and msg.map.epoch > 0
        return
    assert type(msg) is MESSAGE_TYPES[raw["type"]]
    assert msg.tid == raw["tid"]
    assert msg.header_version == raw["version"]
    mtype, version, compat, front, middle, data = encode_message(msg)
    assert (mtype, version, compat) == (raw["type"], raw["version"], raw["compat"])
    assert bytes(front).hex() == raw["front"]
    assert bytes(middle).hex() == raw["middle"]
    assert bytes(data).hex() == raw["data"]


@pytest.mark.parametrize("raw", SESSION["messages"],
                         ids=lambda r: f"{r['dir']}-{r['seq']}-{msg_type_name(r['type'])}")
def test_live_message_truncated(raw: dict[str, Any]) -> None:
    """Every proper prefix of a front that has mandatory fields fails to decode."""
    front = bytes.fromhex(raw["front"])
    cls = MESSAGE_TYPES.get(raw["type"])
    if cls is None or not front:
        return
    optional_tail = {MAuth: 4, MMonSubscribeAck: 16}.get(cls, 0)  # fields read "if !end"
    for n in range(len(front) - optional_tail):
        with pytest.raises(DecodeError):
            decode_message(raw["type"], raw["version"], raw["compat"], front[:n])


@pytest.mark.parametrize("raw", SESSION["messages"],
                         ids=lambda r: f"{r['dir']}-{r['seq']}-{msg_type_name(r['type'])}")
def test_live_message_trailing_bytes_ignored(raw: dict[str, Any]) -> None:
    """Like decode_payload, a decoder stops after the fields its header version has."""
    if raw["type"] == MsgType.AUTH or raw["type"] not in MESSAGE_TYPES:
        return  # MAuth reads monmap_epoch whenever bytes remain; unknown types stay raw
    msg = _decode(raw)
    garbage = bytes.fromhex(raw["front"]) + b"\xde\xad\xbe\xef" * 5
    again = decode_message(raw["type"], raw["version"], raw["compat"], garbage,
                           bytes.fromhex(raw["middle"]), bytes.fromhex(raw["data"]), raw["tid"])
    assert again == msg


# -- field by field ----------------------------------------------------------------------------


def test_live_subscribe() -> None:
    subs = [m for _, m in live(MsgType.MON_SUBSCRIBE)]
    assert all(isinstance(m, MMonSubscribe) for m in subs)
    first = subs[0]
    assert isinstance(first, MMonSubscribe)
    assert first.what == {"config": SubscribeItem(0, 0), "monmap": SubscribeItem(0, 0)}
    assert first.hostname  # v3 tail: the client's short host name
    osd = [m for m in subs if isinstance(m, MMonSubscribe) and "osdmap" in m.what]
    assert osd[0].what["osdmap"] == SubscribeItem(0, CEPH_SUBSCRIBE_ONETIME)
    assert osd[1].what["osdmap"].start == 13


def test_live_monmap_and_config() -> None:
    (_, mm), *_ = live(MsgType.MON_MAP)
    assert isinstance(mm, MMonMap)
    assert len(mm.monmapbl) == 201
    configs = [m for _, m in live(MsgType.CONFIG)]
    assert configs[0] == MConfig({})
    assert configs[-1] == MConfig({"mon_client_hunt_parallel": "2", "rbd_cache": "false"})


def test_live_commands() -> None:
    cmds = [m for _, m in live(MsgType.MON_COMMAND)]
    acks = [m for _, m in live(MsgType.MON_COMMAND_ACK)]
    assert len(cmds) == len(acks) == 3
    for c, a in zip(cmds, acks, strict=True):
        assert isinstance(c, MMonCommand) and isinstance(a, MMonCommandAck)
        assert c.fsid == FSID
        assert c.paxos == PaxosServiceHeader(0, -1, 0)
        assert a.cmd == c.cmd
        assert a.tid == c.tid
    status = acks[0]
    assert isinstance(status, MMonCommandAck)
    assert status.r == 0
    assert json.loads(bytes(status.outbl))["fsid"] == SESSION["fsid"]
    bad = acks[1]
    assert isinstance(bad, MMonCommandAck)
    assert (bad.r, bad.rs) == (-2, "unrecognized pool 'nonexistent'")
    assert bytes(bad.outbl) == b""
    cfgkey = cmds[2]
    assert isinstance(cfgkey, MMonCommand)
    assert bytes(cfgkey.inbl) == b"hello-input"  # command input rides in the data segment
    assert json.loads(cfgkey.cmd[0]) == {"prefix": "config-key set", "key": "rbdpy-test"}


def test_live_pool_ops() -> None:
    ops = [m for _, m in live(MsgType.POOLOP)]
    replies = [m for _, m in live(MsgType.POOLOP_REPLY)]
    assert [m.op for m in ops if isinstance(m, MPoolOp)] == [
        PoolOp.CREATE, PoolOp.CREATE_UNMANAGED_SNAP, PoolOp.DELETE_UNMANAGED_SNAP]
    create, mksnap, rmsnap = ops
    assert isinstance(create, MPoolOp) and create.name == "capt" and create.crush_rule == -1
    assert isinstance(rmsnap, MPoolOp) and rmsnap.snapid == 2
    assert all(isinstance(r, MPoolOpReply) and r.replyCode == 0 for r in replies)
    snap_reply = replies[1]
    assert isinstance(snap_reply, MPoolOpReply)
    assert snap_reply.tid == mksnap.tid
    assert snap_reply.snapid() == 2
    assert bytes(snap_reply.response_data or b"") == struct.pack("<Q", 2)
    assert isinstance(replies[0], MPoolOpReply) and replies[0].response_data is None
    # the reply's PaxosService version is the osdmap epoch that carries the change
    assert replies[0].paxos.version == replies[0].epoch


def test_live_statfs_version_osdmap() -> None:
    (_, statfs), = live(MsgType.STATFS)
    assert statfs == MStatfs(FSID, None)
    (_, reply), = live(MsgType.STATFS_REPLY)
    assert isinstance(reply, MStatfsReply)
    assert reply.fsid == FSID and reply.tid == statfs.tid
    assert (reply.kb, reply.kb_used, reply.kb_avail, reply.num_objects) == (0, 0, 0, 0)
    (_, getv), = live(MsgType.MON_GET_VERSION)
    assert getv == MMonGetVersion(1, "osdmap")
    (_, getv_reply), = live(MsgType.MON_GET_VERSION_REPLY)
    assert getv_reply == MMonGetVersionReply(1, 13, 1)
    maps = [m for _, m in live(MsgType.OSD_MAP)]
    first = maps[0]
    assert isinstance(first, MOSDMap)
    assert list(first.maps) == [12] and not first.incremental_maps
    assert bytes(first.maps[12])[:2] == b"\x08\x07"  # OSDMap v8 compat 7 outer envelope
    assert (first.oldest_map, first.newest_map) == (1, 12)
    incs = [m for m in maps[1:] if isinstance(m, MOSDMap)]
    assert [sorted(m.incremental_maps) for m in incs] == [[13], [14, 15], [16]]
    assert incs[1].get_first() == 14 and incs[1].get_last() == 15


def test_live_auth_renewal() -> None:
    (_, auth), = live(MsgType.AUTH)
    assert isinstance(auth, MAuth)
    assert auth.protocol == 2  # CEPH_AUTH_CEPHX
    assert auth.paxos == PaxosServiceHeader()
    (_, reply), = live(MsgType.AUTH_REPLY)
    assert isinstance(reply, MAuthReply)
    assert (reply.protocol, reply.result, reply.result_msg) == (2, 0, "")
    assert reply.global_id > 0 and len(reply.result_bl) > 0


# -- header versions the capture does not show (layouts from the cited header files) -----------


def test_subscribe_v2_has_no_hostname() -> None:
    """MMonSubscribe.h: the hostname string is read only for header version >= 3."""
    front = bytes.fromhex("01000000" "06000000" "6f73646d6170" "0500000000000000" "00")
    msg = decode_message(MsgType.MON_SUBSCRIBE, 2, 1, front)
    assert msg == MMonSubscribe({"osdmap": SubscribeItem(5, 0)}, "")


def test_subscribe_v1_rejected() -> None:
    with pytest.raises(DecodeError, match="SUBSCRIBE2"):
        decode_message(MsgType.MON_SUBSCRIBE, 1, 1, b"\0\0\0\0")


def test_get_version_reply_v1_has_no_oldest() -> None:
    front = struct.pack("<QQ", 7, 42)
    msg = decode_message(MsgType.MON_GET_VERSION_REPLY, 1, 1, front)
    assert msg == MMonGetVersionReply(7, 42, 0)


def test_statfs_v1_has_no_pool() -> None:
    front = bytes(PaxosServiceHeader().encode_bytes()) + FSID
    assert decode_message(MsgType.STATFS, 1, 1, front) == MStatfs(FSID, None)


def test_statfs_with_pool_roundtrip() -> None:
    msg = MStatfs(FSID, 3)
    _, v, c, front, _, _ = encode_message(msg)
    assert (v, c) == (2, 1)
    assert bytes(front)[-9:] == b"\x01" + struct.pack("<q", 3)  # optional<int64_t>
    assert decode_message(MsgType.STATFS, v, c, front) == msg


def test_poolop_v3_crush_rule_in_pad() -> None:
    """MPoolOp.h: v3 carried a u8 crush_rule where v4 has the pad."""
    enc = Encoder()
    PaxosServiceHeader().encode(enc)
    enc.uuid(FSID)
    enc.u32(1)
    enc.u32(PoolOp.CREATE)
    enc.u64(0)
    enc.u64(0)
    enc.string("p")
    enc.u8(4)
    msg = decode_message(MsgType.POOLOP, 3, 2, enc.getvalue())
    assert isinstance(msg, MPoolOp) and msg.crush_rule == 4


def test_poolop_reply_error_code_is_signed() -> None:
    msg = MPoolOpReply(FSID, -17, 9, None)
    _, v, c, front, _, _ = encode_message(msg)
    assert decode_message(MsgType.POOLOP_REPLY, v, c, front) == msg
    with pytest.raises(DecodeError):
        msg.snapid()


def test_osdmap_v3_has_no_removed_snaps() -> None:
    enc = Encoder()
    enc.uuid(FSID)
    enc.u32(1)
    enc.u32(5)
    enc.blob(b"inc5")
    enc.u32(0)
    enc.u32(2)
    enc.u32(5)
    msg = decode_message(MsgType.OSD_MAP, 3, 3, enc.getvalue())
    assert isinstance(msg, MOSDMap)
    assert {k: bytes(v) for k, v in msg.incremental_maps.items()} == {5: b"inc5"}
    assert (msg.oldest_map, msg.newest_map) == (2, 5)


def test_subscribe_ack_without_fsid() -> None:
    """MMonSubscribeAck.h: the fsid is read only if bytes remain."""
    assert decode_message(MsgType.MON_SUBSCRIBE_ACK, 1, 1, struct.pack("<I", 300)) == \
        MMonSubscribeAck(300, b"\0" * 16)


def test_auth_without_monmap_epoch() -> None:
    """MAuth.h: the kernel omits monmap_epoch; the mon reads it only if present."""
    enc = Encoder()
    PaxosServiceHeader().encode(enc)
    enc.u32(2)
    enc.blob(b"xyz")
    msg = decode_message(MsgType.AUTH, 1, 1, enc.getvalue())
    assert isinstance(msg, MAuth)
    assert (msg.protocol, bytes(msg.auth_payload), msg.monmap_epoch) == (2, b"xyz", 0)


# -- round trips of hand-built messages --------------------------------------------------------


ROUNDTRIP: list[Message] = [
    MAuth(2, b"\x01\x02", 3, PaxosServiceHeader(5, 1, 9)),
    MAuthReply(2, -13, 4242, b"blob", "denied"),
    MMonGetMap(),
    MMonMap(b"\x09\x06rest"),
    MMonSubscribe({"osdmap": SubscribeItem(10, 0), "monmap": SubscribeItem(2, 1)}, "host1"),
    MMonSubscribeAck(300, FSID),
    MMonGetVersion(77, "osdmap"),
    MMonGetVersionReply(77, 100, 50),
    MMonCommand(FSID, ['{"prefix": "status"}', "x"], b"input"),
    MMonCommandAck(-22, "bad", ['{"prefix": "x"}'], b"output"),
    MPoolOp(FSID, 3, PoolOp.DELETE_UNMANAGED_SNAP, 0, 12, "", 0),
    MPoolOpReply(FSID, 0, 20, struct.pack("<Q", 12)),
    MStatfs(FSID, None),
    MStatfsReply(FSID, 5, 1 << 40, 1 << 20, (1 << 40) - (1 << 20), 1234),
    MOSDMap(FSID, {3: b"i3", 4: b"i4"}, {4: b"f4"}, 1, 4),
    MConfig({"a": "1", "b": "two"}),
]


@pytest.mark.parametrize("msg", ROUNDTRIP, ids=lambda m: type(m).__name__)
def test_roundtrip(msg: Message) -> None:
    mtype, version, compat, front, middle, data = encode_message(msg)
    assert mtype == msg.TYPE
    assert version == msg.HEAD_VERSION
    back = decode_message(mtype, version, compat, front, middle, data, tid=9)
    assert back.tid == 9
    assert _normalized(back) == _normalized(msg)


def _normalized(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in vars(msg).items():
        if k in ("tid", "header_version"):
            continue
        if isinstance(v, (bytes, bytearray, memoryview)):
            v = bytes(v)
        elif isinstance(v, dict):
            v = {kk: bytes(vv) if isinstance(vv, memoryview) else vv for kk, vv in v.items()}
        out[k] = v
    return out


def test_subscribe_map_is_sorted_on_the_wire() -> None:
    msg = MMonSubscribe({"osdmap": SubscribeItem(1, 0), "config": SubscribeItem(0, 0)}, "")
    front = bytes(encode_message(msg)[3])
    assert front.index(b"config") < front.index(b"osdmap")


# -- the registry and the header ---------------------------------------------------------------


def test_wire_compat_version() -> None:
    # Message::encode sends compat = version when the class leaves it 0 (seen live: MMonCommand
    # went out as v1 compat 1).
    assert wire_compat_version(MMonCommand()) == 1
    assert wire_compat_version(MPoolOp()) == 2
    assert wire_compat_version(MMonSubscribe()) == 1
    assert wire_compat_version(MMonGetVersionReply()) == 2


def test_compat_too_new_rejected() -> None:
    with pytest.raises(DecodeError, match="compat_version 5"):
        decode_message(MsgType.MON_GET_VERSION_REPLY, 5, 5, b"\0" * 24)


def test_unknown_type_is_kept_raw() -> None:
    msg = decode_message(0x1234, 3, 2, b"front", b"mid", b"data", tid=4)
    assert isinstance(msg, UnknownMessage)
    assert msg.type_name == "0x1234"
    assert encode_message(msg) == (0x1234, 3, 2, memoryview(b"front"), memoryview(b"mid"),
                                   memoryview(b"data"))


def test_registry_covers_mon_messages() -> None:
    for t in (MsgType.AUTH, MsgType.AUTH_REPLY, MsgType.MON_GET_MAP, MsgType.MON_MAP,
              MsgType.MON_SUBSCRIBE, MsgType.MON_SUBSCRIBE_ACK, MsgType.MON_GET_VERSION,
              MsgType.MON_GET_VERSION_REPLY, MsgType.MON_COMMAND, MsgType.MON_COMMAND_ACK,
              MsgType.POOLOP, MsgType.POOLOP_REPLY, MsgType.STATFS, MsgType.STATFS_REPLY,
              MsgType.OSD_MAP, MsgType.CONFIG):
        assert MESSAGE_TYPES[t].TYPE == t


def test_register_twice_rejected() -> None:
    class Dup(Message):
        TYPE = MsgType.MON_GET_MAP

    with pytest.raises(ValueError, match="registered twice"):
        register(Dup)


def test_msg_type_numbers() -> None:
    """ceph_fs.h / msg/Message.h numbers for the types the client meets."""
    assert (MsgType.MON_MAP, MsgType.MON_GET_MAP, MsgType.STATFS, MsgType.STATFS_REPLY) == \
        (4, 5, 13, 14)
    assert (MsgType.MON_SUBSCRIBE, MsgType.MON_SUBSCRIBE_ACK, MsgType.AUTH,
            MsgType.AUTH_REPLY, MsgType.MON_GET_VERSION, MsgType.MON_GET_VERSION_REPLY) == \
        (15, 16, 17, 18, 19, 20)
    assert (MsgType.OSD_MAP, MsgType.OSD_OP, MsgType.OSD_OPREPLY, MsgType.WATCH_NOTIFY) == \
        (41, 42, 43, 44)
    assert (MsgType.POOLOP_REPLY, MsgType.POOLOP, MsgType.MON_COMMAND,
            MsgType.MON_COMMAND_ACK) == (48, 49, 50, 51)
    assert (MsgType.OSD_BACKOFF, MsgType.CONFIG, MsgType.GET_CONFIG, MsgType.MGR_MAP) == \
        (61, 62, 63, 0x704)


def test_paxos_header_layout() -> None:
    """struct ceph_mon_request_header: le64 version, le16 session_mon, le64 session_mon_tid."""
    assert PaxosServiceHeader(1, -1, 2).encode_bytes() == (
        struct.pack("<Q", 1) + b"\xff\xff" + struct.pack("<Q", 2))
