"""Test-session wiring: markers, the test data (corpus, vectors), and the session devcluster.

Integration tests (``@pytest.mark.cluster``) run against ONE real Ceph cluster per test run,
started here with ``rbdpy devcluster`` (or the one named by ``RBDPY_TEST_CONF``). Missing
Ceph daemons are an error naming the packages, never a skip.

The unit tests check decoders against foreign bytes: the shared Ceph object corpus
(``../shared/corpus`` beside the repository, or ``RBDPY_CORPUS_DIR``) and tests/vectors. A
run that collects unit tests without that data stops before running anything, naming what
is missing — without it about 700 tests would skip and the run would look green.
``RBDPY_ALLOW_MISSING_CORPUS=1`` allows such a run on purpose (the tests then skip).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fix_cluster"]

REPO_ROOT = Path(__file__).resolve().parent.parent
VECTORS_DIR = REPO_ROOT / "tests" / "vectors"
ALLOW_MISSING_ENV = "RBDPY_ALLOW_MISSING_CORPUS"
# Every vector set some unit test reads (each has its README or generator under tools/).
VECTOR_SETS = ("cephx", "cls_rbd", "cls_rbd_calls", "crush", "librbd_notify", "mon_messages",
               "msgr2", "object_map", "osd", "osdmap")
# Test directories whose tests read the corpus or the vectors.
DATA_USERS = (REPO_ROOT / "tests" / "unit",)


def corpus_dir() -> Path:
    """The shared corpus of Ceph-encoded objects (RBDPY_CORPUS_DIR, else ../shared/corpus)."""
    return Path(os.environ.get("RBDPY_CORPUS_DIR", REPO_ROOT.parent / "shared" / "corpus"))


def missing_test_data() -> list[str]:
    """What of the corpus and tests/vectors is absent, one line each (empty: all there)."""
    missing = []
    corpus = corpus_dir()
    if not any(corpus.glob("*/objects/*")):
        missing.append(f"the Ceph object corpus: no <release>/objects/<type>/ under {corpus}"
                       " (put shared/ beside the repository, or set RBDPY_CORPUS_DIR)")
    for name in VECTOR_SETS:
        if not any((VECTORS_DIR / name).glob("*")):
            missing.append(f"test vectors: {VECTORS_DIR / name} is missing or empty")
    return missing


def missing_data_allowed() -> bool:
    return os.environ.get(ALLOW_MISSING_ENV, "") not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if missing_data_allowed():
        return
    if not any(item.path.is_relative_to(d) for item in items for d in DATA_USERS):
        return
    missing = missing_test_data()
    if missing:
        raise pytest.UsageError(
            "the unit tests' foreign test data is missing, so hundreds of tests would skip:\n  "
            + "\n  ".join(missing)
            + f"\n(set {ALLOW_MISSING_ENV}=1 to run without it on purpose)")


def pytest_report_header(config: pytest.Config) -> list[str]:
    missing = missing_test_data() if missing_data_allowed() else []
    return [f"{ALLOW_MISSING_ENV} is set and test data is missing, so tests skip: {m}"
            for m in missing]


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if not path.is_dir():
        if missing_data_allowed():
            pytest.skip(f"Ceph object corpus not found at {path} ({ALLOW_MISSING_ENV} is set)")
        pytest.fail(f"Ceph object corpus not found at {path} (set RBDPY_CORPUS_DIR)",
                    pytrace=False)
    return path
