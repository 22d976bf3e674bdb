"""rbd-CLI-shaped live migration commands over rbdpy's python-rbd facade.

    rbdpy -c CONF migration prepare SRC_SPEC [DEST_SPEC] [--dest-pool P] [--dest NAME]
                                    [--object-size 4M] [--image-feature F ...]
                                    [--stripe-unit N --stripe-count N] [--data-pool P]
    rbdpy -c CONF migration execute IMAGE_SPEC
    rbdpy -c CONF migration commit IMAGE_SPEC
    rbdpy -c CONF migration abort IMAGE_SPEC

An image spec is ``[POOL/[NAMESPACE/]]IMAGE``; execute, commit and abort take the source's
or the destination's name, as rbd does. Like rbd, prepare prints nothing, and the other
three report progress on stderr (``Image migration: 100% complete...done.``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rbdpy.cli.common import base_parser, run_connected
from rbdpy.cli.progress import parse_size

# rbd's progress labels per step
_LABELS = {"execute": "Image migration", "commit": "Commit image migration",
           "abort": "Abort image migration"}


def _split(spec: str, default_pool: str) -> tuple[str, str, str]:
    """``[pool/[namespace/]]image`` → (pool, namespace, image)."""
    parts = spec.split("/")
    if len(parts) == 1:
        return default_pool, "", parts[0]
    if len(parts) == 2:
        return parts[0], "", parts[1]
    return parts[0], "/".join(parts[1:-1]), parts[-1]


def build_parser() -> argparse.ArgumentParser:
    ap = base_parser("rbdpy", __doc__)
    top = ap.add_subparsers(dest="group", required=True)
    mig = top.add_parser("migration", help="live image migration")
    sub = mig.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare", help="prepare image migration")
    p.add_argument("source_spec")
    p.add_argument("dest_spec", nargs="?")
    p.add_argument("--dest-pool", default=None)
    p.add_argument("--dest-namespace", default=None)
    p.add_argument("--dest", default=None)
    p.add_argument("--order", type=int, default=None)
    p.add_argument("--object-size", default=None)
    p.add_argument("--image-feature", action="append", default=None)
    p.add_argument("--stripe-unit", default=None)
    p.add_argument("--stripe-count", type=int, default=None)
    p.add_argument("--data-pool", default=None)
    for step in ("execute", "commit", "abort"):
        q = sub.add_parser(step, help=f"{step} image migration")
        q.add_argument("spec")
        q.add_argument("--no-progress", action="store_true")
        if step == "commit":
            q.add_argument("--force", action="store_true",
                           help="accepted for rbd compatibility")
    return ap


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    from rbdpy import rbd

    return run_connected(args, f"migration {args.step}",
                         lambda cluster: _run(args, cluster, rbd.RBD()),
                         also=(NotImplementedError,))


def _progress(label: str) -> Callable[[int, int], int]:
    def report(done: int, total: int) -> int:
        percent = done * 100 // total if total else 100
        print(f"\r{label}: {percent}% complete...", end="", file=sys.stderr, flush=True)
        return 0
    return report


def _run(args: argparse.Namespace, cluster: Any, r: Any) -> int:
    if args.step == "prepare":
        return _prepare(args, cluster, r)
    pool, namespace, image = _split(args.spec, args.pool)
    label = _LABELS[args.step]
    with cluster.open_ioctx(pool) as ioctx:
        ioctx.set_namespace(namespace)
        step = getattr(r, f"migration_{args.step}")
        step(ioctx, image, on_progress=None if args.no_progress else _progress(label))
    if not args.no_progress:
        print(f"\r{label}: 100% complete...done.", file=sys.stderr)
    return 0


def _prepare(args: argparse.Namespace, cluster: Any, r: Any) -> int:
    pool, namespace, image = _split(args.source_spec, args.pool)
    if args.dest_spec:
        dpool, dnamespace, dimage = _split(args.dest_spec, pool)
    else:
        dpool, dnamespace, dimage = pool, namespace, image
    dpool = args.dest_pool or dpool
    dnamespace = args.dest_namespace if args.dest_namespace is not None else dnamespace
    dimage = args.dest or dimage
    kwargs: dict[str, Any] = {}
    if args.order is not None:
        kwargs["order"] = args.order
    if args.object_size:
        kwargs["order"] = parse_size(args.object_size).bit_length() - 1
    if args.image_feature:
        kwargs["features"] = r.features_from_string(",".join(args.image_feature))
    if args.stripe_unit:
        kwargs["stripe_unit"] = parse_size(args.stripe_unit)
    if args.stripe_count:
        kwargs["stripe_count"] = args.stripe_count
    if args.data_pool:
        kwargs["data_pool"] = args.data_pool
    with cluster.open_ioctx(pool) as ioctx, cluster.open_ioctx(dpool) as dest_ioctx:
        ioctx.set_namespace(namespace)
        dest_ioctx.set_namespace(dnamespace)
        r.migration_prepare(ioctx, image, dest_ioctx, dimage, **kwargs)
    return 0


__all__ = ["main"]
