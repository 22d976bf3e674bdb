"""Image.deep_copy against librbd: python-rbd and rbdpy deep-copy the same source, and the
``rbd`` CLI must see the two copies alike -- snapshots (names, sizes, protection), header
(size, order, striping, features, data pool), the data of every snapshot and of HEAD, the
metadata, and what the object maps say (``rbd diff --whole-object`` between every pair of
versions and ``rbd du``, both answered from the object maps)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from rbdpy.devcluster import DevCluster
from rbdpy.librbd.image_ctx import ImageCtx
from rbdpy.librbd.object_snaps import list_object_snaps
from rbdpy.rados.client import AsyncRados
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.types import SnapContext
from tests.fix_cluster import SessionCluster
from tests.integration.test_rbd_snapshots import REPO, SYSTEM_PYTHON, _system_env

pytestmark = pytest.mark.cluster

MiB = 1 << 20

# Runs under python-rbd (/usr/bin/python3) or rbdpy: one deep copy, its outcome printed.
_DEEP_COPY = textwrap.dedent("""
    import json, sys
    if sys.argv[1] == "rbdpy":
        from rbdpy import rados, rbd
    else:
        import rados, rbd
    conf, pool, src, snap, dest_pool, dest, kwargs = sys.argv[2:9]
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    try:
        io = cluster.open_ioctx(pool)
        dest_io = cluster.open_ioctx(dest_pool)
        try:
            with rbd.Image(io, src, snapshot=snap or None) as image:
                image.deep_copy(dest_io, dest, **json.loads(kwargs))
            print(json.dumps(["ok"]))
        except Exception as e:
            print(json.dumps([type(e).__name__, str(e)]))
    finally:
        cluster.shutdown()
""")


def deep_copy(which: str, conf: str, pool: str, src: str, dest: str, snap: str = "",
              dest_pool: str | None = None, **kwargs: Any) -> list[str]:
    python = SYSTEM_PYTHON if which == "librbd" else sys.executable
    proc = subprocess.run(
        [python, "-c", _DEEP_COPY, which, conf, pool, src, snap, dest_pool or pool, dest,
         json.dumps(kwargs)],
        capture_output=True, timeout=300, check=False, cwd=REPO,
        env=_system_env() if which == "librbd" else None)
    assert proc.returncode == 0, proc.stderr.decode()
    result: list[str] = json.loads(proc.stdout)
    return result


def rbd(conf: str, *args: str) -> bytes:
    proc = subprocess.run(["rbd", "-c", conf, *args], capture_output=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, f"rbd {' '.join(args)}: {proc.stderr.decode()}"
    return proc.stdout


def rbd_json(conf: str, *args: str) -> Any:
    return json.loads(rbd(conf, *args, "--format", "json"))


def image_view(conf: str, spec: str) -> dict[str, Any]:
    """What the CLI sees of an image, with what differs between two copies left out
    (ids, names, timestamps)."""
    info = rbd_json(conf, "info", spec)
    for key in ("name", "id", "block_name_prefix", "create_timestamp", "access_timestamp",
                "modify_timestamp"):
        info.pop(key, None)
    snaps = rbd_json(conf, "snap", "ls", spec)
    versions = [None, *(s["name"] for s in snaps)]
    view: dict[str, Any] = {
        "info": info,
        "snaps": [(s["name"], s["size"], s["protected"]) for s in snaps],
        # (an image without metadata prints nothing, not "{}")
        "meta": json.loads(rbd(conf, "image-meta", "list", spec, "--format", "json") or "{}"),
        "du": [{k: v for k, v in row.items() if k not in ("name", "id", "snapshot_id")}
               for row in rbd_json(conf, "du", spec)["images"]],
    }
    for end in versions:
        at = spec if end is None else f"{spec}@{end}"
        data = rbd(conf, "export", at, "-")
        view[f"md5 {end}"] = hashlib.md5(data).hexdigest()
        starts = [None, *(versions[1:] if end is None else versions[1:versions.index(end)])]
        for start in starts:
            args = ["diff", "--whole-object", at]
            if start is not None:
                args += ["--from-snap", start]
            view[f"diff {start}..{end}"] = rbd_json(conf, *args)
    return view


def clone_structure(conf: str, pool: str, name: str) -> dict[int, Any]:
    """Each data object's RADOS clones (LIST_SNAPS), snapshot ids replaced by their rank:
    which snapshots each clone serves, its size and what it shares with the next one. Two
    deep copies alike here copied the same extents at the same snapshots."""
    async def run() -> dict[int, Any]:
        async with AsyncRados(conffile=conf) as cluster:
            io = await cluster.open_ioctx(pool)
            ictx = await ImageCtx.open(io, name, read_only=True)
            try:
                infos = await ictx.snap_infos()
                rank: dict[int, Any] = {sid: i for i, sid in enumerate(sorted(infos))}
                rank[CEPH_NOSNAP] = "head"
                out: dict[int, Any] = {}
                sizes = [ictx.head_size, *(i.image_size for i in infos.values())]
                for objectno in range(ictx.num_objects(max(sizes))):
                    snap_set = await list_object_snaps(ictx, objectno)
                    if snap_set is None:
                        continue
                    out[objectno] = [(rank[c.cloneid], [rank[s] for s in c.snaps], c.size,
                                      list(c.overlap)) for c in snap_set.clones]
                return out
            finally:
                await ictx.close()
    return trio.run(run)


# Runs under python-rbd: the source image, with history.
_BUILD_SOURCE = textwrap.dedent("""
    import json, sys
    import rados, rbd
    conf, pool, name, options = sys.argv[1:5]
    options = json.loads(options)
    MiB = 1 << 20
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    try:
        io = cluster.open_ioctx(pool)
        rbd.RBD().create(io, name, 16 * MiB, order=20, old_format=False, features=61,
                         **options)
        with rbd.Image(io, name) as im:
            im.write(b"a" * 5000, 0)
            im.write(b"b" * 4096, 3 * MiB + 100)
            im.metadata_set("k1", "v1")
            im.create_snap("s1")
            im.write(b"c" * 100, 10)
            im.write(b"d" * 70000, 5 * MiB)
            im.write(b"\\0" * 4096, 9 * MiB)  # zeros written: data, not a hole
            im.create_snap("s2")
            im.protect_snap("s2")
            im.discard(3 * MiB, MiB)  # a whole object: removed
            im.discard(5 * MiB + 4096, 8192)  # inside an object: a hole
            im.resize(8 * MiB)  # objects cut off
            im.create_snap("s3")
            im.write(b"e" * 4096, 7 * MiB + 4096)
            im.resize(12 * MiB)
            im.write(b"f" * 100, 11 * MiB)
            im.discard(0, 1000)
            im.metadata_set("conf_rbd_cache", "false")
    finally:
        cluster.shutdown()
""")


def build_source(conf: str, pool: str, name: str, **options: Any) -> None:
    """An image with history: writes, a protected snapshot, discards, a shrink, a growth,
    objects that appear and disappear between snapshots, metadata."""
    subprocess.run([SYSTEM_PYTHON, "-c", _BUILD_SOURCE, conf, pool, name,
                    json.dumps(options)], check=True, timeout=300, env=_system_env())


@pytest.fixture
def data_pool(cluster: SessionCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    cl = cluster.control or DevCluster(cluster.conf.parent)
    cl.pool_create(name)
    try:
        yield name
    finally:
        cl.pool_delete(name)


def test_deep_copy_matches_librbd(ceph_conf: str, pool: str) -> None:
    build_source(ceph_conf, pool, "src")
    # a discard inside s3's range after s3: a hole in an object that keeps existing
    rbd(ceph_conf, "snap", "create", f"{pool}/src@s4")
    assert deep_copy("librbd", ceph_conf, pool, "src", "ref") == ["ok"]
    assert deep_copy("rbdpy", ceph_conf, pool, "src", "ours") == ["ok"]
    ref = image_view(ceph_conf, f"{pool}/ref")
    assert ref["snaps"] == [("s1", 16 * MiB, "false"), ("s2", 16 * MiB, "true"),
                            ("s3", 8 * MiB, "false"), ("s4", 12 * MiB, "false")]
    assert image_view(ceph_conf, f"{pool}/ours") == ref
    assert clone_structure(ceph_conf, pool, "ours") == \
        clone_structure(ceph_conf, pool, "ref")


def test_deep_copy_at_a_snapshot(ceph_conf: str, pool: str) -> None:
    """Read at s2: s1 and s2 are copied, HEAD holds s2's data and size."""
    build_source(ceph_conf, pool, "src")
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest, snap="s2") == ["ok"]
    ref = image_view(ceph_conf, f"{pool}/ref")
    assert [s[0] for s in ref["snaps"]] == ["s1", "s2"]
    assert image_view(ceph_conf, f"{pool}/ours") == ref
    assert clone_structure(ceph_conf, pool, "ours") == \
        clone_structure(ceph_conf, pool, "ref")


def test_deep_copy_striped_with_data_pools(ceph_conf: str, pool: str, data_pool: str) -> None:
    """A striped source with a data pool: by default the copy keeps the striping but not
    the data pool; with ``data_pool`` its data goes there; with another order and
    features the data is re-striped."""
    build_source(ceph_conf, pool, "src", stripe_unit=65536, stripe_count=4,
                 data_pool=data_pool)
    cases: list[tuple[str, dict[str, Any]]] = [
        ("plain", {}),
        ("dp", {"data_pool": data_pool}),
        ("relayout", {"order": 22, "features": 1, "stripe_unit": 1 << 20,
                      "stripe_count": 2}),
        ("unstriped", {"stripe_unit": 4 << 20, "stripe_count": 1, "order": 22}),
    ]
    for label, kwargs in cases:
        for which in ("librbd", "rbdpy"):
            assert deep_copy(which, ceph_conf, pool, "src", f"{label}-{which}",
                             **kwargs) == ["ok"], (label, which)
        ref = image_view(ceph_conf, f"{pool}/{label}-librbd")
        assert image_view(ceph_conf, f"{pool}/{label}-rbdpy") == ref, label
        assert clone_structure(ceph_conf, pool, f"{label}-rbdpy") == \
            clone_structure(ceph_conf, pool, f"{label}-librbd"), label
    assert "data_pool" not in rbd_json(ceph_conf, "info", f"{pool}/plain-rbdpy")
    assert rbd_json(ceph_conf, "info", f"{pool}/dp-rbdpy")["data_pool"] == data_pool


def test_deep_copy_errors_match_python_rbd(ceph_conf: str, pool: str) -> None:
    rbd(ceph_conf, "create", f"{pool}/src", "--size", "4M")
    rbd(ceph_conf, "create", f"{pool}/taken", "--size", "1M")
    for kwargs in ({}, {"order": 9}, {"stripe_unit": 12345, "stripe_count": 3}):
        theirs = deep_copy("librbd", ceph_conf, pool, "src", "taken", **kwargs)
        ours = deep_copy("rbdpy", ceph_conf, pool, "src", "taken", **kwargs)
        assert ours == theirs, kwargs
    assert deep_copy("librbd", ceph_conf, pool, "src", "taken")[0] == "ImageExists"
    theirs = deep_copy("librbd", ceph_conf, pool, "src", "bad", order=9)
    ours = deep_copy("rbdpy", ceph_conf, pool, "src", "bad2", order=9)
    assert ours[0] == theirs[0]


# Runs under python-rbd: a parent with data in every object, a protected snapshot ``p``
# (and its image metadata), and a clone ``name`` of it in the given clone format, with
# history: snapshots before and after writes (copy-ups), discards (a whole object: an
# empty object hiding the parent; inside one: a hole), a shrink below the parent's size
# and a growth past it.
_BUILD_CLONE = textwrap.dedent("""
    import sys
    import rados, rbd
    conf, pool, name, fmt, striping = sys.argv[1:6]
    MiB = 1 << 20
    layout = {"stripe_unit": 65536, "stripe_count": 4} if striping == "striped" else {}
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    try:
        io = cluster.open_ioctx(pool)
        rbd.RBD().create(io, "parent", 8 * MiB, order=20, old_format=False, features=61,
                         **layout)
        with rbd.Image(io, "parent") as im:
            for i in range(8):
                im.write(bytes([65 + i]) * 300000, i * MiB + 1000)
            im.metadata_set("pk", "parent's")
            im.metadata_set("shared", "parent's")
            im.create_snap("p")
            im.protect_snap("p")
        cluster.conf_set("rbd_default_clone_format", fmt)
        rbd.RBD().clone(io, "parent", "p", io, name, features=61, **layout)
        with rbd.Image(io, name) as im:
            im.metadata_set("ck", "clone's")
            im.metadata_set("shared", "clone's")
            im.create_snap("c1")
            im.write(b"x" * 100, 10)
            im.create_snap("c2")
            im.write(b"y" * 100, 2 * MiB + 10)
            im.discard(3 * MiB, MiB)
            im.discard(4 * MiB + 100000, 4096)
            im.create_snap("c3")
            im.resize(6 * MiB + 512)
            im.create_snap("c4")
            im.resize(9 * MiB)
            im.write(b"z" * 100, 8 * MiB + 10)
    finally:
        cluster.shutdown()
""")


def build_clone(conf: str, pool: str, name: str, clone_format: int,
                striping: str = "plain") -> None:
    subprocess.run([SYSTEM_PYTHON, "-c", _BUILD_CLONE, conf, pool, name,
                    str(clone_format), striping], check=True, timeout=300, env=_system_env())


def set_clone_format(conf: str, pool: str, clone_format: int) -> None:
    """The format of the clones deep copy makes in ``pool`` (a pool override, which both
    librbd and rbdpy read)."""
    rbd(conf, "config", "pool", "set", pool, "rbd_default_clone_format", str(clone_format))


def clone_view(conf: str, pool: str, name: str) -> dict[str, Any]:
    """image_view plus what a clone copy must also agree on: the parent and overlap of
    every snapshot, and the copy's place among its parent snapshot's children."""
    spec = f"{pool}/{name}"
    view = image_view(conf, spec)
    for snap in view["snaps"]:
        view[f"parent {snap[0]}"] = rbd_json(conf, "info", f"{spec}@{snap[0]}").get("parent")
    parent = view["info"].get("parent")
    if parent is not None:
        children = rbd_json(conf, "children", f"{parent['pool']}/{parent['image']}"
                            f"@{parent['snapshot']}")
        view["listed as child"] = any(c["image"] == name for c in children)
    return view


def object_map_check(conf: str, pool: str, name: str) -> list[str]:
    """What ``rbd object-map check`` finds wrong (object numbers only); it invalidates
    the map it finds wrong, so run it last."""
    proc = subprocess.run(["rbd", "-c", conf, "object-map", "check", f"{pool}/{name}"],
                          capture_output=True, timeout=300, check=False)
    errors = [line.split("object map error: object ", 1)[1]
              for line in proc.stderr.decode().splitlines() if "object map error" in line]
    # rbd_data.[DATA_POOL_ID.]IMAGE_ID.OBJECTNO marked as ..., but should be ...
    return [proc.returncode, *sorted(e.split(" ", 1)[0].rsplit(".", 1)[1] + " " +
                                     e.split(" ", 1)[1] for e in errors)]


@pytest.mark.parametrize(("source_format", "copy_format", "striping"),
                         [(1, 1, "plain"), (2, 2, "plain"), (2, 1, "plain"),
                          (2, 2, "striped")])
def test_deep_copy_of_a_clone_matches_librbd(ceph_conf: str, pool: str, source_format: int,
                                             copy_format: int, striping: str) -> None:
    """The copy is a clone of the same parent snapshot (in the pool's clone format) whose
    snapshots keep the source's overlaps, with the parent's metadata under the source's;
    objects the source never had stay absent (they read through the parent), and librbd's
    empty objects (including the one its object map leaves out) are reproduced."""
    build_clone(ceph_conf, pool, "src", source_format, striping)
    set_clone_format(ceph_conf, pool, copy_format)
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest) == ["ok"], which
    ref = clone_view(ceph_conf, pool, "ref")
    assert ref["info"]["parent"]["image"] == "parent"
    assert ref["info"]["parent"]["overlap"] == 6 * MiB + 512
    assert ref["listed as child"]
    assert ref["meta"] == {"pk": "parent's", "ck": "clone's", "shared": "clone's"}
    assert ("clone-child" in ref["info"]["op_features"]) == (copy_format == 2)
    assert clone_view(ceph_conf, pool, "ours") == ref
    # the source and the copies read alike at every version
    src = image_view(ceph_conf, f"{pool}/src")
    assert {k: v for k, v in ref.items() if k.startswith("md5")} == \
        {k: v for k, v in src.items() if k.startswith("md5")}
    assert clone_structure(ceph_conf, pool, "ours") == \
        clone_structure(ceph_conf, pool, "ref")
    ref_check = object_map_check(ceph_conf, pool, "ref")
    assert object_map_check(ceph_conf, pool, "ours") == ref_check


def test_deep_copy_of_a_clone_with_arguments(ceph_conf: str, pool: str,
                                            data_pool: str) -> None:
    """python-rbd's arguments reach the clone: other features (no fast-diff: every copied
    object is EXISTS in the maps), a data pool, the source's own order spelled out."""
    build_clone(ceph_conf, pool, "src", 2)
    set_clone_format(ceph_conf, pool, 2)
    kwargs = {"features": 13, "data_pool": data_pool, "order": 20}
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest, **kwargs) == ["ok"], which
    ref = clone_view(ceph_conf, pool, "ref")
    assert ref["info"]["data_pool"] == data_pool
    assert clone_view(ceph_conf, pool, "ours") == ref
    ref_check = object_map_check(ceph_conf, pool, "ref")
    assert object_map_check(ceph_conf, pool, "ours") == ref_check


def test_deep_copy_of_a_clone_at_a_snapshot(ceph_conf: str, pool: str) -> None:
    build_clone(ceph_conf, pool, "src", 2)
    set_clone_format(ceph_conf, pool, 2)
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest, snap="c4") == ["ok"], which
    ref = clone_view(ceph_conf, pool, "ref")
    assert [s[0] for s in ref["snaps"]] == ["c1", "c2", "c3", "c4"]
    assert clone_view(ceph_conf, pool, "ours") == ref
    assert clone_structure(ceph_conf, pool, "ours") == \
        clone_structure(ceph_conf, pool, "ref")
    ref_check = object_map_check(ceph_conf, pool, "ref")
    assert object_map_check(ceph_conf, pool, "ours") == ref_check


# Runs under python-rbd: 4 KiB writes at the given image offsets.
_WRITE_AT = textwrap.dedent("""
    import json, sys
    import rados, rbd
    conf, pool, name, offsets = sys.argv[1:5]
    cluster = rados.Rados(conffile=conf)
    cluster.connect()
    try:
        with rbd.Image(cluster.open_ioctx(pool), name) as im:
            for offset in json.loads(offsets):
                im.write(b"r" * 4096, offset)
    finally:
        cluster.shutdown()
""")


def write_4k_at(conf: str, pool: str, name: str, offsets: list[int]) -> None:
    subprocess.run([SYSTEM_PYTHON, "-c", _WRITE_AT, conf, pool, name, json.dumps(offsets)],
                   check=True, timeout=300, env=_system_env())


@pytest.mark.parametrize("untouched", [(), (6,), (5, 6, 8)],
                         ids=["all-written", "6-untouched", "5-6-8-untouched"])
def test_deep_copy_of_a_clone_of_a_clone(ceph_conf: str, pool: str,
                                         untouched: tuple[int, ...]) -> None:
    """The copy's parent is the source's own parent (the middle image). That parent's
    snapshot is not protected (a v2 clone needs no protection): a v1 copy fails with
    EINVAL before anything is made, a v2 copy works.

    Between two snapshots the source gets two 4 KiB writes in every object but the
    ``untouched`` ones (fixed offsets: this once used ``rbd bench --io-pattern rand``,
    whose layouts only sometimes left object 6 alone), then shrinks to 5 MiB. The shrink
    copies up the parent's data into the snapshots of every untouched object it cuts
    off -- but the middle image's object 6 reads all zeros, so that copy-up is skipped
    and the remove leaves a bare snap set (no clone, no head). Every object map calls it
    nonexistent, so librbd's ImageCopyRequest skips it, and so must we (not an empty
    object at s1)."""
    build_clone(ceph_conf, pool, "mid", 2)
    rbd(ceph_conf, "snap", "create", f"{pool}/mid@m")
    rbd(ceph_conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/mid@m",
        f"{pool}/src")
    rbd(ceph_conf, "snap", "create", f"{pool}/src@s1")
    write_4k_at(ceph_conf, pool, "src", [
        n * MiB + block * 4096 for n in range(9) if n not in untouched
        for block in ((7 * n + 3) % 256, (29 * n + 100) % 256)])
    rbd(ceph_conf, "snap", "create", f"{pool}/src@s2")
    rbd(ceph_conf, "resize", "--allow-shrink", "--size", "5M", f"{pool}/src")
    if 6 in untouched:
        assert clone_structure(ceph_conf, pool, "src")[6] == []  # the bare snap set
    set_clone_format(ceph_conf, pool, 1)
    for which, dest in (("librbd", "v1-ref"), ("rbdpy", "v1-ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest) == [
            "InvalidArgument", "[errno 22] RBD invalid argument (error copying image "
            f"b'src' to b'{dest}')"], which
    assert not {"v1-ref", "v1-ours"} & set(rbd_json(ceph_conf, "ls", pool))
    set_clone_format(ceph_conf, pool, 2)
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest) == ["ok"], which
    ref = clone_view(ceph_conf, pool, "ref")
    assert ref["info"]["parent"]["image"] == "mid"
    assert clone_view(ceph_conf, pool, "ours") == ref
    ref_structure = clone_structure(ceph_conf, pool, "ref")
    assert (6 in ref_structure) == (6 not in untouched)
    assert clone_structure(ceph_conf, pool, "ours") == ref_structure
    ref_check = object_map_check(ceph_conf, pool, "ref")
    assert object_map_check(ceph_conf, pool, "ours") == ref_check


def test_deep_copy_of_a_flattened_clone_with_parent_snapshots(ceph_conf: str,
                                                              pool: str) -> None:
    """Flattened without deep-flatten, the source's snapshots still use the parent but its
    HEAD does not: librbd cannot give the copy's HEAD an overlap of 0 (cls refuses the
    attach) and fails with EINVAL after the copy's snapshots were made; so do we, leaving
    the same copy behind."""
    build_clone(ceph_conf, pool, "base", 2)
    rbd(ceph_conf, "clone", "--rbd-default-clone-format", "2", "--image-feature",
        "layering,exclusive-lock,object-map,fast-diff", f"{pool}/parent@p", f"{pool}/src")
    rbd(ceph_conf, "snap", "create", f"{pool}/src@f1")
    rbd(ceph_conf, "bench", "--io-type", "write", "--io-size", "4K", "--io-total", "16K",
        f"{pool}/src")
    rbd(ceph_conf, "snap", "create", f"{pool}/src@f2")
    rbd(ceph_conf, "flatten", f"{pool}/src")
    assert "parent" not in rbd_json(ceph_conf, "info", f"{pool}/src")
    assert "parent" in rbd_json(ceph_conf, "info", f"{pool}/src@f1")
    set_clone_format(ceph_conf, pool, 2)
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest) == [
            "InvalidArgument", "[errno 22] RBD invalid argument (error copying image "
            f"b'src' to b'{dest}')"], which
    ref = clone_view(ceph_conf, pool, "ref")
    assert [s[0] for s in ref["snaps"]] == ["f1", "f2"]
    assert clone_view(ceph_conf, pool, "ours") == ref
    # read at a snapshot, which still has the parent, it copies
    for which, dest in (("librbd", "at-ref"), ("rbdpy", "at-ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest, snap="f2") == ["ok"], which
    ref = clone_view(ceph_conf, pool, "at-ref")
    assert ref["info"]["parent"]["image"] == "parent"
    assert clone_view(ceph_conf, pool, "at-ours") == ref
    assert clone_structure(ceph_conf, pool, "at-ours") == \
        clone_structure(ceph_conf, pool, "at-ref")


def test_deep_copy_of_a_clone_never_hides_parent_data(ceph_conf: str, pool: str) -> None:
    """An object written at HEAD without a copy-up (as an old or foreign client could) is
    absent at the snapshot before, where the source reads its parent's data. librbd's
    copy puts an empty object there, which reads zeros: a wrong copy. rbdpy refuses
    instead (NotImplementedError), before making anything."""
    build_clone(ceph_conf, pool, "src", 2)
    rbd(ceph_conf, "snap", "create", f"{pool}/src@late")
    rbd(ceph_conf, "resize", "--size", "12M", f"{pool}/src")

    async def write_without_copyup() -> None:
        async with AsyncRados(conffile=ceph_conf) as cluster:
            io = await cluster.open_ioctx(pool)
            ictx = await ImageCtx.open(io, "src", read_only=True)
            try:
                late = max(ictx.snapc.snaps)
                await ictx.data_ioctx.operate(
                    f"{ictx.object_prefix}.{5:016x}", [ops.write(0, b"w" * 10)],
                    snapc=SnapContext(late, tuple(sorted(ictx.snapc.snaps, reverse=True))))
            finally:
                await ictx.close()
    assert 5 not in clone_structure(ceph_conf, pool, "src")  # never written: the parent's
    trio.run(write_without_copyup)
    # the object maps say what is there (librbd skips objects its fast-diff calls holes)
    rbd(ceph_conf, "object-map", "rebuild", f"{pool}/src")
    set_clone_format(ceph_conf, pool, 2)
    assert deep_copy("librbd", ceph_conf, pool, "src", "ref") == ["ok"]
    src_late = hashlib.md5(rbd(ceph_conf, "export", f"{pool}/src@late", "-")).hexdigest()
    ref_late = hashlib.md5(rbd(ceph_conf, "export", f"{pool}/ref@late", "-")).hexdigest()
    assert src_late != ref_late  # librbd's copy reads zeros where the source has data
    result = deep_copy("rbdpy", ceph_conf, pool, "src", "ours")
    assert result[0] == "NotImplementedError", result
    assert "object 5" in result[1]
    assert "ours" not in rbd_json(ceph_conf, "ls", pool)


def test_deep_copy_of_a_clone_of_a_trashed_snapshot(ceph_conf: str, pool: str) -> None:
    """A v2 clone whose parent snapshot the user removed (it waits in the trash namespace)
    cannot be cloned again: librbd fails with ENOENT and removes the half-made copy; so do
    we, and the source stays the trashed snapshot's child."""
    rbd(ceph_conf, "create", f"{pool}/parent", "--size", "4M", "--object-size", "1M")
    rbd(ceph_conf, "bench", "--io-type", "write", "--io-size", "64K", "--io-total", "1M",
        f"{pool}/parent")
    rbd(ceph_conf, "snap", "create", f"{pool}/parent@p")
    rbd(ceph_conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/parent@p",
        f"{pool}/src")
    rbd(ceph_conf, "snap", "create", f"{pool}/src@s1")
    rbd(ceph_conf, "snap", "rm", f"{pool}/parent@p")
    set_clone_format(ceph_conf, pool, 2)
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest) == [
            "ImageNotFound", "[errno 2] RBD image not found (error copying image b'src' to "
            f"b'{dest}')"], which
    assert rbd_json(ceph_conf, "ls", pool) == ["parent", "src"]
    children = rbd_json(ceph_conf, "children", "--all", f"{pool}/parent")
    assert [c["image"] for c in children] == ["src"]


def test_deep_copy_of_a_clone_with_another_layout_is_refused(ceph_conf: str,
                                                             pool: str) -> None:
    """librbd would copy it (reading parent data into objects straddling source
    objects); rbdpy does not reproduce that yet, so it refuses before making anything."""
    build_clone(ceph_conf, pool, "src", 2)
    result = deep_copy("rbdpy", ceph_conf, pool, "src", "copy", order=22)
    assert result[0] == "NotImplementedError"
    assert "layout" in result[1]
    assert "copy" not in rbd_json(ceph_conf, "ls", pool)


def test_deep_copy_without_layering_fails_at_protection(ceph_conf: str, pool: str) -> None:
    """A protected snapshot cannot be protected in a copy without layering: librbd fails
    with ENOSYS after the snapshots were made, and leaves that copy behind; so do we."""
    build_source(ceph_conf, pool, "src")
    for which in ("librbd", "rbdpy"):
        result = deep_copy(which, ceph_conf, pool, "src", which, features=0)
        assert result == ["FunctionNotSupported", "[errno 38] RBD function not supported "
                          f"(error copying image b'src' to b'{which}')"]
    ref = rbd_json(ceph_conf, "snap", "ls", f"{pool}/librbd")
    ours = rbd_json(ceph_conf, "snap", "ls", f"{pool}/rbdpy")
    assert [(s["name"], s["size"], s["protected"]) for s in ours] == \
        [(s["name"], s["size"], s["protected"]) for s in ref]


def test_deep_copy_leaves_trashed_snapshots_out(ceph_conf: str, pool: str) -> None:
    """A v2 clone's parent snapshot removed by the user waits in the trash namespace: only
    user snapshots are copied, and the data changed around it lands in the next one."""
    build_source(ceph_conf, pool, "src")
    rbd(ceph_conf, "snap", "create", f"{pool}/src@t")
    rbd(ceph_conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/src@t",
        f"{pool}/child")
    rbd(ceph_conf, "snap", "rm", f"{pool}/src@t")
    rbd(ceph_conf, "bench", "--io-type", "write", "--io-size", "64K", "--io-total", "128K",
        f"{pool}/src")
    rbd(ceph_conf, "snap", "create", f"{pool}/src@u")
    kinds = [s["namespace"]["type"] for s in rbd_json(ceph_conf, "snap", "ls", "--all",
                                                      f"{pool}/src")]
    assert kinds == ["user", "user", "user", "trash", "user"]
    for which, dest in (("librbd", "ref"), ("rbdpy", "ours")):
        assert deep_copy(which, ceph_conf, pool, "src", dest) == ["ok"]
    ref = image_view(ceph_conf, f"{pool}/ref")
    assert [s[0] for s in ref["snaps"]] == ["s1", "s2", "s3", "u"]
    assert image_view(ceph_conf, f"{pool}/ours") == ref
    assert clone_structure(ceph_conf, pool, "ours") == clone_structure(ceph_conf, pool, "ref")
