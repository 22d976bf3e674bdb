"""Commands to one daemon over a session of their own ("tell"): OSDs, PGs, a chosen monitor.

Theory of operation: :func:`exchange` dials one daemon, authenticates, sends one
MCommand, waits for the MCommandReply with the same tid and hangs up. The session is the
command's own: librados does the same for a monitor picked by name or rank (an anonymous
mon session per command, MonClient::_send_command's tell path) and sends OSD and PG
commands over the Objecter's session with that OSD; a separate session changes nothing the
OSD can see except the connection (the command is the same message), and keeps the
Objecter's op path untouched.

Where a command goes, and the errors librados reports before sending anything:

* ``osd_command``: the OSD by id -- "osd dne" (ENOENT) when the map has no such OSD,
  "osd down" (ENXIO) when it is down (Objecter::_calc_command_target); the handle first
  waits for the newest map so a just-started OSD is not reported down.
* ``pg_command``: the acting primary of the pg, computed as an op aimed at that pg would
  be -- "pool dne" (ENOENT), "osd down" (ENXIO) when the pg has no primary.
* ``mon_command`` with a target: the monitor of that rank or name in the monmap --
  "mon rank dne" / "mon dne" (ENOENT). A monitor that does not answer within
  ``mon_client_hunt_interval`` is asked again, ``mon_client_directed_command_retry`` (2)
  times in all, then the command fails with "mon unavailable" (ENXIO).

A session that breaks before the reply is redialled, after looking the target up again in
the newest map (the daemon may have restarted elsewhere, or be marked down by now); the
caller bounds the whole command with its timeout (``rados_osd_op_timeout`` for OSDs and
PGs, none by default, as librados).

Mirrors: ceph src/osdc/Objecter.cc (osd_command, pg_command, _calc_command_target,
_send_command), src/mon/MonClient.cc (_send_command, _check_tell_commands),
src/librados/RadosClient.cc (osd_command, pg_command, mon_command by rank/name).
"""

from __future__ import annotations

import copy
import errno
import itertools
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from rbdpy.rados.proto.auth.cephx import CephxClient
from rbdpy.rados.proto.auth.handler import AuthHandler, ConMode
from rbdpy.rados.proto.constants import OsdFlag
from rbdpy.rados.proto.errors import AuthError, CephError
from rbdpy.rados.proto.messages.base import MsgType, decode_message, encode_message
from rbdpy.rados.proto.messages.command import MCommand, MCommandReply, MPing
from rbdpy.rados.proto.monmap import MonMap
from rbdpy.rados.proto.msgr2.events import MessageReceived
from rbdpy.rados.proto.objecter_core import CalcResult, OpTarget, calc_target
from rbdpy.rados.proto.osdmap import OSDMap
from rbdpy.rados.proto.types import EntityAddr, EntityType
from rbdpy.rados.transport import Connection

log = logging.getLogger(__name__)

#: How long one dial may take before the attempt counts as failed.
CONNECT_TIMEOUT = 10.0
#: mon_client_directed_command_retry (Pacific default): sends of one targeted mon command.
MON_DIRECTED_ATTEMPTS = 2


class CommandFailed(CephError):
    """A command that ended before any daemon answered it; ``outs`` is librados' text."""

    def __init__(self, err: int, outs: str) -> None:
        super().__init__(err, outs)
        self.outs = outs


@dataclass
class Dialer:
    """How this handle opens sessions to daemons (its auth state and messenger options)."""

    cephx: CephxClient | None
    auth_none: Callable[[], AuthHandler] | None
    con_modes: list[ConMode]
    mon_con_modes: list[ConMode]
    global_seq: Callable[[], int]
    global_id: Callable[[], int]

    def connection(self, addr: EntityAddr, peer_type: int, name: str) -> Connection:
        """A not yet opened connection to ``addr`` with the right authentication."""
        handler: AuthHandler
        if self.cephx is None:
            assert self.auth_none is not None
            handler = self.auth_none()
        elif peer_type == EntityType.MON:
            # A mon session authenticates from scratch; work on a copy of the ticket
            # table so the handle's own tickets are never replaced by this login.
            login = copy.copy(self.cephx)
            login.tickets = dict(self.cephx.tickets)
            handler = login.mon_handler(time.time())
        else:
            handler = self.cephx.authorizer_handler(peer_type)
        modes = self.mon_con_modes if peer_type == EntityType.MON else self.con_modes
        return Connection(addr, handler, con_modes=modes, name=name,
                          global_seq=self.global_seq(), peer_type=peer_type,
                          gid=None if peer_type == EntityType.MON else self.global_id())


async def exchange(conn: Connection, request: MCommand) -> MCommandReply:
    """Open ``conn``, send ``request``, return the reply of the same tid, hang up.

    :raises OSError, CephError: the dial failed, or the session ended before the reply.
    :raises AuthError: the daemon refused our credentials.
    """
    try:
        with trio.fail_after(CONNECT_TIMEOUT):
            await conn.open()
    except trio.TooSlowError:
        raise CephError(errno.ETIMEDOUT, f"{conn.name}: connect timed out") from None
    reply: MCommandReply | None = None
    answered = trio.Event()

    def on_message(_conn: Connection, ev: MessageReceived) -> None:
        nonlocal reply
        if ev.type != MsgType.COMMAND_REPLY or ev.tid != request.tid:
            log.debug("%s: ignoring message type %d tid %d", conn.name, ev.type, ev.tid)
            return
        msg = decode_message(ev.type, ev.version, ev.compat_version, ev.front, ev.middle,
                             ev.data, tid=ev.tid)
        assert isinstance(msg, MCommandReply)
        reply = msg
        answered.set()

    async def serve() -> None:
        await conn.run(on_message)
        answered.set()  # the session ended: stop waiting

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            mtype, version, compat, front, middle, data = encode_message(request)
            log.debug("%s <- command tid %d %s", conn.name, request.tid, request.cmd)
            await conn.send_message(mtype, front, middle, data, tid=request.tid,
                                    version=version, compat_version=compat)
            await answered.wait()
            nursery.cancel_scope.cancel()
    finally:
        await conn.aclose()
    if reply is None:
        raise CephError(errno.ECONNRESET,
                        f"{conn.name}: session ended before the reply ({conn.error})")
    return reply


async def retrying(attempt: Callable[[], Awaitable[MCommandReply]], what: str,
                   attempts: int | None = None) -> MCommandReply:
    """Await ``attempt()`` until it returns a reply (at most ``attempts`` times; None: until
    the caller's deadline, as the Objecter keeps a command until it is answered, the map
    says its OSD is gone, or rados_osd_op_timeout expires).

    Refused credentials and librados-style failures (:class:`CommandFailed`) are final;
    a dial or session failure is retried after a short pause (``attempt`` looks the
    target up again each time, so an OSD the newest map marks down ends it).
    """
    last: CephError | None = None
    for n in itertools.count() if attempts is None else range(attempts):
        try:
            return await attempt()
        except (AuthError, CommandFailed):
            raise
        except OSError as e:
            last = CephError(e.errno or errno.EIO, f"{what}: {e}")
        except CephError as e:
            last = e
        log.debug("%s: attempt %d failed: %s", what, n + 1, last)
        await trio.sleep(min(0.1 * 2 ** min(n, 4), 1.0))
    assert last is not None
    raise last


# -- where a command goes --------------------------------------------------------------

_PGID = re.compile(r"^(\d+)\.([0-9a-fA-F]+)$")


def parse_pgid(text: str) -> tuple[int, int]:
    """"1.1f" → (pool 1, seed 0x1f), as pg_t::parse reads it; CephError(EINVAL) if not."""
    m = _PGID.match(text)
    if m is None:
        raise CephError(errno.EINVAL, f"invalid pgid {text!r}")
    return int(m.group(1)), int(m.group(2), 16)


def osd_address(osdmap: OSDMap, osd: int) -> EntityAddr:
    """The msgr2 address of OSD ``osd``; CommandFailed as Objecter's command targeting."""
    if not osdmap.exists(osd):
        raise CommandFailed(errno.ENOENT, "osd dne")
    if not osdmap.is_up(osd):
        raise CommandFailed(errno.ENXIO, "osd down")
    addr = osdmap.get_addrs(osd).msgr2()
    if addr is None:
        raise CommandFailed(errno.ENXIO, "osd down")  # up, but with no msgr2 address
    return addr


def pg_primary(osdmap: OSDMap, pool: int, seed: int) -> int:
    """The acting primary of pg ``pool.seed`` (an op aimed at the pg, overlays ignored)."""
    t = OpTarget(base_pool=pool, base_oid=b"", precalc_seed=seed,
                 flags=OsdFlag.IGNORE_OVERLAY)
    if calc_target(osdmap, t) is CalcResult.POOL_DNE:
        raise CommandFailed(errno.ENOENT, "pool dne")
    if t.osd < 0:
        raise CommandFailed(errno.ENXIO, "osd down")
    return t.osd


def mon_address(monmap: MonMap, target: str) -> tuple[str, EntityAddr]:
    """(name, msgr2 address) of the monitor ``target`` names: a rank if it is all digits
    (rados_mon_command_target's rule), else a name."""
    if target.isdigit() and target.isascii():
        rank = int(target)
        if rank >= len(monmap.ranks):
            raise CommandFailed(errno.ENOENT, "mon rank dne")
        name = monmap.ranks[rank]
    else:
        if target not in monmap.mon_info:
            raise CommandFailed(errno.ENOENT, "mon dne")
        name = target
    addr = monmap.mon_info[name].public_addrs.msgr2()
    if addr is None:
        raise CommandFailed(errno.ENXIO, "mon unavailable")
    return name, addr


async def ping(conn: Connection, request: MPing) -> MPing:
    """Open a session with a monitor, send MPing, return its answering MPing, hang up
    (MonClient::ping_monitor's one-off session)."""
    await conn.open()
    answer: MPing | None = None
    answered = trio.Event()

    def on_message(_conn: Connection, ev: MessageReceived) -> None:
        nonlocal answer
        if ev.type == MsgType.PING:
            msg = decode_message(ev.type, ev.version, ev.compat_version, ev.front,
                                 ev.middle, ev.data, tid=ev.tid)
            assert isinstance(msg, MPing)
            answer = msg
            answered.set()

    async def serve() -> None:
        await conn.run(on_message)
        answered.set()

    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve)
            mtype, version, compat, front, middle, data = encode_message(request)
            await conn.send_message(mtype, front, middle, data, version=version,
                                    compat_version=compat)
            await answered.wait()
            nursery.cancel_scope.cancel()
    finally:
        await conn.aclose()
    if answer is None:
        raise CephError(errno.ECONNRESET, f"{conn.name}: session ended before the pong")
    return answer
