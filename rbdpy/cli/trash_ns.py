"""rbd-CLI-shaped ``trash`` and ``namespace`` commands over rbdpy's python-rbd facade.

    rbdpy -c CONF trash ls [POOL[/NS]] [--all] [-l|--long] [--format json]
    rbdpy -c CONF trash mv POOL[/NS]/IMAGE [--expires-at DATETIME]
    rbdpy -c CONF trash restore POOL[/NS]/IMAGE_ID [--image NAME]
    rbdpy -c CONF trash rm POOL[/NS]/IMAGE_ID [--force]
    rbdpy -c CONF trash purge [POOL[/NS]] [--expired-before DATETIME] [--threshold RATIO]
    rbdpy -c CONF namespace ls [POOL] [--format json]
    rbdpy -c CONF namespace create POOL/NS
    rbdpy -c CONF namespace rm POOL/NS

``--format json`` prints what ``rbd`` prints: ``trash ls`` a list of ``{"id", "name"}``
(``--long`` adds ``source``, ``deleted_at`` and ``status``), ``namespace ls`` a list of
``{"name"}``. As ``rbd``, ``trash ls`` shows only images a user trashed unless ``--all``.
Datetimes are ISO 8601 in local time (``2030-01-01`` or ``2030-01-01T12:00``).
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from collections.abc import Sequence
from typing import Any

from rbdpy.cli.common import base_parser, run_connected

COMMANDS = ("trash", "namespace")


def _split(spec: str, default_pool: str, with_leaf: bool) -> tuple[str, str, str]:
    """``pool/ns/leaf`` → (pool, ns, leaf); the leaf (image name or id) only when asked."""
    parts = spec.split("/") if spec else []
    leaf = parts.pop() if with_leaf and parts else ""
    pool = parts[0] if parts else default_pool
    namespace = parts[1] if len(parts) > 1 else ""
    return pool, namespace, leaf


def _when(text: str) -> float:
    return datetime.datetime.fromisoformat(text).timestamp()


def build_parser() -> argparse.ArgumentParser:
    ap = base_parser("rbdpy", __doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    trash = sub.add_parser("trash").add_subparsers(dest="action", required=True)
    p = trash.add_parser("ls", aliases=["list"])
    p.add_argument("spec", nargs="?", default="")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-l", "--long", action="store_true")
    p.add_argument("--format", choices=("plain", "json"), default="plain")
    p = trash.add_parser("mv", aliases=["move"])
    p.add_argument("spec")
    p.add_argument("--expires-at", default=None)
    p = trash.add_parser("restore")
    p.add_argument("spec")
    p.add_argument("--image", default="")
    p = trash.add_parser("rm", aliases=["remove"])
    p.add_argument("spec")
    p.add_argument("--force", action="store_true")
    p = trash.add_parser("purge")
    p.add_argument("spec", nargs="?", default="")
    p.add_argument("--expired-before", default=None)
    p.add_argument("--threshold", type=float, default=-1)
    ns = sub.add_parser("namespace").add_subparsers(dest="action", required=True)
    p = ns.add_parser("ls", aliases=["list"])
    p.add_argument("spec", nargs="?", default="")
    p.add_argument("--format", choices=("plain", "json"), default="plain")
    for name, aliases in (("create", []), ("rm", ["remove"])):
        p = ns.add_parser(name, aliases=aliases)
        p.add_argument("spec")
    return ap


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    from rbdpy import rbd

    verb = _trash if args.cmd == "trash" else _namespace
    return run_connected(args, f"{args.cmd} {args.action}",
                         lambda cluster: verb(args, cluster, rbd.RBD()))


def _ctime(moment: datetime.datetime) -> str:
    """A python-rbd (naive UTC) datetime as rbd prints it: ctime() in local time."""
    local = moment.replace(tzinfo=datetime.timezone.utc).astimezone()
    return time.asctime(local.timetuple())


def _long_entry(entry: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    end = entry["deferment_end_time"]
    status = ("expired at " if end <= now else "protected until ") + _ctime(end)
    return {"id": entry["id"], "name": entry["name"], "source": entry["source"],
            "deleted_at": _ctime(entry["deletion_time"]), "status": status}


def _trash(args: argparse.Namespace, cluster: Any, r: Any) -> int:
    with_leaf = args.action not in ("ls", "list", "purge")
    pool, namespace, leaf = _split(args.spec, args.pool, with_leaf)
    with cluster.open_ioctx(pool) as ioctx:
        ioctx.set_namespace(namespace)
        if args.action in ("ls", "list"):
            entries = [e for e in r.trash_list(ioctx) if args.all or e["source"] == "USER"]
            now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
            rows = [_long_entry(e, now) if args.long else {"id": e["id"], "name": e["name"]}
                    for e in entries]
            if args.format == "json":
                print(json.dumps(rows, separators=(",", ":")))
            elif args.long:
                for row in rows:
                    print("  ".join(str(v) for v in row.values()))
            else:
                for row in rows:
                    print(f"{row['id']} {row['name']}")
        elif args.action in ("mv", "move"):
            delay = 0
            if args.expires_at:
                delay = max(0, int(_when(args.expires_at) - time.time()))
            r.trash_move(ioctx, leaf, delay)
        elif args.action == "restore":
            r.trash_restore(ioctx, leaf, args.image)
        elif args.action in ("rm", "remove"):
            r.trash_remove(ioctx, leaf, args.force)
        else:
            expire = None
            if args.expired_before:
                expire = datetime.datetime.fromtimestamp(_when(args.expired_before))
            r.trash_purge(ioctx, expire, args.threshold)
    return 0


def _namespace(args: argparse.Namespace, cluster: Any, r: Any) -> int:
    with_leaf = args.action not in ("ls", "list")
    pool, _, leaf = _split(args.spec, args.pool, with_leaf)
    with cluster.open_ioctx(pool) as ioctx:
        if args.action in ("ls", "list"):
            names = sorted(r.namespace_list(ioctx))
            if args.format == "json":
                print(json.dumps([{"name": n} for n in names], separators=(",", ":")))
            else:
                print("\n".join(["NAME", *names]))
        elif args.action == "create":
            r.namespace_create(ioctx, leaf)
        else:
            r.namespace_remove(ioctx, leaf)
    return 0


__all__ = ["COMMANDS", "build_parser", "main"]
