"""Small wire types shared by several layers: names, addresses, pg ids, snap contexts.

Mirrors: ceph src/msg/msg_types.h (entity_name_t, entity_addr_t, entity_addrvec_t),
src/common/entity_name.h (EntityName), src/osd/osd_types.h (pg_t, object_locator_t,
eversion_t), src/common/snap_types.h (SnapContext); kernel include/linux/ceph/decode.h
(ceph_decode_entity_addr).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from rbdpy.rados.proto.denc import Decoder, Encoder

AF_INET = 2
AF_INET6 = 10


class EntityType(IntEnum):
    """CEPH_ENTITY_TYPE_* (kernel include/linux/ceph/msgr.h); also cephx service ids."""

    MON = 0x01
    MDS = 0x02
    OSD = 0x04
    CLIENT = 0x08
    MGR = 0x10
    AUTH = 0x20


_ENTITY_TYPE_NAMES = {
    EntityType.MON: "mon",
    EntityType.MDS: "mds",
    EntityType.OSD: "osd",
    EntityType.CLIENT: "client",
    EntityType.MGR: "mgr",
    EntityType.AUTH: "auth",
}
_ENTITY_NAME_TYPES = {v: k for k, v in _ENTITY_TYPE_NAMES.items()}


@dataclass(frozen=True)
class EntityName:
    """``EntityName`` as cephx encodes it: le32 type + string id ("client.admin")."""

    type: int
    id: str

    @classmethod
    def parse(cls, text: str) -> EntityName:
        """``"client.admin"`` → EntityName(CLIENT, "admin"); a bare id means a client."""
        kind, dot, ident = text.partition(".")
        if dot and kind in _ENTITY_NAME_TYPES:
            return cls(_ENTITY_NAME_TYPES[kind], ident)
        if dot:
            raise ValueError(f"unknown entity type in name {text!r}")
        return cls(EntityType.CLIENT, text)

    def __str__(self) -> str:
        return f"{_ENTITY_TYPE_NAMES.get(EntityType(self.type), str(self.type))}.{self.id}"

    @property
    def type_str(self) -> str:
        return _ENTITY_TYPE_NAMES[EntityType(self.type)]

    def encode(self, enc: Encoder) -> None:
        enc.u32(self.type)
        enc.string(self.id)

    @classmethod
    def decode(cls, dec: Decoder) -> EntityName:
        return cls(dec.u32(), dec.string())


class AddrType(IntEnum):
    """entity_addr_t::TYPE_* (ceph src/msg/msg_types.h)."""

    NONE = 0
    LEGACY = 1
    MSGR2 = 2
    ANY = 3
    CIDR = 4


# entity_addr_t with an IPv4 sockaddr: marker, struct_v, struct_compat, body length, type,
# nonce, sockaddr length, family (little-endian) and port (big-endian, as in sockaddr_in:
# read here little-endian and swapped); the address's 4 bytes and 8 bytes of padding follow.
_ADDR_V4_HEAD = struct.Struct("<BBBIIIIHH")
_ADDR_V4_BODY = 28  # type + nonce + sockaddr length + 16-byte sockaddr_in
_ADDR_V4_SIZE = 3 + 4 + _ADDR_V4_BODY
_V4_HOSTS: dict[bytes, str] = {}  # dotted quads by their bytes: a map names few hosts
_V4_HOSTS_MAX = 4096


@dataclass(frozen=True)
class EntityAddr:
    """``entity_addr_t`` (new, MSG_ADDR2 form).

    The sockaddr is stored as (host, port); ``host`` is an IP literal or "" for none.
    On the wire the family is little-endian and the port big-endian (a raw sockaddr).
    """

    type: int = AddrType.NONE
    nonce: int = 0
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        prefix = {AddrType.MSGR2: "v2:", AddrType.LEGACY: "v1:", AddrType.ANY: "any:"}.get(
            AddrType(self.type) if self.type in AddrType._value2member_map_ else AddrType.NONE,
            "",
        )
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{prefix}{host}:{self.port}/{self.nonce}"

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)  # marker: new-style entity_addr_t
        with enc.struct(1, 1):
            enc.u32(self.type)
            enc.u32(self.nonce)
            if not self.host:
                enc.u32(0)
                return
            ip = ipaddress.ip_address(self.host)
            if ip.version == 4:
                enc.u32(16)
                enc.raw(struct.pack("<H", AF_INET) + struct.pack(">H", self.port) + ip.packed
                        + b"\0" * 8)
            else:
                enc.u32(28)
                enc.raw(struct.pack("<H", AF_INET6) + struct.pack(">H", self.port)
                        + b"\0" * 4 + ip.packed + b"\0" * 4)

    @classmethod
    def decode(cls, dec: Decoder) -> EntityAddr:
        """Decode the MSG_ADDR2 form (marker 1); the legacy form is pre-Nautilus only.

        An OSDMap carries four address vectors per OSD, so the common shape -- an IPv4
        sockaddr in a v1 envelope with nothing after it -- is read with one unpack (and
        its host string reused from earlier addresses); anything else takes the general
        path below, which also reports every error.
        """
        pos = dec.pos
        if dec.end - pos >= _ADDR_V4_SIZE:
            marker, v, compat, length, atype, nonce, sa_len, family, port_le = (
                _ADDR_V4_HEAD.unpack_from(dec.buf, pos))
            if (marker == 1 and v >= 1 and compat <= 1 and length == _ADDR_V4_BODY
                    and sa_len == 16 and family == AF_INET):
                raw = bytes(dec.buf[pos + 23:pos + 27])
                host = _V4_HOSTS.get(raw)
                if host is None:
                    host = ".".join(map(str, raw))
                    if len(_V4_HOSTS) < _V4_HOSTS_MAX:
                        _V4_HOSTS[raw] = host
                dec.pos = pos + _ADDR_V4_SIZE
                return cls(atype, nonce, host, (port_le & 0xFF) << 8 | port_le >> 8)
        marker = dec.u8()
        if marker != 1:
            raise dec.error(f"entity_addr_t marker {marker}, expected 1")
        with dec.struct("entity_addr_t", max_compat=1):
            atype = dec.u32()
            nonce = dec.u32()
            sa_len = dec.u32()
            host = ""
            port = 0
            if sa_len:
                sa = dec.raw(sa_len)
                if sa_len < 4:
                    raise dec.error(f"sockaddr length {sa_len}")
                family = struct.unpack_from("<H", sa, 0)[0]
                port = struct.unpack_from(">H", sa, 2)[0]
                if family == AF_INET and sa_len >= 8:
                    host = str(ipaddress.IPv4Address(bytes(sa[4:8])))
                elif family == AF_INET6 and sa_len >= 24:
                    host = str(ipaddress.IPv6Address(bytes(sa[8:24])))
                elif family == 0:
                    # AF_UNSPEC: an unset address that still carries a zeroed sockaddr
                    # (Ceph's default entity_addr_t; MonMap corpus "empty_addr_one").
                    pass
                elif family not in (AF_INET, AF_INET6):
                    raise dec.error(f"unknown address family {family}")
                else:
                    raise dec.error(f"sockaddr length {sa_len} too short for family {family}")
        return cls(atype, nonce, host, port)


@dataclass(frozen=True)
class EntityAddrvec:
    """``entity_addrvec_t``: u8 marker 2 + vector<entity_addr_t>."""

    addrs: tuple[EntityAddr, ...] = ()

    def encode(self, enc: Encoder) -> None:
        enc.u8(2)
        enc.u32(len(self.addrs))
        for a in self.addrs:
            a.encode(enc)

    @classmethod
    def decode(cls, dec: Decoder) -> EntityAddrvec:
        pos = dec.pos
        if dec.end - pos >= _ADDRVEC_HEAD_SIZE:
            # An OSDMap has four of these per OSD (empty ones for OSDs never up): marker
            # and count in one unpack, and one shared empty vector. Errors: general path.
            marker, n = _ADDRVEC_HEAD.unpack_from(dec.buf, pos)
            body = pos + _ADDRVEC_HEAD.size
            if marker == 2 and n * _ADDR_MIN_SIZE <= dec.end - body:
                dec.pos = body
                if not n:
                    return _NO_ADDRS
                return cls(tuple([EntityAddr.decode(dec) for _ in range(n)]))
        marker = dec.u8()
        if marker == 1:
            # A lone entity_addr_t stands for a one-element vector (msg_types.cc decode).
            dec.pos -= 1
            return cls((EntityAddr.decode(dec),))
        if marker != 2:
            raise dec.error(f"entity_addrvec_t marker {marker}, expected 2")
        n = dec.count(_ADDR_MIN_SIZE)
        return cls(tuple(EntityAddr.decode(dec) for _ in range(n)))

    def msgr2(self) -> EntityAddr | None:
        """The msgr2 address to dial, if any (type MSGR2, else ANY)."""
        for want in (AddrType.MSGR2, AddrType.ANY):
            for a in self.addrs:
                if a.type == want:
                    return a
        return None

    def __str__(self) -> str:
        return "[" + ",".join(str(a) for a in self.addrs) + "]"


_ADDRVEC_HEAD = struct.Struct("<BI")  # entity_addrvec_t: marker 2, element count
_ADDR_MIN_SIZE = 7  # the smallest entity_addr_t: marker + struct envelope
_ADDRVEC_HEAD_SIZE = _ADDRVEC_HEAD.size
_NO_ADDRS = EntityAddrvec()


@dataclass(frozen=True, order=True)
class PgId:
    """``pg_t``: u8 version 1 + le64 pool + le32 seed + le32 preferred (-1)."""

    pool: int
    seed: int

    def encode(self, enc: Encoder) -> None:
        enc.u8(1)
        enc.u64(self.pool)
        enc.u32(self.seed)
        enc.s32(-1)

    @classmethod
    def decode(cls, dec: Decoder) -> PgId:
        v = dec.u8()
        if v != 1:
            raise dec.error(f"pg_t version {v}")
        pool = dec.s64()
        seed = dec.u32()
        dec.skip(4)  # preferred: always -1 since Luminous
        return cls(pool, seed)

    def __str__(self) -> str:
        return f"{self.pool}.{self.seed:x}"


@dataclass(frozen=True)
class SnapContext:
    """``SnapContext``: le64 seq + vector<le64> snaps (newest first)."""

    seq: int = 0
    snaps: tuple[int, ...] = field(default_factory=tuple)

    def encode(self, enc: Encoder) -> None:
        enc.u64(self.seq)
        enc.u32(len(self.snaps))
        for s in self.snaps:
            enc.u64(s)

    @classmethod
    def decode(cls, dec: Decoder) -> SnapContext:
        seq = dec.u64()
        n = dec.count(8)
        return cls(seq, tuple(dec.u64() for _ in range(n)))

    def is_valid(self) -> bool:
        """Ceph's SnapContext::is_valid: snaps strictly descending and none above seq."""
        if self.seq == 0 and self.snaps:
            return False
        prev = self.seq + 1
        for s in self.snaps:
            if s >= prev:
                return False
            prev = s
        return True
