"""msgr2.1 secure mode: AES-128-GCM keys, nonce counters and the encrypted frame layout.

Theory of operation: once AUTH_DONE selects SECURE, both directions encrypt every frame
(starting with AUTH_SIGNATURE). The 64-byte connection secret from cephx gives the key
(bytes 0..16), the client's receive nonce (16..28) and its send nonce (28..40); the server
uses the two nonces crossed. A nonce is ``le32 fixed | le64 counter``; the counter goes up by
one after every GCM operation (msgr2.1 -- msgr2.0 bumped the 32-bit half instead and could
wrap after 2**32 frames). A sender refuses to reuse its initial nonce ("out of nonces").

A frame is encrypted in up to three independent GCM operations, each with no AAD and its
own 16-byte tag:

* block A (always): ``preamble(32) | first 48 bytes of segment 0, zero-padded``;
* block B (segment 0 longer than 48): the rest of segment 0, zero-padded to 16;
* block C (more than one segment): every further segment zero-padded to 16, then a 16-byte
  epilogue (late_status + 15 zeros).

So a control frame of <= 48 bytes costs one nonce, a longer one two, and a MESSAGE frame
two (its 41-byte header2 always fits block A) or one if front, middle and data are empty.
The preamble keeps its own crc, checked after decryption. Lengths in the preamble are the
logical (unpadded) ones.

:class:`SecureTx` assembles frames; :class:`SecureRx` is the receive-side
:class:`~rbdpy.rados.proto.msgr2.frames.FrameMode` the frame decoder switches to.

Mirrors: ceph src/msg/async/crypto_onwire.cc (AES128GCM_OnWireTxHandler/RxHandler,
nonce_t, rxtx_t::create_handler_pair), src/msg/async/frames_v2.cc (asm_secure_rev1,
disasm_first_secure_rev1, disasm_remaining_secure_rev1); kernel net/ceph/messenger_v2.c
(setup_crypto, gcm_inc_nonce, prepare_head_secure_small/big, prepare_message_secure,
decrypt_preamble, decrypt_control_remainder, decrypt_tail).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rbdpy.rados.proto.bytestr import Buffer, Gather, Payload
from rbdpy.rados.proto.errors import (
    AuthError,
    BadAuthTagError,
    LocalProtocolError,
    RemoteProtocolError,
)
from rbdpy.rados.proto.msgr2.buffers import POOL_MIN_SIZE, alloc_segment
from rbdpy.rados.proto.msgr2.frames import (
    EPILOGUE_SECURE_LEN,
    GCM_BLOCK_LEN,
    GCM_TAG_LEN,
    LATE_STATUS_COMPLETE,
    PREAMBLE_INLINE_LEN,
    PREAMBLE_LEN,
    SEGMENT_ALIGNS,
    Preamble,
    encode_preamble,
    num_segments,
    pad16,
)

KEY_LEN = 16
NONCE_LEN = 12
# key + rx nonce + tx nonce; cephx hands out 64 bytes, the last 24 are unused.
MIN_SECRET_LEN = KEY_LEN + 2 * NONCE_LEN

# Block A on the wire: preamble + inline segment-0 bytes + tag (kernel CEPH_PREAMBLE_SECURE_LEN).
HEAD_ONWIRE_LEN = PREAMBLE_LEN + PREAMBLE_INLINE_LEN + GCM_TAG_LEN

_NONCE = struct.Struct("<IQ")  # ceph nonce_t {ceph_le32 fixed; ceph_le64 counter;} packed
_ZEROS = bytes(PREAMBLE_INLINE_LEN)
_U64_MASK = (1 << 64) - 1


class _GcmStream:
    """One direction's AES-128-GCM state: the key and the 96-bit nonce counter."""

    def __init__(self, key: bytes, nonce: bytes) -> None:
        if len(key) != KEY_LEN or len(nonce) != NONCE_LEN:
            raise LocalProtocolError("secure mode needs a 16-byte key and a 12-byte nonce")
        self._key = bytes(key)
        self._aead = AESGCM(self._key)
        fixed, counter = _NONCE.unpack(nonce)
        self._fixed: int = fixed
        self._counter: int = counter
        self._initial_counter: int = counter
        self._used_initial = False

    def __repr__(self) -> str:
        # Never show key or nonce material (it is derived from the session secret).
        return f"<{type(self).__name__}>"

    @property
    def operations(self) -> int:
        """GCM operations performed so far (the counter's distance from its start)."""
        return (self._counter - self._initial_counter) & _U64_MASK

    def _next_nonce(self, error: type[Exception]) -> bytes:
        # Ceph refuses to wrap around to the starting nonce (reset_tx_handler, "out of
        # nonces"): a repeated GCM nonce would leak the XOR of two plaintexts and the
        # authentication key.
        if self._counter == self._initial_counter:
            if self._used_initial:
                raise error("secure mode out of nonces")
            self._used_initial = True
        nonce = _NONCE.pack(self._fixed, self._counter)
        self._counter = (self._counter + 1) & _U64_MASK
        return nonce


class SecureTx(_GcmStream):
    """The sending half: seals frames (one GCM operation per block)."""

    def seal(self, plaintext: Buffer) -> bytes:
        """One GCM operation over one buffer; returns ciphertext || tag."""
        return self._aead.encrypt(self._next_nonce(LocalProtocolError), plaintext, None)

    def seal_parts(self, parts: Sequence[Buffer]) -> list[Buffer]:
        """One GCM operation over several buffers without joining them first.

        Large parts are encrypted into recycled buffers (see ``buffers``): fresh megabytes
        for every 4 MiB write would cost more in page faults than the encryption.

        :returns: ciphertext pieces followed by the 16-byte tag.
        """
        enc = Cipher(algorithms.AES(self._key),
                     modes.GCM(self._next_nonce(LocalProtocolError))).encryptor()
        out: list[Buffer] = []
        for p in parts:
            n = len(p)
            if n >= POOL_MIN_SIZE:
                # update_into wants room for one cipher block more than it writes
                obj, room = alloc_segment(n + GCM_BLOCK_LEN)
                k = enc.update_into(p, room)
                del room  # only the returned slice of ``obj`` may outlive this call
                out.append(memoryview(obj)[:k])
            elif n:
                out.append(enc.update(p))
        last = enc.finalize()
        if last:
            out.append(last)
        out.append(enc.tag)
        return out

    def assemble(self, tag: int, segments: Sequence[Payload],
                 aligns: Sequence[int] = SEGMENT_ALIGNS) -> list[Buffer]:
        """Lay out one secure-mode frame (ceph ``asm_secure_rev1``) as buffers to write."""
        lens = [len(s) for s in segments]
        n = num_segments(lens)
        preamble = encode_preamble(tag, lens[:n], aligns)
        first = segments[0]
        assert not isinstance(first, Gather), "the first segment is always one buffer"
        seg0 = memoryview(first).cast("B") if lens[0] else memoryview(b"")
        out: list[Buffer] = []
        if lens[0] <= PREAMBLE_INLINE_LEN:
            out.append(self.seal(
                b"".join((preamble, seg0, _ZEROS[: PREAMBLE_INLINE_LEN - lens[0]]))))
        else:
            out.append(self.seal(b"".join((preamble, seg0[:PREAMBLE_INLINE_LEN]))))
            rem = seg0[PREAMBLE_INLINE_LEN:]
            out.append(self.seal(b"".join((rem, bytes(pad16(len(rem)) - len(rem))))))
        if n == 1:
            return out  # no epilogue for single-segment frames
        parts: list[Buffer] = []
        for i in range(1, n):
            if lens[i]:
                seg = segments[i]
                if isinstance(seg, Gather):
                    parts.extend(seg.pieces)
                else:
                    parts.append(seg)
                if lens[i] % 16:
                    parts.append(bytes(pad16(lens[i]) - lens[i]))
        parts.append(bytes((LATE_STATUS_COMPLETE,)) + bytes(EPILOGUE_SECURE_LEN - 1))
        out.extend(self.seal_parts(parts))
        return out


class SecureRx(_GcmStream):
    """The receiving half; also the secure :class:`FrameMode` for the frame decoder."""

    head_len = HEAD_ONWIRE_LEN

    def open(self, block: Buffer) -> bytes:
        """One GCM operation: verify and decrypt ciphertext || tag.

        :raises BadAuthTagError: the tag does not verify (damaged or forged bytes).
        """
        nonce = self._next_nonce(RemoteProtocolError)
        try:
            return self._aead.decrypt(nonce, block, None)
        except InvalidTag:
            raise BadAuthTagError("bad GCM auth tag") from None

    # -- FrameMode -----------------------------------------------------------------------

    def open_head(self, head: memoryview) -> tuple[memoryview, memoryview]:
        plain = memoryview(self.open(head))
        return plain[:PREAMBLE_LEN], plain[PREAMBLE_LEN:]

    def rest_len(self, pre: Preamble) -> int:
        n = 0
        if pre.lens[0] > PREAMBLE_INLINE_LEN:
            n += pad16(pre.lens[0] - PREAMBLE_INLINE_LEN) + GCM_TAG_LEN
        if pre.num_segments > 1:
            n += sum(pad16(ln) for ln in pre.lens[1:]) + EPILOGUE_SECURE_LEN + GCM_TAG_LEN
        return n

    def open_rest(self, pre: Preamble, inline: memoryview,
                  rest: memoryview) -> tuple[list[memoryview], int]:
        view = memoryview(rest)
        l0 = pre.lens[0]
        off = 0
        if l0 <= PREAMBLE_INLINE_LEN:
            seg0 = inline[:l0]
        else:
            off = pad16(l0 - PREAMBLE_INLINE_LEN) + GCM_TAG_LEN
            seg0 = memoryview(b"".join((inline, self.open(view[:off]))))[:l0]
        segs = [seg0]
        if pre.num_segments == 1:
            return segs, LATE_STATUS_COMPLETE
        tail = memoryview(self.open(view[off:]))
        pos = 0
        for ln in pre.lens[1:]:
            segs.append(tail[pos:pos + ln])
            pos += pad16(ln)
        return segs, tail[pos]


    def open_rest_reused(self, pre: Preamble, inline: memoryview,
                         rest: memoryview) -> tuple[list[memoryview], int] | None:
        """:meth:`open_rest` decrypting into new buffers only (``rest`` is reused).

        Block C is decrypted in a streaming GCM operation straight into its segments:
        the (small) front and middle into one buffer, the data segment into a buffer of
        its own (a ``bytes`` object where possible, so a read can return it without a
        copy). The tag is checked at the end; on a bad tag the plaintext is dropped.
        """
        if pre.num_segments != 4:
            return None
        view = memoryview(rest)
        l0, l1, l2, l3 = pre.lens
        off = 0
        if l0 <= PREAMBLE_INLINE_LEN:
            seg0 = memoryview(bytes(inline[:l0]))
        else:
            off = pad16(l0 - PREAMBLE_INLINE_LEN) + GCM_TAG_LEN
            seg0 = memoryview(b"".join((inline, self.open(view[:off]))))[:l0]
        body = view[off:len(view) - GCM_TAG_LEN]
        tag = bytes(view[len(view) - GCM_TAG_LEN:])
        dec = Cipher(algorithms.AES(self._key),
                     modes.GCM(self._next_nonce(RemoteProtocolError), tag)).decryptor()
        p1, p2 = pad16(l1), pad16(l2)
        # update_into wants room for one cipher block more than it writes
        head = bytearray(p1 + p2 + GCM_BLOCK_LEN)
        dec.update_into(body[:p1 + p2], head)
        data, data_w = alloc_segment(l3)
        bulk = max(0, l3 - GCM_BLOCK_LEN)
        pos = p1 + p2
        if bulk:
            dec.update_into(body[pos:pos + bulk], data_w)
            pos += bulk
        tail = dec.update(body[pos:])  # the data's last bytes, its padding, the epilogue
        data_w[bulk:] = tail[:l3 - bulk]
        try:
            dec.finalize()
        except InvalidTag:
            raise BadAuthTagError("bad GCM auth tag") from None
        hv = memoryview(head)
        segs = [seg0, hv[:l1], hv[p1:p1 + l2], memoryview(data)]
        return segs, tail[len(tail) - EPILOGUE_SECURE_LEN]


def session_ciphers(connection_secret: bytes, *, server: bool = False
                    ) -> tuple[SecureRx, SecureTx]:
    """The (rx, tx) pair for one connection from its cephx connection secret.

    The client receives with secret[16:28] and sends with secret[28:40]; ``server=True``
    crosses them (ceph ``rxtx_t::create_handler_pair(..., crossed)``).

    :raises AuthError: the secret is too short for secure mode.
    """
    if len(connection_secret) < MIN_SECRET_LEN:
        raise AuthError(
            f"connection secret of {len(connection_secret)} bytes is too short for secure "
            f"mode (need {MIN_SECRET_LEN})")
    key = connection_secret[:KEY_LEN]
    rx_nonce = connection_secret[KEY_LEN:KEY_LEN + NONCE_LEN]
    tx_nonce = connection_secret[KEY_LEN + NONCE_LEN:MIN_SECRET_LEN]
    if server:
        rx_nonce, tx_nonce = tx_nonce, rx_nonce
    return SecureRx(key, rx_nonce), SecureTx(key, tx_nonce)
