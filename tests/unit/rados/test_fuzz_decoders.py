"""Decoder fuzzing (issue #21.7): only ``DecodeError`` may escape a decoder.

Every decoder in rbdpy.rados.proto and rbdpy.format is fed, with hypothesis, random bytes
and mutations of real encodings: truncations, bit flips, and length-like words (2**31,
2**32 - 1, ...) written over a seed, which is how a corrupt length field reaches a decoder.
Seeds are the Ceph-encoded objects of the shared corpus (../shared/corpus, four releases)
and the recorded vectors in tests/vectors. A decoder must either return or raise
``DecodeError``: an IndexError, struct.error, ValueError, UnicodeDecodeError, MemoryError or
a hang is a bug in that decoder. Allocation is bounded by construction checks (a length
field may never make a decoder allocate more than the input left): ``_MAX_ALLOC`` below
turns an oversized allocation into a failure instead of a MemoryError.

Each target runs a bounded number of examples with no deadline, so the file stays well under
a minute on two cores.
"""

from __future__ import annotations

import inspect
import json
import os
import resource
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rbdpy.format.cls_lock as cls_lock_mod
import rbdpy.format.types as format_types
import rbdpy.rados.proto.auth.cephx as cephx_mod
import rbdpy.rados.proto.monmap as monmap_mod
import rbdpy.rados.proto.ops as ops_mod
import rbdpy.rados.proto.osdmap as osdmap_mod
import rbdpy.rados.proto.types as types_mod
from rbdpy.format.header import HEADER_KEYS, decode_header_value
from rbdpy.format.object_map import BitVector
from rbdpy.rados.proto.auth.cephx import CephxClient
from rbdpy.rados.proto.auth.handler import AuthMethod, ConMode
from rbdpy.rados.proto.crush import CrushMap
from rbdpy.rados.proto.denc import Decoder, decode_all
from rbdpy.rados.proto.errors import AuthError, DecodeError, ProtocolError
from rbdpy.rados.proto.messages import mon as _mon_messages  # noqa: F401  (registers types)
from rbdpy.rados.proto.messages import osd as _osd_messages  # noqa: F401  (registers types)
from rbdpy.rados.proto.messages.base import MESSAGE_TYPES, decode_message
from rbdpy.rados.proto.monmap import decode_monmap
from rbdpy.rados.proto.msgr2.protocol import Protocol, State
from rbdpy.rados.proto.osdmap import Incremental, OSDMap, decode_maps
from rbdpy.rados.proto.types import EntityType
from tests.conftest import REPO_ROOT, corpus_dir
from tests.fake_msgr2 import FakeAuth, FakeServer, make_client

VECTORS = REPO_ROOT / "tests" / "vectors"
_SEEDS_PER_TYPE = 4  # corpus objects per type (spread over the releases)
_MAX_SEED = 256 * 1024  # larger seeds are truncated to this (and still decode partly)
# RBDPY_FUZZ_EXAMPLES raises the budget for a longer hunt (tools/bench, not CI).
_EXAMPLES = int(os.environ.get("RBDPY_FUZZ_EXAMPLES", "40"))
_EXAMPLES_HEAVY = max(1, _EXAMPLES * 3 // 8)  # whole OSDMaps, CRUSH maps, map messages


@dataclass(frozen=True)
class Target:
    """One decoder: ``decode(bytes)`` plus the real encodings to mutate."""

    name: str
    decode: Callable[[bytes], object]
    seeds: tuple[bytes, ...]
    heavy: bool = False
    #: what the decoder may raise: DecodeError, except for the msgr2 receive path, whose
    #: contract is its typed protocol errors (and AuthError from the auth step)
    allowed: tuple[type[Exception], ...] = (DecodeError,)


# -- seeds -----------------------------------------------------------------------------------


@cache
def _corpus_seeds(ceph_type: str) -> tuple[bytes, ...]:
    root = corpus_dir()
    if not root.is_dir():
        return ()
    folder = ceph_type.replace("::", ".").replace("<2>", "_2")
    out: list[bytes] = []
    for release in sorted(p for p in root.iterdir() if p.is_dir()):
        files = sorted((release / "objects" / folder).glob("*"), key=lambda p: p.stat().st_size)
        if files:
            out.append(files[-1].read_bytes())  # the largest: the most fields in use
            if len(files) > 1:
                out.append(files[0].read_bytes())
    return tuple(out[:_SEEDS_PER_TYPE])


def _vector_files(sub: str, pattern: str = "*.bin") -> tuple[bytes, ...]:
    return tuple(p.read_bytes() for p in sorted((VECTORS / sub).glob(pattern)))


@cache
def _osd_capture() -> list[dict[str, Any]]:
    doc: list[dict[str, Any]] = json.loads((VECTORS / "osd" / "capture.json").read_text())
    return doc


@cache
def _mon_session() -> list[dict[str, Any]]:
    doc = json.loads((VECTORS / "mon_messages" / "pacific16215_mon_session.json").read_text())
    messages: list[dict[str, Any]] = doc["messages"]
    return messages


# -- targets ---------------------------------------------------------------------------------


def _decoder_classes(module: Any) -> Iterator[tuple[str, Callable[[Decoder], object], str]]:
    """(name, decode(dec), ceph type) for every class in ``module`` with a
    ``decode(cls, dec: Decoder)`` classmethod."""
    for name, obj in sorted(vars(module).items()):
        if not inspect.isclass(obj) or obj.__module__ != module.__name__:
            continue
        fn = obj.__dict__.get("decode")
        if not isinstance(fn, classmethod):
            continue
        decode: Callable[[Decoder], object] = getattr(obj, "decode")  # noqa: B009
        params = list(inspect.signature(decode).parameters)
        if not params or params[0] != "dec":
            continue
        yield name, decode, getattr(obj, "CEPH_TYPE", _CORPUS_ALIASES.get(name, name))


def _whole(fn: Callable[[Decoder], object], what: str, data: bytes) -> object:
    return decode_all(data, fn, what)


def _prefix(fn: Callable[[Decoder], object], what: str, data: bytes) -> object:
    """Decode one value from the front, as a caller embedding it in a larger buffer does."""
    return fn(Decoder(data, what))


def _message(msg_type: int, version: int, compat: int, part: int, base: tuple[bytes, ...],
             data: bytes) -> object:
    segs = list(base)
    segs[part] = data
    return decode_message(msg_type, version, compat, segs[0], segs[1], segs[2])


# Corpus folders of the types whose class name differs from Ceph's and that carry no
# CEPH_TYPE of their own.
_CORPUS_ALIASES = {
    "EntityAddr": "entity_addr_t",
    "EntityAddrvec": "entity_addrvec_t",
    "PgId": "pg_t",
    "EntityNameT": "entity_name_t",
    "MonInfo": "mon_info_t",
    "PoolSnapInfo": "pool_snap_info_t",
    "OsdReqId": "osd_reqid_t",
}


def _message_targets() -> Iterator[Target]:
    """Every registered message type, through decode_message, with recorded frames."""
    recorded: dict[int, list[tuple[int, int, bytes, bytes, bytes]]] = {}
    for m in _mon_session():
        recorded.setdefault(m["type"], []).append(
            (m["version"], m["compat"], bytes.fromhex(m["front"]),
             bytes.fromhex(m["middle"]), bytes.fromhex(m["data"])))
    for entry in _osd_capture():
        for side in ("request", "reply"):
            m = entry[side]
            recorded.setdefault(m["type"], []).append(
                (m["version"], m["compat_version"], bytes.fromhex(m["front"]), b"",
                 bytes.fromhex(m.get("data", ""))))
    for msg_type, cls in sorted(MESSAGE_TYPES.items()):
        heavy = cls.__name__ in ("MOSDMap", "MMonMap")
        # A segment is mutated with the others as recorded: an op reply's data only means
        # something next to its own front.
        samples = recorded.get(msg_type) or [(cls.HEAD_VERSION, 0, b"", b"", b"")]
        for i, (version, compat, front, middle, data) in enumerate(samples[:3]):
            base = (front, middle, data)
            for part, label in ((0, "front"), (2, "data")):
                if part and not data:
                    continue
                seeds = (base[part],) if base[part] else ()
                yield Target(f"message {cls.__name__} #{i} {label}",
                             partial(_message, msg_type, version, compat, part, base), seeds,
                             heavy)


def _op_reply_targets() -> Iterator[Target]:
    """ops.py's reply decoders: ``(rval, outdata)`` functions and ``Decoder`` readers."""
    for name, fn in sorted(vars(ops_mod).items()):
        if not name.startswith("_decode") or not callable(fn):
            continue
        params = list(inspect.signature(fn).parameters)
        if params == ["rval", "out"]:
            yield Target(f"ops.{name}", partial(_op_reply, fn), ())
        elif params == ["dec"]:
            yield Target(f"ops.{name}", partial(_whole, fn, name), ())
    yield Target("ops.decode_notify_result", ops_mod.decode_notify_result, ())


def _op_reply(fn: Callable[[int, memoryview], object], data: bytes) -> object:
    return fn(len(data), memoryview(data))


def _cls_call_targets() -> Iterator[Target]:
    """Every recorded cls_rbd / cls_lock call: its ClsCall.decode_reply on the OSD's output."""
    from tests.unit.format import cls_vectors

    recorded = cls_vectors.recorded()
    for name, (_oid, call) in sorted(cls_vectors.planned().items()):
        rec = recorded.get(name)
        if call.write or rec is None or rec.ret < 0:
            continue
        yield Target(f"cls {call.cls}.{call.method} ({name})", call.decode_reply,
                     (rec.outdata,) if rec.outdata else ())


def _header_targets() -> Iterator[Target]:
    for key in sorted(HEADER_KEYS):
        yield Target(f"rbd_header[{key}]", partial(decode_header_value, key), ())
    snap_key = "snapshot_0000000000000004"
    yield Target("rbd_header[snapshot_*]", partial(decode_header_value, snap_key),
                 _corpus_seeds("cls_rbd_snap") + _vector_files("cls_rbd", "cls_rbd_snap.bin"))


def _cephx_done(vector: str, osd: bool, data: bytes) -> object:
    """A cephx AUTH_DONE payload (mon login, or an OSD authorizer reply) replayed from a
    recorded session, with ``data`` in place of the server's payload. Auth decoders may also
    answer AuthError (a reply that does not decrypt or verify), as librados fails auth."""
    from tests.unit.rados.proto.test_cephx import ReplayRng, frames, load, replay_handshake

    v = load(vector)
    client = CephxClient(v["name"], v["key"], rng=ReplayRng(v["rng"]))
    conns = v["connections"]
    if osd:
        replay_handshake(client.mon_handler(1.0), conns[0])
        handler: Any = client.authorizer_handler(EntityType.OSD)
        conn = conns[1]
    else:
        handler = client.mon_handler(1.0)
        conn = conns[0]
    handler.build_request()
    for more in frames(conn, "rx", 4):
        handler.handle_reply_more(Decoder(more, "m").blob())
    dec = Decoder(frames(conn, "rx", 6)[0], "AUTH_DONE")
    gid, mode = dec.u64(), dec.u32()
    try:
        return handler.handle_done(gid, ConMode(mode), data)
    except AuthError:
        return None


def _cephx_payload(vector: str, osd: bool) -> tuple[bytes, ...]:
    from tests.unit.rados.proto.test_cephx import frames, load

    conn = load(vector)["connections"][1 if osd else 0]
    dec = Decoder(frames(conn, "rx", 6)[0], "AUTH_DONE")
    dec.u64()
    dec.u32()
    return (dec.blob(),)


def _cephx_targets() -> Iterator[Target]:
    for vector, osd in (("mon_crc.json", False), ("mon_secure.json", False),
                        ("osd_secure.json", True), ("osd_crc.json", True)):
        yield Target(f"cephx AUTH_DONE {vector}", partial(_cephx_done, vector, osd),
                     _cephx_payload(vector, osd))


def _msgr2_stream(factory: Callable[[], Protocol], data: bytes) -> object:
    """Feed a server's byte stream to a fresh client protocol, in two chunks then EOF."""
    proto = factory()
    proto.initiate()
    events: list[object] = []
    half = len(data) // 2
    for chunk in (data[:half], data[half:], b""):
        events += proto.receive_data(chunk)
        if proto.state is State.READY and proto.has_data_to_send:
            proto.data_to_send()
    return events


def _fake_secure_client() -> Protocol:
    return make_client(FakeAuth(AuthMethod.CEPHX), con_modes=[ConMode.SECURE])


def _fake_secure_stream() -> bytes:
    """A whole secure-mode session from the fake server: handshake, a message, a ping."""
    client = _fake_secure_client()
    server = FakeServer(auth_method=AuthMethod.CEPHX, allowed_modes=(ConMode.SECURE,))
    client.initiate()
    stream = bytearray()
    for _ in range(20):
        c2s = b"".join(bytes(b) for b in client.data_to_send())
        if c2s:
            server.receive(c2s)
        s2c = server.data_to_send()
        if server.state == "ready" and not stream.endswith(s2c):
            server.send_message(4, b"front" * 10, b"", b"data" * 30)
            s2c += server.data_to_send() + server.keepalive_frame()
        stream += s2c
        if s2c:
            client.receive_data(s2c)
        if not c2s and not s2c:
            break
    return bytes(stream)


def _msgr2_targets() -> Iterator[Target]:
    from tests.unit.rados.proto.test_protocol import MON_RX, recorded_client

    allowed = (ProtocolError, AuthError)
    yield Target("msgr2 client receive (recorded crc mon session)",
                 partial(_msgr2_stream, recorded_client), (MON_RX,), allowed=allowed)
    yield Target("msgr2 client receive (fake secure session)",
                 partial(_msgr2_stream, _fake_secure_client), (_fake_secure_stream(),),
                 allowed=allowed)


def _osdmap(verify: bool, data: bytes) -> object:
    return decode_all(data, partial(OSDMap.decode, verify_crc=verify), "OSDMap")


def _incremental(verify: bool, data: bytes) -> object:
    return decode_all(data, partial(Incremental.decode, verify_crc=verify), "Incremental")


def _targets() -> list[Target]:
    targets: list[Target] = []
    osdmaps = _corpus_seeds("OSDMap") + _vector_files("osdmap")[:2]
    incs = _corpus_seeds("OSDMap::Incremental")
    targets += [
        Target("OSDMap (crc checked)", partial(_osdmap, True), osdmaps, heavy=True),
        Target("OSDMap (crc not checked)", partial(_osdmap, False), osdmaps, heavy=True),
        Target("OSDMap::Incremental (crc checked)", partial(_incremental, True), incs, True),
        Target("OSDMap::Incremental (crc not checked)", partial(_incremental, False), incs,
               True),
        Target("CrushWrapper", CrushMap.decode,
               _corpus_seeds("CrushWrapper") + _vector_files("crush")[:4], heavy=True),
        Target("MonMap", decode_monmap, _corpus_seeds("MonMap")),
        Target("MOSDMap maps", partial(_whole, decode_maps, "maps"), ()),
        Target("BitVector<2>", BitVector.from_bytes,
               _corpus_seeds("BitVector<2>") + _corpus_seeds("ceph::BitVector<2>")
               + _vector_files("object_map")[:2]),
    ]
    modules = (types_mod, osdmap_mod, monmap_mod, cephx_mod, ops_mod, cls_lock_mod,
               format_types)
    for module in modules:
        for name, fn, ceph_type in _decoder_classes(module):
            seeds = _corpus_seeds(ceph_type)
            label = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"
            targets.append(Target(label, partial(_whole, fn, ceph_type), seeds))
            targets.append(Target(label + " (prefix)", partial(_prefix, fn, ceph_type), ()))
    targets += _message_targets()
    targets += _op_reply_targets()
    targets += _cls_call_targets()
    targets += _header_targets()
    targets += _cephx_targets()
    targets += _msgr2_targets()
    return targets


TARGETS = _targets()

# -- mutations -------------------------------------------------------------------------------

_LENGTHS = (0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 0x0100_0000, 0xFFFF, 0x1_0000)


@st.composite
def _inputs(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> bytes:
    if not seeds or draw(st.integers(0, 5)) == 0:
        return draw(st.binary(max_size=600))
    seed = draw(st.sampled_from(seeds))[:_MAX_SEED]
    if not seed:
        return seed
    kind = draw(st.sampled_from(("truncate", "flip", "length", "length", "splice")))
    pos = draw(st.integers(0, len(seed) - 1))
    if kind == "truncate":
        return seed[:pos]
    out = bytearray(seed)
    if kind == "flip":
        for p in [pos, *draw(st.lists(st.integers(0, len(seed) - 1), max_size=3))]:
            out[p] ^= 1 << draw(st.integers(0, 7))
    elif kind == "length":
        value = draw(st.sampled_from(_LENGTHS))
        out[pos:pos + 4] = struct.pack("<I", value)
    else:
        out[pos:pos + draw(st.integers(0, 64))] = draw(st.binary(max_size=64))
    return bytes(out)


# A decoder that trusts a length field tries to allocate gigabytes: cap the address space so
# that shows up as a MemoryError (a failure below) instead of swapping the machine.
_MAX_ALLOC = 2 << 30


@pytest.fixture(scope="module", autouse=True)
def _bounded_memory() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (_current_vm() + _MAX_ALLOC, hard))
    except (ValueError, OSError):
        pass
    yield
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _current_vm() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def _check(target: Target, data: bytes) -> None:
    try:
        target.decode(data)
    except target.allowed:
        pass


def _settings(target: Target) -> settings:
    return settings(max_examples=_EXAMPLES_HEAVY if target.heavy else _EXAMPLES,
                    deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_only_decode_error_escapes(target: Target) -> None:
    @_settings(target)
    @given(data=_inputs(target.seeds))
    def run(data: bytes) -> None:
        _check(target, data)

    run()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.seeds],
                         ids=[t.name for t in TARGETS if t.seeds])
def test_seed_sweeps(target: Target) -> None:
    """Deterministic sweeps over each seed: truncations (every cut in the first 64 bytes,
    then 64 cuts spread over the rest) and a huge length word (2**32 - 1) written at every
    offset of the first 64 bytes (16 for the heavy decoders), where the envelopes, counts
    and first length fields sit."""
    for seed in target.seeds:
        seed = seed[:_MAX_SEED]
        n = len(seed)
        cuts = set(range(min(n, 64))) | {n * k // 64 for k in range(64)}
        for cut in sorted(cuts):
            _check(target, seed[:cut])
        for pos in range(min(n, 16 if target.heavy else 64)):
            _check(target, seed[:pos] + b"\xff\xff\xff\xff" + seed[pos + 4:])


def test_there_are_targets_for_every_decoder_family() -> None:
    names = " ".join(t.name for t in TARGETS)
    for family in ("OSDMap", "Incremental", "CrushWrapper", "MonMap", "message MOSDMap",
                   "message MOSDOpReply", "cephx AUTH_DONE", "cephx.CephXServiceTicket",
                   "cls rbd.", "cls lock.", "BitVector", "ops._decode", "types.SnapshotInfo",
                   "cls_lock.LockInfo", "msgr2 client receive"):
        assert family in names, family
    assert all(t.seeds for t in TARGETS if t.name.startswith(("OSDMap", "CrushWrapper",
                                                                 "MonMap")))
    assert any("data" in t.name and t.seeds for t in TARGETS
               if t.name.startswith("message MOSDOpReply"))
