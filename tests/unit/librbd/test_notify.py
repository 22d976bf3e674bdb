"""librbd watch/notify payloads and the pure helpers of the RBD image layer.

The notify payloads are pinned by bytes librbd 16.2.15 sent on a real cluster
(tests/vectors/librbd_notify, see its README).
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import trio

from rbdpy.format.watch_notify import (
    NotifyOp,
    decode_notify_op,
    encode_notify,
    encode_response,
)
from rbdpy.librbd.coerce import as_uint64
from rbdpy.librbd.concurrency import fan_out
from rbdpy.librbd.io import _prune
from rbdpy.librbd.object_map import _runs
from rbdpy.rados.proto.errors import CephError
from rbdpy.striping.striper import ObjectExtent

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "librbd_notify"


def _payloads() -> list[dict[str, object]]:
    data = json.loads((VECTORS / "notify_payloads.json").read_text())
    out: list[dict[str, object]] = data["payloads"]
    for p in out:
        p["gid"] = data["gid"]
    return out


@pytest.mark.parametrize("vec", _payloads(), ids=lambda v: str(v["op"]))
def test_notify_payloads_match_librbd(vec: dict[str, object]) -> None:
    raw = bytes.fromhex(str(vec["hex"]))
    op = getattr(NotifyOp, str(vec["op"]))
    assert decode_notify_op(raw) == op
    force = vec.get("force")
    ours = encode_notify(op, int(vec["gid"]), int(vec.get("handle", 0)),  # type: ignore
                         None if force is None else bool(force))
    assert ours == raw


def test_notify_decode_edge_cases() -> None:
    assert decode_notify_op(b"") == NotifyOp.HEADER_UPDATE  # legacy empty payload
    assert decode_notify_op(b"\x07") is None  # truncated
    # a newer sender (v9) with compat 1 and an unknown tail still decodes
    assert decode_notify_op(bytes.fromhex("0901080000000200000000000000")) == 2
    assert decode_notify_op(bytes.fromhex("0902040000000300000000")) is None  # compat 2


def test_response_message() -> None:
    assert encode_response(0) == bytes.fromhex("01010400000000000000")
    assert encode_response(-errno.EROFS) == bytes.fromhex("010104000000e2ffffff")


def test_as_uint64_like_cython() -> None:
    assert as_uint64(5) == 5
    assert as_uint64(1.9) == 1
    with pytest.raises(OverflowError, match="can't convert negative value to uint64_t"):
        as_uint64(-1)
    with pytest.raises(OverflowError):
        as_uint64(1 << 64)
    with pytest.raises(TypeError):
        as_uint64("3")


def test_runs_and_prune() -> None:
    assert _runs([1, 2, 3, 7, 9, 10]) == [(1, 4), (7, 8), (9, 11)]
    assert _runs([]) == []
    ex = [ObjectExtent(0, 100, 200_000), ObjectExtent(1, 0, 65536), ObjectExtent(2, 10, 100)]
    pruned = _prune(ex, 65536)
    assert [(e.objectno, e.offset, e.length) for e in pruned] == [(0, 65536, 131072),
                                                                  (1, 0, 65536)]


async def test_fan_out_raises_first_failure_in_order() -> None:
    done: list[int] = []

    def job(i: int):  # type: ignore[no-untyped-def]
        async def run() -> None:
            await trio.sleep(0.01 * (5 - i))
            if i in (1, 3):
                raise CephError(errno.EIO if i == 1 else errno.ENOSPC, f"job {i}")
            done.append(i)
        return run

    with pytest.raises(CephError) as ei:
        await fan_out([job(i) for i in range(5)], limit=2)
    assert ei.value.errno == errno.EIO
    assert sorted(done) == [0, 2, 4]  # the others still ran to completion
