"""Issue "Clones and layering": cloning, children and parents, compared with librbd 16.2.

One script makes the same parent, clones (v1 and v2; same pool, another pool, another
namespace; a clone of a clone), error cases, listings, snapshot unprotect/removal with
children and removals of clones, once through python3-rbd (librbd, /usr/bin/python3) and
once through ``from rbdpy import rados, rbd``, each in its own RBD namespaces of the same
two pools. The script also records what librbd itself (``rbd info``, ``rbd children``,
``rbd export``, the ``rbd_children`` index) sees of the images it made. Every entry must
be equal, namespace names aside.

Smaller scripts run the same way for librbd-made clones (parent queries and listings),
v2 clones and snapshot protection, flatten's detach, and remove_snap2's flags.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.fix_cluster import SessionCluster
from tests.parity import run_json

pytestmark = pytest.mark.cluster

_SCRIPT = r"""
import hashlib, json, subprocess, sys
conf, p1, p2, ns, impl = sys.argv[1:6]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
nsx = ns + "x"
out = {}

def attempt(label, fn):
    try:
        out[label] = ["ok", fn()]
    except Exception as e:
        out[label] = [type(e).__name__, str(e)]

def cli(*args, data=False):
    proc = subprocess.run(["rbd", "-c", conf, *args], capture_output=True, check=True,
                          timeout=120)
    return proc.stdout if data else proc.stdout.decode()

def info(spec):
    d = json.loads(cli("info", "--format", "json", spec))
    for k in ("id", "block_name_prefix", "create_timestamp", "access_timestamp",
              "modify_timestamp"):
        d.pop(k, None)
    if "parent" in d:
        d["parent"].pop("id")
        if d["parent"]["snapshot"] not in ("s1", "s2", "cs"):
            d["parent"]["snapshot"] = "TRASHED"
    return d

def sha(spec):
    return hashlib.sha256(cli("export", "--no-progress", spec, "-", data=True)).hexdigest()

def snaps(im):
    return [(s["name"] if s["namespace"] == 0 else "TRASHED", s["namespace"])
            for s in im.list_snaps()]

def children2(it):
    return [(c["pool"], c["pool_namespace"], c["image"], c["trash"]) for c in it]

def v1_index(pool):
    proc = subprocess.run(["rados", "-c", conf, "-p", pool, "-N", ns, "listomapkeys",
                           "rbd_children"], capture_output=True, timeout=60)
    return len(proc.stdout.splitlines()) if proc.returncode == 0 else "absent"

with rados.Rados(conffile=conf) as cluster:
    io1, io2, io1x = cluster.open_ioctx(p1), cluster.open_ioctx(p2), cluster.open_ioctx(p1)
    io1.set_namespace(ns); io2.set_namespace(ns); io1x.set_namespace(nsx)
    R = rbd.RBD()
    feats = (rbd.RBD_FEATURE_LAYERING | rbd.RBD_FEATURE_EXCLUSIVE_LOCK
             | rbd.RBD_FEATURE_OBJECT_MAP | rbd.RBD_FEATURE_FAST_DIFF
             | rbd.RBD_FEATURE_DEEP_FLATTEN)
    R.create(io1, "par", 8 << 20, features=feats)
    R.create(io1, "flat", 8 << 20, features=rbd.RBD_FEATURE_EXCLUSIVE_LOCK)
    with rbd.Image(io1, "par") as im:
        im.write(b"s1" * 3000, 0)
        im.write(b"s1" * 3000, 5 << 20)
        im.create_snap("s1")
        im.write(b"s2" * 3000, 4096)
        im.create_snap("s2")
        im.protect_snap("s2")
        im.metadata_set("owner", "glance")
    with rbd.Image(io1, "flat") as im:
        im.create_snap("s")

    # errors (python-rbd's class and message)
    cluster.conf_set("rbd_default_clone_format", "1")
    attempt("v1 of an unprotected snapshot", lambda: R.clone(io1, "par", "s1", io1, "e1"))
    attempt("v1 across namespaces", lambda: R.clone(io1, "par", "s2", io1x, "e2"))
    cluster.conf_set("rbd_default_clone_format", "2")
    attempt("parent without layering", lambda: R.clone(io1, "flat", "s", io1, "e3"))
    attempt("features without layering", lambda: R.clone(
        io1, "par", "s1", io1, "e4", features=rbd.RBD_FEATURE_EXCLUSIVE_LOCK))
    attempt("unknown features", lambda: R.clone(io1, "par", "s1", io1, "e5",
                                                features=1 << 40))
    attempt("no such snapshot", lambda: R.clone(io1, "par", "nope", io1, "e6"))
    attempt("no such parent", lambda: R.clone(io1, "nope", "s1", io1, "e7"))
    attempt("name taken", lambda: R.clone(io1, "par", "s1", io1, "flat"))
    attempt("empty name", lambda: R.clone(io1, "par", "s1", io1, ""))
    attempt("bad snapshot type", lambda: R.clone(io1, "par", 5, io1, "e8"))
    attempt("order below the parent's stripe unit", lambda: R.clone(
        io1, "par", "s1", io1, "e9", order=20))
    out["no leftovers"] = sorted(R.list(io1))

    # clones: v2 same pool, other pool, other namespace; v1 other pool, same pool
    attempt("v2 same pool", lambda: R.clone(io1, "par", "s1", io1, "c2"))
    attempt("v2 other pool", lambda: R.clone(io1, "par", "s1", io2, "c3"))
    attempt("v2 other namespace", lambda: R.clone(io1, "par", "s1", io1x, "cns"))
    attempt("v2 with a data pool", lambda: R.clone(io1, "par", "s1", io1, "cdp",
                                                   data_pool=p2))
    cluster.conf_set("rbd_default_clone_format", "1")
    attempt("v1 other pool", lambda: R.clone(io1, "par", "s2", io2, "c4", order=20,
                                             stripe_unit=1 << 20))
    attempt("v1 same pool", lambda: R.clone(io1, "par", "s2", io1, "c5"))
    cluster.conf_set("rbd_default_clone_format", "auto")
    attempt("auto", lambda: R.clone(io1, "par", "s2", io1, "ca"))
    cluster.conf_set("rbd_default_clone_format", "2")
    cli("snap", "create", f"{p1}/{ns}/c2@cs")
    attempt("clone of a clone", lambda: R.clone(io1, "c2", "cs", io2, "gc"))
    for spec in (f"{p1}/{ns}/c2", f"{p2}/{ns}/c3", f"{p1}/{nsx}/cns", f"{p2}/{ns}/c4",
                 f"{p1}/{ns}/c5", f"{p1}/{ns}/ca", f"{p2}/{ns}/gc", f"{p1}/{ns}/cdp"):
        short = spec.split("/")[-1]
        out["rbd info " + short] = info(spec)
    out["export c2 = par@s1"] = sha(f"{p1}/{ns}/c2") == sha(f"{p1}/{ns}/par@s1")
    out["export c4 = par@s2"] = sha(f"{p2}/{ns}/c4") == sha(f"{p1}/{ns}/par@s2")
    out["export gc = par@s1"] = sha(f"{p2}/{ns}/gc") == sha(f"{p1}/{ns}/par@s1")
    out["export cdp = par@s1"] = sha(f"{p1}/{ns}/cdp") == sha(f"{p1}/{ns}/par@s1")
    out["rbd children par@s1"] = json.loads(cli("children", "--format", "json",
                                                f"{p1}/{ns}/par@s1"))
    out["rbd children --all par"] = [
        {k: v for k, v in c.items() if k != "id"}
        for c in json.loads(cli("children", "--all", "--descendants", "--format", "json",
                                f"{p1}/{ns}/par"))]
    out["v1 index"] = [v1_index(p1), v1_index(p2)]

    # listings and parent queries
    with rbd.Image(io1, "par", read_only=True) as im:
        attempt("par list_children", im.list_children)
        attempt("par list_children2", lambda: children2(im.list_children2()))
        attempt("par list_descendants", lambda: children2(im.list_descendants()))
        attempt("par overlap", im.overlap)
        attempt("par parent_info", im.parent_info)
        attempt("par parent_id", im.parent_id)
        attempt("par get_parent_image_spec", im.get_parent_image_spec)
        im.set_snap("s2")
        attempt("par@s2 list_children", im.list_children)
        attempt("par@s2 list_children2", lambda: children2(im.list_children2()))
    for io, name in ((io1, "c2"), (io2, "c4"), (io1x, "cns"), (io2, "gc")):
        with rbd.Image(io, name, read_only=True) as clone:
            attempt(name + " sha256", lambda: hashlib.sha256(
                clone.read(0, clone.size())).hexdigest())
            attempt(name + " parent_info", clone.parent_info)
            attempt(name + " get_parent_image_spec", clone.get_parent_image_spec)
            attempt(name + " overlap", clone.overlap)

    # unprotect and removal with children
    with rbd.Image(io1, "par") as im:
        attempt("unprotect s2 with v1 children", lambda: im.unprotect_snap("s2"))
        attempt("unprotect unprotected s1", lambda: im.unprotect_snap("s1"))
        attempt("remove protected s2", lambda: im.remove_snap("s2"))
        attempt("remove s1 with v2 children", lambda: im.remove_snap("s1"))
        out["snaps after"] = snaps(im)
        out["op_features"] = im.op_features()
    attempt("remove parent with snapshots", lambda: R.remove(io1, "par"))
    attempt("remove gc", lambda: R.remove(io2, "gc"))
    cli("snap", "rm", f"{p1}/{ns}/c2@cs")
    attempt("remove c2", lambda: R.remove(io1, "c2"))
    attempt("remove c3", lambda: R.remove(io2, "c3"))
    attempt("remove cdp", lambda: R.remove(io1, "cdp"))
    with rbd.Image(io1, "par", read_only=True) as im:
        out["snaps with one v2 child left"] = snaps(im)
    attempt("remove cns", lambda: R.remove(io1x, "cns"))
    with rbd.Image(io1, "par") as im:
        out["snaps with no v2 child left"] = snaps(im)
        out["op_features with no v2 child left"] = im.op_features()
        attempt("remove c4", lambda: R.remove(io2, "c4"))
        attempt("unprotect s2 with one v1 child left", lambda: im.unprotect_snap("s2"))
        attempt("remove c5", lambda: R.remove(io1, "c5"))
        attempt("remove ca", lambda: R.remove(io1, "ca"))
        attempt("unprotect s2", lambda: im.unprotect_snap("s2"))
    out["v1 index at the end"] = [v1_index(p1), v1_index(p2)]
    out["images left"] = [sorted(R.list(io1)), sorted(R.list(io2)), sorted(R.list(io1x))]
print(json.dumps(out))
"""


def _run(python: str, impl: str, conf: str, p1: str, p2: str, ns: str) -> dict[str, Any]:
    result = run_json(python, _SCRIPT, conf, p1, p2, ns, impl)
    # the two runs differ only in their namespace names
    text = json.dumps(result).replace(ns + "x", "NSX").replace(ns, "NS")
    return dict(json.loads(text))


def _rbd(cluster: SessionCluster, *args: str) -> str:
    return subprocess.run(["rbd", "-c", str(cluster.conf), *args], check=True,
                          capture_output=True, text=True, timeout=120).stdout


def test_clones_children_and_removal_as_librbd(cluster: SessionCluster, pool: str,
                                               second_pool: str) -> None:
    for p in (pool, second_pool):
        for ns in ("ref", "refx", "our", "ourx"):
            _rbd(cluster, "namespace", "create", f"{p}/{ns}")
    conf = str(cluster.conf)
    theirs = _run("/usr/bin/python3", "librbd", conf, pool, second_pool, "ref")
    ours = _run(sys.executable, "rbdpy", conf, pool, second_pool, "our")
    assert ours == theirs
    # a few facts spelled out, so a failure above reads easily
    assert theirs["v1 of an unprotected snapshot"][0] == "InvalidArgument"
    assert theirs["remove s1 with v2 children"] == ["ok", None]
    assert theirs["v2 with a data pool"] == ["ok", None]
    assert theirs["rbd info cdp"]["data_pool"] == second_pool
    assert theirs["export cdp = par@s1"] is True
    assert theirs["snaps with no v2 child left"] == [["s2", 0]]
    assert theirs["v1 index at the end"] == [0, 0]
    assert theirs["gc get_parent_image_spec"][1]["image_name"] == "c2"


_QUERIES_SCRIPT = r"""
import json, sys
conf, pool, impl = sys.argv[1:4]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
def attempt(fn):
    try:
        return ["ok", fn()]
    except Exception as e:
        return [type(e).__name__, str(e)]
out = {}
with rados.Rados(conffile=conf) as c, c.open_ioctx(pool) as io:
    for name, snap in (("one", None), ("two", None), ("two", "before-shrink"),
                       ("base", None), ("base", "gold"), ("grand", None)):
        with rbd.Image(io, name, snapshot=snap, read_only=True) as im:
            key = name + ("@" + snap if snap else "")
            out[key + " spec"] = attempt(im.get_parent_image_spec)
            out[key + " info"] = attempt(im.parent_info)
            out[key + " id"] = attempt(lambda: len(im.parent_id()))
            out[key + " overlap"] = attempt(im.overlap)
            out[key + " children"] = attempt(im.list_children)
            out[key + " children2"] = attempt(lambda: [
                (d["image"], d["trash"]) for d in im.list_children2()])
            out[key + " descendants"] = attempt(lambda: [
                d["image"] for d in im.list_descendants()])
print(json.dumps(out))
"""


def test_parent_queries_and_listings_of_librbd_clones(cluster: SessionCluster,
                                                      pool: str) -> None:
    """Clones the ``rbd`` CLI made (v1 and v2, a shrunk one, a clone of a clone): rbdpy's
    get_parent_image_spec/parent_info/parent_id/overlap (at HEAD and at a snapshot) and
    list_children/list_children2/list_descendants answer as python3-rbd's."""
    _rbd(cluster, "create", "--size", "3M", f"{pool}/base")
    _rbd(cluster, "snap", "create", f"{pool}/base@gold")
    _rbd(cluster, "snap", "protect", f"{pool}/base@gold")
    _rbd(cluster, "clone", "--rbd-default-clone-format", "1", f"{pool}/base@gold",
         f"{pool}/one")
    _rbd(cluster, "clone", "--rbd-default-clone-format", "2", f"{pool}/base@gold",
         f"{pool}/two")
    _rbd(cluster, "snap", "create", f"{pool}/two@before-shrink")
    _rbd(cluster, "resize", "--allow-shrink", "--size", "1M", f"{pool}/two")
    _rbd(cluster, "clone", "--rbd-default-clone-format", "2", f"{pool}/two@before-shrink",
         f"{pool}/grand")
    results = []
    for python, impl in (("/usr/bin/python3", "librbd"), (sys.executable, "rbdpy")):
        proc = subprocess.run([python, "-c", _QUERIES_SCRIPT, str(cluster.conf), pool, impl],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    theirs, ours = results
    assert ours == theirs
    assert theirs["two overlap"] == ["ok", 1 << 20]  # shrunk
    assert theirs["two@before-shrink overlap"] == ["ok", 3 << 20]
    assert theirs["base spec"][0] == "ImageNotFound" and theirs["base overlap"] == ["ok", 0]
    assert theirs["base descendants"] == ["ok", ["grand", "one", "two"]]


def test_clone_format_follows_pool_override(cluster: SessionCluster, pool: str) -> None:
    """``rbd_default_clone_format`` auto: v1 on a cluster requiring only luminous clients;
    the pool's config override (``rbd config pool set``) takes precedence, as in librbd."""
    from rbdpy import rados, rbd

    required = json.loads(subprocess.run(
        ["ceph", "-c", str(cluster.conf), "osd", "dump", "--format", "json"],
        check=True, capture_output=True, text=True, timeout=60).stdout)[
        "require_min_compat_client"]
    _rbd(cluster, "create", "--size", "1M", f"{pool}/p")
    _rbd(cluster, "snap", "create", f"{pool}/p@s")
    _rbd(cluster, "snap", "protect", f"{pool}/p@s")
    with rados.Rados(conffile=str(cluster.conf)) as r, r.open_ioctx(pool) as io:
        r.conf_set("rbd_default_clone_format", "auto")
        rbd.RBD().clone(io, "p", "s", io, "auto")
        _rbd(cluster, "config", "pool", "set", pool, "rbd_default_clone_format", "2")
        rbd.RBD().clone(io, "p", "s", io, "override")
    auto_ops = json.loads(_rbd(cluster, "info", "--format", "json", f"{pool}/auto"))
    over_ops = json.loads(_rbd(cluster, "info", "--format", "json", f"{pool}/override"))
    expect_v2 = required not in ("jewel", "luminous", "kraken", "firefly", "hammer",
                                 "infernalis")
    assert ("clone-child" in auto_ops["op_features"]) == expect_v2
    assert over_ops["op_features"] == ["clone-child"]
    children = json.loads(_rbd(cluster, "children", "--format", "json", f"{pool}/p@s"))
    assert sorted(c["image"] for c in children) == ["auto", "override"]


def test_removal_of_a_clone_leaves_the_parent_clean(cluster: SessionCluster,
                                                    pool: str) -> None:
    """rbdpy removes clones librbd made: the v1 index entry and the v2 child link go, a
    trashed parent snapshot goes with its last child, and ``rbd snap unprotect`` works."""
    from rbdpy import rados, rbd

    _rbd(cluster, "create", "--size", "2M", f"{pool}/gold")
    _rbd(cluster, "snap", "create", f"{pool}/gold@v1snap")
    _rbd(cluster, "snap", "protect", f"{pool}/gold@v1snap")
    _rbd(cluster, "snap", "create", f"{pool}/gold@v2snap")
    _rbd(cluster, "clone", "--rbd-default-clone-format", "1", f"{pool}/gold@v1snap",
         f"{pool}/old")
    _rbd(cluster, "clone", "--rbd-default-clone-format", "2", f"{pool}/gold@v2snap",
         f"{pool}/new")
    _rbd(cluster, "snap", "rm", f"{pool}/gold@v2snap")  # moves to the trash namespace
    with rados.Rados(conffile=str(cluster.conf)) as r, r.open_ioctx(pool) as io:
        with rbd.Image(io, "gold") as gold:
            with pytest.raises(rbd.ImageBusy):
                gold.unprotect_snap("v1snap")
            assert [s["namespace"] for s in gold.list_snaps()] == [0, 2]
        rbd.RBD().remove(io, "old")
        rbd.RBD().remove(io, "new")
        with rbd.Image(io, "gold") as gold:
            assert [s["name"] for s in gold.list_snaps()] == ["v1snap"]
            gold.unprotect_snap("v1snap")
            assert gold.op_features() == 0
    info = json.loads(_rbd(cluster, "info", "--format", "json", f"{pool}/gold"))
    assert info["op_features"] == [] and info["snapshot_count"] == 1


_V2_PROTECTION_SCRIPT = r"""
import json, sys
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
def snaps(im):
    return [(s["name"] if s["namespace"] == 0 else "TRASHED", s["namespace"])
            for s in im.list_snaps()]
with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as io:
    io.set_namespace(ns)
    cluster.conf_set("rbd_default_clone_format", "2")
    R = rbd.RBD()
    R.create(io, "p", 1 << 20, features=rbd.RBD_FEATURE_LAYERING)
    with rbd.Image(io, "p") as im:
        im.create_snap("s")
        im.protect_snap("s")
        R.clone(io, "p", "s", io, "c")
        attempt("unprotect with a v2 child", lambda: im.unprotect_snap("s"))
        im.protect_snap("s")
        attempt("remove_snap2 UNPROTECT with a v2 child",
                lambda: im.remove_snap2("s", rbd.RBD_SNAP_REMOVE_UNPROTECT))
        out["snaps"] = snaps(im)
        attempt("is_protected of the trashed name", lambda: im.is_protected_snap("s"))
        im.create_snap("t")
        attempt("remove_snap2 FLATTEN without children",
                lambda: im.remove_snap2("t", rbd.RBD_SNAP_REMOVE_FLATTEN))
        attempt("list_children", im.list_children)
    attempt("remove the child", lambda: R.remove(io, "c"))
    with rbd.Image(io, "p") as im:
        out["snaps at the end"] = snaps(im)
        out["op_features at the end"] = im.op_features()
print(json.dumps(out))
"""


def test_v2_children_need_no_protection(cluster: SessionCluster, pool: str) -> None:
    """librbd lets a snapshot with only clone-v2 children be unprotected (and removed:
    it goes to the trash namespace, then away with its last child)."""
    results = []
    for python, impl, ns in (("/usr/bin/python3", "librbd", "ref"),
                             (sys.executable, "rbdpy", "our")):
        _rbd(cluster, "namespace", "create", f"{pool}/{ns}")
        proc = subprocess.run([python, "-c", _V2_PROTECTION_SCRIPT, str(cluster.conf), pool,
                               ns, impl], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    theirs, ours = results
    assert ours == theirs
    assert theirs["unprotect with a v2 child"] == ["ok", None]
    assert theirs["snaps at the end"] == []


_FLATTEN_SCRIPT = r"""
import json, sys
conf, p1, p2, ns, impl = sys.argv[1:6]
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
def snaps(im):
    return [(s["name"] if s["namespace"] == 0 else "TRASHED", s["namespace"])
            for s in im.list_snaps()]
def flatten(io, name):
    with rbd.Image(io, name) as im:
        im.flatten()
        return [im.op_features(), im.overlap(), im.read(0, 4).decode()]
with rados.Rados(conffile=conf) as cluster:
    io1, io2 = cluster.open_ioctx(p1), cluster.open_ioctx(p2)
    io1.set_namespace(ns); io2.set_namespace(ns)
    R = rbd.RBD()
    R.create(io1, "p", 2 << 20, features=rbd.RBD_FEATURE_LAYERING)
    with rbd.Image(io1, "p") as im:
        im.write(b"gold", 0)
        im.create_snap("v1")
        im.protect_snap("v1")
        im.create_snap("v2")
    cluster.conf_set("rbd_default_clone_format", "1")
    R.clone(io1, "p", "v1", io2, "other-pool")
    R.clone(io1, "p", "v1", io1, "same-pool")
    R.clone(io1, "p", "v1", io1, "kept")
    with rbd.Image(io1, "kept") as kept:
        kept.create_snap("ks")  # no deep-flatten: this snapshot keeps reading from p@v1
    cluster.conf_set("rbd_default_clone_format", "2")
    R.clone(io1, "p", "v2", io1, "v2-child")
    with rbd.Image(io1, "p") as im:
        im.remove_snap("v2")  # to the trash namespace: v2-child still uses it
        out["snaps before"] = snaps(im)
        attempt("flatten other-pool", lambda: flatten(io2, "other-pool"))
        attempt("unprotect with one v1 child left", lambda: im.unprotect_snap("v1"))
        attempt("flatten same-pool", lambda: flatten(io1, "same-pool"))
        attempt("list_children", im.list_children)
        attempt("flatten v2-child", lambda: flatten(io1, "v2-child"))
        out["snaps after"] = snaps(im)
        out["op_features after"] = im.op_features()
        attempt("flatten kept", lambda: flatten(io1, "kept"))
        attempt("children while a snapshot of kept reads from v1", im.list_children)
        attempt("unprotect while kept@ks needs v1", lambda: im.unprotect_snap("v1"))
        with rbd.Image(io1, "kept") as kept:
            attempt("kept@ks parent", lambda: (kept.set_snap("ks"), kept.parent_info())[1])
            kept.set_snap(None)
            attempt("remove kept@ks", lambda: kept.remove_snap("ks"))
        attempt("children at the end", im.list_children)
        attempt("unprotect", lambda: im.unprotect_snap("v1"))
print(json.dumps(out))
"""


def test_flatten_leaves_the_parent_as_librbd(cluster: SessionCluster, pool: str,
                                             second_pool: str) -> None:
    """After flatten the parent forgets the child: the v1 index entry in the child's pool
    (and namespace) goes, a v2 child's trashed parent snapshot goes with it."""
    results = []
    for python, impl, ns in (("/usr/bin/python3", "librbd", "ref"),
                             (sys.executable, "rbdpy", "our")):
        for p in (pool, second_pool):
            _rbd(cluster, "namespace", "create", f"{p}/{ns}")
        proc = subprocess.run([python, "-c", _FLATTEN_SCRIPT, str(cluster.conf), pool,
                               second_pool, ns, impl], capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    theirs, ours = results
    assert ours == theirs
    assert theirs["unprotect"] == ["ok", None]
    assert theirs["snaps after"] == [["v1", 0]]


_REMOVE_FLAGS_SCRIPT = r"""
import json, sys
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
def snaps(im):
    return [(s["name"] if s["namespace"] == 0 else "TRASHED", s["namespace"])
            for s in im.list_snaps()]
with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as io:
    io.set_namespace(ns)
    R = rbd.RBD()
    R.create(io, "p", 1 << 20, features=rbd.RBD_FEATURE_LAYERING)
    with rbd.Image(io, "p") as im:
        im.write(b"x" * 10, 0)
        for s in ("s", "u", "w"):
            im.create_snap(s)
        im.protect_snap("u")
        im.protect_snap("w")
        cluster.conf_set("rbd_default_clone_format", "2")
        R.clone(io, "p", "s", io, "c")
        R.clone(io, "p", "u", io, "d")
        cluster.conf_set("rbd_default_clone_format", "1")
        R.clone(io, "p", "w", io, "e", features=rbd.RBD_FEATURE_LAYERING)
        with rbd.Image(io, "e") as e:
            e.create_snap("pinned")
        attempt("FLATTEN, unprotected, v2 child", lambda: im.remove_snap2(
            "s", rbd.RBD_SNAP_REMOVE_FLATTEN))
        out["snaps 1"] = snaps(im)
        attempt("FLATTEN, protected, v2 child", lambda: im.remove_snap2(
            "u", rbd.RBD_SNAP_REMOVE_FLATTEN))
        attempt("FORCE, protected, v2 child", lambda: im.remove_snap2(
            "u", rbd.RBD_SNAP_REMOVE_FORCE))
        attempt("FORCE, v1 child with a snapshot, no deep-flatten", lambda: im.remove_snap2(
            "w", rbd.RBD_SNAP_REMOVE_FORCE))
        attempt("FLATTEN, no such snapshot", lambda: im.remove_snap2(
            "nope", rbd.RBD_SNAP_REMOVE_FLATTEN))
        out["snaps 2"] = snaps(im)
        attempt("children", im.list_children)
    for name in ("c", "d"):
        with rbd.Image(io, name) as child:
            out[name] = [child.overlap(), child.read(0, 10).decode(), child.op_features()]
print(json.dumps(out))
"""


def test_remove_snap2_flatten_flags(cluster: SessionCluster, pool: str) -> None:
    """RBD_SNAP_REMOVE_FLATTEN flattens the snapshot's clones first (protected or not),
    RBD_SNAP_REMOVE_FORCE also unprotects; a clone with snapshots and no deep-flatten
    makes it ImageBusy -- all as librbd's api::Snapshot::remove."""
    results = []
    for python, impl, ns in (("/usr/bin/python3", "librbd", "ref"),
                             (sys.executable, "rbdpy", "our")):
        _rbd(cluster, "namespace", "create", f"{pool}/{ns}")
        proc = subprocess.run([python, "-c", _REMOVE_FLAGS_SCRIPT, str(cluster.conf), pool,
                               ns, impl], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    theirs, ours = results
    assert ours == theirs
    assert theirs["c"] == [0, "xxxxxxxxxx", 0]


_TRASH_SCRIPT = r"""
import json, subprocess, sys
conf, pool, ns, impl = sys.argv[1:5]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
out = {}
with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as io:
    io.set_namespace(ns)
    cluster.conf_set("rbd_default_clone_format", "2")
    R = rbd.RBD()
    R.create(io, "p", 1 << 20, features=rbd.RBD_FEATURE_LAYERING)
    with rbd.Image(io, "p") as im:
        im.create_snap("s")
        R.clone(io, "p", "s", io, "c")
        R.clone(io, "p", "s", io, "d")
        subprocess.run(["rbd", "-c", conf, "trash", "mv", f"{pool}/{ns}/c"], check=True)
        out["children"] = im.list_children()
        out["children2"] = [(d["image"], d["trash"]) for d in im.list_children2()]
    subprocess.run(["rbd", "-c", conf, "trash", "mv", f"{pool}/{ns}/p"], check=True)
    with rbd.Image(io, "d", read_only=True) as d:
        spec = d.get_parent_image_spec()
        out["parent in the trash"] = [spec["image_name"], spec["snap_name"]]
print(json.dumps(out))
"""


def test_children_and_parents_in_the_rbd_trash(cluster: SessionCluster, pool: str) -> None:
    """A child moved to the RBD trash is listed by list_children2 with ``trash`` True and
    left out of list_children; a parent in the trash keeps its name in the parent spec."""
    results = []
    for python, impl, ns in (("/usr/bin/python3", "librbd", "ref"),
                             (sys.executable, "rbdpy", "our")):
        _rbd(cluster, "namespace", "create", f"{pool}/{ns}")
        proc = subprocess.run([python, "-c", _TRASH_SCRIPT, str(cluster.conf), pool, ns,
                               impl], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    theirs, ours = results
    assert ours == theirs
    assert theirs["children2"] == [["c", True], ["d", False]]
