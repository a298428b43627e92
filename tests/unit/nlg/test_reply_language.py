"""Replies are entirely in the customer's language and script, and nothing internal leaks.

Every template key of the pack, in zh-Hans, zh-Hant and en (every style), and the labels tables are
scanned for the other script, Chinese in English and code-like text (`tests/replyscan.py`); then
real action results are rendered in the three languages and scanned the same way.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import yaml

from helixdesk.actions.credit import compute_quote
from helixdesk.actions.policies import load_action_policies
from helixdesk.actions.transfers import FAILURE_CODES
from helixdesk.bank.connector import InstallmentPlan
from helixdesk.bank.seed import _FAIL_REASONS, _MERCHANTS, _PAYEES
from helixdesk.core.languages import LANGUAGES
from helixdesk.edge.wiring import PackConfig
from helixdesk.nlg.names import name_in, split_bilingual
from helixdesk.packs.loader import load_pack
from tests.replyscan import literal_text, problems

PACK = load_pack("retail_bank")
TEMPLATES = PACK.path / "nlg" / "templates"


@pytest.fixture(scope="module")
def config() -> PackConfig:
    return PackConfig.load(PACK, code_length=6)


def _policy_labels() -> tuple[str, ...]:
    policies = load_action_policies(PACK)
    return tuple(x for x in (policies.fees.label, policies.disputes.label, policies.bank.label) if x)


def _sources() -> list[tuple[str, str, str, str]]:
    out = []
    for path in sorted(TEMPLATES.glob("*.yaml")):
        for key, by_language in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            for language, value in by_language.items():
                variants = value if isinstance(value, dict) else {"warm": value}
                for style, text in variants.items():
                    out.append((key, language, str(style), str(text)))
    return out


SOURCES = _sources()


def test_the_scan_sees_every_key_in_every_language():
    keys = {k for k, *_ in SOURCES}
    assert len(keys) > 100
    for key in keys:
        assert {lang for k, lang, *_ in SOURCES if k == key} == set(LANGUAGES), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_template_is_in_its_own_language_and_script_with_no_code(language):
    bad = {
        f"{key} ({style})": found
        for key, lang, style, text in SOURCES
        if lang == language and (found := problems(literal_text(text), language, foreign=_policy_labels()))
    }
    assert bad == {}


def test_the_handoff_labels_table_is_in_each_language():
    data = yaml.safe_load((PACK.path / "handoff" / "labels.yaml").read_text(encoding="utf-8"))
    bad = {}
    for group, entries in data.items():
        for code, words in (entries or {}).items():
            if not isinstance(words, dict):
                continue
            for language, text in words.items():
                # `{name}` and `{from_queue}` are filled in by the code (str.format), not shown.
                found = problems(re.sub(r"\{[a-z_]+\}", " ", str(text)), language)
                if found:
                    bad[f"{group}.{code} ({language})"] = found
    assert bad == {}


def test_the_scan_catches_what_it_is_for():
    assert problems("这笔转账", "zh-Hant") and problems("這筆轉賬", "zh-Hans")
    assert problems("Your transfer to 王建国", "en")
    assert not problems("Your transfer to 王建国", "en", allowed=("王建国",))
    assert problems("（= round_half_up_cent(fee_exact)）", "zh-Hans")
    assert problems("金额 {amount}", "zh-Hans") and problems("fee = 3", "en")
    assert problems("按Example policy of the retail_bank pack计算", "zh-Hans", foreign=_policy_labels())


def _label_codes(config: PackConfig, group: str) -> set[str]:
    return {k.split(".", 2)[2] for k in config.templates.keys if k.startswith(f"label.{group}.")}


def test_every_code_a_reply_shows_has_a_label_in_each_language(config):
    failures = {code for _, code, _ in FAILURE_CODES} | {"other"}
    steps = {step for *_, step in FAILURE_CODES} | {"human_agent"}
    assert failures <= _label_codes(config, "failure")
    assert steps <= _label_codes(config, "step")
    assert {category for _, category, *_ in _MERCHANTS} | {"income"} <= _label_codes(config, "category")
    for group, codes in (("failure", failures), ("step", steps)):
        for code in codes:
            for language in LANGUAGES:
                text = config.templates.render(f"label.{group}.{code}", language=language)
                assert text and text != code and not problems(text, language), (group, code, language)


# --- names from the bank's data ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("星巴克 Starbucks", "星巴克", "Starbucks"),
        ("Uniqlo 优衣库", "Uniqlo 优衣库", "Uniqlo"),
        ("iPhone 分期 iPhone installment", "iPhone 分期", "iPhone installment"),
        (
            "收款行系统维护 / the receiving bank is under maintenance",
            "收款行系统维护",
            "the receiving bank is under maintenance",
        ),
        ("王建国", "王建国", ""),
        ("Apple.com/bill", "", "Apple.com/bill"),
    ],
)
def test_a_bilingual_name_is_split_into_its_languages(text, zh, en):
    assert split_bilingual(text) == (zh, en)


def test_every_name_in_the_demo_bank_reads_in_each_language(config):
    names = [m for m, *_ in _MERCHANTS] + [bank for _, bank in _PAYEES] + list(_FAIL_REASONS)
    names += [
        "白金信用卡 Platinum Credit",
        "金卡 Gold Credit",
        "旅行信用卡 Travel Credit",
        "借记卡 Debit Card",
    ]
    names += ["iPhone 分期 iPhone installment", "账单分期 Bill installment", "家电分期 Appliance installment"]
    names += ["旅游分期 Travel installment", "工资代发 Payroll"]
    for text in names:
        for language in LANGUAGES:
            shown = config.templates.name(text, language)
            assert shown and not problems(shown, language), (text, language, shown)
    assert config.templates.name("家电分期 Appliance installment", "zh-Hant") == "家電分期"
    assert config.templates.name("中国工商银行", "en") == "Industrial and Commercial Bank of China"
    assert name_in("账单分期 Bill installment", "zh-Hant") == "賬單分期"


# --- real results rendered --------------------------------------------------------------------------


def _quote() -> dict:
    plan = InstallmentPlan(
        ref="IP1",
        card_last4="1234",
        description="家电分期 Appliance installment",
        principal=Decimal("8999.00"),
        periods=12,
        periods_paid=5,
        fee_rate_per_period=Decimal("0.0060"),
        start_date=date(2026, 6, 1),
        currency="CNY",
        status="active",
    )
    policies = load_action_policies(PACK)
    quote = compute_quote(
        plan,
        policies.fees.installment_prepayment,
        effective_date=date(2026, 11, 24),
        policy_label=policies.fees.label,
    )
    return {"quotes": [quote.model_dump(mode="json")]}


def _failed_transfer(reason: str, code: str, step: str) -> dict:
    return {
        "transfers": [
            {
                "ref": "TR1",
                "payee_name": "王建国",
                "payee_bank": "中国工商银行",
                "payee_account_tail": "1234",
                "amount": "5000.00",
                "currency": "CNY",
                "kind": "domestic",
                "status": "returned",
                "created_at": "2026-12-02T01:48:00+00:00",
                "expected_arrival": "2026-12-02T03:48:00+00:00",
                "completed_at": None,
                "overdue": False,
                "failure_reason": reason,
                "failure_code": code,
                "funds": "returned_to_account",
                "next_steps": [step],
                "matched_on": [],
            }
        ]
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_instalment_quote_shows_its_formula_in_words(config, language):
    text = config.templates.render("result.quote_installment_prepayment", language=language, result=_quote())
    assert problems(text, language, foreign=_policy_labels()) == []
    assert "377.96" in text  # 8,999.00 x 0.60% x 7 instalments left = 377.958, to the cent
    assert "0.60%" in text and "8,999.00" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("reason", _FAIL_REASONS)
def test_a_failed_transfer_gives_its_reason_in_the_reply_language(config, language, reason):
    from helixdesk.actions.transfers import failure_code

    code, step = failure_code(reason)
    assert code is not None and step is not None
    result = _failed_transfer(reason, code, step)
    text = config.templates.render("result.trace_transfer", language=language, result=result)
    assert problems(text, language, allowed=("王建国",)) == [], text
    assert config.templates.render(f"label.failure.{code}", language=language) in text
    # The bank's own text (Simplified Chinese and English) is not pasted into the reply.
    chinese, english = reason.split(" / ")
    assert chinese not in text or language == "zh-Hans"
    assert english not in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_conversion_from_cny_states_the_rule_the_rate_and_the_sum(config, language):
    result = {
        "currency": "USD",
        "base": "CNY",
        "buy": "7.1012",
        "sell": "7.1308",
        "as_of": datetime(2026, 12, 3, 1, 30, tzinfo=UTC).isoformat(),
        "source": "demo",
        "stale": False,
        "age_hours": "1.0",
        "max_age_hours": 24,
        "amount": None,
        "base_if_customer_sells": None,
        "base_if_customer_buys": None,
        "base_amount": "10000",
        "foreign_if_customer_buys": "1402.37",
        "foreign_if_customer_sells": "1408.21",
        "step": "0.01",
        "base_step": "0.01",
    }
    text = config.templates.render("result.get_exchange_rate", language=language, result=result)
    assert problems(text, language) == [], text
    assert "1,402.37" in text and "1,408.21" in text and "7.1308" in text and "7.1012" in text
    assert "09:30" in text  # 01:30 UTC in Beijing time
    words = {"zh-Hans": ("北京时间", "卖出价", "买入价"), "zh-Hant": ("北京時間", "賣出價", "買入價")}
    words["en"] = ("Beijing time", "sell rate", "buy rate")
    assert all(w in text for w in words[language])


def test_the_time_zone_is_named_in_the_reply_language():
    hk = PackConfig.load(PACK, code_length=6, timezone="Asia/Hong_Kong").templates
    text = hk.render(
        "result.get_exchange_rate",
        language="zh-Hant",
        result={
            "currency": "HKD", "base": "CNY", "buy": "0.9118", "sell": "0.9154",
            "as_of": "2026-12-03T01:30:00+00:00", "source": "demo", "stale": False, "age_hours": "1",
            "max_age_hours": 24, "amount": None, "base_if_customer_sells": None,
            "base_if_customer_buys": None, "base_amount": None, "foreign_if_customer_buys": None,
            "foreign_if_customer_sells": None, "step": "0.01", "base_step": "0.01",
        },
    )  # fmt: skip
    assert "香港時間" in text and "09:30" in text and "港元" in text


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("zh-Hans", "收款行说明：账户冻结"),
        ("zh-Hant", "收款銀行說明：賬戶凍結"),
        ("en", "the receiving bank said: account frozen"),
    ],
)
def test_a_reason_the_pack_has_no_label_for_is_quoted_in_the_reply_language(config, language, shown):
    from helixdesk.actions.transfers import failure_code

    reason = "账户冻结 / account frozen"
    code, step = failure_code(reason)
    assert (code, step) == ("other", "human_agent")
    text = config.templates.render(
        "result.trace_transfer", language=language, result=_failed_transfer(reason, code, step)
    )
    assert shown in text, text
    assert problems(text, language, allowed=("王建国",)) == [], text
