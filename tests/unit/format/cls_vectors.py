"""Loader for tests/vectors/cls_rbd_calls/calls.json (recorded by tools/gen_cls_vectors.sh).

Each recorded call carries the indata we sent, the OSD's ret (python-rados ``execute``:
the output length, or -errno) and outdata; ``planned`` rebuilds the same ClsCall objects
from the recorded ids with tools/gen_cls_vectors.py's ``planned_calls``, so a test can check
that our builders still produce the bytes the OSD accepted and decode what it answered.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from rbdpy.format.cls import ClsCall
from tests.conftest import REPO_ROOT

VECTORS = REPO_ROOT / "tests" / "vectors" / "cls_rbd_calls" / "calls.json"
_GENERATOR = REPO_ROOT / "tools" / "gen_cls_vectors.py"


@dataclass(frozen=True)
class Recorded:
    name: str
    oid: str
    nspace: str
    cls: str
    method: str
    indata: bytes
    ret: int
    outdata: bytes
    write: bool


@cache
def document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(VECTORS.read_text())
    return doc


@cache
def recorded() -> dict[str, Recorded]:
    return {c["name"]: Recorded(c["name"], c["oid"], c["nspace"], c["cls"], c["method"],
                                bytes.fromhex(c["indata"]), c["ret"],
                                bytes.fromhex(c["outdata"]), c["write"])
            for c in document()["calls"]}


@cache
def planned() -> dict[str, tuple[str, ClsCall[Any]]]:
    """name -> (object, ClsCall) as the generator built them for the recorded ids."""
    spec = importlib.util.spec_from_file_location("gen_cls_vectors", _GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = module.planned_calls(document()["ids"])
    return {name: (oid, call) for name, _pool, _ns, oid, call in calls}


def reply(name: str) -> Any:
    """Decode the OSD's recorded output for call ``name`` with our decoder."""
    rec = recorded()[name]
    assert rec.ret >= 0, f"{name}: the OSD failed it with {rec.ret}"
    return planned()[name][1].decode_reply(rec.outdata)


def ids() -> dict[str, Any]:
    return dict(document()["ids"])


def cli(when: str, key: str) -> Any:
    """The CLI's view ``key`` before or after the calls (``when``: "before"/"after")."""
    return document()[f"cli_{when}"][key]
