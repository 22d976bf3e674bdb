"""Configuration parsing: ceph.conf, keyrings, CEPH_ARGS/argv, option values, mon_host.

Theory of operation: librados assembles its configuration from layers, lowest first:
compiled-in defaults, values pushed by the monitors (MConfig), the conf file, the
``CEPH_ARGS`` environment variable, the command line, and ``conf_set`` overrides. This module
is that machinery without any I/O: text goes in, values come out.

* :func:`parse_conf` reads INI-style text the way Ceph's ConfUtils grammar does: ``[section]``
  headings, ``key = value`` lines, ``#``/``;`` comments (also after a value), a backslash
  before a character escapes it, a backslash at the end of a line continues the value on the
  next line, values may be single- or double-quoted, and surrounding whitespace is trimmed.
  A key's internal whitespace runs become one underscore ("mon host" is "mon_host"); dashes
  are *not* folded in conf files (Ceph ignores "rbd-cache = false"). A repeated section
  merges and a repeated key keeps the last value.
* :class:`Config` holds the layered values. Lookups take the first conf-file section that
  has the key among ``[<type>.<id>]``, ``[<type>]``, ``[global]``. ``get`` returns the string
  librados' ``conf_get`` would, after expanding metavariables (``$cluster``, ``$type``,
  ``$id``, ``$num``, ``$name``, ``$host``, ``$pid``, ``$cctid``, ``$home``, and ``$<option>``
  for any option, recursively) and raises ENOENT for an option that has no value anywhere.
  Unlike librados, a key this module does not list is not rejected: set in a conf file, in
  argv or by ``set`` it is kept as a string, so Ceph options rbdpy does not know still work.
* :func:`parse_argv` handles ``--conf/-c``, ``--cluster``, ``--id/-i/--user``,
  ``--name/-n``, ``--keyring/-k``, ``--keyfile/-K``, ``--mon-host/-m`` and any
  ``--some-option value``/``--some_option=value`` (dashes folded to underscores), bool flags
  (``--rbd-cache``, ``--no-rbd-cache``) and ``--`` (end of options).
* :func:`parse_keyring` reads ``[client.admin] key = AQ...`` files (caps lines ignored).
* :func:`parse_mon_host` turns ``mon_host`` in all its syntaxes into ``EntityAddrvec``\\ s;
  DNS names are returned unresolved (resolving them is the I/O layer's job).

Mirrors: ceph src/common/ConfUtils.cc (IniGrammer, normalize_key_name), src/common/config.cc
(md_config_t::parse_argv, _expand_meta, get_my_sections, parse_config_files),
src/common/ceph_argparse.cc, src/common/config_values.h (CONF_* levels),
src/mon/MonMap.cc (init_with_hosts, _add_ambiguous_addr, init_with_config_file),
src/msg/msg_types.cc (entity_addr_t::parse, entity_addrvec_t::parse), src/auth/KeyRing.cc;
kernel net/ceph/ceph_common.c (ceph_parse_mon_ips).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from rbdpy.rados.proto.errors import CephError
from rbdpy.rados.proto.types import AddrType, EntityAddr, EntityAddrvec, EntityName

log = logging.getLogger(__name__)

# Monitor ports (ceph src/include/msgr.h): IANA-assigned msgr2 port and the legacy one.
CEPH_MON_PORT_IANA = 3300
CEPH_MON_PORT_LEGACY = 6789

# ceph's isspace(): the C locale's whitespace set.
_SPACE = " \t\n\v\f\r"
_BLANK = " \t"


class ConfParseError(CephError):
    """A conf or keyring file that Ceph's grammar would reject (EINVAL)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EINVAL, f"parse error: {message}")


def normalize_key_name(key: str) -> str:
    """Ceph's ConfFile::normalize_key_name: trim, and each whitespace run becomes one ``_``."""
    return re.sub(f"[{_SPACE}]+", "_", key.strip(_SPACE))


# =============================================================================================
# conf file grammar
# =============================================================================================


@dataclass
class ConfFile:
    """Parsed conf text: section heading → {normalized key → value}, in file order."""

    sections: dict[str, dict[str, str]] = field(default_factory=dict)

    def read(self, section: str, key: str) -> str | None:
        """The value of ``key`` in ``section`` (None if absent); ConfFile::read."""
        sec = self.sections.get(section)
        if sec is None:
            return None
        return sec.get(normalize_key_name(key))

    def read_first(self, sections: Iterable[str], key: str) -> str | None:
        """The value of ``key`` in the first of ``sections`` that has it."""
        for s in sections:
            v = self.read(s, key)
            if v is not None:
                return v
        return None

    def merge(self, other: ConfFile) -> None:
        """Merge another file's sections in: later keys replace earlier ones."""
        for name, kv in other.sections.items():
            self.sections.setdefault(name, {}).update(kv)


# A logical line is a list of (character, escaped) pairs: escaped characters never count as
# syntax (comment starts, quotes, '=', brackets).
_Item = tuple[str, bool]


def _logical_lines(text: str) -> list[tuple[int, list[_Item]]]:
    """Split into logical lines: apply escapes, drop comments, join continued lines.

    A backslash before the line end is Ceph's continue_marker (skipped, so the next physical
    line continues this one); a backslash before any other character is text_char's escape;
    an unescaped ``#`` or ``;`` starts a comment that runs to the physical line end.
    """
    out: list[tuple[int, list[_Item]]] = []
    cur: list[_Item] = []
    start_line = 1
    line = 1
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "\n":
                i += 2
                line += 1
                continue
            if nxt == "\r" and text[i + 2 : i + 3] == "\n":
                i += 3
                line += 1
                continue
            if nxt:
                cur.append((nxt, True))
                i += 2
                continue
            cur.append(("\\", False))  # a lone trailing backslash is a plain character
            i += 1
            continue
        if c in "#;":
            while i < n and text[i] not in "\r\n":
                i += 1
            continue
        if c == "\n" or (c == "\r" and text[i + 1 : i + 2] == "\n"):
            out.append((start_line, cur))
            cur = []
            i += 1 if c == "\n" else 2
            line += 1
            start_line = line
            continue
        cur.append((c, False))
        i += 1
    if cur:
        # Ceph insists on a final newline; accepting its absence costs nothing.
        out.append((start_line, cur))
    return out


def _strip_items(items: list[_Item], chars: str = _SPACE) -> list[_Item]:
    lo, hi = 0, len(items)
    while lo < hi and not items[lo][1] and items[lo][0] in chars:
        lo += 1
    while hi > lo and not items[hi - 1][1] and items[hi - 1][0] in chars:
        hi -= 1
    return items[lo:hi]


def _text(items: list[_Item]) -> str:
    return "".join(c for c, _ in items)


def _parse_value(items: list[_Item], lineno: int) -> str:
    items = _strip_items(items, _BLANK)
    if items and not items[0][1] and items[0][0] in "\"'":
        quote = items[0][0]
        for j in range(1, len(items)):
            if items[j] == (quote, False):
                if _strip_items(items[j + 1 :], _BLANK):
                    raise ConfParseError(f"text after the closing quote in line {lineno}")
                return _text(items[1:j]).strip(_SPACE)
        raise ConfParseError(f"expected closing {quote} in line {lineno}")
    return _text(items).strip(_SPACE)


def parse_conf(text: str | bytes) -> ConfFile:
    """Parse ceph.conf (or keyring) text.

    :param text: the file contents; bytes must be UTF-8 (Ceph checks the same).
    :returns: the sections, merged and with normalized keys.
    :raises ConfParseError: a line that is neither a heading, a ``key = value``, a comment
        nor blank; a key=value before the first heading (unless it is the file's only line,
        which Ceph files under [global]); an unterminated quote or heading.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfParseError(f"invalid UTF-8 at byte {e.start}") from None
    conf = ConfFile()
    section: dict[str, str] | None = None
    orphans: list[tuple[int, str, str]] = []
    for lineno, raw in _logical_lines(text):
        items = _strip_items(raw)
        if not items:
            continue
        if items[0] == ("[", False):
            close = next((j for j, it in enumerate(items) if it == ("]", False)), -1)
            if close < 0:
                raise ConfParseError(f"expected ']' in line {lineno}")
            if close == 1:
                raise ConfParseError(f"empty section name in line {lineno}")
            if _strip_items(items[close + 1 :]):
                raise ConfParseError(f"text after the section name in line {lineno}")
            heading = _text(items[1:close])
            section = conf.sections.setdefault(heading, {})
            continue
        eq = next((j for j, it in enumerate(items) if it == ("=", False)), -1)
        if eq < 0:
            raise ConfParseError(f"expected '=' in line {lineno}")
        key_items = _strip_items(items[:eq])
        if not key_items or any(it == ("[", False) for it in key_items):
            raise ConfParseError(f"bad key in line {lineno}")
        key = normalize_key_name(_text(key_items))
        value = _parse_value(items[eq + 1 :], lineno)
        if section is None:
            orphans.append((lineno, key, value))
        else:
            section[key] = value
    if orphans:
        # IniGrammer accepts a file that is one lone key=value line; anything else before
        # the first heading is an error.
        if len(orphans) == 1 and not conf.sections:
            conf.sections["global"] = {orphans[0][1]: orphans[0][2]}
        else:
            raise ConfParseError(f"key=value outside a section in line {orphans[0][0]}")
    return conf


# =============================================================================================
# metavariables
# =============================================================================================

_META_RE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


class _ExpansionLoop(Exception):
    pass


def expand_meta(value: str, lookup: Callable[[str], str | None]) -> str:
    """Replace ``$var``/``${var}`` with ``lookup(var)``; unknown variables stay as written.

    ``lookup`` may itself expand recursively (option values referring to other options).
    """
    if "$" not in value:
        return value

    def repl(m: re.Match[str]) -> str:
        var = m.group(1) or m.group(2)
        got = lookup(var)
        return m.group(0) if got is None else got

    return _META_RE.sub(repl, value)


# =============================================================================================
# options
# =============================================================================================


class OptType(IntEnum):
    """Option::type_t (ceph src/common/options.h), the kinds rbdpy needs."""

    STR = 0
    BOOL = 1
    INT = 2
    UINT = 3
    FLOAT = 4
    SIZE = 5
    SECS = 6
    FEATURES = 7  # rbd_default_features: a number or a list of feature names


@dataclass(frozen=True, slots=True)
class Option:
    name: str
    type: OptType
    default: str


# RBD_FEATURE_* names accepted by rbd_default_features (ceph src/include/rbd/features.h).
RBD_FEATURE_NAMES = {
    "layering": 1 << 0,
    "striping": 1 << 1,
    "exclusive-lock": 1 << 2,
    "object-map": 1 << 3,
    "fast-diff": 1 << 4,
    "deep-flatten": 1 << 5,
    "journaling": 1 << 6,
    "data-pool": 1 << 7,
    "operations": 1 << 8,
    "migrating": 1 << 9,
    "non-primary": 1 << 10,
}

KEYRING_DEFAULT = ("/etc/ceph/$cluster.$name.keyring,/etc/ceph/$cluster.keyring,"
                   "/etc/ceph/keyring,/etc/ceph/keyring.bin,")

# Defaults as a Pacific 16.2.15 librados client reports them through conf_get (checked in
# tests/unit/rados/test_config.py against /usr/bin/python3's rados module).
_OPTION_LIST = [
    Option("fsid", OptType.STR, "00000000-0000-0000-0000-000000000000"),
    Option("mon_host", OptType.STR, ""),
    Option("mon_host_override", OptType.STR, ""),
    Option("mon_dns_srv_name", OptType.STR, "ceph-mon"),
    Option("key", OptType.STR, ""),
    Option("keyfile", OptType.STR, ""),
    Option("keyring", OptType.STR, KEYRING_DEFAULT),
    Option("host", OptType.STR, ""),
    Option("run_dir", OptType.STR, "/var/run/ceph"),
    Option("log_file", OptType.STR, ""),
    Option("admin_socket", OptType.STR, ""),
    Option("public_addr", OptType.STR, "-"),
    Option("auth_client_required", OptType.STR, "cephx, none"),
    Option("auth_cluster_required", OptType.STR, "cephx"),
    Option("auth_service_required", OptType.STR, "cephx"),
    Option("auth_supported", OptType.STR, ""),
    Option("cephx_require_signatures", OptType.BOOL, "false"),
    Option("cephx_sign_messages", OptType.BOOL, "true"),
    Option("ms_client_mode", OptType.STR, "crc secure"),
    Option("ms_mon_client_mode", OptType.STR, "secure crc"),
    Option("ms_crc_data", OptType.BOOL, "true"),
    Option("ms_crc_header", OptType.BOOL, "true"),
    Option("ms_connection_ready_timeout", OptType.INT, "10"),
    Option("ms_connection_idle_timeout", OptType.INT, "900"),
    Option("mon_client_hunt_parallel", OptType.UINT, "3"),
    Option("mon_client_hunt_interval", OptType.FLOAT, "3.000000"),
    Option("mon_client_hunt_interval_backoff", OptType.FLOAT, "1.500000"),
    Option("mon_client_hunt_interval_min_multiple", OptType.FLOAT, "1.000000"),
    Option("mon_client_hunt_interval_max_multiple", OptType.FLOAT, "10.000000"),
    Option("mon_client_ping_interval", OptType.FLOAT, "10.000000"),
    Option("mon_client_ping_timeout", OptType.FLOAT, "30.000000"),
    Option("client_mount_timeout", OptType.SECS, "300"),
    Option("rados_osd_op_timeout", OptType.SECS, "0"),
    Option("rados_mon_op_timeout", OptType.SECS, "0"),
    Option("objecter_timeout", OptType.FLOAT, "10.000000"),
    Option("objecter_inflight_ops", OptType.UINT, "1024"),
    Option("objecter_inflight_op_bytes", OptType.SIZE, "104857600"),
    Option("rbd_default_features", OptType.FEATURES, "61"),
    Option("rbd_default_order", OptType.UINT, "22"),
    Option("rbd_default_format", OptType.UINT, "2"),
    Option("rbd_default_stripe_count", OptType.UINT, "0"),
    Option("rbd_default_stripe_unit", OptType.SIZE, "0"),
    Option("rbd_default_data_pool", OptType.STR, ""),
    Option("rbd_default_pool", OptType.STR, "rbd"),
    Option("rbd_default_clone_format", OptType.STR, "auto"),
    Option("rbd_cache", OptType.BOOL, "true"),
    Option("rbd_cache_size", OptType.SIZE, "33554432"),
    Option("rbd_concurrent_management_ops", OptType.UINT, "10"),
    Option("rbd_read_from_replica_policy", OptType.STR, "default"),
    Option("rbd_validate_pool", OptType.BOOL, "true"),
    Option("rbd_skip_partial_discard", OptType.BOOL, "true"),
    Option("rbd_move_to_trash_on_remove", OptType.BOOL, "false"),
    Option("rbd_blocklist_on_break_lock", OptType.BOOL, "true"),
    Option("rbd_request_timed_out_seconds", OptType.UINT, "30"),
    Option("rados_tracing", OptType.BOOL, "false"),
    Option("debug_ms", OptType.STR, "0/0"),
    Option("debug_monc", OptType.STR, "0/10"),
    Option("debug_auth", OptType.STR, "1/5"),
    Option("debug_objecter", OptType.STR, "0/1"),
    Option("debug_rados", OptType.STR, "0/5"),
]
OPTIONS: dict[str, Option] = {o.name: o for o in _OPTION_LIST}

_SIZE_SUFFIX = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
                "p": 1 << 50, "e": 1 << 60}
_SECS_SUFFIX = {"": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60,
                "min": 60, "mins": 60, "minute": 60, "minutes": 60, "h": 3600,
                "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
                "days": 86400, "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800}


def _bad(opt: Option, value: str) -> CephError:
    return CephError(errno.EINVAL, f"invalid value {value!r} for {opt.type.name.lower()} "
                                   f"option {opt.name}")


def normalize_value(opt: Option, value: str) -> str:
    """Validate ``value`` for ``opt`` and return it in the form conf_get prints.

    :raises CephError: EINVAL, as ``md_config_t::set_val`` returns for a bad value.
    """
    v = value.strip(_SPACE)
    t = opt.type
    try:
        if t == OptType.STR:
            return value
        if t == OptType.BOOL:
            low = v.lower()
            if low == "true":
                return "true"
            if low == "false":
                return "false"
            return "true" if int(v, 10) != 0 else "false"
        if t in (OptType.INT, OptType.UINT):
            n = int(v, 10)
            if t == OptType.UINT and n < 0:
                raise ValueError(v)
            return str(n)
        if t == OptType.FLOAT:
            return f"{float(v):f}"
        if t == OptType.SIZE:
            m = re.fullmatch(r"(\d+)\s*([A-Za-z]?)(i?[bB]?)", v)
            if not m or m.group(2).lower() not in _SIZE_SUFFIX:
                raise ValueError(v)
            return str(int(m.group(1)) * _SIZE_SUFFIX[m.group(2).lower()])
        if t == OptType.SECS:
            total = 0
            parts = re.findall(r"(\d+)\s*([A-Za-z]*)", v)
            if not parts or re.sub(r"[\d\sA-Za-z]", "", v):
                raise ValueError(v)
            for num, unit in parts:
                total += int(num) * _SECS_SUFFIX[unit.lower()]
            return str(total)
        if t == OptType.FEATURES:
            if v.isdigit():
                return str(int(v))
            bits = 0
            for name in re.split(r"[,\s]+", v):
                if name:
                    bits |= RBD_FEATURE_NAMES[name]
            return str(bits)
    except (ValueError, KeyError):
        raise _bad(opt, value) from None
    raise AssertionError(f"unhandled option type {t}")


# =============================================================================================
# argv / CEPH_ARGS
# =============================================================================================


@dataclass
class ParsedArgs:
    """What :func:`parse_argv` found: the early arguments, options, and what was left."""

    conf: list[str] | None = None  # --conf/-c (comma-separated list)
    cluster: str | None = None
    name: str | None = None  # --name/-n: "type.id"
    id: str | None = None  # --id/-i/--user
    options: list[tuple[str, str]] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)


def _dashes_to_underscores(opt: str) -> str:
    """``--mon-host`` → ``mon_host`` (ceph_argparse's dashes_to_underscores, sans prefix)."""
    return opt.lstrip("-").replace("-", "_")


# Options with a short form or special meaning (ceph_argparse_early_args and
# md_config_t::parse_argv); the value is the option they set.
_WITH_ARG = {
    "-c": "conf", "conf": "conf",
    "cluster": "cluster",
    "-i": "id", "id": "id", "user": "id",
    "-n": "name", "name": "name",
    "-k": "keyring",
    "-K": "keyfile",
    "-m": "mon_host",
    "-M": "monmap",
}


def split_env_args(value: str) -> list[str]:
    """Split ``CEPH_ARGS`` into words (shell-style quoting is honoured)."""
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


def _is_value(arg: str) -> bool:
    """Can ``arg`` be the value of the preceding option (not another option)?"""
    if not arg.startswith("-") or arg == "-":
        return True
    return re.fullmatch(r"-\d+(\.\d*)?", arg) is not None  # a negative number


#: What ``rados_conf_parse_argv_remainder`` leaves to the program: the early arguments
#: (ceph_argparse_early_args reads them, md_config_t::parse_argv does not).
_EARLY_ONLY = frozenset({"conf", "cluster", "id", "name"})
#: Flags md_config_t::parse_argv consumes although they are not options.
_SPECIAL_FLAGS = frozenset({"no_mon_config", "mon_config", "log_early", "foreground", "-f",
                            "-d", "show_conf", "show_config"})


def parse_argv(args: Iterable[str], *, early_args: bool = True) -> ParsedArgs:
    """Parse librados-style arguments (``conf_parse_argv``, ``CEPH_ARGS``).

    With ``early_args=False`` this is ``rados_conf_parse_argv_remainder``: ``--conf``,
    ``--cluster``, ``--id`` and ``--name`` (and their short forms) are left to the program
    with their values, and so is every unknown ``--option`` (not consuming the word after
    it): only configuration options and md_config_t's own flags are taken out.

    :param args: the arguments, without the program name.
    :returns: the early arguments, ``(option, value)`` pairs in order (later ones win), and
        the arguments that are not options (or follow ``--``).
    :raises CephError: EINVAL for an option that needs a value and has none.
    """
    out = ParsedArgs()
    argv = list(args)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.remaining.extend(argv[i + 1 :])
            break
        if _is_value(arg):  # a positional word (or a negative number)
            out.remaining.append(arg)
            i += 1
            continue
        if arg.startswith("--"):
            body, eq, inline = arg[2:].partition("=")
            key = _dashes_to_underscores(body)
        else:
            body, eq, inline = arg, "", ""
            key = arg
        target = _WITH_ARG.get(key)
        opt = OPTIONS.get(key)
        value: str | None = inline if eq else None
        if not early_args:
            if target in _EARLY_ONLY:
                out.remaining.append(arg)  # the program's (its value follows as a word)
                i += 1
                continue
            if key in _SPECIAL_FLAGS and not eq:
                i += 1
                continue
            known = (target is not None or opt is not None
                     or (key.startswith("no_") and key[3:] in OPTIONS))
            if not known and arg.startswith("--"):
                out.remaining.append(arg)
                i += 1
                continue
        if target is None and not arg.startswith("--"):
            out.remaining.append(arg)  # an unknown short option belongs to the program
            i += 1
            continue
        if target is None and opt is None and key.startswith("no_") and not eq:
            neg = OPTIONS.get(key[3:])
            if neg is not None and neg.type == OptType.BOOL:
                out.options.append((neg.name, "false"))
                i += 1
                continue
        if target is None and opt is not None and opt.type == OptType.BOOL:
            # ceph_argparse_binary_flag: "--flag" is true, "--flag=v" sets v; a following
            # word is NOT taken as the value.
            out.options.append((key, value if value is not None else "true"))
            i += 1
            continue
        if value is None:
            if i + 1 < len(argv) and (target is not None or opt is not None
                                      or _is_value(argv[i + 1])):
                value = argv[i + 1]
                i += 1
            elif target is not None or opt is not None:
                raise CephError(errno.EINVAL, f"option {arg} requires an argument")
            else:
                value = "true"  # an unknown flag without a value
        i += 1
        name = target or key
        if name == "conf":
            out.conf = [c for c in re.split(r"[,;]", value) if c.strip()]
        elif name == "cluster":
            out.cluster = value
        elif name == "id":
            out.id = value
        elif name == "name":
            out.name = value
        else:
            out.options.append((name, value))
    return out


# =============================================================================================
# keyrings
# =============================================================================================


@dataclass
class KeyringEntry:
    """One ``[entity]`` of a plaintext keyring: the base64 key and its caps (unused)."""

    key: str = ""
    caps: dict[str, str] = field(default_factory=dict)


def parse_keyring(text: str | bytes) -> dict[str, KeyringEntry]:
    """Parse a plaintext keyring (the conf grammar; KeyRing::decode_plaintext).

    :returns: entity name ("client.admin") → entry; sections without a key are skipped.
    :raises ConfParseError: text that is not in the conf grammar.
    """
    conf = parse_conf(text)
    out: dict[str, KeyringEntry] = {}
    for section, kv in conf.sections.items():
        entry = KeyringEntry()
        for k, v in kv.items():
            if k == "key":
                entry.key = v
            elif k.startswith("caps_"):
                entry.caps[k[5:]] = v
        if entry.key:
            out[section] = entry
    return out


def keyring_lookup(keyrings: Mapping[str, KeyringEntry], name: EntityName) -> str | None:
    """The key for ``name`` from a parsed keyring, if present."""
    entry = keyrings.get(str(name))
    return entry.key if entry else None


def split_file_list(value: str) -> list[str]:
    """``"a,b;c"`` → ["a", "b", "c"] (get_str_list with ",;", used for keyring and conf)."""
    return [p.strip(_SPACE) for p in re.split(r"[,;]", value) if p.strip(_SPACE)]


# =============================================================================================
# monitor addresses
# =============================================================================================

_PREFIXES = (("v2:", AddrType.MSGR2), ("v1:", AddrType.LEGACY), ("any:", AddrType.ANY))


def _split_top_level(text: str) -> list[str]:
    """Split on ``,``, ``;`` and whitespace, but not inside ``[...]``."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for c in text:
        if c == "[":
            depth += 1
        elif c == "]":
            depth = max(0, depth - 1)
        if depth == 0 and (c in ",;" or c in _SPACE):
            if cur:
                out.append("".join(cur))
                cur = []
            continue
        cur.append(c)
    if depth:
        raise CephError(errno.EINVAL, f"unbalanced '[' in address list {text!r}")
    if cur:
        out.append("".join(cur))
    return out


def parse_addr(text: str, default_type: int = AddrType.ANY) -> EntityAddr:
    """Parse one address: ``[v1:|v2:|any:]host[:port][/nonce]``.

    ``host`` is an IPv4 address, an IPv6 address (in brackets when a port follows), or a DNS
    name (kept as written, to be resolved by the caller). A missing port is 0.

    :raises CephError: EINVAL for a malformed address.
    """
    s = text.strip(_SPACE)
    atype = default_type
    for prefix, t in _PREFIXES:
        if s.startswith(prefix):
            atype = t
            s = s[len(prefix) :]
            break
    nonce = 0
    if "/" in s:
        s, _, nonce_s = s.rpartition("/")
        if not nonce_s.isdigit():
            raise CephError(errno.EINVAL, f"bad nonce in address {text!r}")
        nonce = int(nonce_s)
    port = 0
    if s.startswith("["):
        host, close, rest = s[1:].partition("]")
        if not close:
            raise CephError(errno.EINVAL, f"unterminated '[' in address {text!r}")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise CephError(errno.EINVAL, f"bad port in address {text!r}")
            port = int(rest[1:])
        try:
            host = str(ipaddress.IPv6Address(host))
        except ValueError:
            raise CephError(errno.EINVAL, f"bad IPv6 address in {text!r}") from None
    elif s.count(":") > 1:
        try:
            host = str(ipaddress.IPv6Address(s))  # bare IPv6: no port possible
        except ValueError:
            raise CephError(errno.EINVAL, f"bad address {text!r}") from None
    else:
        host, colon, port_s = s.partition(":")
        if colon:
            if not port_s.isdigit():
                raise CephError(errno.EINVAL, f"bad port in address {text!r}")
            port = int(port_s)
        if not host or not re.fullmatch(r"[A-Za-z0-9._-]+", host):
            raise CephError(errno.EINVAL, f"bad address {text!r}")
        try:
            host = str(ipaddress.IPv4Address(host))
        except ValueError:
            pass  # a DNS name, left for the I/O layer to resolve
    if port > 0xFFFF:
        raise CephError(errno.EINVAL, f"port out of range in address {text!r}")
    return EntityAddr(atype, nonce, host, port)


def _with(addr: EntityAddr, atype: int, port: int) -> EntityAddr:
    return EntityAddr(atype, addr.nonce, addr.host, port)


def _ambiguous(addr: EntityAddr) -> EntityAddrvec:
    """What MonMap::_add_ambiguous_addr makes of one address (client side, not mkfs).

    A typed address keeps its type and gets the type's default port. An untyped one is
    guessed from the port: 6789 → v1 only, 3300 → v2 only, none → v2:3300 and v1:6789,
    any other port → v2 and v1 on that port. Ceph files the v1 guess as a separate
    "<name>-legacy" monitor; here the guesses of one entry share one addrvec, v2 first.
    """
    if addr.type != AddrType.ANY:
        if addr.port:
            return EntityAddrvec((addr,))
        port = CEPH_MON_PORT_LEGACY if addr.type == AddrType.LEGACY else CEPH_MON_PORT_IANA
        return EntityAddrvec((_with(addr, addr.type, port),))
    if addr.port == CEPH_MON_PORT_LEGACY:
        return EntityAddrvec((_with(addr, AddrType.LEGACY, addr.port),))
    if addr.port == CEPH_MON_PORT_IANA:
        return EntityAddrvec((_with(addr, AddrType.MSGR2, addr.port),))
    if addr.port == 0:
        return EntityAddrvec((_with(addr, AddrType.MSGR2, CEPH_MON_PORT_IANA),
                              _with(addr, AddrType.LEGACY, CEPH_MON_PORT_LEGACY)))
    return EntityAddrvec((_with(addr, AddrType.MSGR2, addr.port),
                          _with(addr, AddrType.LEGACY, addr.port)))


def _is_addrvec(token: str) -> bool:
    """``[v2:...,v1:...]`` (an addrvec) as opposed to ``[::1]:3300`` (a bracketed IPv6)."""
    if not token.startswith("["):
        return False
    inner = token[1:].partition("]")[0]
    try:
        ipaddress.IPv6Address(inner)
        return False
    except ValueError:
        return True


def parse_addrvec(token: str) -> EntityAddrvec:
    """Parse ``[addr,addr,...]`` (entity_addrvec_t::parse); each addr must be typed or is
    taken as written."""
    if not token.startswith("[") or not token.endswith("]"):
        raise CephError(errno.EINVAL, f"bad address vector {token!r}")
    parts = [p for p in token[1:-1].split(",") if p.strip(_SPACE)]
    if not parts:
        raise CephError(errno.EINVAL, f"empty address vector {token!r}")
    return EntityAddrvec(tuple(parse_addr(p) for p in parts))


def parse_mon_host(text: str) -> list[EntityAddrvec]:
    """Parse ``mon_host`` into one addrvec per monitor.

    Accepts "127.0.0.1", "127.0.0.1:6789", "v2:127.0.0.1:3300/0",
    "[v2:127.0.0.1:3300,v1:127.0.0.1:6789]", "[::1]:3300", "mon1.example.com", several of
    them separated by commas, semicolons or whitespace. Untyped single addresses go through
    the port guess of :func:`_ambiguous`; an explicit addrvec is kept as written.
    Duplicate monitors are dropped (MonMap::add refuses a known address).

    :raises CephError: EINVAL for an unparsable entry.
    """
    out: list[EntityAddrvec] = []
    seen: set[EntityAddr] = set()
    for token in _split_top_level(text):
        av = parse_addrvec(token) if _is_addrvec(token) else _ambiguous(parse_addr(token))
        if any(a in seen for a in av.addrs):
            continue
        seen.update(av.addrs)
        out.append(av)
    return out


def mon_addr_from_section(value: str) -> EntityAddrvec:
    """``mon addr`` of a ``[mon.X]`` section: a legacy field, so an untyped address is v1
    and a missing port is 6789 (MonMap::init_with_config_file); ``v2:`` is honoured."""
    text = value.strip(_SPACE)
    if _is_addrvec(text):
        return parse_addrvec(text)
    addr = parse_addr(text, AddrType.LEGACY)
    if addr.port == 0:
        addr = _with(addr, addr.type, CEPH_MON_PORT_LEGACY)
    return _ambiguous(addr)


# =============================================================================================
# the layered configuration
# =============================================================================================


class ConfLevel(IntEnum):
    """Where a value came from, lowest priority first (ceph src/common/config_values.h)."""

    DEFAULT = 0
    MON = 1
    FILE = 2
    ENV = 3
    CMDLINE = 4
    OVERRIDE = 5


def default_conf_search_path(ceph_conf_env: str | None = None) -> list[str]:
    """Conf files librados tries when told to read the default (``conf_read_file(NULL)``).

    ``$CEPH_CONF`` replaces the whole list when set (CephInitParameters); otherwise
    ``/etc/ceph/$cluster.conf``, ``$home/.ceph/$cluster.conf``, ``$cluster.conf``. The
    entries still contain metavariables: expand them with :meth:`Config.expand`.
    """
    if ceph_conf_env:
        return split_file_list(ceph_conf_env)
    return ["/etc/ceph/$cluster.conf", "$home/.ceph/$cluster.conf", "$cluster.conf"]


def cluster_from_conf_path(path: str) -> str:
    """``/etc/ceph/foo.conf`` → "foo"; a name not ending in .conf → "ceph"
    (md_config_t::parse_config_files when no cluster name was given)."""
    base = path.rpartition("/")[2]
    stem, dot, _ = base.partition(".conf")
    return stem if dot else "ceph"


class Config:
    """The layered configuration of one client handle (librados' md_config_t + ConfigProxy).

    :param name: the entity name, "client.admin" by default (``rados_create2``'s name).
    :param cluster: the cluster name; "" means not chosen yet (then reading a conf file
        takes it from the file name, as librados does).
    :param host: the short host name for ``$host`` (the I/O layer passes it in).
    :param pid: the process id for ``$pid``.
    :param cctid: the value of ``$cctid``.
    :param home: ``$HOME`` for ``$home``.
    """

    def __init__(self, name: str | EntityName = "client.admin", cluster: str = "",
                 host: str = "", pid: int = 0, cctid: int = 0, home: str = "") -> None:
        self.name = name if isinstance(name, EntityName) else EntityName.parse(name)
        self.cluster = cluster
        self.host = host
        self.pid = pid
        self.cctid = cctid
        self.home = home
        self.conf_file = ConfFile()
        self.conf_path: str | None = None
        self._values: dict[ConfLevel, dict[str, str]] = {lv: {} for lv in ConfLevel}

    # -- sections and raw access ---------------------------------------------------------

    def get_my_sections(self) -> list[str]:
        """Conf sections searched for this entity, first match wins."""
        return [str(self.name), self.name.type_str, "global"]

    def get_val_from_conf_file(self, sections: Iterable[str], key: str,
                               expand: bool = True) -> str | None:
        """A raw conf-file value (not an option), optionally with metavariables expanded."""
        v = self.conf_file.read_first(sections, key)
        if v is None or not expand:
            return v
        return self.expand(v)

    # -- values ----------------------------------------------------------------------------

    def _raw(self, key: str) -> str | None:
        for level in sorted(ConfLevel, reverse=True):
            v = self._values[level].get(key)
            if v is not None:
                return v
        opt = OPTIONS.get(key)
        return opt.default if opt else None

    def _meta(self, var: str) -> str | None:
        if var == "cluster":
            return self.cluster
        if var == "type":
            return self.name.type_str
        if var in ("id", "num"):
            return self.name.id
        if var == "name":
            return str(self.name)
        if var == "host":
            return self._raw("host") or self.host
        if var == "pid":
            return str(self.pid)
        if var == "cctid":
            return str(self.cctid)
        if var == "home":
            return self.home
        return None

    def expand(self, value: str, _stack: tuple[str, ...] = ()) -> str:
        """Expand metavariables and ``$<option>`` references in ``value``.

        A reference loop leaves the value unexpanded, as Ceph does.
        """
        try:
            return self._expand(value, _stack)
        except _ExpansionLoop as e:
            log.debug("variable expansion loop at $%s in %r", e, value)
            return value

    def _expand(self, value: str, stack: tuple[str, ...]) -> str:
        def lookup(var: str) -> str | None:
            meta = self._meta(var)
            if meta is not None:
                return meta
            if var in stack:
                raise _ExpansionLoop(var)
            raw = self._raw(var)
            return None if raw is None else self._expand(raw, (*stack, var))

        return expand_meta(value, lookup)

    def get(self, key: str) -> str:
        """The value as ``rados_conf_get`` returns it (metavariables expanded).

        :raises CephError: ENOENT for an option that is unknown and not set anywhere
            (python-rados' ``conf_get`` turns that into ``None``).
        """
        k = normalize_key_name(key)
        raw = self._raw(k)
        if raw is None:
            raise CephError(errno.ENOENT, f"no such option {key!r}")
        return self.expand(raw, (k,))

    def get_bool(self, key: str) -> bool:
        return self.get(key) == "true"

    def get_int(self, key: str) -> int:
        return int(self.get(key))

    def get_float(self, key: str) -> float:
        return float(self.get(key))

    def set(self, key: str, value: str, level: ConfLevel = ConfLevel.OVERRIDE) -> None:
        """Set an option (``rados_conf_set`` uses the OVERRIDE level).

        Known options are validated and normalized (EINVAL on a bad value). An option this
        client does not know is stored as a string: librados would say ENOENT, but
        rejecting Ceph's ~1800 other options would break conf files and ``debug_*`` sets.
        """
        k = normalize_key_name(key)
        if not k:
            raise CephError(errno.EINVAL, "no key specified")
        opt = OPTIONS.get(k)
        self._values[level][k] = normalize_value(opt, value) if opt else value

    def rm_val(self, key: str, level: ConfLevel = ConfLevel.OVERRIDE) -> None:
        self._values[level].pop(normalize_key_name(key), None)

    def is_set(self, key: str) -> bool:
        """Whether any level above the defaults sets ``key``."""
        k = normalize_key_name(key)
        return any(k in self._values[lv] for lv in ConfLevel if lv != ConfLevel.DEFAULT)

    # -- sources ---------------------------------------------------------------------------

    def apply_conf_file(self, conf: ConfFile, path: str | None = None) -> None:
        """Take a parsed conf file: its values for this entity's sections go to FILE level.

        Invalid values of known options are ignored with a debug note (Ceph warns and keeps
        the previous value). When no cluster name was chosen it comes from ``path``.
        """
        if path is not None:
            self.conf_path = path
            if not self.cluster:
                self.cluster = cluster_from_conf_path(path)
        self.conf_file = conf
        values = self._values[ConfLevel.FILE]
        values.clear()
        for section in reversed(self.get_my_sections()):  # global, then type, then name
            for k, v in conf.sections.get(section, {}).items():
                opt = OPTIONS.get(k)
                try:
                    values[k] = normalize_value(opt, v) if opt else v
                except CephError as e:
                    log.debug("ignoring [%s] %s: %s", section, k, e)

    def apply_args(self, parsed: ParsedArgs, level: ConfLevel = ConfLevel.CMDLINE) -> None:
        """Take parsed argv/CEPH_ARGS options (``--id``/``--name`` are early arguments and
        only take effect when the handle is created, as in librados)."""
        for k, v in parsed.options:
            self.set(k, v, level)

    def parse_argv(self, args: Iterable[str],
                   level: ConfLevel = ConfLevel.CMDLINE, *, early_args: bool = True
                   ) -> list[str]:
        """``rados_conf_parse_argv``: apply options, return the non-option arguments
        (``early_args=False``: as ``rados_conf_parse_argv_remainder``, see
        :func:`parse_argv`)."""
        parsed = parse_argv(args, early_args=early_args)
        self.apply_args(parsed, level)
        return parsed.remaining

    def parse_env(self, ceph_args: str | None) -> None:
        """``rados_conf_parse_env``: apply ``CEPH_ARGS`` at the ENV level."""
        if ceph_args:
            self.apply_args(parse_argv(split_env_args(ceph_args)), ConfLevel.ENV)

    def set_mon_values(self, values: Mapping[str, str]) -> None:
        """Replace the MON level with a monitor-pushed config (MConfig)."""
        mon = self._values[ConfLevel.MON]
        mon.clear()
        for k, v in values.items():
            key = normalize_key_name(k)
            opt = OPTIONS.get(key)
            try:
                mon[key] = normalize_value(opt, v) if opt else v
            except CephError as e:
                log.debug("ignoring mon config %s: %s", k, e)

    # -- derived ---------------------------------------------------------------------------

    def mon_addrs(self) -> list[EntityAddrvec]:
        """The initial monitor list (MonMap::build_initial, minus DNS SRV and monmap files).

        ``mon_host_override``, else ``mon_host``, else every ``[mon.X]`` section's
        ``mon addr`` (looked up in [mon.X], [mon], [global]), in section order.

        :raises CephError: ENOENT when no monitor is configured; EINVAL for a bad address.
        """
        for key in ("mon_host_override", "mon_host"):
            text = self.get(key)
            if text.strip(_SPACE):
                addrs = parse_mon_host(text)
                if addrs:
                    return addrs
        out: list[EntityAddrvec] = []
        for section in self.conf_file.sections:
            if section.startswith("mon.") and len(section) > 4:
                v = self.get_val_from_conf_file([section, "mon", "global"], "mon addr")
                if v:
                    out.append(mon_addr_from_section(v))
        if not out:
            raise CephError(errno.ENOENT, "no monitors specified to connect to")
        return out

    def keyring_paths(self) -> list[str]:
        """The keyring files to try, in order (the ``keyring`` option, expanded and split)."""
        return split_file_list(self.get("keyring"))

    def conf_search_path(self, ceph_conf_env: str | None = None) -> list[str]:
        """The default conf files to try, expanded for this handle (cluster "ceph" if unset)."""
        saved = self.cluster
        self.cluster = saved or "ceph"
        try:
            return [self.expand(p) for p in default_conf_search_path(ceph_conf_env)]
        finally:
            self.cluster = saved
