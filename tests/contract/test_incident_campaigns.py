"""Incident campaigns on SQLite and PostgreSQL, over the demo bank and the demo outbox gateway: whom a
campaign targets (the affected customers only, each once per incident), opt-outs honoured when set
before and during a campaign, quiet hours that postpone and then send, the rate that spreads the
sends, a restart mid-campaign that sends nobody twice, cancelling, and one audit entry per message.
Expected figures come from the bank's rows, read with SQL here, not from the code under test."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from helixdesk.audit import Actor, AuditLog, AuditQuery, search, verify_chain
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.models import BankCard, BankCustomer
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import reading, transaction
from helixdesk.incidents.checks import IncidentDraft
from helixdesk.incidents.register import Author, IncidentRegister
from helixdesk.notifications.models import OutboxMessage
from helixdesk.notifications.notifier import OutboxNotifier, list_outbox
from helixdesk.notifications.optouts import OptOuts
from helixdesk.outreach.campaign_rules import CampaignConfig
from helixdesk.outreach.campaign_sender import CampaignSender
from helixdesk.outreach.campaigns import (
    CampaignNotRunningError,
    CampaignRunningError,
    Campaigns,
    IncidentNotActiveError,
    InvalidCampaignError,
)
from helixdesk.outreach.models import NoticeRow

KEY = b"c" * 32
TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, outside the quiet hours
OPS = Author("u-ops", "周航", ip="10.0.0.7")
AGENT = Actor.staff("u-agent", channel="console")
EXPLANATION = {
    "zh-Hans": "信用卡交易系统故障，部分刷卡失败。",
    "zh-Hant": "信用卡交易系統故障，部分刷卡失敗。",
    "en": "Card payments are failing for some customers.",
}
CUSTOMERS = 40


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Crash(BaseException):
    """The process dies (not an error the sender handles)."""


class CrashingGateway:
    """The demo gateway, in a process that dies at the `at`-th message: before handing it over, or
    right after the gateway took it (before the sender could record it)."""

    def __init__(self, gateway: OutboxNotifier, *, at: int, after_send: bool) -> None:
        self.gateway, self.at, self.after_send, self.calls = gateway, at, after_send, 0

    def send(self, notification):  # type: ignore[no-untyped-def]
        self.calls += 1
        if self.calls == self.at and not self.after_send:
            raise Crash
        delivery = self.gateway.send(notification)
        if self.calls == self.at:
            raise Crash
        return delivery


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(sessions, keyring, clock):  # type: ignore[no-untyped-def]
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(CUSTOMERS))
    audit = AuditLog(key=KEY, clock=clock)
    bank = DemoBankConnector(session_factory=sessions)

    class World:
        register = IncidentRegister(sessions=sessions, audit=audit, clock=clock)
        gateway = OutboxNotifier(sessions=sessions, keyring=keyring)
        opt_outs = OptOuts(sessions=sessions, bank=bank, audit=audit, clock=clock)

        def campaigns(self, config: CampaignConfig) -> Campaigns:
            return Campaigns(sessions=sessions, config=config, tz=TZ, audit=audit, clock=clock)

        def sender(self, config: CampaignConfig, notifier=None) -> CampaignSender:  # type: ignore[no-untyped-def]
            return CampaignSender(
                sessions=sessions,
                bank=bank,
                notifier=notifier or self.gateway,
                config=config,
                tz=TZ,
                audit=audit,
                clock=clock,
            )

    w = World()
    w.bank = bank  # type: ignore[attr-defined]
    w.audit = audit  # type: ignore[attr-defined]
    return w


def incident(world, **changes) -> str:  # type: ignore[no-untyped-def]
    draft = IncidentDraft(
        kind="outage",
        title={"zh-Hans": "信用卡交易失败", "en": "Card payments failing"},
        explanation=EXPLANATION,
        products=changes.pop("products", []),
        channels=changes.pop("channels", []),
        regions=changes.pop("regions", []),
        started_at=T0 - timedelta(hours=1),
    )
    return world.register.create(OPS, draft)["id"]


def customers(sessions) -> dict[str, BankCustomer]:  # type: ignore[no-untyped-def]
    with reading(sessions) as s:
        return {c.ref: c for c in s.scalars(select(BankCustomer))}


def credit_card_holders(sessions) -> set[str]:  # type: ignore[no-untyped-def]
    with reading(sessions) as s:
        return set(
            s.scalars(
                select(BankCustomer.ref)
                .join(BankCard, BankCard.customer_id == BankCustomer.id)
                .where(BankCard.kind == "credit", BankCard.status != "cancelled")
            )
        )


def outbox(sessions, keyring) -> list:  # type: ignore[no-untyped-def]
    return list_outbox(sessions, keyring, limit=10_000)


def notices(sessions) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with reading(sessions) as s:
        return {
            n.customer_ref: n.status
            for n in s.scalars(select(NoticeRow).where(NoticeRow.once_key.is_not(None)))
        }


def drain(sender: CampaignSender, clock: Clock, steps: int = 20) -> None:
    for _ in range(steps):
        sender.step(clock.now)
        clock.now += timedelta(seconds=61)


FAST = CampaignConfig(messages_per_minute=1000, quiet_hours=None, page_size=7)


# ---- targeting --------------------------------------------------------------------------------------


def test_a_campaign_notifies_every_affected_customer_once_and_nobody_else(world, sessions, keyring, clock):
    incident_id = incident(world, products=["credit_card"], regions=["广东", "Shanghai"])
    rows = customers(sessions)
    holders = credit_card_holders(sessions)
    in_region = {ref for ref, c in rows.items() if c.city in ("深圳", "广州", "上海")}
    expected = holders & in_region
    assert expected and set(rows) - expected  # the fixture has both affected and unaffected customers

    campaigns = world.campaigns(FAST)
    started = campaigns.start(OPS, incident_id, channel="sms")
    assert started["status"] == "running" and started["counts"]["targeted"] == 0
    drain(world.sender(FAST), clock)

    sent = outbox(sessions, keyring)
    assert sorted(m.customer_ref for m in sent) == sorted(expected)  # each affected customer once
    for message in sent:
        customer = rows[message.customer_ref]
        assert message.body == EXPLANATION[customer.preferred_language]
        assert message.destination == customer.phone and message.purpose == "service_notice"
    view = campaigns.current(incident_id)
    assert view["status"] == "done"
    assert view["counts"]["targeted"] == view["counts"]["sent"] == len(expected)
    assert view["counts"]["failed"] == view["counts"]["pending"] == 0


def test_email_goes_to_customers_with_an_address_and_the_others_are_counted(world, sessions, keyring, clock):
    incident_id = incident(world)  # names nothing: every customer
    rows = customers(sessions)
    with_email = {ref for ref, c in rows.items() if c.email}
    assert with_email and len(with_email) < len(rows)
    campaigns = world.campaigns(FAST)
    campaigns.start(
        OPS, incident_id, channel="email", message={"en": "We are sorry.", "zh-Hans": "非常抱歉。"}
    )
    drain(world.sender(FAST), clock)
    sent = outbox(sessions, keyring)
    assert {m.customer_ref for m in sent} == with_email and all(m.channel == "email" for m in sent)
    for m in sent:  # the operator's text; Traditional Chinese readers get the Simplified text converted
        lang = rows[m.customer_ref].preferred_language
        assert m.body == {"en": "We are sorry.", "zh-Hans": "非常抱歉。", "zh-Hant": "非常抱歉。"}[lang]
    counts = campaigns.current(incident_id)["counts"]
    assert counts["targeted"] == len(rows)
    assert counts["sent"] == len(with_email) and counts["skipped_no_contact"] == len(rows) - len(with_email)


# ---- opt-outs --------------------------------------------------------------------------------------


def test_opt_outs_are_honoured_set_before_the_start_and_while_it_runs(world, sessions, keyring, clock):
    incident_id = incident(world)
    refs = sorted(customers(sessions))
    before, during = refs[0], refs[-1]
    world.opt_outs.opt_out(AGENT, before, "service_notice", note="no service SMS please")
    config = CampaignConfig(messages_per_minute=5, quiet_hours=None, page_size=100)
    campaigns = world.campaigns(config)
    campaigns.start(OPS, incident_id, channel="sms")
    sender = world.sender(config)
    sender.step(clock.now)  # targets everyone, sends five
    assert notices(sessions)[before] == "skipped_opt_out"
    assert notices(sessions)[during] == "pending"
    world.opt_outs.opt_out(AGENT, during, "service_notice")
    drain(sender, clock)

    got = Counter(m.customer_ref for m in outbox(sessions, keyring))
    assert before not in got and during not in got
    assert set(got) == set(refs) - {before, during} and set(got.values()) == {1}
    counts = campaigns.current(incident_id)["counts"]
    assert counts["skipped_opt_out"] == 2 and counts["sent"] == len(refs) - 2
    with reading(sessions) as s:
        entries = search(s, AuditQuery(action="notification.opted_out", limit=10))
    assert {e.customer_ref for e in entries} == {before, during}
    assert [(p["purpose"], p["opted_out"]) for p in world.opt_outs.of(during)["purposes"]] == [
        ("service_notice", True)
    ]
    world.opt_outs.opt_in(AGENT, during, "service_notice")
    assert world.opt_outs.of(during)["purposes"][0]["opted_out"] is False


# ---- quiet hours and the rate ------------------------------------------------------------------------


def test_quiet_hours_postpone_the_notices_until_they_end(world, sessions, keyring, clock):
    config = CampaignConfig(messages_per_minute=1000, quiet_hours=(time(21, 0), time(8, 0)), page_size=100)
    clock.now = datetime(2026, 12, 4, 13, 30, tzinfo=UTC)  # 21:30 in Shanghai
    incident_id = incident(world, regions=["北京"])
    expected = {ref for ref, c in customers(sessions).items() if c.city == "北京"}
    campaigns = world.campaigns(config)
    campaigns.start(OPS, incident_id, channel="sms")
    sender = world.sender(config)
    report = sender.step(clock.now)
    assert report.sent == 0 and report.targeted == len(expected)
    assert report.quiet_until == datetime(2026, 12, 5, 0, 0, tzinfo=UTC)  # 08:00 the next morning
    view = campaigns.current(incident_id)
    assert view["counts"]["waiting_quiet_hours"] == len(expected) and view["quiet_until"]
    clock.now = datetime(2026, 12, 4, 23, 59, tzinfo=UTC)  # 07:59: still quiet
    assert sender.step(clock.now).sent == 0 and outbox(sessions, keyring) == []
    clock.now = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)  # 08:00
    assert sender.step(clock.now).sent == len(expected)
    assert {m.customer_ref for m in outbox(sessions, keyring)} == expected
    assert campaigns.current(incident_id)["counts"]["waiting_quiet_hours"] == 0


def test_the_rate_spreads_the_sends_over_the_minutes(world, sessions, keyring, clock):
    rate = 3
    config = CampaignConfig(messages_per_minute=rate, quiet_hours=None, page_size=100)
    incident_id = incident(world, regions=["上海", "深圳"])
    expected = {ref for ref, c in customers(sessions).items() if c.city in ("上海", "深圳")}
    assert len(expected) > 2 * rate
    world.campaigns(config).start(OPS, incident_id, channel="sms")
    sender = world.sender(config)
    per_step = []
    for seconds in range(0, 60 * (len(expected) // rate + 2), 20):
        at = T0 + timedelta(seconds=seconds)
        per_step.append((seconds, sender.step(at).sent))
    sent_at = [s for s, n in per_step for _ in range(n)]
    assert len(sent_at) == len(expected)
    for start in sent_at:  # no 60 seconds hold more than the rate
        assert sum(1 for s in sent_at if start <= s < start + 60) <= rate
    assert sent_at[-1] >= 60 * ((len(expected) - 1) // rate)  # a big incident drains over time


# ---- crash safety, cancelling, once per incident ------------------------------------------------------


def test_a_restart_mid_campaign_sends_nobody_twice(world, sessions, keyring, clock):
    incident_id = incident(world)
    config = CampaignConfig(messages_per_minute=1000, quiet_hours=None, page_size=100)
    world.campaigns(config).start(OPS, incident_id, channel="sms")
    crashing = CrashingGateway(world.gateway, at=6, after_send=False)
    with pytest.raises(Crash):  # the process dies before the sixth message reaches the gateway
        world.sender(config, crashing).step(clock.now)
    assert len(outbox(sessions, keyring)) == 5
    clock.now += timedelta(seconds=61)
    drain(world.sender(config), clock)  # the restarted process
    got = Counter(m.customer_ref for m in outbox(sessions, keyring))
    assert len(got) == CUSTOMERS and set(got.values()) == {1}


def test_a_crash_between_the_gateway_and_the_record_sends_again_only_after_the_lease(
    world, sessions, keyring, clock
):
    """The documented at-least-once window: the gateway took the message, the record did not happen."""
    incident_id = incident(world, regions=["北京"])
    expected = {ref for ref, c in customers(sessions).items() if c.city == "北京"}
    config = CampaignConfig(messages_per_minute=1000, quiet_hours=None, page_size=100)
    campaigns = world.campaigns(config)
    campaigns.start(OPS, incident_id, channel="sms")
    with pytest.raises(Crash):
        world.sender(config, CrashingGateway(world.gateway, at=1, after_send=True)).step(clock.now)
    clock.now += timedelta(seconds=61)
    restarted = world.sender(config)
    restarted.step(clock.now)
    got = Counter(m.customer_ref for m in outbox(sessions, keyring))
    assert set(got) == expected and set(got.values()) == {1}  # nothing twice within the lease
    assert campaigns.current(incident_id)["status"] == "running"  # one notice still `sending`
    clock.now += config.sending_lease
    restarted.step(clock.now)
    got = Counter(m.customer_ref for m in outbox(sessions, keyring))
    assert sorted(got.values()) == [1] * (len(expected) - 1) + [2]
    assert campaigns.current(incident_id)["status"] == "done"


def test_cancelling_stops_the_campaign_and_a_new_one_sends_only_to_those_not_told(
    world, sessions, keyring, clock
):
    incident_id = incident(world)
    config = CampaignConfig(messages_per_minute=4, quiet_hours=None, page_size=100)
    campaigns = world.campaigns(config)
    campaigns.start(OPS, incident_id, channel="sms")
    with pytest.raises(CampaignRunningError):
        campaigns.start(OPS, incident_id, channel="email")
    sender = world.sender(config)
    sender.step(clock.now)
    cancelled = campaigns.cancel(OPS, incident_id)
    assert cancelled["status"] == "cancelled"
    assert cancelled["counts"]["sent"] == 4 and cancelled["counts"]["cancelled"] == CUSTOMERS - 4
    with pytest.raises(CampaignNotRunningError):
        campaigns.cancel(OPS, incident_id)
    drain(sender, clock, steps=3)
    assert len(outbox(sessions, keyring)) == 4  # nothing after the cancel

    fast = CampaignConfig(messages_per_minute=1000, quiet_hours=None, page_size=100)
    again = world.campaigns(fast).start(OPS, incident_id, channel="sms")
    drain(world.sender(fast), clock, steps=3)
    got = Counter(m.customer_ref for m in outbox(sessions, keyring))
    assert len(got) == CUSTOMERS and set(got.values()) == {1}  # at most once per incident
    assert campaigns.current(incident_id)["id"] == again["id"]
    assert campaigns.current(incident_id)["counts"]["sent"] == CUSTOMERS - 4


def test_refusals_store_nothing(world, sessions, clock):
    campaigns = world.campaigns(FAST)
    incident_id = incident(world)
    with pytest.raises(InvalidCampaignError):
        campaigns.start(OPS, incident_id, channel="fax")
    with pytest.raises(InvalidCampaignError):
        campaigns.start(OPS, incident_id, channel="sms", message={"fr": "Désolé"})
    world.register.resolve(OPS, incident_id)
    clock.now += timedelta(minutes=1)
    with pytest.raises(IncidentNotActiveError):
        campaigns.start(OPS, incident_id, channel="sms")
    assert campaigns.latest([incident_id]) == {}


def test_a_resolved_incident_stops_its_campaign(world, sessions, keyring, clock):
    incident_id = incident(world)
    config = CampaignConfig(messages_per_minute=2, quiet_hours=None, page_size=100)
    campaigns = world.campaigns(config)
    campaigns.start(OPS, incident_id, channel="sms")
    sender = world.sender(config)
    sender.step(clock.now)
    world.register.resolve(OPS, incident_id)
    clock.now += timedelta(minutes=2)
    sender.step(clock.now)
    assert campaigns.current(incident_id)["status"] == "stopped"
    assert len(outbox(sessions, keyring)) == 2


# ---- the audit --------------------------------------------------------------------------------------


def test_each_message_has_one_audit_entry_without_personal_data(world, sessions, keyring, clock):
    incident_id = incident(world, regions=["上海"])
    rows = customers(sessions)
    expected = {ref for ref, c in rows.items() if c.city == "上海"}
    campaigns = world.campaigns(FAST)
    campaign = campaigns.start(OPS, incident_id, channel="sms")
    drain(world.sender(FAST), clock)
    with reading(sessions) as s:
        sent = search(s, AuditQuery(action="incident.notice_sent", limit=1000))
        started = search(s, AuditQuery(action="incident.campaign_started", target_id=incident_id))
        deliveries = {m.id: m.customer_ref for m in s.scalars(select(OutboxMessage))}
        rows_of = {n.id: n for n in s.scalars(select(NoticeRow))}
    assert len(started) == 1 and started[0].actor.id == "u-ops"
    assert sorted(e.customer_ref for e in sent) == sorted(expected)
    for entry in sent:
        notice = rows_of[entry.target.id]
        assert entry.target.kind == "incident_notice" and notice.campaign_id == campaign["id"]
        assert notice.customer_ref == entry.customer_ref and notice.status == "sent"
        assert deliveries[notice.delivery_id] == entry.customer_ref  # the gateway's id, kept whole
        text = repr(entry.details) + entry.reason
        customer = rows[entry.customer_ref]
        assert customer.phone not in text and customer.phone[-8:] not in text
        assert EXPLANATION[customer.preferred_language] not in text
    assert verify_chain(sessions, KEY).ok
