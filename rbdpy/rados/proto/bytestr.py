"""The byte-buffer type and the str/bytes conversions every layer shares.

Ceph names (pools, objects, images, snapshots, xattr keys) are byte strings on the wire. Users
pass ``str`` or ``bytes``; python-rados and python-rbd encode ``str`` as UTF-8. A name that is
not valid UTF-8 (python-rbd creates, lists and removes an image called ``b"bad-\\xff-name"``)
must survive the trip to ``str`` and back unchanged, so decoding and encoding both use the
``surrogateescape`` error handler: the undecodable bytes become lone surrogates and turn back
into the same bytes. One pair of helpers for the whole package, so the two directions can never
disagree again.
"""

from __future__ import annotations

Buffer = bytes | bytearray | memoryview
"""Anything rbdpy accepts as a payload or name without copying it first."""


class Gather:
    """Several buffers sent as one message segment, in order, never joined: a large
    payload behind a small prefix (a cls call's names before a 4 MiB copy-up) reaches the
    socket without a copy. ``len()`` is the total byte count."""

    __slots__ = ("_length", "pieces")

    def __init__(self, pieces: tuple[Buffer, ...]) -> None:
        self.pieces = pieces
        self._length = sum(len(p) for p in pieces)

    def __len__(self) -> int:
        return self._length

    def __bytes__(self) -> bytes:
        return b"".join(self.pieces)


Payload = Buffer | Gather
"""A message segment: one buffer, or a :class:`Gather` of several."""


def to_bytes(name: str | Buffer) -> bytes:
    """``name`` as wire bytes: ``str`` is UTF-8 with surrogateescape, buffers are copied once."""
    if isinstance(name, str):
        return name.encode("utf-8", "surrogateescape")
    return bytes(name)


def to_str(name: str | Buffer) -> str:
    """``name`` as ``str``: bytes decode as UTF-8 with surrogateescape (``to_bytes`` undoes it)."""
    if isinstance(name, str):
        return name
    return bytes(name).decode("utf-8", "surrogateescape")
