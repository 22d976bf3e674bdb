"""Split a loopback pcap of msgr2.1 *crc-mode* mon sessions into MESSAGE frames (JSON).

usage: parse_pcap.py CAPTURE.pcap MON_V2_PORT OUT.json

Streams that do not start with the msgr2 banner (connections older than the capture) are
skipped. Layouts: FIELD_GUIDE §2.2 (preamble), §2.3 (crc mode), §2.6 (ceph_msg_header2).
"""

import json
import struct
import sys
from collections import defaultdict


def tcp_streams(pcap: bytes) -> dict[tuple[int, int], bytes]:
    segs: dict[tuple[int, int], dict[int, bytes]] = defaultdict(dict)
    off = 24  # pcap global header
    while off < len(pcap):
        _, _, incl, _ = struct.unpack_from("<IIII", pcap, off)
        off += 16
        pkt = pcap[off : off + incl]
        off += incl
        if struct.unpack_from(">H", pkt, 12)[0] != 0x0800:  # IPv4 over Ethernet
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl : struct.unpack_from(">H", ip, 2)[0]]
        sport, dport, seq = struct.unpack_from(">HHI", tcp, 0)
        payload = tcp[(tcp[12] >> 4) * 4 :]
        if payload:
            segs[(sport, dport)][seq] = payload
    out = {}
    for key, by_seq in segs.items():
        buf = b""
        nxt = min(by_seq)
        for s in sorted(by_seq):
            if s < nxt:
                continue  # retransmission
            assert s == nxt, "gap in capture"
            buf += by_seq[s]
            nxt = s + len(by_seq[s])
        out[key] = buf
    return out


def frames(buf: bytes, direction: str, conn: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    p = 10 + struct.unpack_from("<H", buf, 8)[0]  # banner
    while p < len(buf):
        pre = buf[p : p + 32]
        tag, nseg = pre[0], pre[1]
        lens = [struct.unpack_from("<I", pre, 2 + 6 * i)[0] for i in range(4)]
        p += 32
        seg0 = buf[p : p + lens[0]]
        p += lens[0] + (4 if lens[0] else 0)  # segment 0 and its crc
        rest = []
        for i in range(1, 4):
            rest.append(buf[p : p + lens[i]])
            p += lens[i]
        if nseg > 1:
            p += 13  # msgr2.1 crc epilogue
        if tag != 17:  # not MESSAGE
            continue
        seq, tid, mtype, _prio, ver, _, _, _ack, _flags, compat, _ = struct.unpack_from(
            "<QQHHHIHQBHH", seg0, 0)
        out.append({"dir": direction, "conn": conn, "seq": seq, "tid": tid, "type": mtype,
                    "version": ver, "compat": compat, "front": rest[0].hex(),
                    "middle": rest[1].hex(), "data": rest[2].hex()})
    return out


def main() -> None:
    pcap = open(sys.argv[1], "rb").read()
    port = int(sys.argv[2])
    msgs = []
    for (sport, dport), buf in tcp_streams(pcap).items():
        if buf[:8] != b"ceph v2\n":
            continue
        msgs += frames(buf, "c2s" if dport == port else "s2c", f"{sport}-{dport}")
    with open(sys.argv[3], "w") as f:
        json.dump(msgs, f, indent=1)


if __name__ == "__main__":
    main()
