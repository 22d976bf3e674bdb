"""Capture librbd's header notifications (run with /usr/bin/python3; see README.md)."""

import json
import sys
import time

import rados
import rbd

c = rados.Rados(conffile=sys.argv[1] if len(sys.argv) > 1 else '/etc/ceph/ceph.conf')
c.connect()
io = c.open_ioctx('rbd')
R = rbd.RBD()
try:
    R.remove(io, 'cap')
except Exception:
    pass
R.create(io, 'cap', 8 << 20)
got = []
with rbd.Image(io, 'cap') as img:
    hdr = 'rbd_header.' + img.id()
def cb(notify_id, notifier_id, watch_id, data):
    got.append(data.hex())
    return b''
w = io.watch(hdr, cb)
with rbd.Image(io, 'cap') as a:
    a.write(b'x', 0)          # ACQUIRED_LOCK
    a.resize(16 << 20)        # HEADER_UPDATE
    with rbd.Image(io, 'cap') as b:
        b.write(b'y', 1)      # REQUEST_LOCK from b, RELEASED_LOCK from a, ACQUIRED_LOCK from b
time.sleep(1)
w.close()
print(c.get_instance_id())
print(json.dumps(got, indent=1))
R.remove(io, 'cap')
