"""Adapters that plug the knowledge base, the action runner and identity verification into the
dialogue manager's ports (`helixdesk.dialogue.ports`).

The actions adapter also turns slot values (entity values from the NLU) into action parameters:
a money entity gives `amount` (or `currency`), a date entity gives whichever of `since`/`until`,
`date_from`/`date_to` or `date` the action takes. Results come back JSON-safe (money as exact
decimal text), with a few derived fields the policies refer to (`found`, `best_ref`, and the
first transfer's status at the top level).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from helixdesk.actions.runner import ActionRunner
from helixdesk.bank.connector import BankConnector
from helixdesk.dialogue.ports import (
    ActionFailed,
    Citation,
    CodeCheck,
    CodeSent,
    IntentHint,
    KnowledgeReply,
    VerificationFailed,
)
from helixdesk.errors import AppError
from helixdesk.identity import VerificationService, looks_like_code
from helixdesk.identity.errors import IdentityLockedError
from helixdesk.knowledge.retrieval import KnowledgeBase

_ACTIVE_CARD = ("active", "inactive")
_DATE_PAIRS = (("since", "until"), ("date_from", "date_to"))


class KnowledgeAdapter:
    def __init__(self, *, knowledge: KnowledgeBase) -> None:
        self._kb = knowledge

    def answer(self, query: str, *, language: str, intent: IntentHint) -> KnowledgeReply:
        self._kb.refresh_if_changed()
        found = self._kb.answer(
            query, language=language, intent=dict(intent) if isinstance(intent, Mapping) else intent
        )
        best = found.best
        if not found.grounded or best is None:
            return KnowledgeReply(grounded=False, score=found.confidence)
        c = best.citation
        return KnowledgeReply(
            grounded=True,
            text=best.answer,
            citations=(Citation(title=c.document_title, source=c.source, ref=c.faq_id or c.section),),
            explanations=tuple((e.cause, e.solution) for e in found.explanations),
            score=found.confidence,
        )


class ActionsAdapter:
    def __init__(self, *, runner: ActionRunner, bank: BankConnector) -> None:
        self._runner = runner
        self._bank = bank

    def run(
        self,
        name: str,
        *,
        customer_ref: str,
        params: Mapping[str, Any],
        conversation_id: str,
        confirmed: bool,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        spec = self._runner.actions.get(name)
        if spec is None:
            raise ActionFailed("unknown_action", f"no action {name!r}")
        fields = set(spec.input.model_fields)
        try:
            out = self._runner.run(
                name,
                customer_ref=customer_ref,
                params=to_params(params, fields),
                conversation_id=conversation_id or None,
                confirmed=confirmed,
                idempotency_key=idempotency_key,
            )
        except AppError as e:
            raise ActionFailed(e.code, e.detail) from e
        result: dict[str, Any] = out.model_dump(mode="json")
        _derive(result, params)
        return result

    def choices(self, kind: str, *, customer_ref: str) -> list[dict[str, Any]]:
        if kind in ("cards", "credit_cards"):
            cards = [c for c in self._bank.list_cards(customer_ref) if c.status in _ACTIVE_CARD]
            if kind == "credit_cards":
                cards = [c for c in cards if c.kind == "credit"]
            return [
                {
                    "value": c.last4,
                    "tail": c.last4,
                    "label_zh": f"{'信用卡' if c.kind == 'credit' else '借记卡'} 尾号{c.last4}（{c.product}）",
                    "label_zh_hant": f"{'信用卡' if c.kind == 'credit' else '扣賬卡'} 尾號{c.last4}（{c.product}）",
                    "label_en": f"{'Credit' if c.kind == 'credit' else 'Debit'} card ending {c.last4} ({c.product})",
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
                    "label_zh": p.description,
                    "label_zh_hant": p.description,
                    "label_en": p.description,
                    "keywords": [p.description],
                }
                for p in self._bank.list_installment_plans(customer_ref)
                if p.status == "active"
            ]
        raise ValueError(f"unknown choice kind {kind!r}")


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


class VerificationAdapter:
    def __init__(self, *, service: VerificationService) -> None:
        self._service = service
        self.code_length = service.policy.code_length

    def is_verified(self, *, conversation_id: str, customer_ref: str, now: datetime) -> bool:
        return self._service.status(
            conversation_id=conversation_id, customer_ref=customer_ref, now=now
        ).verified

    def send_code(self, *, conversation_id: str, customer_ref: str, language: str, now: datetime) -> CodeSent:
        try:
            challenge = self._service.start(
                conversation_id=conversation_id, customer_ref=customer_ref, language=language, now=now
            )
        except IdentityLockedError as e:
            raise VerificationFailed(e.code, e.locked_until) from e
        except AppError as e:
            raise VerificationFailed(e.code) from e
        minutes = math.ceil((challenge.expires_at - challenge.created_at).total_seconds() / 60)
        return CodeSent(destination=challenge.destination_masked, valid_minutes=minutes)

    def check_code(self, *, conversation_id: str, code: str, now: datetime) -> CodeCheck:
        outcome = self._service.verify(conversation_id=conversation_id, code=code, now=now)
        return CodeCheck(
            status=outcome.status.value,
            attempts_left=outcome.attempts_left,
            locked_until=outcome.locked_until,
        )

    def find_code(self, text: str) -> str | None:
        return looks_like_code(text, self.code_length)
