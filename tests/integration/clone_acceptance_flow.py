"""Issue #16's acceptance flow, as an OpenStack-style program would run it (python-rbd only).

    python clone_acceptance_flow.py write --impl rbdpy|librbd --conf C --pool P
    python clone_acceptance_flow.py read  --impl rbdpy|librbd --conf C --pool P

``write``: upload a 64 MiB "golden image" (sparse, as ``rbd import`` leaves it), snapshot
and protect it; make 10 clones (format 1) and boot-write each; snapshot one clone, write to
it again, clone that snapshot (format 2) and boot-write the grandchild; flatten the middle
one. Prints one JSON object: the sha256 of every image and snapshot according to the
program's own model (``expected``). Every byte written comes from a fixed seed, so both
libraries must print the same hashes.

``read``: reads every image and snapshot of a finished flow and prints their sha256s
(``found``), plus what each image reports about its parent.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from typing import Any

GOLDEN_SIZE = 64 << 20
CHUNK = 4 << 20
CLONES = 10
MIDDLE = 3  # the clone that gets a snapshot, a child of its own, and then is flattened
SEED = 16


def load(impl: str) -> tuple[Any, Any]:
    if impl == "librbd":
        import rados
        import rbd
    else:
        from rbdpy import rados, rbd
    return rados, rbd


def golden_content() -> bytes:
    """64 MiB of an "OS image": data in most 4 MiB chunks, some chunks all zeros."""
    rng = random.Random(SEED)
    parts = []
    for index in range(GOLDEN_SIZE // CHUNK):
        parts.append(bytes(CHUNK) if index % 5 == 4 else rng.randbytes(CHUNK))
    return b"".join(parts)


def boot_writes(label: str) -> list[tuple[int, bytes]]:
    """What a first boot writes: a boot sector, a journal, scattered files, one write that
    straddles an object boundary, one past the golden data's last chunk."""
    rng = random.Random(f"{SEED}-{label}")
    writes = [(0, rng.randbytes(4096)), (8 << 20, rng.randbytes(1 << 20)),
              ((12 << 20) - 300, rng.randbytes(600)), (GOLDEN_SIZE - 8192, rng.randbytes(8192))]
    for _ in range(6):
        n = rng.choice((512, 4096, 65536))
        writes.append((rng.randrange(0, GOLDEN_SIZE - n), rng.randbytes(n)))
    return writes


def apply(base: bytes, writes: list[tuple[int, bytes]]) -> bytes:
    data = bytearray(base)
    for off, payload in writes:
        data[off:off + len(payload)] = payload
    return bytes(data)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_flow(rados: Any, rbd: Any, conf: str, pool: str) -> dict[str, str]:
    golden = golden_content()
    expected = {"golden": sha(golden), "golden@base": sha(golden)}
    with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as ioctx:
        rbd.RBD().create(ioctx, "golden", GOLDEN_SIZE)
        with rbd.Image(ioctx, "golden") as img:
            for off in range(0, GOLDEN_SIZE, CHUNK):
                chunk = golden[off:off + CHUNK]
                if chunk.count(0) != len(chunk):
                    img.write(chunk, off)
            img.create_snap("base")
            img.protect_snap("base")
        cluster.conf_set("rbd_default_clone_format", "1")
        for i in range(CLONES):
            rbd.RBD().clone(ioctx, "golden", "base", ioctx, f"vm{i}")
        middle_booted = b""  # the middle clone at its snapshot: the grandchild's parent
        for i in range(CLONES):
            writes = boot_writes(f"vm{i}")
            with rbd.Image(ioctx, f"vm{i}") as img:
                for off, payload in writes:
                    img.write(payload, off)
                content = apply(golden, writes)
                if i == MIDDLE:
                    img.create_snap("booted")
                    middle_booted = content
                    expected[f"vm{i}@booted"] = sha(content)
                    later = boot_writes(f"vm{i}-later")
                    for off, payload in later:
                        img.write(payload, off)
                    content = apply(content, later)
            expected[f"vm{i}"] = sha(content)
        cluster.conf_set("rbd_default_clone_format", "2")
        rbd.RBD().clone(ioctx, f"vm{MIDDLE}", "booted", ioctx, "grandchild")
        writes = boot_writes("grandchild")
        with rbd.Image(ioctx, "grandchild") as img:
            for off, payload in writes:
                img.write(payload, off)
        expected["grandchild"] = sha(apply(middle_booted, writes))
        with rbd.Image(ioctx, f"vm{MIDDLE}") as img:
            img.flatten()
    return expected


def read_flow(rados: Any, rbd: Any, conf: str, pool: str,
              names: list[str]) -> dict[str, Any]:
    found: dict[str, str] = {}
    parents: dict[str, Any] = {}
    with rados.Rados(conffile=conf) as cluster, cluster.open_ioctx(pool) as ioctx:
        for spec in names:
            name, _, snap = spec.partition("@")
            with rbd.Image(ioctx, name, snapshot=snap or None, read_only=True) as img:
                h = hashlib.sha256()
                size = img.size()
                for off in range(0, size, CHUNK):
                    h.update(img.read(off, min(CHUNK, size - off)))
                found[spec] = h.hexdigest()
                try:
                    spec_of = img.get_parent_image_spec()
                    parents[spec] = [spec_of["image_name"], spec_of["snap_name"],
                                     img.overlap()]
                except rbd.ImageNotFound:
                    parents[spec] = None
    return {"found": found, "parents": parents}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("write", "read"))
    ap.add_argument("--impl", choices=("librbd", "rbdpy"), required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--pool", required=True)
    ap.add_argument("--names", default="", help="read: comma-separated image[@snap] names")
    args = ap.parse_args()
    rados, rbd = load(args.impl)
    if args.mode == "write":
        out: dict[str, Any] = {"expected": write_flow(rados, rbd, args.conf, args.pool)}
    else:
        out = read_flow(rados, rbd, args.conf, args.pool, args.names.split(","))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
