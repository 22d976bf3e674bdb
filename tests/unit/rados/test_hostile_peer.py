"""Hostile msgr2 peers (issue #21.7): a fake server that breaks the protocol on purpose.

Each case points rbdpy at tests/fake_msgr2.py's server over real TCP and checks that the
failure is typed, that it maps to a python-rados ``Error`` subclass, that nothing hangs past
the owner's timeout, and that memory stays bounded (a frame announcing 4 GiB is refused
before anything is allocated for it; a keepalive flood does not queue an answer per ping).
First at the level of one trio ``Connection``, then through a whole ``AsyncRados.connect``
hunting a monitor that misbehaves.
"""

from __future__ import annotations

import socket
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import trio

from rbdpy.rados import exceptions as rx
from rbdpy.rados.client import AsyncRados
from rbdpy.rados.proto.auth.handler import AuthMethod, ConMode
from rbdpy.rados.proto.errors import (
    BadAuthTagError,
    BadBannerError,
    BadCrcError,
    CephError,
    FrameTooLargeError,
    ProtocolError,
)
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityType
from rbdpy.rados.transport import Connection, ConnectionClosed, public_error
from tests.fake_msgr2 import FakeAuth, FakeServer, serve

# Hang guard only (the suite forbids timing assertions): far above what any case needs.
_GUARD = 30


@asynccontextmanager
async def _hostile_server(**knobs: object) -> AsyncIterator[EntityAddr]:
    """A listening fake msgr2 server misbehaving as ``knobs`` say; yields its address."""
    listener = trio.socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    await listener.bind(("127.0.0.1", 0))
    listener.listen()
    addr = EntityAddr(AddrType.MSGR2, 0, "127.0.0.1", listener.getsockname()[1])

    def make() -> FakeServer:
        return FakeServer(addr=addr, **knobs)  # type: ignore[arg-type]

    with listener:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(serve, listener, make)
            yield addr
            nursery.cancel_scope.cancel()


def _client(addr: EntityAddr, secure: bool) -> Connection:
    if secure:
        auth, modes = FakeAuth(AuthMethod.CEPHX), [ConMode.SECURE]
    else:
        auth, modes = FakeAuth(AuthMethod.NONE), [ConMode.CRC]
    return Connection(addr, auth, con_modes=modes, name="hostile",
                      peer_type=EntityType.MON)


def _server_knobs(secure: bool, **knobs: object) -> dict[str, object]:
    if secure:
        return {"auth_method": AuthMethod.CEPHX, "allowed_modes": (ConMode.SECURE,), **knobs}
    return {"auth_method": AuthMethod.NONE, "allowed_modes": (ConMode.CRC,), **knobs}


async def _run_session(secure: bool, **knobs: object) -> BaseException | None:
    """Open a session to a hostile server, read until it ends; the error it ended with.

    The hostile bytes follow SERVER_IDENT at once, so they may arrive in the handshake's
    last read (``open`` raises) or in the reader's first (``run`` records the error)."""
    async with _hostile_server(**_server_knobs(secure, **knobs)) as addr:
        conn = _client(addr, secure)
        with trio.fail_after(_GUARD):
            try:
                await conn.open()
            except CephError as e:
                assert conn.closed
                return e
            await conn.run(lambda c, ev: None)
        assert conn.closed
        return conn.error


@pytest.mark.parametrize("banner", [
    b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    b"ceph v027" + bytes(40),  # msgr1
    bytes(range(256)),
])
async def test_garbage_banner(banner: bytes) -> None:
    async with _hostile_server(**_server_knobs(False, banner=banner)) as addr:
        conn = _client(addr, secure=False)
        with trio.fail_after(_GUARD), pytest.raises((BadBannerError, ConnectionClosed)) as info:
            await conn.open()
    assert conn.closed
    assert isinstance(public_error(info.value), rx.Error)


async def test_garbage_banner_payload_length_is_bounded() -> None:
    """A banner promising 64 KiB of payload and sending 16: the client waits for the rest
    (a u16 bounds it), and the owner's timeout ends the attempt."""
    banner = b"ceph v2\n" + b"\xff\xff" + bytes(16)
    async with _hostile_server(**_server_knobs(False, banner=banner)) as addr:
        conn = _client(addr, secure=False)
        # The fake keeps the socket open waiting for our HELLO, which we never send: only
        # the owner's timeout ends this, as it should.
        with trio.move_on_after(0.5) as scope:
            await conn.open()
        assert scope.cancelled_caught
        await conn.aclose()


@pytest.mark.parametrize("secure", [False, True], ids=["crc", "secure"])
async def test_truncated_frame_then_eof(secure: bool) -> None:
    err = await _run_session(secure, hostile="truncate")
    assert isinstance(err, ConnectionClosed)
    assert isinstance(public_error(err), rx.NotConnected)


@pytest.mark.parametrize("secure", [False, True], ids=["crc", "secure"])
async def test_truncated_frame_then_silence_ends_at_the_owners_timeout(secure: bool) -> None:
    async with _hostile_server(**_server_knobs(secure, hostile="truncate_stall")) as addr:
        conn = _client(addr, secure)
        with trio.fail_after(_GUARD):
            await conn.open()
        with trio.move_on_after(0.5) as scope:  # the owner's op timeout
            await conn.run(lambda c, ev: None)
        assert scope.cancelled_caught and conn.closed and conn.error is None
    assert isinstance(public_error(trio.TooSlowError()), rx.TimedOut)


async def test_bad_crc() -> None:
    err = await _run_session(False, hostile="bad_crc")
    assert isinstance(err, BadCrcError)
    assert isinstance(public_error(err), rx.OSError) and public_error(err).errno == 74


async def test_bad_gcm_tag() -> None:
    err = await _run_session(True, hostile="bad_tag")
    assert isinstance(err, BadAuthTagError)
    assert isinstance(public_error(err), rx.OSError)


@pytest.mark.parametrize("secure", [False, True], ids=["crc", "secure"])
async def test_frame_announcing_4_gib_is_refused_before_allocating(secure: bool) -> None:
    tracemalloc.start()
    try:
        err = await _run_session(secure, hostile="huge")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(err, FrameTooLargeError) and err.size >= 1 << 32
    assert isinstance(public_error(err), rx.OSError) and public_error(err).errno == 71
    assert peak < 64 << 20  # nothing near the announced size was ever allocated


@pytest.mark.parametrize("secure", [False, True], ids=["crc", "secure"])
async def test_keepalive_flood_queues_bounded_answers(secure: bool) -> None:
    """The server pings without end and reads nothing: our KEEPALIVE2_ACKs cannot leave,
    and must not pile up one per ping while the owner waits for its timeout."""
    async with _hostile_server(**_server_knobs(secure, hostile="keepalive_flood")) as addr:
        conn = _client(addr, secure)
        with trio.fail_after(_GUARD):
            await conn.open()
        assert conn._sock is not None
        conn._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        pending: list[int] = []

        async def watch() -> None:
            while True:
                await trio.sleep(0.05)
                pending.append(sum(len(b) for b in conn._unsent)
                               + sum(len(b) for b in conn.proto._out))

        with trio.move_on_after(1.5) as scope:  # the owner's op timeout
            async with trio.open_nursery() as nursery:
                nursery.start_soon(watch)
                await conn.run(lambda c, ev: None)
        assert scope.cancelled_caught and conn.error is None
    assert pending and max(pending) < 64 * 1024


@pytest.mark.parametrize("knobs", [
    {"banner": b"HTTP/1.1 400 Bad Request\r\n\r\n"},
    {"hostile": "truncate"},
    {"hostile": "truncate_stall"},
    {"hostile": "bad_crc"},
    {"hostile": "huge"},
    {"hostile": "keepalive_flood"},
], ids=lambda k: str(next(iter(k.values())))[:16])
async def test_rados_connect_to_a_hostile_mon_fails_cleanly(knobs: dict[str, object]) -> None:
    """A whole handle hunting a hostile mon: connect() raises a python-rados Error within
    its timeout (the mon client retries the bad mon until then), nothing hangs."""
    async with _hostile_server(**_server_knobs(False, **knobs)) as addr:
        cluster = AsyncRados(conffile=None, conf={
            "mon_host": f"v2:{addr.host}:{addr.port}",
            "auth_client_required": "none",
            "ms_mon_client_mode": "crc",
        })
        with trio.fail_after(_GUARD), pytest.raises(rx.Error) as info:
            await cluster.connect(timeout=1)
        await cluster.shutdown()
    assert isinstance(info.value, rx.TimedOut)


def test_public_error_mapping() -> None:
    cases: list[tuple[BaseException, type[rx.Error]]] = [
        (BadCrcError("x"), rx.OSError),
        (ProtocolError("x"), rx.OSError),
        (ConnectionClosed("x"), rx.NotConnected),
        (trio.TooSlowError(), rx.TimedOut),
        (ConnectionRefusedError(111, "refused"), rx.OSError),
        (trio.BrokenResourceError(), rx.NotConnected),
    ]
    for exc, cls in cases:
        assert type(public_error(exc)) is cls, exc
