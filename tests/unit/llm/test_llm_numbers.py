"""The numbers in an answer are read as values, so a figure written another way is the same figure
and a figure that is in no source is caught."""

from __future__ import annotations

from decimal import Decimal

import pytest

from helixdesk.llm.numbers import invented, values_in


def values(text: str) -> list[Decimal]:
    return [v for _, v in values_in(text)]


@pytest.mark.parametrize(
    ("answer", "source"),
    [
        ("您的余额为1000元", "可用余额为 ¥1,000.00"),
        ("余额一千元", "可用余额为 ¥1,000.00"),
        ("余额1千元", "可用余额为 ¥1,000.00"),
        ("额度是1.5万", "额度 15,000.00 元"),
        ("額度為一萬五千元", "额度 15,000.00 元"),
        ("Your balance is 1000 yuan", "Available balance: CNY 1,000.00"),
        ("年化 3.5%", "年化利率 3.50%"),
        ("It arrived on May 1, 2026 at 10:30", "completed_at 2026-05-01 10:30"),
        ("已于2026年5月1日到账", "completed 2026-05-01"),
        ("within three working days", "3 个工作日内"),
        ("三个工作日内", "within 3 working days"),
        ("尾号6621的卡", "card **** **** **** 6621"),
        ("twenty-five dollars", "USD 25.00"),
    ],
)
def test_a_figure_written_another_way_is_the_same_figure(answer: str, source: str) -> None:
    assert invented(answer, [source]) == []


@pytest.mark.parametrize(
    ("answer", "source", "made_up"),
    [
        ("您的余额为2000元", "可用余额为 ¥1,000.00", ["2000"]),
        ("2个工作日内到账", "1-3 个工作日内到账", ["2"]),
        ("额度1.6万", "额度 15,000.00 元", ["1.6万"]),
        ("It arrived on June 1", "completed 2026-05-01", ["june"]),
        ("within two days", "within 3 days", ["two"]),
        ("call us on 95566", "call the hotline", ["95566"]),
        ("年化收益 8%", "本产品不保证收益", ["8"]),
    ],
)
def test_a_figure_in_no_source_is_invented(answer: str, source: str, made_up: list[str]) -> None:
    assert invented(answer, [source]) == made_up


def test_words_made_of_numerals_and_list_marks_are_not_figures() -> None:
    assert values("十分抱歉，请您稍等一下，我们一定尽快处理，万一有问题再联系。") == []
    assert values("1. 打开手机银行\n2. 点击「卡片管理」\n（3）确认") == []
    assert values("详见说明 [2]。") == []
    assert values("You may call us at any time; one of our staff will help.") == []
    assert values("请确认一下") == []


def test_dates_and_times_give_their_parts() -> None:
    assert values("2026-05-01 10:30") == [2026, 5, 1, 10, 30]
    assert values("1 May") == [5, 1]
    assert values("5月1日下午三点") == [5, 1, 3]
