"""``rbdpy group ...``: rbd's group verbs over rbdpy's python-rbd facade.

    rbdpy -c CONF group create|rm|remove GROUP-SPEC
    rbdpy -c CONF group ls|list [POOL[/NAMESPACE]] [--format json]
    rbdpy -c CONF group rename GROUP-SPEC DEST-GROUP-SPEC
    rbdpy -c CONF group image add|rm|remove GROUP-SPEC IMAGE-SPEC
    rbdpy -c CONF group image ls|list GROUP-SPEC [--format json]
    rbdpy -c CONF group snap create GROUP-SPEC@SNAP [--skip-quiesce|--ignore-quiesce-error]
    rbdpy -c CONF group snap ls|list GROUP-SPEC [--format json]
    rbdpy -c CONF group snap rm|remove|rollback GROUP-SPEC@SNAP [--no-progress]
    rbdpy -c CONF group snap rename GROUP-SPEC@SNAP DEST-SNAP

A GROUP-SPEC is ``[POOL/[NAMESPACE/]]GROUP``, an IMAGE-SPEC ``[POOL/[NAMESPACE/]]IMAGE``;
the pool defaults to ``-p/--pool`` (else ``rbd``) and the namespace to ``--namespace``.
Output (plain and ``--format json``) is rbd's (src/tools/rbd/action/Group.cc).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rbdpy.cli.common import base_parser, run_connected
from rbdpy.cli.progress import ProgressLine

COMMAND = "group"


def _spec(text: str, pool: str, namespace: str) -> tuple[str, str, str]:
    """``[pool/[namespace/]]name`` → (pool, namespace, name)."""
    parts = text.split("/")
    if len(parts) == 1:
        return pool, namespace, parts[0]
    if len(parts) == 2:
        return parts[0], namespace, parts[1]
    return parts[0], "/".join(parts[1:-1]), parts[-1]


def _snap_spec(text: str, pool: str, namespace: str) -> tuple[str, str, str, str]:
    group_part, _, snap = text.partition("@")
    return (*_spec(group_part, pool, namespace), snap)


def build_parser() -> argparse.ArgumentParser:
    ap = base_parser("rbdpy group", __doc__)
    ap.add_argument("--namespace", default="")
    ap.add_argument("command", choices=(COMMAND,))
    sub = ap.add_subparsers(dest="verb", required=True)
    for names, target in ((("create",), "spec"), (("rm", "remove"), "spec")):
        for name in names:
            sub.add_parser(name).add_argument(target)
    for name in ("ls", "list"):
        p = sub.add_parser(name)
        p.add_argument("pool_spec", nargs="?")
        p.add_argument("--format", choices=("plain", "json"), default="plain")
    p = sub.add_parser("rename")
    p.add_argument("spec")
    p.add_argument("dest")

    image = sub.add_parser("image")
    isub = image.add_subparsers(dest="image_verb", required=True)
    for name in ("add", "rm", "remove"):
        q = isub.add_parser(name)
        q.add_argument("spec")
        q.add_argument("image_spec")
    for name in ("ls", "list"):
        q = isub.add_parser(name)
        q.add_argument("spec")
        q.add_argument("--format", choices=("plain", "json"), default="plain")

    snap = sub.add_parser("snap")
    ssub = snap.add_subparsers(dest="snap_verb", required=True)
    q = ssub.add_parser("create")
    q.add_argument("spec")
    quiesce = q.add_mutually_exclusive_group()
    quiesce.add_argument("--skip-quiesce", action="store_true")
    quiesce.add_argument("--ignore-quiesce-error", action="store_true")
    for name in ("ls", "list"):
        q = ssub.add_parser(name)
        q.add_argument("spec")
        q.add_argument("--format", choices=("plain", "json"), default="plain")
    for name in ("rm", "remove", "rollback"):
        q = ssub.add_parser(name)
        q.add_argument("spec")
        q.add_argument("--no-progress", action="store_true")
    q = ssub.add_parser("rename")
    q.add_argument("spec")
    q.add_argument("dest_snap")
    return ap


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    from rbdpy import rbd

    # rbd exits with the errno of the failed call (17 for a group that exists, ...)
    return run_connected(args, "group", lambda cluster: _run(args, cluster, rbd),
                         errno_exit=True)


def _ioctx(cluster: Any, pool: str, namespace: str) -> Any:
    io = cluster.open_ioctx(pool)
    io.set_namespace(namespace)
    return io


def _run(args: argparse.Namespace, cluster: Any, rbd: Any) -> int:
    verb = args.verb
    r = rbd.RBD()
    if verb in ("ls", "list"):
        pool, _, namespace = (args.pool_spec or args.pool).partition("/")
        names = r.group_list(_ioctx(cluster, pool, namespace or args.namespace))
        if args.format == "json":
            print(json.dumps(names, separators=(",", ":")))
        else:
            for name in names:
                print(name)
        return 0
    if verb == "image":
        return _run_image(args, cluster, rbd)
    if verb == "snap":
        return _run_snap(args, cluster, rbd)
    pool, namespace, name = _spec(args.spec, args.pool, args.namespace)
    io = _ioctx(cluster, pool, namespace)
    if verb == "create":
        r.group_create(io, name)
    elif verb in ("rm", "remove"):
        r.group_remove(io, name)
    elif verb == "rename":
        dest_pool, dest_namespace, dest = _spec(args.dest, pool, namespace)
        if (dest_pool, dest_namespace) != (pool, namespace):
            print("rbd: group rename across pools is not supported", file=sys.stderr)
            return 22
        r.group_rename(io, name, dest)
    return 0


def _run_image(args: argparse.Namespace, cluster: Any, rbd: Any) -> int:
    pool, namespace, name = _spec(args.spec, args.pool, args.namespace)
    group_io = _ioctx(cluster, pool, namespace)
    group = rbd.Group(group_io, name)
    if args.image_verb in ("ls", "list"):
        members = list(group.list_images())
        if args.format == "json":
            out = []
            for m in members:
                out.append({"image": m["name"], "pool": cluster.pool_reverse_lookup(m["pool"]),
                            "namespace": namespace, "state": m["state"]})
            print(json.dumps(out, separators=(",", ":")))
            return 0
        for m in members:
            state = "incomplete" if m["state"] == rbd.RBD_GROUP_IMAGE_STATE_INCOMPLETE else ""
            where = cluster.pool_reverse_lookup(m["pool"]) + "/"
            if namespace:
                where += namespace + "/"
            print(f"{where}{m['name']} {state}")
        return 0
    image_pool, image_namespace, image = _spec(args.image_spec, args.pool, namespace)
    image_io = _ioctx(cluster, image_pool, image_namespace)
    if args.image_verb == "add":
        group.add_image(image_io, image)
    else:
        group.remove_image(image_io, image)
    return 0


def _run_snap(args: argparse.Namespace, cluster: Any, rbd: Any) -> int:
    pool, namespace, name, snap = _snap_spec(args.spec, args.pool, args.namespace)
    group = rbd.Group(_ioctx(cluster, pool, namespace), name)
    verb = args.snap_verb
    if verb in ("ls", "list"):
        snaps = list(group.list_snaps())
        rows = [(s["name"], "incomplete" if s["state"] == rbd.RBD_GROUP_SNAP_STATE_INCOMPLETE
                 else "ok") for s in snaps]
        if args.format == "json":
            print(json.dumps([{"snapshot": n, "state": st} for n, st in rows],
                             separators=(",", ":")))
        elif rows:
            _print_table(("NAME", "STATUS"), rows)
        return 0
    if not snap:
        print("rbd: snapshot name was not specified", file=sys.stderr)
        return 22
    if verb == "create":
        flags = 0
        if args.skip_quiesce:
            flags = rbd.RBD_SNAP_CREATE_SKIP_QUIESCE
        elif args.ignore_quiesce_error:
            flags = rbd.RBD_SNAP_CREATE_IGNORE_QUIESCE_ERROR
        group.create_snap(snap, flags)
    elif verb in ("rm", "remove"):
        group.remove_snap(snap)
    elif verb == "rename":
        group.rename_snap(snap, args.dest_snap)
    elif verb == "rollback":
        _rollback(group, snap, args.no_progress)
    return 0


def _rollback(group: Any, snap: str, no_progress: bool) -> None:
    """Roll back with rbd's "Rolling back to group snapshot: N% complete..." on stderr
    (the python-rbd 16.2 signature has no callback: the async face's is used)."""
    from rbdpy import rbd

    progress = ProgressLine("Rolling back to group snapshot", enabled=not no_progress)
    try:
        group._portal.run(group._async.rollback_to_snap, snap, progress.update)
    except rbd.Error:
        progress.fail()
        raise
    progress.finish()


def _print_table(header: tuple[str, str], rows: list[tuple[str, str]]) -> None:
    """rbd's TextTable for NAME (left) and STATUS (right-aligned values)."""
    width0 = max(len(header[0]), *(len(r[0]) for r in rows))
    width1 = max(len(header[1]), *(len(r[1]) for r in rows))
    print(f"{header[0]:<{width0}}  {header[1]:<{width1}}")
    for name, state in rows:
        print(f"{name:<{width0}}  {state:>{width1}}")
