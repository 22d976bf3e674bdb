"""calc_target and its per-map caches (objecter_core.MappingCache, placement's hash cache).

The caches must never change an answer: every target is checked against the uncached
placement functions, which tests/unit/rados/proto/test_placement.py pins to osdmaptool and a
live ``ceph osd map``. The map is a live Pacific 16.2.15 osdmap (tests/vectors/osdmap).
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest

from rbdpy.rados.proto import placement
from rbdpy.rados.proto.objecter_core import CalcResult, MappingCache, OpTarget, calc_target
from rbdpy.rados.proto.osdmap import OSDMap
from rbdpy.rados.proto.placement import (
    object_locator_to_pg,
    pg_to_up_acting_osds,
    raw_pg_to_pg,
)

VEC = Path(__file__).parents[3] / "vectors" / "osdmap" / "live_e32.bin"
READ = 0x10


@pytest.fixture(scope="module")
def osdmap() -> OSDMap:
    return OSDMap.from_bytes(VEC.read_bytes())


def _pool(m: OSDMap) -> int:
    return next(pid for pid, name in m.pool_name.items() if name == "rp")


NAMES = [(b"obj.%d" % i, b"", b"") for i in range(200)] + [
    (b"rbd_data.1234.%016x" % i, b"", b"ns%d" % (i % 3)) for i in range(100)] + [
    (b"o%d" % i, b"lockey%d" % (i % 7), b"") for i in range(50)]


def test_targets_equal_uncached_placement(osdmap: OSDMap) -> None:
    pool = _pool(osdmap)
    cache = MappingCache()
    for _ in range(2):  # the second round is served from the caches
        for oid, key, ns in NAMES:
            t = OpTarget(pool, oid, key, ns, READ)
            assert calc_target(osdmap, t, cache=cache) is CalcResult.NEED_RESEND
            raw = object_locator_to_pg(osdmap, pool, oid, key, ns)
            pgid = raw_pg_to_pg(osdmap.pools[pool], raw)
            m = pg_to_up_acting_osds(osdmap, pgid)
            assert (t.raw_pgid, t.pgid, t.osd, t.acting, t.up) == (
                raw, pgid, m.acting_primary, m.acting, m.up)
            assert t.hash == raw.seed


def test_same_map_again_is_no_action(osdmap: OSDMap) -> None:
    t = OpTarget(_pool(osdmap), b"x", flags=READ)
    assert calc_target(osdmap, t) is CalcResult.NEED_RESEND
    assert calc_target(osdmap, t) is CalcResult.NO_ACTION
    assert calc_target(osdmap, t, any_change=True) is CalcResult.NEED_RESEND


def test_new_map_object_invalidates_the_caches(osdmap: OSDMap) -> None:
    pool = _pool(osdmap)
    cache = MappingCache()
    targets = [OpTarget(pool, oid, key, ns, READ) for oid, key, ns in NAMES]
    for t in targets:
        calc_target(osdmap, t, cache=cache)
    # A later map with fewer PGs in the pool (a new OSDMap object, as incrementals make).
    m2 = copy.deepcopy(osdmap)
    m2.epoch += 1
    p2 = m2.pools[pool]
    p2.pg_num = p2.pgp_num = max(1, p2.pg_num // 2)
    p2.calc_pg_masks()
    moved = 0
    for t in targets:
        before = t.pgid
        r = calc_target(m2, t, cache=cache)
        want = raw_pg_to_pg(p2, object_locator_to_pg(m2, pool, t.base_oid, t.key, t.nspace))
        assert t.pgid == want and t.epoch == m2.epoch
        assert r is CalcResult.NEED_RESEND  # pg_num changed: a new interval for everyone
        moved += before != want
    assert moved > 0


def test_deleted_pool(osdmap: OSDMap) -> None:
    pool = _pool(osdmap)
    m2 = copy.deepcopy(osdmap)
    del m2.pools[pool]
    t = OpTarget(pool, b"x", flags=READ)
    assert calc_target(m2, t) is CalcResult.POOL_DNE and t.osd == -1


def test_hash_cache_accepts_any_buffer(osdmap: OSDMap) -> None:
    pool = osdmap.pools[_pool(osdmap)]
    want = placement.hash_key(pool, b"name", b"ns")
    assert placement.hash_key(pool, bytearray(b"name"), memoryview(b"ns")) == want
    assert placement.hash_key(pool, "name", "ns") == want
    assert placement.hash_key(pool, "name") != want


def test_cache_survives_an_epoch_that_changes_no_placement_input(osdmap: OSDMap) -> None:
    # e.g. the epoch of an RBD snapshot: only the pool's snap fields move.
    pool = _pool(osdmap)
    cache = MappingCache()
    pgid = raw_pg_to_pg(osdmap.pools[pool], object_locator_to_pg(osdmap, pool, b"x"))
    first = cache.get(osdmap, pgid)
    p = osdmap.pools[pool]
    snap_epoch = dataclasses.replace(osdmap, epoch=osdmap.epoch + 1, pools={
        **osdmap.pools, pool: dataclasses.replace(p, snap_seq=p.snap_seq + 1)})
    assert cache.get(snap_epoch, pgid) is first  # served from the cache, not recomputed
    reweighted = dataclasses.replace(snap_epoch, epoch=snap_epoch.epoch + 1,
                                     osd_weight=[w // 2 for w in snap_epoch.osd_weight])
    again = cache.get(reweighted, pgid)
    assert again is not first and again == pg_to_up_acting_osds(reweighted, pgid)
