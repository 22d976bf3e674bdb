"""A throwaway local Ceph cluster built from the distribution's Ceph daemons.

Theory of operation: everything a cluster needs lives under one directory DIR — ceph.conf,
the keyring, mon and OSD data, pid files, admin sockets and logs — and every daemon binds
only 127.0.0.1 on ports picked free at start (mons bind msgr2 and msgr1; OSDs pick their own
free ports). ``DIR/devcluster.json`` records what was started (fsid, mon names and ports, OSD
ids and uuids, objectstore) so that ``stop``, ``status``, ``kill`` and ``restart`` work from
any later process. The monitor is tuned for a throwaway cluster: a short paxos propose
interval makes pool create/delete take a fraction of a second.

OSD data: ``memstore`` (fast, but a restarted memstore OSD comes back empty) or ``bluestore``
on a sparse file (persists across restarts; what fault tests need).

In the spirit of Ceph's src/vstart.sh, for installed packages instead of a build tree.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

#: Debian package names that provide each binary devcluster needs.
REQUIRED_BINARIES = {
    "ceph-mon": "ceph-mon",
    "ceph-osd": "ceph-osd",
    "ceph": "ceph-common",
    "ceph-authtool": "ceph-common",
    "monmaptool": "ceph-base",
}
OPTIONAL_BINARIES = {"ceph-mgr": "ceph-mgr"}

STATE_FILE = "devcluster.json"
MON_NAMES = "abcdefghij"


class DevClusterError(RuntimeError):
    """A devcluster operation failed; the message says what to do."""


@dataclass
class DaemonSpec:
    """One daemon of the cluster as recorded in the state file."""

    name: str  # "mon.a", "osd.0", "mgr.x"
    v2_port: int = 0
    v1_port: int = 0
    uuid: str = ""


@dataclass
class ClusterState:
    """What ``start`` created; persisted as DIR/devcluster.json."""

    fsid: str
    ceph_version: str
    objectstore: str
    daemons: list[DaemonSpec] = field(default_factory=list)

    def names(self, prefix: str = "") -> list[str]:
        return [d.name for d in self.daemons if d.name.startswith(prefix)]

    def get(self, name: str) -> DaemonSpec:
        for d in self.daemons:
            if d.name == name:
                return d
        raise DevClusterError(
            f"no daemon named {name!r} in this cluster (have: {', '.join(self.names())})")


def missing_packages() -> list[str]:
    """Debian packages whose binaries are not on PATH (empty when all are present)."""
    return sorted({pkg for binary, pkg in REQUIRED_BINARIES.items()
                   if shutil.which(binary) is None})


def ceph_version() -> tuple[str, tuple[int, int, int]]:
    """The installed Ceph version string and (major, minor, patch), from ``ceph-mon``."""
    out = subprocess.run(["ceph-mon", "--version"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"ceph version (\d+)\.(\d+)\.(\d+)\S*", out)
    if not m:
        raise DevClusterError(f"cannot parse ceph-mon --version output: {out.strip()!r}")
    return m.group(0), (int(m.group(1)), int(m.group(2)), int(m.group(3)))


def _require_ceph() -> None:
    missing = missing_packages()
    if missing:
        raise DevClusterError(
            "the Ceph daemons are not installed; as root run: apt-get install -y "
            + " ".join(sorted(set(missing) | {"ceph-mon", "ceph-osd", "ceph-common"})))


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is as good as dead for us.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _new_secret() -> str:
    """A fresh cephx secret as a keyring holds it: base64 of an encoded CryptoKey.

    CryptoKey encoding (ceph src/auth/Crypto.cc CryptoKey::encode): le16 type (1 = AES),
    utime_t created (le32 sec, le32 nsec), le16 length, then the 16 key bytes.
    """
    now = time.time()
    raw = struct.pack("<HIIH", 1, int(now), int((now % 1) * 1e9), 16) + os.urandom(16)
    return base64.b64encode(raw).decode()


def readdress_conf(text: str, old_ports: tuple[int, int], new_ports: tuple[int, int]) -> str:
    """ceph.conf ``text`` with one monitor's (v2, v1) ports replaced by new ones.

    Only whole ``127.0.0.1:PORT`` tokens are replaced, so a port that is a prefix of
    another (4567 of 45678) is left alone.
    """
    for old, new in zip(old_ports, new_ports, strict=True):
        text = re.sub(rf"127\.0\.0\.1:{old}(?!\d)", f"127.0.0.1:{new}", text)
    return text


def _keyring_entry(name: str, secret: str, caps: dict[str, str]) -> str:
    lines = [f"[{name}]", f"\tkey = {secret}"]
    lines += [f'\tcaps {kind} = "{cap}"' for kind, cap in caps.items()]
    return "\n".join(lines) + "\n"


class DevCluster:
    """Control of one devcluster living in ``dir``.

    :param dir: the cluster's directory; created by :meth:`start`.
    """

    def __init__(self, dir: str | os.PathLike[str]) -> None:
        self.dir = Path(dir).absolute()

    # -- paths -------------------------------------------------------------------------

    @property
    def conf_path(self) -> Path:
        return self.dir / "ceph.conf"

    @property
    def keyring_path(self) -> Path:
        return self.dir / "keyring"

    def _pid_file(self, name: str) -> Path:
        return self.dir / "run" / f"{name}.pid"

    def _state_path(self) -> Path:
        return self.dir / STATE_FILE

    def load_state(self) -> ClusterState:
        try:
            raw = json.loads(self._state_path().read_text())
        except FileNotFoundError:
            raise DevClusterError(f"no devcluster in {self.dir} (no {STATE_FILE})") from None
        daemons = [DaemonSpec(**d) for d in raw.pop("daemons")]
        return ClusterState(daemons=daemons, **raw)

    def _save_state(self, state: ClusterState) -> None:
        self._state_path().write_text(json.dumps(asdict(state), indent=2) + "\n")

    # -- daemon bookkeeping ------------------------------------------------------------

    def pid_of(self, name: str) -> int | None:
        """The pid of a running daemon, or None when it is not running."""
        try:
            pid = int(self._pid_file(name).read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not _pid_alive(pid):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        # A stale pid file can name a recycled pid; only trust a daemon of this cluster.
        return pid if str(self.conf_path).encode() in cmdline else None

    def running_daemons(self) -> dict[str, int]:
        try:
            state = self.load_state()
        except DevClusterError:
            return {}
        return {n: pid for n in state.names() if (pid := self.pid_of(n)) is not None}

    def _stray_pids(self) -> list[int]:
        """Every process whose command line names this cluster's ceph.conf."""
        needle = str(self.conf_path).encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if needle in (entry / "cmdline").read_bytes() and _pid_alive(int(entry.name)):
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    # -- running commands --------------------------------------------------------------

    def _run(self, args: list[str], *, input: str | None = None, timeout: float = 60,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        log.debug("devcluster run: %s", " ".join(args))
        try:
            cp = subprocess.run(args, input=input, capture_output=True, text=True,
                                timeout=timeout, cwd=self.dir)
        except subprocess.TimeoutExpired as e:
            raise DevClusterError(f"timed out after {timeout}s: {' '.join(args)}") from e
        if check and cp.returncode != 0:
            raise DevClusterError(
                f"command failed ({cp.returncode}): {' '.join(args)}\n{cp.stderr.strip()}")
        return cp

    def ceph(self, *args: str, timeout: float = 30, check: bool = True,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the ``ceph`` CLI against this cluster."""
        return self._run(["ceph", "-c", str(self.conf_path), "--connect-timeout",
                          str(int(timeout)), *args], timeout=timeout + 5, check=check,
                         input=input)

    def ceph_json(self, *args: str, timeout: float = 30) -> object:
        return json.loads(self.ceph(*args, "--format", "json", timeout=timeout).stdout)

    # -- configuration -----------------------------------------------------------------

    def _write_conf(self, state: ClusterState, *, osd_memory: int, memstore_bytes: int,
                    pool_size: int, bluestore_bytes: int) -> None:
        mons = [d for d in state.daemons if d.name.startswith("mon.")]
        mon_host = ",".join(f"[v2:127.0.0.1:{m.v2_port},v1:127.0.0.1:{m.v1_port}]"
                            for m in mons)
        d = self.dir
        lines = [
            "# Written by `rbdpy devcluster start`: a throwaway local cluster.",
            "[global]",
            f"fsid = {state.fsid}",
            f"mon host = {mon_host}",
            f"keyring = {self.keyring_path}",
            "auth cluster required = cephx",
            "auth service required = cephx",
            "auth client required = cephx",
            f"run dir = {d}/run",
            f"log file = {d}/log/$name.log",
            f"pid file = {d}/run/$name.pid",
            f"admin socket = {d}/run/$name.asok",
            f"mon data = {d}/$name",
            f"osd data = {d}/$name",
            f"mgr data = {d}/$name",
            "public addr = 127.0.0.1",
            "cluster addr = 127.0.0.1",
            "public network = 127.0.0.0/8",
            "ms bind msgr1 = true",
            "ms bind msgr2 = true",
            f"osd pool default size = {pool_size}",
            "osd pool default min size = 1",
            "osd pool default pg num = 8",
            "osd pool default pgp num = 8",
            "osd pool default pg autoscale mode = off",
            "mon allow pool size one = true",
            "mon allow pool delete = true",
            "mon warn on pool no redundancy = false",
            "mon warn on insecure global id reclaim allowed = false",
            "mon max pg per osd = 2000",
            "osd crush chooseleaf type = 0",
            # A throwaway cluster: propose map changes at once (pool create/delete < 1 s).
            "paxos propose interval = 0.01",
            "paxos min wait = 0.001",
            "mon data avail warn = 1",
            "mon data avail crit = 0",
            "osd objectstore = " + state.objectstore,
            f"memstore device bytes = {memstore_bytes}",
            "bluestore block create = true",
            f"bluestore block size = {bluestore_bytes}",
            "bluestore fsck on mount = false",
            f"osd memory target = {osd_memory}",
            "osd op num shards = 2",
            "osd op num threads per shard = 1",
            "osd max object name len = 460",
            "osd max object namespace len = 64",
            "osd class load list = *",
            "osd class default list = *",
            "",
            "[client]",
            # One admin socket (and log) per client process, so concurrent clients don't
            # collide ($pid and $cctid are expanded by librados and by rbdpy).
            f"admin socket = {d}/run/$cluster-$name.$pid.$cctid.asok",
            f"log file = {d}/log/client.$pid.log",
            "",
        ]
        for m in mons:
            lines += [f"[{m.name}]",
                      f"mon addr = [v2:127.0.0.1:{m.v2_port},v1:127.0.0.1:{m.v1_port}]", ""]
        self.conf_path.write_text("\n".join(lines))

    # -- start -------------------------------------------------------------------------

    def start(self, *, mons: int = 1, osds: int = 3, mgr: bool = False,
              osd_memory: int = 1 << 30, memstore_bytes: int = 6 << 30,
              objectstore: str = "memstore", pool_size: int = 1,
              bluestore_bytes: int = 10 << 30, timeout: float = 90) -> Path:
        """Create and start a fresh cluster; returns the path of its ceph.conf.

        :raises DevClusterError: Ceph is not installed, DIR already runs a cluster, or a
            daemon failed to come up within ``timeout`` seconds.
        """
        _require_ceph()
        if not 1 <= mons <= len(MON_NAMES):
            raise DevClusterError(f"--mons must be 1..{len(MON_NAMES)}")
        if osds < 0:
            raise DevClusterError("--osds must be >= 0")
        if objectstore not in ("memstore", "bluestore"):
            raise DevClusterError("objectstore must be memstore or bluestore")
        running = self.running_daemons() or self._stray_pids()
        if running:
            raise DevClusterError(
                f"{self.dir} already holds a running cluster; stop it first with "
                f"`rbdpy devcluster stop --dir {self.dir}`")
        if self.dir.exists():
            shutil.rmtree(self.dir)
        for sub in ("run", "log"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + timeout

        version, _ = ceph_version()
        state = ClusterState(fsid=str(uuid.uuid4()), ceph_version=version,
                             objectstore=objectstore)
        ports = _free_ports(2 * mons)
        for i in range(mons):
            state.daemons.append(DaemonSpec(f"mon.{MON_NAMES[i]}", ports[2 * i],
                                            ports[2 * i + 1]))
        for i in range(osds):
            state.daemons.append(DaemonSpec(f"osd.{i}", uuid=str(uuid.uuid4())))
        if mgr:
            if shutil.which("ceph-mgr") is None:
                raise DevClusterError("--mgr needs the ceph-mgr package: apt-get install -y "
                                      "ceph-mgr")
            state.daemons.append(DaemonSpec("mgr.x"))
        self._write_conf(state, osd_memory=osd_memory, memstore_bytes=memstore_bytes,
                         pool_size=pool_size, bluestore_bytes=bluestore_bytes)
        self._save_state(state)
        try:
            self._make_keys(state)
            self._start_mons(state, deadline)
            self._create_osds(state, deadline)
            if mgr:
                self._start_daemon("mgr.x")
            self.wait_osds_up(osds, deadline)
        except BaseException:
            self.stop()
            raise
        log.info("devcluster %s up: %d mon(s), %d osd(s)", self.dir, mons, osds)
        return self.conf_path

    def _make_keys(self, state: ClusterState) -> None:
        """Write the cluster keyring and one keyring per daemon.

        Daemon keys go into the mon's initial keyring (imported by ``ceph-mon --mkfs``), so
        no ``ceph auth add`` round trips are needed.
        """
        entries: list[tuple[str, str, dict[str, str]]] = [
            ("mon.", _new_secret(), {"mon": "allow *"}),
            ("client.admin", _new_secret(),
             {"mon": "allow *", "osd": "allow *", "mgr": "allow *", "mds": "allow *"}),
        ]
        for d in state.daemons:
            if d.name.startswith("osd."):
                entries.append((d.name, _new_secret(), {"mon": "allow profile osd",
                                                        "mgr": "allow profile osd",
                                                        "osd": "allow *"}))
            elif d.name.startswith("mgr."):
                entries.append((d.name, _new_secret(), {"mon": "allow profile mgr",
                                                        "osd": "allow *", "mds": "allow *"}))
        self.keyring_path.write_text("".join(_keyring_entry(*e) for e in entries))
        os.chmod(self.keyring_path, 0o600)
        for name, secret, caps in entries[2:]:
            ddir = self.dir / name
            ddir.mkdir()
            (ddir / "keyring").write_text(_keyring_entry(name, secret, caps))

    def _start_mons(self, state: ClusterState, deadline: float) -> None:
        monmap = self.dir / "monmap"
        args = ["monmaptool", "--create", "--fsid", state.fsid]
        mons = [d for d in state.daemons if d.name.startswith("mon.")]
        for m in mons:
            args += ["--addv", m.name[4:],
                     f"[v2:127.0.0.1:{m.v2_port},v1:127.0.0.1:{m.v1_port}]"]
        self._run([*args, str(monmap)])
        procs = [subprocess.Popen(["ceph-mon", "-c", str(self.conf_path), "--mkfs", "-i",
                                   m.name[4:], "--monmap", str(monmap), "--keyring",
                                   str(self.keyring_path)], cwd=self.dir,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for m in mons]
        for p, m in zip(procs, mons, strict=False):
            out = p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
            if p.returncode:
                raise DevClusterError(f"ceph-mon --mkfs for {m.name} failed: {out!r}")
        for m in mons:
            self._start_daemon(m.name)
        # Wait for quorum: any command answered means the mons formed one.
        self._wait(lambda: self.ceph("mon", "stat", timeout=5, check=False).returncode == 0,
                   deadline, "the monitors to form a quorum")

    def _create_osds(self, state: ClusterState, deadline: float) -> None:
        osds = [d for d in state.daemons if d.name.startswith("osd.")]
        if not osds:
            return
        # One interactive `ceph` session registers all OSDs (saves a CLI start-up each).
        script = "".join(f"osd new {d.uuid} {d.name[4:]}\n" for d in osds)
        self.ceph(timeout=max(5.0, deadline - time.monotonic()), input=script)
        # `osd new UUID ID` is idempotent, so a check afterwards is cheap insurance.
        dump = self.ceph_json("osd", "dump")
        assert isinstance(dump, dict)
        registered = {o["osd"] for o in dump["osds"]}
        for d in osds:
            if int(d.name[4:]) not in registered:
                self.ceph("osd", "new", d.uuid, d.name[4:])
        procs = [subprocess.Popen(["ceph-osd", "-c", str(self.conf_path), "-i", d.name[4:],
                                   "--mkfs", "--osd-uuid", d.uuid, "--keyring",
                                   str(self.dir / d.name / "keyring")], cwd=self.dir,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                 for d in osds]
        for p, d in zip(procs, osds, strict=False):
            out = p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
            if p.returncode:
                raise DevClusterError(f"ceph-osd --mkfs for {d.name} failed: {out[-2000:]!r}")
        for d in osds:
            self._start_daemon(d.name)

    def _daemon_cmd(self, name: str) -> list[str]:
        kind, _, ident = name.partition(".")
        cmd = [f"ceph-{kind}", "-c", str(self.conf_path), "-i", ident]
        if kind != "mon":
            cmd += ["--keyring", str(self.dir / name / "keyring")]
        return cmd

    def _start_daemon(self, name: str) -> None:
        """Start one daemon; it daemonizes and writes its pid file."""
        self._pid_file(name).unlink(missing_ok=True)
        self._run(self._daemon_cmd(name), timeout=60)
        end = time.monotonic() + 20
        while self.pid_of(name) is None:
            if time.monotonic() > end:
                raise DevClusterError(f"{name} did not start; see {self.dir}/log/{name}.log")
            time.sleep(0.05)

    @staticmethod
    def _wait(cond: object, deadline: float, what: str) -> None:
        assert callable(cond)
        while True:
            if cond():
                return
            if time.monotonic() > deadline:
                raise DevClusterError(f"timed out waiting for {what}")
            time.sleep(0.2)

    def osd_stat(self) -> dict[str, int]:
        """``ceph osd stat`` as a dict with num_osds, num_up_osds, num_in_osds, epoch."""
        raw = self.ceph_json("osd", "stat")
        assert isinstance(raw, dict)
        # Pacific nests the counts under "osdmap" in some versions; accept both shapes.
        body = raw.get("osdmap", raw)
        return {k: int(body[k]) for k in ("epoch", "num_osds", "num_up_osds", "num_in_osds")}

    def wait_osds_up(self, count: int, deadline: float) -> None:
        if count == 0:
            return
        self._wait(lambda: self.osd_stat()["num_up_osds"] >= count, deadline,
                   f"{count} OSD(s) to be up")

    # -- stop / status / kill / restart ------------------------------------------------

    def stop(self, timeout: float = 15) -> list[str]:
        """Stop every daemon of the cluster (TERM, then KILL); returns what was stopped."""
        stopped = []
        pids = dict(self.running_daemons())
        for pid in self._stray_pids():
            if pid not in pids.values():
                pids[f"pid {pid}"] = pid
        for pid in pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + timeout
        for name, pid in pids.items():
            while _pid_alive(pid) and time.monotonic() < end:
                time.sleep(0.05)
            if _pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            stopped.append(name)
        for pid in pids.values():
            while _pid_alive(pid) and time.monotonic() < end + 5:
                time.sleep(0.05)
        return stopped

    def status(self) -> dict[str, object]:
        """Daemons with pids and up/down, plus the cluster health when a mon answers."""
        state = self.load_state()
        daemons = {}
        for name in state.names():
            pid = self.pid_of(name)
            daemons[name] = {"pid": pid, "running": pid is not None}
        health: object = None
        osdmap: object = None
        if any(v["running"] for k, v in daemons.items() if k.startswith("mon.")):
            cp = self.ceph("health", "--format", "json", timeout=5, check=False)
            if cp.returncode == 0:
                health = json.loads(cp.stdout).get("status")
                cp = self.ceph("osd", "dump", "--format", "json", timeout=5, check=False)
                if cp.returncode == 0:
                    dump = json.loads(cp.stdout)
                    osdmap = {"epoch": dump["epoch"]}
                    for o in dump["osds"]:
                        entry = daemons.get(f"osd.{o['osd']}")
                        if isinstance(entry, dict):
                            entry["up"] = bool(o["up"])
                            entry["in"] = bool(o["in"])
        return {"dir": str(self.dir), "conf": str(self.conf_path), "fsid": state.fsid,
                "ceph_version": state.ceph_version, "objectstore": state.objectstore,
                "health": health, "osdmap": osdmap, "daemons": daemons}

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one daemon abruptly (fault injection); waits until it is gone."""
        self.load_state().get(name)
        pid = self.pid_of(name)
        if pid is None:
            raise DevClusterError(f"{name} is not running")
        os.kill(pid, sig)
        end = time.monotonic() + 10
        while _pid_alive(pid) and time.monotonic() < end:
            time.sleep(0.02)

    def restart(self, name: str, timeout: float = 60) -> None:
        """(Re)start one daemon; for an OSD, wait until the osdmap shows it up."""
        state = self.load_state()
        state.get(name)
        osd_id = int(name[4:]) if name.startswith("osd.") else None
        # The new incarnation must come up in a later epoch than the old one did, or a
        # stale "up" in the map could end the wait before the OSD really booted.
        old_up_from = self._osd_up_from(osd_id) if osd_id is not None else 0
        if self.pid_of(name) is not None:
            self.kill(name, signal.SIGTERM)
        self._start_daemon(name)
        if osd_id is not None:
            deadline = time.monotonic() + timeout
            self._wait(lambda: self._osd_up_from(osd_id) > old_up_from, deadline,
                       f"{name} to be up")

    def move_mon(self, name: str, v2_port: int = 0, v1_port: int = 0,
                 timeout: float = 90) -> DaemonSpec:
        """Give a monitor new ports, as an admin re-addresses a mon; returns its new spec.

        The steps (Pacific): the quorum commits the mon's new address vector to the monmap
        (``ceph mon set-addrs``). A running mon that then finds its own address gone from the
        map exits by itself ("removed from monmap, suicide") with that map in its store, so
        it is started again at once and binds the new address. A mon that was stopped, or
        did not exit, first gets the monmap epoch with the new address put into its store
        (``ceph-mon --inject-monmap``: one booting with an older map would bind the old
        address, then exit the same way). The call returns once the mon listens at the new
        address and is back in the quorum. ceph.conf (``mon host`` and the mon's section)
        and the state file follow, so later CLI calls and clients find it; clients
        connected before can learn the move only from the monmap.

        :param v2_port: the new msgr2 port; a free one when 0 (likewise ``v1_port``).
        """
        state = self.load_state()
        spec = state.get(name)
        if not name.startswith("mon."):
            raise DevClusterError(f"{name} is not a monitor")
        ident = name[4:]
        deadline = time.monotonic() + timeout
        if not (v2_port and v1_port):
            free = _free_ports(2)
            v2_port, v1_port = v2_port or free[0], v1_port or free[1]
        addrvec = f"[v2:127.0.0.1:{v2_port},v1:127.0.0.1:{v1_port}]"
        was_running = self.pid_of(name) is not None
        self.ceph("mon", "set-addrs", ident, addrvec, timeout=timeout)
        gone_by = time.monotonic() + 20
        while self.pid_of(name) is not None and time.monotonic() < gone_by:
            time.sleep(0.05)
        if was_running and self.pid_of(name) is None:
            # It exited on seeing the new map, so its store has that map: start it at once,
            # before its peers have to elect without it.
            self._moved(state, spec, v2_port, v1_port, deadline)
            return spec
        if self.pid_of(name) is not None:
            self.kill(name, signal.SIGTERM)
        # set-addrs answers before every mon has the new map, and a getmap served by one
        # that has not would hand the old address to the store: fetch the epoch that has it.
        want = f"127.0.0.1:{v2_port}"
        epoch = 0

        def committed() -> bool:
            nonlocal epoch
            dump = self.ceph_json("mon", "dump", timeout=timeout)
            assert isinstance(dump, dict)
            for m in dump["mons"]:
                if m["name"] == ident and any(a["addr"] == want
                                              for a in m["public_addrs"]["addrvec"]):
                    epoch = int(dump["epoch"])
            return epoch > 0

        self._wait(committed, deadline, f"the monmap to give {name} its new address")
        monmap = self.dir / "run" / f"monmap.{ident}"
        self.ceph("mon", "getmap", str(epoch), "-o", str(monmap), timeout=timeout)
        self._run(["ceph-mon", "-c", str(self.conf_path), "-i", ident, "--inject-monmap",
                   str(monmap)], timeout=timeout)
        self._moved(state, spec, v2_port, v1_port, deadline)
        return spec

    def _moved(self, state: ClusterState, spec: DaemonSpec, v2_port: int, v1_port: int,
               deadline: float) -> None:
        """The end of :meth:`move_mon`: record the new ports, start the mon, and wait until
        it listens there and is in the quorum."""
        self.conf_path.write_text(readdress_conf(
            self.conf_path.read_text(), (spec.v2_port, spec.v1_port), (v2_port, v1_port)))
        spec.v2_port, spec.v1_port = v2_port, v1_port
        self._save_state(state)
        self._start_daemon(spec.name)
        ident = spec.name[4:]

        def in_quorum() -> bool:
            try:
                socket.create_connection(("127.0.0.1", v2_port), timeout=1).close()
            except OSError:
                return False
            cp = self.ceph("quorum_status", "--format", "json", timeout=10, check=False)
            return cp.returncode == 0 and ident in json.loads(cp.stdout)["quorum_names"]

        self._wait(in_quorum, deadline, f"{spec.name} to rejoin the quorum at its new address")

    def _osd_up_from(self, osd_id: int) -> int:
        """The epoch osd.N last came up in, or 0 while it is down."""
        dump = self.ceph_json("osd", "dump")
        assert isinstance(dump, dict)
        for o in dump["osds"]:
            if o["osd"] == osd_id and o["up"]:
                return int(o["up_from"])
        return 0

    def pool_create(self, name: str, pg_num: int = 8, *, application: str = "rbd",
                    size: int | None = None) -> None:
        """Create a replicated pool and initialize it for RBD (``rbd pool init``)."""
        self.ceph("osd", "pool", "create", name, str(pg_num), str(pg_num))
        if size is not None:
            self.ceph("osd", "pool", "set", name, "size", str(size), "--yes-i-really-mean-it")
        if application == "rbd":
            self._run(["rbd", "-c", str(self.conf_path), "pool", "init", name], timeout=60)
        elif application:
            self.ceph("osd", "pool", "application", "enable", name, application)

    def pool_delete(self, name: str) -> None:
        self.ceph("osd", "pool", "delete", name, name, "--yes-i-really-really-mean-it")


@contextlib.contextmanager
def devcluster(dir: str | os.PathLike[str] | None = None, **start_opts: object
               ) -> Iterator[DevCluster]:
    """Start a devcluster for the duration of a ``with`` block (tests, benches).

    :param dir: where to put it; a fresh temporary directory when None (removed after).
    :param start_opts: keyword arguments of :meth:`DevCluster.start`.
    """
    tmp = None
    if dir is None:
        tmp = tempfile.mkdtemp(prefix="rbdpy-devcluster-")
        dir = tmp
    cluster = DevCluster(dir)
    cluster.start(**start_opts)  # type: ignore[arg-type]
    try:
        yield cluster
    finally:
        cluster.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def given_or_started(conf: str | os.PathLike[str] | None, dir: str | os.PathLike[str],
                     **start_opts: object) -> Iterator[tuple[str, DevCluster]]:
    """The cluster a tool was pointed at, or a fresh one for the ``with`` block: yields
    (its ceph.conf path, a DevCluster to drive it).

    With ``conf`` the cluster beside that ceph.conf is used and left running. Without it a
    cluster is started in ``dir`` (one left running there by an earlier run is stopped
    first) and stopped at the end; ``start_opts`` go to :meth:`DevCluster.start`.
    """
    if conf is not None:
        yield str(conf), DevCluster(Path(conf).parent)
        return
    DevCluster(dir).stop()
    with devcluster(dir, **start_opts) as cluster:
        yield str(cluster.conf_path), cluster
