#!/bin/bash
# Regenerates the object-map vectors in this folder from a live Ceph cluster using only the
# installed Ceph tools and python3-rbd (Debian 12: Ceph 16.2.15).
# Usage: gen.sh /path/to/ceph.conf   (client.admin keyring beside it; pool "rbd" initialised)
set -euo pipefail
export CEPH_CONF=${1:?ceph.conf}
cd "$(dirname "$0")"
/usr/bin/python3 - <<'PY'
import os, rados, rbd
c = rados.Rados(conffile=os.environ["CEPH_CONF"]); c.connect()
io = c.open_ioctx("rbd")
r = rbd.RBD()
for name in ("vec_om16", "vec_ombig"):
    try:
        with rbd.Image(io, name) as im:
            for s in im.list_snaps():
                im.remove_snap(s["name"])
        r.remove(io, name)
    except rbd.ImageNotFound:
        pass
# 16 objects of 4 MiB; objects 0 and 5 written.
r.create(io, "vec_om16", 64 << 20)
with rbd.Image(io, "vec_om16") as im:
    im.write(b"x" * 10, 0)
    im.write(b"y" * 10, 5 * (4 << 20) + 100)
    open("ids", "w").write(im.id() + "\n")
# 20000 objects of 4 KiB (5000 data bytes: two crc blocks); snapshot, then more I/O.
r.create(io, "vec_ombig", 20000 * 4096, order=12)
with rbd.Image(io, "vec_ombig") as im:
    for objno in (0, 1, 3, 4095, 16383, 16384, 16385, 19999):
        im.write(b"z", objno * 4096)
    im.create_snap("s1")
    im.write(b"w", 1 * 4096)
    im.write(b"w", 2 * 4096)
    im.discard(3 * 4096, 4096)
    snap_id = [s["id"] for s in im.list_snaps()][0]
    open("ids", "a").write(f"{im.id()} {snap_id}\n")
PY
read -r ID16 < ids
read -r IDBIG SNAP < <(sed -n 2p ids)
rados -p rbd get "rbd_object_map.$ID16" om16.bin
rados -p rbd get "rbd_object_map.$IDBIG" ombig_head.bin
rados -p rbd get "rbd_object_map.$IDBIG.$(printf %016x "$SNAP")" ombig_snap.bin
rm -f ids
