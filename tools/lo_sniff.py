"""Capture loopback TCP traffic to/from some ports into a classic pcap (no tcpdump needed).

Runs as root (an AF_PACKET socket on ``lo``); stops after ``SECONDS`` or when the file
``STOPFILE`` exists. The pcap (link type Ethernet, as ``tcpdump -i lo`` writes) is read by
tools/osd_capture_extract.py and tools/commands_capture.py.

usage: python3 tools/lo_sniff.py OUT.pcap SECONDS STOPFILE PORT [PORT...]
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import time

_ETH_P_ALL = 0x0003


def main() -> None:
    out, seconds, stopfile = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    ports = {int(p) for p in sys.argv[4:]}
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(_ETH_P_ALL))
    sock.bind(("lo", 0))
    sock.settimeout(0.2)
    deadline = time.monotonic() + seconds
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        while time.monotonic() < deadline and not os.path.exists(stopfile):
            try:
                pkt, addr = sock.recvfrom(262144)
            except TimeoutError:
                continue
            if addr[2] == socket.PACKET_OUTGOING:  # lo shows each packet twice
                continue
            if len(pkt) < 34 or pkt[12:14] != b"\x08\x00" or pkt[23] != 6:
                continue
            ihl = (pkt[14] & 15) * 4
            sport, dport = struct.unpack_from(">HH", pkt, 14 + ihl)
            if sport not in ports and dport not in ports:
                continue
            now = time.time()
            f.write(struct.pack("<IIII", int(now), int((now % 1) * 1e6), len(pkt), len(pkt)))
            f.write(pkt)


if __name__ == "__main__":
    main()
