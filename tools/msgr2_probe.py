"""Throwaway probe: drive rbdpy's pure msgr2 Protocol against a real mon over a plain socket.

Usage::

    .venv/bin/python tools/msgr2_probe.py HOST:PORT [--mode crc|secure] [--cephx NAME KEYRING]

Without ``--cephx`` it authenticates with method NONE (start the mon with ``auth
cluster/service/client required = none``); that only allows crc mode, because auth none has
no connection secret. With ``--cephx`` it uses ``rbdpy.rados.proto.auth.cephx`` if that module
exists, which makes secure mode possible. After Ready it sends MMonGetMap (type 5, empty front)
and prints what comes back (expects MMonMap, type 4), then a KEEPALIVE2 and its ACK.

This is a verification aid, not product code: it blocks, has crude timeouts, and prints.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rbdpy.rados.proto.auth.handler import AuthHandler, AuthMethod, AuthResult, ConMode
from rbdpy.rados.proto.denc import Encoder
from rbdpy.rados.proto.msgr2.events import (
    Event,
    KeepaliveAck,
    MessageReceived,
    Ready,
    Reset,
)
from rbdpy.rados.proto.msgr2.protocol import Protocol
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityName, EntityType


class NoneAuth:
    """AuthMethod.NONE for the mon: AUTH_REQUEST payload = u8 AUTH_MODE_MON(10) |
    EntityName | le64 global_id (kernel ceph_auth_get_request); AUTH_DONE carries nothing."""

    method = AuthMethod.NONE

    def __init__(self, name: EntityName) -> None:
        self.name = name

    def build_request(self) -> bytes:
        enc = Encoder()
        enc.u8(10)
        self.name.encode(enc)
        enc.u64(0)
        return enc.getvalue()

    def handle_reply_more(self, payload: bytes) -> bytes:
        raise RuntimeError("auth none never gets AUTH_REPLY_MORE")

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        return AuthResult(global_id, con_mode, b"", b"")


RECORD: dict[str, bytearray] = {"rx": bytearray(), "tx": bytearray()}


class Recorder:
    """Wraps an AuthHandler to remember the AuthResult (for --record of secure sessions)."""

    def __init__(self, inner: AuthHandler) -> None:
        self.inner = inner
        self.method = inner.method
        self.result: AuthResult | None = None

    def build_request(self) -> bytes:
        return self.inner.build_request()

    def handle_reply_more(self, payload: bytes) -> bytes:
        return self.inner.handle_reply_more(payload)

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        self.result = self.inner.handle_done(global_id, con_mode, payload)
        return self.result


def keyring_key(path: Path, name: str) -> str:
    """The ``key = ...`` of section ``[name]`` in a keyring file."""
    section = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif section == name and line.startswith("key"):
            return line.split("=", 1)[1].strip()
    raise SystemExit(f"no key for {name} in {path}")


def pump(sock: socket.socket, proto: Protocol, until: type[Event],
         timeout: float = 5.0) -> list[Event]:
    """Flush, then read until an event of type ``until`` shows up."""
    got: list[Event] = []
    deadline = time.monotonic() + timeout
    while True:
        for buf in proto.data_to_send():
            RECORD["tx"] += buf
            sock.sendall(buf)
        if any(isinstance(e, until) for e in got):
            return got
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(65536)
        RECORD["rx"] += data
        events = proto.receive_data(data)
        for e in events:
            print(f"  event: {summarize(e)}")
        got.extend(events)
        if any(isinstance(e, Reset) for e in events):
            raise SystemExit("connection reset")


def summarize(e: Event) -> str:
    if isinstance(e, MessageReceived):
        return (f"MessageReceived(seq={e.seq}, tid={e.tid}, type={e.type}, "
                f"version={e.version}, compat={e.compat_version}, front={len(e.front)}B "
                f"{bytes(e.front[:24]).hex()}..., middle={len(e.middle)}B, "
                f"data={len(e.data)}B, ack_seq={e.ack_seq})")
    return repr(e)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("addr", help="mon v2 address HOST:PORT")
    ap.add_argument("--mode", choices=("crc", "secure"), default="crc")
    ap.add_argument("--cephx", nargs=2, metavar=("NAME", "KEYRING"))
    ap.add_argument("-v", action="store_true", help="debug logging")
    ap.add_argument("--record", metavar="PREFIX",
                    help="write every byte received/sent to PREFIX.rx / PREFIX.tx")
    ap.add_argument("--nonce", type=int, help="fixed address nonce (for recordings)")
    ap.add_argument("--cookie", type=int, help="fixed client cookie (for recordings)")
    args = ap.parse_args()
    if args.v:
        logging.basicConfig(level=logging.DEBUG)
    host, port = args.addr.rsplit(":", 1)
    target = EntityAddr(AddrType.MSGR2, 0, host, int(port))
    modes = [ConMode.SECURE] if args.mode == "secure" else [ConMode.CRC]
    handler: AuthHandler
    if args.cephx:
        from rbdpy.rados.proto.auth.cephx import CephxClient, MonAuthHandler

        name, keyring = args.cephx
        key = keyring_key(Path(keyring), name)
        handler = MonAuthHandler(CephxClient(name, key), time.time(), tuple(modes))
    else:
        handler = NoneAuth(EntityName(EntityType.CLIENT, "admin"))
    recorder = Recorder(handler)
    proto = Protocol(recorder, target_addr=target, peer_type=EntityType.MON,
                     con_modes=modes, gid=-1, my_nonce=args.nonce,
                     client_cookie=args.cookie)
    sock = socket.create_connection((host, int(port)), timeout=5)
    proto.initiate()
    print(f"connected to {args.addr}; handshake ({args.mode})")
    events = pump(sock, proto, Ready)
    ready = next(e for e in events if isinstance(e, Ready))
    print(f"READY: global_id={ready.global_id} con_mode={ready.con_mode.name} "
          f"peer_type={ready.peer_type} peer_addrs={ready.peer_addrs} "
          f"peer_gid={ready.peer_global_id} features={ready.features:#x} "
          f"required={ready.required_features:#x} flags={ready.flags} "
          f"cookie={ready.server_cookie} my_addr={ready.my_addr}")
    seq = proto.send_message(5)  # CEPH_MSG_MON_GET_MAP, empty front, version 1 compat 0
    print(f"sent MMonGetMap seq={seq}")
    events = pump(sock, proto, MessageReceived)
    for e in events:
        if isinstance(e, MessageReceived) and e.type == 4:
            print(f"got MMonMap: front {len(e.front)} bytes; monmap blob starts "
                  f"{bytes(e.front[4:10]).hex()} (struct_v, compat, len)")
    proto.keepalive((1_700_000_000, 123_456_789))  # fixed stamp: recordings stay stable
    pump(sock, proto, KeepaliveAck)
    proto.send_ack()
    for buf in proto.data_to_send():
        RECORD["tx"] += buf
        sock.sendall(buf)
    if args.record:
        for k, v in RECORD.items():
            Path(f"{args.record}.{k}").write_bytes(bytes(v))
            print(f"recorded {len(v)} bytes to {args.record}.{k}")
        if recorder.result is not None and recorder.result.session_key:
            # Throwaway cluster, one-off session: the keys let tests replay the session.
            keys = {"global_id": recorder.result.global_id,
                    "session_key": recorder.result.session_key.hex(),
                    "connection_secret": recorder.result.connection_secret.hex()}
            Path(f"{args.record}.keys.json").write_text(json.dumps(keys, indent=1) + "\n")
    print(f"in_seq={proto.in_seq} out_seq={proto.out_seq} peer_acked={proto.peer_acked_seq}")
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
