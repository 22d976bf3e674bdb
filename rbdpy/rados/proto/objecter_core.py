"""The Objecter's bookkeeping, without I/O: where an op goes, and whether a new map moves it.

Theory of operation: every op carries an :class:`OpTarget` — the object's *base* locator
(pool, name, key, namespace) and what the last map said about it (raw and folded pg, acting
set and primary, the pool's pg_num and sizes, the epoch). :func:`calc_target` recomputes the
target against a map and answers one of three things: the op stays where it is
(``NO_ACTION``), it must be (re)sent to ``target.osd`` (``NEED_RESEND``), or its pool is gone
(``POOL_DNE`` → the op fails with ENOENT). An op is resent whenever the PG's *interval*
changes (acting/up set or primary, size, min_size, pg_num), when the pool asks for it
(``last_force_op_resend``), or when the pool's cache overlay redirects it — the same rules
Ceph's OSDs use to discard ops from an older interval, so resending on them never loses an op.
Writes and reads also wait (``paused``) while the map pauses them or the cluster is full.

Mirrors: ceph src/osdc/Objecter.cc (_calc_target, op_target_t, target_should_be_paused,
_scan_requests), src/osd/osd_types.cc (PastIntervals::is_new_interval); kernel
net/ceph/osd_client.c (calc_target, target_should_be_paused, scan_requests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum

from rbdpy.rados.proto.constants import OsdFlag
from rbdpy.rados.proto.osdmap import (
    CEPH_OSDMAP_FULL,
    CEPH_OSDMAP_PAUSERD,
    CEPH_OSDMAP_PAUSEWR,
    OSDMap,
    PgPool,
)
from rbdpy.rados.proto.placement import (
    PgMapping,
    object_locator_to_pg,
    pg_to_up_acting_osds,
    raw_pg_to_pg,
    same_placement,
)
from rbdpy.rados.proto.types import PgId

log = logging.getLogger(__name__)


POOL_FLAG_FULL = PgPool.FLAG_FULL


class CalcResult(Enum):
    NO_ACTION = "no action"
    NEED_RESEND = "need resend"
    POOL_DNE = "pool does not exist"


@dataclass(slots=True)
class OpTarget:
    """Where one op is aimed (Objecter::op_target_t).

    The base fields are what the user asked for; the rest is derived from a map.
    """

    base_pool: int
    base_oid: bytes
    key: bytes = b""
    nspace: bytes = b""
    flags: int = 0
    # A pg op (PGNLS) names its pg directly, not through an object name: the raw pg seed
    # (Objecter op_target_t::precalc_pgid / base_pgid).
    precalc_seed: int | None = None
    # derived
    epoch: int = 0
    pool: int = -1  # target pool after cache-tier overlay
    raw_pgid: PgId | None = None  # raw hash seed: MOSDOp's "hash"
    pgid: PgId | None = None  # folded pg: MOSDOp's spgid
    osd: int = -1  # acting primary, -1 = nowhere to send yet
    acting: list[int] = field(default_factory=list)
    up: list[int] = field(default_factory=list)
    up_primary: int = -1
    size: int = 0
    min_size: int = 0
    pg_num: int = 0
    pgp_num: int = 0
    paused: bool = False
    last_force_resend: int = 0

    @property
    def hash(self) -> int:
        return self.raw_pgid.seed if self.raw_pgid is not None else 0


class MappingCache:
    """PG → (up, acting), and object → PG, for the current map.

    CRUSH costs about a millisecond per PG in pure Python, and an OSDMap object never
    changes once decoded (incrementals make a new one), so every op after the first to a PG
    reuses the answer. A new map keeps the answers when none of placement's inputs
    changed (:func:`~rbdpy.rados.proto.placement.same_placement`: e.g. the epoch of an RBD
    snapshot, which only touches the pool's snap fields); otherwise they are dropped.
    """

    __slots__ = ("_map", "_objects", "_pgs")

    #: objects remembered per map (the cache is dropped when it grows past this)
    MAX_OBJECTS = 16384

    def __init__(self) -> None:
        self._map: OSDMap | None = None
        self._pgs: dict[PgId, PgMapping] = {}
        # (pool, name, key, nspace) → (raw pg, folded pg, mapping): the whole per-object
        # placement, so a repeated object costs one dict lookup per op
        self._objects: dict[tuple[int, bytes, bytes, bytes],
                            tuple[PgId, PgId, PgMapping]] = {}

    def _switch(self, osdmap: OSDMap) -> None:
        """A new map: keep what was computed when no placement input changed."""
        old, self._map = self._map, osdmap
        if old is None or not same_placement(old, osdmap):
            self._pgs = {}
            self._objects = {}

    def get(self, osdmap: OSDMap, pgid: PgId) -> PgMapping:
        if osdmap is not self._map:
            self._switch(osdmap)
        m = self._pgs.get(pgid)
        if m is None:
            m = self._pgs[pgid] = pg_to_up_acting_osds(osdmap, pgid)
        return m

    def locate(self, osdmap: OSDMap, pool: PgPool, pool_id: int, oid: bytes, key: bytes,
               nspace: bytes) -> tuple[PgId, PgId, PgMapping]:
        """Raw pg, folded pg and up/acting sets of one object in ``osdmap``."""
        if osdmap is not self._map:
            self._switch(osdmap)
        ck = (pool_id, oid, key, nspace)
        hit = self._objects.get(ck)
        if hit is None:
            raw = object_locator_to_pg(osdmap, pool_id, oid, key, nspace)
            pgid = raw_pg_to_pg(pool, raw)
            hit = (raw, pgid, self.get(osdmap, pgid))
            if len(self._objects) >= self.MAX_OBJECTS:
                self._objects = {}
            self._objects[ck] = hit
        return hit


_DEFAULT_CACHE = MappingCache()


def target_should_be_paused(osdmap: OSDMap, t: OpTarget) -> bool:
    """Whether the map holds this op back (PAUSERD/PAUSEWR, or a full cluster/pool)."""
    flags = osdmap.flags
    if t.flags & OsdFlag.READ and flags & CEPH_OSDMAP_PAUSERD:
        return True
    if t.flags & OsdFlag.WRITE:
        if flags & CEPH_OSDMAP_PAUSEWR:
            return True
        if not t.flags & (OsdFlag.FULL_TRY | OsdFlag.FULL_FORCE):
            pool = osdmap.pools.get(t.pool if t.pool >= 0 else t.base_pool)
            if flags & CEPH_OSDMAP_FULL or (pool is not None and pool.flags & POOL_FLAG_FULL):
                return True
    return False


def calc_target(osdmap: OSDMap, t: OpTarget, *, any_change: bool = False,
                cache: MappingCache = _DEFAULT_CACHE) -> CalcResult:
    """Recompute ``t`` against ``osdmap`` (updates it in place).

    :param any_change: resend even if only non-interval details moved (used after the
        session to the old primary was lost).
    """
    base = osdmap.pools.get(t.base_pool)
    if base is None:
        t.osd = -1
        return CalcResult.POOL_DNE
    pool_id = t.base_pool
    # Cache tiering: the overlay redirects ops unless told not to (Objecter::_calc_target).
    if not t.flags & OsdFlag.IGNORE_OVERLAY:
        if t.flags & OsdFlag.READ and base.read_tier >= 0:
            pool_id = base.read_tier
        elif t.flags & OsdFlag.WRITE and base.write_tier >= 0:
            pool_id = base.write_tier
    pool = osdmap.pools.get(pool_id)
    if pool is None:
        t.osd = -1
        return CalcResult.POOL_DNE

    force = t.epoch != 0 and pool.last_force_op_resend > t.last_force_resend
    if t.precalc_seed is not None:
        raw = PgId(pool_id, t.precalc_seed)
        pgid = raw_pg_to_pg(pool, raw)
        m = cache.get(osdmap, pgid)
    else:
        raw, pgid, m = cache.locate(osdmap, pool, pool_id, bytes(t.base_oid), bytes(t.key),
                                    bytes(t.nspace))
    primary = m.acting_primary if m.acting_primary >= 0 else -1

    changed = (
        force
        or any_change
        or pool_id != t.pool
        or pgid != t.pgid
        or primary != t.osd
        or m.acting != t.acting
        or m.up != t.up
        or m.up_primary != t.up_primary
        or pool.size != t.size
        or pool.min_size != t.min_size
        or pool.pg_num != t.pg_num
        or pool.pgp_num != t.pgp_num
    )
    was_paused = t.paused
    t.paused = target_should_be_paused(osdmap, t)
    unpaused = was_paused and not t.paused

    t.epoch = osdmap.epoch
    t.pool = pool_id
    t.raw_pgid = raw
    t.pgid = pgid
    t.osd = primary
    t.acting = list(m.acting)
    t.up = list(m.up)
    t.up_primary = m.up_primary
    t.size = pool.size
    t.min_size = pool.min_size
    t.pg_num = pool.pg_num
    t.pgp_num = pool.pgp_num
    t.last_force_resend = pool.last_force_op_resend
    if changed or unpaused:
        return CalcResult.NEED_RESEND
    return CalcResult.NO_ACTION
