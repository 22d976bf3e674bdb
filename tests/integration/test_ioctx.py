"""Issue "Objecter and the python-rados object API": AsyncIoctx against a real cluster.

Every result is checked against what Ceph itself sees: the ``rados`` CLI on the same pool,
or the reference python-rados (``/usr/bin/python3``) running the same calls.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from rbdpy.devcluster import DevCluster
from rbdpy.rados import exceptions as rx
from rbdpy.rados.client import AsyncRados
from rbdpy.rados.ioctx import LIBRADOS_ALL_NSPACES, AsyncIoctx, ReadOp, WriteOp
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

MODES = ["crc", "secure"]
SYSTEM_PYTHON = "/usr/bin/python3"


def run(*argv: str, timeout: float = 30, input: bytes | None = None,
        check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), capture_output=True, timeout=timeout, input=input,
                          check=check)


async def rados_cli(conf: str, pool: str, *args: str, check: bool = True,
                    timeout: float = 30) -> bytes:
    p = await trio.to_thread.run_sync(
        lambda: run("rados", "-c", conf, "-p", pool, *args, timeout=timeout, check=check))
    return p.stdout


def system_rados(conf: str, pool: str, body: str) -> Any:
    """Run ``body`` under the reference python-rados with ``io`` open on ``pool``; the
    script leaves its answer in ``out`` (JSON-able)."""
    script = ("import json, rados, sys\n"
              "r = rados.Rados(conffile=sys.argv[1]); r.connect()\n"
              "io = r.open_ioctx(sys.argv[2]); out = None\n"
              f"{body}\n"
              "print(json.dumps(out)); r.shutdown()\n")
    p = run(SYSTEM_PYTHON, "-c", script, conf, pool, timeout=60)
    return json.loads(p.stdout)


async def connect(conf: str, mode: str = "crc", **extra: str) -> AsyncRados:
    r = AsyncRados(conffile=conf, conf={"ms_mon_client_mode": mode, "ms_client_mode": mode,
                                        **extra})
    await r.connect(timeout=20)
    return r


@pytest.fixture
async def io(ceph_conf: str, pool: str) -> AsyncIterator[AsyncIoctx]:
    r = await connect(ceph_conf)
    try:
        yield await r.open_ioctx(pool)
    finally:
        await r.shutdown()


def plain_pool(cluster: SessionCluster) -> str:
    """A pool without `rbd pool init` (that one is in self-managed snaps mode)."""
    name = f"p-{uuid.uuid4().hex[:10]}"
    cl = cluster.control or DevCluster(cluster.conf.parent)
    cl.ceph("osd", "pool", "create", name, "8", "8")
    return name


def drop_pool(cluster: SessionCluster, name: str) -> None:
    cl = cluster.control or DevCluster(cluster.conf.parent)
    cl.pool_delete(name)


# -- object I/O ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_object_io_matches_cli(ceph_conf: str, pool: str, mode: str) -> None:
    r = await connect(ceph_conf, mode)
    try:
        io = await r.open_ioctx(pool)
        await io.write_full("a", b"hello")
        await io.write("a", b"HELLO", 10)
        await io.append("a", b"!")
        await io.writesame("s", b"ab", 8)
        await io.set_xattr("a", "user.x", b"\x00\x01xv")
        assert await rados_cli(ceph_conf, pool, "get", "a", "-") == \
            b"hello\0\0\0\0\0HELLO!"
        assert await rados_cli(ceph_conf, pool, "get", "s", "-") == b"abababab"
        assert await rados_cli(ceph_conf, pool, "getxattr", "a", "user.x") == b"\x00\x01xv"
        stat = (await rados_cli(ceph_conf, pool, "stat", "a")).decode()
        size, mtime = await io.stat("a")
        assert stat.strip().endswith(f"size {size}") and size == 16
        assert abs(time.mktime(mtime) - time.time()) < 120
        # The CLI writes, we read.
        await rados_cli(ceph_conf, pool, "setxattr", "a", "fromcli", "v2")
        assert await io.get_xattrs("a") == {"user.x": b"\x00\x01xv", "fromcli": b"v2"}
        await io.rm_xattr("a", "user.x")
        assert await io.get_xattrs("a") == {"fromcli": b"v2"}
        assert await io.trunc("a", 3) == 0
        assert await io.read("a") == b"hel"
        assert io.get_last_version() > 0
        assert await io.remove_object("a") is True
        with pytest.raises(rx.ObjectNotFound, match=r"Failed to stat 'a'"):
            await io.stat("a")
        with pytest.raises(rx.ObjectNotFound):
            await io.read("a")
    finally:
        await r.shutdown()


async def test_names_empty_objects_and_eof_like_python_rados(ceph_conf: str, pool: str,
                                                             io: AsyncIoctx) -> None:
    names = ["plain", "sp ace/ü€", b"bin\xff\xfe\x01name".decode("utf-8", "surrogateescape")]
    payload = bytes(range(256)) * 3
    for n in names:
        await io.write_full(n, payload)
    await io.write_full("empty", b"")
    await io.create("created")
    with pytest.raises(rx.ObjectExists):
        await io.create("created")
    with pytest.raises(rx.OSError) as ei:
        await io.read("plain", 0, 0)  # librados: the whole object does not fit: ERANGE
    assert ei.value.errno == 34
    ours = {
        "plain": (await io.read("plain", 100, 700)).hex(),
        "past_eof": (await io.read("plain", 10, 10_000)).hex(),
        "zero_len_at_eof": (await io.read("plain", 0, len(payload))).hex(),
        "empty": (await io.read("empty")).hex(),
        "empty_size": (await io.stat("empty"))[0],
        "created_size": (await io.stat("created"))[0],
        "utf8": (await io.read("sp ace/ü€", 5)).hex(),
    }
    theirs = system_rados(ceph_conf, pool, """
out = {"plain": io.read("plain", 100, 700).hex(),
       "past_eof": io.read("plain", 10, 10000).hex(),
       "zero_len_at_eof": io.read("plain", 0, 768).hex(),
       "empty": io.read("empty").hex(),
       "empty_size": io.stat("empty")[0],
       "created_size": io.stat("created")[0],
       "utf8": io.read("sp ace/ü€", 5).hex()}
try:
    io.read("plain", 0, 0)
except rados.OSError as e:
    out["zero_len_errno"] = e.errno
""")
    assert theirs.pop("zero_len_errno") == 34
    assert ours == theirs
    # python-rados cannot name a non-UTF-8 object; we send the raw bytes.
    assert await io.read(names[2], 4) == payload[:4]
    # The binary name went out as its raw bytes: the CLI lists it.
    listed = await rados_cli(ceph_conf, pool, "ls")
    assert b"bin\xff\xfe\x01name" in listed.split(b"\n")


async def test_omap_compound_ops_match_cli(ceph_conf: str, pool: str,
                                           io: AsyncIoctx) -> None:
    keys = ["a", "b1", "b2", "c", "ключ"]
    vals = [b"", b"\x00\xff", b"2", b"x" * 1000, "ü".encode()]
    with_op = io.create_write_op()
    with_op.new(0)
    io.set_omap(with_op, keys, vals)
    with_op.set_xattr("attr", b"v")
    await io.operate_write_op(with_op, "om")
    cli = await rados_cli(ceph_conf, pool, "listomapkeys", "om")
    assert cli.decode().split("\n")[:-1] == sorted(keys)
    rop = ReadOp().create()
    vals_it, ret = io.get_omap_vals(rop, "a", "b", 10)
    keys_it, _ = io.get_omap_keys(rop, "", 2)
    byk_it, _ = io.get_omap_vals_by_keys(rop, ["c", "missing", "ключ"])
    await io.operate_read_op(rop, "om")
    assert ret == 0
    assert vals_it.items == [("b1", b"\x00\xff"), ("b2", b"2")]
    assert keys_it.items == [("a", None), ("b1", None)] and keys_it.more
    assert byk_it.items == [("c", b"x" * 1000), ("ключ", "ü".encode())]
    theirs = system_rados(ceph_conf, pool, """
import rados as R
with R.ReadOpCtx() as op:
    it, _ = io.get_omap_vals(op, "", "", 100)
    io.operate_read_op(op, "om")
    out = [[k, v.hex() if v is not None else None] for k, v in it]
""")
    # python-rados yields None for an empty value (librados hands it a NULL pointer).
    assert theirs == [[k, v.hex() if v else None]
                      for k, v in sorted(zip(keys, vals, strict=True))]
    wop = WriteOp().create()
    io.remove_omap_keys(wop, ["a"])
    io.remove_omap_range2(wop, "b", "c")
    await io.operate_write_op(wop, "om")
    assert (await rados_cli(ceph_conf, pool, "listomapkeys", "om")).decode().split() == \
        ["c", "ключ"]
    wop = WriteOp().create()
    io.clear_omap(wop)
    await io.operate_write_op(wop, "om")
    assert await rados_cli(ceph_conf, pool, "listomapkeys", "om") == b""
    # A failing compound op fails as a whole, with python-rados' message.
    wop = WriteOp().create()
    wop.new(1)
    with pytest.raises(rx.ObjectExists, match="Failed to operate write op for oid om"):
        await io.operate_write_op(wop, "om")


async def test_cmpext_matches_python_rados(ceph_conf: str, pool: str, io: AsyncIoctx) -> None:
    await io.write_full("c", b"abcdef")
    ours = [await io.cmpext("c", b"abc"), await io.cmpext("c", b"abX", 0),
            await io.cmpext("c", b"def", 3)]
    theirs = system_rados(ceph_conf, pool, """
out = [io.cmpext("c", b"abc"), io.cmpext("c", b"abX", 0), io.cmpext("c", b"def", 3)]
""")
    assert ours == theirs == [0, -4095 - 2, 0]


async def test_list_objects_all_namespaces(ceph_conf: str, pool: str,
                                           io: AsyncIoctx) -> None:
    want = set()
    for ns in ["", "ns1", "ns2"]:
        io.set_namespace(ns)
        for i in range(25):
            await io.write_full(f"o{i}", b"")
            want.add((f"o{i}", ns))
    io.set_namespace("ns1")
    assert sorted([o async for o, _, _ in io.list_objects()]) == \
        sorted(f"o{i}" for i in range(25))
    io.set_namespace(LIBRADOS_ALL_NSPACES)
    got = {(o, ns) async for o, ns, _ in io.list_objects()}
    got.discard(("rbd_info", ""))  # from `rbd pool init`
    assert got == want
    cli = (await rados_cli(ceph_conf, pool, "ls", "--all")).decode().splitlines()
    cli_set = {(line.split("\t")[-1], line.split("\t")[0] if "\t" in line else "")
               for line in cli}
    cli_set.discard(("rbd_info", ""))
    assert cli_set == want


async def test_locks_match_cli(ceph_conf: str, pool: str, io: AsyncIoctx) -> None:
    await io.write_full("l", b"")
    await io.lock_exclusive("l", "lk", "c1", "my desc", 60)
    info = json.loads(await rados_cli(ceph_conf, pool, "lock", "info", "l", "lk"))
    assert info["type"] == "exclusive"
    assert [(x["cookie"], x["description"]) for x in info["lockers"]] == [("c1", "my desc")]
    with pytest.raises(rx.ObjectBusy, match=r"failed to set lock lk on l"):
        await io.lock_exclusive("l", "lk", "c2")
    await io.unlock("l", "lk", "c1")
    with pytest.raises(rx.ObjectNotFound):
        await io.unlock("l", "lk", "c1")
    await io.lock_shared("l", "sh", "c1", "tag")
    await io.lock_shared("l", "sh", "c2", "tag")
    info = json.loads(await rados_cli(ceph_conf, pool, "lock", "info", "l", "sh"))
    assert info["type"] == "shared" and info["tag"] == "tag"
    assert sorted(x["cookie"] for x in info["lockers"]) == ["c1", "c2"]


async def test_pool_snapshots(ceph_conf: str, cluster: SessionCluster) -> None:
    name = await trio.to_thread.run_sync(plain_pool, cluster)
    r = await connect(ceph_conf)
    try:
        await r.wait_for_latest_osdmap()
        io = await r.open_ioctx(name)
        await io.write_full("o", b"before")
        await io.create_snap("s1")
        with pytest.raises(rx.ObjectExists, match="Failed to create snap s1"):
            await io.create_snap("s1")
        sid = await io.lookup_snap("s1")
        cli = (await rados_cli(ceph_conf, name, "lssnap")).decode()
        assert f"{sid}\ts1" in cli
        assert [s[:2] for s in await io.list_snaps()] == [(sid, "s1")]
        assert abs(await io.get_snap_stamp(sid) - time.time()) < 120
        await io.write_full("o", b"after!")
        io.set_read(sid)
        assert await io.read("o") == b"before"
        io.set_read(0xFFFF_FFFF_FFFF_FFFE)
        await io.snap_rollback("o", "s1")
        assert await rados_cli(ceph_conf, name, "get", "o", "-") == b"before"
        await io.remove_snap("s1")
        with pytest.raises(rx.ObjectNotFound, match="Failed to lookup snap s1"):
            await io.lookup_snap("s1")
    finally:
        await r.shutdown()
        await trio.to_thread.run_sync(drop_pool, cluster, name)


async def test_self_managed_snapshots(ceph_conf: str, pool: str, io: AsyncIoctx) -> None:
    await io.write_full("o", b"v1")
    sid = await io.create_self_managed_snap()
    io.set_self_managed_snap_write([sid])
    await io.write_full("o", b"v2")
    snaps = (await rados_cli(ceph_conf, pool, "listsnaps", "o")).decode()
    assert f"{sid}\t{sid}\t2" in snaps  # the clone the snap context produced
    io.set_read(sid)
    assert await io.read("o") == b"v1"
    io.set_read(0xFFFF_FFFF_FFFF_FFFE)
    await io.rollback_self_managed_snap("o", sid)
    assert await rados_cli(ceph_conf, pool, "get", "o", "-") == b"v1"
    await io.remove_self_managed_snap(sid)


async def test_application_metadata_matches_cli(ceph_conf: str, pool: str,
                                                io: AsyncIoctx) -> None:
    assert await io.application_list() == ["rbd"]
    await io.application_enable("app2", force=True)
    await io.application_metadata_set("app2", "k", "v")
    cli = json.loads((await trio.to_thread.run_sync(lambda: run(
        "ceph", "-c", ceph_conf, "osd", "pool", "application", "get", pool,
        "--format", "json"))).stdout)
    assert cli["app2"] == {"k": "v"}
    assert sorted(await io.application_list()) == sorted(cli)
    assert await io.application_metadata_get("app2", "k") == "v"
    assert await io.application_metadata_list("app2") == [("k", "v")]
    await io.application_metadata_remove("app2", "k")
    assert await io.application_metadata_list("app2") == []
    with pytest.raises(rx.ObjectNotFound):
        await io.application_metadata_get("app2", "k")
    with pytest.raises(rx.OSError):
        await io.application_enable("app3")  # a second app needs force (EPERM)


async def test_get_stats_like_python_rados(ceph_conf: str, pool: str, io: AsyncIoctx) -> None:
    ours = await io.get_stats()
    theirs = system_rados(ceph_conf, pool, "out = io.get_stats()")
    assert set(ours) == set(theirs)
    assert all(isinstance(v, int) for v in ours.values())


# -- watch / notify --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_watch_notify_with_cli_peers(ceph_conf: str, pool: str, mode: str) -> None:
    r = await connect(ceph_conf, mode)
    try:
        io = await r.open_ioctx(pool)
        await io.write_full("w", b"")
        got: list[tuple[int, bytes]] = []

        def cb(notify_id: int, notifier: int, cookie: int, data: bytes) -> bytes:
            got.append((cookie, data))
            return b"pong:" + data[-2:]

        w = await io.watch("w", cb)
        assert w.check() < 5
        watchers = (await rados_cli(ceph_conf, pool, "listwatchers", "w")).decode()
        assert f"client.{r.get_instance_id()} cookie={w.get_id()}" in watchers
        # A CLI notifier gets our acknowledgement payload.
        out = (await rados_cli(ceph_conf, pool, "notify", "w", "hi")).decode()
        assert f"reply client.{r.get_instance_id()} cookie {w.get_id()}" in out
        assert "pong:hi" in out
        assert got and got[-1][0] == w.get_id() and got[-1][1].endswith(b"hi")
        # Our notify reaches ourselves and a CLI watcher.
        # `rados watch` runs until its stdin closes ("press enter to exit").
        proc = await trio.lowlevel.open_process(
            ["rados", "-c", ceph_conf, "-p", pool, "watch", "w"], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            with trio.fail_after(20):
                # Polling another process: there is no event to wait on.
                for _ in range(200):
                    out = await rados_cli(ceph_conf, pool, "listwatchers", "w")
                    if out.count(b"watcher=") >= 2:
                        break
                    await trio.sleep(0.2)
            ret, acks, timeouts = await io.aio_notify("w", b"xy", 5000)
            assert ret == 0 and timeouts == []
            assert acks is not None and len(acks) == 2
            mine = [a for a in acks if a[1] == w.get_id()]
            assert mine and mine[0][2] == b"pong:xy"
            assert await io.notify("w", "again", 5000) is True
        finally:
            proc.kill()
            await proc.wait()
        cookie = w.get_id()
        await w.close()
        # (The killed CLI watcher lingers on the OSD until its 30 s timeout.)
        assert f"cookie={cookie}\n".encode() not in \
            await rados_cli(ceph_conf, pool, "listwatchers", "w")
    finally:
        await r.shutdown()


async def test_watch_survives_osd_session_reset(ceph_conf: str, pool: str,
                                                io: AsyncIoctx) -> None:
    await io.write_full("w", b"")
    got: list[bytes] = []
    w = await io.watch("w", lambda n, g, c, d: got.append(d))
    # Drop every OSD connection under the watch, as a network fault would.
    objecter = io.rados._objecter()
    for s in list(objecter.sessions.values()):
        if s.conn is not None:
            assert s.conn._sock is not None
            s.conn._sock.shutdown(socket.SHUT_RDWR)  # as a network fault would
    # The OSD keeps the watch but sees it disconnected; the keepalive re-registers it.
    with trio.fail_after(30):
        while True:
            await trio.sleep(0.5)
            if w._linger.gen > 0 and not w._linger.last_error:
                break
    out = (await rados_cli(ceph_conf, pool, "notify", "w", "after-reset")).decode()
    assert f"cookie {w.get_id()}" in out
    assert got and got[-1].endswith(b"after-reset")
    await w.close()


async def test_notify_is_sent_again_when_its_session_drops_before_completion(
        ceph_conf: str, pool: str, io: AsyncIoctx) -> None:
    """The notifier's OSD session drops after the NOTIFY reply and before NOTIFY_COMPLETE
    (which would come on that session): the notify is sent again on the new session and
    completes with the watcher's ack, as librados resends a linger notify after a reset,
    instead of timing out."""
    await io.write_full("nw", b"")
    w = await io.watch("nw", lambda nid, gid, cookie, data: b"ack:" + data)
    notifier = await connect(ceph_conf)
    try:
        nio = await notifier.open_ioctx(pool)
        objecter = notifier.require_objecter()
        original = objecter._handle_reply
        dropped: list[str] = []

        def drop_after_first_reply(conn: Any, reply: Any) -> None:
            original(conn, reply)
            if not dropped:
                dropped.append(conn.name)
                if conn._sock is not None:
                    conn._sock.shutdown(socket.SHUT_RDWR)  # as a network fault would

        objecter._handle_reply = drop_after_first_reply  # type: ignore[method-assign]
        with trio.fail_after(60):
            ret, acks, timeouts = await nio.aio_notify("nw", b"ping", 3000)
        assert dropped
        assert ret == 0 and timeouts == [], (ret, timeouts)
        assert acks is not None and [a[2] for a in acks if a[1] == w.get_id()] == \
            [b"ack:ping"]
    finally:
        await notifier.shutdown()
        await w.close()


# -- errors ------------------------------------------------------------------------------------


async def test_unknown_and_removed_pool_fail_fast(ceph_conf: str,
                                                  cluster: SessionCluster) -> None:
    r = await connect(ceph_conf)
    try:
        with trio.fail_after(5):
            with pytest.raises(rx.ObjectNotFound, match="error opening pool 'no-such-pool'"):
                await r.open_ioctx("no-such-pool")
        name = await trio.to_thread.run_sync(plain_pool, cluster)
        await r.wait_for_latest_osdmap()
        io = await r.open_ioctx(name)
        await io.write_full("x", b"1")
        await trio.to_thread.run_sync(drop_pool, cluster, name)
        await r.wait_for_latest_osdmap()
        with trio.fail_after(10):
            with pytest.raises(rx.ObjectNotFound):
                await io.read("x")
            with pytest.raises(rx.ObjectNotFound):
                await io.write_full("x", b"2")
    finally:
        await r.shutdown()


async def test_read_only_key_gets_permission_error(ceph_conf: str, pool: str,
                                                   tmp_path: Path) -> None:
    name = f"ro{uuid.uuid4().hex[:6]}"
    keyring = tmp_path / "ro.keyring"
    p = await trio.to_thread.run_sync(lambda: run(
        "ceph", "-c", ceph_conf, "auth", "get-or-create", f"client.{name}", "mon", "allow r",
        "osd", "allow r", "-o", str(keyring)))
    assert p.returncode == 0
    r = AsyncRados(conffile=ceph_conf, name=f"client.{name}",
                   conf={"keyring": str(keyring)})
    await r.connect(timeout=20)
    try:
        io = await r.open_ioctx(pool)
        await rados_cli(ceph_conf, pool, "put", "obj", "/dev/null")
        assert await io.read("obj") == b""
        with trio.fail_after(10):
            with pytest.raises(rx.PermissionError):
                await io.write_full("obj", b"nope")
    finally:
        await r.shutdown()
        await trio.to_thread.run_sync(lambda: run(
            "ceph", "-c", ceph_conf, "auth", "rm", f"client.{name}", check=False))


# -- OSD restart under load (its own small bluestore cluster) --------------------------------


@pytest.mark.slow
async def test_write_read_loop_survives_osd_restart(tmp_path: Path) -> None:
    cl = DevCluster(tmp_path / "cl")
    await trio.to_thread.run_sync(
        lambda: cl.start(osds=2, objectstore="bluestore", bluestore_bytes=4 << 30))
    try:
        await trio.to_thread.run_sync(lambda: cl.pool_create("rp", size=1))
        r = await connect(str(cl.conf_path))
        acked: dict[str, bytes] = {}
        count = [0]
        target: list[int | None] = [None]
        try:
            io = await r.open_ioctx("rp")

            async def writer() -> None:
                i = 0
                while target[0] is None or i < target[0]:
                    data = os.urandom(16) * (1 << 18)  # 4 MiB
                    await io.write_full(f"obj{i % 8}", data)
                    acked[f"obj{i % 8}"] = data
                    assert await io.read(f"obj{i % 8}", len(data)) == data
                    i += 1
                    count[0] = i

            async with trio.open_nursery() as nursery:
                nursery.start_soon(writer)
                await trio.sleep(1)
                before = count[0]
                await trio.to_thread.run_sync(lambda: cl.restart("osd.0"))
                # Keep going until every object has been rewritten after the restart.
                target[0] = count[0] + 16
            assert before > 0
            for name, data in acked.items():
                assert await io.read(name, len(data)) == data
        finally:
            await r.shutdown()
    finally:
        await trio.to_thread.run_sync(cl.stop)
