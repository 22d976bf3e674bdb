"""cls_rbd builders and reply decoders, pinned to calls recorded against a Ceph 16.2.15 OSD.

tests/vectors/cls_rbd_calls/calls.json holds, for every call, the indata our builders
produced, the OSD's ret and output, and the rbd/rados CLI's view of the same images before
and after (tools/gen_cls_vectors.sh). These tests check that the builders still produce
the exact bytes the OSD accepted, that our decoders read the OSD's answers as the CLI
reports them, and that the writes had the effect librbd's would.
"""

from __future__ import annotations

import errno
import time
from typing import Any

import pytest

from rbdpy.format import cls_rbd
from rbdpy.format.cls import ClsCall
from rbdpy.format.constants import (
    RBD_FEATURE_MAP,
    RBD_FEATURES_INCOMPATIBLE,
    RBD_FEATURES_RW_INCOMPATIBLE,
    RBD_OPERATION_FEATURE_MAP,
    RBD_PROTECTION_STATUS_PROTECTED,
    RBD_PROTECTION_STATUS_UNPROTECTED,
)
from rbdpy.format.object_map import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    BitVector,
)
from rbdpy.format.types import (
    ChildImageSpec,
    GroupImageSpec,
    GroupImageStatus,
    GroupSnapshot,
    GroupSnapshotNamespace,
    GroupSnapshotState,
    ImageSnapshotSpec,
    MigrationHeaderType,
    MigrationState,
    MirrorImageMode,
    MirrorImageState,
    MirrorSnapshotNamespace,
    MirrorSnapshotState,
    ParentImageSpec,
    SnapshotInfo,
    TrashImageSource,
    TrashImageSpec,
    UserSnapshotNamespace,
)
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import Encoder
from rbdpy.rados.proto.errors import DecodeError
from rbdpy.rados.proto.types import SnapContext
from tests.unit.format.cls_vectors import cli, ids, planned, recorded, reply

# Calls the OSD is expected to refuse, with the errno it gives.
EXPECTED_ERRORS = {
    # cls_img has no STRIPINGV2: cls_rbd answers ENOEXEC and librbd falls back
    "get_stripe_unit_count": errno.ENOEXEC,
}

U64_MAX = (1 << 64) - 1


def ctime(t: tuple[int, int]) -> str:
    """utime_t as the rbd CLI prints it (the generator ran with TZ=UTC)."""
    return time.asctime(time.gmtime(t[0]))


def features(names: list[str]) -> int:
    # the CLI calls STRIPINGV2 "striping"
    return sum(RBD_FEATURE_MAP["striping" if n == "stripingv2" else n] for n in names)


def op_features(names: list[str]) -> int:
    return sum(RBD_OPERATION_FEATURE_MAP[n] for n in names)


def info(name: str, when: str = "before") -> dict[str, Any]:
    result: dict[str, Any] = cli(when, f"info/{name}")
    return result


# -- the recorded calls themselves ------------------------------------------------------------

def test_every_planned_call_was_recorded() -> None:
    assert set(planned()) == set(recorded())


@pytest.mark.parametrize("name", sorted(recorded()))
def test_indata_is_what_the_osd_accepted(name: str) -> None:
    rec = recorded()[name]
    oid, call = planned()[name]
    assert (oid, call.cls, call.method) == (rec.oid, rec.cls, rec.method)
    assert call.indata == rec.indata
    assert call.write == rec.write
    if name in EXPECTED_ERRORS:
        assert rec.ret == -EXPECTED_ERRORS[name]
    else:
        assert rec.ret >= 0, f"OSD refused {name}: {rec.ret}"
        assert rec.ret == len(rec.outdata)


@pytest.mark.parametrize("name", sorted(n for n, r in recorded().items() if r.write))
def test_writes_return_nothing(name: str) -> None:
    assert recorded()[name].outdata == b""
    assert reply(name) is None


# -- rbd_id, rbd_directory ----------------------------------------------------------------------

def test_image_id_and_directory() -> None:
    img = info("cls_img")
    assert reply("get_id") == img["id"] == ids()["cls_img"]
    assert reply("dir_get_id") == img["id"]
    assert reply("dir_get_name") == "cls_img"
    listing = reply("dir_list")
    assert sorted(listing) == sorted(cli("before", "ls"))
    for name in ("cls_img", "cls_child1", "cls_child2", "cls_striped", "cls_dp"):
        assert listing[name] == info(name)["id"]


# -- header: size, features, prefix, pool, flags, op features ------------------------------

def test_size_and_order() -> None:
    img = info("cls_img")
    assert reply("get_size_head") == cls_rbd.ImageSize(img["size"], img["order"])
    s1 = next(s for s in ids()["snap_list"] if s["name"] == "s1")
    assert reply("get_size_s1") == (s1["size"], img["order"])


def test_features() -> None:
    bits = features(info("cls_img")["features"])
    assert reply("get_features") == (bits, bits & RBD_FEATURES_RW_INCOMPATIBLE)
    assert reply("get_features_ro") == (bits, bits & RBD_FEATURES_INCOMPATIBLE)
    for name in ("cls_striped", "cls_dp"):
        got = reply(f"get_features/{name}")
        assert got.features == features(info(name)["features"])


def test_prefix_data_pool_flags() -> None:
    assert reply("get_object_prefix") == info("cls_img")["block_name_prefix"]
    assert reply("get_data_pool") == -1
    assert reply("get_data_pool/cls_dp") == ids()["data_pool_id"]
    assert reply("get_object_prefix/cls_dp") == info("cls_dp")["block_name_prefix"]
    assert info("cls_img")["flags"] == []
    assert reply("get_flags") == 0
    assert reply("get_flags_s1") == 0


def test_op_features() -> None:
    assert reply("op_features_get") == op_features(info("cls_img")["op_features"])
    for child in ("cls_child1", "cls_child2"):
        assert reply(f"op_features_get/{child}") == op_features(info(child)["op_features"])


def test_striping() -> None:
    striped = info("cls_striped")
    assert reply("get_stripe_unit_count/cls_striped") == cls_rbd.StripeUnitCount(
        striped["stripe_unit"], striped["stripe_count"])


def test_timestamps() -> None:
    img = info("cls_img")
    for kind in ("create", "access", "modify"):
        assert ctime(reply(f"get_{kind}_timestamp")) == img[f"{kind}_timestamp"]


def test_all_features() -> None:
    # Pacific's cls_rbd knows every feature bit through DIRTY_CACHE (1 << 11)
    assert reply("get_all_features") == (1 << 12) - 1


# -- header: snapshots ------------------------------------------------------------------------

def test_snapcontext() -> None:
    snap_ids = [s["id"] for s in ids()["snap_list"]]
    snapc = reply("get_snapcontext")
    assert isinstance(snapc, SnapContext)
    assert snapc.snaps == tuple(sorted(snap_ids, reverse=True))
    assert snapc.seq >= max(snap_ids)


def test_snapshot_get_user() -> None:
    for snap in ids()["snap_list"]:
        if snap["namespace"]["type"] != "user":
            continue
        got = reply(f"snapshot_get_{snap['name']}")
        assert isinstance(got, SnapshotInfo)
        assert (got.id, got.name, got.image_size) == (snap["id"], snap["name"], snap["size"])
        assert got.snapshot_namespace == UserSnapshotNamespace()
        assert ctime(got.timestamp) == snap["timestamp"]
    # one clone v2 child (cls_child2) of s1; clone v1 children are not counted
    assert reply("snapshot_get_s1").child_count == 1
    assert reply("snapshot_get_s2").child_count == 0


def test_snapshot_get_group_namespace() -> None:
    snap = next(s for s in ids()["snap_list"] if s["namespace"]["type"] == "group")
    got = reply("snapshot_get_group")
    assert got.name == snap["name"]
    assert got.snapshot_namespace == GroupSnapshotNamespace(
        ids()["pool_id"], ids()["group_id"], ids()["group_snap_id"])


def test_snapshot_get_mirror_namespace() -> None:
    snap = ids()["mirror_snap_list"][0]
    got = reply("snapshot_get/cls_mirror")
    ns = got.snapshot_namespace
    assert isinstance(ns, MirrorSnapshotNamespace)
    assert got.name == snap["name"]
    assert ns.state == MirrorSnapshotState.PRIMARY and snap["namespace"]["state"] == "primary"
    assert ns.complete is snap["namespace"]["complete"]
    assert sorted(ns.mirror_peer_uuids) == snap["namespace"]["mirror_peer_uuids"]


def test_old_snapshot_queries_and_protection() -> None:
    s1 = next(s for s in ids()["snap_list"] if s["name"] == "s1")
    assert reply("get_snapshot_name_s1") == "s1"
    assert ctime(reply("get_snapshot_timestamp_s1")) == s1["timestamp"]
    assert s1["protected"] == "true"
    assert reply("get_protection_status_s1") == RBD_PROTECTION_STATUS_PROTECTED
    assert reply("get_protection_status_s2") == RBD_PROTECTION_STATUS_UNPROTECTED
    assert reply("snapshot_get_limit") == U64_MAX


# -- header: metadata, groups, parents and children ----------------------------------------

def test_metadata() -> None:
    want = cli("before", "image_meta/cls_img")
    got = reply("metadata_list")
    assert {k: v.decode() for k, v in got.items()} == want
    assert reply("metadata_get_key1") == want["key1"] == "val1"


def test_image_group_get() -> None:
    assert info("cls_img")["group"] == f"{ids()['pool']}/cls_grp"
    assert reply("image_group_get").group_id == ids()["group_id"]
    assert reply("image_group_get").pool_id == ids()["pool_id"]


def test_no_parent() -> None:
    none = reply("parent_get_none")
    assert not none.exists() and none.pool_id == -1
    assert reply("parent_overlap_get_none") is None
    legacy = reply("get_parent_none")
    assert legacy.spec.pool_id == -1 and legacy.overlap == 0


@pytest.mark.parametrize("child", ["cls_child1", "cls_child2"])
def test_parent_of_clones(child: str) -> None:
    parent = info(child)["parent"]
    s1 = next(s["id"] for s in ids()["snap_list"] if s["name"] == parent["snapshot"])
    want = ParentImageSpec(ids()["pool_id"], parent["pool_namespace"], parent["id"], s1)
    assert reply(f"parent_get/{child}") == want
    assert reply(f"parent_overlap_get/{child}") == parent["overlap"]
    assert reply(f"get_parent/{child}") == cls_rbd.LegacyParent(want, parent["overlap"])


def test_children() -> None:
    children = {c["image"]: c for c in cli("before", "children/cls_img@s1")}
    # clone v2 children are listed on the parent's header ...
    v2 = children["cls_child2"]
    assert reply("children_list_s1") == [ChildImageSpec(ids()["pool_id"], "", v2["id"])]
    # ... clone v1 children in the pool's rbd_children index
    assert reply("get_children") == [children["cls_child1"]["id"]]


# -- object map -------------------------------------------------------------------------------

def test_object_map_load() -> None:
    got = reply("object_map_load")
    assert len(got) == info("cls_img")["objects"]
    # the same map as the object's raw bytes, read with `rados get`
    raw = bytes.fromhex(cli("before", "rados_get/object_map_cls_img"))
    assert got == BitVector.from_bytes(raw)


# -- trash, groups, namespaces, mirroring, migration -----------------------------------------

def test_trash() -> None:
    entries = {e["id"]: e for e in cli("before", "trash_ls")}
    got = reply("trash_list")
    assert set(got) == set(entries)
    for image_id, spec in got.items():
        assert isinstance(spec, TrashImageSpec)
        assert spec.name == entries[image_id]["name"]
        assert spec.source == TrashImageSource[entries[image_id]["source"]]
        assert ctime(spec.deletion_time) == entries[image_id]["deleted_at"]
        # "expired at <deferment end>": rbd trash mv defers by 0 seconds by default
        assert entries[image_id]["status"] == f"expired at {ctime(spec.deferment_end_time)}"
    assert reply("trash_get") == got[ids()["trash_id"]]


def test_groups() -> None:
    assert reply("group_dir_list") == {"cls_grp": ids()["group_id"]}
    members = cli("before", "group_image_ls")
    assert reply("group_image_list") == [
        GroupImageStatus(GroupImageSpec(ids()["cls_img"], ids()["pool_id"]), m["state"])
        for m in members]
    group_snap = next(s for s in ids()["snap_list"] if s["namespace"]["type"] == "group")
    want = GroupSnapshot(ids()["group_snap_id"], "gs1", GroupSnapshotState.COMPLETE,
                         [ImageSnapshotSpec(ids()["pool_id"], ids()["cls_img"],
                                            group_snap["id"])])
    assert cli("before", "group_snap_ls") == [{"snapshot": "gs1", "state": "ok"}]
    assert reply("group_snap_list") == [want]
    assert reply("group_snap_get_by_id") == want


def test_namespaces() -> None:
    assert reply("namespace_list") == [n["name"] for n in cli("before", "namespace_ls")]


def test_mirroring() -> None:
    assert cli("before", "mirror_pool_info")["mode"] == "image"
    assert reply("mirror_mode_get") == cls_rbd.MirrorMode.IMAGE
    assert len(reply("mirror_uuid_get")) == 36
    global_id = cli("before", "mirror_image_status")["global_id"]
    assert reply("mirror_image_list") == {ids()["cls_mirror"]: global_id}
    got = reply("mirror_image_get")
    assert (got.global_image_id, got.state, got.mode) == (
        global_id, MirrorImageState.ENABLED, MirrorImageMode.SNAPSHOT)


def test_migration() -> None:
    status = cli("before", "migration_status")["migration"]
    src, dst = reply("migration_get/src"), reply("migration_get/dst")
    assert status["state"] == "prepared"
    assert (src.header_type, src.image_name, src.image_id, src.state) == (
        MigrationHeaderType.SRC, status["dest_image_name"], status["dest_image_id"],
        MigrationState.PREPARED)
    assert (dst.header_type, dst.image_name, dst.image_id, dst.state) == (
        MigrationHeaderType.DST, status["source_image_name"], status["source_image_id"],
        MigrationState.PREPARED)
    assert src.pool_id == dst.pool_id == ids()["pool_id"]


# -- writes, and what the CLI saw afterwards -----------------------------------------------------

def test_write_effects_on_scratch_image() -> None:
    before, after = info("cls_scratch"), info("cls_scratch", "after")
    assert before["size"] == 4 << 20 and after["size"] == 8 << 20
    assert reply("get_size/after_set_size").size == 8 << 20
    assert cli("after", "image_meta/cls_scratch") == {"wkey": "wval"}
    assert reply("metadata_list/after") == {"wkey": b"wval"}
    snaps = cli("after", "snap_ls/cls_scratch")
    ws = ids()["scratch_snap_id"]
    assert [(s["id"], s["name"], s["protected"]) for s in snaps] == [(ws, "ws1b", "true")]
    got = reply("snapshot_get/after")
    assert (got.id, got.name, got.image_size) == (ws, "ws1b", 8 << 20)
    assert reply("snapshot_get_limit/after") == 10


def test_write_effects_on_objects() -> None:
    assert bytes.fromhex(cli("after", "rados_get/rbdpy_copyup_test")) == b"hello, copyup"
    assert bytes.fromhex(cli("after", "rados_get/rbdpy_sparse_copyup_test")) == (
        b"abcd\0\0\0\0efgh")
    enc = Encoder()
    enc.string("rbdpyid1")
    assert cli("before", "rados_get/rbd_id.cls_rbdpy_set_id") is None
    assert bytes.fromhex(cli("after", "rados_get/rbd_id.cls_rbdpy_set_id")) == enc.getvalue()
    om = reply("object_map_load/om_test")
    assert list(om) == [OBJECT_NONEXISTENT] * 2 + [OBJECT_EXISTS] * 2 + [
        OBJECT_EXISTS_CLEAN] + [OBJECT_NONEXISTENT] * 5
    assert BitVector.from_bytes(bytes.fromhex(cli("after", "rados_get/rbdpy_om_test"))) == om


def test_write_effects_on_directories() -> None:
    assert cli("before", "ls/ns1") == [] and cli("after", "ls/ns1") == ["ghost"]
    assert reply("dir_list/ns1") == {"ghost": "abc123"}
    assert [n["name"] for n in cli("after", "namespace_ls")] == ["ns1", "ns2"]
    assert reply("namespace_list/after") == ["ns1", "ns2"]


# -- builders whose bytes are fixed by cls_rbd_client.cc, and decode failures -----------------

def test_argument_order_quirks() -> None:
    # set_flags sends flags, mask, then the snap id (cls_rbd_client.cc set_flags)
    assert cls_rbd.set_flags(7, 1, 2).indata == bytes.fromhex(
        "0100000000000000" "0200000000000000" "0700000000000000")
    # snapshot_add sends the name first
    assert cls_rbd.snapshot_add(5, "a").indata.startswith(bytes.fromhex("0100000061"))
    # object_map_update's current state is an optional<u8>
    assert cls_rbd.object_map_update(0, 1, 3, None).indata.endswith(b"\x03\x00")
    assert cls_rbd.object_map_update(0, 1, 3, 1).indata.endswith(b"\x03\x01\x01")
    # create: le64 size, u8 order, le64 features, prefix, s64 data pool
    assert cls_rbd.create(1 << 20, 22, 1, "p").indata == bytes.fromhex(
        "0000100000000000" "16" "0100000000000000" "0100000070" "ffffffffffffffff")


def test_legacy_calls_refuse_namespaces() -> None:
    spec = ParentImageSpec(1, "ns", "abc", 4)
    with pytest.raises(ValueError):
        cls_rbd.set_parent(spec, 0)
    with pytest.raises(ValueError):
        cls_rbd.add_child(spec, "child")


def test_object_map_save_sends_no_crcs() -> None:
    bv = BitVector.filled(5, OBJECT_EXISTS)
    indata = cls_rbd.object_map_save(bv).indata
    assert indata.endswith(b"\x00\x00\x00\x00")  # empty footer
    assert BitVector.from_bytes(indata) == bv
    assert bv.crc_enabled  # the caller's vector is untouched


@pytest.mark.parametrize("name", sorted(n for n, r in recorded().items()
                                        if r.ret > 0 and r.name != "object_map_load/om_test"))
def test_truncated_replies_are_ebadmsg(name: str) -> None:
    rec = recorded()[name]
    call = planned()[name][1]
    for cut in sorted({0, 1, len(rec.outdata) // 2, len(rec.outdata) - 1}):
        if cut >= len(rec.outdata):
            continue
        with pytest.raises(DecodeError) as e:
            call.decode_reply(rec.outdata[:cut])
        assert e.value.errno == errno.EBADMSG


def test_invalid_snapcontext_is_ebadmsg() -> None:
    enc = Encoder()
    SnapContext(3, (4,)).encode(enc)  # a snap above seq
    with pytest.raises(DecodeError) as e:
        cls_rbd.get_snapcontext().decode_reply(enc.getvalue())
    assert e.value.errno == errno.EBADMSG


def test_reply_trailing_bytes_are_ignored_like_ceph() -> None:
    out = recorded()["get_size_head"].outdata + b"\xff\xff"
    assert cls_rbd.get_size().decode_reply(out) == reply("get_size_head")


def test_unknown_mirror_mode_is_ebadmsg() -> None:
    with pytest.raises(DecodeError):
        cls_rbd.mirror_mode_get().decode_reply(b"\x07\x00\x00\x00")


def test_call_op() -> None:
    call: ClsCall[Any] = cls_rbd.get_size(CEPH_NOSNAP)
    op = call.op()
    assert op.op == ops.OsdOp.CALL
    assert b"".join(bytes(p) for p in op.indata) == b"rbdget_size" + call.indata
    assert op.decoder(0, memoryview(recorded()["get_size_head"].outdata)) == reply(
        "get_size_head")
    assert not call.write and cls_rbd.set_size(1).write
