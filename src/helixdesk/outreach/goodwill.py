"""Service as marketing: a customer at risk whose complaint is resolved receives the bank's goodwill
offer, once, audited (docs/lifecycle.md#goodwill-after-a-resolved-complaint).

`ComplaintGoodwill.handle` reads one event of the log (the consumer `outreach` calls it inside
its transaction). On a person's wrap-up of a complaint as resolved (`handoff.ended`, status
`closed`, resolution `resolved`; the handoff's intent, or one of the customer's messages in the
conversation, a complaint), it reads the customer as the strategies see them (stage and churn band
from the profile; an open complaint or fraud report from their other conversations' open issues)
and asks `recommend` with the trigger `complaint_resolved`. Each `goodwill_offer` strategy that
comes through (the suitability gate has the last word) becomes one row of `lifecycle_touches`,
keyed by the strategy and the conversation, so the same complaint never gives twice, whatever
replays the event:

- `given`: a goodwill credit of the strategy's value, approved in the same transaction within the
  pack's goodwill limits (`handoff.goodwill.Goodwill.offer_in`, audited `goodwill.approved` by
  `strategy:<id>`);
- `held_out`: the customer is in the strategy's holdout group (`strategies.in_holdout`);
- `skipped`, with the reason in `outcome`: over the goodwill limits, no goodwill policy, or held
  back by the gate (`withheld:<rule>`).

Every touch is audited (`lifecycle.touch`). Paying and telling the customer happen after the
transaction has committed (`settle`): the credit goes to the bank with the same reference on every
retry, so it is paid once; the customer gets the strategy's text in their language by the
notifier (an SMS to the phone the bank holds), at most once per touch once the notice is recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.bank.connector import BankConnector
from helixdesk.conversations.models import Conversation, Customer, Message, Sender
from helixdesk.conversations.signals import conversation_signals, intent_of
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError
from helixdesk.core.events import Event, HandoffEnded
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import reading, transaction
from helixdesk.handoff.goodwill import Goodwill
from helixdesk.handoff.models import GoodwillCredit, GoodwillStatus, Handoff
from helixdesk.lifecycle.models import StrategyRow, TouchRow
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.recommend import Snapshot, recommend
from helixdesk.lifecycle.store import StrategyStore
from helixdesk.lifecycle.strategies import Strategy, in_holdout
from helixdesk.lifecycle.suitability import COMPLAINT_INTENTS, FRAUD_INTENTS, SuitabilityPolicy
from helixdesk.memory.service import open_issues
from helixdesk.notifications.notifier import Notification, Notifier

log = logging.getLogger(__name__)

TRIGGER = "complaint_resolved"
KIND = "goodwill_offer"
REASON = "service_failure"  # the goodwill reason the credit is booked under, when the pack has it
# A complaint resolved longer ago than this when its event is read brings nothing: the consumer
# first started on a bank's existing history, or long stopped, makes no offers for old complaints.
MAX_AGE = timedelta(days=2)
PAID = (GoodwillStatus.CREDITED.value, GoodwillStatus.APPROVED.value)


def touch_key(strategy_id: str, conversation_id: str) -> str:
    """One touch per strategy and complaint conversation."""
    return f"{strategy_id}:{TRIGGER}:{conversation_id}"


class ComplaintGoodwill:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        profiles: CustomerProfiles,
        strategies: StrategyStore,
        suitability: SuitabilityPolicy,
        goodwill: Goodwill,
        bank: BankConnector,
        notifier: Notifier | None,
        audit: AuditLog | None,
        tz: tzinfo,
        abandon_issue_after_days: int = 30,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._profiles = profiles
        self._strategies = strategies
        self._suitability = suitability
        self._goodwill = goodwill
        self._bank = bank
        self._notifier = notifier
        self._audit = audit
        self._tz = tz
        self._abandon_days = abandon_issue_after_days
        self._clock = clock
        self._decided: dict[str, _Decision | None] = {}

    # ---- the event ------------------------------------------------------------------------------

    def prepare(self, s: Session, events: list[Event]) -> None:
        """The reading half, outside the consumer's write transaction (the bank, the profile, the
        strategies): what each resolved complaint of the batch calls for."""
        self._decided = {e.event_id: self._decide(s, e) for e in events if _resolved(e)}

    def handle(self, s: Session, event: Event) -> None:
        """The writing half, in the consumer's transaction: the touches `prepare` decided."""
        if not _resolved(event):
            return
        if event.event_id not in self._decided:
            # Only events `prepare` read reach here; anything else is retried with its batch.
            raise RuntimeError(f"event {event.event_id} was not prepared")
        decision = self._decided.pop(event.event_id)
        if decision is None:
            return
        for strategy, value in decision.given:
            self._touch(s, decision, strategy, value)
        for strategy, rule in decision.withheld:
            self._record(s, decision, strategy, status="skipped", outcome=f"withheld:{rule}")

    def _decide(self, s: Session, event: Event) -> _Decision | None:
        assert isinstance(event, HandoffEnded)
        if self._clock() - event.occurred_at > MAX_AGE:
            return None  # resolved long ago: not an occasion now
        conv = s.get(Conversation, event.conversation_id)
        customer = s.get(Customer, conv.customer_id) if conv is not None else None
        if conv is None or customer is None or customer.bank_ref is None:
            return None  # an anonymous customer holds no account and has no lifecycle
        if not self._was_complaint(s, conv.id, event.handoff_id):
            return None
        now = event.occurred_at
        snap = self._snapshot(s, customer, conv.id, now)
        if snap is None:
            return None  # the bank does not know the customer (any more)
        strategies = self._strategies.active().strategies
        found = recommend(snap, strategies, self._suitability, trigger=TRIGGER)
        by_id = {st.id: st for st in strategies}
        return _Decision(
            conversation_id=conv.id,
            customer_id=customer.id,
            customer_ref=customer.bank_ref,
            at=now,
            given=tuple((by_id[r.strategy_id], r.value) for r in found.shown if r.kind == KIND),
            withheld=tuple(
                (by_id[w.strategy_id], w.rule)
                for w in found.withheld
                if by_id[w.strategy_id].what.kind == KIND
            ),
        )

    def _was_complaint(self, s: Session, conversation_id: str, handoff_id: str) -> bool:
        handoff = s.get(Handoff, handoff_id)
        if handoff is not None and handoff.intent in COMPLAINT_INTENTS:
            return True
        metas = s.scalars(
            select(Message.meta).where(
                Message.conversation_id == conversation_id, Message.sender == Sender.CUSTOMER.value
            )
        )
        return any(intent_of(meta) in COMPLAINT_INTENTS for meta in metas)

    def _snapshot(
        self, s: Session, customer: Customer, conversation_id: str, now: datetime
    ) -> Snapshot | None:
        """The customer as the strategies see them: the complaint just resolved is closed; another
        complaint or a fraud report still open elsewhere blocks every touch."""
        assert customer.bank_ref is not None
        signals = conversation_signals(s, customer.id, now=now)
        view = self._profiles.read(customer.bank_ref, signals, today=now.astimezone(self._tz).date())
        if view is None:
            return None
        others = {
            i.intent
            for i in open_issues(
                s,
                customer.id,
                now=now,
                abandon_after_days=self._abandon_days,
                exclude_conversation=conversation_id,
            )
        }
        return replace(
            view.snapshot,
            open_complaint=bool(others & COMPLAINT_INTENTS),
            fraud_report=bool(others & FRAUD_INTENTS),
        )

    def _touch(self, s: Session, d: _Decision, strategy: Strategy, value: Decimal | None) -> None:
        key = touch_key(strategy.id, d.conversation_id)
        if s.scalar(select(TouchRow.id).where(TouchRow.key == key)) is not None:
            return  # given (or held out) once already: a replayed event gives nothing more
        if in_holdout(strategy, d.customer_ref):
            self._record(s, d, strategy, status="held_out", arm="holdout")
            return
        policy = self._goodwill.policy
        if policy is None:
            self._record(s, d, strategy, status="skipped", outcome="goodwill_not_offered")
            return
        reason = REASON if REASON in policy.reasons else policy.reasons[0]
        try:  # a refusal comes before anything is written
            credit_id = self._goodwill.offer_in(
                s, d.conversation_id, amount=value or Decimal(0), reason=reason, by=_actor(strategy), now=d.at
            )
        except AppError as e:
            self._record(s, d, strategy, status="skipped", outcome=e.code)
            return
        self._record(s, d, strategy, status="given", value=value, credit_id=credit_id)

    def _record(
        self,
        s: Session,
        d: _Decision,
        strategy: Strategy,
        *,
        status: str,
        arm: str = "touched",
        outcome: str | None = None,
        value: Decimal | None = None,
        credit_id: str | None = None,
    ) -> None:
        key = touch_key(strategy.id, d.conversation_id)
        if s.scalar(select(TouchRow.id).where(TouchRow.key == key)) is not None:
            return
        version = s.scalar(select(StrategyRow.version).where(StrategyRow.id == strategy.id)) or 1
        touch = TouchRow(
            key=key,
            strategy_id=strategy.id,
            strategy_version=version,
            kind=strategy.what.kind,
            channel="auto",
            trigger=TRIGGER,
            customer_id=d.customer_id,
            conversation_id=d.conversation_id,
            arm=arm,
            status=status,
            outcome=outcome,
            value_minor=None if value is None else int(value * 100),
            goodwill_credit_id=credit_id,
            created_at=d.at,
        )
        s.add(touch)
        s.flush()
        if self._audit is not None:
            self._audit.record(
                s,
                actor=Actor.system(_actor(strategy)),
                action="lifecycle.touch",
                target=Target.conversation(d.conversation_id),
                details={
                    "touch_id": touch.id,
                    "strategy_id": strategy.id,
                    "strategy_version": version,
                    "trigger": TRIGGER,
                    "status": status,
                    "arm": arm,
                    "outcome": outcome,
                    "value": None if value is None else str(value),
                    "credit_id": credit_id,
                },
                customer_ref=d.customer_ref,
            )

    # ---- after the commit: pay and tell -----------------------------------------------------------

    def settle(self, *, now: datetime | None = None, limit: int = 50) -> int:
        """Pay the credits of given touches not paid yet and tell their customers; how many were
        settled. Runs after the consumer's transactions, outside them."""
        when = now or utcnow()
        with reading(self._sessions) as s:
            pending = s.execute(
                select(TouchRow.id, TouchRow.strategy_id, TouchRow.goodwill_credit_id)
                .where(
                    TouchRow.status == "given",
                    TouchRow.goodwill_credit_id.is_not(None),
                    TouchRow.notice_id.is_(None),
                )
                .order_by(TouchRow.created_at)
                .limit(limit)
            ).all()
        settled = 0
        for touch_id, strategy_id, credit_id in pending:
            assert credit_id is not None
            try:
                credit = self._goodwill.settle_offer(credit_id, by=f"strategy:{strategy_id}", now=when)
            except AppError as e:
                log.warning("goodwill of touch %s not paid: %s", touch_id, e.code)
                self._mark(touch_id, notice=f"unpaid:{e.code}")
                continue
            if credit["status"] not in PAID:
                self._mark(touch_id, notice=f"unpaid:{credit['status']}")
                continue
            self._mark(touch_id, notice=self._tell(touch_id, strategy_id, when))
            settled += 1
        return settled

    def _tell(self, touch_id: str, strategy_id: str, now: datetime) -> str:
        """The strategy's text to the customer, in their language; the notice id (or why none)."""
        with reading(self._sessions) as s:
            row = s.execute(
                select(Customer.bank_ref, Conversation.language)
                .join(TouchRow, TouchRow.customer_id == Customer.id)
                .outerjoin(Conversation, Conversation.id == TouchRow.conversation_id)
                .where(TouchRow.id == touch_id)
            ).first()
        strategy = self._strategies.active().get(strategy_id)
        if row is None or row[0] is None or strategy is None or self._notifier is None:
            return "not_told"
        ref: str = row[0]
        language: str | None = row[1]
        customer = self._bank.get_customer(ref)
        if customer is None or not customer.phone:
            return "no_phone"
        lang = language_or_default(language or customer.preferred_language)
        try:
            return self._notifier.send(
                Notification(
                    customer_ref=ref,
                    channel="sms",
                    destination=customer.phone,
                    body=strategy.texts[lang],
                    purpose="goodwill",
                    created_at=now,
                )
            )
        except Exception as e:  # noqa: BLE001 - a bank's gateway may raise anything; the credit stands
            log.warning("goodwill notice of touch %s not sent: %s", touch_id, e)
            return "notice_failed"

    def _mark(self, touch_id: str, *, notice: str) -> None:
        with transaction(self._sessions) as s:
            touch = s.get(TouchRow, touch_id)
            if touch is not None and touch.notice_id is None:
                touch.notice_id = notice[:64]
                credit = s.get(GoodwillCredit, touch.goodwill_credit_id) if touch.goodwill_credit_id else None
                if credit is not None and credit.status not in PAID:
                    touch.outcome = f"credit_{credit.status}"


@dataclass(frozen=True, slots=True)
class _Decision:
    """What `prepare` decided for one resolved complaint: the offers to give (the gate let them
    through) and those the gate held back, with its rule."""

    conversation_id: str
    customer_id: str
    customer_ref: str
    at: datetime
    given: tuple[tuple[Strategy, Decimal | None], ...]
    withheld: tuple[tuple[Strategy, str], ...]


def _resolved(event: Event) -> bool:
    return isinstance(event, HandoffEnded) and event.status == "closed" and event.resolution == "resolved"


def _actor(strategy: Strategy) -> str:
    return f"strategy:{strategy.id}"
