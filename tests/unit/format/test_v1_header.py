"""rbdpy.format.v1_header against format 1 headers and a TMAP directory librbd wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from rbdpy.format.constants import data_object_name
from rbdpy.format.v1_header import (
    HEADER_SIZE,
    HeaderError,
    SnapshotV1,
    block_name_for,
    decode_header,
    decode_tmap_keys,
    encode_new_header,
    header_object_name,
    tmap_rm_command,
    tmap_set_command,
)

VECTORS = Path(__file__).parents[2] / "vectors" / "format1"
MiB = 1 << 20


def test_plain_header_round_trip() -> None:
    raw = (VECTORS / "format1_header_plain.bin").read_bytes()
    assert len(raw) == HEADER_SIZE == 112
    hdr = decode_header(raw)
    assert (hdr.block_name, hdr.order, hdr.size, hdr.snap_seq, hdr.snapshots) == \
        ("rb.0.da80.6b8b4567", 22, 64 * MiB, 0, ())
    # create_v1 writes exactly these bytes for the same block name, size and order
    assert encode_new_header(hdr.block_name, hdr.size, hdr.order) == raw


def test_header_with_snapshots() -> None:
    hdr = decode_header((VECTORS / "format1_header_snaps.bin").read_bytes())
    assert (hdr.block_name, hdr.order, hdr.size, hdr.snap_seq) == \
        ("rb.0.dcae.6b8b4567", 22, 12 * MiB, 7)
    assert hdr.snapshots == (SnapshotV1(7, 12 * MiB, "second"),
                             SnapshotV1(6, 8 * MiB, "first"))


def test_rejects_what_librbd_rejects() -> None:
    raw = (VECTORS / "format1_header_snaps.bin").read_bytes()
    with pytest.raises(HeaderError):
        decode_header(raw[:HEADER_SIZE - 1])
    with pytest.raises(HeaderError):
        decode_header(b"x" + raw[1:])
    with pytest.raises(HeaderError):
        decode_header(raw[:-3])  # names cut short


def test_directory_tmap() -> None:
    raw = (VECTORS / "format1_rbd_directory_tmap.bin").read_bytes()
    assert decode_tmap_keys(raw) == ["pv1", "v1b", "vecs"]
    assert decode_tmap_keys(b"") == []


def test_names_and_commands() -> None:
    assert header_object_name("img") == "img.rbd"
    assert block_name_for(0xDA80, 0x6B8B4567) == "rb.0.da80.6b8b4567"
    assert block_name_for((1 << 32) | 5, 0x1F) == "rb.1.5.1f"
    assert data_object_name("rb.0.da80.6b8b4567", 15, old_format=True) == \
        "rb.0.da80.6b8b4567.00000000000f"
    assert tmap_set_command("ab") == b"s\x02\x00\x00\x00ab\x00\x00\x00\x00"
    assert tmap_rm_command("ab") == b"r\x02\x00\x00\x00ab"


def test_size_field_and_snapshot_calls() -> None:
    from rbdpy.format.v1_header import SIZE_OFFSET, encode_size, snap_add, snap_remove

    raw = bytearray((VECTORS / "format1_header_plain.bin").read_bytes())
    raw[SIZE_OFFSET:SIZE_OFFSET + 8] = encode_size(12 * MiB)
    assert decode_header(raw).size == 12 * MiB
    add = snap_add("s1", 7)
    assert (add.cls, add.method, add.write) == ("rbd", "snap_add", True)
    assert bytes(add.indata) == b"\x02\x00\x00\x00s1" + (7).to_bytes(8, "little")
    rm = snap_remove("s1")
    assert (rm.method, bytes(rm.indata)) == ("snap_remove", b"\x02\x00\x00\x00s1")
