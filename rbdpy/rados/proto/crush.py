"""CRUSH: decode a CrushWrapper map and map inputs to devices exactly as Ceph does.

Theory of operation: a CRUSH map is a forest of *buckets* (negative ids; bucket ``b`` lives
at index ``-1 - b``) whose items are devices (ids >= 0, the OSDs) or other buckets, plus
*rules*: small programs of steps. ``do_rule(ruleno, x, result_max, weights)`` runs a rule
for the input ``x`` (a placement seed): TAKE starts a working vector at a bucket;
CHOOSE[LEAF]_{FIRSTN,INDEP} replace each working item by ``numrep`` distinct items of a
given type found below it, descending through intermediate buckets with the bucket's own
pseudo-random choice function (uniform, list, tree, straw, straw2) driven by Jenkins hashes
of ``(x, item, r)``; EMIT appends the working vector to the result. A *replica rank* ``r``
is retried with ``r + ftotal`` (firstn) or ``r + numrep * ftotal`` (indep) when the chosen
item collides with an earlier one, is a device marked out in ``weights`` (``is_out``, 16.16
reweights, partial weights decided by hashing), or (chooseleaf) has no usable leaf below it.
firstn results shift left over failures (replicated pools); indep results keep positions
and leave ``CRUSH_ITEM_NONE`` holes (erasure-coded pools). The tunables (choose_total_tries,
chooseleaf_descend_once/vary_r/stable, local retries) select between historical variants
of these retry rules and are part of the map. ``choose_args`` (per pool, or -1 for all
pools) substitute weight sets per replica position, and/or the ids hashed, for straw2
buckets.

The decoder precomputes what the mapper needs per bucket (types by index, resolved choose
args) and the mapper caches the straw2 fixed-point logarithm for all 65536 inputs on first
use, so a mapping costs only hashing. Results of calls whose ``weights`` is a tuple are
memoised per map (a tuple cannot change under us; a list might).

Decoding follows ``CrushWrapper::decode``: fields after the three name maps are optional
and read only while bytes remain (the tunables, then device classes, then choose_args,
then the Squid MSR tunables); this is how old maps decode, and why nothing may follow a
CRUSH map inside its bufferlist. Newer data past what we know is ignored.

Mirrors: ceph src/crush/CrushWrapper.cc (decode, encode, decode_crush_bucket,
update_choose_args, do_rule, choose_args_get_with_fallback), src/crush/mapper.c,
src/crush/crush.h, src/crush/builder.c (crush_finalize), src/crush/crush_ln_table.h;
kernel net/ceph/crush/mapper.c, net/ceph/osdmap.c (crush_decode).
"""

from __future__ import annotations

import logging
import struct as _struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.hashes import (
    CEPH_STR_HASH_LINUX,
    CEPH_STR_HASH_RJENKINS,
    CRUSH_HASH_RJENKINS1,
    CrushHash3Lanes,
    ceph_str_hash,
    ceph_str_hash_linux,
    ceph_str_hash_rjenkins,
    crush_hash32,
    crush_hash32_2,
    crush_hash32_3,
    crush_hash32_4,
    crush_hash32_5,
)

__all__ = [
    "CEPH_DEFAULT_CHOOSE_ARGS",
    "CEPH_STR_HASH_LINUX",
    "CEPH_STR_HASH_RJENKINS",
    "CRUSH_HASH_RJENKINS1",
    "CRUSH_ITEM_NONE",
    "CRUSH_ITEM_UNDEF",
    "CRUSH_MAGIC",
    "BucketAlg",
    "ChooseArg",
    "CrushBucket",
    "CrushMap",
    "CrushRule",
    "CrushRuleStep",
    "RuleOp",
    "ceph_str_hash",
    "ceph_str_hash_linux",
    "ceph_str_hash_rjenkins",
    "crush_hash32",
    "crush_hash32_2",
    "crush_hash32_3",
    "crush_hash32_4",
    "crush_hash32_5",
    "crush_ln",
    "decode_crush",
]

log = logging.getLogger(__name__)

CRUSH_MAGIC = 0x00010000  # ceph src/crush/crush.h
CRUSH_ITEM_UNDEF = 0x7FFFFFFE  # undefined result (internal to indep)
CRUSH_ITEM_NONE = 0x7FFFFFFF  # no result (an indep hole)
CEPH_DEFAULT_CHOOSE_ARGS = -1  # CrushWrapper::DEFAULT_CHOOSE_ARGS

_M32 = 0xFFFFFFFF
_S64_MIN = -(1 << 63)


class BucketAlg(IntEnum):
    """``CRUSH_BUCKET_*`` (ceph src/crush/crush.h)."""

    UNIFORM = 1
    LIST = 2
    TREE = 3
    STRAW = 4
    STRAW2 = 5


class RuleOp(IntEnum):
    """``CRUSH_RULE_*`` step opcodes (ceph src/crush/crush.h)."""

    NOOP = 0
    TAKE = 1
    CHOOSE_FIRSTN = 2
    CHOOSE_INDEP = 3
    EMIT = 4
    CHOOSELEAF_FIRSTN = 6
    CHOOSELEAF_INDEP = 7
    SET_CHOOSE_TRIES = 8
    SET_CHOOSELEAF_TRIES = 9
    SET_CHOOSE_LOCAL_TRIES = 10
    SET_CHOOSE_LOCAL_FALLBACK_TRIES = 11
    SET_CHOOSELEAF_VARY_R = 12
    SET_CHOOSELEAF_STABLE = 13
    # Squid: multi-step-retry rules (not mappable by Pacific clients, nor by us).
    SET_MSR_DESCENTS = 14
    SET_MSR_COLLISION_TRIES = 15
    CHOOSE_MSR = 16


_OP_TAKE = 1
_OP_CHOOSE_FIRSTN = 2
_OP_CHOOSE_INDEP = 3
_OP_EMIT = 4
_OP_CHOOSELEAF_FIRSTN = 6
_OP_CHOOSELEAF_INDEP = 7
_OP_MSR = (14, 15, 16)

_ALG_UNIFORM = 1
_ALG_LIST = 2
_ALG_TREE = 3
_ALG_STRAW = 4
_ALG_STRAW2 = 5

# Legacy tunables (CrushWrapper::set_tunables_legacy), in force for fields a map omits.
_LEGACY_ALLOWED_BUCKET_ALGS = (1 << _ALG_UNIFORM) | (1 << _ALG_LIST) | (1 << _ALG_STRAW)


class CrushRuleStep(NamedTuple):
    """``crush_rule_step``: le32 op, le32 arg1, le32 arg2 (args are signed)."""

    op: int
    arg1: int
    arg2: int


@dataclass(slots=True)
class CrushRule:
    """``crush_rule``. ``ruleset``/``min_size``/``max_size`` are the legacy mask bytes
    (Quincy+ encode ruleset = rule id and sizes 1..100)."""

    ruleset: int
    type: int
    min_size: int
    max_size: int
    steps: list[CrushRuleStep]


@dataclass(slots=True)
class CrushBucket:
    """``crush_bucket`` plus its per-algorithm arrays.

    ``item_weights`` is filled for every algorithm (uniform: ``item_weight`` repeated) so
    callers can read weights uniformly; the encoder writes only what the alg stores.
    """

    id: int
    type: int
    alg: int
    hash: int
    weight: int
    items: list[int]
    item_weights: list[int]
    item_weight: int = 0  # uniform
    sum_weights: list[int] = field(default_factory=list)  # list
    num_nodes: int = 0  # tree (a u8 on the wire)
    node_weights: list[int] = field(default_factory=list)  # tree
    straws: list[int] = field(default_factory=list)  # straw

    @property
    def size(self) -> int:
        return len(self.items)


@dataclass(slots=True)
class ChooseArg:
    """``crush_choose_arg`` for one bucket: weight sets per position, and/or the ids."""

    weight_set: list[list[int]]
    ids: list[int]


# -- fixed-point log2 for straw2 -------------------------------------------------------------

# crush_ln(u) - 2**48 (all <= 0) for each 16-bit u, filled in as straw2 draws need them:
# a whole table up front costs ~40 ms of Python, which a client would pay on its first
# placement (an image open); a live client touches a few hundred entries per map.
_LN_NEG: list[int | None] = [None] * 0x10000


def crush_ln(xin: int) -> int:
    """``crush_ln``: 2**44 * log2(xin + 1) in fixed point, for 0 <= xin <= 0xffff.

    The two tables are Ceph's data (crush_ln_table.h); the test suite checks them entry
    by entry against the tables compiled into the installed libceph-common.
    """
    x = xin + 1
    iexpon = 15
    # Normalise into [0x8000, 0x1ffff]: mapper.c shifts by clz in one step; same result.
    while not (x & 0x18000):
        x <<= 1
        iexpon -= 1
    index1 = (x >> 8) << 1
    rh = _RH_LH_TBL[index1 - 256]  # ~ 2**56 / index1
    lh = _RH_LH_TBL[index1 + 1 - 256]  # ~ 2**48 * log2(index1 / 256)
    xl64 = ((x * rh) & 0xFFFFFFFFFFFFFFFF) >> 48
    result = iexpon << 44
    lh += _LL_TBL[xl64 & 0xFF]  # LL ~ 2**48 * log2(1 + index2 / 2**15)
    return result + (lh >> 4)


# -- decoding helpers --------------------------------------------------------------------------


def _s32s(dec: Decoder, n: int) -> list[int]:
    """``n`` little-endian s32 values, bounds-checked before anything is allocated."""
    dec.need(4 * n)
    vals = list(_struct.unpack_from(f"<{n}i", dec.buf, dec.pos))
    dec.pos += 4 * n
    return vals


def _u32s(dec: Decoder, n: int) -> list[int]:
    dec.need(4 * n)
    vals = list(_struct.unpack_from(f"<{n}I", dec.buf, dec.pos))
    dec.pos += 4 * n
    return vals


def _decode_32_or_64_string_map(dec: Decoder) -> dict[int, str]:
    """``decode_32_or_64_string_map``: an old bug encoded some keys as 64-bit ints.

    Ceph tolerates both by assuming names are never empty: a zero "length" right after a
    32-bit key is really the key's high half, and the length follows.
    """
    n = dec.count(8)
    out: dict[int, str] = {}
    for _ in range(n):
        key = dec.s32()
        strlen = dec.u32()
        if strlen == 0:
            strlen = dec.u32()
        out[key] = bytes(dec.raw(strlen)).decode("utf-8", "surrogateescape")
    return out


def _encode_string_map(enc: Encoder, m: dict[int, str]) -> None:
    enc.u32(len(m))
    for k in sorted(m):
        enc.s32(k)
        enc.string(m[k])


def _decode_bucket(dec: Decoder, index: int) -> CrushBucket | None:
    """``CrushWrapper::decode_crush_bucket``: one slot of the bucket array."""
    alg = dec.u32()
    if alg == 0:
        return None  # empty slot
    if not 1 <= alg <= 5:
        raise dec.error(f"unsupported bucket algorithm {alg}")
    bid, btype, balg, bhash, weight, size = dec.unpack(_BUCKET_HEAD)
    # Ceph sizes the struct by the outer alg and switches on the inner one; they must agree
    # or Ceph itself would read garbage.
    if balg != alg:
        raise dec.error(f"bucket alg {balg} disagrees with slot alg {alg}")
    # crush_add_bucket always stores bucket id b at index -1-b; the mapper relies on it.
    if bid != -1 - index:
        raise dec.error(f"bucket id {bid} stored at index {index}")
    items = _s32s(dec, size)
    b = CrushBucket(id=bid, type=btype, alg=alg, hash=bhash, weight=weight, items=items,
                    item_weights=[])
    if alg == _ALG_UNIFORM:
        b.item_weight = dec.u32()
        b.item_weights = [b.item_weight] * size
    elif alg == _ALG_LIST:
        pairs = _u32s(dec, 2 * size)
        b.item_weights = pairs[0::2]
        b.sum_weights = pairs[1::2]
    elif alg == _ALG_TREE:
        b.num_nodes = dec.u8()
        b.node_weights = _u32s(dec, b.num_nodes)
        # num_nodes is a u8, so a tree of more than 64 items wraps it and Ceph's own
        # mapper would loop or read out of bounds; refuse such maps here.
        if size and b.num_nodes < 2 * size:
            raise dec.error(f"tree bucket {bid}: {b.num_nodes} nodes for {size} items")
    elif alg == _ALG_STRAW:
        pairs = _u32s(dec, 2 * size)
        b.item_weights = pairs[0::2]
        b.straws = pairs[1::2]
    else:  # straw2
        b.item_weights = _u32s(dec, size)
    return b


_BUCKET_HEAD = _struct.Struct("<iHBBII")  # s32 id, u16 type, u8 alg, u8 hash, u32 weight, size


# -- the map -----------------------------------------------------------------------------------


@dataclass(slots=True, eq=False)
class CrushMap:
    """A decoded CRUSH map (``CrushWrapper``) and its mapper.

    ``max_devices`` is what Ceph computes after decoding (``crush_finalize`` plus
    ``CrushWrapper::finalize``): one past the largest device id found in a bucket or in
    ``name_map``; ``encoded_max_devices`` keeps the value read from the wire.

    Treat a decoded map as immutable: the mapper's per-bucket precomputation and its memo
    of tuple-weighted results are built at decode time (a new epoch's CRUSH map is a new
    object, as in the OSDMap).
    """

    CEPH_TYPE = "CrushWrapper"

    max_buckets: int = 0
    max_rules: int = 0
    max_devices: int = 0
    encoded_max_devices: int = 0
    buckets: list[CrushBucket | None] = field(default_factory=list)
    rules: list[CrushRule | None] = field(default_factory=list)
    type_map: dict[int, str] = field(default_factory=dict)
    name_map: dict[int, str] = field(default_factory=dict)
    rule_name_map: dict[int, str] = field(default_factory=dict)
    # tunables (legacy defaults until the map says otherwise)
    choose_local_tries: int = 2
    choose_local_fallback_tries: int = 5
    choose_total_tries: int = 19
    chooseleaf_descend_once: int = 0
    chooseleaf_vary_r: int = 0
    straw_calc_version: int = 0
    allowed_bucket_algs: int = _LEGACY_ALLOWED_BUCKET_ALGS
    chooseleaf_stable: int = 0
    # device classes (Luminous+): device -> class id, class id -> name,
    # bucket id -> {class id -> shadow bucket id}
    class_map: dict[int, int] = field(default_factory=dict)
    class_name: dict[int, str] = field(default_factory=dict)
    class_bucket: dict[int, dict[int, int]] = field(default_factory=dict)
    # choose_args: index (pool id, or -1) -> bucket index (-1 - bucket id) -> ChooseArg
    choose_args: dict[int, dict[int, ChooseArg]] = field(default_factory=dict)
    # Squid MSR tunables; None when the map predates them (then they are not encoded)
    msr_descents: int | None = None
    msr_collision_tries: int | None = None
    # how many optional tail sections the map carried (8 = all; encode reproduces it)
    _sections: int = 8
    _btype: list[int] = field(default_factory=list)
    _resolved_args: dict[int, list[tuple[list[list[int]] | None, list[int] | None] | None]] = (
        field(default_factory=dict))
    _cache: dict[tuple[int, int, int, int | None, tuple[int, ...]], list[int]] = field(
        default_factory=dict)
    # straw2/straw item lists (a bucket's, or a choose_args' ids) packed for the lane-wise
    # hash, by id() of the list; the entry keeps the list alive, so the id stays its own
    _lanes: dict[int, tuple[list[int], CrushHash3Lanes]] = field(default_factory=dict)

    # -- decode ---------------------------------------------------------------------------

    @classmethod
    def decode(cls, data: Buffer) -> CrushMap:
        """Decode a whole CRUSH map bufferlist (``crushtool -o`` output, OSDMap ``crush``).

        :raises DecodeError: bad magic, truncation, or a structure Ceph could not map.
        """
        dec = Decoder(data, "CrushWrapper")
        return cls.decode_from(dec)

    @classmethod
    def decode_from(cls, dec: Decoder) -> CrushMap:
        """``CrushWrapper::decode`` over the rest of ``dec`` (up to ``dec.end``).

        Ceph type ``CrushWrapper``: no versioned envelope, a magic word instead
        (0x00010000). Accepts every map Pacific through Tentacle write (corpus-tested):
        after the three name maps, the tunables, device classes, choose_args and the
        Squid MSR tunables are each read only while bytes remain (argonaut-era maps stop
        early), and anything after the MSR tunables is ignored. Skipped: nothing.
        ``update_choose_args`` clean-up is applied as Ceph does after decoding (args for
        missing or non-straw2 buckets dropped, mis-sized weight sets resized), then
        ``max_devices`` is recomputed as ``crush_finalize`` does.
        """
        m = cls()
        m._sections = 0
        magic = dec.u32()
        if magic != CRUSH_MAGIC:
            raise dec.error(f"bad magic {magic:#x}")
        m.max_buckets, m.max_rules, m.encoded_max_devices = dec.unpack(_HEAD3)
        # Every slot takes at least 4 bytes: reject absurd counts before allocating.
        if (m.max_buckets + m.max_rules) * 4 > dec.remaining:
            raise dec.error(f"max_buckets {m.max_buckets} / max_rules {m.max_rules} exceed "
                            f"the {dec.remaining} bytes left")
        with dec.named("buckets"):
            m.buckets = [_decode_bucket(dec, i) for i in range(m.max_buckets)]
        with dec.named("rules"):
            m.rules = [cls._decode_rule(dec, i) for i in range(m.max_rules)]
        with dec.named("type_map"):
            m.type_map = _decode_32_or_64_string_map(dec)
        with dec.named("name_map"):
            m.name_map = _decode_32_or_64_string_map(dec)
        with dec.named("rule_name_map"):
            m.rule_name_map = _decode_32_or_64_string_map(dec)
        with dec.named("tunables"):
            if not dec.at_end():
                (m.choose_local_tries, m.choose_local_fallback_tries,
                 m.choose_total_tries) = dec.unpack(_HEAD3)
                m._sections = 1
            if not dec.at_end():
                m.chooseleaf_descend_once = dec.u32()
                m._sections = 2
            if not dec.at_end():
                m.chooseleaf_vary_r = dec.u8()
                m._sections = 3
            if not dec.at_end():
                m.straw_calc_version = dec.u8()
                m._sections = 4
            if not dec.at_end():
                m.allowed_bucket_algs = dec.u32()
                m._sections = 5
            if not dec.at_end():
                m.chooseleaf_stable = dec.u8()
                m._sections = 6
        if not dec.at_end():
            with dec.named("class_map"):
                m.class_map = dec.map_(Decoder.s32, Decoder.s32, 8)
            with dec.named("class_name"):
                m.class_name = dec.map_(Decoder.s32, Decoder.string, 8)
            with dec.named("class_bucket"):
                m.class_bucket = dec.map_(
                    Decoder.s32, lambda d: d.map_(Decoder.s32, Decoder.s32, 8), 8)
            m._sections = 7
        if not dec.at_end():
            with dec.named("choose_args"):
                m.choose_args = m._decode_choose_args(dec)
            m._sections = 8
        if not dec.at_end():
            # added in Squid (CRUSH_MSR): both u32
            with dec.named("msr_tunables"):
                m.msr_descents = dec.u32()
                m.msr_collision_tries = dec.u32()
        if not dec.at_end():
            log.debug("crush: ignoring %d trailing bytes of a newer map", dec.remaining)
            dec.pos = dec.end
        m._update_choose_args()
        m._finalize()
        log.debug("crush: decoded map: %d buckets, %d rules, %d devices, tunables "
                  "%d/%d/%d/%d/%d/%d, %d choose_args sets", m.max_buckets, m.max_rules,
                  m.max_devices, m.choose_local_tries, m.choose_local_fallback_tries,
                  m.choose_total_tries, m.chooseleaf_descend_once, m.chooseleaf_vary_r,
                  m.chooseleaf_stable, len(m.choose_args))
        return m

    @staticmethod
    def _decode_rule(dec: Decoder, index: int) -> CrushRule | None:
        """One rule slot: le32 exists, le32 len, u8 ruleset/type/min_size/max_size, steps."""
        with dec.named(f"rule[{index}]"):
            if dec.u32() == 0:
                return None
            n = dec.u32()
            ruleset, rtype, min_size, max_size = dec.unpack(_RULE_MASK)
            raw = _s32s(dec, 3 * n)
            steps = [CrushRuleStep(raw[i] & _M32, raw[i + 1], raw[i + 2])
                     for i in range(0, 3 * n, 3)]
            return CrushRule(ruleset, rtype, min_size, max_size, steps)

    def _decode_choose_args(self, dec: Decoder) -> dict[int, dict[int, ChooseArg]]:
        out: dict[int, dict[int, ChooseArg]] = {}
        n = dec.count(12)
        for _ in range(n):
            index = dec.s64()
            args: dict[int, ChooseArg] = {}
            nargs = dec.count(12)
            for _ in range(nargs):
                bidx = dec.u32()
                if bidx >= self.max_buckets:
                    raise dec.error(f"choose_args[{index}]: bucket index {bidx} >= "
                                    f"max_buckets {self.max_buckets}")
                positions = dec.count(4)
                weight_set = [_u32s(dec, dec.count(4)) for _ in range(positions)]
                ids = _s32s(dec, dec.count(4))
                bucket = self.buckets[bidx]
                if ids and (bucket is None or len(ids) != bucket.size):
                    # ceph_assert(ids_size == bucket size) in CrushWrapper::decode
                    raise dec.error(f"choose_args[{index}]: {len(ids)} ids for bucket "
                                    f"index {bidx}")
                args[bidx] = ChooseArg(weight_set, ids)
            out[index] = args
        return out

    def _update_choose_args(self) -> None:
        """``CrushWrapper::update_choose_args(nullptr)`` as run at the end of decode."""
        for args in self.choose_args.values():
            for bidx in list(args):
                b = self.buckets[bidx]
                arg = args[bidx]
                if b is None or b.alg != _ALG_STRAW2:
                    del args[bidx]
                    continue
                for pos, ws in enumerate(arg.weight_set):
                    if len(ws) != b.size:
                        arg.weight_set[pos] = (ws + [0] * b.size)[: b.size]

    def _finalize(self) -> None:
        """``crush_finalize`` + ``CrushWrapper::finalize``, and the mapper's precomputation."""
        maxdev = 0
        for b in self.buckets:
            if b is not None and b.items:
                maxdev = max(maxdev, max(b.items) + 1)
        if self.name_map:
            maxdev = max(maxdev, max(self.name_map) + 1)
        self.max_devices = maxdev
        self._btype = [-1 if b is None else b.type for b in self.buckets]
        self._resolved_args = {}
        for index, args in self.choose_args.items():
            resolved: list[tuple[list[list[int]] | None, list[int] | None] | None] = (
                [None] * self.max_buckets)
            for bidx, arg in args.items():
                resolved[bidx] = (arg.weight_set or None, arg.ids or None)
            self._resolved_args[index] = resolved
        self._cache = {}
        self._lanes = {}

    # -- encode ---------------------------------------------------------------------------

    def encode(self, enc: Encoder, features: int = 0) -> None:
        """``CrushWrapper::encode`` with every feature a Pacific+ peer has.

        Optional tail sections are written as far as the decoded map had them (all of them
        for maps constructed in Python), so decode -> encode reproduces Ceph's bytes.
        ``features`` is accepted for the wire-type signature; it does not select anything.
        """
        enc.u32(CRUSH_MAGIC)
        enc.pack(_HEAD3, self.max_buckets, self.max_rules, self.encoded_max_devices)
        for b in self.buckets:
            if b is None:
                enc.u32(0)
                continue
            enc.u32(b.alg)
            enc.pack(_BUCKET_HEAD, b.id, b.type, b.alg, b.hash, b.weight, b.size)
            enc.raw(_struct.pack(f"<{b.size}i", *b.items))
            if b.alg == _ALG_UNIFORM:
                enc.u32(b.item_weight)
            elif b.alg == _ALG_LIST:
                for w, s in zip(b.item_weights, b.sum_weights, strict=True):
                    enc.u32(w)
                    enc.u32(s)
            elif b.alg == _ALG_TREE:
                enc.u8(b.num_nodes)
                enc.raw(_struct.pack(f"<{len(b.node_weights)}I", *b.node_weights))
            elif b.alg == _ALG_STRAW:
                for w, s in zip(b.item_weights, b.straws, strict=True):
                    enc.u32(w)
                    enc.u32(s)
            else:
                enc.raw(_struct.pack(f"<{b.size}I", *b.item_weights))
        for r in self.rules:
            if r is None:
                enc.u32(0)
                continue
            enc.u32(1)
            enc.u32(len(r.steps))
            enc.pack(_RULE_MASK, r.ruleset, r.type, r.min_size, r.max_size)
            for st in r.steps:
                enc.u32(st.op)
                enc.s32(st.arg1)
                enc.s32(st.arg2)
        _encode_string_map(enc, self.type_map)
        _encode_string_map(enc, self.name_map)
        _encode_string_map(enc, self.rule_name_map)
        s = self._sections
        if s >= 1:
            enc.pack(_HEAD3, self.choose_local_tries, self.choose_local_fallback_tries,
                     self.choose_total_tries)
        if s >= 2:
            enc.u32(self.chooseleaf_descend_once)
        if s >= 3:
            enc.u8(self.chooseleaf_vary_r)
        if s >= 4:
            enc.u8(self.straw_calc_version)
        if s >= 5:
            enc.u32(self.allowed_bucket_algs)
        if s >= 6:
            enc.u8(self.chooseleaf_stable)
        if s >= 7:
            enc.map_(self.class_map, Encoder.s32, Encoder.s32)
            enc.map_(self.class_name, Encoder.s32, Encoder.string)
            enc.map_(self.class_bucket, Encoder.s32,
                     lambda e, v: e.map_(v, Encoder.s32, Encoder.s32))
        if s >= 8:
            enc.u32(len(self.choose_args))
            for index in sorted(self.choose_args):
                args = self.choose_args[index]
                enc.s64(index)
                live = [i for i in sorted(args) if args[i].weight_set or args[i].ids]
                enc.u32(len(live))
                for bidx in live:
                    arg = args[bidx]
                    enc.u32(bidx)
                    enc.u32(len(arg.weight_set))
                    for ws in arg.weight_set:
                        enc.u32(len(ws))
                        enc.raw(_struct.pack(f"<{len(ws)}I", *ws))
                    enc.u32(len(arg.ids))
                    enc.raw(_struct.pack(f"<{len(arg.ids)}i", *arg.ids))
        if self.msr_descents is not None:
            enc.u32(self.msr_descents)
            enc.u32(self.msr_collision_tries or 0)

    def to_bytes(self) -> bytes:
        enc = Encoder()
        self.encode(enc)
        return enc.getvalue()

    # -- lookups --------------------------------------------------------------------------

    def find_rule(self, ruleset: int, type: int, size: int) -> int:
        """``crush_find_rule``: the first rule whose mask matches, else -1."""
        for i, r in enumerate(self.rules):
            if (r is not None and r.ruleset == ruleset and r.type == type
                    and r.min_size <= size <= r.max_size):
                return i
        return -1

    def rule_exists(self, ruleno: int) -> bool:
        return 0 <= ruleno < len(self.rules) and self.rules[ruleno] is not None

    def get_bucket(self, bucket_id: int) -> CrushBucket | None:
        idx = -1 - bucket_id
        if 0 <= idx < len(self.buckets):
            return self.buckets[idx]
        return None

    def check_item_present(self, item: int) -> bool:
        """``CrushWrapper::check_item_present``: does any bucket list ``item``?"""
        return any(b is not None and item in b.items for b in self.buckets)

    # -- mapper ---------------------------------------------------------------------------

    def do_rule(self, ruleno: int, x: int, result_max: int, weights: Sequence[int],
                choose_args_index: int | None = None) -> list[int]:
        """``CrushWrapper::do_rule``: run rule ``ruleno`` for input ``x``.

        :param x: the placement seed (``pps``), taken as a 32-bit value.
        :param result_max: at most this many results (the pool size).
        :param weights: 16.16 reweight per device id (0x10000 = in, 0 = out); devices past
            the end count as out. Pass a tuple to let the map memoise results.
        :param choose_args_index: None for no choose_args; else the pool id, with Ceph's
            fallback to -1 (``DEFAULT_CHOOSE_ARGS``) and then to none.
        :returns: the mapped devices; indep rules keep ``CRUSH_ITEM_NONE`` holes.
        :raises CephError: EOPNOTSUPP for Squid MSR rules.
        """
        key = None
        if isinstance(weights, tuple):
            key = (ruleno, x, result_max, choose_args_index, weights)
            hit = self._cache.get(key)
            if hit is not None:
                return list(hit)
        args = None
        if choose_args_index is not None and self._resolved_args:
            args = self._resolved_args.get(choose_args_index)
            if args is None:
                args = self._resolved_args.get(CEPH_DEFAULT_CHOOSE_ARGS)
        result = self._do_rule(ruleno, x, result_max, weights, args)
        if key is not None:
            if len(self._cache) >= 65536:
                self._cache.clear()
            self._cache[key] = result
            return list(result)
        return result

    def _do_rule(self, ruleno: int, x: int, result_max: int, weight: Sequence[int],
                 choose_args: list[tuple[list[list[int]] | None, list[int] | None] | None]
                 | None) -> list[int]:
        """``crush_do_rule`` (mapper.c), one fresh workspace per call as CrushWrapper does."""
        if not 0 <= ruleno < len(self.rules):
            return []
        rule = self.rules[ruleno]
        if rule is None:
            return []
        x &= _M32
        if x >= 0x80000000:
            x -= 1 << 32  # the C mapper's x is an int; hashes take it as u32 anyway
        buckets = self.buckets
        max_buckets = self.max_buckets
        max_devices = self.max_devices
        work: dict[int, list[int]] = {}
        result: list[int] = []
        w: list[int] = []
        # the original choose_total_tries counted retries, not tries: add one
        choose_tries = self.choose_total_tries + 1
        choose_leaf_tries = 0
        local_retries = self.choose_local_tries
        local_fallback_retries = self.choose_local_fallback_tries
        vary_r = self.chooseleaf_vary_r
        stable = self.chooseleaf_stable

        for op, arg1, arg2 in rule.steps:
            if op == _OP_TAKE:
                if (0 <= arg1 < max_devices
                        or (0 <= -1 - arg1 < max_buckets and buckets[-1 - arg1] is not None)):
                    w = [arg1]
                else:
                    log.debug("crush: rule %d: bad take value %d", ruleno, arg1)
            elif op in (_OP_CHOOSE_FIRSTN, _OP_CHOOSELEAF_FIRSTN, _OP_CHOOSE_INDEP,
                        _OP_CHOOSELEAF_INDEP):
                if not w:
                    continue
                firstn = op in (_OP_CHOOSE_FIRSTN, _OP_CHOOSELEAF_FIRSTN)
                recurse_to_leaf = op in (_OP_CHOOSELEAF_FIRSTN, _OP_CHOOSELEAF_INDEP)
                o: list[int] = []
                for wi in w:
                    numrep = arg1
                    if numrep <= 0:
                        # CRUSH_CHOOSE_N(_MINUS): relative to result_max
                        numrep += result_max
                        if numrep <= 0:
                            continue
                    bno = -1 - wi
                    if not 0 <= bno < max_buckets or buckets[bno] is None:
                        # w[i] is a device or CRUSH_ITEM_NONE: nothing to descend
                        continue
                    bucket = buckets[bno]
                    assert bucket is not None
                    room = result_max - len(o)
                    if firstn:
                        if choose_leaf_tries:
                            recurse_tries = choose_leaf_tries
                        elif self.chooseleaf_descend_once:
                            recurse_tries = 1
                        else:
                            recurse_tries = choose_tries
                        out = [0] * max(numrep, 1)
                        out2 = [0] * max(numrep, 1)
                        n = self._choose_firstn(
                            work, bucket, weight, x, numrep, arg2, out, 0, room,
                            choose_tries, recurse_tries, local_retries,
                            local_fallback_retries, recurse_to_leaf, vary_r, stable,
                            out2, 0, choose_args)
                        o.extend((out2 if recurse_to_leaf else out)[:n])
                    else:
                        out_size = min(numrep, room)
                        out = [0] * max(out_size, 1)
                        out2 = [0] * max(out_size, 1)
                        self._choose_indep(
                            work, bucket, weight, x, out_size, numrep, arg2, out, 0,
                            choose_tries, choose_leaf_tries or 1, recurse_to_leaf,
                            out2 if recurse_to_leaf else None, 0, choose_args)
                        if out_size > 0:
                            o.extend((out2 if recurse_to_leaf else out)[:out_size])
                w = o
            elif op == _OP_EMIT:
                for item in w:
                    if len(result) >= result_max:
                        break
                    result.append(item)
                w = []
            elif op == 8:  # SET_CHOOSE_TRIES
                if arg1 > 0:
                    choose_tries = arg1
            elif op == 9:  # SET_CHOOSELEAF_TRIES
                if arg1 > 0:
                    choose_leaf_tries = arg1
            elif op == 10:  # SET_CHOOSE_LOCAL_TRIES
                if arg1 >= 0:
                    local_retries = arg1
            elif op == 11:  # SET_CHOOSE_LOCAL_FALLBACK_TRIES
                if arg1 >= 0:
                    local_fallback_retries = arg1
            elif op == 12:  # SET_CHOOSELEAF_VARY_R
                if arg1 >= 0:
                    vary_r = arg1
            elif op == 13:  # SET_CHOOSELEAF_STABLE
                if arg1 >= 0:
                    stable = arg1
            elif op in _OP_MSR:
                # Squid's multi-step-retry rules; a Pacific client cannot map them either.
                raise CephError(95, f"crush rule {ruleno}: MSR step {op} not supported")
            else:
                log.debug("crush: rule %d: unknown op %d ignored", ruleno, op)
        return result

    # -- bucket choose functions -------------------------------------------------------------

    def _perm_choose(self, work: dict[int, list[int]], b: CrushBucket, x: int, r: int) -> int:
        """``bucket_perm_choose``: the r-th element of a hash-driven permutation of items.

        ``work[bucket index]`` is ``[perm_x, perm_n, perm...]``; r = 0 is answered with one
        hash (perm_n = 0xffff marks that shortcut) and fixed up if deeper ranks follow.
        """
        size = b.size
        pr = r % size
        idx = -1 - b.id
        st = work.get(idx)
        if st is None:
            st = [0, 0] + [0] * size
            work[idx] = st
        xu = x & _M32
        if st[0] != xu or st[1] == 0:
            st[0] = xu
            if pr == 0:
                s = crush_hash32_3(x, b.id, 0, b.hash) % size
                st[2] = s
                st[1] = 0xFFFF
                return b.items[s]
            for i in range(size):
                st[2 + i] = i
            st[1] = 0
        elif st[1] == 0xFFFF:
            # undo the r = 0 shortcut: identity with perm[0] and perm[s] swapped
            for i in range(1, size):
                st[2 + i] = i
            st[2 + st[2]] = 0
            st[1] = 1
        while st[1] <= pr:
            p = st[1]
            if p < size - 1:
                i = crush_hash32_3(x, b.id, p, b.hash) % (size - p)
                if i:
                    st[2 + p + i], st[2 + p] = st[2 + p], st[2 + p + i]
            st[1] = p + 1
        return b.items[st[2 + pr]]

    def _hash3_all(self, ids: list[int], x: int, r: int, hash_type: int) -> Sequence[int]:
        """``crush_hash32_3(x, id, r)`` for every id: lane-wise when there are several."""
        if len(ids) < 2 or hash_type != CRUSH_HASH_RJENKINS1:
            return [crush_hash32_3(x, i, r, hash_type) for i in ids]
        entry = self._lanes.get(id(ids))
        if entry is None or entry[0] is not ids:
            entry = self._lanes[id(ids)] = (ids, CrushHash3Lanes(ids))
        return entry[1].hash3(x, r)

    def _bucket_choose(self, work: dict[int, list[int]], b: CrushBucket, x: int, r: int,
                       arg: tuple[list[list[int]] | None, list[int] | None] | None,
                       position: int) -> int:
        """``crush_bucket_choose``: dispatch on the bucket algorithm."""
        alg = b.alg
        if alg == _ALG_STRAW2:
            weights = b.item_weights
            ids = b.items
            if arg is not None:
                ws, aids = arg
                if ws is not None:
                    if position >= len(ws):
                        position = len(ws) - 1
                    weights = ws[position]
                if aids is not None:
                    ids = aids
            ln_tbl = _LN_NEG
            hashes = self._hash3_all(ids, x, r, b.hash)
            high = 0
            high_draw = 0
            for i in range(len(ids)):
                wt = weights[i]
                if wt:
                    u = hashes[i] & 0xFFFF
                    ln = ln_tbl[u]
                    if ln is None:
                        ln = ln_tbl[u] = crush_ln(u) - 0x1000000000000
                    # div64_s64 truncates toward zero; ln <= 0 and the weight is positive
                    draw = -((-ln) // wt)
                else:
                    draw = _S64_MIN
                if i == 0 or draw > high_draw:
                    high = i
                    high_draw = draw
            return b.items[high]
        if alg == _ALG_UNIFORM:
            return self._perm_choose(work, b, x, r)
        if alg == _ALG_STRAW:
            items = b.items
            straws = b.straws
            hashes = self._hash3_all(items, x, r, b.hash)
            high = 0
            high_draw = 0
            for i in range(len(items)):
                draw = (hashes[i] & 0xFFFF) * straws[i]
                if i == 0 or draw > high_draw:
                    high = i
                    high_draw = draw
            return items[high]
        if alg == _ALG_LIST:
            items = b.items
            for i in range(len(items) - 1, -1, -1):
                wl = crush_hash32_4(x, items[i], r, b.id, b.hash) & 0xFFFF
                wl = (wl * b.sum_weights[i]) >> 16
                if wl < b.item_weights[i]:
                    return items[i]
            return items[0]
        if alg == _ALG_TREE:
            nw = b.node_weights
            n = b.num_nodes >> 1
            while not n & 1:
                t = (crush_hash32_4(x, n, r, b.id, b.hash) * nw[n]) >> 32
                h = (n & -n).bit_length() - 1  # height: trailing zero bits
                left = n - (1 << (h - 1))
                n = left if t < nw[left] else n + (1 << (h - 1))
            return b.items[n >> 1]
        return b.items[0]

    def _is_out(self, weight: Sequence[int], item: int, x: int) -> bool:
        """``is_out``: partial reweights keep an input with probability weight/0x10000."""
        if item >= len(weight):
            return True
        wt = weight[item]
        if wt >= 0x10000:
            return False
        if wt == 0:
            return True
        return (crush_hash32_2(x, item) & 0xFFFF) >= wt

    def _choose_firstn(self, work: dict[int, list[int]], bucket: CrushBucket,
                       weight: Sequence[int], x: int, numrep: int, type_: int,
                       out: list[int], outpos: int, out_size: int, tries: int,
                       recurse_tries: int, local_retries: int, local_fallback_retries: int,
                       recurse_to_leaf: bool, vary_r: int, stable: int,
                       out2: list[int] | None, parent_r: int,
                       choose_args: list[tuple[list[list[int]] | None, list[int] | None]
                                         | None] | None) -> int:
        """``crush_choose_firstn``: fill ``out[outpos:]``; returns the new outpos."""
        buckets = self.buckets
        btype = self._btype
        max_buckets = self.max_buckets
        max_devices = self.max_devices
        count = out_size
        rep = 0 if stable else outpos
        while rep < numrep and count > 0:
            ftotal = 0
            skip_rep = False
            item = 0
            while True:  # retry_descent
                retry_descent = False
                inb = bucket
                flocal = 0
                while True:  # retry_bucket
                    retry_bucket = False
                    collide = False
                    r = rep + parent_r + ftotal
                    if inb.size == 0:
                        reject = True
                    else:
                        idx = -1 - inb.id
                        if (local_fallback_retries > 0 and flocal >= (inb.size >> 1)
                                and flocal > local_fallback_retries):
                            item = self._perm_choose(work, inb, x, r)
                        else:
                            item = self._bucket_choose(
                                work, inb, x, r,
                                choose_args[idx] if choose_args is not None else None,
                                outpos)
                        if item >= max_devices:
                            skip_rep = True
                            break
                        if item < 0:
                            bi = -1 - item
                            itemtype = btype[bi] if bi < max_buckets else -1
                        else:
                            itemtype = 0
                        if itemtype != type_:
                            if item >= 0 or -1 - item >= max_buckets or itemtype < 0:
                                # a device of the wrong type, or a dangling bucket id
                                skip_rep = True
                                break
                            nxt = buckets[-1 - item]
                            assert nxt is not None
                            inb = nxt
                            retry_bucket = True
                            continue
                        for i in range(outpos):
                            if out[i] == item:
                                collide = True
                                break
                        reject = False
                        if not collide and recurse_to_leaf:
                            assert out2 is not None
                            if item < 0:
                                sub_r = r >> (vary_r - 1) if vary_r else 0
                                sub = buckets[-1 - item]
                                assert sub is not None
                                if self._choose_firstn(
                                        work, sub, weight, x, 1 if stable else outpos + 1, 0,
                                        out2, outpos, count, recurse_tries, 0, local_retries,
                                        local_fallback_retries, False, vary_r, stable, None,
                                        sub_r, choose_args) <= outpos:
                                    reject = True  # no leaf below it
                            else:
                                out2[outpos] = item  # already a leaf
                        if not reject and not collide and itemtype == 0:
                            reject = self._is_out(weight, item, x)
                    if reject or collide:
                        ftotal += 1
                        flocal += 1
                        if collide and flocal <= local_retries:
                            retry_bucket = True  # retry locally a few times
                        elif (local_fallback_retries > 0
                              and flocal <= inb.size + local_fallback_retries):
                            retry_bucket = True  # exhaustive bucket search
                        elif ftotal < tries:
                            retry_descent = True  # then retry the whole descent
                        else:
                            skip_rep = True  # give up on this rank
                    if not retry_bucket:
                        break
                if not retry_descent or skip_rep:
                    break
            if not skip_rep:
                out[outpos] = item
                outpos += 1
                count -= 1
            rep += 1
        return outpos

    def _choose_indep(self, work: dict[int, list[int]], bucket: CrushBucket,
                      weight: Sequence[int], x: int, left: int, numrep: int, type_: int,
                      out: list[int], outpos: int, tries: int, recurse_tries: int,
                      recurse_to_leaf: bool, out2: list[int] | None, parent_r: int,
                      choose_args: list[tuple[list[list[int]] | None, list[int] | None]
                                        | None] | None) -> None:
        """``crush_choose_indep``: positionally stable; failures become CRUSH_ITEM_NONE."""
        buckets = self.buckets
        btype = self._btype
        max_buckets = self.max_buckets
        max_devices = self.max_devices
        endpos = outpos + left
        for rep in range(outpos, endpos):
            out[rep] = CRUSH_ITEM_UNDEF
            if out2 is not None:
                out2[rep] = CRUSH_ITEM_UNDEF
        ftotal = 0
        while left > 0 and ftotal < tries:
            for rep in range(outpos, endpos):
                if out[rep] != CRUSH_ITEM_UNDEF:
                    continue
                inb = bucket
                while True:
                    # the rank is the position even in nested calls: a bucket chosen
                    # again at another position tends to yield a different item
                    r = rep + parent_r
                    if inb.alg == _ALG_UNIFORM and inb.size % numrep == 0:
                        r += (numrep + 1) * ftotal
                    else:
                        r += numrep * ftotal
                    if inb.size == 0:
                        break
                    idx = -1 - inb.id
                    item = self._bucket_choose(
                        work, inb, x, r,
                        choose_args[idx] if choose_args is not None else None, outpos)
                    if item >= max_devices:
                        out[rep] = CRUSH_ITEM_NONE
                        if out2 is not None:
                            out2[rep] = CRUSH_ITEM_NONE
                        left -= 1
                        break
                    if item < 0:
                        bi = -1 - item
                        itemtype = btype[bi] if bi < max_buckets else -1
                    else:
                        itemtype = 0
                    if itemtype != type_:
                        if item >= 0 or -1 - item >= max_buckets or itemtype < 0:
                            out[rep] = CRUSH_ITEM_NONE
                            if out2 is not None:
                                out2[rep] = CRUSH_ITEM_NONE
                            left -= 1
                            break
                        nxt = buckets[-1 - item]
                        assert nxt is not None
                        inb = nxt
                        continue
                    collide = False
                    for i in range(outpos, endpos):
                        if out[i] == item:
                            collide = True
                            break
                    if collide:
                        break
                    if recurse_to_leaf:
                        assert out2 is not None
                        if item < 0:
                            sub = buckets[-1 - item]
                            assert sub is not None
                            self._choose_indep(work, sub, weight, x, 1, numrep, 0, out2, rep,
                                               recurse_tries, 0, False, None, r, choose_args)
                            if out2[rep] == CRUSH_ITEM_NONE:
                                break  # placed nothing; no leaf
                        else:
                            out2[rep] = item
                    if itemtype == 0 and self._is_out(weight, item, x):
                        break
                    out[rep] = item
                    left -= 1
                    break
            ftotal += 1
        for rep in range(outpos, endpos):
            if out[rep] == CRUSH_ITEM_UNDEF:
                out[rep] = CRUSH_ITEM_NONE
            if out2 is not None and out2[rep] == CRUSH_ITEM_UNDEF:
                out2[rep] = CRUSH_ITEM_NONE


_HEAD3 = _struct.Struct("<III")
_RULE_MASK = _struct.Struct("<BBBB")  # ruleset, type, min_size, max_size


def decode_crush(data: Buffer) -> CrushMap:
    """Decode a CRUSH map bufferlist; see :meth:`CrushMap.decode`."""
    return CrushMap.decode(data)


# -- Ceph's crush_ln tables (data from src/crush/crush_ln_table.h) -----------------------------
# RH_LH[2k] ~ 2**48 / (1 + k/128) and RH_LH[2k+1] ~ 2**48 * log2(1 + k/128), k = 0..128;
# LL[k] ~ 2**48 * log2(1 + k/2**15). Several entries deviate from those formulas (the last
# LH, and a few LL values), so they are kept verbatim as data, not recomputed.

_RH_LH_TBL: tuple[int, ...] = (
    0x0001000000000000, 0x0000000000000000, 0x0000fe03f80fe040, 0x000002dfca16dde1,
    0x0000fc0fc0fc0fc1, 0x000005b9e5a170b4, 0x0000fa232cf25214, 0x0000088e68ea899a,
    0x0000f83e0f83e0f9, 0x00000b5d69bac77e, 0x0000f6603d980f67, 0x00000e26fd5c8555,
    0x0000f4898d5f85bc, 0x000010eb389fa29f, 0x0000f2b9d6480f2c, 0x000013aa2fdd27f1,
    0x0000f0f0f0f0f0f1, 0x00001663f6fac913, 0x0000ef2eb71fc435, 0x00001918a16e4633,
    0x0000ed7303b5cc0f, 0x00001bc84240adab, 0x0000ebbdb2a5c162, 0x00001e72ec117fa5,
    0x0000ea0ea0ea0ea1, 0x00002118b119b4f3, 0x0000e865ac7b7604, 0x000023b9a32eaa56,
    0x0000e6c2b4481cd9, 0x00002655d3c4f15c, 0x0000e525982af70d, 0x000028ed53f307ee,
    0x0000e38e38e38e39, 0x00002b803473f7ad, 0x0000e1fc780e1fc8, 0x00002e0e85a9de04,
    0x0000e070381c0e08, 0x0000309857a05e07, 0x0000dee95c4ca038, 0x0000331dba0efce1,
    0x0000dd67c8a60dd7, 0x0000359ebc5b69d9, 0x0000dbeb61eed19d, 0x0000381b6d9bb29b,
    0x0000da740da740db, 0x00003a93dc9864b2, 0x0000d901b2036407, 0x00003d0817ce9cd4,
    0x0000d79435e50d7a, 0x00003f782d7204d0, 0x0000d62b80d62b81, 0x000041e42b6ec0c0,
    0x0000d4c77b03531e, 0x0000444c1f6b4c2d, 0x0000d3680d3680d4, 0x000046b016ca47c1,
    0x0000d20d20d20d21, 0x000049101eac381c, 0x0000d0b69fcbd259, 0x00004b6c43f1366a,
    0x0000cf6474a8819f, 0x00004dc4933a9337, 0x0000ce168a772509, 0x0000501918ec6c11,
    0x0000cccccccccccd, 0x00005269e12f346e, 0x0000cb8727c065c4, 0x000054b6f7f1325a,
    0x0000ca4587e6b750, 0x0000570068e7ef5a, 0x0000c907da4e8712, 0x000059463f919dee,
    0x0000c7ce0c7ce0c8, 0x00005b8887367433, 0x0000c6980c6980c7, 0x00005dc74ae9fbec,
    0x0000c565c87b5f9e, 0x00006002958c5871, 0x0000c4372f855d83, 0x0000623a71cb82c8,
    0x0000c30c30c30c31, 0x0000646eea247c5c, 0x0000c1e4bbd595f7, 0x000066a008e4788c,
    0x0000c0c0c0c0c0c1, 0x000068cdd829fd81, 0x0000bfa02fe80bfb, 0x00006af861e5fc7d,
    0x0000be82fa0be830, 0x00006d1fafdce20a, 0x0000bd6910470767, 0x00006f43cba79e40,
    0x0000bc52640bc527, 0x00007164beb4a56d, 0x0000bb3ee721a54e, 0x000073829248e961,
    0x0000ba2e8ba2e8bb, 0x0000759d4f80cba8, 0x0000b92143fa36f6, 0x000077b4ff5108d9,
    0x0000b81702e05c0c, 0x000079c9aa879d53, 0x0000b70fbb5a19bf, 0x00007bdb59cca388,
    0x0000b60b60b60b61, 0x00007dea15a32c1b, 0x0000b509e68a9b95, 0x00007ff5e66a0ffe,
    0x0000b40b40b40b41, 0x000081fed45cbccb, 0x0000b30f63528918, 0x00008404e793fb81,
    0x0000b21642c8590c, 0x000086082806b1d5, 0x0000b11fd3b80b12, 0x000088089d8a9e47,
    0x0000b02c0b02c0b1, 0x00008a064fd50f2a, 0x0000af3addc680b0, 0x00008c01467b94bb,
    0x0000ae4c415c9883, 0x00008df988f4ae80, 0x0000ad602b580ad7, 0x00008fef1e987409,
    0x0000ac7691840ac8, 0x000091e20ea1393e, 0x0000ab8f69e2835a, 0x000093d2602c2e5f,
    0x0000aaaaaaaaaaab, 0x000095c01a39fbd6, 0x0000a9c84a47a080, 0x000097ab43af59f9,
    0x0000a8e83f5717c1, 0x00009993e355a4e5, 0x0000a80a80a80a81, 0x00009b79ffdb6c8b,
    0x0000a72f0539782a, 0x00009d5d9fd5010b, 0x0000a655c4392d7c, 0x00009f3ec9bcfb80,
    0x0000a57eb50295fb, 0x0000a11d83f4c355, 0x0000a4a9cf1d9684, 0x0000a2f9d4c51039,
    0x0000a3d70a3d70a4, 0x0000a4d3c25e68dc, 0x0000a3065e3fae7d, 0x0000a6ab52d99e76,
    0x0000a237c32b16d0, 0x0000a8808c384547, 0x0000a16b312ea8fd, 0x0000aa5374652a1c,
    0x0000a0a0a0a0a0a1, 0x0000ac241134c4e9, 0x00009fd809fd80a0, 0x0000adf26865a8a1,
    0x00009f1165e72549, 0x0000afbe7fa0f04d, 0x00009e4cad23dd60, 0x0000b1885c7aa982,
    0x00009d89d89d89d9, 0x0000b35004723c46, 0x00009cc8e160c3fc, 0x0000b5157cf2d078,
    0x00009c09c09c09c1, 0x0000b6d8cb53b0ca, 0x00009b4c6f9ef03b, 0x0000b899f4d8ab63,
    0x00009a90e7d95bc7, 0x0000ba58feb2703a, 0x000099d722dabde6, 0x0000bc15edfeed32,
    0x0000991f1a515886, 0x0000bdd0c7c9a817, 0x00009868c809868d, 0x0000bf89910c1678,
    0x000097b425ed097c, 0x0000c1404eadf383, 0x000097012e025c05, 0x0000c2f5058593d9,
    0x0000964fda6c0965, 0x0000c4a7ba58377c, 0x000095a02568095b, 0x0000c65871da59dd,
    0x000094f2094f2095, 0x0000c80730b00016, 0x0000944580944581, 0x0000c9b3fb6d0559,
    0x0000939a85c4093a, 0x0000cb5ed69565af, 0x000092f113840498, 0x0000cd07c69d8702,
    0x0000924924924925, 0x0000ceaecfea8085, 0x000091a2b3c4d5e7, 0x0000d053f6d26089,
    0x000090fdbc090fdc, 0x0000d1f73f9c70c0, 0x0000905a38633e07, 0x0000d398ae817906,
    0x00008fb823ee08fc, 0x0000d53847ac00a6, 0x00008f1779d9fdc4, 0x0000d6d60f388e41,
    0x00008e78356d1409, 0x0000d8720935e643, 0x00008dda5202376a, 0x0000da0c39a54804,
    0x00008d3dcb08d3dd, 0x0000dba4a47aa996, 0x00008ca29c046515, 0x0000dd3b4d9cf24b,
    0x00008c08c08c08c1, 0x0000ded038e633f3, 0x00008b70344a139c, 0x0000e0636a23e2ee,
    0x00008ad8f2fba939, 0x0000e1f4e5170d02, 0x00008a42f870566a, 0x0000e384ad748f0e,
    0x000089ae4089ae41, 0x0000e512c6e54998, 0x0000891ac73ae982, 0x0000e69f35065448,
    0x0000888888888889, 0x0000e829fb693044, 0x000087f78087f781, 0x0000e9b31d93f98e,
    0x00008767ab5f34e5, 0x0000eb3a9f019750, 0x000086d905447a35, 0x0000ecc08321eb30,
    0x0000864b8a7de6d2, 0x0000ee44cd59ffab, 0x000085bf37612cef, 0x0000efc781043579,
    0x0000853408534086, 0x0000f148a170700a, 0x000084a9f9c8084b, 0x0000f2c831e44116,
    0x0000842108421085, 0x0000f446359b1353, 0x0000839930523fbf, 0x0000f5c2afc65447,
    0x000083126e978d50, 0x0000f73da38d9d4a, 0x0000828cbfbeb9a1, 0x0000f8b7140edbb1,
    0x0000820820820821, 0x0000fa2f045e7832, 0x000081848da8faf1, 0x0000fba577877d7d,
    0x0000810204081021, 0x0000fd1a708bbe11, 0x0000808080808081, 0x0000fe8df263f957,
    0x0000800000000000, 0x0000ffff00000000,
)

_LL_TBL: tuple[int, ...] = (
    0x0000000000000000, 0x00000002e2a60a00, 0x000000070cb64ec5, 0x00000009ef50ce67,
    0x0000000cd1e588fd, 0x0000000fb4747e9c, 0x0000001296fdaf5e, 0x0000001579811b58,
    0x000000185bfec2a1, 0x0000001b3e76a552, 0x0000001e20e8c380, 0x0000002103551d43,
    0x00000023e5bbb2b2, 0x00000026c81c83e4, 0x00000029aa7790f0, 0x0000002c8cccd9ed,
    0x0000002f6f1c5ef2, 0x0000003251662017, 0x0000003533aa1d71, 0x0000003815e8571a,
    0x0000003af820cd26, 0x0000003dda537fae, 0x00000040bc806ec8, 0x000000439ea79a8c,
    0x0000004680c90310, 0x0000004962e4a86c, 0x0000004c44fa8ab6, 0x0000004f270aaa06,
    0x0000005209150672, 0x00000054eb19a013, 0x00000057cd1876fd, 0x0000005aaf118b4a,
    0x0000005d9104dd0f, 0x0000006072f26c64, 0x0000006354da3960, 0x0000006636bc441a,
    0x0000006918988ca8, 0x0000006bfa6f1322, 0x0000006edc3fd79f, 0x00000071be0ada35,
    0x000000749fd01afd, 0x00000077818f9a0c, 0x0000007a6349577a, 0x0000007d44fd535e,
    0x0000008026ab8dce, 0x00000083085406e3, 0x00000085e9f6beb2, 0x00000088cb93b552,
    0x0000008bad2aeadc, 0x0000008e8ebc5f65, 0x0000009170481305, 0x0000009451ce05d3,
    0x00000097334e37e5, 0x0000009a14c8a953, 0x0000009cf63d5a33, 0x0000009fd7ac4a9d,
    0x000000a2b07f3458, 0x000000a59a78ea6a, 0x000000a87bd699fb, 0x000000ab5d2e8970,
    0x000000ae3e80b8e3, 0x000000b11fcd2869, 0x000000b40113d818, 0x000000b6e254c80a,
    0x000000b9c38ff853, 0x000000bca4c5690c, 0x000000bf85f51a4a, 0x000000c2671f0c26,
    0x000000c548433eb6, 0x000000c82961b211, 0x000000cb0a7a664d, 0x000000cdeb8d5b82,
    0x000000d0cc9a91c8, 0x000000d3ada20933, 0x000000d68ea3c1dd, 0x000000d96f9fbbdb,
    0x000000dc5095f744, 0x000000df31867430, 0x000000e2127132b5, 0x000000e4f35632ea,
    0x000000e7d43574e6, 0x000000eab50ef8c1, 0x000000ed95e2be90, 0x000000f076b0c66c,
    0x000000f35779106a, 0x000000f6383b9ca2, 0x000000f918f86b2a, 0x000000fbf9af7c1a,
    0x000000feda60cf88, 0x00000101bb0c658c, 0x000001049bb23e3c, 0x000001077c5259af,
    0x0000010a5cecb7fc, 0x0000010d3d81593a, 0x000001101e103d7f, 0x00000112fe9964e4,
    0x00000115df1ccf7e, 0x00000118bf9a7d64, 0x0000011ba0126ead, 0x0000011e8084a371,
    0x0000012160f11bc6, 0x000001244157d7c3, 0x0000012721b8d77f, 0x0000012a02141b10,
    0x0000012ce269a28e, 0x0000012fc2b96e0f, 0x00000132a3037daa, 0x000001358347d177,
    0x000001386386698c, 0x0000013b43bf45ff, 0x0000013e23f266e9, 0x00000141041fcc5e,
    0x00000143e4477678, 0x00000146c469654b, 0x00000149a48598f0, 0x0000014c849c117c,
    0x0000014f64accf08, 0x0000015244b7d1a9, 0x0000015524bd1976, 0x0000015804bca687,
    0x0000015ae4b678f2, 0x0000015dc4aa90ce, 0x00000160a498ee31, 0x0000016384819134,
    0x00000166646479ec, 0x000001694441a870, 0x0000016c24191cd7, 0x0000016df6ca19bd,
    0x00000171e3b6d7aa, 0x00000174c37d1e44, 0x00000177a33dab1c, 0x0000017a82f87e49,
    0x0000017d62ad97e2, 0x00000180425cf7fe, 0x00000182b07f3458, 0x0000018601aa8c19,
    0x00000188e148c046, 0x0000018bc0e13b52, 0x0000018ea073fd52, 0x000001918001065d,
    0x000001945f88568b, 0x000001973f09edf2, 0x0000019a1e85ccaa, 0x0000019cfdfbf2c8,
    0x0000019fdd6c6063, 0x000001a2bcd71593, 0x000001a59c3c126e, 0x000001a87b9b570b,
    0x000001ab5af4e380, 0x000001ae3a48b7e5, 0x000001b11996d450, 0x000001b3f8df38d9,
    0x000001b6d821e595, 0x000001b9b75eda9b, 0x000001bc96961803, 0x000001bf75c79de3,
    0x000001c254f36c51, 0x000001c534198365, 0x000001c81339e336, 0x000001caf2548bd9,
    0x000001cdd1697d67, 0x000001d0b078b7f5, 0x000001d38f823b9a, 0x000001d66e86086d,
    0x000001d94d841e86, 0x000001dc2c7c7df9, 0x000001df0b6f26df, 0x000001e1ea5c194e,
    0x000001e4c943555d, 0x000001e7a824db23, 0x000001ea8700aab5, 0x000001ed65d6c42b,
    0x000001f044a7279d, 0x000001f32371d51f, 0x000001f60236ccca, 0x000001f8e0f60eb3,
    0x000001fbbfaf9af3, 0x000001fe9e63719e, 0x000002017d1192cc, 0x000002045bb9fe94,
    0x000002073a5cb50d, 0x00000209c06e6212, 0x0000020cf791026a, 0x0000020fd622997c,
    0x00000212b07f3458, 0x000002159334a8d8, 0x0000021871b52150, 0x0000021b502fe517,
    0x0000021d6a73a78f, 0x000002210d144eee, 0x00000223eb7df52c, 0x00000226c9e1e713,
    0x00000229a84024bb, 0x0000022c23679b4e, 0x0000022f64eb83a8, 0x000002324338a51b,
    0x00000235218012a9, 0x00000237ffc1cc69, 0x0000023a2c3b0ea4, 0x0000023d13ee805b,
    0x0000024035e9221f, 0x00000243788faf25, 0x0000024656b4e735, 0x00000247ed646bfe,
    0x0000024c12ee3d98, 0x0000024ef1025c1a, 0x00000251cf10c799, 0x0000025492644d65,
    0x000002578b1c85ee, 0x0000025a6919d8f0, 0x0000025d13ee805b, 0x0000026025036716,
    0x0000026296453882, 0x00000265e0d62b53, 0x00000268beb701f3, 0x0000026b9c92265e,
    0x0000026d32f798a9, 0x00000271583758eb, 0x000002743601673b, 0x0000027713c5c3b0,
    0x00000279f1846e5f, 0x0000027ccf3d6761, 0x0000027e6580aecb, 0x000002828a9e44b3,
    0x0000028568462932, 0x00000287bdbf5255, 0x0000028b2384de4a, 0x0000028d13ee805b,
    0x0000029035e9221f, 0x0000029296453882, 0x0000029699bdfb61, 0x0000029902a37aab,
    0x0000029c54b864c9, 0x0000029deabd1083, 0x000002a20f9c0bb5, 0x000002a4c7605d61,
    0x000002a7bdbf5255, 0x000002a96056dafc, 0x000002ac3daf14ef, 0x000002af1b019eca,
    0x000002b296453882, 0x000002b5d022d80f, 0x000002b8fa471cb3, 0x000002ba9012e713,
    0x000002bd6d4901cc, 0x000002c04a796cf6, 0x000002c327a428a6, 0x000002c61a5e8f4c,
    0x000002c8e1e891f6, 0x000002cbbf023fc2, 0x000002ce9c163e6e, 0x000002d179248e13,
    0x000002d4562d2ec6, 0x000002d73330209d, 0x000002da102d63b0, 0x000002dced24f814,
)
