"""Ceph messages: the type registry, the ``Message`` base and the PaxosService header.

Theory of operation: a msgr2 MESSAGE frame carries ``ceph_msg_header2`` plus up to three
segments: *front* (the message's encoded fields), *middle* (unused by client messages) and
*data* (bulk bytes: object data, command input/output). The header names the message type
and two versions: ``version`` (how the sender encoded it) and ``compat_version`` (the oldest
decoder that can still read it). This module is the layer between frames and typed messages:

* :class:`Message` subclasses declare ``TYPE``, ``HEAD_VERSION`` and ``COMPAT_VERSION`` like
  their C++ namesakes, and pair ``encode`` (→ front, middle, data) with ``decode`` (from the
  header version and the three segments as ``memoryview``\\ s). Fields that newer versions
  append are read only when the header version says they are there, exactly as
  ``decode_payload`` does in Ceph; unread front bytes are ignored, as Ceph does.
* :func:`register` files each class by type id; :func:`decode_message` picks the class for an
  incoming header, refuses a ``compat_version`` newer than the class understands, and wraps
  any type it does not know in :class:`UnknownMessage` so the caller can consume and drop it.
* :class:`PaxosServiceHeader` is the 18-byte prefix every PaxosServiceMessage (MAuth,
  MMonCommand, MPoolOp, MStatfs, ...) puts at the start of its front.

The header's ``tid`` travels outside the front; it is kept on the message object as ``tid``
and the msgr2 layer copies it to and from ``ceph_msg_header2``.

Mirrors: ceph src/msg/Message.h (type numbers, Message(type, version=1, compat=0)),
src/msg/Message.cc (decode_message), src/include/ceph_fs.h (CEPH_MSG_*),
src/messages/PaxosServiceMessage.h; kernel include/linux/ceph/ceph_fs.h,
include/linux/ceph/msgr.h (ceph_msg_header2), net/ceph/mon_client.c.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, TypeVar

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import DecodeError

log = logging.getLogger(__name__)

_EMPTY = memoryview(b"")


class MsgType(IntEnum):
    """Message type ids (``CEPH_MSG_*`` in ceph_fs.h, ``MSG_*`` in msg/Message.h)."""

    SHUTDOWN = 1
    PING = 2
    # client <-> monitor
    MON_MAP = 4
    MON_GET_MAP = 5
    MON_GET_OSDMAP = 6
    MON_METADATA = 7
    STATFS = 13
    STATFS_REPLY = 14
    MON_SUBSCRIBE = 15
    MON_SUBSCRIBE_ACK = 16
    AUTH = 17
    AUTH_REPLY = 18
    MON_GET_VERSION = 19
    MON_GET_VERSION_REPLY = 20
    MDS_MAP = 21
    # osd
    OSD_MAP = 41
    OSD_OP = 42
    OSD_OPREPLY = 43
    WATCH_NOTIFY = 44
    # pool ops (mon)
    POOLOP_REPLY = 48
    POOLOP = 49
    # mon commands and logging
    MON_COMMAND = 50
    MON_COMMAND_ACK = 51
    LOG = 52
    LOGACK = 53
    GETPOOLSTATS = 58
    GETPOOLSTATSREPLY = 59
    MON_GLOBAL_ID = 60
    OSD_BACKOFF = 61
    CONFIG = 62
    GET_CONFIG = 63
    COMMAND = 97
    COMMAND_REPLY = 98
    # mgr (a client subscribed to "mgrmap" receives MMgrMap)
    MGR_OPEN = 0x700
    MGR_CONFIGURE = 0x701
    MGR_REPORT = 0x702
    MGR_MAP = 0x704
    MGR_COMMAND = 0x709
    MGR_COMMAND_REPLY = 0x70A


def msg_type_name(t: int) -> str:
    """``MON_COMMAND`` for 50, ``0x1234`` for types we have no name for."""
    try:
        return MsgType(t).name
    except ValueError:
        return f"{t:#x}"


# -- the PaxosServiceMessage prefix --------------------------------------------------------

# struct ceph_mon_request_header (packed): le64 have_version, le16 session_mon,
# le64 session_mon_tid
_PAXOS_HEADER = struct.Struct("<QhQ")


@dataclass(slots=True)
class PaxosServiceHeader:
    """``PaxosServiceMessage``'s ``paxos_encode``: version, session_mon, session_mon_tid.

    Clients send version 0, session_mon -1, session_mon_tid 0 (the constructor defaults);
    the mon fills them in when it forwards a message between monitors.
    """

    version: int = 0
    session_mon: int = -1
    session_mon_tid: int = 0

    @classmethod
    def decode(cls, dec: Decoder) -> PaxosServiceHeader:
        version, session_mon, session_mon_tid = dec.unpack(_PAXOS_HEADER)
        return cls(version, session_mon, session_mon_tid)

    def encode(self, enc: Encoder) -> None:
        enc.pack(_PAXOS_HEADER, self.version, self.session_mon, self.session_mon_tid)

    def encode_bytes(self) -> bytes:
        """The 18 header bytes on their own."""
        return _PAXOS_HEADER.pack(self.version, self.session_mon, self.session_mon_tid)


# -- messages --------------------------------------------------------------------------------

M = TypeVar("M", bound="Message")


class Message:
    """Base of every typed message.

    Subclasses are dataclasses holding the C++ member fields (same names) and set the
    class constants below. ``tid`` mirrors ``header.tid`` and ``header_version`` records the
    version a received message was encoded with (``HEAD_VERSION`` for ones we build).
    """

    TYPE: ClassVar[int] = 0
    HEAD_VERSION: ClassVar[int] = 1  # Message(t, version=1, compat_version=0) defaults
    COMPAT_VERSION: ClassVar[int] = 0  # 0: sent as HEAD_VERSION (Message::encode)

    tid: int = 0
    header_version: int = 0

    @property
    def type_name(self) -> str:
        return msg_type_name(self.TYPE)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        """Return (front, middle, data); data may be a caller's buffer, passed through."""
        raise NotImplementedError(f"{type(self).__name__} is decode-only")

    @classmethod
    def decode(cls: type[M], version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> M:
        raise NotImplementedError(f"{cls.__name__} is encode-only")


@dataclass
class UnknownMessage(Message):
    """A message type this client does not decode; kept raw so it can be logged and dropped."""

    msg_type: int
    version: int
    compat_version: int
    front: memoryview
    middle: memoryview
    data: memoryview

    @property
    def type_name(self) -> str:
        return msg_type_name(self.msg_type)

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        return self.front, self.middle, self.data


MESSAGE_TYPES: dict[int, type[Message]] = {}

C = TypeVar("C", bound=type[Message])


def register(cls: C) -> C:
    """Class decorator: file a Message subclass under its ``TYPE``."""
    if cls.TYPE in MESSAGE_TYPES and MESSAGE_TYPES[cls.TYPE] is not cls:
        raise ValueError(f"message type {cls.TYPE} registered twice")
    MESSAGE_TYPES[cls.TYPE] = cls
    return cls


def decode_message(msg_type: int, version: int, compat_version: int, front: Buffer,
                   middle: Buffer = b"", data: Buffer = b"", tid: int = 0) -> Message:
    """Decode one received message from its header fields and segments.

    :param msg_type: ``header.type``.
    :param version: ``header.version`` (passed to the class's decoder).
    :param compat_version: ``header.compat_version``; above our ``HEAD_VERSION`` means the
        sender changed the encoding incompatibly, so the message cannot be read.
    :returns: a registered Message subclass, or :class:`UnknownMessage`.
    :raises DecodeError: the front does not decode, or the compat version is too new.
    """
    fv = front if isinstance(front, memoryview) else memoryview(front)
    mv = middle if isinstance(middle, memoryview) else memoryview(middle)
    dv = data if isinstance(data, memoryview) else memoryview(data)
    cls = MESSAGE_TYPES.get(msg_type)
    if cls is None:
        log.debug("unknown message type %s v%d, %d+%d+%d bytes", msg_type_name(msg_type),
                  version, len(fv), len(mv), len(dv))
        msg: Message = UnknownMessage(msg_type, version, compat_version, fv, mv, dv)
    else:
        if compat_version > cls.HEAD_VERSION:
            raise DecodeError(f"{cls.__name__}: compat_version {compat_version} > "
                              f"supported {cls.HEAD_VERSION}")
        msg = cls.decode(version, fv, mv, dv)
    msg.tid = tid
    msg.header_version = version
    return msg


def encode_message(msg: Message, features: int = 0) -> tuple[int, int, int, Buffer, Buffer,
                                                               Buffer]:
    """(type, version, compat_version, front, middle, data) for the msgr2 layer.

    ``compat_version`` is already the wire value (see :func:`wire_compat_version`).
    """
    front, middle, data = msg.encode(features)
    if isinstance(msg, UnknownMessage):
        return msg.msg_type, msg.version, msg.compat_version, front, middle, data
    return msg.TYPE, msg.HEAD_VERSION, wire_compat_version(msg), front, middle, data


def wire_compat_version(msg: Message) -> int:
    """The compat_version that goes on the wire.

    Message::encode treats 0 as "not specified, assume incompatible" and sends the header
    version instead; a live 16.2.15 client sends MMonCommand v1 with compat 1 this way.
    """
    return msg.COMPAT_VERSION or msg.HEAD_VERSION


def front_decoder(cls: type[Message], front: memoryview) -> Decoder:
    """A Decoder over a front segment, named after the message class for errors."""
    return Decoder(front, cls.__name__)


def build_front(fn: Callable[[Encoder], None]) -> bytes:
    """Run ``fn`` on a fresh Encoder and return the front bytes."""
    enc = Encoder()
    fn(enc)
    return enc.getvalue()
