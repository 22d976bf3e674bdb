"""One object-class method call, built ahead and decoded after: the shape of every cls call.

Theory of operation: Ceph's ``cls_*_client`` functions come in pairs, ``<method>_start``
(encode the input, append ``exec(cls, method, in)`` to an ObjectOperation) and
``<method>_finish`` (decode the output, ``-EBADMSG`` if it does not decode). A
:class:`ClsCall` holds both halves: the class and method names, the encoded input, whether
the method mutates the object (librados puts it in an ObjectWriteOperation, so the MOSDOp
carries the WRITE flag), and the function that turns the OSD's output bytes into a value.
Nothing here does I/O: librbd hands the calls to the Objecter, batching several calls on
one object into one compound MOSDOp (``get_mutable_metadata`` is one round trip), and
feeds each op's output back to :meth:`ClsCall.decode_reply`.

Replies are decoded the way Ceph's ``_finish`` functions decode them: from the front,
ignoring bytes a newer OSD might append after what the client knows. A reply that is short
or malformed raises :class:`DecodeError` (errno EBADMSG), which is cls_rbd_client's
``-EBADMSG``.

Mirrors: ceph src/cls/rbd/cls_rbd_client.cc, src/cls/lock/cls_lock_client.cc (the
_start/_finish pairs), src/osdc/Objecter.h ObjectOperation::call; kernel
net/ceph/cls_lock_client.c (ceph_osd_data + osd_req_op_cls_init).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from rbdpy.rados.proto import ops
from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import DecodeError

log = logging.getLogger(__name__)

T = TypeVar("T")

ReplyFn = Callable[[Decoder], T]
"""Reads one method's output from a Decoder positioned at the start of the output."""


def _no_reply(dec: Decoder) -> None:
    # Mutating methods return nothing a client reads (cls methods may still write an
    # empty or informational bufferlist; librbd never looks at it).
    return None


@dataclass(frozen=True, slots=True)
class ClsCall(Generic[T]):
    """One ``CALL cls.method(indata)`` and how to read its output.

    :ivar cls: the object class ("rbd", "lock").
    :ivar method: the class method name, exactly as Ceph registers it.
    :ivar indata: the encoded input bufferlist.
    :ivar reply: reads the method's output; ``None``-returning for mutating methods.
    :ivar write: True for methods librados sends in an ObjectWriteOperation.
    """

    cls: str
    method: str
    indata: Buffer
    reply: Callable[[Decoder], T] = field(repr=False, compare=False)
    write: bool = False

    def decode_reply(self, outdata: Buffer) -> T:
        """Decode the OSD's output for this call (``<method>_finish``).

        :raises DecodeError: the output is short or malformed (EBADMSG).
        """
        dec = Decoder(outdata, f"{self.cls}.{self.method} reply")
        try:
            value = self.reply(dec)
        except DecodeError as e:
            if e.errno == errno.EBADMSG:
                raise
            # cls_rbd_client reports every decode failure as -EBADMSG, including a short
            # output (which the cursor reports as ERANGE).
            raise DecodeError(e.detail) from e
        if not dec.at_end():
            # Ceph's _finish functions stop reading after their fields; newer OSDs may add
            # some, so this is not an error.
            log.debug("%s.%s: %d unread reply bytes", self.cls, self.method, dec.remaining)
        return value

    def op(self) -> ops.OSDOp:
        """The OSD op for this call; its reply decoder returns :meth:`decode_reply`'s value."""

        def _decoder(rval: int, out: memoryview) -> Any:
            return self.decode_reply(out)

        return ops.call(self.cls, self.method, self.indata, _decoder)


def build(cls: str, method: str, encode: Callable[[Encoder], None] | None = None,
          reply: Callable[[Decoder], T] | None = None, *, write: bool = False) -> ClsCall[T]:
    """Make a :class:`ClsCall`: ``encode`` writes the input, ``reply`` reads the output."""
    enc = Encoder()
    if encode is not None:
        encode(enc)
    fn: Callable[[Decoder], Any] = _no_reply if reply is None else reply
    return ClsCall(cls, method, enc.getvalue(), fn, write)

