"""FrameDecoder's direct receive path (large frames straight into their own buffers).

The transport asks ``direct_buffers(min_missing)`` once a large frame's preamble is in, fills
the returned views with a vectored read, and calls ``direct_filled()``. In crc mode a
MESSAGE with a large data segment is split in three parts and its data segment becomes a
``bytes`` object of its own (so a read can return it without a copy). These tests replay
frames from our crc assembler and from the secure assembler through that path at every
interesting split point: whatever was already buffered must be moved in front, crcs must
still be checked, and the bytes after the frame must parse normally afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from rbdpy.rados.proto.errors import (
    IntegrityError,
    LocalProtocolError,
    RemoteProtocolError,
)
from rbdpy.rados.proto.msgr2 import buffers, frames
from rbdpy.rados.proto.msgr2.frames import (
    EPILOGUE_CRC_LEN,
    PREAMBLE_LEN,
    FrameDecoder,
    Tag,
    assemble_crc,
)
from rbdpy.rados.proto.msgr2.secure import session_ciphers

SECRET = bytes(range(64))
MIN = 1024


def _wire(pieces: list[bytes | bytearray | memoryview]) -> bytes:
    return b"".join(bytes(p) for p in pieces)


def _message(data_len: int, front: bytes = b"front-bytes") -> tuple[list[bytes], bytes]:
    segs = [bytes(range(41)), front, b"", os.urandom(data_len)]
    return segs, _wire(assemble_crc(Tag.MESSAGE, segs))


def _fill(views: list[memoryview], src: bytes) -> int:
    pos = 0
    for v in views:
        v[:] = src[pos:pos + len(v)]
        pos += len(v)
    return pos


def _receive_direct(dec: FrameDecoder, wire: bytes, first: int) -> frames.Frame:
    """Feed ``first`` bytes, take the direct buffers, fill them from the rest, parse."""
    dec.feed(wire[:first])
    assert dec.next_frame() is None
    views = dec.direct_buffers(MIN)
    assert views is not None
    used = _fill(views, wire[first:])
    dec.direct_filled()
    if used < len(wire) - first:
        dec.feed(wire[first + used:])
    f = dec.next_frame()
    assert f is not None
    return f


@pytest.mark.parametrize("first", [
    PREAMBLE_LEN,  # just the preamble
    PREAMBLE_LEN + 10,  # inside header2
    PREAMBLE_LEN + 41 + 4 + 5,  # inside front
    PREAMBLE_LEN + 41 + 4 + 11 + 3000,  # inside the data segment
])
def test_split_message_three_parts(first: int) -> None:
    segs, wire = _message(64 * 1024)
    dec = FrameDecoder()
    f = _receive_direct(dec, wire, first)
    assert f.tag == Tag.MESSAGE and f.num_segments == 4
    assert [bytes(s) for s in f.segments] == segs
    if buffers._alloc_bytes is not None:
        # The data segment is its own bytes object: a read can return it as is.
        assert type(f.segments[3].obj) is bytes and len(f.segments[3].obj) == len(segs[3])
    assert dec.buffered == 0 and dec.next_frame() is None


def test_frames_after_a_direct_one_parse_normally() -> None:
    segs1, w1 = _message(10_000)
    segs2, w2 = _message(5, front=b"second")
    ka = _wire(assemble_crc(Tag.KEEPALIVE2_ACK, [bytes(8)]))
    dec = FrameDecoder()
    f = _receive_direct(dec, w1 + w2 + ka, PREAMBLE_LEN + 100)
    assert [bytes(s) for s in f.segments] == segs1
    f2 = dec.next_frame()
    assert f2 is not None and [bytes(s) for s in f2.segments] == segs2
    f3 = dec.next_frame()
    assert f3 is not None and f3.tag == Tag.KEEPALIVE2_ACK
    assert dec.next_frame() is None


def test_small_remainder_is_not_direct() -> None:
    _, wire = _message(100)
    dec = FrameDecoder()
    dec.feed(wire[:PREAMBLE_LEN])
    assert dec.next_frame() is None
    assert dec.direct_buffers(MIN) is None


def test_control_frame_takes_the_single_buffer_path() -> None:
    payload = os.urandom(5000)
    wire = _wire(assemble_crc(Tag.AUTH_REPLY_MORE, [payload]))
    dec = FrameDecoder()
    f = _receive_direct(dec, wire, PREAMBLE_LEN + 7)
    assert bytes(f.payload) == payload


@pytest.mark.parametrize("where", ["front", "data", "epilogue"])
def test_split_message_crc_checked(where: str) -> None:
    _, wire = _message(8192)
    bad = bytearray(wire)
    off = {"front": PREAMBLE_LEN + 41 + 4 + 2, "data": len(wire) - EPILOGUE_CRC_LEN - 100,
           "epilogue": len(wire) - 2}[where]
    bad[off] ^= 0x40
    dec = FrameDecoder()
    dec.feed(bytes(bad[:PREAMBLE_LEN]))
    assert dec.next_frame() is None
    views = dec.direct_buffers(MIN)
    assert views is not None
    _fill(views, bytes(bad[PREAMBLE_LEN:]))
    with pytest.raises(IntegrityError):
        dec.direct_filled()


def _fill_reporting(dec: FrameDecoder, views: list[memoryview], src: bytes,
                    step: int) -> None:
    """Fill ``views`` ``step`` bytes at a time (across view boundaries, like a vectored
    recv), reporting each stretch through ``direct_progress``."""
    flat = [(v, i) for v in views for i in range(0, len(v), step)]
    pos = 0
    for v, i in flat:
        k = min(step, len(v) - i)
        v[i:i + k] = src[pos:pos + k]
        pos += k
        dec.direct_progress(k)


@pytest.mark.parametrize("first", [PREAMBLE_LEN, PREAMBLE_LEN + 41 + 4 + 11 + 70_001])
@pytest.mark.parametrize("step", [1, 4093, 64 * 1024, 200_000, 1 << 30])
def test_split_message_crc_checked_as_it_arrives(first: int, step: int) -> None:
    # The data segment's crc is computed a stretch at a time from direct_progress; the
    # frame must come out the same whatever the chunking (and with no progress at all).
    segs, wire = _message(300_000 if step > 1 else 90_000)
    dec = FrameDecoder()
    dec.feed(wire[:first])
    assert dec.next_frame() is None
    views = dec.direct_buffers(MIN)
    assert views is not None
    _fill_reporting(dec, views, wire[first:], step)
    dec.direct_filled()
    f = dec.next_frame()
    assert f is not None and [bytes(s) for s in f.segments] == segs
    assert dec.buffered == 0 and dec.next_frame() is None


@pytest.mark.parametrize("offset", [0, 1, 65_535, 65_536, 150_000, 299_999])
def test_split_message_bad_data_found_as_it_arrives(offset: int) -> None:
    _, wire = _message(300_000)
    bad = bytearray(wire)
    data_start = len(wire) - EPILOGUE_CRC_LEN - 300_000
    bad[data_start + offset] ^= 0x01
    dec = FrameDecoder()
    dec.feed(bytes(bad[:PREAMBLE_LEN]))
    assert dec.next_frame() is None
    views = dec.direct_buffers(MIN)
    assert views is not None
    _fill_reporting(dec, views, bytes(bad[PREAMBLE_LEN:]), 30_000)
    with pytest.raises(IntegrityError):
        dec.direct_filled()


def test_progress_state_does_not_leak_into_the_next_frame() -> None:
    segs1, w1 = _message(200_000)
    segs2, w2 = _message(150_000, front=b"second")
    dec = FrameDecoder()
    got = []
    for wire in (w1, w2):
        dec.feed(wire[:PREAMBLE_LEN + 3])
        assert dec.next_frame() is None
        views = dec.direct_buffers(MIN)
        assert views is not None
        _fill_reporting(dec, views, wire[PREAMBLE_LEN + 3:], 70_000)
        dec.direct_filled()
        f = dec.next_frame()
        assert f is not None
        got.append([bytes(s) for s in f.segments])
    assert got == [segs1, segs2]


def test_aborted_split_message_is_dropped() -> None:
    _, wire = _message(8192)
    bad = bytearray(wire)
    bad[-EPILOGUE_CRC_LEN] = frames.LATE_STATUS_ABORTED
    dec = FrameDecoder()
    dec.feed(bytes(bad[:PREAMBLE_LEN]))
    assert dec.next_frame() is None
    views = dec.direct_buffers(MIN)
    assert views is not None
    _fill(views, bytes(bad[PREAMBLE_LEN:]))
    dec.direct_filled()
    assert dec.next_frame() is None


def test_feed_while_filling_is_refused() -> None:
    _, wire = _message(8192)
    dec = FrameDecoder()
    dec.feed(wire[:PREAMBLE_LEN])
    assert dec.next_frame() is None
    assert dec.direct_buffers(MIN) is not None
    with pytest.raises(LocalProtocolError):
        dec.feed(b"x")


def test_filled_without_buffers_is_refused() -> None:
    with pytest.raises(LocalProtocolError):
        FrameDecoder().direct_filled()


@pytest.mark.parametrize("first", [0, 100, 3000])
def test_secure_message_single_buffer(first: int) -> None:
    rx, _ = session_ciphers(SECRET)
    tx = session_ciphers(SECRET, server=True)[1]
    segs = [bytes(range(41)), b"front", b"", os.urandom(20_000)]
    wire = _wire(tx.assemble(Tag.MESSAGE, segs))
    dec = FrameDecoder()
    dec.set_mode(rx)
    f = _receive_direct(dec, wire, rx.head_len + first)
    assert [bytes(s) for s in f.segments] == segs


def test_bytes_allocator_makes_fresh_objects() -> None:
    if buffers._alloc_bytes is None:
        pytest.skip("no CPython C API here")
    a, wa = buffers._alloc_bytes(5000)
    b, wb = buffers._alloc_bytes(5000)
    wa[:] = b"a" * 5000
    wb[:] = b"b" * 5000
    assert a == b"a" * 5000 and b == b"b" * 5000 and a is not b


def test_secure_frames_reusing_the_receive_buffer_stay_intact() -> None:
    # Large secure frames are received into one reused ciphertext buffer: the segments of
    # an earlier frame must not change when the next one arrives.
    rx, _ = session_ciphers(SECRET)
    tx = session_ciphers(SECRET, server=True)[1]
    msgs = [[bytes(range(41)), b"front%d" % i, b"m" * i, os.urandom(9000 + 1000 * i)]
            for i in range(3)]
    dec = FrameDecoder()
    dec.set_mode(rx)
    got = []
    for segs in msgs:
        got.append(_receive_direct(dec, _wire(tx.assemble(Tag.MESSAGE, segs)),
                                   rx.head_len + 5))
    for f, segs in zip(got, msgs, strict=True):
        # segment 2 (middle) is empty for i == 0: still four segments (data is last)
        assert [bytes(s) for s in f.segments] == segs
    if buffers._alloc_bytes is not None:
        assert all(type(f.segments[3].obj) is bytes for f in got)


@pytest.mark.parametrize("where", [-1, -20, -3000])
def test_secure_split_tampering_raises(where: int) -> None:
    rx, _ = session_ciphers(SECRET)
    tx = session_ciphers(SECRET, server=True)[1]
    wire = bytearray(_wire(tx.assemble(Tag.MESSAGE, [bytes(41), b"f", b"", bytes(8000)])))
    wire[where] ^= 1
    dec = FrameDecoder()
    dec.set_mode(rx)
    dec.feed(bytes(wire[:rx.head_len]))
    assert dec.next_frame() is None
    views = dec.direct_buffers(MIN)
    assert views is not None
    _fill(views, bytes(wire[rx.head_len:]))
    with pytest.raises(IntegrityError):
        dec.direct_filled()


# -- the whole-frame-in-one-chunk fast path (FrameDecoder._crc_frame_in_first_chunk) ----------


@pytest.mark.parametrize("where", ["preamble", "seg0", "front", "data", "epilogue"])
def test_fast_path_corruption_still_raises(where: str) -> None:
    _, wire = _message(300)
    bad = bytearray(wire)
    off = {"preamble": 2, "seg0": PREAMBLE_LEN + 3, "front": PREAMBLE_LEN + 41 + 4 + 1,
           "data": len(wire) - EPILOGUE_CRC_LEN - 5, "epilogue": len(wire) - 3}[where]
    bad[off] ^= 0x10
    dec = FrameDecoder()
    dec.feed(bytes(bad))
    with pytest.raises(IntegrityError):
        dec.next_frame()


def test_fast_path_drops_aborted_four_segment_frame() -> None:
    _, w1 = _message(300)
    segs2, w2 = _message(7, front=b"next")
    bad = bytearray(w1)
    bad[-EPILOGUE_CRC_LEN] = frames.LATE_STATUS_ABORTED
    dec = FrameDecoder()
    dec.feed(bytes(bad) + w2)
    f = dec.next_frame()
    assert f is not None and [bytes(s) for s in f.segments] == segs2
    assert dec.next_frame() is None and dec.buffered == 0


def test_fast_path_many_frames_in_one_chunk() -> None:
    msgs = [_message(n, front=b"f%d" % n) for n in (1, 50, 4096, 3)]
    ack = _wire(assemble_crc(Tag.ACK, [bytes(8)]))
    dec = FrameDecoder()
    dec.feed(b"".join(w for _, w in msgs) + ack + b"\x01\x02")  # + start of the next one
    for segs, _ in msgs:
        f = dec.next_frame()
        assert f is not None and [bytes(s) for s in f.segments] == segs
    f = dec.next_frame()
    assert f is not None and f.tag == Tag.ACK and f.num_segments == 1
    assert dec.next_frame() is None and dec.buffered == 2


SHAPES = [
    [b"h" * 41],  # one segment (control frames)
    [b"h" * 41, b"front"],  # a write's reply: header and front
    [b"h" * 41, b"", b"middle"],
    [b"h" * 41, b"front", b"middle"],
    [b"h" * 41, b"front", b"", b"data" * 100],
    [b"h" * 41, b"", b"", b"d"],
    [b"", b"front"],  # an empty first segment carries no crc of its own
]


def _byte_by_byte(wire: bytes) -> list[frames.Frame]:
    dec = FrameDecoder()
    out = []
    for i in range(len(wire)):
        dec.feed(wire[i:i + 1])
        f = dec.next_frame()
        if f is not None:
            out.append(f)
    return out


@pytest.mark.parametrize("segs", SHAPES, ids=lambda s: "+".join(str(len(x)) for x in s))
def test_fast_path_takes_every_segment_count(segs: list[bytes]) -> None:
    # A whole frame in one chunk goes through the fast path whatever its segment count,
    # and comes out exactly as the general path (fed byte by byte) makes it.
    wire = _wire(assemble_crc(Tag.MESSAGE, segs))
    dec = FrameDecoder()
    dec.feed(wire + b"\x07")  # and a byte of the next frame
    fast = dec._crc_frame_in_first_chunk()
    assert fast is not None and dec.buffered == 1
    (slow,) = _byte_by_byte(wire)
    assert (fast.tag, fast.num_segments) == (slow.tag, slow.num_segments) == (
        Tag.MESSAGE, len(segs))
    assert [bytes(x) for x in fast.segments] == [bytes(x) for x in slow.segments] == (
        segs + [b""] * (4 - len(segs)))


def _outcome(feed: Callable[[], list[frames.Frame]]) -> object:
    try:
        return [[bytes(x) for x in f.segments] for f in feed()]
    except IntegrityError:
        return "IntegrityError"
    except (RemoteProtocolError, LocalProtocolError) as e:
        return type(e).__name__


@pytest.mark.parametrize("segs", SHAPES[1:4], ids=lambda s: "+".join(str(len(x)) for x in s))
def test_fast_path_checks_each_counted_segment(segs: list[bytes]) -> None:
    # Every flipped bit after the preamble: the fast path (whole chunk) and the general
    # path (byte by byte) agree, and a counted segment's byte never passes unnoticed.
    wire = _wire(assemble_crc(Tag.MESSAGE, segs))
    epilogue = len(wire) - EPILOGUE_CRC_LEN
    for i in range(PREAMBLE_LEN, len(wire)):
        bad = bytearray(wire)
        bad[i] ^= 0x20

        def whole(data: bytes = bytes(bad)) -> list[frames.Frame]:
            dec = FrameDecoder()
            dec.feed(data)
            f = dec.next_frame()
            return [f] if f is not None else []

        fast, slow = _outcome(whole), _outcome(lambda data=bytes(bad): _byte_by_byte(data))
        assert fast == slow, i
        if i < epilogue:
            assert fast == "IntegrityError", i


def test_lengths_past_the_segment_count_are_ignored_by_both_paths() -> None:
    import struct

    from rbdpy.rados.proto.crc32c import ceph_crc32c

    wire = bytearray(_wire(assemble_crc(Tag.MESSAGE, [b"h" * 41, b"front"])))
    struct.pack_into("<I", wire, 2 + 3 * 6, 12345)  # segment 3's length, uncounted (n = 2)
    struct.pack_into("<I", wire, 28, ceph_crc32c(0, bytes(wire[:28])))
    dec = FrameDecoder()
    dec.feed(bytes(wire))
    fast = dec._crc_frame_in_first_chunk()
    (slow,) = _byte_by_byte(bytes(wire))
    assert fast is not None and [bytes(x) for x in fast.segments] == [
        bytes(x) for x in slow.segments] == [b"h" * 41, b"front", b"", b""]
