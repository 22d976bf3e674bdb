"""The cephx client: mon login, service tickets, authorizers for OSD/MGR connections.

Theory of operation. A client owns one long-lived secret (the keyring key) and obtains
*tickets* from the monitors, one per service (AUTH, MON, OSD, MGR). A ticket is an opaque blob
encrypted for the service plus a *session key* that only we and the service know.

1. Mon login over msgr2 (:class:`MonAuthHandler`). AUTH_REQUEST carries
   ``u8 AUTH_MODE_MON | EntityName | le64 global_id``. The mon answers AUTH_REPLY_MORE with a
   ``CephXServerChallenge``. We prove we hold the secret by encrypting (server, client)
   challenges and XOR-folding the ciphertext into a u64 "key", and send it in a
   ``CephXAuthenticate`` (v3: with our previous AUTH ticket when we reconnect with a non-zero
   global_id). AUTH_DONE carries the AUTH ticket (its inner block encrypted with our secret),
   then - because we ask for ``other_keys`` - the connection secret encrypted with the new AUTH
   session key and the MON/OSD/MGR tickets, their inner blocks encrypted with the AUTH
   session key. The AUTH session key is the msgr2 session key for this mon connection.
2. Service connections (:class:`AuthorizerHandler`). AUTH_REQUEST carries an *authorizer*:
   the service's ticket plus ``CephXAuthorize`` (a random nonce) encrypted with the ticket's
   session key. The service may answer with a challenge (raw ciphertext); we rebuild the same
   authorizer (same nonce) with ``challenge + 1``. AUTH_DONE holds ``CephXAuthorizeReply``
   whose ``nonce + 1`` proves the service could read our ticket, plus the connection secret.
3. Renewal (:meth:`CephxClient.build_principal_request` / ``handle_principal_reply``). Once
   logged in, MAuth carries ``CEPHX_GET_PRINCIPAL_SESSION_KEY`` with an authorizer built from
   the AUTH ticket; the reply holds fresh service tickets encrypted with the AUTH session key.
   The AUTH ticket itself is renewed by logging in again (it needs a fresh server challenge).

Everything is pure: time comes in as ``now`` (seconds, any monotonic-ish clock the caller
uses consistently), randomness from an injectable ``rng(n) -> bytes`` (``os.urandom`` by
default). Tickets are renewed after 3/4 of their validity, as the kernel does.

Mirrors: ceph src/auth/cephx/CephxProtocol.{h,cc}, CephxClientHandler.cc,
CephxServiceHandler.cc (the mon side), src/auth/Auth.h (AuthTicket, AuthCapsInfo,
AUTH_MODE_*), src/mon/MonClient.cc (get_auth_request, handle_auth_reply_more/done),
src/auth/none/AuthNoneProtocol.h; kernel net/ceph/auth_x.c, auth_x_protocol.h, auth.c
(ceph_auth_get_request, ceph_auth_handle_reply_done), auth_none.c.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

from rbdpy.rados.proto.auth.crypto import (
    CryptoKey,
    decode_decrypt,
    decrypt,
    encode_encrypt,
)
from rbdpy.rados.proto.auth.handler import AuthMethod, AuthResult, ConMode
from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.errors import AuthError, DecodeError
from rbdpy.rados.proto.types import EntityName, EntityType

log = logging.getLogger(__name__)

Rng = Callable[[int], bytes]

_U64_MASK = 0xFFFF_FFFF_FFFF_FFFF
_U64 = struct.Struct("<Q")

# ceph src/auth/Auth.h: the first byte of an msgr2 auth payload says what it is.
AUTH_MODE_AUTHORIZER = 1
AUTH_MODE_MON = 10

# Services a librados client asks for (MonClient::init: MON | OSD | MGR); AUTH is implied.
DEFAULT_WANT_KEYS = EntityType.MON | EntityType.OSD | EntityType.MGR

# Secure mode needs a 16-byte key and two 12-byte nonces (FIELD_GUIDE 3.6).
_SECURE_SECRET_MIN = 40


class CephxRequestType(IntEnum):
    """CEPHX_* request types (ceph src/auth/cephx/CephxProtocol.h)."""

    GET_AUTH_SESSION_KEY = 0x0100
    GET_PRINCIPAL_SESSION_KEY = 0x0200
    GET_ROTATING_KEY = 0x0400


def _check_v(dec: Decoder, name: str, v: int, min_v: int) -> None:
    # cephx structs carry a bare u8 struct_v (no compat, no length): a version below the
    # Pacific floor is rejected; newer versions are read as far as we understand them.
    if v < min_v:
        raise dec.error(f"{name} struct_v {v} older than supported {min_v}")


# ---------------------------------------------------------------------------------------
# Wire types (ceph src/auth/cephx/CephxProtocol.h, src/auth/Auth.h). All little-endian,
# each with a bare u8 struct_v; decode and encode are adjacent, in the same field order.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CephXServerChallenge:
    """``CephXServerChallenge``: ``u8 1 | le64 server_challenge``. Accepts struct_v >= 1."""

    CEPH_TYPE = "CephXServerChallenge"
    server_challenge: int

    @classmethod
    def decode(cls, dec: Decoder) -> CephXServerChallenge:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 1)
        return cls(dec.u64())

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        enc.u64(self.server_challenge)


@dataclass(frozen=True)
class CephXRequestHeader:
    """``CephXRequestHeader``: ``le16 request_type`` (no version byte)."""

    CEPH_TYPE = "CephXRequestHeader"
    request_type: int

    @classmethod
    def decode(cls, dec: Decoder) -> CephXRequestHeader:
        return cls(dec.u16())

    def encode(self, enc: Encoder) -> None:
        enc.u16(self.request_type)


@dataclass(frozen=True)
class CephXResponseHeader:
    """``CephXResponseHeader``: ``le16 request_type | le32 status`` (negative errno)."""

    CEPH_TYPE = "CephXResponseHeader"
    request_type: int
    status: int

    @classmethod
    def decode(cls, dec: Decoder) -> CephXResponseHeader:
        return cls(dec.u16(), dec.s32())

    def encode(self, enc: Encoder) -> None:
        enc.u16(self.request_type)
        enc.s32(self.status)


@dataclass(frozen=True)
class CephXTicketBlob:
    """``CephXTicketBlob``: ``u8 1 | le64 secret_id | bufferlist blob``; blob is opaque to us.

    Accepts struct_v >= 1. An empty blob (secret_id 0) means "no ticket".
    """

    CEPH_TYPE = "CephXTicketBlob"
    secret_id: int = 0
    blob: bytes = b""

    @classmethod
    def decode(cls, dec: Decoder) -> CephXTicketBlob:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 1)
        return cls(dec.u64(), dec.blob())

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        enc.u64(self.secret_id)
        enc.blob(self.blob)


@dataclass(frozen=True)
class CephXAuthenticate:
    """``CephXAuthenticate``: the answer to the server challenge.

    ``u8 struct_v | le64 client_challenge | le64 key | CephXTicketBlob old_ticket |
    le32 other_keys``. Accepts struct_v >= 2 (Pacific 16.2.0 wrote 2; 16.2.1+ writes 3, which
    encodes identically but promises old_ticket on every reconnect). We always send 3.
    """

    CEPH_TYPE = "CephXAuthenticate"
    client_challenge: int
    key: int
    old_ticket: CephXTicketBlob = field(default_factory=CephXTicketBlob)
    other_keys: int = 0
    struct_v: int = 3

    @classmethod
    def decode(cls, dec: Decoder) -> CephXAuthenticate:
        v = dec.u8()
        _check_v(dec, cls.CEPH_TYPE, v, 2)
        client_challenge = dec.u64()
        key = dec.u64()
        with dec.named("old_ticket"):
            old_ticket = CephXTicketBlob.decode(dec)
        return cls(client_challenge, key, old_ticket, dec.u32(), v)

    def encode(self, enc: Encoder) -> None:
        enc.u8(self.struct_v)
        enc.u64(self.client_challenge)
        enc.u64(self.key)
        self.old_ticket.encode(enc)
        enc.u32(self.other_keys)


@dataclass(frozen=True)
class CephXChallengeBlob:
    """``CephXChallengeBlob``: ``le64 server_challenge | le64 client_challenge``, no version."""

    CEPH_TYPE = "CephXChallengeBlob"
    server_challenge: int
    client_challenge: int

    @classmethod
    def decode(cls, dec: Decoder) -> CephXChallengeBlob:
        return cls(dec.u64(), dec.u64())

    def encode(self, enc: Encoder) -> None:
        enc.u64(self.server_challenge)
        enc.u64(self.client_challenge)


@dataclass(frozen=True)
class CephXServiceTicketRequest:
    """``CephXServiceTicketRequest``: ``u8 1 | le32 keys`` (bitmask of service ids)."""

    CEPH_TYPE = "CephXServiceTicketRequest"
    keys: int

    @classmethod
    def decode(cls, dec: Decoder) -> CephXServiceTicketRequest:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 1)
        return cls(dec.u32())

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        enc.u32(self.keys)


@dataclass(frozen=True)
class CephXAuthorizeReply:
    """``CephXAuthorizeReply``: ``u8 v | le64 nonce_plus_one | [v2: string connection_secret]``.

    Accepts struct_v >= 1; Ceph writes v1 when there is no connection secret.
    """

    CEPH_TYPE = "CephXAuthorizeReply"
    nonce_plus_one: int
    connection_secret: bytes = field(default=b"", repr=False)

    @classmethod
    def decode(cls, dec: Decoder) -> CephXAuthorizeReply:
        v = dec.u8()
        _check_v(dec, cls.CEPH_TYPE, v, 1)
        nonce_plus_one = dec.u64()
        secret = dec.blob() if v >= 2 else b""  # added in v2 (Nautilus)
        return cls(nonce_plus_one, secret)

    def encode(self, enc: Encoder) -> None:
        v = 2 if self.connection_secret else 1
        enc.u8(v)
        enc.u64(self.nonce_plus_one)
        if v >= 2:
            enc.blob(self.connection_secret)


@dataclass(frozen=True)
class CephXAuthorizeChallenge:
    """``CephXAuthorizeChallenge``: ``u8 1 | le64 server_challenge``. Accepts struct_v >= 1."""

    CEPH_TYPE = "CephXAuthorizeChallenge"
    server_challenge: int

    @classmethod
    def decode(cls, dec: Decoder) -> CephXAuthorizeChallenge:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 1)
        return cls(dec.u64())

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        enc.u64(self.server_challenge)


@dataclass(frozen=True)
class CephXAuthorize:
    """``CephXAuthorize``: ``u8 2 | le64 nonce | u8 have_challenge | le64 challenge_plus_one``.

    Accepts struct_v >= 2 (every Pacific daemon and client writes 2).
    """

    CEPH_TYPE = "CephXAuthorize"
    nonce: int
    have_challenge: bool = False
    server_challenge_plus_one: int = 0

    @classmethod
    def decode(cls, dec: Decoder) -> CephXAuthorize:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 2)
        return cls(dec.u64(), dec.bool_(), dec.u64())

    def encode(self, enc: Encoder) -> None:
        enc.u8(2)
        enc.u64(self.nonce)
        enc.bool_(self.have_challenge)
        enc.u64(self.server_challenge_plus_one)


@dataclass(frozen=True)
class CephXServiceTicket:
    """``CephXServiceTicket`` (the client's half of a ticket, "A").

    ``u8 1 | CryptoKey session_key | utime validity``. Accepts struct_v >= 1.
    """

    CEPH_TYPE = "CephXServiceTicket"
    session_key: CryptoKey
    validity: tuple[int, int]

    @classmethod
    def decode(cls, dec: Decoder) -> CephXServiceTicket:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 1)
        with dec.named("session_key"):
            key = CryptoKey.decode(dec)
        return cls(key, dec.utime())

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        self.session_key.encode(enc)
        enc.utime(self.validity)


@dataclass(frozen=True)
class AuthCapsInfo:
    """``AuthCapsInfo`` (ceph src/auth/Auth.h): ``u8 1 | u8 allow_all | bufferlist caps``."""

    CEPH_TYPE = "AuthCapsInfo"
    allow_all: bool = False
    caps: bytes = b""

    @classmethod
    def decode(cls, dec: Decoder) -> AuthCapsInfo:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 1)
        return cls(dec.bool_(), dec.blob())

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        enc.bool_(self.allow_all)
        enc.blob(self.caps)


@dataclass(frozen=True)
class AuthTicket:
    """``AuthTicket`` (ceph src/auth/Auth.h), the service's view of a ticket.

    ``u8 2 | EntityName name | le64 global_id | le64 auid | utime created | utime expires |
    AuthCapsInfo caps | le32 flags``. Accepts struct_v >= 2 (auid was added in v2, long
    before Pacific). Clients never see it in clear; decoded for corpus coverage and tests.
    """

    CEPH_TYPE = "AuthTicket"
    name: EntityName
    global_id: int
    auid: int
    created: tuple[int, int]
    expires: tuple[int, int]
    caps: AuthCapsInfo
    flags: int

    @classmethod
    def decode(cls, dec: Decoder) -> AuthTicket:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 2)
        name = EntityName.decode(dec)
        global_id = dec.u64()
        auid = dec.u64()
        created = dec.utime()
        expires = dec.utime()
        with dec.named("caps"):
            caps = AuthCapsInfo.decode(dec)
        return cls(name, global_id, auid, created, expires, caps, dec.u32())

    def encode(self, enc: Encoder) -> None:
        enc.u8(2)
        self.name.encode(enc)
        enc.u64(self.global_id)
        enc.u64(self.auid)
        enc.utime(self.created)
        enc.utime(self.expires)
        self.caps.encode(enc)
        enc.u32(self.flags)


@dataclass(frozen=True)
class CephXServiceTicketInfo:
    """``CephXServiceTicketInfo`` ("B", what a ticket blob decrypts to for the service).

    ``u8 1 | AuthTicket ticket | CryptoKey session_key``. Accepts struct_v >= 1.
    """

    CEPH_TYPE = "CephXServiceTicketInfo"
    ticket: AuthTicket
    session_key: CryptoKey

    @classmethod
    def decode(cls, dec: Decoder) -> CephXServiceTicketInfo:
        _check_v(dec, cls.CEPH_TYPE, dec.u8(), 1)
        with dec.named("ticket"):
            ticket = AuthTicket.decode(dec)
        with dec.named("session_key"):
            key = CryptoKey.decode(dec)
        return cls(ticket, key)

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        self.ticket.encode(enc)
        self.session_key.encode(enc)


def _encode(obj: CephXAuthorize | CephXChallengeBlob | CephXServiceTicketRequest
            | CephXAuthenticate | CephXRequestHeader) -> bytes:
    enc = Encoder()
    obj.encode(enc)
    return enc.getvalue()


def calc_client_server_challenge(secret: CryptoKey, server_challenge: int,
                                 client_challenge: int) -> int:
    """The CephXAuthenticate "key": proof that we hold ``secret``.

    ``encode_encrypt`` the 16-byte CephXChallengeBlob (giving le32 len + 32 bytes of
    ciphertext = 36 bytes), then XOR the complete little-endian u64 words from offset 0; the
    length word is part of the first word and the trailing 4 bytes are dropped.
    (ceph ``cephx_calc_client_server_challenge``; kernel ``ceph_x_build_request``.)
    """
    enc = encode_encrypt(secret, _encode(CephXChallengeBlob(server_challenge, client_challenge)))
    key = 0
    for (word,) in _U64.iter_unpack(enc[: len(enc) - len(enc) % 8]):
        key ^= word
    return key


# ---------------------------------------------------------------------------------------
# Tickets and the client state
# ---------------------------------------------------------------------------------------


@dataclass
class CephXTicketHandler:
    """What we hold for one service: session key, opaque ticket, and its lifetime.

    ``expires``/``renew_after`` are on the caller's ``now`` clock: the ticket's validity is
    relative, so the absolute times are ``now`` at receipt + validity (and - validity/4).
    """

    service_id: int
    session_key: CryptoKey | None = None
    ticket: CephXTicketBlob = field(default_factory=CephXTicketBlob)
    validity: float = 0.0
    expires: float = 0.0
    renew_after: float = 0.0

    def have_key(self, now: float) -> bool:
        """A usable ticket (ceph ``CephXTicketHandler::have_key``)."""
        return self.session_key is not None and now < self.expires

    def need_key(self, now: float) -> bool:
        """Time to fetch a fresh one: missing, or 3/4 of its validity elapsed."""
        return self.session_key is None or now >= self.renew_after


@dataclass(frozen=True)
class _ParsedTicket:
    service_id: int
    session_key: CryptoKey
    validity: tuple[int, int]
    ticket: CephXTicketBlob


class CephxClient:
    """cephx state of one client identity: secret, global_id and per-service tickets.

    :param entity_name: e.g. ``"client.admin"`` or an :class:`EntityName`.
    :param secret: the keyring secret, base64 text or a :class:`CryptoKey`.
    :param want_keys: services we need tickets for (AUTH is always added).
    :param rng: source of random bytes for challenges and nonces.
    """

    def __init__(self, entity_name: EntityName | str, secret: CryptoKey | str,
                 want_keys: int = DEFAULT_WANT_KEYS, rng: Rng = os.urandom) -> None:
        self.entity_name = (entity_name if isinstance(entity_name, EntityName)
                            else EntityName.parse(entity_name))
        self.secret = secret if isinstance(secret, CryptoKey) else CryptoKey.from_base64(secret)
        self.secret.check_aes()
        # ceph CephxClientHandler::set_want_keys: the AUTH ticket is always wanted.
        self.want_keys = int(want_keys) | EntityType.AUTH
        self.global_id = 0
        self.tickets: dict[int, CephXTicketHandler] = {}
        # The connection secret of the most recent mon login (b"" in crc mode).
        self.connection_secret = b""
        self._rng = rng

    def __repr__(self) -> str:
        return f"CephxClient({self.entity_name}, global_id={self.global_id})"

    # -- randomness --------------------------------------------------------------------

    def random_u64(self) -> int:
        (v,) = _U64.unpack(self._rng(8))
        return int(v)

    # -- ticket bookkeeping (ceph CephXTicketManager) -----------------------------------

    def ticket(self, service_id: int) -> CephXTicketHandler | None:
        return self.tickets.get(service_id)

    @property
    def auth_ticket(self) -> CephXTicketHandler | None:
        return self.tickets.get(EntityType.AUTH)

    def have_keys(self, now: float) -> int:
        """Bitmask of wanted services with a valid ticket."""
        have = 0
        for sid, th in self.tickets.items():
            if th.have_key(now):
                have |= sid
        return have & self.want_keys

    def need_keys(self, now: float) -> int:
        """Bitmask of wanted services whose ticket is missing or due for renewal.

        (ceph ``CephXTicketManager::validate_tickets``; kernel ``ceph_x_validate_tickets``.)
        """
        need = 0
        bit = 1
        while bit <= self.want_keys:
            if self.want_keys & bit:
                th = self.tickets.get(bit)
                if th is None or th.need_key(now):
                    need |= bit
            bit <<= 1
        return need

    def need_renew(self, now: float) -> bool:
        """True once any wanted ticket is missing or past 3/4 of its validity."""
        return self.need_keys(now) != 0

    def is_authenticated(self, now: float) -> bool:
        return self.have_keys(now) == self.want_keys

    def invalidate(self, service_id: int) -> None:
        """Forget a ticket the service rejected (ceph ``invalidate_ticket``)."""
        self.tickets.pop(service_id, None)

    def verify_service_ticket_reply(self, dec: Decoder, key: CryptoKey, now: float) -> list[int]:
        """Decode a service ticket reply at the cursor and store its tickets.

        Layout (ceph ``cephx_build_service_ticket_reply``): ``u8 1 | le32 n`` then n x
        ``{le32 service_id | u8 1 | encode_encrypt(key, CephXServiceTicket) |
        u8 ticket_enc | bufferlist(CephXTicketBlob), itself encode_encrypt'ed with the
        service's previous session key when ticket_enc}``. All entries are decoded and
        checked before any is stored, so a bad reply leaves the old tickets intact.

        :returns: the service ids updated.
        :raises AuthError: a block does not decrypt (EACCES).
        :raises DecodeError: malformed reply.
        """
        with dec.named("service_ticket_reply"):
            v = dec.u8()
            if v != 1:
                raise dec.error(f"service ticket reply version {v}, expected 1")
            parsed: list[_ParsedTicket] = []
            for _ in range(dec.count(5)):
                service_id = dec.u32()
                with dec.named(f"ticket[{service_id:#x}]"):
                    tv = dec.u8()
                    if tv != 1:
                        raise dec.error(f"service ticket version {tv}, expected 1")
                    plain = decode_decrypt(dec, key)
                    # Like Ceph, tolerate bytes after the known fields (newer versions).
                    msg_a = CephXServiceTicket.decode(Decoder(plain, "CephXServiceTicket"))
                    if dec.u8():
                        old = self.tickets.get(service_id)
                        if old is None or old.session_key is None:
                            raise AuthError("encrypted ticket but no previous session key")
                        ticket_bl = Decoder(decode_decrypt(dec, old.session_key), "ticket")
                        blob_bytes = ticket_bl.blob_view()
                    else:
                        blob_bytes = dec.blob_view()
                    blob = CephXTicketBlob.decode(Decoder(blob_bytes, "CephXTicketBlob"))
                parsed.append(_ParsedTicket(service_id, msg_a.session_key, msg_a.validity,
                                            blob))
        for p in parsed:
            p.session_key.check_aes()
        for p in parsed:
            secs = p.validity[0] + p.validity[1] / 1e9
            th = CephXTicketHandler(p.service_id, p.session_key, p.ticket, secs)
            if secs > 0:
                th.expires = now + secs
                # kernel process_one_ticket: renew_after = expires - validity/4
                th.renew_after = th.expires - secs / 4
            else:
                # Zero validity never expires (ceph leaves expires unset).
                th.expires = th.renew_after = math.inf
            self.tickets[p.service_id] = th
            log.debug("cephx: got ticket for service %#x secret_id %d validity %.0fs",
                      p.service_id, p.ticket.secret_id, secs)
        return [p.service_id for p in parsed]

    # -- authorizers ---------------------------------------------------------------------

    def build_authorizer(self, service_id: int, nonce: int | None = None) -> CephXAuthorizer:
        """An authorizer for ``service_id`` from its ticket (ceph ``build_authorizer``).

        :raises AuthError: no ticket for that service (EACCES).
        """
        th = self.tickets.get(service_id)
        if th is None or th.session_key is None:
            raise AuthError(f"no cephx ticket for service {service_id:#x}")
        return CephXAuthorizer(
            service_id=service_id,
            global_id=self.global_id,
            ticket=th.ticket,
            session_key=th.session_key,
            nonce=self.random_u64() if nonce is None else nonce,
        )

    # -- MAuth: GET_PRINCIPAL_SESSION_KEY (ticket fetch/renewal) -----------------------

    def build_principal_request(self, now: float, keys: int | None = None) -> bytes:
        """The cephx payload of an MAuth asking for service tickets.

        ``le16 CEPHX_GET_PRINCIPAL_SESSION_KEY | authorizer(AUTH ticket) |
        CephXServiceTicketRequest(keys)``. ``keys`` defaults to the services that need
        renewal; the AUTH bit is never requested this way (it needs a new challenge: log in
        again). (ceph ``CephxClientHandler::build_request``; kernel ``ceph_x_build_request``.)

        :raises AuthError: no AUTH ticket yet.
        """
        if keys is None:
            keys = self.need_keys(now)
        keys &= ~EntityType.AUTH
        enc = Encoder()
        CephXRequestHeader(CephxRequestType.GET_PRINCIPAL_SESSION_KEY).encode(enc)
        enc.raw(self.build_authorizer(EntityType.AUTH).build())
        CephXServiceTicketRequest(keys).encode(enc)
        log.debug("cephx: get_principal_session_key keys %#x", keys)
        return enc.getvalue()

    def handle_principal_reply(self, payload: Buffer, now: float) -> list[int]:
        """Apply the cephx payload of the MAuthReply to a principal request.

        ``le16 request_type | le32 status | service ticket reply (AUTH session key)``.

        :returns: the service ids updated.
        :raises AuthError: negative status (its errno) or undecryptable tickets.
        """
        dec = Decoder(payload, "cephx_principal_reply")
        header = CephXResponseHeader.decode(dec)
        if header.request_type != CephxRequestType.GET_PRINCIPAL_SESSION_KEY:
            raise dec.error(f"unexpected cephx reply type {header.request_type:#x}")
        if header.status < 0:
            raise AuthError("cephx service ticket request refused", -header.status)
        auth = self.auth_ticket
        if auth is None or auth.session_key is None:
            raise AuthError("no AUTH session key")
        try:
            return self.verify_service_ticket_reply(dec, auth.session_key, now)
        except DecodeError as e:
            raise AuthError(f"malformed cephx ticket reply ({e.message})") from None

    # -- msgr2 handlers ---------------------------------------------------------------------

    def mon_handler(self, now: float,
                    con_modes: tuple[ConMode, ...] = (ConMode.SECURE, ConMode.CRC)
                    ) -> MonAuthHandler:
        return MonAuthHandler(self, now, con_modes)

    def authorizer_handler(self, service_id: int, nonce: int | None = None) -> AuthorizerHandler:
        return AuthorizerHandler(self, service_id, nonce)


@dataclass
class CephXAuthorizer:
    """One authorizer: the base (ticket) and a fixed nonce, re-encryptable per challenge.

    Wire form (kernel ``ceph_x_build_authorizer``; ceph ``CephXTicketHandler::build_authorizer``):
    ``u8 1 | le64 global_id | le32 service_id | CephXTicketBlob |
    encode_encrypt(session_key, CephXAuthorize)``.
    """

    service_id: int
    global_id: int
    ticket: CephXTicketBlob
    session_key: CryptoKey
    nonce: int
    server_challenge: int | None = None

    def build(self) -> bytes:
        """The authorizer bytes, answering ``server_challenge`` if one was received."""
        enc = Encoder()
        enc.u8(AUTH_MODE_AUTHORIZER)  # authorizer_v 1 doubles as AUTH_MODE_AUTHORIZER
        enc.u64(self.global_id)
        enc.u32(self.service_id)
        self.ticket.encode(enc)
        if self.server_challenge is None:
            msg = CephXAuthorize(self.nonce)
        else:
            msg = CephXAuthorize(self.nonce, True, (self.server_challenge + 1) & _U64_MASK)
        enc.raw(encode_encrypt(self.session_key, _encode(msg)))
        return enc.getvalue()

    def add_challenge(self, challenge: Buffer) -> bytes:
        """Answer a service's authorizer challenge and return the rebuilt authorizer.

        ``challenge`` is **raw** ciphertext (no length word) of a CephXAuthorizeChallenge
        under the session key (ceph ``CephXAuthorizer::add_challenge`` uses
        ``decode_decrypt_enc_bl``; kernel ``decrypt_authorizer_challenge``). The nonce is kept.
        An empty challenge means "rebuild without one" as in Ceph.
        """
        if len(challenge):
            plain = decrypt(self.session_key, challenge)
            ch = CephXAuthorizeChallenge.decode(Decoder(plain, "CephXAuthorizeChallenge"))
            self.server_challenge = ch.server_challenge
        return self.build()

    def verify_reply(self, reply: Buffer) -> bytes:
        """Check the service's CephXAuthorizeReply; return its connection secret.

        ``reply`` = ``le32 len | ciphertext`` (ceph ``CephXAuthorizer::verify_reply``).

        :raises AuthError: does not decrypt, or nonce_plus_one != nonce + 1 (EACCES).
        """
        dec = Decoder(reply, "authorizer_reply")
        plain = decode_decrypt(dec, self.session_key)
        msg = CephXAuthorizeReply.decode(Decoder(plain, "CephXAuthorizeReply"))
        if msg.nonce_plus_one != (self.nonce + 1) & _U64_MASK:
            raise AuthError("authorizer reply has a bad nonce (forged or stale reply)")
        return msg.connection_secret


# ---------------------------------------------------------------------------------------
# msgr2 AuthHandler implementations
# ---------------------------------------------------------------------------------------


def _check_secret(con_mode: ConMode, secret: bytes) -> None:
    if con_mode == ConMode.SECURE and len(secret) < _SECURE_SECRET_MIN:
        raise AuthError(f"secure mode needs a connection secret of >= {_SECURE_SECRET_MIN} "
                        f"bytes, got {len(secret)}", errno.EPROTO)


class MonAuthHandler:
    """cephx login to a monitor over msgr2 (GET_AUTH_SESSION_KEY).

    :param client: the shared :class:`CephxClient` (updated on success).
    :param now: the time the attempt starts; ticket lifetimes count from it (slightly
        conservative: the mon counts from when it replies).
    :param con_modes: preferred modes, in order, for the AUTH_REQUEST frame (the protocol
        object writes them; kept here so one object describes the attempt).
    """

    method = AuthMethod.CEPHX

    def __init__(self, client: CephxClient, now: float,
                 con_modes: tuple[ConMode, ...] = (ConMode.SECURE, ConMode.CRC)) -> None:
        self.client = client
        self.now = now
        self.con_modes = con_modes
        self._server_challenge: int | None = None

    def build_request(self) -> bytes:
        """``u8 AUTH_MODE_MON | EntityName | le64 global_id`` (MonClient::get_auth_request)."""
        enc = Encoder()
        enc.u8(AUTH_MODE_MON)
        self.client.entity_name.encode(enc)
        enc.u64(self.client.global_id)
        log.debug("cephx: mon auth request for %s global_id %d", self.client.entity_name,
                  self.client.global_id)
        return enc.getvalue()

    def handle_reply_more(self, payload: bytes) -> bytes:
        """Server challenge in, ``CEPHX_GET_AUTH_SESSION_KEY | CephXAuthenticate`` out."""
        if self._server_challenge is not None:
            raise AuthError("mon sent a second cephx challenge", errno.EPROTO)
        ch = decode_all(payload, CephXServerChallenge.decode, "CephXServerChallenge")
        self._server_challenge = ch.server_challenge
        client = self.client
        client_challenge = client.random_u64()
        key = calc_client_server_challenge(client.secret, ch.server_challenge, client_challenge)
        # CVE-2021-20288 rules (CephxServiceHandler::verify_old_ticket): with global_id 0 the
        # mon rejects a ticket as superfluous; when reclaiming a global_id it demands one.
        old = client.auth_ticket
        old_ticket = old.ticket if (client.global_id and old is not None) else CephXTicketBlob()
        # Ask for the service tickets in the same round trip; AUTH itself is what this request
        # is for (kernel: want_keys & ~AUTH).
        other_keys = client.want_keys & ~EntityType.AUTH
        enc = Encoder()
        CephXRequestHeader(CephxRequestType.GET_AUTH_SESSION_KEY).encode(enc)
        CephXAuthenticate(client_challenge, key, old_ticket, other_keys).encode(enc)
        log.debug("cephx: answering mon challenge, other_keys %#x, old ticket %d bytes",
                  other_keys, len(old_ticket.blob))
        return enc.getvalue()

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        """Parse AUTH_DONE's cephx reply; return the AUTH session key and connection secret.

        ``CephXResponseHeader | ticket reply (client secret) | bufferlist cbl |
        bufferlist extra``, where ``cbl = encode_encrypt(auth_session_key, string secret)``
        and ``extra`` is a ticket reply under the AUTH session key.
        (ceph ``CephxClientHandler::handle_response``; kernel ``handle_auth_session_key``.)

        :raises AuthError: a negative status (with its errno), or a reply that does not
            decrypt with our secret (EACCES).
        """
        if self._server_challenge is None:
            raise AuthError("mon finished cephx without a challenge", errno.EPROTO)
        # All or nothing: a reply that fails half way must not leave half-updated tickets.
        saved = dict(self.client.tickets)
        try:
            return self._handle_done(global_id, con_mode, payload)
        except DecodeError as e:
            self.client.tickets = saved
            # cephx's only integrity check is the magic in the first block: a damaged later
            # block decrypts to garbage that fails to decode. Either way the reply is not
            # authentic, so it is an authentication failure, not a protocol one.
            raise AuthError(f"malformed cephx reply ({e.message})") from None
        except AuthError:
            self.client.tickets = saved
            raise

    def _handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        client = self.client
        dec = Decoder(payload, "cephx_auth_done")
        header = CephXResponseHeader.decode(dec)
        if header.status < 0:
            raise AuthError("mon refused cephx authentication", -header.status)
        if header.request_type != CephxRequestType.GET_AUTH_SESSION_KEY:
            raise dec.error(f"unexpected cephx reply type {header.request_type:#x}")
        client.verify_service_ticket_reply(dec, client.secret, self.now)
        auth = client.auth_ticket
        if auth is None or auth.session_key is None:
            raise AuthError("mon reply carried no AUTH ticket", errno.EPROTO)
        # Capture the session key before the extra tickets are applied: Ceph copies it out
        # first, so an AUTH entry among the extras would not change this connection's key.
        session_key = auth.session_key
        connection_secret = b""
        if not dec.at_end():
            cbl = dec.blob_view()
            extra = dec.blob_view()
            if len(cbl):
                cdec = Decoder(cbl, "connection_secret")
                connection_secret = Decoder(decode_decrypt(cdec, session_key),
                                            "connection_secret").blob()
            if len(extra):
                client.verify_service_ticket_reply(Decoder(extra, "extra_tickets"),
                                                   session_key, self.now)
        _check_secret(con_mode, connection_secret)
        client.global_id = global_id
        client.connection_secret = connection_secret
        log.debug("cephx: mon login done, global_id %d con_mode %s, tickets %s",
                  global_id, con_mode.name, sorted(hex(s) for s in client.tickets))
        return AuthResult(global_id, con_mode, session_key.secret, connection_secret)


class AuthorizerHandler:
    """cephx authentication of one service connection (OSD, MGR) with an authorizer.

    :param client: the :class:`CephxClient` holding the service's ticket.
    :param service_id: ``EntityType.OSD`` or ``EntityType.MGR`` (or MON for a ticketed mon
        connection, which librados does not use).
    :param nonce: fixed nonce for tests; random by default.
    :raises AuthError: no ticket for the service.
    """

    method = AuthMethod.CEPHX

    def __init__(self, client: CephxClient, service_id: int, nonce: int | None = None) -> None:
        self.client = client
        self.service_id = service_id
        self.authorizer = client.build_authorizer(service_id, nonce)
        self.challenged = False

    def build_request(self) -> bytes:
        return self.authorizer.build()

    def handle_reply_more(self, payload: bytes) -> bytes:
        """The service's challenge (raw ciphertext) in, the re-encrypted authorizer out.

        Ceph's service answers a second wrong reply with -EACCES, so one round is all a
        well-behaved peer sends; a second is refused here.
        """
        if self.challenged:
            raise AuthError("service sent a second authorizer challenge", errno.EPROTO)
        self.challenged = True
        log.debug("cephx: authorizer challenge from service %#x", self.service_id)
        return self.authorizer.add_challenge(payload)

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        """Verify CephXAuthorizeReply (nonce + 1) and take its connection secret."""
        try:
            secret = self.authorizer.verify_reply(payload)
        except DecodeError as e:
            raise AuthError(f"malformed authorizer reply ({e.message})") from None
        _check_secret(con_mode, secret)
        return AuthResult(global_id, con_mode, self.authorizer.session_key.secret, secret)


class NoneAuthHandler:
    """``auth_client_required = none``: identify ourselves, prove nothing.

    The mon request is the same header cephx uses, ``u8 AUTH_MODE_MON | EntityName |
    le64 global_id`` (ceph MonClient::get_auth_request, kernel ``ceph_auth_get_request``);
    a service gets ``AuthNoneAuthorizer``: ``u8 1 | EntityName | le64 global_id`` (kernel
    ``ceph_auth_none_build_authorizer``). The server answers AUTH_DONE directly with an empty
    payload; there is no session key, and both sides send 32 zero bytes as AUTH_SIGNATURE
    (verified against a 16.2.15 mon with auth none, tools/cephx_probe.py none).

    :param service: None for a mon, else the peer's entity type.
    """

    method = AuthMethod.NONE

    def __init__(self, entity_name: EntityName, global_id: int = 0,
                 service: int | None = None) -> None:
        self.entity_name = entity_name
        self.global_id = global_id
        self.service = service

    def build_request(self) -> bytes:
        enc = Encoder()
        enc.u8(AUTH_MODE_MON if self.service is None else AUTH_MODE_AUTHORIZER)
        self.entity_name.encode(enc)
        enc.u64(self.global_id)
        return enc.getvalue()

    def handle_reply_more(self, payload: bytes) -> bytes:
        raise AuthError("auth none does not expect AUTH_REPLY_MORE", errno.EPROTO)

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        self.global_id = global_id
        return AuthResult(global_id, con_mode, b"", b"")


def bad_method_error(method: int, result: int, allowed_methods: list[int],
                     allowed_modes: list[int]) -> AuthError:
    """The AuthError for an AUTH_BAD_METHOD frame (what the mon sends on a wrong key).

    With a wrong key a 16.2.15 mon answers our AUTH_REQUEST_MORE with AUTH_BAD_METHOD
    (method 2, result -13, allowed methods [2], modes [2, 1]) within ~50 ms and then keeps the
    socket open, so the caller must fail on this frame rather than wait for a close. librados
    reports EACCES (PermissionDeniedError) for it, and so do we, keeping the mon's result in
    the message.
    """
    return AuthError(
        f"mon rejected auth method {method} (result {result}); "
        f"allowed methods {allowed_methods}, modes {allowed_modes}",
        errno.EACCES,
    )


__all__ = [
    "AUTH_MODE_AUTHORIZER",
    "AUTH_MODE_MON",
    "DEFAULT_WANT_KEYS",
    "AuthCapsInfo",
    "AuthTicket",
    "AuthorizerHandler",
    "CephXAuthenticate",
    "CephXAuthorize",
    "CephXAuthorizeChallenge",
    "CephXAuthorizeReply",
    "CephXAuthorizer",
    "CephXChallengeBlob",
    "CephXRequestHeader",
    "CephXResponseHeader",
    "CephXServerChallenge",
    "CephXServiceTicket",
    "CephXServiceTicketInfo",
    "CephXServiceTicketRequest",
    "CephXTicketBlob",
    "CephXTicketHandler",
    "CephxClient",
    "CephxRequestType",
    "MonAuthHandler",
    "NoneAuthHandler",
    "bad_method_error",
    "calc_client_server_challenge",
]
