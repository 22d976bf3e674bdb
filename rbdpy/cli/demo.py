"""The main job: rbdpy's most complete real work today, run against a live cluster.

Each step prints what rbdpy did and, where Ceph has an oracle, what Ceph says, so a reader
can see the two agree. Steps for capabilities that do not exist yet are listed as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any


def _ceph(conf: str, *args: str) -> str:
    return subprocess.run(["ceph", "-c", conf, *args], check=True, capture_output=True,
                          text=True, timeout=60).stdout


def step_cluster(conf: str, pool: str) -> None:
    """The devcluster, as Ceph's own CLI sees it."""
    print(_ceph(conf, "-s").rstrip())


def step_connect(conf: str, pool: str) -> None:
    """rbdpy's own msgr2.1 + cephx session to a monitor, in crc and in secure mode."""
    from rbdpy import rados

    for mode in ("crc", "secure"):
        t0 = time.monotonic()
        with rados.Rados(conffile=conf, conf={"ms_mon_client_mode": mode}) as r:
            took = time.monotonic() - t0
            _ret, out, _ = r.mon_command(json.dumps({"prefix": "osd dump", "format": "json"}),
                                        b"")
            ours = json.loads(out)
            print(f"   {mode:6} connected in {took * 1000:.0f} ms as client.{r.get_instance_id()};"
                  f" osd dump via rbdpy: epoch {ours['epoch']}, fsid {ours['fsid']}")
    cli = json.loads(_ceph(conf, "osd", "dump", "--format", "json"))
    print(f"   ceph CLI says:  epoch {cli['epoch']}, fsid {cli['fsid']}")


def step_pools(conf: str, pool: str) -> None:
    """Pool administration through rbdpy (MPoolOp), checked with the ceph CLI."""
    from rbdpy import rados

    with rados.Rados(conffile=conf) as r:
        r.create_pool("rbdpy-demo-pool")
        print(f"   rbdpy created 'rbdpy-demo-pool'; ceph osd pool ls: "
              f"{_ceph(conf, 'osd', 'pool', 'ls').split()}")
        r.delete_pool("rbdpy-demo-pool")
        print(f"   rbdpy deleted it;              ceph osd pool ls: "
              f"{_ceph(conf, 'osd', 'pool', 'ls').split()}")
        stats = r.get_cluster_stats()
        for _ in range(40):  # a fresh cluster's mgr takes a few seconds to report usage
            if stats["kb"]:
                break
            time.sleep(0.5)
            stats = r.get_cluster_stats()
        print(f"   cluster stats via rbdpy: {stats}")


def step_placement(conf: str, pool: str) -> None:
    """Object → PG → OSDs computed by rbdpy's OSDMap + CRUSH, against `ceph osd map`."""
    import trio

    from rbdpy.rados.client import AsyncRados
    from rbdpy.rados.proto.placement import (
        object_locator_to_pg,
        pg_to_up_acting_osds,
        raw_pg_to_pg,
    )

    async def fetch_map() -> object:
        async with AsyncRados(conffile=conf) as r:
            return r.osdmap

    osdmap = trio.run(fetch_map)
    names = [f"rbd_data.demo.{i:016x}" for i in range(200)]
    pool_id = next(pid for pid, n in osdmap.pool_name.items() if n == pool)  # type: ignore[attr-defined]
    same = 0
    for i, name in enumerate(names):
        raw = object_locator_to_pg(osdmap, pool_id, name)  # type: ignore[arg-type]
        pg = raw_pg_to_pg(osdmap.pools[pool_id], raw)  # type: ignore[attr-defined]
        m = pg_to_up_acting_osds(osdmap, pg)  # type: ignore[arg-type]
        if i < 20 or i % 10 == 0:
            cli = json.loads(_ceph(conf, "osd", "map", pool, name, "--format", "json"))
            ok = (cli["pgid"] == str(pg) and cli["up"] == m.up and cli["acting"] == m.acting
                  and cli["acting_primary"] == m.acting_primary)
            same += ok
            if i < 3:
                print(f"   {name} -> pg {pg} up {m.up} acting {m.acting}  "
                      f"(ceph osd map: pg {cli['pgid']} up {cli['up']} acting {cli['acting']})")
    print(f"   {same} of 38 objects checked against `ceph osd map`: identical")


def step_objects(conf: str, pool: str) -> None:
    """Object I/O through rbdpy's Objecter, read back by the `rados` CLI and vice versa."""
    import hashlib
    import os
    import tempfile

    import trio

    from rbdpy.rados.client import AsyncRados

    payload = os.urandom(4 << 20)

    async def write_then_read(mode: str) -> tuple[float, bytes]:
        async with AsyncRados(conffile=conf, conf={"ms_client_mode": mode}) as r:
            io = await r.open_ioctx(pool)
            t0 = time.monotonic()
            await io.write_full(f"rbdpy-demo-{mode}", payload)
            took = time.monotonic() - t0
            cli_obj = await io.read("rbdpy-demo-cli", 1 << 20)
            return took, cli_obj

    with tempfile.NamedTemporaryFile() as f:
        f.write(b"written by the rados CLI\n")
        f.flush()
        subprocess.run(["rados", "-c", conf, "-p", pool, "put", "rbdpy-demo-cli", f.name],
                       check=True, timeout=60)
    for mode in ("crc", "secure"):
        took, cli_obj = trio.run(write_then_read, mode)
        got = subprocess.run(["rados", "-c", conf, "-p", pool, "get", f"rbdpy-demo-{mode}",
                              "-"], check=True, capture_output=True, timeout=60).stdout
        same = hashlib.sha256(got).hexdigest() == hashlib.sha256(payload).hexdigest()
        print(f"   {mode:6} rbdpy wrote 4 MiB in {took * 1000:.1f} ms; `rados get` returns "
              f"{'the same bytes' if same else 'DIFFERENT BYTES'}; rbdpy read the CLI's "
              f"object: {cli_obj!r}")
    for name in ("rbdpy-demo-crc", "rbdpy-demo-secure", "rbdpy-demo-cli"):
        subprocess.run(["rados", "-c", conf, "-p", pool, "rm", name], check=True, timeout=60)


def step_image(conf: str, pool: str) -> None:
    """An RBD image made and written by rbdpy (python-rbd API), verified by the rbd CLI."""
    import hashlib
    import random

    from rbdpy import rados, rbd

    rng = random.Random(7)
    size = 64 << 20
    model = bytearray(size)
    with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, "rbdpy-demo-img", size)
        with rbd.Image(ioctx, "rbdpy-demo-img") as img:
            t0 = time.monotonic()
            img.write(bytes(range(256)) * (16 << 12), 0)  # 16 MiB at once, striped over objects
            model[0:16 << 20] = bytes(range(256)) * (16 << 12)
            for _ in range(200):
                off = rng.randrange(0, size - 70000)
                data = rng.randbytes(rng.randrange(1, 70000))
                img.write(data, off)
                model[off:off + len(data)] = data
            took = time.monotonic() - t0
            same = img.read(0, size) == bytes(model)
            print(f"   rbdpy created a 64 MiB image and wrote 16 MiB + 200 random extents in "
                  f"{took:.2f} s; its own read-back matches: {same}")
        info = json.loads(subprocess.run(["rbd", "-c", conf, "info", f"{pool}/rbdpy-demo-img",
                                          "--format", "json"], check=True, capture_output=True,
                                         text=True, timeout=60).stdout)
        print(f"   rbd info: size {info['size']}, order {info['order']}, features "
              f"{','.join(info['features'])}")
        exported = subprocess.run(["rbd", "-c", conf, "export", f"{pool}/rbdpy-demo-img", "-"],
                                  check=True, capture_output=True, timeout=120).stdout
        digest = hashlib.sha256(exported).hexdigest()[:16]
        print(f"   rbd export (librbd) sha256 {digest}...: "
              f"{'equal to' if exported == bytes(model) else 'DIFFERENT FROM'} what rbdpy wrote")
        check = subprocess.run(["rbd", "-c", conf, "object-map", "check",
                                f"{pool}/rbdpy-demo-img"], capture_output=True, text=True,
                               timeout=120)
        print(f"   rbd object-map check: exit {check.returncode}"
              f"{' (clean)' if check.returncode == 0 and not check.stdout.strip() else ''}")
        with rbd.Image(ioctx, "rbdpy-demo-img") as img:
            img.create_snap("before")
            img.write(b"\xff" * (1 << 20), 0)
            snap_ls = json.loads(subprocess.run(
                ["rbd", "-c", conf, "snap", "ls", f"{pool}/rbdpy-demo-img", "--format",
                 "json"], check=True, capture_output=True, text=True, timeout=60).stdout)
            at_snap = subprocess.run(["rbd", "-c", conf, "export", "--snap", "before",
                                      f"{pool}/rbdpy-demo-img", "-"], check=True,
                                     capture_output=True, timeout=120).stdout
            verdict = "equals" if at_snap == bytes(model) else "DIFFERS FROM"
            print(f"   rbdpy snapshot 'before' (id {img.snap_get_id('before')}); rbd snap ls: "
                  f"{[(x['id'], x['name']) for x in snap_ls]}; after overwriting 1 MiB, "
                  f"`rbd export --snap before` {verdict} the old content")
            ours: list[tuple[int, int, bool]] = []
            img.diff_iterate(0, size, "before", lambda o, n, e: ours.append((o, n, e)),
                             whole_object=True)
            cli_diff = json.loads(subprocess.run(
                ["rbd", "-c", conf, "diff", "--whole-object", "--from-snap", "before",
                 "--format", "json", f"{pool}/rbdpy-demo-img"], check=True,
                capture_output=True, text=True, timeout=60).stdout)
            theirs = [(x["offset"], x["length"], x["exists"] == "true") for x in cli_diff]
            print(f"   rbdpy diff_iterate since 'before' (fast diff, whole objects): {ours}; "
                  f"`rbd diff --whole-object`: {'same' if ours == theirs else theirs}")
            img.rollback_to_snap("before")
            print(f"   rbdpy rollback: image content is the old one again: "
                  f"{img.read(0, size) == bytes(model)}")
            img.remove_snap("before")
        rbd.RBD().remove(ioctx, "rbdpy-demo-img")
        print(f"   rbdpy removed it; rbd ls: {rbd.RBD().list(ioctx)}")


def step_clones(conf: str, pool: str) -> None:
    """A golden image, clones of its snapshot made, written and flattened by rbdpy, and
    a clone made by librbd read by rbdpy; the rbd CLI judges every step."""
    import random

    from rbdpy import rados, rbd

    def rbd_cli(*args: str) -> str:
        return subprocess.run(["rbd", "-c", conf, *args], check=True, capture_output=True,
                              text=True, timeout=120).stdout

    def export(spec: str) -> bytes:
        return subprocess.run(["rbd", "-c", conf, "export", "--no-progress", spec, "-"],
                              check=True, capture_output=True, timeout=120).stdout

    rng = random.Random(16)
    size = 16 << 20
    golden = rng.randbytes(size)
    with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, "rbdpy-demo-golden", size)
        with rbd.Image(ioctx, "rbdpy-demo-golden") as img:
            img.write(golden, 0)
            img.create_snap("base")
            img.protect_snap("base")
        for child, fmt in (("rbdpy-demo-v1", 1), ("rbdpy-demo-v2", 2)):
            cluster.conf_set("rbd_default_clone_format", str(fmt))
            rbd.RBD().clone(ioctx, "rbdpy-demo-golden", "base", ioctx, child)
        parent = json.loads(rbd_cli("info", f"{pool}/rbdpy-demo-v2", "--format", "json"))
        print(f"   rbdpy cloned golden@base twice (v1, v2); rbd info: parent "
              f"{parent['parent']['image']}@{parent['parent']['snapshot']}, overlap "
              f"{parent['parent']['overlap']}; rbd children: "
              f"{rbd_cli('children', f'{pool}/rbdpy-demo-golden@base').split()}")
        model = bytearray(golden)
        with rbd.Image(ioctx, "rbdpy-demo-v2") as img:
            reads_parent = img.read(0, size) == golden
            for _ in range(20):
                off = rng.randrange(0, size - 9000)
                data = rng.randbytes(rng.randrange(1, 9000))
                img.write(data, off)  # copy-up of the parent's object, then the write
                model[off:off + len(data)] = data
            img.discard(8 << 20, 4 << 20)  # below the overlap: zeros, not the parent again
            model[8 << 20:12 << 20] = bytes(4 << 20)
        print(f"   rbdpy reads the parent's data through the v2 clone: {reads_parent}; after "
              f"20 copy-up writes and a discard, `rbd export` "
              f"{'equals' if export(f'{pool}/rbdpy-demo-v2') == bytes(model) else 'DIFFERS FROM'}"
              f" rbdpy's model")
        steps: list[int] = []
        with rbd.Image(ioctx, "rbdpy-demo-v2") as img:
            img.flatten(on_progress=lambda done, total: steps.append(done))
        after = json.loads(rbd_cli("info", f"{pool}/rbdpy-demo-v2", "--format", "json"))
        check = subprocess.run(["rbd", "-c", conf, "object-map", "check",
                                f"{pool}/rbdpy-demo-v2"], capture_output=True, timeout=120)
        print(f"   rbdpy flatten ({len(steps)} progress reports): rbd info shows a parent: "
              f"{'parent' in after}; export unchanged: "
              f"{export(f'{pool}/rbdpy-demo-v2') == bytes(model)}; object-map check exit "
              f"{check.returncode}")
        rbd_cli("clone", f"{pool}/rbdpy-demo-golden@base", f"{pool}/rbdpy-demo-librbd")
        with rbd.Image(ioctx, "rbdpy-demo-librbd", read_only=True) as img:
            spec = img.get_parent_image_spec()
            same = img.read(0, size) == golden
        print(f"   librbd's clone seen by rbdpy: parent {spec['image_name']}@"
              f"{spec['snap_name']}, overlap read equals golden: {same}")
        for name in ("rbdpy-demo-librbd", "rbdpy-demo-v1", "rbdpy-demo-v2"):
            rbd.RBD().remove(ioctx, name)
        with rbd.Image(ioctx, "rbdpy-demo-golden") as img:
            img.unprotect_snap("base")
            img.remove_snap("base")
        rbd.RBD().remove(ioctx, "rbdpy-demo-golden")
        print(f"   rbdpy removed the clones and the golden image; rbd ls: "
              f"{rbd.RBD().list(ioctx)}")


def step_pool_features(conf: str, pool: str) -> None:
    """A tenant namespace, the trash, a group snapshot and rollback, and a live migration
    between namespaces, all through the python-rbd API; the rbd CLI judges them."""
    from rbdpy import rados, rbd

    def rbd_json(*args: str) -> Any:
        return json.loads(subprocess.run(["rbd", "-c", conf, *args, "--format", "json"],
                                         check=True, capture_output=True, text=True,
                                         timeout=120).stdout)

    size = 8 << 20
    api = rbd.RBD()
    with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as ioctx:
        api.namespace_create(ioctx, "rbdpy-demo-tenant")
        with cluster.open_ioctx(pool) as tenant:
            tenant.set_namespace("rbdpy-demo-tenant")
            for name in ("disk-a", "disk-b"):
                api.create(tenant, name, size)
                with rbd.Image(tenant, name) as img:
                    img.write(name.encode() * 1000, 0)
            print(f"   namespace {api.namespace_list(ioctx)}; its images per rbd ls: "
                  f"{rbd_json('ls', f'{pool}/rbdpy-demo-tenant')}")
            api.group_create(tenant, "vm")
            group = rbd.Group(tenant, "vm")
            for name in ("disk-a", "disk-b"):
                group.add_image(tenant, name)
            group.create_snap("backup")
            with rbd.Image(tenant, "disk-a") as img:
                img.write(b"\xee" * 4096, 0)
            group.rollback_to_snap("backup")
            with rbd.Image(tenant, "disk-a") as img:
                restored = img.read(0, 6) == b"disk-a"
            snaps = rbd_json("group", "snap", "ls", f"{pool}/rbdpy-demo-tenant/vm")
            print(f"   group 'vm' snapshot per rbd group snap ls: "
                  f"{[(x['snapshot'], x['state']) for x in snaps]}; after an overwrite, "
                  f"rollback restored disk-a: {restored}")
            for name in ("disk-a", "disk-b"):
                group.remove_image(tenant, name)
            group.remove_snap("backup")
            api.group_remove(tenant, "vm")
            api.trash_move(tenant, "disk-b", 0)
            trashed = rbd_json("trash", "ls", f"{pool}/rbdpy-demo-tenant")
            print(f"   trash_move disk-b; rbd trash ls: {[x['name'] for x in trashed]}")
            for entry in api.trash_list(tenant):
                api.trash_remove(tenant, entry["id"])
            api.migration_prepare(tenant, "disk-a", ioctx, "rbdpy-demo-migrated")
            api.migration_execute(ioctx, "rbdpy-demo-migrated")
            api.migration_commit(ioctx, "rbdpy-demo-migrated")
            with rbd.Image(ioctx, "rbdpy-demo-migrated", read_only=True) as img:
                moved = img.read(0, 6) == b"disk-a"
            print(f"   migrated disk-a out of the namespace: content kept {moved}; "
                  f"namespace now holds {rbd_json('ls', f'{pool}/rbdpy-demo-tenant')}")
        api.remove(ioctx, "rbdpy-demo-migrated")
        api.namespace_remove(ioctx, "rbdpy-demo-tenant")
        print(f"   cleaned up; namespaces left: {api.namespace_list(ioctx)}")


STEPS: list[tuple[str, Callable[[str, str], None]]] = [
    ("devcluster, seen by the ceph CLI", step_cluster),
    ("rbdpy connects: msgr2.1 + cephx, crc and secure", step_connect),
    ("rbdpy pool administration", step_pools),
    ("rbdpy placement vs `ceph osd map`", step_placement),
    ("rbdpy object I/O (Objecter) vs the rados CLI", step_objects),
    ("rbdpy RBD image (python-rbd API) vs the rbd CLI", step_image),
    ("rbdpy clones: copy-up, flatten, librbd's clones", step_clones),
    ("rbdpy namespaces, groups, trash, live migration", step_pool_features),
]

#: Capabilities the main job will show once they exist (kept honest and current).
NOT_YET = [
    "RBD mirroring and encryption through rbdpy",
]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="rbdpy-demo", description=__doc__)
    ap.add_argument("--conf", required=True, help="ceph.conf of the cluster to use")
    ap.add_argument("--pool", default="rbd")
    args = ap.parse_args(argv)
    for title, fn in STEPS:
        print(f"\n== {title}")
        t0 = time.monotonic()
        fn(args.conf, args.pool)
        print(f"   ({time.monotonic() - t0:.2f} s)")
    if NOT_YET:
        print("\n== not built yet (the main job grows as these land):")
        for item in NOT_YET:
            print(f"   - {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
