"""The object-map diff's state machine (rbdpy.librbd.diff.diff_states), case by case as
librbd's DiffRequest tests state them for diff-iterate; the live comparison with
``rbd diff --whole-object`` is tests/integration/test_rbd_diff.py."""

from __future__ import annotations

import pytest

from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    OBJECT_PENDING,
)
from rbdpy.librbd.diff import (
    DIFF_DATA,
    DIFF_DATA_UPDATED,
    DIFF_HOLE,
    DIFF_HOLE_UPDATED,
    diff_states,
)

NONE, EX, CLEAN, PEND = OBJECT_NONEXISTENT, OBJECT_EXISTS, OBJECT_EXISTS_CLEAN, OBJECT_PENDING
ALL = (NONE, EX, PEND, CLEAN)


@pytest.mark.parametrize("intermediate", ALL)
@pytest.mark.parametrize("end", ALL)
def test_from_the_beginning_only_the_end_counts(intermediate: int, end: int) -> None:
    expected = DIFF_HOLE if end == NONE else DIFF_DATA_UPDATED
    assert diff_states([[intermediate], [end]], from_snapshot=False) == [expected]
    assert diff_states([[end]], from_snapshot=False) == [expected]


@pytest.mark.parametrize(("start", "end", "expected"), [
    (NONE, NONE, DIFF_HOLE),
    (NONE, EX, DIFF_DATA_UPDATED),
    (NONE, CLEAN, DIFF_DATA_UPDATED),
    (NONE, PEND, DIFF_DATA_UPDATED),
    (EX, NONE, DIFF_HOLE_UPDATED),
    (EX, EX, DIFF_DATA_UPDATED),  # written again since the start snapshot
    (EX, CLEAN, DIFF_DATA),  # untouched: the start snapshot made it clean
    (EX, PEND, DIFF_DATA_UPDATED),
    (CLEAN, CLEAN, DIFF_DATA),
    (PEND, CLEAN, DIFF_DATA_UPDATED),  # pending at the start counts as updated
    (PEND, NONE, DIFF_HOLE_UPDATED),
])
def test_from_a_snapshot(start: int, end: int, expected: int) -> None:
    assert diff_states([[start], [end]], from_snapshot=True) == [expected]


def test_intermediate_snapshots_carry_the_state() -> None:
    # removed then written again: data; written then removed: a new hole; a hole that
    # only existed in between stays a hole
    maps = [[EX, NONE, NONE], [NONE, EX, EX], [EX, NONE, NONE]]
    assert diff_states(maps, from_snapshot=True) == [
        DIFF_DATA_UPDATED, DIFF_HOLE, DIFF_HOLE]
    maps = [[EX, EX], [CLEAN, EX], [CLEAN, CLEAN]]
    assert diff_states(maps, from_snapshot=True) == [DIFF_DATA, DIFF_DATA_UPDATED]


def test_growth_and_shrink_follow_each_map() -> None:
    # grown after the start: new objects are holes until the end, where present ones are
    # new data; a shrink drops the objects it cut off
    assert diff_states([[CLEAN], [CLEAN, EX, NONE]], from_snapshot=True) == [
        DIFF_DATA, DIFF_DATA_UPDATED, DIFF_HOLE]
    assert diff_states([[CLEAN], [CLEAN, EX], [CLEAN, CLEAN, EX]], from_snapshot=True) == [
        DIFF_DATA, DIFF_DATA_UPDATED, DIFF_DATA_UPDATED]
    assert diff_states([[CLEAN], [CLEAN, EX], [CLEAN, NONE]], from_snapshot=True) == [
        DIFF_DATA, DIFF_HOLE]
    assert diff_states([[EX, EX, EX], [CLEAN]], from_snapshot=True) == [DIFF_DATA]
