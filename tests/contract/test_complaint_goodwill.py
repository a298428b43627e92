"""Service as marketing, on SQLite and PostgreSQL: a customer at risk whose complaint a person
resolves receives the pack's goodwill offer (`goodwill_after_complaint`, 50 CNY) from the
`outreach` consumer: credited through the bank, audited, told by SMS in their language, exactly
once however often the event log is read again. A customer not at risk, a complaint left open, a
fraud report still open elsewhere, the goodwill limits and the holdout group each give nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.bus.consumer import ConsumerOffset
from helixdesk.conversations.models import Conversation
from helixdesk.core.clock import utcnow
from helixdesk.db.session import transaction
from helixdesk.edge.container import Container
from helixdesk.handoff.models import GoodwillCredit
from helixdesk.lifecycle.models import TouchRow
from helixdesk.lifecycle.profile import ConversationSignals
from helixdesk.lifecycle.store import Editor
from helixdesk.lifecycle.strategies import in_holdout
from helixdesk.memory.service import IssueOp, apply_issue_ops
from helixdesk.notifications.notifier import OutboxNotifier, list_outbox
from helixdesk.outreach.goodwill import MAX_AGE, ComplaintGoodwill, touch_key
from helixdesk.outreach.worker import CONSUMER, outreach_consumer
from tests.contract.test_handoff_service import handoff_of, staff
from tests.contract.test_interventions import audit_of

STRATEGY = "goodwill_after_complaint"


@pytest.fixture
async def desk(db_url, settings_for):
    container = Container.build(settings_for(db_url, secret_key="s" * 32))
    with transaction(container.sessions) as s:
        import_bank_file(s, build_demo_bank(60))
    await container.start()
    try:
        yield container
    finally:
        await container.stop()


def strand_of(desk: Container, **options) -> ComplaintGoodwill:
    return ComplaintGoodwill(
        sessions=desk.sessions,
        profiles=desk.profiles,
        strategies=desk.strategies,
        suitability=desk.config.dialogue.suitability,
        goodwill=desk.goodwill,
        bank=desk.bank,
        notifier=OutboxNotifier(sessions=desk.sessions, keyring=desk.keyring),
        audit=desk.audit,
        tz=desk.config.actions.bank.tz,
        **options,
    )


def customers(desk: Container, *, at_risk: bool) -> list[str]:
    """The demo bank's customers at risk (decline stage or high churn band) or not, as the
    lifecycle sees them today, who have a phone and a CNY savings account to credit."""
    today = utcnow().astimezone(desk.config.actions.bank.tz).date()
    found = []
    for c in build_demo_bank(60).customers:
        view = desk.profiles.read(c.ref, ConversationSignals(), today=today)
        assert view is not None
        if view.snapshot.at_risk == at_risk and view.snapshot.age is not None:
            found.append(c.ref)
    assert found, f"the demo bank of 60 has no customer with at_risk={at_risk}"
    return found


def balance(desk: Container, ref: str) -> Decimal:
    return sum(
        (
            a.balance
            for a in desk.bank.list_accounts(ref)
            if a.kind in ("current", "savings") and a.currency == "CNY"
        ),
        Decimal(0),
    )


async def complaint_resolved(desk: Container, ref: str, *, resolution: str = "resolved") -> str:
    conv = await desk.conversations.create_conversation(channel="web", customer_ref=ref)
    await desk.conversations.post_customer_message(conv.id, "我要投诉你们的服务")
    handoff = handoff_of(desk, conv.id)
    assert handoff is not None and handoff.status == "waiting"
    person = staff(desk, f"senior.{ref.lower()}", ["senior"])
    await desk.claims.claim(person, handoff.id)
    await desk.wrap_up.wrap_up(person, conv.id, disposition="complaint_logged", resolution=resolution)
    return conv.id


async def read_log(desk: Container, strand: ComplaintGoodwill) -> None:
    """The consumer's pass over the published log, as `helixdesk outreach run` makes it."""
    await desk.settle()
    consumer = outreach_consumer(desk.sessions, strand)
    try:
        await consumer.catch_up()
    finally:
        await consumer.stop()


async def consume(desk: Container, strand: ComplaintGoodwill) -> None:
    await read_log(desk, strand)
    strand.settle()


def touches(desk: Container, conversation_id: str) -> list[TouchRow]:
    with desk.sessions() as s:
        return list(s.scalars(select(TouchRow).where(TouchRow.conversation_id == conversation_id)))


def credits(desk: Container) -> list[GoodwillCredit]:
    with desk.sessions() as s:
        return list(s.scalars(select(GoodwillCredit)))


def texts(desk: Container) -> dict[str, str]:
    strategy = desk.strategies.active().get(STRATEGY)
    assert strategy is not None
    return strategy.texts


async def test_an_at_risk_customer_gets_the_offer_audited_and_told_exactly_once(desk):
    strand = strand_of(desk)
    ref = next(
        r for r in customers(desk, at_risk=True) if not in_holdout(desk.strategies.active().get(STRATEGY), r)
    )
    before = balance(desk, ref)
    conv_id = await complaint_resolved(desk, ref)
    await consume(desk, strand)

    (touch,) = touches(desk, conv_id)
    assert (touch.key, touch.status, touch.arm, touch.channel) == (
        touch_key(STRATEGY, conv_id),
        "given",
        "touched",
        "auto",
    )
    assert touch.value_minor == 5000 and touch.trigger == "complaint_resolved"
    (credit,) = credits(desk)
    assert credit.id == touch.goodwill_credit_id and credit.status == "credited"
    assert (credit.amount_minor, credit.currency, credit.requested_by_name) == (
        5000,
        "CNY",
        f"strategy:{STRATEGY}",
    )
    assert balance(desk, ref) == before + Decimal("50.00")
    # Audited: the touch and the credit, each by the strategy.
    (entry,) = audit_of(desk, conv_id, "lifecycle.touch")
    assert (entry["strategy_id"], entry["status"], entry["value"]) == (STRATEGY, "given", "50.00")
    assert entry["actor"] == f"strategy:{STRATEGY}"
    assert [e["actor"] for e in audit_of(desk, conv_id, "goodwill.credited")] == [f"strategy:{STRATEGY}"]
    # Told once, by SMS, in the conversation's language, the strategy's own words.
    sent = list_outbox(desk.sessions, desk.keyring, customer_ref=ref)
    assert [m.body for m in sent] == [texts(desk)["zh-Hans"]] and sent[0].purpose == "goodwill"
    assert touches(desk, conv_id)[0].notice_id == sent[0].id

    # Reading the whole log again (a restart from scratch, a second process) gives nothing more.
    with transaction(desk.sessions) as s:
        s.execute(update(ConsumerOffset).where(ConsumerOffset.consumer == CONSUMER).values(log_seq=0))
    await consume(desk, strand_of(desk))
    await consume(desk, strand)
    assert len(touches(desk, conv_id)) == 1 and len(credits(desk)) == 1
    assert balance(desk, ref) == before + Decimal("50.00")
    assert len(list_outbox(desk.sessions, desk.keyring, customer_ref=ref)) == 1
    assert len(audit_of(desk, conv_id, "lifecycle.touch")) == 1


async def test_a_credit_approved_before_a_crash_is_paid_once_afterwards(desk):
    """The consumer's transaction approved the credit; the process died before paying it. The next
    process pays it, with the same bank reference, once."""
    ref = next(
        r for r in customers(desk, at_risk=True) if not in_holdout(desk.strategies.active().get(STRATEGY), r)
    )
    before = balance(desk, ref)
    conv_id = await complaint_resolved(desk, ref)
    await read_log(desk, strand_of(desk))  # ... and no settle: the crash
    (credit,) = credits(desk)
    assert credit.status == "approved" and balance(desk, ref) == before
    restarted = strand_of(desk)
    assert restarted.settle() == 1 and restarted.settle() == 0
    assert [c.status for c in credits(desk)] == ["credited"] and balance(desk, ref) == before + Decimal(
        "50.00"
    )
    assert len(list_outbox(desk.sessions, desk.keyring, customer_ref=ref)) == 1
    assert touches(desk, conv_id)[0].status == "given"


async def test_nothing_for_a_customer_not_at_risk_or_a_complaint_not_resolved(desk):
    strand = strand_of(desk)
    steady = customers(desk, at_risk=False)[0]
    at_risk = next(
        r for r in customers(desk, at_risk=True) if not in_holdout(desk.strategies.active().get(STRATEGY), r)
    )
    calm = await complaint_resolved(desk, steady)
    open_still = await complaint_resolved(desk, at_risk, resolution="follow_up")
    await consume(desk, strand)
    assert touches(desk, calm) == [] and touches(desk, open_still) == []
    assert credits(desk) == []
    assert list_outbox(desk.sessions, desk.keyring, customer_ref=steady) == []


async def test_a_fraud_report_still_open_elsewhere_holds_the_offer_back(desk):
    strand = strand_of(desk)
    ref = next(
        r for r in customers(desk, at_risk=True) if not in_holdout(desk.strategies.active().get(STRATEGY), r)
    )
    earlier = await desk.conversations.create_conversation(channel="app", customer_ref=ref)
    with transaction(desk.sessions) as s:
        customer_id = s.get(Conversation, earlier.id).customer_id
        apply_issue_ops(
            s,
            [IssueOp("open", topic="fraud", intent="card_fraud_report", facts={})],
            customer_id=customer_id,
            conversation_id=earlier.id,
            now=utcnow() - timedelta(hours=1),
        )
    conv_id = await complaint_resolved(desk, ref)
    await consume(desk, strand)
    (touch,) = touches(desk, conv_id)
    assert (touch.status, touch.outcome, touch.goodwill_credit_id) == ("skipped", "withheld:blocked", None)
    assert credits(desk) == []
    (entry,) = audit_of(desk, conv_id, "lifecycle.touch")
    assert (entry["status"], entry["outcome"]) == ("skipped", "withheld:blocked")


async def test_the_goodwill_limits_still_hold_and_nothing_is_paid_over_them(desk):
    strand = strand_of(desk)
    ref = next(
        r for r in customers(desk, at_risk=True) if not in_holdout(desk.strategies.active().get(STRATEGY), r)
    )
    boss = staff(desk, "sup.a", ["supervisor"])
    for amount in ("200", "200", "100"):  # 500 CNY in 30 days: the customer's limit is reached
        conv = await desk.conversations.create_conversation(channel="app", customer_ref=ref)
        await desk.goodwill.grant(boss, conv.id, amount=amount, reason="system_outage")
    money = balance(desk, ref)
    conv_id = await complaint_resolved(desk, ref)
    await consume(desk, strand)
    (touch,) = touches(desk, conv_id)
    assert (touch.status, touch.outcome) == ("skipped", "goodwill_over_limit")
    assert len(credits(desk)) == 3 and balance(desk, ref) == money
    assert list_outbox(desk.sessions, desk.keyring, customer_ref=ref) == []


async def test_the_holdout_group_is_kept_out_and_recorded(desk):
    """With half of the customers held out, each at-risk customer is given or held out as
    `in_holdout` says, and a held-out one gets nothing but the record."""
    strategy = desk.strategies.active().get(STRATEGY)
    assert strategy is not None
    edited = strategy.model_dump(mode="json") | {"holdout": 0.5}
    desk.strategies.update(Editor("admin", "admin"), STRATEGY, edited)
    held = desk.strategies.active().get(STRATEGY)
    assert held is not None
    refs = customers(desk, at_risk=True)[:4]
    conversations = {ref: await complaint_resolved(desk, ref) for ref in refs}
    await consume(desk, strand_of(desk))
    for ref, conv_id in conversations.items():
        (touch,) = touches(desk, conv_id)
        expected = ("held_out", "holdout") if in_holdout(held, ref) else ("given", "touched")
        assert (touch.status, touch.arm) == expected, ref
        assert touch.strategy_version == 2
    with desk.sessions() as s:
        given = s.scalar(select(func.count()).select_from(TouchRow).where(TouchRow.status == "given"))
    assert len(credits(desk)) == given


def test_the_holdout_is_a_stable_share_of_customers():
    from helixdesk.lifecycle.strategies import Strategy

    base = {
        "id": "x",
        "what": {"kind": "guidance", "item": {"type": "service", "ref": "y"}},
        "texts": {"zh-Hans": "a", "zh-Hant": "a", "en": "a"},
        "where": ["console"],
    }
    strategy = Strategy.model_validate(base | {"holdout": 0.2})
    refs = [f"C{i:06d}" for i in range(10_000)]
    share = sum(in_holdout(strategy, r) for r in refs) / len(refs)
    assert 0.18 < share < 0.22
    assert [in_holdout(strategy, r) for r in refs[:50]] == [in_holdout(strategy, r) for r in refs[:50]]
    other = Strategy.model_validate(base | {"id": "z", "holdout": 0.2})
    assert [in_holdout(strategy, r) for r in refs[:200]] != [in_holdout(other, r) for r in refs[:200]]
    assert not any(in_holdout(Strategy.model_validate(base), r) for r in refs[:200])


async def test_a_complaint_resolved_long_before_the_event_is_read_brings_nothing(desk):
    """The consumer first started on a bank's history (or long stopped) makes no offers for old
    complaints: an event read more than MAX_AGE after the resolution is passed over."""
    ref = next(
        r for r in customers(desk, at_risk=True) if not in_holdout(desk.strategies.active().get(STRATEGY), r)
    )
    conv_id = await complaint_resolved(desk, ref)
    later = strand_of(desk, clock=lambda: utcnow() + MAX_AGE + timedelta(minutes=1))
    await consume(desk, later)
    assert touches(desk, conv_id) == [] and credits(desk) == []
    assert list_outbox(desk.sessions, desk.keyring, customer_ref=ref) == []
