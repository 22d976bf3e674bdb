"""The `rbdpy` image commands, checked against the `rbd` CLI on the same images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster


def rbdpy(conf: Path, *args: str, stdin: bytes | None = None) -> bytes:
    cp = subprocess.run([sys.executable, "-m", "rbdpy.cli.main", "-c", str(conf), *args],
                        input=stdin, capture_output=True, timeout=300)
    assert cp.returncode == 0, cp.stderr.decode()
    return cp.stdout


def test_create_info_import_export_rm(cluster: SessionCluster, pool: str,
                                      tmp_path: Path) -> None:
    conf = cluster.conf
    rbdpy(conf, "create", "--size", "24M", "--object-size", "1M", f"{pool}/made")
    info = json.loads(subprocess.run(["rbd", "-c", str(conf), "info", f"{pool}/made",
                                      "--format", "json"], check=True, capture_output=True,
                                     text=True, timeout=60).stdout)
    ours = json.loads(rbdpy(conf, "info", f"{pool}/made", "--format", "json"))
    for key in ("size", "order", "object_size", "block_name_prefix", "id"):
        assert ours[key] == info[key], key
    assert sorted(ours["features"]) == sorted(info["features"])
    data = os.urandom(3 << 20) + bytes(2 << 20) + os.urandom(12345)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    rbdpy(conf, "import", str(src), f"{pool}/imported")
    exported = subprocess.run(["rbd", "-c", str(conf), "export", f"{pool}/imported", "-"],
                              check=True, capture_output=True, timeout=120).stdout
    assert exported == data
    assert rbdpy(conf, "export", f"{pool}/imported", "-") == data
    listed = json.loads(rbdpy(conf, "ls", pool, "--format", "json"))
    assert listed == ["imported", "made"]
    rbdpy(conf, "rm", f"{pool}/made")
    rbdpy(conf, "rm", f"{pool}/imported")
    assert json.loads(rbdpy(conf, "ls", pool, "--format", "json")) == []


def test_diff_output_is_rbds(cluster: SessionCluster, pool: str) -> None:
    """`rbdpy diff` prints what `rbd diff` prints (table and JSON), holes included."""
    conf = cluster.conf

    def rbd(*args: str) -> bytes:
        return subprocess.run(["rbd", "-c", str(conf), *args], check=True,
                              capture_output=True, timeout=120).stdout

    spec = f"{pool}/d"
    rbd("create", "--size", "16M", spec)
    rbd("bench", "--io-type", "write", "--io-size", "4K", "--io-total", "64K",
        "--io-pattern", "rand", spec)
    rbd("snap", "create", f"{spec}@a")
    rbd("resize", "--allow-shrink", "--size", "6M", spec)
    rbd("resize", "--size", "16M", spec)  # what the shrink cut off reads as zeros now
    rbd("bench", "--io-type", "write", "--io-size", "4K", "--io-total", "16K", spec)
    for args in ([spec], [spec, "--from-snap", "a"], [spec, "--from-snap", "a",
                                                      "--whole-object"],
                 [f"{spec}@a", "--format", "json"], [spec, "--format", "json",
                                                     "--from-snap", "a"]):
        assert rbdpy(conf, "diff", *args) == rbd("diff", *args), args
    assert b"zero" in rbd("diff", spec, "--from-snap", "a")
