"""HMAC-SHA256 signatures of webhook bodies, both ways: checking a platform's requests, and signing
what is sent to its outbound URL.

The digest is HMAC-SHA256, keyed with the platform's shared secret, of the `signed` template with
`{body}` the raw body (bytes as received) and `{timestamp}` the timestamp header's value: by
default the body alone, or `{timestamp}.{body}` when the scheme has a timestamp header, so that
the timestamp cannot be changed without the secret. The header holds `prefix` + the digest in hex
or base64. A timestamp (whole seconds since the epoch) more than `tolerance_seconds` from the
server's clock is refused: an old request, even well signed, cannot be replayed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass

from helixdesk.channels.social.errors import SocialSignatureError, SocialStaleError

_SECONDS = re.compile(r"\d{1,12}")


@dataclass(frozen=True, slots=True)
class SignatureScheme:
    header: str
    encoding: str = "hex"  # "hex" or "base64"
    prefix: str = ""  # e.g. "sha256=" (Messenger's X-Hub-Signature-256)
    timestamp_header: str | None = None
    tolerance_seconds: int = 300
    signed: str = "{body}"

    def digest(self, secret: bytes, body: bytes, timestamp: str | None) -> bytes:
        before, after = self.signed.split("{body}")
        if timestamp is not None:
            before, after = before.replace("{timestamp}", timestamp), after.replace("{timestamp}", timestamp)
        return hmac.new(secret, before.encode() + body + after.encode(), hashlib.sha256).digest()

    def encode(self, digest: bytes) -> str:
        text = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()
        return self.prefix + text

    def sign(self, secret: bytes, body: bytes, now: float) -> dict[str, str]:
        """The headers that sign `body` (the signature, and the timestamp when the scheme has one)."""
        timestamp = str(int(now)) if self.timestamp_header else None
        headers = {self.header: self.encode(self.digest(secret, body, timestamp))}
        if self.timestamp_header and timestamp is not None:
            headers[self.timestamp_header] = timestamp
        return headers

    def verify(self, secret: bytes, headers: Mapping[str, str], body: bytes, now: float) -> None:
        """Refuse the request unless it is signed with `secret` (and, with a timestamp header, recent).

        `headers` are keyed in lower case."""
        timestamp = None
        if self.timestamp_header:
            timestamp = headers.get(self.timestamp_header.lower())
            if timestamp is None or not _SECONDS.fullmatch(timestamp.strip()):
                raise SocialStaleError(f"the {self.timestamp_header} header must hold the time in seconds")
            timestamp = timestamp.strip()
        given = self._decode(headers.get(self.header.lower()))
        if not hmac.compare_digest(given, self.digest(secret, body, timestamp)):
            raise SocialSignatureError(f"the {self.header} signature does not match the shared secret")
        if timestamp is not None and abs(now - int(timestamp)) > self.tolerance_seconds:
            raise SocialStaleError(
                f"the request's time is more than {self.tolerance_seconds} s from the server's clock"
            )

    def _decode(self, value: str | None) -> bytes:
        if value is None:
            raise SocialSignatureError(f"the request has no {self.header} header")
        value = value.strip()
        if not value.startswith(self.prefix):
            raise SocialSignatureError(f"the {self.header} header must start with {self.prefix!r}")
        text = value[len(self.prefix) :]
        try:
            if self.encoding == "hex":
                return bytes.fromhex(text)
            return base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error) as e:
            raise SocialSignatureError(f"the {self.header} header is not {self.encoding}") from e
