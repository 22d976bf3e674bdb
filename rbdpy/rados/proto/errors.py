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
    """Bytes that do not decode as the named type; EBADMSG (ERANGE for short buffers).

    :ivar detail: what did not decode, without the "decode error" prefix of ``message``.
    """

    def __init__(self, message: str, *, short: bool = False) -> None:
        self.detail = message
        super().__init__(_errno.ERANGE if short else _errno.EBADMSG, f"decode error, {message}")


class ProtocolError(CephError):
    """The msgr2 conversation went wrong; the connection must be reset.

    :ivar detail: what went wrong, without the "protocol error" prefix of ``message``.
    """

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(_errno.EPROTO, f"protocol error, {detail}")


class LocalProtocolError(ProtocolError):
    """We (or the API user) asked the protocol object for something invalid."""


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol does not allow."""

    @classmethod
    def from_local(cls, exc: LocalProtocolError) -> RemoteProtocolError:
        """The same failure blamed on the peer: a local misuse met while handling received
        bytes is the peer's doing (h11's rule), so the owner sees one kind of error."""
        return cls(exc.detail)


class BadBannerError(RemoteProtocolError):
    """The peer's banner is not msgr2.1's (garbage, msgr1, or feature bits we cannot meet)."""


class MalformedFrameError(RemoteProtocolError):
    """A frame's preamble, epilogue or payload does not parse (bad segment layout, a
    control frame whose payload does not decode, an unknown tag)."""


class FrameTooLargeError(MalformedFrameError):
    """A preamble announced more bytes than the receive limit; rejected before any buffer
    for the frame is allocated.

    :ivar size: the announced frame size; :ivar limit: the largest accepted.
    """

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"frame of {size} bytes exceeds limit {limit}")


class UnexpectedFrameError(RemoteProtocolError):
    """A well-formed frame that the connection's state does not accept (e.g. a MESSAGE
    before the session is open, or a server-only tag).

    :ivar tag: the frame's tag name; :ivar state: the state it arrived in.
    """

    def __init__(self, tag: str, state: str) -> None:
        self.tag = tag
        self.state = state
        super().__init__(f"unexpected {tag} in {state}")


class IntegrityError(RemoteProtocolError):
    """A bad crc, GCM tag or auth signature: the bytes were damaged or forged (EBADMSG)."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        CephError.__init__(self, _errno.EBADMSG, f"integrity error, {detail}")


class BadCrcError(IntegrityError):
    """A crc-mode preamble or segment crc does not match."""


class BadAuthTagError(IntegrityError):
    """A secure-mode GCM tag does not verify."""


class BadSignatureError(IntegrityError):
    """The peer's AUTH_SIGNATURE does not match the bytes we sent before AUTH_DONE."""


class AuthError(CephError):
    """Authentication failed (cephx or msgr2 auth); EACCES unless the peer said otherwise."""

    def __init__(self, message: str, errno: int = _errno.EACCES) -> None:
        super().__init__(errno, message)
