"""Pure parts of rbdpy.librbd.snapshots: python-rbd's argument coercion, and (from
rbdpy.librbd.snap_remove) the in-memory fast-diff fold of a removed snapshot's object map
into HEAD's."""

from __future__ import annotations

import pytest

from rbdpy.format.constants import (
    OBJECT_EXISTS,
    OBJECT_EXISTS_CLEAN,
    OBJECT_NONEXISTENT,
    OBJECT_PENDING,
)
from rbdpy.format.object_map import BitVector
from rbdpy.librbd import exceptions as rbdx
from rbdpy.librbd.snap_remove import fold_into_head as _fold_into_head
from rbdpy.librbd.snapshots import (
    UINT64_MAX,
    _as_snap_id,
    _as_uint32,
    _name_arg,
)


def _bits(states: list[int]) -> BitVector:
    bv = BitVector()
    bv.object_map_resize(len(states), OBJECT_NONEXISTENT)
    for i, s in enumerate(states):
        bv[i] = s
    return bv


def test_fold_into_head() -> None:
    # object_map::SnapshotRemoveRequest::update_object_map: a HEAD entry clean since the
    # removed snapshot stays clean only if it was clean there too; entries past the
    # snapshot map's end (the image grew) become dirty.
    head = _bits([OBJECT_EXISTS_CLEAN, OBJECT_EXISTS_CLEAN, OBJECT_EXISTS,
                  OBJECT_NONEXISTENT, OBJECT_EXISTS_CLEAN, OBJECT_PENDING])
    snap = _bits([OBJECT_EXISTS, OBJECT_EXISTS_CLEAN, OBJECT_EXISTS_CLEAN,
                  OBJECT_EXISTS])
    _fold_into_head(head, snap)
    assert [head[i] for i in range(len(head))] == [
        OBJECT_EXISTS, OBJECT_EXISTS_CLEAN, OBJECT_EXISTS, OBJECT_NONEXISTENT,
        OBJECT_EXISTS, OBJECT_PENDING]


def test_name_arg() -> None:
    assert _name_arg("s1", "name") == b"s1"
    assert _name_arg(b"s1", "name") == b"s1"
    with pytest.raises(rbdx.InvalidArgument, match="name must be a string"):
        _name_arg(5, "name")


def test_uint32_flags() -> None:
    assert _as_uint32(3) == 3
    with pytest.raises(OverflowError, match="negative value to uint32_t"):
        _as_uint32(-1)
    with pytest.raises(OverflowError, match="too large to convert to uint32_t"):
        _as_uint32(1 << 32)
    with pytest.raises(TypeError):
        _as_uint32("1")


def test_signed_snap_ids() -> None:
    # python-rbd's snap_get_name / set_snap_by_id take negative ids (then: not found)
    assert _as_snap_id(-1) == (-1, UINT64_MAX)
    assert _as_snap_id(7) == (7, 7)
    with pytest.raises(TypeError, match="an integer is required"):
        _as_snap_id("x")
