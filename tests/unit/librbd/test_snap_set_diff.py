"""LIST_SNAPS → changed object ranges (rbdpy.librbd.diff.snap_set_diff / object_delta),
case by case; the oracle comparison with python-rbd on live histories is
tests/integration/test_rbd_diff.py::test_randomized_parity_with_python_rbd."""

from __future__ import annotations

from rbdpy.librbd.diff import object_delta, snap_set_diff
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.ops import CloneInfo, ObjListSnapResponse

HEAD = CEPH_NOSNAP
OBJ = 4 << 20


def head(size: int) -> CloneInfo:
    return CloneInfo(HEAD, [], [], size)


def test_created_after_the_start_snapshot() -> None:
    ss = ObjListSnapResponse([head(100)], seq=5)
    assert snap_set_diff(ss, 3, HEAD) == ([(0, 100)], 100, True, False)
    assert object_delta(ss, 3, HEAD, (0, OBJ), False, OBJ) == [(0, 100, True)]


def test_what_the_clone_shares_with_the_head_is_no_change() -> None:
    ss = ObjListSnapResponse([CloneInfo(4, [3, 4], [(0, 40), (60, 40)], 100), head(100)],
                             seq=4)
    assert snap_set_diff(ss, 3, HEAD).ranges == [(40, 60)]
    assert object_delta(ss, 3, HEAD, (0, OBJ), False, OBJ) == [(40, 20, True)]
    # clipped to the requested object range; whole-object spreads to all of it
    assert object_delta(ss, 3, HEAD, (50, 5), False, OBJ) == [(50, 5, True)]
    assert object_delta(ss, 3, HEAD, (0, 1000), True, OBJ) == [(0, 1000, True)]
    # nothing changed between the snapshots the clone serves
    assert snap_set_diff(ss, 3, 4).ranges == []


def test_deleted_since_the_start_is_zeroed() -> None:
    ss = ObjListSnapResponse([CloneInfo(4, [3, 4], [], 100)], seq=4)
    assert snap_set_diff(ss, 3, HEAD) == ([(0, 100)], 0, False, False)
    assert object_delta(ss, 3, HEAD, (0, OBJ), False, OBJ) == [(0, 100, False)]
    # from the beginning an object that is gone now reports nothing
    assert object_delta(ss, 0, HEAD, (0, OBJ), False, OBJ) == []


def test_a_shrink_is_zeroed_and_a_truncated_tail_counts_as_changed() -> None:
    # clone 4 was 200 bytes; the head was cut to 100 (the first 100 unchanged) and ...
    ss = ObjListSnapResponse([CloneInfo(4, [4], [(0, 100)], 200), head(100)], seq=4)
    # ... Pacific's librados counts [100, 200) as changed; the object shrank below its
    # size at the start, so that part is a zeroed range
    assert snap_set_diff(ss, 4, HEAD) == ([(100, 200)], 100, True, False)
    assert object_delta(ss, 4, HEAD, (0, OBJ), False, OBJ) == [(100, 100, False)]
    # from the beginning: the head's 100 bytes, plus the tail as data (what Pacific's
    # librbd reports too)
    assert object_delta(ss, 0, HEAD, (0, OBJ), False, OBJ) == [(0, 200, True)]


def test_a_snap_set_without_snaps_is_the_whole_object() -> None:
    ss = ObjListSnapResponse([CloneInfo(4, [], [], 100), head(100)], seq=4)
    assert snap_set_diff(ss, 3, HEAD).whole_object
    assert object_delta(ss, 3, HEAD, (0, OBJ), False, OBJ) == [(0, OBJ, True)]


def test_an_object_that_never_existed_reports_nothing() -> None:
    assert object_delta(None, 0, HEAD, (0, OBJ), True, OBJ) == []
