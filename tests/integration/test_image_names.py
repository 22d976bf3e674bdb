"""Image and snapshot names that are not UTF-8, as python-rbd lets programs make them.

python-rbd passes ``bytes`` names through unchanged, so ``b"bad-\\xff-name"`` is a valid
image name. The same script runs on python3-rbd (librbd 16.2, /usr/bin/python3) and on
``from rbdpy import rados, rbd``; every call whose outcome python-rbd defines without
decoding a name must end the same way (same exception class and message). Listing calls are
where the two differ on purpose: python-rbd decodes names strictly and raises
UnicodeDecodeError, rbdpy hands back ``str`` with the undecodable bytes surrogate-escaped
(they encode back to the same bytes). The script prints those results as a kind only.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

_SCRIPT = r"""
import json, sys
if sys.argv[3] == "librbd":
    import rados, rbd
else:
    from rbdpy import rados, rbd
conf, pool = sys.argv[1], sys.argv[2]
name = b"bad-\xff-name"
out = {}
def attempt(label, fn, kind_only=False):
    try:
        value = fn()
        out[label] = ["ok"] if kind_only else ["ok", repr(value)]
    except Exception as e:
        out[label] = [type(e).__name__] if kind_only else [type(e).__name__, str(e)]
with rados.Rados(conffile=conf) as cluster:
    with cluster.open_ioctx(pool) as io:
        R = rbd.RBD()
        attempt("create", lambda: R.create(io, name, 4 << 20))
        attempt("create again", lambda: R.create(io, name, 4 << 20))
        with rbd.Image(io, name) as im:
            attempt("write", lambda: im.write(b"x" * 10, 0))
            attempt("read", lambda: im.read(0, 10))
            attempt("read past end", lambda: im.read(8 << 20, 10))
            attempt("remove missing snap", lambda: im.remove_snap("nope"))
            attempt("set_snap missing", lambda: im.set_snap("nope"))
            attempt("create snap", lambda: im.create_snap(name))
            attempt("snap exists", lambda: im.snap_exists(name))
            attempt("protect snap", lambda: im.protect_snap(name))
            attempt("unprotect snap", lambda: im.unprotect_snap(name))
            attempt("remove snap", lambda: im.remove_snap(name))
            attempt("resize", lambda: im.resize(8 << 20))
            attempt("metadata", lambda: im.metadata_set("k", "v"))
            attempt("list", lambda: R.list(io), kind_only=True)
            attempt("get_name", lambda: im.get_name(), kind_only=True)
        attempt("remove", lambda: R.remove(io, name))
        attempt("remove again", lambda: R.remove(io, name))
print(json.dumps(out))
"""


def _run(python: str, impl: str, conf: str, pool: str) -> dict[str, list[str]]:
    proc = subprocess.run([python, "-c", _SCRIPT, conf, pool, impl], capture_output=True,
                          text=True, timeout=180, check=True)
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_non_utf8_names_behave_as_in_python_rbd(cluster: SessionCluster, pool: str) -> None:
    theirs = _run("/usr/bin/python3", "librbd", str(cluster.conf), pool)
    ours = _run(sys.executable, "rbdpy", str(cluster.conf), pool)
    # python-rbd decodes listed names strictly; rbdpy surrogate-escapes them (see above)
    assert theirs.pop("list") == ["UnicodeDecodeError"]
    assert theirs.pop("get_name") == ["UnicodeDecodeError"]
    assert ours.pop("list") == ["ok"]
    assert ours.pop("get_name") == ["ok"]
    assert ours == theirs
    assert ours["remove"] == ["ok", "None"]
