"""Quality monitoring as a consumer of the event log: every conversation scored as it happens.

`QualityMonitor.handle(s, events)` is the batch handler of the durable consumer `quality`
(`helixdesk.bus.consumer`). For each conversation an event of the batch touched, it reads the
conversation as it stands (messages with their NLU, handoffs, CSAT, the customer's profile),
runs the QA engine (`helixdesk.quality.engine.assess`), and in the consumer's transaction:

- updates the conversation's scorecard (`final` once the conversation closed);
- stores each finding not stored yet (one per rule and message; reviewed ones are never touched);
- raises an alert for each new finding of an alerting rule, with a `QualityAlertRaised` event in
  the event log, so supervisors see it live.

Because the offset moves in the same transaction, a crash or a restart loses nothing and scores
nothing twice: the batch runs again from the stored offset. `sweep(s, now)` raises what only
time reveals: a VIP waiting past the SLA, a customer who left while waiting.
The monitor runs in its own process (`helixdesk qa run`, started by `helixdesk serve`), so a
customer's turn never waits for it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.bank.models import BankCustomer
from helixdesk.bus import outbox
from helixdesk.conversations.models import Conversation, CsatRating, Customer, Message
from helixdesk.core.clock import utcnow
from helixdesk.core.events import (
    ConversationStateChanged,
    Event,
    NoteWhispered,
    QualityAlertRaised,
)
from helixdesk.handoff.models import Handoff
from helixdesk.quality.engine import Assessment, Facts, FindingOut, HandoffFact, Msg, assess, topic_of
from helixdesk.quality.models import Alert, Finding, Scorecard
from helixdesk.quality.rules import Customer as Profile
from helixdesk.quality.rules import RuleBook

log = logging.getLogger(__name__)
CONSUMER = "quality"
# Events of quality monitoring itself, and staff-only notes, never need scoring.
_SKIP = (QualityAlertRaised, NoteWhispered)
_SEVERITIES = ("low", "medium", "high")
# Reads the emotion of texts: (label, intensity) for each (the pack's emotion model).
EmotionReader = Callable[[Sequence[str]], list[tuple[str, float]]]
_EMOTION_CACHE = 20_000


class QualityMonitor:
    def __init__(
        self,
        book: RuleBook,
        *,
        abandon_after: timedelta = timedelta(minutes=30),
        emotions: EmotionReader | None = None,
    ) -> None:
        """`emotions` reads the customer's messages the bot did not understand (those sent while
        waiting for or talking to a person), so anger that rises with a person is seen too."""
        self.book = book
        self._emotions = emotions
        self._read: OrderedDict[str, dict[str, object]] = OrderedDict()
        self._prepared: dict[str, tuple[int, Facts, Assessment]] = {}
        self._tiers: dict[str, str] = {}  # a waiting handoff's customer tier (from its packet)
        self._alerted: set[str] = set()  # waiting handoffs whose VIP alert is stored
        self.abandon_after = abandon_after
        cfg = book.conversation
        self.repeat_days = int(cfg.get("repeat_contact_days", 7))
        vip = cfg.get("vip_wait", {})
        self.vip_tiers = frozenset(vip.get("tiers", ["vip"]))
        self.vip_share = float(vip.get("sla_share", 1.0))
        self.vip_priority = int(vip.get("priority", 80))

    # ---- the batch handler ---------------------------------------------------------------------

    @staticmethod
    def _touched(events: list[Event]) -> dict[str, int]:
        touched: dict[str, int] = {}
        for event in events:
            if isinstance(event, _SKIP):
                continue
            touched[event.conversation_id] = max(touched.get(event.conversation_id, 0), event.log_seq or 0)
        return touched

    def prepare(self, s: Session, events: list[Event]) -> None:
        """Read and assess the batch's conversations in a read-only session (the consumer's
        `prepare`), so `handle` only writes; what changed since is assessed again in `handle`."""
        self._prepared = {}
        for cid, seq in self._touched(events).items():
            conv = s.get(Conversation, cid)
            if conv is not None:
                facts = self.facts(s, conv)
                self._prepared[cid] = (seq, facts, assess(self.book, facts))

    def handle(self, s: Session, events: list[Event]) -> None:
        touched = self._touched(events)
        closed = {
            e.conversation_id
            for e in events
            if isinstance(e, ConversationStateChanged) and e.new_state == "closed"
        }
        for cid, seq in touched.items():
            assessed = self.score(s, cid, log_seq=seq, final=cid in closed)
            if assessed is not None and assessed.topic:
                for earlier in self._earlier_same_topic(s, cid, assessed.topic):
                    self.score(s, earlier, log_seq=seq)

    def score(
        self, s: Session, conversation_id: str, *, log_seq: int = 0, final: bool = False
    ) -> Assessment | None:
        """Score one conversation as it stands now; returns the assessment (None if it is gone)."""
        conv = s.get(Conversation, conversation_id)
        if conv is None:
            return None
        ready = self._prepared.pop(conversation_id, None)
        if ready is not None and ready[0] >= log_seq and log_seq > 0:
            _, facts, assessed = ready
        else:
            facts = self.facts(s, conv)
            assessed = assess(self.book, facts)
        card = s.get(Scorecard, conversation_id)
        if card is None:
            card = Scorecard(conversation_id=conversation_id, customer_id=conv.customer_id)
            s.add(card)
        card.channel = conv.channel
        card.language = conv.language
        card.score = assessed.score
        card.breakdown = assessed.breakdown
        card.findings = len(assessed.findings)
        card.compliance_findings = sum(1 for f in assessed.findings if f.category == "compliance")
        card.conflict = assessed.conflict
        card.fcr = assessed.fcr
        card.csat = facts.csat
        card.agent_id = assessed.agent_id
        card.team = assessed.team
        card.handled_seconds = assessed.handled_seconds
        card.messages = len(facts.messages)
        card.topic = assessed.topic
        card.final = card.final or final or conv.state == "closed"
        card.last_log_seq = max(card.last_log_seq or 0, log_seq)
        card.started_at = conv.created_at
        card.updated_at = utcnow()
        self._store_findings(s, conv, assessed.findings)
        s.flush()
        return assessed

    def facts(self, s: Session, conv: Conversation) -> Facts:
        rows = s.scalars(
            select(Message).where(Message.conversation_id == conv.id).order_by(Message.seq)
        ).all()
        msgs = self._with_emotions(
            tuple(
                Msg(
                    id=m.id,
                    seq=m.seq,
                    sender=m.sender,
                    text=m.text,
                    created_at=m.created_at,
                    meta=dict(m.meta or {}),
                )
                for m in rows
            )
        )
        handoffs = tuple(
            HandoffFact(
                id=h.id,
                queue=h.queue,
                status=h.status,
                reason=h.reason,
                created_at=h.created_at,
                agent_id=h.agent_id,
                claimed_at=h.claimed_at,
                closed_at=h.closed_at,
                resolution=h.resolution,
            )
            for h in s.scalars(
                select(Handoff).where(Handoff.conversation_id == conv.id).order_by(Handoff.created_at)
            )
        )
        rating = s.scalar(select(CsatRating).where(CsatRating.conversation_id == conv.id))
        return Facts(
            conversation_id=conv.id,
            channel=conv.channel,
            language=conv.language,
            customer=self._profile(s, conv, msgs),
            messages=msgs,
            handoffs=handoffs,
            csat=rating.score if rating is not None else None,
            csat_comment=rating.comment if rating is not None else "",
            closed=conv.state == "closed",
            abandoned=self._abandoned(conv, handoffs, msgs),
            repeat_contact=self._later_same_topic(s, conv, topic_of(msgs)),
        )

    def _with_emotions(self, msgs: tuple[Msg, ...]) -> tuple[Msg, ...]:
        """Customer messages without an NLU emotion, read by the emotion model (cached by id)."""
        if self._emotions is None:
            return msgs

        def unread(m: Msg) -> bool:
            return m.sender == "customer" and not (m.meta.get("nlu") or {}).get("emotion")

        todo = [m for m in msgs if unread(m) and m.id not in self._read and m.text.strip()]
        if todo:
            for m, (label, intensity) in zip(todo, self._emotions([m.text for m in todo]), strict=True):
                self._read[m.id] = {
                    "label": label,
                    "intensity": round(float(intensity), 4),
                    "read_by": "quality",
                }
            while len(self._read) > _EMOTION_CACHE:
                self._read.popitem(last=False)
        out = []
        for m in msgs:
            emotion = self._read.get(m.id)
            if emotion is not None and unread(m):
                nlu = {**(m.meta.get("nlu") or {}), "emotion": emotion}
                m = Msg(
                    id=m.id,
                    seq=m.seq,
                    sender=m.sender,
                    text=m.text,
                    created_at=m.created_at,
                    meta={**m.meta, "nlu": nlu},
                )
            out.append(m)
        return tuple(out)

    # ---- what only the database knows ----------------------------------------------------------

    def _profile(self, s: Session, conv: Conversation, msgs: Sequence[Msg]) -> Profile:
        vulnerable = any(
            r.get("type") == "vulnerability"
            for m in msgs
            if m.sender == "customer"
            for r in (m.meta.get("nlu") or {}).get("risk") or []
        )
        ref = s.scalar(select(Customer.bank_ref).where(Customer.id == conv.customer_id))
        bank = s.scalar(select(BankCustomer).where(BankCustomer.ref == ref)) if ref else None
        if bank is None:
            return Profile(vulnerable=vulnerable)
        return Profile(risk_tolerance=bank.risk_tolerance, age=_age(bank.birth_date), vulnerable=vulnerable)

    def _abandoned(self, conv: Conversation, handoffs: Sequence[HandoffFact], msgs: Sequence[Msg]) -> bool:
        """Waiting for a person, and the customer has said nothing for `abandon_after` (or left)."""
        waiting = [h for h in handoffs if h.status == "waiting"]
        if not waiting:
            return False
        last_customer = max(
            (m.created_at for m in msgs if m.sender == "customer"), default=waiting[0].created_at
        )
        since = max(last_customer, waiting[0].created_at)
        return utcnow() - since >= self.abandon_after

    def _later_same_topic(self, s: Session, conv: Conversation, topic: str | None) -> str | None:
        if topic is None:
            return None
        later = s.scalar(
            select(Scorecard.conversation_id)
            .where(
                Scorecard.customer_id == conv.customer_id,
                Scorecard.topic == topic,
                Scorecard.conversation_id != conv.id,
                Scorecard.started_at > conv.created_at,
                Scorecard.started_at <= conv.created_at + timedelta(days=self.repeat_days),
            )
            .order_by(Scorecard.started_at)
            .limit(1)
        )
        return str(later) if later else None

    def _earlier_same_topic(self, s: Session, conversation_id: str, topic: str) -> list[str]:
        card = s.get(Scorecard, conversation_id)
        if card is None or card.started_at is None or card.customer_id is None:
            return []
        earlier = s.scalars(
            select(Scorecard.conversation_id).where(
                Scorecard.customer_id == card.customer_id,
                Scorecard.topic == topic,
                Scorecard.conversation_id != conversation_id,
                Scorecard.started_at < card.started_at,
                Scorecard.started_at >= card.started_at - timedelta(days=self.repeat_days),
                Scorecard.fcr.is_not(False),
            )
        ).all()
        return [str(c) for c in earlier]

    # ---- findings and alerts -------------------------------------------------------------------

    def _store_findings(self, s: Session, conv: Conversation, found: Sequence[FindingOut]) -> None:
        if not found:
            return
        stored = {
            (f.rule, f.message_id)
            for f in s.execute(
                select(Finding.rule, Finding.message_id).where(Finding.conversation_id == conv.id)
            ).all()
        }
        for f in found:
            if (f.rule, f.message_id) in stored:
                continue
            row = Finding(
                conversation_id=conv.id,
                message_id=f.message_id,
                message_seq=f.seq,
                rule=f.rule,
                category=f.category,
                severity=f.severity,
                sender=f.sender,
                agent_id=f.agent_id,
                evidence=f.evidence,
                span_start=f.start,
                span_end=f.end,
                reason=self.book.reason(f.rule, "en"),
                override_reason=_override(s, f),
            )
            s.add(row)
            s.flush()
            if f.rule in self.book.alert_rules:
                self.raise_alert(
                    s,
                    conv.id,
                    kind=f.rule,
                    key=f.message_id,
                    severity=f.severity,
                    evidence=f.evidence,
                    agent_id=f.agent_id,
                    detail={"finding_id": row.id, **f.detail},
                )

    def raise_alert(
        self,
        s: Session,
        conversation_id: str,
        *,
        kind: str,
        key: str,
        severity: str,
        evidence: str = "",
        agent_id: str | None = None,
        detail: dict[str, object] | None = None,
    ) -> Alert | None:
        """Raise one alert (once per conversation, kind and key) with its event; None if raised before."""
        exists = s.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.conversation_id == conversation_id, Alert.kind == kind, Alert.key == key)
        )
        if exists:
            return None
        queue = s.scalar(
            select(Handoff.queue)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.created_at.desc())
            .limit(1)
        )
        reason = self.book.reason(kind, "en") + (f": “{evidence[:120]}”" if evidence else "")
        alert = Alert(
            conversation_id=conversation_id,
            kind=kind,
            key=key,
            severity=severity if severity in _SEVERITIES else "medium",
            reason=reason,
            detail={"evidence": evidence[:300], **(detail or {})},
            queue=queue,
            agent_id=agent_id,
        )
        s.add(alert)
        s.flush()
        outbox.record(
            s,
            [
                QualityAlertRaised(
                    conversation_id=conversation_id,
                    alert_id=alert.id,
                    kind=kind,
                    severity=alert.severity,
                    reason=reason,
                    queue=queue,
                    agent_id=agent_id,
                )
            ],
        )
        return alert

    # ---- what time reveals ---------------------------------------------------------------------

    def sweep(self, s: Session, now: datetime | None = None) -> int:
        """Alerts for VIPs waiting past their SLA; scores conversations abandoned while waiting.

        Returns how many alerts or scorecards it changed. (`sweep_due` then `sweep_apply` do the
        same with the reading outside the write transaction.)"""
        return self.sweep_apply(s, self.sweep_due(s, now))

    def sweep_due(self, s: Session, now: datetime | None = None) -> Due:
        """What the sweep has to write, read without taking the write lock. It reads a few columns
        of the waiting handoffs, and a handoff's packet only once it is overdue (its tier never
        changes, so it is remembered)."""
        now = now or utcnow()
        due = Due()
        rows = s.execute(
            select(
                Handoff.id, Handoff.conversation_id, Handoff.created_at, Handoff.sla_seconds, Handoff.priority
            ).where(Handoff.status == "waiting")
        ).all()
        overdue = [r for r in rows if (now - r.created_at).total_seconds() >= r.sla_seconds * self.vip_share]
        unknown = [r.id for r in overdue if r.id not in self._tiers]
        for n in range(0, len(unknown), 500):
            for hid, packet in s.execute(
                select(Handoff.id, Handoff.packet).where(Handoff.id.in_(unknown[n : n + 500]))
            ):
                self._tiers[hid] = str((packet or {}).get("customer", {}).get("value_tier") or "")
        for r in overdue:
            if r.id in self._alerted:
                continue
            tier = self._tiers.get(r.id, "")
            if tier in self.vip_tiers or r.priority >= self.vip_priority:
                waited = (now - r.created_at).total_seconds()
                detail = {"waited_seconds": round(waited), "sla_seconds": r.sla_seconds, "tier": tier}
                due.vip.append((r.conversation_id, r.id, detail))
        waiting = {r.id for r in rows}
        self._tiers = {hid: tier for hid, tier in self._tiers.items() if hid in waiting}
        self._alerted &= waiting
        old = sorted({r.conversation_id for r in rows if now - r.created_at >= self.abandon_after})
        settled: set[str] = set()
        for n in range(0, len(old), 500):
            settled |= set(
                s.scalars(
                    select(Scorecard.conversation_id).where(
                        Scorecard.conversation_id.in_(old[n : n + 500]), Scorecard.fcr.is_(False)
                    )
                )
            )
        due.abandoned = [cid for cid in old if cid not in settled]
        return due

    def sweep_apply(self, s: Session, due: Due) -> int:
        changed = 0
        for conversation_id, handoff_id, detail in due.vip:
            if self.raise_alert(
                s, conversation_id, kind="vip_wait", key=handoff_id, severity="high", detail=detail
            ):
                changed += 1
            self._alerted.add(handoff_id)  # raised now or before: not read again
        for conversation_id in due.abandoned:
            card = s.get(Scorecard, conversation_id)
            if card is None or card.fcr is not False:
                self.score(s, conversation_id)
                changed += 1
        return changed


@dataclass
class Due:
    """What a sweep found to write: VIP waits past their SLA, conversations abandoned waiting."""

    vip: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.vip or self.abandoned)


def _override(s: Session, f: FindingOut) -> str | None:
    """The reason an agent gave for sending a message the live check had warned about."""
    if f.sender != "agent" or not f.message_id:
        return None
    meta = s.scalar(select(Message.meta).where(Message.id == f.message_id)) or {}
    override = meta.get("qa_override") if isinstance(meta, dict) else None
    if isinstance(override, dict) and override.get("reason"):
        return str(override["reason"])
    return None


def _age(birth: date | None, today: date | None = None) -> int | None:
    if birth is None:
        return None
    today = today or utcnow().date()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
