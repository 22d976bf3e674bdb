"""The CLI's rbd-shaped progress line, byte units and image specs (no cluster needed).

The expected texts were printed by Ceph 16.2.15's ``rbd`` (``rbd info`` size lines for
images of these sizes, ``rbd flatten`` on a clone and on a plain image).
"""

from __future__ import annotations

import io

import pytest

from rbdpy.cli.layering import ImageSpec
from rbdpy.cli.progress import ProgressLine, pretty_bytes


@pytest.mark.parametrize(("size", "text"), [
    (0, "0 B"), (512, "512 B"), (1023, "1023 B"), (1024, "1 KiB"), (1536, "1.5 KiB"),
    (10239, "10 KiB"), (1537 << 10, "1.5 MiB"), (3083 << 10, "3.0 MiB"),
    (1234567, "1.2 MiB"), (3 << 20, "3 MiB"), (999 << 20, "999 MiB"),
    ((1 << 30) - (1 << 10), "1024 MiB"), (1025 << 20, "1.0 GiB"), (64 << 20, "64 MiB"),
])
def test_pretty_bytes_is_rbds(size: int, text: str) -> None:
    assert pretty_bytes(size) == text


def test_progress_line_draws_each_new_percent_then_done() -> None:
    out = io.StringIO()
    line = ProgressLine("Image flatten", stream=out)
    for done in range(0, 9):
        assert line.update(done, 8) == 0
    line.update(8, 8)  # the same percentage again draws nothing
    line.finish()
    drawn = out.getvalue().split("\r")[1:]
    assert drawn[0] == "Image flatten: 0% complete..."
    assert drawn[-2] == "Image flatten: 100% complete..."
    assert drawn[-1] == "Image flatten: 100% complete...done.\n"
    assert len(drawn) == 10


def test_progress_line_failure_and_silence() -> None:
    out = io.StringIO()
    ProgressLine("Image flatten", stream=out).fail()
    assert out.getvalue() == "\rImage flatten: 0% complete...failed.\n"
    out = io.StringIO()
    line = ProgressLine("Image flatten", stream=out)
    line.update(1, 3)
    line.fail()
    assert out.getvalue().endswith("\rImage flatten: 33% complete...failed.\n")
    quiet = io.StringIO()
    line = ProgressLine("Image flatten", enabled=False, stream=quiet)
    line.update(1, 2)
    line.finish()
    line.fail()
    assert quiet.getvalue() == ""


@pytest.mark.parametrize(("text", "spec"), [
    ("img", ImageSpec("rbd", "", "img", None)),
    ("p/img@s", ImageSpec("p", "", "img", "s")),
    ("p/ns/img", ImageSpec("p", "ns", "img", None)),
])
def test_image_spec(text: str, spec: ImageSpec) -> None:
    assert ImageSpec.parse(text, "rbd") == spec


@pytest.mark.parametrize("text", ["a/b/c/d", "p/", "p/ns/@s"])
def test_bad_image_spec(text: str) -> None:
    with pytest.raises(ValueError):
        ImageSpec.parse(text, "rbd")
