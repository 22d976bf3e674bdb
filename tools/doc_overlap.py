#!/usr/bin/env python3
"""Count word runs that rbdpy's facade docstrings share with python-rados/python-rbd's own.

rbdpy documents its API in its own words; this tool checks that it does. The upstream text
is the ``doc`` fields of tests/compat/reference_surface.json as it was at commit 2ce53ab
(the last version that stored them; read with ``git show``), so it needs a git checkout.

For every documented object of ``rbdpy.rados`` / ``rbdpy.rbd`` (module, classes, methods,
functions, exception classes) the docstring is split into lower-case words without
punctuation, and each maximal run of at least ``--min-words`` (default 8) consecutive words
that also occurs, consecutively, in the upstream docstring of the same name is one hit.
``--any-name`` compares against every upstream docstring of the module instead, which also
finds text moved to another method.

    .venv/bin/python tools/doc_overlap.py [--module rados] [--any-name] [-v]

Exit status 1 when any run is found.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_COMMIT = "2ce53ab"
REFERENCE_PATH = "tests/compat/reference_surface.json"
_WORD = re.compile(r"[a-z0-9_]+")


def words(text: str | None) -> list[str]:
    return _WORD.findall((text or "").lower())


def ngrams(ws: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def shared_runs(ours: list[str], theirs: set[tuple[str, ...]], n: int) -> list[str]:
    """Maximal runs of >= n words of ``ours`` whose every n-window is in ``theirs``."""
    runs: list[str] = []
    i = 0
    while i <= len(ours) - n:
        if tuple(ours[i : i + n]) not in theirs:
            i += 1
            continue
        j = i + 1
        while j <= len(ours) - n and tuple(ours[j : j + n]) in theirs:
            j += 1
        runs.append(" ".join(ours[i : j + n - 1]))
        i = j + n - 1
    return runs


def reference_docs(mod: str) -> dict[str, str]:
    """Upstream docstrings of module ``mod`` by dotted name ("" is the module's own)."""
    text = subprocess.run(
        ["git", "show", f"{REFERENCE_COMMIT}:{REFERENCE_PATH}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ref = json.loads(text)["modules"][mod]
    out: dict[str, str] = {"": ref.get("doc") or ""}
    for name, rec in ref["functions"].items():
        out[name] = rec.get("doc") or ""
    for name, rec in ref["exceptions"].items():
        out[name] = rec.get("doc") or ""
    for cname, crec in ref["classes"].items():
        out[cname] = crec.get("doc") or ""
        for mname, mrec in crec["methods"].items():
            out[f"{cname}.{mname}"] = mrec.get("doc") or ""
    return out


def our_docs(module: Any) -> Iterator[tuple[str, str]]:
    """(dotted name, docstring) of every documented object the facade module defines."""
    yield "", module.__doc__ or ""
    for name, obj in sorted(vars(module).items()):
        if getattr(obj, "__module__", None) not in (module.__name__, "rbdpy.rados", "rbdpy.rbd"):
            continue
        if inspect.isclass(obj):
            yield name, obj.__doc__ or ""
            for mname, member in sorted(vars(obj).items()):
                func = member
                if isinstance(member, (staticmethod, classmethod)):
                    func = member.__func__
                if isinstance(func, property):
                    func = func.fget
                doc = getattr(func, "__doc__", None)
                if callable(func) and doc:
                    yield f"{name}.{mname}", doc
        elif inspect.isfunction(obj):
            yield name, obj.__doc__ or ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--module", choices=["rados", "rbd"], action="append")
    ap.add_argument("--min-words", type=int, default=8)
    ap.add_argument("--any-name", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    opts = ap.parse_args()
    facades = {"rados": "rbdpy.rados.facade", "rbd": "rbdpy.rbd"}
    n = opts.min_words
    total = 0
    for mod in opts.module or ["rados", "rbd"]:
        ref = reference_docs(mod)
        pool: set[tuple[str, ...]] = set()
        for doc in ref.values():
            pool |= ngrams(words(doc), n)
        hits = 0
        names = 0
        for name, doc in our_docs(importlib.import_module(facades[mod])):
            theirs = pool if opts.any_name else ngrams(words(ref.get(name)), n)
            runs = shared_runs(words(doc), theirs, n)
            names += bool(runs)
            hits += len(runs)
            if opts.verbose:
                for run in runs:
                    print(f"  {mod}.{name or '<module>'}: {run}")
        scope = "any upstream name" if opts.any_name else "same name"
        print(f"{mod}: {hits} runs of >= {n} words shared ({scope}) in {names} docstrings")
        total += hits
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
