"""Striping: image extents <-> object extents, against Ceph's own expectations.

Foreign expectations come from Ceph's src/test/test_striper.cc (Stripe1, EmptyPartialResult,
GetNumObj, GetFileOffset); the byte-exact proof against objects written by real librbd is
tests/integration/test_striping_live.py. Here we also check every extent against a naive
per-byte model and round-trip file -> objects -> file for random layouts.
"""

from __future__ import annotations

import errno

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rbdpy.striping.layout import (
    FileLayout,
    InvalidLayout,
    uses_fancy_striping,
    validate_order,
    validate_striping,
)
from rbdpy.striping.striper import (
    ObjectExtent,
    extent_to_file,
    file_to_extents,
    get_file_offset,
    get_num_objects,
)

KiB = 1024
MiB = 1024 * KiB


def naive_locate(layout: FileLayout, off: int) -> tuple[int, int]:
    """Where image byte ``off`` lives, by walking whole object sets (independent model)."""
    su, sc, os_ = layout.stripe_unit, layout.stripe_count, layout.object_size
    set_bytes = sc * os_
    objset, within = divmod(off, set_bytes)
    row, col_off = divmod(within, su * sc)  # row = stripe inside the object set
    col, in_unit = divmod(col_off, su)
    return objset * sc + col, row * su + in_unit


# -- Ceph's test_striper.cc ---------------------------------------------------------------

def test_ceph_stripe1() -> None:
    layout = FileLayout(stripe_unit=4096, stripe_count=3, object_size=262144)
    ex = file_to_extents(layout, 5006035, 46419)
    assert len(ex) == 3
    assert [e.objectno for e in ex] == sorted(e.objectno for e in ex)
    assert sum(e.length for e in ex) == 46419


def test_ceph_empty_partial_result() -> None:
    layout = FileLayout(4 * MiB, 1, 4 * MiB)
    ex = file_to_extents(layout, 725549056, 131072)
    assert [(e.objectno, e.offset, e.length, e.buffer_extents) for e in ex] == [
        (172, 4128768, 65536, [(0, 65536)]),
        (173, 0, 65536, [(65536, 65536)]),
    ]


def test_ceph_get_num_objects() -> None:
    layout = FileLayout(4096, 3, 262144)
    assert get_num_objects(layout, 6999) == 2
    assert get_num_objects(layout, 793320) == 5
    assert get_num_objects(layout, 805608) == 6


def test_ceph_get_file_offset() -> None:
    layout = FileLayout(4096, 3, 262144)
    assert get_file_offset(layout, 100, 200000) == 26549568


# -- hand-worked table (FIELD_GUIDE §7.4 formulas) ------------------------------------------

TABLE: list[tuple[FileLayout, int, int, list[tuple[int, int, int, list[tuple[int, int]]]]]] = [
    # default 4 MiB objects: linear
    (FileLayout(4 * MiB, 1, 4 * MiB), 0, 4096, [(0, 0, 4096, [(0, 4096)])]),
    (FileLayout(4 * MiB, 1, 4 * MiB), 4 * MiB - 10, 20,
     [(0, 4 * MiB - 10, 10, [(0, 10)]), (1, 0, 10, [(10, 10)])]),
    # stripe count 1 with a small unit is still linear and Ceph resets su to os, so an
    # object gets ONE buffer extent, not one per unit.
    (FileLayout(64 * KiB, 1, 256 * KiB), 10, 300 * KiB,
     [(0, 10, 256 * KiB - 10, [(0, 256 * KiB - 10)]),
      (1, 0, 44 * KiB + 10, [(256 * KiB - 10, 44 * KiB + 10)])]),
    # su 64K, sc 4, os 256K: units go 0,1,2,3,0,1,2,3,... within an object set of 1 MiB
    (FileLayout(64 * KiB, 4, 256 * KiB), 0, 320 * KiB,
     [(0, 0, 128 * KiB, [(0, 64 * KiB), (256 * KiB, 64 * KiB)]),
      (1, 0, 64 * KiB, [(64 * KiB, 64 * KiB)]),
      (2, 0, 64 * KiB, [(128 * KiB, 64 * KiB)]),
      (3, 0, 64 * KiB, [(192 * KiB, 64 * KiB)])]),
    # crossing into the second object set (objects 4..7)
    (FileLayout(64 * KiB, 4, 256 * KiB), 1 * MiB - 100, 200,
     [(3, 256 * KiB - 100, 100, [(0, 100)]), (4, 0, 100, [(100, 100)])]),
]


@pytest.mark.parametrize(("layout", "off", "length", "expected"), TABLE)
def test_table(layout: FileLayout, off: int, length: int,
               expected: list[tuple[int, int, int, list[tuple[int, int]]]]) -> None:
    got = file_to_extents(layout, off, length)
    assert [(e.objectno, e.offset, e.length, e.buffer_extents) for e in got] == expected


def test_buffer_offset_shifts_buffer_extents() -> None:
    layout = FileLayout(64 * KiB, 4, 256 * KiB)
    plain = file_to_extents(layout, 5000, 300 * KiB)
    shifted = file_to_extents(layout, 5000, 300 * KiB, buffer_offset=777)
    for a, b in zip(plain, shifted, strict=True):
        assert (a.objectno, a.offset, a.length) == (b.objectno, b.offset, b.length)
        assert [(o + 777, n) for o, n in a.buffer_extents] == b.buffer_extents


def test_zero_length_and_negative() -> None:
    assert file_to_extents(FileLayout(4096, 2, 8192), 123, 0) == []
    assert extent_to_file(FileLayout(4096, 2, 8192), 1, 5, 0) == []
    with pytest.raises(ValueError):
        file_to_extents(FileLayout(4096, 2, 8192), -1, 5)


def test_extent_to_file_table() -> None:
    layout = FileLayout(64 * KiB, 4, 256 * KiB)
    # object 0 holds units 0, 4, 8, 12 of the first object set
    assert extent_to_file(layout, 0, 60 * KiB, 8 * KiB) == [
        (60 * KiB, 4 * KiB), (256 * KiB, 4 * KiB)]
    assert extent_to_file(layout, 5, 0, 64 * KiB) == [(1 * MiB + 64 * KiB, 64 * KiB)]


def test_num_objects_simple() -> None:
    default = FileLayout.for_image(22)
    assert get_num_objects(default, 0) == 0
    assert get_num_objects(default, 1) == 1
    assert get_num_objects(default, 64 * MiB) == 16
    assert get_num_objects(default, 64 * MiB + 1) == 17
    fancy = FileLayout(64 * KiB, 8, 4 * MiB)
    assert get_num_objects(fancy, 64 * KiB * 3) == 3
    assert get_num_objects(fancy, 32 * MiB) == 8
    assert get_num_objects(fancy, 32 * MiB + 1) == 9


# -- properties over random layouts ---------------------------------------------------------

layouts = st.builds(
    lambda order, su_shift, sc: FileLayout(1 << max(order - su_shift, 0), sc, 1 << order),
    st.integers(4, 12), st.integers(0, 4), st.integers(1, 6))


def _check_against_model(layout: FileLayout, off: int, length: int,
                         extents: list[ObjectExtent], buffer_offset: int) -> None:
    assert [e.objectno for e in extents] == sorted({e.objectno for e in extents})
    seen = 0
    covered: list[tuple[int, int]] = []
    for ex in extents:
        assert 0 <= ex.offset and ex.offset + ex.length <= layout.object_size
        assert sum(n for _, n in ex.buffer_extents) == ex.length
        obj_pos = ex.offset
        for boff, n in ex.buffer_extents:
            covered.append((boff, n))
            for k in (0, n - 1):  # both ends of each piece
                img = off + boff - buffer_offset + k
                assert naive_locate(layout, img) == (ex.objectno, obj_pos + k)
            obj_pos += n
        seen += ex.length
        # the inverse map yields exactly the same image pieces, in object order
        back = extent_to_file(layout, ex.objectno, ex.offset, ex.length)
        joined = [(off + b - buffer_offset, n) for b, n in ex.buffer_extents]
        assert _merge(back) == _merge(joined)
    assert seen == length
    covered.sort()
    pos = buffer_offset
    for boff, n in covered:
        assert boff == pos
        pos += n
    assert pos == buffer_offset + length


def _merge(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for o, n in pieces:
        if out and out[-1][0] + out[-1][1] == o:
            out[-1] = (out[-1][0], out[-1][1] + n)
        else:
            out.append((o, n))
    return out


@settings(max_examples=400, deadline=None)
@given(layouts, st.integers(0, 1 << 16), st.integers(0, 1 << 15), st.integers(0, 1000))
def test_file_to_extents_matches_model(layout: FileLayout, off: int, length: int,
                                       buffer_offset: int) -> None:
    extents = file_to_extents(layout, off, length, buffer_offset)
    _check_against_model(layout, off, length, extents, buffer_offset)


@settings(max_examples=300, deadline=None)
@given(layouts, st.integers(0, 40), st.data())
def test_extent_to_file_round_trip(layout: FileLayout, objectno: int,
                                   data: st.DataObject) -> None:
    off = data.draw(st.integers(0, layout.object_size - 1))
    length = data.draw(st.integers(1, layout.object_size - off))
    for img_off, n in extent_to_file(layout, objectno, off, length):
        assert get_file_offset(layout, objectno, off) == img_off
        back = file_to_extents(layout, img_off, n)
        assert [(e.objectno, e.offset, e.length) for e in back] == [(objectno, off, n)]
        off += n


@settings(max_examples=300, deadline=None)
@given(layouts, st.integers(0, 1 << 16))
def test_num_objects_matches_model(layout: FileLayout, size: int) -> None:
    touched = {naive_locate(layout, b)[0] for b in range(0, size, layout.stripe_unit)}
    if size:
        touched.add(naive_locate(layout, size - 1)[0])
    assert get_num_objects(layout, size) == len(touched)
    assert touched == set(range(len(touched)))


# -- layout validation (librbd CreateRequest rules, checked with `rbd create`) ----------------

def test_layout_validation() -> None:
    with pytest.raises(InvalidLayout) as exc:
        FileLayout(3000, 2, 4 * MiB)
    assert exc.value.errno == errno.EINVAL and isinstance(exc.value, ValueError)
    with pytest.raises(InvalidLayout):
        FileLayout(0, 1, 4096)
    with pytest.raises(InvalidLayout):
        FileLayout(8192, 1, 4096)
    assert FileLayout.for_image(22) == FileLayout(4 * MiB, 1, 4 * MiB)
    assert FileLayout.for_image(22, 64 * KiB, 8) == FileLayout(64 * KiB, 8, 4 * MiB)
    assert FileLayout.for_image(22, 0, 8) == FileLayout(4 * MiB, 1, 4 * MiB)


@pytest.mark.parametrize(("order", "su", "sc", "err"), [
    # each row mirrors an `rbd create` run on Ceph 16.2.15 (see report): errno or 0
    (22, 512, 2, 0),
    (22, 1000, 2, errno.EINVAL),       # "stripe unit is not a factor of the object size"
    (22, 4096, 0, errno.EINVAL),       # "must specify both (or neither)"
    (22, 8 * MiB, 2, errno.EINVAL),
    (25, 64 * KiB, 3, 0),
    (22, 4 * MiB, 1, 0),
    (22, 1 * MiB, 1, 0),
    (11, 0, 0, errno.EDOM),            # --object-size 2K: order must be in [12, 25]
    (26, 0, 0, errno.EDOM),            # --object-size 64M
])
def test_create_validation(order: int, su: int, sc: int, err: int) -> None:
    try:
        validate_order(order)
        validate_striping(order, su, sc)
    except InvalidLayout as e:
        assert e.errno == err
    else:
        assert err == 0


def test_fancy_striping_flag() -> None:
    # `rbd info` on Ceph 16.2.15: su 1M sc 1 -> "striping" feature; su 4M sc 1 -> not.
    assert uses_fancy_striping(22, 1 * MiB, 1)
    assert not uses_fancy_striping(22, 4 * MiB, 1)
    assert not uses_fancy_striping(22, 0, 0)
    assert uses_fancy_striping(22, 512, 2)
