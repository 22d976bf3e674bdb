import json, sys, time, threading, errno
import rados
conf = sys.argv[1]
r = rados.Rados(conffile=conf)
r.conf_set("ms_mon_client_mode", "crc")
r.conf_set("ms_client_mode", "crc")
r.connect()
def j(d): return json.dumps(d)
def show(name, res):
    ret, out, outs = res
    print(name, ret, repr(out[:300]), repr(outs[:200]))
show("mon status", r.mon_command(j({"prefix": "mon_status", "format": "json"}), b""))
show("mon target b", r.mon_command(j({"prefix": "mon_status", "format": "json"}), b"", target="b"))
show("mon target 0", r.mon_command(j({"prefix": "mon_status", "format": "json"}), b"", target=0))
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
got = []
ev = threading.Event()
def cb(arg, line, who, sec, nsec, seq, level, msg):
    got.append((arg, line, who, sec, nsec, seq, level, msg)); ev.set()
r.monitor_log("info", cb, "ARG")
time.sleep(1)
show("log", r.mon_command(j({"prefix": "log", "logtext": ["hg-probe-hello"]}), b""))
ev.wait(10)
print("monitor_log", got[-3:])
got2 = []
ev2 = threading.Event()
def cb2(*a):
    got2.append(a); ev2.set()
r.monitor_log2("info", cb2, "ARG2")
time.sleep(1)
show("log2", r.mon_command(j({"prefix": "log", "logtext": ["hg-probe-hello2"]}), b""))
ev2.wait(10)
print("monitor_log2", got2[-3:])
r.monitor_log("info", None, None)
print("ping", r.ping_monitor("a")[:200])
try:
    print("ping zz", r.ping_monitor("zz"))
except Exception as e:
    print("ping zz exc", type(e).__name__, e)
r.service_daemon_register("hgprobe", "d1", {"k1": "v1"})
r.service_daemon_update({"s1": "x"})
time.sleep(3)
r.shutdown()
