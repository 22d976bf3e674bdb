"""Issue #19 item 4: live migration, compared with librbd 16.2 and interoperating with it.

* One python-rbd script (prepare, status from both names, reads and writes through the
  source, error cases, execute with progress, commit; then prepare + abort) runs under
  /usr/bin/python3 with Ceph's modules and under ``from rbdpy import rados, rbd``, each in
  its own namespaces of the same two pools; what the script and the ``rbd`` CLI report
  must be equal, image ids and namespace names aside.
* Interop both ways: rbdpy prepares and ``rbd migration execute/commit`` finish; ``rbd
  migration prepare`` starts and rbdpy (its CLI, then its API) executes and commits.
* The acceptance flow: a 64 MiB image moved from pool A to pool B while another rbdpy
  client writes to it during execute; ``rbd export`` equals the expected bytes, and the
  source is gone from pool A.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest

from tests.fix_cluster import SessionCluster
from tests.parity import run_json

pytestmark = pytest.mark.cluster

MiB = 1 << 20

_SCRIPT = r"""
import hashlib, json, subprocess, sys
conf, p1, p2, ns, impl = sys.argv[1:6]
if impl == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
MiB = 1 << 20
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

def sha(spec):
    return hashlib.sha256(cli("export", "--no-progress", spec, "-", data=True)).hexdigest()

def status(io, name):
    s = r.migration_status(io, name)
    s["source_image_id"] = len(s["source_image_id"]) > 0
    s["dest_image_id"] = len(s["dest_image_id"]) > 0
    return s

def info(spec):
    d = json.loads(cli("info", "--format", "json", spec))
    return {k: d[k] for k in ("size", "order", "features", "op_features", "flags")}

def trash(pool):
    return [(e["name"], e["source"]) for e in json.loads(
        cli("trash", "ls", "--all", "--long", "--format", "json", f"{pool}/{ns}"))]

r = rbd.RBD()
with rados.Rados(conffile=conf) as cluster:
    io1, io2 = cluster.open_ioctx(p1), cluster.open_ioctx(p2)
    io1.set_namespace(ns); io2.set_namespace(ns)
    r.create(io1, "src", 8 * MiB)
    with rbd.Image(io1, "src") as im:
        im.write(b"a" * MiB, 0)
        im.write(b"b" * 3000, 4 * MiB - 1000)
        im.metadata_set("k", "v")
        attempt("source_spec_plain", lambda: im.migration_source_spec())
    attempt("status_plain", lambda: r.migration_status(io1, "src"))
    attempt("status_missing", lambda: r.migration_status(io1, "nope"))
    attempt("prepare_missing", lambda: r.migration_prepare(io1, "nope", io2, "dst"))
    attempt("execute_plain", lambda: r.migration_execute(io1, "src"))
    with rbd.Image(io1, "src") as busy:
        attempt("prepare_open", lambda: r.migration_prepare(io1, "src", io2, "dst"))
    attempt("prepare", lambda: r.migration_prepare(io1, "src", io2, "dst"))
    attempt("status_src", lambda: status(io1, "src"))
    attempt("status_dst", lambda: status(io2, "dst"))
    out["lists"] = [sorted(r.list(io1)), sorted(r.list(io2)), trash(p1)]
    out["info_prepared"] = info(f"{p2}/{ns}/dst")
    attempt("open_src", lambda: rbd.Image(io1, "src").close())
    attempt("prepare_again", lambda: r.migration_prepare(io2, "dst", io1, "x"))
    attempt("commit_early", lambda: r.migration_commit(io2, "dst"))
    with rbd.Image(io2, "dst") as im:
        spec = im.migration_source_spec()
        spec["image_id"] = len(spec["image_id"]) > 0
        out["source_spec"] = spec
        out["read_through"] = hashlib.sha256(im.read(0, im.size())).hexdigest()
        im.write(b"c" * 5000, 4 * MiB - 2500)
        out["read_after_write"] = hashlib.sha256(im.read(0, im.size())).hexdigest()
        out["metadata"] = im.metadata_get("k")
    out["export_prepared"] = sha(f"{p2}/{ns}/dst")
    progress = []
    attempt("execute", lambda: r.migration_execute(
        io1, "src", on_progress=lambda done, total: progress.append((done, total))))
    out["progress"] = progress
    attempt("status_executed", lambda: status(io2, "dst"))
    attempt("execute_again", lambda: r.migration_execute(io2, "dst"))
    attempt("commit", lambda: r.migration_commit(io2, "dst"))
    attempt("status_committed", lambda: r.migration_status(io2, "dst"))
    out["lists_committed"] = [sorted(r.list(io1)), sorted(r.list(io2)), trash(p1)]
    out["info_committed"] = info(f"{p2}/{ns}/dst")
    out["export_committed"] = sha(f"{p2}/{ns}/dst")
    with rbd.Image(io2, "dst") as im:
        attempt("source_spec_committed", lambda: im.migration_source_spec())

    # prepare then abort: the source comes back under its name with its data
    r.create(io1, "s2", 4 * MiB, order=20)
    with rbd.Image(io1, "s2") as im:
        im.write(b"z" * 100, 12345)
    attempt("prepare_s2", lambda: r.migration_prepare(io1, "s2", io1, "d2", order=21))
    out["info_d2"] = info(f"{p1}/{ns}/d2")
    attempt("abort_d2", lambda: r.migration_abort(io1, "d2"))
    out["lists_aborted"] = [sorted(r.list(io1)), trash(p1)]
    out["info_s2"] = info(f"{p1}/{ns}/s2")
    out["export_s2"] = sha(f"{p1}/{ns}/s2")
    attempt("abort_again", lambda: r.migration_abort(io1, "s2"))
print(json.dumps(out))
"""


def _namespace(conf: str, *pools: str) -> str:
    ns = f"m{uuid.uuid4().hex[:8]}"
    for pool in pools:
        subprocess.run(["rbd", "-c", conf, "namespace", "create", f"{pool}/{ns}"], check=True,
                       timeout=60)
    return ns


def _run_script(python: str, impl: str, conf: str, p1: str, p2: str) -> dict[str, Any]:
    ns = _namespace(conf, p1, p2)
    result = run_json(python, _SCRIPT, conf, p1, p2, ns, impl)
    # the two runs differ only in their namespace names
    return dict(json.loads(json.dumps(result).replace(ns, "NS")))


def _rbd(conf: str, *args: str, data: bool = False) -> Any:
    proc = subprocess.run(["rbd", "-c", conf, *args], check=True, capture_output=True,
                          timeout=300)
    return proc.stdout if data else proc.stdout.decode()


def _export(conf: str, spec: str) -> bytes:
    data: bytes = _rbd(conf, "export", "--no-progress", spec, "-", data=True)
    return data


def test_migration_script_as_librbd(cluster: SessionCluster, pool: str,
                                    second_pool: str) -> None:
    conf = str(cluster.conf)
    librbd = _run_script("/usr/bin/python3", "librbd", conf, pool, second_pool)
    ours = _run_script(sys.executable, "rbdpy", conf, pool, second_pool)
    assert librbd["prepare"] == ["ok", None]
    assert librbd["commit"] == ["ok", None]
    for key in librbd:
        assert ours[key] == librbd[key], key
    assert ours == librbd


_PATTERN_SCRIPT = r"""
import sys
from rbdpy import rados, rbd
conf, pool, name, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as io:
    rbd.RBD().create(io, name, size)
    with rbd.Image(io, name) as im:
        for off in range(0, size, 1 << 20):
            if (off >> 20) % 3 != 2:  # every third MiB stays a hole
                im.write(bytes([(off >> 20) & 0xFF]) * (1 << 20), off)
"""


def _pattern(size: int) -> bytearray:
    data = bytearray(size)
    for off in range(0, size, MiB):
        if (off >> 20) % 3 != 2:
            data[off:off + MiB] = bytes([(off >> 20) & 0xFF]) * MiB
    return data


def _make_image(conf: str, pool: str, name: str, size: int) -> bytearray:
    subprocess.run([sys.executable, "-c", _PATTERN_SCRIPT, conf, pool, name, str(size)],
                   check=True, timeout=300)
    return _pattern(size)


def _source_objects(conf: str, pool: str, image_id: str) -> list[str]:
    names = subprocess.run(["rados", "-c", conf, "-p", pool, "ls"], check=True,
                           capture_output=True, text=True, timeout=60).stdout.split()
    return [n for n in names if image_id in n]


def test_rbdpy_prepares_and_rbd_cli_finishes(cluster: SessionCluster, pool: str,
                                            second_pool: str) -> None:
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    expected = _make_image(conf, pool, "img", 12 * MiB)
    with rados.Rados(conffile=conf) as handle:
        with handle.open_ioctx(pool) as io1, handle.open_ioctx(second_pool) as io2:
            rbd.RBD().migration_prepare(io1, "img", io2, "moved", order=23)
            src_id = rbd.RBD().migration_status(io2, "moved")["source_image_id"]
    status = _rbd(conf, "status", f"{second_pool}/moved")
    assert "state: prepared" in status, status
    assert _export(conf, f"{second_pool}/moved") == expected
    _rbd(conf, "migration", "execute", "--no-progress", f"{second_pool}/moved")
    _rbd(conf, "migration", "commit", "--no-progress", f"{second_pool}/moved")
    info = json.loads(_rbd(conf, "info", "--format", "json", f"{second_pool}/moved"))
    assert info["order"] == 23 and "migrating" not in info["features"]
    assert _export(conf, f"{second_pool}/moved") == expected
    assert _source_objects(conf, pool, src_id) == []
    assert json.loads(_rbd(conf, "trash", "ls", "--all", "--format", "json", pool)) == []


def test_rbd_cli_prepares_and_rbdpy_finishes(cluster: SessionCluster, pool: str,
                                            second_pool: str) -> None:
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    expected = _make_image(conf, pool, "img", 10 * MiB)
    _rbd(conf, "migration", "prepare", f"{pool}/img", f"{second_pool}/moved")
    with rados.Rados(conffile=conf) as handle, handle.open_ioctx(second_pool) as io2:
        src_id = rbd.RBD().migration_status(io2, "moved")["source_image_id"]
        with rbd.Image(io2, "moved") as im:
            im.write(b"w" * 4096, 5 * MiB)
            expected[5 * MiB:5 * MiB + 4096] = b"w" * 4096
            assert im.read(0, im.size()) == expected
    # execute through the rbdpy CLI (by the source's name), commit through the API
    proc = subprocess.run([sys.executable, "-m", "rbdpy.cli.main", "-c", conf, "migration",
                           "execute", f"{pool}/img"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Image migration: 100% complete...done." in proc.stderr
    assert "state: executed" in _rbd(conf, "status", f"{second_pool}/moved")
    with rados.Rados(conffile=conf) as handle, handle.open_ioctx(second_pool) as io2:
        rbd.RBD().migration_commit(io2, "moved")
    info = json.loads(_rbd(conf, "info", "--format", "json", f"{second_pool}/moved"))
    assert "migrating" not in info["features"]
    assert _export(conf, f"{second_pool}/moved") == expected
    assert _source_objects(conf, pool, src_id) == []
    _rbd(conf, "object-map", "check", f"{second_pool}/moved")


def test_images_rbdpy_cannot_migrate_yet_raise(cluster: SessionCluster, pool: str,
                                              second_pool: str) -> None:
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    _make_image(conf, pool, "snapped", 4 * MiB)
    _rbd(conf, "snap", "create", f"{pool}/snapped@s1")
    with rados.Rados(conffile=conf) as handle:
        with handle.open_ioctx(pool) as io1, handle.open_ioctx(second_pool) as io2:
            with pytest.raises(NotImplementedError):
                rbd.RBD().migration_prepare(io1, "snapped", io2, "moved")
            assert rbd.RBD().list(io1) == ["snapped"]  # nothing was changed
            # librbd prepared it: rbdpy reads through the source but refuses writes
            _rbd(conf, "migration", "prepare", f"{pool}/snapped", f"{second_pool}/moved")
            with rbd.Image(io2, "moved") as im:
                assert im.read(0, 4096) == b"\0" * 4096
                with pytest.raises(rbd.FunctionNotSupported):
                    im.write(b"x", 0)
            with pytest.raises(NotImplementedError):
                rbd.RBD().migration_execute(io2, "moved")
    _rbd(conf, "migration", "abort", "--no-progress", f"{second_pool}/moved")


_WRITER_SCRIPT = r"""
import sys
from rbdpy import rados, rbd
conf, pool, name = sys.argv[1:4]
with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as io:
    with rbd.Image(io, name) as im:
        print("open", flush=True)
        sys.stdin.readline()  # the migration execute has started
        for i in range(64):
            im.write(bytes([0xA0 + (i % 16)]) * 8192, i * (1 << 20) + 4096 * (i % 7))
"""


def test_acceptance_64mib_moves_pools_while_written(cluster: SessionCluster, pool: str,
                                                    second_pool: str) -> None:
    """A 64 MiB image moves from pool A to pool B; a second rbdpy client writes to it all
    through execute; afterwards `rbd export` is right and pool A holds nothing of it."""
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    expected = _make_image(conf, pool, "vm-disk", 64 * MiB)
    with rados.Rados(conffile=conf) as handle:
        with handle.open_ioctx(pool) as io1, handle.open_ioctx(second_pool) as io2:
            rbd.RBD().migration_prepare(io1, "vm-disk", io2, "vm-disk")
            src_id = rbd.RBD().migration_status(io2, "vm-disk")["source_image_id"]
            progress: list[tuple[int, int]] = []
            with subprocess.Popen(
                    [sys.executable, "-c", _WRITER_SCRIPT, conf, second_pool, "vm-disk"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as writer:
                assert writer.stdout is not None and writer.stdin is not None
                assert writer.stdout.readline().strip() == "open"
                go = writer.stdin
                started = threading.Event()

                def on_progress(done: int, total: int) -> None:
                    progress.append((done, total))
                    if not started.is_set():  # the writer starts once execute has
                        started.set()
                        go.write("go\n")
                        go.flush()

                rbd.RBD().migration_execute(io2, "vm-disk", on_progress=on_progress)
                assert writer.wait(timeout=300) == 0
            assert progress[-1] == (15, 16)
            rbd.RBD().migration_commit(io2, "vm-disk")
            assert rbd.RBD().list(io1) == []
            with pytest.raises(rbd.InvalidArgument):  # as librbd: no longer migrating
                rbd.RBD().migration_status(io2, "vm-disk")
    for i in range(64):
        off = i * MiB + 4096 * (i % 7)
        expected[off:off + 8192] = bytes([0xA0 + (i % 16)]) * 8192
    exported = _export(conf, f"{second_pool}/vm-disk")
    assert hashlib.sha256(exported).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert _source_objects(conf, pool, src_id) == []
    assert json.loads(_rbd(conf, "trash", "ls", "--all", "--format", "json", pool)) == []
    _rbd(conf, "object-map", "check", f"{second_pool}/vm-disk")


def _rbdpy_cli(conf: str, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "rbdpy.cli.main", "-c", conf, *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_aborts_both_ways_through_the_clis(cluster: SessionCluster, pool: str,
                                          second_pool: str) -> None:
    """rbdpy's CLI prepares and `rbd migration abort` undoes it; `rbd migration prepare`
    and rbdpy's CLI abort. Each time the source is back under its name, unchanged."""
    conf = str(cluster.conf)
    expected = _make_image(conf, pool, "img", 6 * MiB)
    _rbdpy_cli(conf, "migration", "prepare", f"{pool}/img", "--dest-pool", second_pool,
               "--object-size", "8M")
    status = _rbd(conf, "status", f"{second_pool}/img")
    assert "state: prepared" in status, status
    assert json.loads(_rbd(conf, "info", "--format", "json",
                           f"{second_pool}/img"))["order"] == 23
    _rbd(conf, "migration", "abort", "--no-progress", f"{pool}/img")
    assert json.loads(_rbd(conf, "ls", "--format", "json", second_pool)) == []
    assert _export(conf, f"{pool}/img") == expected

    _rbd(conf, "migration", "prepare", f"{pool}/img", f"{second_pool}/other")
    proc = _rbdpy_cli(conf, "migration", "abort", f"{second_pool}/other")
    assert "Abort image migration: 100% complete...done." in proc.stderr
    assert json.loads(_rbd(conf, "ls", "--format", "json", second_pool)) == []
    assert json.loads(_rbd(conf, "ls", "--format", "json", pool)) == ["img"]
    assert json.loads(_rbd(conf, "trash", "ls", "--all", "--format", "json", pool)) == []
    info = json.loads(_rbd(conf, "info", "--format", "json", f"{pool}/img"))
    assert "migrating" not in info["features"]
    assert _export(conf, f"{pool}/img") == expected


def test_rbdpy_writes_while_rbd_cli_executes(cluster: SessionCluster, pool: str,
                                             second_pool: str) -> None:
    """rbdpy owns the destination's lock and keeps writing while `rbd migration execute`
    runs: librbd's proxied MIGRATE gets EOPNOTSUPP, it takes the lock over, loses it to our
    next write, retries; at the end every write of ours and the source's data are there."""
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    expected = _make_image(conf, pool, "img", 24 * MiB)
    _rbd(conf, "migration", "prepare", f"{pool}/img", f"{second_pool}/img")
    writes = 0
    with rados.Rados(conffile=conf) as handle, handle.open_ioctx(second_pool) as io2:
        with rbd.Image(io2, "img") as im:
            im.write(b"Q" * 100, 0)
            expected[0:100] = b"Q" * 100
            with subprocess.Popen(["rbd", "-c", conf, "migration", "execute",
                                   "--no-progress", f"{second_pool}/img"],
                                  stderr=subprocess.DEVNULL) as proc:
                while proc.poll() is None and writes < 300:
                    off = (writes * 1_000_003) % (24 * MiB - 10)
                    im.write(b"R" * 10, off)
                    expected[off:off + 10] = b"R" * 10
                    writes += 1
                assert proc.wait(timeout=300) == 0
    assert writes > 0
    _rbd(conf, "migration", "commit", "--no-progress", f"{second_pool}/img")
    assert _export(conf, f"{second_pool}/img") == expected


_IMPORT_SCRIPT = r"""
import hashlib, json, subprocess, sys
conf, pool, ns, raw, impl = sys.argv[1:6]
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

def status(io, name):
    s = r.migration_status(io, name)
    s["dest_image_id"] = len(s["dest_image_id"]) > 0
    return s

def sha(spec):
    data = subprocess.run(["rbd", "-c", conf, "export", "--no-progress", spec, "-"],
                          capture_output=True, check=True, timeout=120).stdout
    return hashlib.sha256(data).hexdigest()

spec = json.dumps({"type": "raw", "stream": {"type": "file", "file_path": raw}})
r = rbd.RBD()
with rados.Rados(conffile=conf) as cluster:
    io = cluster.open_ioctx(pool)
    io.set_namespace(ns)
    attempt("not_a_string", lambda: r.migration_prepare_import({"type": "raw"}, io, "x"))
    attempt("bad_json", lambda: r.migration_prepare_import("{bad", io, "x"))
    attempt("no_type", lambda: r.migration_prepare_import("{}", io, "x"))
    attempt("missing_file", lambda: r.migration_prepare_import(
        json.dumps({"type": "raw", "stream": {"type": "file", "file_path": raw + ".nope"}}),
        io, "x"))
    attempt("prepare", lambda: r.migration_prepare_import(spec, io, "imp", order=20))
    attempt("prepare_again", lambda: r.migration_prepare_import(spec, io, "imp"))
    attempt("status", lambda: status(io, "imp"))
    with rbd.Image(io, "imp") as im:
        out["size"] = im.size()
        out["source_spec"] = im.migration_source_spec()
        out["read"] = hashlib.sha256(im.read(0, im.size())).hexdigest()
        im.write(b"i" * 3000, 1048576 - 1000)
    attempt("commit_early", lambda: r.migration_commit(io, "imp"))
    attempt("execute", lambda: r.migration_execute(io, "imp"))
    attempt("status_executed", lambda: status(io, "imp"))
    attempt("commit", lambda: r.migration_commit(io, "imp"))
    out["export"] = sha(f"{pool}/{ns}/imp")
    out["list"] = sorted(r.list(io))
    attempt("prepare2", lambda: r.migration_prepare_import(spec, io, "imp2"))
    attempt("abort2", lambda: r.migration_abort(io, "imp2"))
    out["list_aborted"] = sorted(r.list(io))
print(json.dumps(out))
"""


def test_import_from_a_raw_file_as_librbd(cluster: SessionCluster, pool: str,
                                          tmp_path: Any) -> None:
    conf = str(cluster.conf)
    raw = tmp_path / "disk.raw"
    raw.write_bytes(bytes(range(256)) * 12000 + b"tail")  # 3 MiB and 4 bytes
    runs = {}
    for python, impl in (("/usr/bin/python3", "librbd"), (sys.executable, "rbdpy")):
        ns = _namespace(conf, pool)
        proc = subprocess.run([python, "-c", _IMPORT_SCRIPT, conf, pool, ns, str(raw), impl],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        runs[impl] = json.loads(proc.stdout.strip().splitlines()[-1].replace(ns, "NS"))
    librbd, ours = runs["librbd"], runs["rbdpy"]
    assert librbd["commit"] == ["ok", None]
    for key in librbd:
        assert ours[key] == librbd[key], key


def test_import_interop_both_ways(cluster: SessionCluster, pool: str, tmp_path: Any) -> None:
    """rbdpy prepares an import and `rbd migration execute/commit` finish it; `rbd migration
    prepare --import-only` starts one and rbdpy's CLI executes and commits it."""
    from rbdpy import rados, rbd

    conf = str(cluster.conf)
    raw = tmp_path / "disk.raw"
    expected = bytes(range(251)) * 20000
    raw.write_bytes(expected)
    spec = json.dumps({"type": "raw", "stream": {"type": "file", "file_path": str(raw)}})
    with rados.Rados(conffile=conf) as handle, handle.open_ioctx(pool) as io:
        rbd.RBD().migration_prepare_import(spec, io, "a")
    _rbd(conf, "migration", "execute", "--no-progress", f"{pool}/a")
    _rbd(conf, "migration", "commit", "--no-progress", f"{pool}/a")
    assert _export(conf, f"{pool}/a") == expected

    _rbd(conf, "migration", "prepare", "--import-only", "--source-spec", spec, f"{pool}/b")
    _rbdpy_cli(conf, "migration", "execute", f"{pool}/b")
    _rbdpy_cli(conf, "migration", "commit", f"{pool}/b")
    info = json.loads(_rbd(conf, "info", "--format", "json", f"{pool}/b"))
    assert "migrating" not in info["features"]
    assert _export(conf, f"{pool}/b") == expected
