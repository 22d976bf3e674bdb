"""msgr2.1 secure mode: nonce layout and counting, block A/B/C layout, tamper detection.

The layout facts (FIELD_GUIDE §2.4) are pinned by building the expected ciphertext
independently with ``AESGCM`` and hand-made nonces, not by a round trip alone. No real-Ceph
secure bytes are available without cephx (see the task report).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rbdpy.rados.proto.errors import AuthError, IntegrityError, LocalProtocolError
from rbdpy.rados.proto.msgr2.frames import (
    Frame,
    FrameDecoder,
    Tag,
    encode_preamble,
    pad16,
)
from rbdpy.rados.proto.msgr2.secure import (
    HEAD_ONWIRE_LEN,
    SecureRx,
    SecureTx,
    session_ciphers,
)
from tests.helpers import feed_three_ways

SECRET = bytes(range(64))
Summary = tuple[int, tuple[bytes, ...]]
KEY = SECRET[:16]


def nonce(part: bytes, plus: int) -> bytes:
    fixed, counter = struct.unpack("<IQ", part)
    return struct.pack("<IQ", fixed, (counter + plus) % (1 << 64))


def wire(pieces: Sequence[bytes | bytearray | memoryview]) -> bytes:
    return b"".join(bytes(p) for p in pieces)


def secure_parser(secret: bytes = SECRET) -> Callable[[bytes], list[Summary]]:
    rx, _ = session_ciphers(secret)  # the client receives ...
    dec = FrameDecoder()
    dec.set_mode(rx)

    def feed(chunk: bytes) -> list[Summary]:
        dec.feed(chunk)
        out: list[Summary] = []
        while (f := dec.next_frame()) is not None:
            out.append((f.tag, tuple(bytes(s) for s in f.segments[: f.num_segments])))
        return out

    return feed


def server_tx(secret: bytes = SECRET) -> SecureTx:
    return session_ciphers(secret, server=True)[1]  # ... what the server sends


# -- keys and nonces --------------------------------------------------------------------------


def test_client_nonces_come_from_secret_and_server_crosses_them() -> None:
    client_rx, client_tx = session_ciphers(SECRET)
    server_rx, srv_tx = session_ciphers(SECRET, server=True)
    ct = client_tx.seal(b"hello")
    # client tx nonce = secret[28:40]
    assert ct == AESGCM(KEY).encrypt(SECRET[28:40], b"hello", None)
    assert server_rx.open(ct) == b"hello"
    ct2 = srv_tx.seal(b"world")
    assert ct2 == AESGCM(KEY).encrypt(SECRET[16:28], b"world", None)
    assert client_rx.open(ct2) == b"world"


def test_counter_is_the_le64_after_the_fixed_le32() -> None:
    tx = SecureTx(KEY, SECRET[28:40])
    for i in range(3):
        assert tx.seal(b"x") == AESGCM(KEY).encrypt(nonce(SECRET[28:40], i), b"x", None)
    assert tx.operations == 3


def test_counter_wraps_as_u64_and_fixed_part_is_untouched() -> None:
    start = struct.pack("<IQ", 0xAABBCCDD, (1 << 64) - 1)
    tx = SecureTx(KEY, start)
    tx.seal(b"a")
    assert tx.seal(b"b") == AESGCM(KEY).encrypt(struct.pack("<IQ", 0xAABBCCDD, 0), b"b", None)


def test_out_of_nonces() -> None:
    tx = SecureTx(KEY, SECRET[28:40])
    tx.seal(b"first")
    # Simulate 2**64 operations: the counter is back at its starting value.
    tx._counter = tx._initial_counter
    with pytest.raises(LocalProtocolError, match="out of nonces"):
        tx.seal(b"again")


def test_short_secret_rejected() -> None:
    with pytest.raises(AuthError, match="too short"):
        session_ciphers(bytes(39))
    session_ciphers(bytes(40))  # key + two nonces is enough


def test_repr_hides_key_material() -> None:
    rx, tx = session_ciphers(SECRET)
    assert SECRET[:4].hex() not in repr(rx) + repr(tx)


# -- block layout -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 32, 48])
def test_small_control_frame_is_one_block(n: int) -> None:
    payload = bytes(range(n))
    tx = server_tx()
    out = wire(tx.assemble(Tag.KEEPALIVE2, [payload]))
    assert len(out) == HEAD_ONWIRE_LEN and tx.operations == 1
    plain = encode_preamble(Tag.KEEPALIVE2, [n]) + payload + bytes(48 - n)
    assert out == AESGCM(KEY).encrypt(SECRET[16:28], plain, None)


@pytest.mark.parametrize("n", [49, 64, 65, 200])
def test_large_control_frame_is_two_blocks(n: int) -> None:
    payload = bytes(i & 0xFF for i in range(n))
    tx = server_tx()
    out = wire(tx.assemble(Tag.AUTH_DONE, [payload]))
    rem = n - 48
    assert len(out) == HEAD_ONWIRE_LEN + pad16(rem) + 16 and tx.operations == 2
    a = AESGCM(KEY).encrypt(SECRET[16:28], encode_preamble(Tag.AUTH_DONE, [n]) + payload[:48],
                            None)
    b = AESGCM(KEY).encrypt(nonce(SECRET[16:28], 1),
                            payload[48:] + bytes(pad16(rem) - rem), None)
    assert out == a + b


def test_message_frame_blocks() -> None:
    hdr, front, data = bytes(range(41)), b"F" * 20, b"D" * 33
    tx = server_tx()
    out = wire(tx.assemble(Tag.MESSAGE, [hdr, front, b"", data]))
    assert tx.operations == 2  # header2 fits block A; front+middle+data+epilogue is block C
    a = AESGCM(KEY).encrypt(
        SECRET[16:28], encode_preamble(Tag.MESSAGE, [41, 20, 0, 33]) + hdr + bytes(7), None)
    epilogue = b"\x0e" + bytes(15)
    c = AESGCM(KEY).encrypt(nonce(SECRET[16:28], 1),
                            front + bytes(12) + data + bytes(15) + epilogue, None)
    assert out == a + c


def test_empty_message_is_one_block() -> None:
    tx = server_tx()
    out = wire(tx.assemble(Tag.MESSAGE, [bytes(41), b"", b"", b""]))
    assert len(out) == HEAD_ONWIRE_LEN and tx.operations == 1


# -- receive ----------------------------------------------------------------------------------


def test_secure_frames_three_ways() -> None:
    frames = [
        (Tag.AUTH_SIGNATURE, [bytes(range(32))]),
        (Tag.WAIT, [b""]),
        (Tag.SERVER_IDENT, [bytes(range(88))]),
        (Tag.MESSAGE, [bytes(range(41)), b"front" * 11, b"", bytes(4097)]),
        (Tag.MESSAGE, [bytes(41), b"", b"", b""]),
        (Tag.MESSAGE, [bytes(41), b"", b"m", b""]),
        (Tag.KEEPALIVE2_ACK, [bytes(8)]),
    ]
    tx = server_tx()
    data = b"".join(wire(tx.assemble(t, s)) for t, s in frames)
    expected = [(t, tuple(s[: max(i for i, x in enumerate(s) if x or i == 0) + 1]))
                for t, s in frames]
    feed_three_ways(secure_parser, data, expected)


def test_secure_segments_are_views() -> None:
    tx = server_tx()
    rx, _ = session_ciphers(SECRET)
    dec = FrameDecoder()
    dec.set_mode(rx)
    dec.feed(wire(tx.assemble(Tag.MESSAGE, [bytes(41), b"front", b"", b"data"])))
    f = dec.next_frame()
    assert f is not None and all(isinstance(s, memoryview) for s in f.segments)
    assert bytes(f.segments[3]) == b"data"


@pytest.mark.parametrize("where", ["head", "remainder", "tail", "tag"])
def test_tampering_raises_integrity_error(where: str) -> None:
    tx = server_tx()
    if where == "remainder":
        out = bytearray(wire(tx.assemble(Tag.AUTH_DONE, [bytes(100)])))
        out[HEAD_ONWIRE_LEN + 3] ^= 1
    else:
        out = bytearray(wire(tx.assemble(Tag.MESSAGE, [bytes(41), b"front", b"", b"data"])))
        idx = {"head": 5, "tail": HEAD_ONWIRE_LEN + 2, "tag": len(out) - 1}[where]
        out[idx] ^= 1
    rx, _ = session_ciphers(SECRET)
    dec = FrameDecoder()
    dec.set_mode(rx)
    dec.feed(bytes(out))
    with pytest.raises(IntegrityError, match="GCM"):
        dec.next_frame()


def test_preamble_crc_is_still_checked_after_decryption() -> None:
    pre = bytearray(encode_preamble(Tag.ACK, [8]))
    pre[-1] ^= 0xFF  # break the crc, then encrypt it properly
    block = AESGCM(KEY).encrypt(SECRET[16:28], bytes(pre) + bytes(48), None)
    rx = SecureRx(KEY, SECRET[16:28])
    dec = FrameDecoder()
    dec.set_mode(rx)
    dec.feed(block)
    with pytest.raises(IntegrityError, match="preamble crc"):
        dec.next_frame()


def test_wrong_key_fails() -> None:
    tx = server_tx(bytes(64))
    dec = FrameDecoder()
    dec.set_mode(session_ciphers(SECRET)[0])
    dec.feed(wire(tx.assemble(Tag.ACK, [bytes(8)])))
    with pytest.raises(IntegrityError):
        dec.next_frame()


def test_mode_switch_refused_mid_frame() -> None:
    tx = server_tx()
    dec = FrameDecoder()
    dec.set_mode(session_ciphers(SECRET)[0])
    dec.feed(wire(tx.assemble(Tag.AUTH_DONE, [bytes(100)]))[:HEAD_ONWIRE_LEN])
    assert dec.next_frame() is None and dec.mid_frame
    with pytest.raises(LocalProtocolError):
        dec.set_mode(session_ciphers(SECRET)[0])


# -- a real secure session with a Pacific mon -------------------------------------------------
# tools/msgr2_probe.py --mode secure --cephx ... --record: every byte both ways plus the
# session key and connection secret cephx produced (throwaway cluster, one-off session).

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "msgr2"
SEC_RX = (VECTORS / "pacific16215_mon_cephx_secure.rx").read_bytes()
SEC_TX = (VECTORS / "pacific16215_mon_cephx_secure.tx").read_bytes()
SEC_KEYS = json.loads((VECTORS / "pacific16215_mon_cephx_secure.keys.json").read_text())


def split_plain_then_secure(stream: bytes, plain_frames: int, secret: bytes, *,
                            server: bool) -> tuple[list[Frame], list[Frame], bytes]:
    """Decode ``plain_frames`` crc frames after the banner, then the rest in secure mode."""
    dec = FrameDecoder()
    dec.capture = bytearray()
    dec.feed(stream)
    assert dec.read_exact(26) is not None
    plain = [f for _ in range(plain_frames) if (f := dec.next_frame()) is not None]
    assert len(plain) == plain_frames
    transcript = bytes(dec.capture)
    dec.capture = None
    rx = session_ciphers(secret, server=server)[0]
    dec.set_mode(rx)
    secure: list[Frame] = []
    while (f := dec.next_frame()) is not None:
        secure.append(f)
    assert dec.buffered == 0
    return plain, secure, transcript


def test_real_mon_secure_frames_decode() -> None:
    secret = bytes.fromhex(SEC_KEYS["connection_secret"])
    key = bytes.fromhex(SEC_KEYS["session_key"])
    plain, secure, _ = split_plain_then_secure(SEC_RX, 3, secret, server=False)
    assert [f.tag for f in plain] == [Tag.HELLO, Tag.AUTH_REPLY_MORE, Tag.AUTH_DONE]
    assert [f.tag for f in secure] == [Tag.AUTH_SIGNATURE, Tag.SERVER_IDENT, Tag.MESSAGE,
                                       Tag.KEEPALIVE2_ACK]
    sig, ident, msg, ka = secure
    # The mon's signature covers every byte we sent before AUTH_DONE (our banner, HELLO,
    # AUTH_REQUEST, AUTH_REQUEST_MORE), as FIELD_GUIDE §2.5 says.
    _, _, our_transcript = split_plain_then_secure(SEC_TX, 3, secret, server=True)
    assert bytes(sig.payload) == hmac.new(key, our_transcript, hashlib.sha256).digest()
    assert len(ident.payload) == 88
    assert msg.num_segments == 2 and len(msg.segments[1]) == 170
    assert bytes(ka.payload) == struct.pack("<II", 1_700_000_000, 123_456_789)


def test_real_mon_secure_stream_three_ways() -> None:
    secret = bytes.fromhex(SEC_KEYS["connection_secret"])
    plain_dec = FrameDecoder()
    plain_dec.feed(SEC_RX)
    assert plain_dec.read_exact(26) is not None
    for _ in range(3):
        assert plain_dec.next_frame() is not None
    tail = SEC_RX[len(SEC_RX) - plain_dec.buffered:]
    _, frames, _ = split_plain_then_secure(SEC_RX, 3, secret, server=False)
    expected = [(f.tag, tuple(bytes(s) for s in f.segments[: f.num_segments]))
                for f in frames]
    feed_three_ways(lambda: secure_parser(secret), tail, expected)


def test_our_secure_frames_match_what_the_mon_accepted() -> None:
    # Re-encrypt the plaintext of our recorded secure frames with a fresh SecureTx: the bytes
    # must be exactly those the real mon decrypted and accepted.
    secret = bytes.fromhex(SEC_KEYS["connection_secret"])
    _, ours, _ = split_plain_then_secure(SEC_TX, 3, secret, server=True)
    assert [f.tag for f in ours] == [Tag.AUTH_SIGNATURE, Tag.CLIENT_IDENT, Tag.MESSAGE,
                                     Tag.KEEPALIVE2, Tag.ACK]
    tx = session_ciphers(secret)[1]
    rebuilt = b"".join(wire(tx.assemble(f.tag, f.segments)) for f in ours)
    assert SEC_TX.endswith(rebuilt)
