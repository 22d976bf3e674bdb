"""rbdpy.rados / rbdpy.rbd versus Ceph Pacific's python-rados / python-rbd.

The reference is tests/compat/reference_surface.json, produced by tools/gen_surface.py from
the installed Pacific modules (``/usr/bin/python3 tools/gen_surface.py``). When this
machine's ``/usr/bin/python3`` can import the same Pacific modules, the tests also
re-introspect them live and require the committed JSON to be current.

Checked: every public name exists and is exported; every constant is equal; every exception
has the same base classes, constructor parameters, ``str()``/``args``/``errno`` for the
same inputs, and pickles; every class has every public method and attribute with the same
parameter names, kinds and defaults. Docstrings are not compared: the reference holds no
upstream prose, and rbdpy documents its API in its own words. Pure local behaviour
(feature strings, Rados state machine) is compared with the live modules.
"""

from __future__ import annotations

import ast
import inspect
import json
import pickle
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rbdpy import rados, rbd

REPO = Path(__file__).resolve().parents[2]
REFERENCE_JSON = Path(__file__).with_name("reference_surface.json")
SYSTEM_PYTHON = "/usr/bin/python3"

REFERENCE: dict[str, Any] = json.loads(REFERENCE_JSON.read_text())
OURS: dict[str, ModuleType] = {"rados": rados, "rbd": rbd}
PUBLIC_MODULE = {"rados": "rbdpy.rados", "rbd": "rbdpy.rbd"}


def _system_has(module: str) -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", f"import {module}"], capture_output=True, check=False
    )
    return probe.returncode == 0


def _run_system(code: str) -> Any:
    """Run ``code`` (which prints JSON) with the system interpreter; return the value."""
    out = subprocess.run(
        [SYSTEM_PYTHON, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return json.loads(out.stdout)


HAVE_SYSTEM = _system_has("rados") and _system_has("rbd")
needs_system = pytest.mark.skipif(not HAVE_SYSTEM, reason="system python-rados/rbd absent")


def _items(kind: str) -> list[tuple[str, str, Any]]:
    return [
        (mod, name, rec)
        for mod in ("rados", "rbd")
        for name, rec in sorted(REFERENCE["modules"][mod][kind].items())
    ]


def _ids(items: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{mod}.{name}" for mod, name, _ in items]


CONSTANTS = _items("constants")
FUNCTIONS = _items("functions")
EXCEPTIONS = _items("exceptions")
CLASSES = _items("classes")
METHODS = [
    (mod, f"{cname}.{mname}", (crec, mrec))
    for mod, cname, crec in CLASSES
    for mname, mrec in sorted(crec["methods"].items())
]


# --------------------------------------------------------------------- reference freshness


@needs_system
def test_reference_json_is_current() -> None:
    live = json.loads(
        subprocess.run(
            [SYSTEM_PYTHON, str(REPO / "tools" / "gen_surface.py"), "--check"],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        ).stdout
    )
    if live["librbd_version"] != REFERENCE["librbd_version"]:
        pytest.skip(f"installed librbd {live['librbd_version']} is not the reference's")
    live.pop("python", None)
    committed = dict(REFERENCE)
    committed.pop("python", None)
    for mod in ("rados", "rbd"):
        # The .so path differs between interpreters; everything else must match.
        live["modules"][mod].pop("file")
        committed["modules"][mod] = dict(committed["modules"][mod])
        committed["modules"][mod].pop("file")
    assert live == committed, "rerun: /usr/bin/python3 tools/gen_surface.py"


# --------------------------------------------------------------------- names and constants


@pytest.mark.parametrize("mod", ["rados", "rbd"])
def test_every_public_name_exists_and_is_exported(mod: str) -> None:
    ref = REFERENCE["modules"][mod]
    names = set(ref["constants"]) | set(ref["functions"]) | set(ref["exceptions"])
    names |= set(ref["classes"])
    module = OURS[mod]
    missing = sorted(n for n in names if not hasattr(module, n))
    assert not missing
    unexported = sorted(names - set(module.__all__))
    assert not unexported


@pytest.mark.parametrize(("mod", "name", "rec"), CONSTANTS, ids=_ids(CONSTANTS))
def test_constant_value(mod: str, name: str, rec: dict[str, Any]) -> None:
    value = getattr(OURS[mod], name)
    assert type(value).__name__ == rec["type"]
    if rec["type"] == "bytes":
        pytest.fail("bytes constants are recorded by repr; compare them by hand")
    assert value == rec["value"]


@needs_system
def test_constants_match_live_modules() -> None:
    live = _run_system(
        "import json, rados, rbd\n"
        "out = {}\n"
        "for m in (rados, rbd):\n"
        "    out[m.__name__] = {n: getattr(m, n) for n in dir(m) if not n.startswith('_')\n"
        "        and isinstance(getattr(m, n), (int, str, list))\n"
        "        and not isinstance(getattr(m, n), bool)}\n"
        "print(json.dumps(out))\n"
    )
    for mod, consts in live.items():
        for name, value in consts.items():
            assert getattr(OURS[mod], name) == value, f"{mod}.{name}"


# --------------------------------------------------------------------- exceptions


@pytest.mark.parametrize(("mod", "name", "rec"), EXCEPTIONS, ids=_ids(EXCEPTIONS))
def test_exception_class(mod: str, name: str, rec: dict[str, Any]) -> None:
    cls = getattr(OURS[mod], name)
    assert issubclass(cls, BaseException)
    assert [b.__name__ for b in cls.__bases__] == rec["bases"]
    assert [b.__name__ for b in cls.__mro__] == rec["mro"]
    assert cls.__module__ == PUBLIC_MODULE[mod]
    if rec["init"] is not None:
        ours = [p.name for p in inspect.signature(cls.__init__).parameters.values()]
        assert ours == [p["name"] for p in rec["init"]["params"]]
    for sample in rec["samples"]:
        exc = cls(*sample["args_in"])
        assert str(exc) == sample["str"]
        assert list(exc.args) == sample["args"]
        assert getattr(exc, "errno", "<absent>") == sample["errno"]
        assert getattr(exc, "offset", "<absent>") == sample["offset"]
        clone = pickle.loads(pickle.dumps(exc))
        assert type(clone) is cls
        assert str(clone) == str(exc) and clone.args == exc.args
        assert getattr(clone, "errno", "<absent>") == sample["errno"]
        assert getattr(clone, "offset", "<absent>") == sample["offset"]


# --------------------------------------------------------------------- classes and methods


def _default_value(text: str, module: ModuleType, cls: type) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        pass
    for scope in (cls, module):
        if hasattr(scope, text):
            return getattr(scope, text)
    raise AssertionError(f"cannot evaluate reference default {text!r}")


@pytest.mark.parametrize(("mod", "name", "rec"), CLASSES, ids=_ids(CLASSES))
def test_class_shape(mod: str, name: str, rec: dict[str, Any]) -> None:
    cls = getattr(OURS[mod], name)
    assert inspect.isclass(cls)
    assert [b.__name__ for b in cls.__bases__] == rec["bases"]
    for attr in rec["attributes"]:
        annotated = any(attr in getattr(k, "__annotations__", {}) for k in cls.__mro__)
        assert annotated or hasattr(cls, attr), f"{name}.{attr}"
    for const, value in rec["class_constants"].items():
        assert getattr(cls, const) == value


@pytest.mark.parametrize(("mod", "qualname", "recs"), METHODS, ids=_ids(METHODS))
def test_method_signature(mod: str, qualname: str, recs: tuple[dict[str, Any], ...]) -> None:
    _crec, mrec = recs
    cname, mname = qualname.split(".")
    cls = getattr(OURS[mod], cname)
    assert mname in dir(cls), qualname
    func = inspect.getattr_static(cls, mname)
    if isinstance(func, (staticmethod, classmethod)):
        func = func.__func__
    params = list(inspect.signature(func).parameters.values())
    ref = mrec["params"]
    assert [p.name for p in params] == [p["name"] for p in ref], qualname
    assert [p.kind.name for p in params] == [p["kind"] for p in ref], qualname
    for ours, theirs in zip(params, ref, strict=True):
        if theirs["kind"] in ("VAR_POSITIONAL", "VAR_KEYWORD"):
            continue
        if theirs["default"] is None:
            assert ours.default is inspect.Parameter.empty, f"{qualname}({ours.name})"
        else:
            expected = _default_value(theirs["default"], OURS[mod], cls)
            assert ours.default == expected, f"{qualname}({ours.name})"


@pytest.mark.parametrize(("mod", "name", "rec"), FUNCTIONS, ids=_ids(FUNCTIONS))
def test_function_signature(mod: str, name: str, rec: dict[str, Any]) -> None:
    func = getattr(OURS[mod], name)
    params = list(inspect.signature(func).parameters.values())
    assert [p.name for p in params] == [p["name"] for p in rec["params"]]


# --------------------------------------------------------------------- local behaviour parity

FEATURE_STRINGS = [
    "",
    "  ",
    "0",
    "-0",
    "5",
    "+5",
    "05",
    " 5 ",
    "61",
    "128",
    "256",
    "512",
    "1024",
    "2048",
    "4095",
    "4096",
    "-1",
    "0x5",
    "1e3",
    "18446744073709551615",
    "18446744073709551616",
    "layering",
    "layering,exclusive-lock",
    "exclusive-lock, layering",
    "layering,,striping",
    "layering, ",
    ",",
    "LAYERING",
    "bogus",
    "layering;striping",
    "layering\t",
    "\tlayering",
    "layering,layering",
    "striping,layering,striping",
    "dirty-cache",
    "operations",
    "migrating",
    "non-primary",
    "journaling,operations",
    "5,layering",
    "object-map,exclusive-lock,fast-diff",
    "data-pool,deep-flatten",
]
FEATURE_BITS = [0, 1, 2, 5, 61, 128, 2048, 4095, 4096, 1 << 40, (1 << 64) - 1]

# Pinned from the installed Pacific librbd (python3-rbd 16.2.15) so these run without it.
PINNED_FROM_STRING = {
    "": 61,
    "  ": 61,
    "0": 0,
    "+5": 5,
    "05": 5,
    "128": 128,
    "256": None,
    "2048": None,
    "4096": None,
    "-1": None,
    "0x5": None,
    "layering,exclusive-lock": 5,
    "exclusive-lock, layering": 5,
    "layering,,striping": None,
    "LAYERING": None,
    "layering,layering": 2,
    "striping,layering,striping": 5,
    "dirty-cache": 2048,
    "journaling,operations": 320,
    "5,layering": None,
}
PINNED_TO_STRING = {
    0: "",
    5: "exclusive-lock,layering",
    61: "deep-flatten,exclusive-lock,fast-diff,layering,object-map",
    4095: "data-pool,deep-flatten,dirty-cache,exclusive-lock,fast-diff,journaling,layering,"
    "migrating,non-primary,object-map,operations,striping",
    4096: None,
}


def _ours_from_string(text: str) -> int | None:
    try:
        return int(rbd.RBD().features_from_string(text))
    except rbd.InvalidArgument as exc:
        assert exc.errno == 22
        assert str(exc) == (
            "[errno 22] RBD invalid argument (error getting features bitmask from str)"
        )
        return None


def _ours_to_string(bits: int) -> str | None:
    try:
        return str(rbd.RBD().features_to_string(bits))
    except rbd.InvalidArgument as exc:
        assert str(exc) == (
            "[errno 22] RBD invalid argument (error converting features bitmask to str)"
        )
        return None


def test_features_pinned() -> None:
    for text, expected in PINNED_FROM_STRING.items():
        assert _ours_from_string(text) == expected, repr(text)
    for bits, expected_str in PINNED_TO_STRING.items():
        assert _ours_to_string(bits) == expected_str, bits


@needs_system
def test_features_match_live_librbd() -> None:
    live = _run_system(
        "import json, rbd\n"
        f"strings = {FEATURE_STRINGS!r}\n"
        f"bits = {FEATURE_BITS!r}\n"
        "def fs(s):\n"
        "    try: return rbd.RBD().features_from_string(s)\n"
        "    except rbd.InvalidArgument: return None\n"
        "def ts(b):\n"
        "    try: return rbd.RBD().features_to_string(b)\n"
        "    except rbd.InvalidArgument: return None\n"
        "print(json.dumps({'from': [fs(s) for s in strings], 'to': [ts(b) for b in bits]}))\n"
    )
    assert [_ours_from_string(s) for s in FEATURE_STRINGS] == live["from"]
    assert [_ours_to_string(b) for b in FEATURE_BITS] == live["to"]


def test_feature_argument_errors() -> None:
    r = rbd.RBD()
    with pytest.raises(TypeError):
        r.features_to_string(None)
    with pytest.raises(OverflowError):
        r.features_to_string(-1)
    with pytest.raises(rbd.InvalidArgument, match="str_features must be a string"):
        r.features_from_string(None)
    assert r.features_from_string(b"layering") == 1


def test_versions_match_reference() -> None:
    assert str(rados.Rados().version()) == REFERENCE["librados_version"]
    assert list(rbd.RBD().version()) == REFERENCE["librbd_version"]


def test_rados_local_state_machine() -> None:
    r = rados.Rados()
    assert r.state == "configuring"
    assert r.conffile == rados.Rados.NO_CONF_FILE and r.parsed_args == []
    r.require_state("configuring")
    with pytest.raises(rados.RadosStateError) as info:
        r.require_state("connected")
    assert str(info.value) == (
        "RADOS rados state (You cannot perform that operation on a Rados object in state "
        "configuring.)"
    )
    r.conf_set("mon host", "1.2.3.4")
    assert r.conf_get("mon_host") == "1.2.3.4"
    assert r.conf_parse_argv([]) is None
    r.shutdown()
    r.shutdown()
    assert r.state == "shutdown"
    with pytest.raises(rados.RadosStateError, match="state shutdown"):
        r.conf_get("mon_host")
    with pytest.raises(rados.Error, match="can't supply both rados_id and name"):
        rados.Rados(rados_id="a", name="client.b")
    assert rados.Rados(conf={"mon_host": "9.9.9.9"}).conf_get("mon_host") == "9.9.9.9"


def test_unwired_methods_raise_not_implemented() -> None:
    r = rados.Rados(conf={"mon_host": ""})
    # connect() is wired: with no monitor configured it fails as librados does.
    with pytest.raises(rados.ObjectNotFound, match="error connecting to the cluster"):
        r.connect()
    io = rados.Ioctx(r, "pool")
    io.set_namespace("ns")
    assert io.get_namespace() == "ns"
    io.close()
    with pytest.raises(rados.IoctxStateError, match="The pool is closed"):
        io.set_namespace("x")
    # Capabilities still to come say so instead of succeeding silently.
    with pytest.raises(NotImplementedError, match=r"^RBD\.mirror_mode_get: .*not implemented"):
        rbd.RBD().mirror_mode_get(io)


def test_object_wrapper_uses_ioctx() -> None:
    calls: list[tuple[str, Any]] = []

    class FakeIoctx:
        nspace = ""
        locator_key = ""

        def get_namespace(self) -> str:
            return self.nspace

        def set_namespace(self, ns: str) -> None:
            calls.append(("ns", ns))
            self.nspace = ns

        def get_locator_key(self) -> str:
            return self.locator_key

        def set_locator_key(self, key: str) -> None:
            calls.append(("loc", key))
            self.locator_key = key

        def read(self, key: str, length: int, offset: int) -> bytes:
            calls.append(("read", (key, length, offset, self.nspace, self.locator_key)))
            return b"abc"

    obj = rados.Object(FakeIoctx(), "o", locator_key="L", nspace="N")
    assert obj.read(3) == b"abc" and obj.offset == 3
    assert ("read", ("o", 3, 0, "N", "L")) in calls
    assert calls[-2:] == [("ns", ""), ("loc", "")]  # restored afterwards
    assert str(obj).startswith("rados.Object(") and "key=o,nspace=N,locator=L" in str(obj)


def test_version_object() -> None:
    v = rados.Version(1, 2, 3)
    assert (str(v), v.major, v.minor, v.extra) == ("1.2.3", 1, 2, 3)
