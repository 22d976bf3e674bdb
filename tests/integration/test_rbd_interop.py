"""Issue "RBD images": rbdpy and librbd write the same open image in turns.

A python3-rbd process (librbd, on /usr/bin/python3) and rbdpy keep the image open at the
same time and write alternately; each write needs the exclusive lock, so it moves from one
client to the other at every turn (librbd's "request lock" notification to rbdpy, and
rbdpy's to librbd). After 20 hand-overs every write is in the image, `rbd export` equals
the model, and `rbd object-map check` has nothing to fix.
"""

from __future__ import annotations

import json
import random
import subprocess

import pytest

from rbdpy import rados, rbd
from tests.fix_cluster import SessionCluster

pytestmark = pytest.mark.cluster

_LIBRBD_PEER = r"""
import json, sys, rados, rbd
conf, pool, name = sys.argv[1:4]
cluster = rados.Rados(conffile=conf, conf={"rbd_cache": "false"})
cluster.connect()
ioctx = cluster.open_ioctx(pool)
img = rbd.Image(ioctx, name)
print("ready", flush=True)
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd["op"] == "write":
        img.write(bytes.fromhex(cmd["data"]), cmd["off"])
        print(json.dumps({"owner": img.is_exclusive_lock_owner()}), flush=True)
    elif cmd["op"] == "quit":
        break
img.close()
ioctx.close()
cluster.shutdown()
"""


@pytest.mark.parametrize("mode", ["crc", "secure"])
def test_alternating_writers_hand_the_lock_over(cluster: SessionCluster, pool: str,
                                                mode: str) -> None:
    size = 16 << 20
    rng = random.Random(20)
    model = bytearray(size)
    with rados.Rados(conffile=str(cluster.conf), conf={"ms_client_mode": mode}) as r, \
            r.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, "shared", size)
        with subprocess.Popen(["/usr/bin/python3", "-c", _LIBRBD_PEER, str(cluster.conf),
                               pool, "shared"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) as peer:
            _alternate(peer, ioctx, rng, model, size)
        exported = subprocess.run(["rbd", "-c", str(cluster.conf), "export",
                                   f"{pool}/shared", "-"], check=True, capture_output=True,
                                  timeout=120).stdout
        assert exported == bytes(model)
        check = subprocess.run(["rbd", "-c", str(cluster.conf), "object-map", "check",
                                f"{pool}/shared"], capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stderr
        info = json.loads(subprocess.run(["rbd", "-c", str(cluster.conf), "info",
                                          f"{pool}/shared", "--format", "json"], check=True,
                                         capture_output=True, text=True, timeout=60).stdout)
        assert info["flags"] == []
        rbd.RBD().remove(ioctx, "shared")


def _alternate(peer: subprocess.Popen[str], ioctx: rados.Ioctx, rng: random.Random,
               model: bytearray, size: int) -> None:
    try:
        assert peer.stdout is not None and peer.stdin is not None
        assert peer.stdout.readline().strip() == "ready"
        with rbd.Image(ioctx, "shared") as img:
            for turn in range(20):
                off = rng.randrange(0, size - 9000)
                data = rng.randbytes(rng.randrange(1, 9000))
                img.write(data, off)
                model[off:off + len(data)] = data
                assert img.is_exclusive_lock_owner(), f"turn {turn}: rbdpy lost the lock"
                off = rng.randrange(0, size - 9000)
                data = rng.randbytes(rng.randrange(1, 9000))
                peer.stdin.write(json.dumps({"op": "write", "off": off,
                                             "data": data.hex()}) + "\n")
                peer.stdin.flush()
                answer = json.loads(peer.stdout.readline())
                assert answer["owner"], f"turn {turn}: librbd did not get the lock"
                model[off:off + len(data)] = data
            # rbdpy sees librbd's last write too.
            assert img.read(0, size) == bytes(model)
        peer.stdin.write(json.dumps({"op": "quit"}) + "\n")
        peer.stdin.flush()
        assert peer.wait(timeout=60) == 0
    finally:
        if peer.poll() is None:
            peer.kill()
