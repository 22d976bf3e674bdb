"""Issue "RBD images", acceptance: a script written for Ceph's python-rbd runs unchanged on rbdpy.

The same script text runs twice on the same cluster — with Ceph's modules on
/usr/bin/python3, and with ``from rbdpy import rados, rbd`` on rbdpy's interpreter — and must
print the same thing: digests of what it reads back, sizes, metadata, lockers and the
exceptions it provokes. Then the `rbd` CLI checks an image the rbdpy run left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

SCRIPT = r'''
import hashlib, json, random, sys
import rados, rbd

conf, pool, name, keep = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "keep"
out = []
rng = random.Random(64)
with rados.Rados(conffile=conf) as cluster:
    with cluster.open_ioctx(pool) as ioctx:
        r = rbd.RBD()
        r.create(ioctx, name, 80 << 20, order=22)
        out.append(sorted(r.list(ioctx)))
        with rbd.Image(ioctx, name) as img:
            model = bytearray(80 << 20)
            written = 0
            while written < 64 << 20:
                n = rng.choice([4096, 65536, 1 << 20, 3 << 20, rng.randrange(1, 1 << 20)])
                off = rng.randrange(0, (80 << 20) - n)
                pattern = bytes([rng.randrange(256)]) * 16
                data = (pattern * (n // 16 + 1))[:n]
                img.write(data, off)
                model[off:off + n] = data
                written += n
            out.append(hashlib.sha256(img.read(0, 80 << 20)).hexdigest()
                       == hashlib.sha256(model).hexdigest())
            img.resize(96 << 20)
            out.append(img.size())
            out.append(img.read((80 << 20) - 8, 16) == bytes(model[-8:]) + bytes(8))
            img.resize(40 << 20)
            out.append(img.stat()["size"])
            out.append(hashlib.sha256(img.read(0, 40 << 20)).hexdigest()
                       == hashlib.sha256(model[:40 << 20]).hexdigest())
            try:
                img.read(40 << 20, 10)
            except Exception as e:
                out.append(["read past end", type(e).__name__])
            try:
                img.write(b"x", 40 << 20)
            except Exception as e:
                out.append(["write past end", type(e).__name__, str(e)])
            img.metadata_set("color", "blue")
            img.metadata_set("conf_rbd_cache", "false")
            out.append(sorted(img.metadata_list()))
            out.append(img.metadata_get("color"))
            img.metadata_remove("color")
            try:
                img.metadata_get("color")
            except Exception as e:
                out.append(["metadata_get", type(e).__name__, str(e)])
            try:
                # Held managed exclusive lock (the writes took it): librbd says busy.
                img.lock_exclusive("my-cookie")
            except Exception as e:
                out.append(["lock while writing", type(e).__name__, str(e)])
            out.append([img.features(), img.old_format(), img.stripe_unit(),
                        img.stripe_count(), img.block_name_prefix().startswith("rbd_data.")])
        # Advisory locks on an image nobody has open.
        with rbd.Image(ioctx, name) as img:
            img.lock_exclusive("my-cookie")
            lockers = img.list_lockers()
            out.append([lockers["exclusive"], lockers["tag"],
                        [(c, a.split(":")[0]) for _, c, a in lockers["lockers"]]])
            try:
                img.lock_shared("other", "tag")
            except Exception as e:
                out.append(["shared over exclusive", type(e).__name__, str(e)])
            img.unlock("my-cookie")
            out.append(img.list_lockers())
        try:
            r.create(ioctx, name, 1 << 20)
        except Exception as e:
            out.append(["create again", type(e).__name__, str(e)])
        try:
            rbd.Image(ioctx, name + "-missing")
        except Exception as e:
            out.append(["open missing", type(e).__name__, str(e)])
        if not keep:
            r.remove(ioctx, name)
            out.append(sorted(r.list(ioctx)))
print(json.dumps(out))
'''


def run(python: list[str], conf: str, pool: str, name: str, keep: bool,
        rbdpy_imports: bool) -> list[object]:
    text = SCRIPT.replace("import rados, rbd", "from rbdpy import rados, rbd") \
        if rbdpy_imports else SCRIPT
    cp = subprocess.run([*python, "-c", text, conf, pool, name,
                         "keep" if keep else "remove"], capture_output=True, text=True,
                        timeout=600)
    assert cp.returncode == 0, cp.stderr[-3000:]
    return json.loads(cp.stdout.strip().splitlines()[-1])


def test_python_rbd_script_runs_unchanged(cluster: SessionCluster, pool: str) -> None:
    conf = str(cluster.conf)
    theirs = run(["/usr/bin/python3"], conf, pool, "script-librbd", False, False)
    ours = run([sys.executable], conf, pool, "script-rbdpy", False, True)
    # Image names differ ("script-librbd" vs "script-rbdpy") in a few messages only.
    assert json.dumps(ours).replace("script-rbdpy", "IMG") == \
        json.dumps(theirs).replace("script-librbd", "IMG")
    # Once more, keeping the image, for the rbd CLI to check what rbdpy left.
    run([sys.executable], conf, pool, "script-kept", True, True)
    info = json.loads(subprocess.run(["rbd", "-c", conf, "info", f"{pool}/script-kept",
                                      "--format", "json"], check=True, capture_output=True,
                                     text=True, timeout=60).stdout)
    assert info["size"] == 40 << 20 and info["flags"] == []
    check = subprocess.run(["rbd", "-c", conf, "object-map", "check", f"{pool}/script-kept"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    subprocess.run(["rbd", "-c", conf, "rm", f"{pool}/script-kept"], check=True,
                   capture_output=True, timeout=120)
