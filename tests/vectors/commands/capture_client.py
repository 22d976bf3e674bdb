"""Drive a python-rados 16.2.15 client through the command, log and mgr messages rbdpy
decodes (see README.md). Run with the distro's interpreter, msgr2 crc mode:

    /usr/bin/python3 capture_client.py /path/to/devcluster/ceph.conf
"""

import json
import sys
import threading
import time

import rados


def j(d):
    return json.dumps(d)


def show(name, res):
    ret, out, outs = res
    print(name, ret, repr(out[:300]), repr(outs[:200]))


r = rados.Rados(conffile=sys.argv[1])
r.conf_set("ms_mon_client_mode", "crc")
r.conf_set("ms_client_mode", "crc")
r.connect()
status = j({"prefix": "mon_status", "format": "json"})
show("mon status", r.mon_command(status, b""))
show("mon target b", r.mon_command(status, b"", target="b"))
show("mon target 0", r.mon_command(status, b"", target=0))
show("mon target zz", r.mon_command(j({"prefix": "mon_status"}), b"", target="zz"))
show("mon target 9", r.mon_command(j({"prefix": "mon_status"}), b"", target=9))
show("osd version", r.osd_command(0, j({"prefix": "version"}), b""))
show("osd bad", r.osd_command(0, j({"prefix": "nonesuch"}), b""))
show("osd 7", r.osd_command(7, j({"prefix": "version"}), b""))
show("pg query", r.pg_command("2.0", j({"prefix": "query", "pgid": "2.0"}), b""))
show("pg bad", r.pg_command("9.0", j({"prefix": "query", "pgid": "9.0"}), b""))
show("mgr services", r.mgr_command(j({"prefix": "mgr services", "format": "json"}), b""))
show("mgr bad", r.mgr_command(j({"prefix": "nonesuch"}), b""))
show("mgr tell x", r.mgr_command(j({"prefix": "mgr_status"}), b"", target="x"))
for flavour, text in ((1, "hg-probe-hello"), (2, "hg-probe-hello2")):
    got = []
    ev = threading.Event()

    def cb(*args, got=got, ev=ev):
        got.append(args)
        ev.set()

    if flavour == 1:
        r.monitor_log("info", cb, "ARG")
    else:
        r.monitor_log2("info", cb, "ARG2")
    time.sleep(1)
    show("log", r.mon_command(j({"prefix": "log", "logtext": [text]}), b""))
    ev.wait(10)
    print("monitor_log", flavour, got[-3:])
r.monitor_log("info", None, None)
print("ping", r.ping_monitor("a")[:200])
try:
    print("ping zz", r.ping_monitor("zz"))
except rados.Error as e:
    print("ping zz exc", type(e).__name__, e)
r.service_daemon_register("hgprobe", "d1", {"k1": "v1"})
r.service_daemon_update({"s1": "x"})
time.sleep(3)
r.shutdown()
