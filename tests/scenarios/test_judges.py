"""The suite's own judges catch what they are meant to catch, and only that: invented numbers,
replies out of the customer's language or script, and malformed scenario files."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from helixdesk.bank.connector import Customer, Transaction
from helixdesk.simulation.bankdata import PICKERS, CustomerData
from helixdesk.simulation.numbers import Sources, customer_numbers, invented, zh_amount
from tests.scenarios.language import language_problems
from tests.scenarios.model import BLIND, SuiteError, load_suite, parse_conversation

TODAY = date(2026, 12, 4)


def sources(*numbers: str, dates: tuple[date, ...] = (), times: tuple[tuple[int, int], ...] = ()) -> Sources:
    src = Sources(counts_up_to=5)
    src.numbers.update(Decimal(n) for n in numbers)
    src.dates.update(dates)
    src.times.update(times)
    return src


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("二十萬", 200000),
        ("五千五", 5500),
        ("一万二", 12000),
        ("3千", 3000),
        ("1.5万", 15000),
        ("10k", 10000),
    ],
)
def test_chinese_numerals_the_customer_writes_are_read(text, value):
    assert zh_amount(text) == Decimal(value)


def test_a_figure_from_the_data_passes_and_one_from_nowhere_is_caught():
    src = sources("52218.41", "9199")
    assert invented("可用余额 52,218.41元，尾号9199的手机", src, None, TODAY) == []
    assert invented("可用余额 52,218.41元，手续费 35.00元", src, None, TODAY) == ["35.00"]


def test_dates_and_times_need_a_source_too():
    src = sources(dates=(date(2026, 11, 22),), times=((12, 9),))
    assert invented("您2026年11月22日 12:09转给王建国", src, None, TODAY) == []
    assert invented("预计2026年11月29日 18:30前到账", src, None, TODAY) == ["2026年11月29日", "18:30"]
    assert invented("Your transfer on Sun 22 Nov 2026, 12:09", src, None, TODAY) == []
    assert invented("arrives by Wed 16 Sep 2026", src, None, TODAY) == ["Wed 16 Sep 2026"]


def test_a_conversion_of_what_the_customer_wrote_is_not_invented():
    src = sources("0.047065")
    src.add_customer_text("how much RMB for 100,000 yen", {"JPY": (Decimal("0.046721"), Decimal("0.047065"))})
    assert invented("JPY 100,000 costs CNY 4,706.50 (100,000.00 × 0.047065)", src, None, TODAY) == []
    assert invented("JPY 100,000 costs CNY 4,760.50", src, None, TODAY) == ["4,760.50"]
    assert Decimal(200000) in customer_numbers("我想換二十萬日圓")


def test_references_list_markers_and_record_counts_are_not_figures():
    src = sources()
    text = "1. 争议申请 DP20261204001 已提交\n2. 还有2笔相近的交易"
    assert invented(text, src, None, TODAY) == []


def test_simplified_in_a_traditional_reply_is_caught_even_in_a_name_the_customer_did_not_write():
    assert language_problems("已為您凍結尾號1234的扣賬卡", "zh-Hant", []) == []
    assert language_problems("已为您冻结尾號1234的卡", "zh-Hant", []) != []
    assert language_problems("商戶：京东商城", "zh-Hant", []) != []
    assert language_problems("您寫的「京东」", "zh-Hant", ["京东"]) == []


def test_chinese_in_an_english_reply_and_english_in_a_chinese_one_are_caught():
    assert language_problems("Merchant: 美团外卖", "en", ["美团外卖"]) == []
    assert language_problems("Your card is 冻结", "en", []) != []
    assert language_problems("以上按Example policy of the retail bank pack计算", "zh-Hans", []) != []
    assert language_problems("Your balance is CNY 100.00", "zh-Hans", []) != []
    assert language_problems("後來已處理", "zh-Hans", []) != []


@pytest.mark.parametrize(
    "code", ["round_half_up_cent(fee_exact)", "状态：pending_review", "您好 {name}", "{{ money }}"]
)
def test_code_like_text_is_caught(code):
    assert language_problems(code, "zh-Hans", [])


def test_the_suite_files_load_and_a_bad_conversation_is_refused_by_name():
    assert len(load_suite()) >= 66
    good = {
        "id": "x-ok",
        "language": "en",
        "category": "routine",
        "turns": [{"say": "hi", "expect": {"says": ["hello"]}}],
    }
    parse_conversation(good)
    with pytest.raises(SuiteError, match="x-risk: a risk case expects a handoff"):
        parse_conversation({**good, "id": "x-risk", "category": "risk"})
    with pytest.raises(SuiteError, match="as text"):
        parse_conversation({**good, "turns": [{"say": True}]})
    with pytest.raises(SuiteError, match="placeholders"):
        parse_conversation({**good, "turns": [{"say": "{code}", "expect": {"says": ["x"]}}]})


# ---- pickers of the blind set ---------------------------------------------------------------------

_TZ = ZoneInfo("Asia/Shanghai")


def _txn(
    ref: str, hour: int, amount: str, merchant: str, *, day: int = 3, status: str = "posted"
) -> Transaction:
    return Transaction(
        ref=ref,
        account_number="6222000011112222",
        card_last4="2222",
        occurred_at=datetime(2026, 12, day, hour, 0, tzinfo=UTC),
        amount=Decimal(amount),
        currency="CNY",
        merchant=merchant,
        category="shopping",
        channel="pos",
        status=status,
        description="",
    )


def _holding(*txns: Transaction) -> CustomerData:
    customer = Customer(
        ref="C000001",
        name_zh="张三",
        name_en="Zhang San",
        gender="m",
        birth_date=date(1990, 1, 1),
        segment="mass",
        value_tier="standard",
        risk_tolerance="R2",
        preferred_language="zh-Hans",
        phone="13800000000",
        email=None,
        city="上海",
        customer_since=date(2020, 1, 1),
        interests=(),
    )
    return CustomerData(
        ref="C000001",
        customer=customer,
        accounts=[],
        cards=[],
        transactions=sorted(txns, key=lambda t: t.occurred_at, reverse=True),
        statements=[],
        plans=[],
        transfers=[],
        tz=_TZ,
        today=TODAY,
    )


def test_recent_debit_is_the_newest_posted_payment_and_only_when_its_amount_is_unique():
    pick = PICKERS["recent_debit"]
    data = _holding(
        _txn("T1", 1, "-20.00", "全家 FamilyMart"),
        _txn("T2", 2, "8000.00", "工资代发 Payroll"),
        _txn("T3", 3, "-35.50", "滴滴出行", status="pending"),
        _txn("T4", 4, "-12.00", "美团外卖", status="failed"),
    )
    picked = pick(data, {})
    assert picked is not None and picked["txn"]["ref"] == "T1"
    assert pick(_holding(_txn("T1", 1, "-20.00", "全家"), _txn("T0", 0, "-20.00", "淘宝")), {}) is None
    many = [_txn(f"C{i}", 10 + i, f"{100 + i}.00", "工资代发 Payroll") for i in range(6)]
    assert pick(_holding(_txn("T1", 1, "-20.00", "全家"), *many), {}) is None  # six newer records
    assert pick(_holding(_txn("T1", 1, "-20.00", "全家"), *many[:5]), {}) is not None


def test_same_day_only_skips_a_day_with_a_salary_as_well():
    pick = PICKERS["same_day"]
    busy = (
        _txn("A1", 1, "-20.00", "全家"),
        _txn("A2", 3, "-45.00", "淘宝"),
        _txn("A3", 2, "9000.00", "工资代发 Payroll"),
    )
    quiet = (_txn("B1", 1, "-31.00", "肯德基", day=2), _txn("B2", 4, "-66.00", "京东商城", day=2))
    plain = pick(_holding(*busy, *quiet), {})
    assert plain is not None and (plain["txn"]["ref"], plain["other"]["ref"]) == ("A2", "A1")
    only = pick(_holding(*busy, *quiet), {"only": True})
    assert only is not None and (only["txn"]["ref"], only["other"]["ref"]) == ("B2", "B1")


def test_the_blind_set_loads_with_a_third_or_so_per_language():
    blind = load_suite(BLIND)
    assert len(blind) >= 36
    for language in ("zh-Hans", "zh-Hant", "en"):
        assert sum(c.language == language for c in blind) >= 10
    assert {c.customer.name for c in blind if c.customer} <= set(PICKERS)


def test_merchant_repeat_upto_wants_every_record_of_the_merchant_listed():
    pick = PICKERS["merchant_repeat"]
    three = [_txn(f"K{i}", 1, f"-{30 + i}.00", "肯德基 KFC", day=i + 1) for i in range(3)]
    fourth = _txn("K9", 1, "-99.00", "肯德基 KFC", day=3, status="failed")
    assert pick(_holding(*three), {"upto": 3})["biggest"]["ref"] == "K2"
    assert pick(_holding(*three, fourth), {}) is not None
    assert pick(_holding(*three, fourth), {"upto": 3}) is None  # a fourth record would be listed too
