"""A seeded random walk over clone chains, every read checked against an in-memory model.

One script for both client libraries, so the model itself is checked against librbd:

    /usr/bin/python3 clone_model_driver.py run --impl librbd --conf C --pools A,B --seed 7
    .venv/bin/python clone_model_driver.py run --impl rbdpy  --conf C --pools A,B --seed 7

``run`` builds three base images (a plain one and a striped one in the first pool, one in
the second pool), then applies random operations: clones (format 1 or 2, chains up to three
levels, child layouts that differ from the parent's, across the two pools), writes,
discards, write_zeroes, resizes (shrink and grow), snapshots, flattens, and reads of the
image or of one of its snapshots. Every read is compared with the model at once. It prints
one JSON object: the seed, how many operations ran, and the sha256 of every image and
snapshot according to the model (``expected``).

``verify`` reads back every image and snapshot listed in such a JSON object (on stdin) with
the chosen library and prints the sha256 it found for each (``found``).

Why the model is this simple: a clone reads as its parent snapshot did when it was cloned,
and a parent snapshot never changes, so each image is just its bytes; a shrink that cuts the
overlap makes the cut part read as zeros when the image grows again (the overlap never grows
back), which is what truncating and re-extending a bytearray gives. Discards are aligned to
librbd's default ``rbd_discard_granularity_bytes`` (64 KiB) so that none is skipped as
partial, and read as zeros on a clone too (librbd zeroes where a parent extent lies under).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

DISCARD_GRANULE = 64 << 10
MAX_DEPTH = 3  # a clone of a clone of a clone
# Bounds that keep the final read-back (every image and snapshot, twice) to seconds.
MAX_IMAGES = 20
MAX_SNAPS_PER_IMAGE = 4
READ_CHUNK = 4 << 20


@dataclass
class ModelImage:
    """What one image must read as: its bytes now and at each snapshot."""

    pool: str
    name: str
    data: bytearray
    parent: tuple[str, str] | None = None  # (key of the parent image, snapshot name)
    snaps: dict[str, bytes] = field(default_factory=dict)
    protected: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return f"{self.pool}/{self.name}"


class Mismatch(AssertionError):
    pass


class Walk:
    """The random walk: the library's handles on one side, the model on the other."""

    def __init__(self, rados: Any, rbd: Any, cluster: Any, pools: list[str],
                 rng: random.Random) -> None:
        self.rados, self.rbd, self.cluster, self.rng = rados, rbd, cluster, rng
        self.ioctx = {p: cluster.open_ioctx(p) for p in pools}
        self.pools = pools
        self.model: dict[str, ModelImage] = {}
        self.handles: dict[str, Any] = {}
        self.log: list[str] = []
        self.serial = 0

    # --------------------------------------------------------------- bookkeeping

    def close(self) -> None:
        for img in self.handles.values():
            img.close()
        for io in self.ioctx.values():
            io.close()

    def note(self, text: str) -> None:
        self.log.append(text)

    def fail(self, what: str) -> None:
        raise Mismatch(f"{what}; last operations:\n  " + "\n  ".join(self.log[-25:]))

    def depth(self, key: str) -> int:
        parent = self.model[key].parent
        return 0 if parent is None else 1 + self.depth(parent[0])

    def fresh_name(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial}"

    # --------------------------------------------------------------- base images

    def create_base(self, pool: str, name: str, size: int, **layout: Any) -> None:
        self.rbd.RBD().create(self.ioctx[pool], name, size, **layout)
        img = self.rbd.Image(self.ioctx[pool], name)
        content = bytearray(self.rng.randbytes(size))
        # leave a hole per object now and then, so parents are sparse as real ones are
        step = 1 << layout.get("order", 22)
        for off in range(0, size, step):
            if self.rng.random() < 0.25:
                content[off:off + step] = bytes(len(content[off:off + step]))
            else:
                img.write(bytes(content[off:off + step]), off)
        m = ModelImage(pool, name, content)
        self.model[m.key] = m
        self.handles[m.key] = img
        self.note(f"create {m.key} size={size} {layout}")

    # --------------------------------------------------------------- operations

    def op_write(self, m: ModelImage) -> None:
        size = len(m.data)
        if size == 0:
            return
        n = self.rng.choice((1, 512, 4096, 65536, 1 << 20, self.rng.randrange(1, 200_000)))
        n = min(n, size)
        off = self.rng.randrange(0, size - n + 1)
        payload = self.rng.randbytes(n)
        self.note(f"write {m.key} off={off} len={n}")
        self.handles[m.key].write(payload, off)
        m.data[off:off + n] = payload

    def op_discard(self, m: ModelImage) -> None:
        granules = len(m.data) // DISCARD_GRANULE
        if granules == 0:
            return
        first = self.rng.randrange(0, granules)
        count = self.rng.randint(1, min(granules - first, 24))
        off, n = first * DISCARD_GRANULE, count * DISCARD_GRANULE
        self.note(f"discard {m.key} off={off} len={n}")
        self.handles[m.key].discard(off, n)
        m.data[off:off + n] = bytes(n)

    def op_write_zeroes(self, m: ModelImage) -> None:
        size = len(m.data)
        if size == 0:
            return
        off = self.rng.randrange(0, size)
        n = self.rng.randint(1, min(size - off, 3 << 20))
        self.note(f"write_zeroes {m.key} off={off} len={n}")
        self.handles[m.key].write_zeroes(off, n)
        m.data[off:off + n] = bytes(n)

    def op_resize(self, m: ModelImage) -> None:
        new = self.rng.choice((self.rng.randrange(1 << 20, 9 << 20),
                               self.rng.randrange(1, 96) << 16))
        self.note(f"resize {m.key} {len(m.data)} -> {new}")
        self.handles[m.key].resize(new)
        if new < len(m.data):
            del m.data[new:]
        else:
            m.data.extend(bytes(new - len(m.data)))

    def op_snap(self, m: ModelImage) -> None:
        if len(m.snaps) >= MAX_SNAPS_PER_IMAGE:
            return
        name = self.fresh_name("s")
        self.note(f"snap {m.key}@{name}")
        self.handles[m.key].create_snap(name)
        m.snaps[name] = bytes(m.data)

    def op_clone(self, m: ModelImage) -> None:
        if not m.snaps or self.depth(m.key) >= MAX_DEPTH or len(self.model) >= MAX_IMAGES:
            return
        snap = self.rng.choice(sorted(m.snaps))
        fmt = self.rng.choice(("1", "2"))
        pool = self.rng.choice(self.pools)
        name = self.fresh_name("c")
        layout: dict[str, Any] = {}
        shape = self.rng.random()
        if shape < 0.3:
            # librbd gives a clone its parent's stripe unit unless told otherwise, and
            # refuses one that does not divide the object size: name both
            order = self.rng.choice((18, 20, 22))
            layout.update(order=order, stripe_unit=1 << order, stripe_count=1)
        elif shape < 0.45:
            layout.update(order=20, stripe_unit=64 << 10, stripe_count=3)
        if fmt == "1" and snap not in m.protected:
            self.handles[m.key].protect_snap(snap)
            m.protected.add(snap)
        self.note(f"clone v{fmt} {m.key}@{snap} -> {pool}/{name} {layout}")
        self.cluster.conf_set("rbd_default_clone_format", fmt)
        self.rbd.RBD().clone(self.ioctx[m.pool], m.name, snap, self.ioctx[pool], name,
                             **layout)
        child = ModelImage(pool, name, bytearray(m.snaps[snap]), parent=(m.key, snap))
        self.model[child.key] = child
        self.handles[child.key] = self.rbd.Image(self.ioctx[pool], name)

    def op_flatten(self, m: ModelImage) -> None:
        if m.parent is None:
            return
        self.note(f"flatten {m.key}")
        self.handles[m.key].flatten()
        m.parent = None

    def op_read(self, m: ModelImage) -> None:
        size = len(m.data)
        if size == 0:
            return
        off = self.rng.randrange(0, size)
        n = self.rng.randint(1, min(size - off, 5 << 20))
        self.note(f"read {m.key} off={off} len={n}")
        got = self.handles[m.key].read(off, n)
        if got != m.data[off:off + n]:
            self.fail(f"read of {m.key} [{off}, +{n}) differs from the model")

    def op_read_snap(self, m: ModelImage) -> None:
        if not m.snaps:
            return
        snap = self.rng.choice(sorted(m.snaps))
        want = m.snaps[snap]
        if not want:
            return
        off = self.rng.randrange(0, len(want))
        n = self.rng.randint(1, min(len(want) - off, 5 << 20))
        self.note(f"read {m.key}@{snap} off={off} len={n}")
        with self.rbd.Image(self.ioctx[m.pool], m.name, snapshot=snap,
                            read_only=True) as img:
            got = img.read(off, n)
        if got != want[off:off + n]:
            self.fail(f"read of {m.key}@{snap} [{off}, +{n}) differs from the model")

    OPS = (("write", 30), ("read", 20), ("discard", 8), ("write_zeroes", 8),
           ("resize", 5), ("snap", 8), ("clone", 10), ("flatten", 2), ("read_snap", 7))

    def step(self) -> None:
        names, weights = zip(*self.OPS, strict=True)
        op = self.rng.choices(names, weights)[0]
        # creation order, not names: the same seed walks the same way whatever the pools
        # are called
        target = self.model[self.rng.choice(list(self.model))]
        getattr(self, f"op_{op}")(target)

    def check_all(self) -> None:
        """Every image read whole through its open handle, against the model."""
        for key, m in sorted(self.model.items()):
            if sha_of_image(self.handles[key], len(m.data)) != sha(m.data):
                self.fail(f"final read of {key} differs from the model")

    def expected(self) -> dict[str, dict[str, Any]]:
        return {key: {"pool": m.pool, "name": m.name, "head": sha(m.data),
                      "parent": list(m.parent) if m.parent else None,
                      "snaps": {s: sha(d) for s, d in sorted(m.snaps.items())}}
                for key, m in sorted(self.model.items())}


def sha(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


def sha_of_image(img: Any, size: int) -> str:
    h = hashlib.sha256()
    for off in range(0, size, READ_CHUNK):
        h.update(img.read(off, min(READ_CHUNK, size - off)))
    return h.hexdigest()


def load(impl: str) -> tuple[Any, Any]:
    if impl == "librbd":
        import rados
        import rbd
    else:
        from rbdpy import rados, rbd
    return rados, rbd


def run(args: argparse.Namespace) -> dict[str, Any]:
    rados, rbd = load(args.impl)
    rng = random.Random(args.seed)
    pools = args.pools.split(",")
    deadline = time.monotonic() + args.budget
    # rbd_cache off for librbd, so both libraries go to the OSDs for every call
    with rados.Rados(conffile=args.conf, conf={"rbd_cache": "false"}) as cluster:
        walk = Walk(rados, rbd, cluster, pools, rng)
        try:
            walk.create_base(pools[0], "base", 6 << 20, order=20)
            walk.create_base(pools[0], "striped", 5 << 20, order=20,
                             stripe_unit=64 << 10, stripe_count=4)
            walk.create_base(pools[-1], "other", 4 << 20, order=22)
            done = 0
            while done < args.ops and time.monotonic() < deadline:
                walk.step()
                done += 1
            walk.check_all()
            return {"seed": args.seed, "impl": args.impl, "ops": done,
                    "expected": walk.expected(), "log": walk.log}
        except Exception:
            print("last operations:\n  " + "\n  ".join(walk.log[-25:]), file=sys.stderr)
            raise
        finally:
            walk.close()


def verify(args: argparse.Namespace, listing: dict[str, Any]) -> dict[str, Any]:
    rados, rbd = load(args.impl)
    found: dict[str, dict[str, Any]] = {}
    with rados.Rados(conffile=args.conf) as cluster:
        for key, entry in listing["expected"].items():
            with cluster.open_ioctx(entry["pool"]) as ioctx:
                snaps = {}
                for snap in entry["snaps"]:
                    with rbd.Image(ioctx, entry["name"], snapshot=snap,
                                   read_only=True) as img:
                        snaps[snap] = sha_of_image(img, img.size())
                with rbd.Image(ioctx, entry["name"], read_only=True) as img:
                    head = sha_of_image(img, img.size())
            found[key] = {"head": head, "snaps": snaps}
    return {"impl": args.impl, "found": found}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("run", "verify"))
    ap.add_argument("--impl", choices=("librbd", "rbdpy"), required=True)
    ap.add_argument("--conf", required=True)
    ap.add_argument("--pools", default="rbd", help="two pools, comma-separated")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--ops", type=int, default=300)
    ap.add_argument("--budget", type=float, default=40.0, help="seconds for the op loop")
    args = ap.parse_args()
    if args.mode == "run":
        try:
            out = run(args)
        except Mismatch as e:
            print(json.dumps({"seed": args.seed, "impl": args.impl, "mismatch": str(e)}))
            return 1
    else:
        out = verify(args, json.load(sys.stdin))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
