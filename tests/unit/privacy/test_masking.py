"""Finding and masking personal data in Chinese (both scripts) and English."""

from __future__ import annotations

import pytest

from helixdesk.core.identifiers import (
    hkid_check_char,
    hkid_ok,
    luhn_check_digit,
    luhn_ok,
    resident_id_ok,
    twid_ok,
)
from helixdesk.privacy import SECRET_MASK, find_pii, mask_text, scrub
from helixdesk.privacy.masking import mask_destination, mask_email, mask_phone

VISA = "4111111111111111"
UNIONPAY_19 = "6222021234567890128"
ID_X = "11010519491231002X"
ID_DIGIT = "440308199001011239"


def types(text: str, **kwargs: bool) -> list[tuple[str, str]]:
    return [(s.type, s.text) for s in find_pii(text, **kwargs)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        # cards: plain, grouped, dashes, full-width, 19 digits, several in one run, no cue needed
        (f"卡号{VISA}", [("card_number", VISA)]),
        ("card 4111 1111 1111 1111 please", [("card_number", "4111 1111 1111 1111")]),
        (
            "４１１１－１１１１－１１１１－１１１１",
            [("card_number", "４１１１－１１１１－１１１１－１１１１")],
        ),
        (f"{UNIONPAY_19}这张卡", [("card_number", UNIONPAY_19)]),
        (
            "4111 1111 1111 1111 5500 0000 0000 0004",
            [("card_number", "4111 1111 1111 1111"), ("card_number", "5500 0000 0000 0004")],
        ),
        ("我的卡號是 6222 0212 3456 7890 129", [("card_number", "6222 0212 3456 7890 129")]),  # fails Luhn
        # IDs: checksum, spaces, dashes, lower-case x; 15 digits only after an ID cue; HKID
        (f"身份证{ID_X.lower()}", [("id_number", ID_X.lower())]),
        ("440308-19900101-1239", [("id_number", "440308-19900101-1239")]),
        ("身份證 110105491231002", [("id_number", "110105491231002")]),
        ("my HKID is A123456(3)", [("id_number", "A123456(3)")]),
        # Taiwan IDs by their check digit; NRIC/FIN, National Insurance and Taiwan IDs by name
        ("身分證字號 F225183071 的申請", [("id_number", "F225183071")]),
        ("資料 A123456789 已更新", [("id_number", "A123456789")]),
        ("under NRIC S7734819J", [("id_number", "S7734819J")]),
        ("your NI number on file is JT 48 27 19 B.", [("id_number", "JT 48 27 19 B")]),
        # phones
        ("手机+86 138-1234-5678", [("phone", "+86 138-1234-5678")]),
        ("電話 9123 4567", [("phone", "9123 4567")]),
        ("call +852 6123 4567", [("phone", "+852 6123 4567")]),
        # accounts: only after an account cue
        ("账号：6217 0012 3456 7890 123", [("account_number", "6217 0012 3456 7890 123")]),
        ("我的戶口號碼是012345678901", [("account_number", "012345678901")]),
        ("你嘅戶口號碼係 012-874-00392817", [("account_number", "012-874-00392817")]),
        ("Account No. 0200 1234 5678", [("account_number", "0200 1234 5678")]),
        # e-mail
        ("邮箱Zhang.San@Example.com谢谢", [("email", "Zhang.San@Example.com")]),
        ("mail: li＠qq.com", [("email", "li＠qq.com")]),
        # secrets after a cue
        ("验证码是 123 456", [("secret", "123 456")]),
        ("驗證碼一二三四五六", [("secret", "一二三四五六")]),
        ("my PIN is 1234", [("secret", "1234")]),
        ("CVV2: 987", [("secret", "987")]),
        ("the code is 654321", [("secret", "654321")]),
        ("密码是abc12345，谢谢", [("secret", "abc12345")]),
        ("password: hunter2!", [("secret", "hunter2!")]),
    ],
)
def test_finds_personal_data(text: str, found: list[tuple[str, str]]) -> None:
    assert types(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # fails Luhn, no card cue
        "订单号 4111111111111111",  # the customer says it is an order number
        "訂單號：4111111111111111",
        "快递单号 75312345678901",
        "tracking number 4111111111111111",
        "110105194912310021",  # ID with a wrong check character
        "2024-11-23 14:30 扣了 ¥12,345.67",
        "error code 1234",
        "password reset",
        "my password is wrong",
        "密码忘了怎么办",
        "验证码收不到",
        "尾号6621的卡",
        "客服电话95588",
        "账户余额 12345678",
        "A1234567",  # not an HKID without the bracketed check digit
        "A123456788",  # not a Taiwan ID: wrong check digit
        "JT 48 27 19 B",  # a National Insurance number's shape, but nothing says it is one
    ],
)
def test_leaves_look_alikes(text: str) -> None:
    assert types(text) == []


def test_a_lone_code_is_a_secret_only_when_one_is_expected() -> None:
    assert types("123456") == []
    assert types("123456", expect_code=True) == [("secret", "123456")]
    assert types("一二三四五六", expect_code=True) == [("secret", "一二三四五六")]
    # A phone number is still a phone number while a code is expected.
    assert types("138 1234 5678", expect_code=True) == [("phone", "138 1234 5678")]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("我的卡号是6222 0212 3456 7890 128，请冻结", "我的卡号是**** **** **** 0128，请冻结"),
        ("４１１１１１１１１１１１１１１１", "**** **** **** 1111"),
        (f"身份证 {ID_X}", "身份证 **************002X"),
        ("440308 19900101 1239", "****** ******** 1239"),
        ("手机 13812345678", "手机 138****5678"),
        ("+86 138-1234-5678", "+86 138-****-5678"),
        ("+852 9123 4567", "+852 **** 4567"),
        ("帳號：6228 1981 2270 3，轉賬失敗", "帳號：****2703，轉賬失敗"),
        ("email me at zhang.san@example.com", "email me at z***@example.com"),
        ("验证码123456，请查收", f"验证码{SECRET_MASK}，请查收"),
        ("登录密码是TQrcX62#，老是提示错误", f"登录密码是{SECRET_MASK}，老是提示错误"),
        ("no personal data here: 3500元", "no personal data here: 3500元"),
    ],
)
def test_masked_text_stays_readable(text: str, masked: str) -> None:
    assert mask_text(text).text == masked


def test_masked_card_keeps_the_tail_the_bot_understands() -> None:
    from helixdesk.nlu.entities import EntityExtractor

    masked = mask_text(f"my card {VISA} was stolen").text
    tails = [e.value for e in EntityExtractor().extract(masked) if e.type == "card_tail"]
    assert tails == ["1111"]


def test_spans_map_between_original_and_masked_text() -> None:
    text = f"卡{VISA}和手机13812345678"
    m = mask_text(text)
    card, phone = m.spans
    assert m.text[card.masked_start : card.masked_end] == card.masked == "**** **** **** 1111"
    assert m.text[phone.masked_start : phone.masked_end] == "138****5678"
    assert card.raw == VISA and phone.raw == "13812345678"
    # A position before, inside and after a span.
    assert m.map_range(0, 1) == (0, 1)
    assert m.map_range(3, 5) == (card.masked_start, card.masked_end)
    assert m.map_range(text.index("和"), text.index("和") + 1) == (card.masked_end, card.masked_end + 1)
    assert m.overlaps(0, 2) and not m.overlaps(0, 1)


def test_scrub_masks_json_by_content_and_by_key() -> None:
    data = {
        "intent": "balance_inquiry",
        "slots": {"card_last4": "1111", "note": f"card {VISA}"},
        "result": {"accounts": [{"number": UNIONPAY_19, "number_tail": "0128", "kind": "savings"}]},
        "contact": {"phone": "+8613812345678", "email": "li.na@example.com"},
        "periods": 12,
        "number": "3",
    }
    out = scrub(data)
    assert out["intent"] == "balance_inquiry" and out["slots"]["card_last4"] == "1111"
    assert out["slots"]["note"] == "card **** **** **** 1111"
    assert out["result"]["accounts"][0] == {"number": "****0128", "number_tail": "0128", "kind": "savings"}
    assert out["contact"] == {"phone": "138****5678", "email": "l***@example.com"}
    assert out["periods"] == 12 and out["number"] == "3"
    assert scrub(out) == out  # masking twice changes nothing


@pytest.mark.parametrize(
    ("channel", "destination", "masked"),
    [
        ("sms", "+8613812345678", "138****5678"),
        ("sms", "+85291234567", "+852 ****4567"),
        ("sms", "12", "****"),
        ("email", "sam@example.com", "s***@example.com"),
    ],
)
def test_destination_masks(channel: str, destination: str, masked: str) -> None:
    assert mask_destination(channel, destination) == masked
    assert (mask_email if channel == "email" else mask_phone)(destination) == masked


def test_check_digits() -> None:
    assert luhn_ok(VISA) and not luhn_ok("4111111111111112")
    assert luhn_check_digit(VISA[:-1]) == VISA[-1]
    assert luhn_check_digit(UNIONPAY_19[:-1]) == UNIONPAY_19[-1]
    assert resident_id_ok(ID_X) and resident_id_ok(ID_DIGIT)
    assert not resident_id_ok("110105194912310021") and not resident_id_ok("710105194912310021")
    assert hkid_check_char("A", "123456") == "3" and hkid_ok("a", "123456", "3")
    assert hkid_ok("AB", "987654", hkid_check_char("AB", "987654"))
    assert not hkid_ok("A", "123456", "4") and not hkid_ok("ABC", "123456", "3")
    assert twid_ok("A123456789") and twid_ok("f225183071")
    assert not twid_ok("A123456788") and not twid_ok("A323456789") and not twid_ok("A12345678")
