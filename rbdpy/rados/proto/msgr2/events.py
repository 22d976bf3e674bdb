"""Events the msgr2 client protocol object returns from ``receive_data``.

Theory of operation: like h11 and wsproto, the protocol object never calls back into its
owner; ``Protocol.receive_data`` returns a list of these immutable values and the owner (the
trio transport) routes them. Failures are *not* events: they are raised (``ProtocolError``,
``IntegrityError``, ``AuthError``) and the owner resets the connection.

Mirrors: the points where kernel net/ceph/messenger_v2.c hands control back to libceph
(process_server_ident → con->ops->..., ceph_con_process_message, process_keepalive2_ack);
ceph src/msg/async/ProtocolV2.cc (ready(), handle_message, handle_keepalive2_ack, handle_wait).
"""

from __future__ import annotations

from dataclasses import dataclass

from rbdpy.rados.proto.auth.handler import ConMode
from rbdpy.rados.proto.types import EntityAddr, EntityAddrvec

CEPH_MSG_CONNECT_LOSSY = 1  # ceph src/include/msgr.h; SERVER_IDENT/CLIENT_IDENT flags


@dataclass(frozen=True, slots=True)
class Ready:
    """The session is open: SERVER_IDENT arrived and was accepted.

    :param global_id: our global id, from AUTH_DONE.
    :param con_mode: CRC or SECURE, as AUTH_DONE chose.
    :param peer_type: the peer's entity type from its HELLO (MON=1, OSD=4, MGR=0x10).
    :param peer_addrs: the addresses the peer announced in SERVER_IDENT.
    :param peer_global_id: the peer's own id (``gid``; the mon rank / OSD id for daemons).
    :param peer_global_seq: the peer's global_seq.
    :param features: the peer's supported RADOS feature bits (choose encodings by these).
    :param required_features: what the peer requires of us.
    :param flags: SERVER_IDENT flags (``CEPH_MSG_CONNECT_LOSSY`` for client sessions).
    :param server_cookie: 0 for lossy sessions.
    :param my_addr: our address as the peer sees it (from its HELLO), port 0.
    """

    global_id: int
    con_mode: ConMode
    peer_type: int
    peer_addrs: EntityAddrvec
    peer_global_id: int
    peer_global_seq: int
    features: int
    required_features: int
    flags: int
    server_cookie: int
    my_addr: EntityAddr

    @property
    def lossy(self) -> bool:
        return bool(self.flags & CEPH_MSG_CONNECT_LOSSY)


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A MESSAGE frame: the ``ceph_msg_header2`` fields plus the three payload segments.

    ``front``, ``middle`` and ``data`` are views into the received frame (no copy); keep
    them only as long as needed or copy them.
    """

    seq: int
    tid: int
    type: int
    priority: int
    version: int
    compat_version: int
    data_off: int
    ack_seq: int
    flags: int
    front: memoryview
    middle: memoryview
    data: memoryview


@dataclass(frozen=True, slots=True)
class KeepaliveAck:
    """KEEPALIVE2_ACK: the peer echoed one of our keepalive stamps (seconds, nanoseconds)."""

    timestamp: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Reset:
    """The connection is over without an error on our side.

    ``wait=True`` means the server sent WAIT (it is racing a connection from us the other
    way); a lossy client just reconnects after a backoff. Otherwise the peer closed the
    socket (``receive_data(b"")``).
    """

    reason: str
    wait: bool = False


Event = Ready | MessageReceived | KeepaliveAck | Reset
