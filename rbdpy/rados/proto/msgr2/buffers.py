"""Receive buffers for large data segments: fresh ``bytes`` objects, and recycled ones.

A large MESSAGE's data segment (a 4 MiB read reply) is received straight into a ``bytes``
object made with ``PyBytes_FromStringAndSize(NULL, n)`` -- what C extensions do with that
call: fill it while nobody else holds it, then hand it out -- so a read returns it with no
copy, as librados receives into the caller's buffer.

Fresh megabytes are expensive here: glibc hands a large allocation back to the kernel
when it is freed (or trims the heap top), so every 4 MiB reply would land on new pages,
and the page faults (the kernel zeroing each page) cost more than the receive copy itself;
on a non-main thread (the sync facade's event-loop thread) the per-thread arena made that
worse still. So large buffers are recycled: the pool keeps each one it made, and reuses it
once the caller has dropped every reference to it -- when the pool's own is the last one
(``sys.getrefcount``). Nothing outside can reach such an object any more, so writing into
it is as safe as filling a fresh one; its cached hash is reset first. This is librados'
own habit (its messenger keeps receive buffers) expressed with Python objects.

CPython only (the C API, the reference count and the ``ob_shash`` field); each piece is
probed once at import and the module falls back to fresh objects, or to bytearrays where
even that is unavailable.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from collections.abc import Callable
from typing import Any

from rbdpy.rados.proto.bytestr import Buffer

__all__ = ["POOL_MAX_BYTES", "POOL_MIN_SIZE", "alloc_segment", "as_bytes", "pool_stats"]

log = logging.getLogger(__name__)

# Segments at least this big come from the pool: below it fresh memory is cheap (glibc's
# heap keeps it) and the pool would only hold small objects alive.
POOL_MIN_SIZE = 512 * 1024
# Bytes the pool may keep alive in all: 32 x 4 MiB, what 16 reads in flight through the
# sync facade need (16 at the OSDs, up to 16 more waiting for their callbacks); buffers a
# window of takes did not need are let go again.
POOL_MAX_BYTES = 128 * 1024 * 1024

# Takes between two trims of buffers that went unused (see _RecyclingPool._trim).
_TRIM_WINDOW = 256

_Allocator = Callable[[int], tuple[bytes, memoryview]]


def _make_bytes_allocator() -> tuple[_Allocator, Callable[[bytes], None] | None] | None:
    """``(alloc, reset_hash)`` through ctypes, or None where the C API is unavailable.

    ``alloc(n)`` returns a new, unshared ``bytes`` of ``n`` bytes and a writable view of
    it; ``reset_hash(obj)`` forgets ``obj``'s cached hash (None when ``ob_shash`` could
    not be located, which disables recycling).
    """
    try:
        import ctypes

        api = ctypes.PyDLL(None)  # own function objects: leave ctypes.pythonapi's alone
        new = api.PyBytes_FromStringAndSize
        new.restype = ctypes.py_object
        new.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t)
        as_string = api.PyBytes_AsString
        as_string.restype = ctypes.c_void_p
        as_string.argtypes = (ctypes.py_object,)
    except (ImportError, AttributeError, OSError):
        return None

    def alloc(n: int) -> tuple[bytes, memoryview]:
        obj = new(None, n)
        if type(obj) is not bytes or len(obj) != n or n == 0:
            raise MemoryError(f"bytes allocation of {n} failed")
        writable = (ctypes.c_char * n).from_address(as_string(obj))
        return obj, memoryview(writable).cast("B")

    try:
        probe, view = alloc(4)
        view[:] = b"rbdp"
        if probe != b"rbdp":
            return None
    except Exception:
        return None

    # PyBytesObject: the variable-size object header, then ob_shash, then the bytes. The
    # hash field sits right before the data; confirm it by hashing a probe.
    reset_hash: Callable[[bytes], None] | None = None
    try:
        probe, view = alloc(24)
        view[:] = b"rbdpy-hash-probe-0123456"
        data_off = int(as_string(probe)) - id(probe)
        shash_off = data_off - ctypes.sizeof(ctypes.c_ssize_t)
        field = ctypes.c_ssize_t.from_address(id(probe) + shash_off)
        if shash_off > 0 and field.value == -1 and hash(probe) == field.value:

            def reset(obj: bytes) -> None:
                ctypes.c_ssize_t.from_address(id(obj) + shash_off).value = -1

            view[:] = b"rbdpy-hash-probe-6543210"
            reset(probe)
            if hash(probe) == hash(bytes(view)):
                reset_hash = reset
    except Exception:
        reset_hash = None
    return alloc, reset_hash


class _RecyclingPool:
    """Large ``bytes`` buffers, reused once the pool holds their last reference."""

    def __init__(self, alloc: _Allocator, reset_hash: Callable[[bytes], None]) -> None:
        self._alloc = alloc
        self._reset_hash = reset_hash
        self._by_size: dict[int, deque[tuple[bytes, memoryview]]] = {}
        self._held = 0  # approximate under concurrent use; only bounds the pool
        self._takes = 0
        self._window_peak = 0
        self.reused = 0
        self.made = 0

    def take(self, n: int) -> tuple[bytes, memoryview]:
        # Event loops on several threads (one per sync handle) may share the pool. No
        # lock is needed: a thread binds a buffer to a local name *before* it looks at the
        # count, so of two threads looking at one free buffer, the later sees the other's
        # reference and passes on it.
        entries = self._by_size.get(n)
        if entries is not None:
            claimed: tuple[bytes, memoryview] | None = None
            claimed_obj: bytes | None = None
            busy = 0
            for entry in tuple(entries):
                obj = entry[0]
                # Three references: the pool's tuple, ``obj`` and getrefcount's argument.
                if sys.getrefcount(obj) != 3:
                    busy += 1
                elif claimed is None:
                    claimed, claimed_obj = entry, obj
            self._window_peak = max(self._window_peak, busy + 1)
            self._takes += 1
            if self._takes >= _TRIM_WINDOW:
                self._trim(entries, n, keep=self._window_peak + 1)
            if claimed is not None and claimed_obj is not None:
                self._reset_hash(claimed_obj)
                self.reused += 1
                return claimed_obj, claimed[1]
        entry = self._alloc(n)
        self.made += 1
        if self._held + n <= POOL_MAX_BYTES:
            self._held += n
            self._by_size.setdefault(n, deque()).append(entry)
        # A new tuple, never the pool's own: a caller keeping the pair (not the object)
        # must still count as a reference to the object.
        return entry[0], entry[1]

    def _trim(self, entries: deque[tuple[bytes, memoryview]], n: int, keep: int) -> None:
        """Every ``_TRIM_WINDOW`` takes, let go of the buffers beyond the most that window
        had in use at once (plus one): after a burst, the memory goes back."""
        self._takes = 0
        self._window_peak = 0
        for entry in tuple(entries):
            if len(entries) <= keep:
                break
            obj = entry[0]
            if sys.getrefcount(obj) == 3 and _remove_by_identity(entries, entry):
                self._held -= n

    def stats(self) -> dict[str, int]:
        return {"held_bytes": self._held, "reused": self.reused, "made": self.made}


def _remove_by_identity(entries: deque[tuple[bytes, memoryview]],
                        entry: tuple[bytes, memoryview]) -> bool:
    """Drop ``entry`` itself from ``entries``. Not ``deque.remove``: that compares by
    value, i.e. memcmp of megabytes against every entry before it, and would drop the
    first buffer with the same content, in use or not."""
    try:
        for i, e in enumerate(entries):
            if e is entry:
                del entries[i]
                return True
    except RuntimeError:  # another thread's take() appended meanwhile: trim next time
        pass
    return False


_allocator = _make_bytes_allocator()
_alloc_bytes: _Allocator | None = _allocator[0] if _allocator else None
# The claim protocol in take() leans on the GIL (no two threads between bytecodes): off on
# a free-threaded build.
_gil = getattr(sys, "_is_gil_enabled", lambda: True)()
_pool = (_RecyclingPool(_allocator[0], _allocator[1])
         if _allocator is not None and _allocator[1] is not None and _gil else None)
log.debug("receive buffers: bytes allocator %s, recycling %s",
          "on" if _alloc_bytes else "off", "on" if _pool else "off")


def alloc_segment(n: int) -> tuple[Buffer, memoryview]:
    """A buffer for a received segment of ``n`` bytes and a writable view of all of it.

    The caller must fill the view completely before anyone else sees the buffer, and
    must not keep the view afterwards.
    """
    if n >= POOL_MIN_SIZE and _pool is not None:
        return _pool.take(n)
    if _alloc_bytes is not None and n:
        return _alloc_bytes(n)
    buf = bytearray(n)
    return buf, memoryview(buf)


def as_bytes(buf: Buffer) -> bytes:
    """``buf`` as ``bytes``, without a copy when it already is one or when it views all of
    one (a large reply's data segment, received into its own bytes by
    :func:`alloc_segment`): reads hand that object to the caller as is."""
    if type(buf) is bytes:
        return buf
    if isinstance(buf, memoryview):
        base = buf.obj
        if type(base) is bytes and len(base) == buf.nbytes:
            return base
    return bytes(buf)


def pool_stats() -> dict[str, Any]:
    """How the recycling pool is doing (for benchmarks and tests)."""
    return _pool.stats() if _pool is not None else {"recycling": "off"}
