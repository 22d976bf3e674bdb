"""msgr2.1 crc-mode frames: preamble, layout, FrameDecoder (three-way feed), integrity checks.

Foreign bytes: tests/vectors/msgr2/pacific16215_mon_authnone_crc.rx is everything a real
Pacific 16.2.15 ceph-mon sent to tools/msgr2_probe.py (banner, HELLO, AUTH_DONE,
AUTH_SIGNATURE, SERVER_IDENT, an MMonMap MESSAGE, KEEPALIVE2_ACK). Decoding it checks our
preamble/segment/epilogue crcs against Ceph's; re-assembling it checks our encoder.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from rbdpy.rados.proto.crc32c import ceph_crc32c
from rbdpy.rados.proto.errors import IntegrityError, LocalProtocolError, RemoteProtocolError
from rbdpy.rados.proto.msgr2.frames import (
    CRC_LEN,
    EPILOGUE_CRC_LEN,
    LATE_STATUS_ABORTED,
    PREAMBLE_LEN,
    Frame,
    FrameDecoder,
    Tag,
    assemble_crc,
    decode_preamble,
    encode_preamble,
    num_segments,
    pad16,
)
from tests.helpers import feed_three_ways

VECTORS = Path(__file__).resolve().parents[3] / "vectors" / "msgr2"
MON_RX = VECTORS / "pacific16215_mon_authnone_crc.rx"
BANNER_LEN = 26
Summary = tuple[int, tuple[bytes, ...]]


def frames_parser(max_frame_size: int = 1 << 20) -> Callable[[bytes], list[Summary]]:
    dec = FrameDecoder(max_frame_size)

    def feed(chunk: bytes) -> list[Summary]:
        dec.feed(chunk)
        out: list[Summary] = []
        while (f := dec.next_frame()) is not None:
            out.append(summary(f))
        return out

    return feed


def summary(f: Frame) -> Summary:
    return f.tag, tuple(bytes(s) for s in f.segments[: f.num_segments])


def wire(pieces: Sequence[bytes | bytearray | memoryview]) -> bytes:
    return b"".join(bytes(p) for p in pieces)


def mon_frames() -> list[Frame]:
    dec = FrameDecoder()
    dec.feed(MON_RX.read_bytes()[BANNER_LEN:])
    out: list[Frame] = []
    while (f := dec.next_frame()) is not None:
        out.append(f)
    assert dec.buffered == 0
    return out


# -- tags and constants ----------------------------------------------------------------------


def test_tag_values_match_ceph() -> None:
    # frames_v2.h enum class Tag / kernel FRAME_TAG_*
    assert (Tag.HELLO, Tag.AUTH_DONE, Tag.CLIENT_IDENT, Tag.WAIT, Tag.MESSAGE, Tag.ACK) == (
        1, 6, 8, 16, 17, 20)
    assert len(Tag) == 20


def test_num_segments_drops_trailing_empty() -> None:
    assert num_segments([41, 0, 0, 0]) == 1
    assert num_segments([41, 5, 0, 0]) == 2
    assert num_segments([41, 0, 0, 7]) == 4
    assert num_segments([0, 0, 0, 0]) == 1
    assert pad16(0) == 0 and pad16(1) == 16 and pad16(16) == 16 and pad16(17) == 32


# -- foreign vectors from a real Pacific mon --------------------------------------------------


def test_real_mon_stream_decodes() -> None:
    frames = mon_frames()
    assert [f.tag for f in frames] == [
        Tag.HELLO, Tag.AUTH_DONE, Tag.AUTH_SIGNATURE, Tag.SERVER_IDENT, Tag.MESSAGE,
        Tag.KEEPALIVE2_ACK]
    hello, auth_done, sig, ident, msg, ka = frames
    assert len(hello.payload) == 36 and hello.payload[0] == 1  # entity type MON
    assert bytes(sig.payload) == bytes(32)  # auth none: all-zero signature
    assert msg.num_segments == 2 and len(msg.segments[0]) == 41 and len(msg.segments[1]) == 170
    assert bytes(ka.payload) == struct.pack("<II", 1_700_000_000, 123_456_789)
    assert len(auth_done.payload) == 16 and len(ident.payload) == 88


def test_real_mon_stream_three_ways() -> None:
    data = MON_RX.read_bytes()[BANNER_LEN:]
    expected = [summary(f) for f in mon_frames()]
    feed_three_ways(frames_parser, data, expected)


def test_real_mon_preamble_matches_our_encoder() -> None:
    raw = MON_RX.read_bytes()[BANNER_LEN:BANNER_LEN + PREAMBLE_LEN]
    pre = decode_preamble(raw)
    assert (pre.tag, pre.lens, pre.aligns, pre.flags) == (Tag.HELLO, (36,), (8,), 0)
    assert encode_preamble(Tag.HELLO, [36], [8]) == raw


def test_real_mon_frames_reassemble_byte_for_byte() -> None:
    # Ceph's mon uses alignment 8 for every segment of these frames, like our defaults for
    # segments 0..2, so our crc-mode assembler must reproduce its bytes exactly.
    data = MON_RX.read_bytes()[BANNER_LEN:]
    rebuilt = b"".join(wire(assemble_crc(f.tag, f.segments)) for f in mon_frames())
    assert rebuilt == data


# -- layout -----------------------------------------------------------------------------------


def test_control_frame_layout() -> None:
    payload = b"0123456789"
    out = wire(assemble_crc(Tag.KEEPALIVE2, [payload]))
    assert len(out) == PREAMBLE_LEN + len(payload) + CRC_LEN  # no epilogue for one segment
    assert out[PREAMBLE_LEN:-CRC_LEN] == payload
    assert struct.unpack("<I", out[-4:])[0] == ceph_crc32c(0xFFFFFFFF, payload)


def test_empty_single_segment_frame_is_preamble_only() -> None:
    out = wire(assemble_crc(Tag.WAIT, [b""]))
    assert len(out) == PREAMBLE_LEN
    feed_three_ways(frames_parser, out, [(Tag.WAIT, (b"",))])


def test_message_frame_is_zero_copy_and_crcs_follow_kernel_rules() -> None:
    header = bytes(41)
    data = memoryview(bytearray(b"D" * 5000))
    pieces = assemble_crc(Tag.MESSAGE, [header, b"", b"", data])
    assert any(p is data for p in pieces), "data segment must be the caller's buffer"
    out = wire(pieces)
    late, c1, c2, c3 = struct.unpack("<BIII", out[-EPILOGUE_CRC_LEN:])
    # used-but-empty front/middle: crc of nothing with seed -1 == 0xFFFFFFFF
    assert (late, c1, c2) == (0x0E, 0xFFFFFFFF, 0xFFFFFFFF)
    assert c3 == ceph_crc32c(0xFFFFFFFF, data)
    # front only: unused trailing segments carry crc 0
    out = wire(assemble_crc(Tag.MESSAGE, [header, b"front", b"", b""]))
    assert struct.unpack("<BIII", out[-EPILOGUE_CRC_LEN:])[2:] == (0, 0)


def test_message_frame_three_ways() -> None:
    segs = [bytes(range(41)), b"front" * 7, b"mid", bytes(300)]
    data = wire(assemble_crc(Tag.MESSAGE, segs)) + wire(assemble_crc(Tag.ACK, [bytes(8)]))
    feed_three_ways(frames_parser, data,
                    [(Tag.MESSAGE, tuple(segs)), (Tag.ACK, (bytes(8),))])


def test_decoded_segments_are_views() -> None:
    dec = FrameDecoder()
    dec.feed(wire(assemble_crc(Tag.MESSAGE, [bytes(41), b"f", b"", b"dd"])))
    f = dec.next_frame()
    assert f is not None
    assert all(isinstance(s, memoryview) for s in f.segments)
    assert (bytes(f.segments[1]), bytes(f.segments[2]), bytes(f.segments[3])) == (b"f", b"", b"dd")


# -- integrity --------------------------------------------------------------------------------


def test_bad_preamble_crc() -> None:
    out = bytearray(wire(assemble_crc(Tag.ACK, [bytes(8)])))
    out[2] ^= 0x01  # segment length byte, covered by the preamble crc
    dec = FrameDecoder()
    dec.feed(bytes(out))
    with pytest.raises(IntegrityError, match="bad preamble crc"):
        dec.next_frame()


def test_bad_segment0_crc() -> None:
    out = bytearray(wire(assemble_crc(Tag.ACK, [bytes(8)])))
    out[PREAMBLE_LEN] ^= 0x80
    dec = FrameDecoder()
    dec.feed(bytes(out))
    with pytest.raises(IntegrityError, match="segment 0 crc"):
        dec.next_frame()


def test_bad_epilogue_crc() -> None:
    out = bytearray(wire(assemble_crc(Tag.MESSAGE, [bytes(41), b"front", b"", b""])))
    out[-EPILOGUE_CRC_LEN - 1] ^= 0xFF  # last byte of front
    dec = FrameDecoder()
    dec.feed(bytes(out))
    with pytest.raises(IntegrityError, match="segment 1 crc"):
        dec.next_frame()


def test_real_mon_message_bit_flip_is_caught() -> None:
    data = bytearray(MON_RX.read_bytes()[BANNER_LEN:])
    idx = data.find(b"\x11\x02\x29\x00")  # the MMonMap MESSAGE preamble
    assert idx > 0
    data[idx + PREAMBLE_LEN + 41 + CRC_LEN + 20] ^= 0x04  # a byte inside the monmap front
    dec = FrameDecoder()
    dec.feed(bytes(data))
    with pytest.raises(IntegrityError):
        while dec.next_frame() is not None:
            pass


def test_truncated_frame_never_yields() -> None:
    out = wire(assemble_crc(Tag.MESSAGE, [bytes(41), b"front", b"", b"data"]))
    dec = FrameDecoder()
    for i in range(len(out) - 1):
        dec.feed(out[i:i + 1])
        assert dec.next_frame() is None
    dec.feed(out[-1:])
    assert dec.next_frame() is not None


def _raw_preamble(tag: int, n: int, lens: tuple[int, int, int, int], flags: int = 0) -> bytes:
    body = struct.pack("<BBIHIHIHIHBB", tag, n, lens[0], 8, lens[1], 8, lens[2], 8, lens[3],
                       8, flags, 0)
    return body + struct.pack("<I", ceph_crc32c(0, body))


def test_oversized_length_rejected_on_preamble_alone() -> None:
    dec = FrameDecoder(max_frame_size=1 << 20)
    dec.feed(_raw_preamble(Tag.MESSAGE, 4, (41, 0, 0, 0x7FFF_FFFF)))
    with pytest.raises(RemoteProtocolError, match="exceeds limit"):
        dec.next_frame()  # only 32 bytes buffered: nothing was allocated for the body


@pytest.mark.parametrize(("n", "lens", "flags", "match"), [
    (0, (0, 0, 0, 0), 0, "bad segment count"),
    (5, (8, 0, 0, 0), 0, "bad segment count"),
    (2, (41, 0, 0, 0), 0, "last segment empty"),
    (1, (8, 0, 0, 0), 1, "compression"),
])
def test_malformed_preambles(n: int, lens: tuple[int, int, int, int], flags: int,
                             match: str) -> None:
    with pytest.raises(RemoteProtocolError, match=match):
        decode_preamble(_raw_preamble(Tag.ACK, n, lens, flags))


def test_aborted_frame_is_dropped() -> None:
    aborted = bytearray(wire(assemble_crc(Tag.MESSAGE, [bytes(41), b"front", b"", b""])))
    aborted[-EPILOGUE_CRC_LEN] = LATE_STATUS_ABORTED
    good = wire(assemble_crc(Tag.ACK, [bytes(8)]))
    feed_three_ways(frames_parser, bytes(aborted) + good, [(Tag.ACK, (bytes(8),))])


def test_bad_late_status() -> None:
    bad = bytearray(wire(assemble_crc(Tag.MESSAGE, [bytes(41), b"front", b"", b""])))
    bad[-EPILOGUE_CRC_LEN] = 0x05
    dec = FrameDecoder()
    dec.feed(bytes(bad))
    with pytest.raises(RemoteProtocolError, match="late_status"):
        dec.next_frame()


def test_encode_preamble_rejects_bad_counts() -> None:
    with pytest.raises(LocalProtocolError):
        encode_preamble(Tag.ACK, [])
    with pytest.raises(LocalProtocolError):
        encode_preamble(Tag.ACK, [1, 1, 1, 1, 1])


def test_read_exact_and_capture() -> None:
    dec = FrameDecoder()
    dec.capture = bytearray()
    dec.feed(b"ceph v2\n" + b"\x10\x00")
    assert dec.read_exact(11) is None
    assert dec.read_exact(10) == b"ceph v2\n\x10\x00"
    frame = wire(assemble_crc(Tag.ACK, [bytes(8)]))
    dec.feed(frame)
    assert dec.next_frame() is not None
    assert bytes(dec.capture) == b"ceph v2\n\x10\x00" + frame
