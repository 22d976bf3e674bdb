"""Command messages to a daemon: MCommand/MCommandReply and MMgrCommand/MMgrCommandReply.

Theory of operation: a "tell" is one command (a JSON object in a one-element vector of
strings) sent to ONE daemon over a session with it; the input travels in the data segment,
and the reply carries a return code, a status string and the output in its data segment.
Four messages share two layouts:

* ``MCommand`` (97): fsid | vector<string> cmd. librados sends it to an OSD over the
  Objecter's session (``osd_command``, ``pg_command``), to one monitor over an anonymous
  session of its own (``mon_command`` with a target), and to the active mgr for a tell
  addressed to it by name (``mgr_command`` with a target) -- then with the cluster fsid.
* ``MMgrCommand`` (0x709): the same fields, sent to the active mgr for a plain mgr command;
  librados leaves its fsid all zero (the mgr reads a nil fsid as "not a tell").
* ``MCommandReply`` (98) / ``MMgrCommandReply`` (0x70a): errorcode32_t r | string rs.

All four are header version 1, compat 0 (sent as compat 1; see base.wire_compat_version).

Mirrors: ceph src/messages/MCommand.h, MCommandReply.h, MMgrCommand.h, MMgrCommandReply.h;
src/osdc/Objecter.cc (_send_command), src/mon/MonClient.cc (_send_command, tell path),
src/mgr/MgrClient.cc (start_command, start_tell_command). Pinned by frames a 16.2.15
client and daemons exchanged (tests/vectors/commands).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.messages.base import Message, MsgType, front_decoder, register

_NIL_FSID = b"\0" * 16


def _enc_str(enc: Encoder, s: str) -> None:
    enc.string(s)


def _dec_str(dec: Decoder) -> str:
    return dec.string()


@dataclass
class _CommandRequest(Message):
    """fsid | vector<string> cmd; the input is the data segment."""

    fsid: bytes = _NIL_FSID
    cmd: list[str] = field(default_factory=list)
    inbl: Buffer = b""

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.uuid(self.fsid)
        enc.list_(self.cmd, _enc_str)
        return enc.getvalue(), b"", self.inbl

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> _CommandRequest:
        dec = front_decoder(cls, front)
        fsid = dec.uuid()
        cmd = dec.list_(_dec_str, 4)
        return cls(fsid, cmd, data)


@dataclass
class _CommandReply(Message):
    """errorcode32_t r | string rs; the output is the data segment.

    ``r`` is 0 or a negative errno (Linux numbering from a Linux daemon).
    """

    r: int = 0
    rs: str = ""
    outbl: Buffer = b""

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        enc = Encoder()
        enc.s32(self.r)
        enc.string(self.rs)
        return enc.getvalue(), b"", self.outbl

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> _CommandReply:
        dec = front_decoder(cls, front)
        r = dec.s32()
        rs = dec.string()
        return cls(r, rs, data)


@register
@dataclass
class MCommand(_CommandRequest):
    """MCommand (97): a tell to an OSD, a targeted monitor, or the mgr by name."""

    TYPE = MsgType.COMMAND


@register
@dataclass
class MCommandReply(_CommandReply):
    """MCommandReply (98): the answer to an MCommand (same tid)."""

    TYPE = MsgType.COMMAND_REPLY


@register
@dataclass
class MMgrCommand(_CommandRequest):
    """MMgrCommand (0x709): a command to the active mgr (nil fsid from librados)."""

    TYPE = MsgType.MGR_COMMAND


@register
@dataclass
class MMgrCommandReply(_CommandReply):
    """MMgrCommandReply (0x70a): the answer to an MMgrCommand (same tid)."""

    TYPE = MsgType.MGR_COMMAND_REPLY





@register
@dataclass
class MPing(Message):
    """MPing (2): an empty front from the client; a monitor answers with an MPing whose
    front is one encoded string, the JSON of its health and mon_status (Monitor::
    handle_ping) -- what ``rados_ping_monitor`` returns. Header version 1."""

    TYPE = MsgType.PING

    payload: Buffer = b""

    def encode(self, features: int = 0) -> tuple[Buffer, Buffer, Buffer]:
        return self.payload, b"", b""

    @classmethod
    def decode(cls, version: int, front: memoryview, middle: memoryview,
               data: memoryview) -> MPing:
        return cls(front)

    def text(self) -> str:
        """The monitor's answer (empty for a request)."""
        if not len(self.payload):
            return ""
        return front_decoder(type(self), memoryview(self.payload)).string()

__all__ = ["MCommand", "MCommandReply", "MMgrCommand", "MMgrCommandReply", "MPing"]
