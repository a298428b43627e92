"""Field extraction from OCR text lines, with what OCR does to them: dropped spaces, full-width
colons, Traditional and English labels, a label and its value on two lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from helixdesk.ocr.fields import entities, extract, parse_amount, parse_date, parse_time


def test_a_simplified_charge_screenshot_with_full_width_colons_and_a_dropped_space():
    f = extract(
        [
            "交易详情",
            "商户：星巴克咖啡",
            "金额：-¥128.50",
            "交易时间：2026-11-0314:22",
            "卡号：6222 **** **** 4821",
            "交易编号：TX20261103001",
        ]
    )
    assert f.kind == "charge"
    assert f.merchant == "星巴克咖啡"
    assert f.amount == Decimal("128.50") and f.currency == "CNY"
    assert f.date == date(2026, 11, 3) and f.time == "14:22"
    assert f.card_tail == "4821"
    assert f.transaction_id == "TX20261103001"


def test_traditional_labels_and_hong_kong_dollars():
    f = extract(
        ["交易詳情", "商戶:大家樂", "金額:HK$1,280.00", "交易時間:2026年11月03日 09:05", "交易編號:HK88231"]
    )
    assert (f.merchant, f.amount, f.currency) == ("大家樂", Decimal("1280.00"), "HKD")
    assert (f.date, f.time, f.transaction_id) == (date(2026, 11, 3), "09:05", "HK88231")


def test_english_labels_with_dropped_spaces_and_a_value_on_the_next_line():
    f = extract(
        [
            "Payment details",
            "Merchant",
            "AMAZON MARKETPLACE",
            "Amount:USD 42.10",
            "Date:03Nov2026 18:40",
            "Cardending 7731",
            "TransactionID:AB12CD34",
        ]
    )
    assert f.merchant == "AMAZON MARKETPLACE"
    assert (f.amount, f.currency) == (Decimal("42.10"), "USD")
    assert (f.date, f.time) == (date(2026, 11, 3), "18:40")
    assert f.card_tail == "7731"
    assert f.transaction_id == "AB12CD34"


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["登录失败", "错误代码：E1023", "请稍后重试"], "E1023"),
        (["連線失敗", "錯誤代碼:NET-502"], "NET-502"),
        (["Something went wrong", "Errorcode:NET-502"], "NET-502"),
        (["Transfer failed (error 4031)"], "4031"),
    ],
)
def test_error_codes_of_app_error_screens(lines, code):
    f = extract(lines)
    assert f.error_code == code
    assert f.kind == "error"


def test_a_bill_is_a_bill_not_a_charge():
    f = extract(["信用卡账单", "本期应还金额：¥3,200.00", "到期还款日：2026-12-20", "尾号 4821"])
    assert f.kind == "bill"
    assert (f.amount, f.date, f.card_tail) == (Decimal("3200.00"), date(2026, 12, 20), "4821")


def test_unreadable_or_unrelated_text_gives_no_fields():
    f = extract(["今天天气很好", "", "   "])
    assert f.kind == "unknown"
    assert f.found() == {}


def test_values_on_their_own():
    assert parse_amount("RMB 58") == (Decimal("58.00"), "CNY")
    assert parse_amount("58.5元") == (Decimal("58.50"), "CNY")
    assert parse_amount("no number") is None
    assert parse_date("Nov 3, 2026") == date(2026, 11, 3)
    assert parse_date("2026/02/30") is None
    assert parse_time("2026-11-0314:22:09") == "14:22"


def test_fields_become_entities_of_the_turn_in_the_nlu_shapes():
    f = extract(["商户：星巴克", "金额：128.50", "日期：2026-11-03", "卡号尾号：4821", "错误代码：E1023"])
    by_type = {e.type: e for e in entities(f, at=5)}
    assert by_type["money"].value == {"amount": "128.50", "currency": "CNY"}
    assert by_type["date"].value == {
        "start": "2026-11-03T00:00:00",
        "end": "2026-11-04T00:00:00",
        "grain": "day",
    }
    assert by_type["merchant"].value == "星巴克"
    assert by_type["card_tail"].value == "4821"
    assert by_type["error_code"].value == "E1023"
    assert all(e.start == e.end == 5 for e in by_type.values())
