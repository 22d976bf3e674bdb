"""The contract between the msgr2 protocol object and an authentication method.

Theory of operation: msgr2 carries opaque auth payloads in its AUTH_REQUEST,
AUTH_REPLY_MORE, AUTH_REQUEST_MORE and AUTH_DONE frames. The protocol object (pure) asks an
``AuthHandler`` (pure) what to put in them and hands it what the server sent back; when
AUTH_DONE arrives the handler yields the session key (for AUTH_SIGNATURE's HMAC) and the
connection secret (for secure mode's AES-GCM keys and nonces). One handler instance serves one
connection attempt. Two kinds exist: the mon login (cephx GET_AUTH_SESSION_KEY, or "none") and
the service authorizer (OSD/MGR connections, built from a ticket).

Mirrors: kernel include/linux/ceph/auth.h (ceph_auth_client_ops: get_request,
handle_reply_more, handle_reply_done, create_authorizer, add_authorizer_challenge,
verify_authorizer_reply), net/ceph/auth.c (ceph_auth_get_request and friends).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol


class AuthMethod(IntEnum):
    """CEPH_AUTH_* (ceph src/include/ceph_fs.h)."""

    UNKNOWN = 0
    NONE = 1
    CEPHX = 2


class ConMode(IntEnum):
    """CEPH_CON_MODE_* (kernel include/linux/ceph/msgr.h)."""

    UNKNOWN = 0
    CRC = 1
    SECURE = 2


@dataclass(frozen=True)
class AuthResult:
    """What AUTH_DONE establishes for one connection.

    :param global_id: the client's global id (from the mon; echoed by OSDs).
    :param con_mode: the mode the server chose (authoritative).
    :param session_key: raw AES key bytes used for AUTH_SIGNATURE (b"" for auth none).
    :param connection_secret: bytes for secure mode (>= 40 bytes when SECURE, else b"").
    """

    global_id: int
    con_mode: ConMode
    session_key: bytes
    connection_secret: bytes


class AuthHandler(Protocol):
    """One authentication attempt over one msgr2 connection."""

    @property
    def method(self) -> AuthMethod:
        """The method to put in AUTH_REQUEST."""
        ...

    def build_request(self) -> bytes:
        """The auth_payload of the first AUTH_REQUEST frame."""
        ...

    def handle_reply_more(self, payload: bytes) -> bytes:
        """Consume an AUTH_REPLY_MORE payload; return the AUTH_REQUEST_MORE payload.

        :raises AuthError: the server's payload cannot be accepted.
        """
        ...

    def handle_done(self, global_id: int, con_mode: ConMode, payload: bytes) -> AuthResult:
        """Consume AUTH_DONE; return the session key and connection secret.

        :raises AuthError: the reply does not decrypt or verify (wrong key, forged reply).
        """
        ...
