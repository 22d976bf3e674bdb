"""cephx client: wire types against Ceph's corpus, and full logins replayed from a live mon/OSD.

Foreign vectors:
- ../shared/corpus/<release>/objects/CephX*/ and AuthTicket/: objects encoded by Ceph itself
  (Pacific, Reef, Squid, Tentacle); each must decode completely and re-encode to the same bytes.
- tests/vectors/cephx/{mon,osd}_{crc,secure}.json: logins recorded by tools/cephx_probe.py
  against a live 16.2.15 mon and OSD (see the README there). Replaying them with the recorded
  randomness must reproduce every byte we sent, and the session key our handler derives must
  verify the daemon's AUTH_SIGNATURE (HMAC-SHA256 over everything we sent). In secure mode the
  signature frame is AES-GCM encrypted under the connection secret, so that is checked too.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rbdpy.rados.proto.auth.cephx import (
    AUTH_MODE_MON,
    AuthCapsInfo,
    AuthorizerHandler,
    AuthTicket,
    CephXAuthenticate,
    CephXAuthorize,
    CephXAuthorizeChallenge,
    CephXAuthorizeReply,
    CephXChallengeBlob,
    CephxClient,
    CephXRequestHeader,
    CephXResponseHeader,
    CephXServerChallenge,
    CephXServiceTicket,
    CephXServiceTicketInfo,
    CephXServiceTicketRequest,
    CephXTicketBlob,
    MonAuthHandler,
    NoneAuthHandler,
    bad_method_error,
    calc_client_server_challenge,
)
from rbdpy.rados.proto.auth.crypto import (
    CryptoKey,
    CryptoType,
    decrypt,
    encode_encrypt,
    encrypt,
)
from rbdpy.rados.proto.auth.handler import AuthMethod, AuthResult, ConMode
from rbdpy.rados.proto.crc32c import ceph_crc32c
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.errors import AuthError, DecodeError
from rbdpy.rados.proto.types import EntityName, EntityType
from tests.conftest import corpus_dir

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "cephx"
AUTH, MON, OSD, MGR = EntityType.AUTH, EntityType.MON, EntityType.OSD, EntityType.MGR

# -- corpus ----------------------------------------------------------------------------------

CORPUS_TYPES: dict[str, Any] = {
    "CephXServerChallenge": CephXServerChallenge,
    "CephXRequestHeader": CephXRequestHeader,
    "CephXResponseHeader": CephXResponseHeader,
    "CephXTicketBlob": CephXTicketBlob,
    "CephXAuthenticate": CephXAuthenticate,
    "CephXChallengeBlob": CephXChallengeBlob,
    "CephXServiceTicketRequest": CephXServiceTicketRequest,
    "CephXAuthorizeReply": CephXAuthorizeReply,
    "CephXAuthorizeChallenge": CephXAuthorizeChallenge,
    "CephXAuthorize": CephXAuthorize,
    "CephXServiceTicket": CephXServiceTicket,
    "CephXServiceTicketInfo": CephXServiceTicketInfo,
    "AuthTicket": AuthTicket,
}


def _corpus_files() -> list[Any]:
    root = corpus_dir()
    if not root.is_dir():
        return []
    out = []
    for release in sorted(p for p in root.iterdir() if p.is_dir()):
        for tname in CORPUS_TYPES:
            tdir = release / "objects" / tname
            if tdir.is_dir():
                for f in sorted(tdir.iterdir()):
                    out.append(pytest.param(tname, f, id=f"{release.name}/{tname}/{f.name[:8]}"))
    return out


CORPUS_FILES = _corpus_files()


@pytest.mark.skipif(not CORPUS_FILES, reason="Ceph object corpus not found (RBDPY_CORPUS_DIR)")
@pytest.mark.parametrize(("tname", "path"), CORPUS_FILES)
def test_corpus_decode_reencode(tname: str, path: Path) -> None:
    cls = CORPUS_TYPES[tname]
    data = path.read_bytes()
    obj = decode_all(data, cls.decode, tname)
    enc = Encoder()
    obj.encode(enc)
    assert enc.getvalue() == data
    assert decode_all(enc.getvalue(), cls.decode, tname) == obj


@pytest.mark.skipif(not CORPUS_FILES, reason="Ceph object corpus not found (RBDPY_CORPUS_DIR)")
def test_corpus_covers_every_release_and_type() -> None:
    seen = {(p.values[1].parts[-4], p.values[0]) for p in CORPUS_FILES}
    releases = {r for r, _ in seen}
    assert len(releases) >= 4
    for r in releases:
        assert {t for rr, t in seen if rr == r} == set(CORPUS_TYPES)


def test_corpus_values_spot_check() -> None:
    # Hand-decoded from ../shared/corpus/16.2.0-90-g50f1821b4c/objects/AuthTicket/fd685186...
    raw = bytes.fromhex(
        "0208000000050000006164 6d696e7989000000000000ffffffffffffffffc53474601d2cd739d542"
        "74601d2cd73901000b00000007000000616c6c6f77202a00000000".replace(" ", ""))
    t = decode_all(raw, AuthTicket.decode, "AuthTicket")
    assert t.name == EntityName(EntityType.CLIENT, "admin")
    assert t.global_id == 0x8979
    assert t.auid == 0xFFFFFFFFFFFFFFFF
    assert t.caps == AuthCapsInfo(False, b"\x07\x00\x00\x00allow *")
    # Pacific 16.2.0 wrote CephXAuthenticate v2; we keep the version on round trip.
    a = decode_all(bytes.fromhex("02" + "00" * 16 + "01" + "00" * 12 + "20000000"),
                   CephXAuthenticate.decode, "CephXAuthenticate")
    assert a.struct_v == 2 and a.other_keys == 0x20


@pytest.mark.parametrize(("cls", "raw"), [
    (CephXAuthenticate, bytes.fromhex("01" + "00" * 16 + "01" + "00" * 12)),  # v1 < floor
    (CephXAuthorize, bytes.fromhex("01" + "00" * 8)),  # v1 < floor
    (CephXTicketBlob, bytes.fromhex("01" + "00" * 8 + "05000000ab")),  # blob runs past end
    (CephXServerChallenge, b"\x01\x00"),
])
def test_decode_errors(cls: Any, raw: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_all(raw, cls.decode, cls.CEPH_TYPE)


def test_round_trips() -> None:
    key = CryptoKey(CryptoType.AES, (5, 6), b"k" * 16)
    for obj in [
        CephXServerChallenge(2**64 - 1),
        CephXTicketBlob(7, b"blob"),
        CephXAuthenticate(1, 2, CephXTicketBlob(3, b"t"), 0x15),
        CephXAuthorize(9, True, 10),
        CephXAuthorizeReply(11, b"s" * 64),
        CephXAuthorizeReply(11),
        CephXServiceTicket(key, (3600, 0)),
        CephXServiceTicketInfo(AuthTicket(EntityName(8, "a"), 1, 2, (3, 4), (5, 6),
                                          AuthCapsInfo(True, b"c"), 0), key),
    ]:
        enc = Encoder()
        obj.encode(enc)  # type: ignore[attr-defined]
        assert decode_all(enc.getvalue(), type(obj).decode, "x") == obj  # type: ignore[attr-defined]


# -- live replays -----------------------------------------------------------------------------


class ReplayRng:
    """Hands back, in order, the random bytes recorded during the live run."""

    def __init__(self, hexstr: str) -> None:
        self.data = bytes.fromhex(hexstr)
        self.pos = 0

    def __call__(self, n: int) -> bytes:
        assert self.pos + n <= len(self.data), "replay asked for more randomness than recorded"
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


def frames(conn: dict[str, Any], direction: str, tag: int) -> list[bytes]:
    return [bytes.fromhex(f[2]) for f in conn["frames"] if f[0] == direction and f[1] == tag]


def auth_request_payload(conn: dict[str, Any]) -> tuple[int, list[int], bytes]:
    dec = Decoder(frames(conn, "tx", 2)[0], "AUTH_REQUEST")
    method = dec.u32()
    modes = dec.list_(Decoder.u32)
    return method, modes, dec.blob()


def peer_signature(conn: dict[str, Any], result: AuthResult) -> bytes:
    raw = bytes.fromhex(conn["signature_frame"])
    if result.con_mode == ConMode.SECURE:
        secret = result.connection_secret
        # client rx nonce = secret[16:28] (FIELD_GUIDE 3.6); one GCM block for a 32-byte frame
        raw = AESGCM(secret[:16]).decrypt(secret[16:28], raw[:96], None)
    assert raw[0] == 7  # AUTH_SIGNATURE
    assert struct.unpack_from("<I", raw, 28)[0] == ceph_crc32c(0, raw[:28])
    assert struct.unpack_from("<I", raw, 2)[0] == 32
    return raw[32:64]


def replay_handshake(handler: Any, conn: dict[str, Any]) -> AuthResult:
    method, _modes, req = auth_request_payload(conn)
    assert method == handler.method
    assert handler.build_request() == req
    for more, sent in zip(frames(conn, "rx", 4), frames(conn, "tx", 5), strict=True):
        assert handler.handle_reply_more(Decoder(more, "m").blob()) == Decoder(sent, "s").blob()
    dec = Decoder(frames(conn, "rx", 6)[0], "AUTH_DONE")
    gid, mode, payload = dec.u64(), dec.u32(), dec.blob()
    result: AuthResult = handler.handle_done(gid, ConMode(mode), payload)
    return result


def assert_signature_verifies(conn: dict[str, Any], result: AuthResult) -> None:
    sent = bytes.fromhex(conn["sent"])
    expect = hmac.new(result.session_key, sent, hashlib.sha256).digest()
    assert peer_signature(conn, result) == expect


@pytest.mark.parametrize("mode", ["crc", "secure"])
def test_live_mon_login_and_reconnect(mode: str) -> None:
    v = load(f"mon_{mode}.json")
    assert ("mauth" in v) == (mode == "crc")
    assert "16.2.15" in v["ceph"]
    client = CephxClient(v["name"], v["key"], rng=ReplayRng(v["rng"]))
    first_gid = None
    for i, conn in enumerate(v["connections"]):
        handler = client.mon_handler(now=1000.0 + i)
        result = replay_handshake(handler, conn)
        assert result.con_mode == (ConMode.SECURE if mode == "secure" else ConMode.CRC)
        assert len(result.session_key) == 16
        assert len(result.connection_secret) == (64 if mode == "secure" else 0)
        assert_signature_verifies(conn, result)
        if first_gid is None:
            first_gid = result.global_id
        else:
            # The reconnect reclaimed the global_id by presenting the old AUTH ticket, and
            # the mon answered with the new ticket encrypted under the old session key.
            assert result.global_id == first_gid
        assert client.global_id == result.global_id
        assert client.connection_secret == result.connection_secret
        assert set(client.tickets) == {AUTH, MON, OSD, MGR}
        if i == 0 and "mauth" in v:
            replay_principal_renewal(client, v["mauth"][0])
    assert client.auth_ticket is not None
    assert client.auth_ticket.session_key is not None
    assert client.auth_ticket.session_key.secret == result.session_key


def replay_principal_renewal(client: CephxClient, rec: dict[str, str]) -> None:
    """MAuth(GET_PRINCIPAL_SESSION_KEY) -> MAuthReply, recorded on the live mon connection."""
    before = {s: t.ticket.blob for s, t in client.tickets.items()}
    request = client.build_principal_request(2000.0, keys=client.want_keys)
    assert request == bytes.fromhex(rec["request_payload"])  # AUTH bit dropped, nonce replayed
    dec = Decoder(bytes.fromhex(rec["reply_front"]), "MAuthReply")
    assert dec.u32() == 2 and dec.s32() == 0  # protocol CEPHX, result 0
    assert dec.u64() == client.global_id
    payload = dec.blob()
    assert dec.string() == ""
    assert dec.at_end()
    assert client.handle_principal_reply(payload, 2000.0) == [MON, OSD, MGR]
    for sid in (MON, OSD, MGR):
        assert client.tickets[sid].ticket.blob != before[sid]  # fresh tickets
        assert client.tickets[sid].renew_after == 2000.0 + 2700
    assert client.tickets[AUTH].ticket.blob == before[AUTH]


def test_live_reconnect_reply_has_encrypted_ticket() -> None:
    v = load("mon_crc.json")
    done = frames(v["connections"][1], "rx", 6)[0]
    dec = Decoder(done[16:], "auth_done")
    dec.skip(2 + 4 + 1 + 4 + 4 + 1)
    dec.skip(dec.u32())  # the CephXServiceTicket block
    assert dec.u8() == 1  # ticket_enc: the encrypted-ticket path was exercised live
    first = Decoder(frames(v["connections"][0], "rx", 6)[0][16:], "auth_done")
    first.skip(2 + 4 + 1 + 4 + 4 + 1)
    first.skip(first.u32())
    assert first.u8() == 0


def test_live_ticket_lifetimes_and_renewal() -> None:
    v = load("mon_crc.json")
    client = CephxClient(v["name"], v["key"], rng=ReplayRng(v["rng"]))
    now = 5000.0
    replay_handshake(client.mon_handler(now), v["connections"][0])
    auth = client.tickets[AUTH]
    osd = client.tickets[OSD]
    assert auth.validity == 259200.0  # auth_mon_ticket_ttl
    assert osd.validity == 3600.0  # auth_service_ticket_ttl
    assert osd.expires == now + 3600 and osd.renew_after == now + 2700
    assert client.is_authenticated(now)
    assert not client.need_renew(now + 2699)
    assert client.need_keys(now + 2700) == MON | OSD | MGR
    assert client.have_keys(now + 3599) == AUTH | MON | OSD | MGR
    assert client.have_keys(now + 3600) == AUTH
    assert client.need_keys(now + 259200 * 3 / 4) == AUTH | MON | OSD | MGR
    assert not client.is_authenticated(now + 3600)


@pytest.mark.parametrize("mode", ["crc", "secure"])
def test_live_osd_authorizer_with_challenge(mode: str) -> None:
    v = load(f"osd_{mode}.json")
    client = CephxClient(v["name"], v["key"], rng=ReplayRng(v["rng"]))
    mon_conn, osd_conn = v["connections"]
    assert_signature_verifies(mon_conn, replay_handshake(client.mon_handler(1.0), mon_conn))
    handler = client.authorizer_handler(OSD)
    result = replay_handshake(handler, osd_conn)
    assert handler.challenged  # a 16.2.15 OSD always challenges first
    assert len(frames(osd_conn, "rx", 4)[0]) == 4 + 32  # bufferlist(raw 32-byte ciphertext)
    assert result.con_mode == (ConMode.SECURE if mode == "secure" else ConMode.CRC)
    assert result.session_key == client.tickets[OSD].session_key.secret  # type: ignore[union-attr]
    assert len(result.connection_secret) == (64 if mode == "secure" else 0)
    assert result.global_id == client.global_id
    assert_signature_verifies(osd_conn, result)


def test_live_wrong_key_fails_to_decrypt_mon_reply() -> None:
    v = load("mon_crc.json")
    wrong = CryptoKey(CryptoType.AES, (0, 0), b"w" * 16)
    client = CephxClient(v["name"], wrong, rng=ReplayRng(v["rng"]))
    conn = v["connections"][0]
    handler = client.mon_handler(0.0)
    handler.build_request()
    handler.handle_reply_more(Decoder(frames(conn, "rx", 4)[0], "m").blob())
    dec = Decoder(frames(conn, "rx", 6)[0], "AUTH_DONE")
    gid, mode, payload = dec.u64(), dec.u32(), dec.blob()
    with pytest.raises(AuthError) as ei:
        handler.handle_done(gid, ConMode(mode), payload)
    assert ei.value.errno == errno.EACCES
    assert "could not decrypt" in str(ei.value)
    assert client.tickets == {} and client.global_id == 0


@pytest.mark.parametrize("offset", [20, 40, 60])  # block 0 (magic), block 1, block 2
def test_tampered_mon_reply_leaves_state_untouched(offset: int) -> None:
    v = load("mon_crc.json")
    client = CephxClient(v["name"], v["key"], rng=ReplayRng(v["rng"]))
    conn0, conn1 = v["connections"]
    replay_handshake(client.mon_handler(0.0), conn0)
    before = dict(client.tickets)
    handler = client.mon_handler(1.0)
    handler.build_request()
    handler.handle_reply_more(Decoder(frames(conn1, "rx", 4)[0], "m").blob())
    dec = Decoder(frames(conn1, "rx", 6)[0], "AUTH_DONE")
    gid, mode, payload = dec.u64(), dec.u32(), bytearray(dec.blob())
    payload[offset] ^= 0xFF  # inside the first encrypted block (ciphertext starts at 20)
    with pytest.raises(AuthError) as ei:
        handler.handle_done(gid, ConMode(mode), bytes(payload))
    assert ei.value.errno == errno.EACCES
    assert client.tickets == before


def _handler_at_done(name: str, conn_index: int = 0) -> tuple[Any, int, int, bytes, CephxClient]:
    v = load(name)
    client = CephxClient(v["name"], v["key"], rng=ReplayRng(v["rng"]))
    conn = v["connections"][conn_index]
    handler = client.mon_handler(0.0)
    handler.build_request()
    handler.handle_reply_more(Decoder(frames(conn, "rx", 4)[0], "m").blob())
    dec = Decoder(frames(conn, "rx", 6)[0], "AUTH_DONE")
    return handler, dec.u64(), dec.u32(), dec.blob(), client


def test_live_auth_done_every_truncation_is_auth_error() -> None:
    handler, gid, mode, payload, client = _handler_at_done("mon_secure.json")
    for n in range(len(payload)):
        with pytest.raises(AuthError):
            handler.handle_done(gid, ConMode(mode), payload[:n])
        assert client.tickets == {} and client.global_id == 0
    assert handler.handle_done(gid, ConMode(mode), payload).global_id == gid


def test_live_auth_done_trailing_bytes_are_ignored_like_ceph() -> None:
    # CephxClientHandler::handle_response stops after the extra tickets; so do we.
    handler, gid, mode, payload, _ = _handler_at_done("mon_secure.json")
    result = handler.handle_done(gid, ConMode(mode), payload + b"trailing garbage")
    assert len(result.connection_secret) == 64


def test_live_osd_reply_every_truncation_is_auth_error() -> None:
    v = load("osd_secure.json")
    client = CephxClient(v["name"], v["key"], rng=ReplayRng(v["rng"]))
    mon_conn, osd_conn = v["connections"]
    replay_handshake(client.mon_handler(1.0), mon_conn)
    handler = client.authorizer_handler(OSD)
    handler.build_request()
    handler.handle_reply_more(Decoder(frames(osd_conn, "rx", 4)[0], "m").blob())
    dec = Decoder(frames(osd_conn, "rx", 6)[0], "AUTH_DONE")
    gid, mode, payload = dec.u64(), dec.u32(), dec.blob()
    for n in range(len(payload)):
        with pytest.raises(AuthError):
            handler.handle_done(gid, ConMode(mode), payload[:n])
    assert len(handler.handle_done(gid, ConMode(mode), payload).connection_secret) == 64


# -- synthetic server side (format pinned by the live vectors above) ------------------------


def make_key(seed: int) -> CryptoKey:
    return CryptoKey(CryptoType.AES, (seed, 0), bytes((seed + i) & 0xFF for i in range(16)))


def ticket_reply(key: CryptoKey, entries: list[tuple[int, CryptoKey, int, bytes]]) -> bytes:
    """cephx_build_service_ticket_reply as Ceph lays it out (unencrypted tickets)."""
    enc = Encoder()
    enc.u8(1)
    enc.u32(len(entries))
    for service_id, session_key, validity, blob in entries:
        enc.u32(service_id)
        enc.u8(1)
        a = Encoder()
        CephXServiceTicket(session_key, (validity, 0)).encode(a)
        enc.raw(encode_encrypt(key, a.getvalue()))
        enc.u8(0)
        tb = Encoder()
        CephXTicketBlob(100 + service_id, blob).encode(tb)
        enc.blob(tb.getvalue())
    return enc.getvalue()


def counter_rng() -> Callable[[int], bytes]:
    state = iter(range(1, 1 << 30))

    def rng(n: int) -> bytes:
        return next(state).to_bytes(n, "little")

    return rng


@pytest.fixture
def logged_in() -> Iterator[tuple[CephxClient, CryptoKey]]:
    """A client whose mon login is synthesized (to test later steps in isolation)."""
    secret = make_key(1)
    client = CephxClient("client.admin", secret, rng=counter_rng())
    h = client.mon_handler(0.0)
    h.build_request()
    h.handle_reply_more(bytes.fromhex("01") + (42).to_bytes(8, "little"))
    auth_sk = make_key(50)
    enc = Encoder()
    CephXResponseHeader(0x0100, 0).encode(enc)
    enc.raw(ticket_reply(secret, [(AUTH, auth_sk, 259200, b"auth-ticket")]))
    cbl = encode_encrypt(auth_sk, struct.pack("<I", 0))
    enc.blob(cbl)
    enc.blob(ticket_reply(auth_sk, [(MON, make_key(60), 3600, b"m"),
                                    (OSD, make_key(70), 3600, b"o")]))
    result = h.handle_done(4107, ConMode.CRC, enc.getvalue())
    assert result.session_key == auth_sk.secret
    yield client, auth_sk


def test_mon_request_payload_layout() -> None:
    client = CephxClient("client.admin", make_key(1))
    req = client.mon_handler(0.0).build_request()
    assert req == bytes([AUTH_MODE_MON]) + struct.pack("<I", 8) + struct.pack("<I", 5) + \
        b"admin" + struct.pack("<Q", 0)


def test_authenticate_payload_and_challenge_key(logged_in: tuple[CephxClient, CryptoKey]) -> None:
    client = CephxClient("client.admin", make_key(1), rng=lambda n: b"\x11" * n)
    h = client.mon_handler(0.0)
    out = h.handle_reply_more(bytes.fromhex("01") + (42).to_bytes(8, "little"))
    dec = Decoder(out, "req")
    assert dec.u16() == 0x0100
    auth = CephXAuthenticate.decode(dec)
    assert dec.at_end()
    assert auth.struct_v == 3
    assert auth.client_challenge == 0x1111111111111111
    assert auth.key == calc_client_server_challenge(make_key(1), 42, 0x1111111111111111)
    assert auth.old_ticket == CephXTicketBlob()  # global_id 0: no ticket (else -EINVAL)
    assert auth.other_keys == MON | OSD | MGR  # kernel: want_keys & ~AUTH


def test_calc_challenge_folds_length_word() -> None:
    key = make_key(3)
    blob = struct.pack("<QQ", 5, 6)
    enc = encode_encrypt(key, blob)
    assert len(enc) == 36
    words = struct.unpack("<4Q", enc[:32])
    assert calc_client_server_challenge(key, 5, 6) == words[0] ^ words[1] ^ words[2] ^ words[3]


def test_reconnect_presents_old_ticket(logged_in: tuple[CephxClient, CryptoKey]) -> None:
    client, _ = logged_in
    h = client.mon_handler(1.0)
    assert h.build_request()[-8:] == struct.pack("<Q", 4107)
    dec = Decoder(h.handle_reply_more(bytes.fromhex("01") + (7).to_bytes(8, "little")), "r")
    dec.u16()
    auth = CephXAuthenticate.decode(dec)
    assert auth.old_ticket == CephXTicketBlob(100 + AUTH, b"auth-ticket")


def test_mon_error_status_raises_with_its_errno() -> None:
    client = CephxClient("client.admin", make_key(1))
    h = client.mon_handler(0.0)
    h.handle_reply_more(bytes.fromhex("01") + (1).to_bytes(8, "little"))
    enc = Encoder()
    CephXResponseHeader(0x0100, -errno.EPERM).encode(enc)
    with pytest.raises(AuthError) as ei:
        h.handle_done(1, ConMode.CRC, enc.getvalue())
    assert ei.value.errno == errno.EPERM


def test_mon_handler_sequencing_errors() -> None:
    client = CephxClient("client.admin", make_key(1))
    h = client.mon_handler(0.0)
    with pytest.raises(AuthError):
        h.handle_done(1, ConMode.CRC, b"")
    h.handle_reply_more(bytes.fromhex("01") + (1).to_bytes(8, "little"))
    with pytest.raises(AuthError):
        h.handle_reply_more(bytes.fromhex("01") + (1).to_bytes(8, "little"))
    with pytest.raises(DecodeError):
        client.mon_handler(0.0).handle_reply_more(b"\x01\x02")


def test_secure_mode_without_secret_is_refused() -> None:
    secret = make_key(1)
    client = CephxClient("client.admin", secret, rng=counter_rng())
    h = client.mon_handler(0.0)
    h.handle_reply_more(bytes.fromhex("01") + (42).to_bytes(8, "little"))
    enc = Encoder()
    CephXResponseHeader(0x0100, 0).encode(enc)
    enc.raw(ticket_reply(secret, [(AUTH, make_key(50), 100, b"t")]))
    with pytest.raises(AuthError):
        h.handle_done(1, ConMode.SECURE, enc.getvalue())


def test_authorizer_layout_challenge_and_reply(logged_in: tuple[CephxClient, CryptoKey]) -> None:
    client, _ = logged_in
    osd_sk = make_key(70)
    h = AuthorizerHandler(client, OSD, nonce=0x1234)
    assert h.method == AuthMethod.CEPHX
    first = h.build_request()
    dec = Decoder(first, "authorizer")
    assert dec.u8() == 1 and dec.u64() == 4107 and dec.u32() == OSD
    assert CephXTicketBlob.decode(dec) == CephXTicketBlob(100 + OSD, b"o")
    base_len = dec.pos
    msg = CephXAuthorize.decode(Decoder(decrypt(osd_sk, dec.blob()), "a"))
    assert msg == CephXAuthorize(0x1234, False, 0)
    assert dec.at_end()
    # The OSD's challenge is raw ciphertext (no length word).
    ch = Encoder()
    CephXAuthorizeChallenge(2**64 - 1).encode(ch)
    second = h.handle_reply_more(encrypt(osd_sk, ch.getvalue()))
    assert second[:base_len] == first[:base_len]
    dec = Decoder(second, "authorizer")
    dec.skip(base_len)
    msg = CephXAuthorize.decode(Decoder(decrypt(osd_sk, dec.blob()), "a"))
    assert msg == CephXAuthorize(0x1234, True, 0)  # challenge + 1 wraps like a u64
    with pytest.raises(AuthError):
        h.handle_reply_more(encrypt(osd_sk, ch.getvalue()))
    # AUTH_DONE: length-prefixed ciphertext of CephXAuthorizeReply v2.
    rep = Encoder()
    CephXAuthorizeReply(0x1235, b"S" * 64).encode(rep)
    result = h.handle_done(4107, ConMode.SECURE, encode_encrypt(osd_sk, rep.getvalue()))
    assert result == AuthResult(4107, ConMode.SECURE, osd_sk.secret, b"S" * 64)


@pytest.mark.parametrize("nonce_plus_one", [0x1234, 0x1236])
def test_authorizer_reply_with_bad_nonce_is_rejected(
        logged_in: tuple[CephxClient, CryptoKey], nonce_plus_one: int) -> None:
    client, _ = logged_in
    h = AuthorizerHandler(client, OSD, nonce=0x1234)
    rep = Encoder()
    CephXAuthorizeReply(nonce_plus_one).encode(rep)
    with pytest.raises(AuthError) as ei:
        h.handle_done(1, ConMode.CRC, encode_encrypt(make_key(70), rep.getvalue()))
    assert ei.value.errno == errno.EACCES


def test_authorizer_reply_under_wrong_key_is_rejected(
        logged_in: tuple[CephxClient, CryptoKey]) -> None:
    client, _ = logged_in
    h = AuthorizerHandler(client, OSD, nonce=1)
    rep = Encoder()
    CephXAuthorizeReply(2).encode(rep)
    with pytest.raises(AuthError):
        h.handle_done(1, ConMode.CRC, encode_encrypt(make_key(99), rep.getvalue()))


def test_no_ticket_for_service(logged_in: tuple[CephxClient, CryptoKey]) -> None:
    client, _ = logged_in
    with pytest.raises(AuthError):
        AuthorizerHandler(client, MGR)


def test_principal_request_and_reply(logged_in: tuple[CephxClient, CryptoKey]) -> None:
    client, auth_sk = logged_in
    now = 3000.0  # past 3/4 of the 3600 s MON/OSD tickets; MGR never fetched
    assert client.need_keys(now) == MON | OSD | MGR
    payload = client.build_principal_request(now)
    dec = Decoder(payload, "MAuth payload")
    assert CephXRequestHeader.decode(dec) == CephXRequestHeader(0x0200)
    assert dec.u8() == 1 and dec.u64() == 4107 and dec.u32() == AUTH
    assert CephXTicketBlob.decode(dec) == CephXTicketBlob(100 + AUTH, b"auth-ticket")
    CephXAuthorize.decode(Decoder(decrypt(auth_sk, dec.blob()), "a"))
    assert CephXServiceTicketRequest.decode(dec) == CephXServiceTicketRequest(MON | OSD | MGR)
    assert dec.at_end()

    enc = Encoder()
    CephXResponseHeader(0x0200, 0).encode(enc)
    enc.raw(ticket_reply(auth_sk, [(MON, make_key(61), 3600, b"m2"),
                                   (OSD, make_key(71), 3600, b"o2"),
                                   (MGR, make_key(81), 3600, b"g2")]))
    assert client.handle_principal_reply(enc.getvalue(), now) == [MON, OSD, MGR]
    assert client.tickets[OSD].ticket.blob == b"o2"
    assert client.tickets[OSD].renew_after == now + 2700
    assert not client.need_renew(now)
    # The AUTH bit is never requested through MAuth (it needs a fresh challenge).
    tail = Decoder(client.build_principal_request(now, keys=AUTH | OSD)[-5:], "req")
    assert CephXServiceTicketRequest.decode(tail).keys == OSD


def test_principal_reply_error_status(logged_in: tuple[CephxClient, CryptoKey]) -> None:
    client, _ = logged_in
    enc = Encoder()
    CephXResponseHeader(0x0200, -errno.EACCES).encode(enc)
    enc.raw(b"\x01\x00\x00\x00\x00")
    with pytest.raises(AuthError) as ei:
        client.handle_principal_reply(enc.getvalue(), 0.0)
    assert ei.value.errno == errno.EACCES


def test_none_handler_payloads() -> None:
    name = EntityName.parse("client.admin")
    mon = NoneAuthHandler(name)
    assert mon.method == AuthMethod.NONE
    # ceph MonClient::get_auth_request / kernel ceph_auth_get_request (same for none).
    assert mon.build_request() == bytes.fromhex("0a" "08000000" "05000000") + b"admin" + \
        bytes(8)
    assert mon.handle_done(4100, ConMode.CRC, b"") == AuthResult(4100, ConMode.CRC, b"", b"")
    # kernel ceph_auth_none_build_authorizer: u8 1 | EntityName | le64 global_id
    osd = NoneAuthHandler(name, 4100, service=OSD)
    assert osd.build_request() == bytes.fromhex("01" "08000000" "05000000") + b"admin" + \
        struct.pack("<Q", 4100)
    with pytest.raises(AuthError):
        osd.handle_reply_more(b"")


def test_bad_method_from_live_mon_is_eacces() -> None:
    # AUTH_BAD_METHOD payload a 16.2.15 mon sent after a login with a wrong key
    # (tools/cephx_probe.py badkey): method 2, result -13, methods [2], modes [2, 1].
    raw = bytes.fromhex("02000000f3ffffff0100000002000000020000000200000001000000")
    dec = Decoder(raw, "AUTH_BAD_METHOD")
    err = bad_method_error(dec.u32(), dec.s32(), dec.list_(Decoder.u32), dec.list_(Decoder.u32))
    assert dec.at_end()
    assert err.errno == errno.EACCES
    assert "-13" in str(err)


def test_client_repr_and_key_parsing() -> None:
    c = CephxClient("client.admin", "AQAOtAVrSidAKhAAw/NpX4PhXxVheXuBxN/1Lw==")
    assert "client.admin" in repr(c)
    assert c.secret.secret.hex() not in repr(c)
    assert c.want_keys == AUTH | MON | OSD | MGR
    assert isinstance(c.mon_handler(0.0), MonAuthHandler)
