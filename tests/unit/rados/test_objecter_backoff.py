"""The Objecter's MOSDBackoff handling: ACK a BLOCK, resend the pg's ops on UNBLOCK.

Ceph's OSDs rarely send backoffs on a healthy test cluster (peering or unfound objects), so
this drives the handler directly with the message codec that is pinned by hand-assembled
MOSDBackoff.h bytes in test_osd_messages.py.
"""

from __future__ import annotations

from typing import Any

import trio
import trio.testing

from rbdpy.rados.background import BackgroundTasks
from rbdpy.rados.objecter import Objecter, Op, OsdSession
from rbdpy.rados.proto.messages.osd import MOSDBackoff
from rbdpy.rados.proto.objecter_core import OpTarget
from rbdpy.rados.proto.ops import HObject, SpgId
from rbdpy.rados.proto.types import PgId


class FakeConn:
    name = "osd.0"


def make_objecter() -> Objecter:
    return Objecter(get_osdmap=lambda: None, cephx=None, auth_none=None,
                    global_id=lambda: 4242, con_modes=[], global_seq=lambda: 1)


def op_on(pg: PgId, tid: int) -> Op:
    t = OpTarget(base_pool=pg.pool, base_oid=b"obj%d" % tid)
    t.pgid = pg
    op = Op(target=t, ops=[], flags=0)
    op.tid = tid
    return op


async def test_block_is_acked_and_unblock_resends_only_that_pg() -> None:
    objecter = make_objecter()
    conn = FakeConn()
    session = OsdSession(0, None)
    pg_a, pg_b = PgId(1, 3), PgId(1, 5)
    ops = {1: op_on(pg_a, 1), 2: op_on(pg_b, 2), 3: op_on(pg_a, 3)}
    for op in ops.values():
        op.session = session
    session.ops = dict(ops)
    objecter._conn_sessions[id(conn)] = session
    sent_msgs: list[Any] = []
    resent: list[int] = []

    async def fake_send_message(c: Any, msg: Any) -> None:
        sent_msgs.append(msg)

    async def fake_send(s: OsdSession, op: Op) -> None:
        resent.append(op.tid)

    objecter._send_message = fake_send_message  # type: ignore[method-assign]
    objecter._send = fake_send  # type: ignore[method-assign]
    block = MOSDBackoff(SpgId(pg_a), 10, 1, 77, HObject(oid="a"), HObject(oid="z"))
    async with trio.open_nursery() as nursery:
        background = BackgroundTasks("test")
        await nursery.start(background.run)
        objecter.background = background
        objecter._handle_backoff(conn, block)  # type: ignore[arg-type]
        await trio.testing.wait_all_tasks_blocked()
        assert len(sent_msgs) == 1
        ack = sent_msgs[0]
        assert (ack.op, ack.id, ack.pgid, ack.begin, ack.end) == (2, 77, SpgId(pg_a),
                                                                   block.begin, block.end)
        assert (pg_a, 77) in session.backoffs
        assert resent == []
        unblock = MOSDBackoff(SpgId(pg_a), 11, 3, 77, block.begin, block.end)
        objecter._handle_backoff(conn, unblock)  # type: ignore[arg-type]
        await trio.testing.wait_all_tasks_blocked()
        background.close()
    assert sorted(resent) == [1, 3]
    assert session.backoffs == {}
