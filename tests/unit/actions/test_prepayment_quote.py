"""Installment prepayment arithmetic with figures computed by hand (see the comments)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from helixdesk.actions.credit import (
    ROUNDING_CONVENTION,
    compute_quote,
    next_business_day,
    next_statement_date,
)
from helixdesk.actions.policies import BankPolicy, PrepaymentPolicy
from helixdesk.bank.connector import InstallmentPlan, Statement


def _plan(principal: str, periods: int, paid: int, rate: str) -> InstallmentPlan:
    return InstallmentPlan(
        ref="IP1",
        card_last4="1234",
        description="iPhone",
        principal=Decimal(principal),
        periods=periods,
        periods_paid=paid,
        fee_rate_per_period=Decimal(rate),
        start_date=date(2026, 6, 1),
        currency="CNY",
        status="active",
    )


def _steps(quote) -> dict[str, Decimal]:
    return {s.name: s.value for s in quote.formula.steps}


def test_remaining_fees_with_a_rounding_remainder():
    # 8999.00 / 12 = 749.9166… -> 749.91 per period; last period 8999.00 - 11 x 749.91 = 749.99.
    # Paid 5: repaid 3749.55, remaining 5249.45.
    # Fee: 8999.00 x 0.0065 x 7 = 409.4545 -> 409.45. Total 5249.45 + 409.45 = 5658.90.
    quote = compute_quote(
        _plan("8999.00", 12, 5, "0.0065"),
        PrepaymentPolicy(method="remaining_fees"),
        effective_date=date(2026, 11, 24),
        policy_label="example",
    )
    assert quote.per_period_principal == Decimal("749.91")
    assert quote.last_period_principal == Decimal("749.99")
    assert quote.principal_repaid == Decimal("3749.55")
    assert quote.remaining_principal == Decimal("5249.45")
    assert quote.periods_remaining == 7
    assert quote.fee == Decimal("409.45")
    assert quote.total_to_pay == Decimal("5658.90")
    assert _steps(quote)["fee_exact"] == Decimal("409.4545")
    assert quote.formula.inputs == {
        "principal": "8999.00",
        "periods": "12",
        "periods_paid": "5",
        "fee_rate_per_period": "0.0065",
    }
    assert quote.rounding_convention == ROUNDING_CONVENTION
    assert [s.name for s in quote.formula.steps][-1] == "total_to_pay"


def test_percent_of_remaining_principal_above_and_at_the_minimum():
    # Remaining 5249.45 x 0.03 = 157.4835 -> 157.48 (above the 100.00 minimum); total 5406.93.
    policy = PrepaymentPolicy(
        method="percent_of_remaining_principal", rate=Decimal("0.03"), minimum=Decimal("100")
    )
    quote = compute_quote(
        _plan("8999.00", 12, 5, "0.0065"), policy, effective_date=date(2026, 11, 24), policy_label="x"
    )
    assert quote.fee == Decimal("157.48")
    assert quote.total_to_pay == Decimal("5406.93")
    assert quote.formula.inputs["rate"] == "0.03"
    # 3000.00 / 6 = 500.00; paid 4 -> remaining 1000.00; 1000.00 x 0.03 = 30.00 < minimum 100.00.
    small = compute_quote(
        _plan("3000.00", 6, 4, "0.0060"), policy, effective_date=date(2026, 11, 24), policy_label="x"
    )
    assert small.remaining_principal == Decimal("1000.00")
    assert small.fee == Decimal("100.00")
    assert small.total_to_pay == Decimal("1100.00")


def test_half_up_rounding_happens_once_at_the_end():
    # 1001.00 / 3 = 333.666… -> 333.66 per period, last 333.68; paid 1 -> remaining 667.34.
    # Fee 1001.00 x 0.0025 x 2 = 5.005 -> 5.01 (half up; half-even would give 5.00). Total 672.35.
    quote = compute_quote(
        _plan("1001.00", 3, 1, "0.0025"),
        PrepaymentPolicy(method="remaining_fees"),
        effective_date=date(2026, 11, 24),
        policy_label="x",
    )
    assert quote.last_period_principal == Decimal("333.68")
    assert quote.remaining_principal == Decimal("667.34")
    assert _steps(quote)["fee_exact"] == Decimal("5.005")
    assert quote.fee == Decimal("5.01")
    assert quote.total_to_pay == Decimal("672.35")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 23), date(2026, 11, 24)),  # Monday -> Tuesday
        (date(2026, 11, 27), date(2026, 11, 30)),  # Friday -> Monday
        (date(2026, 11, 28), date(2026, 11, 30)),  # Saturday -> Monday
        (date(2026, 9, 30), date(2026, 10, 8)),  # holidays 1-7 October skipped
    ],
)
def test_next_business_day(today, expected):
    bank = BankPolicy(holidays=tuple(date(2026, 10, d) for d in range(1, 8)))
    assert next_business_day(today, bank) == expected


def test_next_statement_date():
    st = Statement(
        card_last4="1234",
        period="2026-11",
        statement_date=date(2026, 11, 5),
        due_date=date(2026, 11, 25),
        amount_due=Decimal(1),
        minimum_payment=Decimal(1),
        paid=Decimal(0),
        currency="CNY",
    )
    assert next_statement_date(date(2026, 11, 23), [st], "1234") == date(2026, 12, 5)
    assert next_statement_date(date(2026, 11, 3), [st], "1234") == date(2026, 11, 5)
    assert next_statement_date(date(2026, 12, 20), [st], "1234") == date(2027, 1, 5)
    assert next_statement_date(date(2026, 11, 3), [st], "9999") is None


def test_policies_load_from_the_pack_and_bad_files_are_refused(tmp_path):
    import shutil

    from helixdesk.actions.policies import load_action_policies
    from helixdesk.core.errors import ConfigurationError
    from helixdesk.packs.loader import Pack, load_pack

    pack = load_pack("retail_bank")
    policies = load_action_policies(pack)
    assert policies.fees.installment_prepayment.method == "remaining_fees"
    assert "example" in policies.fees.label.lower() and "example" in policies.disputes.label.lower()
    assert policies.disputes.rules[0].max_amount == Decimal("2000.00")
    shutil.copytree(pack.path / "policies", tmp_path / "policies")
    fees = tmp_path / "policies" / "fees.yaml"
    fees.write_text(fees.read_text(encoding="utf-8").replace("remaining_fees", "whatever"), encoding="utf-8")
    with pytest.raises(ConfigurationError) as e:
        load_action_policies(Pack(name="copy", path=tmp_path, config={}))
    assert e.value.code == "invalid_policy"
