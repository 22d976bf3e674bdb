"""Issue "RBD on-disk format": what the `rbd` CLI writes decodes and re-encodes byte for byte.

The `rbd` CLI (librbd) creates images with default features, striping v2, a data pool, a
non-default object size, snapshots (one protected, with a v2 clone) and metadata. rbdpy
reads each header's omap and object map through its own Objecter; python3-rados (librados)
reads the same omap as the oracle for the bytes. Every value decodes with rbdpy's format
types and re-encodes to exactly the bytes Ceph stored.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from rbdpy.format.header import decode_header_value, encode_header_value
from rbdpy.format.object_map import BitVector
from rbdpy.format.types import ClsRbdParent, ClsRbdSnap
from rbdpy.rados.client import AsyncRados
from rbdpy.rados.proto import ops
from rbdpy.rados.proto.denc import Encoder, decode_all
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

_ORACLE = r"""
import json, sys, rados
conf, pool, oids = sys.argv[1], sys.argv[2], sys.argv[3:]
with rados.Rados(conffile=conf) as r:
    io = r.open_ioctx(pool)
    out = {}
    for oid in oids:
        with rados.ReadOpCtx() as op:
            it, _ = io.get_omap_vals(op, "", "", 10000)
            io.operate_read_op(op, oid)
            out[oid] = {k: (v or b"").hex() for k, v in it}
    print(json.dumps(out))
"""


def rbd(conf: Path, *args: str) -> str:
    return subprocess.run(["rbd", "-c", str(conf), *args], check=True, capture_output=True,
                          text=True, timeout=120).stdout


async def test_headers_and_object_maps_round_trip(cluster: SessionCluster, pool: str) -> None:
    conf = cluster.conf
    dc = cluster.devcluster()
    data_pool = f"{pool}-data"
    dc.pool_create(data_pool)
    try:
        rbd(conf, "create", "--size", "64M", f"{pool}/plain")
        rbd(conf, "create", "--size", "64M", "--stripe-unit", "64K", "--stripe-count", "8",
            f"{pool}/striped")
        rbd(conf, "create", "--size", "64M", "--data-pool", data_pool, f"{pool}/datapool")
        rbd(conf, "create", "--size", "48M", "--object-size", "1M", f"{pool}/small")
        rbd(conf, "bench", "--io-type", "write", "--io-size", "64K", "--io-total", "3M",
            "--io-pattern", "rand", f"{pool}/plain")
        rbd(conf, "snap", "create", f"{pool}/plain@s1")
        rbd(conf, "snap", "protect", f"{pool}/plain@s1")
        rbd(conf, "clone", "--rbd-default-clone-format", "2", f"{pool}/plain@s1",
            f"{pool}/child")
        rbd(conf, "image-meta", "set", f"{pool}/plain", "conf_rbd_cache", "false")
        rbd(conf, "snap", "limit", "set", f"{pool}/plain", "--limit", "9")
        images = ["plain", "striped", "datapool", "small", "child"]
        ids = {name: json.loads(rbd(conf, "info", f"{pool}/{name}", "--format", "json"))["id"]
               for name in images}
        headers = [f"rbd_header.{ids[n]}" for n in images]
        oracle = json.loads(subprocess.run(
            ["/usr/bin/python3", "-c", _ORACLE, str(conf), pool, *headers], check=True,
            capture_output=True, text=True, timeout=120).stdout)

        seen_keys: set[str] = set()
        async with AsyncRados(conffile=str(conf)) as r:
            io = await r.open_ioctx(pool)
            for name, oid in zip(images, headers, strict=True):
                vals, more = await io._op1(oid, ops.omap_get_vals2("", "", 10000))
                assert not more
                ours = {k: bytes(v).hex() for k, v in vals.items()}
                assert ours == oracle[oid], name  # rbdpy's omap read equals librados'
                for key, hexval in ours.items():
                    raw = bytes.fromhex(hexval)
                    value = decode_header_value(key, raw)
                    assert encode_header_value(key, value) == raw, (name, key)
                    seen_keys.add(key.split("_0")[0] if key.startswith("snapshot_") else key)
                info = json.loads(rbd(conf, "info", f"{pool}/{name}", "--format", "json"))
                assert decode_header_value("size", bytes.fromhex(ours["size"])) == info["size"]
                assert decode_header_value("order", bytes.fromhex(ours["order"])) \
                    == info["order"]
                prefix = decode_header_value("object_prefix", bytes.fromhex(ours["object_prefix"]))
                assert prefix == info["block_name_prefix"]
                if "stripe_unit" in ours:
                    assert decode_header_value("stripe_unit",
                                               bytes.fromhex(ours["stripe_unit"])) == 65536
                # The object map (HEAD) as librbd wrote it.
                omap_obj = f"rbd_object_map.{ids[name]}"
                data = await io.read(omap_obj, 1 << 20)
                bv = decode_all(data, BitVector.decode, omap_obj)
                enc = Encoder()
                bv.encode(enc)
                assert enc.getvalue() == data, name
            snap = [k for k in oracle[headers[0]] if k.startswith("snapshot_")]
            assert len(snap) == 1
            s = decode_header_value(snap[0], bytes.fromhex(oracle[headers[0]][snap[0]]))
            assert isinstance(s, ClsRbdSnap) and s.name == "s1" and s.protection_status == 2
            parent = decode_header_value("parent", bytes.fromhex(oracle[headers[4]]["parent"]))
            assert isinstance(parent, ClsRbdParent) and parent.image_id == ids["plain"]
            assert parent.snap_id == s.id
        assert {"size", "order", "features", "object_prefix", "snap_seq", "parent",
                "stripe_unit", "stripe_count", "data_pool_id", "snapshot", "snap_limit",
                "create_timestamp", "access_timestamp", "modify_timestamp",
                "metadata_conf_rbd_cache"} <= seen_keys
    finally:
        # The `pool` fixture deletes the pool with its images; only the data pool is ours.
        dc.pool_delete(data_pool)
