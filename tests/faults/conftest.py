"""The fault suite's own cluster: 3 bluestore OSDs with socket-failure injection.

Started once per test run, on first use by a test under tests/faults, and stopped when the
last of them is done (package scope: the rest of the suite does not share a machine with
its idle OSDs). Never the cluster named by RBDPY_TEST_CONF, which others share.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rbdpy.devcluster import missing_packages
from tests.faults.faultcluster import FaultCluster, start_fault_cluster


@pytest.fixture(scope="package")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCluster]:
    missing = missing_packages()
    if missing:
        pytest.fail("the Ceph daemons are not installed; as root run: apt-get install -y "
                    + " ".join(missing), pytrace=False)
    fc = start_fault_cluster(tmp_path_factory.mktemp("faultcluster") / "cl")
    try:
        yield fc
    finally:
        fc.control.stop()
