"""A Gather segment (several buffers sent as one) frames exactly as the joined bytes would,
in crc and secure mode: same wire bytes, and the large pieces go out uncopied in crc mode."""

from __future__ import annotations

import os

from rbdpy.rados.proto.bytestr import Gather
from rbdpy.rados.proto.msgr2.frames import Tag, assemble_crc
from rbdpy.rados.proto.msgr2.secure import SecureTx

HEADER = bytes(range(53))
FRONT = b"front" * 20
PAYLOAD = os.urandom(300_000)
PREFIX = b"rbdcopyup"


def _segments(data: bytes | Gather) -> list[bytes | Gather]:
    return [HEADER, FRONT, b"", data]


def test_crc_frame_of_a_gather_equals_the_joined_frame() -> None:
    gathered = assemble_crc(Tag.MESSAGE, _segments(Gather((PREFIX, PAYLOAD))))
    joined = assemble_crc(Tag.MESSAGE, _segments(PREFIX + PAYLOAD))
    assert b"".join(gathered) == b"".join(joined)
    assert any(piece is PAYLOAD for piece in gathered)  # zero copy


def test_secure_frame_of_a_gather_equals_the_joined_frame() -> None:
    key, nonce = bytes(range(16)), bytes(range(100, 112))
    gathered = SecureTx(key, nonce).assemble(Tag.MESSAGE, _segments(Gather((PREFIX, PAYLOAD))))
    joined = SecureTx(key, nonce).assemble(Tag.MESSAGE, _segments(PREFIX + PAYLOAD))
    assert b"".join(gathered) == b"".join(joined)


def test_gather_length_and_bytes() -> None:
    g = Gather((b"ab", memoryview(b"cde"), bytearray(b"f")))
    assert len(g) == 6
    assert bytes(g) == b"abcdef"
