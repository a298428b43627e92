"""End to end through the public API on the seeded demo bank (SQLite, real NLU models): the bank's
local time, statements, conversions from CNY, and replies entirely in the customer's language.

Every reply a test reads is scanned (`tests/replyscan.py`) for the other Chinese script, Chinese in
an English reply and code-like text; only a payee's own name may appear as it is.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from helixdesk.actions.policies import load_action_policies
from helixdesk.actions.rates import DEMO_RATES
from helixdesk.bank.connector import BankConnector
from helixdesk.edge.app import create_app
from helixdesk.nlg.names import has_cjk, name_in
from helixdesk.packs.loader import load_pack
from helixdesk.simulation.numbers import expected_prepayment
from tests.replyscan import problems
from tests.seeded import CustomerPicker, seeded_database

pytestmark = pytest.mark.slow

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY_LABELS = tuple(
    x
    for x in (lambda p: (p.fees.label, p.disputes.label, p.bank.label))(
        load_action_policies(load_pack("retail_bank"))
    )
    if x
)


@pytest.fixture(scope="module")
def app_client(tmp_path_factory, model_root):
    from helixdesk.core.settings import Settings

    path = tmp_path_factory.mktemp("local-time") / "helixdesk.db"
    url = f"sqlite:///{path}"
    engine, _ = seeded_database(url)
    engine.dispose()
    settings = Settings(_env_file=None, database_url=url, model_dir=model_root)  # type: ignore[call-arg]
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def bank(app_client) -> BankConnector:
    return app_client.app.state.container.bank


@pytest.fixture(scope="module")
def pick(bank):
    return CustomerPicker(bank)


class Chat:
    """A conversation through the API; `at` posts every message at that moment (the service's own
    `now`), so the bank's "today" can be tested on either side of midnight."""

    def __init__(self, client: TestClient, customer_ref: str | None, *, at: datetime | None = None) -> None:
        self.client = client
        self.ref = customer_ref
        self.at = at
        body = {"channel": "web", **({"customer_ref": customer_ref} if customer_ref else {})}
        r = client.post("/api/v1/conversations", json=body)
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        self.headers = {"Authorization": f"Bearer {r.json()['token']}"}

    def say(self, text: str) -> str:
        if self.at is None:
            r = self.client.post(
                f"/api/v1/conversations/{self.id}/messages", json={"text": text}, headers=self.headers
            )
            assert r.status_code == 200, r.text
            replies = r.json()["replies"]
        else:
            service = self.client.app.state.container.conversations
            call = functools.partial(service.post_customer_message, self.id, text, now=self.at)
            replies = [r.model_dump() for r in self.client.portal.call(call).replies]  # type: ignore[union-attr]
        return "\n".join(reply["text"] for reply in replies)

    def verify(self) -> str:
        page = self.client.get("/demo/outbox", params={"customer": self.ref, "limit": 1})
        body = re.search(r'<td class="body">(.*?)</td>', page.text, re.S)
        assert body, "no notification in the outbox"
        return self.say(re.findall(r"(?<!\d)(\d{6})(?!\d)", body.group(1))[0])


def _clean(text: str, language: str, *, allowed: tuple[str, ...] = ()) -> None:
    found = problems(text, language, allowed=allowed, foreign=POLICY_LABELS)
    assert found == [], f"{found}\n---\n{text}"


def _day_zh(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _past_1730_utc() -> datetime:
    """The latest 17:30 UTC before now: 01:30 the next day in Shanghai, a different date."""
    now = datetime.now(UTC)
    at = now.replace(hour=17, minute=30, second=0, microsecond=0)
    return at if at <= now else at - timedelta(days=1)


# ---- the bank's local time -------------------------------------------------------------------------


def test_today_and_this_month_are_the_banks_days_and_times_are_local(app_client, bank, pick):
    at = _past_1730_utc()
    local = at.astimezone(SHANGHAI)
    assert local.date() != at.date()  # the server's UTC day is still the day before
    ref = pick(lambda r, c: c.preferred_language == "zh-Hans" and bool(bank.list_transactions(r, limit=1)))
    chat = Chat(app_client, ref, at=at)
    chat.say("帮我查一下今天的交易明细")
    today = chat.verify()
    assert f"{_day_zh(local.date())}（" in today and _day_zh(at.date()) + "（" not in today
    _clean(today, "zh-Hans")
    month = chat.say("帮我查一下这个月的交易明细")
    first = local.date().replace(day=1)
    # From the 1st up to today, never to the month's last day.
    assert f"{_day_zh(first)}（" in month and f"至{_day_zh(local.date())}（" in month, month
    _clean(month, "zh-Hans")


def _minutes(before: datetime, after: datetime) -> list[datetime]:
    """Every minute from `before` to `after`, in Shanghai: what a reply dated in between may show."""
    start = before.astimezone(SHANGHAI).replace(second=0, microsecond=0)
    out = [start]
    while out[-1] + timedelta(minutes=1) <= after:
        out.append(out[-1] + timedelta(minutes=1))
    return out


@pytest.mark.parametrize(
    ("language", "question", "shown"),
    [
        ("zh-Hans", "我的余额是多少", lambda t: f"截至{_day_zh(t)} {t:%H:%M}"),
        ("en", "what's my balance", lambda t: f"as of {t.day} {t:%b %Y}, {t:%H:%M}"),
    ],
)
def test_a_balance_is_as_of_the_banks_local_time(app_client, bank, pick, language, question, shown):
    ref = pick(lambda r, c: bool(bank.list_accounts(r)))
    chat = Chat(app_client, ref)
    chat.say(question)
    before = datetime.now(UTC)
    text = chat.verify()
    after = datetime.now(UTC)
    assert any(shown(t) in text for t in _minutes(before, after)), text  # Beijing time, not UTC
    _clean(text, language)


def test_the_nlu_api_reads_today_in_the_banks_zone(app_client):
    _, raw = app_client.app.state.container.api_keys.create(name="nlu", channel="api", scopes=["nlu"])
    before = datetime.now(UTC).astimezone(SHANGHAI).date()
    r = app_client.post("/api/v1/nlu/parse", json={"text": "今天的交易"}, headers={"X-Api-Key": raw})
    after = datetime.now(UTC).astimezone(SHANGHAI).date()
    assert r.status_code == 200, r.text
    (day,) = [e["value"] for e in r.json()["entities"] if e["type"] == "date"]
    assert day["start"][:10] in {before.isoformat(), after.isoformat()}  # Shanghai's day, not UTC's


# ---- statements ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "question", "issued", "cycle"),
    [
        ("zh-Hans", "我的信用卡账单要还多少", "最近一期已出账单", "本期账单尚未出"),
        ("zh-Hant", "我張信用卡月結單要還幾多錢？", "最近一期已發出的月結單", "本期月結單尚未發出"),
        (
            "en",
            "How much is my credit card bill?",
            "latest statement issued on",
            "spending so far this cycle",
        ),
    ],
)
def test_the_bill_is_the_latest_issued_statement_and_this_cycle_is_spending_so_far(
    app_client, bank, pick, language, question, issued, cycle
):
    ref = pick(lambda r, c: bool(bank.list_statements(r)))
    latest = bank.list_statements(ref, limit=1)[0]
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    assert latest.statement_date <= today  # the demo bank seeds no bill before its date
    chat = Chat(app_client, ref)
    chat.say(question)
    text = chat.verify()
    assert issued in text and cycle in text, text
    assert f"{latest.amount_due:,.2f}" in text
    spent = sum(
        (
            -t.amount
            for t in bank.list_transactions(ref, limit=5000)
            if t.card_last4 == latest.card_last4
            and t.amount < 0
            and t.currency == latest.currency
            and t.status not in ("failed", "reversed")
            and t.occurred_at.astimezone(SHANGHAI).date() > latest.statement_date
        ),
        Decimal(0),
    )
    assert f"{spent:,.2f}" in text
    _clean(text, language)


# ---- conversions from CNY, both ways, signed in or not ----------------------------------------------


def _q(value: Decimal, step: str = "0.01") -> str:
    return f"{value.quantize(Decimal(step), ROUND_HALF_UP):,.{0 if step == '1' else 2}f}"


@pytest.mark.parametrize(
    ("language", "text", "currency", "figure", "words"),
    [
        (
            "en",
            "how many USD can I get for 10,000 RMB",
            "USD",
            ("base", "10000"),
            ("sell rate", "Beijing time"),
        ),
        ("zh-Hans", "一万人民币能换多少美元", "USD", ("base", "10000"), ("卖出价", "北京时间", "美元")),
        ("zh-Hant", "人民幣換港幣，5000蚊人民幣", "HKD", ("base", "5000"), ("賣出價", "北京時間", "港元")),
        (
            "en",
            "I want to change CNY into 5,000 HKD, how much today",
            "HKD",
            ("foreign", "5000"),
            ("sell rate", "Hong Kong dollar"),
        ),
        ("zh-Hans", "我有5000块人民币，能换多少日元", "JPY", ("base", "5000"), ("卖出价", "日元")),
    ],
)
def test_cny_is_converted_at_the_rate_of_the_customers_side(
    app_client, language, text, currency, figure, words
):
    buy, sell = (Decimal(x) for x in DEMO_RATES[currency])
    side, amount = figure
    chat = Chat(app_client, None)  # rates are public: nobody signed in
    reply = chat.say(text)
    step = "1" if currency == "JPY" else "0.01"
    if side == "base":  # CNY given: what it buys (bank sells, sell rate), and what to sell to get it
        assert _q(Decimal(amount) / sell, step) in reply, reply
        assert _q(Decimal(amount) / buy, step) in reply, reply
    else:  # a foreign amount wanted: the CNY needed at the bank's sell rate
        assert _q(Decimal(amount) * sell) in reply, reply
    assert str(sell) in reply and str(buy) in reply and currency in reply
    assert all(w in reply for w in words), reply
    _clean(reply, language)


def test_a_signed_in_customer_converts_the_same_way(app_client, bank, pick):
    ref = pick(lambda r, c: c.preferred_language == "zh-Hant")
    chat = Chat(app_client, ref)
    reply = chat.say("用一萬蚊人民幣可以換幾多美金")
    buy, sell = (Decimal(x) for x in DEMO_RATES["USD"])
    assert _q(Decimal(10000) / sell) in reply and _q(Decimal(10000) / buy) in reply, reply
    _clean(reply, "zh-Hant")


# ---- the customer's language, whole -----------------------------------------------------------------


def _first_problem_transfer(bank, ref):
    transfers = bank.list_transfers(ref, limit=200)
    order = sorted(transfers, key=lambda t: (t.status == "completed", -t.created_at.timestamp()))
    return order[0] if order else None


@pytest.mark.parametrize(
    ("language", "question", "didnt"),
    [
        ("zh-Hant", "我嘅轉賬失敗咗，點解？", "轉賬未成功"),
        ("en", "My transfer failed, why?", "did not go through"),
        ("zh-Hans", "我的转账失败了，怎么回事", "转账未成功"),
    ],
)
def test_a_failed_transfer_is_explained_entirely_in_the_customers_language(
    app_client, bank, pick, language, question, didnt
):
    def failed_first(r, c):
        t = _first_problem_transfer(bank, r)
        return t is not None and t.status in ("failed", "returned") and t.failure_reason is not None

    ref = pick(failed_first)
    transfer = _first_problem_transfer(bank, ref)
    chat = Chat(app_client, ref)
    prompt = chat.say(question)
    _clean(prompt, language)
    text = chat.verify()
    assert didnt in text, text
    chinese, english = transfer.failure_reason.split(" / ")
    assert english not in text  # the bank's text is not pasted in: the pack's label is
    if language != "zh-Hans":
        assert chinese not in text
    _clean(text, language, allowed=(transfer.payee_name,))


@pytest.mark.parametrize(
    ("language", "question", "words"),
    [
        ("zh-Hant", "我想提早還清分期，要幾多錢？", ("剩餘本金", "提早還款手續費", "四捨五入至分")),
        (
            "en",
            "I'd like to pay off my instalment plan early, how much would it cost?",
            ("Remaining principal", "rounded to the nearest cent"),
        ),
        ("zh-Hans", "我办了分期，请问提前还款要多少钱", ("剩余本金", "提前还款手续费", "四舍五入到分")),
    ],
)
def test_an_instalment_quote_is_in_words_of_the_customers_language(
    app_client, bank, pick, language, question, words
):
    def one_plan(r, c):
        return len([p for p in bank.list_installment_plans(r) if p.status == "active"]) == 1

    ref = pick(one_plan)
    plan = next(p for p in bank.list_installment_plans(ref) if p.status == "active")
    remaining, fee = expected_prepayment(plan)
    chat = Chat(app_client, ref)
    chat.say(question)
    text = chat.verify()
    assert all(w in text for w in words), text
    assert f"{remaining:,.2f}" in text and f"{fee:,.2f}" in text and f"{remaining + fee:,.2f}" in text
    assert name_in(plan.description, language) in text
    _clean(text, language)


def test_an_english_customer_naming_a_payee_in_chinese_is_answered_in_english(app_client, bank, pick):
    def chinese_payee(r, c):
        transfers = bank.list_transfers(r, limit=1)
        return c.preferred_language == "zh-Hans" and bool(transfers) and has_cjk(transfers[0].payee_name)

    ref = pick(chinese_payee)  # a customer whose profile says Chinese, writing in English
    payee = bank.list_transfers(ref, limit=1)[0].payee_name
    chat = Chat(app_client, ref)
    prompt = chat.say(f"My transfer to {payee} hasn't arrived yet")
    assert "code" in prompt.lower(), prompt
    _clean(prompt, "en")
    traced = chat.verify()
    assert "verified" in traced.lower() or "transfer" in traced.lower()
    _clean(traced, "en", allowed=(payee, *(t.payee_name for t in bank.list_transfers(ref, limit=200))))


# ---- what an agent sees ----------------------------------------------------------------------------


def test_the_agent_console_shows_transactions_in_the_banks_local_time(app_client, bank, pick):
    from tests.console_login import sign_in

    ref = pick(lambda r, c: bool(bank.list_transactions(r, limit=1)))
    chat = Chat(app_client, ref)
    chat.say("你好")
    app_client.app.state.container.staff.create_user(
        username="tz.supervisor",
        password="time zone passphrase 12",
        display_name="Supervisor",
        roles=["supervisor"],
    )
    # A browser of its own (the customer's client keeps its token); redirects are looked at, not followed.
    console = TestClient(app_client.app, follow_redirects=False)
    sign_in(console, "tz.supervisor", "time zone passphrase 12")
    r = console.get(f"/console/api/conversations/{chat.id}")
    assert r.status_code == 200, r.text
    shown = r.json()["transactions"]
    newest = bank.list_transactions(ref, limit=10)
    assert [x["ref"] for x in shown] == [t.ref for t in newest]
    for x, t in zip(shown, newest, strict=True):
        local = t.occurred_at.astimezone(SHANGHAI)
        assert x["at"] == local.isoformat() and x["at"].endswith("+08:00")  # as the page shows it
