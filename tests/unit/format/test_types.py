"""cls_rbd value types against Ceph's corpus (four releases) and live-cluster bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rbdpy.format.types import (
    TYPES,
    ChildImageSpec,
    ClsRbdParent,
    ClsRbdSnap,
    GroupSnapshotNamespace,
    MigrationSpec,
    MirrorSnapshotNamespace,
    SnapshotInfo,
    SnapshotNamespace,
    TrashImageSpec,
    TrashSnapshotNamespace,
    UnknownSnapshotNamespace,
    UserSnapshotNamespace,
)
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.errors import DecodeError


def folder(ceph_type: str) -> str:
    return ceph_type.replace("::", ".")


def decode(cls: Any, raw: bytes) -> Any:
    return decode_all(raw, cls.decode, cls.CEPH_TYPE)


def encode(value: Any) -> bytes:
    enc = Encoder()
    value.encode(enc)
    return enc.getvalue()


@pytest.mark.parametrize("ceph_type", sorted(TYPES))
def test_corpus(corpus: Path, ceph_type: str) -> None:
    cls = TYPES[ceph_type]
    files = sorted(corpus.glob(f"*/objects/{folder(ceph_type)}/*"))
    if not files:
        pytest.skip(f"no corpus objects for {ceph_type}")
    for path in files:
        raw = path.read_bytes()
        value = decode(cls, raw)
        again = decode(cls, encode(value))
        assert again == value, path
        # our encoder writes exactly Ceph's bytes (true for all four releases today;
        # a release that appends fields would need this relaxed for its folder)
        assert encode(value) == raw, path


def test_snapshot_namespace_variants(corpus: Path) -> None:
    seen = {type(decode(SnapshotNamespace, p.read_bytes()))
            for p in corpus.glob("*/objects/cls.rbd.SnapshotNamespace/*")}
    assert seen == {UserSnapshotNamespace, GroupSnapshotNamespace, TrashSnapshotNamespace,
                    MirrorSnapshotNamespace}


def test_user_namespace_bytes() -> None:
    # FIELD_GUIDE §7.2: a user snapshot's namespace inside cls_rbd_snap (verified locally)
    assert encode(UserSnapshotNamespace()) == bytes.fromhex("01010400000000000000")


def test_unknown_namespace_kept_verbatim() -> None:
    raw = bytes.fromhex("02010900000009000000") + b"hello"
    ns = decode(SnapshotNamespace, raw)
    assert ns == UnknownSnapshotNamespace(9, b"hello")
    assert encode(ns)[6:] == raw[6:]  # re-encoded as v1 with the same body


def test_snapshot_info_sample(corpus: Path) -> None:
    path = next(corpus.glob("16.2*/objects/cls.rbd.SnapshotInfo/*"))
    infos = [decode(SnapshotInfo, p.read_bytes())
             for p in path.parent.iterdir()]
    user = next(i for i in infos if isinstance(i.snapshot_namespace, UserSnapshotNamespace))
    assert (user.id, user.name, user.image_size, user.timestamp, user.child_count) == \
        (1, "snap1", 123, (123456, 0), 12)
    mirror = [i.snapshot_namespace for i in infos
              if isinstance(i.snapshot_namespace, MirrorSnapshotNamespace)]
    assert {m.mirror_peer_uuids for m in mirror} == {frozenset({"1", "2"})}
    assert {m.primary_snap_id for m in mirror} == {CEPH_NOSNAP, 123}


def test_parent_from_live_cluster() -> None:
    # FIELD_GUIDE §8.5: header `parent` of a clone on the Pacific test cluster
    raw = bytes.fromhex("02022d000000 0100000000000000 00000000 0c000000"
                        "313031316630383130613961 0400000000000000 01 0000000400000000"
                        .replace(" ", ""))
    parent = decode(ClsRbdParent, raw)
    assert parent == ClsRbdParent(1, "", "1011f0810a9a", 4, 64 << 20)
    assert parent.exists() and encode(parent) == raw


def test_trash_spec_from_live_cluster() -> None:
    # FIELD_GUIDE §8.5 rbd_trash entry layout: v2 compat 1, source USER, name "todel"
    body = (b"\x00" + b"\x05\x00\x00\x00todel" + bytes.fromhex("aabbccdd11223344")
            + bytes.fromhex("aabbccdd11223344") + b"\x00")
    raw = bytes([2, 1]) + len(body).to_bytes(4, "little") + body
    spec = decode(TrashImageSpec, raw)
    assert spec.name == "todel" and spec.deletion_time == (0xDDCCBBAA, 0x44332211)
    assert encode(spec) == raw


def test_child_image_spec_v1_and_order() -> None:
    body = (5).to_bytes(8, "little") + b"\x03\x00\x00\x00abc"
    raw = b"\x01\x01" + len(body).to_bytes(4, "little") + body
    assert decode(ChildImageSpec, raw) == ChildImageSpec(5, "", "abc")
    assert sorted([ChildImageSpec(2, "", "b"), ChildImageSpec(1, "z", "a"),
                   ChildImageSpec(1, "", "c")])[0] == ChildImageSpec(1, "", "c")


def test_migration_spec_compat() -> None:
    spec = MigrationSpec(source_spec='{"type": "raw"}')
    assert encode(spec)[:2] == b"\x03\x03"
    assert encode(MigrationSpec())[:2] == b"\x03\x01"


def test_floor_and_compat_refused() -> None:
    v1_parent = bytes.fromhex("0101") + (4).to_bytes(4, "little") + b"\0\0\0\0"
    with pytest.raises(DecodeError, match="older than supported"):
        decode(ClsRbdParent, v1_parent)
    snap = bytearray(encode(ClsRbdSnap(id=1, name="s")))
    snap[1] = 1  # compat 1: pre-Nautilus layout
    with pytest.raises(DecodeError, match="pre-Nautilus"):
        decode(ClsRbdSnap, bytes(snap))
    ns = bytearray(encode(UserSnapshotNamespace()))
    ns[1] = 2
    with pytest.raises(DecodeError, match="struct_compat"):
        decode(SnapshotNamespace, bytes(ns))


def test_newer_version_tail_skipped() -> None:
    info = SnapshotInfo(7, UserSnapshotNamespace(), "s", 10, (1, 2), 3)
    raw = bytearray(encode(info))
    raw[0] = 9  # pretend a future v9 appended fields
    raw += b"future"
    raw[2:6] = (int.from_bytes(raw[2:6], "little") + 6).to_bytes(4, "little")
    dec = Decoder(bytes(raw) + b"after")
    assert SnapshotInfo.decode(dec) == info
    assert bytes(dec.raw(dec.remaining)) == b"after"


def test_truncation_everywhere(corpus: Path) -> None:
    for ceph_type, cls in TYPES.items():
        for path in sorted(corpus.glob(f"16.2*/objects/{folder(ceph_type)}/*"))[:3]:
            raw = path.read_bytes()
            for cut in range(len(raw)):
                with pytest.raises(DecodeError):
                    decode(cls, raw[:cut])
            with pytest.raises(DecodeError):
                decode(cls, raw + b"\0")


VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "cls_rbd"


def test_live_cluster_records() -> None:
    ids = dict(kv.split("=") for kv in (VECTORS / "ids.txt").read_text().split())
    snap_raw = (VECTORS / "cls_rbd_snap.bin").read_bytes()
    snap = decode(ClsRbdSnap, snap_raw)
    assert (snap.id, snap.name, snap.image_size, snap.protection_status) == \
        (int(ids["snap_id"]), "s1", 64 << 20, 2)
    assert snap.snapshot_namespace == UserSnapshotNamespace()
    assert encode(snap) == snap_raw
    parent_raw = (VECTORS / "cls_rbd_parent.bin").read_bytes()
    parent = decode(ClsRbdParent, parent_raw)
    assert parent == ClsRbdParent(1, "", ids["parent_id"], int(ids["snap_id"]), 64 << 20)
    assert encode(parent) == parent_raw
    trash_raw = (VECTORS / "trash_image_spec.bin").read_bytes()
    trash = decode(TrashImageSpec, trash_raw)
    assert (trash.source, trash.name, trash.state) == (0, "vec_trash", 0)
    assert trash.deletion_time == trash.deferment_end_time and trash.deletion_time[0] > 0
    assert encode(trash) == trash_raw
