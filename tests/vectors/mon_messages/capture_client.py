"""Drive a python-rados 16.2.15 client through the mon messages rbdpy decodes.

Run with the distro's interpreter (python-rados is only importable there), msgr2 crc mode so
the frames can be read off the wire::

    tcpdump -i lo -U -s 0 -w cap.pcap 'tcp port <mon v2 port>' &
    /usr/bin/python3 capture_client.py /path/to/devcluster/ceph.conf
    python3 parse_pcap.py cap.pcap <mon v2 port> msgs.json
"""

import json
import sys

import rados

r = rados.Rados(conffile=sys.argv[1])
r.conf_set("ms_mon_client_mode", "crc")
r.conf_set("ms_client_mode", "crc")
r.connect()
try:
    r.create_pool("capt")
except rados.ObjectExists:
    pass
print("status", r.mon_command(json.dumps({"prefix": "status", "format": "json"}), b"")[0])
print("bad", r.mon_command(json.dumps({"prefix": "osd pool get", "pool": "nonexistent",
                                       "var": "size"}), b""))
print("cfgkey", r.mon_command(json.dumps({"prefix": "config-key set", "key": "rbdpy-test"}),
                              b"hello-input"))
print("stats", r.get_cluster_stats())
r.wait_for_latest_osdmap()
io = r.open_ioctx("capt")
s = io.create_self_managed_snap()
print("snap", s)
io.remove_self_managed_snap(s)
io.close()
r.shutdown()
