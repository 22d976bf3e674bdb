"""Internal error tree: every failure inside rbdpy carries a positive errno.

Theory of operation: Ceph reports failures as negative return codes; inside rbdpy a
``CephError`` with a positive ``errno`` stands for one. The public facades translate these
into python-rados / python-rbd exception classes at exactly one place each (see
``rbdpy.rados.exceptions`` and ``rbdpy.librbd.exceptions``); nothing below them raises a
public class.

Mirrors: the kernel's use of negative errnos throughout net/ceph; ceph src/include/errno.h.
"""

from __future__ import annotations

import errno as _errno


class CephError(Exception):
    """A failure with a positive errno, the equivalent of Ceph's ``r < 0``."""

    def __init__(self, errno: int, message: str = "") -> None:
        self.errno = abs(errno)
        self.message = message or _errno.errorcode.get(self.errno, f"errno {self.errno}")
        super().__init__(self.errno, self.message)

    def __str__(self) -> str:
        return f"[errno {self.errno}] {self.message}"


class DecodeError(CephError):
    """Bytes that do not decode as the named type; EBADMSG (ERANGE for short buffers)."""

    def __init__(self, message: str, *, short: bool = False) -> None:
        super().__init__(_errno.ERANGE if short else _errno.EBADMSG, f"decode error, {message}")


class ProtocolError(CephError):
    """The msgr2 conversation went wrong; the connection must be reset."""

    def __init__(self, message: str) -> None:
        super().__init__(_errno.EPROTO, f"protocol error, {message}")


class LocalProtocolError(ProtocolError):
    """We (or the API user) asked the protocol object for something invalid."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol does not allow."""


class IntegrityError(RemoteProtocolError):
    """A bad crc or a bad GCM tag: the bytes were damaged or forged."""

    def __init__(self, message: str) -> None:
        CephError.__init__(self, _errno.EBADMSG, f"integrity error, {message}")


class AuthError(CephError):
    """Authentication failed (cephx or msgr2 auth); EACCES unless the peer said otherwise."""

    def __init__(self, message: str, errno: int = _errno.EACCES) -> None:
        super().__init__(errno, message)
