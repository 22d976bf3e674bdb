"""The ``rbdpy`` console command: rbd-CLI-shaped subcommands, map tools and devcluster.

Each subcommand lives in its own module under rbdpy/cli/ and is imported only when used, so
``rbdpy devcluster`` works even where optional pieces are absent.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

from rbdpy._version import __version__


def _add_devcluster(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("devcluster", help="a throwaway local Ceph cluster on 127.0.0.1")
    dsub = p.add_subparsers(dest="action", required=True)

    start = dsub.add_parser("start", help="create and start a fresh cluster in DIR")
    start.add_argument("--dir", required=True)
    start.add_argument("--mons", type=int, choices=(1, 3), default=1)
    start.add_argument("--osds", type=int, default=3)
    start.add_argument("--mgr", action="store_true", help="also start a ceph-mgr")
    start.add_argument("--osd-memory", type=int, default=1 << 30, metavar="BYTES",
                       help="osd_memory_target per OSD (default 1 GiB)")
    start.add_argument("--memstore-bytes", type=int, default=6 << 30, metavar="BYTES",
                       help="capacity of each memstore OSD (default 6 GiB)")
    start.add_argument("--objectstore", choices=("memstore", "bluestore"), default="memstore",
                       help="memstore is fast but loses data on restart; bluestore persists")
    start.add_argument("--pool-size", type=int, default=1,
                       help="osd_pool_default_size (default 1)")
    start.add_argument("--pool", action="append", default=[], metavar="NAME",
                       help="create this RBD pool after start (repeatable)")

    for name, text in (("stop", "stop every daemon of the cluster in DIR"),
                       ("status", "daemons, pids, up/down, health (JSON)")):
        q = dsub.add_parser(name, help=text)
        q.add_argument("--dir", required=True)

    for name, text in (("kill", "kill one daemon (osd.1, mon.b, ...)"),
                       ("restart", "restart one daemon and wait until it is up")):
        q = dsub.add_parser(name, help=text)
        q.add_argument("--dir", required=True)
        q.add_argument("name")

    pool = dsub.add_parser("pool", help="pool administration")
    psub = pool.add_subparsers(dest="pool_action", required=True)
    pc = psub.add_parser("create", help="create a replicated pool and `rbd pool init` it")
    pc.add_argument("--dir", required=True)
    pc.add_argument("--pg-num", type=int, default=8)
    pc.add_argument("--size", type=int, default=None)
    pc.add_argument("pool_name")
    pd = psub.add_parser("delete", help="delete a pool")
    pd.add_argument("--dir", required=True)
    pd.add_argument("pool_name")


def _run_devcluster(args: argparse.Namespace) -> int:
    from rbdpy.devcluster import DevCluster

    cluster = DevCluster(args.dir)
    if args.action == "start":
        conf = cluster.start(mons=args.mons, osds=args.osds, mgr=args.mgr,
                             osd_memory=args.osd_memory, memstore_bytes=args.memstore_bytes,
                             objectstore=args.objectstore, pool_size=args.pool_size)
        for pool in args.pool:
            cluster.pool_create(pool)
        print(conf)
    elif args.action == "stop":
        stopped = cluster.stop()
        print(f"stopped {len(stopped)} daemon(s)" + (f": {', '.join(stopped)}" if stopped
                                                      else ""))
    elif args.action == "status":
        print(json.dumps(cluster.status(), indent=2))
    elif args.action == "kill":
        cluster.kill(args.name)
    elif args.action == "restart":
        cluster.restart(args.name)
    elif args.action == "pool":
        if args.pool_action == "create":
            cluster.pool_create(args.pool_name, args.pg_num, size=args.size)
        else:
            cluster.pool_delete(args.pool_name)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rbdpy", description="pure-Python Ceph RBD client")
    parser.add_argument("--version", action="version", version=f"rbdpy {__version__}")
    parser.add_argument("--debug", action="store_true", help="debug logging to stderr")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_devcluster(sub)
    sub.add_parser("osdmap", help="OSDMap research tools (see `rbdpy osdmap --help`)",
                   add_help=False)
    sub.add_parser("crush", help="CRUSH research tools (see `rbdpy crush --help`)",
                   add_help=False)
    sub.add_parser("migration", help="live migration (see `rbdpy migration --help`)",
                   add_help=False)
    for name in ("ls", "create", "info", "rm", "export", "import", "bench", "diff", "clone",
                 "flatten", "children", "trash", "namespace"):
        sub.add_parser(name, help=f"rbd-style image command (see `rbdpy {name} --help`)",
                       add_help=False)
    sub.add_parser("group", help="rbd-style group commands (see `rbdpy group --help`)",
                   add_help=False)
    argv = list(sys.argv[1:] if argv is None else argv)
    # Image commands are shaped like the rbd CLI (global -c/--id/-p come first there).
    from rbdpy.cli import images

    skip = {"-c", "--conf", "--id", "-p", "--pool"}
    words = [a for i, a in enumerate(argv) if not a.startswith("-")
             and not (i and argv[i - 1] in skip)]
    if words and words[0] in images.COMMANDS:
        return images.main(argv)
    if words and words[0] == "group":
        from rbdpy.cli import groups

        return groups.main(argv)
    if words and words[0] == "migration":
        from rbdpy.cli import migration

        return migration.main(argv)
    from rbdpy.cli import trash_ns

    if words and words[0] in trash_ns.COMMANDS:
        return trash_ns.main(argv)
    # The map tools parse their own arguments (they mirror osdmaptool/crushtool).
    if argv and argv[0] in ("osdmap", "crush"):
        from importlib import import_module

        tool = import_module(f"rbdpy.cli.{argv[0]}")
        rc: int = tool.main(argv[1:])
        return rc
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from rbdpy.devcluster import DevClusterError

    try:
        if args.command == "devcluster":
            return _run_devcluster(args)
    except DevClusterError as e:
        print(f"rbdpy devcluster: error: {e}", file=sys.stderr)
        return 1
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
