"""Issue "RBD images" (second cut): aio completions, feature updates, object-map rebuild,
sparsify, copy, watchers, the managed lock by hand, pool init, pool metadata and config
overrides -- each checked against what the rbd CLI shows and against python3-rbd (librbd
16.2 on /usr/bin/python3) doing the same calls, bad ones included (same exception class
and message).
"""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from rbdpy import rados, rbd
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

# Runs calls on python3-rbd and prints, per call, [result repr] or [class, message].
_LIBRBD_CALLS = r"""
import json, sys, rados, rbd
conf, pool, name, script = sys.argv[1:5]
cluster = rados.Rados(conffile=conf, conf={"rbd_cache": "false"})
cluster.connect()
ioctx = cluster.open_ioctx(pool)
R = rbd.RBD()
img = rbd.Image(ioctx, name) if name else None
out = []
for line in script.split("\n"):
    if not line.strip():
        continue
    try:
        out.append(["ok", repr(eval(line))])
    except BaseException as e:
        out.append([type(e).__name__, str(e)])
if img is not None:
    img.close()
ioctx.close()
cluster.shutdown()
print(json.dumps(out))
"""


def _librbd(conf: str, pool: str, name: str, calls: list[str]) -> list[list[str]]:
    p = subprocess.run(["/usr/bin/python3", "-c", _LIBRBD_CALLS, conf, pool, name,
                        "\n".join(calls)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _ours(env: dict[str, Any], calls: list[str]) -> list[list[str]]:
    out = []
    for line in calls:
        try:
            out.append(["ok", repr(eval(line, env))])
        except BaseException as e:
            out.append([type(e).__name__, str(e)])
    return out


def _rbd(conf: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rbd", "-c", conf, *args], capture_output=True, text=True,
                          timeout=120, check=check)


def _rbd_json(conf: str, *args: str) -> Any:
    return json.loads(_rbd(conf, *args, "--format", "json").stdout)


def _export(conf: str, spec: str) -> bytes:
    return subprocess.run(["rbd", "-c", conf, "export", spec, "-"], capture_output=True,
                          check=True, timeout=120).stdout


def _object_map_clean(conf: str, spec: str) -> None:
    r = _rbd(conf, "object-map", "check", spec, check=False)
    assert r.returncode == 0 and "object map error" not in r.stderr, r.stderr


@pytest.fixture
def ioctx(cluster: SessionCluster, pool: str) -> Iterator[rados.Ioctx]:
    with rados.Rados(conffile=str(cluster.conf)) as r, r.open_ioctx(pool) as io:
        yield io


# -- aio ------------------------------------------------------------------------------------

def test_aio_matches_sync_and_librbd(cluster: SessionCluster, pool: str,
                                     ioctx: rados.Ioctx) -> None:
    conf = str(cluster.conf)
    rbd.RBD().create(ioctx, "aio", 8 << 20)
    # the same aio sequence on both: (return value, callback args) per completion
    seq = r"""
import threading
res = []
main = threading.get_ident()
def run(start):
    seen = []
    def cb(comp, *data):
        seen.append([threading.get_ident() != main]
                    + [d if d is None else d.hex()[:40] for d in data])
    c = start(cb)
    c.wait_for_complete_and_cb()
    res.append([c.is_complete(), c.get_return_value(), seen])
run(lambda cb: img.aio_write(b'xyz' * 1000, 4000, cb))
run(lambda cb: img.aio_read(3990, 40, cb))
run(lambda cb: img.aio_read(9 << 20, 8, cb))
run(lambda cb: img.aio_read((8 << 20) - 4, 8, cb))
run(lambda cb: img.aio_write(b'abc', 9 << 20, cb))
run(lambda cb: img.aio_discard(0, 65536, cb))
run(lambda cb: img.aio_discard(9 << 20, 4096, cb))
run(lambda cb: img.aio_write_zeroes(4096, 100, cb))
run(lambda cb: img.aio_write_zeroes(0, 4096, cb, zero_flags=2))
run(lambda cb: img.aio_write_zeroes(1 << 20, 8192, cb, zero_flags=1))
run(lambda cb: img.aio_flush(cb))
"""
    peer = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import json, sys, rados, rbd\n"
         "c = rados.Rados(conffile=sys.argv[1], conf={'rbd_cache': 'false'})\n"
         "c.connect()\n"
         "io = c.open_ioctx(sys.argv[2]); img = rbd.Image(io, 'aio')\n"
         + seq + "\nimg.close(); print(json.dumps(res))", conf, pool],
        capture_output=True, text=True, timeout=120, check=True)
    theirs = json.loads(peer.stdout)
    rbd.RBD().remove(ioctx, "aio")
    rbd.RBD().create(ioctx, "aio", 8 << 20)
    with rbd.Image(ioctx, "aio") as img:
        env: dict[str, Any] = {"img": img, "threading": threading}
        exec(seq, env)
        assert env["res"] == theirs
        # callbacks run on the portal's finisher thread, never the trio thread
        names: list[str] = []
        img.aio_flush(lambda c: names.append(threading.current_thread().name)
                      ).wait_for_complete_and_cb()
        assert len(names) == 1 and names[0].endswith("-finisher")
        # aio results equal sync results
        img.aio_write(b"\x07" * 5000, 123456, None).wait_for_complete_and_cb()
        got: list[bytes] = []
        img.aio_read(123000, 6000, lambda c, d: got.append(d)).wait_for_complete_and_cb()
        assert got == [img.read(123000, 6000)]
        img.write_zeroes(123456, 100)
        assert img.read(123456, 100) == bytes(100)
        img.flush()
        img.invalidate_cache()

        # a raising callback: re-raised by every wait_for_complete_and_cb (python-rbd)
        def bad(comp: Any) -> None:
            raise ValueError("boom")

        comp = img.aio_flush(bad)
        for _ in range(2):
            with pytest.raises(ValueError, match="boom"):
                comp.wait_for_complete_and_cb()
        with pytest.raises(TypeError):
            img.aio_write("str", 0, None)  # type: ignore[arg-type]
        mine = img.read(0, 8 << 20)
    assert _export(conf, f"{pool}/aio") == mine


# -- update_features / rebuild_object_map / sparsify ------------------------------------------

_FEATURE_ERRORS = [
    "img.update_features(rbd.RBD_FEATURE_OBJECT_MAP, True)",
    "img.update_features(rbd.RBD_FEATURE_FAST_DIFF, True)",
    "img.update_features(rbd.RBD_FEATURE_LAYERING, False)",
    "img.update_features(rbd.RBD_FEATURE_DEEP_FLATTEN, True)",
    "img.update_features(rbd.RBD_FEATURE_STRIPINGV2, True)",
    "img.update_features(0, True)",
    "img.update_features(rbd.RBD_FEATURE_EXCLUSIVE_LOCK, False)",
    "img.rebuild_object_map()",
    "img.sparsify(1000)",
    "img.sparsify(2048)",
    "img.sparsify(8 << 20)",
    "img.write_zeroes(9 << 20, 4096)",
    "img.lock_acquire(rbd.RBD_LOCK_MODE_SHARED)",
    "img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)",
    "img.lock_release()",
    "img.lock_break(rbd.RBD_LOCK_MODE_SHARED, 'x')",
    "list(img.lock_get_owners())",
]


def test_feature_and_lock_errors_match_librbd(cluster: SessionCluster, pool: str,
                                              ioctx: rados.Ioctx) -> None:
    conf = str(cluster.conf)
    rbd.RBD().create(ioctx, "fe", 8 << 20, features=rbd.RBD_FEATURE_LAYERING)
    theirs = _librbd(conf, pool, "fe", _FEATURE_ERRORS)
    with rbd.Image(ioctx, "fe") as img:
        ours = _ours({"img": img, "rbd": rbd}, _FEATURE_ERRORS)
    assert ours == theirs
    assert all(r[0] != "ok" for r in ours[:-1])


def test_update_features_rebuild_sparsify(cluster: SessionCluster, pool: str,
                                          ioctx: rados.Ioctx) -> None:
    conf = str(cluster.conf)
    spec = f"{pool}/feat"
    rbd.RBD().create(ioctx, "feat", 16 << 20, features=rbd.RBD_FEATURE_LAYERING)
    model = bytearray(16 << 20)
    with rbd.Image(ioctx, "feat") as img:
        for off, data in ((0, b"a" * 5000), (5 << 20, b"b" * 100), (9 << 20, bytes(4 << 20)),
                          (13 << 20, b"c" * 4096 + bytes(8192) + b"d")):
            img.write(data, off)
            model[off:off + len(data)] = data
        img.update_features(rbd.RBD_FEATURE_EXCLUSIVE_LOCK, True)
        assert _rbd_json(conf, "info", spec)["features"] == ["layering", "exclusive-lock"]
        # object-map brings fast-diff along and starts invalid, as librbd 16.2
        img.update_features(rbd.RBD_FEATURE_OBJECT_MAP, True)
        info = _rbd_json(conf, "info", spec)
        assert info["features"] == ["layering", "exclusive-lock", "object-map", "fast-diff"]
        assert info["flags"] == ["object map invalid", "fast diff invalid"]
        assert img.flags() == rbd.RBD_FLAG_OBJECT_MAP_INVALID | rbd.RBD_FLAG_FAST_DIFF_INVALID
        img.rebuild_object_map()
        assert img.flags() == 0
        assert _rbd_json(conf, "info", spec)["flags"] == []
        _object_map_clean(conf, spec)
        # writes after the rebuild keep the map right
        img.write(b"e" * 10, 7 << 20)
        model[7 << 20:(7 << 20) + 10] = b"e" * 10

        objs_before = _data_objects(conf, pool, img.block_name_prefix())
        img.sparsify(4096)
        objs_after = _data_objects(conf, pool, img.block_name_prefix())
        assert f"{img.block_name_prefix()}.0000000000000002" in objs_before
        assert f"{img.block_name_prefix()}.0000000000000002" not in objs_after
        assert len(objs_after) == len(objs_before) - 1
        _object_map_clean(conf, spec)
        assert img.read(0, 16 << 20) == bytes(model)

        img.update_features(rbd.RBD_FEATURE_OBJECT_MAP, False)  # takes fast-diff along
        info = _rbd_json(conf, "info", spec)
        assert info["features"] == ["layering", "exclusive-lock"] and info["flags"] == []
        assert not any(o.startswith("rbd_object_map.")
                       for o in _rados_ls(conf, pool))
        img.update_features(rbd.RBD_FEATURE_EXCLUSIVE_LOCK, False)
        assert _rbd_json(conf, "info", spec)["features"] == ["layering"]
        assert _rbd_json(conf, "lock", "ls", spec) == []
    assert _export(conf, spec) == bytes(model)


def _rados_ls(conf: str, pool: str) -> list[str]:
    return subprocess.run(["rados", "-c", conf, "-p", pool, "ls"], capture_output=True,
                          text=True, check=True, timeout=60).stdout.split()


def _data_objects(conf: str, pool: str, prefix: str) -> list[str]:
    return sorted(o for o in _rados_ls(conf, pool) if o.startswith(prefix + "."))


# -- copy -------------------------------------------------------------------------------------


def test_copy(cluster: SessionCluster, pool: str, ioctx: rados.Ioctx) -> None:
    conf = str(cluster.conf)
    rbd.RBD().create(ioctx, "src", 12 << 20)
    with rbd.Image(ioctx, "src") as img:
        img.write(b"x" * 100000, 3 << 20)
        img.write(b"y" * 10, (12 << 20) - 10)
        img.metadata_set("k1", "v1")
        img.copy(ioctx, "dst")
        img.copy(ioctx, "dst2", features=rbd.RBD_FEATURE_LAYERING, order=20,
                 stripe_unit=1 << 19, stripe_count=2)
        bad = [
            "img.copy(ioctx, 'dst')",
            "img.copy(ioctx, 'dst3', order=8)",
            "img.copy(ioctx, 'dst3', stripe_unit=1000)",
        ]
        ours = _ours({"img": img, "ioctx": ioctx}, bad)
    theirs = _librbd(conf, pool, "src", bad)
    assert ours == theirs
    src = _export(conf, f"{pool}/src")
    for name in ("dst", "dst2"):
        assert _export(conf, f"{pool}/{name}") == src
    info = _rbd_json(conf, "info", f"{pool}/dst")
    assert info["features"] == _rbd_json(conf, "info", f"{pool}/src")["features"]
    _object_map_clean(conf, f"{pool}/dst")
    info2 = _rbd_json(conf, "info", f"{pool}/dst2")
    assert (info2["order"], info2["stripe_unit"], info2["stripe_count"]) == (20, 1 << 19, 2)
    assert info2["features"] == ["layering", "striping"]
    assert _rbd_json(conf, "image-meta", "list", f"{pool}/dst") == {"k1": "v1"}


# -- watchers and the managed lock ------------------------------------------------------------

_HOLDER = r"""
import json, sys, rados, rbd
conf, pool, name, mode = sys.argv[1:5]
c = rados.Rados(conffile=conf, conf={"rbd_cache": "false"}); c.connect()
io = c.open_ioctx(pool); img = rbd.Image(io, name)
if mode == "hold":
    img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
    print(json.dumps(list(img.lock_get_owners())), flush=True)
    sys.stdin.readline()
else:
    try:
        img.write(b"z", 0); print(json.dumps(["ok"]))
    except Exception as e:
        print(json.dumps([type(e).__name__, str(e)]))
try:
    img.close()
except Exception:
    pass
"""


def test_watchers_and_managed_lock(cluster: SessionCluster, pool: str,
                                   ioctx: rados.Ioctx) -> None:
    conf = str(cluster.conf)
    spec = f"{pool}/lk"
    rbd.RBD().create(ioctx, "lk", 8 << 20)
    with rbd.Image(ioctx, "lk") as img:
        watchers = list(img.watchers_list())
        status = _rbd_json(conf, "status", spec)["watchers"]
        assert [(w["addr"], w["id"], w["cookie"]) for w in watchers] == \
            [(s["address"], int(s["client"]), int(s["cookie"])) for s in status]
        assert list(img.lock_get_owners()) == []

        # by hand: ours until released; a librbd writer is refused (EROFS), as librbd's
        # StandardPolicy owner refuses it
        img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
        assert img.is_exclusive_lock_owner()
        owners = list(img.lock_get_owners())
        assert owners == [{"mode": rbd.RBD_LOCK_MODE_EXCLUSIVE, "owner": watchers[0]["addr"]}]
        lockers = _rbd_json(conf, "lock", "ls", spec)
        assert [lk["address"] for lk in lockers] == [watchers[0]["addr"]]
        with pytest.raises(rbd.ImageBusy):  # as librbd 16.2: breaking one's own lock
            img.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, watchers[0]["addr"])
        writer = subprocess.run(["/usr/bin/python3", "-c", _HOLDER, conf, pool, "lk", "write"],
                                capture_output=True, text=True, timeout=120, check=True)
        assert json.loads(writer.stdout)[0] == "ReadOnlyImage"
        img.write(b"mine", 0)
        img.lock_release()
        assert not img.is_exclusive_lock_owner()
        assert _rbd_json(conf, "lock", "ls", spec) == []
        with pytest.raises(rbd.ReadOnlyImage):
            img.write(b"x", 0)  # StandardPolicy: no automatic re-acquisition

    # librbd holds it by hand: we are refused, see it, and break it
    with subprocess.Popen(["/usr/bin/python3", "-c", _HOLDER, conf, pool, "lk", "hold"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as peer:
        assert peer.stdout is not None and peer.stdin is not None
        their_owners = json.loads(peer.stdout.readline())
        try:
            with rbd.Image(ioctx, "lk") as img:
                assert list(img.lock_get_owners()) == their_owners
                with pytest.raises(rbd.ReadOnlyImage):
                    img.write(b"x", 0)
                with pytest.raises(rbd.ReadOnlyImage):
                    img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
                with pytest.raises(rbd.ImageBusy):
                    img.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, "127.0.0.1:0/1")
                img.lock_break(rbd.RBD_LOCK_MODE_EXCLUSIVE, their_owners[0]["owner"])
                assert list(img.lock_get_owners()) == []
                img.lock_acquire(rbd.RBD_LOCK_MODE_EXCLUSIVE)
                img.write(b"after", 0)
                img.lock_release()
        finally:
            peer.stdin.write("\n")
            peer.stdin.flush()
    assert _export(conf, spec)[:5] == b"after"


# -- pool init, pool metadata, config overrides -------------------------------------------------


def test_pool_init(cluster: SessionCluster) -> None:
    conf = str(cluster.conf)
    name = f"pi-{uuid.uuid4().hex[:8]}"
    ceph = ["ceph", "-c", conf]
    subprocess.run([*ceph, "osd", "pool", "create", name, "8"], check=True,
                   capture_output=True, timeout=60)
    try:
        with rados.Rados(conffile=conf) as r, r.open_ioctx(name) as io:
            rbd.RBD().pool_init(io, False)
            apps = json.loads(subprocess.run([*ceph, "osd", "pool", "application", "get", name,
                                              "--format", "json"], check=True,
                                             capture_output=True, text=True).stdout)
            assert "rbd" in apps
            assert io.read("rbd_info") == b"overwrite validated"
            rbd.RBD().pool_init(io, True)  # idempotent
            rbd.RBD().create(io, "img", 1 << 20)
            assert rbd.RBD().list(io) == ["img"]
    finally:
        subprocess.run([*ceph, "osd", "pool", "rm", name, name,
                        "--yes-i-really-really-mean-it"], capture_output=True, timeout=60)


_CONFIG_CALLS = [
    "R.config_get(ioctx, 'rbd_cache')",
    "R.config_get(ioctx, 'nonexist')",
    "R.config_set(ioctx, 'nonexist', '1')",
    "R.config_set(ioctx, 'rbd_cache', 'notabool')",
    "R.config_set(ioctx, 'rbd_qos_iops_limit', '-1')",
    "R.config_set(ioctx, 'rbd_discard_granularity_bytes', '1024')",
    "R.config_set(ioctx, 'rbd_cache_policy', 'bogus')",
    "R.config_remove(ioctx, 'rbd_qos_iops_limit')",
    "R.pool_metadata_get(ioctx, 'foo')",
    "R.pool_metadata_remove(ioctx, 'foo')",
    "R.pool_metadata_set(ioctx, 'conf_nonexist', 'true')",
    "R.config_set(ioctx, 'rbd_cache', 'false')",
    "R.config_set(ioctx, 'rbd_readahead_max_bytes', '1Ki')",
    "R.config_get(ioctx, 'rbd_cache')",
    "R.pool_metadata_set(ioctx, 'foo', 'bar')",
    "R.pool_metadata_get(ioctx, 'foo')",
    "list(R.pool_metadata_list(ioctx))",
    "[d for d in R.config_list(ioctx) if d['source'] != 0]",
    "img.config_get('rbd_cache')",
    "img.config_set('nonexist', '1')",
    "img.config_set('rbd_default_order', '20')",
    "img.config_set('rbd_qos_iops_limit', 'abc')",
    "img.metadata_set('conf_nonexist', '1')",
    "img.config_set('rbd_qos_iops_limit', '100')",
    "img.config_get('rbd_qos_iops_limit')",
    "[d for d in img.config_list() if d['source'] != 0]",
    "len(list(img.config_list()))",
    "list(img.metadata_list())",
    "img.config_remove('rbd_qos_iops_limit')",
    "img.config_remove('rbd_qos_iops_limit')",
    "R.pool_metadata_remove(ioctx, 'foo')",
    "R.config_remove(ioctx, 'rbd_cache')",
    "R.config_remove(ioctx, 'rbd_readahead_max_bytes')",
    "len(list(R.config_list(ioctx)))",
    "list(R.pool_metadata_list(ioctx))",
]


def test_config_and_pool_metadata_match_librbd(cluster: SessionCluster, pool: str,
                                               ioctx: rados.Ioctx) -> None:
    conf = str(cluster.conf)
    rbd.RBD().create(ioctx, "cfg", 1 << 20)
    theirs = _librbd(conf, pool, "cfg", _CONFIG_CALLS)
    with rbd.Image(ioctx, "cfg") as img:
        ours = _ours({"img": img, "ioctx": ioctx, "R": rbd.RBD()}, _CONFIG_CALLS)
        # leave overrides behind for the CLI to read
        rbd.RBD().config_set(ioctx, "rbd_cache", "false")
        img.config_set("rbd_qos_iops_limit", "100")
    assert ours == theirs
    assert _rbd(conf, "config", "pool", "get", pool, "rbd_cache").stdout.strip() == "false"
    pool_ls = {o["name"]: o for o in _rbd_json(conf, "config", "pool", "ls", pool)}
    assert pool_ls["rbd_cache"]["value"] == "false" and pool_ls["rbd_cache"]["source"] == "pool"
    spec = f"{pool}/cfg"
    assert _rbd(conf, "config", "image", "get", spec,
                "rbd_qos_iops_limit").stdout.strip() == "100"
    img_ls = {o["name"]: o for o in _rbd_json(conf, "config", "image", "ls", spec)}
    assert img_ls["rbd_qos_iops_limit"]["source"] == "image"
    assert img_ls["rbd_cache"]["source"] == "pool"
    assert _rbd_json(conf, "image-meta", "list", spec) == {"conf_rbd_qos_iops_limit": "100"}
    # and what the CLI writes, we read
    _rbd(conf, "config", "image", "set", spec, "rbd_cache", "true")
    with rbd.Image(ioctx, "cfg") as img:
        assert img.config_get("rbd_cache") == "true"
        listed = {d["name"]: d for d in img.config_list()}
        assert listed["rbd_cache"] == {"name": "rbd_cache", "value": "true", "source": 2}
