"""The labelling queue: the next item for an annotator, an item as the page shows it, a label given,
a message an agent flags as misunderstood, and the queue's counts.

Annotators label blind: they see the masked message, the two messages before it and after it,
and what the models made of it, never another annotator's label. Supervisors see the labels of a
disputed item and settle it. Every change to an item happens with its row locked, so two people
labelling at once cannot both take the last place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import AuditLog, Target
from helixdesk.audit.context import staff_actor
from helixdesk.auth.service import StaffView, staff_names
from helixdesk.conversations.models import Message
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.learning.errors import (
    AlreadyLabelledError,
    ItemNotFoundError,
    ItemResolvedError,
    MessageNotFoundError,
    NeedsSupervisorError,
    NotACustomerMessageError,
)
from helixdesk.learning.labels import Given, LabelValue, Vocabulary, resolve
from helixdesk.learning.models import Label, LabelItem
from helixdesk.privacy.masking import mask_text

STATUSES = ("open", "second", "disputed", "resolved")
MAX_NOTE = 500
MAX_SKIP = 200


@dataclass(frozen=True, slots=True)
class ItemView:
    """An item as the labelling page shows it (text and context masked, as stored)."""

    id: str
    status: str
    reason: str
    reasons: list[str]
    conversation_id: str
    seq: int
    language: str | None
    text: str
    context: list[dict[str, Any]]
    prediction: dict[str, Any]
    needs: int
    flag: dict[str, Any] | None
    labels: list[dict[str, Any]] = field(default_factory=list)  # supervisors only
    final: dict[str, Any] | None = None
    resolution: str | None = None
    mine: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Labelling:
    def __init__(
        self, *, sessions: sessionmaker[Session], vocabulary: Vocabulary, audit: AuditLog | None = None
    ) -> None:
        self._sessions = sessions
        self.vocabulary = vocabulary
        self._audit = audit

    # ---- reading --------------------------------------------------------------------------------

    def counts(self) -> dict[str, Any]:
        """Items per status, and the unresolved ones per reason."""
        with reading(self._sessions) as s:
            by_status = dict(
                s.execute(select(LabelItem.status, func.count()).group_by(LabelItem.status)).all()
            )
            by_reason = dict(
                s.execute(
                    select(LabelItem.reason, func.count())
                    .where(LabelItem.status != "resolved")
                    .group_by(LabelItem.reason)
                ).all()
            )
        return {
            "status": {k: int(by_status.get(k, 0)) for k in STATUSES},
            "reasons": {k: int(v) for k, v in by_reason.items()},
        }

    def waiting(self, user: StaffView, *, limit: int = 50) -> list[dict[str, Any]]:
        """The items this person may label next, in the order `next_item` gives them."""
        with reading(self._sessions) as s:
            items = self._waiting(s, user, skip=(), limit=limit)
            texts = dict(
                s.execute(
                    select(Message.id, Message.text).where(Message.id.in_([i.message_id for i in items]))
                ).all()
            )
        return [
            {
                "id": i.id,
                "status": i.status,
                "reason": i.reason,
                "reasons": list(i.reasons),
                "intent": i.predicted_intent,
                "confidence": i.confidence,
                "text": texts.get(i.message_id, ""),
                "created_at": i.created_at.isoformat(),
            }
            for i in items
        ]

    def next_item(self, user: StaffView, *, skip: Sequence[str] = ()) -> ItemView | None:
        """The next item for this person: for a supervisor the disputed ones first; then those
        waiting for a second annotator, then agents' flags, then the oldest; never one they labelled."""
        with reading(self._sessions) as s:
            found = self._waiting(s, user, skip=skip[:MAX_SKIP], limit=1)
            return self._view(s, found[0], user) if found else None

    def item(self, user: StaffView, item_id: str) -> ItemView:
        with reading(self._sessions) as s:
            item = s.get(LabelItem, item_id)
            if item is None:
                raise ItemNotFoundError(f"no labelling item {item_id}")
            return self._view(s, item, user)

    def _waiting(self, s: Session, user: StaffView, *, skip: Iterable[str], limit: int) -> list[LabelItem]:
        mine = select(Label.item_id).where(Label.annotator_id == user.id)
        statuses = ["disputed", "second", "open"] if user.is_supervisor else ["second", "open"]
        query = (
            select(LabelItem)
            .join(Message, Message.id == LabelItem.message_id)
            .where(LabelItem.status.in_(statuses), LabelItem.id.not_in(mine), Message.text != "")
            .order_by(
                (LabelItem.status == "disputed").desc(),
                (LabelItem.status == "second").desc(),
                (LabelItem.reason == "flagged").desc(),
                LabelItem.created_at,
                LabelItem.conversation_id,
                LabelItem.seq,
            )
            .limit(limit)
        )
        skip = list(skip)
        if skip:
            query = query.where(LabelItem.id.not_in(skip))
        return list(s.scalars(query))

    def _view(self, s: Session, item: LabelItem, user: StaffView) -> ItemView:
        rows = s.execute(
            select(Message.seq, Message.sender, Message.text, Message.meta)
            .where(
                Message.conversation_id == item.conversation_id,
                Message.seq >= item.seq - 2,
                Message.seq <= item.seq + 2,
            )
            .order_by(Message.seq)
        ).all()
        own = next((r for r in rows if r.seq == item.seq), None)
        nlu = dict(((own.meta or {}).get("nlu") or {}) if own is not None else {})
        context = [
            {"seq": r.seq, "sender": r.sender, "text": r.text, "current": r.seq == item.seq} for r in rows
        ]
        labels = list(s.scalars(select(Label).where(Label.item_id == item.id).order_by(Label.id)))
        names = staff_names(s, [item.flagged_by, *(lb.annotator_id for lb in labels)])
        shown = (
            [
                {
                    "by": names.get(lb.annotator_id, lb.annotator_id),
                    "role": lb.role,
                    "intent": lb.intent,
                    "emotion": lb.emotion,
                    "entities": list(lb.entities),
                    "at": lb.created_at.isoformat(),
                }
                for lb in labels
            ]
            if user.is_supervisor
            else []
        )
        flag = (
            {"by": names.get(item.flagged_by, ""), "intent": item.flag_intent, "note": item.flag_note}
            if item.flagged_by
            else None
        )
        return ItemView(
            id=item.id,
            status=item.status,
            reason=item.reason,
            reasons=list(item.reasons),
            conversation_id=item.conversation_id,
            seq=item.seq,
            language=item.language,
            text=own.text if own is not None else "",
            context=context,
            prediction={
                "intent": nlu.get("intent"),
                "ranking": list(nlu.get("intent_ranking") or [])[:3],
                "entities": list(nlu.get("entities") or []),
                "emotion": nlu.get("emotion"),
            },
            needs=item.needs,
            flag=flag,
            labels=shown,
            final=item.final,
            resolution=item.resolution,
            mine=any(lb.annotator_id == user.id for lb in labels),
        )

    # ---- writing --------------------------------------------------------------------------------

    def submit(self, user: StaffView, item_id: str, label: Mapping[str, Any]) -> ItemView:
        """`user` labels the item (`{intent, emotion, entities: [{type, start, end}]}`); returns it
        as it stands now (resolved, or waiting for another label)."""
        with transaction(self._sessions) as s:
            item = self._locked(s, item_id)
            if item.status == "resolved":
                raise ItemResolvedError("this item is resolved already")
            if item.status == "disputed" and not user.is_supervisor:
                raise NeedsSupervisorError("the annotators disagree on this item: a supervisor settles it")
            labels = list(s.scalars(select(Label).where(Label.item_id == item.id).order_by(Label.id)))
            if any(lb.annotator_id == user.id for lb in labels):
                raise AlreadyLabelledError("you have labelled this item already")
            text = s.scalar(select(Message.text).where(Message.id == item.message_id)) or ""
            value = self.vocabulary.check(
                str(label.get("intent", "")), str(label.get("emotion", "")), label.get("entities") or [], text
            )
            role = "supervisor" if item.status == "disputed" else "annotator"
            meta = s.scalar(select(Message.meta).where(Message.id == item.message_id)) or {}
            s.add(
                Label(
                    item_id=item.id,
                    annotator_id=user.id,
                    role=role,
                    intent=value.intent,
                    emotion=value.emotion,
                    entities=value.to_dict(text)["entities"],
                    changed=value != _predicted(meta.get("nlu") or {}),
                    created_at=utcnow(),
                )
            )
            given = [Given(lb.annotator_id, lb.role, _value(lb)) for lb in labels]
            given.append(Given(user.id, role, value))
            self._settle(item, given, text)
            if role == "supervisor" and self._audit is not None:
                self._audit.record(
                    s,
                    actor=staff_actor(user.id),
                    action="learning.label.settled",
                    target=Target("label_item", item.id),
                    details={"conversation_id": item.conversation_id, "intent": value.intent},
                )
            s.flush()
            return self._view(s, item, user)

    def flag(
        self, user: StaffView, conversation_id: str, seq: int, *, intent: str | None = None, note: str = ""
    ) -> ItemView:
        """An agent says the bot misunderstood customer message `seq` (and, optionally, what the
        customer meant): the message joins the queue with reason `flagged`. A resolved item whose
        label the agent's intent contradicts goes to a second annotator."""
        if intent is not None:
            self.vocabulary.check_intent(intent)
        note = mask_text(note.strip()[:MAX_NOTE]).text
        with transaction(self._sessions) as s:
            message = s.scalar(
                select(Message).where(Message.conversation_id == conversation_id, Message.seq == seq)
            )
            if message is None:
                raise MessageNotFoundError(f"conversation {conversation_id} has no message {seq}")
            if message.sender != "customer":
                raise NotACustomerMessageError("only a customer's message can be flagged as misunderstood")
            nlu = (message.meta or {}).get("nlu") or {}
            item = s.scalar(select(LabelItem).where(LabelItem.message_id == message.id).with_for_update())
            now = utcnow()
            if item is None:
                item = LabelItem(
                    message_id=message.id,
                    conversation_id=conversation_id,
                    seq=seq,
                    language=nlu.get("language"),
                    reason="flagged",
                    reasons=["flagged"],
                    predicted_intent=(nlu.get("intent") or {}).get("name"),
                    confidence=(nlu.get("intent") or {}).get("confidence"),
                    needs=1,
                    status="open",
                    created_at=now,
                )
                s.add(item)
            elif "flagged" not in item.reasons:
                item.reasons = [*item.reasons, "flagged"]
            item.flagged_by, item.flag_intent, item.flag_note, item.updated_at = user.id, intent, note, now
            if (
                item.status == "resolved"
                and intent is not None
                and (item.final or {}).get("intent") != intent
            ):
                item.status, item.final, item.resolution, item.resolved_at = "second", None, None, None
            if self._audit is not None:
                self._audit.record(
                    s,
                    actor=staff_actor(user.id),
                    action="learning.message.flagged",
                    target=Target.conversation(conversation_id),
                    details={"seq": seq, "intent": intent, "item_id": item.id},
                )
            s.flush()
            return self._view(s, item, user)

    @staticmethod
    def _locked(s: Session, item_id: str) -> LabelItem:
        item = s.scalar(select(LabelItem).where(LabelItem.id == item_id).with_for_update())
        if item is None:
            raise ItemNotFoundError(f"no labelling item {item_id}")
        return item

    @staticmethod
    def _settle(item: LabelItem, given: list[Given], text: str) -> None:
        outcome = resolve(item.needs, given, item.flag_intent)
        item.status = outcome.status
        item.updated_at = utcnow()
        if outcome.final is not None:
            item.final = outcome.final.to_dict(text)
            item.resolution = outcome.resolution
            item.resolved_at = item.updated_at


def _value(label: Label) -> LabelValue:
    return LabelValue.from_dict(
        {"intent": label.intent, "emotion": label.emotion, "entities": label.entities}
    )


def _predicted(nlu: Mapping[str, Any]) -> LabelValue | None:
    """What the models said, as a label (to tell a confirmation from a correction)."""
    intent = (nlu.get("intent") or {}).get("name")
    emotion = (nlu.get("emotion") or {}).get("label")
    if intent is None or emotion is None:
        return None
    return LabelValue.from_dict({"intent": intent, "emotion": emotion, "entities": nlu.get("entities") or []})
