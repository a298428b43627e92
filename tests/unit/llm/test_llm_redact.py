"""What goes to the LLM has placeholders for personal data; what comes back has masked forms only."""

from __future__ import annotations

import pytest

from helixdesk.llm.redact import NAME, Redaction, UnknownPlaceholderError

CARD = "6222 0212 3456 7890 128"
PHONE = "13912345670"
ID = "11010519491231002X"
EMAIL = "li.na.private@example.com"


def test_personal_data_and_names_become_placeholders_and_come_back_masked() -> None:
    r = Redaction(names=("王小明", "Wang Xiaoming"), name="王")
    sent = r.mask(f"我是王小明，卡号 {CARD}，手机 {PHONE}，身份证 {ID}，邮箱 {EMAIL}，再说一次手机 {PHONE}")
    for raw in (CARD, CARD.replace(" ", ""), PHONE, ID, EMAIL, "王小明"):
        assert raw not in sent
    assert sent == (
        "我是<NAME_1>，卡号 <CARD_1>，手机 <PHONE_1>，身份证 <ID_1>，邮箱 <EMAIL_1>，再说一次手机 <PHONE_1>"
    )
    back = r.restore("<NAME>您好，您的卡 [CARD_1] 和手机 <PHONE 1> 已登记（<ID_1>，<EMAIL_1>）。")
    assert (
        back
        == "王您好，您的卡 **** **** **** 0128 和手机 139****5670 已登记（**************002X，l***@example.com）。"
    )
    assert set(r.shown_forms()) >= {"**** **** **** 0128", "139****5670"}


def test_a_placeholder_never_handed_out_is_refused() -> None:
    r = Redaction()
    r.mask(f"手机 {PHONE}")
    with pytest.raises(UnknownPlaceholderError):
        r.restore("请拨打 <PHONE_2>")
    with pytest.raises(UnknownPlaceholderError):
        r.restore(f"{NAME}您好")  # no name to put back


def test_secrets_go_back_as_the_fixed_mask() -> None:
    r = Redaction()
    assert r.mask("验证码是 483920") == "验证码是 <SECRET_1>"
    assert r.restore("您提供的 <SECRET_1> 请勿告诉他人") == "您提供的 •••••• 请勿告诉他人"


def test_a_latin_name_is_masked_as_a_whole_word_only() -> None:
    r = Redaction(names=("Li Na", "Li", "Na"), name="Li")
    assert r.mask("Hi, Li Na here: my online finance app says Na, li.") == (
        "Hi, <NAME_1> here: my online finance app says <NAME_2>, <NAME_3>."
    )
    assert r.restore("Dear <NAME>, <NAME_2>") == "Dear Li, Li"
