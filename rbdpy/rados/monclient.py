"""The trio MonClient: one authenticated session with some monitor, kept alive.

Theory of operation: ``run()`` is a loop that *hunts* — dials ``mon_client_hunt_parallel``
monitors picked at random AT ONCE, keeps the first that completes msgr2 authentication and
drops the others (librados' MonClient::_reopen_session with pending_cons) — then serves the
session until it breaks, then hunts again. A hunt round lasts ``mon_client_hunt_interval``
times a multiplier that grows by ``mon_client_hunt_interval_backoff`` after every round that
found no monitor (up to ``..._max_multiple``) and shrinks again after one that did (down to
``..._min_multiple``): a monitor busy in an election is given longer each round, and the
client takes the first one to answer once a quorum exists.

While a session is up it (re)sends every subscription and every pending request (mon
commands, version queries, pool ops, statfs), so callers never see a mon failover except
as latency. Replies are matched to waiters by tid. Auth tickets are renewed
by re-authenticating on a fresh session before 3/4 of their validity has passed (the
simplest robust way under msgr2: the mon runs the full cephx exchange again, with global_id
reclaim from the old ticket).

Faults inside rbdpy (a bug while serving a session: decoding, a map callback, the
keepalive) end that session only: the error is logged once at WARNING, the request whose
reply could not be handled fails with EIO (resending it would fail again), and the client
hunts for a new session and resends everything else, as after a network fault.

A wrong key or unknown entity is fatal for the first session (``AuthError`` reaches
``wait_ready`` at once — no retry loop); an unreachable mon only moves the hunt on.

Mirrors: kernel net/ceph/mon_client.c (hunting, subscriptions, generic requests); ceph
src/mon/MonClient.{h,cc} (_reopen_session, handle_auth, start_mon_command).
"""

from __future__ import annotations

import copy
import errno
import itertools
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from rbdpy.rados.background import report_crash
from rbdpy.rados.proto.auth.cephx import CephxClient
from rbdpy.rados.proto.auth.handler import AuthHandler, ConMode
from rbdpy.rados.proto.errors import AuthError, CephError
from rbdpy.rados.proto.messages.base import Message, MsgType, decode_message, encode_message
from rbdpy.rados.proto.messages.mon import (
    MMonCommand,
    MMonCommandAck,
    MMonGetVersion,
    MMonGetVersionReply,
    MMonMap,
    MMonSubscribe,
    MOSDMap,
    MPoolOp,
    MPoolOpReply,
    MStatfs,
    MStatfsReply,
)
from rbdpy.rados.proto.monmap import MonMap, decode_monmap
from rbdpy.rados.proto.msgr2.events import MessageReceived
from rbdpy.rados.proto.types import EntityAddr, EntityType
from rbdpy.rados.transport import Connection

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class HuntPolicy:
    """librados' hunting options (mon_client_hunt_*), defaults as Pacific's."""

    parallel: int = 3
    interval: float = 3.0
    backoff: float = 1.5
    min_multiple: float = 1.0
    max_multiple: float = 10.0

#: Keepalive period and the silence after which a session is declared dead.
KEEPALIVE_INTERVAL = 10.0
SESSION_TIMEOUT = 30.0


@dataclass
class _Request:
    """A request waiting for its reply; resent on every new session until answered."""

    tid: int
    msg: Message
    reply_type: int
    done: trio.Event = field(default_factory=trio.Event)
    reply: Message | None = None
    error: CephError | None = None


def _login_copy(auth: CephxClient) -> CephxClient:
    """The cephx state one mon login of a hunt works on: a copy with its own ticket table.

    Why: the logins of a parallel hunt run at once, and after the first session each one
    reclaims our global_id with the AUTH ticket we held when it started; the mon encrypts the
    new ticket with that old ticket's session key. On one shared table, the first login to
    finish replaced that key, so a later reply failed to decrypt — taken for a wrong key,
    which ended the hunt round as fatal (a WARNING, a 1 s pause and a lost round whenever two
    logins overlapped); and a losing login could overwrite the winner's tickets and, on a
    first connect, its global_id.
    librados likewise clones its auth handler for every mon it dials and keeps the winner's.
    """
    login = copy.copy(auth)
    login.tickets = dict(auth.tickets)
    return login


def _adopt_login(auth: CephxClient, login: CephxClient) -> None:
    """Make the winning login's tickets the handle's (``auth`` is shared with the Objecter)."""
    auth.tickets = dict(login.tickets)
    auth.global_id = login.global_id
    auth.connection_secret = login.connection_secret


class MonClient:
    """A MonClient for one cluster handle.

    :param mon_addrs: the initial monitors (from mon_host / the monmap), msgr2 addresses.
    :param auth: the cephx client state (tickets); None means auth "none".
    :param entity_name: our name (for auth none).
    :param con_modes: msgr2 modes offered to mons, in preference order.
    :param on_osdmap: called with every MOSDMap received (by the cluster handle).
    """

    def __init__(self, mon_addrs: list[EntityAddr], *, auth: CephxClient | None,
                 auth_none: Callable[[], AuthHandler] | None = None,
                 con_modes: list[ConMode],
                 on_osdmap: Callable[[MOSDMap], None] | None = None,
                 on_message: Callable[[Message], None] | None = None,
                 global_seq: Callable[[], int] | None = None,
                 hunt: HuntPolicy = HuntPolicy()) -> None:
        if not mon_addrs:
            raise CephError(errno.EINVAL, "no monitors known (mon_host is empty)")
        self.mon_addrs = list(mon_addrs)
        self.auth = auth
        self._auth_none = auth_none
        self.con_modes = con_modes
        self.on_osdmap = on_osdmap
        #: gets every other subscribed message (MMgrMap, MLog) the session receives
        self.on_message = on_message
        self._global_seq = global_seq or itertools.count(1).__next__
        self.monmap: MonMap | None = None
        self.fsid: bytes = b"\0" * 16
        self.global_id = 0
        self.conn: Connection | None = None
        self._tids = itertools.count(1)
        self._pending: dict[int, _Request] = {}
        self._subs: dict[str, tuple[int, int]] = {}
        self._first_error: CephError | None = None
        self._first_done = trio.Event()
        self._have_monmap = trio.Event()
        self._shutdown = False
        self.hunt = hunt
        self._hunt_multiple = hunt.min_multiple

    # -- public --------------------------------------------------------------------------

    async def wait_ready(self) -> None:
        """Wait for the first session; raises the fatal error if authentication failed."""
        await self._first_done.wait()
        if self._first_error is not None:
            raise self._first_error
        # Like librados, a session is usable once the monmap (and so the fsid) is known.
        await self._have_monmap.wait()

    def sub_want(self, what: str, start: int, flags: int = 0) -> None:
        """Subscribe (or move a subscription) and tell the current mon at once."""
        if self._subs.get(what) == (start, flags):
            return
        self._subs[what] = (start, flags)
        if self.conn is not None and not self.conn.closed:
            self._send_soon(self._subscribe_msg({what: (start, flags)}))

    def sub_got(self, what: str, have: int) -> None:
        """Received ``what`` up to version ``have``: a later session asks for what follows
        (MonClient::sub_got)."""
        if what in self._subs:
            self._subs[what] = (have + 1, self._subs[what][1])

    def sub_unwant(self, what: str) -> None:
        """Stop asking for ``what`` on later sessions (MonClient::sub_unwant: the current
        monitor is not told; what it still sends is dropped by the subscriber)."""
        self._subs.pop(what, None)

    async def command(self, cmd: list[str], inbuf: bytes = b"",
                      ) -> tuple[int, bytes, str]:
        """Run a mon command; returns (r, outbuf, outs) like librados (r <= 0)."""
        msg = MMonCommand(fsid=self.fsid, cmd=cmd, inbl=inbuf)
        reply = await self._request(msg, MsgType.MON_COMMAND_ACK)
        assert isinstance(reply, MMonCommandAck)
        return reply.r, bytes(reply.outbl), reply.rs

    async def get_version(self, what: str) -> tuple[int, int]:
        """(newest, oldest) epoch of a map ("osdmap", "monmap")."""
        msg = MMonGetVersion(what=what)
        reply = await self._request(msg, MsgType.MON_GET_VERSION_REPLY, tid_in_body=True)
        assert isinstance(reply, MMonGetVersionReply)
        return reply.version, reply.oldest_version

    async def pool_op(self, msg: MPoolOp) -> MPoolOpReply:
        msg.fsid = self.fsid
        reply = await self._request(msg, MsgType.POOLOP_REPLY)
        assert isinstance(reply, MPoolOpReply)
        return reply

    async def statfs(self, pool: int | None = None) -> MStatfsReply:
        msg = MStatfs(fsid=self.fsid, data_pool=pool)
        reply = await self._request(msg, MsgType.STATFS_REPLY)
        assert isinstance(reply, MStatfsReply)
        return reply

    def shutdown(self) -> None:
        self._shutdown = True
        for req in self._pending.values():
            req.error = CephError(errno.ESHUTDOWN, "monclient shut down")
            req.done.set()

    # -- requests ------------------------------------------------------------------------

    async def _request(self, msg: Message, reply_type: int, *, tid_in_body: bool = False
                       ) -> Message:
        if self._shutdown:
            raise CephError(errno.ESHUTDOWN, "monclient shut down")
        tid = next(self._tids)
        msg.tid = tid
        if tid_in_body:
            msg.handle = tid  # type: ignore[attr-defined]
        req = _Request(tid, msg, reply_type)
        self._pending[tid] = req
        try:
            if self.conn is not None and not self.conn.closed:
                await self._send(self.conn, msg)
            await req.done.wait()
        finally:
            self._pending.pop(tid, None)
        if req.error is not None:
            raise req.error
        assert req.reply is not None
        return req.reply

    async def _send(self, conn: Connection, msg: Message) -> None:
        mtype, version, compat, front, middle, data = encode_message(msg)
        try:
            await conn.send_message(mtype, front, middle, data, tid=msg.tid,
                                    version=version, compat_version=compat)
        except CephError as e:
            # The session is breaking; the request is resent on the next one.
            log.debug("mon send of %s failed: %s", msg.type_name, e)

    def _send_soon(self, msg: Message) -> None:
        conn = self.conn
        if conn is not None and self._nursery is not None:
            self._nursery.start_soon(self._send, conn, msg)

    def _subscribe_msg(self, subs: dict[str, tuple[int, int]]) -> MMonSubscribe:
        m = MMonSubscribe()
        for what, (start, flags) in subs.items():
            m.sub_want(what, start, flags)
        return m

    # -- the session loop ----------------------------------------------------------------

    _nursery: trio.Nursery | None = None

    async def run(self) -> None:
        """Hunt, serve, repeat, until cancelled or shut down."""
        backoff = 0.05
        while not self._shutdown:
            try:
                conn = await self._hunt()
            except AuthError as e:
                if not self._first_done.is_set():
                    self._first_error = e
                    self._first_done.set()
                    return
                log.warning("mon authentication failed: %s; retrying", e)
                await trio.sleep(1.0)
                continue
            if conn is None:
                await trio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            try:
                await self._serve(conn)
            except Exception as e:
                # A bug while serving this session: it is over; hunt for the next one.
                report_crash("mon session", e)

    async def _hunt(self) -> Connection | None:
        """One hunt round: dial up to ``hunt.parallel`` random mons at once; the first to
        authenticate wins and the others are closed. None when none did in time."""
        addrs = self._current_mon_addrs()
        random.shuffle(addrs)
        picks = addrs[:max(1, min(self.hunt.parallel, len(addrs)))]
        winner: Connection | None = None
        winner_auth: CephxClient | None = None
        fatal: AuthError | None = None
        failed = 0

        async def attempt(addr: EntityAddr, scope: trio.CancelScope) -> None:
            nonlocal winner, winner_auth, fatal, failed
            login_auth = None
            if self.auth is not None:
                login_auth = _login_copy(self.auth)
                handler: AuthHandler = login_auth.mon_handler(time.time())
            else:
                assert self._auth_none is not None
                handler = self._auth_none()
            # librados' first mon session identifies as "client.?" (gid -1: its messenger
            # has no id yet); the mon names the session's log entries and audit lines so.
            # Later sessions carry the id the first one was given.
            conn = Connection(addr, handler, con_modes=self.con_modes, name=f"mon {addr}",
                              global_seq=self._global_seq(), peer_type=EntityType.MON,
                              gid=-1 if self.global_id == 0 else None)
            try:
                ready = await conn.open()  # closes itself when it fails or is cancelled
            except AuthError as e:
                # A rejected key is the same at every mon: stop hunting.
                log.debug("mon %s refused authentication: %s", addr, e)
                if winner is None:
                    fatal = e
                    scope.cancel()
                return
            except (OSError, CephError) as e:
                log.debug("mon %s unreachable: %s", addr, e)
                failed += 1
                if failed == len(picks):
                    scope.cancel()  # every pick refused: no point waiting out the round
                return
            if winner is not None:
                await conn.aclose()
                return
            winner, winner_auth = conn, login_auth
            self.global_id = ready.global_id
            log.debug("mon session to %s established (global_id %d)", addr, ready.global_id)
            scope.cancel()

        interval = self.hunt.interval * self._hunt_multiple
        async with trio.open_nursery() as nursery:
            nursery.cancel_scope.deadline = trio.current_time() + interval
            for addr in picks:
                nursery.start_soon(attempt, addr, nursery.cancel_scope)
        if fatal is not None:
            raise fatal
        if self.auth is not None and winner_auth is not None:
            _adopt_login(self.auth, winner_auth)
        h = self.hunt
        if winner is None:
            self._hunt_multiple = min(self._hunt_multiple * h.backoff, h.max_multiple)
        else:
            self._hunt_multiple = max(self._hunt_multiple / h.backoff, h.min_multiple)
        return winner

    def _current_mon_addrs(self) -> list[EntityAddr]:
        if self.monmap is not None:
            addrs = [a for a in (av.msgr2() for av in self.monmap.addrvecs()) if a]
            if addrs:
                return addrs
        return list(self.mon_addrs)

    async def _serve(self, conn: Connection) -> None:
        self.conn = conn
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                # A new session knows nothing: subscribe again and resend what waits.
                subs = dict(self._subs)
                subs.setdefault("monmap", (self.monmap.epoch + 1 if self.monmap else 0, 0))
                await self._send(conn, self._subscribe_msg(subs))
                for req in list(self._pending.values()):
                    await self._send(conn, req.msg)
                if not self._first_done.is_set():
                    self._first_done.set()
                nursery.start_soon(self._keepalive, conn, nursery.cancel_scope)
                await conn.run(self._dispatch)
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            self.conn = None
            await conn.aclose()
            if conn.error is not None:
                log.info("mon session to %s lost: %s; hunting", conn.addr, conn.error)

    async def _keepalive(self, conn: Connection, scope: trio.CancelScope) -> None:
        while not conn.closed:
            await trio.sleep(KEEPALIVE_INTERVAL)
            now = time.monotonic()
            if now - conn.last_rx > SESSION_TIMEOUT:
                log.info("mon %s silent for %.0f s; reconnecting", conn.addr,
                         now - conn.last_rx)
                await conn.aclose()
                return
            if self.auth is not None and self.auth.need_renew(time.time()):
                # Re-authenticate on a fresh session to renew every ticket (see module doc).
                log.debug("cephx tickets due for renewal; reopening the mon session")
                await conn.aclose()
                return
            await conn.keepalive()

    def _dispatch(self, conn: Connection, ev: MessageReceived) -> None:
        try:
            self._dispatch_message(ev)
        except Exception as e:
            # Fail the request this reply answers (if any); the session is reset.
            tid = ev.tid
            if ev.type == MsgType.MON_GET_VERSION_REPLY:
                tid = -1  # its tid is in the body, which did not decode
            req = self._pending.get(tid)
            if req is not None and req.reply_type == ev.type and not req.done.is_set():
                req.error = CephError(errno.EIO, f"mon reply could not be handled: {e!r}")
                req.done.set()
            raise

    def _dispatch_message(self, ev: MessageReceived) -> None:
        msg = decode_message(ev.type, ev.version, ev.compat_version, ev.front, ev.middle,
                             ev.data, tid=ev.tid)
        log.debug("mon -> %s tid %d", msg.type_name, ev.tid)
        if isinstance(msg, MMonMap):
            self.monmap = decode_monmap(msg.monmapbl)
            self.fsid = self.monmap.fsid
            self._subs["monmap"] = (self.monmap.epoch + 1, 0)
            self._have_monmap.set()
        elif isinstance(msg, MOSDMap):
            if self.on_osdmap is not None:
                self.on_osdmap(msg)
        elif isinstance(msg, MMonGetVersionReply):
            self._complete(msg.handle, msg)
        elif isinstance(msg, (MMonCommandAck, MPoolOpReply, MStatfsReply)):
            self._complete(ev.tid, msg)
        elif self.on_message is not None:
            self.on_message(msg)

    def _complete(self, tid: int, msg: Message) -> None:
        req = self._pending.get(tid)
        if req is None:
            log.debug("reply for unknown tid %d (%s) dropped", tid, msg.type_name)
            return
        req.reply = msg
        req.done.set()
