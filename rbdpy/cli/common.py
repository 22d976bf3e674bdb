"""What every rbd-shaped verb module of the ``rbdpy`` command shares: the global options
(``-c/--conf``, ``--id``, ``-p/--pool``) and one connected run that turns a python-rados or
python-rbd error into a message on stderr and an exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any


def base_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """An argument parser with rbd's global options."""
    ap = argparse.ArgumentParser(prog=prog, description=description,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-c", "--conf", default=None, help="ceph.conf (default search path)")
    ap.add_argument("--id", default=None, help="client id (default admin)")
    ap.add_argument("-p", "--pool", default="rbd")
    return ap


def run_connected(args: argparse.Namespace, label: str, body: Callable[[Any], int], *,
                  conf: dict[str, str] | None = None,
                  also: tuple[type[BaseException], ...] = (),
                  errno_exit: bool = False) -> int:
    """Connect as ``args`` say and return ``body(cluster)``. A python-rados/python-rbd
    error (or one of ``also``) prints ``rbdpy: LABEL: error`` and exits 1, or with the
    error's errno when ``errno_exit`` (as rbd does for some verbs)."""
    from rbdpy import rados, rbd

    conffile: Any = args.conf if args.conf else rados.Rados.DEFAULT_CONF_FILES
    caught: tuple[type[BaseException], ...] = (rados.Error, rbd.Error, *also)
    try:
        with rados.Rados(rados_id=args.id, conffile=conffile, conf=conf) as cluster:
            return body(cluster)
    except caught as e:
        print(f"rbdpy: {label}: {e}", file=sys.stderr)
        code = getattr(e, "errno", None)
        if errno_exit and isinstance(code, int) and 0 < code < 256:
            return code
        return 1


__all__ = ["base_parser", "run_connected"]
