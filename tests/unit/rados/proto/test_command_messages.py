"""Command, mgr and cluster-log messages against frames captured from Ceph 16.2.15.

Vectors: tests/vectors/commands (README there says how they were made).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rbdpy.rados.proto.messages.base import decode_message, encode_message
from rbdpy.rados.proto.messages.command import (
    MCommand,
    MCommandReply,
    MMgrCommand,
    MMgrCommandReply,
    MPing,
)
from rbdpy.rados.proto.messages.log import MLog
from rbdpy.rados.proto.messages.mgr import MMgrConfigure, MMgrMap, MMgrReport
from rbdpy.rados.proto.messages.mon import MMonSubscribe

_VECTORS = json.loads((Path(__file__).parents[3] / "vectors" / "commands" /
                       "pacific16215_commands.json").read_text())
_FSID = bytes.fromhex(_VECTORS["fsid"].replace("-", ""))
_MSGS: list[dict[str, Any]] = _VECTORS["messages"]


def _decode(rec: dict[str, Any]) -> Any:
    return decode_message(rec["type"], rec["version"], rec["compat_version"],
                          bytes.fromhex(rec["front"]), bytes.fromhex(rec["middle"]),
                          bytes.fromhex(rec["data"]), tid=rec["tid"])


def _of(mtype: int) -> list[dict[str, Any]]:
    return [r for r in _MSGS if r["type"] == mtype]


def _same_bytes(rec: dict[str, Any], msg: Any) -> None:
    mtype, version, compat, front, _middle, data = encode_message(msg)
    assert (mtype, version, compat) == (rec["type"], rec["version"], rec["compat_version"])
    assert bytes(front) == bytes.fromhex(rec["front"])
    assert bytes(data) == bytes.fromhex(rec["data"])


@pytest.mark.parametrize("rec", _of(97), ids=lambda r: f"{r['conn']}-{r['tid']}")
def test_mcommand_roundtrip(rec: dict[str, Any]) -> None:
    msg = _decode(rec)
    assert isinstance(msg, MCommand)
    assert msg.fsid == _FSID  # every tell carries the cluster fsid
    assert len(msg.cmd) == 1 and json.loads(msg.cmd[0])["prefix"]
    _same_bytes(rec, MCommand(fsid=_FSID, cmd=list(msg.cmd), inbl=bytes(msg.inbl)))


@pytest.mark.parametrize("rec", _of(98), ids=lambda r: f"{r['conn']}-{r['tid']}")
def test_mcommand_reply_roundtrip(rec: dict[str, Any]) -> None:
    msg = _decode(rec)
    assert isinstance(msg, MCommandReply)
    assert msg.r <= 0
    if msg.r == 0:
        assert msg.rs == "" and len(msg.outbl) > 0
    _same_bytes(rec, MCommandReply(r=msg.r, rs=msg.rs, outbl=bytes(msg.outbl)))


def test_osd_command_replies() -> None:
    replies = {r["tid"]: _decode(r) for r in _of(98) if r["conn"].endswith("->6824")}
    asks = {r["tid"]: json.loads(_decode(r).cmd[0]) for r in _of(97)
            if r["conn"].endswith("->6824")}
    by_prefix = {asks[t]["prefix"]: replies[t] for t in asks}
    assert json.loads(bytes(by_prefix["version"].outbl))["version"] == "16.2.15"
    assert (by_prefix["nonesuch"].r, by_prefix["nonesuch"].rs) == (
        -22, "unknown command prefix nonesuch")
    assert json.loads(bytes(by_prefix["query"].outbl))["info"]["pgid"] == "2.0"


@pytest.mark.parametrize("rec", _of(0x709) + _of(0x70A),
                         ids=lambda r: f"{r['type']:#x}-{r['tid']}")
def test_mgr_command_roundtrip(rec: dict[str, Any]) -> None:
    msg = _decode(rec)
    if isinstance(msg, MMgrCommand):
        assert msg.fsid == b"\0" * 16  # librados sends a nil fsid for a non-tell
        _same_bytes(rec, MMgrCommand(cmd=list(msg.cmd)))
    else:
        assert isinstance(msg, MMgrCommandReply)
        assert msg.r == -22 and msg.rs.startswith("No handler found for")
        _same_bytes(rec, MMgrCommandReply(r=msg.r, rs=msg.rs, outbl=bytes(msg.outbl)))


def test_mgrmap_head() -> None:
    (rec,) = _of(0x704)
    m = _decode(rec)
    assert isinstance(m, MMgrMap)
    assert (m.map.epoch, m.map.active_name, m.map.active_gid, m.map.available) == (
        4, "x", 4134, True)
    a = m.map.active_addrs.msgr2()
    assert a is not None and (a.host, a.port) == ("127.0.0.1", 6840)


def test_mgr_configure_and_report() -> None:
    (conf,) = _of(0x701)
    c = _decode(conf)
    assert isinstance(c, MMgrConfigure) and c.stats_period == 5
    (rep,) = _of(0x702)
    r = _decode(rep)
    assert isinstance(r, MMgrReport)
    assert (r.daemon_name, r.service_name, r.daemon_status) == ("d1", "hgprobe", {"s1": "x"})
    # rbdpy's own report (v7, no counters) decodes to the same fields.
    mine = MMgrReport(daemon_name="d1", service_name="hgprobe", daemon_status={"s1": "x"})
    _, version, compat, front, _, _ = encode_message(mine)
    back = decode_message(0x702, version, compat, front)
    assert isinstance(back, MMgrReport)
    assert (back.daemon_name, back.service_name, back.daemon_status) == (
        "d1", "hgprobe", {"s1": "x"})
    # Up to osd_perf_metric_reports (v7) rbdpy's bytes are librados' minus the counters.
    theirs = bytes.fromhex(rep["front"])
    tail = front[len(front) - (2 + 1 + 4 + 4 + 2 + 4 + 1 + 4 + 4 + 4):]
    assert bytes(tail) in theirs


def test_log_subscription() -> None:
    subs = [_decode(r) for r in _of(15)]
    assert subs and all(isinstance(s, MMonSubscribe) for s in subs)
    item = subs[0].what["log-info"]
    assert (item.start, item.flags) == (0, 0)


def test_mlog_entries_and_callback_texts() -> None:
    logs = [_decode(r) for r in _of(52)]
    assert all(isinstance(m, MLog) and m.fsid == _FSID for m in logs)
    for rec, m in zip(_of(52), logs, strict=True):
        _same_bytes(rec, m)
    first = logs[0].entries[0]
    # What python-rados handed its monitor_log callback for this entry (capture_client.py):
    assert first.msg == "hg-probe-hello" and first.channel == "cluster" and first.seq == 0
    assert first.name_text == "client.admin" and first.level == "[INF]"
    assert first.who == "client.? 127.0.0.1:0/948944669"
    assert first.line.endswith(" client.admin [INF] hg-probe-hello")
    mon = logs[0].entries[1]
    assert mon.who == "mon.0 [v2:127.0.0.1:35017/0,v1:127.0.0.1:49287/0]"
    assert (mon.name_text, mon.channel, mon.seq) == ("mon.c", "audit", 98)
    assert [m.paxos.version for m in logs] == [106, 106, 107, 109, 110]


def test_ping() -> None:
    ask, answer = (_decode(r) for r in _of(2))
    assert isinstance(ask, MPing) and ask.text() == ""
    _same_bytes(_of(2)[0], MPing())
    assert isinstance(answer, MPing)
    doc = json.loads(answer.text())
    assert doc["mon_status"]["name"] == "a" and "health" in doc
