"""Test-session wiring: markers, the corpus location, and the session devcluster.

Integration tests (``@pytest.mark.cluster``) run against ONE real Ceph cluster per test run,
started here with ``rbdpy devcluster`` (or the one named by ``RBDPY_TEST_CONF``). Missing
Ceph daemons are an error naming the packages, never a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fix_cluster"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path:
    """The shared corpus of Ceph-encoded objects (RBDPY_CORPUS_DIR, else ../shared/corpus)."""
    return Path(os.environ.get("RBDPY_CORPUS_DIR", REPO_ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if not path.is_dir():
        pytest.skip(f"Ceph object corpus not found at {path} (set RBDPY_CORPUS_DIR)")
    return path
