"""What the rbd CLI prints on stderr while a long operation runs, and its byte units.

``rbd flatten`` (and rm, resize, import, ...) redraw one line, ``"\\r<Operation>: NN%
complete..."``, each time the whole percentage grows, and end it with ``"...done."`` or, at
the last percentage reached, ``"...failed."``. ``--no-progress`` silences all of it.
"""

from __future__ import annotations

import sys
from typing import TextIO

# The rbd CLI's binary unit suffixes (KiB = 1024 B, ...), smallest first.
_BYTE_UNITS = (" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB")
# The rbd CLI keeps a fractional size at most this many characters wide, unit included.
_MAX_WIDTH = 7


class ProgressLine:
    """One redrawn progress line for ``operation`` ("Image flatten", ...) on ``stream``."""

    def __init__(self, operation: str, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.operation = operation
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.last_percent = -1

    def update(self, done: int, total: int) -> int:
        """A python-rbd ``on_progress(offset, total)`` callback; returns 0 (carry on)."""
        percent = done * 100 // total if total else 0
        if self.enabled and percent > self.last_percent:
            self.stream.write(f"\r{self.operation}: {percent}% complete...")
            self.stream.flush()
            self.last_percent = percent
        return 0

    def finish(self) -> None:
        if self.enabled:
            self.stream.write(f"\r{self.operation}: 100% complete...done.\n")
            self.stream.flush()

    def fail(self) -> None:
        if self.enabled:
            # rbd reports the percentage it had reached, 0 if it never drew one.
            reached = max(self.last_percent, 0)
            self.stream.write(f"\r{self.operation}: {reached}% complete...failed.\n")
            self.stream.flush()


def pretty_bytes(value: int) -> str:
    """``value`` bytes as the rbd CLI prints sizes: ``3 MiB``, ``1.5 GiB``, ``512 B``.

    Exact multiples of the unit have no fraction; otherwise the most decimals (2, 1, 0)
    that keep the text within seven characters.
    """
    index = 0
    scaled = value
    while scaled >= 1024 and index < len(_BYTE_UNITS) - 1:
        scaled //= 1024
        index += 1
    unit = _BYTE_UNITS[index]
    multiple = 1 << (10 * index)
    if index == 0 or value % multiple == 0:
        return f"{scaled}{unit}"
    text = ""
    for decimals in (2, 1, 0):
        text = f"{value / multiple:.{decimals}f}{unit}"
        if len(text) <= _MAX_WIDTH:
            break
    return text


def parse_size(text: str) -> int:
    """``1G`` → 1073741824 (rbd's suffixes are powers of two; a bare number is MiB for
    --size, as in rbd, so callers pass a default unit)."""
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)
