#!/usr/bin/python3
"""Introspect the system python-rados / python-rbd and record their public surface.

What is recorded are facts about the API: names, parameter names/kinds/defaults, constant
values, exception bases and their ``str()``/``args``/``errno`` behaviour, attributes. No
docstring prose is stored: rbdpy writes its own documentation.

How signatures are recovered: the bindings are Cython extension modules built with
``embedsignature=True``, so a function's runtime ``__doc__`` begins with one line holding
its Python-level signature (``Ioctx.write(self, unicode key: str, ...)``); only that line
is parsed. A decorated method (python-rbd's ``requires_not_closed``, python-rados'
``set_object_*``) has lost its ``__doc__`` at runtime, but the string literal is still in
the shared object's read-only data, so the ``.so`` is scanned for NUL-terminated strings
starting with ``Class.method(`` and, again, only their first line is kept. Everything else
is read by plain introspection.

Outputs (all committed; rerun this tool to refresh them):

* ``tests/compat/reference_surface.json`` -- what tests/compat/test_surface.py compares to;
* ``rbdpy/rados/constants.py`` and ``rbdpy/librbd/constants.py`` -- readable constant modules;
* with ``--scaffold DIR``: first-draft facade shells (``DIR/rados_shell.py``,
  ``DIR/rbd_shell.py``: signatures and ``NotImplementedError`` bodies, no docstrings) from
  which ``rbdpy/rados/facade.py`` and ``rbdpy/rbd.py`` were first written; never written
  over the real facades.

Must run with the interpreter that can import the reference modules::

    /usr/bin/python3 tools/gen_surface.py [--scaffold /tmp/shells]

Mirrors: src/pybind/rados/rados.pyx, src/pybind/rbd/rbd.pyx (Ceph 16.2, as installed).
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import sys
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Dunder methods that are part of the user-visible behaviour of a class.
_PUBLIC_DUNDERS = {
    "__init__",
    "__enter__",
    "__exit__",
    "__iter__",
    "__next__",
    "__str__",
    "__repr__",
    "__len__",
    "__getitem__",
    "__contains__",
}

_SIG_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\.([A-Za-z_][A-Za-z_0-9]*)\(")
_CLASS_SIG_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\(")


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` on ``sep`` where it is not nested in brackets or quotes."""
    parts: list[str] = []
    depth = 0
    quote = ""
    cur: list[str] = []
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur))
    return parts


def _matching_paren(text: str, start: int) -> int:
    depth = 0
    quote = ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced signature: {text!r}")


def parse_signature(line: str) -> dict[str, Any]:
    """Parse an embedsignature line into parameter records.

    Cython puts C type prefixes before names (``unicode key: str``, ``Image image``);
    the parameter name is the last word before the annotation/default.
    """
    open_at = line.index("(")
    close_at = _matching_paren(line, open_at)
    inner = line[open_at + 1 : close_at]
    rest = line[close_at + 1 :].strip()
    returns = rest[2:].strip() if rest.startswith("->") else None
    params: list[dict[str, Any]] = []
    kw_only = False
    for raw in _split_top(inner, ","):
        raw = raw.strip()
        if not raw:
            continue
        if raw == "*":
            kw_only = True
            continue
        if raw == "/":
            for p in params:
                p["kind"] = "POSITIONAL_ONLY"
            continue
        default = None
        pieces = _split_top(raw, "=")
        if len(pieces) > 1:
            raw, default = pieces[0].strip(), "=".join(pieces[1:]).strip()
        annotation = None
        pieces = _split_top(raw, ":")
        if len(pieces) > 1:
            raw, annotation = pieces[0].strip(), ":".join(pieces[1:]).strip()
        name = raw.split()[-1]
        kind = "KEYWORD_ONLY" if kw_only else "POSITIONAL_OR_KEYWORD"
        if name.startswith("**"):
            name, kind = name[2:], "VAR_KEYWORD"
        elif name.startswith("*"):
            name, kind = name[1:], "VAR_POSITIONAL"
            kw_only = True
        params.append({"name": name, "kind": kind, "default": default, "annotation": annotation})
    return {"params": params, "returns": returns, "text": line.strip()}


def _so_signatures(module: Any) -> dict[str, str]:
    """Map ``Class.method`` -> its signature line, from strings in the extension's data."""
    with open(module.__file__, "rb") as f:
        data = f.read()
    found: dict[str, str] = {}
    lengths: dict[str, int] = {}
    for chunk in data.split(b"\0"):
        if b"(" not in chunk[:200]:
            continue
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            continue
        m = _SIG_RE.match(text)
        if m:
            key = f"{m.group(1)}.{m.group(2)}"
            # Several strings can start with the same name; the longest is the docstring
            # literal, and its first line is the signature. Only that line is kept.
            if len(text) > lengths.get(key, 0):
                lengths[key] = len(text)
                found[key] = text.lstrip().partition("\n")[0].strip()
    return found


def _sig_line(doc: str | None, expect: str) -> str | None:
    """The embedsignature line at the head of ``doc`` if it names ``expect``, else None."""
    if not doc:
        return None
    first = doc.lstrip().partition("\n")[0]
    if first.startswith(expect + "(") or first.startswith(expect.split(".")[-1] + "("):
        return first.strip()
    return None


_SELF_ONLY: list[dict[str, Any]] = [
    {"name": "self", "kind": "POSITIONAL_OR_KEYWORD", "default": None, "annotation": None}
]


def _plain_sig(obj: Any) -> dict[str, Any] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = [
        {
            "name": p.name,
            "kind": p.kind.name,
            "default": None if p.default is p.empty else repr(p.default),
            "annotation": None,
        }
        for p in sig.parameters.values()
    ]
    return {"params": params, "returns": None, "text": f"{obj.__name__}{sig}"}


def _method_record(
    modname: str, cls: type, owner: type, name: str, value: Any, so_sigs: dict[str, str]
) -> dict[str, Any]:
    key = f"{owner.__name__}.{name}"
    kind = "method"
    if isinstance(value, staticmethod):
        kind = "staticmethod"
    elif isinstance(value, classmethod):
        kind = "classmethod"
    sig_line = _sig_line(getattr(value, "__doc__", None), key)
    # A decorator (rbd's requires_not_closed, rados' set_object_*) hides the signature line
    # at runtime; the string literal is still in the extension's data.
    wrapped = False
    if sig_line is None and key in so_sigs:
        sig_line = _sig_line(so_sigs[key], key)
        wrapped = sig_line is not None
    if sig_line is not None:
        sig = parse_signature(sig_line)
    elif name in ("__iter__", "__next__", "__str__", "__repr__", "__len__", "__enter__"):
        sig = {"params": list(_SELF_ONLY), "returns": None, "text": f"{key}(self)"}
    else:
        sig = _plain_sig(value) or {
            "params": list(_SELF_ONLY),
            "returns": None,
            "text": "(self, ...)",
        }
    return {"kind": kind, "owner": owner.__name__, "wrapped": wrapped, **sig}


def _init_record(cls: type, so_sigs: dict[str, str]) -> dict[str, Any]:
    """Find the real constructor signature of an extension class."""
    name = cls.__name__
    setup = cls.__dict__.get("__setup") or cls.__dict__.get(f"_{name}__setup")
    init = cls.__dict__.get("__init__")
    if setup is not None:
        line = _sig_line(setup.__doc__, f"{name}.__setup")
        assert line is not None
        return {"kind": "method", "owner": name, **parse_signature(line)}
    first = (cls.__doc__ or "").lstrip().split("\n", 1)[0]
    m = _CLASS_SIG_RE.match(first)
    if m and m.group(1) == name and "*args" not in first:
        sig = parse_signature(first)
        sig["params"].insert(0, dict(_SELF_ONLY[0]))
        return {"kind": "method", "owner": name, **sig}
    if init is not None:
        line = _sig_line(init.__doc__, f"{name}.__init__")
        if line is None and f"{name}.__init__" in so_sigs:
            line = _sig_line(so_sigs[f"{name}.__init__"], f"{name}.__init__")
        if line is not None:
            return {"kind": "method", "owner": name, **parse_signature(line)}
    return {
        "kind": "method",
        "owner": name,
        "text": f"{name}(self)",
        "returns": None,
        "params": list(_SELF_ONLY),
    }


def _exception_record(exc: type) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "bases": [b.__name__ for b in exc.__bases__],
        "mro": [b.__name__ for b in exc.__mro__],
        "samples": [],
    }
    init = exc.__dict__.get("__init__")
    line = _sig_line(getattr(init, "__doc__", None), f"{exc.__name__}.__init__")
    if line is None:
        # the inherited __init__ (getattr: mypy forbids reading __init__ off an instance)
        inherited = getattr(exc, "__init__", None)
        line = _sig_line(getattr(inherited, "__doc__", None), "Error.__init__")
    rec["init"] = parse_signature(line) if line else None
    arg_sets: list[tuple[Any, ...]] = [("msg",), ("msg", 5), ("msg", None), ("", 0)]
    if exc.__name__ == "ExtendMismatch":
        arg_sets = [("msg", 4101, 6), ("msg", None, 0)]
    for args in arg_sets:
        try:
            e = exc(*args)
        except TypeError:
            continue
        rec["samples"].append(
            {
                "args_in": list(args),
                "str": str(e),
                "args": list(e.args),
                "errno": getattr(e, "errno", "<absent>"),
                "offset": getattr(e, "offset", "<absent>"),
            }
        )
    return rec


def _jsonable(value: Any) -> Any:
    if isinstance(value, (int, str, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)


def introspect(module: Any) -> dict[str, Any]:
    modname = module.__name__
    so_sigs = _so_signatures(module)
    out: dict[str, Any] = {
        "file": module.__file__,
        "constants": {},
        "functions": {},
        "exceptions": {},
        "classes": {},
    }
    for name in sorted(dir(module)):
        if name.startswith("_"):
            continue
        value = getattr(module, name)
        if inspect.isclass(value):
            if value.__module__ != modname:
                continue  # stdlib/typing re-imports (chain, datetime, ...) are not API
            if issubclass(value, BaseException):
                out["exceptions"][name] = _exception_record(value)
            else:
                out["classes"][name] = _class_record(modname, value, so_sigs)
        elif isinstance(value, (bool, int, float, str, bytes, list, tuple)):
            out["constants"][name] = {"type": type(value).__name__, "value": _jsonable(value)}
        elif callable(value) and getattr(value, "__module__", None) == modname:
            line = _sig_line(value.__doc__, name)
            sig = parse_signature(line) if line else _plain_sig(value)
            out["functions"][name] = dict(sig or {})
    return out


def _class_record(modname: str, cls: type, so_sigs: dict[str, str]) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "bases": [b.__name__ for b in cls.__bases__],
        "methods": {},
        "attributes": [],
        "class_constants": {},
    }
    for owner in cls.__mro__:
        if owner is object or owner.__module__ != modname:
            continue
        for name, value in owner.__dict__.items():
            public = not name.startswith("_") or name in _PUBLIC_DUNDERS
            if not public or name in rec["methods"] or name in rec["attributes"]:
                continue
            if name == "__init__":
                rec["methods"][name] = _init_record(owner, so_sigs)
            elif type(value).__name__ in ("getset_descriptor", "member_descriptor", "property"):
                rec["attributes"].append(name)
            elif isinstance(value, (int, str, float, bytes)):
                rec["class_constants"][name] = value
            elif callable(value) or isinstance(value, (staticmethod, classmethod)):
                rec["methods"][name] = _method_record(modname, cls, owner, name, value, so_sigs)
    if "__init__" not in rec["methods"]:
        # Cython cdef classes may take their constructor from __cinit__ only.
        first = (cls.__doc__ or "").lstrip().split("\n", 1)[0]
        if first.startswith(cls.__name__ + "(") and "*args" not in first:
            rec["methods"]["__init__"] = _init_record(cls, so_sigs)
    rec["attributes"].sort()
    return rec


# ---------------------------------------------------------------- constants modules


def _py_str(value: str) -> str:
    """A double-quoted Python literal (the quoting ruff format prefers)."""
    text = repr(value)
    if text.startswith('"'):
        return text  # repr already chose double quotes
    return '"' + text[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'


def _const_module(modname: str, facade: str, surface: dict[str, Any], header: str) -> str:
    lines = [
        f'"""{header}',
        "",
        f"Generated by tools/gen_surface.py from the system ``{modname}`` module (Ceph",
        "16.2, Pacific) by introspection; tests/compat/test_surface.py re-checks every value.",
        "Do not edit by hand: rerun ``/usr/bin/python3 tools/gen_surface.py``.",
        "",
        f"Mirrors: src/pybind/{modname}/{modname}.pyx (module-level constants).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    names = []
    for name, rec in sorted(surface["constants"].items()):
        value = rec["value"]
        names.append(name)
        if rec["type"] == "int":
            # Big masks in hex, as in the C headers; upper-case digits, as ruff format does.
            shown = f"{value}" if value < 4096 else f"0x{value:X}"
            lines.append(f"{name}: int = {shown}")
        elif rec["type"] == "list":
            lines.append(f"{name}: list[str] = {json.dumps(value)}")
        else:
            lines.append(f"{name}: {rec['type']} = {_py_str(value)}")
    lines.append("")
    lines.append("__all__ = [")
    for name in names:
        lines.append(f'    "{name}",')
    lines.append("]")
    lines.append("")
    del facade
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scaffold", metavar="DIR", help="also write first-draft facade shells")
    ap.add_argument(
        "--check", action="store_true", help="print the surface JSON to stdout, write nothing"
    )
    opts = ap.parse_args()

    import rados  # system python3-rados (no stubs needed: see pyproject)
    import rbd  # system python3-rbd

    surface: dict[str, Any] = {
        "generated_by": "tools/gen_surface.py",
        "python": sys.version.split()[0],
        "librados_version": str(rados.Rados().version()),
        "librbd_version": list(rbd.RBD().version()),
        "modules": {"rados": introspect(rados), "rbd": introspect(rbd)},
    }
    if opts.check:
        json.dump(surface, sys.stdout, indent=1, sort_keys=True)
        return
    path = os.path.join(ROOT, "tests", "compat", "reference_surface.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(surface, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(ROOT, "rbdpy", "rados", "constants.py"), "w") as f:
        f.write(
            _const_module(
                "rados",
                "rbdpy.rados",
                surface["modules"]["rados"],
                "python-rados public constants (LIBRADOS_*, MONITOR_LEVELS, ...).",
            )
        )
    with open(os.path.join(ROOT, "rbdpy", "librbd", "constants.py"), "w") as f:
        f.write(
            _const_module(
                "rbd",
                "rbdpy.rbd",
                surface["modules"]["rbd"],
                "python-rbd public constants (RBD_*, MIRROR_*, ECANCELED).",
            )
        )
    if opts.scaffold:
        os.makedirs(opts.scaffold, exist_ok=True)
        for modname in ("rados", "rbd"):
            out = os.path.join(opts.scaffold, f"{modname}_shell.py")
            with open(out, "w") as f:
                f.write(_scaffold(modname, surface["modules"][modname]))
    print("wrote", path)


# ---------------------------------------------------------------- scaffold


def _param_text(p: dict[str, Any]) -> str:
    name: str = p["name"]
    if p["kind"] == "VAR_POSITIONAL":
        return "*" + name
    if p["kind"] == "VAR_KEYWORD":
        return "**" + name
    text = name
    if p["annotation"]:
        text += ": " + p["annotation"].replace("unicode", "str")
    if p["default"] is not None:
        text += (" = " if p["annotation"] else "=") + p["default"]
    return text


def _sig_text(params: list[dict[str, Any]]) -> str:
    out = []
    kw_marked = False
    for p in params:
        if p["kind"] == "KEYWORD_ONLY" and not kw_marked:
            out.append("*")
            kw_marked = True
        if p["kind"] == "VAR_POSITIONAL":
            kw_marked = True
        out.append(_param_text(p))
    return ", ".join(out)


# (class prefix or "*", method-name fragment, capability) — first match wins; used only for
# the NotImplementedError messages of the first-draft shells.
_CAPABILITIES = [
    ("mirror", "RBD mirroring"),
    ("group", "RBD groups"),
    ("trash", "the RBD trash"),
    ("migration", "live image migration"),
    ("namespace", "RADOS namespaces management"),
    ("encryption", "image encryption"),
    ("pool_metadata", "pool metadata"),
    ("poolmetadata", "pool metadata"),
    ("metadata", "image metadata"),
    ("config", "config overrides"),
    ("lock", "object/image locks"),
    ("watch", "watch/notify"),
    ("notify", "watch/notify"),
    ("omap", "omap operations"),
    ("xattr", "xattr operations"),
    ("snap", "snapshots"),
    ("aio_", "asynchronous I/O"),
    ("completion.", "asynchronous completions"),
    ("command", "mon/osd/mgr/pg commands"),
    ("application", "pool application metadata"),
    ("pool", "pool management"),
    ("monitor", "the cluster log"),
    ("service_daemon", "service daemon registration"),
    ("child", "clone children listing"),
    ("descendants", "clone children listing"),
    ("parent", "clone parents"),
    ("clone", "clones"),
    ("flatten", "clones"),
    ("copy", "image copy"),
    ("_op", "compound operations"),
    ("writeop.", "compound write operations"),
    ("readop.", "compound read operations"),
    ("objectiterator.", "object listing"),
    ("imageiterator.", "image listing"),
    ("rados.", "the cluster connection"),
    ("ioctx.", "object I/O"),
    ("object.", "object I/O"),
    ("rbd.", "image management"),
    ("image.", "images"),
]


def _capability(cname: str, mname: str) -> str:
    key = f"{cname}.{mname}".lower()
    for frag, cap in _CAPABILITIES:
        if frag in key:
            return cap
    return "this call"


def _scaffold(modname: str, surface: dict[str, Any]) -> str:
    lines = [f"# first-draft shell of {modname}; hand-edit before use", ""]
    for cname, crec in surface["classes"].items():
        bases = ", ".join(crec["bases"]) if crec["bases"] != ["object"] else ""
        lines.append(f"class {cname}({bases}):" if bases else f"class {cname}:")
        for attr in crec["attributes"]:
            lines.append(f"    {attr}: Any")
        for k, v in crec["class_constants"].items():
            lines.append(f"    {k} = {v!r}")
        lines.append("")
        for mname, m in crec["methods"].items():
            if m["owner"] != cname:
                continue
            ret = f" -> {m['returns']}" if m["returns"] else ""
            if m["kind"] != "method":
                lines.append(f"    @{m['kind']}")
            if m.get("wrapped") and modname == "rbd":
                lines.append("    @requires_not_closed")
            lines.append(f"    def {mname}({_sig_text(m['params'])}){ret}:")
            cap = _capability(cname, mname)
            lines.append(f'        raise _nie("{cname}.{mname}", "{cap}")')
            lines.append("")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
