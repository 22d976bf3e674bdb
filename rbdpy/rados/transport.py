"""The trio driver for ONE msgr2 connection.

Theory of operation: ``Connection`` owns a TCP stream and a pure
:class:`~rbdpy.rados.proto.msgr2.protocol.Protocol`. ``open()`` dials, feeds the protocol
until it reports ``Ready`` (or raises), then hands the connection to its owner. From then on
``run()`` is the reader loop: bytes from the socket go into ``Protocol.receive_data`` and the
resulting events go to the owner's callbacks. Writers call ``send_message()``, which queues
the frame in the protocol and flushes ``data_to_send()`` under a lock so frames from
concurrent tasks never interleave. A protocol, integrity or auth error, or EOF, ends
``run()`` with the error recorded; the owner (MonClient, Objecter) decides whether to
reconnect and resend — client sessions are lossy, so nothing is replayed here.

Mirrors: kernel net/ceph/messenger.c (con_work, ceph_con_send), messenger_v2.c
(ceph_con_v2_try_read/try_write); ceph src/msg/async/AsyncConnection.cc.
"""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Awaitable, Callable

import trio

from rbdpy.rados.proto.auth.handler import AuthHandler, ConMode
from rbdpy.rados.proto.errors import CephError, ProtocolError
from rbdpy.rados.proto.msgr2.events import (
    KeepaliveAck,
    MessageReceived,
    Ready,
    Reset,
)
from rbdpy.rados.proto.msgr2.protocol import Protocol
from rbdpy.rados.proto.types import EntityAddr

log = logging.getLogger(__name__)

Buffer = bytes | bytearray | memoryview

#: Frames smaller than this are coalesced into one send; larger ones go out as they are.
_COALESCE = 64 * 1024
# Receive sizes adapt: small while traffic is small (a recv allocates its full size
# up front), growing while large messages stream in.
_RECV_MIN = 64 * 1024
_RECV_MAX = 256 * 1024  # large frames take the recv_into path below
#: A frame remainder at least this big is received with recv_into into its own buffer.
_RECV_DIRECT = 128 * 1024

MessageHandler = Callable[["Connection", MessageReceived], Awaitable[None] | None]


class ConnectionClosed(CephError):
    """The connection is gone; ``cause`` says why (None for an orderly close)."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(errno.ENOTCONN, message)
        self.cause = cause


class Connection:
    """One client msgr2 session to a mon, OSD or mgr.

    :param addr: the peer's msgr2 address (its nonce matters: it is checked in SERVER_IDENT).
    :param auth: the auth handler for this attempt (cephx mon login or an authorizer).
    :param con_modes: con modes to offer, in preference order.
    :param name: for logs ("mon.a", "osd.3").
    """

    def __init__(self, addr: EntityAddr, auth: AuthHandler, *, con_modes: list[ConMode],
                 name: str, global_seq: int = 1, peer_type: int | None = None,
                 gid: int | None = None) -> None:
        self.addr = addr
        self.name = name
        self.proto = Protocol(auth, target_addr=addr, peer_type=peer_type,
                              con_modes=con_modes, global_seq=global_seq, gid=gid)
        self.ready: Ready | None = None
        self._stream: trio.SocketStream | None = None
        self._send_lock = trio.Lock()
        self.closed = False
        self.error: BaseException | None = None
        self.last_rx = time.monotonic()
        self._keepalive_acks = 0
        self._ack_mark = 0

    def __repr__(self) -> str:
        return f"<Connection {self.name} {self.addr}>"

    # -- connect -------------------------------------------------------------------------

    async def open(self) -> Ready:
        """Dial and run the handshake to ``Ready``.

        :raises OSError: the TCP connection failed.
        :raises CephError: protocol, integrity or auth failure (AuthError for bad keys).
        """
        self._stream = await trio.open_tcp_stream(self.addr.host, self.addr.port)
        try:
            self.proto.initiate()
            await self._flush()
            while self.ready is None:
                data = await self._stream.receive_some(_RECV_MIN)
                events = self.proto.receive_data(data)
                await self._flush()
                for ev in events:
                    if isinstance(ev, Ready):
                        self.ready = ev
                    elif isinstance(ev, Reset):
                        raise ConnectionClosed(f"{self.name}: {ev.reason} during handshake")
                    else:
                        # Nothing else can precede Ready on a fresh client session.
                        raise ProtocolError(f"{type(ev).__name__} before ready")
            log.debug("%s: session ready, global_id %d, mode %s", self.name,
                      self.ready.global_id, self.ready.con_mode.name)
            return self.ready
        except BaseException:
            await self.aclose()
            raise

    # -- traffic -------------------------------------------------------------------------

    async def run(self, on_message: MessageHandler) -> None:
        """Read until the connection ends; deliver messages to ``on_message``.

        Returns normally when the peer or ``aclose`` ended the connection; the reason is in
        ``self.error`` (None when closed by us).
        """
        assert self._stream is not None
        want = _RECV_MIN
        try:
            while not self.closed:
                direct = self.proto.recv_buffer(_RECV_DIRECT)
                try:
                    if direct is not None:
                        # The rest of a large frame goes straight into its own buffer:
                        # one copy out of the kernel, no gathering of chunks afterwards.
                        await self._recv_into(direct)
                    else:
                        data = await self._stream.receive_some(want)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as e:
                    if not self.closed:
                        self.error = ConnectionClosed(f"{self.name}: {e}", e)
                    return
                self.last_rx = time.monotonic()
                if direct is not None:
                    events = self.proto.receive_filled()
                else:
                    if len(data) == want:
                        want = min(want * 2, _RECV_MAX)
                    elif len(data) < want // 4:
                        want = max(want // 2, _RECV_MIN)
                    events = self.proto.receive_data(data)
                for ev in events:
                    if isinstance(ev, MessageReceived):
                        r = on_message(self, ev)
                        if r is not None:
                            await r
                    elif isinstance(ev, KeepaliveAck):
                        self._keepalive_acks += 1
                    elif isinstance(ev, Reset):
                        self.error = ConnectionClosed(f"{self.name}: {ev.reason}")
                        return
                if self.proto.in_seq - self._ack_mark >= 16:
                    # Lossy sessions need few ACKs; they only trim the peer's sent queue.
                    self._ack_mark = self.proto.in_seq
                    self.proto.send_ack()
                await self._flush()
        except CephError as e:
            log.warning("%s: resetting connection: %s", self.name, e)
            self.error = e
        finally:
            await self.aclose()

    async def _recv_into(self, view: memoryview) -> None:
        """Fill ``view`` from the socket; EOF before it is full is a broken connection."""
        assert self._stream is not None
        sock = self._stream.socket
        got, n = 0, len(view)
        while got < n:
            k = await sock.recv_into(view[got:])
            if k == 0:
                raise trio.BrokenResourceError("connection closed mid-frame")
            got += k

    async def send_message(self, type: int, front: Buffer = b"", middle: Buffer = b"",
                           data: Buffer = b"", *, tid: int = 0, version: int = 1,
                           compat_version: int = 0, priority: int = 127) -> None:
        """Queue one message and write it out.

        :raises ConnectionClosed: the connection is (or becomes) unusable.
        """
        if self.closed:
            raise ConnectionClosed(f"{self.name}: connection closed", self.error)
        async with self._send_lock:
            self.proto.send_message(type, front, middle, data, tid=tid, version=version,
                                    compat_version=compat_version, priority=priority)
            await self._flush_locked()

    async def keepalive(self) -> None:
        if self.closed:
            return
        async with self._send_lock:
            self.proto.keepalive(time.time())
            await self._flush_locked()

    async def _flush(self) -> None:
        async with self._send_lock:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        pieces = self.proto.data_to_send()
        if not pieces or self._stream is None:
            return
        try:
            small: list[Buffer] = []
            for p in pieces:
                if len(p) < _COALESCE:
                    small.append(p)
                    continue
                if small:
                    await self._stream.send_all(b"".join(small))
                    small = []
                await self._stream.send_all(p)
            if small:
                await self._stream.send_all(b"".join(small) if len(small) > 1 else small[0])
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as e:
            self.error = self.error or ConnectionClosed(f"{self.name}: {e}", e)
            self.closed = True
            raise ConnectionClosed(f"{self.name}: send failed: {e}", e) from e

    async def aclose(self) -> None:
        """Close the socket (idempotent)."""
        self.closed = True
        self.proto.close()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            with trio.CancelScope(shield=True):
                try:
                    await stream.aclose()
                except (trio.BrokenResourceError, OSError):
                    pass
