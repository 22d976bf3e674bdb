"""An fsx-style model of one RBD image: seeded random ops, and what every read must return.

The model holds the image head and each snapshot as plain bytes. A run draws ops from a
seeded generator, applies each to the real image (through the python-rbd facade or
``rbdpy.aio``, see the drivers) and to the model, and compares every read with the model.
A mismatch raises :class:`Mismatch` with the seed, the failing op, the recent op log and a
diagnosis of the first wrong byte.

Write payloads say where they belong: every aligned 8-byte word holds the number of the op
that wrote it and the word's own image offset / 8. A wrong byte therefore tells whether it
is stale data (an older op's word), data that landed at the wrong offset, or zeros.

Discards and image sizes stay multiples of 64 KiB: librbd (and rbdpy) shrink a partial
discard inward to ``rbd_discard_granularity_bytes`` (64 KiB), so only aligned discards have
one right answer.
"""

from __future__ import annotations

import random
import struct
from array import array
from collections import deque
from dataclasses import dataclass

GRAIN = 64 * 1024
#: 1 MiB objects, so a few-MiB image spans objects on every OSD.
OBJECT_ORDER = 20
MAX_SNAPS = 4

# (kind, weight): the mix of ops a run draws from.
OP_WEIGHTS = (
    ("write", 30), ("read", 30), ("discard", 8), ("resize", 4), ("snap", 3),
    ("snapread", 8), ("rollback", 2), ("rmsnap", 2),
)


@dataclass(frozen=True)
class Op:
    """One model op; ``n`` is its number in the run (also stamped into written data)."""

    n: int
    kind: str
    offset: int = 0
    length: int = 0
    snap: str = ""

    def __str__(self) -> str:
        where = f" [{self.offset:#x}, +{self.length:#x})" if self.length else ""
        if self.kind == "resize":
            where = f" to {self.offset:#x}"
        at = f" @{self.snap}" if self.snap else ""
        return f"#{self.n} {self.kind}{where}{at}"


class Mismatch(AssertionError):
    """The image returned bytes (or a size) the model says are wrong."""


def payload(n: int, offset: int, length: int) -> bytes:
    """The bytes op ``n`` writes at ``offset``: words of (n, absolute word index)."""
    first = offset // 8
    words = (offset + length + 7) // 8 - first
    buf = array("I", bytes(8 * words))
    buf[0::2] = array("I", [n & 0xFFFFFFFF]) * words
    buf[1::2] = array("I", range(first, first + words))
    start = offset - 8 * first
    return buf.tobytes()[start:start + length]


def explain_word(data: bytes, data_offset: int, pos: int) -> str:
    """Where the aligned word holding image offset ``pos`` in ``data`` (which starts at
    image offset ``data_offset``) came from."""
    base = pos - pos % 8
    word = data[base - data_offset:base - data_offset + 8] if base >= data_offset else b""
    if len(word) < 8:
        return f"{data[pos - data_offset:pos - data_offset + 8].hex()} (a partial word)"
    n, index = struct.unpack("<II", word)
    if n == 0 and index == 0:
        return "zeros"
    where = "its own offset" if index * 8 == base else f"offset {index * 8:#x} (misplaced)"
    return f"data of op #{n} for {where}"


class ImageModel:
    """What the image head and its snapshots must hold."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self.snaps: dict[str, bytes] = {}

    @property
    def size(self) -> int:
        return len(self.data)

    def write(self, offset: int, data: bytes) -> None:
        self.data[offset:offset + len(data)] = data

    def discard(self, offset: int, length: int) -> None:
        self.data[offset:offset + length] = bytes(length)

    def resize(self, size: int) -> None:
        if size < self.size:
            del self.data[size:]
        else:
            self.data.extend(bytes(size - self.size))

    def snap(self, name: str) -> None:
        self.snaps[name] = bytes(self.data)

    def rollback(self, name: str) -> None:
        self.data = bytearray(self.snaps[name])

    def expected(self, offset: int, length: int, snap: str = "") -> bytes:
        data = self.snaps[snap] if snap else self.data
        return bytes(data[offset:offset + length])


class OpGenerator:
    """Draws ops for a region [base, base + span) of the image, from one seeded RNG.

    ``global_ops`` adds resizes and snapshot ops (only one generator per image may have
    them); sizes then move within [min_size, max_size].
    """

    def __init__(self, rng: random.Random, *, base: int, span: int, max_io: int,
                 global_ops: bool, min_size: int = 0, max_size: int = 0) -> None:
        self.rng = rng
        self.base, self.span, self.max_io = base, span, max_io
        self.global_ops = global_ops
        self.min_size, self.max_size = min_size, max_size
        self.snap_seq = 0
        kinds = [(k, w) for k, w in OP_WEIGHTS
                 if global_ops or k in ("write", "read", "discard")]
        self.kinds = [k for k, _ in kinds]
        self.weights = [w for _, w in kinds]

    def _range(self, limit: int, grain: int = 1) -> tuple[int, int]:
        """A random [offset, offset + length) inside [base, limit), multiples of grain."""
        units = (limit - self.base) // grain
        length = self.rng.randint(1, max(1, min(units, self.max_io // grain)))
        offset = self.base + self.rng.randint(0, units - length) * grain
        return offset, length * grain

    def next(self, n: int, model: ImageModel) -> Op:
        limit = min(self.base + self.span, model.size)
        while True:
            kind = self.rng.choices(self.kinds, self.weights)[0]
            if kind in ("snapread", "rollback", "rmsnap") and not model.snaps:
                continue
            if kind == "snap" and len(model.snaps) >= MAX_SNAPS:
                kind = "rmsnap"
            break
        if kind in ("write", "read"):
            off, length = self._range(limit)
            return Op(n, kind, off, length)
        if kind == "discard":
            off, length = self._range(limit, GRAIN)
            return Op(n, kind, off, length)
        if kind == "resize":
            size = self.rng.randint(self.min_size // GRAIN, self.max_size // GRAIN) * GRAIN
            return Op(n, kind, size)
        if kind == "snap":
            self.snap_seq += 1
            return Op(n, kind, snap=f"s{self.snap_seq}")
        name = self.rng.choice(sorted(model.snaps))
        if kind == "snapread":
            snap_size = len(model.snaps[name])
            if snap_size <= self.base:
                return Op(n, "read", *self._range(limit))
            off, length = self._range(min(self.base + self.span, snap_size))
            return Op(n, kind, off, length, name)
        return Op(n, kind, snap=name)


class OpLog:
    """The last ops of a run, for the report of a mismatch."""

    def __init__(self, seed: int, keep: int = 60) -> None:
        self.seed = seed
        self.recent: deque[Op] = deque(maxlen=keep)

    def add(self, op: Op) -> None:
        self.recent.append(op)

    def report(self, op: Op, problem: str) -> str:
        lines = [f"fsx mismatch (seed {self.seed}) at {op}: {problem}",
                 f"last {len(self.recent)} ops:"]
        lines += [f"  {o}" for o in self.recent]
        return "\n".join(lines)


def second_look(again: bytes, got: bytes, want: bytes) -> str:
    """What a second read of the same range, right after a wrong one, returned."""
    if again == want:
        return "a second read right after returned the right bytes"
    if again == got:
        return "a second read right after returned the same wrong bytes"
    return "a second read right after returned other wrong bytes"


def check_read(log: OpLog, op: Op, got: bytes, want: bytes, note: str = "") -> None:
    """Raise :class:`Mismatch` when a read returned other bytes than the model's."""
    if got == want:
        return
    note = f"; {note}" if note else ""
    if len(got) != len(want):
        raise Mismatch(log.report(
            op, f"read returned {len(got)} bytes, not {len(want)}{note}"))
    first = next(i for i in range(len(got)) if got[i] != want[i])
    wrong = sum(1 for a, b in zip(got, want, strict=True) if a != b)
    pos = op.offset + first
    raise Mismatch(log.report(
        op, f"{wrong} wrong bytes; first at image offset {pos:#x}: got "
        f"{explain_word(got, op.offset, pos)}, expected {explain_word(want, op.offset, pos)}"
        f"{note}"))


def check_size(log: OpLog, op: Op, got: int, want: int) -> None:
    if got != want:
        raise Mismatch(log.report(op, f"image size {got:#x}, model says {want:#x}"))
