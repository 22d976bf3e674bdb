"""The import-only migration source: spec parsing as librbd stores it, raw file reads."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
import trio

from rbdpy.librbd.migration_stream import RawFileStream, normalized, parse_source_spec
from rbdpy.rados.proto.errors import CephError


def test_normalized_is_librbds_header_form() -> None:
    # as `rbd migration prepare --import-only` stored it (keys sorted, no spaces)
    spec = parse_source_spec('{"type": "raw", "stream": {"type": "file", "file_path": "/x"}}')
    assert normalized(spec) == '{"stream":{"file_path":"/x","type":"file"},"type":"raw"}'


@pytest.mark.parametrize(("text", "err"), [
    ("{bad", errno.EBADMSG),
    ("[]", errno.EINVAL),
    ("{}", errno.EINVAL),
    ('{"type": "raw"}', errno.EINVAL),
    ('{"type": "qcow", "stream": {"type": "file", "file_path": "/x"}}', errno.ENOSYS),
    ('{"type": "native", "pool_name": "p", "image_name": "i"}', errno.ENOSYS),
    ('{"type": "raw", "stream": {"type": "http", "url": "http://x"}}', errno.ENOSYS),
])
def test_specs_rbdpy_cannot_read_are_refused(text: str, err: int) -> None:
    with pytest.raises(CephError) as info:
        RawFileStream.from_spec(parse_source_spec(text))
    assert info.value.errno == err


def test_raw_file_reads_zeros_past_its_end(tmp_path: Path) -> None:
    path = tmp_path / "disk.raw"
    path.write_bytes(b"abcdef")
    stream = RawFileStream.from_spec(
        {"type": "raw", "stream": {"type": "file", "file_path": str(path)}})

    async def main() -> None:
        assert await stream.size() == 6
        assert await stream.read(2, 3) == b"cde"
        assert await stream.read(4, 5) == b"ef\0\0\0"
        assert await stream.read(100, 2) == b"\0\0"
        missing = RawFileStream(str(tmp_path / "nope"))
        with pytest.raises(CephError) as info:
            await missing.size()
        assert info.value.errno == errno.ENOENT

    trio.run(main)
