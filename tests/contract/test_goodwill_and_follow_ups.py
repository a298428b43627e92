"""Goodwill compensation within the pack's limits and follow-up tasks, on SQLite and PostgreSQL.

Goodwill: credited through the bank connector, audited, told to the customer in their language;
an agent approves up to the agent limit and asks a supervisor for more; anything over a limit is
refused with `goodwill_over_limit` and nothing is stored. Follow-ups: the bot raises them when the
customer comes back on another channel; the owner sees them and marks them done."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from helixdesk.bank.connector import Transaction
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.container import Container
from helixdesk.handoff.goodwill import bank_ref
from helixdesk.handoff.models import GoodwillCredit
from helixdesk.memory.models import CustomerIssue
from tests.contract.test_handoff_service import desk, fraud_conversation, handoff_of, staff
from tests.contract.test_interventions import audit_of

__all__ = ["desk"]


def balance(container, ref: str) -> Decimal:
    (savings,) = [a for a in container.bank.list_accounts(ref) if a.kind == "savings"]
    return savings.balance


def credits(container) -> int:
    with container.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(GoodwillCredit)) or 0)


async def conversation_with(container, ref: str, agent) -> str:
    conv_id = await fraud_conversation(container, ref)
    await container.claims.claim(agent, handoff_of(container, conv_id).id)
    return conv_id


# ---- goodwill -----------------------------------------------------------------------------------


async def test_a_supervisor_credits_goodwill_the_customer_is_told_and_it_is_audited(desk):
    conv_id = await fraud_conversation(desk, "C000001")
    boss = staff(desk, "sup.a", ["supervisor"])
    before = balance(desk, "C000001")
    out = await desk.goodwill.grant(boss, conv_id, amount="100.00", reason="long_wait", note="等候过久")
    assert (out["status"], out["amount"], out["currency"]) == ("credited", "100.00", "CNY")
    assert out["transaction_ref"] == bank_ref(out["id"]) and out["account"].startswith("****")
    assert balance(desk, "C000001") == before + Decimal("100.00")
    posted = [t for t in desk.bank.list_transactions("C000001", limit=5) if t.ref == out["transaction_ref"]]
    assert len(posted) == 1 and posted[0].amount == Decimal("100.00")
    told = (await desk.conversations.list_messages(conv_id))[-1]
    assert told.sender == "system" and "100.00元" in told.text and "补偿" in told.text
    (entry,) = audit_of(desk, conv_id, "goodwill.credited")
    assert entry["amount"] == "100.00" and entry["transaction_ref"] == out["transaction_ref"]
    assert [g["id"] for g in desk.goodwill.for_conversation(boss, conv_id)] == [out["id"]]


async def test_the_customer_is_told_in_their_own_language(desk):
    conv = await desk.conversations.create_conversation(channel="app", customer_ref="C000006")  # English
    boss = staff(desk, "sup.a", ["supervisor"])
    await desk.goodwill.grant(boss, conv.id, amount=Decimal("20"), reason="fee_error")
    told = (await desk.conversations.list_messages(conv.id))[-1]
    assert "CNY 20.00" in told.text and "credited" in told.text


async def test_over_the_conversation_limit_is_refused_and_nothing_is_stored(desk):
    conv_id = await fraud_conversation(desk, "C000001")
    boss = staff(desk, "sup.a", ["supervisor"])
    await desk.goodwill.grant(boss, conv_id, amount="150", reason="service_failure")
    stored, money, said = (
        credits(desk),
        balance(desk, "C000001"),
        await desk.conversations.list_messages(conv_id),
    )
    with pytest.raises(AppError) as over:
        await desk.goodwill.grant(boss, conv_id, amount="50.01", reason="service_failure")
    assert (over.value.code, over.value.http_status) == ("goodwill_over_limit", 422)
    assert "200.00 CNY in one conversation" in over.value.detail and "150.00 CNY" in over.value.detail
    assert credits(desk) == stored and balance(desk, "C000001") == money
    assert await desk.conversations.list_messages(conv_id) == said
    assert len(audit_of(desk, conv_id, "goodwill.approved")) == 1


async def test_the_customer_limit_holds_across_conversations_and_channels(desk):
    boss = staff(desk, "sup.a", ["supervisor"])
    for _ in range(2):
        conv = await desk.conversations.create_conversation(channel="app", customer_ref="C000002")
        await desk.goodwill.grant(boss, conv.id, amount="200", reason="system_outage")
    third = await desk.conversations.create_conversation(channel="web", customer_ref="C000002")
    with pytest.raises(AppError) as over:
        await desk.goodwill.grant(boss, third.id, amount="100.01", reason="system_outage")
    assert over.value.code == "goodwill_over_limit" and "in 30 days" in over.value.detail
    assert credits(desk) == 2
    done = await desk.goodwill.grant(boss, third.id, amount="100", reason="system_outage")
    assert done["status"] == "credited"


async def test_an_agent_approves_up_to_their_limit_and_asks_a_supervisor_for_more(desk):
    fraud = staff(desk, "fraud.a", ["fraud"])
    boss = staff(desk, "sup.a", ["supervisor"])
    conv_id = await conversation_with(desk, "C000004", fraud)
    before = balance(desk, "C000004")
    small = await desk.goodwill.grant(fraud, conv_id, amount="50", reason="fee_error")
    assert small["status"] == "credited" and small["decided_by"] == "fraud.a"
    asked = await desk.goodwill.grant(fraud, conv_id, amount="80", reason="service_failure")
    assert asked["status"] == "pending" and asked["transaction_ref"] is None
    assert balance(desk, "C000004") == before + 50
    assert [g["id"] for g in desk.goodwill.waiting(boss)] == [asked["id"]]
    with pytest.raises(AppError) as not_boss:
        await desk.goodwill.approve(fraud, asked["id"])
    assert not_boss.value.code == "supervisor_only"
    # A pending request counts towards the limit: 50 + 80 + 71 > 200.
    with pytest.raises(AppError) as over:
        await desk.goodwill.grant(boss, conv_id, amount="71", reason="service_failure")
    assert over.value.code == "goodwill_over_limit"
    approved = await desk.goodwill.approve(boss, asked["id"])
    assert (approved["status"], approved["decided_by"]) == ("credited", "sup.a")
    assert balance(desk, "C000004") == before + 130
    with pytest.raises(AppError) as twice:
        await desk.goodwill.approve(boss, asked["id"])
    assert twice.value.code == "goodwill_decided"
    assert desk.goodwill.waiting(boss) == []


async def test_a_rejected_request_pays_nothing_and_frees_the_limit(desk):
    fraud = staff(desk, "fraud.a", ["fraud"])
    boss = staff(desk, "sup.a", ["supervisor"])
    conv_id = await conversation_with(desk, "C000005", fraud)
    before = balance(desk, "C000005")
    asked = await desk.goodwill.grant(fraud, conv_id, amount="200", reason="long_wait")
    rejected = await desk.goodwill.reject(boss, asked["id"], note="not warranted")
    assert rejected["status"] == "rejected" and balance(desk, "C000005") == before
    assert audit_of(desk, conv_id, "goodwill.rejected")[0]["why"] == "not warranted"
    again = await desk.goodwill.grant(boss, conv_id, amount="200", reason="long_wait")
    assert again["status"] == "credited"


class NoCreditsBank(DemoBankConnector):
    """A bank whose connector cannot post credits: goodwill is paid by its back office."""

    def post_credit(self, customer_ref: str, **kwargs: object) -> Transaction:  # type: ignore[override]
        raise NotImplementedError


async def test_a_bank_that_cannot_post_credits_leaves_goodwill_approved_for_its_back_office(
    db_url, settings_for
):
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    container = Container.build(
        settings_for(db_url, secret_key="s" * 32),
        engine=engine,
        sessions=sessions,
        bank=NoCreditsBank(session_factory=sessions),
    )
    with transaction(container.sessions) as s:
        import_bank_file(s, build_demo_bank(10))
    await container.start()
    try:
        boss = staff(container, "sup.a", ["supervisor"])
        conv_id = await fraud_conversation(container, "C000001")
        before = balance(container, "C000001")
        out = await container.goodwill.grant(boss, conv_id, amount="30", reason="long_wait")
        assert (out["status"], out["transaction_ref"]) == ("approved", None)
        assert balance(container, "C000001") == before
        told = (await container.conversations.list_messages(conv_id))[-1]
        assert "批准" in told.text and "30.00元" in told.text
        assert audit_of(container, conv_id, "goodwill.approved")[0]["amount"] == "30.00"
    finally:
        await container.stop()


@pytest.mark.parametrize(
    ("amount", "reason", "code"),
    [
        ("0", "long_wait", "invalid_amount"),
        ("12.345", "long_wait", "invalid_amount"),
        ("abc", "long_wait", "invalid_amount"),
        ("10", "because", "invalid_goodwill_reason"),
        ("500", "long_wait", "goodwill_over_limit"),
    ],
)
async def test_bad_goodwill_input_is_refused_with_a_stable_code(desk, amount, reason, code):
    conv_id = await fraud_conversation(desk, "C000001")
    boss = staff(desk, "sup.a", ["supervisor"])
    with pytest.raises(AppError) as refused:
        await desk.goodwill.grant(boss, conv_id, amount=amount, reason=reason)
    assert refused.value.code == code
    assert credits(desk) == 0


async def test_goodwill_needs_a_known_customer_and_an_agent_handling_the_conversation(desk):
    anonymous = await fraud_conversation(desk, None)
    boss = staff(desk, "sup.a", ["supervisor"])
    other = staff(desk, "fraud.b", ["fraud"])
    with pytest.raises(AppError) as unknown:
        await desk.goodwill.grant(boss, anonymous, amount="10", reason="long_wait")
    assert unknown.value.code == "goodwill_needs_customer"
    known = await fraud_conversation(desk, "C000001")
    with pytest.raises(AppError) as not_mine:
        await desk.goodwill.grant(other, known, amount="10", reason="long_wait")
    assert not_mine.value.code == "not_your_conversation"
    assert credits(desk) == 0


# ---- follow-ups ---------------------------------------------------------------------------------


async def test_a_follow_up_is_raised_when_the_customer_returns_on_another_channel(desk):
    fraud = staff(desk, "fraud.a", ["fraud"])
    senior = staff(desk, "senior.a", ["senior"])
    senior_name = "资深专员王芳"
    with desk.sessions.begin() as s:
        from helixdesk.auth.models import StaffUser

        s.get_one(StaffUser, senior.id).display_name = senior_name
    conv_id = await conversation_with(desk, "C000001", fraud)
    due = utcnow() + timedelta(days=2)
    made = desk.follow_ups.create(
        fraud, conv_id, title="回电确认 13812345678 的退款进度", due_at=due, owner_username="senior.a"
    )
    assert made["owner_name"] == senior_name and made["customer_ref"] == "C000001"
    assert "13812345678" not in made["title"]  # the person's words, masked
    assert [f["id"] for f in desk.follow_ups.mine(senior)] == [made["id"]]
    assert desk.follow_ups.mine(fraud) == []
    (entry,) = audit_of(desk, conv_id, "follow_up.created")
    assert entry["owner"] == "senior.a"

    back = await desk.conversations.create_conversation(channel="app", customer_ref="C000001")
    result = await desk.conversations.post_customer_message(back.id, "你好")
    first = result.replies[0].text
    assert senior_name in first and "跟进" in first
    local = due.astimezone(desk.config.actions.bank.tz)
    assert f"{local.year}年{local.month}月{local.day}日" in first
    assert desk.follow_ups.mine(senior)[0]["raised"] == 1

    done = desk.follow_ups.done(senior, made["id"])
    assert done["status"] == "resolved" and desk.follow_ups.mine(senior) == []
    again = await desk.conversations.create_conversation(channel="web", customer_ref="C000001")
    later = await desk.conversations.post_customer_message(again.id, "你好")
    assert all(senior_name not in r.text for r in later.replies)


async def test_a_follow_up_in_english_names_the_owner_and_the_date(desk):
    fraud = staff(desk, "fraud.a", ["fraud"])
    conv_id = await conversation_with(desk, "C000006", fraud)
    desk.follow_ups.create(
        fraud, conv_id, title="Call back about the refund", due_at=utcnow() + timedelta(days=1)
    )
    back = await desk.conversations.create_conversation(channel="app", customer_ref="C000006")
    result = await desk.conversations.post_customer_message(back.id, "hello")
    assert "our colleague fraud.a is following it up" in result.replies[0].text


@pytest.mark.parametrize(
    ("title", "due_in", "owner", "code"),
    [
        ("call back", timedelta(hours=-1), None, "due_in_past"),
        ("call back", timedelta(days=400), None, "due_too_far"),
        ("   ", timedelta(days=1), None, "invalid_follow_up_title"),
        ("call back", timedelta(days=1), "nobody.here", "user_not_found"),
        ("call back", timedelta(days=1), "audit.only", "invalid_owner"),
    ],
)
async def test_bad_follow_up_input_is_refused_and_nothing_is_stored(desk, title, due_in, owner, code):
    fraud = staff(desk, "fraud.a", ["fraud"])
    staff(desk, "audit.only", ["admin"], online=False)
    conv_id = await conversation_with(desk, "C000001", fraud)
    with desk.sessions() as s:
        before = s.scalar(select(func.count()).select_from(CustomerIssue))
    with pytest.raises(AppError) as refused:
        desk.follow_ups.create(fraud, conv_id, title=title, due_at=utcnow() + due_in, owner_username=owner)
    assert refused.value.code == code
    with desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(CustomerIssue)) == before


async def test_only_the_owner_or_a_supervisor_marks_a_follow_up_done(desk):
    fraud = staff(desk, "fraud.a", ["fraud"])
    other = staff(desk, "fraud.b", ["fraud"])
    boss = staff(desk, "sup.a", ["supervisor"])
    conv_id = await conversation_with(desk, "C000001", fraud)
    made = desk.follow_ups.create(fraud, conv_id, title="call back", due_at=utcnow() + timedelta(days=1))
    with pytest.raises(AppError) as not_owner:
        desk.follow_ups.done(other, made["id"])
    assert not_owner.value.code == "not_your_conversation"
    with pytest.raises(AppError) as missing:
        desk.follow_ups.done(boss, "no-such-id")
    assert missing.value.code == "follow_up_not_found"
    assert desk.follow_ups.done(boss, made["id"])["status"] == "resolved"
    anonymous = await fraud_conversation(desk, None)
    await desk.claims.claim(fraud, handoff_of(desk, anonymous).id)
    with pytest.raises(AppError) as unknown:
        desk.follow_ups.create(fraud, anonymous, title="call back", due_at=utcnow() + timedelta(days=1))
    assert unknown.value.code == "follow_up_needs_customer"
