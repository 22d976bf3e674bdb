"""The trio driver for ONE msgr2 connection.

Theory of operation: ``Connection`` owns a TCP socket and a pure
:class:`~rbdpy.rados.proto.msgr2.protocol.Protocol`. ``open()`` dials, feeds the protocol
until it reports ``Ready`` (or raises), then hands the connection to its owner. From then on
``run()`` is the reader loop: bytes from the socket go into ``Protocol.receive_data`` and the
resulting events go to the owner's callbacks. A protocol, integrity or auth error, or EOF,
ends ``run()`` with the error recorded; the owner (MonClient, Objecter) decides whether to
reconnect and resend — client sessions are lossy, so nothing is replayed here.

Sending: ``send_message()`` only queues the frame in the protocol (so frames from
concurrent tasks never interleave) and wakes the connection's *writer* task, which runs
``run()`` alongside the reader. The writer wakes one scheduler pass later, after every task
that became runnable in the same pass (say, sixteen callers whose replies arrived in one
read) has queued its message, and writes everything queued with ONE vectored ``sendmsg``:
payload buffers go to the kernel as they are (no joins), and a queue depth of 16 costs one
syscall instead of sixteen, as librados' messenger thread does with its out queue. Before
``run()`` starts (handshake, the first resends) a sender writes inline.

Errors: the protocol raises typed errors (``rbdpy.rados.proto.errors``: BadBannerError,
UnexpectedFrameError, MalformedFrameError, FrameTooLargeError, BadCrcError, BadAuthTagError,
BadSignatureError, AuthError); ``open()`` raises them as they are and ``run()`` records them
in ``error``, and nothing here reads their messages. :func:`public_error` is the one place
that says which python-rados class each connection failure becomes (by errno, as the
facades' translation does).

The socket is a plain non-blocking stdlib socket registered with trio: the loops try the
syscall first and park in ``trio.lowlevel.wait_readable``/``wait_writable`` only on EAGAIN,
which saves trio's per-call checkpoints on the hot path; the reader yields explicitly every
few reads so a socket that is never empty cannot starve other tasks.

Mirrors: kernel net/ceph/messenger.c (con_work, ceph_con_send), messenger_v2.c
(ceph_con_v2_try_read/try_write); ceph src/msg/async/AsyncConnection.cc (the out queue,
write_message/_try_send).
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Awaitable, Callable

import trio

from rbdpy.rados import exceptions as rx
from rbdpy.rados.proto.auth.handler import AuthHandler, ConMode
from rbdpy.rados.proto.bytestr import Buffer, Payload
from rbdpy.rados.proto.errors import CephError, RemoteProtocolError
from rbdpy.rados.proto.msgr2.events import (
    MessageReceived,
    Ready,
    Reset,
)
from rbdpy.rados.proto.msgr2.protocol import Protocol
from rbdpy.rados.proto.types import EntityAddr

log = logging.getLogger(__name__)


# Receive sizes adapt: small while traffic is small (a recv allocates its full size
# up front), growing while large messages stream in.
_RECV_MIN = 64 * 1024
_RECV_MAX = 256 * 1024  # large frames take the recv_into path below
#: A frame remainder at least this big is received with recv_into into its own buffer.
_RECV_DIRECT = 128 * 1024
#: The reader yields to the scheduler at least once per this many reads that found data.
_READS_PER_YIELD = 4
#: sendmsg takes at most IOV_MAX (1024 on Linux) buffers per call.
_IOV_MAX = 1024

MessageHandler = Callable[["Connection", MessageReceived], Awaitable[None] | None]

_wait_readable = trio.lowlevel.wait_readable
_wait_writable = trio.lowlevel.wait_writable


class ConnectionClosed(CephError):
    """The connection is gone; ``cause`` says why (None for an orderly close)."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(errno.ENOTCONN, message)
        self.cause = cause


def public_error(exc: BaseException) -> rx.Error:
    """The python-rados exception that stands for a connection failure ``exc``.

    The one place where what a connection can fail with meets the public classes; the
    mapping goes by errno as librados' does: a typed protocol error (``ProtocolError``
    EPROTO, ``IntegrityError`` EBADMSG) becomes ``rados.OSError`` with that errno,
    ``AuthError`` ``PermissionDeniedError``, a closed connection ``NotConnected``, a trio
    timeout ``TimedOut`` and a socket error the class of its errno.
    """
    if isinstance(exc, rx.Error):
        return exc
    if isinstance(exc, CephError):
        return rx.make_ex(exc.errno, str(exc))
    if isinstance(exc, trio.TooSlowError):
        return rx.make_ex(errno.ETIMEDOUT, "timed out")
    if isinstance(exc, (trio.BrokenResourceError, trio.ClosedResourceError)):
        return rx.make_ex(errno.ENOTCONN, str(exc) or "connection closed")
    if isinstance(exc, OSError):
        return rx.make_ex(exc.errno or errno.EIO, str(exc))
    return rx.make_ex(errno.EIO, repr(exc))


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
        self._sock: socket.socket | None = None  # the stdlib socket, non-blocking
        self._tsock: trio.socket.SocketType | None = None  # trio's wrapper (connect, close)
        self._send_lock = trio.Lock()  # inline writers before run() starts the writer
        # Buffers taken from the protocol but not yet (fully) written, oldest first.
        self._unsent: list[Buffer] = []
        self._writer: trio.lowlevel.Task | None = None  # the writer task while run() runs
        # True exactly while the writer sleeps in wait_task_rescheduled with nothing to
        # send. Two things can wake it, and each clears the flag in the same step as it
        # reschedules: _kick, and trio delivering a cancel through _abort_parked_writer.
        # (The cancel path once left the flag set, so a send in the same scheduler pass
        # rescheduled the writer a second time: issue #21.3.) trio's ParkingLot gives the
        # same guarantee but cost ~10% more CPU per message at queue depth 1.
        self._writer_parked = False
        self._abort_park = self._abort_parked_writer  # bound once, not per park
        self.closed = False
        self.error: BaseException | None = None
        self.last_rx = time.monotonic()

    def __repr__(self) -> str:
        return f"<Connection {self.name} {self.addr}>"

    # -- connect -------------------------------------------------------------------------

    async def open(self) -> Ready:
        """Dial and run the handshake to ``Ready``.

        :raises OSError: the TCP connection failed.
        :raises CephError: protocol, integrity or auth failure (AuthError for bad keys).
        """
        family = socket.AF_INET6 if ":" in self.addr.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tsock = trio.socket.from_stdlib_socket(sock)  # makes it non-blocking
            self._sock, self._tsock = sock, tsock
            await tsock.connect((self.addr.host, self.addr.port))
        except BaseException:
            await self.aclose()
            raise
        try:
            self.proto.initiate()
            await self._flush()
            while self.ready is None:
                data = await self._recv_some(_RECV_MIN)
                events = self.proto.receive_data(data)
                await self._flush()
                for ev in events:
                    if isinstance(ev, Ready):
                        self.ready = ev
                    elif isinstance(ev, Reset):
                        raise ConnectionClosed(f"{self.name}: {ev.reason} during handshake")
                    else:
                        # Nothing else can precede Ready on a fresh client session.
                        raise RemoteProtocolError(f"{type(ev).__name__} before ready")
            log.debug("%s: session ready, global_id %d, mode %s", self.name,
                      self.ready.global_id, self.ready.con_mode.name)
            return self.ready
        except BaseException:
            await self.aclose()
            raise

    async def _recv_some(self, n: int) -> bytes:
        """Up to ``n`` bytes (b"" at EOF), waiting for the socket to become readable."""
        sock = self._sock
        if sock is None:
            raise trio.ClosedResourceError("connection closed")
        while True:
            try:
                return sock.recv(n)
            except BlockingIOError:
                await _wait_readable(sock)

    # -- traffic -------------------------------------------------------------------------

    async def run(self, on_message: MessageHandler) -> None:
        """Read until the connection ends; deliver messages to ``on_message``.

        Also hosts the writer task. Returns normally when the peer or ``aclose`` ended the
        connection; the reason is in ``self.error`` (None when closed by us).
        """
        assert self._sock is not None
        try:
            err: BaseException | None = None
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._write_loop)
                try:
                    await self._read_loop(on_message)
                except trio.Cancelled:
                    raise
                except BaseException as e:
                    # Re-raised below as itself, not wrapped in the nursery's group.
                    err = e
                finally:
                    nursery.cancel_scope.cancel()
            if err is not None:
                raise err
        except CephError as e:
            log.warning("%s: resetting connection: %s", self.name, e)
            self.error = e
        finally:
            self._writer = None
            await self.aclose()

    async def _read_loop(self, on_message: MessageHandler) -> None:
        sock = self._sock
        assert sock is not None
        proto = self.proto
        want = _RECV_MIN
        unyielded = 0
        drained = False  # the last read left the socket (very likely) empty
        while not self.closed:
            direct = proto.recv_buffers(_RECV_DIRECT)
            try:
                if drained:
                    # Skip the recv that would only say EAGAIN: wait first.
                    drained = False
                    await _wait_readable(sock)
                    unyielded = 0
                if direct is not None:
                    # The rest of a large frame goes straight into its own buffer:
                    # one copy out of the kernel, no gathering of chunks afterwards.
                    await self._recv_into(direct)
                    unyielded = 0
                    events = proto.receive_filled()
                else:
                    try:
                        data = sock.recv(want)
                    except BlockingIOError:
                        await _wait_readable(sock)
                        unyielded = 0
                        continue
                    if len(data) == want:
                        want = min(want * 2, _RECV_MAX)
                    else:
                        drained = True
                        if len(data) < want // 4:
                            want = max(want // 2, _RECV_MIN)
                    events = proto.receive_data(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as e:
                if not self.closed:
                    self.error = ConnectionClosed(f"{self.name}: {e}", e)
                return
            self.last_rx = time.monotonic()
            for ev in events:
                if type(ev) is MessageReceived:
                    r = on_message(self, ev)
                    if r is not None:
                        await r
                elif isinstance(ev, Reset):
                    self.error = ConnectionClosed(f"{self.name}: {ev.reason}")
                    return
            if proto.unacked >= 16:
                # Lossy sessions need few ACKs; they only trim the peer's sent queue, and
                # every request we send acknowledges all replies so far in its header.
                proto.send_ack()
            if proto.has_data_to_send:
                self._kick()
            unyielded += 1
            if unyielded >= _READS_PER_YIELD:
                # The socket kept having data: let the tasks we woke run (and notice a
                # cancellation) before reading on.
                unyielded = 0
                await trio.lowlevel.checkpoint()

    async def _recv_into(self, views: list[memoryview]) -> None:
        """Fill ``views`` in order from the socket (vectored); EOF before they are full is
        a broken connection."""
        sock = self._sock
        if sock is None:
            raise trio.ClosedResourceError("connection closed")
        views = [v for v in views if len(v)]
        progress = self.proto.recv_progress
        while views:
            try:
                k = sock.recvmsg_into(views)[0]
            except BlockingIOError:
                await _wait_readable(sock)
                continue
            if k == 0:
                raise trio.BrokenResourceError("connection closed mid-frame")
            progress(k)
            while k:
                n = len(views[0])
                if k < n:
                    views[0] = views[0][k:]
                    break
                k -= n
                del views[0]

    async def send_message(self, type: int, front: Buffer = b"", middle: Buffer = b"",
                           data: Payload = b"", *, tid: int = 0, version: int = 1,
                           compat_version: int = 0, priority: int = 127) -> None:
        """Queue one message for the wire.

        While ``run()`` runs, the writer task sends it (batched with whatever else was
        queued meanwhile) and this returns at once; before that it is written inline.

        :raises ConnectionClosed: the connection is (or becomes) unusable.
        """
        if self.closed:
            raise ConnectionClosed(f"{self.name}: connection closed", self.error)
        self.proto.send_message(type, front, middle, data, tid=tid, version=version,
                                compat_version=compat_version, priority=priority)
        if self._writer is not None:
            self._kick()
        else:
            await self._flush()

    @property
    def writer_running(self) -> bool:
        """True while ``run()`` hosts the writer: :meth:`queue_message` may be used."""
        return self._writer is not None

    def queue_message(self, type: int, front: Buffer = b"", middle: Buffer = b"",
                      data: Payload = b"", *, tid: int = 0, version: int = 1,
                      compat_version: int = 0, priority: int = 127,
                      urgent: bool = False) -> None:
        """:meth:`send_message` without the await, for when :attr:`writer_running`.

        ``urgent`` says no other request is waiting on this connection, so there is
        nothing to batch with: the message is written right away when the socket is idle
        (one task switch less per request at queue depth 1). Otherwise the writer sends it
        with whatever else is queued after the current scheduler pass.

        :raises ConnectionClosed: the connection is closed.
        """
        if self.closed:
            raise ConnectionClosed(f"{self.name}: connection closed", self.error)
        if self._writer is None:
            raise ConnectionClosed(f"{self.name}: writer not running")
        self.proto.send_message(type, front, middle, data, tid=tid, version=version,
                                compat_version=compat_version, priority=priority)
        if urgent and self._writer_parked and not self._unsent \
                and not self._send_lock.locked():
            self._write_now()
        if self._unsent or self.proto.has_data_to_send:
            self._kick()

    def _write_now(self) -> None:
        """One non-blocking sendmsg of what is queued; the rest is left in ``_unsent``."""
        out = self._unsent
        out.extend(self.proto.data_to_send())
        sock = self._sock
        if sock is None or len(out) > _IOV_MAX:
            return
        try:
            sent = sock.sendmsg(out)
        except BlockingIOError:
            return
        except OSError:
            return  # the writer meets the same error and reports it
        self._consume(out, sent)

    @staticmethod
    def _consume(out: list[Buffer], sent: int) -> None:
        """Drop ``sent`` bytes from the front of ``out`` (a partly sent buffer keeps its tail)."""
        i = 0
        while i < len(out):
            n = len(out[i])
            if sent < n:
                break
            sent -= n
            i += 1
        del out[:i]
        if sent:
            out[0] = memoryview(out[0]).cast("B")[sent:]

    async def keepalive(self) -> None:
        if self.closed:
            return
        self.proto.keepalive(time.time())
        if self._writer is not None:
            self._kick()
        else:
            await self._flush()

    def _kick(self) -> None:
        """Wake the writer if it is parked (it runs after the current scheduler batch)."""
        if self._writer_parked:
            self._writer_parked = False
            assert self._writer is not None
            trio.lowlevel.reschedule(self._writer)

    def _abort_parked_writer(self, raise_cancel: object) -> trio.lowlevel.Abort:
        """trio is cancelling the parked writer and reschedules it itself: it is no longer
        parked, so a kick in the same scheduler pass must leave it alone."""
        self._writer_parked = False
        return trio.lowlevel.Abort.SUCCEEDED

    async def _write_loop(self) -> None:
        self._writer = trio.lowlevel.current_task()
        try:
            # Ends once the connection is closed: after aclose() nothing queued can be
            # written, and a writer that kept finding data with no socket would spin
            # without ever yielding to the scheduler.
            while not self.closed:
                if not self._unsent and not self.proto.has_data_to_send:
                    self._writer_parked = True
                    await trio.lowlevel.wait_task_rescheduled(self._abort_park)
                    continue  # woken: by a kick, or by a close
                await self._flush()
        except ConnectionClosed:
            # The reader notices the dead socket (we closed it) and ends run().
            await self.aclose()
        except Exception as e:  # a bug here must reset the session, not hang it
            log.warning("%s: writer failed, resetting connection: %r", self.name, e)
            self.error = self.error or e
            await self.aclose()

    async def _flush(self) -> None:
        lock = self._send_lock
        try:
            lock.acquire_nowait()  # the usual case: no one else writes, no yield
        except trio.WouldBlock:
            await lock.acquire()
        try:
            await self._flush_locked()
        finally:
            lock.release()

    async def _flush_locked(self) -> None:
        """Write everything queued; waits while the socket buffer is full."""
        out = self._unsent
        pieces = self.proto.data_to_send()
        if pieces:
            out.extend(pieces)
        sock = self._sock
        if sock is None:
            out.clear()
            if self.closed:
                raise ConnectionClosed(f"{self.name}: connection closed", self.error)
            return
        if not out:
            return
        try:
            while out:
                try:
                    sent = sock.sendmsg(out if len(out) <= _IOV_MAX else out[:_IOV_MAX])
                except BlockingIOError:
                    await _wait_writable(sock)
                    continue
                self._consume(out, sent)
                if out:
                    await _wait_writable(sock)
                pieces = self.proto.data_to_send()
                if pieces:
                    out.extend(pieces)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as e:
            self.error = self.error or ConnectionClosed(f"{self.name}: {e}", e)
            self.closed = True
            out.clear()
            raise ConnectionClosed(f"{self.name}: send failed: {e}", e) from e

    async def aclose(self) -> None:
        """Close the socket (idempotent); a parked writer wakes up and ends."""
        self.closed = True
        self.proto.close()
        self._unsent.clear()
        self._kick()
        if self._tsock is not None:
            tsock, self._tsock, self._sock = self._tsock, None, None
            # Wakes any task parked on the socket (ClosedResourceError there).
            tsock.close()
