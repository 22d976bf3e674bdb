"""Pure pieces of the trash: python-rbd's entry dicts, the progress verdicts a removal
obeys, and the CLI's spec parsing. The live behaviour is tests/integration/test_trash.py."""

from __future__ import annotations

import datetime
import errno

import pytest
import trio

from rbdpy.cli.trash_ns import _split
from rbdpy.format.types import TrashImageSource, TrashImageSpec, TrashImageState
from rbdpy.librbd.image_remove import report_progress
from rbdpy.librbd.trash import entry_dict
from rbdpy.rados.proto.errors import CephError


def test_entry_dict_is_python_rbds_shape() -> None:
    spec = TrashImageSpec(TrashImageSource.USER, "vm1", (1_700_000_000, 5), (1_700_000_060, 5),
                          TrashImageState.NORMAL)
    assert entry_dict("abc", spec) == {
        "id": "abc", "name": "vm1", "source": "USER",
        "deletion_time": datetime.datetime(2023, 11, 14, 22, 13, 20),
        "deferment_end_time": datetime.datetime(2023, 11, 14, 22, 14, 20),
    }


@pytest.mark.parametrize(("source", "text"), [
    (TrashImageSource.MIRRORING, "MIRRORING"), (TrashImageSource.MIGRATION, "MIGRATION"),
    (TrashImageSource.REMOVING, "REMOVING"), (TrashImageSource.USER_PARENT, "USER_PARENT"),
    (9, "9"),
])
def test_entry_dict_sources(source: int, text: str) -> None:
    assert entry_dict("i", TrashImageSpec(source, "n"))["source"] == text


@pytest.mark.parametrize("verdict", [None, 0, 1, True, "x", -0])
def test_progress_that_does_not_cancel(verdict: object) -> None:
    seen: list[tuple[int, int]] = []

    def cb(done: int, total: int) -> object:
        seen.append((done, total))
        return verdict

    trio.run(report_progress, cb, 2, 5)
    assert seen == [(2, 5)]


def test_negative_progress_cancels_with_that_errno() -> None:
    async def cancel(done: int, total: int) -> int:  # a coroutine callback works too
        return -errno.ECANCELED

    with pytest.raises(CephError) as info:
        trio.run(report_progress, cancel, 0, 4)
    assert info.value.errno == errno.ECANCELED


@pytest.mark.parametrize(("spec", "leaf", "expected"), [
    ("rbd/ns/abc", True, ("rbd", "ns", "abc")),
    ("rbd/abc", True, ("rbd", "", "abc")),
    ("abc", True, ("dflt", "", "abc")),
    ("rbd/ns", False, ("rbd", "ns", "")),
    ("rbd", False, ("rbd", "", "")),
    ("", False, ("dflt", "", "")),
])
def test_cli_specs(spec: str, leaf: bool, expected: tuple[str, str, str]) -> None:
    assert _split(spec, "dflt", leaf) == expected
