"""Large read buffers are recycled (msgr2.buffers): a result the caller still holds must
never change, whichever API handed it out, in crc and secure mode.

Objects are written by the ``rados`` CLI (Ceph's own client), so the expected bytes do not
come from rbdpy.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from rbdpy import rados
from rbdpy.rados.proto.msgr2 import buffers

pytestmark = pytest.mark.cluster

SIZE = 4 << 20
COUNT = 4


def _pattern(i: int) -> bytes:
    block = hashlib.sha256(b"recycle-%d" % i).digest()
    return block * (SIZE // len(block))


@pytest.fixture
def objects(ceph_conf: str, pool: str, tmp_path: Path) -> list[str]:
    tmp = tmp_path
    names = []
    for i in range(COUNT):
        name = f"recycle-{uuid.uuid4().hex[:8]}-{i}"
        src = Path(tmp) / name
        src.write_bytes(_pattern(i))
        subprocess.run(["rados", "-c", ceph_conf, "-p", pool, "put", name, str(src)],
                       check=True, capture_output=True, timeout=60)
        names.append(name)
    return names


@pytest.mark.parametrize("mode", ["crc", "secure"])
def test_kept_results_stay_intact(ceph_conf: str, pool: str, objects: list[str],
                                  mode: str) -> None:
    kept: list[tuple[int, bytes]] = []
    hashed: list[tuple[int, bytes, int]] = []
    with rados.Rados(conffile=ceph_conf, conf={"ms_client_mode": mode}) as cluster, \
            cluster.open_ioctx(pool) as io:
        for round_ in range(6):
            for i, name in enumerate(objects):
                data = io.read(name, SIZE)
                assert data == _pattern(i)
                if (round_ + i) % 3 == 0:
                    kept.append((i, data))  # held: must never be reused
                elif (round_ + i) % 3 == 1:
                    hashed.append((i, data, hash(data)))
                # the rest are dropped here and may be recycled for the next read
        # the same through completions, with results dropped inside the callbacks
        got: list[tuple[int, bytes]] = []
        lock = threading.Lock()
        comps = []
        for _ in range(3):
            for i, name in enumerate(objects):
                def cb(comp: object, data: bytes, i: int = i) -> None:
                    if i % 2 == 0:
                        with lock:
                            got.append((i, data))
                comps.append(io.aio_read(name, SIZE, 0, cb))
        for c in comps:
            c.wait_for_complete_and_cb()
            assert c.get_return_value() == SIZE
    for i, data in kept + got:
        assert data == _pattern(i)
    for i, data, h in hashed:
        assert data == _pattern(i) and hash(data) == h == hash(bytes(_pattern(i)))
    if buffers._pool is not None:
        assert buffers.pool_stats()["reused"] > 0
