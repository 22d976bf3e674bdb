"""Cut a loopback pcap of crc-mode msgr2 sessions into MESSAGE frames of chosen types (JSON).

Every TCP connection that starts with the msgr2 banner is followed in both directions
(tools/osd_capture_extract.py does the pcap reading and frame cutting); the records are
those of tests/vectors/osd (ceph_msg_header2 fields, segments in hex) plus ``conn``, the
server port of the connection.

usage: .venv/bin/python -m tools.commands_capture CAP.pcap TYPE[,TYPE...] PORT[,PORT...] > out.json

PORTs are the daemons' (server) ports: they tell which side of a connection is the client.
"""

from __future__ import annotations

import json
import struct
import sys

from rbdpy.rados.proto.msgr2.frames import Tag
from tools.osd_capture_extract import frames, read_pcap, reassemble

_MSG_HEADER2 = struct.Struct("<QQHHHIHQBHH")


def main() -> None:
    path = sys.argv[1]
    wanted = {int(t, 0) for t in sys.argv[2].split(",")}
    servers = {int(p) for p in sys.argv[3].split(",")}
    streams = reassemble(read_pcap(path))
    records = []
    for flow in sorted(streams, key=lambda f: f[1]):
        if not streams[flow].startswith(b"ceph v2\n"):
            continue
        back = (flow[2], flow[3], flow[0], flow[1])
        if back not in streams or flow[3] not in servers:
            continue  # take each connection once, from its client side
        for direction, fl in (("c2s", flow), ("s2c", back)):
            for fr in frames(streams[fl]):
                if fr.tag != Tag.MESSAGE:
                    continue
                (seq, tid, mtype, _prio, version, _pad, _data_off, _ack, _flags, compat,
                 _res) = _MSG_HEADER2.unpack(fr.segments[0])
                if mtype not in wanted:
                    continue
                records.append({
                    "conn": f"{flow[1]}->{flow[3]}", "dir": direction, "seq": seq,
                    "tid": tid, "type": mtype, "version": version,
                    "compat_version": compat, "front": fr.segments[1].hex(),
                    "middle": fr.segments[2].hex(), "data": fr.segments[3].hex()})
    json.dump(records, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
