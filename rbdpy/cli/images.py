"""rbd-CLI-shaped image commands over rbdpy's python-rbd facade.

    rbdpy -c CONF [--id NAME] ls [POOL]
    rbdpy -c CONF create --size 1G POOL/IMAGE [--object-size 4M] [--stripe-unit N --stripe-count N]
    rbdpy -c CONF info POOL/IMAGE[@SNAP] [--format json]
    rbdpy -c CONF rm POOL/IMAGE
    rbdpy -c CONF export POOL/IMAGE FILE|-
    rbdpy -c CONF import FILE|- POOL/IMAGE
    rbdpy -c CONF bench POOL/IMAGE --io-type write|read [--io-size 4K] [--io-threads 16]
                                   [--io-total 1G] [--io-pattern seq|rand]
    rbdpy -c CONF diff POOL/IMAGE[@SNAP] [--from-snap SNAP] [--whole-object] [--format json]
    rbdpy -c CONF clone | flatten | children ...   (see rbdpy/cli/layering.py)

Sizes take rbd's suffixes (K, M, G, T; powers of two). Output follows `rbd`'s where it has
one; `bench` prints totals in rbd bench's spirit.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from typing import Any

from rbdpy.cli import layering
from rbdpy.cli.common import base_parser, run_connected
from rbdpy.cli.progress import parse_size

COMMANDS = ("ls", "list", "create", "info", "rm", "remove", "export", "import", "bench",
            "diff", *layering.COMMANDS)
_CHUNK = 4 << 20


def split_spec(spec: str, default_pool: str) -> tuple[str, str]:
    pool, sep, image = spec.rpartition("/")
    return (pool if sep else default_pool), image


def build_parser() -> argparse.ArgumentParser:
    ap = base_parser("rbdpy", __doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("ls", "list"):
        p = sub.add_parser(name)
        p.add_argument("pool_name", nargs="?")
        p.add_argument("--format", choices=("plain", "json"), default="plain")
    p = sub.add_parser("create")
    p.add_argument("spec")
    p.add_argument("--size", required=True)
    p.add_argument("--object-size", default=None)
    p.add_argument("--stripe-unit", default=None)
    p.add_argument("--stripe-count", type=int, default=None)
    p.add_argument("--data-pool", default=None)
    p.add_argument("--image-feature", action="append", default=None)
    p = sub.add_parser("info")
    p.add_argument("spec")
    p.add_argument("--format", choices=("plain", "json"), default="plain")
    for name in ("rm", "remove"):
        p = sub.add_parser(name)
        p.add_argument("spec")
    p = sub.add_parser("export")
    p.add_argument("spec")
    p.add_argument("path")
    p = sub.add_parser("import")
    p.add_argument("path")
    p.add_argument("spec")
    p = sub.add_parser("bench")
    p.add_argument("spec")
    p.add_argument("--io-type", choices=("read", "write"), required=True)
    p.add_argument("--io-size", default="4K")
    p.add_argument("--io-threads", type=int, default=16)
    p.add_argument("--io-total", default="1G")
    p.add_argument("--io-pattern", choices=("seq", "rand"), default="seq")
    p = sub.add_parser("diff")
    p.add_argument("spec")
    p.add_argument("--from-snap", default=None)
    p.add_argument("--whole-object", action="store_true")
    p.add_argument("--format", choices=("plain", "json"), default="plain")
    layering.add_parsers(sub)
    return ap


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    from rbdpy import rbd

    return run_connected(args, args.cmd, lambda cluster: _run(args, cluster, rbd),
                         conf=layering.conf_overrides(args) or None, also=(ValueError,))


def _run(args: argparse.Namespace, cluster: Any, rbd: Any) -> int:
    r = rbd.RBD()
    if args.cmd in ("ls", "list"):
        with cluster.open_ioctx(args.pool_name or args.pool) as ioctx:
            names = sorted(r.list(ioctx))
        print(json.dumps(names) if args.format == "json" else "\n".join(names))
        return 0
    if args.cmd in layering.COMMANDS:
        return layering.run(args, cluster, rbd)
    if args.cmd == "info":
        _info(r, cluster, layering.ImageSpec.parse(args.spec, args.pool), args.format)
        return 0
    pool, image = split_spec(args.spec, args.pool)
    with cluster.open_ioctx(pool) as ioctx:
        if args.cmd == "create":
            size = parse_size(args.size) if args.size[-1:].isalpha() else int(args.size) << 20
            kwargs: dict[str, Any] = {}
            if args.object_size:
                kwargs["order"] = parse_size(args.object_size).bit_length() - 1
            if args.stripe_unit:
                kwargs["stripe_unit"] = parse_size(args.stripe_unit)
            if args.stripe_count:
                kwargs["stripe_count"] = args.stripe_count
            if args.data_pool:
                kwargs["data_pool"] = args.data_pool
            if args.image_feature:
                kwargs["features"] = r.features_from_string(",".join(args.image_feature))
            r.create(ioctx, image, size, **kwargs)
        elif args.cmd in ("rm", "remove"):
            r.remove(ioctx, image)
            print("Removing image: 100% complete...done.", file=sys.stderr)
        elif args.cmd == "export":
            _export(rbd, ioctx, image, args.path)
        elif args.cmd == "import":
            _import(r, rbd, ioctx, image, args.path)
        elif args.cmd == "bench":
            _bench(rbd, ioctx, image, args)
        elif args.cmd == "diff":
            _diff(rbd, ioctx, image, args)
    return 0


def _diff(rbd: Any, ioctx: Any, spec: str, args: argparse.Namespace) -> None:
    """``rbd diff``: the changed extents, as its table (Offset Length Type) or JSON."""
    image, _, snap = spec.partition("@")
    extents: list[tuple[int, int, bool]] = []
    with rbd.Image(ioctx, image, snapshot=snap or None, read_only=True) as img:
        img.diff_iterate(0, img.size(), args.from_snap,
                         lambda off, length, exists: extents.append((off, length, exists)),
                         whole_object=args.whole_object)
    if args.format == "json":
        print(json.dumps([{"offset": o, "length": n, "exists": "true" if e else "false"}
                          for o, n, e in extents], separators=(",", ":")))
        return
    rows = [("Offset", "Length", "Type")] + [
        (str(o), str(n), "data" if e else "zero") for o, n, e in extents]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def _info(r: Any, cluster: Any, spec: layering.ImageSpec, fmt: str) -> None:
    from rbdpy import rbd

    with layering.open_ioctx(cluster, spec) as ioctx, \
            rbd.Image(ioctx, spec.image, snapshot=spec.snap, read_only=True) as img:
        st = img.stat()
        if img.old_format():
            _info_format1(spec, img, st, fmt)
            return
        features = r.features_to_string(img.features()).split(",") if img.features() else []
        info: dict[str, Any] = {
            "name": spec.image, "id": img.id(), "size": st["size"], "objects": st["num_objs"],
            "order": st["order"], "object_size": st["obj_size"],
            "block_name_prefix": st["block_name_prefix"], "format": 2,
            "features": features, "flags": [], "stripe_unit": img.stripe_unit(),
            "stripe_count": img.stripe_count()}
        parent = layering.parent_section(cluster, rbd, img)
    if parent is not None:
        info["parent"] = parent
    if fmt == "json":
        print(json.dumps(info))
        return
    print(f"rbd image '{spec.image}':")
    print(f"\tsize {info['size']} B in {info['objects']} objects")
    print(f"\torder {info['order']} ({info['object_size']} B objects)")
    print(f"\tid: {info['id']}")
    print(f"\tblock_name_prefix: {info['block_name_prefix']}")
    print("\tformat: 2")
    print(f"\tfeatures: {', '.join(features)}")
    if parent is not None:
        # rbd prints these two after the timestamps and before the striping lines.
        print("\n".join(layering.parent_lines(parent)))


def _info_format1(spec: layering.ImageSpec, img: Any, st: dict[str, Any], fmt: str) -> None:
    """rbd's info for a format 1 image: no id, features, flags or striping; the
    snapshot count instead (rbd's JSON keys, in its order)."""
    info = {"name": spec.image, "id": "", "size": st["size"], "objects": st["num_objs"],
            "order": st["order"], "object_size": st["obj_size"],
            "snapshot_count": len(list(img.list_snaps())),
            "block_name_prefix": st["block_name_prefix"], "format": 1}
    if fmt == "json":
        print(json.dumps(info))
        return
    print(f"rbd image '{spec.image}':")
    print(f"\tsize {info['size']} B in {info['objects']} objects")
    print(f"\torder {info['order']} ({info['object_size']} B objects)")
    print(f"\tsnapshot_count: {info['snapshot_count']}")
    print(f"\tblock_name_prefix: {info['block_name_prefix']}")
    print("\tformat: 1")


def _export(rbd: Any, ioctx: Any, image: str, path: str) -> None:
    with rbd.Image(ioctx, image, read_only=True) as img:
        size = img.size()
        out = sys.stdout.buffer if path == "-" else open(path, "wb")
        try:
            for off in range(0, size, _CHUNK):
                out.write(img.read(off, min(_CHUNK, size - off)))
        finally:
            if out is not sys.stdout.buffer:
                out.close()


def _import(r: Any, rbd: Any, ioctx: Any, image: str, path: str) -> None:
    src = sys.stdin.buffer if path == "-" else open(path, "rb")
    try:
        data = src.read()
    finally:
        if src is not sys.stdin.buffer:
            src.close()
    r.create(ioctx, image, len(data))
    with rbd.Image(ioctx, image) as img:
        for off in range(0, len(data), _CHUNK):
            chunk = data[off:off + _CHUNK]
            if chunk.count(0) != len(chunk):  # keep holes sparse, as rbd import does
                img.write(chunk, off)


def _bench(rbd: Any, ioctx: Any, image: str, args: argparse.Namespace) -> None:
    io_size = parse_size(args.io_size)
    total = parse_size(args.io_total)
    threads = args.io_threads
    with rbd.Image(ioctx, image) as img:
        size = img.size()
        count = max(1, total // io_size)
        rng = random.Random(0)
        offs = [((i * io_size) % size) if args.io_pattern == "seq"
                else rng.randrange(0, size // io_size) * io_size for i in range(count)]
        payload = b"\xa5" * io_size
        pending: list[Any] = []
        t0 = time.monotonic()
        for off in offs:
            if len(pending) >= threads:
                pending.pop(0).wait_for_complete_and_cb()
            if args.io_type == "write":
                pending.append(img.aio_write(payload, off, lambda c: None))
            else:
                pending.append(img.aio_read(off, io_size, lambda c, d: None))
        for c in pending:
            c.wait_for_complete_and_cb()
        took = time.monotonic() - t0
    print(f"elapsed: {took:.2f}  ops: {count}  ops/sec: {count / took:.2f}  "
          f"bytes/sec: {count * io_size / took / (1 << 20):.2f} MiB/s")
