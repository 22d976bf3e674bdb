"""OSDMap: full map and Incremental decode, incremental apply, and pg_pool_t.

Theory of operation: the monitors publish the cluster layout as a numbered sequence of
OSDMaps. A client receives, in MOSDMap messages, either full maps or *incrementals* (the
difference from epoch N-1 to N) and keeps exactly one current map. Both encodings are a
three-part envelope (8, 7): a *client-usable* section (pools, OSD up/in state and addresses,
pg_temp/primary_temp, primary affinity, the CRUSH map, erasure-code profiles, upmaps), an
*osd-only* section (heartbeat addresses, osd_info, blocklist, uuids, ratios, release
requirements, ...), and a crc32c (seed -1) over the whole encoding with the crc field itself
left out. We decode all of the client section and, from the osd-only section, only what a
client can use (blocklist, uuids, ratios, require_osd_release), skipping the rest by its
envelope length; newer struct versions are accepted by skipping their unknown tails.

:meth:`OSDMap.apply_incremental` returns a *new* map and leaves the old one untouched, so the
Objecter can compare old and new placements when deciding what to resend. Its order follows
``OSDMap::apply_incremental``: weights, then affinity, profiles, state XORs, new_up_client,
temps and upmaps, blocklist, and the CRUSH map last.

Where an object goes is computed in :mod:`rbdpy.rados.proto.placement`; this module only
holds the data and the per-pool helpers Ceph keeps on ``pg_pool_t`` (masks, pps).

Mirrors: ceph src/osd/OSDMap.{h,cc} (OSDMap::decode, Incremental::decode, apply_incremental,
set_max_osd, set_weight, set_primary_affinity), src/osd/osd_types.{h,cc} (pg_pool_t::encode/
decode, pool_snap_info_t, raw_pg_to_pg, raw_pg_to_pps, calc_pg_masks); kernel
net/ceph/osdmap.c (osdmap_decode, osdmap_apply_incremental, decode_pool).
"""

from __future__ import annotations

import dataclasses
import logging
import struct as _struct
import uuid as _uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.crc32c import ceph_crc32c
from rbdpy.rados.proto.crush import CrushMap, crush_hash32_2
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import DecodeError
from rbdpy.rados.proto.types import EntityAddr, EntityAddrvec, PgId

log = logging.getLogger(__name__)

T = TypeVar("T")

# -- constants -----------------------------------------------------------------------------

# CEPH_OSD_* state bits (ceph src/include/rados.h).
CEPH_OSD_EXISTS = 1 << 0
CEPH_OSD_UP = 1 << 1
CEPH_OSD_AUTOOUT = 1 << 2
CEPH_OSD_NEW = 1 << 3
CEPH_OSD_FULL = 1 << 4
CEPH_OSD_NEARFULL = 1 << 5
CEPH_OSD_BACKFILLFULL = 1 << 6
CEPH_OSD_DESTROYED = 1 << 7
CEPH_OSD_NOUP = 1 << 8
CEPH_OSD_NODOWN = 1 << 9
CEPH_OSD_NOIN = 1 << 10
CEPH_OSD_NOOUT = 1 << 11
CEPH_OSD_STOP = 1 << 12

# 16.16 fixed point weights (ceph src/include/rados.h).
CEPH_OSD_IN = 0x10000
CEPH_OSD_OUT = 0
CEPH_OSD_DEFAULT_PRIMARY_AFFINITY = 0x10000
CEPH_OSD_MAX_PRIMARY_AFFINITY = 0x10000

# CEPH_OSDMAP_* flags used by clients (ceph src/include/rados.h).
CEPH_OSDMAP_NEARFULL = 1 << 0
CEPH_OSDMAP_FULL = 1 << 1
CEPH_OSDMAP_PAUSERD = 1 << 2
CEPH_OSDMAP_PAUSEWR = 1 << 3
CEPH_OSDMAP_PAUSEREC = 1 << 4

# ceph_release_t (ceph src/common/ceph_releases.h): the number is the major version.
CEPH_RELEASE_NAMES = {
    0: "unknown", 1: "argonaut", 2: "bobtail", 3: "cuttlefish", 4: "dumpling",
    5: "emperor", 6: "firefly", 7: "giant", 8: "hammer", 9: "infernalis", 10: "jewel",
    11: "kraken", 12: "luminous", 13: "mimic", 14: "nautilus", 15: "octopus",
    16: "pacific", 17: "quincy", 18: "reef", 19: "squid", 20: "tentacle",
}

# The Pacific floor for each envelope (ceph OSDMap::encode with all SERVER_* features of a
# Pacific cluster). Anything older is a pre-Pacific (pre-Nautilus) encoding: rejected.
_OSDMAP_MIN_V = 7  # wrapper; 8 since Luminous, 7 = no crc
_CLIENT_MIN_V = 9  # client-usable data of a Nautilus+ full map
_INC_CLIENT_MIN_V = 8  # client-usable data of a Nautilus+ incremental
_PG_POOL_MIN_V = 29  # pg_pool_t encoding of Nautilus+ (ENCODE_START(29, 5))


# -- small helpers -------------------------------------------------------------------------


def _s32(dec: Decoder) -> int:
    return dec.s32()


def _u32(dec: Decoder) -> int:
    return dec.u32()


def _s64(dec: Decoder) -> int:
    return dec.s64()


def _string(dec: Decoder) -> str:
    return dec.string()


def _str_map(dec: Decoder) -> dict[str, str]:
    return dec.map_(_string, _string, 8)


def _pgid(dec: Decoder) -> PgId:
    return PgId.decode(dec)


def _s32_vec(dec: Decoder) -> list[int]:
    return dec.list_(_s32, 4)


def _u32_vec(dec: Decoder) -> list[int]:
    return dec.list_(_u32, 4)


def _pair_vec(dec: Decoder) -> list[tuple[int, int]]:
    return dec.list_(lambda d: (d.s32(), d.s32()), 8)


def _interval_set(dec: Decoder) -> list[tuple[int, int]]:
    """``interval_set<snapid_t>``: le32 count + (start, length) u64 pairs."""
    return dec.list_(lambda d: (d.u64(), d.u64()), 16)


def _enc_interval_set(enc: Encoder, v: list[tuple[int, int]]) -> None:
    enc.u32(len(v))
    for start, length in v:
        enc.u64(start)
        enc.u64(length)


def _enc_str_map(enc: Encoder, m: dict[str, str]) -> None:
    enc.map_(m, Encoder.string, Encoder.string)


def _raw_struct(dec: Decoder, name: str) -> bytes:
    """Capture one versioned envelope verbatim (for fields we carry but do not interpret)."""
    start = dec.pos
    with dec.struct(name):
        pass
    return bytes(dec.buf[start:dec.pos])


def _uuid_str(u: bytes) -> str:
    return str(_uuid.UUID(bytes=u))


def cbits(v: int) -> int:
    """Number of bits needed to hold ``v`` (ceph include/intarith.h ``cbits``)."""
    return v.bit_length()


def ceph_stable_mod(x: int, b: int, bmask: int) -> int:
    """Fold a hash into ``b`` buckets stably while b grows (ceph include/rados.h)."""
    if (x & bmask) < b:
        return x & bmask
    return x & (bmask >> 1)


# -- pool_snap_info_t ----------------------------------------------------------------------


@dataclass(slots=True)
class PoolSnapInfo:
    """``pool_snap_info_t`` (ceph src/osd/osd_types.cc): struct_v 2, compat 2.

    Fields: snapid, stamp (utime), name. Accepts v >= 2; newer tails are skipped.
    """

    CEPH_TYPE: ClassVar[str] = "pool_snap_info_t"

    snapid: int = 0
    stamp: tuple[int, int] = (0, 0)
    name: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> PoolSnapInfo:
        with dec.struct(cls.CEPH_TYPE, min_v=2, max_compat=2):
            return cls(dec.u64(), dec.utime(), dec.string())

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(2, 2):
            enc.u64(self.snapid)
            enc.utime(self.stamp)
            enc.string(self.name)


# -- pg_pool_t -----------------------------------------------------------------------------


@dataclass(slots=True)
class PgPool:
    """``pg_pool_t``: one pool's placement and policy (ceph src/osd/osd_types.cc).

    Accepted: struct_v 29 (Nautilus..Squid) and newer (Tentacle's 32: the tail past v29 —
    stretch-pool peering fields and later — is skipped); compat up to 5. Older versions are
    pre-Nautilus encodings and raise :class:`DecodeError`. ``hit_set_params``, ``opts`` and
    ``last_pg_merge_meta`` are kept as their raw envelopes (a client does not interpret them)
    so that decode → encode reproduces v29 bytes exactly. lpg_num/lpgp_num,
    crash_replay_interval and the two pg_num_dec_* epochs are always-zero legacy fields and
    are skipped.
    """

    CEPH_TYPE: ClassVar[str] = "pg_pool_t"
    TYPE_REPLICATED: ClassVar[int] = 1
    TYPE_ERASURE: ClassVar[int] = 3
    FLAG_HASHPSPOOL: ClassVar[int] = 1 << 0
    FLAG_FULL: ClassVar[int] = 1 << 1
    FLAG_FULL_QUOTA: ClassVar[int] = 1 << 10
    FLAG_SELFMANAGED_SNAPS: ClassVar[int] = 1 << 13
    FLAG_POOL_SNAPS: ClassVar[int] = 1 << 14
    FLAG_EIO: ClassVar[int] = 1 << 16

    type: int = TYPE_REPLICATED
    size: int = 0
    crush_rule: int = 0
    object_hash: int = 2
    pg_num: int = 0
    pgp_num: int = 0
    last_change: int = 0
    snap_seq: int = 0
    snap_epoch: int = 0
    snaps: dict[int, PoolSnapInfo] = field(default_factory=dict)
    removed_snaps: list[tuple[int, int]] = field(default_factory=list)
    auid: int = 0
    flags: int = 0
    min_size: int = 0
    quota_max_bytes: int = 0
    quota_max_objects: int = 0
    tiers: list[int] = field(default_factory=list)
    tier_of: int = -1
    cache_mode: int = 0
    read_tier: int = -1
    write_tier: int = -1
    properties: dict[str, str] = field(default_factory=dict)
    hit_set_params: bytes = b"\x01\x01\x01\x00\x00\x00\x00"  # envelope, TYPE_NONE
    hit_set_period: int = 0
    hit_set_count: int = 0
    stripe_width: int = 0
    target_max_bytes: int = 0
    target_max_objects: int = 0
    cache_target_dirty_ratio_micro: int = 0
    cache_target_full_ratio_micro: int = 0
    cache_min_flush_age: int = 0
    cache_min_evict_age: int = 0
    erasure_code_profile: str = ""
    last_force_op_resend_preluminous: int = 0
    min_read_recency_for_promote: int = 0
    expected_num_objects: int = 0
    cache_target_dirty_high_ratio_micro: int = 0
    min_write_recency_for_promote: int = 0
    use_gmt_hitset: bool = True
    fast_read: bool = False
    hit_set_grade_decay_rate: int = 0
    hit_set_search_last_n: int = 0
    opts: bytes = b"\x02\x01\x04\x00\x00\x00\x00\x00\x00\x00"  # envelope, empty map
    last_force_op_resend_prenautilus: int = 0
    application_metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    create_time: tuple[int, int] = (0, 0)
    pg_num_target: int = 0
    pgp_num_target: int = 0
    pg_num_pending: int = 0
    last_force_op_resend: int = 0
    pg_autoscale_mode: int = 0
    last_pg_merge_meta: bytes = b""
    # Derived (calc_pg_masks), not encoded.
    pg_num_mask: int = 0
    pgp_num_mask: int = 0

    def __post_init__(self) -> None:
        self.calc_pg_masks()

    @classmethod
    def decode(cls, dec: Decoder) -> PgPool:
        """Decode one ``pg_pool_t`` (see the class docstring for the accepted versions)."""
        with dec.struct(cls.CEPH_TYPE, min_v=_PG_POOL_MIN_V, max_compat=5):
            p = cls.__new__(cls)
            p.type = dec.u8()
            p.size = dec.u8()
            p.crush_rule = dec.u8()
            p.object_hash = dec.u8()
            p.pg_num = dec.u32()
            p.pgp_num = dec.u32()
            dec.skip(8)  # lpg_num, lpgp_num: always 0 ("no localized pgs")
            p.last_change = dec.u32()
            p.snap_seq = dec.u64()
            p.snap_epoch = dec.u32()
            with dec.named("snaps"):
                p.snaps = dec.map_(lambda d: d.u64(), PoolSnapInfo.decode, 14)
            with dec.named("removed_snaps"):
                p.removed_snaps = _interval_set(dec)
            p.auid = dec.u64()
            p.flags = dec.u64()
            dec.skip(4)  # crash_replay_interval: always 0 since Luminous
            p.min_size = dec.u8()
            p.quota_max_bytes = dec.u64()
            p.quota_max_objects = dec.u64()
            p.tiers = dec.list_(lambda d: d.u64(), 8)
            p.tier_of = dec.s64()
            p.cache_mode = dec.u8()
            p.read_tier = dec.s64()
            p.write_tier = dec.s64()
            with dec.named("properties"):
                p.properties = _str_map(dec)
            p.hit_set_params = _raw_struct(dec, "hit_set_params")
            p.hit_set_period = dec.u32()
            p.hit_set_count = dec.u32()
            p.stripe_width = dec.u32()
            p.target_max_bytes = dec.u64()
            p.target_max_objects = dec.u64()
            p.cache_target_dirty_ratio_micro = dec.u32()
            p.cache_target_full_ratio_micro = dec.u32()
            p.cache_min_flush_age = dec.u32()
            p.cache_min_evict_age = dec.u32()
            p.erasure_code_profile = dec.string()
            p.last_force_op_resend_preluminous = dec.u32()
            p.min_read_recency_for_promote = dec.s32()
            p.expected_num_objects = dec.u64()
            p.cache_target_dirty_high_ratio_micro = dec.u32()  # v19
            p.min_write_recency_for_promote = dec.s32()  # v20
            p.use_gmt_hitset = dec.bool_()  # v21
            p.fast_read = dec.bool_()  # v22
            p.hit_set_grade_decay_rate = dec.u32()  # v23
            p.hit_set_search_last_n = dec.u32()
            p.opts = _raw_struct(dec, "opts")  # v24 pool_opts_t
            p.last_force_op_resend_prenautilus = dec.u32()  # v25
            with dec.named("application_metadata"):  # v26
                p.application_metadata = dec.map_(_string, _str_map, 8)
            p.create_time = dec.utime()  # v27
            p.pg_num_target = dec.u32()  # v28 (Nautilus)
            p.pgp_num_target = dec.u32()
            p.pg_num_pending = dec.u32()
            dec.skip(8)  # pg_num_dec_last_epoch_started/clean from 14.1.[01]: always 0
            p.last_force_op_resend = dec.u32()
            p.pg_autoscale_mode = dec.u8()
            p.last_pg_merge_meta = _raw_struct(dec, "last_pg_merge_meta")  # v29
            # v30+ (Reef: peering_crush_bucket_*, Tentacle: ...) skipped by the envelope.
        p.calc_pg_masks()
        return p

    def encode(self, enc: Encoder, features: int = 0) -> None:
        """Encode as struct_v 29, compat 5 (what a Pacific mon sends)."""
        with enc.struct(29, 5):
            enc.u8(self.type)
            enc.u8(self.size)
            enc.u8(self.crush_rule)
            enc.u8(self.object_hash)
            enc.u32(self.pg_num)
            enc.u32(self.pgp_num)
            enc.u32(0)
            enc.u32(0)
            enc.u32(self.last_change)
            enc.u64(self.snap_seq)
            enc.u32(self.snap_epoch)
            enc.map_(self.snaps, Encoder.u64, lambda e, s: s.encode(e))
            _enc_interval_set(enc, self.removed_snaps)
            enc.u64(self.auid)
            enc.u64(self.flags)
            enc.u32(0)
            enc.u8(self.min_size)
            enc.u64(self.quota_max_bytes)
            enc.u64(self.quota_max_objects)
            enc.list_(sorted(self.tiers), Encoder.u64)
            enc.s64(self.tier_of)
            enc.u8(self.cache_mode)
            enc.s64(self.read_tier)
            enc.s64(self.write_tier)
            _enc_str_map(enc, self.properties)
            enc.raw(self.hit_set_params)
            enc.u32(self.hit_set_period)
            enc.u32(self.hit_set_count)
            enc.u32(self.stripe_width)
            enc.u64(self.target_max_bytes)
            enc.u64(self.target_max_objects)
            enc.u32(self.cache_target_dirty_ratio_micro)
            enc.u32(self.cache_target_full_ratio_micro)
            enc.u32(self.cache_min_flush_age)
            enc.u32(self.cache_min_evict_age)
            enc.string(self.erasure_code_profile)
            enc.u32(self.last_force_op_resend_preluminous)
            enc.s32(self.min_read_recency_for_promote)
            enc.u64(self.expected_num_objects)
            enc.u32(self.cache_target_dirty_high_ratio_micro)
            enc.s32(self.min_write_recency_for_promote)
            enc.bool_(self.use_gmt_hitset)
            enc.bool_(self.fast_read)
            enc.u32(self.hit_set_grade_decay_rate)
            enc.u32(self.hit_set_search_last_n)
            enc.raw(self.opts)
            enc.u32(self.last_force_op_resend_prenautilus)
            enc.map_(self.application_metadata, Encoder.string, _enc_str_map)
            enc.utime(self.create_time)
            enc.u32(self.pg_num_target)
            enc.u32(self.pgp_num_target)
            enc.u32(self.pg_num_pending)
            enc.u32(0)
            enc.u32(0)
            enc.u32(self.last_force_op_resend)
            enc.u8(self.pg_autoscale_mode)
            if self.last_pg_merge_meta:
                enc.raw(self.last_pg_merge_meta)
            else:
                _encode_empty_merge_meta(enc)

    # -- pg_pool_t helpers (osd_types.h) ---------------------------------------------------

    def calc_pg_masks(self) -> None:
        """``pg_pool_t::calc_pg_masks``: next power of two minus one."""
        self.pg_num_mask = (1 << cbits(self.pg_num - 1)) - 1 if self.pg_num else 0
        self.pgp_num_mask = (1 << cbits(self.pgp_num - 1)) - 1 if self.pgp_num else 0

    def is_replicated(self) -> bool:
        return self.type == self.TYPE_REPLICATED

    def is_erasure(self) -> bool:
        return self.type == self.TYPE_ERASURE

    def can_shift_osds(self) -> bool:
        """Replicated pools compact their OSD lists; EC pools keep positions (shards)."""
        return self.type == self.TYPE_REPLICATED

    def has_flag(self, flag: int) -> bool:
        return bool(self.flags & flag)

    def raw_pg_to_pg_seed(self, seed: int) -> int:
        """``raw_pg_to_pg``: fold a raw hash to an actual pg seed with pg_num."""
        return ceph_stable_mod(seed, self.pg_num, self.pg_num_mask)

    def raw_pg_to_pps(self, seed: int, pool_id: int) -> int:
        """``raw_pg_to_pps``: the CRUSH input for a pg (placement seed)."""
        t = ceph_stable_mod(seed, self.pgp_num, self.pgp_num_mask)
        if self.flags & self.FLAG_HASHPSPOOL:
            # Hash the pool id in so the pools' PGs do not overlap.
            return crush_hash32_2(t, pool_id & 0xFFFFFFFF)
        # Legacy: ps + pool, so 0.5 == 1.4 == 2.3 ... (ps_t is 32 bits).
        return (t + pool_id) & 0xFFFFFFFF


def _encode_empty_merge_meta(enc: Encoder) -> None:
    """An all-zero ``pg_merge_meta_t`` (ENCODE_START(1, 1)): pg_t, epochs, eversions."""
    with enc.struct(1, 1):
        PgId(0, 0).encode(enc)
        enc.u32(0)  # ready_epoch
        enc.u32(0)  # last_epoch_started
        enc.u32(0)  # last_epoch_clean
        enc.raw(b"\0" * 24)  # source_version, target_version (eversion_t: u64 + u32)


# -- the OSDMap ----------------------------------------------------------------------------


def _crc_check(dec: Decoder, start: int, crc_pos: int, end: int, what: str) -> int:
    """Verify a map crc: crc32c(-1) over [start, crc_pos) then over [crc_pos+4, end)."""
    buf = dec.buf
    expected = int.from_bytes(buf[crc_pos:crc_pos + 4], "little")
    actual = ceph_crc32c(0xFFFFFFFF, buf[start:crc_pos])
    if crc_pos + 4 < end:
        actual = ceph_crc32c(actual, buf[crc_pos + 4:end])
    if actual != expected:
        raise DecodeError(f"{what}: bad crc, actual {actual} != expected {expected} "
                          f"at offset {crc_pos}")
    return expected


def _decode_crush(buf: memoryview, start: int, end: int, what: str) -> CrushMap | None:
    """Decode the CRUSH bufferlist in place (offsets stay absolute) as a DecodeError."""
    if start == end:
        return None
    try:
        return CrushMap.decode_from(Decoder(buf, what, pos=start, end=end))
    except DecodeError:
        raise
    except Exception as e:  # anything else from the CRUSH decoder is still bad input
        raise DecodeError(f"{what}: {type(e).__name__}: {e} (crush at offset {start})") from e


@dataclass(slots=True)
class OSDMap:
    """``OSDMap``: a full map (ceph src/osd/OSDMap.cc ``OSDMap::decode``).

    Accepted: wrapper v7..(any) compat <= 7; client-usable section v9 (Nautilus..Quincy) or
    v10+ (Reef adds pg_upmap_primaries), compat 1; osd-only section any version (we read
    through ``require_osd_release`` when present, skip the rest). Pre-Nautilus encodings
    (client section < v9, classic maps) raise :class:`DecodeError`. Skipped from the osd-only
    section: heartbeat/cluster addresses, osd_info, osd_xinfo, cluster_snapshot,
    removed_snaps_queue, crush_node_flags, device_class_flags, stretch mode, range blocklist.
    Decode-only: :meth:`encode` raises ``NotImplementedError``.
    """

    CEPH_TYPE: ClassVar[str] = "OSDMap"

    fsid: bytes = b"\0" * 16
    epoch: int = 0
    created: tuple[int, int] = (0, 0)
    modified: tuple[int, int] = (0, 0)
    pools: dict[int, PgPool] = field(default_factory=dict)
    pool_name: dict[int, str] = field(default_factory=dict)
    pool_max: int = -1
    flags: int = 0
    max_osd: int = 0
    osd_state: list[int] = field(default_factory=list)
    osd_weight: list[int] = field(default_factory=list)
    client_addrs: list[EntityAddrvec] = field(default_factory=list)
    pg_temp: dict[PgId, list[int]] = field(default_factory=dict)
    primary_temp: dict[PgId, int] = field(default_factory=dict)
    # None = every OSD has the default affinity (Ceph resets an empty vector to null).
    osd_primary_affinity: list[int] | None = None
    crush_raw: bytes = b""
    crush: CrushMap | None = None
    erasure_code_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    pg_upmap: dict[PgId, list[int]] = field(default_factory=dict)
    pg_upmap_items: dict[PgId, list[tuple[int, int]]] = field(default_factory=dict)
    crush_version: int = 1
    new_removed_snaps: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    new_purged_snaps: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    last_up_change: tuple[int, int] = (0, 0)
    last_in_change: tuple[int, int] = (0, 0)
    pg_upmap_primaries: dict[PgId, int] = field(default_factory=dict)  # Reef+
    # From the osd-only section.
    blocklist: dict[EntityAddr, tuple[int, int]] = field(default_factory=dict)
    osd_uuid: list[bytes] = field(default_factory=list)
    nearfull_ratio: float = 0.0
    full_ratio: float = 0.0
    backfillfull_ratio: float = 0.0
    require_min_compat_client: int = 0
    require_osd_release: int = 0
    crc: int | None = None

    # -- decode ----------------------------------------------------------------------------

    @classmethod
    def decode(cls, dec: Decoder, *, verify_crc: bool = True) -> OSDMap:
        """Decode a full map from ``dec`` (see the class docstring)."""
        m = cls()
        start = dec.pos
        with dec.struct("OSDMap", min_v=_OSDMAP_MIN_V, max_compat=7) as v:
            with dec.struct("client", min_v=_CLIENT_MIN_V, max_compat=1) as cv:
                m._decode_client(dec, cv)
            with dec.struct("osd_only") as ov:
                m._decode_osd_only(dec, ov)
            if v >= 8:
                crc_pos = dec.pos
                m.crc = dec.u32()
                if verify_crc:
                    _crc_check(dec, start, crc_pos, dec.end, "OSDMap")
        log.debug("decoded OSDMap e%d: %d pools, max_osd %d", m.epoch, len(m.pools),
                  m.max_osd)
        return m

    @classmethod
    def from_bytes(cls, data: Buffer, *, verify_crc: bool = True) -> OSDMap:
        """Decode a whole buffer holding exactly one full map."""
        dec = Decoder(data)
        m = cls.decode(dec, verify_crc=verify_crc)
        if not dec.at_end():
            raise dec.error(f"{dec.remaining} trailing bytes")
        return m

    def encode(self, enc: Encoder, features: int = 0) -> None:
        raise NotImplementedError("decode-only")

    def _decode_client(self, dec: Decoder, v: int) -> None:
        self.fsid = dec.uuid()
        self.epoch = dec.u32()
        self.created = dec.utime()
        self.modified = dec.utime()
        with dec.named("pools"):
            self.pools = dec.map_(_s64, PgPool.decode, 14)
        with dec.named("pool_name"):
            self.pool_name = dec.map_(_s64, _string, 12)
        self.pool_max = dec.s32()
        self.flags = dec.u32()
        self.max_osd = dec.s32()
        if self.max_osd < 0:
            raise dec.error(f"max_osd {self.max_osd}")
        with dec.named("osd_state"):
            self.osd_state = _u32_vec(dec)
        with dec.named("osd_weight"):
            self.osd_weight = _u32_vec(dec)
        with dec.named("client_addrs"):
            self.client_addrs = dec.list_(EntityAddrvec.decode, 5)
        if not (len(self.osd_state) == len(self.osd_weight) == len(self.client_addrs)
                == self.max_osd):
            raise dec.error(f"per-osd vectors do not match max_osd {self.max_osd}")
        with dec.named("pg_temp"):
            self.pg_temp = dec.map_(_pgid, _s32_vec, 21)
        with dec.named("primary_temp"):
            self.primary_temp = dec.map_(_pgid, _s32, 21)
        with dec.named("osd_primary_affinity"):
            aff = _u32_vec(dec)
        self.osd_primary_affinity = aff or None
        if aff and len(aff) != self.max_osd:
            raise dec.error(f"osd_primary_affinity has {len(aff)} entries, "
                            f"max_osd {self.max_osd}")
        with dec.named("crush"):
            n = dec.u32()
            start = dec.pos
            dec.skip(n)
        self.crush_raw = bytes(dec.buf[start:start + n])
        self.crush = _decode_crush(dec.buf, start, start + n, "OSDMap.crush")
        with dec.named("erasure_code_profiles"):
            self.erasure_code_profiles = dec.map_(_string, _str_map, 8)
        with dec.named("pg_upmap"):
            self.pg_upmap = dec.map_(_pgid, _s32_vec, 21)
        with dec.named("pg_upmap_items"):
            self.pg_upmap_items = dec.map_(_pgid, _pair_vec, 21)
        self.crush_version = dec.s32()
        with dec.named("new_removed_snaps"):
            self.new_removed_snaps = dec.map_(_s64, _interval_set, 12)
        with dec.named("new_purged_snaps"):
            self.new_purged_snaps = dec.map_(_s64, _interval_set, 12)
        self.last_up_change = dec.utime()
        self.last_in_change = dec.utime()
        if v >= 10:  # added in v10 (Reef)
            with dec.named("pg_upmap_primaries"):
                self.pg_upmap_primaries = dec.map_(_pgid, _s32, 21)

    def _decode_osd_only(self, dec: Decoder, v: int) -> None:
        n = self.max_osd
        with dec.named("hb_back_addrs"):
            dec.list_(EntityAddrvec.decode, 5)  # skip: heartbeat addresses
        with dec.named("osd_info"):
            # skip osd_info_t: u8 struct_v + six epochs, fixed 25 bytes each.
            cnt = dec.count(25)
            dec.skip(25 * cnt)
        with dec.named("blocklist"):
            self.blocklist = dec.map_(EntityAddr.decode, lambda d: d.utime(), 15)
        with dec.named("cluster_addrs"):
            dec.list_(EntityAddrvec.decode, 5)  # skip
        dec.skip(4)  # cluster_snapshot_epoch
        dec.string()  # cluster_snapshot
        with dec.named("osd_uuid"):
            self.osd_uuid = dec.list_(lambda d: d.uuid(), 16)
        with dec.named("osd_xinfo"):
            for _ in range(dec.count(6)):
                with dec.struct("osd_xinfo_t"):
                    pass  # skip: laggy stats, features, old_weight
        with dec.named("hb_front_addrs"):
            dec.list_(EntityAddrvec.decode, 5)  # skip
        if v >= 2:
            self.nearfull_ratio = _f32(dec)
            self.full_ratio = _f32(dec)
        if v >= 3:
            self.backfillfull_ratio = _f32(dec)
        if v >= 5:
            self.require_min_compat_client = dec.u8()
            self.require_osd_release = dec.u8()
        if len(self.osd_uuid) not in (0, n):
            raise dec.error(f"osd_uuid has {len(self.osd_uuid)} entries, max_osd {n}")
        # v6+: removed_snaps_queue, crush_node_flags, ... (not needed by a client) skipped.

    # -- queries (OSDMap.h) -----------------------------------------------------------------

    def exists(self, osd: int) -> bool:
        return 0 <= osd < self.max_osd and bool(self.osd_state[osd] & CEPH_OSD_EXISTS)

    def is_up(self, osd: int) -> bool:
        return self.exists(osd) and bool(self.osd_state[osd] & CEPH_OSD_UP)

    def is_down(self, osd: int) -> bool:
        return not self.is_up(osd)

    def is_out(self, osd: int) -> bool:
        return not self.exists(osd) or self.osd_weight[osd] == CEPH_OSD_OUT

    def is_in(self, osd: int) -> bool:
        return not self.is_out(osd)

    def get_primary_affinity(self, osd: int) -> int:
        if self.osd_primary_affinity is None:
            return CEPH_OSD_DEFAULT_PRIMARY_AFFINITY
        return self.osd_primary_affinity[osd]

    def get_pg_pool(self, pool: int) -> PgPool | None:
        return self.pools.get(pool)

    def lookup_pg_pool_name(self, name: str) -> int:
        """Pool id by name, -ENOENT style: -1 when absent."""
        for pid, pname in self.pool_name.items():
            if pname == name:
                return pid
        return -1

    def get_addrs(self, osd: int) -> EntityAddrvec:
        return self.client_addrs[osd]

    def test_flag(self, flag: int) -> bool:
        return bool(self.flags & flag)

    @property
    def fsid_str(self) -> str:
        return _uuid_str(self.fsid)

    # -- mutation helpers (copy-on-write: called only on a fresh copy) ----------------------

    def set_max_osd(self, m: int) -> None:
        """``OSDMap::set_max_osd``: grow (new OSDs: no state, out) or shrink the vectors."""
        def fit(v: list[T], fill: Callable[[], T]) -> list[T]:
            return v[:m] + [fill() for _ in range(m - len(v))]

        self.max_osd = m
        self.osd_state = fit(self.osd_state, lambda: 0)
        self.osd_weight = fit(self.osd_weight, lambda: CEPH_OSD_OUT)
        self.client_addrs = fit(self.client_addrs, EntityAddrvec)
        if self.osd_uuid:
            self.osd_uuid = fit(self.osd_uuid, lambda: b"\0" * 16)
        if self.osd_primary_affinity is not None:
            self.osd_primary_affinity = fit(self.osd_primary_affinity,
                                            lambda: CEPH_OSD_DEFAULT_PRIMARY_AFFINITY)

    def set_primary_affinity(self, osd: int, w: int) -> None:
        if self.osd_primary_affinity is None:
            self.osd_primary_affinity = [CEPH_OSD_DEFAULT_PRIMARY_AFFINITY] * self.max_osd
        self.osd_primary_affinity[osd] = w

    def _check_osd(self, osd: int, what: str) -> None:
        if not 0 <= osd < self.max_osd:
            raise DecodeError(f"OSDMap.Incremental: {what} names osd.{osd} beyond max_osd "
                              f"{self.max_osd}")

    # -- incremental ------------------------------------------------------------------------

    def apply_incremental(self, inc: Incremental) -> OSDMap:
        """``OSDMap::apply_incremental``: the map of epoch ``inc.epoch``; self is unchanged.

        :raises DecodeError: wrong fsid or epoch (not ``self.epoch + 1``), an OSD id beyond
            max_osd, or an undecodable embedded full map / CRUSH map.
        """
        if inc.epoch != 1 and inc.fsid != self.fsid:
            raise DecodeError(f"OSDMap.Incremental: fsid {_uuid_str(inc.fsid)} != map fsid "
                              f"{self.fsid_str}")
        if inc.epoch != self.epoch + 1:
            raise DecodeError(f"OSDMap.Incremental: epoch {inc.epoch} does not follow "
                              f"{self.epoch}")
        if inc.fullmap:
            full = OSDMap.from_bytes(inc.fullmap)
            log.debug("incremental e%d carries a full map", inc.epoch)
            return full

        m = dataclasses.replace(self)
        m.epoch = inc.epoch
        m.fsid = inc.fsid
        m.modified = inc.modified
        if inc.new_flags >= 0:
            m.flags = inc.new_flags
        if inc.new_max_osd >= 0:
            m.set_max_osd(inc.new_max_osd)
        else:
            m.osd_state = list(m.osd_state)
            m.osd_weight = list(m.osd_weight)
            m.client_addrs = list(m.client_addrs)
            m.osd_uuid = list(m.osd_uuid)
            if m.osd_primary_affinity is not None:
                m.osd_primary_affinity = list(m.osd_primary_affinity)
        if inc.new_pool_max != -1:
            m.pool_max = inc.new_pool_max

        m.pools = dict(m.pools)
        for pid, pool in inc.new_pools.items():
            # Ceph stamps last_change with the new epoch on apply.
            m.pools[pid] = dataclasses.replace(pool, last_change=m.epoch)
        m.new_removed_snaps = inc.new_removed_snaps
        m.new_purged_snaps = inc.new_purged_snaps
        if inc.new_last_up_change != (0, 0):
            m.last_up_change = inc.new_last_up_change
        if inc.new_last_in_change != (0, 0):
            m.last_in_change = inc.new_last_in_change
        m.pool_name = dict(m.pool_name)
        m.pool_name.update(inc.new_pool_names)
        for pid in inc.old_pools:
            m.pools.pop(pid, None)
            m.pool_name.pop(pid, None)

        for osd, w in inc.new_weight.items():
            m._check_osd(osd, "new_weight")
            m.osd_weight[osd] = w
            if w:
                # set_weight marks it existing; marking in clears AUTOOUT and NEW.
                m.osd_state[osd] |= CEPH_OSD_EXISTS
                m.osd_state[osd] &= ~(CEPH_OSD_AUTOOUT | CEPH_OSD_NEW)
        for osd, a in inc.new_primary_affinity.items():
            m._check_osd(osd, "new_primary_affinity")
            m.set_primary_affinity(osd, a)

        m.erasure_code_profiles = dict(m.erasure_code_profiles)
        for name in inc.old_erasure_code_profiles:
            m.erasure_code_profiles.pop(name, None)
        m.erasure_code_profiles.update(inc.new_erasure_code_profiles)

        for osd, xor in inc.new_state.items():
            m._check_osd(osd, "new_state")
            s = xor if xor else CEPH_OSD_UP  # 0 means "flip UP" (pre-Luminous habit)
            if (m.osd_state[osd] & CEPH_OSD_EXISTS) and (s & CEPH_OSD_EXISTS):
                # The OSD is destroyed: forget everything about it.
                if m.osd_uuid:
                    m.osd_uuid[osd] = b"\0" * 16
                if m.osd_primary_affinity is not None:
                    m.osd_primary_affinity[osd] = CEPH_OSD_DEFAULT_PRIMARY_AFFINITY
                m.client_addrs[osd] = EntityAddrvec()
                m.osd_state[osd] = 0
            else:
                m.osd_state[osd] ^= s
        for osd, addrs in inc.new_up_client.items():
            m._check_osd(osd, "new_up_client")
            m.osd_state[osd] = (m.osd_state[osd] | CEPH_OSD_EXISTS | CEPH_OSD_UP) \
                & ~CEPH_OSD_STOP
            m.client_addrs[osd] = addrs
        if inc.new_uuid:
            if not m.osd_uuid:
                m.osd_uuid = [b"\0" * 16] * m.max_osd
            for osd, u in inc.new_uuid.items():
                m._check_osd(osd, "new_uuid")
                m.osd_uuid[osd] = u

        if inc.new_pg_temp:
            m.pg_temp = dict(m.pg_temp)
            for pg, osds in inc.new_pg_temp.items():
                if osds:
                    m.pg_temp[pg] = osds
                else:
                    m.pg_temp.pop(pg, None)
        if inc.new_primary_temp:
            m.primary_temp = dict(m.primary_temp)
            for pg, osd in inc.new_primary_temp.items():
                if osd == -1:
                    m.primary_temp.pop(pg, None)
                else:
                    m.primary_temp[pg] = osd
        if inc.new_pg_upmap or inc.old_pg_upmap:
            m.pg_upmap = dict(m.pg_upmap)
            m.pg_upmap.update(inc.new_pg_upmap)
            for pg in inc.old_pg_upmap:
                m.pg_upmap.pop(pg, None)
        if inc.new_pg_upmap_items or inc.old_pg_upmap_items:
            m.pg_upmap_items = dict(m.pg_upmap_items)
            m.pg_upmap_items.update(inc.new_pg_upmap_items)
            for pg in inc.old_pg_upmap_items:
                m.pg_upmap_items.pop(pg, None)
        if inc.new_pg_upmap_primary or inc.old_pg_upmap_primary:
            m.pg_upmap_primaries = dict(m.pg_upmap_primaries)
            m.pg_upmap_primaries.update(inc.new_pg_upmap_primary)
            for pg in inc.old_pg_upmap_primary:
                m.pg_upmap_primaries.pop(pg, None)

        if inc.new_blocklist or inc.old_blocklist:
            m.blocklist = dict(m.blocklist)
            m.blocklist.update(inc.new_blocklist)
            for addr in inc.old_blocklist:
                m.blocklist.pop(addr, None)

        if inc.new_nearfull_ratio >= 0:
            m.nearfull_ratio = inc.new_nearfull_ratio
        if inc.new_backfillfull_ratio >= 0:
            m.backfillfull_ratio = inc.new_backfillfull_ratio
        if inc.new_full_ratio >= 0:
            m.full_ratio = inc.new_full_ratio
        if 0 < inc.new_require_min_compat_client < 0xFF:
            m.require_min_compat_client = inc.new_require_min_compat_client
        if inc.new_require_osd_release < 0xFF:
            m.require_osd_release = inc.new_require_osd_release

        # The CRUSH map goes last (after up/down), as in Ceph.
        if inc.crush:
            m.crush_raw = inc.crush
            m.crush = _decode_crush(memoryview(inc.crush), 0, len(inc.crush),
                                    "OSDMap::Incremental.crush")
            if m.require_osd_release >= 12:  # Luminous-encoded maps count crush versions
                m.crush_version += 1
        log.debug("applied incremental e%d", m.epoch)
        return m


_F32 = _struct.Struct("<f")


def _f32(dec: Decoder) -> float:
    v: float = _F32.unpack(dec.raw(4))[0]
    return v


# -- OSDMap::Incremental -------------------------------------------------------------------


@dataclass(slots=True)
class Incremental:
    """``OSDMap::Incremental`` (ceph src/osd/OSDMap.cc ``Incremental::decode``).

    Accepted: wrapper v7+ compat <= 7; client-usable section v8 (Nautilus..Quincy) or v9+
    (Reef adds new/old_pg_upmap_primary), compat 1; osd-only section any version. Skipped
    from the osd-only section: heartbeat and cluster addresses, up_thru, last clean
    intervals, lost epochs, xinfo, encode_features, crush node / device class flags,
    stretch mode, range blocklist. Decode-only.
    """

    CEPH_TYPE: ClassVar[str] = "OSDMap::Incremental"

    fsid: bytes = b"\0" * 16
    epoch: int = 0
    modified: tuple[int, int] = (0, 0)
    new_pool_max: int = -1
    new_flags: int = -1
    fullmap: bytes = b""
    crush: bytes = b""
    new_max_osd: int = -1
    new_pools: dict[int, PgPool] = field(default_factory=dict)
    new_pool_names: dict[int, str] = field(default_factory=dict)
    old_pools: list[int] = field(default_factory=list)
    new_up_client: dict[int, EntityAddrvec] = field(default_factory=dict)
    new_state: dict[int, int] = field(default_factory=dict)
    new_weight: dict[int, int] = field(default_factory=dict)
    new_pg_temp: dict[PgId, list[int]] = field(default_factory=dict)
    new_primary_temp: dict[PgId, int] = field(default_factory=dict)
    new_primary_affinity: dict[int, int] = field(default_factory=dict)
    new_erasure_code_profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    old_erasure_code_profiles: list[str] = field(default_factory=list)
    new_pg_upmap: dict[PgId, list[int]] = field(default_factory=dict)
    old_pg_upmap: list[PgId] = field(default_factory=list)
    new_pg_upmap_items: dict[PgId, list[tuple[int, int]]] = field(default_factory=dict)
    old_pg_upmap_items: list[PgId] = field(default_factory=list)
    new_removed_snaps: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    new_purged_snaps: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    new_last_up_change: tuple[int, int] = (0, 0)
    new_last_in_change: tuple[int, int] = (0, 0)
    new_pg_upmap_primary: dict[PgId, int] = field(default_factory=dict)
    old_pg_upmap_primary: list[PgId] = field(default_factory=list)
    # osd-only section
    new_blocklist: dict[EntityAddr, tuple[int, int]] = field(default_factory=dict)
    old_blocklist: list[EntityAddr] = field(default_factory=list)
    new_uuid: dict[int, bytes] = field(default_factory=dict)
    new_nearfull_ratio: float = -1.0
    new_full_ratio: float = -1.0
    new_backfillfull_ratio: float = -1.0
    new_require_min_compat_client: int = 0xFF
    new_require_osd_release: int = 0xFF
    inc_crc: int | None = None
    full_crc: int | None = None

    @classmethod
    def decode(cls, dec: Decoder, *, verify_crc: bool = True) -> Incremental:
        inc = cls()
        start = dec.pos
        with dec.struct("OSDMap::Incremental", min_v=_OSDMAP_MIN_V, max_compat=7) as v:
            with dec.struct("client", min_v=_INC_CLIENT_MIN_V, max_compat=1) as cv:
                inc._decode_client(dec, cv)
            with dec.struct("osd_only") as ov:
                inc._decode_osd_only(dec, ov)
            if v >= 8:
                crc_pos = dec.pos
                inc.inc_crc = dec.u32()
                inc.full_crc = dec.u32()
                if verify_crc:
                    _crc_check(dec, start, crc_pos, dec.end, "OSDMap::Incremental")
        log.debug("decoded OSDMap::Incremental e%d", inc.epoch)
        return inc

    @classmethod
    def from_bytes(cls, data: Buffer, *, verify_crc: bool = True) -> Incremental:
        dec = Decoder(data)
        inc = cls.decode(dec, verify_crc=verify_crc)
        if not dec.at_end():
            raise dec.error(f"{dec.remaining} trailing bytes")
        return inc

    def encode(self, enc: Encoder, features: int = 0) -> None:
        raise NotImplementedError("decode-only")

    def _decode_client(self, dec: Decoder, v: int) -> None:
        self.fsid = dec.uuid()
        self.epoch = dec.u32()
        self.modified = dec.utime()
        self.new_pool_max = dec.s64()
        self.new_flags = dec.s32()
        with dec.named("fullmap"):
            self.fullmap = dec.blob()
        with dec.named("crush"):
            self.crush = dec.blob()
        self.new_max_osd = dec.s32()
        with dec.named("new_pools"):
            self.new_pools = dec.map_(_s64, PgPool.decode, 14)
        with dec.named("new_pool_names"):
            self.new_pool_names = dec.map_(_s64, _string, 12)
        with dec.named("old_pools"):
            self.old_pools = dec.list_(_s64, 8)
        with dec.named("new_up_client"):
            self.new_up_client = dec.map_(_s32, EntityAddrvec.decode, 9)
        with dec.named("new_state"):
            self.new_state = dec.map_(_s32, _u32, 8)
        with dec.named("new_weight"):
            self.new_weight = dec.map_(_s32, _u32, 8)
        with dec.named("new_pg_temp"):
            self.new_pg_temp = dec.map_(_pgid, _s32_vec, 21)
        with dec.named("new_primary_temp"):
            self.new_primary_temp = dec.map_(_pgid, _s32, 21)
        with dec.named("new_primary_affinity"):
            self.new_primary_affinity = dec.map_(_s32, _u32, 8)
        with dec.named("new_erasure_code_profiles"):
            self.new_erasure_code_profiles = dec.map_(_string, _str_map, 8)
        with dec.named("old_erasure_code_profiles"):
            self.old_erasure_code_profiles = dec.list_(_string, 4)
        with dec.named("new_pg_upmap"):
            self.new_pg_upmap = dec.map_(_pgid, _s32_vec, 21)
        with dec.named("old_pg_upmap"):
            self.old_pg_upmap = dec.list_(_pgid, 17)
        with dec.named("new_pg_upmap_items"):
            self.new_pg_upmap_items = dec.map_(_pgid, _pair_vec, 21)
        with dec.named("old_pg_upmap_items"):
            self.old_pg_upmap_items = dec.list_(_pgid, 17)
        with dec.named("new_removed_snaps"):
            self.new_removed_snaps = dec.map_(_s64, _interval_set, 12)
        with dec.named("new_purged_snaps"):
            self.new_purged_snaps = dec.map_(_s64, _interval_set, 12)
        self.new_last_up_change = dec.utime()
        self.new_last_in_change = dec.utime()
        if v >= 9:  # added in v9 (Reef)
            with dec.named("new_pg_upmap_primary"):
                self.new_pg_upmap_primary = dec.map_(_pgid, _s32, 21)
            with dec.named("old_pg_upmap_primary"):
                self.old_pg_upmap_primary = dec.list_(_pgid, 17)

    def _decode_osd_only(self, dec: Decoder, v: int) -> None:
        with dec.named("new_hb_back_up"):
            dec.map_(_s32, EntityAddrvec.decode, 9)  # skip
        with dec.named("new_up_thru"):
            dec.skip(8 * dec.count(8))  # skip map<s32, epoch>
        with dec.named("new_last_clean_interval"):
            dec.skip(12 * dec.count(12))  # skip map<s32, pair<epoch, epoch>>
        with dec.named("new_lost"):
            dec.skip(8 * dec.count(8))  # skip
        with dec.named("new_blocklist"):
            self.new_blocklist = dec.map_(EntityAddr.decode, lambda d: d.utime(), 15)
        with dec.named("old_blocklist"):
            self.old_blocklist = dec.list_(EntityAddr.decode, 7)
        with dec.named("new_up_cluster"):
            dec.map_(_s32, EntityAddrvec.decode, 9)  # skip
        dec.string()  # cluster_snapshot
        with dec.named("new_uuid"):
            self.new_uuid = dec.map_(_s32, lambda d: d.uuid(), 20)
        with dec.named("new_xinfo"):
            for _ in range(dec.count(10)):
                dec.s32()
                with dec.struct("osd_xinfo_t"):
                    pass  # skip
        with dec.named("new_hb_front_up"):
            dec.map_(_s32, EntityAddrvec.decode, 9)  # skip
        if v >= 2:
            dec.skip(8)  # encode_features
        if v >= 3:
            self.new_nearfull_ratio = _f32(dec)
            self.new_full_ratio = _f32(dec)
        if v >= 4:
            self.new_backfillfull_ratio = _f32(dec)
        if v == 5:
            dec.string()  # string-based require_min_compat_client of Luminous dev releases
        if v >= 6:
            self.new_require_min_compat_client = dec.u8()
            self.new_require_osd_release = dec.u8()
        # v8+: crush node / device class flags, stretch mode, ... skipped by the envelope.


# -- MOSDMap body --------------------------------------------------------------------------


def decode_maps(dec: Decoder) -> dict[int, bytes]:
    """``map<epoch_t, bufferlist>`` as carried in MOSDMap (incremental_maps / maps)."""
    return dec.map_(_u32, lambda d: d.blob(), 8)
