"""Issue #19, namespaces: python-rbd's namespace calls and every image call in a namespace,
compared with librbd 16.2, and the tenant flow of the acceptance text.

One script runs once under /usr/bin/python3 (Ceph's python3-rbd) and once under
``from rbdpy import rados, rbd``, each with its own namespace names (prefixed by the run's
tag) in one pool: namespace create (twice, empty name, odd names), list, exists, remove
of a non-empty namespace (an image, then only a trash entry), remove of an unknown one;
images created, listed, opened, written, snapshotted, cloned, renamed and removed with
the ioctx set to a namespace; ``pool_stats_get`` per namespace; and the tenant flow:
namespace create, images in it, a trash move with a 2 s delay, a purge before the delay
ends (nothing goes), a purge after it (the image goes), namespace remove. ``rbd
namespace ls`` and ``rbd trash ls`` must agree with what the script saw. Every entry
must be equal once the tag is taken out.
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

_SCRIPT = r'''
import json, subprocess, sys, time
conf, pool, tag, impl = sys.argv[1:5]
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
    return subprocess.run(["rbd", "-c", conf, *args], capture_output=True, text=True,
                          timeout=120).stdout
def mine(names):
    return sorted(n for n in names if n.startswith(tag))
with rados.Rados(conffile=conf) as cluster:
    io = cluster.open_ioctx(pool)
    R = rbd.RBD()
    t1, t2, ten = tag + "t1", tag + "t2", tag + "tenant"
    attempt("create t1", lambda: R.namespace_create(io, t1))
    attempt("create t1 again", lambda: R.namespace_create(io, t1))
    attempt("create empty", lambda: R.namespace_create(io, ""))
    attempt("create non-string", lambda: R.namespace_create(io, 5))
    attempt("create t2 with a slash", lambda: R.namespace_create(io, t2 + "/x"))
    attempt("create t2", lambda: R.namespace_create(io, t2))
    attempt("list", lambda: mine(R.namespace_list(io)))
    out["rbd namespace ls"] = mine(e["name"] for e in json.loads(
        cli("namespace", "ls", "--format", "json", pool)))
    attempt("exists t1", lambda: R.namespace_exists(io, t1))
    attempt("exists nope", lambda: R.namespace_exists(io, tag + "nope"))
    attempt("exists empty", lambda: R.namespace_exists(io, ""))
    # every image call with the ioctx in a namespace
    io.set_namespace(t1)
    attempt("list from inside a namespace", lambda: mine(R.namespace_list(io)))
    io2 = cluster.open_ioctx(pool)
    io2.set_namespace(t2)
    R.create(io, "img", 8 << 20)
    with rbd.Image(io, "img") as im:
        im.write(b"t1" * 2048, 0)
        im.create_snap("s")
        out["img id is a string"] = isinstance(im.id(), str)
    cluster.conf_set("rbd_default_clone_format", "2")
    R.clone(io, "img", "s", io, "cl")
    with rbd.Image(io, "cl", read_only=True) as cl:
        out["clone read"] = cl.read(0, 8).decode()
        out["clone parent"] = [cl.get_parent_image_spec()["pool_namespace"] == t1]
    with rbd.Image(io, "cl") as cl:
        attempt("children", lambda: [(c["pool_namespace"] == t1, c["image"])
                                     for c in rbd.Image(io, "img", "s",
                                                        read_only=True).list_children2()])
        attempt("metadata", lambda: (cl.metadata_set("k", "v"), cl.metadata_get("k"),
                                     list(cl.metadata_list())))
        attempt("lock", lambda: (cl.lock_exclusive("me"), len(cl.list_lockers()["lockers"]),
                                 cl.unlock("me")))
        attempt("resize", lambda: (cl.resize(4 << 20), cl.size()))
        attempt("diff", lambda: (lambda ex: (cl.diff_iterate(0, cl.size(), None,
                                                              lambda *a: ex.append(a)), ex))([]))
        attempt("image config", lambda: (cl.config_set("rbd_cache", "false"),
                                         cl.config_get("rbd_cache")))
        attempt("flatten", lambda: cl.flatten())
        # after flatten: librbd 16.2 copies a clone without its parent's data (zeros)
        attempt("copy to t2", lambda: cl.copy(io2, "copied"))
        attempt("snap and rollback", lambda: (cl.create_snap("cs"), cl.write(b"x" * 4, 0),
                                              cl.rollback_to_snap("cs"), cl.read(0, 4),
                                              cl.remove_snap("cs")))
    with rbd.Image(io2, "copied", read_only=True) as cp:
        attempt("copied read", lambda: cp.read(0, 8).decode())
    attempt("pool metadata from a namespace", lambda: (
        R.pool_metadata_set(io, "k", "v"), R.pool_metadata_get(io, "k"),
        R.pool_metadata_remove(io, "k")))
    attempt("pool config from a namespace", lambda: (
        R.config_set(io, "rbd_cache", "false"), R.config_get(io, "rbd_cache"),
        R.config_remove(io, "rbd_cache")))
    attempt("list2", lambda: [e["name"] for e in R.list2(io)])
    attempt("rename cl", lambda: R.rename(io, "cl", "cl2"))
    out["images in t1"] = sorted(R.list(io))
    attempt("stats t1", lambda: R.pool_stats_get(io))
    io.set_namespace(t2)
    out["images in t2"] = sorted(R.list(io))
    attempt("open t1 image from t2", lambda: rbd.Image(io, "img").close())
    attempt("remove copied", lambda: R.remove(io, "copied"))
    io.set_namespace("")
    attempt("remove t1 with images", lambda: R.namespace_remove(io, t1))
    attempt("remove unknown", lambda: R.namespace_remove(io, tag + "nope"))
    attempt("remove empty name", lambda: R.namespace_remove(io, ""))
    io.set_namespace(t1)
    attempt("remove cl2", lambda: R.remove(io, "cl2"))
    with rbd.Image(io, "img") as im:
        im.remove_snap("s")
    attempt("trash img", lambda: R.trash_move(io, "img", 0))
    io.set_namespace("")
    attempt("remove t1 with a trash entry", lambda: R.namespace_remove(io, t1))
    io.set_namespace(t1)
    for e in list(R.trash_list(io)):
        R.trash_remove(io, e["id"])
    io.set_namespace("")
    attempt("remove t1", lambda: R.namespace_remove(io, t1))
    attempt("remove t2", lambda: R.namespace_remove(io, t2))
    attempt("remove t2 with a slash", lambda: R.namespace_remove(io, t2 + "/x"))
    attempt("list after", lambda: mine(R.namespace_list(io)))
    # the tenant flow
    R.namespace_create(io, ten)
    tio = cluster.open_ioctx(pool)
    tio.set_namespace(ten)
    for name in ("vm1", "vm2"):
        R.create(tio, name, 4 << 20)
        with rbd.Image(tio, name) as im:
            im.write(name.encode() * 100, 0)
    attempt("tenant trash vm1 delay 2", lambda: R.trash_move(tio, "vm1", 2))
    out["tenant rbd trash ls"] = [e["name"] for e in json.loads(
        cli("trash", "ls", "--format", "json", f"{pool}/{ten}"))]
    attempt("tenant purge before expiry", lambda: R.trash_purge(tio))
    out["tenant trash before expiry"] = [e["name"] for e in R.trash_list(tio)]
    time.sleep(3)  # let the deferment end
    attempt("tenant purge after expiry", lambda: R.trash_purge(tio))
    out["tenant trash after expiry"] = [e["name"] for e in R.trash_list(tio)]
    attempt("tenant remove busy", lambda: R.namespace_remove(io, ten))
    attempt("tenant remove vm2", lambda: R.remove(tio, "vm2"))
    attempt("tenant namespace remove", lambda: R.namespace_remove(io, ten))
    out["rbd namespace ls at the end"] = mine(e["name"] for e in json.loads(
        cli("namespace", "ls", "--format", "json", pool)))
print(json.dumps(out, default=repr).replace(tag, "TAG"))
'''


def _run(python: str, impl: str, conf: str, pool: str, tag: str) -> dict[str, Any]:
    return dict(run_json(python, _SCRIPT, conf, pool, tag, impl))


def test_namespaces_and_tenant_flow_as_librbd(cluster: SessionCluster, pool: str) -> None:
    conf = str(cluster.conf)
    theirs = _run("/usr/bin/python3", "librbd", conf, pool, "ref-")
    ours = _run(sys.executable, "rbdpy", conf, pool, "our-")
    assert ours == theirs
    assert theirs["remove t1 with images"][0] == "ImageBusy"
    assert theirs["tenant trash before expiry"] == ["vm1"]
    assert theirs["tenant trash after expiry"] == []
    assert theirs["tenant namespace remove"] == ["ok", None]
    assert theirs["rbd namespace ls at the end"] == []


def _cli(tool: list[str], conf: str, *args: str) -> str:
    return subprocess.run([*tool, "-c", conf, *args], check=True, capture_output=True,
                          text=True, timeout=120).stdout


def test_cli_trash_and_namespace_json_as_rbd(cluster: SessionCluster, pool: str) -> None:
    """``rbdpy trash ...`` / ``rbdpy namespace ...`` act, and their ``--format json``
    listings equal ``rbd``'s."""
    conf = str(cluster.conf)
    ours, rbd = [sys.executable, "-m", "rbdpy.cli.main"], ["rbd"]
    _cli(ours, conf, "namespace", "create", f"{pool}/tenant")
    _cli(rbd, conf, "create", "--size", "1M", f"{pool}/tenant/a")
    _cli(rbd, conf, "create", "--size", "1M", f"{pool}/tenant/b")
    _cli(ours, conf, "trash", "mv", f"{pool}/tenant/a")
    _cli(ours, conf, "trash", "mv", f"{pool}/tenant/b", "--expires-at", "2100-01-01")
    for args in (("namespace", "ls", pool, "--format", "json"),
                 ("trash", "ls", f"{pool}/tenant", "--format", "json"),
                 ("trash", "ls", "-l", f"{pool}/tenant", "--format", "json")):
        assert json.loads(_cli(ours, conf, *args)) == json.loads(_cli(rbd, conf, *args)), args
    entries = json.loads(_cli(rbd, conf, "trash", "ls", f"{pool}/tenant", "--format", "json"))
    ids = {e["name"]: e["id"] for e in entries}
    _cli(ours, conf, "trash", "restore", f"{pool}/tenant/{ids['a']}", "--image", "a2")
    _cli(ours, conf, "trash", "rm", f"{pool}/tenant/{ids['b']}", "--force")
    assert _cli(rbd, conf, "ls", f"{pool}/tenant").split() == ["a2"]
    _cli(rbd, conf, "rm", f"{pool}/tenant/a2")
    _cli(ours, conf, "namespace", "rm", f"{pool}/tenant")
    assert json.loads(_cli(rbd, conf, "namespace", "ls", pool, "--format", "json")) == []
