"""cephx cryptography: CryptoKey, AES-128-CBC with Ceph's fixed IV, and the "encrypt" envelope.

Theory of operation: every secret cephx handles (the keyring secret, ticket session keys) is a
``CryptoKey``: ``le16 type | utime created | le16 len | key bytes``; the keyring stores it in
base64. cephx never uses AES directly. It "encrypts" a payload by prefixing the header
``u8 1 | le64 CEPHX_ENC_MAGIC``, padding PKCS#7 style (always 1..16 bytes) and running
AES-128-CBC with the constant IV ``b"cephsageyudagreg"``. Decryption is the mirror image, and
the magic is the only integrity check cephx has: a wrong key yields garbage, the magic does not
match, and we report "could not decrypt" (EACCES). Inside messages the ciphertext is almost
always a ``bufferlist`` (``le32 len | ciphertext``); ``encode_encrypt``/``decode_decrypt``
handle that wrapping, ``encrypt``/``decrypt`` the raw form (authorizer challenges use it).

Nothing here logs or formats key bytes: ``CryptoKey.__repr__`` hides the secret, and every
failure message is the same fixed text so it cannot become a padding or key oracle.

Mirrors: ceph src/auth/Crypto.{h,cc} (CryptoKey::encode/decode, CryptoAESKeyHandler),
src/auth/cephx/CephxProtocol.h (encode_encrypt, decode_decrypt, CEPHX_ENC_MAGIC);
kernel net/ceph/crypto.c (ceph_crypto_key_decode, ceph_aes_crypt), net/ceph/auth_x.c
(ceph_x_encrypt, ceph_x_decrypt).
"""

from __future__ import annotations

import base64
import binascii
import errno
import struct
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rbdpy.rados.proto.bytestr import Buffer
from rbdpy.rados.proto.denc import Decoder, Encoder, decode_all
from rbdpy.rados.proto.errors import AuthError

# Fixed IV of every cephx AES-CBC operation (ceph src/auth/Crypto.cc CEPH_AES_IV; kernel
# net/ceph/crypto.c aes_iv). Fixed IV + CBC is weak, but it is the protocol.
CEPH_AES_IV = b"cephsageyudagreg"
AES_BLOCK_LEN = 16
AES_KEY_LEN = 16

# ceph src/auth/cephx/CephxProtocol.h / kernel auth_x_protocol.h.
CEPHX_ENC_MAGIC = 0xFF009CAD8826AA55
# u8 struct_v (1) | le64 magic (kernel struct ceph_x_encrypt_header, packed).
_ENC_HEADER = struct.Struct("<BQ")
_ENC_HEADER_BYTES = _ENC_HEADER.pack(1, CEPHX_ENC_MAGIC)
_U32 = struct.Struct("<I")

# One message for every decryption failure: distinguishing "bad length", "bad padding" and
# "bad magic" to a peer would be an oracle, and none of them can name key bytes.
_DECRYPT_FAILED = "could not decrypt: wrong key or damaged ciphertext"


class CryptoType(IntEnum):
    """CEPH_CRYPTO_* (ceph src/include/ceph_fs.h)."""

    NONE = 0
    AES = 1


@dataclass(frozen=True)
class CryptoKey:
    """``CryptoKey``: a typed secret with its creation time.

    Wire form (ceph ``CryptoKey::encode``; kernel ``ceph_crypto_key_decode``):
    ``le16 type | utime created | le16 len | len bytes``. No struct_v: the layout has never
    changed. Type NONE with an empty secret appears in Ceph's own test instances; only AES
    keys of 16 bytes can encrypt.
    """

    CEPH_TYPE = "CryptoKey"

    type: int
    created: tuple[int, int]
    secret: bytes = field(repr=False)

    def __repr__(self) -> str:
        # Never show key material, not even in tracebacks.
        return f"CryptoKey(type={self.type}, created={self.created}, len={len(self.secret)})"

    def encode(self, enc: Encoder) -> None:
        enc.u16(self.type)
        enc.utime(self.created)
        enc.u16(len(self.secret))
        enc.raw(self.secret)

    @classmethod
    def decode(cls, dec: Decoder) -> CryptoKey:
        ktype = dec.u16()
        created = dec.utime()
        n = dec.u16()
        return cls(ktype, created, bytes(dec.raw(n)))

    @classmethod
    def from_base64(cls, text: str | bytes) -> CryptoKey:
        """The ``key = ...`` value of a keyring (or ``ceph auth get-key`` output).

        :raises AuthError: not base64, not a CryptoKey, or not a 16-byte AES key (EINVAL).
        """
        try:
            raw = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise AuthError("keyring secret is not valid base64", errno.EINVAL) from None
        try:
            key = decode_all(raw, cls.decode, cls.CEPH_TYPE)
        except Exception:
            raise AuthError("keyring secret is not a valid CryptoKey", errno.EINVAL) from None
        key.check_aes()
        return key

    def to_base64(self) -> str:
        enc = Encoder()
        self.encode(enc)
        return base64.b64encode(enc.getvalue()).decode("ascii")

    def check_aes(self) -> None:
        """Insist this key can be used for cephx AES (ceph ``CryptoAES::validate_secret``).

        :raises AuthError: EINVAL (kernel ``ceph_crypto_key_decode`` returns -ENOTSUPP for
            other types; a wrong length is equally unusable).
        """
        if self.type != CryptoType.AES:
            raise AuthError(f"unsupported key type {self.type}", errno.EINVAL)
        if len(self.secret) != AES_KEY_LEN:
            raise AuthError(f"AES key must be {AES_KEY_LEN} bytes, got {len(self.secret)}",
                            errno.EINVAL)


def _cipher(key: CryptoKey) -> Cipher[modes.CBC]:
    key.check_aes()
    return Cipher(algorithms.AES(key.secret), modes.CBC(CEPH_AES_IV))


def aes_cbc_encrypt(key: CryptoKey, plaintext: Buffer) -> bytes:
    """AES-128-CBC with the fixed IV and PKCS#7 padding that is always added (1..16 bytes)."""
    pad = AES_BLOCK_LEN - len(plaintext) % AES_BLOCK_LEN
    enc = _cipher(key).encryptor()
    return enc.update(bytes(plaintext) + bytes([pad]) * pad) + enc.finalize()


def aes_cbc_decrypt(key: CryptoKey, ciphertext: Buffer) -> bytes:
    """Inverse of :func:`aes_cbc_encrypt`.

    The padding byte is checked for range only, as the kernel does (``ceph_aes_crypt``);
    Ceph itself only clamps it. The cephx magic, checked by :func:`decrypt`, is what really
    detects a wrong key.

    :raises AuthError: ciphertext not a positive multiple of 16, or bad padding length.
    """
    n = len(ciphertext)
    if n == 0 or n % AES_BLOCK_LEN:
        raise AuthError(_DECRYPT_FAILED)
    dec = _cipher(key).decryptor()
    plain = dec.update(bytes(ciphertext)) + dec.finalize()
    pad = plain[-1]
    if not 1 <= pad <= AES_BLOCK_LEN:
        raise AuthError(_DECRYPT_FAILED)
    return plain[:-pad]


def encrypt(key: CryptoKey, payload: Buffer) -> bytes:
    """cephx "encrypt": raw ciphertext of ``u8 1 | le64 CEPHX_ENC_MAGIC | payload``.

    This is ceph's ``encode_encrypt_enc_bl`` (no length word).
    """
    return aes_cbc_encrypt(key, _ENC_HEADER_BYTES + bytes(payload))


def decrypt(key: CryptoKey, blob: Buffer) -> bytes:
    """cephx "decrypt" of raw ciphertext; returns the payload after the checked header.

    This is ceph's ``decode_decrypt_enc_bl``.

    :raises AuthError: EACCES "could not decrypt ..." on any failure (wrong key, bad magic,
        truncated ciphertext). The message never contains key or plaintext bytes.
    """
    plain = aes_cbc_decrypt(key, blob)
    if len(plain) < _ENC_HEADER.size:
        raise AuthError(_DECRYPT_FAILED)
    struct_v, magic = _ENC_HEADER.unpack_from(plain, 0)
    if struct_v != 1 or magic != CEPHX_ENC_MAGIC:
        raise AuthError(_DECRYPT_FAILED)
    return plain[_ENC_HEADER.size :]


def encode_encrypt(key: CryptoKey, payload: Buffer) -> bytes:
    """``le32 len | encrypt(key, payload)``: ceph ``encode_encrypt``, kernel ``ceph_x_encrypt``."""
    ct = encrypt(key, payload)
    return _U32.pack(len(ct)) + ct


def decode_decrypt(dec: Decoder, key: CryptoKey) -> bytes:
    """Read ``le32 len | ciphertext`` at the cursor and decrypt it (ceph ``decode_decrypt``).

    :raises DecodeError: the length word runs past the buffer.
    :raises AuthError: the ciphertext does not decrypt under ``key``.
    """
    return decrypt(key, dec.blob_view())
