"""Seed scenarios, end to end through the public API: real NLU models, dialogue, actions, identity
step-up with the demo outbox, knowledge base and the seeded demo bank (SQLite).

Each test asserts what the customer reads and what changed in the bank or the conversation.
Customers are picked from the seeded data by what they hold, never by a fixed reference.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from helixdesk.bank.connector import BankConnector
from helixdesk.edge.app import create_app
from helixdesk.nlg.names import name_in
from helixdesk.simulation.numbers import expected_prepayment
from tests.seeded import CustomerPicker, seeded_database

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_client(tmp_path_factory, model_root):
    from helixdesk.core.settings import Settings

    path = tmp_path_factory.mktemp("scenarios") / "helixdesk.db"
    url = f"sqlite:///{path}"
    engine, _ = seeded_database(url)
    engine.dispose()
    settings = Settings(_env_file=None, database_url=url, model_dir=model_root)  # type: ignore[call-arg]
    app = create_app(settings)
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def bank(app_client) -> BankConnector:
    return app_client.app.state.container.bank


@pytest.fixture(scope="module")
def pick(bank):
    return CustomerPicker(bank)


class Chat:
    def __init__(self, client: TestClient, customer_ref: str | None, channel: str = "web") -> None:
        self.client = client
        self.ref = customer_ref
        body = {"channel": channel, **({"customer_ref": customer_ref} if customer_ref else {})}
        # The web chat uses the conversation's token; other channels' back ends use their API key.
        key = {}
        if channel != "web":
            _, raw = client.app.state.container.api_keys.create(name=f"{channel} back end", channel=channel)
            key = {"X-Api-Key": raw}
        r = client.post("/api/v1/conversations", json=body, headers=key)
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        self.headers = key or {"Authorization": f"Bearer {r.json()['token']}"}
        self.last: dict = {}

    def say(self, text: str) -> str:
        r = self.client.post(
            f"/api/v1/conversations/{self.id}/messages", json={"text": text}, headers=self.headers
        )
        assert r.status_code == 200, r.text
        self.last = r.json()
        return "\n".join(reply["text"] for reply in self.last["replies"])

    def kinds(self) -> list[str]:
        return [reply["kind"] for reply in self.last["replies"]]

    def code(self) -> str:
        page = self.client.get("/demo/outbox", params={"customer": self.ref, "limit": 1})
        assert page.status_code == 200
        body = re.search(r'<td class="body">(.*?)</td>', page.text, re.S)
        assert body, "no notification in the outbox"
        found = re.findall(r"(?<!\d)(\d{6})(?!\d)", body.group(1))
        assert found, "no code in the outbox"
        return found[0]

    def verify(self) -> str:
        return self.say(self.code())


def _money_zh(amount: Decimal) -> str:
    return f"{amount:,.2f}"


# ---- doubted charge --------------------------------------------------------------------------------


def test_doubted_charge_shows_the_facts_then_offers_dispute_or_agent(app_client, bank, pick):
    ref, txn = pick.with_card_debit("zh-Hans")
    chat = Chat(app_client, ref)
    first = chat.say(f"我卡上有一笔{-txn.amount}元的扣款，我不认识，这是什么？")
    assert "验证码" in first and "verification" in chat.kinds()
    facts = chat.verify()
    assert "身份验证成功" in facts
    assert txn.merchant in facts and _money_zh(-txn.amount) in facts
    assert "认得这笔交易" in facts
    offer = chat.say("还是不认识")
    assert "争议" in offer and "人工" in offer
    handed = chat.say("转人工")
    assert chat.last["state"] == "waiting_for_agent"
    assert chat.last["handoff"]["queue"] == "fraud"
    assert "反欺诈" in handed


def test_answering_dispute_when_the_charge_is_still_unknown_asks_to_confirm_it(app_client, bank, pick):
    ref, txn = pick.with_card_debit("zh-Hans")
    chat = Chat(app_client, ref)
    chat.say(f"我卡上有一笔{-txn.amount}元的扣款，我不认识")
    chat.verify()
    assert "争议" in chat.say("还是不认识")
    confirm = chat.say("争议")  # the dispute starts with the reason carried over, not a 500
    assert "争议申请" in confirm and "确认" in confirm and "confirm" in chat.kinds()


def test_a_one_time_code_keeps_the_language_the_customer_writes_in(app_client, bank, pick):
    ref, txn = pick.with_card_debit("zh-Hans")  # a customer whose profile prefers Chinese
    chat = Chat(app_client, ref)
    chat.say(f"There's a charge of {-txn.amount} on my card that I don't recognise")
    facts = chat.verify()  # six digits: no language of their own
    assert "verified" in facts.lower() and not re.search(r"[\u4e00-\u9fff]", facts)


def test_a_reply_that_gives_no_hint_is_asked_again_not_a_500(app_client, bank, pick):
    ref, _ = pick.with_card_debit("zh-Hans")
    chat = Chat(app_client, ref)
    chat.say("我有一笔扣款不认识")
    chat.verify()
    again = chat.say("不是一笔，我只是想看最近的交易")
    assert chat.last["state"] == "bot" and ("金额" in again or "多少" in again)


# ---- lost card -------------------------------------------------------------------------------------


def test_lost_card_is_frozen_with_no_one_time_code(app_client, bank, pick):
    def en_with_cards(ref, customer):
        active = [c for c in bank.list_cards(ref) if c.status == "active"]
        return customer.preferred_language == "en" and len(active) >= 2

    ref = pick(en_with_cards)
    card = next(c for c in bank.list_cards(ref) if c.status == "active")
    chat = Chat(app_client, ref, channel="app")
    # A freeze protects the customer and can be undone: the channel's identity is enough.
    which = chat.say("I lost my card, please help")
    assert "one-time code" not in which and _outbox_empty(app_client, ref)
    assert "Which card" in which and card.last4 in which
    confirm = chat.say(card.last4)
    assert f"ending {card.last4}" in confirm and "freeze" in confirm.lower()
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "active"
    done = chat.say("yes")
    assert "now frozen" in done and "replacement" in done
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "frozen"
    assert "let me know" in chat.say("no thanks")


def test_a_correction_before_confirming_changes_the_card_and_cancel_changes_nothing(app_client, bank, pick):
    def zh_with_cards(ref, customer):
        active = [c for c in bank.list_cards(ref) if c.status == "active"]
        return customer.preferred_language == "zh-Hans" and len(active) >= 2

    ref = pick(zh_with_cards)
    first, second = [c for c in bank.list_cards(ref) if c.status == "active"][:2]
    chat = Chat(app_client, ref)
    confirm = chat.say(f"我的卡丢了，尾号{first.last4}")
    assert f"尾号{first.last4}" in confirm and "确认" in confirm
    corrected = chat.say(f"不对，是尾号{second.last4}那张")
    assert f"尾号{second.last4}" in corrected and "已为您更正" in corrected
    assert "没有做任何更改" in chat.say("算了")
    statuses = {c.last4: c.status for c in bank.list_cards(ref)}
    assert statuses[first.last4] == "active" and statuses[second.last4] == "active"


def _outbox_empty(client: TestClient, ref: str) -> bool:
    page = client.get("/demo/outbox", params={"customer": ref, "limit": 1})
    return page.status_code == 200 and '<td class="body">' not in page.text


def _handoff(chat: Chat) -> dict | None:
    return chat.last.get("handoff")


# ---- the fraud fast lane ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh-Hans", "刚才有人冒充银行客服打电话，我把短信验证码念给他了，尾号{tail}的卡被刷走了钱"),
        ("zh-Hant", "我張尾號{tail}嘅卡俾人盜用咗，有幾筆數唔係我碌嘅"),
        ("en", "someone has used my card ending {tail}, there are payments I never made"),
    ],
)
def test_a_fraud_report_reaches_the_fraud_queue_on_the_first_message_with_the_card_frozen(
    app_client, bank, pick, language, text
):
    def with_active_card(ref, customer):
        return customer.preferred_language == language and any(
            c.status == "active" for c in bank.list_cards(ref)
        )

    ref = pick(with_active_card)
    card = next(c for c in bank.list_cards(ref) if c.status == "active")
    chat = Chat(app_client, ref)
    reply = chat.say(text.format(tail=card.last4))
    handoff = _handoff(chat)
    assert handoff is not None and handoff["queue"] == "fraud", reply
    assert card.last4 in reply
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "frozen"
    assert _outbox_empty(app_client, ref)  # no one-time code was sent to a scam victim


def test_a_hardship_message_in_answer_to_a_yes_no_question_goes_to_a_senior_agent(app_client, bank, pick):
    def en_with_cards(ref, customer):
        active = [c for c in bank.list_cards(ref) if c.status == "active"]
        return customer.preferred_language == "en" and len(active) >= 1

    ref = pick(en_with_cards)
    card = next(c for c in bank.list_cards(ref) if c.status == "active")
    chat = Chat(app_client, ref)
    assert "freeze" in chat.say(f"I lost my card ending {card.last4}").lower()
    chat.say("my husband passed away last month, there's no income and I can't keep up with the repayments")
    handoff = _handoff(chat)
    assert handoff is not None and handoff["queue"] == "senior"
    # Not read as "no": nothing was frozen and nothing was cancelled by the bot.
    assert next(c for c in bank.list_cards(ref) if c.last4 == card.last4).status == "active"


def test_charged_twice_is_refunded_by_the_duplicate_rule(app_client, bank, pick):
    def with_duplicate(ref, customer):
        return customer.preferred_language == "zh-Hans" and any(
            t.ref.endswith("D") and t.status == "posted" and -t.amount <= Decimal("2000")
            for t in bank.list_transactions(ref, limit=1000)
        )

    ref = pick(with_duplicate)
    dup = next(t for t in bank.list_transactions(ref, limit=1000) if t.ref.endswith("D"))
    chat = Chat(app_client, ref)
    chat.say(f"{dup.merchant}同一笔扣了我两次，都是{-dup.amount}")
    confirm = chat.verify()
    assert _money_zh(-dup.amount) in confirm or f"{-dup.amount:,.2f}" in confirm
    done = chat.say("确认")
    assert "已通过" in done and "退回" in done
    refunds = [
        t
        for t in bank.list_transactions(ref, limit=1000)
        if t.category == "refund" and t.amount == -dup.amount
    ]
    assert len(refunds) == 1


# ---- installment prepayment ------------------------------------------------------------------------


def test_installment_prepayment_quote_is_exact_from_the_customers_plan(app_client, bank, pick):
    ref, plan = pick.with_one_plan("zh-Hans")
    remaining, fee = expected_prepayment(plan)
    chat = Chat(app_client, ref)
    chat.say("我办了分期，请问分期后能否提前还款？要多少钱")
    quote = chat.verify()
    assert name_in(plan.description, "zh-Hans") in quote  # the product's name in the reply's language
    assert f"剩余本金：{_money_zh(remaining)}元" in quote
    assert f"提前还款手续费：{_money_zh(fee)}元" in quote
    assert f"合计需还：{_money_zh(remaining + fee)}元" in quote
    assert "生效日期" in quote


# ---- transfer trace and the return visit ------------------------------------------------------------


def test_transfer_not_arrived_is_traced_and_raised_again_on_the_next_visit(app_client, bank, pick):
    def pending_transfer(ref, customer):
        transfers = bank.list_transfers(ref, limit=5)
        return (
            customer.preferred_language == "zh-Hans" and bool(transfers) and transfers[0].status == "pending"
        )

    ref = pick(pending_transfer)
    transfer = bank.list_transfers(ref, limit=5)[0]
    chat = Chat(app_client, ref)
    chat.say("我前几天转的钱到现在还没到账，怎么回事")
    traced = chat.verify()
    assert transfer.payee_name in traced and "处理中" in traced

    # The same customer comes back on another channel: the bot raises the open issue first.
    again = Chat(app_client, ref, channel="app")
    hello = again.say("你好")
    assert again.last["replies"][0]["kind"] == "issue"
    assert "您上次反映的转账未到账问题" in again.last["replies"][0]["text"]
    assert "您好" in hello
    # Raised once per conversation, not on every message.
    again.say("你好")
    assert "上次反映" not in "\n".join(r["text"] for r in again.last["replies"])


# ---- knowledge base ----------------------------------------------------------------------------------


def test_a_faq_answer_cites_its_source(app_client):
    chat = Chat(app_client, None)
    text = chat.say("开户需要带什么证件？")
    reply = chat.last["replies"][0]
    assert reply["kind"] == "answer" and reply["citations"]
    assert reply["citations"][0]["ref"]
    assert "身份证" in text


def test_a_question_outside_the_knowledge_base_gets_an_honest_dont_know_and_an_agent(app_client):
    chat = Chat(app_client, None, channel="api")
    text = chat.say("How much is the yearly rent for a safe deposit box at your branches?")
    assert "couldn't find a reliable answer" in text and "don't want to guess" in text
    assert "connect you" in text
    chat.say("yes")
    assert chat.last["state"] == "waiting_for_agent"


# ---- follow-ups and digressions -------------------------------------------------------------------


def test_follow_up_reuses_the_last_request_with_the_new_period(app_client, bank, pick):
    ref = pick(
        lambda r, c: c.preferred_language == "zh-Hans" and len(bank.list_transactions(r, limit=5)) >= 5
    )
    chat = Chat(app_client, ref)
    chat.say("帮我查一下这个月的交易明细")
    this_month = chat.verify()
    assert "笔交易" in this_month or "没有查到交易记录" in this_month
    last_month = chat.say("那上个月的呢？")
    now = datetime.now(UTC) + timedelta(hours=8)
    first_of_last = (now.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert f"{first_of_last.year}年{first_of_last.month}月1日" in last_month


def test_a_digression_is_answered_and_the_open_task_comes_back(app_client, bank, pick):
    ref = pick(
        lambda r, c: (
            c.preferred_language == "en" and len([x for x in bank.list_cards(r) if x.status == "active"]) >= 2
        ),
    )
    chat = Chat(app_client, ref)
    which = chat.say("My card was stolen")
    assert "Which card" in which
    side = chat.say("By the way, what's the US dollar exchange rate today?")
    assert "USD" in side and "Back to what we were doing" in side and "Which card" in side


# ---- conversions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "amount", "side"),
    [
        ("How much RMB do I need for 100,000 yen?", "JPY", "100000", "sell"),
        ("I have 800 euros left over, how much RMB would I get?", "EUR", "800", "buy"),
        ("我想把人民币换成5000港币，今天要多少钱？", "HKD", "5000", "sell"),
        ("人民幣換港幣，三千港幣要幾多錢？", "HKD", "3000", "sell"),
    ],
)
def test_an_amount_is_converted_at_the_banks_rate_for_a_visitor(app_client, text, currency, amount, side):
    from decimal import ROUND_HALF_UP

    from helixdesk.actions.rates import DEMO_RATES

    chat = Chat(app_client, None)  # rates are public: nobody signed in
    reply = chat.say(text)
    buy, sell = (Decimal(x) for x in DEMO_RATES[currency])
    rate = sell if side == "sell" else buy
    expected = (Decimal(amount) * rate).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert currency in reply
    assert f"{expected:,.2f}" in reply, reply  # the figure, exact to the cent
    assert str(rate) in reply  # with the rate it was worked out from
