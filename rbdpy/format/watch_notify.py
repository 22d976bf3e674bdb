"""librbd's header watch/notify messages: what image clients tell each other.

Every client with an image open read-write watches the image header object. They talk with
notifies whose payload is a versioned ``NotifyMessage``: a le32 op code, then an op-specific
payload (lock ops name the sender as a ClientId, le64 instance id + le64 watch handle). The
lock owner answers requests in its notify ack with a ``ResponseMessage`` (an s32 result).
These are the pure encoders and decoders; rbdpy.librbd.image_ctx and exclusive_lock act on
them. Pinned by payloads librbd 16.2.15 sent on a real cluster (tests/vectors/librbd_notify).

Mirrors: ceph src/librbd/WatchNotifyTypes.h/.cc (NotifyOp, NotifyMessage, ClientId,
ResponseMessage).
"""

from __future__ import annotations

from rbdpy.rados.proto.denc import Decoder, Encoder
from rbdpy.rados.proto.errors import CephError


class NotifyOp:
    """``librbd::watch_notify::NotifyOp`` (le32 on the wire)."""

    ACQUIRED_LOCK = 0
    RELEASED_LOCK = 1
    REQUEST_LOCK = 2
    HEADER_UPDATE = 3


# Ops that are notifications rather than requests to the owner: ASYNC_PROGRESS,
# ASYNC_COMPLETE, QUIESCE, UNQUIESCE (the latter two go to every watcher; librbd acks them
# without a response message when nothing is to be quiesced).
NOT_PROXIED = frozenset({4, 5, 18, 19})

# NotifyMessage is ENCODE_START(7, 1) in Pacific; readers need compat <= 1.
_NOTIFY_MESSAGE_V = 7


def encode_notify(op: int, gid: int = 0, handle: int = 0, force: bool | None = None) -> bytes:
    """NotifyMessage { le32 op; payload }: lock ops carry ClientId (le64 gid, le64 handle),
    REQUEST_LOCK also ``bool force``; HEADER_UPDATE has no payload."""
    enc = Encoder()
    with enc.struct(_NOTIFY_MESSAGE_V, 1):
        enc.u32(op)
        if op in (NotifyOp.ACQUIRED_LOCK, NotifyOp.RELEASED_LOCK, NotifyOp.REQUEST_LOCK):
            enc.u64(gid)
            enc.u64(handle)
        if op == NotifyOp.REQUEST_LOCK:
            enc.bool_(bool(force))
    return enc.getvalue()


def decode_notify_op(payload: bytes) -> int | None:
    """The notify op of a NotifyMessage; None for an empty (legacy HEADER_UPDATE) or
    undecodable payload."""
    if not payload:
        return NotifyOp.HEADER_UPDATE
    try:
        dec = Decoder(payload, "librbd::watch_notify::NotifyMessage")
        with dec.struct("NotifyMessage", min_v=1, max_compat=1):
            return dec.u32()
    except CephError:
        return None


def encode_response(result: int) -> bytes:
    """ResponseMessage = envelope(1, 1) { s32 result }: the lock owner's ack payload."""
    enc = Encoder()
    with enc.struct(1, 1):
        enc.s32(result)
    return enc.getvalue()


def decode_response(payload: bytes) -> int | None:
    """The result of a ResponseMessage ack payload; None when empty or undecodable."""
    if not payload:
        return None
    try:
        dec = Decoder(payload, "librbd::watch_notify::ResponseMessage")
        with dec.struct("ResponseMessage", min_v=1, max_compat=1):
            return dec.s32()
    except CephError:
        return None


__all__ = ["NOT_PROXIED", "NotifyOp", "decode_notify_op", "decode_response", "encode_notify",
           "encode_response"]
