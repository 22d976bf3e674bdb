"""rbd-CLI-shaped clone commands over rbdpy's python-rbd facade.

    rbdpy -c CONF clone [--rbd-default-clone-format 1|2|auto] [--image-feature F ...]
                        [--order N | --object-size S] [--stripe-unit S --stripe-count N]
                        [--data-pool POOL] POOL/IMAGE@SNAP POOL/CHILD
    rbdpy -c CONF flatten [--no-progress] POOL/IMAGE
    rbdpy -c CONF children [--all] [--descendants] [--format json] POOL/IMAGE[@SNAP]

Image specs are ``[POOL/[NAMESPACE/]]IMAGE[@SNAP]`` as in rbd. ``info``'s ``parent:`` and
``overlap:`` lines (and its JSON ``parent`` object) come from :func:`parent_section`.
Output and errors follow ``rbd``'s; only the python-rbd API is used, so the same code
would run over python3-rbd.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from rbdpy.cli.progress import ProgressLine, parse_size, pretty_bytes

COMMANDS = ("clone", "flatten", "children")


@dataclass(frozen=True)
class ImageSpec:
    """``pool/[namespace/]image[@snap]`` taken apart."""

    pool: str
    namespace: str
    image: str
    snap: str | None

    @classmethod
    def parse(cls, text: str, default_pool: str) -> ImageSpec:
        path, at, snap = text.partition("@")
        parts = path.split("/")
        if len(parts) > 3 or not parts[-1]:
            raise ValueError(f"invalid image spec {text!r}")
        pool = parts[0] if len(parts) > 1 else default_pool
        namespace = parts[1] if len(parts) == 3 else ""
        return cls(pool, namespace, parts[-1], snap if at else None)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("clone", help="clone a snapshot into a copy-on-write child image")
    p.add_argument("parent_spec", metavar="POOL/IMAGE@SNAP")
    p.add_argument("child_spec", metavar="POOL/CHILD")
    p.add_argument("--rbd-default-clone-format", choices=("1", "2", "auto"), default=None,
                   help="v1 needs a protected snapshot; auto follows the cluster")
    p.add_argument("--image-feature", action="append", default=None)
    layout = p.add_mutually_exclusive_group()
    layout.add_argument("--order", type=int, default=None)
    layout.add_argument("--object-size", default=None)
    p.add_argument("--stripe-unit", default=None)
    p.add_argument("--stripe-count", type=int, default=None)
    p.add_argument("--data-pool", default=None)
    p = sub.add_parser("flatten", help="copy a clone's parent data into it and detach it")
    p.add_argument("spec", metavar="POOL/IMAGE")
    p.add_argument("--no-progress", action="store_true")
    p = sub.add_parser("children", help="list the clones of an image or snapshot")
    p.add_argument("spec", metavar="POOL/IMAGE[@SNAP]")
    p.add_argument("-a", "--all", action="store_true",
                   help="also list children in the trash")
    p.add_argument("--descendants", action="store_true",
                   help="also list clones of clones, at any depth")
    p.add_argument("--format", choices=("plain", "json"), default="plain")


def conf_overrides(args: argparse.Namespace) -> dict[str, str]:
    """Config options the command line sets for the whole handle (as rbd's --rbd-* do)."""
    clone_format = getattr(args, "rbd_default_clone_format", None)
    return {"rbd_default_clone_format": clone_format} if clone_format else {}


def open_ioctx(cluster: Any, spec: ImageSpec) -> Any:
    ioctx = cluster.open_ioctx(spec.pool)
    if spec.namespace:
        ioctx.set_namespace(spec.namespace)
    return ioctx


def run(args: argparse.Namespace, cluster: Any, rbd: Any) -> int:
    if args.cmd == "clone":
        _clone(args, cluster, rbd)
        return 0
    spec = ImageSpec.parse(args.spec, args.pool)
    with open_ioctx(cluster, spec) as ioctx:
        if args.cmd == "flatten":
            _flatten(rbd, ioctx, spec, not args.no_progress)
        else:
            _children(rbd, ioctx, spec, args)
    return 0


def _clone(args: argparse.Namespace, cluster: Any, rbd: Any) -> None:

    parent = ImageSpec.parse(args.parent_spec, args.pool)
    child = ImageSpec.parse(args.child_spec, args.pool)
    if parent.snap is None:
        raise rbd.InvalidArgument("clone: the parent needs a snapshot name (POOL/IMAGE@SNAP)")
    r = rbd.RBD()
    kwargs: dict[str, Any] = {}
    if args.image_feature:
        kwargs["features"] = r.features_from_string(",".join(args.image_feature))
    if args.order is not None:
        kwargs["order"] = args.order
    elif args.object_size:
        kwargs["order"] = parse_size(args.object_size).bit_length() - 1
    if args.stripe_unit:
        kwargs["stripe_unit"] = parse_size(args.stripe_unit)
    if args.stripe_count:
        kwargs["stripe_count"] = args.stripe_count
    if args.data_pool:
        kwargs["data_pool"] = args.data_pool
    with open_ioctx(cluster, parent) as p_ioctx, open_ioctx(cluster, child) as c_ioctx:
        r.clone(p_ioctx, parent.image, parent.snap, c_ioctx, child.image, **kwargs)


def _flatten(rbd: Any, ioctx: Any, spec: ImageSpec, show_progress: bool) -> None:
    progress = ProgressLine("Image flatten", enabled=show_progress)
    with rbd.Image(ioctx, spec.image) as img:
        try:
            img.flatten(on_progress=progress.update)
        except BaseException:
            progress.fail()
            raise
    progress.finish()


def _children(rbd: Any, ioctx: Any, spec: ImageSpec, args: argparse.Namespace) -> None:
    with rbd.Image(ioctx, spec.image, snapshot=spec.snap, read_only=True) as img:
        found = list(img.list_descendants() if args.descendants else img.list_children2())
    shown = [c for c in found if args.all or not c["trash"]]
    if args.format == "json":
        keys = ("pool", "pool_namespace", "image") + (("id", "trash") if args.all else ())
        print(json.dumps([{k: c[k] for k in keys} for c in shown], separators=(",", ":")))
        return
    for c in shown:
        name = "/".join(p for p in (c["pool"], c["pool_namespace"], c["image"]) if p)
        print(name + (f" (trash {c['id']})" if c["trash"] else ""))


def parent_section(cluster: Any, rbd: Any, img: Any) -> dict[str, Any] | None:
    """``rbd info``'s JSON ``parent`` object for an open image, or None without a parent.

    ``trash`` says whether the parent image now sits in its pool's trash: python-rbd's
    parent spec does not carry that bit, so it is read from the parent pool's directory
    (a trashed image has left it).
    """
    try:
        spec = img.get_parent_image_spec()
        parent_id = img.parent_id()
        overlap = img.overlap()
    except rbd.ImageNotFound:
        return None
    if not spec["image_name"]:
        return None
    where = ImageSpec(spec["pool_name"], spec["pool_namespace"], spec["image_name"], None)
    with open_ioctx(cluster, where) as p_ioctx:
        in_trash = all(entry["id"] != parent_id for entry in rbd.RBD().list2(p_ioctx))
    return {"pool": spec["pool_name"], "pool_namespace": spec["pool_namespace"],
            "image": spec["image_name"], "id": parent_id, "snapshot": spec["snap_name"],
            "trash": in_trash, "overlap": overlap}


def parent_lines(parent: dict[str, Any]) -> list[str]:
    """``rbd info``'s ``parent:`` and ``overlap:`` lines (tab-indented) for ``parent``."""
    name = "/".join(p for p in (parent["pool"], parent["pool_namespace"], parent["image"])
                    if p)
    trash = f" (trash {parent['id']})" if parent["trash"] else ""
    return [f"\tparent: {name}@{parent['snapshot']}{trash}",
            f"\toverlap: {pretty_bytes(parent['overlap'])}"]
