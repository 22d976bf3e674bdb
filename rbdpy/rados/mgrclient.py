"""The trio MgrClient: a session with the active mgr, for commands and service daemons.

Theory of operation: the handle subscribes to "mgrmap" at the monitors and hands every
MMgrMap to :meth:`MgrClient.handle_mgrmap`. :meth:`MgrClient.run` (a background service of
the handle) keeps one session with the map's active mgr: when the active mgr changes (a
failover) or the session breaks, it dials the one the newest map names, and it waits while
the map names none. The first session is opened when it is first needed (a command or a
registration), not at connect as librados does: most handles never talk to the mgr.
Commands wait in a table until answered and are (re)sent on every new
session, so a command issued during a failover is answered by the new active mgr, as
librados' MgrClient does:

* a plain command goes as MMgrCommand (nil fsid) and is answered with MMgrCommandReply;
* a command for a mgr by name (``mgr_command(target=...)``) goes as MCommand with the
  cluster fsid, only while that mgr is the active one.

A *service daemon* (``service_daemon_register``) also announces itself on every new
session with MMgrOpen (service, daemon name, metadata, status); the mgr answers with
MMgrConfigure, whose period paces the MMgrReport this client then sends, carrying the
status when ``service_daemon_update`` changed it. A daemon that stops reporting is dropped
from the service map by the mgr after ``mgr_service_beacon_grace``.

Mirrors: ceph src/mgr/MgrClient.{h,cc} (handle_mgr_map, reconnect, _send_open,
handle_mgr_configure, _send_report, start_command, start_tell_command,
service_daemon_register, service_daemon_update_status).
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import platform
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from rbdpy.rados.background import report_crash
from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.messages.base import Message, decode_message, encode_message
from rbdpy.rados.proto.messages.command import (
    MCommand,
    MCommandReply,
    MMgrCommand,
    MMgrCommandReply,
)
from rbdpy.rados.proto.messages.mgr import MgrMapHead, MMgrConfigure, MMgrOpen, MMgrReport
from rbdpy.rados.proto.msgr2.events import MessageReceived
from rbdpy.rados.proto.types import EntityType
from rbdpy.rados.tell import CONNECT_TIMEOUT, Dialer
from rbdpy.rados.transport import Connection

log = logging.getLogger(__name__)

#: Service names a client may not register as (they are Ceph's own daemon types).
RESERVED_SERVICES = frozenset({"osd", "mds", "client", "mon", "mgr"})
#: Pause between failed dials of the same active mgr.
_REDIAL_PAUSE = 0.5


@dataclass(eq=False)
class _Command:
    """A command waiting for its reply (MgrClient's CommandTable entry)."""

    tid: int
    cmd: list[str]
    inbl: bytes
    target: str | None
    done: trio.Event = field(default_factory=trio.Event)
    result: tuple[int, bytes, str] | None = None


@dataclass
class ServiceDaemon:
    """What ``service_daemon_register`` recorded, and the status to report."""

    service: str
    daemon: str
    metadata: dict[str, str]
    status: dict[str, str] = field(default_factory=dict)
    status_dirty: bool = False


def system_metadata() -> dict[str, str]:
    """A subset of what librados' collect_sys_info reports about the host."""
    uname = os.uname()
    meta = {"arch": platform.machine(), "hostname": socket.gethostname(),
            "kernel_description": uname.version, "kernel_version": uname.release,
            "os": uname.sysname}
    try:
        with open("/etc/os-release") as f:
            rel = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        meta["distro"] = rel.get("ID", "").strip('"')
        meta["distro_description"] = rel.get("PRETTY_NAME", "").strip('"')
        meta["distro_version"] = rel.get("VERSION_ID", "").strip('"')
    except OSError:
        pass
    return meta


class MgrClient:
    """The mgr side of one cluster handle.

    :param dialer: how to open an authenticated session.
    :param fsid: the cluster fsid (known once the mon session is up).
    """

    def __init__(self, dialer: Dialer, fsid: Callable[[], bytes]) -> None:
        self._dialer = dialer
        self._fsid = fsid
        self.map: MgrMapHead | None = None
        self._map_changed = trio.Event()
        self._tids = itertools.count(1)
        self._pending: dict[int, _Command] = {}
        self.conn: Connection | None = None
        self._conn_gid = 0
        self.service: ServiceDaemon | None = None
        self._report_period = 0.0
        self._report_wakeup = trio.Event()
        # Set by the first command or registration: until then no mgr session is opened
        # (most handles never talk to the mgr; librados opens one for every client).
        self._wanted = trio.Event()
        self._shutdown = False

    # -- the map -------------------------------------------------------------------------

    def handle_mgrmap(self, head: MgrMapHead) -> None:
        """A new MgrMap: remember it; drop a session with a mgr that is no longer active."""
        if self.map is not None and head.epoch <= self.map.epoch:
            return
        self.map = head
        log.debug("mgrmap e%d: active %s (gid %d, available %s)", head.epoch,
                  head.active_name or "-", head.active_gid, head.available)
        if self.conn is not None and head.active_gid != self._conn_gid:
            self._spawn_close(self.conn)  # the session loop then follows the map
        ev, self._map_changed = self._map_changed, trio.Event()
        ev.set()

    def _spawn_close(self, conn: Connection) -> None:
        nursery = self._nursery
        if nursery is not None:
            nursery.start_soon(conn.aclose)

    # -- commands ------------------------------------------------------------------------

    async def command(self, cmd: list[str], inbl: bytes, target: str | None = None
                      ) -> tuple[int, bytes, str]:
        """Run a mgr command; (r, outbl, outs), r <= 0. Waits for an active mgr."""
        if self._shutdown:
            raise CephError(errno.ESHUTDOWN, "mgrclient shut down")
        c = _Command(next(self._tids), cmd, bytes(inbl), target)
        self._pending[c.tid] = c
        self._wanted.set()
        try:
            conn = self.conn
            if conn is not None and conn.ready is not None and not conn.closed:
                await self._send_command(conn, c)
            await c.done.wait()
        finally:
            self._pending.pop(c.tid, None)
        assert c.result is not None
        return c.result

    def _message_for(self, c: _Command) -> Message | None:
        if c.target is None:
            return MMgrCommand(cmd=c.cmd, inbl=c.inbl)
        if self.map is None or self.map.active_name != c.target:
            return None  # waits until that mgr is the active one
        return MCommand(fsid=self._fsid(), cmd=c.cmd, inbl=c.inbl)

    async def _send_command(self, conn: Connection, c: _Command) -> None:
        msg = self._message_for(c)
        if msg is not None:
            msg.tid = c.tid
            await self._send(conn, msg)

    async def _send(self, conn: Connection, msg: Message) -> None:
        mtype, version, compat, front, middle, data = encode_message(msg)
        try:
            await conn.send_message(mtype, front, middle, data, tid=msg.tid,
                                    version=version, compat_version=compat)
        except CephError as e:
            log.debug("mgr send of %s failed: %s (resent on the next session)",
                      msg.type_name, e)

    # -- service daemon ------------------------------------------------------------------

    async def service_daemon_register(self, service: str, daemon: str,
                                      metadata: dict[str, str]) -> None:
        """Register as ``service.daemon`` (RadosClient::service_daemon_register's checks)."""
        if self.service is not None:
            raise CephError(errno.EEXIST, "already registered as a service daemon")
        if service in RESERVED_SERVICES or not service or not daemon:
            raise CephError(errno.EINVAL, f"invalid service daemon {service}.{daemon}")
        meta = system_metadata()
        meta.update(metadata)
        self.service = ServiceDaemon(service, daemon, meta)
        self._wanted.set()
        conn = self.conn
        if conn is not None and conn.ready is not None and not conn.closed:
            await self._send(conn, self._open_message())

    async def service_daemon_update(self, status: dict[str, str]) -> None:
        """Replace the reported status; it goes out with the next report."""
        if self.service is None:
            raise CephError(errno.EINVAL, "not registered as a service daemon")
        self.service.status = dict(status)
        self.service.status_dirty = True
        self._report_wakeup.set()

    def _open_message(self) -> MMgrOpen:
        s = self.service
        assert s is not None
        s.status_dirty = False  # MMgrOpen carries it
        return MMgrOpen(daemon_name=s.daemon, service_name=s.service, service_daemon=True,
                        daemon_metadata=dict(s.metadata), daemon_status=dict(s.status))

    def _report_message(self) -> MMgrReport:
        s = self.service
        assert s is not None
        status = None
        if s.status_dirty:
            status, s.status_dirty = dict(s.status), False
        return MMgrReport(daemon_name=s.daemon, service_name=s.service,
                          daemon_status=status)

    # -- the session loop ----------------------------------------------------------------

    _nursery: trio.Nursery | None = None

    async def run(self) -> None:
        """Follow the active mgr until shut down (a background service of the handle)."""
        await self._wanted.wait()
        while not self._shutdown:
            m = self.map
            addr = m.active_addrs.msgr2() if m is not None and m.available else None
            if m is None or addr is None:
                await self._map_changed.wait()
                continue
            conn = self._dialer.connection(addr, EntityType.MGR, f"mgr.{m.active_name}")
            try:
                with trio.fail_after(CONNECT_TIMEOUT):
                    await conn.open()
            except (OSError, CephError, trio.TooSlowError) as e:
                log.debug("connect to mgr.%s at %s failed: %s", m.active_name, addr, e)
                with trio.move_on_after(_REDIAL_PAUSE):
                    await self._map_changed.wait()
                continue
            try:
                await self._serve(conn, m)
            except Exception as e:
                report_crash("mgr session", e)
            if self.map is m and not self._shutdown:
                with trio.move_on_after(_REDIAL_PAUSE):
                    await self._map_changed.wait()

    async def _serve(self, conn: Connection, m: MgrMapHead) -> None:
        self.conn, self._conn_gid = conn, m.active_gid
        log.debug("mgr session to mgr.%s established", m.active_name)
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                if self.service is not None:
                    await self._send(conn, self._open_message())
                for c in sorted(self._pending.values(), key=lambda c: c.tid):
                    await self._send_command(conn, c)
                nursery.start_soon(self._report_loop, conn)
                await conn.run(self._dispatch)
                nursery.cancel_scope.cancel()
        finally:
            self._nursery = None
            self.conn = None
            self._report_period = 0.0
            await conn.aclose()

    async def _report_loop(self, conn: Connection) -> None:
        """Send MMgrReport every configured period (and at once after a status change)."""
        while not conn.closed:
            if self.service is None or self._report_period <= 0:
                await self._report_wakeup.wait()
                self._report_wakeup = trio.Event()
                continue
            await self._send(conn, self._report_message())
            with trio.move_on_after(self._report_period):
                await self._report_wakeup.wait()
            self._report_wakeup = trio.Event()

    def _dispatch(self, conn: Connection, ev: MessageReceived) -> None:
        msg = decode_message(ev.type, ev.version, ev.compat_version, ev.front, ev.middle,
                             ev.data, tid=ev.tid)
        if isinstance(msg, (MMgrCommandReply, MCommandReply)):
            c = self._pending.get(ev.tid)
            if c is None:
                log.debug("mgr reply for unknown tid %d dropped", ev.tid)
                return
            c.result = (msg.r, bytes(msg.outbl), msg.rs)
            c.done.set()
        elif isinstance(msg, MMgrConfigure):
            log.debug("mgr configure: report every %d s", msg.stats_period)
            self._report_period = float(msg.stats_period)
            self._report_wakeup.set()
        else:
            log.debug("mgr: ignoring %s", msg.type_name)

    def shutdown(self) -> None:
        self._shutdown = True
        for c in self._pending.values():
            c.result = (-errno.ESHUTDOWN, b"", "mgrclient shut down")
            c.done.set()
        self._map_changed.set()
        self._wanted.set()
