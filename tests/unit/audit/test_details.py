"""What `details` may hold: personal data is redacted or masked, ids and hashes pass unchanged."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from helixdesk.audit.details import scrub
from helixdesk.audit.errors import AuditInvalidError


def test_personal_values_are_redacted_and_long_digit_runs_masked():
    out = scrub(
        {
            "Phone": "13812345678",
            "text": "我的卡丢了",
            "id_number": "",
            "note": "卡号 6222021234567890，手机 13812345678",
            "params": {"card_last4": "6621", "amount": Decimal("3500.00"), "email": "a@b.cn"},
        }
    )
    assert out["Phone"] == "[redacted]" and out["text"] == "[redacted]"
    assert out["id_number"] == ""  # nothing to hide
    assert out["note"] == "卡号 ************7890，手机 *******5678"
    assert out["params"] == {"card_last4": "6621", "amount": "3500.00", "email": "[redacted]"}


def test_ids_hashes_and_times_pass_unchanged():
    value = {
        "conversation_id": "5f0c2a9e-1b7d-4c55-9a31-2e1f00d4c0de",
        "through_hash": "1234567890abcdef" * 4,
        "customer": "C000001",
        "at": datetime(2026, 11, 24, tzinfo=UTC),
        "count": 12345678,
    }
    out = scrub(value)
    assert out["conversation_id"] == value["conversation_id"] and out["through_hash"] == value["through_hash"]
    assert (
        out["customer"] == "C000001" and out["at"] == "2026-11-24T00:00:00+00:00" and out["count"] == 12345678
    )


def test_long_strings_are_shortened_and_odd_values_refused():
    assert len(scrub({"reason_code": "x" * 500})["reason_code"]) == 200
    with pytest.raises(AuditInvalidError):
        scrub({"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}})
    with pytest.raises(AuditInvalidError):
        scrub({"a": object()})


@pytest.mark.parametrize(
    "uuid",
    [
        "72c34f59-041a-4636-9572-538665231005",  # its last group is 12 digits
        "92598439-0f2a-4140-a72e-8d4c2849bd2c",  # its first group is 8 digits
        "12345678-1234-1234-1234-123456789012",  # every group digits only
    ],
)
def test_a_uuid_is_never_taken_for_a_number_to_mask(uuid):
    out = scrub({"had": uuid, "source": f"agent-insight:{uuid}", "note": f"{uuid} 手机 13812345678"})
    assert out["had"] == uuid and out["source"] == f"agent-insight:{uuid}"
    assert out["note"] == f"{uuid} 手机 *******5678"
