"""The customer profile on hand-made customers: each derivation, its thresholds, and that every
field says where it came from."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from helixdesk.bank.connector import Account, Card, Customer, Transaction
from helixdesk.lifecycle.config import LifecycleConfig, load_lifecycle_config, parse_lifecycle_config
from helixdesk.lifecycle.profile import ConversationSignals, age_band, build_profile
from helixdesk.lifecycle.profiles import NO_MODEL
from helixdesk.lifecycle.stages import lifecycle_stage
from helixdesk.packs.loader import load_pack
from tests.unit.lifecycle.builders import customer, edit, steady

CONFIG = load_lifecycle_config(load_pack("retail_bank"))
RULES = CONFIG.profile
TODAY = date(2026, 11, 23)
NO_SIGNALS = ConversationSignals()

PERSON = Customer(
    ref="C900001",
    name_zh="王芳",
    name_en="Wang Fang",
    gender="F",
    birth_date=date(1984, 5, 2),  # 42 on TODAY
    segment="affluent",
    value_tier="gold",
    risk_tolerance="moderate",
    preferred_language="zh-Hans",
    phone="+8613800000000",
    email=None,
    city="杭州",
    customer_since=date(2019, 3, 1),
    interests=("funds",),
)
SAVINGS = Account(
    "6217000000000001234",
    PERSON.ref,
    "savings",
    "CNY",
    Decimal("52000.00"),
    Decimal("52000.00"),
    "active",
    date(2019, 3, 1),
)
USD = Account(
    "6217000000000005678",
    PERSON.ref,
    "savings",
    "USD",
    Decimal("900.00"),
    Decimal("900.00"),
    "active",
    date(2020, 1, 1),
)
DEBIT = Card(
    PERSON.ref, SAVINGS.number, "debit", "借记卡", "1234", "active", None, Decimal("50000"), "12/29", False
)
CREDIT = Card(
    PERSON.ref,
    SAVINGS.number,
    "credit",
    "白金信用卡",
    "9999",
    "active",
    Decimal("50000"),
    Decimal("50000"),
    "12/29",
    True,
)


def txn(
    n: int, amount: str, category: str, *, card: str | None = "1234", status: str = "posted"
) -> Transaction:
    return Transaction(
        ref=f"TX{n}",
        account_number=SAVINGS.number,
        card_last4=card,
        occurred_at=datetime(2026, 11, 1 + n % 20, 12, tzinfo=UTC),
        amount=Decimal(amount),
        currency="CNY",
        merchant="m",
        category=category,
        channel="pos",
        status=status,
        description="",
    )


SPENDING = [
    txn(1, "-600.00", "travel"),
    txn(2, "-300.00", "dining"),
    txn(3, "-100.00", "groceries"),  # 10%: below min_category_share
    txn(4, "-5000.00", "shopping", status="failed"),  # a failed payment spent nothing
    txn(5, "12000.00", "income", card=None),  # payroll is not spending
]


def build(
    *,
    person: Customer = PERSON,
    transactions: list[Transaction] | None = None,
    months: Any = None,
    signals: ConversationSignals = NO_SIGNALS,
    churn: dict[str, Any] | None = None,
    unavailable: dict[str, str] | None = NO_MODEL,
    config: LifecycleConfig = CONFIG,
) -> dict[str, Any]:
    months = steady(24) if months is None else months
    stage = lifecycle_stage(customer(months, tenure=60), config).to_dict()
    return build_profile(
        customer=person,
        accounts=[SAVINGS, USD],
        cards=[DEBIT, CREDIT],
        transactions=SPENDING if transactions is None else transactions,
        months=months,
        stage=stage,
        churn_risk=churn,
        churn_unavailable=unavailable,
        signals=signals,
        rules=config.profile,
        today=TODAY,
    )


def derived_fields(profile: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for key, value in profile.items():
        if isinstance(value, dict) and "value" in value:
            out.append((key, value))
        elif isinstance(value, dict):
            out += [(f"{key}.{k}", v) for k, v in value.items()]
    return out


def test_every_derived_field_says_where_it_came_from_and_why():
    fields = derived_fields(build())
    names = {name for name, _ in fields}
    assert names == {
        "demographics.age_band",
        "demographics.city",
        "products",
        "transactions.cross_border_remittance",
        "transactions.card_categories",
        "transactions.payroll",
        "transactions.cny_balance",
        "risk_tolerance",
        "interests",
        "language",
        "style",
        "value_tier",
        "stage",
        "churn_risk",
    }
    for name, f in fields:
        assert set(f) == {"value", "source", "why", "why_i18n"}, name
        assert f["source"] and f["why"], name
        # Said in the console's three languages: the English is `why`, the Chinese are worded.
        assert set(f["why_i18n"]) == {"en", "zh-Hans", "zh-Hant"}, name
        assert f["why_i18n"]["en"] == f["why"], name
        for script in ("zh-Hans", "zh-Hant"):
            assert re.search(r"[\u4e00-\u9fff]", f["why_i18n"][script]), (name, script)
            assert not re.search(
                r"[A-Za-z]{4,}", f["why_i18n"][script].replace("helixdesk lifecycle train", "")
            ), (
                name,
                script,
            )


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (18, "under_30"),
        (29, "under_30"),
        (30, "30_44"),
        (44, "30_44"),
        (45, "45_59"),
        (59, "45_59"),
        (60, "60_plus"),
        (95, "60_plus"),
    ],
)
def test_age_bands_follow_the_packs_boundaries(age, band):
    assert age_band(age, RULES.age_bands) == band


def test_demographics_come_from_the_banks_record():
    p = build()
    assert p["demographics"]["age_band"] == {
        "value": "30_44",
        "source": "bank:customer",
        "why": "born 1984: 42 years old",
        "why_i18n": {
            "en": "born 1984: 42 years old",
            "zh-Hans": "1984 年出生：42 岁",
            "zh-Hant": "1984 年出生：42 歲",
        },
    }
    assert p["demographics"]["city"]["value"] == "杭州"
    assert p["value_tier"]["value"] == "gold"
    assert p["language"]["value"] == "zh-Hans"


def test_products_held_and_whether_the_recent_transactions_used_them():
    products = build()["products"]
    by_ref = {p["ref"]: p for p in products["value"]}
    assert by_ref["****1234"]["kind"] in ("account", "card")
    assert [p["in_use"] for p in products["value"]] == [True, False, True, False]
    assert by_ref["****5678"]["transactions"] == 0  # the USD account had none
    assert by_ref["****9999"]["product"] == "credit_card"
    assert products["why"] == "4 products held, 2 used in the 5 recent transactions"


def test_card_spending_categories_by_share_without_failures_income_or_small_ones():
    categories = build()["transactions"]["card_categories"]
    assert categories["value"] == [{"category": "travel", "share": 0.6}, {"category": "dining", "share": 0.3}]
    assert categories["source"] == "bank:transactions"
    assert build(transactions=[])["transactions"]["card_categories"]["value"] == []


def test_frequent_cross_border_remittance_counts_the_last_six_months():
    two = edit(steady(24), slice(-2, None), remittances=1)
    three = edit(steady(24), slice(-3, None), remittances=1)
    long_ago = edit(steady(24), slice(-12, -7), remittances=5)
    assert build(months=two)["transactions"]["cross_border_remittance"]["value"] is False
    assert build(months=three)["transactions"]["cross_border_remittance"] == {
        "value": True,
        "source": "bank:monthly_activity",
        "why": "3 cross-border remittances in the last 6 months (frequent from 3 in 6)",
        "why_i18n": {
            "en": "3 cross-border remittances in the last 6 months (frequent from 3 in 6)",
            "zh-Hans": "最近 6 个月跨境汇款 3 笔（6 个月内达 3 笔即为频繁）",
            "zh-Hant": "最近 6 個月跨境匯款 3 筆（6 個月內達 3 筆即爲頻繁）",
        },
    }
    assert build(months=long_ago)["transactions"]["cross_border_remittance"]["value"] is False


def test_payroll_needs_two_of_the_last_three_months():
    assert build()["transactions"]["payroll"]["value"] is True
    one = edit(steady(24), slice(-2, None), payroll=False)
    assert build(months=one)["transactions"]["payroll"]["value"] is False
    assert build(months=edit(steady(24), -1, payroll=False))["transactions"]["payroll"]["value"] is True


def test_the_risk_tolerance_is_the_banks_and_never_raised():
    assert build()["risk_tolerance"] == {
        "value": "moderate",
        "source": "bank:customer",
        "why": "the bank's risk assessment, as recorded; never raised from behaviour",
        "why_i18n": {
            "en": "the bank's risk assessment, as recorded; never raised from behaviour",
            "zh-Hans": "银行记录的风险评估结果；不会根据客户行为调高",
            "zh-Hant": "銀行記錄的風險評估結果；不會根據客戶行爲調高",
        },
    }
    # A customer who spends on travel and asks about wealth products is still as the bank assessed.
    busy = build(
        transactions=[txn(1, "-90000.00", "travel")],
        signals=ConversationSignals(intents=("wealth_product_inquiry",), messages=3, average_length=30),
    )
    assert busy["risk_tolerance"]["value"] == "moderate"
    unassessed = build(person=replace(PERSON, risk_tolerance=""))["risk_tolerance"]
    assert unassessed["value"] == "conservative"
    assert unassessed["source"] == "default"


def test_interests_from_the_bank_spending_and_conversations_each_with_its_source():
    p = build(
        signals=ConversationSignals(
            intents=("cross_border_remittance", "greeting", "exchange_rate"), messages=2, average_length=12
        )
    )
    assert p["interests"]["value"] == [
        {"interest": "funds", "source": "bank:customer"},
        {"interest": "travel", "source": "bank:transactions"},  # the pack maps travel spending
        {"interest": "cross_border", "source": "conversations"},  # once, though two intents map to it
    ]
    assert "1 recorded by the bank, 1 from card spending, 1 from conversation topics" in p["interests"]["why"]
    # An interest the bank records already keeps the bank as its source.
    recorded = build(person=replace(PERSON, interests=("travel",)))
    assert recorded["interests"]["value"] == [{"interest": "travel", "source": "bank:customer"}]


@pytest.mark.parametrize(
    ("length", "messages", "expected"),
    [
        (8, 3, "concise"),
        (20, 3, "concise"),
        (21, 3, None),
        (59, 3, None),
        (60, 3, "chatty"),
        (200, 1, "chatty"),
    ],
)
def test_style_from_how_they_write(length, messages, expected):
    style = build(signals=ConversationSignals(messages=messages, average_length=length))["style"]
    assert style["value"] == expected
    assert style["source"] == "conversations"


def test_an_older_customer_needs_patience_however_they_write_and_no_messages_says_so():
    older = replace(PERSON, birth_date=date(1958, 1, 1))  # 68
    style = build(person=older, signals=ConversationSignals(messages=5, average_length=5))["style"]
    assert style["value"] == "needs_patience"
    assert style["source"] == "bank:customer"
    nothing = build()["style"]
    assert nothing["value"] is None and nothing["source"] == "conversations"
    assert nothing["why"] == "no messages of theirs to read yet"
    assert nothing["why_i18n"]["zh-Hans"] == "还没有客户本人的消息可供判断"


def test_the_stage_keeps_its_rule_and_explanation():
    dropping = edit(steady(24), slice(-3, None), transactions=5, logins=2)
    stage = build(months=dropping)["stage"]
    assert stage["source"] == "lifecycle:stages"
    assert stage["value"]["stage"] == "decline"
    assert stage["value"]["rule"] == "activity_drop"
    assert stage["why"] == stage["value"]["explanation"]


def test_without_a_model_the_churn_risk_is_null_with_the_reason():
    risk = build(unavailable=NO_MODEL)["churn_risk"]
    assert risk == {
        "value": None,
        "source": "lifecycle:churn_model",
        "why": NO_MODEL["en"],
        "why_i18n": NO_MODEL,
    }
    assert NO_MODEL["zh-Hant"] == "尚未訓練流失模型：請用 `helixdesk lifecycle train` 訓練"


def test_with_a_score_the_churn_risk_names_the_model_and_the_horizon():
    score = {"probability": 0.42, "band": "high", "reasons": [], "horizon_months": 3, "model_version": "v9"}
    risk = build(churn=score, unavailable=None)["churn_risk"]
    assert risk["value"] is score
    assert risk["why"] == "the churn model v9: the chance they churn within 3 months"
    assert risk["why_i18n"]["zh-Hans"] == "流失模型 v9：客户在 3 个月内流失的概率"


def test_the_pack_can_change_the_thresholds_and_bad_ones_are_refused():
    config = parse_lifecycle_config({"profile": {"frequent_remittances": 1, "age_bands": [40]}})
    one = edit(steady(24), -1, remittances=1)
    p = build(months=one, config=config)
    assert p["transactions"]["cross_border_remittance"]["value"] is True
    assert p["demographics"]["age_band"]["value"] == "40_plus"
    from helixdesk.core.errors import ConfigurationError

    for bad in ({"age_bands": [60, 30]}, {"concise_max_chars": 80, "chatty_min_chars": 40}, {"unknown": 1}):
        with pytest.raises(ConfigurationError) as e:
            parse_lifecycle_config({"profile": bad})
        assert e.value.code == "invalid_lifecycle_config"
