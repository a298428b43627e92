"""The campaigns' periodic step in the outreach process: target the affected customers, send their
notices within the rate and outside the quiet hours, and end what is done.

    sender = CampaignSender(sessions=..., bank=..., notifier=..., audit=..., config=..., tz=...)
    sender.step()        # the worker calls it every poll, beside the goodwill settle loop

**Targeting** reads one page of the bank's customers per running campaign and step
(`BankConnector.list_customers`, by reference) and keeps those the incident affects, as the
register decides for a customer (`incidents.rules.affects`: its products and regions; its channels
restrict conversations, not notices). Each becomes one notice row, `pending`, or at once
`skipped_opt_out` / `skipped_no_contact`; a customer who already has a notice of the incident (of
any campaign not cancelled) is not targeted again: at most one notice per customer and incident.

**Sending** one notice: a transaction marks it `sending` (the intent, committed), the notifier hands
it over, a second transaction records `sent` with the delivery id and its audit entry
(`incident.notice_sent`; a failure: `failed`, `incident.notice_failed`). The customer's opt-out is
read again in the first transaction, so a choice stored meanwhile is honoured. A restart never sends
a `sent` notice again; a notice left `sending` by a crash is sent again once `sending_lease` has
passed: at least once only in the window between the gateway's answer and the record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.bank.connector import BankConnector, Customer
from helixdesk.core.clock import utcnow
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import reading, transaction
from helixdesk.incidents.models import IncidentRow
from helixdesk.incidents.products import customer_products
from helixdesk.incidents.register import incident_of
from helixdesk.incidents.rules import Incident, affects, is_active, text_in
from helixdesk.notifications.notifier import Notification, Notifier
from helixdesk.notifications.optouts import opted_out
from helixdesk.outreach.campaign_rules import CampaignConfig, quiet_until, send_budget
from helixdesk.outreach.campaigns import PURPOSE, end_campaign
from helixdesk.outreach.models import CampaignRow, NoticeRow

log = logging.getLogger(__name__)
ACTOR = Actor.system("outreach")


@dataclass(frozen=True, slots=True)
class StepReport:
    targeted: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    quiet_until: datetime | None = None


def once_key(incident_id: str, customer_ref: str) -> str:
    return f"{incident_id}:{customer_ref}"


def contact_of(customer: Customer | None, channel: str) -> str | None:
    """Where the notice goes: the phone for an SMS, the e-mail address for an e-mail."""
    if customer is None:
        return None
    value = customer.phone if channel == "sms" else customer.email
    return value.strip() if value and value.strip() else None


class CampaignSender:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        bank: BankConnector,
        notifier: Notifier,
        config: CampaignConfig,
        tz: tzinfo,
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._bank = bank
        self._notifier = notifier
        self._audit = audit
        self.config = config
        self.tz = tz
        self.clock = clock

    def step(self, now: datetime | None = None) -> StepReport:
        when = now or self.clock()
        incidents = self._running(when)
        if not incidents:
            return StepReport()
        targeted = sum(self.target_page(campaign_id, incident, when) for campaign_id, incident in incidents)
        waiting = quiet_until(self.config, when, self.tz)
        if waiting is not None:
            self._finish(when)
            return StepReport(targeted=targeted, quiet_until=waiting)
        sent, failed, skipped = self._send(dict(incidents), when)
        self._finish(when)
        return StepReport(targeted=targeted, sent=sent, failed=failed, skipped=skipped)

    # ---- the running campaigns ------------------------------------------------------------------

    def _running(self, now: datetime) -> list[tuple[str, Incident]]:
        """The running campaigns and their incidents; a campaign whose incident ended is stopped."""
        with reading(self._sessions) as s:
            rows = s.execute(
                select(CampaignRow.id, IncidentRow)
                .join(IncidentRow, IncidentRow.id == CampaignRow.incident_id)
                .where(CampaignRow.status == "running")
                .order_by(CampaignRow.created_at)
            ).all()
            found = [(campaign_id, incident_of(row)) for campaign_id, row in rows]
        running = []
        for campaign_id, incident in found:
            if is_active(incident, now):
                running.append((campaign_id, incident))
                continue
            with transaction(self._sessions) as s:
                row = s.get(CampaignRow, campaign_id, with_for_update=True)
                if row is not None and row.status == "running":
                    left = end_campaign(s, row, status="stopped", at=now, by="system:outreach")
                    self._audit_campaign(s, row, "incident.campaign_stopped", {"not_sent": left})
        return running

    # ---- targeting ------------------------------------------------------------------------------

    def target_page(self, campaign_id: str, incident: Incident, now: datetime) -> int:
        """Target the next page of the bank's customers for this campaign; how many it targeted."""
        with reading(self._sessions) as s:
            row = s.get(CampaignRow, campaign_id)
            if row is None or row.status != "running" or row.targeting_done:
                return 0
            cursor, channel = row.cursor, row.channel
        page = self._bank.list_customers(after=cursor, limit=self.config.page_size)
        chosen = [c for c in page if self._affected(incident, c, now)]
        with transaction(self._sessions) as s:
            row = s.get(CampaignRow, campaign_id, with_for_update=True)
            if row is None or row.status != "running" or row.cursor != cursor:
                return 0  # cancelled meanwhile, or another process took this page
            refs = [c.ref for c in chosen]
            keys = [once_key(incident.id, r) for r in refs]
            taken = (
                set(s.scalars(select(NoticeRow.once_key).where(NoticeRow.once_key.in_(keys))))
                if keys
                else set()
            )
            said_no = opted_out(s, refs, PURPOSE)
            added = 0
            for customer in chosen:
                key = once_key(incident.id, customer.ref)
                if key in taken:
                    continue
                if customer.ref in said_no:
                    status = "skipped_opt_out"
                elif contact_of(customer, channel) is None:
                    status = "skipped_no_contact"
                else:
                    status = "pending"
                s.add(
                    NoticeRow(
                        campaign_id=campaign_id,
                        customer_ref=customer.ref,
                        once_key=key,
                        language=language_or_default(customer.preferred_language),
                        status=status,
                        created_at=now,
                    )
                )
                added += 1
            if page:
                row.cursor = page[-1].ref
            if len(page) < self.config.page_size:
                row.targeting_done = True
        return added

    def _affected(self, incident: Incident, customer: Customer, now: datetime) -> bool:
        products = (
            customer_products(self._bank, customer.ref, now=now, customer=customer)
            if incident.products
            else frozenset()
        )
        # Channels say where conversations are affected; a notice reaches the customer on none of them.
        return affects(
            _without_channels(incident), products=products, channel=None, region=customer.city, now=now
        )

    # ---- sending --------------------------------------------------------------------------------

    def _send(self, incidents: dict[str, Incident], now: datetime) -> tuple[int, int, int]:
        window = now - timedelta(seconds=60)
        with reading(self._sessions) as s:
            recent = s.scalar(
                select(func.count(NoticeRow.id)).where(
                    NoticeRow.attempted_at > window, NoticeRow.attempted_at <= now
                )
            )
        budget = send_budget(self.config, sent_last_minute=int(recent or 0))
        sent = failed = skipped = 0
        seen: set[str] = set()
        while budget > 0:
            due = self._due(list(incidents), now, budget, seen)
            if not due:
                break
            for notice_id in due:
                seen.add(notice_id)
                outcome = self._send_one(notice_id, incidents, now)
                if outcome in ("sent", "failed"):
                    budget -= 1
                sent += outcome == "sent"
                failed += outcome == "failed"
                skipped += outcome.startswith("skipped")
                if budget <= 0:
                    break
        return sent, failed, skipped

    def _due(self, campaign_ids: list[str], now: datetime, limit: int, seen: set[str]) -> list[str]:
        stale = now - self.config.sending_lease
        with reading(self._sessions) as s:
            query = (
                select(NoticeRow.id)
                .where(
                    NoticeRow.campaign_id.in_(campaign_ids),
                    or_(
                        NoticeRow.status == "pending",
                        (NoticeRow.status == "sending") & (NoticeRow.attempted_at <= stale),
                    ),
                )
                .order_by(NoticeRow.created_at, NoticeRow.customer_ref)
                .limit(limit + len(seen))
            )
            return [i for i in s.scalars(query) if i not in seen][:limit]

    def _send_one(self, notice_id: str, incidents: dict[str, Incident], now: datetime) -> str:
        stale = now - self.config.sending_lease
        with transaction(self._sessions) as s:  # the intent, committed before the gateway is called
            notice = s.get(NoticeRow, notice_id, with_for_update=True)
            campaign = s.get(CampaignRow, notice.campaign_id) if notice is not None else None
            if notice is None or campaign is None or campaign.status != "running":
                return "gone"
            again = (
                notice.status == "sending"
                and notice.attempted_at is not None
                and notice.attempted_at <= stale
            )
            if notice.status != "pending" and not again:
                return "gone"
            if opted_out(s, [notice.customer_ref], PURPOSE):
                notice.status = "skipped_opt_out"
                return "skipped_opt_out"
            notice.status = "sending"
            notice.attempts += 1
            notice.attempted_at = now
            ref, language, channel = notice.customer_ref, notice.language, campaign.channel
            message, campaign_id = dict(campaign.message or {}), campaign.id
        incident = incidents[campaign_id]
        destination = contact_of(self._bank.get_customer(ref), channel)
        if destination is None:
            self._record(notice_id, status="skipped_no_contact", now=now)
            return "skipped_no_contact"
        body = text_in(message or incident.explanation, language)
        try:
            delivery_id = self._notifier.send(
                Notification(
                    customer_ref=ref,
                    channel=channel,  # type: ignore[arg-type]  # checked when the campaign started
                    destination=destination,
                    body=body,
                    purpose=PURPOSE,
                    created_at=now,
                )
            )
        except Exception as e:  # noqa: BLE001 - a bank's gateway may raise anything
            log.warning("incident notice %s not sent: %s", notice_id, type(e).__name__)
            self._record(notice_id, status="failed", now=now, error="notification_failed")
            return "failed"
        self._record(notice_id, status="sent", now=now, delivery_id=str(delivery_id)[:64])
        return "sent"

    def _record(
        self,
        notice_id: str,
        *,
        status: str,
        now: datetime,
        delivery_id: str | None = None,
        error: str | None = None,
    ) -> None:
        with transaction(self._sessions) as s:
            notice = s.get(NoticeRow, notice_id, with_for_update=True)
            if notice is None:
                return
            campaign = s.get(CampaignRow, notice.campaign_id)
            notice.status = status
            notice.delivery_id = delivery_id
            notice.error = error
            if status == "sent":
                notice.sent_at = now
            if self._audit is None or campaign is None or status not in ("sent", "failed"):
                return
            self._audit.record(
                s,
                actor=ACTOR,
                action=f"incident.notice_{status}",
                # The notice as the target: its row holds the delivery id whole (the details' safety
                # net masks long runs of digits, which a gateway's id may have).
                target=Target("incident_notice", notice.id),
                details={
                    "incident": campaign.incident_id,
                    "campaign": campaign.id,
                    "channel": campaign.channel,
                    "language": notice.language,
                    "attempt": notice.attempts,
                    **({"delivery_id": delivery_id} if delivery_id else {}),
                    **({"error": error} if error else {}),
                },
                customer_ref=notice.customer_ref,
            )

    # ---- the end --------------------------------------------------------------------------------

    def _finish(self, now: datetime) -> None:
        """A running campaign that has targeted everyone and has nothing left to send is done."""
        with reading(self._sessions) as s:
            done = list(
                s.scalars(
                    select(CampaignRow.id).where(
                        CampaignRow.status == "running",
                        CampaignRow.targeting_done.is_(True),
                        ~select(NoticeRow.id)
                        .where(
                            NoticeRow.campaign_id == CampaignRow.id,
                            NoticeRow.status.in_(("pending", "sending")),
                        )
                        .exists(),
                    )
                )
            )
        for campaign_id in done:
            with transaction(self._sessions) as s:
                row = s.get(CampaignRow, campaign_id, with_for_update=True)
                if row is not None and row.status == "running":
                    end_campaign(s, row, status="done", at=now, by="system:outreach")
                    self._audit_campaign(s, row, "incident.campaign_done", {})

    def _audit_campaign(self, s: Session, row: CampaignRow, action: str, details: dict[str, Any]) -> None:
        if self._audit is not None:
            self._audit.record(
                s,
                actor=ACTOR,
                action=action,
                target=Target("incident", row.incident_id),
                details={"campaign": row.id, **details},
            )


def _without_channels(incident: Incident) -> Incident:
    return replace(incident, channels=frozenset())
