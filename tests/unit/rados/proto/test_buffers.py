"""Large receive buffers: recycled only once nothing outside the pool holds them."""

from __future__ import annotations

import gc

import pytest

from rbdpy.rados.proto.msgr2 import buffers

N = buffers.POOL_MIN_SIZE


def _fill(view: memoryview, byte: int) -> None:
    view[:] = bytes([byte]) * len(view)


@pytest.fixture()
def pool(monkeypatch: pytest.MonkeyPatch) -> buffers._RecyclingPool:
    # A pool of its own for each test: free buffers that other tests (or frames they
    # decoded) left in the shared pool would otherwise be handed out first.
    shared = buffers._pool
    if shared is None:
        pytest.skip("no recycling on this interpreter")
    fresh = buffers._RecyclingPool(shared._alloc, shared._reset_hash)
    monkeypatch.setattr(buffers, "_pool", fresh)
    return fresh


def test_a_dropped_buffer_is_reused(pool: buffers._RecyclingPool) -> None:
    obj, view = buffers.alloc_segment(N + 1)
    _fill(view, 1)
    first = id(obj)
    del obj, view
    gc.collect()
    obj2, view2 = buffers.alloc_segment(N + 1)
    assert id(obj2) == first  # the same object came back
    _fill(view2, 2)
    assert obj2 == b"\x02" * (N + 1)


def test_a_held_buffer_is_never_reused(pool: buffers._RecyclingPool) -> None:
    held, view = buffers.alloc_segment(N + 2)
    _fill(view, 7)
    # every way a caller keeps it: the object, a memoryview of it, a container
    keep_view = memoryview(held)
    box = [held]
    del held, view
    others = [buffers.alloc_segment(N + 2) for _ in range(3)]
    for _obj, v in others:
        _fill(v, 9)
    assert box[0] == b"\x07" * (N + 2) and bytes(keep_view) == box[0]
    assert all(obj is not box[0] for obj, _ in others)


def test_reuse_forgets_the_cached_hash(pool: buffers._RecyclingPool) -> None:
    obj, view = buffers.alloc_segment(N + 3)
    _fill(view, 3)
    old_hash = hash(obj)
    del obj, view
    obj, view = buffers.alloc_segment(N + 3)
    _fill(view, 4)
    assert hash(obj) == hash(b"\x04" * (N + 3)) != old_hash
    assert {obj: 1}[b"\x04" * (N + 3)] == 1


def test_small_segments_are_fresh_objects() -> None:
    a, va = buffers.alloc_segment(100)
    b, vb = buffers.alloc_segment(100)
    va[:] = b"a" * 100
    vb[:] = b"b" * 100
    assert a == b"a" * 100 and b == b"b" * 100
    assert buffers.alloc_segment(0)[0] == bytearray()


def test_pool_keeps_at_most_its_cap(pool: buffers._RecyclingPool) -> None:
    size = 4 * 1024 * 1024 + 5
    held = [buffers.alloc_segment(size)[0] for _ in range(buffers.POOL_MAX_BYTES // size + 4)]
    assert pool.stats()["held_bytes"] <= buffers.POOL_MAX_BYTES
    del held


def test_buffers_a_burst_needed_are_let_go_afterwards(pool: buffers._RecyclingPool) -> None:
    fresh = buffers._RecyclingPool(pool._alloc, pool._reset_hash)  # not the shared one
    size = N + 4
    burst = [fresh.take(size)[0] for _ in range(10)]
    assert fresh.stats()["held_bytes"] == 10 * size
    del burst
    for _ in range(2 * buffers._TRIM_WINDOW):
        obj, view = fresh.take(size)  # one at a time, dropped at once
        del obj, view
    assert len(fresh._by_size[size]) <= 3
    assert fresh.stats()["held_bytes"] <= 3 * size
    assert fresh.stats()["made"] == 10


def test_trim_drops_the_free_buffers_themselves(pool: buffers._RecyclingPool) -> None:
    # Every buffer holds the same bytes (a benchmark's payload): trimming must still drop
    # the free ones by identity, keep the held one, and keep the accounting exact.
    fresh = buffers._RecyclingPool(pool._alloc, pool._reset_hash)
    size = N + 5
    burst = [fresh.take(size) for _ in range(6)]  # kept as pairs: still references
    assert len({id(obj) for obj, _ in burst}) == 6
    for _obj, view in burst:
        _fill(view, 0xA5)
    held = burst[0][0]
    del burst, _obj, view
    for _ in range(2 * buffers._TRIM_WINDOW):
        obj, view = fresh.take(size)
        del obj, view
    entries = fresh._by_size[size]
    assert any(e[0] is held for e in entries)
    assert fresh.stats()["held_bytes"] == len(entries) * size <= 4 * size
    assert held == b"\xa5" * size


def test_as_bytes_hands_over_whole_bytes_and_copies_the_rest() -> None:
    whole = bytes(range(256)) * 4
    assert buffers.as_bytes(whole) is whole
    assert buffers.as_bytes(memoryview(whole)) is whole
    part = buffers.as_bytes(memoryview(whole)[1:])
    assert part == whole[1:] and part is not whole
    assert buffers.as_bytes(bytearray(b"ab")) == b"ab"
