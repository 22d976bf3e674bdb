"""The trio Objecter: object operations to the right OSD, resent until they complete.

Theory of operation: an :class:`Op` is one MOSDOp worth of sub-operations on one object. The
pure :func:`~rbdpy.rados.proto.objecter_core.calc_target` says which OSD is the acting
primary; the op joins that OSD's :class:`OsdSession` and is written to its connection (or
waits in the session until the connection is up, or among the *homeless* ops while no OSD
can take it). Every new OSD map rescans all ops: an op whose target moved is taken from its
session and sent again to the new one (same tid, so the OSD's reqid dedup makes a resend
harmless), an op whose pool vanished fails with ENOENT, paused ops wait. A session whose
connection breaks is reopened AT ONCE while the map still says the OSD is up, and every op
not yet answered is resent in tid order — client sessions are lossy (the OSD drops its end
too), so this is how nothing is lost, and a dropped socket costs one handshake, as it does
librados (Objecter::ms_handle_reset → reopen + kick). Only repeated failures to connect to
the same OSD back off (a down OSD the map does not know about yet).

Faults inside rbdpy are contained the same way: session tasks run in the handle's
:class:`~rbdpy.rados.background.BackgroundTasks`; an internal error while serving a session
is logged once, the op whose reply could not be handled fails with EIO (it cannot be
resent: its reply would fail again), and the session is reopened with every other op.

The per-request path is kept lean because it runs for every I/O: :class:`Op` is a slotted
class whose one waiter parks on the trio task directly, the MOSDOp front is packed by
``encode_osd_op_front`` from the target's bytes, the message is queued on the connection
without awaiting (its writer task batches everything queued in one scheduler pass into one
sendmsg; a lone request — queue depth 1 — is written at once), and MOSDOpReply frames go
straight to their decoder.

Mirrors: ceph src/osdc/Objecter.{h,cc} (op_submit, _calc_target, _scan_requests,
handle_osd_op_reply, ms_handle_reset); kernel net/ceph/osd_client.c (ceph_osdc_start_request,
kick_requests, handle_reply, osd_fault).
"""

from __future__ import annotations

import errno
import functools
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import trio

from rbdpy.rados.background import TaskStarter, report_crash
from rbdpy.rados.proto.auth.cephx import CephxClient
from rbdpy.rados.proto.auth.handler import AuthHandler, ConMode
from rbdpy.rados.proto.bytestr import Gather, Payload
from rbdpy.rados.proto.constants import CEPH_NOSNAP, OsdFlag
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from rbdpy.rados.proto.messages.base import MsgType, decode_message, encode_message
from rbdpy.rados.proto.messages.osd import (
    MOSDBackoff,
    MOSDOp,
    MOSDOpReply,
    MWatchNotify,
    encode_osd_op_front,
)
from rbdpy.rados.proto.msgr2.events import MessageReceived
from rbdpy.rados.proto.objecter_core import CalcResult, OpTarget, calc_target
from rbdpy.rados.proto.ops import encode_ops_data
from rbdpy.rados.proto.osdmap import OSDMap
from rbdpy.rados.proto.types import EntityType, SnapContext
from rbdpy.rados.transport import Connection

log = logging.getLogger(__name__)
_debug = functools.partial(log.isEnabledFor, logging.DEBUG)

_OSD_OP = int(MsgType.OSD_OP)
_OSD_OPREPLY = int(MsgType.OSD_OPREPLY)
_OSD_OP_VERSION = MOSDOp.HEAD_VERSION
_OSD_OP_COMPAT = MOSDOp.COMPAT_VERSION

# CEPH_OSD_BACKOFF_OP_* (ceph src/include/rados.h)
_BACKOFF_BLOCK = 1
_BACKOFF_UNBLOCK = 3

#: Pauses before the 2nd, 3rd... attempt to connect to an OSD after consecutive failures
#: (the first reconnect is immediate; librados' messenger uses ms_initial_backoff 0.2 s
#: doubling to ms_max_backoff for its own retries of a failing peer).
_RECONNECT_BACKOFF = (0.05, 0.1, 0.2, 0.5, 1.0)


_EMPTY_SNAPC = SnapContext()


class Op:
    """One in-flight MOSDOp (Objecter::Op).

    A plain slotted class, not a dataclass with a ``trio.Event``: one is made per request,
    and its single waiter (``submit``) parks with ``wait_task_rescheduled`` directly.
    """

    __slots__ = (
        "_waiter",
        "attempts",
        "error",
        "finished",
        "flags",
        "mtime",
        "ops",
        "reply",
        "session",
        "snapc",
        "snapid",
        "target",
        "tid",
        "via",
    )

    def __init__(self, target: OpTarget, ops: list[Any], flags: int,
                 snapc: SnapContext = _EMPTY_SNAPC, snapid: int = CEPH_NOSNAP,
                 mtime: tuple[int, int] = (0, 0)) -> None:
        self.target = target
        self.ops = ops  # proto.ops sub-ops
        self.flags = flags
        self.snapc = snapc
        self.snapid = snapid
        self.mtime = mtime
        self.tid = 0
        self.attempts = 0
        self.session: OsdSession | None = None
        self.reply: MOSDOpReply | None = None
        self.error: CephError | None = None
        self.finished = False
        #: the connection the reply came on (a notify waits for its completion there)
        self.via: Connection | None = None
        self._waiter: trio.lowlevel.Task | None = None

    def __repr__(self) -> str:
        return (f"<Op tid {self.tid} {self.target.base_oid!r} flags {self.flags:#x} "
                f"attempts {self.attempts}{' finished' if self.finished else ''}>")

    def finish(self, reply: MOSDOpReply | None = None, error: CephError | None = None) -> None:
        if self.finished:
            return
        self.reply = reply
        self.error = error
        self.finished = True
        w = self._waiter
        if w is not None:
            self._waiter = None
            trio.lowlevel.reschedule(w)

    async def wait(self) -> None:
        """Until :meth:`finish` (cancellable; one waiter)."""
        if self.finished:
            await trio.lowlevel.checkpoint()
            return
        self._waiter = trio.lowlevel.current_task()

        def abort(raise_cancel: Any) -> trio.lowlevel.Abort:
            # Once cancelled, the task is already scheduled: finish() must not reschedule
            # it again (a reply landing before the task resumes would trip trio's assert).
            self._waiter = None
            return trio.lowlevel.Abort.SUCCEEDED

        try:
            await trio.lowlevel.wait_task_rescheduled(abort)
        finally:
            self._waiter = None


@dataclass(eq=False)
class OsdSession:
    """Ops aimed at one OSD and the connection that carries them (Objecter::OSDSession)."""

    osd: int
    addr: Any
    ops: dict[int, Op] = field(default_factory=dict)
    conn: Connection | None = None
    closed: bool = False
    wakeup: trio.Event = field(default_factory=trio.Event)
    #: (pg, backoff id) → the BLOCK an OSD sent us (MOSDBackoff), until its UNBLOCK
    backoffs: dict[tuple[Any, int], MOSDBackoff] = field(default_factory=dict)
    #: messages received on this session's connections, over all of them
    received: int = 0


class Objecter:
    """Submits object ops for one cluster handle.

    :param get_osdmap: the handle's current map.
    :param cephx: ticket source for OSD authorizers (None = auth none).
    :param auth_none: factory of auth-none handlers when cephx is off.
    :param global_id: our client id (reqid entity and CLIENT_IDENT gid).
    :param con_modes: msgr2 modes offered to OSDs.
    """

    def __init__(self, *, get_osdmap: Callable[[], OSDMap | None],
                 cephx: CephxClient | None, auth_none: Callable[[], AuthHandler] | None,
                 global_id: Callable[[], int], con_modes: list[ConMode],
                 global_seq: Callable[[], int], op_timeout: float = 0.0,
                 on_watch_notify: Callable[[MWatchNotify], None] | None = None,
                 background: TaskStarter | None = None) -> None:
        self._get_osdmap = get_osdmap
        self._cephx = cephx
        self._auth_none = auth_none
        self._global_id = global_id
        self._con_modes = con_modes
        self._global_seq = global_seq
        self.op_timeout = op_timeout
        self.on_watch_notify = on_watch_notify
        self._tids = itertools.count(1)
        self.sessions: dict[int, OsdSession] = {}
        self._conn_sessions: dict[int, OsdSession] = {}  # id(connection) → its session
        self.homeless: dict[int, Op] = {}
        #: Where session tasks and send helpers run (the handle's BackgroundTasks).
        self.background = background
        self._map_changed = trio.Event()
        # Set (and replaced) whenever an OSD connection is opened or dropped: watches
        # re-check their registration then (Objecter::_linger_ops_resend on a reset).
        self._sessions_changed = trio.Event()
        self.client_inc = 0
        self._waiting = 0  # submit() calls waiting for their reply

    # -- submission ----------------------------------------------------------------------

    async def submit(self, op: Op) -> MOSDOpReply:
        """Send ``op`` and wait for its reply (any result code; callers interpret it).

        :raises CephError: ENOENT when the pool does not exist; ETIMEDOUT after
            ``rados_osd_op_timeout``; ESHUTDOWN when the handle closes.
        """
        op.tid = next(self._tids)
        osdmap = self._get_osdmap()
        if osdmap is None:
            raise CephError(errno.ENOTCONN, "no osdmap")
        if calc_target(osdmap, op.target) is CalcResult.POOL_DNE:
            raise CephError(errno.ENOENT, f"pool {op.target.base_pool} does not exist")
        self._waiting += 1
        try:
            s = self._assign(op, send=False)
            if s is not None and not self._queue(s, op):
                # The common case queues from the caller's task (no task spawn per op);
                # only a connection whose writer is not running yet needs an awaited send.
                await self._send(s, op)
            if self.op_timeout > 0:
                with trio.fail_after(self.op_timeout):
                    await op.wait()
            else:
                await op.wait()
        except trio.TooSlowError:
            self._forget(op)
            raise CephError(errno.ETIMEDOUT, "osd op timed out") from None
        except BaseException:
            self._forget(op)
            raise
        finally:
            self._waiting -= 1
        if op.error is not None:
            raise op.error
        assert op.reply is not None
        return op.reply

    def _forget(self, op: Op) -> None:
        if op.session is not None:
            op.session.ops.pop(op.tid, None)
            op.session = None
        self.homeless.pop(op.tid, None)

    def _assign(self, op: Op, send: bool = True) -> OsdSession | None:
        """Put ``op`` where its target says and send it if the session is up.

        With ``send=False`` the op is not sent; the session is returned when the caller
        should send it now (it is connected).
        """
        self._forget(op)
        t = op.target
        osdmap = self._get_osdmap()
        if t.osd < 0 or t.paused or osdmap is None or not osdmap.is_up(t.osd):
            if _debug():
                log.debug("op tid %d homeless (osd %d, paused %s)", op.tid, t.osd, t.paused)
            self.homeless[op.tid] = op
            return None
        s = self._session(t.osd, osdmap)
        op.session = s
        s.ops[op.tid] = op
        if s.conn is not None and not s.conn.closed and s.conn.ready is not None:
            if not send:
                return s
            self._spawn(self._send, s, op, name=f"osd.{s.osd} send")
        return None

    def _session(self, osd: int, osdmap: OSDMap) -> OsdSession:
        s = self.sessions.get(osd)
        if s is not None and not s.closed:
            return s
        addr = osdmap.get_addrs(osd).msgr2()
        s = OsdSession(osd, addr)
        self.sessions[osd] = s
        self._spawn(self._session_task, s, name=f"osd.{osd} session",
                    on_crash=lambda e: self._session_crashed(s))
        return s

    def _spawn(self, fn: Callable[..., Any], *args: Any, name: str | None = None,
               on_crash: Callable[[BaseException], None] | None = None) -> None:
        if self.background is None:
            raise CephError(errno.ENOTCONN, "objecter not running")
        try:
            self.background.start_soon(fn, *args, name=name, on_crash=on_crash)
        except RuntimeError as e:  # the handle is shutting down
            raise CephError(errno.ESHUTDOWN, str(e)) from None

    def _session_crashed(self, s: OsdSession) -> None:
        """A session task died of an internal error: drop the session, resend its ops.

        (The error was already reported.) The ops go wherever the map says, which opens a
        fresh session to the same OSD.
        """
        s.closed = True
        if self.sessions.get(s.osd) is s:
            del self.sessions[s.osd]
        conn, s.conn = s.conn, None
        if conn is not None:
            self._conn_sessions.pop(id(conn), None)
            self._spawn(conn.aclose, name=f"osd.{s.osd} close")
        self._signal_sessions_changed()
        for op in sorted(s.ops.values(), key=lambda o: o.tid):
            op.session = None
            self._retarget(op, any_change=True)
        s.ops.clear()

    def _encode(self, s: OsdSession, op: Op) -> bytes:
        """The MOSDOp front for ``op``'s next attempt (counts the attempt)."""
        t = op.target
        pgid = t.pgid
        assert pgid is not None
        op.attempts += 1
        raw = t.raw_pgid
        if _debug():
            log.debug("osd.%d <- tid %d %s attempt %d", s.osd, op.tid, t.base_oid,
                      op.attempts)
        return encode_osd_op_front(
            pgid.pool, pgid.seed, -1, raw.seed if raw is not None else 0, t.epoch, op.flags,
            self.client_inc, op.mtime, t.pool, t.key, t.nspace,
            -1 if t.precalc_seed is None else t.precalc_seed, t.base_oid, op.ops, op.snapid,
            op.snapc.seq, op.snapc.snaps, op.attempts - 1, CEPH_FEATURES_SUPPORTED_DEFAULT)

    def _queue(self, s: OsdSession, op: Op) -> bool:
        """Queue ``op`` on its session's connection without awaiting.

        Returns False when the connection cannot take it that way (its writer is not
        running yet): then ``await self._send(s, op)``.
        """
        conn = s.conn
        if conn is None or conn.closed or op.session is not s or op.finished:
            return True  # nothing to send now; the session task resends when it is up
        if not conn.writer_running:
            return False
        front = self._encode(s, op)
        try:
            # The only request in flight (queue depth 1): nothing to batch it with, so
            # it is written at once instead of by the writer task one pass later.
            conn.queue_message(_OSD_OP, front, b"", _ops_data(op.ops), tid=op.tid,
                               version=_OSD_OP_VERSION, compat_version=_OSD_OP_COMPAT,
                               urgent=self._waiting == 1)
        except CephError as e:
            log.debug("send to osd.%d failed: %s (resent on reconnect)", s.osd, e)
        return True

    async def _send(self, s: OsdSession, op: Op) -> None:
        conn = s.conn
        if conn is None or conn.closed or op.session is not s or op.finished:
            return
        try:
            front = self._encode(s, op)
            data = _ops_data(op.ops)
        except Exception as e:
            # This op cannot be sent, now or after any reset: fail it alone.
            report_crash(f"osd.{s.osd} encoding tid {op.tid}", e)
            self._forget(op)
            op.finish(error=CephError(errno.EIO, f"op could not be encoded: {e!r}"))
            return
        try:
            await conn.send_message(_OSD_OP, front, b"", data, tid=op.tid,
                                    version=_OSD_OP_VERSION, compat_version=_OSD_OP_COMPAT)
        except CephError as e:
            log.debug("send to osd.%d failed: %s (resent on reconnect)", s.osd, e)

    # -- sessions ------------------------------------------------------------------------

    async def _session_task(self, s: OsdSession) -> None:
        failures = 0
        while not s.closed:
            osdmap = self._get_osdmap()
            if osdmap is None or not osdmap.is_up(s.osd):
                break
            addr = osdmap.get_addrs(s.osd).msgr2()
            if addr is None:
                break
            s.addr = addr
            handler: AuthHandler
            if self._cephx is not None:
                handler = self._cephx.authorizer_handler(EntityType.OSD)
            else:
                assert self._auth_none is not None
                handler = self._auth_none()
            conn = Connection(addr, handler, con_modes=self._con_modes, name=f"osd.{s.osd}",
                              global_seq=self._global_seq(), peer_type=EntityType.OSD,
                              gid=self._global_id())
            try:
                with trio.fail_after(10):
                    await conn.open()
            except (OSError, CephError, trio.TooSlowError) as e:
                log.debug("connect to osd.%d at %s failed: %s", s.osd, addr, e)
                failures += 1
                if failures > 1:  # the first failure is retried at once
                    await self._wait_backoff(failures - 1)
                continue
            received_before = s.received
            s.conn = conn
            self._conn_sessions[id(conn)] = s
            self._signal_sessions_changed()
            try:
                # Everything not yet answered, oldest first (the OSD executes in order).
                for op in sorted(s.ops.values(), key=lambda o: o.tid):
                    await self._send(s, op)
                await conn.run(self._dispatch)
            except Exception as e:
                # A bug while serving this session (see the module doc): report it, drop
                # the connection and open a fresh one with every unanswered op.
                report_crash(f"osd.{s.osd} session", e)
                await conn.aclose()
            finally:
                self._conn_sessions.pop(id(conn), None)
            s.conn = None
            log.debug("osd.%d session ended: %s; reconnecting", s.osd, conn.error)
            self._signal_sessions_changed()
            # Lossy session: reconnect at once. A session that ended before the OSD
            # answered anything counts as a failed attempt, so a peer that accepts and then
            # drops us every time is retried with the backoff, not in a tight loop.
            if s.received != received_before:
                failures = 0
            else:
                failures += 1
                if failures > 1:
                    await self._wait_backoff(failures - 1)
        s.closed = True
        if self.sessions.get(s.osd) is s:
            del self.sessions[s.osd]
        # Whatever is left goes wherever the current map says.
        for op in list(s.ops.values()):
            op.session = None
            self._retarget(op, any_change=True)
        s.ops.clear()

    def _signal_sessions_changed(self) -> None:
        ev, self._sessions_changed = self._sessions_changed, trio.Event()
        ev.set()

    async def wait_sessions_changed(self) -> None:
        """Return the next time an OSD connection opens or closes."""
        await self._sessions_changed.wait()

    async def _wait_backoff(self, failures: int) -> None:
        """Sleep a little, but wake early when a new map arrives."""
        delay = _RECONNECT_BACKOFF[min(failures, len(_RECONNECT_BACKOFF)) - 1]
        with trio.move_on_after(delay):
            await self._map_changed.wait()

    def _dispatch(self, conn: Connection, ev: MessageReceived) -> None:
        try:
            self._dispatch_message(conn, ev)
        except Exception as e:
            if ev.type == _OSD_OPREPLY:
                # The reply would fail the same way after a resend: fail its op alone.
                self._fail_op(conn, ev.tid,
                              CephError(errno.EIO, f"reply could not be handled: {e!r}"))
            raise

    def _fail_op(self, conn: Connection, tid: int, error: CephError) -> None:
        s = self._conn_sessions.get(id(conn))
        op = s.ops.pop(tid, None) if s is not None else None
        if op is not None:
            op.session = None
            op.finish(error=error)

    def _dispatch_message(self, conn: Connection, ev: MessageReceived) -> None:
        s = self._conn_sessions.get(id(conn))
        if s is not None:
            s.received += 1
        if ev.type == _OSD_OPREPLY and ev.compat_version <= MOSDOpReply.HEAD_VERSION:
            # The hot path: straight to the reply decoder (decode_message's checks, inline).
            reply = MOSDOpReply.decode(ev.version, ev.front, ev.middle, ev.data)
            reply.tid = ev.tid
            reply.header_version = ev.version
            self._handle_reply(conn, reply)
            return
        msg = decode_message(ev.type, ev.version, ev.compat_version, ev.front, ev.middle,
                             ev.data, tid=ev.tid)
        if isinstance(msg, MOSDOpReply):
            self._handle_reply(conn, msg)
        elif isinstance(msg, MWatchNotify):
            if self.on_watch_notify is not None:
                self.on_watch_notify(msg)
        elif isinstance(msg, MOSDBackoff):
            self._handle_backoff(conn, msg)
        else:
            log.debug("%s: ignoring %s", conn.name, msg.type_name)

    def _handle_backoff(self, conn: Connection, msg: MOSDBackoff) -> None:
        """MOSDBackoff: acknowledge a BLOCK; on UNBLOCK resend the pg's ops.

        While a range is blocked the OSD drops requests for it, so every op of that pg on
        this session is sent again when the block lifts (same tid: the OSD's reqid dedup
        makes a second copy harmless). Ops submitted meanwhile are sent as usual and simply
        dropped by the OSD until then — simpler than holding them here, and equally safe.
        (kernel handle_backoff_block / handle_backoff_unblock; Objecter::handle_osd_backoff)
        """
        s = self._conn_sessions.get(id(conn))
        if s is None:
            return
        pgid = msg.pgid.pgid
        if msg.op == _BACKOFF_BLOCK:
            log.debug("%s: backoff BLOCK pg %s id %d", conn.name, pgid, msg.id)
            s.backoffs[(pgid, msg.id)] = msg
            self._spawn(self._send_message, conn, msg.ack(), name=f"{conn.name} backoff ack")
        elif msg.op == _BACKOFF_UNBLOCK:
            log.debug("%s: backoff UNBLOCK pg %s id %d", conn.name, pgid, msg.id)
            s.backoffs.pop((pgid, msg.id), None)
            for op in sorted(s.ops.values(), key=lambda o: o.tid):
                if op.target.pgid == pgid:
                    self._spawn(self._send, s, op, name=f"osd.{s.osd} resend")

    async def _send_message(self, conn: Connection, msg: Any) -> None:
        mtype, version, compat, front, middle, data = encode_message(msg)
        try:
            await conn.send_message(mtype, front, middle, data, tid=msg.tid, version=version,
                                    compat_version=compat)
        except CephError as e:
            log.debug("%s: send of %s failed: %s", conn.name, msg.type_name, e)

    def _handle_reply(self, conn: Connection, reply: MOSDOpReply) -> None:
        s = self._conn_sessions.get(id(conn))
        op = s.ops.get(reply.tid) if s is not None else None
        if op is None:
            log.debug("%s: reply for unknown tid %d", conn.name, reply.tid)
            return
        if _debug():
            log.debug("%s -> tid %d result %d", conn.name, reply.tid, reply.result)
        assert s is not None
        s.ops.pop(op.tid, None)
        op.session = None
        if reply.redirect is not None:
            self._redirect(op, reply)
            return
        op.via = conn
        op.finish(reply)

    def _redirect(self, op: Op, reply: MOSDOpReply) -> None:
        """The OSD says the object lives elsewhere (cache tiering): retarget, resend.

        The new locator replaces the op's base target and the op is flagged REDIRECTED |
        IGNORE_OVERLAY so the overlay is not applied again (kernel handle_reply
        ``m.redirect``; Objecter::handle_osd_op_reply ``is_redirect_reply``).
        """
        assert reply.redirect is not None
        loc = reply.redirect.redirect_locator
        t = op.target
        log.debug("tid %d redirected to pool %d", op.tid, loc.pool)
        if loc.pool >= 0:
            t.base_pool = loc.pool
        t.key = loc.key.encode("utf-8", "surrogateescape")
        t.nspace = loc.nspace.encode("utf-8", "surrogateescape")
        if reply.redirect.redirect_object:
            t.base_oid = reply.redirect.redirect_object.encode("utf-8", "surrogateescape")
        t.flags |= OsdFlag.REDIRECTED | OsdFlag.IGNORE_OVERLAY
        op.flags |= OsdFlag.REDIRECTED | OsdFlag.IGNORE_OVERLAY
        self._retarget(op, any_change=True)

    # -- map changes ---------------------------------------------------------------------

    def handle_osdmap(self, osdmap: OSDMap) -> None:
        """Rescan every op against a new map (Objecter::handle_osd_map)."""
        ev, self._map_changed = self._map_changed, trio.Event()
        ev.set()
        for osd, s in list(self.sessions.items()):
            addr = osdmap.get_addrs(osd).msgr2() if osdmap.exists(osd) else None
            if not osdmap.is_up(osd) or addr != s.addr:
                # The OSD went down or restarted elsewhere: drop the session; its task
                # retargets the ops when it notices.
                s.closed = True
                del self.sessions[osd]
                if s.conn is not None:
                    self._spawn(s.conn.aclose, name=f"osd.{osd} close")
                for op in list(s.ops.values()):
                    op.session = None
                    self._retarget(op, any_change=True)
                s.ops.clear()
        for op in [o for s in list(self.sessions.values()) for o in list(s.ops.values())]:
            self._retarget(op)
        for op in list(self.homeless.values()):
            self._retarget(op, any_change=True)

    def _retarget(self, op: Op, any_change: bool = False) -> None:
        osdmap = self._get_osdmap()
        if osdmap is None or op.finished:
            return
        r = calc_target(osdmap, op.target, any_change=any_change)
        if r is CalcResult.POOL_DNE:
            self._forget(op)
            op.finish(error=CephError(errno.ENOENT, "pool deleted"))
        elif r is CalcResult.NEED_RESEND:
            self._assign(op)

    def shutdown(self) -> None:
        for s in self.sessions.values():
            s.closed = True
            for op in s.ops.values():
                op.finish(error=CephError(errno.ESHUTDOWN, "rados handle shut down"))
        for op in self.homeless.values():
            op.finish(error=CephError(errno.ESHUTDOWN, "rados handle shut down"))


# Above this many bytes, several op inputs travel as a Gather instead of being joined.
_GATHER_MIN = 64 * 1024


def _ops_data(osd_ops: list[Any]) -> Payload:
    """The data segment: every op's input, in order (one buffer: no copy for one piece;
    a large payload in several pieces goes out gathered, not copied)."""
    if len(osd_ops) == 1:
        ind = osd_ops[0].indata
        if len(ind) == 1:
            return ind[0]  # type: ignore[no-any-return]
        if not ind:
            return b""
    pieces = encode_ops_data(osd_ops)
    if not pieces:
        return b""
    if len(pieces) == 1:
        return pieces[0]
    gathered = Gather(tuple(pieces))
    return gathered if len(gathered) >= _GATHER_MIN else bytes(gathered)


def now_utime() -> tuple[int, int]:
    t = time.time()
    sec = int(t)
    return sec, int((t - sec) * 1e9)
