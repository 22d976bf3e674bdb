"""A scripted msgr2.1 *server* for tests, built on rbdpy's frames.py and secure.py.

It speaks just enough of the server side of ProtocolV2 (banner, HELLO, AUTH_REQUEST[_MORE]
→ AUTH_DONE, AUTH_SIGNATURE, CLIENT_IDENT → SERVER_IDENT, MESSAGE/ACK/KEEPALIVE2) to drive
the client ``Protocol`` through a whole handshake in crc and secure mode. Knobs let a test
make it misbehave (bad signature, WAIT, IDENT_MISSING_FEATURES, AUTH_BAD_METHOD, ...).

Hostile peers (issue #21.7): ``banner`` replaces the banner with any bytes, and ``hostile``
names what the server sends right after SERVER_IDENT instead of behaving (see
:data:`HOSTILE_ACTIONS`). :func:`serve` runs a FakeServer per accepted TCP connection, so the
real trio ``Connection`` — or a whole ``AsyncRados`` hunting for a mon — can be pointed at
it.

This proves self-consistency only; the foreign check is the recorded real-mon session in
tests/vectors/msgr2 (see test_protocol.py) and tools/msgr2_probe.py.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from rbdpy.rados.proto.auth.handler import AuthMethod, AuthResult, ConMode
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from rbdpy.rados.proto.msgr2.frames import (
    PREAMBLE_INLINE_LEN,
    Frame,
    FrameDecoder,
    Tag,
    assemble_crc,
    encode_preamble,
)
from rbdpy.rados.proto.msgr2.protocol import Protocol
from rbdpy.rados.proto.msgr2.secure import SecureTx, session_ciphers
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityAddrvec, EntityType

SERVER_ADDR = EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", 3300)
CLIENT_SEEN_AS = EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", 51234)
SESSION_KEY = bytes(range(16))
CONNECTION_SECRET = bytes(range(100, 164))  # 64 bytes like cephx's
_HDR2 = struct.Struct("<QQHHHIHQBHH")

#: What ``FakeServer(hostile=...)`` sends once the session is open:
#: ``truncate`` half of a MESSAGE frame, then EOF; ``truncate_stall`` half a frame, then
#: silence (the socket stays open); ``bad_crc`` a MESSAGE whose front segment was damaged
#: after its crc was computed (crc mode); ``bad_tag`` a MESSAGE whose ciphertext was damaged
#: (secure mode: the GCM tag fails); ``huge`` a valid preamble announcing a 4 GiB data
#: segment and nothing after it; ``keepalive_flood`` KEEPALIVE2 frames without end, while
#: reading nothing from the client.
HOSTILE_ACTIONS = ("truncate", "truncate_stall", "bad_crc", "bad_tag", "huge",
                   "keepalive_flood")
_FOUR_GIB = 1 << 32


class FakeAuth:
    """Client-side AuthHandler stand-in: fixed key/secret; ``rounds`` REPLY_MORE exchanges."""

    def __init__(self, method: AuthMethod = AuthMethod.CEPHX, *,
                 session_key: bytes = SESSION_KEY,
                 connection_secret: bytes = CONNECTION_SECRET) -> None:
        self.method = method
        self.session_key = session_key
        self.connection_secret = connection_secret
        self.replies: list[bytes] = []
        self.done: tuple[int, ConMode, bytes] | None = None

    def build_request(self) -> bytes:
        return b"initial-request"

    def handle_reply_more(self, payload: bytes) -> bytes:
        self.replies.append(bytes(payload))
        return b"more:" + bytes(payload)

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        self.done = (global_id, con_mode, bytes(payload))
        if self.method == AuthMethod.NONE:
            return AuthResult(global_id, con_mode, b"", b"")
        secret = self.connection_secret if con_mode == ConMode.SECURE else b""
        return AuthResult(global_id, con_mode, self.session_key, secret)


@dataclass
class ReceivedMessage:
    seq: int
    tid: int
    type: int
    ack_seq: int
    front: bytes
    middle: bytes
    data: bytes


@dataclass
class FakeServer:
    """The server half. Feed it the client's bytes with ``receive``; read ``data_to_send``."""

    auth_method: AuthMethod = AuthMethod.NONE
    allowed_modes: tuple[ConMode, ...] = (ConMode.CRC, ConMode.SECURE)
    reply_more_rounds: int = 0
    global_id: int = 4242
    peer_type: int = EntityType.MON
    addr: EntityAddr = SERVER_ADDR
    addr_for_client: EntityAddr = CLIENT_SEEN_AS
    session_key: bytes = SESSION_KEY
    connection_secret: bytes = CONNECTION_SECRET
    banner_supported: int = 1
    banner_required: int = 0
    features: int = CEPH_FEATURES_SUPPORTED_DEFAULT
    # misbehaviour knobs
    corrupt_signature: bool = False
    ident_reply: str = "server_ident"  # or "missing_features", "wait"
    ident_addr: EntityAddr | None = None
    reply_to_getmap: bool = True
    banner: bytes | None = None  # sent instead of a valid banner
    hostile: str = ""  # one of HOSTILE_ACTIONS, done right after SERVER_IDENT
    hang_up: bool = False  # set when the server wants its socket closed now
    flooding: bool = False  # set when the server should send keepalives without end

    decoder: FrameDecoder = field(default_factory=FrameDecoder)
    out: list[bytes] = field(default_factory=list)
    tx: SecureTx | None = None
    state: str = "banner"
    tx_capture: bytearray | None = field(default_factory=bytearray)
    con_mode: ConMode = ConMode.UNKNOWN
    auth_requests: list[tuple[int, list[int], bytes]] = field(default_factory=list)
    more_payloads: list[bytes] = field(default_factory=list)
    signature_ok: bool | None = None
    client_ident: dict[str, object] = field(default_factory=dict)
    messages: list[ReceivedMessage] = field(default_factory=list)
    acks: list[int] = field(default_factory=list)
    keepalive_acks_sent: int = 0
    keepalive_acks_received: int = 0
    frames_seen: list[int] = field(default_factory=list)
    out_seq: int = 0
    _expected_client_sig: bytes = b""
    _banner_len: int | None = None

    def __post_init__(self) -> None:
        self.decoder.capture = bytearray()
        if self.hostile and self.hostile not in HOSTILE_ACTIONS:
            raise ValueError(f"unknown hostile action {self.hostile!r}")
        banner = (b"ceph v2\n" + struct.pack("<H", 16)
                  + struct.pack("<QQ", self.banner_supported, self.banner_required))
        self._raw(banner if self.banner is None else self.banner)

    # -- plumbing ------------------------------------------------------------------------

    def _raw(self, data: bytes) -> None:
        if self.tx_capture is not None:
            self.tx_capture += data
        self.out.append(data)

    def send_frame(self, tag: Tag, *segments: bytes) -> None:
        pieces = (self.tx.assemble(tag, segments) if self.tx is not None
                  else assemble_crc(tag, segments))
        self._raw(b"".join(bytes(p) for p in pieces))

    def data_to_send(self) -> bytes:
        out, self.out = self.out, []
        return b"".join(out)

    def receive(self, data: bytes) -> None:
        self.decoder.feed(data)
        while True:
            if self.state == "banner":
                if self._banner_len is None:
                    prefix = self.decoder.read_exact(10)
                    if prefix is None:
                        return
                    assert prefix[:8] == b"ceph v2\n"
                    (self._banner_len,) = struct.unpack_from("<H", prefix, 8)
                if self.decoder.read_exact(self._banner_len) is None:
                    return
                self.state = "hello"
                continue
            frame = self.decoder.next_frame()
            if frame is None:
                return
            self.frames_seen.append(frame.tag)
            getattr(self, f"_on_{Tag(frame.tag).name.lower()}")(frame)

    # -- handlers ------------------------------------------------------------------------

    def _on_hello(self, frame: Frame) -> None:
        dec = Decoder(frame.payload)
        assert dec.u8() == EntityType.CLIENT
        EntityAddr.decode(dec)
        enc = Encoder()
        enc.u8(self.peer_type)
        self.addr_for_client.encode(enc)
        self.send_frame(Tag.HELLO, enc.getvalue())

    def _on_auth_request(self, frame: Frame) -> None:
        dec = Decoder(frame.payload)
        method = dec.u32()
        modes = dec.list_(Decoder.u32)
        payload = dec.blob()
        self.auth_requests.append((method, modes, payload))
        chosen = next((m for m in modes if m in self.allowed_modes), None)
        if method != self.auth_method or chosen is None:
            enc = Encoder()
            enc.u32(method)
            enc.s32(-13)
            enc.list_([int(self.auth_method)], lambda e, v: e.u32(v))
            enc.list_([int(m) for m in self.allowed_modes], lambda e, v: e.u32(v))
            self.send_frame(Tag.AUTH_BAD_METHOD, enc.getvalue())
            return
        self.con_mode = ConMode(chosen)
        self._auth_step()

    def _on_auth_request_more(self, frame: Frame) -> None:
        self.more_payloads.append(Decoder(frame.payload).blob())
        self._auth_step()

    def _auth_step(self) -> None:
        if len(self.more_payloads) < self.reply_more_rounds:
            enc = Encoder()
            enc.blob(b"challenge-%d" % len(self.more_payloads))
            self.send_frame(Tag.AUTH_REPLY_MORE, enc.getvalue())
            return
        enc = Encoder()
        enc.u64(self.global_id)
        enc.u32(self.con_mode)
        enc.blob(b"auth-done-payload")
        self.send_frame(Tag.AUTH_DONE, enc.getvalue())
        key = self.session_key if self.auth_method != AuthMethod.NONE else b""
        rx_transcript = bytes(self.decoder.capture or b"")
        tx_transcript = bytes(self.tx_capture or b"")
        self.decoder.capture = None
        self.tx_capture = None
        sig = _hmac(key, rx_transcript)
        self._expected_client_sig = _hmac(key, tx_transcript)
        if self.corrupt_signature:
            sig = bytes([sig[0] ^ 1]) + sig[1:]
        if self.con_mode == ConMode.SECURE:
            rx, tx = session_ciphers(self.connection_secret, server=True)
            self.decoder.set_mode(rx)
            self.tx = tx
        self.send_frame(Tag.AUTH_SIGNATURE, sig)
        self.state = "auth_signature"

    def _on_auth_signature(self, frame: Frame) -> None:
        self.signature_ok = bytes(frame.payload) == self._expected_client_sig

    def _on_client_ident(self, frame: Frame) -> None:
        dec = Decoder(frame.payload)
        self.client_ident = {
            "addrs": EntityAddrvec.decode(dec), "target": EntityAddr.decode(dec),
            "gid": dec.u64(), "global_seq": dec.u64(), "features": dec.u64(),
            "required": dec.u64(), "flags": dec.u64(), "cookie": dec.u64(),
        }
        assert dec.at_end()
        if self.ident_reply == "missing_features":
            self.send_frame(Tag.IDENT_MISSING_FEATURES, struct.pack("<Q", 1 << 62))
            return
        if self.ident_reply == "wait":
            self.send_frame(Tag.WAIT, b"")
            return
        enc = Encoder()
        EntityAddrvec((self.ident_addr or self.addr,)).encode(enc)
        enc.s64(0)  # gid (mon rank)
        enc.u64(7)  # global_seq
        enc.u64(self.features)
        enc.u64(0)
        enc.u64(1)  # CEPH_MSG_CONNECT_LOSSY
        enc.u64(0)
        self.send_frame(Tag.SERVER_IDENT, enc.getvalue())
        self.state = "ready"
        if self.hostile:
            self._misbehave()

    # -- hostile behaviour ---------------------------------------------------------------

    def _message_pieces(self) -> bytes:
        self.out_seq += 1
        hdr = _HDR2.pack(self.out_seq, 1, 4, 196, 1, 0, 0, 0, 0, 1, 0)
        segments = (hdr, b"front" * 20, b"", b"data" * 50)
        pieces = (self.tx.assemble(Tag.MESSAGE, segments) if self.tx is not None
                  else assemble_crc(Tag.MESSAGE, segments))
        return b"".join(bytes(p) for p in pieces)

    def keepalive_frame(self) -> bytes:
        """One KEEPALIVE2 frame (each call uses up a nonce in secure mode)."""
        stamp = struct.pack("<II", 1_700_000_000, 1)
        pieces = (self.tx.assemble(Tag.KEEPALIVE2, [stamp]) if self.tx is not None
                  else assemble_crc(Tag.KEEPALIVE2, [stamp]))
        return b"".join(bytes(p) for p in pieces)

    def _misbehave(self) -> None:
        action = self.hostile
        if action in ("truncate", "truncate_stall"):
            frame = self._message_pieces()
            self._raw(frame[: len(frame) // 2])
            self.hang_up = action == "truncate"
        elif action in ("bad_crc", "bad_tag"):
            damaged = bytearray(self._message_pieces())
            # crc mode: a byte of the front segment (after the 32-byte preamble, the
            # 41-byte header2 and its crc); secure mode: a byte of the ciphertext.
            damaged[100] ^= 0x55
            self._raw(bytes(damaged))
        elif action == "huge":
            preamble = encode_preamble(Tag.MESSAGE, [41, 0, 0, _FOUR_GIB - 1])
            if self.tx is None:
                self._raw(preamble)
            else:  # the preamble rides, encrypted, in the 96-byte head block
                self._raw(self.tx.seal(preamble + bytes(PREAMBLE_INLINE_LEN)))
        elif action == "keepalive_flood":
            self.flooding = True

    def send_message(self, mtype: int, front: bytes = b"", middle: bytes = b"",
                     data: bytes = b"", *, seq: int | None = None, tid: int = 0) -> None:
        self.out_seq = self.out_seq + 1 if seq is None else seq
        hdr = _HDR2.pack(self.out_seq, tid, mtype, 196, 1, 0, 0, 0, 0, 1, 0)
        self.send_frame(Tag.MESSAGE, hdr, front, middle, data)

    def _on_message(self, frame: Frame) -> None:
        seq, tid, mtype, _p, _v, _pp, _off, ack_seq, _f, _c, _r = _HDR2.unpack(frame.segments[0])
        self.messages.append(ReceivedMessage(
            seq, tid, mtype, ack_seq, bytes(frame.segments[1]), bytes(frame.segments[2]),
            bytes(frame.segments[3])))
        if mtype == 5 and self.reply_to_getmap:
            self.send_message(4, b"monmap-bytes", tid=tid)

    def _on_ack(self, frame: Frame) -> None:
        self.acks.append(Decoder(frame.payload).u64())

    def _on_keepalive2_ack(self, frame: Frame) -> None:
        self.keepalive_acks_received += 1

    def _on_keepalive2(self, frame: Frame) -> None:
        self.send_frame(Tag.KEEPALIVE2_ACK, bytes(frame.payload))
        self.keepalive_acks_sent += 1


async def serve(listener: trio.socket.SocketType,
                make_server: Callable[[], FakeServer]) -> None:
    """Accept connections on ``listener`` for ever; each gets a fresh ``make_server()``."""
    async with trio.open_nursery() as nursery:
        while True:
            sock, _ = await listener.accept()
            nursery.start_soon(_serve_one, sock, make_server())


async def _serve_one(sock: trio.socket.SocketType, server: FakeServer) -> None:
    with sock:
        try:
            await _send_all(sock, server.data_to_send())
            while not server.hang_up:
                if server.flooding:
                    # Never read again: the client's answers pile up on its side.
                    burst = b"".join(server.keepalive_frame() for _ in range(64))
                    await _send_all(sock, burst)
                    continue
                data = await sock.recv(65536)
                if not data:
                    return
                if server.state == "ready" and server.hostile:
                    continue  # a hostile server has said its piece; it ignores the rest
                server.receive(data)
                await _send_all(sock, server.data_to_send())
        except OSError:
            return  # the client hung up on us: expected, it is what the tests want


async def _send_all(sock: trio.socket.SocketType, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = await sock.send(view)
        view = view[n:]


def _hmac(key: bytes, data: bytes) -> bytes:
    if not key:
        return bytes(32)
    return hmac.new(key, data, hashlib.sha256).digest()


def make_client(auth: FakeAuth | None = None, **kw: object) -> Protocol:
    """A client Protocol aimed at the fake server with deterministic nonce/cookie."""
    params: dict[str, object] = {
        "target_addr": SERVER_ADDR, "peer_type": EntityType.MON, "my_nonce": 0x1234,
        "client_cookie": 0xC00C1E, "global_seq": 3,
    }
    params.update(kw)
    return Protocol(auth or FakeAuth(AuthMethod.NONE), **params)  # type: ignore[arg-type]


def exchange(client: Protocol, server: FakeServer, *, byte_by_byte: bool = False,
             max_rounds: int = 50) -> list[object]:
    """Shuttle bytes both ways until neither side has anything to say; return client events."""
    events: list[object] = []
    for _ in range(max_rounds):
        c2s = b"".join(bytes(b) for b in client.data_to_send())
        if c2s:
            server.receive(c2s)
        s2c = server.data_to_send()
        if s2c:
            if byte_by_byte:
                for i in range(len(s2c)):
                    events.extend(client.receive_data(s2c[i:i + 1]))
            else:
                events.extend(client.receive_data(s2c))
        if not c2s and not s2c:
            return events
    raise AssertionError("exchange did not settle")
