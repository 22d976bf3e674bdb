"""Object → pg → up/acting against Ceph's own answers.

Oracles (tests/vectors/osdmap, made by tools/gen_osdmap_vectors.sh): ``osdmaptool
--test-map-pgs-dump`` (every pg of every pool, plus the summary) with and without
``--mark-up-in`` / ``--mark-out 3``, ``osdmaptool --test-map-object``, and ``ceph osd map``
on a live cluster (namespaces, EC holes) at an epoch we rebuild from incrementals.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from rbdpy.cli import osdmap as cli
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.osdmap import (
    CEPH_OSD_EXISTS,
    CEPH_OSD_UP,
    Incremental,
    OSDMap,
    PgPool,
)
from rbdpy.rados.proto.placement import (
    CRUSH_ITEM_NONE,
    apply_upmap,
    hash_key,
    object_locator_to_pg,
    pg_to_raw_osds,
    pg_to_up_acting_osds,
    raw_pg_to_pg,
    same_placement,
)
from rbdpy.rados.proto.types import PgId
from tests.conftest import REPO_ROOT

VECTORS = REPO_ROOT / "tests" / "vectors" / "osdmap"
FIXTURE = REPO_ROOT.parent / "shared" / "docs" / "fixtures" / "pacific16215_osdmap_e11.bin"

MAPS = ["om12.bin", "om12_upmap.bin", "om12_w0.bin", "om1024.bin", "live_e32.bin", "live_mid.bin",
        "live_final.bin", "live_down.bin"]
VARIANTS = {
    "pgs.txt": {},
    "pgs_upin.txt": {"up_in": True},
    "pgs_out3.txt": {"up_in": True, "out": 3, "pool": 1},
}


def _vector(name: str) -> Path:
    p = VECTORS / name
    if not p.exists():
        pytest.skip(f"{p} missing; run tools/gen_osdmap_vectors.sh")
    return p


def _cases() -> list[tuple[str, str]]:
    out = []
    for m in MAPS:
        for v in VARIANTS:
            if (VECTORS / f"{m}.{v}").exists():
                out.append((m, v))
    return out


@pytest.mark.parametrize(("name", "variant"), _cases())
def test_map_pgs_dump_equals_osdmaptool(name: str, variant: str) -> None:
    """Every line of osdmaptool's --test-map-pgs-dump, summary included."""
    expected = _vector(f"{name}.{variant}").read_text()
    got = cli.test_map_pgs_dump(_vector(name), **VARIANTS[variant])  # type: ignore[arg-type]
    exp_lines, got_lines = expected.splitlines(), got.splitlines()
    for i, (a, b) in enumerate(zip(exp_lines, got_lines, strict=False)):
        assert a == b, f"line {i + 1}"
    assert len(exp_lines) == len(got_lines)


@pytest.mark.parametrize("name", [m for m in MAPS if (VECTORS / f"{m}.objects.txt").exists()])
def test_map_object_equals_osdmaptool(name: str) -> None:
    for suffix, up_in in (("objects.txt", False), ("objects_upin.txt", True)):
        for line in _vector(f"{name}.{suffix}").read_text().splitlines():
            obj, _, expected = line.partition("\t")
            got = cli.map_object(_vector(name), 1, obj, up_in=up_in).splitlines()
            if up_in:  # the generator keeps only the object line of this variant
                assert got[0] == "marking all OSDs up and in"
                got = got[1:]
            assert got == [expected]


def test_fixture_known_object() -> None:
    if not FIXTURE.exists():
        pytest.skip("fixture missing")
    m = OSDMap.from_bytes(FIXTURE.read_bytes())
    raw = object_locator_to_pg(m, 1, "foo")
    assert raw == PgId(1, 0x7FC1F406)
    assert raw_pg_to_pg(m.pools[1], raw) == PgId(1, 6)
    assert pg_to_up_acting_osds(m, raw) == ([0], 0, [0], 0)
    raw = object_locator_to_pg(m, 1, "rbd_data.1011f0810a9a.0000000000000000")
    assert raw.seed == 0x75205041 and raw_pg_to_pg(m.pools[1], raw).seed == 1


def _rebuild(epoch: int) -> OSDMap:
    first = int(dict(kv.split("=") for kv in
                     _vector("live_epochs.txt").read_text().split())["first"])
    m = OSDMap.from_bytes(_vector(f"live_e{first}.bin").read_bytes())
    for e in range(first + 1, epoch + 1):
        m = m.apply_incremental(Incremental.from_bytes(_vector(f"live_inc_e{e}.bin").read_bytes()))
    return m


def test_ceph_osd_map_with_namespaces_and_ec() -> None:
    """`ceph osd map POOL OBJ [NS]` from the live mon, at a map rebuilt from incrementals."""
    entries = [json.loads(line) for line in _vector("live_osd_map.jsonl").read_text().splitlines()
               if line.strip()]
    assert entries
    maps = {ep: _rebuild(ep) for ep in {e["epoch"] for e in entries}}
    saw_ns = saw_hole = False
    for e in entries:
        m = maps[e["epoch"]]
        ns, _, name = e["objname"].rpartition("/")
        saw_ns |= bool(ns)
        raw = object_locator_to_pg(m, e["pool_id"], name, nspace=ns)
        assert f"{raw.pool}.{raw.seed:x}" == e["raw_pgid"]
        pg = raw_pg_to_pg(m.pools[e["pool_id"]], raw)
        assert str(pg) == e["pgid"]
        got = pg_to_up_acting_osds(m, pg)
        assert (got.up, got.up_primary, got.acting, got.acting_primary) == \
            (e["up"], e["up_primary"], e["acting"], e["acting_primary"]), e
        # The raw (unfolded) pg maps the same way (Ceph folds inside each step).
        assert pg_to_up_acting_osds(m, raw) == got
        saw_hole |= CRUSH_ITEM_NONE in got.up
    assert saw_ns and saw_hole


# -- semantics on a synthetic variation of a real map -------------------------------------------


@pytest.fixture
def om12() -> OSDMap:
    m = OSDMap.from_bytes(_vector("om12.bin").read_bytes())
    n = m.max_osd
    return dataclasses.replace(m, osd_state=[CEPH_OSD_EXISTS | CEPH_OSD_UP] * n,
                               osd_weight=[0x10000] * n)


def _pool(m: OSDMap) -> PgPool:
    return m.pools[1]


def test_upmap_rules(om12: OSDMap) -> None:
    pg = PgId(1, 6)
    raw, _ = pg_to_raw_osds(om12, _pool(om12), pg)
    assert raw == [10, 6, 3]  # guide §8.3: foo -> 1.6 -> [10,6,3]
    om12.pg_upmap[pg] = [1, 2, 4]
    assert apply_upmap(om12, _pool(om12), pg, raw) == [1, 2, 4]
    # An out target voids pg_upmap and the items too.
    om12.pg_upmap_items[pg] = [(1, 5)]
    om12.osd_weight[4] = 0
    assert apply_upmap(om12, _pool(om12), pg, raw) == raw
    om12.osd_weight[4] = 0x10000
    assert apply_upmap(om12, _pool(om12), pg, raw) == [5, 2, 4]
    del om12.pg_upmap[pg]
    # No bidirectional swap: (10->6) is blocked because 6 is already present.
    om12.pg_upmap_items[pg] = [(10, 6), (3, 7)]
    assert apply_upmap(om12, _pool(om12), pg, raw) == [10, 6, 7]
    om12.osd_weight[7] = 0  # target out: ignored
    assert apply_upmap(om12, _pool(om12), pg, raw) == [10, 6, 3]
    om12.osd_weight[7] = 0x10000
    # Reef's pg_upmap_primaries swap the primary to the front.
    om12.pg_upmap_items.clear()
    om12.pg_upmap_primaries[pg] = 3
    assert apply_upmap(om12, _pool(om12), pg, raw) == [3, 6, 10]
    # The raw (unfolded) seed is folded before the upmap lookup.
    assert apply_upmap(om12, _pool(om12), PgId(1, 6 + 1024), raw) == [3, 6, 10]


def test_primary_affinity(om12: OSDMap) -> None:
    pg = PgId(1, 6)
    om12.osd_primary_affinity = [0x10000] * om12.max_osd
    om12.osd_primary_affinity[10] = 0  # never primary
    r = pg_to_up_acting_osds(om12, pg)
    assert r.up == [6, 10, 3] and r.up_primary == 6 and r.acting_primary == 6
    om12.osd_primary_affinity[6] = 0
    om12.osd_primary_affinity[3] = 0
    r = pg_to_up_acting_osds(om12, pg)  # everyone declines: the first one stays
    assert r.up == [10, 6, 3] and r.up_primary == 10


def test_down_osds_and_temps(om12: OSDMap) -> None:
    pg = PgId(1, 6)
    om12.osd_state[10] = CEPH_OSD_EXISTS  # down
    r = pg_to_up_acting_osds(om12, pg)
    assert r.up == [6, 3] and r.up_primary == 6
    om12.pg_temp[pg] = [10, 3, 1]  # down osd.10 filtered from the temp set
    r = pg_to_up_acting_osds(om12, pg)
    assert r.acting == [3, 1] and r.acting_primary == 3 and r.up == [6, 3]
    om12.primary_temp[pg] = 1
    assert pg_to_up_acting_osds(om12, pg).acting_primary == 1
    del om12.pg_temp[pg]
    r = pg_to_up_acting_osds(om12, pg)  # primary_temp alone still overrides
    assert r.acting == [6, 3] and r.acting_primary == 1


def test_erasure_pool_keeps_positions(om12: OSDMap) -> None:
    live = OSDMap.from_bytes(_vector("live_down.bin").read_bytes())
    ec = next(pid for pid, p in live.pools.items() if p.is_erasure())
    r = pg_to_up_acting_osds(live, PgId(ec, 2))
    assert len(r.up) == live.pools[ec].size
    assert CRUSH_ITEM_NONE in r.up
    om12.pg_temp[PgId(1, 0)] = [1, 2]
    # A temp set on an EC pool keeps NONE in place of a down member.
    ecpool = dataclasses.replace(_pool(om12), type=PgPool.TYPE_ERASURE)
    om12.pools[1] = ecpool
    om12.osd_state[1] = CEPH_OSD_EXISTS
    r = pg_to_up_acting_osds(om12, PgId(1, 0))
    assert r.acting == [CRUSH_ITEM_NONE, 2] and r.acting_primary == 2


def test_hashing_rules(om12: OSDMap) -> None:
    pool = _pool(om12)
    assert hash_key(pool, "foo") == 0x7FC1F406
    # namespace: "ns\x1fname"; a locator key replaces the name
    assert hash_key(pool, "foo", "ns1") == hash_key(pool, b"ns1\x1ffoo")
    assert hash_key(pool, "foo", "ns1") == 0xF4569544  # ceph osd map rp2 foo ns1
    assert object_locator_to_pg(om12, 1, "x", key="foo") == PgId(1, 0x7FC1F406)
    assert object_locator_to_pg(om12, 1, "x", hash=5) == PgId(1, 5)
    with pytest.raises(CephError) as ei:
        object_locator_to_pg(om12, 99, "x")
    assert ei.value.errno == 2
    assert pg_to_up_acting_osds(om12, PgId(99, 0)) == ([], -1, [], -1)
    # Without HASHPSPOOL the placement seed is ps + pool.
    legacy = dataclasses.replace(pool, flags=0)
    assert legacy.raw_pg_to_pps(6, 1) == 7
    assert pool.raw_pg_to_pps(6, 1) != 7


# -- same_placement: when a client may keep its cached placements across epochs -------------


def _all_mappings(m: OSDMap) -> dict[PgId, object]:
    return {PgId(pid, ps): pg_to_up_acting_osds(m, PgId(pid, ps))
            for pid, pool in m.pools.items() for ps in range(pool.pg_num)}


def test_same_placement_is_sound_over_a_live_epoch_sequence() -> None:
    # Ceph's own incrementals (pool create/delete/rename/mksnap, flags, blocklist, upmaps,
    # pg_temp, affinity, reweights, OSDs down...): whenever same_placement says no input
    # changed, every pg of every pool maps identically in the two epochs.
    epochs = dict(kv.split("=") for kv in _vector("live_epochs.txt").read_text().split())
    first, down = int(epochs["first"]), int(epochs["down"])
    m = OSDMap.from_bytes(_vector(f"live_e{first}.bin").read_bytes())
    kept = dropped = 0
    for e in range(first + 1, down + 1):
        n = m.apply_incremental(Incremental.from_bytes(_vector(f"live_inc_e{e}.bin").read_bytes()))
        if same_placement(m, n):
            kept += 1
            assert _all_mappings(m) == _all_mappings(n), f"e{e}"
        else:
            dropped += 1
        m = n
    # Both kinds of epoch occur in the sequence.
    assert kept >= 3 and dropped >= 10, (kept, dropped)


def _pair() -> tuple[OSDMap, OSDMap]:
    m = OSDMap.from_bytes(_vector("live_mid.bin").read_bytes())
    n = dataclasses.replace(m, epoch=m.epoch + 1, pools=dict(m.pools),
                            osd_state=list(m.osd_state), osd_weight=list(m.osd_weight),
                            pg_temp=dict(m.pg_temp), primary_temp=dict(m.primary_temp),
                            pg_upmap=dict(m.pg_upmap), pg_upmap_items=dict(m.pg_upmap_items),
                            pg_upmap_primaries=dict(m.pg_upmap_primaries))
    return m, n


def _pool_id(m: OSDMap) -> int:
    return min(m.pools)


def test_epochs_without_placement_changes_keep_placement() -> None:
    m, n = _pair()
    assert same_placement(m, n) and same_placement(m, m)
    pid = _pool_id(m)
    n.pools[pid] = dataclasses.replace(m.pools[pid], snap_seq=m.pools[pid].snap_seq + 1,
                                       last_change=n.epoch)
    n.flags ^= 1 << 4
    n.blocklist = {**m.blocklist}
    n.pool_name = {**m.pool_name, pid: "renamed"}
    assert same_placement(m, n)


def _bump_pool_field(name: str) -> Callable[[OSDMap, OSDMap], None]:
    def change(m: OSDMap, n: OSDMap) -> None:
        pid = _pool_id(m)
        old = m.pools[pid]
        n.pools[pid] = dataclasses.replace(old, **{name: getattr(old, name) ^ 1})
    return change


_CHANGES: dict[str, Callable[[OSDMap, OSDMap], object]] = {
    "osd_state": lambda m, n: n.osd_state.__setitem__(0, n.osd_state[0] ^ CEPH_OSD_UP),
    "osd_weight": lambda m, n: n.osd_weight.__setitem__(1, n.osd_weight[1] // 2),
    "primary_affinity": lambda m, n: setattr(n, "osd_primary_affinity",
                                             [0x10000] * (n.max_osd - 1) + [0]),
    "pg_temp": lambda m, n: n.pg_temp.__setitem__(PgId(_pool_id(m), 0), [2, 1]),
    "primary_temp": lambda m, n: n.primary_temp.__setitem__(PgId(_pool_id(m), 1), 2),
    "pg_upmap": lambda m, n: n.pg_upmap.__setitem__(PgId(_pool_id(m), 2), [0, 1]),
    "pg_upmap_items": lambda m, n: n.pg_upmap_items.__setitem__(PgId(_pool_id(m), 3),
                                                                [(0, 2)]),
    "pg_upmap_primaries": lambda m, n: n.pg_upmap_primaries.__setitem__(
        PgId(_pool_id(m), 4), 1),
    "crush": lambda m, n: setattr(n, "crush", dataclasses.replace(m.crush)),
    "max_osd": lambda m, n: setattr(n, "max_osd", m.max_osd + 1),
    "pool_added": lambda m, n: n.pools.__setitem__(max(m.pools) + 1, PgPool(size=2)),
    "pool_removed": lambda m, n: n.pools.pop(_pool_id(m)),
    # (the masks follow pg_num/pgp_num: PgPool recomputes them on construction)
    **{f"pool_{name}": _bump_pool_field(name)
       for name in ("type", "size", "crush_rule", "object_hash", "pg_num", "pgp_num",
                    "flags")},
}


@pytest.mark.parametrize("change", sorted(_CHANGES))
def test_any_placement_input_change_drops_placement(change: str) -> None:
    m, n = _pair()
    _CHANGES[change](m, n)
    assert not same_placement(m, n)
