"""AsyncRados: the cluster handle of the public async API (and of the sync facade).

Theory of operation: an ``AsyncRados`` goes through python-rados' states —
"configuring" → "connecting" → "connected" → "shutdown". While configuring it only holds a
:class:`~rbdpy.rados.proto.conf.Config`. ``connect()`` finds the key, builds the cephx
client and the MonClient, and runs every background task of the handle (the MonClient
session loop, the Objecter's OSD sessions, watches) in the nursery of its
:class:`~rbdpy.rados.background.BackgroundTasks` (``handle.background``); ``shutdown()``
cancels them. Under ``async with open_rados(...)`` that nursery lives in the caller's task;
a bare ``connect()`` (python-rados' model: a handle may be connected from any task and
outlive it, as librados handles do) hosts it in a trio system task. A crash of one
background task resets only its session and is logged once (see background.py); the
handle stays connected until ``shutdown()``.

I/O contexts live one layer up (ioctx.py imports this module, never the reverse):
``open_ioctx`` makes them through the factory ioctx.py registers in session.py.

Errors: internals raise :class:`CephError`; every public method here translates at its
edge with :func:`rbdpy.rados.exceptions.make_ex` (the one translation point), using the
message texts of python-rados.

Mirrors: ceph src/librados/RadosClient.cc (connect, pool ops, mon_command, wait_for_osdmap),
src/pybind/rados/rados.pyx (states, messages).
"""

from __future__ import annotations

import dataclasses
import errno
import inspect
import ipaddress
import itertools
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import trio

from rbdpy.rados import exceptions as rx
from rbdpy.rados.background import BackgroundTasks
from rbdpy.rados.config import find_key, new_config, parse_env, read_conf_file
from rbdpy.rados.mgrclient import MgrClient
from rbdpy.rados.monclient import HuntPolicy, MonClient
from rbdpy.rados.objecter import Objecter
from rbdpy.rados.proto.auth.cephx import CephxClient, NoneAuthHandler
from rbdpy.rados.proto.auth.handler import ConMode
from rbdpy.rados.proto.conf import Config
from rbdpy.rados.proto.errors import AuthError, CephError
from rbdpy.rados.proto.messages.base import Message
from rbdpy.rados.proto.messages.command import MCommand, MCommandReply, MPing
from rbdpy.rados.proto.messages.log import LOG_SUBSCRIPTIONS, LogEntry, MLog
from rbdpy.rados.proto.messages.mgr import MMgrMap
from rbdpy.rados.proto.messages.mon import MOSDMap, MPoolOp, PoolOp
from rbdpy.rados.proto.osdmap import Incremental, OSDMap
from rbdpy.rados.proto.types import EntityAddr, EntityName, EntityType
from rbdpy.rados.session import ioctx_factory
from rbdpy.rados.tell import (
    MON_DIRECTED_ATTEMPTS,
    CommandFailed,
    Dialer,
    exchange,
    mon_address,
    osd_address,
    parse_pgid,
    pg_primary,
    ping,
    retrying,
)

log = logging.getLogger(__name__)

# Process-wide counters, as librados keeps them per process (global_seq must grow across
# every connection this process makes; $cctid numbers client contexts).
_global_seq = itertools.count(1)
_cctid = itertools.count(1)


def parse_con_modes(text: str) -> list[ConMode]:
    """``ms_client_mode``-style text ("crc secure", "secure", "crc,secure") → modes."""
    out: list[ConMode] = []
    for word in text.replace(",", " ").replace(";", " ").split():
        mode = {"crc": ConMode.CRC, "secure": ConMode.SECURE}.get(word.lower())
        if mode is None:
            raise CephError(errno.EINVAL, f"unknown connection mode {word!r}")
        if mode not in out:
            out.append(mode)
    if not out:
        raise CephError(errno.EINVAL, "no connection mode configured")
    return out


@contextmanager
def translate(msg: str) -> Iterator[None]:
    """Turn internal errors into python-rados exceptions (the public edge)."""
    try:
        yield
    except CephError as e:
        # python-rados' message is exactly the call's text; the detail goes to the log.
        log.debug("%s: %s", msg, e)
        raise rx.make_ex(e.errno, msg or e.message) from None
    except trio.TooSlowError:
        raise rx.make_ex(errno.ETIMEDOUT, msg or "timed out") from None


async def _resolve(addr: EntityAddr) -> list[EntityAddr]:
    """mon_host may name hosts; msgr2 needs IP addresses (every A/AAAA record is a mon)."""
    try:
        ipaddress.ip_address(addr.host)
        return [addr]
    except ValueError:
        pass
    try:
        infos = await trio.socket.getaddrinfo(addr.host, addr.port,
                                              type=trio.socket.SOCK_STREAM)
    except OSError as e:
        log.debug("cannot resolve mon host %s: %s", addr.host, e)
        return []
    out = []
    for info in infos:
        ip = str(info[4][0])
        a = dataclasses.replace(addr, host=ip)
        if a not in out:
            out.append(a)
    return out


class AsyncRados:
    """A cluster handle; the async twin of ``rados.Rados`` (same names and parameters)."""

    NO_CONF_FILE = -1
    DEFAULT_CONF_FILES = -2

    def __init__(self, rados_id: str | None = None, name: str | None = None,
                 clustername: str | None = None, conf_defaults: Mapping[str, str] | None = None,
                 conffile: str | int | None = -1, conf: Mapping[str, str] | None = None,
                 flags: int = 0, context: object = None) -> None:
        if rados_id is not None and name is not None:
            raise rx.InvalidArgumentError("Rados(): can't supply both rados_id and name")
        if rados_id is not None:
            entity = f"client.{rados_id}"
        elif name is not None:
            entity = name
        else:
            entity = "client.admin"
        try:
            EntityName.parse(entity)
        except ValueError as e:
            raise rx.InvalidArgumentError(f"error calling rados_create2: {e}") from None
        self.config: Config = new_config(entity, cluster=clustername or "")
        self.config.cctid = next(_cctid)
        self.state = "configuring"
        self._conf_file_read = False
        self.monc: MonClient | None = None
        self.cephx: CephxClient | None = None
        self.osdmap: OSDMap | None = None
        self.objecter: Objecter | None = None
        self.mgrc: MgrClient | None = None
        self._dialer: Dialer | None = None
        self._tell_tids = itertools.count(1)
        # monitor_log: the subscription, its callback and the last log version delivered
        self._log_watch = ""
        self._log_callback: Callable[[LogEntry], Any] | None = None
        self._log_last_version = 0
        self._log_queue: trio.MemorySendChannel[tuple[Any, LogEntry]] | None = None
        self._osdmap_changed = trio.Event()
        #: The owner of every background task of this handle (see background.py).
        self.background = BackgroundTasks(f"rados {entity}")
        with translate("error calling conf_parse_env"):
            parse_env(self.config)
        for k, v in (conf_defaults or {}).items():
            self.conf_set(k, v)
        # python-rados: NO_CONF_FILE (-1, the default) reads nothing; DEFAULT_CONF_FILES
        # (-2) or "" searches the default path; a string names the file(s).
        if conffile in (self.DEFAULT_CONF_FILES, ""):
            self.conf_read_file(None)
        elif isinstance(conffile, str):
            self.conf_read_file(conffile)
        for k, v in (conf or {}).items():
            self.conf_set(k, v)

    # -- configuration (local, synchronous) ----------------------------------------------

    def require_state(self, *args: str) -> None:
        if self.state not in args:
            raise rx.RadosStateError(
                f"You cannot perform that operation on a Rados object in state "
                f"{self.state}.")

    def conf_read_file(self, path: str | None = None) -> None:
        """``rados_conf_read_file``, with librados 16.2's observable rules: once connected
        the configuration files cannot be re-read (ENOSYS), and after one file was read a
        list with no existing file changes nothing and is not an error."""
        self.require_state("configuring", "connected")
        with translate("error calling conf_read_file"):
            if self.state == "connected":
                raise CephError(errno.ENOSYS, "conf files are read before connect")
            try:
                read_conf_file(self.config, path)
            except CephError as e:
                if e.errno != errno.ENOENT or not self._conf_file_read:
                    raise
                return
            self._conf_file_read = True

    def conf_parse_argv(self, args: Sequence[str]) -> list[str]:
        self.require_state("configuring", "connected")
        with translate("error calling conf_parse_argv_remainder"):
            return self.config.parse_argv(list(args), early_args=False)

    def conf_parse_env(self, var: str = "CEPH_ARGS") -> None:
        self.require_state("configuring", "connected")
        with translate("error calling conf_parse_env"):
            parse_env(self.config, var)

    def conf_get(self, option: str) -> str | None:
        self.require_state("configuring", "connected")
        try:
            return self.config.get(option)
        except CephError as e:
            if e.errno == errno.ENOENT:
                return None
            raise rx.make_ex(e.errno, "error calling conf_get") from None

    def conf_set(self, option: str, val: str) -> None:
        self.require_state("configuring", "connected")
        with translate("error calling conf_set"):
            self.config.set(option, str(val))

    # -- connection ----------------------------------------------------------------------

    async def connect(self, timeout: float = 0) -> None:
        """Authenticate with a monitor and fetch the first OSD map.

        :param timeout: seconds; 0 means ``client_mount_timeout`` (as librados).
        :raises PermissionDeniedError: wrong key or unknown entity (at once).
        :raises TimedOut: no monitor answered in time.
        """
        self.require_state("configuring")
        self.state = "connecting"
        try:
            with translate("error connecting to the cluster"):
                await self._connect(timeout)
        except BaseException:
            await self._stop_background()
            self.state = "configuring"
            raise
        self.state = "connected"

    @property
    def _nursery(self) -> BackgroundTasks:
        """Compatibility alias of :attr:`background` for librbd's
        ``rados._nursery.start_soon(fn)``; new code calls ``background.start_soon``."""
        return self.background

    async def _connect(self, timeout: float) -> None:
        cfg = self.config
        if timeout <= 0:
            timeout = float(cfg.get("client_mount_timeout"))
        mon_addrs = []
        for av in cfg.mon_addrs():
            a = av.msgr2()
            if a is not None:
                mon_addrs.extend(await _resolve(a))
        if not mon_addrs:
            raise CephError(errno.EINVAL, "no msgr2 monitor address in mon_host")
        auth_required = cfg.get("auth_client_required")
        if "cephx" in auth_required:
            try:
                key = find_key(cfg)
            except CephError as e:
                if e.errno == errno.ENOENT and "none" in auth_required:
                    key = ""
                else:
                    raise CephError(errno.ENOENT, f"no keyring found for {cfg.name}") from e
            self.cephx = CephxClient(cfg.name, key) if key else None
        if self.cephx is None and "none" not in auth_required:
            raise CephError(errno.EACCES, f"no usable auth method in {auth_required!r}")
        name = cfg.name
        background = await self._start_background()
        self.monc = MonClient(
            mon_addrs, auth=self.cephx,
            auth_none=(lambda: NoneAuthHandler(name)) if self.cephx is None else None,
            con_modes=parse_con_modes(cfg.get("ms_mon_client_mode")),
            on_osdmap=self._handle_osdmap, on_message=self._handle_message,
            global_seq=lambda: next(_global_seq),
            hunt=HuntPolicy(
                parallel=int(cfg.get("mon_client_hunt_parallel")),
                interval=float(cfg.get("mon_client_hunt_interval")),
                backoff=float(cfg.get("mon_client_hunt_interval_backoff")),
                min_multiple=float(cfg.get("mon_client_hunt_interval_min_multiple")),
                max_multiple=float(cfg.get("mon_client_hunt_interval_max_multiple"))))
        self.objecter = Objecter(
            get_osdmap=lambda: self.osdmap, cephx=self.cephx,
            auth_none=(lambda: NoneAuthHandler(name)) if self.cephx is None else None,
            global_id=lambda: self.monc.global_id if self.monc else 0,
            con_modes=parse_con_modes(cfg.get("ms_client_mode")),
            global_seq=lambda: next(_global_seq),
            op_timeout=float(cfg.get("rados_osd_op_timeout")),
            background=background)
        self._dialer = Dialer(
            cephx=self.cephx,
            auth_none=(lambda: NoneAuthHandler(name)) if self.cephx is None else None,
            con_modes=parse_con_modes(cfg.get("ms_client_mode")),
            mon_con_modes=parse_con_modes(cfg.get("ms_mon_client_mode")),
            global_seq=lambda: next(_global_seq),
            global_id=lambda: self.monc.global_id if self.monc else 0)
        monc = self.monc
        self.mgrc = MgrClient(self._dialer, fsid=lambda: monc.fsid)
        background.start_service(self.monc.run, name="mon session")
        background.start_service(self.mgrc.run, name="mgr session")
        with trio.fail_after(timeout):
            await self.monc.wait_ready()
            self.monc.sub_want("osdmap", 0)
            self.monc.sub_want("mgrmap", 0)  # as librados' MgrClient::init
            await self._wait_osdmap(lambda m: True)

    async def _start_background(self) -> BackgroundTasks:
        """The running background tasks: the caller's (``open_rados``), else a system task.

        A bare ``connect()`` has no caller nursery that outlives it, so the nursery is hosted
        by a trio system task; every task in it is guarded (background.py), so nothing
        escapes into trio's system nursery.
        """
        bg = self.background
        if bg.running:
            return bg
        if bg.closed:  # a connect() that failed earlier closed it
            bg = self.background = BackgroundTasks(bg.owner)
        trio.lowlevel.spawn_system_task(bg.run, name=bg.owner)
        await bg.wait_running()
        return bg

    async def _stop_background(self) -> None:
        if self.monc is not None:
            self.monc.shutdown()
        if self.mgrc is not None:
            self.mgrc.shutdown()
        if self._log_queue is not None:
            self._log_queue.close()
        if self.objecter is not None:
            self.objecter.shutdown()
        self.background.close()
        await self.background.wait_closed()

    async def shutdown(self) -> None:
        """Close every connection; the handle cannot be used afterwards."""
        if self.state == "shutdown":
            return
        await self._stop_background()
        self.state = "shutdown"

    async def __aenter__(self) -> AsyncRados:
        if self.state == "configuring":
            await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    # -- OSD maps ------------------------------------------------------------------------

    def _handle_osdmap(self, msg: MOSDMap) -> None:
        """Apply an MOSDMap: incrementals in order when they follow our epoch, else the
        newest full map (kernel handle_one_map / ceph Objecter::handle_osd_map)."""
        cur = self.osdmap
        changed = False
        epochs = sorted(set(msg.incremental_maps) | set(msg.maps))
        for e in epochs:
            if cur is not None and e <= cur.epoch:
                continue
            if cur is not None and e == cur.epoch + 1 and e in msg.incremental_maps:
                inc = Incremental.from_bytes(msg.incremental_maps[e])
                cur = cur.apply_incremental(inc)
                changed = True
            elif e in msg.maps:
                cur = OSDMap.from_bytes(msg.maps[e])
                changed = True
            else:
                log.debug("osdmap gap before epoch %d (have %s); asking for a full map", e,
                          cur.epoch if cur else None)
                break
        if changed and cur is not None:
            self.osdmap = cur
            log.debug("osdmap now at epoch %d", cur.epoch)
            if self.monc is not None:
                self.monc.sub_want("osdmap", cur.epoch + 1)
            if self.objecter is not None:
                self.objecter.handle_osdmap(cur)
            self._osdmap_changed.set()
            self._osdmap_changed = trio.Event()
        elif cur is None or (msg.newest_map and cur.epoch < msg.newest_map):
            if self.monc is not None:
                # Re-subscribe from scratch so the mon sends a full map.
                self.monc.sub_want("osdmap", 0)

    async def _wait_osdmap(self, cond: Callable[[OSDMap], bool]) -> OSDMap:
        while self.osdmap is None or not cond(self.osdmap):
            await self._osdmap_changed.wait()
        return self.osdmap

    async def wait_for_latest_osdmap(self) -> int:
        """Wait until this handle has the newest OSD map the monitors know."""
        self.require_state("connected")
        with translate("error waiting for latest OSDMap"):
            assert self.monc is not None
            newest, _ = await self.monc.get_version("osdmap")
            await self._wait_osdmap(lambda m: m.epoch >= newest)
        return 0

    def _map(self) -> OSDMap:
        self.require_state("connected")
        assert self.osdmap is not None
        return self.osdmap

    # -- identity ------------------------------------------------------------------------

    def get_fsid(self) -> str:
        self.require_state("connected")
        assert self.monc is not None
        f = self.monc.fsid.hex()
        return f"{f[:8]}-{f[8:12]}-{f[12:16]}-{f[16:20]}-{f[20:]}"

    def get_instance_id(self) -> int:
        self.require_state("connected")
        assert self.monc is not None
        return self.monc.global_id

    def get_addrs(self) -> str:
        self.require_state("connected")
        assert self.monc is not None
        conn = self.monc.conn
        if conn is None or conn.ready is None:
            return "[]"
        a = conn.ready.my_addr
        # librados prints its messenger's address vector: one address of type "any",
        # shown bare ("127.0.0.1:0/1957497019").
        return f"{a.host}:0/{a.nonce}" if a.host else "[]"

    # -- commands (mon, targeted mon, osd, pg, mgr) --------------------------------------
    #
    # Every command returns (ret, outbuf, outs) as librados does: a failure is a negative
    # errno in ret, never an exception. Timeouts follow librados: rados_mon_op_timeout for
    # mon and mgr commands, rados_osd_op_timeout for osd and pg commands (0: wait
    # forever); ``timeout`` > 0 bounds the call further (python-rados ignores it; rbdpy's
    # facade passes 0).

    def _conf_secs(self, option: str) -> float:
        return float(self.config.get(option) or 0)

    @staticmethod
    def _deadline(*timeouts: float) -> float:
        live = [t for t in timeouts if t > 0]
        return trio.current_time() + min(live) if live else math.inf

    async def mon_command(self, cmd: str, inbuf: bytes, timeout: int = 0,
                          target: str | int | None = None) -> tuple[int, bytes, str]:
        """Send a command to the monitors, or to one (``target``: a name, or a rank).

        Without a target the command goes over the handle's mon session (MMonCommand);
        with one, over an anonymous session with that monitor (MCommand), as librados'
        rados_mon_command_target: a target of digits only is a rank.
        """
        self.require_state("connected")
        assert self.monc is not None
        deadline = self._deadline(timeout, self._conf_secs("rados_mon_op_timeout"))
        try:
            with trio.fail_at(deadline):
                if target is not None and str(target) != "":
                    return await self._mon_tell(str(target), cmd, bytes(inbuf))
                return await self.monc.command([cmd], bytes(inbuf))
        except trio.TooSlowError:
            return -errno.ETIMEDOUT, b"", "timed out"
        except CommandFailed as e:
            return -e.errno, b"", e.outs
        except CephError as e:
            # librados reports a failed command in its return code, never by raising.
            return -e.errno, b"", e.message

    async def _mon_tell(self, target: str, cmd: str, inbuf: bytes) -> tuple[int, bytes, str]:
        assert self.monc is not None and self._dialer is not None
        monmap = self.monc.monmap
        assert monmap is not None  # the session is up, so the monmap is known
        name, addr = mon_address(monmap, target)
        dialer = self._dialer
        interval = self._conf_secs("mon_client_hunt_interval") or 3.0
        for _ in range(MON_DIRECTED_ATTEMPTS):
            request = MCommand(fsid=self.monc.fsid, cmd=[cmd], inbl=inbuf)
            request.tid = next(self._tell_tids)
            # An attempt that gets no answer within the hunt interval is sent again on a
            # new session (MonClient::_check_tell_commands).
            with trio.move_on_after(interval):
                try:
                    reply = await exchange(
                        dialer.connection(addr, EntityType.MON, f"mon.{name}"), request)
                    return reply.r, bytes(reply.outbl), reply.rs
                except AuthError:
                    raise
                except (OSError, CephError) as e:
                    log.debug("command to mon.%s failed: %s", name, e)
                    await trio.sleep(interval)  # as librados: the next try after a pause
        raise CommandFailed(errno.ENXIO, "mon unavailable")

    async def osd_command(self, osdid: int, cmd: str, inbuf: bytes, timeout: int = 0
                          ) -> tuple[int, bytes, str]:
        """Send a command to OSD ``osdid`` (MCommand over a session with that OSD)."""
        self.require_state("connected")
        if osdid < 0:
            return -errno.EINVAL, b"", ""
        return await self._osd_tell(lambda m: osdid, cmd, bytes(inbuf), timeout)

    async def pg_command(self, pgid: str, cmd: str, inbuf: bytes, timeout: int = 0
                         ) -> tuple[int, bytes, str]:
        """Send a command to the acting primary of pg ``pgid`` ("1.0")."""
        self.require_state("connected")
        try:
            pool, seed = parse_pgid(pgid)
        except CephError:
            return -errno.EINVAL, b"", ""
        return await self._osd_tell(lambda m: pg_primary(m, pool, seed), cmd,
                                    bytes(inbuf), timeout)

    async def _osd_tell(self, pick: Callable[[OSDMap], int], cmd: str, inbuf: bytes,
                        timeout: float) -> tuple[int, bytes, str]:
        assert self.monc is not None and self._dialer is not None
        dialer = self._dialer
        fsid = self.monc.fsid

        async def attempt() -> MCommandReply:
            osdmap = self._map()
            try:
                osd = pick(osdmap)
                addr = osd_address(osdmap, osd)
            except CommandFailed:
                # Objecter checks against the newest map before failing the command.
                await self.wait_for_latest_osdmap()
                osdmap = self._map()
                osd = pick(osdmap)
                addr = osd_address(osdmap, osd)
            request = MCommand(fsid=fsid, cmd=[cmd], inbl=inbuf)
            request.tid = next(self._tell_tids)
            return await exchange(
                dialer.connection(addr, EntityType.OSD, f"osd.{osd}"), request)

        deadline = self._deadline(timeout, self._conf_secs("rados_osd_op_timeout"))
        try:
            with trio.fail_at(deadline):
                reply = await retrying(attempt, "osd command")
        except trio.TooSlowError:
            return -errno.ETIMEDOUT, b"", "timed out"
        except CommandFailed as e:
            return -e.errno, b"", e.outs
        except CephError as e:
            return -e.errno, b"", e.message
        return reply.r, bytes(reply.outbl), reply.rs

    async def mgr_command(self, cmd: str, inbuf: bytes, timeout: int = 0,
                          target: str | None = None) -> tuple[int, bytes, str]:
        """Send a command to the active mgr (or to the mgr named ``target`` once it is
        the active one). Waits for an active mgr; after ``rados_mon_op_timeout`` the
        result is librados' (ETIMEDOUT as a *positive* code, b"", "")."""
        self.require_state("connected")
        assert self.mgrc is not None
        conf_timeout = self._conf_secs("rados_mon_op_timeout")
        with trio.move_on_at(self._deadline(timeout, conf_timeout)):
            try:
                return await self.mgrc.command([cmd], bytes(inbuf), target)
            except CephError as e:
                return -e.errno, b"", e.message
        # RadosClient::mgr_command returns C_SaferCond::wait_for's ETIMEDOUT unnegated.
        return errno.ETIMEDOUT, b"", ""

    async def ping_monitor(self, mon_id: str) -> str:
        """Ask monitor ``mon_id`` (its name in the monmap) for its health and mon_status,
        over a session of its own (MPing); returns the monitor's JSON text.

        As MonClient::ping_monitor: "noname-<id>" is tried first (the names mon_host
        monitors get before the real monmap arrives); no "mon." prefix is stripped.

        :raises InvalidArgumentError: an empty id.
        :raises ObjectNotFound: no such monitor in the monmap.
        :raises TimedOut: no answer within ``mon_client_ping_timeout`` (a monitor down).
        """
        self.require_state("connected")
        assert self.monc is not None and self._dialer is not None
        with translate("error calling ping_monitor"):
            monmap = self.monc.monmap
            if not mon_id:
                raise CephError(errno.EINVAL, "empty monitor id")
            name = f"noname-{mon_id}"
            if monmap is None or name not in monmap.mon_info:
                name = mon_id
            if monmap is None or name not in monmap.mon_info:
                raise CephError(errno.ENOENT, f"no monitor {name!r}")
            addr = monmap.mon_info[name].public_addrs.msgr2()
            if addr is None:
                raise CephError(errno.ENOENT, f"monitor {name!r} has no msgr2 address")
            # A monitor that is down is dialled again until mon_client_ping_timeout, then
            # the ping times out (MonClientPinger waits that long for its answer).
            dialer = self._dialer
            with trio.move_on_after(self._conf_secs("mon_client_ping_timeout") or 30.0):
                pause = 0.1
                while True:
                    try:
                        reply = await ping(
                            dialer.connection(addr, EntityType.MON, f"mon.{name}"), MPing())
                        return reply.text()
                    except AuthError:
                        raise
                    except (OSError, CephError) as e:
                        log.debug("ping of mon.%s failed: %s", name, e)
                    await trio.sleep(pause)
                    pause = min(pause * 2, 1.0)
            raise CephError(errno.ETIMEDOUT, f"mon.{name} did not answer the ping")

    # -- the cluster log ---------------------------------------------------------------

    async def monitor_log(self, level: str, callback: Callable[[LogEntry], Any] | None
                          ) -> None:
        """Deliver cluster log entries at ``level`` or above to ``callback`` (one at a
        time, in order, awaited if it is a coroutine function); None stops.

        ``level`` is one of debug, info, warn/warning, err/error, sec (EINVAL otherwise).
        Entries the monitor sends again on a resubscription are delivered once.
        """
        self.require_state("connected")
        assert self.monc is not None
        if callback is None:
            if self._log_watch:
                self.monc.sub_unwant(self._log_watch)
            self._log_watch, self._log_callback = "", None
            return
        watch = LOG_SUBSCRIPTIONS.get(level)
        if watch is None:
            raise rx.make_ex(errno.EINVAL, "error calling rados_monitor_log")
        if self._log_queue is None:
            send, receive = trio.open_memory_channel[tuple[Any, LogEntry]](math.inf)
            self._log_queue = send
            self.background.start_soon(self._deliver_log, receive, name="cluster log")
        if self._log_watch:
            self.monc.sub_unwant(self._log_watch)
        self._log_watch, self._log_callback = watch, callback
        self.monc.sub_want(watch, 0)

    async def _deliver_log(self, receive: trio.MemoryReceiveChannel[tuple[Any, LogEntry]]
                           ) -> None:
        async for callback, entry in receive:
            try:
                result = callback(entry)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("monitor_log callback failed")

    def _handle_log(self, msg: MLog) -> None:
        # RadosClient::handle_log: a version at or below the last delivered is a resend.
        if msg.paxos.version <= self._log_last_version:
            return
        self._log_last_version = msg.paxos.version
        callback, queue = self._log_callback, self._log_queue
        if callback is not None and queue is not None:
            for entry in msg.entries:
                queue.send_nowait((callback, entry))
        if self._log_watch and self.monc is not None:
            self.monc.sub_got(self._log_watch, msg.paxos.version)

    def _handle_message(self, msg: Message) -> None:
        """Subscribed messages other than maps the MonClient handles itself."""
        if isinstance(msg, MMgrMap):
            if self.mgrc is not None:
                self.mgrc.handle_mgrmap(msg.map)
        elif isinstance(msg, MLog):
            self._handle_log(msg)
        else:
            log.debug("mon session: ignoring %s", msg.type_name)

    # -- service daemons ---------------------------------------------------------------

    async def service_daemon_register(self, service: str, daemon: str,
                                      metadata: Mapping[str, str]) -> None:
        """Appear in the mgr's service map as ``service.daemon`` with ``metadata``."""
        self.require_state("connected")
        assert self.mgrc is not None
        with translate("error calling service_register()"):
            await self.mgrc.service_daemon_register(service, daemon, dict(metadata))

    async def service_daemon_update(self, status: Mapping[str, str]) -> None:
        """Replace this service daemon's status in the service map."""
        self.require_state("connected")
        assert self.mgrc is not None
        with translate("error calling service_daemon_update()"):
            await self.mgrc.service_daemon_update(dict(status))

    async def _mon_json(self, cmd: dict[str, Any]) -> Any:
        assert self.monc is not None
        r, out, outs = await self.monc.command([json.dumps(cmd)])
        if r < 0:
            raise CephError(-r, outs)
        return json.loads(out) if out else None

    async def blocklist_add(self, client_address: str, expire_seconds: int = 0) -> None:
        self.require_state("connected")
        cmd: dict[str, Any] = {"prefix": "osd blocklist", "blocklistop": "add",
                               "addr": client_address}
        if expire_seconds:
            cmd["expire"] = float(expire_seconds)
        with translate(f"error blocklisting client '{client_address}'"):
            await self._mon_json(cmd)

    # -- pools ---------------------------------------------------------------------------

    async def list_pools(self) -> list[str]:
        m = self._map()
        return [m.pool_name[pid] for pid in sorted(m.pools) if pid in m.pool_name]

    async def pool_exists(self, pool_name: str) -> bool:
        return self._pool_id(pool_name) is not None

    def _pool_id(self, pool_name: str) -> int | None:
        for pid, name in self._map().pool_name.items():
            if name == pool_name:
                return pid
        return None

    async def pool_lookup(self, pool_name: str) -> int | None:
        self.require_state("connected")
        return self._pool_id(pool_name)

    async def pool_reverse_lookup(self, pool_id: int) -> str | None:
        return self._map().pool_name.get(pool_id)

    async def get_pool_base_tier(self, pool_id: int) -> int:
        m = self._map()
        pool = m.pools.get(pool_id)
        if pool is None:
            raise rx.make_ex(errno.ENOENT, f"get_pool_base_tier({pool_id})")
        return pool.tier_of if pool.tier_of >= 0 else pool_id

    async def pool_op(self, op: int, pool: int = 0, name: str = "", snapid: int = 0,
                       crush_rule: int = 0) -> int:
        """Send an MPoolOp and wait until our map has the epoch it was applied in."""
        assert self.monc is not None
        reply = await self.monc.pool_op(MPoolOp(pool=pool, op=op, name=name, snapid=snapid,
                                                crush_rule=crush_rule))
        if reply.replyCode < 0:
            raise CephError(-reply.replyCode, f"pool op {op:#x} failed")
        await self._wait_osdmap(lambda m: m.epoch >= reply.epoch)
        return reply.snapid() if op == PoolOp.CREATE_UNMANAGED_SNAP else 0

    async def create_pool(self, pool_name: str, crush_rule: int | None = None,
                          auid: int | None = None) -> None:
        self.require_state("connected")
        with translate(f"error creating pool '{pool_name}'"):
            # The mon answers success for an existing name; librados' Objecter checks first.
            if self._pool_id(pool_name) is not None:
                raise CephError(errno.EEXIST, "pool already exists")
            await self._pool_op(PoolOp.CREATE, name=pool_name,
                                crush_rule=-1 if crush_rule is None else crush_rule)

    async def delete_pool(self, pool_name: str) -> None:
        self.require_state("connected")
        with translate(f"error deleting pool '{pool_name}'"):
            pid = self._pool_id(pool_name)
            if pid is None:
                raise CephError(errno.ENOENT, "pool does not exist")
            # The name must not be the pool's: the mon's preprocess_pool_op answers a
            # DELETE naming an existing pool with success and does nothing; librados sends
            # the literal name "delete" (Objecter::_do_delete_pool).
            await self._pool_op(PoolOp.DELETE, pool=pid, name="delete")

    def require_objecter(self) -> Objecter:
        """The Objecter (RadosSession); CephError(ENOTCONN) unless connected."""
        if self.state != "connected" or self.objecter is None:
            raise CephError(errno.ENOTCONN, "cluster handle is not connected")
        return self.objecter

    # Older internal names, still used by librbd.
    _objecter = require_objecter
    _pool_op = pool_op

    # The ioctx class lives in ioctx.py, one layer up, and registers its factory in
    # session.py; these two return what it makes (rbdpy.rados.ioctx.AsyncIoctx).
    async def open_ioctx(self, ioctx_name: str) -> Any:
        """An I/O context (``AsyncIoctx``) for the pool named ``ioctx_name``."""
        self.require_state("connected")
        pid = self._pool_id(ioctx_name)
        if pid is None:
            raise rx.make_ex(errno.ENOENT, f"error opening pool '{ioctx_name}'")
        return ioctx_factory()(self, pid, ioctx_name)

    async def open_ioctx2(self, pool_id: int) -> Any:
        """An I/O context (``AsyncIoctx``) for the pool with id ``pool_id``."""
        self.require_state("connected")
        name = self._map().pool_name.get(pool_id)
        if name is None:
            raise rx.make_ex(errno.ENOENT, f"error opening pool id '{pool_id}'")
        return ioctx_factory()(self, pool_id, name)

    async def get_cluster_stats(self) -> dict[str, int]:
        self.require_state("connected")
        assert self.monc is not None
        with translate("Rados.get_cluster_stats"):
            r = await self.monc.statfs()
        return {"kb": r.kb, "kb_used": r.kb_used, "kb_avail": r.kb_avail,
                "num_objects": r.num_objects}


@asynccontextmanager
async def open_rados(*args: Any, timeout: float = 0, **kwargs: Any
                     ) -> AsyncIterator[AsyncRados]:
    """A connected :class:`AsyncRados` whose background tasks run in the caller's task.

    ``async with open_rados(conffile=...) as cluster:`` takes ``Rados``' arguments; the
    handle is shut down, and every background task has ended, when the block exits.
    """
    rados = AsyncRados(*args, **kwargs)
    async with trio.open_nursery() as nursery:
        await nursery.start(rados.background.run)
        try:
            await rados.connect(timeout)
            yield rados
        finally:
            await rados.shutdown()
