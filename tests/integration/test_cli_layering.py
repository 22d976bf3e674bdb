"""`rbdpy clone`, `flatten`, `children` and `info`'s parent lines, against the `rbd` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster


def rbdpy(conf: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[bytes]:
    cp = subprocess.run([sys.executable, "-m", "rbdpy.cli.main", "-c", str(conf), *args],
                        capture_output=True, timeout=300)
    if ok:
        assert cp.returncode == 0, (args, cp.stderr.decode())
    return cp


def rbd(conf: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(["rbd", "-c", str(conf), *args], input=stdin, check=True,
                          capture_output=True, timeout=120).stdout


def parent_lines(text: bytes) -> list[str]:
    return [line for line in text.decode().splitlines()
            if line.startswith(("\tparent:", "\toverlap:"))]


def json_parent(raw: bytes) -> Any:
    return json.loads(raw).get("parent")


def assert_info_agrees(conf: Path, spec: str) -> None:
    ours, theirs = rbdpy(conf, "info", spec).stdout, rbd(conf, "info", spec)
    assert parent_lines(ours) == parent_lines(theirs), spec
    ours_json = json_parent(rbdpy(conf, "info", "--format", "json", spec).stdout)
    assert ours_json == json_parent(rbd(conf, "info", "--format", "json", spec)), spec


def test_info_and_children_print_what_rbd_prints(cluster: SessionCluster, pool: str,
                                                 second_pool: str) -> None:
    conf = cluster.conf
    # an odd size, so that the overlap prints with a fraction ("3.0 MiB")
    rbd(conf, "import", "-", f"{pool}/parent", stdin=os.urandom((3 << 20) + 12345))
    rbd(conf, "snap", "create", f"{pool}/parent@s")
    rbd(conf, "snap", "protect", f"{pool}/parent@s")
    rbd(conf, "namespace", "create", f"{second_pool}/ns")
    rbd(conf, "clone", "--rbd-default-clone-format", "1", f"{pool}/parent@s",
        f"{second_pool}/v1")
    rbd(conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/parent@s", f"{pool}/v2")
    rbd(conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/parent@s",
        f"{second_pool}/ns/inns")
    rbd(conf, "snap", "create", f"{pool}/v2@x")
    rbd(conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/v2@x", f"{pool}/grand")
    rbd(conf, "resize", "--allow-shrink", "--size", "1234567B", f"{pool}/grand")
    rbd(conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/parent@s", f"{pool}/gone")
    rbd(conf, "trash", "mv", f"{pool}/gone")

    for spec in (f"{second_pool}/v1", f"{pool}/v2", f"{second_pool}/ns/inns", f"{pool}/grand",
                 f"{pool}/v2@x", f"{pool}/parent"):
        assert_info_agrees(conf, spec)
    assert parent_lines(rbd(conf, "info", f"{pool}/grand")) == [
        f"\tparent: {pool}/v2@x", "\toverlap: 1.2 MiB"]

    for args in ([f"{pool}/parent@s"], [f"{pool}/parent"], ["--all", f"{pool}/parent@s"],
                 ["--descendants", f"{pool}/parent"],
                 ["--all", "--descendants", f"{pool}/parent@s"],
                 ["--format", "json", f"{pool}/parent@s"],
                 ["--all", "--format", "json", f"{pool}/parent@s"],
                 ["--all", "--descendants", "--format", "json", f"{pool}/parent"],
                 [f"{pool}/v2@x"], [f"{pool}/grand"]):
        assert rbdpy(conf, "children", *args).stdout == rbd(conf, "children", *args), args
    assert b"(trash " in rbd(conf, "children", "--all", f"{pool}/parent@s")

    # a parent that moved to the trash is named so in its child's info
    rbd(conf, "trash", "mv", f"{pool}/v2")
    assert parent_lines(rbd(conf, "info", f"{pool}/grand"))[0].endswith(")")
    assert_info_agrees(conf, f"{pool}/grand")


def test_flatten_prints_rbds_progress_and_detaches(cluster: SessionCluster,
                                                   pool: str) -> None:
    conf = cluster.conf
    data = os.urandom(6 << 20) + bytes(2 << 20)
    rbd(conf, "import", "--object-size", "1M", "-", f"{pool}/base", stdin=data)
    rbd(conf, "snap", "create", f"{pool}/base@s")
    rbd(conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/base@s", f"{pool}/kid")
    cp = rbdpy(conf, "flatten", f"{pool}/kid")
    assert cp.stdout == b""
    err = cp.stderr.decode()
    assert err.startswith("\rImage flatten: ") and err.endswith(
        "\rImage flatten: 100% complete...done.\n"), err
    assert "parent" not in json.loads(rbd(conf, "info", "--format", "json", f"{pool}/kid"))
    assert rbd(conf, "export", "--no-progress", f"{pool}/kid", "-") == data
    rbd(conf, "object-map", "check", "--no-progress", f"{pool}/kid")
    assert rbd(conf, "children", f"{pool}/base@s") == b""

    again = rbdpy(conf, "flatten", f"{pool}/kid", ok=False)
    assert again.returncode != 0
    assert again.stderr.decode().startswith("\rImage flatten: 0% complete...failed.\n")
    quiet = rbdpy(conf, "flatten", "--no-progress", f"{pool}/kid", ok=False)
    assert b"Image flatten" not in quiet.stderr


def test_clone_makes_what_rbd_clone_makes(cluster: SessionCluster, pool: str,
                                          second_pool: str) -> None:
    conf = cluster.conf
    data = os.urandom(5 << 20)
    rbd(conf, "import", "-", f"{pool}/gold", stdin=data)
    rbd(conf, "snap", "create", f"{pool}/gold@s")
    # format 1 needs a protected snapshot, in rbdpy as in rbd
    refused = rbdpy(conf, "clone", "--rbd-default-clone-format", "1", f"{pool}/gold@s",
                    f"{pool}/v1", ok=False)
    assert refused.returncode != 0 and b"clone" in refused.stderr
    rbdpy(conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/gold@s", f"{pool}/v2")
    rbd(conf, "snap", "protect", f"{pool}/gold@s")
    rbdpy(conf, "clone", "--rbd-default-clone-format", "1", "--object-size", "1M",
          "--stripe-unit", "512K", "--stripe-count", "2", f"{pool}/gold@s", f"{second_pool}/v1")
    rbdpy(conf, "clone", "--rbd-default-clone-format", "2", "--image-feature", "layering",
          "--data-pool", second_pool, f"{pool}/gold@s", f"{pool}/lean")

    info = {name: json.loads(rbd(conf, "info", "--format", "json", name))
            for name in (f"{pool}/v2", f"{second_pool}/v1", f"{pool}/lean")}
    assert info[f"{pool}/v2"]["op_features"] == ["clone-child"]
    assert info[f"{second_pool}/v1"]["op_features"] == []
    assert (info[f"{second_pool}/v1"]["order"], info[f"{second_pool}/v1"]["stripe_unit"],
            info[f"{second_pool}/v1"]["stripe_count"]) == (20, 512 << 10, 2)
    assert info[f"{pool}/lean"]["features"] == ["layering", "data-pool", "operations"]
    assert info[f"{pool}/lean"]["data_pool"] == second_pool
    for name, i in info.items():
        assert i["parent"]["image"] == "gold" and i["parent"]["snapshot"] == "s", name
        assert i["parent"]["overlap"] == 5 << 20, name
        assert rbd(conf, "export", "--no-progress", name, "-") == data, name
    assert sorted(rbd(conf, "children", f"{pool}/gold@s").decode().split()) == sorted(
        [f"{pool}/lean", f"{pool}/v2", f"{second_pool}/v1"])
