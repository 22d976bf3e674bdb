"""The striper and the object map against images written by the real ``rbd`` CLI.

For several layouts: ``rbd import`` a file in which every 8-byte word holds its own file
offset, fetch every data object with ``rados get``, then check (1) each object holds exactly
the image bytes ``extent_to_file`` says it holds, (2) 1,000 random image ranges read back
through ``file_to_extents`` equal the file, (3) the object count is ``get_num_objects`` and
the object map ``rbd`` wrote decodes (crcs included) with every object EXISTS.
"""

from __future__ import annotations

import json
import random
import subprocess
from array import array
from pathlib import Path

import pytest

from rbdpy.format.constants import data_object_name, object_map_name
from rbdpy.format.object_map import OBJECT_EXISTS, BitVector
from rbdpy.striping.layout import FileLayout
from rbdpy.striping.striper import extent_to_file, file_to_extents, get_num_objects

pytestmark = pytest.mark.cluster

KiB = 1024
MiB = 1024 * KiB

# (name, image size, rbd create/import options, expected layout)
LAYOUTS = [
    ("default", 64 * MiB, [], FileLayout(4 * MiB, 1, 4 * MiB)),
    ("os1m", 64 * MiB, ["--object-size", "1M"], FileLayout(1 * MiB, 1, 1 * MiB)),
    ("su64k_sc8", 64 * MiB, ["--stripe-unit", "64K", "--stripe-count", "8"],
     FileLayout(64 * KiB, 8, 4 * MiB)),
    # object sets of 3 x 64 KiB; 10 MiB + 12 KiB ends inside a partial object set
    ("su4k_sc3_os64k", 10 * MiB + 12 * KiB,
     ["--object-size", "64K", "--stripe-unit", "4K", "--stripe-count", "3"],
     FileLayout(4 * KiB, 3, 64 * KiB)),
    ("su1m_sc1", 8 * MiB, ["--stripe-unit", "1M", "--stripe-count", "1"],
     FileLayout(1 * MiB, 1, 4 * MiB)),
]


def pattern(size: int) -> bytes:
    """Every little-endian 8-byte word holds its own byte offset (size % 8 == 0)."""
    words = array("Q", range(0, size, 8))
    if words.itemsize != 8:
        pytest.skip("array('Q') is not 64-bit here")
    return words.tobytes()


def run(conf: str, *args: str) -> str:
    proc = subprocess.run([args[0], "-c", conf, *args[1:]], capture_output=True,
                          text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def fetch(conf: str, pool: str, oid: str, dest: Path) -> bytes:
    run(conf, "rados", "-p", pool, "get", oid, str(dest))
    return dest.read_bytes()


@pytest.mark.parametrize(("name", "size", "opts", "layout"), LAYOUTS,
                         ids=[row[0] for row in LAYOUTS])
def test_rbd_import_matches_striper(ceph_conf: str, pool: str, tmp_path: Path, name: str,
                                    size: int, opts: list[str], layout: FileLayout) -> None:
    data = pattern(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    image = f"{pool}/{name}"
    run(ceph_conf, "rbd", "import", *opts, str(src), image)
    info = json.loads(run(ceph_conf, "rbd", "info", image, "--format", "json"))
    assert FileLayout.for_image(info["order"], info.get("stripe_unit", 0),
                                info.get("stripe_count", 0)) == layout
    prefix = info["block_name_prefix"]
    image_id = info["id"]

    listed = run(ceph_conf, "rados", "-p", pool, "ls").split()
    data_objects = sorted(o for o in listed if o.startswith(prefix + "."))
    num_objects = get_num_objects(layout, size)
    # every 4 KiB of the pattern is non-zero, so import writes every object
    assert data_objects == [data_object_name(prefix, n) for n in range(num_objects)]

    objects: dict[int, bytes] = {}
    for objno in range(num_objects):
        objects[objno] = fetch(ceph_conf, pool, data_object_name(prefix, objno),
                               tmp_path / f"obj.{objno}")

    # (1) each object is exactly the image bytes the inverse map names
    for objno, content in objects.items():
        assert 0 < len(content) <= layout.object_size
        pos = 0
        for img_off, n in extent_to_file(layout, objno, 0, len(content)):
            assert content[pos:pos + n] == data[img_off:img_off + n], (objno, img_off)
            pos += n

    # (2) random image ranges assembled through file_to_extents
    rng = random.Random(f"{name}-{size}")
    for _ in range(1000):
        off = rng.randrange(size)
        length = rng.randint(1, min(size - off, 3 * layout.period))
        buf = bytearray(length)
        for ex in file_to_extents(layout, off, length):
            piece = objects[ex.objectno][ex.offset:ex.offset + ex.length]
            assert len(piece) == ex.length
            pos = 0
            for boff, n in ex.buffer_extents:
                buf[boff:boff + n] = piece[pos:pos + n]
                pos += n
        assert buf == data[off:off + length], (off, length)

    # (3) the object map written by librbd: one EXISTS per object, valid crcs
    om = BitVector.from_bytes(fetch(ceph_conf, pool, object_map_name(image_id),
                                    tmp_path / "object_map"))
    assert len(om) == num_objects
    assert set(om) == {OBJECT_EXISTS}
    assert BitVector.from_bytes(om.to_bytes()) == om

    run(ceph_conf, "rbd", "rm", "--no-progress", image)
