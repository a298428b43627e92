"""Codes the customer types, masking, HMACs and notifications (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from helixdesk.audit import AuditLog
from helixdesk.bank.connector import Customer
from helixdesk.core.errors import ConfigurationError, ValidationFailedError
from helixdesk.identity import (
    NoContactOnFileError,
    VerificationService,
    load_identity_policy,
    looks_like_code,
)
from helixdesk.identity.codes import code_hmac, codes_match, generate_code
from helixdesk.identity.service import _contact
from helixdesk.notifications import Notification, mask_destination


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123456", "123456"),
        ("验证码是 123 456", "123456"),
        ("my code is 123456", "123456"),
        ("My code is 123-456, thanks", "123456"),
        ("驗證碼：０４２１９８", "042198"),
        ("一二三四五六", "123456"),
        ("code: 001234.", "001234"),
        ("I didn't get a code", None),
        ("12345", None),
        ("my phone is 13812345678", None),
        ("123456 or maybe 654321", None),
        ("转账 5000 元", None),
    ],
)
def test_looks_like_code(text, expected):
    assert looks_like_code(text, 6) == expected


def test_looks_like_code_follows_the_length():
    assert looks_like_code("1234", 4) == "1234"
    assert looks_like_code("1234", 6) is None


def test_generated_codes_have_the_length_and_digits():
    codes = {generate_code(6) for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150  # random, not a constant


def test_hmac_binds_code_to_challenge_and_secret():
    h = code_hmac(b"k" * 32, "challenge-1", "123456")
    assert len(h) == 64 and "123456" not in h
    assert codes_match(b"k" * 32, "challenge-1", "123456", h)
    assert not codes_match(b"k" * 32, "challenge-1", "123457", h)
    assert not codes_match(b"k" * 32, "challenge-2", "123456", h)
    assert not codes_match(b"x" * 32, "challenge-1", "123456", h)


@pytest.mark.parametrize(
    ("channel", "destination", "masked"),
    [
        ("sms", "+8613812345678", "138****5678"),
        ("sms", "13812345678", "138****5678"),
        ("sms", "+85291234567", "+852 ****4567"),
        ("sms", "+85366123456", "+853 ****3456"),
        ("sms", "+14155550123", "+1 ****0123"),
        ("email", "li.na@example.com", "l***@example.com"),
    ],
)
def test_masking(channel, destination, masked):
    assert mask_destination(channel, destination) == masked


def test_notification_rejects_unknown_channel_and_naive_time():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    with pytest.raises(ValidationFailedError) as e:
        Notification(customer_ref="C1", channel="fax", destination="x", body="b", purpose="p", created_at=now)  # type: ignore[arg-type]
    assert e.value.code == "bad_channel"
    with pytest.raises(ValidationFailedError):
        Notification(
            customer_ref="C1",
            channel="sms",
            destination="x",
            body="b",
            purpose="p",
            created_at=datetime(2026, 1, 1),
        )


def _customer(phone: str, email: str | None) -> Customer:
    return Customer(
        ref="C9",
        name_zh="测试",
        name_en="Test",
        gender="F",
        birth_date=date(1990, 1, 1),
        segment="mass",
        value_tier="gold",
        risk_tolerance="balanced",
        preferred_language="en",
        phone=phone,
        email=email,
        city="上海",
        customer_since=date(2020, 1, 1),
        interests=(),
    )


def test_codes_go_to_the_phone_then_the_email_on_file():
    assert _contact(_customer("+8613812345678", "a@example.com")) == ("sms", "+8613812345678")
    assert _contact(_customer(" ", "a@example.com")) == ("email", "a@example.com")
    with pytest.raises(NoContactOnFileError) as e:
        _contact(_customer("", None))
    assert e.value.code == "no_contact_on_file"


def test_short_secret_is_refused():
    with pytest.raises(ConfigurationError) as e:
        VerificationService(
            sessions=None,  # type: ignore[arg-type]
            notifier=None,  # type: ignore[arg-type]
            bank=None,  # type: ignore[arg-type]
            policy=load_identity_policy(),
            secret="short",
            audit=AuditLog(key=b"k" * 32),
        )
    assert e.value.code == "secret_key_invalid"
