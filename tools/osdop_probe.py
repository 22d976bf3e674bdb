"""Live round trip: send real MOSDOps to a real OSD with rbdpy's pieces, check the answers.

Connects with :class:`rbdpy.rados.client.AsyncRados` (mon session, cephx tickets, OSD map),
places an object with :mod:`rbdpy.rados.proto.placement`, dials the acting primary's msgr2
address (with its nonce) through :class:`rbdpy.rados.transport.Connection` with a cephx
authorizer for the OSD service, and sends MOSDOps built with
:mod:`rbdpy.rados.proto.messages.osd` and :mod:`rbdpy.rados.proto.ops`. Every reply is
decoded with our decoders and compared with what the reference ``rados`` CLI reports for
the same object.

usage: .venv/bin/python tools/osdop_probe.py CONF POOL [--mode crc|secure]
Prints one line per check and exits non-zero on the first mismatch.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import Any

import trio

from rbdpy.rados.client import AsyncRados
from rbdpy.rados.proto import ops, placement
from rbdpy.rados.proto.auth.handler import ConMode
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.features import CEPH_FEATURES_SUPPORTED_DEFAULT
from rbdpy.rados.proto.messages.base import decode_message
from rbdpy.rados.proto.messages.osd import MOSDOp, MOSDOpReply
from rbdpy.rados.proto.msgr2.events import MessageReceived
from rbdpy.rados.proto.ops import ObjectLocator, OsdFlag, OSDOp, SpgId
from rbdpy.rados.proto.types import EntityType, PgId
from rbdpy.rados.transport import Connection

_failures = 0


def check(what: str, ok: bool, detail: Any = "") -> None:
    global _failures
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail != "" else ""))
    if not ok:
        _failures += 1


async def run(*argv: str) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(list(argv), check=False, capture_stdout=True,
                                  capture_stderr=True)


async def rados_cli(conf: str, pool: str, *args: str) -> bytes:
    p = await run("rados", "-c", conf, "-p", pool, *args)
    p.check_returncode()
    return p.stdout


class OsdSession:
    """Just enough of an Objecter for the probe: one connection, tid → reply."""

    def __init__(self, r: AsyncRados, pool_id: int, conn: Connection) -> None:
        self.r = r
        self.pool_id = pool_id
        self.conn = conn
        self.tid = 0
        self.waiting: dict[int, trio.Event] = {}
        self.replies: dict[int, MOSDOpReply] = {}

    def on_message(self, conn: Connection, ev: MessageReceived) -> None:
        msg = decode_message(ev.type, ev.version, ev.compat_version, bytes(ev.front),
                             bytes(ev.middle), bytes(ev.data), ev.tid)
        if isinstance(msg, MOSDOpReply) and ev.tid in self.waiting:
            self.replies[ev.tid] = msg
            self.waiting.pop(ev.tid).set()
        else:
            print(f"     (unsolicited {type(msg).__name__} tid {ev.tid})")

    async def submit(self, oid: str, op_list: list[OSDOp], write: bool,
                     nspace: str = "") -> MOSDOpReply:
        m = self.r.osdmap
        assert m is not None
        pool = m.pools[self.pool_id]
        raw = placement.object_locator_to_pg(m, self.pool_id, oid, nspace=nspace)
        pg = placement.raw_pg_to_pg(pool, raw)
        self.tid += 1
        now = time.time()
        msg = MOSDOp(
            pgid=SpgId(PgId(self.pool_id, pg.seed)), hash=raw.seed, osdmap_epoch=m.epoch,
            flags=OsdFlag.KNOWN_REDIR | OsdFlag.ONDISK
            | (OsdFlag.WRITE if write else OsdFlag.READ),
            mtime=(int(now), int((now % 1) * 1e9)) if write else (0, 0),
            oloc=ObjectLocator(pool=self.pool_id, nspace=nspace), oid=oid, ops=op_list,
            features=CEPH_FEATURES_SUPPORTED_DEFAULT)
        front, middle, pieces = msg.encode_pieces()
        # Protocol.send_message takes one data buffer today; join the pieces (see report).
        data = pieces[0] if len(pieces) == 1 else b"".join(bytes(p) for p in pieces)
        ev = trio.Event()
        self.waiting[self.tid] = ev
        await self.conn.send_message(MOSDOp.TYPE, front, middle, data, tid=self.tid,
                                     version=MOSDOp.HEAD_VERSION,
                                     compat_version=MOSDOp.COMPAT_VERSION)
        with trio.fail_after(10):
            await ev.wait()
        return self.replies.pop(self.tid)


async def probe(conf: str, pool_name: str, mode: str) -> None:
    async with AsyncRados(conffile=conf) as r:
        assert r.osdmap is not None and r.cephx is not None
        pool_id = await r.pool_lookup(pool_name)
        assert pool_id is not None, pool_name
        oid = "rbdpy_probe_obj"
        m = r.osdmap
        raw = placement.object_locator_to_pg(m, pool_id, oid)
        mapping = placement.pg_to_up_acting_osds(m, raw)
        osd = mapping.acting_primary
        addr = m.get_addrs(osd).msgr2()
        assert addr is not None
        print(f"     {oid} -> raw pg {raw.pool}.{raw.seed:08x} -> acting {mapping.acting} "
              f"primary osd.{osd} at {addr}")
        conn = Connection(addr, r.cephx.authorizer_handler(EntityType.OSD),
                          con_modes=[ConMode.SECURE if mode == "secure" else ConMode.CRC],
                          name=f"osd.{osd}", peer_type=EntityType.OSD,
                          global_seq=int(time.time()) & 0xFFFF)
        ready = await conn.open()
        check(f"msgr2 session with osd.{osd}", True, f"mode {ready.con_mode.name}")
        s = OsdSession(r, pool_id, conn)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(conn.run, s.on_message)
            await run_checks(s, conf, pool_name, oid)
            await conn.aclose()
            nursery.cancel_scope.cancel()


async def run_checks(s: OsdSession, conf: str, pool: str, oid: str) -> None:
    payload = memoryview(bytearray(b"rbdpy says hello " * 100))
    rep = await s.submit(oid, [ops.writefull(payload)], write=True)
    check("writefull", rep.result == 0, f"user_version {rep.user_version}")
    cli = await rados_cli(conf, pool, "get", oid, "-")
    check("rados get == our payload", cli == bytes(payload), len(cli))

    rep = await s.submit(oid, [ops.read(5, 10)], write=False)
    got = ops.read(5, 10).decode_reply(rep.rvals[0], rep.outdata[0])
    check("read(5, 10)", bytes(got) == bytes(payload[5:15]), bytes(got))

    stat_op = ops.stat()
    rep = await s.submit(oid, [stat_op], write=False)
    st = stat_op.decode_reply(rep.rvals[0], rep.outdata[0])
    cli_stat = (await rados_cli(conf, pool, "stat", oid)).decode()
    check("stat size", st.size == len(payload) and f"size {st.size}" in cli_stat,
          cli_stat.strip())

    rep = await s.submit(oid, [ops.setxattr("user.probe", b"xattr-value"),
                               ops.omap_set_vals({"alpha": b"1", "beta": b"22"}),
                               ops.omap_set_header(b"HEADER")], write=True)
    check("setxattr + omap_set_vals + omap_set_header (one compound op)", rep.result == 0)
    cli = await rados_cli(conf, pool, "getxattr", oid, "user.probe")
    check("rados getxattr", cli == b"xattr-value", cli)
    cli = await rados_cli(conf, pool, "getomapheader", oid, "/dev/stdout")
    check("rados getomapheader", b"HEADER" in cli, cli[:40])

    gx, gxs, vals, keys, hdr = (ops.getxattr("user.probe"), ops.getxattrs(),
                                ops.omap_get_vals2("", "", 10), ops.omap_get_keys2("alpha", 1),
                                ops.omap_get_header())
    rep = await s.submit(oid, [gx, gxs, vals, keys, hdr], write=False)
    res = [o.decode_reply(rv, out) for o, (rv, out)
           in zip((gx, gxs, vals, keys, hdr), rep.op_results(), strict=True)]
    check("getxattr", bytes(res[0]) == b"xattr-value")
    check("getxattrs", res[1].get("user.probe") == b"xattr-value", res[1])
    check("omap_get_vals2", res[2] == ({"alpha": b"1", "beta": b"22"}, False), res[2])
    check("omap_get_keys2 (max 1 after alpha)", res[3][0] == ["beta"], res[3])
    check("omap_get_header", bytes(res[4]) == b"HEADER")
    cli_keys = (await rados_cli(conf, pool, "listomapkeys", oid)).decode().split()
    check("rados listomapkeys", cli_keys == ["alpha", "beta"], cli_keys)

    rep = await s.submit(oid, [ops.cmpext(0, b"rbdpy"), ops.cmpext(0, b"rbdPy")],
                         write=False)
    check("cmpext mismatch at byte 3", ops.cmpext_mismatch(rep.result) == 3, rep.result)

    hello = ops.call("hello", "say_hello", b"probe")
    rep = await s.submit(oid, [hello], write=False)
    check("call hello.say_hello", rep.result == 0
          and bytes(hello.decode_reply(rep.rvals[0], rep.outdata[0])) == b"Hello, probe!")

    enc = Encoder()
    enc.string("")
    enc.u64(64)
    dl = ops.call("rbd", "dir_list", enc.getvalue())
    rep = await s.submit("rbd_directory", [dl], write=False)
    if rep.result == 0:
        out = Decoder(rep.outdata[0], "dir_list").map_(Decoder.string, Decoder.string)
        cli = json.loads((await run("rbd", "-c", conf, "ls", "-l", "--format", "json",
                                    pool)).stdout)
        check("call rbd.dir_list == rbd ls", sorted(out) == sorted(i["image"] for i in cli),
              out)
    else:
        check("call rbd.dir_list", rep.result == -2, f"result {rep.result} (no images)")

    lw = ops.list_watchers()
    rep = await s.submit(oid, [lw], write=False)
    check("list_watchers (none)", lw.decode_reply(rep.rvals[0], rep.outdata[0]).entries == [])

    rep = await s.submit("rbdpy_probe_missing", [ops.read(0, 1)], write=False)
    check("read of a missing object -> ENOENT", rep.result == -2, rep.result)
    rep = await s.submit(oid, [ops.create(exclusive=True)], write=True)
    check("exclusive create of an existing object -> EEXIST", rep.result == -17, rep.result)

    rep = await s.submit(oid, [ops.delete()], write=True)
    check("delete", rep.result == 0)
    gone = await run("rados", "-c", conf, "-p", pool, "stat", oid)
    check("rados stat after delete fails", gone.returncode != 0, gone.stderr.decode().strip())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("conf")
    ap.add_argument("pool")
    ap.add_argument("--mode", choices=("crc", "secure"), default="crc")
    a = ap.parse_args()
    trio.run(probe, a.conf, a.pool, a.mode)
    print("FAILED" if _failures else "all checks passed")
    sys.exit(1 if _failures else 0)


if __name__ == "__main__":
    main()
