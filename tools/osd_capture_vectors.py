"""Pick the OSD test vectors out of the messages of a capture (tools/osd_capture_extract.py).

Each vector is a request MOSDOp chosen by *content* (object name, op codes, occurrence), the
MOSDOpReply with the same tid on the same connection, and, for watch/notify, the
MWatchNotify messages that belong to it. Selecting by content keeps the choice stable across
re-captures (tids depend on what the cleanup step had to delete).

usage: .venv/bin/python tools/osd_capture_vectors.py messages.json > tests/vectors/osd/capture.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from rbdpy.rados.proto.messages.base import decode_message
from rbdpy.rados.proto.messages.osd import MOSDOp, MOSDOpReply, MWatchNotify
from rbdpy.rados.proto.ops import OsdOp, WatchOp

O = OsdOp  # noqa: E741 (keeps the selection table narrow)

# name -> (connection, oid, op codes, occurrence among matching requests, what it shows)
SELECT: list[tuple[str, int, str, tuple[int, ...], int, str]] = [
    ("writefull", 0, "obj1", (O.WRITEFULL,), 0, "io.write_full('obj1', b'hello world')"),
    ("write", 0, "obj1", (O.WRITE,), 0, "io.write('obj1', b'XYZ', 2)"),
    ("read", 0, "obj1", (O.READ,), 0, "io.read('obj1', 5, 0)"),
    ("stat", 0, "obj1", (O.STAT,), 0, "io.stat('obj1')"),
    ("setxattr", 0, "obj1", (O.SETXATTR,), 0, "io.set_xattr('obj1', 'user.a', b'val')"),
    ("getxattr", 0, "obj1", (O.GETXATTR,), 0, "io.get_xattr('obj1', 'user.a')"),
    ("getxattrs", 0, "obj1", (O.GETXATTRS,), 0, "io.get_xattrs('obj1')"),
    ("omap_set_vals", 0, "obj1", (O.OMAPSETVALS,), 0, "set_omap k1=v1 k2=value2 k3=''"),
    ("omap_get_vals", 0, "obj1", (O.OMAPGETVALS,), 0, "get_omap_vals('', '', 2)"),
    ("omap_get_keys", 0, "obj1", (O.OMAPGETKEYS,), 0, "get_omap_keys('k1', 10)"),
    ("omap_get_vals_by_keys", 0, "obj1", (O.OMAPGETVALSBYKEYS,), 0,
     "get_omap_vals_by_keys(('k2', 'nope'))"),
    ("omap_rm_keys", 0, "obj1", (O.OMAPRMKEYS,), 0, "remove_omap_keys(('k3',))"),
    ("omap_rm_key_range", 0, "obj1", (O.OMAPRMKEYRANGE,), 0, "remove_omap_range2('a', 'k15')"),
    ("call_hello", 0, "obj1", (O.CALL,), 0, "execute('obj1', 'hello', 'say_hello', b'rbdpy')"),
    ("call_enoent", 0, "obj1", (O.CALL,), 1, "execute('obj1', 'hello', 'no_such_method')"),
    ("append", 0, "obj1", (O.APPEND,), 0, "io.append('obj1', b'++')"),
    ("cmpext_ok", 0, "obj1", (O.CMPEXT,), 0, "io.cmpext('obj1', b'heX', 0)"),
    ("cmpext_mismatch", 0, "obj1", (O.CMPEXT,), 1, "io.cmpext('obj1', b'hello', 0)"),
    ("writesame", 0, "obj2", (O.WRITESAME,), 0, "io.writesame('obj2', b'ab', 8, 0)"),
    ("zero", 0, "obj2", (O.ZERO,), 0, "WriteOp.zero(2, 2)"),
    ("truncate", 0, "obj2", (O.TRUNCATE,), 0, "io.trunc('obj2', 6)"),
    ("create_excl", 0, "obj2", (O.CREATE,), 0, "WriteOp.new(EXCLUSIVE) on an existing object"),
    ("assert_version_write", 0, "obj2", (O.ASSERT_VER, O.WRITE), 0,
     "assert_version(v) + write(b'Q', 0)"),
    ("omap_get_vals_fadvise", 0, "obj1", (O.OMAPGETVALS,), 1,
     "get_omap_vals('', 'k', 100) + FADVISE_DONTNEED, BALANCE_READS"),
    ("rmxattr", 0, "obj1", (O.RMXATTR,), 0, "io.rm_xattr('obj1', 'user.a')"),
    ("omap_clear", 0, "obj1", (O.OMAPCLEAR,), 0, "clear_omap"),
    ("read_enoent", 0, "nosuch", (O.READ,), 0, "io.read('nosuch', 10, 0)"),
    ("writefull_nspace_locator", 0, "obj3", (O.WRITEFULL,), 0,
     "namespace 'ns1', locator key 'lk'"),
    ("pgnls_first", 0, "", (O.PGNLS,), 0, "list_objects, ALL_NSPACES, first pg"),
    ("pgnls_last", 0, "", (O.PGNLS,), 7, "list_objects, last pg (lists ns1/obj3)"),
    ("watch", 0, "obj1", (O.WATCH,), 0, "io.watch('obj1', cb)"),
    ("notify", 0, "obj1", (O.NOTIFY,), 0, "io.notify('obj1', 'ping-payload', 5000)"),
    ("notify_ack", 0, "obj1", (O.NOTIFY_ACK,), 0, "librados' automatic ack, reply b'ackdata'"),
    ("unwatch", 0, "obj1", (O.WATCH,), 1, "watch.close()"),
    ("writefull_snapc", 0, "obj4", (O.WRITEFULL,), 0, "write_full with snapc seq=snaps=[s]"),
    ("rollback", 0, "obj4", (O.ROLLBACK,), 0, "rollback_self_managed_snap('obj4', s)"),
    ("delete", 0, "obj2", (O.DELETE,), 1, "io.remove_object('obj2')"),
    ("rbd_alloc_hint_write", 0, "rbd_data.", (O.SETALLOCHINT, O.WRITE), 0,
     "librbd Image.write(4096 x 'x', 8192)"),
    ("rbd_sparse_read", 0, "rbd_data.", (O.SPARSE_READ,), 0, "librbd Image.read(0, 1 MiB)"),
    ("list_watchers", 1, "obj1", (O.LIST_WATCHERS,), 0, "rados listwatchers obj1"),
    ("list_snaps", 2, "obj4", (O.LIST_SNAPS,), 0, "rados listsnaps obj4"),
]


def seg(r: dict[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("tid", "type", "version", "compat_version", "front", "data")}


def main() -> None:
    recs = json.load(open(sys.argv[1]))
    decoded = []
    for r in recs:
        msg = decode_message(r["type"], r["version"], r["compat_version"],
                             bytes.fromhex(r["front"]), bytes.fromhex(r["middle"]),
                             bytes.fromhex(r["data"]), r["tid"])
        decoded.append((r, msg))

    def find(pred: Callable[[dict[str, Any], Any], bool]) -> list[tuple[dict[str, Any], Any]]:
        return [(r, m) for r, m in decoded if pred(r, m)]

    out = []
    for name, conn, oid, codes, nth, what in SELECT:
        def is_req(r: dict[str, Any], m: Any, conn: int = conn, oid: str = oid,
                   codes: tuple[int, ...] = codes) -> bool:
            if r["conn"] != conn or not isinstance(m, MOSDOp):
                return False
            name_ok = (m.oid == oid) if not oid.endswith(".") else str(m.oid).startswith(oid)
            return name_ok and tuple(o.op for o in m.ops) == codes
        reqs = find(is_req)
        if name in ("watch", "unwatch"):
            want = WatchOp.WATCH if name == "watch" else WatchOp.UNWATCH
            reqs = [(r, m) for r, m in reqs if m.ops[0].watch[2] == want]
            nth = 0
        req = reqs[nth][0]
        def is_reply(r: dict[str, Any], m: Any, req: dict[str, Any] = req) -> bool:
            return (r["conn"] == req["conn"] and r["dir"] == "s2c"
                    and isinstance(m, MOSDOpReply) and r["tid"] == req["tid"])
        rep = find(is_reply)
        vec: dict[str, Any] = {"name": name, "what": what, "request": seg(req),
                               "reply": seg(rep[0][0])}
        if name == "notify":
            nid = int.from_bytes(rep[0][1].outdata[0][:8], "little")
            def is_notify(r: dict[str, Any], m: Any, req: dict[str, Any] = req,
                          nid: int = nid) -> bool:
                return (r["conn"] == req["conn"] and isinstance(m, MWatchNotify)
                        and m.notify_id == nid)
            wn = find(is_notify)
            vec["watch_notify"] = [seg(r) for r, _ in wn]
        out.append(vec)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
