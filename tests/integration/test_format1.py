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
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from rbdpy.devcluster import DevCluster
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


@pytest.fixture
def other_pool(cluster: SessionCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    control = cluster.control or DevCluster(cluster.conf.parent)
    control.pool_create(name)
    try:
        yield name
    finally:
        control.pool_delete(name)


def test_format1_script_as_librbd(cluster: SessionCluster, pool: str, other_pool: str) -> None:
    conf = str(cluster.conf)
    librbd = _run_script("/usr/bin/python3", "librbd", conf, pool)
    ours = _run_script(sys.executable, "rbdpy", conf, other_pool)
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
