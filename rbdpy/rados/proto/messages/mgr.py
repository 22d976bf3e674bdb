"""Client <-> mgr messages: the MgrMap a client follows, and a service daemon's session.

Theory of operation: a client that talks to the mgr subscribes to "mgrmap" at the monitor
and receives MMgrMap whenever the active mgr changes; of the map it needs only the epoch,
the active mgr's name, gid and addresses, and whether it is available, which lead the
encoding in every version (:class:`MgrMapHead`; the rest is skipped). Commands then go to
that address (messages/command.py). A client registered as a *service daemon* (what
rbd-mirror and radosgw do through ``rados_service_register``) also opens a mgr session
with MMgrOpen (service and daemon name, metadata), receives MMgrConfigure (how often to
report) and sends MMgrReport periodically with its status; the mgr publishes both in the
service map (``ceph service dump``).

Encodings: MMgrOpen is sent as version 2 (the v3 tail -- the daemon's whole config and its
compiled-in defaults, which a python client has no equivalent of -- is left out; the mgr
reads v3 fields only from a v3 message). MMgrReport is sent as version 7 for the same
reason: librados' v9 adds task status and a metric report, both empty for a client. The
mgr decodes each field by the header version, so both are complete messages.

Mirrors: ceph src/mon/MgrMap.h (MgrMap::decode), src/messages/MMgrMap.h, MMgrOpen.h,
MMgrConfigure.h, MMgrReport.h; src/mgr/MgrClient.cc (_send_open, _send_report,
service_daemon_register). Pinned by frames of a 16.2.15 client (tests/vectors/commands).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.messages.base import Message, MsgType, front_decoder, register
from rbdpy.rados.proto.types import EntityAddrvec


def _enc_str(enc: Encoder, s: str) -> None:
    enc.string(s)


def _dec_str(dec: Decoder) -> str:
    return dec.string()


@dataclass(frozen=True)
class MgrMapHead:
    """The leading fields of MgrMap: epoch | active_addrs | active_gid | available |
    active_name (the same order since v1; MgrMap is ENCODE_START(12, 6) in Pacific)."""

    epoch: int = 0
    active_addrs: EntityAddrvec = field(default_factory=EntityAddrvec)
    active_gid: int = 0
    available: bool = False
    active_name: str = ""

    @classmethod
    def decode(cls, dec: Decoder) -> MgrMapHead:
        with dec.struct("MgrMap", max_compat=6):
            epoch = dec.u32()
            addrs = EntityAddrvec.decode(dec)  # a lone entity_addr_t in old maps
            gid = dec.u64()
            available = dec.bool_()
            name = dec.string()
        return cls(epoch, addrs, gid, available, name)


@register
@dataclass
class MMgrMap(Message):
    """MMgrMap (0x704): the MgrMap, encoded directly in the front. Header version 1."""

    TYPE = MsgType.MGR_MAP

    map: MgrMapHead = field(default_factory=MgrMapHead)

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMgrMap:
        return cls(MgrMapHead.decode(front_decoder(cls, front)))


def _enc_str_map(enc: Encoder, m: dict[str, str]) -> None:
    enc.map_(dict(sorted(m.items())), _enc_str, _enc_str)


@register
@dataclass
class MMgrOpen(Message):
    """MMgrOpen (0x700), sent as v2 (compat 1): string daemon_name | string service_name |
    bool service_daemon | [map daemon_metadata | map daemon_status] (service daemons).

    v3 appends the daemon's config and compiled-in defaults (bufferlists); see the module
    doc for why they are not sent.
    """

    TYPE = MsgType.MGR_OPEN
    HEAD_VERSION = 2
    COMPAT_VERSION = 1

    daemon_name: str = ""
    service_name: str = ""
    service_daemon: bool = False
    daemon_metadata: dict[str, str] = field(default_factory=dict)
    daemon_status: dict[str, str] = field(default_factory=dict)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.string(self.daemon_name)
        enc.string(self.service_name)
        enc.bool_(self.service_daemon)
        if self.service_daemon:
            _enc_str_map(enc, self.daemon_metadata)
            _enc_str_map(enc, self.daemon_status)
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMgrOpen:
        dec = front_decoder(cls, front)
        msg = cls(dec.string())
        if version >= 2:
            msg.service_name = dec.string()
            msg.service_daemon = dec.bool_()
            if msg.service_daemon:
                msg.daemon_metadata = dec.map_(_dec_str, _dec_str, 8)
                msg.daemon_status = dec.map_(_dec_str, _dec_str, 8)
        return msg  # v3's config bufferlists are not read (a client never receives one)


@register
@dataclass
class MMgrConfigure(Message):
    """MMgrConfigure (0x701), v4: le32 stats_period | le32 stats_threshold (v2) | ...

    Only the report period is used; the later fields (perf counter thresholds, OSD/MDS
    metric queries) concern OSDs and MDSs.
    """

    TYPE = MsgType.MGR_CONFIGURE
    HEAD_VERSION = 4
    COMPAT_VERSION = 1

    stats_period: int = 0
    stats_threshold: int = 0

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMgrConfigure:
        dec = front_decoder(cls, front)
        period = dec.u32()
        threshold = dec.u32() if version >= 2 else 0
        return cls(period, threshold)


#: ENCODE_START(1, 1) around no counter values.
_EMPTY_PACKED_COUNTERS = b"\x01\x01\x00\x00\x00\x00"


@register
@dataclass
class MMgrReport(Message):
    """MMgrReport (0x702), sent as v7 (compat 1): string daemon_name |
    vector<PerfCounterType> declare_types | bufferlist packed | vector<string>
    undeclare_types | string service_name (v2) | optional<map> daemon_status (v3) |
    vector<DaemonHealthMetric> (v5) | bufferlist config_bl (v6) | map osd_perf_metric_reports
    (v7). rbdpy declares no perf counters, so the vectors and buffers are empty.
    """

    TYPE = MsgType.MGR_REPORT
    HEAD_VERSION = 7
    COMPAT_VERSION = 1

    daemon_name: str = ""
    service_name: str = ""
    daemon_status: dict[str, str] | None = None

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.string(self.daemon_name)
        enc.u32(0)  # declare_types
        # The counter values: a versioned envelope even when empty -- the mgr decodes it
        # unconditionally (DaemonPerfCounters::update), and aborts on an empty buffer.
        enc.blob(_EMPTY_PACKED_COUNTERS)
        enc.u32(0)  # undeclare_types
        enc.string(self.service_name)
        enc.optional(self.daemon_status, _enc_str_map)
        enc.u32(0)  # daemon_health_metrics
        enc.blob(b"")  # config_bl
        enc.u32(0)  # osd_perf_metric_reports
        return enc.getvalue(), b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MMgrReport:
        """The name, service and status; counter declarations are skipped (a client never
        receives a report: this is for tests and captures)."""
        dec = front_decoder(cls, front)
        name = dec.string()
        for _ in range(dec.count(6)):  # PerfCounterType: a versioned struct each
            with dec.struct("PerfCounterType"):
                pass
        dec.blob_view()
        dec.list_(_dec_str, 4)
        service = dec.string() if version >= 2 else ""
        status = None
        if version >= 3:
            status = dec.optional(lambda d: d.map_(_dec_str, _dec_str, 8))
        return cls(name, service, status)


__all__ = ["MMgrConfigure", "MMgrMap", "MMgrOpen", "MMgrReport", "MgrMapHead"]
