"""Issue "Clones and layering": clones made by librbd (the ``rbd`` CLI) as seen by rbdpy."""

from __future__ import annotations

import subprocess

import pytest

from rbdpy import rados, rbd
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster


def _rbd(cluster: SessionCluster, *args: str) -> str:
    return subprocess.run(["rbd", "-c", str(cluster.conf), *args], check=True,
                          capture_output=True, text=True, timeout=120).stdout


def test_a_clone_is_refused_not_read_as_zeros(cluster: SessionCluster, pool: str) -> None:
    subprocess.run(["rbd", "-c", str(cluster.conf), "import", "-", f"{pool}/golden-data"],
                   input=b"\x5a" * (1 << 20), check=True, capture_output=True, timeout=120)
    _rbd(cluster, "snap", "create", f"{pool}/golden-data@base")
    _rbd(cluster, "clone", "--rbd-default-clone-format", "2", f"{pool}/golden-data@base",
         f"{pool}/child")
    with rados.Rados(conffile=str(cluster.conf)) as r, r.open_ioctx(pool) as ioctx:
        with pytest.raises(NotImplementedError, match="layering"):
            rbd.Image(ioctx, "child")
        with pytest.raises(NotImplementedError, match="layering"):
            rbd.Image(ioctx, "child", read_only=True)
        # the parent itself opens and reads as before
        with rbd.Image(ioctx, "golden-data", read_only=True) as parent:
            assert parent.read(0, 4) == b"\x5a" * 4
