"""Ceph's encoding: bounds-checked cursors and versioned envelopes.

Theory of operation: every Ceph wire and disk structure is a little-endian concatenation of
fixed-width integers, length-prefixed strings/bufferlists, counted containers and *versioned
envelopes* (``u8 struct_v | u8 struct_compat | le32 struct_len | body``). ``Decoder`` is a
cursor over a ``memoryview`` that checks every read against the current end (the kernel's
``ceph_decode_need``) and raises :class:`DecodeError` naming the type being decoded and the
offset. ``Decoder.struct`` is DECODE_START/DECODE_FINISH: it narrows the end to the envelope
so a nested mistake cannot eat the parent's bytes, and on exit jumps to the envelope's end so
fields added by newer releases are skipped. ``Encoder`` is the mirror image over a
``bytearray``; ``Encoder.struct`` back-patches the length word (ENCODE_START/ENCODE_FINISH).

Mirrors: ceph src/include/encoding.h, src/include/denc.h; kernel include/linux/ceph/decode.h.
"""

from __future__ import annotations

import struct as _struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.errors import DecodeError

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

_U8 = _struct.Struct("<B")
_U16 = _struct.Struct("<H")
_U32 = _struct.Struct("<I")
_U64 = _struct.Struct("<Q")
_S8 = _struct.Struct("<b")
_S16 = _struct.Struct("<h")
_S32 = _struct.Struct("<i")
_S64 = _struct.Struct("<q")
_F64 = _struct.Struct("<d")
_ENVELOPE = _struct.Struct("<BBI")  # u8 struct_v, u8 struct_compat, le32 struct_len
_UTIME = _struct.Struct("<II")  # le32 sec, le32 nsec



class Decoder:
    """A bounds-checked little-endian read cursor over a buffer.

    :param data: the bytes to decode; kept as a ``memoryview`` (no copy).
    :param what: the name of the outermost type, used in error messages.
    """

    __slots__ = ("_names", "buf", "end", "pos")

    def __init__(self, data: Buffer, what: str = "buffer", pos: int = 0,
                 end: int | None = None) -> None:
        self.buf = data if isinstance(data, memoryview) else memoryview(data)
        if self.buf.format != "B" or self.buf.ndim != 1:
            self.buf = self.buf.cast("B")
        self.pos = pos
        self.end = len(self.buf) if end is None else end
        self._names: list[str] = [what]

    # -- bookkeeping -------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Bytes left before the current end (the envelope's, inside ``struct``)."""
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def where(self) -> str:
        return ".".join(self._names)

    def error(self, message: str) -> DecodeError:
        """A DecodeError naming the type path and the current offset."""
        return DecodeError(f"{self.where()}: {message} at offset {self.pos}")

    def need(self, n: int) -> None:
        """Raise unless ``n`` more bytes are available (kernel ``ceph_decode_need``)."""
        if n < 0 or self.pos + n > self.end:
            raise DecodeError(
                f"{self.where()}: need {n} bytes at offset {self.pos}, "
                f"have {self.end - self.pos}",
                short=True,
            )

    @contextmanager
    def named(self, name: str) -> Iterator[None]:
        """Name a field (or element) so errors inside it say where they happened."""
        self._names.append(name)
        try:
            yield
        finally:
            self._names.pop()

    # -- scalars -----------------------------------------------------------------------

    def _fixed(self, st: _struct.Struct) -> int:
        pos = self.pos
        n = st.size
        if pos + n > self.end:
            self.need(n)
        self.pos = pos + n
        v: int = st.unpack_from(self.buf, pos)[0]
        return v

    def u8(self) -> int:
        return self._fixed(_U8)

    def u16(self) -> int:
        return self._fixed(_U16)

    def u32(self) -> int:
        return self._fixed(_U32)

    def u64(self) -> int:
        return self._fixed(_U64)

    def s8(self) -> int:
        return self._fixed(_S8)

    def s16(self) -> int:
        return self._fixed(_S16)

    def s32(self) -> int:
        return self._fixed(_S32)

    def s64(self) -> int:
        return self._fixed(_S64)

    def f64(self) -> float:
        pos = self.pos
        if pos + 8 > self.end:
            self.need(8)
        self.pos = pos + 8
        v: float = _F64.unpack_from(self.buf, pos)[0]
        return v

    def bool_(self) -> bool:
        return self._fixed(_U8) != 0

    def unpack(self, st: _struct.Struct) -> tuple[int, ...]:
        """Several fixed fields at once (hot paths): ``st`` is a precompiled Struct."""
        pos = self.pos
        if pos + st.size > self.end:
            self.need(st.size)
        self.pos = pos + st.size
        return st.unpack_from(self.buf, pos)

    def utime(self) -> tuple[int, int]:
        """``utime_t`` / ``ceph_timespec``: (seconds, nanoseconds)."""
        sec, nsec = self.unpack(_UTIME)
        return sec, nsec

    def uuid(self) -> bytes:
        """``uuid_d``: 16 raw bytes."""
        return bytes(self.raw(16))

    # -- byte strings --------------------------------------------------------------------

    def raw(self, n: int) -> memoryview:
        """The next ``n`` bytes as a view into the buffer (no copy)."""
        self.need(n)
        pos = self.pos
        self.pos = pos + n
        return self.buf[pos : pos + n]

    def skip(self, n: int) -> None:
        self.need(n)
        self.pos += n

    def blob_view(self) -> memoryview:
        """A ``bufferlist`` encoded as a value: le32 length + bytes, as a view."""
        return self.raw(self.u32())

    def blob(self) -> bytes:
        """A ``bufferlist`` encoded as a value: le32 length + bytes."""
        return bytes(self.raw(self.u32()))

    def string(self) -> str:
        """A ``std::string``; bytes that are not UTF-8 survive via surrogateescape."""
        return bytes(self.raw(self.u32())).decode("utf-8", "surrogateescape")

    # -- containers ----------------------------------------------------------------------

    def count(self, min_elem_size: int = 1) -> int:
        """A le32 element count, checked against the bytes left (no huge pre-allocation)."""
        n = self.u32()
        if n * min_elem_size > self.end - self.pos:
            raise self.error(f"count {n} exceeds the {self.end - self.pos} bytes left")
        return n

    def list_(self, fn: Callable[[Decoder], T], min_elem_size: int = 1) -> list[T]:
        """``vector<T>``/``list<T>``/``set<T>``: le32 count + elements."""
        n = self.count(min_elem_size)
        return [fn(self) for _ in range(n)]

    def map_(self, kfn: Callable[[Decoder], K], vfn: Callable[[Decoder], V],
             min_elem_size: int = 1) -> dict[K, V]:
        """``map<K,V>``: le32 count + (key, value) pairs."""
        n = self.count(min_elem_size)
        out: dict[K, V] = {}
        for _ in range(n):
            k = kfn(self)
            out[k] = vfn(self)
        return out

    def optional(self, fn: Callable[[Decoder], T]) -> T | None:
        """``std::optional<T>``: u8 present flag, then T."""
        return fn(self) if self.u8() else None

    # -- envelopes -----------------------------------------------------------------------

    @contextmanager
    def struct(self, name: str, min_v: int = 1, max_compat: int = 255) -> Iterator[int]:
        """DECODE_START/DECODE_FINISH for a versioned envelope; yields ``struct_v``.

        :param min_v: the oldest version accepted (the Pacific floor of this type).
        :param max_compat: the newest compat version this decoder understands.
        :raises DecodeError: compat too new, version too old, or length past the end.
        """
        self._names.append(name)
        try:
            v, compat, length = self.unpack(_ENVELOPE)
            if compat > max_compat:
                raise self.error(f"struct_compat {compat} > supported {max_compat} (v{v})")
            if v < min_v:
                raise self.error(f"struct_v {v} older than supported {min_v}")
            self.need(length)
            saved_end = self.end
            body_end = self.pos + length
            self.end = body_end
            yield v
            # Skip fields added by newer versions (DECODE_FINISH).
            self.pos = body_end
            self.end = saved_end
        finally:
            self._names.pop()

    def struct_header(self, name: str, min_v: int = 1,
                      max_compat: int = 255) -> tuple[int, int, int]:
        """Read an envelope header without narrowing; returns (v, compat, body_end)."""
        v, compat, length = self.unpack(_ENVELOPE)
        if compat > max_compat:
            raise self.error(f"{name}: struct_compat {compat} > supported {max_compat}")
        if v < min_v:
            raise self.error(f"{name}: struct_v {v} older than supported {min_v}")
        self.need(length)
        return v, compat, self.pos + length


class Encoder:
    """A little-endian write cursor over a growing ``bytearray``."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    def __len__(self) -> int:
        return len(self.buf)

    def u8(self, v: int) -> None:
        self.buf += _U8.pack(v)

    def u16(self, v: int) -> None:
        self.buf += _U16.pack(v)

    def u32(self, v: int) -> None:
        self.buf += _U32.pack(v)

    def u64(self, v: int) -> None:
        self.buf += _U64.pack(v)

    def s8(self, v: int) -> None:
        self.buf += _S8.pack(v)

    def s16(self, v: int) -> None:
        self.buf += _S16.pack(v)

    def s32(self, v: int) -> None:
        self.buf += _S32.pack(v)

    def s64(self, v: int) -> None:
        self.buf += _S64.pack(v)

    def f64(self, v: float) -> None:
        self.buf += _F64.pack(v)

    def bool_(self, v: bool) -> None:
        self.buf += b"\x01" if v else b"\x00"

    def pack(self, st: _struct.Struct, *values: int) -> None:
        self.buf += st.pack(*values)

    def utime(self, t: tuple[int, int]) -> None:
        self.buf += _UTIME.pack(t[0], t[1])

    def uuid(self, u: bytes) -> None:
        if len(u) != 16:
            raise ValueError("uuid must be 16 bytes")
        self.buf += u

    def raw(self, b: Buffer) -> None:
        self.buf += b

    def blob(self, b: Buffer) -> None:
        self.buf += _U32.pack(len(b))
        self.buf += b

    def string(self, s: str | bytes) -> None:
        b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else s
        self.buf += _U32.pack(len(b))
        self.buf += b

    def list_(self, items: list[T] | tuple[T, ...], fn: Callable[[Encoder, T], None]) -> None:
        self.buf += _U32.pack(len(items))
        for item in items:
            fn(self, item)

    def map_(self, items: dict[K, V], kfn: Callable[[Encoder, K], None],
             vfn: Callable[[Encoder, V], None], sort: bool = True) -> None:
        """``map<K,V>``; Ceph maps are ordered, so keys are written sorted by default."""
        self.buf += _U32.pack(len(items))
        keys = sorted(items) if sort else list(items)  # type: ignore[type-var]
        for k in keys:
            kfn(self, k)
            vfn(self, items[k])

    def optional(self, v: T | None, fn: Callable[[Encoder, T], None]) -> None:
        if v is None:
            self.u8(0)
        else:
            self.u8(1)
            fn(self, v)

    @contextmanager
    def struct(self, v: int, compat: int) -> Iterator[None]:
        """ENCODE_START/ENCODE_FINISH: writes the envelope and back-patches its length."""
        self.buf += _ENVELOPE.pack(v, compat, 0)
        start = len(self.buf)
        yield
        _U32.pack_into(self.buf, start - 4, len(self.buf) - start)


def decode_all(data: Buffer, fn: Callable[[Decoder], T], what: str) -> T:
    """Decode one ``what`` with ``fn`` and insist nothing trails it."""
    dec = Decoder(data, what)
    value = fn(dec)
    if dec.pos != dec.end:
        raise dec.error(f"{dec.end - dec.pos} trailing bytes")
    return value


def encode_with(fn: Callable[[Encoder, T], None], value: T) -> bytes:
    """Run an encoder function on a fresh Encoder and return the bytes."""
    enc = Encoder()
    fn(enc, value)
    return enc.getvalue()
