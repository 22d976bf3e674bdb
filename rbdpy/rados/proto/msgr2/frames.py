"""msgr2.1 frames: tags, the preamble, crc-mode layout, and an incremental frame decoder.

Theory of operation: after the banner, everything on a msgr2 connection is a *frame*: a
32-byte preamble (tag, up to four segment lengths, a crc over itself) followed by up to four
segments. Control frames carry one segment; MESSAGE frames carry four (header2, front,
middle, data). How segments are protected depends on the connection mode:

* crc mode (this module): ``preamble | seg0 | le32 crc(seg0)`` and, only when there is more
  than one segment, ``seg1 | seg2 | seg3 | epilogue`` where the 13-byte epilogue holds a
  late_status byte and the crcs of segments 1..3. An empty segment 0 has no crc.
* secure mode (``secure.py``): the same logical frame, AES-GCM encrypted in up to three blocks.

:func:`assemble_crc` returns a *list* of buffers: the preamble and segment 0 are packed into
one small ``bytes``; segments 1..3 are the caller's own buffers, untouched (zero copy, like the
kernel's kvecs). :class:`FrameDecoder` accepts bytes in chunks of any size. It only consumes a
frame's bytes once all of them are present ("commit or leave it"), so a partial frame costs
nothing but buffering. The one exception is secure mode, where the 96-byte head block must be
decrypted to learn the frame length; its plaintext is then kept as pending state, because the
GCM nonce it used cannot be given back. Every length is checked against ``max_frame_size``
as soon as the preamble is read, before any buffer for the frame is allocated.

The per-mode layout sits behind :class:`FrameMode` (``CrcMode`` here, ``SecureRx`` in
``secure.py``) so the decoder itself is one loop for both modes.

Mirrors: ceph src/msg/async/frames_v2.{h,cc} (preamble_block_t, epilogue_crc_rev1_block_t,
FrameAssembler::asm_crc_rev1, disasm_first_crc_rev1, disasm_remaining_crc_rev1,
calc_num_segments); kernel net/ceph/messenger_v2.c (encode_preamble, decode_preamble,
prepare_message_plain, verify_epilogue_crcs); ceph doc/dev/msgr2.rst.
"""

from __future__ import annotations

import logging
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from crc32c import crc32c as _wheel_crc32c

from rbdpy.rados.proto.bytestr import Buffer, Gather, Payload
from rbdpy.rados.proto.crc32c import ceph_crc32c
from rbdpy.rados.proto.errors import (
    BadCrcError,
    FrameTooLargeError,
    LocalProtocolError,
    MalformedFrameError,
)
from rbdpy.rados.proto.msgr2.buffers import alloc_segment

log = logging.getLogger(__name__)


class Tag(IntEnum):
    """Frame tags (ceph src/msg/async/frames_v2.h ``enum class Tag``; kernel FRAME_TAG_*)."""

    HELLO = 1
    AUTH_REQUEST = 2
    AUTH_BAD_METHOD = 3
    AUTH_REPLY_MORE = 4
    AUTH_REQUEST_MORE = 5
    AUTH_DONE = 6
    AUTH_SIGNATURE = 7
    CLIENT_IDENT = 8
    SERVER_IDENT = 9
    IDENT_MISSING_FEATURES = 10
    SESSION_RECONNECT = 11
    SESSION_RESET = 12
    SESSION_RETRY = 13
    SESSION_RETRY_GLOBAL = 14
    SESSION_RECONNECT_OK = 15
    WAIT = 16
    MESSAGE = 17
    KEEPALIVE2 = 18
    KEEPALIVE2_ACK = 19
    ACK = 20


# Sizes (kernel include/linux/ceph/messenger.h CEPH_PREAMBLE_*, CEPH_EPILOGUE_*, CEPH_GCM_*).
PREAMBLE_LEN = 32
PREAMBLE_INLINE_LEN = 48  # secure mode: this much of segment 0 rides in the head block
CRC_LEN = 4
EPILOGUE_CRC_LEN = 13
GCM_TAG_LEN = 16
GCM_BLOCK_LEN = 16
EPILOGUE_SECURE_LEN = 16  # late_status + 15 zero bytes, one GCM block
MAX_NUM_SEGMENTS = 4

# Alignment hints the kernel sends: 8 for control/front/middle, a page for data. Receivers
# treat them as hints only (frames_v2.h segment_t::alignment).
SEGMENT_ALIGNS: tuple[int, int, int, int] = (8, 8, 8, 4096)

# epilogue late_status (kernel FRAME_LATE_STATUS_*): the low nibble says whether the sender
# finished the frame or revoked it half-way (then the receiver drops it).
LATE_STATUS_ABORTED = 0x1
LATE_STATUS_COMPLETE = 0xE
LATE_STATUS_ABORTED_MASK = 0xF

# Ceph's segment seeds (FIELD_GUIDE §0.1): preamble crc seed 0, segment crcs seed -1.
_SEGMENT_CRC_SEED = 0xFFFF_FFFF

# A generous default: the kernel caps front/middle at 16 MiB and data at 64 MiB
# (CEPH_MSG_MAX_*_LEN); librados writes up to osd_max_write_size (90 MiB).
DEFAULT_MAX_FRAME_SIZE = 128 * 1024 * 1024

# preamble_block_t (frames_v2.h), 32 bytes, packed little-endian:
#   u8 tag; u8 num_segments; {le32 length; le16 alignment} segments[4];
#   u8 flags; u8 reserved; le32 crc  (raw crc32c, seed 0, over the first 28 bytes)
_PREAMBLE = struct.Struct("<BBIHIHIHIHBBI")
_PREAMBLE_CRC_OFF = PREAMBLE_LEN - CRC_LEN
# epilogue_crc_rev1_block_t: u8 late_status; le32 crc_values[3]
_EPILOGUE_CRC = struct.Struct("<BIII")
_U32 = struct.Struct("<I")

_EMPTY = memoryview(b"")
# Smallest stretch of a large data segment checksummed as it arrives (direct_progress).
_CRC_STRETCH = 64 * 1024
# preamble_block_t without its crc (28 bytes)
_PREAMBLE_BODY = struct.Struct("<BBIHIHIHIHBB")
# raw crc32c of nothing from seed -1: the crc of a used but empty segment
_EMPTY_SEGMENT_CRC = 0xFFFF_FFFF
# messages smaller than this and without a data segment are assembled into one buffer
_COALESCE_MAX = 16 * 1024




def pad16(n: int) -> int:
    """``n`` rounded up to the GCM block size (kernel ``padded_len``)."""
    return (n + GCM_BLOCK_LEN - 1) & ~(GCM_BLOCK_LEN - 1)


def num_segments(lens: Sequence[int]) -> int:
    """Segments counted in the preamble: trailing empty ones are dropped, at least one remains.

    Ceph ``calc_num_segments``; kernel ``calc_segment_count``.
    """
    for i in range(len(lens) - 1, -1, -1):
        if lens[i]:
            return i + 1
    return 1


@dataclass(frozen=True, slots=True)
class Preamble:
    """A decoded ``preamble_block_t``; ``lens`` has exactly ``num_segments`` entries."""

    tag: int
    lens: tuple[int, ...]
    aligns: tuple[int, ...]
    flags: int = 0

    @property
    def num_segments(self) -> int:
        return len(self.lens)


def encode_preamble(tag: int, lens: Sequence[int], aligns: Sequence[int] = SEGMENT_ALIGNS,
                    flags: int = 0) -> bytes:
    """Pack a preamble for segments ``lens`` (already trimmed with :func:`num_segments`)."""
    n = len(lens)
    if n == MAX_NUM_SEGMENTS:  # every MESSAGE with a data segment: one pack, no list
        body = _PREAMBLE_BODY.pack(tag, 4, lens[0], aligns[0], lens[1], aligns[1], lens[2],
                                   aligns[2], lens[3], aligns[3], flags, 0)
    else:
        if not 1 <= n <= MAX_NUM_SEGMENTS:
            raise LocalProtocolError(f"frame with {n} segments")
        fields: list[int] = [tag, n]
        for i in range(MAX_NUM_SEGMENTS):
            if i < n:
                fields += (lens[i], aligns[i])
            else:
                fields += (0, 0)
        fields += (flags, 0)
        body = _PREAMBLE_BODY.pack(*fields)
    # raw crc32c with seed 0 (the wheel's convention inverts on entry and exit)
    return body + _U32.pack(_wheel_crc32c(body, 0xFFFFFFFF) ^ 0xFFFFFFFF)


def decode_preamble(buf: Buffer, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> Preamble:
    """Check and unpack a 32-byte preamble.

    :raises BadCrcError: the preamble crc does not match.
    :raises MalformedFrameError: bad segment count, empty last segment, or flags set
        (compression was never negotiated).
    :raises FrameTooLargeError: a frame larger than ``max_frame_size``.
    """
    view = memoryview(buf)
    if len(view) != PREAMBLE_LEN:
        raise LocalProtocolError(f"preamble must be {PREAMBLE_LEN} bytes, got {len(view)}")
    (tag, n, l0, a0, l1, a1, l2, a2, l3, a3, flags, _reserved, crc) = _PREAMBLE.unpack(view)
    calc = ceph_crc32c(0, view[:_PREAMBLE_CRC_OFF])
    if calc != crc:
        raise BadCrcError(f"bad preamble crc, calculated {calc}, expected {crc}")
    if not 1 <= n <= MAX_NUM_SEGMENTS:
        raise MalformedFrameError(f"bad segment count {n}")
    lens = (l0, l1, l2, l3)[:n]
    aligns = (a0, a1, a2, a3)[:n]
    # A lone empty segment is legal (WAIT); otherwise the last counted one carries bytes.
    if n > 1 and lens[-1] == 0:
        raise MalformedFrameError(f"last segment empty, segment count {n}")
    if flags:
        # Quincy+ sets a compression flag here; we never offer COMPRESSION in the banner.
        raise MalformedFrameError(f"preamble flags {flags:#x} set, compression not negotiated")
    total = sum(lens)
    if total > max_frame_size:
        raise FrameTooLargeError(total, max_frame_size)
    return Preamble(tag, lens, aligns, flags)


def assemble_crc(tag: int, segments: Sequence[Payload],
                 aligns: Sequence[int] = SEGMENT_ALIGNS) -> list[Buffer]:
    """Lay out one crc-mode (msgr2.1-crc) frame as a list of buffers to write in order.

    Segments 1..3 are returned as the caller's own objects (zero copy); the crcs are computed
    over them in place. Used-but-empty segments get crc 0xFFFFFFFF (crc of nothing with seed
    -1), unused trailing segments 0, as the kernel's ``prepare_message_plain`` does.
    """
    lens = [len(s) for s in segments]
    n = num_segments(lens)
    pre = encode_preamble(tag, lens[:n] if n < len(lens) else lens, aligns)
    seg0 = segments[0]
    assert not isinstance(seg0, Gather), "the first segment is always one buffer"
    if lens[0]:
        # Segment crcs use seed -1: the wheel's default (seed 0) plus the final inversion.
        head = b"".join((pre, seg0, _U32.pack(_wheel_crc32c(seg0) ^ 0xFFFFFFFF)))
    else:
        head = pre
    if n == 1:
        return [head]  # rev1: no epilogue for single-segment frames
    out: list[Buffer] = [head]
    crcs = [0, 0, 0]
    for i in range(1, n):
        if lens[i]:
            seg = segments[i]
            if isinstance(seg, Gather):
                crc = 0
                for piece in seg.pieces:
                    crc = _wheel_crc32c(piece, crc)
                crcs[i - 1] = crc ^ 0xFFFFFFFF
                out.extend(seg.pieces)
            else:
                crcs[i - 1] = _wheel_crc32c(seg) ^ 0xFFFFFFFF
                out.append(seg)
        else:
            crcs[i - 1] = _EMPTY_SEGMENT_CRC
    out.append(_EPILOGUE_CRC.pack(LATE_STATUS_COMPLETE, crcs[0], crcs[1], crcs[2]))
    if len(out) > 2 and n < MAX_NUM_SEGMENTS and sum(lens) < _COALESCE_MAX:
        # A small message without a data segment (the caller's buffer, kept zero copy)
        # goes out as one buffer: cheaper for sendmsg than several.
        return [b"".join(out)]
    return out


def check_late_status(late_status: int) -> bool:
    """True if the frame is complete, False if the sender aborted it (drop it).

    :raises MalformedFrameError: neither value (ceph ``check_epilogue_late_status``).
    """
    status = late_status & LATE_STATUS_ABORTED_MASK
    if status == LATE_STATUS_COMPLETE:
        return True
    if status == LATE_STATUS_ABORTED:
        return False
    raise MalformedFrameError(f"bad late_status {late_status:#x}")


@dataclass(frozen=True, slots=True)
class Frame:
    """One received frame. ``segments`` always has four entries (unused ones are empty)."""

    tag: int
    segments: tuple[memoryview, memoryview, memoryview, memoryview]
    num_segments: int = 1

    @property
    def payload(self) -> memoryview:
        """Segment 0: the whole payload of a control frame."""
        return self.segments[0]


class FrameMode(Protocol):
    """How one connection mode lays a frame out on the wire (receive side).

    ``head_len`` bytes are read first; ``open_head`` turns them into the 32-byte preamble plus
    any segment-0 bytes that rode along; ``rest_len`` says how many more bytes the frame
    occupies; ``open_rest`` checks and returns the segments and the late_status.
    """

    head_len: int

    def open_head(self, head: memoryview) -> tuple[memoryview, memoryview]: ...

    def rest_len(self, pre: Preamble) -> int: ...

    def open_rest(self, pre: Preamble, inline: memoryview,
                  rest: memoryview) -> tuple[list[memoryview], int]: ...

    def open_rest_reused(self, pre: Preamble, inline: memoryview,
                         rest: memoryview) -> tuple[list[memoryview], int] | None:
        """Like ``open_rest``, but no returned segment may refer to ``rest`` (its buffer is
        reused for the next frame); None if this mode cannot do that."""
        ...


class CrcMode:
    """The msgr2.1-crc receive layout (ceph ``disasm_first_crc_rev1``/``disasm_remaining_*``)."""

    head_len = PREAMBLE_LEN

    def open_head(self, head: memoryview) -> tuple[memoryview, memoryview]:
        return memoryview(head), _EMPTY

    def rest_len(self, pre: Preamble) -> int:
        n = pre.lens[0] + (CRC_LEN if pre.lens[0] else 0)
        if pre.num_segments > 1:
            n += sum(pre.lens[1:]) + EPILOGUE_CRC_LEN
        return n

    def open_rest(self, pre: Preamble, inline: memoryview,
                  rest: memoryview) -> tuple[list[memoryview], int]:
        view = memoryview(rest)
        l0 = pre.lens[0]
        segs = [view[:l0]]
        off = 0
        if l0:
            (expected,) = _U32.unpack_from(view, l0)
            calc = ceph_crc32c(_SEGMENT_CRC_SEED, segs[0])
            if calc != expected:
                raise BadCrcError(
                    f"bad segment 0 crc, calculated {calc}, expected {expected}")
            off = l0 + CRC_LEN
        if pre.num_segments == 1:
            return segs, LATE_STATUS_COMPLETE
        for ln in pre.lens[1:]:
            segs.append(view[off:off + ln])
            off += ln
        late_status, *crcs = _EPILOGUE_CRC.unpack_from(view, off)
        for i in range(1, pre.num_segments):
            seg = segs[i]
            calc = _wheel_crc32c(seg) ^ 0xFFFFFFFF if len(seg) else _EMPTY_SEGMENT_CRC
            if calc != crcs[i - 1]:
                raise BadCrcError(
                    f"bad segment {i} crc, calculated {calc}, expected {crcs[i - 1]}")
        return segs, late_status


    def open_rest_reused(self, pre: Preamble, inline: memoryview,
                         rest: memoryview) -> tuple[list[memoryview], int] | None:
        return None  # crc mode splits the frame on receipt instead (open_split)

    def open_split(self, pre: Preamble, head: memoryview, data: memoryview,
                   epilogue: memoryview,
                   data_crc: int | None = None) -> tuple[list[memoryview], int]:
        """Like :meth:`open_rest` for a four-segment frame received in three parts:
        ``seg0 | crc | seg1 | seg2``, segment 3 alone, and the epilogue. ``data_crc``,
        when given, is segment 3's crc already computed (as it arrived)."""
        l0, l1, l2, _ = pre.lens
        segs = [head[:l0]]
        off = 0
        if l0:
            (expected,) = _U32.unpack_from(head, l0)
            calc = ceph_crc32c(_SEGMENT_CRC_SEED, segs[0])
            if calc != expected:
                raise BadCrcError(
                    f"bad segment 0 crc, calculated {calc}, expected {expected}")
            off = l0 + CRC_LEN
        segs.append(head[off:off + l1])
        segs.append(head[off + l1:off + l1 + l2])
        segs.append(data)
        late_status, *crcs = _EPILOGUE_CRC.unpack_from(epilogue, 0)
        for i in range(1, 4):
            if i == 3 and data_crc is not None:
                calc = data_crc
            else:
                calc = ceph_crc32c(_SEGMENT_CRC_SEED, segs[i])
            if calc != crcs[i - 1]:
                raise BadCrcError(
                    f"bad segment {i} crc, calculated {calc}, expected {crcs[i - 1]}")
        return segs, late_status


CRC_MODE = CrcMode()


class FrameDecoder:
    """Incremental frame reader: ``feed`` bytes, then call ``next_frame`` until it says None.

    It yields frames one at a time on purpose: the protocol may switch the mode (crc →
    secure, right after AUTH_DONE) between two frames that arrived in the same chunk.

    :param max_frame_size: the largest sum of segment lengths accepted.
    """

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        # Received chunks, oldest first, and how many bytes they hold. A frame that lies in
        # one chunk is handed out as a view of it; one that spans chunks is gathered into
        # one new buffer — at most one copy per frame, and no re-growing of a big buffer
        # while a 4 MiB message trickles in.
        self._chunks: deque[memoryview] = deque()
        self._avail = 0
        self._direct: bytearray | None = None
        # A frame received through direct_buffers() in three parts, and the frame it made.
        self._split: tuple[Preamble, bytearray, Buffer, bytearray] | None = None
        # While a split frame fills: how many of its bytes have arrived, and the running
        # crc (wheel convention) of its data segment's bytes [0, _seg3_done).
        self._received = 0
        self._seg3_done = 0
        self._seg3_crc = 0
        self._ready: Frame | None = None
        self._filling = False
        # The reusable receive buffer for large secure frames (see direct_buffers).
        self._reuse = bytearray()
        self._reuse_pending = False
        self._mode: FrameMode = CRC_MODE
        self._pending: Preamble | None = None
        self._inline: memoryview = _EMPTY
        self.max_frame_size = max_frame_size
        #: when not None, every byte consumed is appended here (pre-auth signature input)
        self.capture: bytearray | None = None

    # -- input ---------------------------------------------------------------------------

    def feed(self, data: Buffer) -> None:
        """Append received bytes (any chunking). ``bytes`` are kept without a copy."""
        if not data:
            return
        if self._filling:
            raise LocalProtocolError("feed() while a direct buffer is being filled")
        view = memoryview(data if isinstance(data, bytes) else bytes(data))
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        self._chunks.append(view)
        self._avail += len(view)

    def direct_buffers(self, min_missing: int) -> list[memoryview] | None:
        """Writable views to receive the rest of a large frame straight into.

        When the frame being received still misses at least ``min_missing`` bytes, the
        bytes already buffered for it move into buffers sized for the whole remainder,
        and the returned views are the parts still to fill, in wire order. The caller
        fills them completely (socket recv_into/recvmsg_into), then calls
        :meth:`direct_filled`. So a 4 MiB message costs one copy out of the kernel and no
        gathering. In crc mode a MESSAGE with a large data segment is split in three
        (head segments, data, epilogue) and the data segment is a ``bytes`` object of
        its own where the platform allows (see ``buffers``), which a read can
        return as is.
        """
        pre = self._pending
        if pre is None:
            return None
        mode = self._mode
        need = mode.rest_len(pre)
        if need - self._avail < min_missing:
            return None
        if (mode is CRC_MODE and pre.num_segments == MAX_NUM_SEGMENTS
                and pre.lens[3] >= min_missing and self.capture is None):
            l0, l1, l2, l3 = pre.lens
            head = bytearray(l0 + (CRC_LEN if l0 else 0) + l1 + l2)
            data, data_w = alloc_segment(l3)
            epilogue = bytearray(EPILOGUE_CRC_LEN)
            parts = [memoryview(head), data_w, memoryview(epilogue)]
            self._split = (pre, head, data, epilogue)
            self._seg3_done = 0
            self._seg3_crc = 0
        elif (mode is not CRC_MODE and pre.num_segments == MAX_NUM_SEGMENTS
              and pre.lens[3] >= min_missing and self.capture is None):
            # Secure: the ciphertext is dead once decrypted (open_rest_reused writes the
            # plaintext into new buffers), so one receive buffer serves every large
            # frame: no allocation and zero-fill of megabytes per message.
            if len(self._reuse) < need:
                self._reuse = bytearray(need)
            parts = [memoryview(self._reuse)[:need]]
            self._split = None
            self._reuse_pending = True
        else:
            buf = bytearray(need)
            parts = [memoryview(buf)]
            self._split = None
            self._direct = buf
        # Everything buffered belongs to this frame (avail < need): copy it in front.
        remaining = []
        self._received = self._avail
        for part in parts:
            pos = 0
            while self._chunks and pos < len(part):
                c = self._chunks[0]
                k = min(len(c), len(part) - pos)
                part[pos:pos + k] = c[:k]
                pos += k
                if k == len(c):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = c[k:]
            if pos < len(part):
                remaining.append(part[pos:])
        self._chunks.clear()
        self._avail = 0
        self._filling = True
        return remaining

    def direct_progress(self, n: int) -> None:
        """``n`` more bytes of the views from :meth:`direct_buffers` have been filled.

        Optional, for speed: the data segment of a split crc-mode frame is checksummed
        a stretch at a time as it arrives, while those bytes are still in the CPU's
        cache, instead of all 4 MiB at once (cold) in :meth:`direct_filled`.
        """
        self._received += n
        split = self._split
        if split is None:
            return
        head, data = split[1], split[2]
        end = min(self._received - len(head), len(data))
        if end - self._seg3_done >= _CRC_STRETCH:
            self._seg3_crc = _wheel_crc32c(memoryview(data)[self._seg3_done:end],
                                           self._seg3_crc)
            self._seg3_done = end

    def direct_filled(self) -> None:
        """The views from :meth:`direct_buffers` are full: the frame's bytes are all here."""
        if not self._filling:
            raise LocalProtocolError("direct_filled() without direct_buffers()")
        self._filling = False
        split, self._split = self._split, None
        if split is not None:
            pre, head, data, epilogue = split
            self._pending, self._inline = None, _EMPTY
            data_crc = _wheel_crc32c(memoryview(data)[self._seg3_done:],
                                     self._seg3_crc) ^ 0xFFFFFFFF
            segs, late_status = CRC_MODE.open_split(pre, memoryview(head), memoryview(data),
                                                    memoryview(epilogue), data_crc)
            if not check_late_status(late_status):
                log.debug("dropping aborted frame tag %d lens %s", pre.tag, pre.lens)
                return
            self._ready = Frame(pre.tag, (segs[0], segs[1], segs[2], segs[3]),
                                pre.num_segments)
            return
        if self._reuse_pending:
            self._reuse_pending = False
            rpre = self._pending
            assert rpre is not None
            inline = self._inline
            self._pending, self._inline = None, _EMPTY
            rest = memoryview(self._reuse)[:self._mode.rest_len(rpre)]
            opened = self._mode.open_rest_reused(rpre, inline, rest)
            if opened is None:  # the mode cannot: copy the ciphertext out after all
                opened = self._mode.open_rest(rpre, inline, memoryview(bytes(rest)))
            segs, late_status = opened
            if not check_late_status(late_status):
                log.debug("dropping aborted frame tag %d lens %s", rpre.tag, rpre.lens)
                return
            self._ready = Frame(rpre.tag, (segs[0], segs[1], segs[2], segs[3]),
                                rpre.num_segments)
            return
        buf, self._direct = self._direct, None
        assert buf is not None
        self._chunks.append(memoryview(buf))
        self._avail = len(buf)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet consumed."""
        return self._avail

    @property
    def mid_frame(self) -> bool:
        """True while a secure-mode head has been opened but the rest is still missing."""
        return self._pending is not None

    def set_mode(self, mode: FrameMode) -> None:
        """Switch layout (crc → secure) between frames."""
        if self._pending is not None:
            raise LocalProtocolError("mode switch in the middle of a frame")
        self._mode = mode

    def _take(self, n: int) -> memoryview:
        if n == 0:
            return _EMPTY
        chunks = self._chunks
        first = chunks[0]
        if len(first) >= n:
            out = first[:n]
            if len(first) == n:
                chunks.popleft()
            else:
                chunks[0] = first[n:]
        else:
            buf = bytearray(n)
            pos = 0
            while pos < n:
                c = chunks[0]
                k = min(len(c), n - pos)
                buf[pos:pos + k] = c[:k]
                pos += k
                if k == len(c):
                    chunks.popleft()
                else:
                    chunks[0] = c[k:]
            out = memoryview(buf)
        self._avail -= n
        if self.capture is not None:
            self.capture += out
        return out

    def read_exact(self, n: int) -> bytes | None:
        """Consume exactly ``n`` raw bytes (the banner), or None if not all here yet."""
        if self._pending is not None:
            raise LocalProtocolError("raw read in the middle of a frame")
        if self.buffered < n:
            return None
        return bytes(self._take(n))

    # -- frames --------------------------------------------------------------------------

    def _crc_frame_in_first_chunk(self) -> Frame | None:
        """The hot path: a whole, well-formed crc-mode frame at the start of the first
        chunk, cut out with one preamble unpack and no intermediate objects.

        Returns None whenever anything is unusual (frame not all in this chunk, a bad crc,
        flags, sizes, an aborted frame...): the general path then handles it, with its
        errors.
        """
        c = self._chunks[0]
        if len(c) < PREAMBLE_LEN:
            return None
        (tag, n, l0, _a0, l1, _a1, l2, _a2, l3, _a3, flags, _res,
         crc) = _PREAMBLE.unpack_from(c, 0)
        if flags or not 1 <= n <= MAX_NUM_SEGMENTS:
            return None
        # Lengths past the segment count do not count (decode_preamble ignores them); the
        # last counted segment must carry bytes (else the general path raises).
        if n < 4:
            l3 = 0
            if n < 3:
                l2 = 0
                if n < 2:
                    l1 = 0
        if n > 1 and not (l1, l2, l3)[n - 2]:
            return None
        end = PREAMBLE_LEN + (l0 + CRC_LEN if l0 else 0)
        if n > 1:
            end += l1 + l2 + l3 + EPILOGUE_CRC_LEN
        if len(c) < end or end > self.max_frame_size:
            return None
        if _wheel_crc32c(c[:_PREAMBLE_CRC_OFF], 0xFFFFFFFF) ^ 0xFFFFFFFF != crc:
            return None
        pos = PREAMBLE_LEN + l0
        seg0 = c[PREAMBLE_LEN:pos]
        if l0:
            if _wheel_crc32c(seg0) ^ 0xFFFFFFFF != _U32.unpack_from(c, pos)[0]:
                return None
            pos += CRC_LEN
        if n == 1:
            segs = (seg0, _EMPTY, _EMPTY, _EMPTY)
        else:
            seg1 = c[pos:pos + l1]
            pos += l1
            seg2 = c[pos:pos + l2]
            pos += l2
            seg3 = c[pos:pos + l3]
            pos += l3
            late_status, crc1, crc2, crc3 = _EPILOGUE_CRC.unpack_from(c, pos)
            # Only the counted segments' crcs are checked, as open_rest does (a write's
            # reply has two segments: header and front).
            if (late_status & LATE_STATUS_ABORTED_MASK != LATE_STATUS_COMPLETE
                    or (_wheel_crc32c(seg1) ^ 0xFFFFFFFF if l1 else _EMPTY_SEGMENT_CRC) != crc1
                    or (n > 2 and (_wheel_crc32c(seg2) ^ 0xFFFFFFFF if l2
                                   else _EMPTY_SEGMENT_CRC) != crc2)
                    or (n > 3 and _wheel_crc32c(seg3) ^ 0xFFFFFFFF != crc3)):
                return None
            segs = (seg0, seg1, seg2 if n > 2 else _EMPTY, seg3 if n > 3 else _EMPTY)
        if len(c) == end:
            self._chunks.popleft()
        else:
            self._chunks[0] = c[end:]
        self._avail -= end
        return Frame(tag, segs, n)

    def next_frame(self) -> Frame | None:
        """The next complete frame, or None until more bytes arrive.

        Aborted frames (late_status ABORTED) are dropped silently, as Ceph does.

        :raises IntegrityError: a crc (BadCrcError) or GCM tag (BadAuthTagError) does not
            verify.
        :raises MalformedFrameError: the preamble or epilogue is malformed
            (FrameTooLargeError: the preamble announces more than ``max_frame_size``).
        """
        if self._ready is not None:
            frame, self._ready = self._ready, None
            return frame
        mode = self._mode
        if mode is CRC_MODE and self._pending is None and self.capture is None \
                and self._chunks:
            fast = self._crc_frame_in_first_chunk()
            if fast is not None:
                return fast
        while True:
            pre = self._pending
            if pre is None:
                if self.buffered < mode.head_len:
                    return None
                preamble, inline = mode.open_head(self._take(mode.head_len))
                pre = decode_preamble(preamble, self.max_frame_size)
                self._pending, self._inline = pre, inline
            need = mode.rest_len(pre)
            if self.buffered < need:
                return None
            rest = self._take(need)
            inline = self._inline
            self._pending, self._inline = None, _EMPTY
            segs, late_status = mode.open_rest(pre, inline, rest)
            if not check_late_status(late_status):
                log.debug("dropping aborted frame tag %d lens %s", pre.tag, pre.lens)
                continue
            while len(segs) < MAX_NUM_SEGMENTS:
                segs.append(_EMPTY)
            return Frame(pre.tag, (segs[0], segs[1], segs[2], segs[3]), pre.num_segments)
