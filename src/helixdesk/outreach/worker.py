"""The outreach process: the durable consumer `outreach` and the settling of what it gave.

`run_worker(settings, tz)` runs until cancelled (`helixdesk outreach run`; `helixdesk serve` starts
it as a child process). One process at a time consumes (a lease); a second one stands by and takes
over from the stored offset. After each pass it pays the credits it approved and tells their
customers (`ComplaintGoodwill.settle`), outside the consumer's transactions, and takes one step of
the incident campaigns (`CampaignSender.step`: target a page of customers, send what the rate and
the quiet hours allow).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import tzinfo

import anyio
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog
from helixdesk.audit.keys import resolve_audit_key
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bus.consumer import DurableConsumer
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.handoff.common import Desk
from helixdesk.handoff.goodwill import Goodwill, load_goodwill_policy
from helixdesk.handoff.packet import Labels
from helixdesk.handoff.policy import load_handoff_policy
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.store import StrategyStore
from helixdesk.lifecycle.strategies import load_strategies
from helixdesk.lifecycle.suitability import load_suitability
from helixdesk.nlg.templates import Templates
from helixdesk.notifications import OutboxNotifier
from helixdesk.outreach.campaign_rules import load_campaign_config
from helixdesk.outreach.campaign_sender import CampaignSender
from helixdesk.outreach.goodwill import ComplaintGoodwill
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.keys import resolve_keyring
from helixdesk.privacy.transcripts import TranscriptPrivacy

log = logging.getLogger(__name__)
CONSUMER = "outreach"


def complaint_goodwill(settings: Settings, sessions: sessionmaker[Session], tz: tzinfo) -> ComplaintGoodwill:
    """The goodwill strand wired from the settings and the pack, as `helixdesk serve` wires the console."""
    pack = load_pack(settings.pack)
    audit = AuditLog(key=resolve_audit_key(settings))
    keyring = resolve_keyring(settings)
    bank = DemoBankConnector(session_factory=sessions)
    templates = Templates.load(pack.path / "nlg" / "templates")
    templates.tz = tz
    desk = Desk(
        sessions=sessions,
        writer=ConversationWriter(privacy=TranscriptPrivacy(keyring=keyring)),
        policy=load_handoff_policy(settings.handoff_policy or pack.path / "handoff" / "policy.yaml"),
        templates=templates,
        labels=Labels.load(pack.path / "handoff" / "labels.yaml"),
        audit=audit,
    )
    goodwill = Goodwill(desk, bank=bank, policy=load_goodwill_policy(pack.path))
    return ComplaintGoodwill(
        sessions=sessions,
        profiles=CustomerProfiles.load(
            bank=bank, config=load_lifecycle_config(pack), model_dir=settings.model_dir, pack=pack.name
        ),
        strategies=StrategyStore(sessions=sessions, pack_set=load_strategies(pack), audit=audit),
        suitability=load_suitability(pack),
        goodwill=goodwill,
        bank=bank,
        notifier=OutboxNotifier(sessions=sessions, keyring=keyring),
        audit=audit,
        tz=tz,
    )


def campaign_sender(settings: Settings, sessions: sessionmaker[Session], tz: tzinfo) -> CampaignSender:
    """The incident campaigns' sender, wired from the settings and the pack."""
    return CampaignSender(
        sessions=sessions,
        bank=DemoBankConnector(session_factory=sessions),
        notifier=OutboxNotifier(sessions=sessions, keyring=resolve_keyring(settings)),
        config=load_campaign_config(load_pack(settings.pack), settings),
        tz=tz,
        audit=AuditLog(key=resolve_audit_key(settings)),
    )


def outreach_consumer(
    sessions: sessionmaker[Session],
    strand: ComplaintGoodwill,
    *,
    poll_seconds: float = 1.0,
    lease_seconds: float = 30.0,
) -> DurableConsumer:
    return DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        handler=strand.handle,
        # The bank, the profile and the strategies are read before the write transaction, at idle
        # priority; the transaction writes only the touches (SQLite has one writer).
        prepare=strand.prepare,
        prepare_at_idle=True,
        poll_interval=poll_seconds,
        lease_seconds=lease_seconds,
        batch=500,
    )


async def run_worker(
    settings: Settings, tz: tzinfo, *, poll_seconds: float = 1.0, lease_seconds: float = 30.0
) -> None:
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    strand = complaint_goodwill(settings, sessions, tz)
    campaigns = campaign_sender(settings, sessions, tz)
    consumer = outreach_consumer(sessions, strand, poll_seconds=poll_seconds, lease_seconds=lease_seconds)
    await consumer.start()
    log.info("outreach started (consumer %s)", CONSUMER)
    try:
        while True:
            await asyncio.sleep(poll_seconds)
            try:
                await anyio.to_thread.run_sync(strand.settle)
            except Exception:
                log.exception("settling goodwill failed; it runs again in %ss", poll_seconds)
            try:
                await anyio.to_thread.run_sync(campaigns.step)
            except Exception:
                log.exception("the incident campaigns' step failed; it runs again in %ss", poll_seconds)
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
        engine.dispose()
