"""Plan and run the cls_rbd / cls_lock calls recorded in tests/vectors/cls_rbd_calls.

Three modes, driven by tools/gen_cls_vectors.sh:

* ``alloc-snap CONF POOL`` (system python3 + python3-rados): allocate a self-managed snap
  id in POOL, as librbd does before ``snapshot_add``; prints it.
* ``plan IDS_JSON`` (project venv): build every call with rbdpy.format.cls_rbd/cls_lock and
  print them as JSON (object, class, method, indata hex). :func:`planned_calls` is also what
  tests/unit/format/test_cls_rbd.py uses to rebuild the same calls offline.
* ``run CONF PLAN_JSON`` (system python3 + python3-rados): send each call to the OSD with
  ``Ioctx.execute`` in plan order and print the ret/outdata of each.

rbdpy never talks to the cluster here: the OSD and python3-rados are the oracle.
"""

from __future__ import annotations

import json
import sys
from typing import Any

# Planned calls: (name, pool, namespace, object, ClsCall). Reads come first, then writes
# (each followed by reads that show their effect), in execution order.


def planned_calls(ids: dict[str, Any]) -> list[tuple[str, str, str, str, Any]]:
    from rbdpy.format import cls_lock, cls_rbd
    from rbdpy.format.object_map import OBJECT_EXISTS, OBJECT_EXISTS_CLEAN
    from rbdpy.format.types import ParentImageSpec
    from rbdpy.rados.proto.constants import CEPH_NOSNAP

    pool = ids["pool"]
    img = ids["cls_img"]
    hdr = f"rbd_header.{img}"
    snaps = {s["name"]: s["id"] for s in ids["snap_list"]}
    s1, s2 = snaps["s1"], snaps["s2"]
    group_snap = next(s["id"] for s in ids["snap_list"] if s["namespace"]["type"] == "group")
    mirror_snap = ids["mirror_snap_list"][0]["id"]
    scratch = f"rbd_header.{ids['cls_scratch']}"
    lockimg = f"rbd_header.{ids['cls_lockimg']}"
    gs_id = ids["group_snap_id"]
    locker = cls_lock.EntityNameT.parse(ids["cli_locker"])
    c: list[tuple[str, str, str, str, Any]] = []

    def add(name: str, oid: str, call: Any, nspace: str = "") -> None:
        c.append((name, pool, nspace, oid, call))

    # -- reads: rbd_id, rbd_directory -------------------------------------------------------
    add("get_id", "rbd_id.cls_img", cls_rbd.get_id())
    add("dir_get_id", "rbd_directory", cls_rbd.dir_get_id("cls_img"))
    add("dir_get_name", "rbd_directory", cls_rbd.dir_get_name(img))
    add("dir_list", "rbd_directory", cls_rbd.dir_list("", 100))
    # -- reads: the header of cls_img ----------------------------------------------------------
    add("get_size_head", hdr, cls_rbd.get_size(CEPH_NOSNAP))
    add("get_size_s1", hdr, cls_rbd.get_size(s1))
    add("get_features", hdr, cls_rbd.get_features(CEPH_NOSNAP, False))
    add("get_features_ro", hdr, cls_rbd.get_features(CEPH_NOSNAP, True))
    add("get_object_prefix", hdr, cls_rbd.get_object_prefix())
    add("get_data_pool", hdr, cls_rbd.get_data_pool())
    add("get_flags", hdr, cls_rbd.get_flags(CEPH_NOSNAP))
    add("get_flags_s1", hdr, cls_rbd.get_flags(s1))
    add("op_features_get", hdr, cls_rbd.op_features_get())
    add("get_stripe_unit_count", hdr, cls_rbd.get_stripe_unit_count())
    add("get_create_timestamp", hdr, cls_rbd.get_create_timestamp())
    add("get_access_timestamp", hdr, cls_rbd.get_access_timestamp())
    add("get_modify_timestamp", hdr, cls_rbd.get_modify_timestamp())
    add("get_snapcontext", hdr, cls_rbd.get_snapcontext())
    add("snapshot_get_s1", hdr, cls_rbd.snapshot_get(s1))
    add("snapshot_get_s2", hdr, cls_rbd.snapshot_get(s2))
    add("snapshot_get_group", hdr, cls_rbd.snapshot_get(group_snap))
    add("get_snapshot_name_s1", hdr, cls_rbd.get_snapshot_name(s1))
    add("get_snapshot_timestamp_s1", hdr, cls_rbd.get_snapshot_timestamp(s1))
    add("get_protection_status_s1", hdr, cls_rbd.get_protection_status(s1))
    add("get_protection_status_s2", hdr, cls_rbd.get_protection_status(s2))
    add("snapshot_get_limit", hdr, cls_rbd.snapshot_get_limit())
    add("metadata_list", hdr, cls_rbd.metadata_list("", 0))
    add("metadata_get_key1", hdr, cls_rbd.metadata_get("key1"))
    add("image_group_get", hdr, cls_rbd.image_group_get())
    add("children_list_s1", hdr, cls_rbd.children_list(s1))
    add("get_all_features", hdr, cls_rbd.get_all_features())
    add("parent_get_none", hdr, cls_rbd.parent_get())
    add("parent_overlap_get_none", hdr, cls_rbd.parent_overlap_get(CEPH_NOSNAP))
    add("get_parent_none", hdr, cls_rbd.get_parent(CEPH_NOSNAP))
    # -- reads: clones (v1 and v2) and the clone v1 index --------------------------------------
    for child in ("cls_child1", "cls_child2"):
        chdr = f"rbd_header.{ids[child]}"
        add(f"parent_get/{child}", chdr, cls_rbd.parent_get())
        add(f"parent_overlap_get/{child}", chdr, cls_rbd.parent_overlap_get(CEPH_NOSNAP))
        add(f"get_parent/{child}", chdr, cls_rbd.get_parent(CEPH_NOSNAP))
        add(f"op_features_get/{child}", chdr, cls_rbd.op_features_get())
    add("get_children", "rbd_children",
        cls_rbd.get_children(ParentImageSpec(ids["pool_id"], "", img, s1)))
    # -- reads: striping, data pool, object map ------------------------------------------------
    shdr = f"rbd_header.{ids['cls_striped']}"
    add("get_stripe_unit_count/cls_striped", shdr, cls_rbd.get_stripe_unit_count())
    add("get_features/cls_striped", shdr, cls_rbd.get_features())
    dhdr = f"rbd_header.{ids['cls_dp']}"
    add("get_data_pool/cls_dp", dhdr, cls_rbd.get_data_pool())
    add("get_object_prefix/cls_dp", dhdr, cls_rbd.get_object_prefix())
    add("get_features/cls_dp", dhdr, cls_rbd.get_features())
    add("object_map_load", f"rbd_object_map.{img}", cls_rbd.object_map_load())
    # -- reads: trash, groups, namespaces, mirroring, migration -----------------------------
    add("trash_list", "rbd_trash", cls_rbd.trash_list("", 100))
    add("trash_get", "rbd_trash", cls_rbd.trash_get(ids["trash_id"]))
    add("group_dir_list", "rbd_group_directory", cls_rbd.group_dir_list("", 100))
    ghdr = f"rbd_group_header.{ids['group_id']}"
    add("group_image_list", ghdr, cls_rbd.group_image_list(None, 100))
    add("group_snap_list", ghdr, cls_rbd.group_snap_list(None, 100))
    add("group_snap_get_by_id", ghdr, cls_rbd.group_snap_get_by_id(gs_id))
    add("namespace_list", "rbd_namespace", cls_rbd.namespace_list("", 100))
    add("mirror_mode_get", "rbd_mirroring", cls_rbd.mirror_mode_get())
    add("mirror_uuid_get", "rbd_mirroring", cls_rbd.mirror_uuid_get())
    add("mirror_image_list", "rbd_mirroring", cls_rbd.mirror_image_list("", 100))
    add("mirror_image_get", "rbd_mirroring", cls_rbd.mirror_image_get(ids["cls_mirror"]))
    add("snapshot_get/cls_mirror", f"rbd_header.{ids['cls_mirror']}",
        cls_rbd.snapshot_get(mirror_snap))
    add("migration_get/src", f"rbd_header.{ids['cls_migsrc']}", cls_rbd.migration_get())
    add("migration_get/dst", f"rbd_header.{ids['cls_migdst']}", cls_rbd.migration_get())
    # -- reads: cls_lock -----------------------------------------------------------------------
    add("lock.get_info/cls_lockimg", lockimg, cls_lock.get_info("rbd_lock"))
    add("lock.list_locks/cls_lockimg", lockimg, cls_lock.list_locks())

    # -- writes on cls_scratch, each checked by a read here and by the CLI afterwards ------------
    add("set_size", scratch, cls_rbd.set_size(8 << 20))
    add("get_size/after_set_size", scratch, cls_rbd.get_size(CEPH_NOSNAP))
    add("metadata_set", scratch, cls_rbd.metadata_set({"wkey": b"wval", "wkey2": b"gone"}))
    add("metadata_remove", scratch, cls_rbd.metadata_remove("wkey2"))
    add("metadata_list/after", scratch, cls_rbd.metadata_list("", 0))
    ws = ids["scratch_snap_id"]
    add("snapshot_add", scratch, cls_rbd.snapshot_add(ws, "ws1"))
    add("set_protection_status", scratch, cls_rbd.set_protection_status(ws, 2))
    add("snapshot_rename", scratch, cls_rbd.snapshot_rename(ws, "ws1b"))
    add("snapshot_get/after", scratch, cls_rbd.snapshot_get(ws))
    add("snapshot_set_limit", scratch, cls_rbd.snapshot_set_limit(10))
    add("snapshot_get_limit/after", scratch, cls_rbd.snapshot_get_limit())
    add("lock.lock", scratch, cls_lock.lock("rbd_lock", cls_lock.ClsLockType.EXCLUSIVE,
                                            "rbdpy-c1", "", "rbdpy test"))
    add("lock.set_cookie", scratch, cls_lock.set_cookie(
        "rbd_lock", cls_lock.ClsLockType.EXCLUSIVE, "rbdpy-c1", "", "rbdpy-c2"))
    add("lock.assert_locked", scratch, cls_lock.assert_locked(
        "rbd_lock", cls_lock.ClsLockType.EXCLUSIVE, "rbdpy-c2", ""))
    add("lock.lock/aux", scratch, cls_lock.lock("aux", cls_lock.ClsLockType.SHARED, "c",
                                                "tagx", "", (3600, 0)))
    add("lock.list_locks/scratch", scratch, cls_lock.list_locks())
    add("lock.get_info/aux", scratch, cls_lock.get_info("aux"))
    add("lock.unlock/aux", scratch, cls_lock.unlock("aux", "c"))
    add("lock.get_info/aux_after_unlock", scratch, cls_lock.get_info("aux"))
    add("lock.get_info/scratch", scratch, cls_lock.get_info("rbd_lock"))
    add("lock.break_lock/cls_lockimg", lockimg,
        cls_lock.break_lock("rbd_lock", locker, "cli-cookie"))
    add("object_map_resize", "rbdpy_om_test", cls_rbd.object_map_resize(10, 0))
    add("object_map_update", "rbdpy_om_test", cls_rbd.object_map_update(2, 5, OBJECT_EXISTS))
    add("object_map_update/cond", "rbdpy_om_test",
        cls_rbd.object_map_update(4, 6, OBJECT_EXISTS_CLEAN, OBJECT_EXISTS))
    add("object_map_load/om_test", "rbdpy_om_test", cls_rbd.object_map_load())
    add("copyup", "rbdpy_copyup_test", cls_rbd.copyup(b"hello, copyup"))
    add("sparse_copyup", "rbdpy_sparse_copyup_test",
        cls_rbd.sparse_copyup({0: 4, 8: 4}, b"abcdefgh"))
    add("set_id", "rbd_id.cls_rbdpy_set_id", cls_rbd.set_id("rbdpyid1"))
    add("dir_add_image/ns1", "rbd_directory", cls_rbd.dir_add_image("ghost", "abc123"), "ns1")
    add("dir_list/ns1", "rbd_directory", cls_rbd.dir_list("", 100), "ns1")
    add("namespace_add", "rbd_namespace", cls_rbd.namespace_add("ns2"))
    add("namespace_list/after", "rbd_namespace", cls_rbd.namespace_list("", 100))
    return c


def _plan(ids_path: str) -> None:
    ids = json.load(open(ids_path))
    out = [{"name": name, "pool": pool, "nspace": nspace, "oid": oid, "cls": call.cls,
            "method": call.method, "indata": call.indata.hex(), "write": call.write}
           for name, pool, nspace, oid, call in planned_calls(ids)]
    json.dump(out, sys.stdout, indent=1)


def _connect(conf: str) -> Any:
    import rados  # python3-rados (system python)
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    return cluster


def _run(conf: str, plan_path: str) -> None:
    import rados
    cluster = _connect(conf)
    results = []
    for item in json.load(open(plan_path)):
        io = cluster.open_ioctx(item["pool"])
        io.set_namespace(item["nspace"])
        try:
            ret, out = io.execute(item["oid"], item["cls"], item["method"],
                                  bytes.fromhex(item["indata"]), length=1 << 20)
        except rados.Error as e:
            ret, out = -abs(getattr(e, "errno", 0) or 1), b""
        results.append({**item, "ret": ret, "outdata": bytes(out or b"").hex()})
        io.close()
    cluster.shutdown()
    json.dump(results, sys.stdout, indent=1)


def _alloc_snap(conf: str, pool: str) -> None:
    cluster = _connect(conf)
    io = cluster.open_ioctx(pool)
    print(io.create_self_managed_snap())
    io.close()
    cluster.shutdown()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "plan":
        _plan(sys.argv[2])
    elif mode == "run":
        _run(sys.argv[2], sys.argv[3])
    elif mode == "alloc-snap":
        _alloc_snap(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown mode {mode}")
