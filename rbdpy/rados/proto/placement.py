"""Placement: object → pg → OSDs. The only "where does it go" code in rbdpy.

Theory of operation, one step per function, each named after the Ceph function it mirrors:

1. :func:`object_locator_to_pg` — the pool's string hash (rjenkins) over the object name, or
   over the locator key when one is set, prefixed by ``nspace + '\\x1f'`` when a namespace is
   set, gives the *raw* pg (a 32-bit seed). MOSDOp carries this raw hash.
2. :func:`raw_pg_to_pg` — ``ceph_stable_mod(seed, pg_num, pg_num_mask)`` folds it into the
   actual pg.
3. :func:`pg_to_raw_osds` — the placement seed (pps: with HASHPSPOOL
   ``crush_hash32_2(stable_mod(ps, pgp_num), pool)``, else ``ps + pool``) goes through the
   pool's CRUSH rule with the map's reweights and the pool's choose_args; OSDs that do not
   exist are removed (replicated) or become NONE holes (EC).
4. :func:`apply_upmap` — ``pg_upmap`` replaces the raw set unless one of its targets is out
   (then nothing else applies); ``pg_upmap_items`` swap single OSDs when the target is not
   already present and not out; Reef's ``pg_upmap_primaries`` swap a new primary to the front.
5. :func:`raw_to_up_osds` — down OSDs are dropped (replicated) or become NONE (EC).
6. :func:`apply_primary_affinity` — OSDs with affinity < 1 decline primacy for a hashed
   fraction of pgs; for replicated pools the chosen primary moves to the front.
7. :func:`get_temp_osds` — ``pg_temp`` (filtered for down OSDs) overrides the acting set,
   ``primary_temp`` the acting primary; without them acting = up.

:func:`pg_to_up_acting_osds` runs 3–7 and returns ``(up, up_primary, acting,
acting_primary)``; a client sends to ``acting_primary``.

Mirrors: ceph src/osd/OSDMap.cc (object_locator_to_pg, map_to_pg, _pg_to_raw_osds,
_remove_nonexistent_osds, _apply_upmap, _raw_to_up_osds, _pick_primary,
_apply_primary_affinity, _get_temp_osds, _pg_to_up_acting_osds), src/osd/osd_types.cc
(pg_pool_t::hash_key, raw_pg_to_pg, raw_pg_to_pps); kernel net/ceph/osdmap.c
(ceph_object_locator_to_pg, ceph_pg_to_up_acting_osds, apply_upmap, raw_to_up_osds,
apply_primary_affinity, get_temp_osds).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from rbdpy.rados.proto.bytestr import to_bytes
from rbdpy.rados.proto.crush import CRUSH_ITEM_NONE, ceph_str_hash, crush_hash32_2
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.osdmap import (
    CEPH_OSD_DEFAULT_PRIMARY_AFFINITY,
    CEPH_OSD_MAX_PRIMARY_AFFINITY,
    OSDMap,
    PgPool,
)
from rbdpy.rados.proto.types import PgId

log = logging.getLogger(__name__)

__all__ = [
    "CRUSH_ITEM_NONE",
    "PgMapping",
    "apply_primary_affinity",
    "apply_upmap",
    "get_temp_osds",
    "hash_key",
    "object_locator_to_pg",
    "pg_to_acting_osds",
    "pg_to_raw_osds",
    "pg_to_up_acting_osds",
    "raw_pg_to_pg",
    "raw_to_up_osds",
    "same_placement",
]

_ENOENT = 2
_NS_SEP = b"\x1f"  # '\037' between namespace and name (pg_pool_t::hash_key)


class PgMapping(NamedTuple):
    """The result of :func:`pg_to_up_acting_osds`."""

    up: list[int]
    up_primary: int
    acting: list[int]
    acting_primary: int


# -- object → pg ---------------------------------------------------------------------------


# (hash type, key, nspace) → hash. The string hash is pure Python (a few µs per object
# name) and a client hits the same objects again and again; bounded, oldest entries go first.
_HASH_CACHE: dict[tuple[int, bytes, bytes], int] = {}
_HASH_CACHE_MAX = 8192


def hash_key(pool: PgPool, key: str | bytes, nspace: str | bytes = b"") -> int:
    """``pg_pool_t::hash_key``: the pool's string hash of ``[nspace '\\x1f'] key``."""
    k = to_bytes(key)
    ns = to_bytes(nspace)
    if type(k) is not bytes or type(ns) is not bytes:  # bytearray/memoryview: hashable copy
        k, ns = bytes(k), bytes(ns)
    ck = (pool.object_hash, k, ns)
    h = _HASH_CACHE.get(ck)
    if h is None:
        data = ns + _NS_SEP + k if ns else k
        h = ceph_str_hash(pool.object_hash, data)
        if len(_HASH_CACHE) >= _HASH_CACHE_MAX:
            del _HASH_CACHE[next(iter(_HASH_CACHE))]
        _HASH_CACHE[ck] = h
    return h


def object_locator_to_pg(osdmap: OSDMap, pool_id: int, oid: str | bytes,
                         key: str | bytes = b"", nspace: str | bytes = b"",
                         hash: int = -1) -> PgId:
    """``OSDMap::object_locator_to_pg``: the *raw* pg (unfolded seed) of an object.

    :param hash: an explicit locator hash (object_locator_t::hash) overrides the names.
    :raises CephError: ENOENT when the pool does not exist.
    """
    pool = osdmap.pools.get(pool_id)
    if pool is None:
        raise CephError(_ENOENT, f"pool {pool_id} does not exist")
    if hash >= 0:
        return PgId(pool_id, hash & 0xFFFFFFFF)
    seed = hash_key(pool, key if key else oid, nspace)
    return PgId(pool_id, seed)


def raw_pg_to_pg(pool: PgPool, pg: PgId) -> PgId:
    """``pg_pool_t::raw_pg_to_pg``: fold a raw seed into [0, pg_num)."""
    return PgId(pg.pool, pool.raw_pg_to_pg_seed(pg.seed))


# -- pg → osds -----------------------------------------------------------------------------


def _remove_nonexistent_osds(osdmap: OSDMap, pool: PgPool, osds: list[int]) -> list[int]:
    if pool.can_shift_osds():
        return [o for o in osds if osdmap.exists(o)]
    return [o if osdmap.exists(o) else CRUSH_ITEM_NONE for o in osds]


def pg_to_raw_osds(osdmap: OSDMap, pool: PgPool, pg: PgId) -> tuple[list[int], int]:
    """``OSDMap::_pg_to_raw_osds``: CRUSH output for the pg and its placement seed."""
    pps = pool.raw_pg_to_pps(pg.seed, pg.pool)
    crush = osdmap.crush
    osds: list[int] = []
    if crush is not None:
        # Pacific looks the rule up by (ruleset, type, size) (crush_find_rule).
        ruleno = crush.find_rule(pool.crush_rule, pool.type, pool.size)
        if ruleno >= 0:
            osds = crush.do_rule(ruleno, pps, pool.size, osdmap.osd_weight, pg.pool)
    return _remove_nonexistent_osds(osdmap, pool, osds), pps


def _pick_primary(osds: list[int]) -> int:
    for o in osds:
        if o != CRUSH_ITEM_NONE:
            return o
    return -1


def _marked_out(osdmap: OSDMap, osd: int) -> bool:
    """An explicit upmap target that is a valid OSD id with reweight 0."""
    return (osd != CRUSH_ITEM_NONE and 0 <= osd < osdmap.max_osd
            and osdmap.osd_weight[osd] == 0)


def apply_upmap(osdmap: OSDMap, pool: PgPool, pg: PgId, raw: list[int]) -> list[int]:
    """``OSDMap::_apply_upmap``: pg_upmap, then pg_upmap_items, then pg_upmap_primaries."""
    pg = raw_pg_to_pg(pool, pg)
    explicit = osdmap.pg_upmap.get(pg)
    if explicit is not None:
        if any(_marked_out(osdmap, o) for o in explicit):
            return raw  # reject the explicit mapping, and skip the items as well
        raw = list(explicit)
    items = osdmap.pg_upmap_items.get(pg)
    if items:
        raw = list(raw)
        for osd_from, osd_to in items:
            # No bidirectional swaps: a target already present blocks the pair.
            if osd_to in raw:
                continue
            if _marked_out(osdmap, osd_to):
                continue
            for i, o in enumerate(raw):
                if o == osd_from:
                    raw[i] = osd_to
                    break
    prim = osdmap.pg_upmap_primaries.get(pg)
    if prim is not None and prim != CRUSH_ITEM_NONE and 0 <= prim < osdmap.max_osd \
            and osdmap.osd_weight[prim] != 0:
        for i in range(1, len(raw)):  # from 1: already primary needs nothing
            if raw[i] == prim:
                raw = list(raw)
                raw[i] = raw[0]
                raw[0] = prim
                break
    return raw


def raw_to_up_osds(osdmap: OSDMap, pool: PgPool, raw: list[int]) -> list[int]:
    """``OSDMap::_raw_to_up_osds``: drop (replicated) or NONE (EC) down or absent OSDs."""
    if pool.can_shift_osds():
        return [o for o in raw if osdmap.is_up(o)]
    return [o if osdmap.is_up(o) else CRUSH_ITEM_NONE for o in raw]


def apply_primary_affinity(osdmap: OSDMap, pps: int, pool: PgPool, osds: list[int],
                           primary: int) -> tuple[list[int], int]:
    """``OSDMap::_apply_primary_affinity``: let OSDs with affinity < 1 decline primacy."""
    aff = osdmap.osd_primary_affinity
    if aff is None:
        return osds, primary
    if not any(o != CRUSH_ITEM_NONE and aff[o] != CEPH_OSD_DEFAULT_PRIMARY_AFFINITY
               for o in osds):
        return osds, primary
    pos = -1
    for i, o in enumerate(osds):
        if o == CRUSH_ITEM_NONE:
            continue
        a = aff[o]
        if a < CEPH_OSD_MAX_PRIMARY_AFFINITY and (crush_hash32_2(pps, o) >> 16) >= a:
            # Declined; remember it as a fallback in case nobody accepts.
            if pos < 0:
                pos = i
        else:
            pos = i
            break
    if pos < 0:
        return osds, primary
    primary = osds[pos]
    if pool.can_shift_osds() and pos > 0:
        osds = [primary, *osds[:pos], *osds[pos + 1:]]
    return osds, primary


def get_temp_osds(osdmap: OSDMap, pool: PgPool, pg: PgId) -> tuple[list[int], int]:
    """``OSDMap::_get_temp_osds``: (pg_temp filtered for down OSDs, temp primary or -1)."""
    pg = raw_pg_to_pg(pool, pg)
    temp: list[int] = []
    listed = osdmap.pg_temp.get(pg)
    if listed is not None:
        for o in listed:
            if osdmap.is_up(o):
                temp.append(o)
            elif not pool.can_shift_osds():
                temp.append(CRUSH_ITEM_NONE)
    temp_primary = osdmap.primary_temp.get(pg, -1)
    if temp_primary == -1 and temp:
        temp_primary = _pick_primary(temp)
    return temp, temp_primary


def pg_to_up_acting_osds(osdmap: OSDMap, pg: PgId) -> PgMapping:
    """``OSDMap::pg_to_up_acting_osds``: up and acting sets and their primaries.

    ``pg`` may be raw or folded (each step folds as Ceph does). A pool that does not exist
    maps to nothing: ``([], -1, [], -1)``.
    """
    pool = osdmap.pools.get(pg.pool)
    if pool is None:
        return PgMapping([], -1, [], -1)
    acting, acting_primary = get_temp_osds(osdmap, pool, pg)
    raw, pps = pg_to_raw_osds(osdmap, pool, pg)
    raw = apply_upmap(osdmap, pool, pg, raw)
    up = raw_to_up_osds(osdmap, pool, raw)
    up_primary = _pick_primary(up)
    up, up_primary = apply_primary_affinity(osdmap, pps, pool, up, up_primary)
    if not acting:
        acting = up
        if acting_primary == -1:
            acting_primary = up_primary
    if log.isEnabledFor(logging.DEBUG):
        log.debug("pg %s -> up %s p%d acting %s p%d", pg, up, up_primary, acting,
                  acting_primary)
    return PgMapping(up, up_primary, acting, acting_primary)


def pg_to_acting_osds(osdmap: OSDMap, pg: PgId) -> tuple[list[int], int]:
    """``OSDMap::pg_to_acting_osds``: (acting, acting_primary)."""
    m = pg_to_up_acting_osds(osdmap, pg)
    return m.acting, m.acting_primary


def _pool_placement_inputs(pool: PgPool) -> tuple[int, ...]:
    """Every field of a pool that object → pg → OSDs reads (hash_key, raw_pg_to_pg,
    raw_pg_to_pps, the rule, replicated vs EC), plus all its flags for good measure."""
    return (pool.type, pool.size, pool.crush_rule, pool.object_hash, pool.pg_num,
            pool.pgp_num, pool.pg_num_mask, pool.pgp_num_mask, pool.flags)


def same_placement(a: OSDMap, b: OSDMap) -> bool:
    """True when every input of object → pg → up/acting is the same in both maps, so any
    mapping computed on one holds on the other.

    Most new epochs a client sees change none of them (a pool's snapshots, an OSD's
    address or up_from, blocklist entries, flags): a client keeps its cached placements
    across such epochs instead of recomputing CRUSH for every pg it touches again.
    Conservative: a CRUSH map that came with the incremental counts as a change even
    when its content is the same.
    """
    if a is b:
        return True
    if (a.crush is not b.crush or a.max_osd != b.max_osd or a.osd_state != b.osd_state
            or a.osd_weight != b.osd_weight
            or a.osd_primary_affinity != b.osd_primary_affinity
            or a.pg_temp != b.pg_temp or a.primary_temp != b.primary_temp
            or a.pg_upmap != b.pg_upmap or a.pg_upmap_items != b.pg_upmap_items
            or a.pg_upmap_primaries != b.pg_upmap_primaries
            or a.pools.keys() != b.pools.keys()):
        return False
    pools_b = b.pools
    return all(pool is pools_b[pid]
               or _pool_placement_inputs(pool) == _pool_placement_inputs(pools_b[pid])
               for pid, pool in a.pools.items())
