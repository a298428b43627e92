"""The suite's own judges catch what they are meant to catch, and only that: invented numbers,
replies out of the customer's language or script, and malformed scenario files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.scenarios.language import language_problems
from tests.scenarios.model import SuiteError, load_suite, parse_conversation
from tests.scenarios.numbers import Sources, customer_numbers, invented, zh_amount

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
