"""The msgr2.1 client connection as a pure state machine (no sockets, no clocks).

Theory of operation: a client connection walks through

    IDLE → BANNER → HELLO → AUTH → AUTH_SIGNATURE → SESSION_CONNECT → READY → CLOSED

``initiate()`` queues our banner. The owner feeds every received chunk to
``receive_data`` (``b""`` at EOF) and writes out whatever ``data_to_send`` returns. The
state machine is the table ``_TRANSITIONS``: for each state, the inputs it accepts (the
banner, then frame tags) and the state each one leads to. A complete inbound frame whose tag
the current state does not list raises :class:`UnexpectedFrameError`; otherwise its handler
(``_HANDLERS[tag]``) decodes it, queues our answer and returns events, and only then does
the dispatcher move to the state the table names. Handlers never set the state; one that
raises leaves the connection CLOSED. Per state:

* BANNER: the server's ``"ceph v2\\n"`` banner; both sides must speak msgr2.1 (REVISION_1).
  We answer with HELLO (our entity type, the server's address as we dialed it).
* HELLO: the server's HELLO tells us its entity type and our address as it sees us. We send
  AUTH_REQUEST with the ``AuthHandler``'s first payload and our preferred con modes.
* AUTH: AUTH_REPLY_MORE ⇄ AUTH_REQUEST_MORE until AUTH_DONE (or AUTH_BAD_METHOD →
  :class:`AuthBadMethod`). On AUTH_DONE the handler yields the session key and connection
  secret; if the server chose SECURE both directions switch to AES-GCM *now*, so the
  signature frames are already encrypted.
* AUTH_SIGNATURE: each side proves it saw the same pre-auth bytes: we send
  HMAC-SHA256(session key, every byte we received up to and including AUTH_DONE) and check
  the server's HMAC over every byte we sent (banner, HELLO, AUTH_REQUEST*). With auth none
  (no session key) both signatures are 32 zero bytes, as in Ceph and the kernel. Then we send
  CLIENT_IDENT.
* SESSION_CONNECT: SERVER_IDENT opens the session (:class:`Ready`); IDENT_MISSING_FEATURES
  is fatal; WAIT ends this attempt (:class:`Reset` with ``wait=True``).
* READY: MESSAGE frames in and out (``ceph_msg_header2``, per-connection seq numbers, the
  highest received seq piggy-backed as ack_seq), ACK, KEEPALIVE2 (answered with
  KEEPALIVE2_ACK) and KEEPALIVE2_ACK.

Client sessions are lossy, as with librados and the kernel: no SESSION_RECONNECT, no replay;
on any error the owner drops the connection and higher layers resend.

Errors are typed (``rbdpy.rados.proto.errors``), so the owner never parses a message: a peer
that breaks the protocol raises a :class:`RemoteProtocolError` subclass —
:class:`BadBannerError`, :class:`UnexpectedFrameError`, :class:`MalformedFrameError`
(:class:`FrameTooLargeError` for a frame over the limit, refused before any buffer is
allocated) or :class:`IntegrityError` (:class:`BadCrcError`, :class:`BadAuthTagError`,
:class:`BadSignatureError`); auth failures raise :class:`AuthError`. Misuse by the owner
raises :class:`LocalProtocolError`, except inside ``receive_data``, which re-raises it as a
RemoteProtocolError with the same detail (h11's rule). After any error the object is CLOSED.

Mirrors: kernel net/ceph/messenger_v2.c (process_banner_prefix/payload, process_hello,
process_auth_*, process_server_ident, process_message_header, prepare_client_ident,
prepare_auth_signature, con_hmac_sha256); ceph src/msg/async/ProtocolV2.cc (client side:
handle_hello, handle_auth_done, finish_client_auth, handle_server_ident, handle_wait,
handle_keepalive2), doc/dev/msgr2.rst.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
import secrets
import struct
from collections.abc import Callable, Sequence
from enum import Enum

from rbdpy.rados.proto.auth.handler import AuthHandler, AuthMethod, ConMode
from rbdpy.rados.proto.bytestr import Buffer, Payload
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import (
    AuthError,
    BadBannerError,
    BadSignatureError,
    CephError,
    DecodeError,
    LocalProtocolError,
    MalformedFrameError,
    RemoteProtocolError,
    UnexpectedFrameError,
)
from rbdpy.rados.proto.features import (
    CEPH_FEATURES_REQUIRED_DEFAULT,
    CEPH_FEATURES_SUPPORTED_DEFAULT,
    MSGR2_REQUIRED_FEATURES,
    MSGR2_SUPPORTED_FEATURES,
    Msgr2Feature,
)
from rbdpy.rados.proto.msgr2.events import (
    CEPH_MSG_CONNECT_LOSSY,
    Event,
    KeepaliveAck,
    MessageReceived,
    Ready,
    Reset,
)
from rbdpy.rados.proto.msgr2.frames import (
    DEFAULT_MAX_FRAME_SIZE,
    Frame,
    FrameDecoder,
    Tag,
    assemble_crc,
)
from rbdpy.rados.proto.msgr2.secure import SecureTx, session_ciphers
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityAddrvec, EntityType

log = logging.getLogger(__name__)

# Banner (ceph src/include/msgr.h CEPH_BANNER_V2_PREFIX; kernel CEPH_BANNER_V2):
#   "ceph v2\n" | le16 payload_len | payload = le64 supported | le64 required (+ future fields)
BANNER = b"ceph v2\n"
MSGR1_BANNER = b"ceph v027"
_BANNER_PREFIX_LEN = len(BANNER) + 2
_BANNER_FEATURES = struct.Struct("<QQ")
_U16 = struct.Struct("<H")

# ceph_msg_header2 (kernel include/linux/ceph/msgr.h), 41 bytes packed:
#   le64 seq; le64 tid; le16 type; le16 priority; le16 version;
#   le32 data_pre_padding_len; le16 data_off; le64 ack_seq; u8 flags;
#   le16 compat_version; le16 reserved
_MSG_HEADER2 = struct.Struct("<QQHHHIHQBHH")
MSG_HEADER2_LEN = _MSG_HEADER2.size

_UTIME = struct.Struct("<II")  # ceph_timespec: le32 sec, le32 nsec
_U64 = struct.Struct("<Q")
_U64_MASK = (1 << 64) - 1
SIGNATURE_LEN = 32  # SHA256_DIGEST_SIZE
CEPH_MSG_PRIO_DEFAULT = 127


class State(Enum):
    """Where the client connection is (kernel CEPH_CON_S_V2_*, ProtocolV2 states)."""

    IDLE = "idle"
    BANNER = "banner"
    HELLO = "hello"
    AUTH = "auth"
    AUTH_SIGNATURE = "auth_signature"
    SESSION_CONNECT = "session_connect"
    READY = "ready"
    CLOSED = "closed"


#: The banner as an input of the state machine (it comes before any frame).
BANNER_INPUT = "banner"
Input = Tag | str

# The state machine: per state, the inputs it accepts and the state each leads to. Anything
# else -- including every tag only a server may receive, and the reconnect family a lossy
# client never triggers -- raises UnexpectedFrameError. Inputs whose handler always raises
# (AUTH_BAD_METHOD, IDENT_MISSING_FEATURES) or that end the attempt (WAIT) lead to CLOSED.
_TRANSITIONS: dict[State, dict[Input, State]] = {
    State.BANNER: {BANNER_INPUT: State.HELLO},
    State.HELLO: {Tag.HELLO: State.AUTH},
    State.AUTH: {
        Tag.AUTH_REPLY_MORE: State.AUTH,
        Tag.AUTH_DONE: State.AUTH_SIGNATURE,
        Tag.AUTH_BAD_METHOD: State.CLOSED,
    },
    State.AUTH_SIGNATURE: {Tag.AUTH_SIGNATURE: State.SESSION_CONNECT},
    State.SESSION_CONNECT: {
        Tag.SERVER_IDENT: State.READY,
        Tag.IDENT_MISSING_FEATURES: State.CLOSED,
        Tag.WAIT: State.CLOSED,
    },
    State.READY: {
        Tag.MESSAGE: State.READY,
        Tag.ACK: State.READY,
        Tag.KEEPALIVE2: State.READY,
        Tag.KEEPALIVE2_ACK: State.READY,
    },
}


_TAG_MESSAGE = int(Tag.MESSAGE)
_debug = functools.partial(log.isEnabledFor, logging.DEBUG)


class AuthBadMethod(AuthError):
    """AUTH_BAD_METHOD: the server refused our auth method or every con mode we offered.

    :ivar method: the method we used; :ivar result: the server's (positive) errno;
    :ivar allowed_methods: methods it accepts; :ivar allowed_modes: con modes it accepts.
    """

    def __init__(self, method: int, result: int, allowed_methods: list[int],
                 allowed_modes: list[int]) -> None:
        self.method = method
        self.result = abs(result)
        self.allowed_methods = allowed_methods
        self.allowed_modes = allowed_modes
        super().__init__(
            f"auth method {_method_name(method)} refused by server (result {result}); "
            f"allowed methods {[_method_name(m) for m in allowed_methods]}, "
            f"allowed modes {[_mode_name(m) for m in allowed_modes]}",
            errno=self.result or 13,
        )


def _method_name(m: int) -> str:
    return AuthMethod(m).name.lower() if m in AuthMethod._value2member_map_ else str(m)


def _mode_name(m: int) -> str:
    return ConMode(m).name.lower() if m in ConMode._value2member_map_ else str(m)


def _same_addr(a: EntityAddr, b: EntityAddr) -> bool:
    """Equal as Ceph compares entity_addr_t: type, nonce and sockaddr (IP normalised)."""
    if (a.type, a.nonce, a.port) != (b.type, b.nonce, b.port):
        return False
    if not a.host or not b.host:
        return a.host == b.host
    return ipaddress.ip_address(a.host) == ipaddress.ip_address(b.host)


def _hmac_sha256(key: bytes, data: bytes) -> bytes:
    # Auth none has no session key: Ceph sends/expects an all-zero digest
    # (ProtocolV2: `session_key.empty() ? sha256_digest_t() : ...`; kernel con_hmac_sha256).
    if not key:
        return bytes(SIGNATURE_LEN)
    return hmac.new(key, data, hashlib.sha256).digest()


class Protocol:
    """One msgr2.1 client connection, sans I/O.

    :param auth_handler: produces and consumes the auth payloads (cephx or none).
    :param target_addr: the peer's address exactly as we dial it (type MSGR2 and the peer's
        nonce: 0 for mons, the osdmap nonce for OSDs). Sent in HELLO and CLIENT_IDENT and
        checked against SERVER_IDENT.
    :param peer_type: expected entity type of the peer (checked against its HELLO), or None.
    :param my_nonce: our address nonce (random non-zero if not given).
    :param entity_type: our entity type (CLIENT).
    :param gid: the gid for CLIENT_IDENT; default the global_id AUTH_DONE gave us (kernel).
    :param global_seq: this connection attempt's global_seq (monotonic per client).
    :param supported_features: RADOS features we advertise.
    :param required_features: RADOS features we require of the peer.
    :param con_modes: con modes to offer, in order of preference.
    :param client_cookie: CLIENT_IDENT cookie (random non-zero if not given, like the kernel).
    :param flags: CLIENT_IDENT flags (lossy, as librados).
    :param max_frame_size: the largest inbound frame accepted.
    """

    def __init__(
        self,
        auth_handler: AuthHandler,
        *,
        target_addr: EntityAddr,
        peer_type: int | None = None,
        my_nonce: int | None = None,
        entity_type: int = EntityType.CLIENT,
        gid: int | None = None,
        global_seq: int = 1,
        supported_features: int = CEPH_FEATURES_SUPPORTED_DEFAULT,
        required_features: int = CEPH_FEATURES_REQUIRED_DEFAULT,
        con_modes: Sequence[ConMode] = (ConMode.SECURE, ConMode.CRC),
        client_cookie: int | None = None,
        flags: int = CEPH_MSG_CONNECT_LOSSY,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        if not con_modes:
            raise LocalProtocolError("at least one con mode must be offered")
        self._auth = auth_handler
        self._target = target_addr
        self._expected_peer_type = peer_type
        self._my_nonce = my_nonce if my_nonce is not None else secrets.randbits(32) or 1
        self._entity_type = entity_type
        self._gid = gid
        self._global_seq = global_seq
        self._supported = supported_features
        self._required = required_features
        self._con_modes = tuple(ConMode(m) for m in con_modes)
        self._client_cookie = (client_cookie if client_cookie is not None
                               else secrets.randbits(64) or 1)
        self._flags = flags

        self._state = State.IDLE
        self._decoder = FrameDecoder(max_frame_size)
        # Pre-auth transcripts for AUTH_SIGNATURE: everything received / sent until AUTH_DONE.
        self._decoder.capture = bytearray()
        self._tx_capture: bytearray | None = bytearray()
        self._out: list[Buffer] = []
        self._tx: SecureTx | None = None
        self._banner_payload_len: int | None = None

        self._peer_type = 0
        self._my_addr = EntityAddr(AddrType.ANY, self._my_nonce)
        self._global_id = 0
        self._con_mode = ConMode.UNKNOWN
        self._session_key = b""
        self._expected_peer_signature = b""
        self._peer_features = 0

        self._out_seq = 0  # last message seq we sent
        self._in_seq = 0  # last message seq we received
        self._in_seq_acked = 0  # last seq we told the peer about
        self._peer_acked_seq = 0  # last of our seqs the peer acknowledged
        # The newest peer KEEPALIVE2 stamp not yet answered. The answer is built when the
        # owner takes our output, so pings that arrive while our socket cannot take more
        # get one answer (the newest stamp), not one queued frame each: a peer that pings
        # without reading cannot grow our queue.
        self._keepalive_ack_due: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"<msgr2 Protocol {self._state.value} to {self._target}>"

    # -- read-only state -----------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def closed(self) -> bool:
        return self._state is State.CLOSED

    @property
    def con_mode(self) -> ConMode:
        return self._con_mode

    @property
    def global_id(self) -> int:
        return self._global_id

    @property
    def peer_features(self) -> int:
        """The peer's RADOS features (valid once Ready)."""
        return self._peer_features

    @property
    def in_seq(self) -> int:
        return self._in_seq

    @property
    def unacked(self) -> int:
        """Messages received that no frame of ours has acknowledged yet (an outgoing
        message carries the ack in its header, an ACK frame on its own)."""
        return self._in_seq - self._in_seq_acked

    @property
    def out_seq(self) -> int:
        return self._out_seq

    @property
    def peer_acked_seq(self) -> int:
        return self._peer_acked_seq

    # -- owner API -----------------------------------------------------------------------

    def initiate(self) -> None:
        """Queue our banner; call once, right after the TCP connection is up."""
        if self._state is not State.IDLE:
            raise LocalProtocolError(f"initiate() in state {self._state.value}")
        banner = (BANNER + _U16.pack(_BANNER_FEATURES.size)
                  + _BANNER_FEATURES.pack(MSGR2_SUPPORTED_FEATURES, MSGR2_REQUIRED_FEATURES))
        self._queue_raw(banner)
        self._state = State.BANNER

    def data_to_send(self) -> list[Buffer]:
        """Everything queued for the wire, in order; the queue is emptied.

        Message payload segments appear as the caller's own buffers in crc mode.
        """
        if self._keepalive_ack_due is not None:
            sec, nsec = self._keepalive_ack_due
            self._keepalive_ack_due = None
            if self._state is State.READY:
                self._send_frame(Tag.KEEPALIVE2_ACK, (_UTIME.pack(sec, nsec),))
        out, self._out = self._out, []
        return out

    @property
    def has_data_to_send(self) -> bool:
        """Whether :meth:`data_to_send` would return anything."""
        return bool(self._out) or self._keepalive_ack_due is not None

    def recv_buffers(self, min_missing: int) -> list[memoryview] | None:
        """Where to receive the rest of a large incoming frame directly, if any.

        The I/O layer fills the returned views completely, in order (a vectored read),
        then calls :meth:`receive_filled`. Returns None when no frame of that size is in
        progress.
        """
        if self._state is State.CLOSED:
            return None
        return self._decoder.direct_buffers(min_missing)

    def recv_progress(self, n: int) -> None:
        """``n`` more bytes went into the views from :meth:`recv_buffers` (optional: lets
        the frame decoder checksum a large segment while it is still in the CPU cache)."""
        self._decoder.direct_progress(n)

    def receive_filled(self) -> list[Event]:
        """The views from :meth:`recv_buffers` are full; process them like ``receive_data``."""
        try:
            self._decoder.direct_filled()
            return self._process()
        except LocalProtocolError as exc:
            self._state = State.CLOSED
            raise RemoteProtocolError.from_local(exc) from exc
        except CephError:
            self._state = State.CLOSED
            raise

    def receive_data(self, data: Buffer) -> list[Event]:
        """Feed bytes received from the peer (``b""`` = EOF); return the resulting events.

        :raises RemoteProtocolError: the peer broke the protocol (one of its subclasses:
            BadBannerError, UnexpectedFrameError, MalformedFrameError, FrameTooLargeError,
            or an IntegrityError for a bad crc, GCM tag or signature).
        :raises AuthError: authentication failed.
        """
        if self._state is State.CLOSED:
            if not data:
                return []
            raise LocalProtocolError("receive_data() on a closed connection")
        if self._state is State.IDLE:
            raise LocalProtocolError("receive_data() before initiate()")
        if not data:
            state = self._state
            self._state = State.CLOSED
            return [Reset(f"connection closed by peer in state {state.value}")]
        try:
            self._decoder.feed(data)
            return self._process()
        except LocalProtocolError as exc:
            self._state = State.CLOSED
            raise RemoteProtocolError.from_local(exc) from exc
        except CephError:
            self._state = State.CLOSED
            raise

    def send_message(self, type: int, front: Buffer = b"", middle: Buffer = b"",
                     data: Payload = b"", *, tid: int = 0,
                     priority: int = CEPH_MSG_PRIO_DEFAULT, version: int = 1,
                     compat_version: int = 0, data_off: int = 0) -> int:
        """Queue one message; returns the seq it was given.

        ``version``/``compat_version`` are the message's HEAD_VERSION/COMPAT_VERSION (Ceph's
        ``Message`` defaults are 1 and 0). ``data`` is queued as-is (zero copy in crc mode).
        """
        self._require_ready("send_message")
        self._out_seq += 1
        # Piggy-back our receive position (kernel prepare_message: in_seq_acked = in_seq).
        self._in_seq_acked = self._in_seq
        header = _MSG_HEADER2.pack(
            self._out_seq, tid, type, priority, version, 0, data_off, self._in_seq, 0,
            compat_version, 0)
        self._send_frame(Tag.MESSAGE, (header, front, middle, data))
        return self._out_seq

    def send_ack(self) -> None:
        """Queue an ACK for everything received, if anything is unacknowledged."""
        self._require_ready("send_ack")
        if self._in_seq > self._in_seq_acked:
            self._in_seq_acked = self._in_seq
            self._send_frame(Tag.ACK, (_U64.pack(self._in_seq),))

    def keepalive(self, now: float | tuple[int, int]) -> None:
        """Queue a KEEPALIVE2 stamped ``now`` (wall-clock seconds, or (sec, nsec))."""
        self._require_ready("keepalive")
        if isinstance(now, tuple):
            sec, nsec = now
        else:
            sec = int(now)
            nsec = round((now - sec) * 1e9)
            if nsec >= 1_000_000_000:
                sec, nsec = sec + 1, nsec - 1_000_000_000
        self._send_frame(Tag.KEEPALIVE2, (_UTIME.pack(sec & 0xFFFF_FFFF, nsec),))

    def close(self) -> None:
        """Mark the connection closed locally (no frame is sent: msgr2 has no goodbye);
        whatever was queued for the wire is dropped."""
        self._state = State.CLOSED
        self._out.clear()
        self._keepalive_ack_due = None
        self._decoder.capture = None
        self._tx_capture = None

    # -- plumbing ------------------------------------------------------------------------

    def _require_ready(self, what: str) -> None:
        if self._state is not State.READY:
            raise LocalProtocolError(f"{what}() in state {self._state.value}")

    def _queue_raw(self, data: bytes) -> None:
        if self._tx_capture is not None:
            self._tx_capture += data
        self._out.append(data)

    def _send_frame(self, tag: Tag, segments: Sequence[Payload]) -> None:
        if self._tx is not None:
            pieces = self._tx.assemble(tag, segments)
        else:
            pieces = assemble_crc(tag, segments)
        if self._tx_capture is not None:
            for piece in pieces:
                self._tx_capture += piece
        self._out.extend(pieces)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("tx %s lens %s %s", tag.name, [len(s) for s in segments],
                      "secure" if self._tx is not None else "crc")

    def _process(self) -> list[Event]:
        events: list[Event] = []
        while self._state is not State.CLOSED:
            if self._state is State.BANNER:
                if not self._read_banner():
                    break
                continue
            frame = self._decoder.next_frame()
            if frame is None:
                break
            events.extend(self._dispatch(frame))
        return events

    def _read_banner(self) -> bool:
        dec = self._decoder
        if self._banner_payload_len is None:
            prefix = dec.read_exact(_BANNER_PREFIX_LEN)
            if prefix is None:
                return False
            if prefix[: len(BANNER)] != BANNER:
                if prefix.startswith(MSGR1_BANNER):
                    raise BadBannerError("server is speaking msgr1 protocol")
                raise BadBannerError(f"bad banner {prefix!r}")
            (self._banner_payload_len,) = _U16.unpack_from(prefix, len(BANNER))
            if self._banner_payload_len < _BANNER_FEATURES.size:
                raise BadBannerError(
                    f"banner payload of {self._banner_payload_len} bytes is too short")
        payload = dec.read_exact(self._banner_payload_len)
        if payload is None:
            return False
        # Later releases may append fields; only the two feature words are defined.
        supported, required = _BANNER_FEATURES.unpack_from(payload)
        log.debug("rx banner msgr2 features supported %#x required %#x", supported, required)
        if MSGR2_REQUIRED_FEATURES & ~supported:
            raise BadBannerError(
                f"missing required protocol features: server supports {supported:#x}, "
                f"we require {MSGR2_REQUIRED_FEATURES:#x} (msgr2.1)")
        if required & ~MSGR2_SUPPORTED_FEATURES:
            raise BadBannerError(
                f"missing required protocol features: server requires {required:#x}, "
                f"we support {MSGR2_SUPPORTED_FEATURES:#x}")
        if not supported & Msgr2Feature.REVISION_1:
            raise BadBannerError("server does not speak msgr2.1")
        self._send_hello()
        self._state = _TRANSITIONS[State.BANNER][BANNER_INPUT]
        return True

    def _dispatch(self, frame: Frame) -> list[Event]:
        """Check ``frame`` against the table, run its handler, then take the transition."""
        if frame.tag == _TAG_MESSAGE and self._state is State.READY and not _debug():
            # The hot path: MESSAGE in READY stays in READY (_TRANSITIONS).
            return self._on_message(frame)
        try:
            tag = Tag(frame.tag)
        except ValueError:
            raise MalformedFrameError(f"bad tag {frame.tag}") from None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("rx %s lens %s %s", tag.name,
                      [len(s) for s in frame.segments[: frame.num_segments]],
                      "secure" if self._tx is not None else "crc")
        next_state = _TRANSITIONS.get(self._state, {}).get(tag)
        if next_state is None:
            raise UnexpectedFrameError(tag.name.lower(), self._state.value)
        if tag is not Tag.MESSAGE and frame.num_segments != 1:
            raise MalformedFrameError(
                f"{tag.name.lower()} frame with {frame.num_segments} segments")
        try:
            events = _HANDLERS[tag](self, frame)
        except DecodeError as exc:
            raise MalformedFrameError(f"bad {tag.name.lower()} frame: {exc.message}") from exc
        self._state = next_state
        return events

    # -- outbound handshake frames ---------------------------------------------------------

    def _send_hello(self) -> None:
        enc = Encoder()
        enc.u8(self._entity_type)
        self._target.encode(enc)
        self._send_frame(Tag.HELLO, (enc.getvalue(),))

    def _send_auth_request(self) -> None:
        enc = Encoder()
        enc.u32(self._auth.method)
        enc.list_(list(self._con_modes), lambda e, m: e.u32(m))
        enc.blob(self._auth.build_request())
        self._send_frame(Tag.AUTH_REQUEST, (enc.getvalue(),))

    def _send_client_ident(self) -> None:
        gid = self._global_id if self._gid is None else self._gid
        enc = Encoder()
        EntityAddrvec((self._my_addr,)).encode(enc)
        self._target.encode(enc)
        enc.u64(gid & _U64_MASK)  # librados sends -1 to a mon it has no id for yet
        enc.u64(self._global_seq)
        enc.u64(self._supported)
        enc.u64(self._required)
        enc.u64(self._flags)
        enc.u64(self._client_cookie)
        self._send_frame(Tag.CLIENT_IDENT, (enc.getvalue(),))

    # -- inbound frame handlers (one per tag; see _HANDLERS) -------------------------------

    def _on_hello(self, frame: Frame) -> list[Event]:
        dec = Decoder(frame.payload, "hello")
        peer_type = dec.u8()
        addr_for_me = EntityAddr.decode(dec)
        if self._expected_peer_type is not None and peer_type != self._expected_peer_type:
            raise RemoteProtocolError(
                f"wrong peer at address: want entity type {self._expected_peer_type}, "
                f"got {peer_type}")
        self._peer_type = peer_type
        # Our address is the IP the peer sees us connecting from, port 0, our nonce
        # (kernel process_hello; a client does not listen).
        self._my_addr = EntityAddr(AddrType.ANY, self._my_nonce, addr_for_me.host, 0)
        log.debug("peer type %d sees us as %s", peer_type, addr_for_me)
        self._send_auth_request()
        return []

    def _on_auth_bad_method(self, frame: Frame) -> list[Event]:
        dec = Decoder(frame.payload, "auth_bad_method")
        method = dec.u32()
        result = dec.s32()
        methods = dec.list_(Decoder.u32, 4)
        modes = dec.list_(Decoder.u32, 4)
        raise AuthBadMethod(method, result, methods, modes)

    def _on_auth_reply_more(self, frame: Frame) -> list[Event]:
        dec = Decoder(frame.payload, "auth_reply_more")
        payload = dec.blob()
        enc = Encoder()
        enc.blob(self._auth.handle_reply_more(payload))
        self._send_frame(Tag.AUTH_REQUEST_MORE, (enc.getvalue(),))
        return []

    def _on_auth_done(self, frame: Frame) -> list[Event]:
        dec = Decoder(frame.payload, "auth_done")
        global_id = dec.u64()
        con_mode = dec.u32()
        payload = dec.blob()
        if con_mode not in self._con_modes:
            raise RemoteProtocolError(
                f"server chose con mode {_mode_name(con_mode)}, we offered "
                f"{[m.name.lower() for m in self._con_modes]}")
        mode = ConMode(con_mode)
        result = self._auth.handle_done(global_id, mode, payload)
        self._global_id = global_id
        self._con_mode = mode
        self._session_key = result.session_key
        # The transcripts end here: AUTH_DONE is the last frame either signature covers.
        rx_transcript = bytes(self._decoder.capture or b"")
        tx_transcript = bytes(self._tx_capture or b"")
        self._decoder.capture = None
        self._tx_capture = None
        self._expected_peer_signature = _hmac_sha256(result.session_key, tx_transcript)
        signature = _hmac_sha256(result.session_key, rx_transcript)
        if mode is ConMode.SECURE:
            rx, tx = session_ciphers(result.connection_secret)
            self._decoder.set_mode(rx)
            self._tx = tx
        log.debug("auth done: global_id %d con_mode %s", global_id, mode.name.lower())
        self._send_frame(Tag.AUTH_SIGNATURE, (signature,))
        return []

    def _on_auth_signature(self, frame: Frame) -> list[Event]:
        signature = bytes(frame.payload)
        if len(signature) != SIGNATURE_LEN or not hmac.compare_digest(
                signature, self._expected_peer_signature):
            raise BadSignatureError("bad auth signature")
        self._send_client_ident()
        return []

    def _on_server_ident(self, frame: Frame) -> list[Event]:
        dec = Decoder(frame.payload, "server_ident")
        addrs = EntityAddrvec.decode(dec)
        peer_gid = dec.s64()
        peer_global_seq = dec.u64()
        features = dec.u64()
        required = dec.u64()
        flags = dec.u64()
        cookie = dec.u64()
        if not any(_same_addr(a, self._target) for a in addrs.addrs):
            raise RemoteProtocolError(
                f"wrong peer at address: dialed {self._target}, peer is {addrs}")
        if self._required & ~features:
            raise RemoteProtocolError(
                f"missing required features: peer supports {features:#x}, "
                f"we need {self._required & ~features:#x} more")
        if required & ~self._supported:
            # The server should have sent IDENT_MISSING_FEATURES instead; note and go on.
            log.debug("peer requires %#x we do not advertise", required & ~self._supported)
        self._peer_features = features
        log.debug("session ready: peer gid %d features %#x flags %#x", peer_gid, features,
                  flags)
        return [Ready(
            global_id=self._global_id, con_mode=self._con_mode, peer_type=self._peer_type,
            peer_addrs=addrs, peer_global_id=peer_gid, peer_global_seq=peer_global_seq,
            features=features, required_features=required, flags=flags,
            server_cookie=cookie, my_addr=self._my_addr)]

    def _on_ident_missing_features(self, frame: Frame) -> list[Event]:
        missing = Decoder(frame.payload, "ident_missing_features").u64()
        raise RemoteProtocolError(
            f"missing required features: server requires {missing:#x} that we lack")

    def _on_wait(self, frame: Frame) -> list[Event]:
        return [Reset("server sent WAIT (connection race)", wait=True)]

    def _on_message(self, frame: Frame) -> list[Event]:
        head = frame.segments[0]
        if len(head) != MSG_HEADER2_LEN:
            raise MalformedFrameError(f"message header of {len(head)} bytes")
        (seq, tid, mtype, priority, version, _pre_pad, data_off, ack_seq, flags,
         compat_version, _reserved) = _MSG_HEADER2.unpack(head)
        if seq <= self._in_seq:
            # A duplicate from a replay: skip it (kernel process_message_header).
            log.debug("skipping old message seq %d, expected %d", seq, self._in_seq + 1)
            return []
        if seq != self._in_seq + 1:
            raise RemoteProtocolError(
                f"bad message sequence # {seq} for incoming message, expected "
                f"{self._in_seq + 1}")
        self._in_seq = seq
        self._peer_acked_seq = max(self._peer_acked_seq, ack_seq)
        return [MessageReceived(
            seq=seq, tid=tid, type=mtype, priority=priority, version=version,
            compat_version=compat_version, data_off=data_off, ack_seq=ack_seq, flags=flags,
            front=frame.segments[1], middle=frame.segments[2], data=frame.segments[3])]

    def _on_ack(self, frame: Frame) -> list[Event]:
        seq = Decoder(frame.payload, "ack").u64()
        self._peer_acked_seq = max(self._peer_acked_seq, seq)
        return []

    def _on_keepalive2(self, frame: Frame) -> list[Event]:
        # Echo the peer's stamp (ProtocolV2::handle_keepalive2), once the owner takes our
        # output; a newer ping before then replaces it (see _keepalive_ack_due).
        self._keepalive_ack_due = Decoder(frame.payload, "keepalive2").utime()
        return []

    def _on_keepalive2_ack(self, frame: Frame) -> list[Event]:
        stamp = Decoder(frame.payload, "keepalive2_ack").utime()
        return [KeepaliveAck(stamp)]


_HANDLERS: dict[Tag, Callable[[Protocol, Frame], list[Event]]] = {
    Tag.HELLO: Protocol._on_hello,
    Tag.AUTH_BAD_METHOD: Protocol._on_auth_bad_method,
    Tag.AUTH_REPLY_MORE: Protocol._on_auth_reply_more,
    Tag.AUTH_DONE: Protocol._on_auth_done,
    Tag.AUTH_SIGNATURE: Protocol._on_auth_signature,
    Tag.SERVER_IDENT: Protocol._on_server_ident,
    Tag.IDENT_MISSING_FEATURES: Protocol._on_ident_missing_features,
    Tag.WAIT: Protocol._on_wait,
    Tag.MESSAGE: Protocol._on_message,
    Tag.ACK: Protocol._on_ack,
    Tag.KEEPALIVE2: Protocol._on_keepalive2,
    Tag.KEEPALIVE2_ACK: Protocol._on_keepalive2_ack,
}

assert set(_HANDLERS) == {i for inputs in _TRANSITIONS.values() for i in inputs
                         if isinstance(i, Tag)}

__all__ = [
    "BANNER",
    "BANNER_INPUT",
    "MSG_HEADER2_LEN",
    "AuthBadMethod",
    "Protocol",
    "State",
]
