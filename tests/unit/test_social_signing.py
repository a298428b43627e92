"""Webhook signatures: HMAC-SHA256 in hex or base64, with a prefix, over the body alone or over the
timestamp and the body; refusals of a bad signature and of a stale timestamp. The expected digests
are computed here with hmac directly, not with the product's code."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from helixdesk.channels.social.errors import SocialSignatureError, SocialStaleError
from helixdesk.channels.social.signing import SignatureScheme

SECRET = b"a-shared-secret-of-the-platform"
BODY = '{"text": "信用卡年费"}'.encode()
NOW = 1_764_641_700.0

HUB = SignatureScheme(header="X-Hub-Signature-256", encoding="hex", prefix="sha256=")
TIMED = SignatureScheme(
    header="X-Sig",
    encoding="base64",
    timestamp_header="X-Ts",
    tolerance_seconds=300,
    signed="{timestamp}.{body}",
)


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_hex_with_a_prefix_over_the_body():
    expected = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
    assert HUB.sign(SECRET, BODY, NOW) == {"X-Hub-Signature-256": expected}
    HUB.verify(SECRET, {"x-hub-signature-256": expected}, BODY, NOW)
    HUB.verify(SECRET, {"x-hub-signature-256": expected.upper().replace("SHA256=", "sha256=")}, BODY, NOW)


def test_base64_over_the_timestamp_and_the_body():
    digest = hmac.new(SECRET, b"1764641700." + BODY, hashlib.sha256).digest()
    headers = TIMED.sign(SECRET, BODY, NOW)
    assert headers == {"X-Sig": base64.b64encode(digest).decode(), "X-Ts": "1764641700"}
    TIMED.verify(SECRET, _lower(headers), BODY, NOW + 299)
    custom = SignatureScheme(header="X-Sig", timestamp_header="X-Ts", signed="v0:{timestamp}:{body}")
    digest_hex = hmac.new(SECRET, b"v0:1764641700:" + BODY, hashlib.sha256).hexdigest()
    custom.verify(SECRET, {"x-sig": digest_hex, "x-ts": "1764641700"}, BODY, NOW)


@pytest.mark.parametrize(
    "change",
    [
        lambda h, b: (h, b + b" "),  # the body was changed
        lambda h, b: ({**h, "x-hub-signature-256": h["x-hub-signature-256"][:-1] + "0"}, b),
        lambda h, b: ({**h, "x-hub-signature-256": h["x-hub-signature-256"][7:]}, b),  # no prefix
        lambda h, b: ({**h, "x-hub-signature-256": "sha256=zz"}, b),  # not hex
        lambda h, b: ({**h, "x-hub-signature-256": "sha256=é"}, b),  # not ASCII
        lambda h, b: ({}, b),  # no header
    ],
)
def test_a_bad_signature_is_refused(change):
    headers, body = change(_lower(HUB.sign(SECRET, BODY, NOW)), BODY)
    with pytest.raises(SocialSignatureError) as e:
        HUB.verify(SECRET, headers, body, NOW)
    assert e.value.code == "social_bad_signature" and e.value.http_status == 403


def test_another_secret_does_not_verify():
    headers = _lower(TIMED.sign(b"another-secret-of-someone-else", BODY, NOW))
    with pytest.raises(SocialSignatureError):
        TIMED.verify(SECRET, headers, BODY, NOW)


def test_a_stale_or_missing_timestamp_is_refused_and_a_changed_one_breaks_the_signature():
    headers = _lower(TIMED.sign(SECRET, BODY, NOW))
    for later in (NOW + 301, NOW - 301, NOW + 86400):
        with pytest.raises(SocialStaleError) as e:
            TIMED.verify(SECRET, headers, BODY, later)
        assert e.value.code == "social_stale_timestamp" and e.value.http_status == 403
    for ts in (None, "", "soon", "1.5", "-1", "1" * 13):
        bad = {k: v for k, v in headers.items() if k != "x-ts"}
        if ts is not None:
            bad["x-ts"] = ts
        with pytest.raises(SocialStaleError):
            TIMED.verify(SECRET, bad, BODY, NOW)
    # Replaying an old, well-signed request with a fresh timestamp: the signature no longer holds.
    with pytest.raises(SocialSignatureError):
        TIMED.verify(SECRET, {**headers, "x-ts": str(int(NOW) + 1000)}, BODY, NOW + 1000)
