"""Issue #19 item 3, groups and group snapshots, compared with librbd 16.2.

One python-rbd script (group create/list/rename/remove, members, group snapshots with the
quiesce flags, rename/remove/rollback of group snapshots, Image.group, the member
snapshots as SnapIterator and the `rbd` CLI show them, removal of a member, a member moved
to the trash) runs under /usr/bin/python3 (librbd) and under ``from rbdpy import rados,
rbd``, each in its own RBD namespace of one pool; every entry must be equal once the random
parts (group and group snapshot ids, pool-wide snap ids, timestamps) are masked.

Then the acceptance flow (three images in a group, a group snapshot, writes, a group
rollback, each image's `rbd export` equal to its content at the snapshot), interop both
ways with the `rbd` CLI, and the `rbdpy group ...` verbs against `rbd group ...`.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.fix_cluster import SessionCluster
from tests.parity import run_json

pytestmark = pytest.mark.cluster

_SCRIPT = r"""
import json, subprocess, sys
conf, pool, ns, impl = sys.argv[1:5]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
out = {}

def attempt(label, fn):
    try:
        out[label] = ["ok", fn()]
    except Exception as e:
        out[label] = [type(e).__name__, str(e)]

def cli(*args):
    proc = subprocess.run(["rbd", "-c", conf, *args], capture_output=True, text=True,
                          timeout=120)
    return proc.stdout if proc.returncode == 0 else ["rc", proc.returncode]

def clijson(*args):
    text = cli(*args, "--format", "json")
    return json.loads(text) if isinstance(text, str) else text

def snaps(im):
    return [{k: v for k, v in s.items() if k != "id"} for s in im.list_snaps()]

spec = f"{pool}/{ns}"
with rados.Rados(conffile=conf) as cluster:
    io = cluster.open_ioctx(pool)
    io.set_namespace(ns)
    R = rbd.RBD()
    attempt("group_list empty", lambda: R.group_list(io))
    attempt("group_remove missing", lambda: R.group_remove(io, "nope"))
    attempt("group_rename missing", lambda: R.group_rename(io, "nope", "x"))
    attempt("group_create g", lambda: R.group_create(io, "g"))
    attempt("group_create g again", lambda: R.group_create(io, "g"))
    attempt("group_create bad type", lambda: R.group_create(io, 5))
    attempt("group_create empty", lambda: R.group_create(io, ""))
    attempt("group_rename g g2", lambda: R.group_rename(io, "g", "g2"))
    attempt("group_rename g2 g2", lambda: R.group_rename(io, "g2", "g2"))
    R.group_create(io, "h")
    attempt("group_rename g2 h", lambda: R.group_rename(io, "g2", "h"))
    attempt("group_rename g2 g", lambda: R.group_rename(io, "g2", "g"))
    attempt("group_list", lambda: R.group_list(io))
    attempt("Group bad name", lambda: rbd.Group(io, 5))
    gm = rbd.Group(io, "nope")
    attempt("missing list_images", lambda: list(gm.list_images()))
    attempt("missing list_snaps", lambda: list(gm.list_snaps()))
    attempt("missing create_snap", lambda: gm.create_snap("s"))
    attempt("missing add_image", lambda: gm.add_image(io, "i1"))
    attempt("missing rollback", lambda: gm.rollback_to_snap("s"))
    R.create(io, "i1", 8 << 20)
    R.create(io, "i2", 4 << 20)
    R.create(io, "i3", 1 << 20)
    g = rbd.Group(io, "g")
    attempt("add missing image", lambda: g.add_image(io, "nope"))
    attempt("add bad type", lambda: g.add_image(io, 3))
    attempt("add i1", lambda: g.add_image(io, "i1"))
    attempt("add i1 again", lambda: g.add_image(io, "i1"))
    attempt("add i1 to h", lambda: rbd.Group(io, "h").add_image(io, "i1"))
    attempt("add i2", lambda: g.add_image(io, "i2"))
    io_default = cluster.open_ioctx(pool)
    attempt("add from another namespace", lambda: g.add_image(io_default, "i3"))
    attempt("remove from another namespace", lambda: g.remove_image(io_default, "i2"))
    attempt("list_images", lambda: sorted(list(g.list_images()), key=lambda d: d["name"]))
    for name in ("i1", "i2", "i3"):
        with rbd.Image(io, name) as im:
            attempt(name + " group", im.group)
    with rbd.Image(io, "i1") as im:
        im.write(b"a" * 4096, 0)
    attempt("remove member without snapshots", lambda: R.remove(io, "i2"))
    attempt("snap both quiesce flags", lambda: g.create_snap(
        "sx", rbd.RBD_SNAP_CREATE_SKIP_QUIESCE | rbd.RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR))
    attempt("snap unknown flag", lambda: g.create_snap("sx", 1 << 8))
    attempt("snap bad name type", lambda: g.create_snap(7))
    attempt("snap s1", lambda: g.create_snap("s1"))
    attempt("snap s1 again", lambda: g.create_snap("s1"))
    attempt("snap s2 skip quiesce", lambda: g.create_snap("s2", rbd.RBD_SNAP_CREATE_SKIP_QUIESCE))
    attempt("snap s3 ignore error", lambda: g.create_snap(
        "s3", rbd.RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR))
    # a member at its snapshot limit: the members already snapshotted and the record go
    with rbd.Image(io, "i2") as im:
        im.set_snap_limit(3)
    attempt("snap over a member's limit", lambda: g.create_snap("s5"))
    with rbd.Image(io, "i1") as im:
        attempt("i1 snaps after a failed group snapshot", lambda: len(list(im.list_snaps())))
    with rbd.Image(io, "i2") as im:
        im.remove_snap_limit()
    attempt("list_snaps", lambda: sorted(list(g.list_snaps()), key=lambda d: d["name"]))
    out["rbd group snap ls"] = sorted(clijson("group", "snap", "ls", spec + "/g"),
                                      key=lambda d: d["snapshot"])
    out["rbd group image ls"] = sorted(clijson("group", "image", "ls", spec + "/g"),
                                       key=lambda d: d["image"])
    out["rbd snap ls --all i1"] = sorted(
        [{k: v for k, v in s.items() if k not in ("id", "timestamp")}
         for s in clijson("snap", "ls", "--all", spec + "/i1")],
        key=lambda d: d["namespace"]["group snap"])
    with rbd.Image(io, "i1") as im:
        attempt("i1 snaps", lambda: sorted(snaps(im), key=lambda d: d["group"]["snap_name"]))
        first = sorted(im.list_snaps(), key=lambda s: s["group"]["snap_name"])[0]
        attempt("i1 namespace type", lambda: im.snap_get_namespace_type(first["id"]))
        attempt("i1 group namespace", lambda: im.snap_get_group_namespace(first["id"]))
        attempt("i1 remove member snap by name", lambda: im.remove_snap(first["name"]))
        attempt("i1 snap_exists member snap", lambda: im.snap_exists(first["name"]))
        im.write(b"b" * 4096, 0)
    attempt("rename_snap s3 s4", lambda: g.rename_snap("s3", "s4"))
    attempt("rename_snap s4 s4", lambda: g.rename_snap("s4", "s4"))
    attempt("rename_snap s4 s1", lambda: g.rename_snap("s4", "s1"))
    attempt("rename_snap missing", lambda: g.rename_snap("nope", "x"))
    attempt("remove_snap missing", lambda: g.remove_snap("nope"))
    attempt("remove_snap s4", lambda: g.remove_snap("s4"))
    attempt("rollback s1", lambda: g.rollback_to_snap("s1"))
    attempt("rollback missing", lambda: g.rollback_to_snap("nope"))
    attempt("rollback with a callback", lambda: g.rollback_to_snap("s1", None))
    with rbd.Image(io, "i1") as im:
        attempt("i1 data after rollback", lambda: im.read(0, 8).decode())
    attempt("remove member with snapshots", lambda: R.remove(io, "i1"))
    attempt("remove_image not a member", lambda: g.remove_image(io, "i3"))
    attempt("remove_image missing", lambda: g.remove_image(io, "nope"))
    attempt("remove_image i2", lambda: g.remove_image(io, "i2"))
    attempt("list_images after", lambda: list(g.list_images()))
    with rbd.Image(io, "i2") as im:
        attempt("i2 group after", im.group)
        attempt("i2 snaps after", lambda: sorted(snaps(im), key=lambda d: d["group"]["snap_name"]))
    attempt("rollback without i2", lambda: g.rollback_to_snap("s2"))
    attempt("remove_snap s2 without i2", lambda: g.remove_snap("s2"))
    with rbd.Image(io, "i2") as im:
        attempt("i2 snaps after s2 removal", lambda: len(list(im.list_snaps())))
    out["rbd trash mv i1"] = cli("trash", "mv", spec + "/i1")
    attempt("list_images with i1 in the trash", lambda: list(g.list_images()))
    out["rbd trash restore i1"] = cli("trash", "restore", "--image", "i1", "--pool", pool,
                                      "--namespace", ns,
                                      clijson("trash", "ls", spec)[0]["id"])
    attempt("list_images with i1 restored", lambda: [m["name"] for m in g.list_images()])
    attempt("group_remove g", lambda: R.group_remove(io, "g"))
    attempt("group_list after", lambda: R.group_list(io))
    with rbd.Image(io, "i1") as im:
        attempt("i1 group after group removal", im.group)
        attempt("i1 snaps after group removal", lambda: snaps(im))
    for name in ("i1", "i2", "i3"):
        with rbd.Image(io, name) as im:
            for s in list(im.list_snaps()):
                im.remove_snap_by_id(s["id"])
        R.remove(io, name)
    R.group_remove(io, "h")
    attempt("images left", lambda: R.list(io))
    attempt("groups left", lambda: R.group_list(io))
print(json.dumps(out))
"""

# group ids, group snapshot ids and the member snapshot names that carry them
_RANDOM = re.compile(r"\.group\.[0-9a-f]+_[0-9a-f]+_[0-9a-f]+")


def _run(python: str, impl: str, conf: str, pool: str, ns: str) -> dict[str, Any]:
    text = _RANDOM.sub(".group.X", json.dumps(run_json(python, _SCRIPT, conf, pool, ns,
                                                          impl)))
    return dict(json.loads(text.replace(f"/{ns}/", "/NS/").replace(f'"{ns}"', '"NS"')))


def _rbd(cluster: SessionCluster, *args: str) -> str:
    return subprocess.run(["rbd", "-c", str(cluster.conf), *args], check=True,
                          capture_output=True, text=True, timeout=300).stdout


def _rbdpy(cluster: SessionCluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rbdpy.cli.main", "-c", str(cluster.conf),
                           *args], capture_output=True, text=True, timeout=300)


def _export_sha(cluster: SessionCluster, spec: str) -> str:
    data = subprocess.run(["rbd", "-c", str(cluster.conf), "export", "--no-progress", spec,
                           "-"], check=True, capture_output=True, timeout=300).stdout
    return hashlib.sha256(data).hexdigest()


def test_groups_script_as_librbd(cluster: SessionCluster, pool: str) -> None:
    for ns in ("ref", "our"):
        _rbd(cluster, "namespace", "create", f"{pool}/{ns}")
    conf = str(cluster.conf)
    theirs = _run("/usr/bin/python3", "librbd", conf, pool, "ref")
    ours = _run(sys.executable, "rbdpy", conf, pool, "our")
    # python-rbd 16.2's rollback_to_snap takes the name only (a Cython METH_O method);
    # the TypeError's wording is CPython's, not Cython's
    assert theirs.pop("rollback with a callback")[0] == "TypeError"
    assert ours.pop("rollback with a callback")[0] == "TypeError"
    assert ours == theirs
    # a few facts spelled out, so a failure above reads easily
    assert theirs["group_create g again"][0] == "ObjectExists"
    assert theirs["group_rename g2 h"][0] == "ImageExists"
    assert theirs["remove member without snapshots"] == ["OSError",
                                                          "[errno 31] error removing image"]
    assert theirs["snap both quiesce flags"][0] == "InvalidArgument"
    # librbd 16.2 reports a member's failed snapshot (EDQUOT here) as ENOENT
    assert theirs["snap over a member's limit"][0] == "ObjectNotFound"
    assert theirs["i1 data after rollback"] == ["ok", "aaaaaaaa"]
    assert theirs["list_images with i1 in the trash"] == ["ok", []]
    assert theirs["rbd group snap ls"] == [{"snapshot": s, "state": "ok"}
                                         for s in ("s1", "s2", "s3")]


def test_multi_disk_backup_flow(cluster: SessionCluster, pool: str) -> None:
    """Acceptance: three images in a group, a group snapshot, writes, a group rollback;
    `rbd export` of each image equals its content at the snapshot."""
    from rbdpy import rados, rbd

    names = ("disk0", "disk1", "disk2")
    with rados.Rados(conffile=str(cluster.conf)) as handle, handle.open_ioctx(pool) as io:
        r = rbd.RBD()
        r.group_create(io, "vm")
        group = rbd.Group(io, "vm")
        for i, name in enumerate(names):
            r.create(io, name, (8 + 4 * i) << 20)
            with rbd.Image(io, name) as im:
                im.write(bytes([0x41 + i]) * (1 << 20), i << 20)
                im.write(b"tail" * 1024, im.size() - 4096)
            group.add_image(io, name)
        group.create_snap("backup")
        at_snapshot = {n: _export_sha(cluster, f"{pool}/{n}") for n in names}
        for i, name in enumerate(names):
            with rbd.Image(io, name) as im:
                im.write(b"\xff" * (2 << 20), 0)
                im.discard(im.size() - (1 << 20), 1 << 20)
                if i == 2:
                    im.resize(20 << 20)
        assert all(_export_sha(cluster, f"{pool}/{n}") != at_snapshot[n] for n in names)
        group.rollback_to_snap("backup")
        assert {n: _export_sha(cluster, f"{pool}/{n}") for n in names} == at_snapshot
        snap_list = json.loads(_rbd(cluster, "group", "snap", "ls", "--format", "json",
                                    f"{pool}/vm"))
        assert snap_list == [{"snapshot": "backup", "state": "ok"}]
        for name in names:
            listed = json.loads(_rbd(cluster, "snap", "ls", "--all", "--format", "json",
                                     f"{pool}/{name}"))
            assert [s["namespace"] for s in listed] == [
                {"type": "group", "pool": pool, "group": "vm", "group snap": "backup"}]
        r.group_remove(io, "vm")
        for name in names:
            assert json.loads(_rbd(cluster, "snap", "ls", "--all", "--format", "json",
                                   f"{pool}/{name}")) == []
            r.remove(io, name)


def test_group_snapshots_interop_with_rbd_cli(cluster: SessionCluster, pool: str) -> None:
    """rbdpy's group snapshot rolled back by `rbd group snap rollback`, and the reverse."""
    from rbdpy import rados, rbd

    with rados.Rados(conffile=str(cluster.conf)) as handle, handle.open_ioctx(pool) as io:
        r = rbd.RBD()
        for name in ("a", "b"):
            r.create(io, name, 4 << 20)
        # rbdpy makes the group and its snapshot, the rbd CLI rolls it back
        r.group_create(io, "ours")
        group = rbd.Group(io, "ours")
        group.add_image(io, "a")
        with rbd.Image(io, "a") as im:
            im.write(b"1" * 8192, 0)
        group.create_snap("s")
        before = _export_sha(cluster, f"{pool}/a")
        with rbd.Image(io, "a") as im:
            im.write(b"2" * 8192, 4096)
        _rbd(cluster, "group", "snap", "rollback", "--no-progress", f"{pool}/ours@s")
        assert _export_sha(cluster, f"{pool}/a") == before
        _rbd(cluster, "group", "snap", "rm", f"{pool}/ours@s")
        group.remove_image(io, "a")
        assert list(group.list_images()) == []
        # the rbd CLI makes the group and its snapshot, rbdpy rolls it back
        _rbd(cluster, "group", "create", f"{pool}/theirs")
        _rbd(cluster, "group", "image", "add", f"{pool}/theirs", f"{pool}/b")
        with rbd.Image(io, "b") as im:
            im.write(b"3" * 8192, 0)
            assert im.group() == {"pool": io.get_pool_id(), "name": "theirs"}
        _rbd(cluster, "group", "snap", "create", f"{pool}/theirs@t")
        before = _export_sha(cluster, f"{pool}/b")
        with rbd.Image(io, "b") as im:
            im.write(b"4" * 8192, 0)
        theirs = rbd.Group(io, "theirs")
        assert list(theirs.list_snaps()) == [{"name": "t", "state": 1}]
        theirs.rollback_to_snap("t")
        assert _export_sha(cluster, f"{pool}/b") == before
        theirs.rename_snap("t", "t2")
        assert json.loads(_rbd(cluster, "group", "snap", "ls", "--format", "json",
                               f"{pool}/theirs")) == [{"snapshot": "t2", "state": "ok"}]
        theirs.remove_snap("t2")
        assert json.loads(_rbd(cluster, "snap", "ls", "--all", "--format", "json",
                               f"{pool}/b")) == []
        _rbd(cluster, "group", "rm", f"{pool}/theirs")
        r.group_remove(io, "ours")
        assert r.group_list(io) == []
        for name in ("a", "b"):
            r.remove(io, name)


def test_rbdpy_group_cli_as_rbd(cluster: SessionCluster, pool: str) -> None:
    """`rbdpy group ...` does what `rbd group ...` does and prints what it prints."""

    def both(*args: str) -> str:
        ours = _rbdpy(cluster, *args)
        assert ours.returncode == 0, ours.stderr
        assert ours.stdout == _rbd(cluster, *args), args
        return ours.stdout

    def ok(*args: str) -> None:
        proc = _rbdpy(cluster, *args)
        assert proc.returncode == 0, proc.stderr

    _rbd(cluster, "create", "--size", "4M", f"{pool}/img")
    ok("group", "create", f"{pool}/cg")
    # failures exit with the errno, as rbd's do
    assert _rbdpy(cluster, "group", "create", f"{pool}/cg").returncode == 17
    assert _rbdpy(cluster, "group", "snap", "rm", f"{pool}/cg@nope").returncode == 2
    assert both("group", "ls", pool, "--format", "json") == '["cg"]\n'
    assert both("group", "ls", pool) == "cg\n"
    ok("group", "image", "add", f"{pool}/cg", f"{pool}/img")
    both("group", "image", "ls", f"{pool}/cg", "--format", "json")
    both("group", "image", "ls", f"{pool}/cg")
    ok("group", "snap", "create", "--skip-quiesce", f"{pool}/cg@s1")
    assert both("group", "snap", "ls", f"{pool}/cg", "--format", "json") == \
        '[{"snapshot":"s1","state":"ok"}]\n'
    both("group", "snap", "ls", f"{pool}/cg")
    rollback = _rbdpy(cluster, "group", "snap", "rollback", f"{pool}/cg@s1")
    assert rollback.returncode == 0, rollback.stderr
    assert rollback.stderr.endswith("Rolling back to group snapshot: 100% complete...done.\n")
    ok("group", "snap", "rename", f"{pool}/cg@s1", "s2")
    assert _rbd(cluster, "group", "snap", "ls", f"{pool}/cg", "--format", "json") == \
        '[{"snapshot":"s2","state":"ok"}]\n'
    ok("group", "snap", "rm", f"{pool}/cg@s2")
    ok("group", "rename", f"{pool}/cg", f"{pool}/cg2")
    assert _rbd(cluster, "group", "ls", pool) == "cg2\n"
    ok("group", "image", "rm", f"{pool}/cg2", f"{pool}/img")
    assert both("group", "image", "ls", f"{pool}/cg2", "--format", "json") == "[]\n"
    ok("group", "rm", f"{pool}/cg2")
    assert both("group", "ls", pool, "--format", "json") == "[]\n"
    _rbd(cluster, "rm", "--no-progress", f"{pool}/img")


_HOLDER = r"""
import subprocess, sys
conf, pool, impl, other_python, other_impl = sys.argv[1:6]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
# the other implementation snapshots and rolls back the group while we own the lock
PEER = "\n".join([
    "import sys",
    "if sys.argv[3] == 'librbd':",
    "    import rados, rbd",
    "else:",
    "    from rbdpy import rados, rbd",
    "with rados.Rados(conffile=sys.argv[1]) as c, c.open_ioctx(sys.argv[2]) as io:",
    "    getattr(rbd.Group(io, 'held'), sys.argv[4])('s')",
])

def peer(verb):
    subprocess.run([other_python, "-c", PEER, conf, pool, other_impl, verb], check=True,
                   timeout=120)

with rados.Rados(conffile=conf) as c, c.open_ioctx(pool) as io:
    with rbd.Image(io, "member") as im:
        im.write(b"before" * 100, 0)
        assert im.is_exclusive_lock_owner()
        peer("create_snap")
        im.write(b"after!" * 100, 0)
        peer("rollback_to_snap")
        print(im.read(0, 600).decode())
"""


@pytest.mark.parametrize(("holder", "peer"), [("librbd", "rbdpy"), ("rbdpy", "librbd")])
def test_group_snapshot_of_images_another_client_writes(cluster: SessionCluster, pool: str,
                                                         holder: str, peer: str) -> None:
    """A member open and locked by a writer of the other implementation: the group
    snapshot and the rollback get the lock handed over, and the writer then reads the
    rolled-back data (it refreshes on the peer's header update)."""
    pythons = {"librbd": "/usr/bin/python3", "rbdpy": sys.executable}
    _rbd(cluster, "create", "--size", "4M", f"{pool}/member")
    _rbd(cluster, "group", "create", f"{pool}/held")
    _rbd(cluster, "group", "image", "add", f"{pool}/held", f"{pool}/member")
    proc = subprocess.run([pythons[holder], "-c", _HOLDER, str(cluster.conf), pool, holder,
                           pythons[peer], peer], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "before" * 100
    assert json.loads(_rbd(cluster, "group", "snap", "ls", "--format", "json",
                           f"{pool}/held")) == [{"snapshot": "s", "state": "ok"}]
    _rbd(cluster, "group", "rm", f"{pool}/held")
    _rbd(cluster, "rm", "--no-progress", f"{pool}/member")


async def test_async_group_face_reports_rollback_progress(ceph_conf: str, pool: str) -> None:
    """rbdpy.aio: AsyncRBD.group_*, AsyncGroup and AsyncImage.group; the rollback reports
    (done, total) for every object of each member, total being that member's object count
    (librbd's object throttle)."""
    from rbdpy.aio import AsyncGroup, AsyncImage, AsyncRados, AsyncRBD

    async with AsyncRados(conffile=ceph_conf) as handle:
        io = await handle.open_ioctx(pool)
        r = AsyncRBD()
        await r.group_create(io, "ag")
        group = AsyncGroup(io, "ag")
        sizes = {"x": 3 << 22, "y": 5 << 22}  # 3 and 5 objects of 4 MiB
        for name, size in sizes.items():
            await r.create(io, name, size)
            await group.add_image(io, name)
        assert sorted(m["name"] for m in await group.list_images()) == ["x", "y"]
        async with await AsyncImage.open(io, "x") as im:
            assert await im.group() == {"pool": io.pool_id, "name": "ag"}
            await im.write(b"x" * 4096, 0)
        await group.create_snap("g1")
        reports: list[tuple[int, int]] = []
        await group.rollback_to_snap("g1", lambda done, total: reports.append((done, total)))
        totals = sorted({total for _, total in reports})
        assert totals == [3, 5]
        for total in totals:
            assert sorted(d for d, t in reports if t == total) == list(range(1, total + 1))
        assert await r.group_list(io) == ["ag"]
        await r.group_remove(io, "ag")
        for name in sizes:
            await r.remove(io, name)


_INCOMPLETE_SCRIPT = r"""
import json, sys
conf, pool, group, impl = sys.argv[1:5]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
out = []
with rados.Rados(conffile=conf) as c, c.open_ioctx(pool) as io:
    g = rbd.Group(io, group)
    for fn in (lambda: list(g.list_snaps()), lambda: g.rollback_to_snap("half"),
               lambda: g.remove_snap("half"), lambda: list(g.list_snaps())):
        try:
            out.append(["ok", fn()])
        except Exception as e:
            out.append([type(e).__name__, str(e)])
print(json.dumps(out))
"""


async def test_incomplete_group_snapshot_as_librbd(ceph_conf: str, pool: str) -> None:
    """A group snapshot record left INCOMPLETE (a creation that stopped before its member
    snapshots were recorded): listed with state 0, rolled back (nothing to do) and removed
    as librbd 16.2 does."""
    from rbdpy.aio import AsyncRados, AsyncRBD
    from rbdpy.format import cls_rbd
    from rbdpy.format.constants import RBD_GROUP_DIRECTORY, group_header_name
    from rbdpy.format.types import GroupSnapshot, GroupSnapshotState
    from rbdpy.librbd.object_io import exec_ops

    async with AsyncRados(conffile=ceph_conf) as handle:
        io = await handle.open_ioctx(pool)
        results = []
        for python, impl in (("/usr/bin/python3", "librbd"), (sys.executable, "rbdpy")):
            group = "inc-" + impl
            await AsyncRBD().group_create(io, group)
            (group_id,) = await exec_ops(io, RBD_GROUP_DIRECTORY, [cls_rbd.dir_get_id(group)])
            record = GroupSnapshot("1234abcd", "half", GroupSnapshotState.INCOMPLETE, [])
            await exec_ops(io, group_header_name(group_id), [cls_rbd.group_snap_set(record)])
            proc = subprocess.run([python, "-c", _INCOMPLETE_SCRIPT, ceph_conf, pool, group,
                                   impl], capture_output=True, text=True, timeout=300)
            assert proc.returncode == 0, proc.stderr[-3000:]
            results.append(json.loads(proc.stdout))
            await AsyncRBD().group_remove(io, group)
    assert results[0] == results[1]
    assert results[0][0] == ["ok", [{"name": "half", "state": 0}]]
    assert results[0][3] == ["ok", []]


def test_member_in_another_pool(cluster: SessionCluster, pool: str) -> None:
    """A group in one pool with a member in another: the member's group link and its
    group-namespace snapshot name the group's pool, and the rbd CLI agrees."""
    import uuid

    from rbdpy import rados, rbd
    from rbdpy.devcluster import DevCluster

    other = f"t-{uuid.uuid4().hex[:10]}"
    control = cluster.control or DevCluster(cluster.conf.parent)
    control.pool_create(other)
    try:
        with rados.Rados(conffile=str(cluster.conf)) as handle, \
                handle.open_ioctx(pool) as group_io, handle.open_ioctx(other) as image_io:
            r = rbd.RBD()
            r.group_create(group_io, "xg")
            r.create(image_io, "far", 4 << 20)
            group = rbd.Group(group_io, "xg")
            group.add_image(image_io, "far")
            assert list(group.list_images()) == [
                {"name": "far", "pool": image_io.get_pool_id(), "state": 0}]
            with rbd.Image(image_io, "far") as im:
                assert im.group() == {"pool": group_io.get_pool_id(), "name": "xg"}
                im.write(b"far" * 1000, 0)
            group.create_snap("x1")
            assert json.loads(_rbd(cluster, "group", "image", "ls", "--format", "json",
                                   f"{pool}/xg")) == [
                {"image": "far", "pool": other, "namespace": "", "state": 0}]
            listed = json.loads(_rbd(cluster, "snap", "ls", "--all", "--format", "json",
                                     f"{other}/far"))
            assert [s["namespace"] for s in listed] == [
                {"type": "group", "pool": pool, "group": "xg", "group snap": "x1"}]
            before = _export_sha(cluster, f"{other}/far")
            with rbd.Image(image_io, "far") as im:
                im.write(b"new" * 1000, 0)
            _rbd(cluster, "group", "snap", "rollback", "--no-progress", f"{pool}/xg@x1")
            assert _export_sha(cluster, f"{other}/far") == before
            r.group_remove(group_io, "xg")
            with rbd.Image(image_io, "far") as im:
                assert im.group() == {"pool": -1, "name": ""}
                assert list(im.list_snaps()) == []
            r.remove(image_io, "far")
    finally:
        control.pool_delete(other)
