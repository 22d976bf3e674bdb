"""MonMap: the monitors of a cluster, in rank order, with their addresses.

Theory of operation: the monitors publish a ``MonMap`` (inside ``MMonMap``, or from
``ceph mon getmap``). A client needs little of it: the fsid, the epoch (to subscribe to
``monmap`` from epoch+1), and each monitor's name and ``entity_addrvec_t`` in *rank* order,
which is the order of the ``ranks`` vector, not the (sorted) order of the ``mon_info`` map.
Hunting picks monitors from :meth:`MonMap.addrvecs`. Everything else (features, election
strategy, stretch mode) is decoded so that the corpus round trip is exact, but is not used.

The map is one versioned envelope. Pacific writes v9 compat 6; Reef, Squid and Tentacle still
write v9 (the corpus objects of all four releases are byte-identical), and any field a newer
release appends is skipped by the envelope. Versions before 9 are pre-Pacific and rejected.

Mirrors: ceph src/mon/MonMap.cc (MonMap::encode/decode, mon_info_t::encode/decode),
src/mon/MonMap.h, src/mon/mon_types.h (mon_feature_t); kernel net/ceph/mon_client.c
(ceph_monmap_decode).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.types import EntityAddrvec

log = logging.getLogger(__name__)

# Pacific (16.2) is the floor: MonMap v9 / mon_info_t v5 are what it writes.
MONMAP_MIN_V = 9
MONMAP_MAX_COMPAT = 6
MONMAP_V = 9
MONMAP_COMPAT = 6

MON_INFO_MIN_V = 3  # v3 (Nautilus) replaced the single entity_addr_t by an entity_addrvec_t
MON_INFO_V = 5
MON_INFO_COMPAT = 1

# election_strategy values (ceph src/mon/MonMap.h, enum election_strategy).
ELECTION_CLASSIC = 1
ELECTION_DISALLOW = 2
ELECTION_CONNECTIVITY = 3


def _str(dec: Decoder) -> str:
    return dec.string()


def _s32(dec: Decoder) -> int:
    return dec.s32()


def _enc_str(enc: Encoder, s: str) -> None:
    enc.string(s)


def _enc_s32(enc: Encoder, v: int) -> None:
    enc.s32(v)


def decode_mon_feature(dec: Decoder) -> int:
    """``mon_feature_t``: an envelope (v1, compat 1) around one le64 feature mask."""
    with dec.struct("mon_feature_t", max_compat=1):
        return dec.u64()


def encode_mon_feature(enc: Encoder, features: int) -> None:
    with enc.struct(1, 1):
        enc.u64(features)


@dataclass(slots=True)
class MonInfo:
    """``mon_info_t``: one monitor's name, public addresses, priority, weight, crush location.

    Decodes struct_v 3..5 and anything newer within compat 1 (later tails skipped):
    ``priority`` arrived in v2, ``weight`` in v4 (Octopus) and ``crush_loc`` in v5 (Pacific).
    """

    CEPH_TYPE = "mon_info_t"

    name: str
    public_addrs: EntityAddrvec
    priority: int = 0
    weight: int = 0
    crush_loc: dict[str, str] = field(default_factory=dict)

    @classmethod
    def decode(cls, dec: Decoder) -> MonInfo:
        with dec.struct("mon_info_t", min_v=MON_INFO_MIN_V, max_compat=MON_INFO_COMPAT) as v:
            name = dec.string()
            addrs = EntityAddrvec.decode(dec)
            priority = dec.u16()  # v >= 2, implied by the v3 floor
            weight = dec.u16() if v >= 4 else 0  # added in v4 (Octopus)
            crush_loc = dec.map_(_str, _str) if v >= 5 else {}  # added in v5 (Pacific)
        return cls(name, addrs, priority, weight, crush_loc)

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(MON_INFO_V, MON_INFO_COMPAT):
            enc.string(self.name)
            self.public_addrs.encode(enc)
            enc.u16(self.priority)
            enc.u16(self.weight)
            enc.map_(self.crush_loc, _enc_str, _enc_str)


@dataclass(slots=True)
class MonMap:
    """``MonMap`` as Pacific and later encode it (struct_v 9, compat 6).

    Decodes struct_v >= 9 with compat <= 6; fields appended by newer releases are skipped by
    the envelope. Nothing is skipped inside v9: every field is kept so that decode → encode
    reproduces Ceph's bytes. ``last_changed``/``created`` are ``utime_t`` (sec, nsec) pairs.
    """

    CEPH_TYPE = "MonMap"

    fsid: bytes = b"\0" * 16
    epoch: int = 0
    last_changed: tuple[int, int] = (0, 0)
    created: tuple[int, int] = (0, 0)
    persistent_features: int = 0
    optional_features: int = 0
    mon_info: dict[str, MonInfo] = field(default_factory=dict)
    ranks: list[str] = field(default_factory=list)
    min_mon_release: int = 0
    removed_ranks: list[int] = field(default_factory=list)
    strategy: int = ELECTION_CLASSIC
    disallowed_leaders: list[str] = field(default_factory=list)
    stretch_mode_enabled: bool = False
    tiebreaker_mon: str = ""
    stretch_marked_down_mons: list[str] = field(default_factory=list)

    @classmethod
    def decode(cls, dec: Decoder) -> MonMap:
        with dec.struct("MonMap", min_v=MONMAP_MIN_V, max_compat=MONMAP_MAX_COMPAT):
            m = cls()
            m.fsid = dec.uuid()
            m.epoch = dec.u32()
            # v6 dropped the legacy map<string, entity_addr_t> mon_addr that sat here.
            m.last_changed = dec.utime()
            m.created = dec.utime()
            with dec.named("persistent_features"):
                m.persistent_features = decode_mon_feature(dec)
            with dec.named("optional_features"):
                m.optional_features = decode_mon_feature(dec)
            m.mon_info = dec.map_(_str, MonInfo.decode)
            m.ranks = dec.list_(_str, 4)
            m.min_mon_release = dec.u8()  # v7 (Nautilus)
            # v8 (Pacific): removed_ranks, election strategy, disallowed leaders
            m.removed_ranks = dec.list_(_s32, 4)
            m.strategy = dec.u8()
            m.disallowed_leaders = dec.list_(_str, 4)
            # v9 (Pacific): stretch mode
            m.stretch_mode_enabled = dec.bool_()
            m.tiebreaker_mon = dec.string()
            m.stretch_marked_down_mons = dec.list_(_str, 4)
        for name in m.ranks:
            if name not in m.mon_info:
                raise dec.error(f"MonMap rank names unknown mon {name!r}")
        log.debug("decoded monmap e%d fsid %s: %s", m.epoch, m.fsid_str, m.ranks)
        return m

    def encode(self, enc: Encoder, features: int = 0) -> None:
        with enc.struct(MONMAP_V, MONMAP_COMPAT):
            enc.uuid(self.fsid)
            enc.u32(self.epoch)
            enc.utime(self.last_changed)
            enc.utime(self.created)
            encode_mon_feature(enc, self.persistent_features)
            encode_mon_feature(enc, self.optional_features)
            enc.map_(self.mon_info, _enc_str, lambda e, mi: mi.encode(e, features))
            enc.list_(self.ranks, _enc_str)
            enc.u8(self.min_mon_release)
            enc.list_(sorted(self.removed_ranks), _enc_s32)  # a std::set<int>
            enc.u8(self.strategy)
            enc.list_(sorted(self.disallowed_leaders), _enc_str)  # a std::set<string>
            enc.bool_(self.stretch_mode_enabled)
            enc.string(self.tiebreaker_mon)
            enc.list_(sorted(self.stretch_marked_down_mons), _enc_str)

    # -- client helpers ------------------------------------------------------------------

    @property
    def fsid_str(self) -> str:
        return str(uuid.UUID(bytes=bytes(self.fsid)))

    def mons(self) -> list[tuple[str, EntityAddrvec]]:
        """(name, public addrvec) for every monitor, in rank order."""
        return [(name, self.mon_info[name].public_addrs) for name in self.ranks]

    def addrvecs(self) -> list[EntityAddrvec]:
        """Public addrvecs in rank order (what the MonClient hunts over)."""
        return [self.mon_info[name].public_addrs for name in self.ranks]

    def get_rank(self, name: str) -> int:
        """The rank of monitor ``name``, or -1 (MonMap::get_rank)."""
        try:
            return self.ranks.index(name)
        except ValueError:
            return -1


def decode_monmap(data: Buffer) -> MonMap:
    """Decode a whole MonMap buffer (``ceph mon getmap`` output, MMonMap's monmap blob)."""
    return decode_all(data, MonMap.decode, "MonMap")


def encode_monmap(m: MonMap) -> bytes:
    enc = Encoder()
    m.encode(enc)
    return enc.getvalue()
