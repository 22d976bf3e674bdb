#!/usr/bin/env python3
"""Live proof of the cephx client against a real Ceph daemon (mon or OSD).

Theory of operation: a plain blocking socket speaks just enough msgr2.1 by hand - banner,
HELLO, AUTH_REQUEST / AUTH_REPLY_MORE / AUTH_REQUEST_MORE / AUTH_DONE, AUTH_SIGNATURE,
CLIENT_IDENT - to drive rbdpy's pure cephx handlers (``MonAuthHandler`` for a mon,
``AuthorizerHandler`` for an OSD). The decisive check is the peer's AUTH_SIGNATURE: an
HMAC-SHA256, keyed with the session key our handler derived, over every byte *we* sent. If it
verifies, the handler's session key is the daemon's. In secure mode the signature frame is
already AES-GCM encrypted with keys from the connection secret, so decrypting it also proves
the connection secret. We then send our own signature and CLIENT_IDENT; a SERVER_IDENT back
proves the daemon accepted our signature too.

The frame code here is a minimal local copy for this probe only (single-segment control
frames, crc and secure modes); the real implementation is rbdpy/rados/proto/msgr2/.

Usage:
  cephx_probe.py mon  --addr 127.0.0.1:13420 --keyring K [--name client.admin] [--mode crc|secure]
  cephx_probe.py osd  --addr 127.0.0.1:6804 --mon 127.0.0.1:13420 --keyring K [--mode ...]
  cephx_probe.py badkey --addr 127.0.0.1:13420 [--name client.admin]

Mirrors: ceph src/msg/async/ProtocolV2.cc, frames_v2.cc; kernel net/ceph/messenger_v2.c.
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rbdpy.rados.proto.auth.cephx import (
    CephxClient,
    NoneAuthHandler,
    bad_method_error,
)
from rbdpy.rados.proto.auth.crypto import CryptoKey
from rbdpy.rados.proto.auth.handler import AuthHandler, AuthResult, ConMode
from rbdpy.rados.proto.crc32c import ceph_crc32c
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import AuthError
from rbdpy.rados.proto.types import (
    AddrType,
    EntityAddr,
    EntityAddrvec,
    EntityName,
    EntityType,
)

TAG_HELLO, TAG_AUTH_REQUEST, TAG_AUTH_BAD_METHOD, TAG_AUTH_REPLY_MORE = 1, 2, 3, 4
TAG_AUTH_REQUEST_MORE, TAG_AUTH_DONE, TAG_AUTH_SIGNATURE = 5, 6, 7
TAG_CLIENT_IDENT, TAG_SERVER_IDENT, TAG_IDENT_MISSING_FEATURES, TAG_WAIT = 8, 9, 10, 16
PREAMBLE = struct.Struct("<BB" + "IH" * 4 + "BB")  # + le32 crc
FEATURES = 0x3F01CFBDFFFDFFFF

# --record: everything a unit test needs to replay the exchange offline (tests/vectors/cephx).
RECORD: dict[str, Any] = {"rng": "", "connections": []}


def recording_rng(n: int) -> bytes:
    b = os.urandom(n)
    RECORD["rng"] = str(RECORD["rng"]) + b.hex()
    return b


class Conn:
    """One msgr2.1 connection with a byte log of everything sent and received pre-auth."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sent = bytearray()
        self.received = bytearray()
        self.logging = True
        self.gcm: AESGCM | None = None
        self.rx_nonce = b""
        self.tx_nonce = b""
        self.tap: bytearray | None = None
        self.frames: list[list[object]] = []

    # -- raw io ---------------------------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.logging:
            self.sent += data
        self.sock.sendall(data)

    def recv(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError(f"EOF after {len(buf)} of {n} bytes")
            buf += chunk
        if self.logging:
            self.received += buf
        if self.tap is not None:
            self.tap += buf
        return bytes(buf)

    # -- banner ---------------------------------------------------------------------
    def banner(self) -> None:
        self.send(b"ceph v2\n" + struct.pack("<HQQ", 16, 1, 1))
        head = self.recv(10)
        assert head[:8] == b"ceph v2\n", head
        (n,) = struct.unpack("<H", head[8:])
        sup, req = struct.unpack("<QQ", self.recv(n))
        print(f"  server banner: supported={sup:#x} required={req:#x}")

    # -- frames ---------------------------------------------------------------------
    @staticmethod
    def _preamble(tag: int, length: int) -> bytes:
        p = PREAMBLE.pack(tag, 1, length, 8, 0, 0, 0, 0, 0, 0, 0, 0)
        return p + struct.pack("<I", ceph_crc32c(0, p))

    def _next_nonce(self, which: str) -> bytes:
        nonce = self.rx_nonce if which == "rx" else self.tx_nonce
        fixed, counter = struct.unpack("<IQ", nonce)
        nxt = struct.pack("<IQ", fixed, (counter + 1) & 0xFFFFFFFFFFFFFFFF)
        if which == "rx":
            self.rx_nonce = nxt
        else:
            self.tx_nonce = nxt
        return nonce

    def send_frame(self, tag: int, payload: bytes) -> None:
        self.frames.append(["tx", tag, payload.hex()])
        pre = self._preamble(tag, len(payload))
        if self.gcm is None:
            self.send(pre + payload + struct.pack("<I", ceph_crc32c(0xFFFFFFFF, payload)))
            return
        inline, rest = payload[:48], payload[48:]
        out = self.gcm.encrypt(self._next_nonce("tx"), pre + inline.ljust(48, b"\0"), None)
        if rest:
            pad = (-len(rest)) % 16
            out += self.gcm.encrypt(self._next_nonce("tx"), rest + b"\0" * pad, None)
        self.send(out)

    def recv_frame(self) -> tuple[int, bytes]:
        if self.gcm is None:
            pre = self.recv(32)
        else:
            block = self.gcm.decrypt(self._next_nonce("rx"), self.recv(96), None)
            pre, inline = block[:32], block[32:]
        (crc,) = struct.unpack("<I", pre[28:])
        assert ceph_crc32c(0, pre[:28]) == crc, "preamble crc"
        fields = PREAMBLE.unpack(pre[:28])
        tag, nseg, seg0 = fields[0], fields[1], fields[2]
        assert nseg == 1, f"tag {tag}: {nseg} segments"
        if self.gcm is None:
            payload = self.recv(seg0)
            (pcrc,) = struct.unpack("<I", self.recv(4))
            assert ceph_crc32c(0xFFFFFFFF, payload) == pcrc, "segment crc"
            self.frames.append(["rx", tag, payload.hex()])
            return tag, payload
        payload = inline[:seg0]
        if seg0 > 48:
            rest = seg0 - 48
            padded = rest + (-rest) % 16
            payload += self.gcm.decrypt(self._next_nonce("rx"), self.recv(padded + 16),
                                        None)[:rest]
        self.frames.append(["rx", tag, payload.hex()])
        return tag, payload

    def send_message_crc(self, header2: bytes, front: bytes) -> None:
        """A 2-segment MESSAGE frame (header2, front) in msgr2.1 crc mode."""
        p = PREAMBLE.pack(17, 2, len(header2), 8, len(front), 8, 0, 0, 0, 0, 0, 0)
        out = p + struct.pack("<I", ceph_crc32c(0, p))
        out += header2 + struct.pack("<I", ceph_crc32c(0xFFFFFFFF, header2)) + front
        # epilogue: late_status COMPLETE (0xe), crc(front), crc(middle) and crc(data) 0 for
        # unused trailing segments (kernel prepare_message_plain).
        out += struct.pack("<BIII", 0x0E, ceph_crc32c(0xFFFFFFFF, front), 0, 0)
        self.send(out)

    def recv_any_crc(self) -> tuple[int, list[bytes]]:
        """Any crc-mode frame: (tag, segments)."""
        pre = self.recv(32)
        assert ceph_crc32c(0, pre[:28]) == struct.unpack("<I", pre[28:])[0], "preamble crc"
        fields = PREAMBLE.unpack(pre[:28])
        tag, nseg = fields[0], fields[1]
        lens = [fields[2 + 2 * i] for i in range(4)][:nseg]
        segs = [self.recv(lens[0])]
        if lens[0]:
            self.recv(4)
        segs += [self.recv(n) for n in lens[1:]]
        if nseg > 1:
            self.recv(13)
        return tag, segs

    def start_secure(self, secret: bytes) -> None:
        # FIELD_GUIDE 3.6: key [0:16], client rx nonce [16:28], client tx nonce [28:40].
        self.gcm = AESGCM(secret[:16])
        self.rx_nonce = secret[16:28]
        self.tx_nonce = secret[28:40]


def load_key(keyring: str, name: str) -> str:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(keyring)
    return cp[name]["key"].strip()


def hello(conn: Conn, host: str, port: int) -> EntityAddr:
    enc = Encoder()
    enc.u8(EntityType.CLIENT)
    EntityAddr(AddrType.MSGR2, 0, host, port).encode(enc)
    conn.send_frame(TAG_HELLO, enc.getvalue())
    tag, payload = conn.recv_frame()
    assert tag == TAG_HELLO, tag
    dec = Decoder(payload, "hello")
    peer_type = dec.u8()
    me = EntityAddr.decode(dec)
    print(f"  server HELLO: peer type {peer_type}, sees us as {me}")
    return me


def authenticate(conn: Conn, handler: AuthHandler, modes: list[int]) -> AuthResult:
    enc = Encoder()
    enc.u32(handler.method)
    enc.list_(modes, Encoder.u32)
    enc.blob(handler.build_request())
    conn.send_frame(TAG_AUTH_REQUEST, enc.getvalue())
    t0 = time.monotonic()
    while True:
        tag, payload = conn.recv_frame()
        dec = Decoder(payload, f"tag{tag}")
        if tag == TAG_AUTH_REPLY_MORE:
            more = dec.blob()
            print(f"  AUTH_REPLY_MORE: {len(more)} bytes: {more.hex()}")
            out = Encoder()
            out.blob(handler.handle_reply_more(more))
            conn.send_frame(TAG_AUTH_REQUEST_MORE, out.getvalue())
        elif tag == TAG_AUTH_DONE:
            gid = dec.u64()
            mode = dec.u32()
            body = dec.blob()
            print(f"  AUTH_DONE: global_id {gid} con_mode {mode} payload {len(body)} bytes")
            return handler.handle_done(gid, ConMode(mode), body)
        elif tag == TAG_AUTH_BAD_METHOD:
            method = dec.u32()
            result = dec.s32()
            methods = dec.list_(Decoder.u32)
            allowed_modes = dec.list_(Decoder.u32)
            dt = time.monotonic() - t0
            print(f"  AUTH_BAD_METHOD after {dt * 1000:.1f} ms: method {method} result "
                  f"{result} allowed methods {methods} modes {allowed_modes}; raw {payload.hex()}")
            raise bad_method_error(method, result, methods, allowed_modes)
        else:
            raise RuntimeError(f"unexpected tag {tag} during auth: {payload.hex()}")


def finish(conn: Conn, result: AuthResult, target: EntityAddr, me: EntityAddr) -> None:
    """AUTH_SIGNATURE exchange, then CLIENT_IDENT -> SERVER_IDENT."""
    conn.logging = False
    our_sent = bytes(conn.sent)
    our_received = bytes(conn.received)
    if result.con_mode == ConMode.SECURE:
        conn.start_secure(result.connection_secret)
    conn.tap = bytearray()
    tag, sig = conn.recv_frame()
    RECORD["connections"].append({
        "con_mode": int(result.con_mode), "frames": conn.frames, "sent": our_sent.hex(),
        "received": our_received.hex(), "signature_frame": conn.tap.hex()})
    conn.tap = None
    assert tag == TAG_AUTH_SIGNATURE, tag
    expect = hmac.new(result.session_key, our_sent, hashlib.sha256).digest()
    print(f"  peer AUTH_SIGNATURE over our {len(our_sent)} sent bytes: "
          f"{'VERIFIED' if hmac.compare_digest(sig, expect) else 'MISMATCH'}")
    if not hmac.compare_digest(sig, expect):
        raise SystemExit("signature mismatch: session key is wrong")
    conn.send_frame(TAG_AUTH_SIGNATURE,
                    hmac.new(result.session_key, our_received, hashlib.sha256).digest())
    enc = Encoder()
    EntityAddrvec((EntityAddr(AddrType.ANY, 12345, me.host, 0),)).encode(enc)
    target.encode(enc)
    enc.s64(-1 if result.global_id == 0 else result.global_id)
    enc.u64(1)  # global_seq
    enc.u64(FEATURES)
    enc.u64(0)
    enc.u64(1)  # CEPH_MSG_CONNECT_LOSSY
    enc.u64(0)  # client_cookie
    conn.send_frame(TAG_CLIENT_IDENT, enc.getvalue())
    tag, payload = conn.recv_frame()
    if tag == TAG_SERVER_IDENT:
        dec = Decoder(payload, "server_ident")
        addrs = EntityAddrvec.decode(dec)
        gid = dec.s64()
        print(f"  SERVER_IDENT: {addrs} gid {gid} -> the peer accepted our signature")
    else:
        raise SystemExit(f"expected SERVER_IDENT, got tag {tag}: {payload.hex()}")


def finish_none(conn: Conn, result: AuthResult, target: EntityAddr, me: EntityAddr,
                peer_sig: bytes) -> None:
    """Send a signature like the peer's (auth none) and CLIENT_IDENT; expect SERVER_IDENT."""
    conn.send_frame(TAG_AUTH_SIGNATURE, peer_sig)
    enc = Encoder()
    EntityAddrvec((EntityAddr(AddrType.ANY, 12345, me.host, 0),)).encode(enc)
    target.encode(enc)
    enc.s64(result.global_id)
    for v in (1, FEATURES, 0, 1, 0):
        enc.u64(v)
    conn.send_frame(TAG_CLIENT_IDENT, enc.getvalue())
    tag, payload = conn.recv_frame()
    print(f"  after our signature + CLIENT_IDENT: tag {tag} "
          f"({'SERVER_IDENT' if tag == TAG_SERVER_IDENT else payload.hex()})")


def mon_login(host: str, port: int, client: CephxClient, mode: str,
              mauth: bool = False) -> AuthResult:
    modes = [ConMode.SECURE] if mode == "secure" else [ConMode.CRC]
    conn = Conn(host, port)
    conn.banner()
    me = hello(conn, host, port)
    handler = client.mon_handler(time.monotonic(), tuple(ConMode(m) for m in modes))
    result = authenticate(conn, handler, list(modes))
    print(f"  handler: con_mode {result.con_mode.name}, session key {len(result.session_key)}"
          f" bytes, connection secret {len(result.connection_secret)} bytes, tickets "
          f"{ {hex(s): t.ticket.secret_id for s, t in client.tickets.items()} }")
    finish(conn, result, EntityAddr(AddrType.MSGR2, 0, host, port), me)
    if mauth and result.con_mode == ConMode.CRC:
        principal_renewal(conn, client)
    conn.sock.close()
    return result


def principal_renewal(conn: Conn, client: CephxClient) -> None:
    """MAuth(CEPHX_GET_PRINCIPAL_SESSION_KEY) -> MAuthReply, the ticket renewal path."""
    payload = client.build_principal_request(time.monotonic(), keys=client.want_keys)
    front = Encoder()
    front.u64(0)  # PaxosServiceMessage: version
    front.s16(-1)  # deprecated_session_mon
    front.u64(0)  # deprecated_session_mon_tid
    front.u32(2)  # protocol CEPHX
    front.blob(payload)
    front.u32(0)  # monmap_epoch
    # ceph_msg_header2: seq, tid, type 17 (CEPH_MSG_AUTH), priority, version 1, pre_pad,
    # data_off, ack_seq, flags, compat_version, reserved
    header2 = struct.pack("<QQHHHIHQBHH", 1, 0, 17, 127, 1, 0, 0, 0, 0, 0, 0)
    conn.send_message_crc(header2, front.getvalue())
    old = {s: t.ticket.blob for s, t in client.tickets.items()}
    for _ in range(10):
        tag, segs = conn.recv_any_crc()
        if tag != 17:
            print(f"  (frame tag {tag} ignored)")
            continue
        mtype = struct.unpack_from("<H", segs[0], 16)[0]
        if mtype != 18:
            print(f"  (message type {mtype} ignored)")
            continue
        dec = Decoder(segs[1], "MAuthReply")
        proto, res, gid = dec.u32(), dec.s32(), dec.u64()
        body = dec.blob()
        msg = dec.string()
        print(f"  MAuthReply: protocol {proto} result {res} global_id {gid} payload "
              f"{len(body)} bytes msg {msg!r}")
        updated = client.handle_principal_reply(body, time.monotonic())
        changed = [hex(s) for s in updated if client.tickets[s].ticket.blob != old.get(s)]
        print(f"  principal reply decrypted: updated {[hex(s) for s in updated]}, "
              f"new ticket blobs for {changed}")
        RECORD.setdefault("mauth", []).append(
            {"request_payload": payload.hex(), "reply_front": segs[1].hex()})
        return
    raise SystemExit("no MAuthReply")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["mon", "osd", "badkey", "none"])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--mon")
    ap.add_argument("--keyring")
    ap.add_argument("--name", default="client.admin")
    ap.add_argument("--mode", choices=["crc", "secure"], default="crc")
    ap.add_argument("--osd-nonce", type=int, default=0)
    ap.add_argument("--record", help="write a replayable JSON vector here")
    a = ap.parse_args()
    host, port_s = a.addr.rsplit(":", 1)
    port = int(port_s)

    if a.what == "badkey":
        wrong = CryptoKey.from_base64(os.popen("ceph-authtool --gen-print-key").read())
        client = CephxClient(a.name, wrong)
        conn = Conn(host, port)
        conn.banner()
        hello(conn, host, port)
        t0 = time.monotonic()
        try:
            authenticate(conn, client.mon_handler(time.monotonic()), [ConMode.CRC])
        except AuthError as e:
            print(f"  raised {type(e).__name__} errno {e.errno}: {e} "
                  f"after {(time.monotonic() - t0) * 1000:.1f} ms")
            try:
                conn.sock.settimeout(2)
                extra = conn.sock.recv(100)
                print(f"  after AUTH_BAD_METHOD the mon sent {extra!r} (b'' = closed)")
            except TimeoutError:
                print("  after AUTH_BAD_METHOD the mon kept the socket open (2 s)")
            return
        raise SystemExit("wrong key was accepted!")

    if a.what == "none":
        # auth_client_required = none: AUTH_REQUEST(method 1) then straight to AUTH_DONE.
        conn = Conn(host, port)
        conn.banner()
        me = hello(conn, host, port)
        none = NoneAuthHandler(EntityName.parse(a.name))
        result = authenticate(conn, none, [ConMode.CRC])
        conn.logging = False
        tag, sig = conn.recv_frame()
        print(f"  peer AUTH_SIGNATURE (tag {tag}) with auth none: {sig.hex()}")
        zero_key = hmac.new(b"", bytes(conn.sent), hashlib.sha256).digest()
        print(f"  == 32 zero bytes: {sig == bytes(32)}; == HMAC(empty key, sent): "
              f"{sig == zero_key}")
        conn.received = bytearray()
        finish_none(conn, result, EntityAddr(AddrType.MSGR2, 0, host, port), me, sig)
        return

    assert a.keyring
    key = load_key(a.keyring, a.name)
    client = CephxClient(a.name, key, rng=recording_rng)
    RECORD.update(name=a.name, key=key, what=a.what, mode=a.mode,
                  ceph=os.popen("ceph-mon --version").read().strip())
    if a.what == "mon":
        print(f"mon login, mode {a.mode}")
        mon_login(host, port, client, a.mode, mauth=True)
        print("reconnect with the same client (global_id reclaim with old ticket)")
        mon_login(host, port, client, a.mode)
        save(a.record)
        return

    assert a.mon
    mhost, mport = a.mon.rsplit(":", 1)
    print("mon login (crc) to fetch the OSD ticket")
    mon_login(mhost, int(mport), client, "crc")
    print(f"OSD connection to {a.addr}, requesting mode {a.mode}")
    conn = Conn(host, port)
    conn.banner()
    me = hello(conn, host, port)
    handler = client.authorizer_handler(EntityType.OSD)
    modes = [ConMode.SECURE] if a.mode == "secure" else [ConMode.CRC]
    result = authenticate(conn, handler, list(modes))
    print(f"  authorizer verified (nonce+1), con_mode {result.con_mode.name}, connection secret"
          f" {len(result.connection_secret)} bytes, challenged={handler.challenged}")
    finish(conn, result, EntityAddr(AddrType.MSGR2, a.osd_nonce, host, port), me)
    save(a.record)


def save(path: str | None) -> None:
    if path:
        Path(path).write_text(json.dumps(RECORD, indent=1) + "\n")
        print(f"recorded to {path}")


if __name__ == "__main__":
    main()
