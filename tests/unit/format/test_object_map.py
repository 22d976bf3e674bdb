"""ceph::BitVector<2> (the RBD object map) against bytes written by Ceph.

Foreign vectors: the shared corpus (ceph-object-corpus, four releases) and objects that
Ceph 16.2.15 wrote on a live cluster (tests/vectors/object_map, see its README/gen.sh).
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    OBJECT_PENDING,
)
from rbdpy.format.object_map import (
    BLOCK_SIZE,
    BitVector,
    object_may_exist,
    object_may_not_exist,
    update_required,
)
from rbdpy.rados.proto.crc32c import ceph_crc32c
from rbdpy.rados.proto.denc import Decoder
from rbdpy.rados.proto.errors import CephError, DecodeError

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "object_map"

# FIELD_GUIDE §8.5, verified again by tests/vectors/object_map/om16.bin.
OM16 = bytes.fromhex("0e000000 0101 08000000 1000000000000000"
                     "40100000"
                     "0c000000 e6b3c16e 01000000 6d2204db".replace(" ", ""))


def corpus_files(corpus: Path) -> list[Path]:
    files = sorted(corpus.glob("*/objects/ceph.BitVector_2/*"))
    files += sorted(corpus.glob("*/objects/BitVector_2/*"))
    return files


# -- layout -------------------------------------------------------------------------------

def test_field_guide_vector() -> None:
    bv = BitVector.from_bytes(OM16)
    assert len(bv) == 16 and bv.crc_enabled
    assert [i for i, s in enumerate(bv) if s] == [0, 5]
    assert bv[0] == OBJECT_EXISTS and bv[5] == OBJECT_EXISTS and bv[1] == OBJECT_NONEXISTENT
    # header crc = crc32c(0) over the header bufferlist content (14 bytes)
    assert ceph_crc32c(0, OM16[4:18]) == 0x6EC1B3E6
    built = BitVector(16)
    built[0] = OBJECT_EXISTS
    built[5] = OBJECT_EXISTS
    assert built.to_bytes() == OM16


def test_object_zero_in_most_significant_bits() -> None:
    bv = BitVector(5)
    bv[0] = OBJECT_EXISTS_CLEAN
    assert bv.data == bytearray([0b1100_0000, 0])
    bv[3] = OBJECT_PENDING
    bv[4] = OBJECT_EXISTS
    assert bv.data == bytearray([0b1100_0010, 0b0100_0000])
    assert list(bv) == [3, 0, 0, 2, 1]
    assert bv[-1] == OBJECT_EXISTS


def test_crc_disabled_has_empty_footer() -> None:
    bv = BitVector(4, crc_enabled=False)
    bv[1] = OBJECT_EXISTS
    bv[2] = OBJECT_EXISTS
    data = bv.to_bytes()
    # corpus object 4dbdf9e9...: 4 objects, data 0x14, empty footer
    assert data == bytes.fromhex("0e00000001010800000004000000000000001400000000")
    again = BitVector.from_bytes(data)
    assert again == bv and not again.crc_enabled


def test_empty_vector_has_header_crc_and_no_block_crcs() -> None:
    data = BitVector(0).to_bytes()
    # corpus object 7aec1d40...: footer = header crc + zero count, no crcs
    assert data.hex() == "0e000000010108000000000000000000000008000000" "52bab7ea00000000"


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 4 * BLOCK_SIZE - 1, 4 * BLOCK_SIZE,
                                  4 * BLOCK_SIZE + 1, 3 * 4 * BLOCK_SIZE + 7])
def test_block_crcs_per_4k_of_data(size: int) -> None:
    bv = BitVector.filled(size, OBJECT_EXISTS)
    data = bv.to_bytes()
    nbytes = -(-size // 4)
    dec = Decoder(data)
    dec.skip(18 + nbytes)
    footer = Decoder(dec.blob())
    assert footer.u32() == ceph_crc32c(0, data[4:18])
    nblocks = footer.u32()
    assert nblocks == -(-nbytes // BLOCK_SIZE)
    payload = data[18:18 + nbytes]
    for block in range(nblocks):
        chunk = payload[block * BLOCK_SIZE:(block + 1) * BLOCK_SIZE]
        assert footer.u32() == ceph_crc32c(0, chunk)
    assert footer.at_end()
    assert BitVector.from_bytes(data) == bv


def test_filled_leaves_tail_bits_zero() -> None:
    assert BitVector.filled(5, OBJECT_EXISTS_CLEAN).data == bytearray([0xFF, 0xC0])


# -- foreign vectors ------------------------------------------------------------------------

def test_corpus_decode_and_reencode(corpus: Path) -> None:
    files = corpus_files(corpus)
    assert files, "no BitVector<2> objects in the corpus"
    for path in files:
        raw = path.read_bytes()
        bv = BitVector.from_bytes(raw)
        # Ceph's own corpus rule, plus: our encoder reproduces Ceph's bytes exactly.
        assert bv.to_bytes() == raw, path
        assert BitVector.from_bytes(bv.to_bytes()) == bv


def test_corpus_1024_random_entries(corpus: Path) -> None:
    # generate_test_instances: 1024 random 2-bit values, crcs enabled.
    path = next(corpus.glob("*/objects/BitVector_2/8d0d79d908a437a9e583c71d33fc1dc1"))
    bv = BitVector.from_bytes(path.read_bytes())
    assert len(bv) == 1024 and bv.crc_enabled
    assert set(bv) == {0, 1, 2, 3}


def test_live_vectors_written_by_rbd() -> None:
    bv = BitVector.from_bytes((VECTORS / "om16.bin").read_bytes())
    assert (VECTORS / "om16.bin").read_bytes() == OM16
    head_raw = (VECTORS / "ombig_head.bin").read_bytes()
    head = BitVector.from_bytes(head_raw)
    assert len(head) == 20000
    states = {i: s for i, s in enumerate(head) if s}
    clean = {0, 4095, 16383, 16384, 16385, 19999}
    assert states == {**dict.fromkeys(clean, OBJECT_EXISTS_CLEAN), 1: OBJECT_EXISTS,
                      2: OBJECT_EXISTS}
    assert head.to_bytes() == head_raw
    snap_raw = (VECTORS / "ombig_snap.bin").read_bytes()
    snap = BitVector.from_bytes(snap_raw)
    assert {i for i, s in enumerate(snap) if s} == clean | {1, 3}
    assert set(snap) == {OBJECT_NONEXISTENT, OBJECT_EXISTS}
    assert snap.to_bytes() == snap_raw
    assert bv == BitVector.from_bytes(OM16)


# -- damage -------------------------------------------------------------------------------

def test_bad_header_crc() -> None:
    raw = bytearray(OM16)
    raw[26] ^= 1
    with pytest.raises(DecodeError, match="header CRC"):
        BitVector.from_bytes(raw)


def test_bad_data_crc() -> None:
    raw = bytearray(OM16)
    raw[18] ^= 0x40  # flip object 0 back to NONEXISTENT without fixing the crc
    with pytest.raises(DecodeError, match="data block CRC"):
        BitVector.from_bytes(raw)


def test_wrong_number_of_crcs() -> None:
    raw = bytearray(OM16[:22]) + bytes.fromhex("08000000 e6b3c16e 01000000".replace(" ", ""))
    with pytest.raises(DecodeError, match="CRCs"):
        BitVector.from_bytes(raw)


def test_newer_header_compat_refused() -> None:
    raw = bytearray(OM16)
    raw[5] = 2  # struct_compat 2
    with pytest.raises(DecodeError, match="struct_compat"):
        BitVector.from_bytes(raw)


def test_truncated_and_trailing() -> None:
    for cut in range(len(OM16)):
        with pytest.raises(DecodeError):
            BitVector.from_bytes(OM16[:cut])
    with pytest.raises(DecodeError, match="trailing"):
        BitVector.from_bytes(OM16 + b"\0")
    # decode() itself stops at the end of the vector, leaving what follows to the caller.
    dec = Decoder(OM16 + b"tail")
    assert len(BitVector.decode(dec)) == 16
    assert bytes(dec.raw(dec.remaining)) == b"tail"


# -- round trips ----------------------------------------------------------------------------

@given(st.lists(st.integers(0, 3), max_size=600), st.booleans())
def test_round_trip(states: list[int], crc: bool) -> None:
    bv = BitVector(len(states), crc_enabled=crc)
    for i, s in enumerate(states):
        bv[i] = s
    assert list(bv) == states
    again = BitVector.from_bytes(bv.to_bytes())
    assert again == bv and list(again) == states and again.crc_enabled == crc


# -- cls_rbd and librbd semantics -----------------------------------------------------------

def test_object_map_resize() -> None:
    bv = BitVector(3)
    bv.object_map_resize(6, OBJECT_EXISTS)
    assert list(bv) == [0, 0, 0, 1, 1, 1]
    bv.object_map_resize(4, OBJECT_EXISTS)
    assert list(bv) == [0, 0, 0, 1]
    with pytest.raises(CephError) as exc:
        bv.object_map_resize(2, OBJECT_NONEXISTENT)
    assert exc.value.errno == errno.ESTALE
    # a plain resize keeps stale bits in the last byte (as Ceph); cls resize clears them
    bv = BitVector(4)
    bv[3] = OBJECT_EXISTS
    bv.resize(3)
    bv.resize(4)
    assert bv[3] == OBJECT_EXISTS
    bv.resize(3)
    bv.object_map_resize(4, OBJECT_NONEXISTENT)
    assert bv[3] == OBJECT_NONEXISTENT
    with pytest.raises(CephError) as exc:
        bv.object_map_resize(256_000_001, OBJECT_NONEXISTENT)
    assert exc.value.errno == errno.EINVAL


def test_object_map_update_filters() -> None:
    bv = BitVector(5)
    for i, s in enumerate([0, 1, 2, 3, 1]):
        bv[i] = s
    assert bv.object_map_update(0, 5, OBJECT_PENDING, OBJECT_EXISTS)
    # EXISTS filter also matches EXISTS_CLEAN
    assert list(bv) == [0, 2, 2, 2, 2]
    assert not bv.object_map_update(1, 5, OBJECT_PENDING)
    assert bv.object_map_update(0, 2, OBJECT_NONEXISTENT, OBJECT_PENDING)
    assert list(bv) == [0, 0, 2, 2, 2]
    assert bv.object_map_update(0, 5, OBJECT_EXISTS)
    assert list(bv) == [1] * 5
    for start, end in [(2, 2), (3, 1), (0, 6)]:
        with pytest.raises(CephError) as exc:
            bv.object_map_update(start, end, OBJECT_EXISTS)
        assert exc.value.errno == errno.ERANGE


def test_snap_add_and_remove() -> None:
    head = BitVector(4)
    for i, s in enumerate([1, 1, 0, 3]):
        head[i] = s
    snap = head.to_bytes()
    assert head.object_map_snap_add()
    assert list(head) == [3, 3, 0, 3]
    assert not head.object_map_snap_add()
    snap_map = BitVector.from_bytes(snap)
    snap_map.resize(1)  # a smaller (older) snapshot: entries past its end count as EXISTS
    assert head.object_map_snap_remove(snap_map)
    assert list(head) == [1, 1, 0, 1]


def test_update_required_and_existence() -> None:
    assert not update_required(OBJECT_EXISTS, OBJECT_EXISTS)
    assert not update_required(OBJECT_NONEXISTENT, OBJECT_PENDING)
    assert not update_required(OBJECT_EXISTS, OBJECT_NONEXISTENT)
    assert update_required(OBJECT_PENDING, OBJECT_NONEXISTENT)
    assert update_required(OBJECT_NONEXISTENT, OBJECT_EXISTS)
    assert update_required(OBJECT_EXISTS_CLEAN, OBJECT_EXISTS)
    assert [object_may_exist(s) for s in range(4)] == [False, True, True, True]
    assert [object_may_not_exist(s) for s in range(4)] == [True, False, True, False]


def test_bounds() -> None:
    bv = BitVector(3)
    with pytest.raises(IndexError):
        bv[3]
    with pytest.raises(ValueError):
        bv[0] = 4
    with pytest.raises(ValueError):
        BitVector(5, b"\0")
