"""The trio Connection's data path over a local socket pair, without a Ceph peer.

The handshake is covered by the live tests; here the protocol object is put straight into
READY and the other end of a socketpair plays the peer, so the writer task (batched
vectored sends, partial writes, the inline ``urgent`` send), the reader (small frames,
large frames received straight into their own buffers, EOF) and closing can be checked
byte for byte with our own frame decoder and assembler.
"""

from __future__ import annotations

import os
import socket
import struct

import pytest
import trio
import trio.testing

from rbdpy.rados.proto.auth.handler import ConMode
from rbdpy.rados.proto.msgr2.events import MessageReceived
from rbdpy.rados.proto.msgr2.frames import FrameDecoder, Tag, assemble_crc
from rbdpy.rados.proto.msgr2.protocol import State
from rbdpy.rados.proto.types import AddrType, EntityAddr
from rbdpy.rados.transport import Connection

_HEADER2 = struct.Struct("<QQHHHIHQBHH")


class _NoAuth:
    method = 1

    def build_request(self) -> bytes:
        return b""


def _connected(sndbuf: int | None = None) -> tuple[Connection, socket.socket]:
    ours, peer = socket.socketpair()
    if sndbuf is not None:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, sndbuf)
    conn = Connection(EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", 1), _NoAuth(),  # type: ignore[arg-type]
                      con_modes=[ConMode.CRC], name="test")
    conn._sock = ours
    conn._tsock = trio.socket.from_stdlib_socket(ours)
    proto = conn.proto
    proto._state = State.READY  # skip the handshake (covered by the live tests)
    proto._decoder.capture = None
    proto._tx_capture = None
    return conn, peer


async def _read_frames(peer: socket.socket, count: int) -> list[tuple[int, list[bytes]]]:
    tpeer = trio.socket.from_stdlib_socket(peer)
    dec = FrameDecoder()
    out: list[tuple[int, list[bytes]]] = []
    while len(out) < count:
        data = await tpeer.recv(1 << 20)
        assert data, "connection closed early"
        dec.feed(data)
        while (f := dec.next_frame()) is not None:
            out.append((f.tag, [bytes(s) for s in f.segments]))
    return out


def _message_frame(seq: int, tid: int, front: bytes, data: bytes) -> bytes:
    head = _HEADER2.pack(seq, tid, 43, 127, 8, 0, 0, 0, 0, 2, 0)
    return b"".join(bytes(p) for p in assemble_crc(Tag.MESSAGE, [head, front, b"", data]))


async def test_writer_sends_every_message_in_order() -> None:
    conn, peer = _connected()
    payloads = [os.urandom(n) for n in (0, 1, 4096, 100_000, 3, 2 << 20, 17)]
    got: list[tuple[int, list[bytes]]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.run, lambda c, ev: None)
        await trio.sleep(0.01)
        assert conn.writer_running

        async def send(i: int, p: bytes) -> None:
            conn.queue_message(42, b"front%d" % i, b"", p, tid=i, urgent=(i == 0))

        done = trio.Event()

        async def receive() -> None:
            got.extend(await _read_frames(peer, len(payloads)))
            done.set()

        nursery.start_soon(receive)
        for i, p in enumerate(payloads):  # queued in one scheduler pass: batched writes
            await send(i, p)
        with trio.fail_after(10):
            await done.wait()
        await conn.aclose()
    for i, (tag, segs) in enumerate(got):
        seq, tid, mtype = _HEADER2.unpack(segs[0])[:3]
        assert (tag, seq, tid, mtype) == (Tag.MESSAGE, i + 1, i, 42)
        assert segs[1] == b"front%d" % i and segs[3] == payloads[i]
    peer.close()


async def test_partial_writes_with_a_tiny_socket_buffer() -> None:
    conn, peer = _connected(sndbuf=4096)
    payloads = [os.urandom(300_000) for _ in range(4)]
    got: list[tuple[int, list[bytes]]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.run, lambda c, ev: None)
        await trio.sleep(0.01)
        for i, p in enumerate(payloads):
            conn.queue_message(42, b"f", b"", p, tid=i)
        await trio.sleep(0.05)  # the writer is stuck on a full socket buffer meanwhile
        with trio.fail_after(10):
            got = await _read_frames(peer, len(payloads))
        await conn.aclose()
    assert [segs[3] for _, segs in got] == payloads
    peer.close()


async def test_send_before_run_is_written_inline() -> None:
    conn, peer = _connected()
    assert not conn.writer_running
    await conn.send_message(42, b"early", tid=9)
    got = await _read_frames(peer, 1)
    assert got[0][1][1] == b"early"
    await conn.aclose()
    peer.close()


async def test_reader_delivers_small_and_large_messages() -> None:
    conn, peer = _connected()
    datas = [b"", os.urandom(10), os.urandom(3 << 20), os.urandom(200_000), b"x"]
    wire = b"".join(_message_frame(i + 1, 100 + i, b"rf%d" % i, d) for i, d in enumerate(datas))
    received: list[MessageReceived] = []
    kept: list[tuple[bytes, bytes]] = []
    all_in = trio.Event()

    def on_message(c: Connection, ev: MessageReceived) -> None:
        received.append(ev)
        kept.append((bytes(ev.front), bytes(ev.data)))
        if len(received) == len(datas):
            all_in.set()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.run, on_message)
        tpeer = trio.socket.from_stdlib_socket(peer)
        for k in range(0, len(wire), 65_000):  # dribble it in
            await tpeer.send(wire[k:k + 65_000])
        with trio.fail_after(10):
            await all_in.wait()
        peer.shutdown(socket.SHUT_WR)  # EOF ends run()
    assert [ev.tid for ev in received] == [100 + i for i in range(len(datas))]
    assert kept == [(b"rf%d" % i, d) for i, d in enumerate(datas)]
    # The large data segment arrived in its own buffer, whole (no copy to hand it out).
    big = received[2].data
    assert len(big) == 3 << 20 and len(big.obj) == len(big)  # type: ignore[arg-type]
    assert conn.closed and conn.error is not None
    peer.close()


async def test_peer_close_ends_run_and_records_the_reason() -> None:
    conn, peer = _connected()
    peer.close()
    with trio.fail_after(5):
        await conn.run(lambda c, ev: None)
    assert conn.closed and conn.error is not None


async def test_send_right_after_the_writer_was_cancelled_while_parked() -> None:
    """The #21.3 race: cancelling run() wakes the parked writer (trio reschedules it with
    Cancelled at once), and a message queued before the writer runs again must not try to
    wake it a second time."""
    conn, peer = _connected()
    run_scope = trio.CancelScope()

    async def run_until_cancelled() -> None:
        with run_scope:
            await conn.run(lambda c, ev: None)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(run_until_cancelled)
        await trio.testing.wait_all_tasks_blocked()
        assert conn.writer_running  # and parked: nothing was queued yet
        run_scope.cancel()  # the writer is rescheduled with Cancelled right here
        conn.queue_message(42, b"late", tid=1)  # then a sender kicks it in the same pass
        conn.queue_message(42, b"later", tid=2, urgent=True)
    assert conn.closed and not conn.writer_running
    peer.close()


async def test_kicks_from_many_tasks_in_one_pass_wake_the_writer_once() -> None:
    conn, peer = _connected()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.run, lambda c, ev: None)
        await trio.testing.wait_all_tasks_blocked()
        for i in range(8):
            conn.queue_message(42, b"f%d" % i, tid=i)
            await conn.keepalive()
        with trio.fail_after(10):
            got = await _read_frames(peer, 16)
        await conn.aclose()
    assert [t for t, _ in got] == [Tag.MESSAGE, Tag.KEEPALIVE2] * 8
    peer.close()


@pytest.mark.timeout(20)  # the bug this guards against spun the event loop for ever
async def test_close_while_the_writer_has_data_queued_ends_the_writer() -> None:
    """aclose() from another task (the mon client's keepalive timeout does this) right
    after a message was queued: the woken writer finds no socket and must end, not loop
    on the queued bytes without ever yielding."""
    conn, peer = _connected()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.run, lambda c, ev: None)
        await trio.testing.wait_all_tasks_blocked()
        conn.queue_message(42, b"doomed", tid=1)  # wakes the writer...
        await conn.aclose()  # ...which runs only after the socket is gone
    assert conn.closed and not conn.writer_running
    peer.close()
