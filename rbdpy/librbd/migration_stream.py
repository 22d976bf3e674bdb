"""The non-RBD source of an import-only migration (``migration_prepare_import``).

librbd 16.2 writes the source as a JSON ``source_spec`` in the destination's migration
header. rbdpy reads one kind: ``{"type": "raw", "stream": {"type": "file", "file_path":
...}}`` -- a raw image in a local file, read at the image offset. Other formats (qcow,
native import) and streams (http, s3) are refused with ENOSYS, so an image whose source
rbdpy cannot read never opens (it would read wrong data).

Mirrors: ceph src/librbd/migration/RawFormat.cc, FileStream.cc, SourceSpecBuilder.cc.
"""

from __future__ import annotations

import errno
import json
import os
from typing import Any

import trio

from rbdpy.rados.proto.errors import CephError


def parse_source_spec(text: str) -> dict[str, Any]:
    """The JSON source spec as a dict (EINVAL when it is not a JSON object)."""
    try:
        spec = json.loads(text)
    except ValueError as e:  # librbd: EBADMSG for text that is not JSON
        raise CephError(errno.EBADMSG, "failed to parse source spec") from e
    if not isinstance(spec, dict):
        raise CephError(errno.EINVAL, "source spec must be a JSON object")
    return spec


def normalized(spec: dict[str, Any]) -> str:
    """The spec as librbd stores it in the header: keys sorted, no spaces."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


class RawFileStream:
    """A raw image held in a local file: image offset = file offset, zeros past its end."""

    def __init__(self, path: str) -> None:
        self.path = path

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> RawFileStream:
        """The stream a source spec names; ENOSYS for what rbdpy cannot read."""
        stream = spec.get("stream")
        if not isinstance(spec.get("type"), str):
            raise CephError(errno.EINVAL, "source spec has no type")
        if spec["type"] != "raw":
            raise CephError(errno.ENOSYS, f"migration source format {spec.get('type')!r} "
                            "is not supported by rbdpy")
        if not isinstance(stream, dict) or not isinstance(stream.get("type"), str):
            raise CephError(errno.EINVAL, "raw source spec has no stream")
        path = stream.get("file_path")
        if stream["type"] != "file" or not isinstance(path, str):
            raise CephError(errno.ENOSYS, f"migration source stream {stream.get('type')!r} "
                            "is not supported by rbdpy")
        return cls(path)

    async def size(self) -> int:
        try:
            stat = await trio.to_thread.run_sync(os.stat, self.path)
        except OSError as e:
            raise CephError(e.errno or errno.EIO, f"cannot stat {self.path}") from e
        return stat.st_size

    async def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset``; what lies past the file's end reads as zeros."""
        def pread() -> bytes:
            with open(self.path, "rb") as f:
                return os.pread(f.fileno(), length, offset)
        try:
            data = await trio.to_thread.run_sync(pread)
        except OSError as e:
            raise CephError(e.errno or errno.EIO, f"cannot read {self.path}") from e
        return data + bytes(length - len(data)) if len(data) < length else data


__all__ = ["RawFileStream", "normalized", "parse_source_spec"]
