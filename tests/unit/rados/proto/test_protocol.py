"""The msgr2.1 client state machine.

Two kinds of evidence:

* a *replay* of a real session with a Pacific 16.2.15 ceph-mon (auth none, crc mode; recorded
  by tools/msgr2_probe.py into tests/vectors/msgr2): fed the mon's bytes, our Protocol must
  reach Ready, decode the MMonMap reply, and emit *exactly* the bytes the real mon accepted;
* a scripted fake server (tests/fake_msgr2.py) for everything a healthy mon will not do on
  request: cephx-like REPLY_MORE rounds, secure mode, and every failure path.
"""

from __future__ import annotations

import itertools
import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from rbdpy.rados.proto.auth.handler import AuthMethod, AuthResult, ConMode
from rbdpy.rados.proto.denc import Decoder
from rbdpy.rados.proto.errors import (
    AuthError,
    BadBannerError,
    BadSignatureError,
    IntegrityError,
    LocalProtocolError,
    RemoteProtocolError,
    UnexpectedFrameError,
)
from rbdpy.rados.proto.msgr2.events import KeepaliveAck, MessageReceived, Ready, Reset
from rbdpy.rados.proto.msgr2.frames import FrameDecoder, Tag, assemble_crc
from rbdpy.rados.proto.msgr2.protocol import (
    _HANDLERS,
    _TRANSITIONS,
    BANNER_INPUT,
    AuthBadMethod,
    Protocol,
    State,
)
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityName, EntityType
from tests.fake_msgr2 import FakeAuth, FakeServer, exchange, make_client

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "msgr2"
MON_RX = (VECTORS / "pacific16215_mon_authnone_crc.rx").read_bytes()
MON_TX = (VECTORS / "pacific16215_mon_authnone_crc.tx").read_bytes()


class NoneAuth:
    """Auth none for a mon: u8 AUTH_MODE_MON | EntityName | le64 global_id (kernel auth.c)."""

    method = AuthMethod.NONE

    def build_request(self) -> bytes:
        name = EntityName(EntityType.CLIENT, "admin")
        return b"\x0a" + struct.pack("<I", name.type) + struct.pack("<I", 5) + b"admin" + bytes(8)

    def handle_reply_more(self, payload: bytes) -> bytes:
        raise AssertionError("no REPLY_MORE with auth none")

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        return AuthResult(global_id, con_mode, b"", b"")


def recorded_client() -> Protocol:
    """The exact parameters tools/msgr2_probe.py used for the recording."""
    return Protocol(
        NoneAuth(), target_addr=EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", 3377),
        peer_type=EntityType.MON, con_modes=[ConMode.CRC], gid=-1, my_nonce=305419896,
        client_cookie=1311768467463790320, global_seq=1)


SEC_RX = (VECTORS / "pacific16215_mon_cephx_secure.rx").read_bytes()
SEC_TX = (VECTORS / "pacific16215_mon_cephx_secure.tx").read_bytes()
SEC_KEYS = json.loads((VECTORS / "pacific16215_mon_cephx_secure.keys.json").read_text())


class ReplayCephx:
    """Plays back the cephx side of the recorded secure session: the payloads our client
    really sent, and the session key / connection secret cephx derived from the mon's reply.
    (cephx itself is tested in test_cephx.py; here it only has to be deterministic.)"""

    method = AuthMethod.CEPHX

    def __init__(self) -> None:
        dec = FrameDecoder()
        dec.feed(SEC_TX)
        assert dec.read_exact(26) is not None
        frames = [dec.next_frame() for _ in range(3)]
        assert [f.tag for f in frames if f] == [Tag.HELLO, Tag.AUTH_REQUEST,
                                                 Tag.AUTH_REQUEST_MORE]
        req = Decoder(frames[1].payload)  # type: ignore[union-attr]
        req.u32()
        req.list_(Decoder.u32)
        self.request = req.blob()
        self.more = Decoder(frames[2].payload).blob()  # type: ignore[union-attr]
        self.challenges: list[bytes] = []

    def build_request(self) -> bytes:
        return self.request

    def handle_reply_more(self, payload: bytes) -> bytes:
        self.challenges.append(bytes(payload))
        return self.more

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        assert global_id == SEC_KEYS["global_id"] and con_mode is ConMode.SECURE
        return AuthResult(global_id, con_mode, bytes.fromhex(SEC_KEYS["session_key"]),
                          bytes.fromhex(SEC_KEYS["connection_secret"]))


def recorded_secure_client() -> Protocol:
    return Protocol(
        ReplayCephx(), target_addr=EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", 3378),
        peer_type=EntityType.MON, con_modes=[ConMode.SECURE], gid=-1, my_nonce=305419896,
        client_cookie=1311768467463790320, global_seq=1)


def replay(chunks: list[bytes], factory: Callable[[], Protocol] = recorded_client
           ) -> tuple[list[object], bytes]:
    """Feed the mon's bytes in ``chunks``; act like the probe did; return (events, our tx)."""
    proto = factory()
    proto.initiate()
    tx = bytearray(b"".join(bytes(b) for b in proto.data_to_send()))
    events: list[object] = []
    for chunk in chunks:
        new = proto.receive_data(chunk)
        events.extend(new)
        if any(isinstance(e, Ready) for e in new):
            proto.send_message(5)  # MMonGetMap, exactly as the probe sent it
        tx += b"".join(bytes(b) for b in proto.data_to_send())
    proto.keepalive((1_700_000_000, 123_456_789))
    proto.send_ack()
    tx += b"".join(bytes(b) for b in proto.data_to_send())
    return events, bytes(tx)


def ready_offset(rx: bytes = MON_RX,
                 factory: Callable[[], Protocol] = recorded_client) -> int:
    """How many of the mon's bytes end with SERVER_IDENT (where the probe sent its message)."""
    proto = factory()
    proto.initiate()
    for i in range(len(rx)):
        if any(isinstance(e, Ready) for e in proto.receive_data(rx[i:i + 1])):
            return i + 1
    raise AssertionError("never ready")


# -- the real mon -----------------------------------------------------------------------------


@pytest.mark.parametrize("chunking", ["two_pieces", "byte_by_byte"])
def test_replay_real_mon_session(chunking: str) -> None:
    if chunking == "byte_by_byte":
        chunks = [MON_RX[i:i + 1] for i in range(len(MON_RX))]
    else:
        cut = ready_offset()
        chunks = [MON_RX[:cut], MON_RX[cut:]]
    events, tx = replay(chunks)
    ready = next(e for e in events if isinstance(e, Ready))
    assert ready.con_mode is ConMode.CRC and ready.peer_type == EntityType.MON
    assert ready.features == 0x3F01CFBDFFFDFFFF and ready.lossy and ready.server_cookie == 0
    assert str(ready.peer_addrs) == "[v2:127.0.0.1:3377/0]"
    assert ready.my_addr == EntityAddr(AddrType.ANY, 305419896, "127.0.0.1", 0)
    msgs = [e for e in events if isinstance(e, MessageReceived)]
    assert [(m.seq, m.type, m.version, m.compat_version, len(m.front)) for m in msgs] == [
        (1, 4, 1, 1, 170)]
    assert bytes(msgs[0].front[4:6]) == b"\x09\x06"  # MonMap struct_v 9, compat 6
    assert KeepaliveAck((1_700_000_000, 123_456_789)) in events
    # Every byte we produce is what the real mon accepted.
    assert tx == MON_TX


@pytest.mark.parametrize("chunking", ["two_pieces", "byte_by_byte"])
def test_replay_real_mon_secure_session(chunking: str) -> None:
    # cephx + secure mode against the real mon: signatures (HMAC with the session key over
    # the exact pre-auth transcripts), the crc→secure switch right after AUTH_DONE, and the
    # GCM nonce sequence must all match Ceph for every one of our bytes to come out equal.
    if chunking == "byte_by_byte":
        chunks = [SEC_RX[i:i + 1] for i in range(len(SEC_RX))]
    else:
        cut = ready_offset(SEC_RX, recorded_secure_client)
        chunks = [SEC_RX[:cut], SEC_RX[cut:]]
    events, tx = replay(chunks, recorded_secure_client)
    ready = next(e for e in events if isinstance(e, Ready))
    assert ready.con_mode is ConMode.SECURE and ready.global_id == SEC_KEYS["global_id"]
    msgs = [e for e in events if isinstance(e, MessageReceived)]
    assert [(m.seq, m.type, len(m.front)) for m in msgs] == [(1, 4, 170)]
    assert KeepaliveAck((1_700_000_000, 123_456_789)) in events
    assert tx == SEC_TX


def test_replay_secure_session_bad_signature_key() -> None:
    keys = dict(SEC_KEYS)
    proto = recorded_secure_client()
    auth = proto._auth
    assert isinstance(auth, ReplayCephx)

    def wrong_key(global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        return AuthResult(global_id, con_mode, bytes(16),
                          bytes.fromhex(keys["connection_secret"]))

    auth.handle_done = wrong_key  # type: ignore[method-assign]
    proto.initiate()
    with pytest.raises(BadSignatureError, match="bad auth signature"):
        proto.receive_data(SEC_RX)


def test_replay_whole_stream_reaches_ready_and_message() -> None:
    proto = recorded_client()
    proto.initiate()
    events = proto.receive_data(MON_RX)
    assert [type(e).__name__ for e in events] == ["Ready", "MessageReceived", "KeepaliveAck"]
    assert proto.state is State.READY and proto.in_seq == 1


def test_replay_with_trailing_garbage_waits() -> None:
    proto = recorded_client()
    proto.initiate()
    events = proto.receive_data(MON_RX + b"\x13\x37\x00")
    assert len(events) == 3 and proto.state is State.READY


def test_replay_bit_flip_in_auth_done_is_integrity_error() -> None:
    data = bytearray(MON_RX)
    data[0x96 + 34] ^= 1  # inside the AUTH_DONE payload (after banner+HELLO)
    proto = recorded_client()
    proto.initiate()
    with pytest.raises(IntegrityError):
        proto.receive_data(bytes(data))
    assert proto.closed


# -- handshakes with the fake server ----------------------------------------------------------


@pytest.mark.parametrize("mode", [ConMode.CRC, ConMode.SECURE])
@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_full_handshake_with_reply_more(mode: ConMode, byte_by_byte: bool) -> None:
    srv = FakeServer(auth_method=AuthMethod.CEPHX, reply_more_rounds=2)
    auth = FakeAuth()
    client = make_client(auth, con_modes=(mode,))
    client.initiate()
    events = exchange(client, srv, byte_by_byte=byte_by_byte)
    assert [type(e) for e in events] == [Ready]
    ready = events[0]
    assert isinstance(ready, Ready)
    assert ready.con_mode is mode and ready.global_id == 4242 and client.con_mode is mode
    assert auth.replies == [b"challenge-0", b"challenge-1"]
    assert srv.more_payloads == [b"more:challenge-0", b"more:challenge-1"]
    assert srv.signature_ok is True
    assert srv.auth_requests == [(AuthMethod.CEPHX, [int(mode)], b"initial-request")]
    ident = srv.client_ident
    assert ident["gid"] == 4242 and ident["global_seq"] == 3 and ident["flags"] == 1
    assert ident["cookie"] == 0xC00C1E and ident["features"] == 0x3F01CFBDFFFDFFFF
    assert str(ident["addrs"]) == "[any:127.0.0.1:0/4660]"
    if mode is ConMode.SECURE:
        assert isinstance(srv.tx, object) and srv.tx is not None  # server really encrypted

    # messages both ways, ack piggy-back, keepalive
    seq = client.send_message(5, tid=77)
    client.keepalive((10, 20))
    events = exchange(client, srv, byte_by_byte=byte_by_byte)
    assert seq == 1
    assert [(m.seq, m.type, m.tid) for m in srv.messages] == [(1, 5, 77)]
    msg = next(e for e in events if isinstance(e, MessageReceived))
    assert (msg.seq, msg.type, msg.tid, bytes(msg.front)) == (1, 4, 77, b"monmap-bytes")
    assert KeepaliveAck((10, 20)) in events
    client.send_message(99, b"front", b"middle", b"data" * 1000)
    client.send_ack()  # already piggy-backed: nothing to do
    exchange(client, srv)
    m = srv.messages[-1]
    assert (m.seq, m.ack_seq, m.front, m.middle, m.data) == (
        2, 1, b"front", b"middle", b"data" * 1000)
    assert srv.acks == []


def test_auth_none_handshake_uses_zero_signature() -> None:
    srv = FakeServer()
    client = make_client(FakeAuth(AuthMethod.NONE), con_modes=(ConMode.CRC,))
    client.initiate()
    assert isinstance(exchange(client, srv)[0], Ready)
    assert srv.signature_ok is True
    assert srv._expected_client_sig == bytes(32)


def test_secure_signature_frames_are_encrypted() -> None:
    srv = FakeServer(auth_method=AuthMethod.CEPHX)
    client = make_client(FakeAuth(), con_modes=(ConMode.SECURE, ConMode.CRC))
    client.initiate()
    exchange(client, srv)
    # The server only understood the client's AUTH_SIGNATURE after switching its decoder to
    # secure mode, so that frame (and CLIENT_IDENT) went out encrypted.
    assert srv.frames_seen == [Tag.HELLO, Tag.AUTH_REQUEST, Tag.AUTH_SIGNATURE,
                               Tag.CLIENT_IDENT]
    assert srv.con_mode is ConMode.SECURE and client.state is State.READY


def test_data_segment_is_passed_through_in_crc_mode() -> None:
    srv = FakeServer()
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    exchange(client, srv)
    payload = memoryview(bytearray(b"x" * 8192))
    client.send_message(42, b"f", b"", payload)
    assert any(b is payload for b in client.data_to_send())


def test_server_keepalive_is_answered() -> None:
    srv = FakeServer()
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    exchange(client, srv)
    srv.send_frame(Tag.KEEPALIVE2, struct.pack("<II", 5, 6))
    assert client.receive_data(srv.data_to_send()) == []
    out = b"".join(bytes(b) for b in client.data_to_send())
    dec = FrameDecoder()
    dec.feed(out)
    f = dec.next_frame()
    assert f is not None and f.tag == Tag.KEEPALIVE2_ACK
    assert bytes(f.payload) == struct.pack("<II", 5, 6)


def test_explicit_ack_and_sequence_rules() -> None:
    srv = FakeServer()
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    exchange(client, srv)
    srv.send_message(50, b"a")
    srv.send_message(50, b"b")
    srv.send_message(50, b"dup", seq=2)  # duplicate: skipped
    events = client.receive_data(srv.data_to_send())
    assert [bytes(e.front) for e in events if isinstance(e, MessageReceived)] == [b"a", b"b"]
    client.send_ack()
    exchange(client, srv)
    assert srv.acks == [2]
    client.send_ack()  # nothing new
    assert client.data_to_send() == []
    srv.send_message(50, b"gap", seq=5)
    with pytest.raises(RemoteProtocolError, match="sequence"):
        client.receive_data(srv.data_to_send())
    assert client.closed


def test_peer_ack_is_tracked() -> None:
    srv = FakeServer()
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    exchange(client, srv)
    srv.send_frame(Tag.ACK, struct.pack("<Q", 9))
    client.receive_data(srv.data_to_send())
    assert client.peer_acked_seq == 9


# -- failures ---------------------------------------------------------------------------------


def test_auth_bad_method_names_allowed_methods_and_modes() -> None:
    srv = FakeServer(auth_method=AuthMethod.CEPHX, allowed_modes=(ConMode.SECURE,))
    client = make_client(FakeAuth(AuthMethod.CEPHX), con_modes=(ConMode.CRC,))
    client.initiate()
    with pytest.raises(AuthBadMethod) as info:
        exchange(client, srv)
    err = info.value
    assert isinstance(err, AuthError) and err.errno == 13
    assert err.allowed_methods == [AuthMethod.CEPHX] and err.allowed_modes == [ConMode.SECURE]
    assert "allowed methods ['cephx']" in str(err) and "allowed modes ['secure']" in str(err)
    assert client.closed


def test_bad_server_signature() -> None:
    srv = FakeServer(auth_method=AuthMethod.CEPHX, corrupt_signature=True)
    client = make_client(FakeAuth(), con_modes=(ConMode.CRC,))
    client.initiate()
    with pytest.raises(BadSignatureError, match="bad auth signature"):
        exchange(client, srv)


def test_session_key_mismatch_is_caught_by_signature() -> None:
    srv = FakeServer(auth_method=AuthMethod.CEPHX, session_key=b"k" * 16)
    client = make_client(FakeAuth(session_key=b"q" * 16), con_modes=(ConMode.CRC,))
    client.initiate()
    with pytest.raises(BadSignatureError, match="bad auth signature"):
        exchange(client, srv)


def test_ident_missing_features() -> None:
    srv = FakeServer(ident_reply="missing_features")
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    with pytest.raises(RemoteProtocolError, match="0x4000000000000000"):
        exchange(client, srv)


def test_wait_ends_the_attempt() -> None:
    srv = FakeServer(ident_reply="wait")
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    events = exchange(client, srv)
    assert events == [Reset("server sent WAIT (connection race)", wait=True)]
    assert client.closed


def test_wrong_peer_addr_in_server_ident() -> None:
    srv = FakeServer(ident_addr=EntityAddr(AddrType.MSGR2, 99, "127.0.0.1", 3300))
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    with pytest.raises(RemoteProtocolError, match="wrong peer"):
        exchange(client, srv)


def test_wrong_peer_type_in_hello() -> None:
    srv = FakeServer(peer_type=EntityType.OSD)
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    with pytest.raises(RemoteProtocolError, match="wrong peer"):
        exchange(client, srv)


def test_required_features_checked_against_server() -> None:
    srv = FakeServer(features=1)
    client = make_client(con_modes=(ConMode.CRC,), required_features=2)
    client.initiate()
    with pytest.raises(RemoteProtocolError, match="missing required features"):
        exchange(client, srv)


def test_con_mode_we_did_not_offer() -> None:
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    srv = FakeServer(allowed_modes=(ConMode.CRC,), auth_method=AuthMethod.CEPHX,
                     reply_more_rounds=5)
    while client.state is not State.AUTH:  # banner, HELLO → client sends AUTH_REQUEST
        srv.receive(b"".join(bytes(b) for b in client.data_to_send()))
        client.receive_data(srv.data_to_send())
    done = struct.pack("<QI", 1, ConMode.SECURE) + struct.pack("<I", 0)
    srv.send_frame(Tag.AUTH_DONE, done)
    with pytest.raises(RemoteProtocolError, match="con mode secure"):
        client.receive_data(srv.data_to_send())


def test_unexpected_frame_in_state() -> None:
    client = make_client()
    client.initiate()
    banner = b"ceph v2\n" + struct.pack("<HQQ", 16, 1, 0)
    frame = b"".join(bytes(p) for p in assemble_crc(Tag.SERVER_IDENT, [bytes(8)]))
    with pytest.raises(RemoteProtocolError, match="unexpected server_ident in hello"):
        client.receive_data(banner + frame)


def test_server_only_tags_are_rejected() -> None:
    accepted = {i for inputs in _TRANSITIONS.values() for i in inputs}
    assert Tag.CLIENT_IDENT not in accepted and Tag.SESSION_RECONNECT not in accepted
    assert set(_HANDLERS) == accepted - {BANNER_INPUT}


def test_unexpected_frame_error_is_typed() -> None:
    client = make_client()
    client.initiate()
    banner = b"ceph v2\n" + struct.pack("<HQQ", 16, 1, 0)
    frame = b"".join(bytes(p) for p in assemble_crc(Tag.MESSAGE, [bytes(41), b"x"]))
    with pytest.raises(UnexpectedFrameError) as info:
        client.receive_data(banner + frame)
    assert (info.value.tag, info.value.state) == ("message", "hello")
    assert client.state is State.CLOSED


def test_every_transition_of_a_handshake_follows_the_table() -> None:
    """Walk a whole handshake one byte at a time; after each input, the state is the one
    the table names for (previous state, input)."""
    client = make_client(con_modes=[ConMode.CRC])
    server = FakeServer()
    client.initiate()
    seen: list[State] = [client.state]
    for _ in range(50):
        c2s = b"".join(bytes(b) for b in client.data_to_send())
        if c2s:
            server.receive(c2s)
        s2c = server.data_to_send()
        for i in range(len(s2c)):
            client.receive_data(s2c[i:i + 1])
            if client.state is not seen[-1]:
                seen.append(client.state)
        if not c2s and not s2c:
            break
    assert seen == [State.BANNER, State.HELLO, State.AUTH, State.AUTH_SIGNATURE,
                    State.SESSION_CONNECT, State.READY]
    for before, after in itertools.pairwise(seen):
        assert after in _TRANSITIONS[before].values()


@pytest.mark.parametrize(("banner", "match"), [
    (b"ceph v027" + bytes(20), "msgr1"),
    (b"HTTP/1.1 400", "bad banner"),
    (b"ceph v2\n" + struct.pack("<HQQ", 16, 0, 0), "missing required protocol features"),
    (b"ceph v2\n" + struct.pack("<HQQ", 16, 3, 2), "server requires 0x2"),
    (b"ceph v2\n" + struct.pack("<H", 4) + bytes(4), "too short"),
])
def test_bad_banners(banner: bytes, match: str) -> None:
    client = make_client()
    client.initiate()
    with pytest.raises(BadBannerError, match=match):
        client.receive_data(banner)


def test_longer_banner_payload_is_accepted() -> None:
    client = make_client()
    client.initiate()
    banner = b"ceph v2\n" + struct.pack("<HQQ", 24, 1, 0) + bytes(8)
    assert client.receive_data(banner) == []
    assert client.state is State.HELLO


def test_eof_is_a_reset() -> None:
    client = make_client()
    client.initiate()
    assert client.receive_data(b"") == [Reset("connection closed by peer in state banner")]
    assert client.closed and client.receive_data(b"") == []
    with pytest.raises(LocalProtocolError):
        client.receive_data(b"more")


def test_local_misuse() -> None:
    client = make_client()
    with pytest.raises(LocalProtocolError):
        client.receive_data(b"x")
    with pytest.raises(LocalProtocolError):
        client.send_message(5)
    client.initiate()
    with pytest.raises(LocalProtocolError):
        client.initiate()
    with pytest.raises(LocalProtocolError):
        client.keepalive(1.5)
    with pytest.raises(LocalProtocolError):
        client.send_ack()
    with pytest.raises(LocalProtocolError):
        make_client(con_modes=())


def test_keepalive_float_stamp() -> None:
    srv = FakeServer()
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    exchange(client, srv)
    client.keepalive(12.25)
    events = exchange(client, srv)
    assert events == [KeepaliveAck((12, 250_000_000))]


def test_close_then_send_is_refused() -> None:
    srv = FakeServer()
    client = make_client(con_modes=(ConMode.CRC,))
    client.initiate()
    exchange(client, srv)
    client.close()
    with pytest.raises(LocalProtocolError):
        client.send_message(5)
