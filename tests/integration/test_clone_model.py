"""Issue #16: a seeded random walk over clone chains, checked against a model and librbd.

tests/integration/clone_model_driver.py does the walk (clones v1 and v2 up to three levels,
a striped parent, a parent in a second pool, writes, discards, write_zeroes, resizes,
snapshots, flattens; every read compared with an in-memory model) with either library. The
same script runs on librbd (python3-rbd under /usr/bin/python3) to keep the model honest,
and on rbdpy. Afterwards every image and snapshot is read back whole by both libraries, and
all sha256s must equal the model's; after rbdpy's walk ``rbd object-map check`` must find
every object map right.

The seed is ``RBDPY_CLONE_MODEL_SEED`` (default 2026); a failure prints it with the last
operations, and the driver replays it by hand:
``.venv/bin/python tests/integration/clone_model_driver.py run --impl rbdpy --conf C
--pools A,B --seed N``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rbdpy.devcluster import DevCluster
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

DRIVER = Path(__file__).with_name("clone_model_driver.py")
SYSTEM_PYTHON = "/usr/bin/python3"
PYTHONS = {"librbd": SYSTEM_PYTHON, "rbdpy": sys.executable}
SEED = int(os.environ.get("RBDPY_CLONE_MODEL_SEED", "2026"))
# ~600 operations take a few seconds on librbd; the budget bounds a slow run instead.
OPS, BUDGET_S = 600, 35


@pytest.fixture
def other_pool(cluster: SessionCluster) -> Iterator[str]:
    """A second RBD pool, for parents and children that live apart."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    control = cluster.control or DevCluster(cluster.conf.parent)
    control.pool_create(name)
    try:
        yield name
    finally:
        control.pool_delete(name)


def _driver(impl: str, *args: str, stdin: str | None = None) -> dict[str, Any]:
    proc = subprocess.run([PYTHONS[impl], str(DRIVER), *args, "--impl", impl],
                          input=stdin, capture_output=True, text=True, timeout=240)
    lines = proc.stdout.strip().splitlines()
    out: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    assert "mismatch" not in out, f"{impl}, seed {SEED}: {out['mismatch']}"
    assert proc.returncode == 0, f"{impl}, seed {SEED}:\n{proc.stderr[-4000:]}"
    return out


@pytest.mark.parametrize("writer", ["librbd", "rbdpy"])
def test_clone_walk_matches_the_model(cluster: SessionCluster, pool: str, other_pool: str,
                                      writer: str) -> None:
    conf = str(cluster.conf)
    ran = _driver(writer, "run", "--conf", conf, "--pools", f"{pool},{other_pool}",
                  "--seed", str(SEED), "--ops", str(OPS), "--budget", str(BUDGET_S))
    expected = ran["expected"]
    assert ran["ops"] > 100, ran["ops"]
    # the walk must have built what it is meant to test
    parents = [e["parent"] for e in expected.values() if e["parent"]]
    assert parents, "no clone survived the walk unflattened"
    assert any(p[0].startswith(other_pool + "/") for p in parents) or any(
        e["pool"] == other_pool for e in expected.values() if e["parent"])

    if writer == "rbdpy":
        # rbdpy kept every object map right through copy-ups, discards, shrinks, flattens
        for key in expected:
            subprocess.run(["rbd", "-c", conf, "object-map", "check", "--no-progress", key],
                           check=True, capture_output=True, timeout=120)
            info = json.loads(subprocess.run(["rbd", "-c", conf, "info", "--format", "json",
                                              key], check=True, capture_output=True,
                                             timeout=120).stdout)
            assert info["flags"] == [], (key, info["flags"], SEED)

    listing = json.dumps({"expected": expected})
    for reader in ("librbd", "rbdpy"):
        found = _driver(reader, "verify", "--conf", conf, stdin=listing)["found"]
        for key, want in expected.items():
            assert found[key]["head"] == want["head"], (reader, key, SEED)
            assert found[key]["snaps"] == want["snaps"], (reader, key, SEED)
