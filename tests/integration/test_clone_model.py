"""Issue #16: a seeded random walk over clone chains, checked against a model and librbd.

tests/integration/clone_model_driver.py does the walk (clones v1 and v2 up to three levels,
a striped parent, a parent in a second pool, writes, discards, write_zeroes, resizes,
snapshots, flattens; every read compared with an in-memory model) with either library. The
same script runs on librbd (python3-rbd under /usr/bin/python3) to keep the model honest,
and on rbdpy, with the same seed, in two pools each. After each walk every image and
snapshot is read back whole by both libraries, and all sha256s must equal the model's; then
``rbd object-map check`` must judge rbdpy's object maps exactly as it judges librbd's after
the same walk.

The seed is ``RBDPY_CLONE_MODEL_SEED`` (default 2026); a failure prints it with the last
operations, and the driver replays it by hand:
``.venv/bin/python tests/integration/clone_model_driver.py run --impl rbdpy --conf C
--pools A,B --seed N``.
"""

from __future__ import annotations

import json
import os
import re
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
def more_pools(cluster: SessionCluster) -> Iterator[list[str]]:
    """Three more RBD pools: each walk uses two, so parents and children live apart."""
    control = cluster.control or DevCluster(cluster.conf.parent)
    made: list[str] = []
    try:
        for _ in range(3):
            name = f"t-{uuid.uuid4().hex[:10]}"
            control.pool_create(name)
            made.append(name)
        yield made
    finally:
        for name in made:
            control.pool_delete(name)


def _driver(impl: str, *args: str, stdin: str | None = None) -> dict[str, Any]:
    proc = subprocess.run([PYTHONS[impl], str(DRIVER), *args, "--impl", impl],
                          input=stdin, capture_output=True, text=True, timeout=240)
    lines = proc.stdout.strip().splitlines()
    out: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    assert "mismatch" not in out, f"{impl}, seed {SEED}: {out['mismatch']}"
    assert proc.returncode == 0, f"{impl}, seed {SEED}:\n{proc.stderr[-4000:]}"
    return out


def _object_map_verdicts(conf: str, keys: list[str]) -> dict[str, list[str]]:
    """What ``rbd object-map check`` says of each image: its complaints, with the object
    named by number only (image ids differ between the two walks)."""
    verdicts = {}
    for key in keys:
        cp = subprocess.run(["rbd", "-c", conf, "object-map", "check", "--no-progress", key],
                            capture_output=True, text=True, timeout=120)
        complaints = [m.group(1) + m.group(2) for m in _OM_ERROR.finditer(cp.stderr)]
        verdicts[key] = [f"rc {cp.returncode}", *sorted(complaints)]
    return verdicts


_OM_ERROR = re.compile(r"object map error: object rbd_data\.(?:\d+\.)?[0-9a-f]+\.([0-9a-f]+)"
                       r"( marked as \d+, but should be \d+)")


def _relative(pools: list[str], keyed: dict[str, Any]) -> dict[str, Any]:
    """Keys ``pool/name`` as ``0/name`` / ``1/name``: the walks' pools differ, names not."""
    return {f"{pools.index(k.partition('/')[0])}/{k.partition('/')[2]}": v
            for k, v in keyed.items()}


def test_clone_walk_matches_the_model(cluster: SessionCluster, pool: str,
                                      more_pools: list[str]) -> None:
    conf = str(cluster.conf)
    outcome: dict[str, tuple[Any, Any]] = {}
    for writer, pools in (("librbd", [pool, more_pools[0]]), ("rbdpy", more_pools[1:])):
        ran = _driver(writer, "run", "--conf", conf, "--pools", ",".join(pools),
                      "--seed", str(SEED), "--ops", str(OPS), "--budget", str(BUDGET_S))
        expected = ran["expected"]
        assert ran["ops"] > 100, ran["ops"]
        assert any(e["parent"] for e in expected.values()), "every clone got flattened"
        listing = json.dumps({"expected": expected})
        for reader in ("librbd", "rbdpy"):
            found = _driver(reader, "verify", "--conf", conf, stdin=listing)["found"]
            for key, want in expected.items():
                assert found[key]["head"] == want["head"], (writer, reader, key, SEED)
                assert found[key]["snaps"] == want["snaps"], (writer, reader, key, SEED)
        hashes = {k: (e["head"], e["snaps"]) for k, e in expected.items()}
        outcome[writer] = (_relative(pools, hashes),
                           _relative(pools, _object_map_verdicts(conf, list(expected))))
    # The same seed is the same walk: the same model, and object maps librbd's check judges
    # alike (librbd's own walk leaves some objects EXISTS where the check wants
    # EXISTS_CLEAN; rbdpy must leave exactly those).
    assert outcome["rbdpy"][0] == outcome["librbd"][0], SEED
    assert outcome["rbdpy"][1] == outcome["librbd"][1], SEED
