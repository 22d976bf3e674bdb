"""The cluster log as a client receives it: MLog and LogEntry.

Theory of operation: a client that subscribes to "log-debug"/"log-info"/"log-sec"/
"log-warn"/"log-error" at a monitor receives MLog messages carrying the cluster log
entries at or above that level. The PaxosService header's ``version`` numbers the
messages: librados delivers a message only when its version is above the last one it
delivered (the monitor resends on every resubscription) and moves its subscription past
it. The text forms librados hands to ``rados_monitor_log`` callbacks (the "line", the
"who", the level) are built here too, from Ceph's printing rules.

Mirrors: ceph src/messages/MLog.h, src/common/LogEntry.{h,cc} (LogEntry::encode v5,
clog_type_to_string), src/include/utime.h (utime_t's printed form),
src/msg/msg_types.h (entity_name_t, entity_addr_t and entity_addrvec_t printing),
src/librados/RadosClient.cc (handle_log). Pinned by frames a 16.2.15 monitor sent
(tests/vectors/commands).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.messages.base import (
    Message,
    MsgType,
    PaxosServiceHeader,
    front_decoder,
    register,
)
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityAddrvec, EntityName

_NIL_FSID = b"\0" * 16

#: clog_type (LogEntry.h) → the level text librados passes to callbacks.
CLOG_LEVELS = {0: "[DBG]", 1: "[INF]", 2: "[SEC]", 3: "[WRN]", 4: "[ERR]"}

#: rados_monitor_log level names → the subscription that delivers them.
LOG_SUBSCRIPTIONS = {"debug": "log-debug", "info": "log-info", "warn": "log-warn",
                     "warning": "log-warn", "err": "log-error", "error": "log-error",
                     "sec": "log-sec"}

_ENTITY_TYPE_NAMES = {1: "mon", 2: "mds", 4: "osd", 8: "client", 0x10: "mgr", 0x20: "auth"}


def format_addr(a: EntityAddr) -> str:
    """entity_addr_t as Ceph prints it: "-" for none, no prefix for ANY, else "v2:"..."""
    if a.type == AddrType.NONE:
        return "-"
    prefix = {AddrType.LEGACY: "v1:", AddrType.MSGR2: "v2:"}.get(AddrType(a.type), "") \
        if a.type in AddrType._value2member_map_ else ""
    host = f"[{a.host}]" if ":" in a.host else a.host
    return f"{prefix}{host}:{a.port}/{a.nonce}"


def format_addrvec(v: EntityAddrvec) -> str:
    """entity_addrvec_t as Ceph prints it: one address bare, several in brackets."""
    if len(v.addrs) == 1:
        return format_addr(v.addrs[0])
    return "[" + ",".join(format_addr(a) for a in v.addrs) + "]"


def format_stamp(sec: int, nsec: int) -> str:
    """utime_t's printed form: local time, microseconds and the UTC offset
    ("2026-12-07T16:47:06.941564+0000")."""
    t = datetime.datetime.fromtimestamp(sec).astimezone()
    return f"{t:%Y-%m-%dT%H:%M:%S}.{nsec // 1000:06d}{t:%z}"


@dataclass
class LogEntry:
    """LogEntry v5: EntityName name | entity_name_t rank | entity_addrvec_t addrs |
    utime_t stamp | le64 seq | le16 prio | string msg | string channel."""

    name: EntityName = field(default_factory=lambda: EntityName(0, ""))
    rank_type: int = 0
    rank_num: int = 0
    addrs: EntityAddrvec = field(default_factory=EntityAddrvec)
    stamp: tuple[int, int] = (0, 0)
    seq: int = 0
    prio: int = 0
    msg: str = ""
    channel: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> LogEntry:
        with dec.struct("LogEntry", min_v=5, max_compat=5):
            name = EntityName.decode(dec)
            rank_type = dec.u8()
            rank_num = dec.s64()
            addrs = EntityAddrvec.decode(dec)
            stamp = dec.utime()
            seq = dec.u64()
            prio = dec.s16()
            msg = dec.string()
            channel = dec.string()
        return cls(name, rank_type, rank_num, addrs, stamp, seq, prio, msg, channel)

    def encode(self, enc: Encoder) -> None:
        with enc.struct(5, 5):
            self.name.encode(enc)
            enc.u8(self.rank_type)
            enc.s64(self.rank_num)
            self.addrs.encode(enc)
            enc.utime(self.stamp)
            enc.u64(self.seq)
            enc.s16(self.prio)
            enc.string(self.msg)
            enc.string(self.channel)

    @property
    def name_text(self) -> str:
        """EntityName printed ("client.admin", "mon.a")."""
        return f"{_ENTITY_TYPE_NAMES.get(self.name.type, 'unknown')}.{self.name.id}"

    @property
    def rank_text(self) -> str:
        """entity_name_t printed: "mon.0", or "client.?" for the "new" number -1."""
        kind = _ENTITY_TYPE_NAMES.get(self.rank_type, "unknown")
        return f"{kind}.?" if self.rank_num < 0 else f"{kind}.{self.rank_num}"

    @property
    def level(self) -> str:
        return CLOG_LEVELS.get(self.prio, "[???]")

    @property
    def who(self) -> str:
        """What librados passes as "who": the rank and the addresses."""
        return f"{self.rank_text} {format_addrvec(self.addrs)}"

    @property
    def line(self) -> str:
        """What librados passes as "line": stamp, name, level and message."""
        return f"{format_stamp(*self.stamp)} {self.name_text} {self.level} {self.msg}"


@register
@dataclass
class MLog(Message):
    """MLog (52): PaxosService header | fsid | deque<LogEntry> entries. Header version 1.

    ``paxos.version`` is the log version of the last entry carried (see the module doc).
    """

    TYPE = MsgType.LOG

    fsid: bytes = _NIL_FSID
    entries: list[LogEntry] = field(default_factory=list)
    paxos: PaxosServiceHeader = field(default_factory=PaxosServiceHeader)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        self.paxos.encode(enc)
        enc.uuid(self.fsid)
        enc.u32(len(self.entries))
        for e in self.entries:
            e.encode(enc)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MLog:
        dec = front_decoder(cls, front)
        paxos = PaxosServiceHeader.decode(dec)
        fsid = dec.uuid()
        entries = dec.list_(LogEntry.decode, 6)
        return cls(fsid, entries, paxos)


__all__ = ["CLOG_LEVELS", "LOG_SUBSCRIPTIONS", "LogEntry", "MLog", "format_addrvec",
           "format_stamp"]
