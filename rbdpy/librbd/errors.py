"""The one place where librbd's internal errors become python-rbd's exceptions.

Below the public face, librbd code raises :class:`~rbdpy.rados.proto.errors.CephError`
(an errno and a diagnostic) or lets ``trio.TooSlowError`` escape a deadline. Each public
method of :class:`~rbdpy.librbd.image.AsyncImage` and :class:`~rbdpy.librbd.api.AsyncRBD`
wraps its body in ``with translate(message):``; on the way out that turns either error into
the python-rbd class :func:`rbdpy.librbd.exceptions.make_ex` picks for the errno, carrying
python-rbd's message for that call. The message is a plain string built by the caller; the
exception object is only built when an error actually passes through.
"""

from __future__ import annotations

import errno
from types import TracebackType

import trio

from rbdpy.librbd.exceptions import make_ex
from rbdpy.rados.proto.errors import CephError


class translate:  # lower case: it reads as a function at its ~70 `with` sites
    """``with translate("error doing X"):`` re-raises CephError/TooSlowError as python-rbd's."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(exc, CephError):
            raise make_ex(exc.errno, self.message) from exc
        if isinstance(exc, trio.TooSlowError):
            raise make_ex(errno.ETIMEDOUT, self.message) from exc


__all__ = ["translate"]
