"""The pack's quality rules: claims and advice told apart, in zh-Hans, zh-Hant and en; product talk
over a conversation; and every bot template passes the same check."""

from __future__ import annotations

import pytest
import yaml

from helixdesk.core.errors import ConfigurationError
from helixdesk.packs.loader import load_pack
from helixdesk.quality.rules import Customer, Line, RuleBook
from tests.replyscan import literal_text

PACK = load_pack("retail_bank")
BOOK = RuleBook.load(PACK)


def rules_in(text: str, sender: str = "agent") -> set[str]:
    return {h.rule for h in BOOK.check_message(text, sender)}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("这款理财保本保收益，您放心买", "absolute_promise"),
        ("這款基金穩賺不賠，保證回報", "absolute_promise"),
        ("呢隻基金穩賺㗎，唔使驚", "absolute_promise"),
        ("这是全行收益最高的产品", "absolute_promise"),
        ("It's risk-free and the returns are guaranteed.", "absolute_promise"),
        ("You won't lose a cent with this fund.", "absolute_promise"),
        ("请把短信验证码报给我，我帮您核实", "asks_secret"),
        ("麻烦您提供一下完整卡号", "asks_secret"),
        ("Can you read me the 6 digits we just texted you?", "asks_secret"),
        ("What's your PIN?", "asks_secret"),
        ("您的卡号是6222021234567890128，对吧", "pii_in_clear"),
        ("你听不懂吗？我说了三遍了", "rude"),
        ("講咗幾多次啦，自己睇啦！", "rude"),
        ("That's your problem, not mine.", "rude"),
        ("这个不归我们管，你去找别的部门", "shirking"),
        ("唔關我哋事，你自己打去問", "shirking"),
        ("There's nothing I can do, call someone else.", "shirking"),
    ],
)
def test_a_problem_is_found_with_its_span(text: str, rule: str) -> None:
    hits = [h for h in BOOK.check_message(text, "agent") if h.rule == rule]
    assert hits, f"{rule} not found in {text!r}"
    for h in hits:
        assert text[h.start : h.end] == h.evidence and h.evidence.strip()


@pytest.mark.parametrize(
    "text",
    [
        "您最好先挂失，再补办新卡",
        "最好今天内处理，第一时间为您跟进",
        "第一步请先登录手机银行",
        "这款理财不保本，风险等级R3，投资须谨慎",
        "理财非存款，产品有风险，投资须谨慎",
        "定期存款保本保息，存款保险保障50万以内本息",
        "Returns are not guaranteed and you could lose money.",
        "It's best to freeze the card first.",
        "请勿向任何人透露验证码，包括银行工作人员",
        "We will never ask for your PIN or one-time code.",
        "麻烦提供卡号后四位，我帮您查询",
        "请问是尾号6621的卡吗？",
        "这个由信用卡中心负责，我现在为您转接，您不需要重复描述",
        "I'm transferring you to our fraud team, who can block the card now.",
        "I can't waive that fee, but I can set up an instalment plan for you.",
        "請勿向任何人透露驗證碼。",
        "好的，已經幫您凍結咗張卡，請放心。",
    ],
)
def test_advice_negation_and_security_reminders_are_clean(text: str) -> None:
    assert rules_in(text) == set()


def test_what_the_customer_says_is_not_checked() -> None:
    assert rules_in("你们是不是保本保收益？我的卡号6222021234567890128", sender="customer") == set()


def test_personal_data_in_clear_is_found_for_agents_and_the_bot_but_not_the_banks_own_numbers() -> None:
    assert rules_in("您的卡号是6222021234567890128", sender="bot") == {"pii_in_clear"}
    assert rules_in("您的卡号是6222021234567890128", sender="agent") == {"pii_in_clear", "asks_secret"}
    assert rules_in("新卡会寄到上海市浦东新区张杨路1588弄12号602室") == {"pii_in_clear"}
    assert rules_in("我行浦东支行地址：上海市浦东新区张杨路1588号") == set()
    assert rules_in("如有疑问请致电95588或400-820-8888") == set()


def test_risk_disclosure_is_checked_over_the_conversation() -> None:
    pitch = Line("agent", "推荐您这款稳盈30天理财，年化收益3.2%，很多客户在买")
    missing = BOOK.check_products([Line("customer", "有什么理财推荐？"), pitch])
    assert [h.rule for h in missing] == ["missing_risk_disclosure"]
    assert missing[0].line == 1 and missing[0].evidence in pitch.text
    disclosed = [
        Line("customer", "有什么理财推荐？"),
        pitch,
        Line("agent", "该产品风险等级R2，不保本，投资须谨慎。"),
    ]
    assert BOOK.check_products(disclosed) == []
    operational = [Line("agent", "基金赎回的资金一般T+1到账。")]
    assert BOOK.check_products(operational) == []


def test_a_product_above_the_customers_tolerance_is_unsuitable() -> None:
    pitch = [Line("agent", "推荐您这只科技股票型基金，风险等级R4，不保本，近一年业绩不错")]
    conservative = Customer(risk_tolerance="conservative", age=45)
    assert {h.rule for h in BOOK.check_products(pitch, conservative)} == {"unsuitable_sale"}
    aggressive = Customer(risk_tolerance="aggressive", age=45)
    assert BOOK.check_products(pitch, aggressive) == []
    elderly = Customer(risk_tolerance="aggressive", age=72)
    assert {h.rule for h in BOOK.check_products(pitch, elderly)} == {"unsuitable_sale"}
    declined = [Line("agent", "这只股票型基金风险等级R4，高于您的风险承受能力，不建议购买")]
    assert BOOK.check_products(declined, conservative) == []
    english = [Line("bot", "I'd recommend our Global Tech equity fund; it is rated R5 and may lose value.")]
    assert {h.rule for h in BOOK.check_products(english, Customer(risk_tolerance="moderate"))} == {
        "unsuitable_sale"
    }


def test_every_rule_has_reasons_alternatives_and_sources_in_three_languages() -> None:
    for name in BOOK.rules:
        for language in ("zh-Hans", "zh-Hant", "en"):
            assert BOOK.reason(name, language)
            assert BOOK.alternative(name, language)
            assert BOOK.source_titles(name, language)


def test_the_alternatives_themselves_pass_the_rules() -> None:
    for name in BOOK.rules:
        for language in ("zh-Hans", "zh-Hant", "en"):
            alternative = BOOK.alternative(name, language) or ""
            assert rules_in(alternative) == set(), (name, language, alternative)


def test_a_bad_pattern_is_a_configuration_error() -> None:
    config = yaml.safe_load((PACK.path / "quality" / "rules.yaml").read_text(encoding="utf-8"))
    config["rules"]["rude"]["patterns"] = ["(unclosed"]
    with pytest.raises(ConfigurationError) as err:
        RuleBook(config)
    assert err.value.code == "bad_quality_rule"
    del config["rules"]["unsuitable_sale"]
    with pytest.raises(ConfigurationError):
        RuleBook(config)


def _templates() -> list[tuple[str, str, str]]:
    out = []
    for path in sorted((PACK.path / "nlg" / "templates").glob("*.yaml")):
        for key, by_language in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            for language, value in by_language.items():
                variants = value if isinstance(value, dict) else {"warm": value}
                for style, text in variants.items():
                    out.append((f"{path.stem}:{key}:{style}", language, literal_text(str(text))))
    return out


def test_every_bot_template_passes_the_quality_rules() -> None:
    """The bot's replies go through the same check as agents' messages; a template that breaks a
    rule fails here."""
    templates = _templates()
    assert len(templates) > 300
    failing = [(key, language, sorted(rules_in(text, "bot"))) for key, language, text in templates]
    failing = [f for f in failing if f[2]]
    assert failing == []
