"""The session devcluster fixture.

One cluster serves the whole test run: started on first use by a test that asks for it and
stopped at the end, or — when ``RBDPY_TEST_CONF`` names a ceph.conf — an existing cluster is
used as is (and left running).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rbdpy.devcluster import DevCluster, missing_packages


@dataclass
class SessionCluster:
    """What integration tests get: the conf path, and daemon control when we own it."""

    conf: Path
    keyring: Path
    control: DevCluster | None

    def devcluster(self) -> DevCluster:
        if self.control is None:
            pytest.skip("RBDPY_TEST_CONF names a cluster that is not a devcluster")
        return self.control


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SessionCluster]:
    conf = os.environ.get("RBDPY_TEST_CONF")
    if conf:
        path = Path(conf).absolute()
        control = DevCluster(path.parent) if (path.parent / "devcluster.json").exists() \
            else None
        yield SessionCluster(path, path.parent / "keyring", control)
        return
    missing = missing_packages()
    if missing:
        pytest.fail("the Ceph daemons are not installed; as root run: apt-get install -y "
                    + " ".join(missing), pytrace=False)
    cl = DevCluster(tmp_path_factory.mktemp("devcluster") / "cl")
    # A mgr too: cluster stats (`ceph -s` data, statfs) come from its PGMap digest.
    cl.start(osds=3, mgr=True)
    try:
        yield SessionCluster(cl.conf_path, cl.keyring_path, cl)
    finally:
        cl.stop()


@pytest.fixture(scope="session")
def ceph_conf(cluster: SessionCluster) -> str:
    """Path of the session cluster's ceph.conf (client.admin keyring beside it)."""
    return str(cluster.conf)


def _fresh_pool(cluster: SessionCluster) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    # An external cluster is driven through the same CLI helpers (DIR/ceph.conf).
    cl = cluster.control or DevCluster(cluster.conf.parent)
    cl.pool_create(name)
    try:
        yield name
    finally:
        cl.pool_delete(name)


@pytest.fixture
def pool(cluster: SessionCluster) -> Iterator[str]:
    """A fresh RBD pool for one test, deleted afterwards."""
    yield from _fresh_pool(cluster)


@pytest.fixture
def second_pool(cluster: SessionCluster) -> Iterator[str]:
    """Another fresh pool for the same test (cross-pool parents, migration targets, a
    second run of a parity script), deleted afterwards."""
    yield from _fresh_pool(cluster)
