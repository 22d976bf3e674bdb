"""Argument coercion and value conversion as python-rbd's Cython signatures perform them.

python-rbd declares most numeric parameters as C integers, so Cython converts (or rejects)
what the caller passes before librbd sees it; timestamps come back as naive UTC datetimes
with whole seconds. rbdpy's async layer applies the same rules so both faces accept and
refuse exactly the same values with the same exception types.
"""

from __future__ import annotations

import datetime
import operator
from typing import Any

UINT64_MAX = (1 << 64) - 1


def as_uint64(value: Any) -> int:
    """``value`` as a C ``uint64_t`` argument: floats truncate, negatives and values of 2**64
    or more raise OverflowError, non-integers TypeError (Cython's messages)."""
    if isinstance(value, float):
        value = int(value)
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError("an integer is required") from None
    if number < 0:
        raise OverflowError("can't convert negative value to uint64_t")
    if number > UINT64_MAX:
        raise OverflowError("int too big to convert")
    return number


def utc_datetime(seconds: int) -> datetime.datetime:
    """A timestamp as python-rbd returns it: naive UTC, whole seconds."""
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


__all__ = ["UINT64_MAX", "as_uint64", "utc_datetime"]
