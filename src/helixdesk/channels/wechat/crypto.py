"""WeChat's message crypto ("safe mode"), for official accounts and WeCom alike.

- The EncodingAESKey is 43 base64 characters: with "=" it decodes to the 32-byte AES-256 key,
  whose first 16 bytes are the CBC IV.
- Plain text = 16 random bytes + 4-byte big-endian length + message + app id (or corp id), padded
  with PKCS#7 to a multiple of 32 bytes (not 16), encrypted with AES-256-CBC and base64-encoded.
- `msg_signature` = SHA-1 of the sorted, concatenated token, timestamp, nonce and the ciphertext;
  the plain callback `signature` is the same without the ciphertext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from helixdesk.channels.wechat.errors import (
    WeChatAppIdMismatchError,
    WeChatDecryptError,
    WeChatSignatureError,
)
from helixdesk.core.errors import ConfigurationError

BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16


def signature(*parts: str) -> str:
    """SHA-1 of the parts sorted and concatenated (WeChat's signature scheme)."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def check_signature(expected: str, *parts: str) -> None:
    # As bytes: a signature with characters outside ASCII is refused, not a TypeError.
    if not hmac.compare_digest(signature(*parts).encode(), expected.lower().encode()):
        raise WeChatSignatureError("the signature does not match this account's token")


def aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise ConfigurationError("a WeChat EncodingAESKey has 43 characters", code="wechat_bad_aes_key")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as e:
        raise ConfigurationError("the WeChat EncodingAESKey is not base64", code="wechat_bad_aes_key") from e
    if len(key) != 32:
        raise ConfigurationError(
            "the WeChat EncodingAESKey does not make 32 bytes", code="wechat_bad_aes_key"
        )
    return key


class MessageCrypto:
    """Encrypts and decrypts one account's messages; `app_id` is the appid or the WeCom corpid."""

    def __init__(self, *, token: str, encoding_aes_key: str, app_id: str) -> None:
        self.token = token
        self.app_id = app_id
        self._key = aes_key(encoding_aes_key)

    def encrypt(self, text: str, *, random: bytes | None = None) -> str:
        body = text.encode()
        plain = (random or os.urandom(16)) + struct.pack(">I", len(body)) + body + self.app_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        enc = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(enc.update(plain) + enc.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        try:
            data = base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError) as e:
            raise WeChatDecryptError("the encrypted message is not base64") from e
        if not data or len(data) % 16:
            raise WeChatDecryptError("the encrypted message is not whole AES blocks")
        dec = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        plain = dec.update(data) + dec.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad or len(plain) - pad < 20:
            raise WeChatDecryptError("the decrypted message has bad padding (wrong EncodingAESKey?)")
        content = plain[16:-pad]
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise WeChatDecryptError("the decrypted message's length field is wrong")
        app_id = content[4 + length :].decode(errors="replace")
        if not hmac.compare_digest(app_id.encode(), self.app_id.encode()):
            raise WeChatAppIdMismatchError("the message is for another official account or corp")
        try:
            return content[4 : 4 + length].decode()
        except UnicodeDecodeError as e:
            raise WeChatDecryptError("the decrypted message is not UTF-8") from e

    def msg_signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        return signature(self.token, timestamp, nonce, encrypted)

    def check(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        check_signature(msg_signature, self.token, timestamp, nonce, encrypted)
