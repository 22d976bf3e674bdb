"""``rbdpy osdmap ...``: research tools over binary OSDMaps, shaped like ``osdmaptool``.

* ``test-map-pgs-dump --osdmap FILE [--mark-up-in] [--mark-out N] [--pool ID]`` prints what
  ``osdmaptool FILE [--mark-up-in] [--mark-out N] --test-map-pgs-dump [--pool ID]`` prints on
  stdout (per-PG lines and the summary).
* ``map-object --osdmap FILE --pool ID OBJECT [--namespace NS] [--mark-up-in]`` prints what
  ``osdmaptool FILE --test-map-object OBJECT --pool ID`` prints.
* ``dump --osdmap FILE`` prints JSON: epoch, flags, pools, osds, upmaps, temps, blocklist.

The functions return the text so tests can compare it with osdmaptool's output; ``main``
is a standalone entry point (``python -m rbdpy.cli.osdmap``); the ``rbdpy`` command wires
:func:`add_subparsers` in.

Mirrors: ceph src/tools/osdmaptool.cc (--test-map-pgs-dump, --test-map-object).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

from rbdpy.rados.proto.crush import CrushMap
from rbdpy.rados.proto.osdmap import (
    CEPH_OSD_EXISTS,
    CEPH_OSD_IN,
    CEPH_OSD_OUT,
    CEPH_OSD_UP,
    CEPH_RELEASE_NAMES,
    OSDMap,
    PgPool,
)
from rbdpy.rados.proto.placement import (
    CRUSH_ITEM_NONE,
    object_locator_to_pg,
    pg_to_acting_osds,
    pg_to_up_acting_osds,
    raw_pg_to_pg,
)
from rbdpy.rados.proto.types import PgId

_F32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """Round through a C ``float`` as osdmaptool's get_weightf does."""
    v: float = _F32.unpack(_F32.pack(x))[0]
    return v


def _cfmt(x: float) -> str:
    """C++ ``ostream << double`` with the default precision (like ``%g``; glibc NaN)."""
    if math.isnan(x):
        return "-nan"  # 0.0/0.0 on x86 is the negative quiet NaN, printed "-nan" by glibc
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:g}"


def _vec(v: Sequence[int]) -> str:
    return "[" + ",".join(str(o) for o in v) + "]"


def load(path: str | Path) -> OSDMap:
    """Decode a binary full OSDMap file (``ceph osd getmap -o``, osdmaptool output)."""
    return OSDMap.from_bytes(Path(path).read_bytes())


def mark_up_in(osdmap: OSDMap) -> OSDMap:
    """osdmaptool --mark-up-in: every OSD up and in (not persisted).

    Like osdmaptool, an OSD whose CRUSH weight is 0 gets CRUSH weight 1.0
    (``adjust_item_weightf``); that part is implemented for straw2 buckets only.
    """
    m = dataclasses.replace(osdmap, osd_state=list(osdmap.osd_state),
                            osd_weight=list(osdmap.osd_weight))
    zero = [i for i in range(m.max_osd) if _crush_item_weight(m, i) == 0]
    if zero and m.crush is not None:
        m.crush = copy.deepcopy(m.crush)
        for i in zero:
            _adjust_item_weight(m.crush, i, 0x10000)
    for i in range(m.max_osd):
        m.osd_state[i] |= CEPH_OSD_UP | CEPH_OSD_EXISTS  # set_weight(IN) sets EXISTS
        m.osd_weight[i] = CEPH_OSD_IN
    return m


def _adjust_item_weight(crush: CrushMap, item: int, weight: int) -> None:
    """``CrushWrapper::adjust_item_weight``: set ``item``'s weight in every straw2 bucket
    holding it and carry the difference up to the buckets holding those."""
    for b in crush.buckets:
        if b is None or b.alg != 5 or item not in b.items:  # 5 = straw2
            continue
        i = b.items.index(item)
        diff = weight - b.item_weights[i]
        b.item_weights[i] = weight
        b.weight += diff
        _adjust_item_weight(crush, b.id, b.weight)


def mark_out(osdmap: OSDMap, osd: int) -> OSDMap:
    """osdmaptool --mark-out N: the OSD up but out (weight 0)."""
    m = dataclasses.replace(osdmap, osd_state=list(osdmap.osd_state),
                            osd_weight=list(osdmap.osd_weight))
    m.osd_state[osd] |= CEPH_OSD_UP
    m.osd_weight[osd] = CEPH_OSD_OUT
    return m


def _crush_item_weight(osdmap: OSDMap, osd: int) -> int:
    """``CrushWrapper::get_item_weight``: the item's 16.16 weight in its first bucket."""
    crush = osdmap.crush
    getter = getattr(crush, "get_item_weight", None)
    if getter is not None:
        w: int = getter(osd)
        return w
    for b in getattr(crush, "buckets", []) or []:
        if b is None:
            continue
        items = list(b.items)
        if osd in items:
            i = items.index(osd)
            weights = getattr(b, "item_weights", None)
            if weights is not None:
                return int(weights[i])
            return int(b.item_weight)
    return -2  # -ENOENT


def _prepare(path: str | Path, up_in: bool, out: int | None) -> tuple[OSDMap, list[str]]:
    osdmap = load(path)
    lines: list[str] = []
    if up_in:
        lines.append("marking all OSDs up and in")
        osdmap = mark_up_in(osdmap)
    if out is not None and 0 <= out < osdmap.max_osd:
        lines.append(f"marking OSD@{out} as out")
        osdmap = mark_out(osdmap, out)
    return osdmap, lines


def test_map_pgs_dump(path: str | Path, *, up_in: bool = False, out: int | None = None,
                      pool: int | None = None) -> str:
    """The stdout of ``osdmaptool PATH [--mark-up-in] [--mark-out N] --test-map-pgs-dump``."""
    osdmap, lines = _prepare(path, up_in, out)
    if pool is not None and pool not in osdmap.pools:
        raise SystemExit(f"There is no pool {pool}")
    n = osdmap.max_osd
    count = [0] * n
    first_count = [0] * n
    primary_count = [0] * n
    size: dict[int, int] = {}
    for pid in sorted(osdmap.pools):
        if pool is not None and pid != pool:
            continue
        p = osdmap.pools[pid]
        lines.append(f"pool {pid} pg_num {p.pg_num}")
        for ps in range(p.pg_num):
            pg = PgId(pid, ps)
            osds, primary = pg_to_acting_osds(osdmap, pg)
            size[len(osds)] = size.get(len(osds), 0) + 1
            lines.append(f"{pid}.{ps:x}\t{_vec(osds)}\t{primary}")
            for o in osds:
                if o != CRUSH_ITEM_NONE:
                    count[o] += 1
            if osds and osds[0] != CRUSH_ITEM_NONE:
                first_count[osds[0]] += 1
            if primary >= 0:
                primary_count[primary] += 1
    lines.append("#osd\tcount\tfirst\tprimary\tc wt\twt")
    total = 0
    n_in = 0
    min_osd = max_osd = -1
    counted: list[int] = []
    for i in range(n):
        if not osdmap.is_in(i):
            continue
        cw = _crush_item_weight(osdmap, i)
        if cw <= 0:
            continue
        n_in += 1
        counted.append(i)
        lines.append(f"osd.{i}\t{count[i]}\t{first_count[i]}\t{primary_count[i]}\t"
                     f"{_cfmt(_f32(cw / 0x10000))}\t"
                     f"{_cfmt(_f32(osdmap.osd_weight[i] / 0x10000))}")
        total += count[i]
        if count[i] and (min_osd < 0 or count[i] < count[min_osd]):
            min_osd = i
        if count[i] and (max_osd < 0 or count[i] > count[max_osd]):
            max_osd = i
    avg = total // n_in if n_in else 0
    dev = float(sum((avg - count[i]) ** 2 for i in counted))
    nan = float("nan")
    dev = math.sqrt(dev / n_in) if n_in else nan
    edev = math.sqrt(total / n_in * (1.0 - 1.0 / n_in)) if n_in else nan

    def div(a: float, b: float) -> float:
        if b:
            return a / b
        if math.isnan(a) or a == 0:
            return nan
        return math.copysign(math.inf, a)

    lines.append(f" in {n_in}")
    lines.append(f" avg {avg} stddev {_cfmt(dev)} ({_cfmt(div(dev, avg))}x) "
                 f"(expected {_cfmt(edev)} {_cfmt(div(edev, avg))}x))")
    if min_osd >= 0:
        lines.append(f" min osd.{min_osd} {count[min_osd]}")
    if max_osd >= 0:
        lines.append(f" max osd.{max_osd} {count[max_osd]}")
    for s in sorted(size):
        lines.append(f"size {s}\t{size[s]}")
    return "\n".join(lines) + "\n"


def map_object(path: str | Path, pool: int, name: str, *, namespace: str = "",
               up_in: bool = False) -> str:
    """The stdout of ``osdmaptool PATH --test-map-object NAME --pool ID``."""
    osdmap, lines = _prepare(path, up_in, None)
    if pool not in osdmap.pools:
        raise SystemExit(f"There is no pool {pool}")
    raw = object_locator_to_pg(osdmap, pool, name, nspace=namespace)
    pg = raw_pg_to_pg(osdmap.pools[pool], raw)
    acting, _ = pg_to_acting_osds(osdmap, pg)
    lines.append(f" object '{name}' -> {pg} -> {_vec(acting)}")
    return "\n".join(lines) + "\n"


def _utime(t: tuple[int, int]) -> float:
    return t[0] + t[1] / 1e9


def _pool_json(pid: int, name: str, p: PgPool) -> dict[str, object]:
    return {
        "pool": pid, "pool_name": name, "type": p.type, "size": p.size,
        "min_size": p.min_size, "crush_rule": p.crush_rule, "object_hash": p.object_hash,
        "pg_num": p.pg_num, "pg_placement_num": p.pgp_num, "pg_num_target": p.pg_num_target,
        "pg_placement_num_target": p.pgp_num_target, "pg_num_pending": p.pg_num_pending,
        "flags": p.flags, "last_change": p.last_change,
        "last_force_op_resend": p.last_force_op_resend, "snap_seq": p.snap_seq,
        "snap_epoch": p.snap_epoch,
        "pool_snaps": [{"snapid": s.snapid, "name": s.name} for s in p.snaps.values()],
        "removed_snaps": p.removed_snaps, "quota_max_bytes": p.quota_max_bytes,
        "quota_max_objects": p.quota_max_objects, "tiers": p.tiers, "tier_of": p.tier_of,
        "read_tier": p.read_tier, "write_tier": p.write_tier, "cache_mode": p.cache_mode,
        "erasure_code_profile": p.erasure_code_profile, "stripe_width": p.stripe_width,
        "application_metadata": p.application_metadata,
    }


def dump(path: str | Path) -> dict[str, object]:
    """A JSON-able summary of a full map (field names follow ``osdmaptool --dump json``)."""
    m = load(path)
    osds = []
    for i in range(m.max_osd):
        if not m.exists(i):
            continue
        osds.append({
            "osd": i,
            "uuid": str(__import__("uuid").UUID(bytes=m.osd_uuid[i])) if m.osd_uuid else "",
            "up": int(m.is_up(i)), "in": int(m.is_in(i)),
            "weight": m.osd_weight[i] / 0x10000,
            "primary_affinity": m.get_primary_affinity(i) / 0x10000,
            "public_addrs": [str(a) for a in m.client_addrs[i].addrs],
            "state": m.osd_state[i],
        })
    return {
        "epoch": m.epoch, "fsid": m.fsid_str, "created": _utime(m.created),
        "modified": _utime(m.modified), "flags_num": m.flags, "crush_version": m.crush_version,
        "pool_max": m.pool_max, "max_osd": m.max_osd,
        "require_osd_release": CEPH_RELEASE_NAMES.get(m.require_osd_release,
                                                      str(m.require_osd_release)),
        "pools": [_pool_json(pid, m.pool_name.get(pid, "<unknown>"), p)
                  for pid, p in sorted(m.pools.items())],
        "osds": osds,
        "pg_upmap": [{"pgid": str(pg), "osds": v} for pg, v in sorted(m.pg_upmap.items())],
        "pg_upmap_items": [{"pgid": str(pg), "mappings": [{"from": a, "to": b} for a, b in v]}
                           for pg, v in sorted(m.pg_upmap_items.items())],
        "pg_upmap_primaries": [{"pgid": str(pg), "primary_osd": o}
                               for pg, o in sorted(m.pg_upmap_primaries.items())],
        "pg_temp": [{"pgid": str(pg), "osds": v} for pg, v in sorted(m.pg_temp.items())],
        "primary_temp": [{"pgid": str(pg), "osd": o}
                         for pg, o in sorted(m.primary_temp.items())],
        "blocklist": {str(a): _utime(t) for a, t in m.blocklist.items()},
        "erasure_code_profiles": m.erasure_code_profiles,
    }


def map_pg(path: str | Path, pgid: str) -> str:
    """``pg P.S -> up [..] p acting [..] p`` for one pg (research helper)."""
    m = load(path)
    pool_s, _, seed_s = pgid.partition(".")
    r = pg_to_up_acting_osds(m, PgId(int(pool_s), int(seed_s, 16)))
    return f"{pgid} up ({_vec(r.up)}, p{r.up_primary}) acting ({_vec(r.acting)}, " \
           f"p{r.acting_primary})\n"


# -- argparse wiring -----------------------------------------------------------------------


def add_subparsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``osdmap`` subcommands on an argparse subparsers object."""
    p = sub.add_parser("test-map-pgs-dump", help="map every pg like osdmaptool")
    p.add_argument("--osdmap", required=True)
    p.add_argument("--mark-up-in", action="store_true")
    p.add_argument("--mark-out", type=int)
    p.add_argument("--pool", type=int)
    p.set_defaults(func=lambda a: test_map_pgs_dump(a.osdmap, up_in=a.mark_up_in,
                                                    out=a.mark_out, pool=a.pool))
    p = sub.add_parser("map-object", help="map one object like osdmaptool")
    p.add_argument("--osdmap", required=True)
    p.add_argument("--pool", type=int, required=True)
    p.add_argument("--namespace", default="")
    p.add_argument("--mark-up-in", action="store_true")
    p.add_argument("object")
    p.set_defaults(func=lambda a: map_object(a.osdmap, a.pool, a.object,
                                             namespace=a.namespace, up_in=a.mark_up_in))
    p = sub.add_parser("map-pg", help="up/acting of one pg")
    p.add_argument("--osdmap", required=True)
    p.add_argument("pgid")
    p.set_defaults(func=lambda a: map_pg(a.osdmap, a.pgid))
    p = sub.add_parser("dump", help="JSON dump of a binary OSDMap")
    p.add_argument("--osdmap", required=True)
    p.set_defaults(func=lambda a: json.dumps(dump(a.osdmap), indent=2, default=str) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rbdpy osdmap")
    add_subparsers(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(argv)
    sys.stdout.write(args.func(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
