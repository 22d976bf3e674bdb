"""Issue #16's acceptance: the OpenStack-style clone flow, written by rbdpy or by librbd.

tests/integration/clone_acceptance_flow.py runs the flow with python-rbd calls only: a
64 MiB golden image uploaded, snapshotted, protected; 10 format-1 clones boot-written; one
clone snapshotted, written again and cloned (format 2); that middle clone flattened. Its
model gives the sha256 of every image and snapshot (the same for both libraries: every byte
comes from a fixed seed).

- rbdpy writes: ``rbd export`` of every image and snapshot equals the model, ``rbd
  object-map check`` finds every image clean, and rbdpy reads back the same hashes.
- librbd writes (python3-rbd on /usr/bin/python3): rbdpy reads every image and snapshot with
  the model's hashes, and sees each image's parent and overlap as librbd does.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

FLOW = Path(__file__).with_name("clone_acceptance_flow.py")
PYTHONS = {"librbd": "/usr/bin/python3", "rbdpy": sys.executable}


def _flow(impl: str, conf: Path, pool: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run([PYTHONS[impl], str(FLOW), *args, "--impl", impl, "--conf",
                           str(conf), "--pool", pool], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"{impl} {args[0]}:\n{proc.stderr[-4000:]}"
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _rbd(conf: Path, *args: str) -> bytes:
    return subprocess.run(["rbd", "-c", str(conf), *args], check=True, capture_output=True,
                          timeout=120).stdout


def _read_back(impl: str, conf: Path, pool: str, names: list[str]) -> dict[str, Any]:
    return _flow(impl, conf, pool, "read", "--names", ",".join(names))


def test_rbdpy_writes_the_flow_and_ceph_agrees(cluster: SessionCluster, pool: str) -> None:
    conf = cluster.conf
    expected: dict[str, str] = _flow("rbdpy", conf, pool, "write")["expected"]
    assert len(expected) == 14  # golden, its snapshot, 10 clones, a snapshot, grandchild
    for spec, digest in expected.items():
        exported = _rbd(conf, "export", "--no-progress", f"{pool}/{spec}", "-")
        assert hashlib.sha256(exported).hexdigest() == digest, spec
    images = sorted({spec.partition("@")[0] for spec in expected})
    for name in images:
        _rbd(conf, "object-map", "check", "--no-progress", f"{pool}/{name}")
        info = json.loads(_rbd(conf, "info", "--format", "json", f"{pool}/{name}"))
        assert info["flags"] == [], (name, info["flags"])
    info = {name: json.loads(_rbd(conf, "info", "--format", "json", f"{pool}/{name}"))
            for name in ("vm3", "vm4", "grandchild")}
    assert "parent" not in info["vm3"]  # flattened
    assert info["vm4"]["parent"]["image"] == "golden"
    assert info["vm4"]["parent"]["overlap"] == 64 << 20
    assert (info["grandchild"]["parent"]["image"],
            info["grandchild"]["parent"]["snapshot"]) == ("vm3", "booted")
    children = _rbd(conf, "children", f"{pool}/golden@base").decode().split()
    assert children == [f"{pool}/vm{i}" for i in range(10) if i != 3]
    assert _read_back("rbdpy", conf, pool, list(expected))["found"] == expected


def test_librbd_writes_the_flow_and_rbdpy_reads_it(cluster: SessionCluster,
                                                   pool: str) -> None:
    conf = cluster.conf
    expected: dict[str, str] = _flow("librbd", conf, pool, "write")["expected"]
    ours = _read_back("rbdpy", conf, pool, list(expected))
    assert ours["found"] == expected
    theirs = _read_back("librbd", conf, pool, list(expected))
    assert theirs["found"] == expected
    assert ours["parents"] == theirs["parents"]
