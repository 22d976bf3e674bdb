"""Shared test helpers: the three-way feed for incremental parsers, hex helpers.

``feed_three_ways`` is h11's test_io idea: an incremental parser must give the same result
whether its input arrives whole, one byte at a time, or followed by bytes that belong to
whatever comes next.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# A parser, for these helpers, is a callable that takes the next chunk of input and returns
# the items completed by it (possibly none). ``parser_factory`` makes a fresh one.
Parser = Callable[[bytes], Iterable[T]]


def feed_three_ways(parser_factory: Callable[[], Parser[Any]], data: bytes,
                    expected: Sequence[Any], garbage: bytes = b"\x00\xff\x7f") -> None:
    """Assert ``parser_factory()`` turns ``data`` into ``expected`` however it is chunked.

    1. all of ``data`` in one call;
    2. one byte per call;
    3. ``data + garbage`` in one call: the same items, and the garbage yields nothing yet
       (it must be too short to be a complete item; the default is 3 bytes).
    """
    whole = list(parser_factory()(data))
    assert whole == list(expected), "fed whole"

    parse = parser_factory()
    one_by_one: list[Any] = []
    for i in range(len(data)):
        one_by_one.extend(parse(data[i:i + 1]))
    assert one_by_one == list(expected), "fed byte by byte"

    with_garbage = list(parser_factory()(data + garbage))
    assert with_garbage == list(expected), "fed with trailing garbage"


def unhex(text: str) -> bytes:
    """Hex with any whitespace (and ``|``/``:`` separators) → bytes."""
    return bytes.fromhex("".join(c for c in text if c not in " \t\n|:"))


def hexdump(data: bytes, width: int = 16) -> str:
    """A compact hexdump for assertion messages."""
    return "\n".join(
        f"{i:06x}: {data[i:i + width].hex(' ')}" for i in range(0, len(data), width))
