"""The one place where librbd's internal errors become python-rbd's exceptions.

Below the public face, librbd code raises :class:`~rbdpy.rados.proto.errors.CephError`
(an errno and a diagnostic) or lets ``trio.TooSlowError`` escape a deadline. Each public
method of :class:`~rbdpy.librbd.image.AsyncImage` and :class:`~rbdpy.librbd.api.AsyncRBD`
wraps its body in ``with translate(message):``; on the way out that turns either error into
the python-rbd class :func:`rbdpy.librbd.exceptions.make_ex` picks for the errno, carrying
python-rbd's message for that call. The message and the exception are only built when an
error actually passes through.
"""

from __future__ import annotations

import errno
from types import TracebackType

import trio

from rbdpy.librbd.exceptions import group_errno_to_exception, make_ex
from rbdpy.rados.proto.errors import CephError


class translate:  # lower case: it reads as a function at its `with` sites
    """``with translate("error reading {!r} {}~{}", name, offset, length):`` re-raises a
    CephError or TooSlowError as python-rbd's exception with that message.

    The message is a ``str.format`` template and its arguments; it is formatted only when
    an error passes through, so the success path of a hot call (a 4 KiB read) pays for a
    tuple, not for a string."""

    __slots__ = ("args", "template")

    def __init__(self, template: str, *args: object) -> None:
        self.template = template
        self.args = args

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(exc, CephError):
            raise make_ex(exc.errno, self.template.format(*self.args)) from exc
        if isinstance(exc, trio.TooSlowError):
            raise make_ex(errno.ETIMEDOUT, self.template.format(*self.args)) from exc


class translate_group(translate):
    """:class:`translate` with python-rbd's map for group calls (``group_errno_to_exception``:
    ENOENT and EEXIST name an object, not an image)."""

    __slots__ = ()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(exc, CephError):
            raise make_ex(exc.errno, self.template.format(*self.args),
                          group_errno_to_exception) from exc
        if isinstance(exc, trio.TooSlowError):
            raise make_ex(errno.ETIMEDOUT, self.template.format(*self.args),
                          group_errno_to_exception) from exc


__all__ = ["translate", "translate_group"]
