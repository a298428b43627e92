"""The turn's executor: runs each effect `decide` asks for, once, and keeps what must be stored.

Effects and where they go:
- `RunAction`: the action runner (`helixdesk.actions`); slot values become the action's input
  parameters (a money entity gives `amount` or `currency`, a date range gives `since`/`until`,
  `date_from`/`date_to` or `date`). Results come back JSON-safe (money as exact decimal text),
  with a few derived fields the policies refer to (`found`, `best_ref`, and the first transfer's
  status at the top level). The audit of each run is kept in `TurnEffects.records` and stored
  with the turn, in its transaction.
- `ListChoices`: the customer's active cards, credit cards, accounts or instalment plans.
- `SendCode`, `CheckCode`: identity verification (`helixdesk.identity`), which keeps its own
  challenge rows and audit entries.
- `AskKnowledge`: the knowledge base.
- `ReadLifecycle`: the customer's lifecycle snapshot and the active strategies, for the bot's one
  lifecycle touch (`helixdesk.lifecycle.touches.TouchReader`).

An action that refuses (no matching transaction, an unknown card, ...) is a result, `ActionRefused`
with its stable code: the dialogue words it and offers a person.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from helixdesk.actions.runner import ActionRecord, ActionRunner
from helixdesk.bank.connector import BankConnector
from helixdesk.core.errors import AppError
from helixdesk.core.events import Citation
from helixdesk.dialogue.context import TurnContext
from helixdesk.dialogue.effects import (
    ActionDone,
    ActionRefused,
    Ask,
    AskKnowledge,
    CheckCode,
    Choices,
    CodeChecked,
    CodeNotSent,
    CodeSent,
    KnowledgeReply,
    ListChoices,
    ReadLifecycle,
    Result,
    RunAction,
    SendCode,
)
from helixdesk.identity import VerificationService
from helixdesk.identity.errors import IdentityLockedError
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.knowledge.types import Citation as KnowledgeCitation
from helixdesk.lifecycle.touches import TouchRead, TouchReader
from helixdesk.nlg.names import name_in

_ACTIVE_CARD = ("active", "inactive")
_DATE_PAIRS = (("since", "until"), ("date_from", "date_to"))


@dataclass
class TurnEffects:
    """What the executor did in one turn: each result by its effect, and the audit records to store."""

    results: dict[Ask, Result] = field(default_factory=dict)
    records: list[ActionRecord] = field(default_factory=list)


class Executor:
    def __init__(
        self,
        *,
        actions: ActionRunner,
        bank: BankConnector,
        identity: VerificationService,
        knowledge: KnowledgeBase,
        touches: TouchReader | None = None,
    ) -> None:
        self.actions = actions
        self._bank = bank
        self.identity = identity
        self._kb = knowledge
        self.touches = touches

    def run(self, effect: Ask, ctx: TurnContext, done: TurnEffects) -> Result:
        """Run `effect` for this turn (unless it already ran) and remember its result."""
        known = done.results.get(effect)
        if known is not None:
            return known
        result: Result
        if isinstance(effect, RunAction):
            result = self._action(effect, ctx, done)
        elif isinstance(effect, ListChoices):
            ref = ctx.customer.customer_ref
            result = Choices(tuple(self.choices(effect.kind, ref))) if ref else Choices(())
        elif isinstance(effect, SendCode):
            result = self._send_code(effect, ctx)
        elif isinstance(effect, CheckCode):
            outcome = self.identity.verify(conversation_id=ctx.conversation_id, code=effect.code, now=ctx.now)
            result = CodeChecked(
                status=outcome.status.value,
                attempts_left=outcome.attempts_left,
                locked_until=outcome.locked_until,
            )
        elif isinstance(effect, ReadLifecycle):
            result = self._lifecycle(ctx)
        else:
            result = self._knowledge(effect)
        done.results[effect] = result
        return result

    def _lifecycle(self, ctx: TurnContext) -> TouchRead:
        ref = ctx.customer.customer_ref
        if self.touches is None or ref is None:
            return TouchRead(snapshot=None, strategies=(), versions={})
        return self.touches.read(ref, now=ctx.now)

    # ---- actions ----------------------------------------------------------------------------------

    def _action(self, effect: RunAction, ctx: TurnContext, done: TurnEffects) -> Result:
        ref = ctx.customer.customer_ref
        spec = self.actions.actions.get(effect.name)
        if spec is None or (ref is None and spec.needs_customer):
            return ActionRefused("unknown_action", f"no action {effect.name!r} for this customer")
        slots = effect.params
        run = self.actions.execute(
            effect.name,
            customer_ref=ref,
            params=to_params(slots, set(spec.input.model_fields)),
            conversation_id=ctx.conversation_id,
            confirmed=effect.confirmed,
            idempotency_key=effect.idempotency_key,
        )
        done.records.append(run.record)
        if run.error is not None:
            return ActionRefused(run.error.code, run.error.detail)
        assert run.output is not None
        result: dict[str, Any] = run.output.model_dump(mode="json")
        _derive(result, slots)
        return ActionDone(result)

    def choices(self, kind: str, customer_ref: str) -> list[dict[str, Any]]:
        if kind in ("cards", "credit_cards"):
            cards = [c for c in self._bank.list_cards(customer_ref) if c.status in _ACTIVE_CARD]
            if kind == "credit_cards":
                cards = [c for c in cards if c.kind == "credit"]
            return [
                {
                    "value": c.last4,
                    "tail": c.last4,
                    # The product's name in each language and script ("金卡 Gold Credit").
                    "label_zh": f"{'信用卡' if c.kind == 'credit' else '借记卡'} 尾号{c.last4}（{name_in(c.product, 'zh-Hans')}）",
                    "label_zh_hant": f"{'信用卡' if c.kind == 'credit' else '扣賬卡'} 尾號{c.last4}（{name_in(c.product, 'zh-Hant')}）",
                    "label_en": f"{'Credit' if c.kind == 'credit' else 'Debit'} card ending {c.last4} ({name_in(c.product, 'en')})",
                    "keywords": ["信用卡", "credit"]
                    if c.kind == "credit"
                    else ["借记卡", "储蓄卡", "扣账卡", "debit"],
                }
                for c in cards
            ]
        if kind == "accounts":
            return [
                {
                    "value": a.number[-4:],
                    "tail": a.number[-4:],
                    "label_zh": f"账户 尾号{a.number[-4:]}",
                    "label_zh_hant": f"戶口 尾號{a.number[-4:]}",
                    "label_en": f"Account ending {a.number[-4:]}",
                    "keywords": [a.kind],
                }
                for a in self._bank.list_accounts(customer_ref)
            ]
        if kind == "plans":
            return [
                {
                    "value": p.ref,
                    "tail": p.card_last4,
                    "label_zh": name_in(p.description, "zh-Hans"),
                    "label_zh_hant": name_in(p.description, "zh-Hant"),
                    "label_en": name_in(p.description, "en"),
                    "keywords": [p.description],
                }
                for p in self._bank.list_installment_plans(customer_ref)
                if p.status == "active"
            ]
        raise ValueError(f"unknown choice kind {kind!r}")

    # ---- identity -----------------------------------------------------------------------------------

    def _send_code(self, effect: SendCode, ctx: TurnContext) -> Result:
        ref = ctx.customer.customer_ref
        if ref is None:
            return CodeNotSent("customer_not_found")
        try:
            challenge = self.identity.start(
                conversation_id=ctx.conversation_id, customer_ref=ref, language=effect.language, now=ctx.now
            )
        except IdentityLockedError as e:
            return CodeNotSent(e.code, e.locked_until)
        except AppError as e:
            return CodeNotSent(e.code)
        minutes = math.ceil((challenge.expires_at - challenge.created_at).total_seconds() / 60)
        return CodeSent(destination=challenge.destination_masked, valid_minutes=minutes)

    # ---- knowledge ----------------------------------------------------------------------------------

    def _knowledge(self, effect: AskKnowledge) -> Result:
        hint = effect.hint
        found = self._kb.answer(effect.query, language=effect.language, intent=hint)
        best = found.best
        if not found.grounded or best is None:
            return KnowledgeReply(grounded=False, score=found.confidence)
        passages = tuple(
            (hit.answer, _citation(hit.citation))
            for hit in found.hits
            if hit.scores.confidence >= found.threshold
        )
        return KnowledgeReply(
            grounded=True,
            text=best.answer,
            citations=(_citation(best.citation),),
            explanations=tuple((e.cause, e.solution) for e in found.explanations),
            score=found.confidence,
            passages=passages,
        )


def _citation(c: KnowledgeCitation) -> Citation:
    return Citation(title=c.document_title, source=c.source, ref=c.faq_id or c.section)


def to_params(slots: Mapping[str, Any], fields: set[str]) -> dict[str, Any]:
    """Slot values (entity values) as the action's input parameters; unknown names are dropped."""
    params: dict[str, Any] = {}
    for name, value in slots.items():
        if isinstance(value, Mapping) and "amount" in value:
            if name == "currency" and "currency" in fields:
                params["currency"] = value.get("currency")
            elif "amount" in fields:
                params["amount"] = value["amount"]
            continue
        if isinstance(value, Mapping) and "start" in value and "end" in value:
            params.update(_date_params(value, fields))
            continue
        if name in fields:
            params[name] = value
    return params


def _date_params(value: Mapping[str, Any], fields: set[str]) -> dict[str, Any]:
    start = _day(value["start"])
    end_exclusive = datetime.fromisoformat(str(value["end"]))
    last = (end_exclusive - timedelta(microseconds=1)).date()
    for a, b in _DATE_PAIRS:
        if a in fields and b in fields and (start != last or "date" not in fields):
            return {a: start.isoformat(), b: last.isoformat()}
    if "date" in fields:
        return {"date": start.isoformat()}
    return {}


def _day(text: Any) -> date:
    return datetime.fromisoformat(str(text)).date()


def _derive(result: dict[str, Any], params: Mapping[str, Any]) -> None:
    matches = result.get("matches")
    if isinstance(matches, list):
        result["found"] = bool(matches)
        result["best_ref"] = matches[0]["transaction"]["ref"] if matches else None
    transfers = result.get("transfers")
    if isinstance(transfers, list) and transfers:
        first = transfers[0]
        for key in ("ref", "status", "completed_at", "expected_arrival", "funds", "failure_reason"):
            result.setdefault(key, first.get(key))
    if "merchant" not in result and isinstance(params.get("merchant"), str):
        result["merchant"] = params["merchant"]
