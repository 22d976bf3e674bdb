"""Extract msgr2 MESSAGE frames from a tcpdump capture of crc-mode OSD sessions.

Reads a classic pcap (Ethernet or Linux "cooked" link type, IPv4/TCP, as ``tcpdump -i lo``
writes it), reassembles each TCP direction by sequence number, skips the msgr2 banner and
cuts the rest into frames with :class:`rbdpy.rados.proto.msgr2.frames.FrameDecoder` (crc mode
frames are plaintext, including the handshake's). Every MESSAGE frame becomes one JSON record:
connection index, direction ("c2s" or "s2c"), the ceph_msg_header2 fields and the front,
middle and data segments in hex.

usage: .venv/bin/python tools/osd_capture_extract.py CAP.pcap OSD_PORT > messages.json
"""

from __future__ import annotations

import json
import struct
import sys
from typing import Any

from rbdpy.rados.proto.msgr2.frames import FrameDecoder, Tag

_MSG_HEADER2 = struct.Struct("<QQHHHIHQBHH")
_BANNER = b"ceph v2\n"


def read_pcap(path: str) -> list[tuple[tuple[str, int, str, int], int, int, bytes]]:
    """(flow, seq, tcp flags, payload) for every TCP segment in the capture."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic not in (0xA1B2C3D4, 0xA1B23C4D):
        raise SystemExit("not a little-endian classic pcap file")
    linktype = struct.unpack_from("<I", data, 20)[0]
    off = 24
    out = []
    while off + 16 <= len(data):
        _sec, _usec, incl, _orig = struct.unpack_from("<IIII", data, off)
        off += 16
        pkt = data[off:off + incl]
        off += incl
        if linktype == 1:  # Ethernet
            if struct.unpack_from(">H", pkt, 12)[0] != 0x0800:
                continue
            ip = pkt[14:]
        elif linktype == 113:  # Linux cooked
            ip = pkt[16:]
        else:
            raise SystemExit(f"unsupported link type {linktype}")
        if ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack_from(">H", ip, 2)[0]
        src = ".".join(map(str, ip[12:16]))
        dst = ".".join(map(str, ip[16:20]))
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack_from(">HHI", tcp, 0)
        doff = (tcp[12] >> 4) * 4
        flags = tcp[13]
        out.append(((src, sport, dst, dport), seq, flags, bytes(tcp[doff:])))
    return out


def reassemble(segments: list[tuple[tuple[str, int, str, int], int, int, bytes]]
               ) -> dict[tuple[str, int, str, int], bytes]:
    """Byte stream per direction; duplicates (retransmissions) are dropped by sequence."""
    streams: dict[tuple[str, int, str, int], dict[int, bytes]] = {}
    isn: dict[tuple[str, int, str, int], int] = {}
    for flow, seq, flags, payload in segments:
        if flags & 0x02:  # SYN
            isn[flow] = seq + 1
            streams.setdefault(flow, {})
            continue
        if payload and flow in isn:
            streams[flow][(seq - isn[flow]) & 0xFFFFFFFF] = payload
    out = {}
    for flow, pieces in streams.items():
        buf = bytearray()
        for rel in sorted(pieces):
            p = pieces[rel]
            if rel > len(buf):
                raise SystemExit(f"gap in {flow} at {len(buf)}")
            buf += p[len(buf) - rel:]
        out[flow] = bytes(buf)
    return out


def frames(stream: bytes) -> list[Any]:
    if not stream.startswith(_BANNER):
        raise SystemExit("stream does not start with the msgr2 banner")
    n = struct.unpack_from("<H", stream, len(_BANNER))[0]
    dec = FrameDecoder()
    dec.feed(stream[len(_BANNER) + 2 + n:])
    out = []
    while (fr := dec.next_frame()) is not None:
        out.append(fr)
    if dec.buffered:
        raise SystemExit(f"{dec.buffered} bytes of a partial frame at the end")
    return out


def main() -> None:
    path, port = sys.argv[1], int(sys.argv[2])
    streams = reassemble(read_pcap(path))
    client_flows = sorted((f for f in streams if f[3] == port), key=lambda f: f[1])
    records = []
    for ci, flow in enumerate(client_flows):
        back = (flow[2], flow[3], flow[0], flow[1])
        for direction, fl in (("c2s", flow), ("s2c", back)):
            for fr in frames(streams.get(fl, b"")):
                if fr.tag != Tag.MESSAGE:
                    continue
                (seq, tid, mtype, prio, version, _pad, data_off, _ack_seq, flags, compat,
                 _res) = _MSG_HEADER2.unpack(fr.segments[0])
                records.append({
                    "conn": ci, "dir": direction, "seq": seq, "tid": tid, "type": mtype,
                    "priority": prio, "version": version, "compat_version": compat,
                    "data_off": data_off, "flags": flags,
                    "front": fr.segments[1].hex(), "middle": fr.segments[2].hex(),
                    "data": fr.segments[3].hex()})
    json.dump(records, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
