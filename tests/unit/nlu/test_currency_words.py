"""Currency words of a conversion question in the three languages: the amount's currency is the one
named after it ("5000蚊人民幣" is CNY although 蚊 alone is HKD)."""

from __future__ import annotations

import pytest

from helixdesk.nlu.entities import EntityExtractor
from helixdesk.nlu.text import normalise


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    return EntityExtractor(types=("money", "currency"))


def _found(extractor: EntityExtractor, text: str) -> tuple[list[tuple[str, str]], list[str]]:
    entities = extractor.extract(text, normalized=normalise(text))
    money = [(e.value["amount"], e.value["currency"]) for e in entities if e.type == "money"]
    return money, [e.value for e in entities if e.type == "currency"]


@pytest.mark.parametrize(
    ("text", "money", "currencies"),
    [
        ("how many USD can I get for 10,000 RMB", [("10000.00", "CNY")], ["USD"]),
        ("一万人民币能换多少美元", [("10000.00", "CNY")], ["USD"]),
        ("人民幣換港幣，5000蚊人民幣", [("5000.00", "CNY")], ["CNY", "HKD"]),
        ("5000蚊", [("5000.00", "HKD")], []),
        ("I want to change CNY into 5,000 HKD, how much today", [("5000.00", "HKD")], ["CNY"]),
        ("我有5000块人民币想换日圓", [("5000.00", "CNY")], ["JPY"]),
        ("10000円要多少人民币", [("10000.00", "JPY")], ["CNY"]),
        ("我想換300歐羅", [("300.00", "EUR")], []),
        ("how many euros for 2000 yuan", [("2000.00", "CNY")], ["EUR"]),
        ("兌換5000元人民幣的日元", [("5000.00", "CNY")], ["JPY"]),
        ("1000 US dollars", [("1000.00", "USD")], []),
        ("美金500", [("500.00", "USD")], []),
        # A currency word ending a phrase is not the prefix of the next amount.
        ("人民币换美元 一万元", [("10000.00", "CNY")], ["CNY", "USD"]),
    ],
)
def test_currency_words_of_a_conversion(extractor, text, money, currencies):
    found_money, found_currencies = _found(extractor, text)
    assert found_money == money
    assert sorted(found_currencies) == sorted(currencies)
