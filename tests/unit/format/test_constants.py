"""RBD feature bits, names and object names, compared with Pacific's librbd.

The reference is python-rbd 16.2.15 (importable only by /usr/bin/python3): its constants
and its ``RBD.features_to_string`` / ``features_from_string``, which call librbd's C
functions. Values observed from it are also pinned here literally, so the tests keep their
meaning on machines without python3-rbd.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
from typing import Any

import pytest

from rbdpy.format import constants as c
from rbdpy.rados.proto.constants import CEPH_NOSNAP
from rbdpy.rados.proto.errors import CephError

FROM_STRING_CASES = [
    "", "  ", "layering", "layering,exclusive-lock", "deep-flatten, layering",
    " layering , striping ", "\tlayering\n", "layering,layering", "operations", "migrating",
    "non-primary", "dirty-cache", "data-pool", "journaling", "fast-diff", "object-map",
    "striping", "61", " 61 ", "+61", "061", "63", "4095", "4096", "256", "512", "1024",
    "2048", "-1", "0x3d", "foo", "LAYERING", "layering,", "layering,,striping", "1,2",
    "18446744073709551616", "0",
]

REFERENCE_SCRIPT = r"""
import json, sys, rbd
r = rbd.RBD()
out = {"consts": {k: getattr(rbd, k) for k in dir(rbd)
                  if k.startswith(("RBD_FEATURE", "RBD_FLAG", "RBD_OPERATION"))},
       "to": {}, "from": {}}
for v in list(range(0, 1 << 12)) + [1 << 12, 1 << 40, 61 | 1 << 20]:
    try:
        out["to"][v] = r.features_to_string(v)
    except rbd.InvalidArgument:
        out["to"][v] = None
for s in json.loads(sys.argv[1]):
    try:
        out["from"][s] = r.features_from_string(s)
    except rbd.InvalidArgument:
        out["from"][s] = None
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("/usr/bin/python3 not found")
    proc = subprocess.run([python, "-c", REFERENCE_SCRIPT, json.dumps(FROM_STRING_CASES)],
                          capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        pytest.skip(f"python3-rbd not importable: {proc.stderr.strip()[-200:]}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _to(value: int) -> str | None:
    try:
        return c.features_to_string(value)
    except CephError as e:
        assert e.errno == errno.EINVAL
        return None


def _from(value: str) -> int | None:
    try:
        return c.features_from_string(value)
    except CephError as e:
        assert e.errno == errno.EINVAL
        return None


def test_constants_match_python_rbd(reference: dict[str, Any]) -> None:
    for name, value in reference["consts"].items():
        assert getattr(c, name) == value, name


def test_features_to_string_matches_librbd(reference: dict[str, Any]) -> None:
    for value, text in reference["to"].items():
        assert _to(int(value)) == text, value


def test_features_from_string_matches_librbd(reference: dict[str, Any]) -> None:
    for text, value in reference["from"].items():
        assert _from(text) == value, repr(text)


def test_pinned_values() -> None:
    # Observed from python-rbd 16.2.15 (see module docstring).
    assert c.RBD_FEATURES_DEFAULT == 61
    assert c.RBD_FEATURES_ALL == 0xFFF
    assert c.RBD_FEATURES_INCOMPATIBLE == 0x883
    assert c.RBD_FEATURES_RW_INCOMPATIBLE == 0xFFF
    assert c.RBD_FEATURES_MUTABLE == 0xC5C
    assert c.RBD_FEATURES_SINGLE_CLIENT == 0x85C
    assert c.features_to_string(61) == "deep-flatten,exclusive-lock,fast-diff,layering,object-map"
    assert c.features_to_string(0) == ""
    assert c.features_to_string(0xFFF) == (
        "data-pool,deep-flatten,dirty-cache,exclusive-lock,fast-diff,journaling,layering,"
        "migrating,non-primary,object-map,operations,striping")
    assert _to(4096) is None
    assert c.features_from_string("") == 61
    assert c.features_from_string("layering,layering") == 2  # librbd adds, it does not OR
    assert c.features_from_string("+61") == 61
    assert _from("1024") is None  # NON_PRIMARY may not be requested numerically
    assert c.features_from_string("non-primary") == 1024  # ... but by name it may
    assert _from("layering,") is None


def test_op_features_to_string() -> None:
    assert c.op_features_to_string(0) == ""
    assert c.op_features_to_string(0xF) == "clone-parent,clone-child,group,snap-trash"


def test_object_names() -> None:
    assert c.id_obj_name("img1") == "rbd_id.img1"
    assert c.header_name("1011f0810a9a") == "rbd_header.1011f0810a9a"
    assert c.old_header_name("legacy") == "legacy.rbd"
    assert c.object_map_name("10312bf847f0") == "rbd_object_map.10312bf847f0"
    assert c.object_map_name("10312bf847f0", CEPH_NOSNAP) == "rbd_object_map.10312bf847f0"
    # name seen on the live cluster for snapshot id 4 (tests/vectors/object_map/README.md)
    assert c.object_map_name("10312bf847f0", 4) == \
        "rbd_object_map.10312bf847f0.0000000000000004"
    assert c.data_object_prefix("103140288f35") == "rbd_data.103140288f35"
    # `rbd create --data-pool dp rbd/dpimg` on Ceph 16.2.15 (pool "rbd" has id 1):
    # block_name_prefix rbd_data.1.13eb30eeb94d -- the METADATA pool's id
    assert c.data_object_prefix("13eb30eeb94d", 1) == "rbd_data.1.13eb30eeb94d"
    assert c.data_object_name("rbd_data.1011f0810a9a", 0) == \
        "rbd_data.1011f0810a9a.0000000000000000"
    assert c.data_object_name("rbd_data.1011f0810a9a", 0x1234) == \
        "rbd_data.1011f0810a9a.0000000000001234"
    assert c.data_object_name("rb.0.1011.74b0dc51", 5, old_format=True) == \
        "rb.0.1011.74b0dc51.000000000005"
    assert c.group_header_name("abc") == "rbd_group_header.abc"
    assert (c.RBD_DIRECTORY, c.RBD_CHILDREN, c.RBD_TRASH, c.RBD_INFO, c.RBD_MIRRORING,
            c.RBD_NAMESPACE, c.RBD_GROUP_DIRECTORY) == (
        "rbd_directory", "rbd_children", "rbd_trash", "rbd_info", "rbd_mirroring",
        "rbd_namespace", "rbd_group_directory")


def test_generate_image_id() -> None:
    # FIELD_GUIDE §7.1: client global id 0x1011 made id 1011f0810a9a.
    assert c.generate_image_id(0x1011, 0xF0810A9A) == "1011f0810a9a"
    long_id = c.generate_image_id(0x123456789ABC, 0xFFFFFFFF)
    assert len(long_id) == c.RBD_MAX_IMAGE_ID_LENGTH == 14
    assert long_id == "56789abcffffffff"[-14:]
    assert len(c.data_object_prefix(long_id, 2**63 - 1)) <= c.RBD_MAX_BLOCK_NAME_PREFIX_LENGTH
