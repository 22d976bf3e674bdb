"""The pure pieces of the object API: the LIBRADOS_OPERATION_* translation, compound-op
bookkeeping, and the pg-directed target of PGNLS."""

from __future__ import annotations

from pathlib import Path

from rbdpy.rados.ioctx import OmapResult, ReadOp, WriteOp, translate_operation_flags
from rbdpy.rados.proto.ops import OsdOp


def test_operation_flags() -> None:
    assert translate_operation_flags(0) == 0
    # BALANCE_READS, ORDER_READS_WRITES, IGNORE_OVERLAY
    assert translate_operation_flags(1 | 4 | 32) == 0x100 | 0x4000 | 0x20000


def test_compound_ops_and_sinks() -> None:
    w = WriteOp().create()
    w.new(1)
    w.write(b"abc", 4)
    w.set_flags(2)  # FAILOK on the last op
    assert [o.op for o in w._ops] == [OsdOp.CREATE, OsdOp.WRITE]
    assert w._ops[0].flags == 1 and w._ops[1].flags == 2
    w.release()
    assert w._ops == []
    r = ReadOp().create()
    assert r._compound is r
    sink = OmapResult()
    sink._fill(0, ({"b": memoryview(b"2"), "a": b"1"}, True))
    assert sink.items == [("a", b"1"), ("b", b"2")] and sink.more
    sink._fill(0, (["x", "y"], False))
    assert sink.items == [("x", None), ("y", None)]
    sink._fill(-2, None)
    assert sink.items == [] and sink.rval == -2


def test_pg_op_target_uses_precalc_seed() -> None:
    # A PGNLS op names its pg, not an object: calc_target must not hash the empty name,
    # and the acting primary must be the pg's (checked against osdmaptool's pg dump).
    from rbdpy.rados.proto.objecter_core import OpTarget, calc_target
    from rbdpy.rados.proto.osdmap import OSDMap
    from rbdpy.rados.proto.placement import pg_to_up_acting_osds
    from rbdpy.rados.proto.types import PgId

    vec = Path(__file__).parents[2] / "vectors" / "osdmap" / "live_e32.bin"
    m = OSDMap.from_bytes(vec.read_bytes())
    pool = next(pid for pid, name in m.pool_name.items() if name == "rp")
    for seed in range(m.pools[pool].pg_num):
        t = OpTarget(base_pool=pool, base_oid=b"", precalc_seed=seed, flags=0x10 | 0x20000)
        calc_target(m, t)
        assert t.raw_pgid == PgId(pool, seed) and t.pgid == PgId(pool, seed)
        assert t.osd == pg_to_up_acting_osds(m, PgId(pool, seed)).acting_primary
