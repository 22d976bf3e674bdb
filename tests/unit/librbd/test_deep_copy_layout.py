"""deep_copy between two layouts: every changed byte of a source object lands, once, at the
same image offset in the destination object that holds it."""

from __future__ import annotations

import random

import pytest

from rbdpy.librbd.deep_copy import _dst_chunks, _plan_objects
from rbdpy.striping.layout import FileLayout
from rbdpy.striping.striper import extent_to_file, file_to_extents

KiB = 1024
MiB = 1 << 20

LAYOUTS = [
    FileLayout.for_image(20, 64 * KiB, 4),
    FileLayout.for_image(22, 1 * MiB, 2),
    FileLayout.for_image(22, 4 * MiB, 1),
    FileLayout.for_image(20, 1 * MiB, 1),
]


def image_offset(layout: FileLayout, objectno: int, offset: int) -> int:
    ((image, _),) = extent_to_file(layout, objectno, offset, 1)
    return image


@pytest.mark.parametrize("src", LAYOUTS)
@pytest.mark.parametrize("dst", LAYOUTS)
def test_chunks_keep_image_offsets(src: FileLayout, dst: FileLayout) -> None:
    size = 16 * MiB
    rng = random.Random(5)
    plans = _plan_objects(src, dst, size)
    pieces_of: dict[int, list[tuple[int, int, bool]]] = {}
    for n in range(size // src.object_size):
        pieces = []
        for _ in range(5):
            off = rng.randrange(0, src.object_size - 1)
            pieces.append((off, rng.randrange(1, src.object_size - off + 1),
                           rng.random() < 0.5))
        pieces_of[n] = pieces
    mapped = dict.fromkeys(pieces_of, 0)
    for plan in plans:
        for src_objectno in plan.sources:
            for chunk in _dst_chunks(src, dst, plan.objectno, src_objectno,
                                     pieces_of[src_objectno]):
                mapped[src_objectno] += chunk.length
                for probe in (0, chunk.length - 1):
                    assert image_offset(src, src_objectno, chunk.src_offset + probe) == \
                        image_offset(dst, plan.objectno, chunk.dst_offset + probe)
    # nothing lost, nothing doubled
    assert mapped == {n: sum(ln for _, ln, _ in p) for n, p in pieces_of.items()}
    # each destination object's sources are exactly the objects its image ranges touch
    for plan in plans:
        touched = set()
        for off, length in extent_to_file(dst, plan.objectno, 0, dst.object_size):
            touched.update(ex.objectno for ex in file_to_extents(src, off, length))
        assert set(plan.sources) == touched
