"""Issue #19 item 6a: format 1 (legacy) images, compared with librbd 16.2.

librbd 16.2 still opens, reads, writes, lists and removes format 1 images; it creates them
only with RBD_FORCE_ALLOW_V1 in the environment (the ``rbd`` CLI included). One
python-rbd script runs under /usr/bin/python3 with Ceph's modules and under
``from rbdpy import rados, rbd``, each in its own fresh pool, on images the ``rbd`` CLI
made; what it reports must be equal (block names aside: they hold the creating client's
id and a random number). Data written by one side is read back by the other, through
``rbd export`` / ``rbd import --image-format 1``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

MiB = 1 << 20
_V1_ENV = {**os.environ, "RBD_FORCE_ALLOW_V1": "1"}

_SCRIPT = r"""
import hashlib, json, sys
conf, pool, impl = sys.argv[1:4]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
MiB = 1 << 20
out = {}

def attempt(label, fn):
    try:
        v = fn()
        out[label] = ["ok", v if isinstance(v, (int, str, list, dict, bool, type(None)))
                      else repr(v)]
    except Exception as e:
        out[label] = [type(e).__name__, str(e)]

def sha(b):
    return hashlib.sha256(b).hexdigest()

r = rbd.RBD()
with rados.Rados(conffile=conf) as cluster:
    io = cluster.open_ioctx(pool)
    attempt("list", lambda: sorted(r.list(io)))
    attempt("list2", lambda: sorted((e["name"], e["id"]) for e in r.list2(io)))
    with rbd.Image(io, "plain") as im:
        prefix = im.block_name_prefix()
        attempt("prefix_shape", lambda: prefix.split(".")[:2])
        attempt("old_format", im.old_format)
        for what in ("size", "features", "op_features", "flags", "id",
                     "stripe_unit", "stripe_count", "overlap", "get_parent_image_spec",
                     "is_exclusive_lock_owner"):
            attempt(what, getattr(im, what))
        attempt("data_pool_is_pool", lambda: im.data_pool_id() == io.get_pool_id())
        st = im.stat()
        st["block_name_prefix"] = st["block_name_prefix"] == prefix
        attempt("stat", lambda: st)
        attempt("create_timestamp", lambda: str(im.create_timestamp()))
        attempt("snaps", lambda: list(im.list_snaps()))
        attempt("write", lambda: im.write(b"A" * 5000 + b"B" * 3000, 4 * MiB - 5000))
        attempt("write_far", lambda: im.write(b"z" * 4096, 63 * MiB))
        attempt("read", lambda: sha(im.read(4 * MiB - 6000, 10000)))
        attempt("read_past_end", lambda: im.read(64 * MiB, 1))
        attempt("discard", lambda: im.discard(8 * MiB, 4 * MiB))
        attempt("watchers", lambda: len(list(im.watchers_list())))
        attempt("objects", lambda: sorted(o.key.replace(prefix, "P")
                                          for o in io.list_objects()
                                          if o.key.startswith(prefix)))
        attempt("remove_open", lambda: r.remove(io, "plain"))
    with rbd.Image(io, "withsnaps") as im:
        attempt("ws_snaps", lambda: [(s["id"], s["name"], s["size"])
                                     for s in im.list_snaps()])
        attempt("ws_size", im.size)
        attempt("ws_head", lambda: sha(im.read(0, 12 * MiB)))
    with rbd.Image(io, "withsnaps", snapshot="first") as im:
        attempt("ws_first_size", im.size)
        attempt("ws_first", lambda: sha(im.read(0, 8 * MiB)))
        attempt("ws_first_write", lambda: im.write(b"x", 0))
    with rbd.Image(io, "withsnaps", snapshot="second", read_only=True) as im:
        attempt("ws_second_size", im.size)
        attempt("ws_second", lambda: sha(im.read(0, 12 * MiB)))
    attempt("open_missing", lambda: rbd.Image(io, "nothere"))
    attempt("remove_withsnaps", lambda: r.remove(io, "withsnaps"))
    attempt("remove_plain", lambda: r.remove(io, "plain"))
    attempt("list_after", lambda: sorted(r.list(io)))
    attempt("objects_after", lambda: sorted(o.key.rsplit(".", 1)[1]
                                            for o in io.list_objects()
                                            if o.key.startswith("rb.")))
print(json.dumps(out, sort_keys=True, default=repr))
"""


def _rbd(conf: str, *args: str, data: bool = False, stdin: bytes | None = None) -> Any:
    proc = subprocess.run(["rbd", "-c", conf, *args], check=True, capture_output=True,
                          timeout=120, env=_V1_ENV, input=stdin)
    return proc.stdout if data else proc.stdout.decode()


def _make_images(conf: str, pool: str) -> None:
    """What the script reads: ``plain`` (64 MiB) and ``withsnaps`` (snapshot ``first`` at
    8 MiB, then grown to 12 MiB with other data, snapshot ``second``), made by librbd."""
    _rbd(conf, "create", "--image-format", "1", "--size", "64M", f"{pool}/plain")
    spec = f"{pool}/withsnaps"
    _rbd(conf, "import", "--image-format", "1", "--no-progress", "-", spec,
         stdin=bytes(range(256)) * (8 * MiB // 256))
    _rbd(conf, "snap", "create", f"{spec}@first")
    _rbd(conf, "resize", "--size", "12M", spec)
    script = (f"import rados, rbd\nwith rados.Rados(conffile={conf!r}) as c:\n"
              f"  io = c.open_ioctx({pool!r})\n"
              "  with rbd.Image(io, 'withsnaps') as im:\n"
              "    im.write(b'second' * 100000, 5 * 1024 * 1024)\n")
    subprocess.run(["/usr/bin/python3", "-c", script], check=True, timeout=120)
    _rbd(conf, "snap", "create", f"{spec}@second")


def _run_script(python: str, impl: str, conf: str, pool: str) -> dict[str, Any]:
    _make_images(conf, pool)
    proc = subprocess.run([python, "-c", _SCRIPT, conf, pool, impl], capture_output=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_format1_script_as_librbd(cluster: SessionCluster, pool: str, second_pool: str) -> None:
    conf = str(cluster.conf)
    librbd = _run_script("/usr/bin/python3", "librbd", conf, pool)
    ours = _run_script(sys.executable, "rbdpy", conf, second_pool)
    assert librbd["old_format"] == ["ok", True]
    assert librbd["remove_plain"] == ["ok", None]
    for key in sorted(set(librbd) | set(ours)):
        assert ours.get(key) == librbd.get(key), key


def test_format1_data_both_ways(cluster: SessionCluster, pool: str) -> None:
    """rbdpy writes a librbd-made image and ``rbd export`` sees it; rbdpy reads an image
    ``rbd import --image-format 1`` wrote; ``rbd rm`` removes what rbdpy wrote."""
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    _rbd(conf, "create", "--image-format", "1", "--size", "16M", f"{pool}/w")
    pattern = hashlib.sha256(b"seed").digest() * (3 * MiB // 32 + 1)
    with rados.Rados(conffile=conf) as handle, handle.open_ioctx(pool) as io:
        with rbd.Image(io, "w") as im:
            assert im.old_format() is True
            im.write(pattern[:3 * MiB], 3 * MiB + 17)
        expected = bytearray(16 * MiB)
        expected[3 * MiB + 17:6 * MiB + 17] = pattern[:3 * MiB]
        assert _rbd(conf, "export", "--no-progress", f"{pool}/w", "-", data=True) == expected
        info = json.loads(_rbd(conf, "info", "--format", "json", f"{pool}/w"))
        assert info["format"] == 1

        imported = bytes(reversed(expected))
        _rbd(conf, "import", "--image-format", "1", "--no-progress", "-", f"{pool}/imp",
             stdin=imported)
        with rbd.Image(io, "imp", read_only=True) as im:
            assert im.old_format() is True
            assert im.size() == len(imported)
            assert im.read(0, len(imported)) == imported
        rbd.RBD().remove(io, "imp")
    _rbd(conf, "rm", "--no-progress", f"{pool}/w")
    assert _rbd(conf, "ls", pool).split() == []


_CREATE_SCRIPT = r"""
import json, sys
conf, pool, impl = sys.argv[1:4]
settings = sys.argv[4:]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
out = {}
MiB = 1 << 20

def attempt(label, fn):
    try:
        out[label] = ["ok", fn()]
    except Exception as e:
        out[label] = [type(e).__name__, str(e)]

def describe(io, name):
    with rbd.Image(io, name) as im:
        d = {"old_format": im.old_format(), "features": im.features(),
             "order": im.stat()["order"], "size": im.size(),
             "prefix": im.block_name_prefix().split(".")[0]}
        im.write(b"q" * 1000, 2 * MiB - 10)
        d["read"] = im.read(2 * MiB - 20, 40).hex()
    return d

r = rbd.RBD()
with rados.Rados(conffile=conf) as cluster:
    for item in settings:
        cluster.conf_set(*item.split("=", 1))
    io = cluster.open_ioctx(pool)
    cases = [("plain", {}), ("order20", {"order": 20}), ("order30", {"order": 30}),
             ("features", {"features": 1}), ("striped", {"stripe_unit": 65536,
                                                         "stripe_count": 2}),
             ("datapool", {"data_pool": "rbd"})]
    for name, kw in cases:
        attempt("create_" + name, lambda: r.create(io, name, 8 * MiB, old_format=True, **kw))
        attempt("describe_" + name, lambda: describe(io, name))
    attempt("create_again", lambda: r.create(io, "plain", 8 * MiB, old_format=True))
    attempt("create_v2_same_name", lambda: r.create(io, "plain", 8 * MiB))
    attempt("list", lambda: sorted(r.list(io)))
    io.set_namespace("ns1")
    attempt("create_in_namespace", lambda: r.create(io, "nsimg", 8 * MiB, old_format=True))
    attempt("list_namespace", lambda: sorted(r.list(io)))
    io.set_namespace("")
    for name, _ in cases:
        attempt("remove_" + name, lambda: r.remove(io, name))
    attempt("list_after", lambda: sorted(r.list(io)))
print(json.dumps(out, sort_keys=True))
"""


def _run_create(python: str, impl: str, conf: str, pool: str, settings: list[str],
                allow_v1: bool) -> dict[str, Any]:
    _rbd(conf, "namespace", "create", f"{pool}/ns1")
    env = _V1_ENV if allow_v1 else {k: v for k, v in os.environ.items()
                                     if k != "RBD_FORCE_ALLOW_V1"}
    proc = subprocess.run([python, "-c", _CREATE_SCRIPT, conf, pool, impl, *settings],
                          capture_output=True, timeout=300, check=False, env=env)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.mark.parametrize(("settings", "allow_v1"), [
    ([], False),
    ([], True),
    (["rbd_default_format=1"], False),
    (["rbd_default_format=1"], True),
], ids=["default", "default-allow-v1", "format1-conf", "format1-conf-allow-v1"])
def test_create_old_format_as_librbd(cluster: SessionCluster, pool: str, second_pool: str,
                                     settings: list[str], allow_v1: bool) -> None:
    """``RBD.create(old_format=True)`` in a fresh pool, with and without
    rbd_default_format=1 and RBD_FORCE_ALLOW_V1: the same images (or errors) as librbd."""
    conf = str(cluster.conf)
    librbd = _run_create("/usr/bin/python3", "librbd", conf, pool, settings, allow_v1)
    ours = _run_create(sys.executable, "rbdpy", conf, second_pool, settings, allow_v1)
    for key in sorted(set(librbd) | set(ours)):
        assert ours.get(key) == librbd.get(key), key
    if settings and allow_v1:
        assert librbd["describe_plain"][1]["old_format"] is True


def test_rbdpy_made_format1_image_for_librbd(cluster: SessionCluster, pool: str) -> None:
    """A format 1 image rbdpy creates is one librbd reads, writes and removes."""
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    os.environ["RBD_FORCE_ALLOW_V1"] = "1"
    try:
        with rados.Rados(conffile=conf) as handle, handle.open_ioctx(pool) as io:
            handle.conf_set("rbd_default_format", "1")
            rbd.RBD().create(io, "ours", 20 * MiB, order=21, old_format=True)
            with rbd.Image(io, "ours") as im:
                im.write(b"rbdpy" * 1000, 5 * MiB - 7)
    finally:
        del os.environ["RBD_FORCE_ALLOW_V1"]
    info = json.loads(_rbd(conf, "info", "--format", "json", f"{pool}/ours"))
    assert (info["format"], info["size"], info["order"], info["objects"]) == (1, 20 * MiB,
                                                                              21, 10)
    assert info["block_name_prefix"].startswith("rb.0.")
    expected = bytearray(20 * MiB)
    expected[5 * MiB - 7:5 * MiB - 7 + 5000] = b"rbdpy" * 1000
    assert _rbd(conf, "export", "--no-progress", f"{pool}/ours", "-", data=True) == expected
    _rbd(conf, "bench", "--io-type", "write", "--io-total", "1M", "--io-size", "64K",
         f"{pool}/ours")
    _rbd(conf, "rm", "--no-progress", f"{pool}/ours")
    assert _rbd(conf, "ls", pool).split() == []


_SNAP_SCRIPT = r"""
import hashlib, json, sys
conf, pool, impl = sys.argv[1:4]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
MiB = 1 << 20
out = {}

def attempt(label, fn):
    try:
        v = fn()
        out[label] = ["ok", v if isinstance(v, (int, str, list, dict, bool, type(None)))
                      else repr(v)]
    except Exception as e:
        out[label] = [type(e).__name__, str(e)]

def sha(b):
    return hashlib.sha256(b).hexdigest()

r = rbd.RBD()
with rados.Rados(conffile=conf) as cluster:
    io = cluster.open_ioctx(pool)
    with rbd.Image(io, "img") as im:
        prefix = im.block_name_prefix()
        attempt("grow", lambda: im.resize(12 * MiB))
        attempt("size_grown", im.size)
        attempt("write_grown", lambda: im.write(b"g" * 6000, 10 * MiB - 3000))
        attempt("no_shrink", lambda: im.resize(6 * MiB, allow_shrink=False))
        attempt("shrink", lambda: im.resize(10 * MiB - 1000))
        attempt("read_shrunk", lambda: sha(im.read(0, 10 * MiB - 1000)))
        attempt("grow_again", lambda: im.resize(12 * MiB))
        attempt("read_regrown", lambda: sha(im.read(0, 12 * MiB)))
        attempt("snap_s1", lambda: im.create_snap("s1"))
        attempt("snap_s1_again", lambda: im.create_snap("s1"))
        attempt("write_after_s1", lambda: im.write(b"after" * 1000, 1 * MiB))
        attempt("shrink_after_s1", lambda: im.resize(5 * MiB))
        attempt("snap_s2", lambda: im.create_snap("s2"))
        attempt("snaps", lambda: [(s["id"] - min(x["id"] for x in im.list_snaps()),
                                   s["name"], s["size"], s.get("namespace"))
                                  for s in im.list_snaps()])
        attempt("snap_exists", lambda: [im.snap_exists("s1"), im.snap_exists("zz")])
        attempt("is_protected", lambda: im.is_protected_snap("s1"))
        attempt("protect", lambda: im.protect_snap("s1"))
        attempt("unprotect", lambda: im.unprotect_snap("s1"))
        attempt("clone", lambda: r.clone(io, "img", "s1", io, "child"))
        attempt("copy", lambda: im.copy(io, "copied"))
        attempt("write_more", lambda: im.write(b"more" * 1000, 4 * MiB))
        attempt("rollback_missing", lambda: im.rollback_to_snap("zz"))
        attempt("rollback_s1", lambda: im.rollback_to_snap("s1"))
        attempt("size_rolled", im.size)
        attempt("read_rolled", lambda: sha(im.read(0, im.size())))
        attempt("remove_missing", lambda: im.remove_snap("zz"))
        attempt("remove_s2", lambda: im.remove_snap("s2"))
        attempt("snaps_after", lambda: [(s["name"], s["size"]) for s in im.list_snaps()])
    with rbd.Image(io, "img", snapshot="s1") as im:
        attempt("s1_size", im.size)
        attempt("s1_read", lambda: sha(im.read(0, im.size())))
    attempt("objects", lambda: sorted(o.key.replace(prefix, "P") for o in io.list_objects()
                                      if o.key.startswith(prefix)))
    with rbd.Image(io, "copied") as im:
        attempt("copied", lambda: [im.old_format(), im.features(), im.size(),
                                   sha(im.read(0, im.size()))])
    attempt("remove_copied", lambda: r.remove(io, "copied"))
    with rbd.Image(io, "img") as im:
        attempt("deep_copy", lambda: im.deep_copy(io, "dc"))
        attempt("deep_copy_order20", lambda: im.deep_copy(io, "dc20", order=20))
    with rbd.Image(io, "dc") as im:
        attempt("dc", lambda: [im.old_format(), im.features(), im.size(),
                               [(s["name"], s["size"]) for s in im.list_snaps()],
                               sha(im.read(0, im.size()))])
        im.set_snap("s1")
        attempt("dc_s1", lambda: [im.size(), sha(im.read(0, im.size()))])
        im.set_snap(None)
        im.remove_snap("s1")
    attempt("remove_dc", lambda: r.remove(io, "dc"))
print(json.dumps(out, sort_keys=True, default=repr))
"""


def _run_snaps(python: str, impl: str, conf: str, pool: str) -> dict[str, Any]:
    spec = f"{pool}/img"
    _rbd(conf, "import", "--image-format", "1", "--no-progress", "-", spec,
         stdin=hashlib.sha256(b"img").digest() * (8 * MiB // 32))
    proc = subprocess.run([python, "-c", _SNAP_SCRIPT, conf, pool, impl],
                          capture_output=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    # what librbd's own tools see afterwards
    snaps = json.loads(_rbd(conf, "snap", "ls", "--format", "json", spec))
    result["cli_snaps"] = [(s["name"], s["size"]) for s in snaps]
    result["cli_head"] = hashlib.sha256(
        _rbd(conf, "export", "--no-progress", spec, "-", data=True)).hexdigest()
    result["cli_s1"] = hashlib.sha256(
        _rbd(conf, "export", "--no-progress", f"{spec}@s1", "-", data=True)).hexdigest()
    _rbd(conf, "snap", "purge", "--no-progress", spec)
    _rbd(conf, "rm", "--no-progress", spec)
    result["cli_ls_after"] = _rbd(conf, "ls", pool).split()
    return result


def test_format1_resize_and_snapshots_as_librbd(cluster: SessionCluster, pool: str,
                                                second_pool: str) -> None:
    """Resize, snapshot create/list/remove/rollback on a format 1 image: the same results
    as librbd's, and an image librbd's CLI reads, exports, purges and removes."""
    conf = str(cluster.conf)
    librbd = _run_snaps("/usr/bin/python3", "librbd", conf, pool)
    ours = _run_snaps(sys.executable, "rbdpy", conf, second_pool)
    assert librbd["snap_s2"] == ["ok", None]
    for key in sorted(set(librbd) | set(ours)):
        assert ours.get(key) == librbd.get(key), key


def test_format1_snapshot_remove_leaves_librbd_image(cluster: SessionCluster,
                                                     pool: str) -> None:
    """A snapshot rbdpy adds to and removes from a librbd-made format 1 image leaves a
    header librbd's CLI reads as before; a migration is refused without a trace."""
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    _rbd(conf, "create", "--image-format", "1", "--size", "8M", f"{pool}/v1")
    with rados.Rados(conffile=conf) as handle, handle.open_ioctx(pool) as io:
        with rbd.Image(io, "v1") as im:
            im.create_snap("s")
            im.remove_snap("s")
        # librbd can migrate a format 1 image to format 2; rbdpy refuses, touching nothing
        with pytest.raises(NotImplementedError, match="format 1"):
            rbd.RBD().migration_prepare(io, "v1", io, "v1new")
    info = json.loads(_rbd(conf, "info", "--format", "json", f"{pool}/v1"))
    assert (info["format"], info["size"]) == (1, 8 * MiB)
    assert json.loads(_rbd(conf, "snap", "ls", "--format", "json", f"{pool}/v1")) == []
    assert _rbd(conf, "ls", pool).split() == ["v1"]


_OPS_SCRIPT = r"""
import json, sys
conf, pool, impl = sys.argv[1:4]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
out = {}

def attempt(label, fn):
    try:
        v = fn()
        out[label] = ["ok", v if isinstance(v, (int, str, list, dict, bool, type(None)))
                      else repr(v)]
    except Exception as e:
        out[label] = [type(e).__name__, str(e)]

with rados.Rados(conffile=conf) as cluster:
    io = cluster.open_ioctx(pool)
    with rbd.Image(io, "v1") as im:
        # (librbd reads no timestamps from a v1 header; its own writes set them later)
        attempt("access_timestamp", lambda: str(im.access_timestamp()))
        attempt("modify_timestamp", lambda: str(im.modify_timestamp()))
        attempt("create_s", lambda: im.create_snap("s"))
        attempt("rename_snap", lambda: im.rename_snap("s", "t"))
        attempt("rename_snap_missing", lambda: im.rename_snap("s", "u"))
        attempt("snaps", lambda: [x["name"] for x in im.list_snaps()])
        attempt("get_snap_limit", im.get_snap_limit)
        attempt("set_snap_limit", lambda: im.set_snap_limit(3))
        attempt("get_snap_limit_3", im.get_snap_limit)
        attempt("remove_snap_limit", im.remove_snap_limit)
        attempt("metadata_list", lambda: list(im.metadata_list()))
        attempt("metadata_set", lambda: im.metadata_set("k", "v"))
        attempt("metadata_get", lambda: im.metadata_get("k"))
        attempt("metadata_remove", lambda: im.metadata_remove("k"))
        attempt("update_features",
                lambda: im.update_features(rbd.RBD_FEATURE_EXCLUSIVE_LOCK, True))
        attempt("rebuild_object_map", im.rebuild_object_map)
        attempt("write", lambda: im.write(b"w" * 8192, 4096))
        attempt("sparsify", lambda: im.sparsify(4096))
        attempt("flatten", im.flatten)
        attempt("lock_acquire", lambda: im.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE))
        attempt("lock_release", im.lock_release)
        attempt("lock_get_owners", lambda: list(im.lock_get_owners()))
        attempt("lock_exclusive", lambda: im.lock_exclusive("c"))
        attempt("list_lockers", lambda: [(c, a.startswith("127.") or a.startswith("v"))
                                         for _, c, a in im.list_lockers()["lockers"]])
        attempt("unlock", lambda: im.unlock("c"))
        attempt("config_set", lambda: im.config_set("conf_rbd_cache", "false"))
        attempt("config_remove", lambda: im.config_remove("conf_rbd_cache"))
        attempt("group", im.group)
        attempt("list_children", lambda: list(im.list_children2()))
        diff = []
        attempt("diff", lambda: im.diff_iterate(0, im.size(), None,
                                                lambda *a: diff.append(list(a))))
        attempt("diff_extents", lambda: diff)
        attempt("create_r", lambda: im.create_snap("r"))
    r = rbd.RBD()
    r.create(io, "v2", 1 << 20)
    attempt("rename", lambda: r.rename(io, "v1", "v1r"))
    attempt("list_renamed", lambda: sorted(r.list(io)))
    attempt("rename_onto_v2", lambda: r.rename(io, "v1r", "v2"))
    attempt("rename_onto_self", lambda: r.rename(io, "v1r", "v1r"))
    attempt("open_old_name", lambda: rbd.Image(io, "v1"))
    with rbd.Image(io, "v1r") as im:
        attempt("renamed", lambda: [im.old_format(), [s["name"] for s in im.list_snaps()],
                                    im.read(4096, 4).hex()])
        attempt("remove_r", lambda: im.remove_snap("r"))
    attempt("rename_back", lambda: r.rename(io, "v1r", "v1"))
    r.remove(io, "v2")
print(json.dumps(out, sort_keys=True, default=repr))
"""


def test_format1_image_calls_as_librbd(cluster: SessionCluster, pool: str,
                                       second_pool: str) -> None:
    """The rest of the Image calls on a format 1 image: what works in librbd works here
    with the same results (snapshot rename, limits, metadata, advisory locks, sparsify,
    diff), and what librbd refuses is refused with the same class and message."""
    conf = str(cluster.conf)
    results = []
    for python, impl, where in (("/usr/bin/python3", "librbd", pool),
                                (sys.executable, "rbdpy", second_pool)):
        _rbd(conf, "create", "--image-format", "1", "--size", "8M", f"{where}/v1")
        proc = subprocess.run([python, "-c", _OPS_SCRIPT, conf, where, impl],
                              capture_output=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr.decode()[-3000:]
        results.append(json.loads(proc.stdout))
        results[-1]["cli_info"] = {k: v for k, v in json.loads(_rbd(
            conf, "info", "--format", "json", f"{where}/v1")).items()
            if k in ("size", "format", "features", "snapshot_count")}
    librbd, ours = results
    assert librbd["rename_snap"] == librbd["rename"] == ["ok", None]
    for key in sorted(set(librbd) | set(ours)):
        assert ours.get(key) == librbd.get(key), key


def test_cli_info_format1_as_rbd(cluster: SessionCluster, pool: str) -> None:
    """``rbdpy info --format json`` of a format 1 image with a snapshot equals rbd's."""
    conf = str(cluster.conf)
    spec = f"{pool}/v1"
    _rbd(conf, "create", "--image-format", "1", "--size", "10M", spec)
    _rbd(conf, "snap", "create", f"{spec}@s")
    ours = subprocess.run([sys.executable, "-m", "rbdpy.cli.main", "-c", conf, "info", "--format",
                           "json", spec], capture_output=True, timeout=120, check=True)
    assert json.loads(ours.stdout) == json.loads(_rbd(conf, "info", "--format", "json", spec))


_PEER = r"""
import sys
import rados, rbd
with rados.Rados(conffile=sys.argv[1]) as r, r.open_ioctx(sys.argv[2]) as io:
    with rbd.Image(io, "shared") as im:
        print(im.size(), flush=True)
        sys.stdin.readline()
        print(im.size(), [s["name"] for s in im.list_snaps()], flush=True)
        im.resize(3 * 1024 * 1024)
        im.create_snap("fromlibrbd")
        print("done", flush=True)
        sys.stdin.readline()
"""


def test_format1_header_updates_reach_peers(cluster: SessionCluster, pool: str) -> None:
    """With a format 1 image open in librbd and in rbdpy, each sees the other's resize
    and snapshot at its next call (header notifications on ``<name>.rbd``)."""
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    _rbd(conf, "create", "--image-format", "1", "--size", "4M", f"{pool}/shared")
    with subprocess.Popen(["/usr/bin/python3", "-c", _PEER, conf, pool],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as peer:
        assert peer.stdin is not None and peer.stdout is not None
        try:
            assert peer.stdout.readline().split() == [str(4 * MiB)]
            with rados.Rados(conffile=conf) as handle, handle.open_ioctx(pool) as io, \
                    rbd.Image(io, "shared") as im:
                im.resize(6 * MiB)
                im.create_snap("fromrbdpy")
                peer.stdin.write("\n")
                peer.stdin.flush()
                assert peer.stdout.readline().strip() == f"{6 * MiB} ['fromrbdpy']"
                assert peer.stdout.readline().strip() == "done"
                assert im.size() == 3 * MiB
                assert [s["name"] for s in im.list_snaps()] == ["fromrbdpy", "fromlibrbd"]
                peer.stdin.write("\n")
                peer.stdin.flush()
                assert peer.wait(timeout=60) == 0
        finally:
            if peer.poll() is None:
                peer.kill()
