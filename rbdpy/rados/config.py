"""Reading configuration from disk and the environment into a ``proto.conf.Config``.

Theory of operation: everything that parses lives in :mod:`rbdpy.rados.proto.conf`; this
module only touches the outside world the way librados does: it reads conf files
(``rados_conf_read_file``: an explicit comma-separated list, or the default search path when
given none), ``CEPH_ARGS`` (``rados_conf_parse_env``), and finds the client's secret from the
``key`` option, the ``keyfile`` option or the first keyring file on the ``keyring`` path that
names the entity (KeyRing::from_ceph_context). The calls are blocking and small; async
callers run them in a worker thread (``trio.to_thread.run_sync``).

Mirrors: ceph src/common/config.cc (parse_config_files), src/librados/librados_c.cc
(rados_conf_read_file, rados_conf_parse_env), src/auth/KeyRing.cc (from_ceph_context, load).
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Mapping

from rbdpy.rados.proto.conf import (
    ConfFile,
    Config,
    keyring_lookup,
    parse_conf,
    parse_keyring,
    split_file_list,
)
from rbdpy.rados.proto.errors import CephError

log = logging.getLogger(__name__)

__all__ = ["Config", "find_key", "new_config", "parse_env", "read_conf_file"]


def new_config(name: str = "client.admin", cluster: str = "",
               env: Mapping[str, str] | None = None) -> Config:
    """A Config for ``name`` with this process's ``$host``, ``$pid`` and ``$home`` filled in.

    :param cluster: "" lets the first conf file read choose it (librados' ``rados_create``);
        pass "ceph" for ``rados_create2``-style explicit names.
    """
    environ = os.environ if env is None else env
    host = socket.gethostname().split(".", 1)[0]
    return Config(name, cluster=cluster, host=host, pid=os.getpid(), cctid=0,
                  home=environ.get("HOME", ""))


def _read_text(path: str) -> str | None:
    """The file's text, or None if it does not exist (other errors propagate as CephError)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return None
    except OSError as e:
        raise CephError(e.errno or errno.EIO, f"cannot read {path}: {e.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CephError(errno.EINVAL, f"{path}: invalid UTF-8") from None


def read_conf_file(config: Config, path: str | None = None,
                   env: Mapping[str, str] | None = None) -> str:
    """``rados_conf_read_file``: read the first existing file and apply it.

    :param path: a comma/semicolon-separated list of files; None or "" means the default
        search path (``$CEPH_CONF``, else /etc/ceph/$cluster.conf, ~/.ceph/$cluster.conf,
        ./$cluster.conf).
    :returns: the file that was read.
    :raises CephError: ENOENT when none of the files exists, EINVAL for a parse error.
    """
    environ = os.environ if env is None else env
    if path:
        candidates = split_file_list(path)
    else:
        candidates = config.conf_search_path(environ.get("CEPH_CONF"))
    for candidate in candidates:
        text = _read_text(candidate)
        if text is None:
            continue
        conf: ConfFile = parse_conf(text)
        config.apply_conf_file(conf, candidate)
        log.debug("read conf file %s (%d sections)", candidate, len(conf.sections))
        return candidate
    raise CephError(errno.ENOENT, f"no conf file found in {candidates}")


def parse_env(config: Config, var: str = "CEPH_ARGS",
              env: Mapping[str, str] | None = None) -> None:
    """``rados_conf_parse_env``: apply the options in ``$CEPH_ARGS`` (or ``var``)."""
    environ = os.environ if env is None else env
    config.parse_env(environ.get(var) or None)


def find_key(config: Config) -> str:
    """The base64 secret of ``config.name``, found the way KeyRing::from_ceph_context does.

    Order: the ``key`` option; the first line of the ``keyfile`` file; the first file on the
    ``keyring`` path that exists and has a ``key`` for the entity. Binary keyrings
    (keyring.bin) are not supported and are skipped.

    :raises CephError: ENOENT if no key is found, EINVAL for an unreadable keyring.
    """
    key = config.get("key").strip()
    if key:
        return key
    keyfile = config.get("keyfile").strip()
    if keyfile:
        text = _read_text(keyfile)
        if text is None:
            raise CephError(errno.ENOENT, f"keyfile {keyfile} not found")
        lines = text.strip().splitlines()
        if not lines or not lines[0].strip():
            raise CephError(errno.EINVAL, f"keyfile {keyfile} is empty")
        return lines[0].strip()
    tried: list[str] = []
    for path in config.keyring_paths():
        tried.append(path)
        text = _read_text(path)
        if text is None:
            continue
        if path.endswith(".bin"):
            log.debug("skipping binary keyring %s", path)
            continue
        found = keyring_lookup(parse_keyring(text), config.name)
        if found:
            log.debug("using key for %s from %s", config.name, path)
            return found
    raise CephError(errno.ENOENT, f"no key for {config.name} in {tried}")
