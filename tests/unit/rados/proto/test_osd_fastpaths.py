"""The hot-path MOSDOp encoder and MOSDOpReply decoder agree with the generic ones.

``encode_osd_op_front`` (what the Objecter sends per request) and
``MOSDOpReply._decode_fast`` (every reply) are hand-packed with precompiled Structs; the
generic Encoder/Decoder versions stay as the reference. Both are pinned here against the
frames captured from librados 16.2.15 and its OSD (tests/vectors/osd/capture.json).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from rbdpy.rados.proto import ops
from rbdpy.rados.proto.messages.base import decode_message
from rbdpy.rados.proto.messages.osd import (
    MOSDOp,
    MOSDOpReply,
    RequestRedirect,
    encode_osd_op_front,
)
from rbdpy.rados.proto.ops import ObjectLocator
from rbdpy.rados.proto.types import PgId

VECTORS = Path(__file__).parents[3] / "vectors" / "osd" / "capture.json"
CAPTURE: list[dict[str, Any]] = json.loads(VECTORS.read_text())


def _decode(seg: dict[str, Any]) -> Any:
    return decode_message(seg["type"], seg["version"], seg["compat_version"],
                          bytes.fromhex(seg["front"]), b"", bytes.fromhex(seg["data"]),
                          seg["tid"])


@pytest.mark.parametrize("vec", CAPTURE, ids=lambda v: v["name"])
def test_request_fast_front_is_the_captured_bytes(vec: dict[str, Any]) -> None:
    m = _decode(vec["request"])
    assert isinstance(m, MOSDOp)
    want = vec["request"]["front"]
    assert m.encode_front().hex() == want
    assert m._encode_front_generic().hex() == want
    # The Objecter's call: bytes names, the folded pg and the raw hash passed apart.
    enc = "utf-8", "surrogateescape"
    oid = m.oid.encode(*enc) if isinstance(m.oid, str) else m.oid
    front = encode_osd_op_front(
        m.pgid.pgid.pool, m.pgid.pgid.seed, m.pgid.shard, m.hash, m.osdmap_epoch, m.flags,
        m.client_inc, m.mtime, m.oloc.pool, m.oloc.key.encode(*enc),
        m.oloc.nspace.encode(*enc), m.oloc.hash, oid, m.ops, m.snapid, m.snap_seq,
        tuple(m.snaps), m.retry_attempt, m.features)
    assert front.hex() == want


@pytest.mark.parametrize("vec", CAPTURE, ids=lambda v: v["name"])
def test_reply_fast_decode_equals_generic(vec: dict[str, Any]) -> None:
    seg = vec["reply"]
    front = memoryview(bytes.fromhex(seg["front"]))
    data = memoryview(bytes.fromhex(seg["data"]))
    fast = MOSDOpReply._decode_fast(seg["version"], front, data)
    generic = MOSDOpReply._decode_generic(seg["version"], front, memoryview(b""), data)
    assert fast is not None
    assert fast == generic
    assert [bytes(x) for x in fast.outdata] == [bytes(x) for x in generic.outdata]


def test_non_default_reqid_takes_the_generic_path() -> None:
    m = MOSDOp(pgid=ops.SpgId(PgId(1, 2)), oid="o", ops=[ops.stat()],
               reqid=ops.OsdReqId(ops.EntityNameT(8, 4100), 7, 1))
    assert m.encode_front() == m._encode_front_generic()
    assert m.encode_front() != MOSDOp(pgid=ops.SpgId(PgId(1, 2)), oid="o",
                                      ops=[ops.stat()]).encode_front()


def test_request_with_snaps_and_locator() -> None:
    payload = os.urandom(100)
    m = MOSDOp(pgid=ops.SpgId(PgId(3, 5)), hash=0xDEADBEEF, osdmap_epoch=9, flags=0x24,
               mtime=(1700000000, 5), oloc=ObjectLocator(3, "key", "ns", -1), oid="obj",
               ops=[ops.write(4096, payload), ops.set_alloc_hint(1 << 22, 1 << 22, 0)],
               snap_seq=12, snaps=[12, 9, 4], retry_attempt=2, features=0x3F)
    assert m.encode_front() == m._encode_front_generic()


def test_redirect_reply_falls_back_to_generic() -> None:
    rep = MOSDOpReply(oid="o", pgid=PgId(3, 1), flags=0x25, result=0, osdmap_epoch=7,
                      ops=[ops.OSDOp(ops.OsdOp.READ, payload_len=3)], rvals=[0],
                      outdata=[memoryview(b"abc")],
                      redirect=RequestRedirect(ObjectLocator(5), "other"))
    front, _, data = rep.encode()
    fm, dm = memoryview(bytes(front)), memoryview(bytes(data))
    assert MOSDOpReply._decode_fast(8, fm, dm) is None
    back = MOSDOpReply.decode(8, fm, memoryview(b""), dm)
    assert back.redirect == RequestRedirect(ObjectLocator(5), "other")
    assert bytes(back.outdata[0]) == b"abc"
