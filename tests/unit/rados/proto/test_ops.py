"""OSD op builders, ceph_osd_op layout, reply decoders and the small OSD wire types.

The wire types are pinned by Ceph's object corpus (every object of every release decodes,
and decode → encode → decode is stable; Pacific objects re-encode to the same bytes);
the builders by the librados capture in test_osd_messages.py and by the layout checks here.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rbdpy.rados.proto import ops
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.errors import CephError, DecodeError
from rbdpy.rados.proto.messages.osd import RequestRedirect
from rbdpy.rados.proto.ops import (
    CloneInfo,
    CmpXattrMode,
    CmpXattrOp,
    HObject,
    ObjectLocator,
    ObjListSnapResponse,
    ObjListWatchResponse,
    OSDOp,
    OsdOp,
    OsdOpFlag,
    OsdReqId,
    PgNlsResponse,
    SpgId,
    WatchItem,
    WatchOp,
)
from tests.conftest import corpus_dir

_CORPUS = corpus_dir()
PACIFIC = "16.2.0-90-g50f1821b4c"

CORPUS_TYPES: dict[str, Any] = {
    "object_locator_t": ObjectLocator,
    "hobject_t": HObject,
    "spg_t": SpgId,
    "pg_nls_response_t": PgNlsResponse,
    "watch_item_t": WatchItem,
    "obj_list_watch_response_t": ObjListWatchResponse,
    "obj_list_snap_response_t": ObjListSnapResponse,
    "request_redirect_t": RequestRedirect,
}


def _corpus_files(type_name: str) -> list[Path]:
    if not _CORPUS.is_dir():
        return []
    return sorted(_CORPUS.glob(f"*/objects/{type_name}/*"))


@pytest.mark.parametrize("type_name", sorted(CORPUS_TYPES))
def test_corpus(type_name: str) -> None:
    files = _corpus_files(type_name)
    if not files:
        pytest.skip(f"corpus not found at {_CORPUS}")
    cls = CORPUS_TYPES[type_name]
    assert cls.CEPH_TYPE == type_name
    for f in files:
        raw = f.read_bytes()
        value = decode_all(raw, cls.decode, type_name)
        enc = Encoder()
        value.encode(enc)
        again = decode_all(enc.getvalue(), cls.decode, type_name)
        assert again == value, f
        if PACIFIC in str(f):
            # Pacific writes exactly what we write.
            assert enc.getvalue() == raw, f


def test_corpus_samples_make_sense() -> None:
    files = _corpus_files("object_locator_t")
    if not files:
        pytest.skip("corpus not found")
    locs = [decode_all(f.read_bytes(), ObjectLocator.decode, "l") for f in files]
    assert any(loc.nspace for loc in locs) or any(loc.key for loc in locs)
    wl = [decode_all(f.read_bytes(), ObjListWatchResponse.decode, "w")
          for f in _corpus_files("obj_list_watch_response_t")]
    assert any(w.entries and w.entries[0].addr.host for w in wl)


# -- ceph_osd_op layout ----------------------------------------------------------------------------


def _record(o: OSDOp) -> bytes:
    enc = Encoder()
    o.encode(enc)
    return enc.getvalue()


def test_osd_op_is_38_bytes_and_roundtrips() -> None:
    o = ops.write(0x1122, b"abc", flags=OsdOpFlag.FADVISE_NOCACHE, truncate_size=7,
                  truncate_seq=3)
    raw = _record(o)
    assert len(raw) == ops.OSD_OP_LEN == 38
    assert raw[:6] == struct.pack("<HI", 0x2201, 0x40)
    assert raw[-4:] == struct.pack("<I", 3)  # payload_len = input length
    back = OSDOp.decode(Decoder(raw))
    assert (back.op, back.flags, back.payload_len) == (0x2201, 0x40, 3)
    assert back.extent == (0x1122, 3, 7, 3)


@pytest.mark.parametrize(("op", "code"), [
    (OsdOp.READ, 0x1201), (OsdOp.STAT, 0x1202), (OsdOp.SPARSE_READ, 0x1205),
    (OsdOp.NOTIFY, 0x1206), (OsdOp.NOTIFY_ACK, 0x1207), (OsdOp.ASSERT_VER, 0x1208),
    (OsdOp.LIST_WATCHERS, 0x1209), (OsdOp.LIST_SNAPS, 0x120A), (OsdOp.WRITE, 0x2201),
    (OsdOp.WRITEFULL, 0x2202), (OsdOp.TRUNCATE, 0x2203), (OsdOp.ZERO, 0x2204),
    (OsdOp.DELETE, 0x2205), (OsdOp.APPEND, 0x2206), (OsdOp.CREATE, 0x220D),
    (OsdOp.ROLLBACK, 0x220E), (OsdOp.WATCH, 0x220F), (OsdOp.OMAPGETKEYS, 0x1211),
    (OsdOp.OMAPGETVALS, 0x1212), (OsdOp.OMAPGETHEADER, 0x1213),
    (OsdOp.OMAPGETVALSBYKEYS, 0x1214), (OsdOp.OMAPSETVALS, 0x2215),
    (OsdOp.OMAPSETHEADER, 0x2216), (OsdOp.OMAPCLEAR, 0x2217), (OsdOp.OMAPRMKEYS, 0x2218),
    (OsdOp.OMAP_CMP, 0x1219), (OsdOp.CMPEXT, 0x1220), (OsdOp.SETALLOCHINT, 0x2223),
    (OsdOp.WRITESAME, 0x2226), (OsdOp.OMAPRMKEYRANGE, 0x222C), (OsdOp.GETXATTR, 0x1301),
    (OsdOp.GETXATTRS, 0x1302), (OsdOp.CMPXATTR, 0x1303), (OsdOp.SETXATTR, 0x2301),
    (OsdOp.RMXATTR, 0x2304), (OsdOp.CALL, 0x1401), (OsdOp.PGNLS, 0x1505),
])
def test_op_codes(op: OsdOp, code: int) -> None:
    assert int(op) == code


def test_union_layouts() -> None:
    w = ops.watch(0xAABB, WatchOp.RECONNECT, gen=4, timeout=30)
    assert w.union == struct.pack("<QQBII", 0xAABB, 0, 5, 4, 30) + bytes(3)
    assert w.watch == (0xAABB, 0, 5, 4, 30)
    c = ops.call("rbd", "get_size", b"12345678")
    assert c.cls == (3, 8, 0, 8)
    assert [bytes(p) for p in c.indata] == [b"rbdget_size", b"12345678"]
    x = ops.cmpxattr("user.n", CmpXattrOp.GTE, 5)
    assert x.xattr == (6, 8, CmpXattrOp.GTE, CmpXattrMode.U64)
    assert b"".join(bytes(p) for p in x.indata) == b"user.n" + struct.pack("<Q", 5)
    s = ops.cmpxattr("user.s", CmpXattrOp.EQ, b"abc")
    assert s.xattr == (6, 3, CmpXattrOp.EQ, CmpXattrMode.STRING)
    assert ops.rollback(9).u64_0 == 9
    assert ops.notify(77).u64_0 == 77
    assert ops.pgnls(10, start_epoch=3).union[:12] == struct.pack("<QI", 10, 3)
    ah = ops.set_alloc_hint(1, 2, 4)
    assert ah.flags == OsdOpFlag.FAILOK
    assert ah.union[:20] == struct.pack("<QQI", 1, 2, 4)
    assert ops.create().flags == 0 and ops.create(True).flags == OsdOpFlag.EXCL
    assert ops.assert_exists().op == OsdOp.STAT
    assert ops.truncate(100).extent == (100, 0, 0, 0)
    assert ops.writesame(8, 16, b"ab").union[:20] == struct.pack("<QQI", 8, 16, 2)


def test_input_encodings() -> None:
    def data(o: OSDOp) -> bytes:
        return b"".join(bytes(p) for p in o.indata)

    assert data(ops.notify(1, b"hi", 10)) == struct.pack("<III", 1, 10, 2) + b"hi"
    assert data(ops.notify_ack(5, 6)) == struct.pack("<QQI", 5, 6, 0)
    assert data(ops.omap_rm_key_range("a", "b")) == b"\1\0\0\0a\1\0\0\0b"
    cmp = data(ops.omap_cmp({"k": (b"v", 1)}))
    assert cmp == b"\1\0\0\0" + b"\1\0\0\0k" + b"\1\0\0\0v" + struct.pack("<i", 1)
    hdr = ops.omap_set_header(b"HDR")
    assert data(hdr) == b"HDR" and hdr.extent[:2] == (0, 3)
    assert ops.omap_set_header(b"").indata == ()
    assert ops.omap_get_header().indata == ()


def test_builder_errors() -> None:
    with pytest.raises(CephError):
        ops.writesame(0, 5, b"ab")
    with pytest.raises(CephError):
        ops.call("x" * 256, "m")


# -- reply decoders --------------------------------------------------------------------------------


def _decode(o: OSDOp, out: bytes, rval: int = 0) -> Any:
    return o.decode_reply(rval, memoryview(out))


def test_error_rval_raises() -> None:
    with pytest.raises(CephError) as ei:
        _decode(ops.read(0, 1), b"", -2)
    assert ei.value.errno == 2


def test_sparse_read_decoder() -> None:
    body = struct.pack("<IQQQQ", 2, 0, 2, 10, 3) + struct.pack("<I", 5) + b"abXYZ"
    res = _decode(ops.sparse_read(0, 100), body)
    assert res.extents == [(0, 2), (10, 3)]
    assert bytes(res.data) == b"abXYZ"
    with pytest.raises(DecodeError):
        _decode(ops.sparse_read(0, 100), body + b"\0")  # trailing garbage
    with pytest.raises(DecodeError):
        _decode(ops.sparse_read(0, 100), body[:-1])  # short
    bad = struct.pack("<IQQ", 1, 0, 9) + struct.pack("<I", 2) + b"ab"
    with pytest.raises(DecodeError):
        _decode(ops.sparse_read(0, 100), bad)  # extents do not match data


def test_stat_decoder() -> None:
    st = _decode(ops.stat(), struct.pack("<QII", 4096, 1700000000, 5))
    assert st == ops.StatResult(4096, (1700000000, 5))
    with pytest.raises(DecodeError):
        _decode(ops.stat(), b"\0" * 15)


def test_omap_decoders_and_garbage() -> None:
    keys = struct.pack("<I", 2) + b"\1\0\0\0a" + b"\1\0\0\0b"
    assert _decode(ops.omap_get_keys2(), keys + b"\1") == (["a", "b"], True)
    # An OSD that predates the "more" flag (Objecter tolerates its absence).
    assert _decode(ops.omap_get_keys2(), keys) == (["a", "b"], False)
    with pytest.raises(DecodeError):
        _decode(ops.omap_get_keys2(), keys + b"\1\1")
    vals = struct.pack("<I", 1) + b"\1\0\0\0k" + b"\2\0\0\0vv"
    assert _decode(ops.omap_get_vals2(), vals + b"\0") == ({"k": b"vv"}, False)
    assert _decode(ops.omap_get_vals_by_keys(["k"]), vals) == {"k": b"vv"}
    with pytest.raises(DecodeError):
        _decode(ops.omap_get_vals_by_keys(["k"]), vals + b"\0")
    with pytest.raises(DecodeError):
        _decode(ops.getxattrs(), struct.pack("<I", 1000))  # count past the end
    assert bytes(_decode(ops.omap_get_header(), b"hh")) == b"hh"


def test_notify_id_decoder() -> None:
    assert _decode(ops.notify(1), struct.pack("<Q", 0x1234)) == 0x1234


def _roundtrip(value: Any, decode: Callable[[Decoder], Any]) -> Any:
    enc = Encoder()
    value.encode(enc)
    return decode_all(enc.getvalue(), decode, "x")


def test_wire_type_roundtrips() -> None:
    for v in (ObjectLocator(3, "k", "ns", -1), ObjectLocator(3, "", "", 77),
              HObject("k", "o", CEPH_NOSNAP, 5, False, "n", 2), HObject(max=True),
              OsdReqId(ops.EntityNameT(8, 4125), 7, 1)):
        assert _roundtrip(v, type(v).decode) == v
    snap = ObjListSnapResponse([CloneInfo(4, [4, 3], [(0, 10)], 100),
                                CloneInfo(CEPH_NOSNAP, [], [], 10)], 4)
    assert _roundtrip(snap, ObjListSnapResponse.decode) == snap


def test_object_locator_v5_without_hash() -> None:
    # What the kernel client sends: envelope(5,4?) pool|preferred|key|nspace, no hash.
    body = struct.pack("<qi", 4, -1) + b"\0\0\0\0" + b"\2\0\0\0ns"
    raw = bytes([5, 3]) + struct.pack("<I", len(body)) + body
    assert decode_all(raw, ObjectLocator.decode, "l") == ObjectLocator(4, "", "ns", -1)


def test_object_locator_compat_follows_hash() -> None:
    enc = Encoder()
    ObjectLocator(1).encode(enc)
    assert enc.getvalue()[:2] == b"\x06\x03"
    enc = Encoder()
    ObjectLocator(1, hash=5).encode(enc)
    assert enc.getvalue()[:2] == b"\x06\x06"


def test_old_struct_versions_rejected() -> None:
    body = b"\0" * 40
    with pytest.raises(DecodeError, match="older than supported"):
        decode_all(bytes([3, 3]) + struct.pack("<I", len(body)) + body, HObject.decode, "h")
    with pytest.raises(DecodeError, match="struct_compat"):
        decode_all(bytes([9, 9]) + struct.pack("<I", 0), ObjectLocator.decode, "l")


def test_split_ops_data() -> None:
    a = OSDOp(OsdOp.READ, payload_len=2)
    b = OSDOp(OsdOp.READ, payload_len=3)
    data = memoryview(b"abcde")
    assert [bytes(x) for x in ops.split_ops_data([a, b], data, "t")] == [b"ab", b"cde"]
    with pytest.raises(DecodeError):
        ops.split_ops_data([a, b], memoryview(b"abcd"), "t")
    with pytest.raises(DecodeError):
        ops.split_ops_data([a, b], memoryview(b"abcdef"), "t")
