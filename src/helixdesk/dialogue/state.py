"""Per-conversation dialogue state, persisted as JSON in `dialogue_states` with a version number.

The state survives restarts and is shared by every worker. A turn reads it once with the rest of
its context, after claiming the conversation (one turn of a conversation at a time), and the turn's
transaction writes the new state; the version is checked once more on the way, so a turn whose
claim ran out (its worker stalled) cannot overwrite a newer state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, ForeignKey, Integer, String, Table, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.turn import Turn
from helixdesk.db.base import Base, UTCDateTime
from helixdesk.nlg.style import StyleSignals
from helixdesk.privacy.masking import scrub


class DialogueStateRow(Base):
    __tablename__ = "dialogue_states"

    conversation_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


AwaitKind = Literal["code", "slot", "confirm", "after"]


@dataclass(frozen=True, slots=True)
class Awaiting:
    """What the bot asked the customer and waits for: a one-time code, a slot's value, a yes/no to
    confirm a change, or the answer to a follow-up question (`Task.step` holds its path)."""

    kind: AwaitKind
    slot: str | None = None

    def encode(self) -> str:
        return f"slot:{self.slot}" if self.kind == "slot" else self.kind

    @classmethod
    def decode(cls, raw: Any) -> Awaiting | None:
        if not isinstance(raw, str) or not raw:
            return None
        if raw.startswith("slot:"):
            return cls("slot", raw.removeprefix("slot:"))
        if raw in ("code", "confirm", "after"):
            return cls(raw)  # type: ignore[arg-type]
        return None


CODE = Awaiting("code")
CONFIRM = Awaiting("confirm")
AFTER = Awaiting("after")


def slot(name: str) -> Awaiting:
    return Awaiting("slot", name)


@dataclass
class Task:
    """One request the bot is working on: its intent, the values found so far and what it waits for."""

    intent: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    slots: dict[str, Any] = field(default_factory=dict)
    awaiting: Awaiting | None = None
    reprompts: int = 0
    choices: list[dict[str, Any]] = field(default_factory=list)
    step: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None
    confirmed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "intent": self.intent,
            "id": self.id,
            "slots": self.slots,
            "awaiting": self.awaiting.encode() if self.awaiting else None,
            "reprompts": self.reprompts,
            "choices": self.choices,
            "step": self.step,
            "result": self.result,
            "confirmed": self.confirmed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        return cls(
            intent=str(data["intent"]),
            id=str(data.get("id") or uuid.uuid4().hex[:12]),
            slots=dict(data.get("slots") or {}),
            awaiting=Awaiting.decode(data.get("awaiting")),
            reprompts=int(data.get("reprompts", 0)),
            choices=list(data.get("choices") or []),
            step=list(data.get("step") or []),
            result=data.get("result"),
            confirmed=bool(data.get("confirmed", False)),
        )


@dataclass
class DialogueState:
    task: Task | None = None
    stack: list[Task] = field(default_factory=list)
    last: Task | None = None
    low_confidence: int = 0
    style: StyleSignals = field(default_factory=StyleSignals)
    emotions: list[tuple[str, float]] = field(default_factory=list)
    intents: list[str] = field(default_factory=list)
    last_resolved: bool = False
    issues_raised: bool = False
    tips_given: list[str] = field(default_factory=list)
    # The incidents the customer was told about in this conversation (each one once).
    incidents_told: list[str] = field(default_factory=list)
    # The bot looked for its one lifecycle touch in this conversation (given or not, once).
    touch_checked: bool = False
    version: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task.to_dict() if self.task else None,
            "stack": [t.to_dict() for t in self.stack],
            "last": self.last.to_dict() if self.last else None,
            "low_confidence": self.low_confidence,
            "style": self.style.to_dict(),
            "emotions": [[label, round(i, 4)] for label, i in self.emotions[-20:]],
            "intents": self.intents[-10:],
            "last_resolved": self.last_resolved,
            "issues_raised": self.issues_raised,
            "tips_given": self.tips_given,
            "incidents_told": self.incidents_told,
            "touch_checked": self.touch_checked,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, version: int = 0) -> DialogueState:
        data = data or {}
        return cls(
            task=Task.from_dict(data["task"]) if data.get("task") else None,
            stack=[Task.from_dict(t) for t in data.get("stack") or []],
            last=Task.from_dict(data["last"]) if data.get("last") else None,
            low_confidence=int(data.get("low_confidence", 0)),
            style=StyleSignals.from_dict(data.get("style")),
            emotions=[(str(a), float(b)) for a, b in data.get("emotions") or []],
            intents=[str(i) for i in data.get("intents") or []],
            last_resolved=bool(data.get("last_resolved", False)),
            issues_raised=bool(data.get("issues_raised", False)),
            tips_given=[str(t) for t in data.get("tips_given") or []],
            incidents_told=[str(i) for i in data.get("incidents_told") or []],
            touch_checked=bool(data.get("touch_checked", False)),
            version=version,
        )


_STATES: Table = DialogueStateRow.__table__  # type: ignore[assignment]
_LOAD = select(_STATES.c.data, _STATES.c.version).where(_STATES.c.conversation_id == bindparam("conv_id"))
_INSERT = _STATES.insert()
_UPDATE = (
    _STATES.update()
    .where(_STATES.c.conversation_id == bindparam("conv_id"), _STATES.c.version == bindparam("read_version"))
    .values(data=bindparam("data"), version=bindparam("new_version"), updated_at=bindparam("updated_at"))
)


def load_state(s: Session, conversation_id: str) -> DialogueState:
    row = s.connection().execute(_LOAD, {"conv_id": conversation_id}).first()
    if row is None:
        return DialogueState()
    return DialogueState.from_dict(row[0], row[1])


class StateConflictError(Exception):
    """Another turn of the same conversation saved its state first."""


def stored_form(state: DialogueState) -> dict[str, Any]:
    """The state as it is stored: personal data in it (slot values, action results such as account
    numbers) masked."""
    return scrub(state.to_dict())  # type: ignore[no-any-return]


def save_state(
    s: Session, conversation_id: str, state: DialogueState, *, data: dict[str, Any] | None = None
) -> None:
    """Write the state if nobody else did since it was read (call inside the turn's transaction).

    `data` is `stored_form(state)` when the caller made it before the transaction.
    """
    data = data if data is not None else stored_form(state)
    if state.version == 0:
        try:
            s.connection().execute(
                _INSERT,
                {"conversation_id": conversation_id, "data": data, "version": 1, "updated_at": utcnow()},
            )
        except IntegrityError as e:  # the whole turn is rolled back: its claim had run out
            raise StateConflictError(conversation_id) from e
        return
    done = s.connection().execute(
        _UPDATE,
        {
            "conv_id": conversation_id,
            "read_version": state.version,
            "data": data,
            "new_version": state.version + 1,
            "updated_at": utcnow(),
        },
    )
    if int(getattr(done, "rowcount", 0) or 0) != 1:
        raise StateConflictError(conversation_id)


def remember_turn(state: DialogueState, turn: Turn) -> None:
    """Keep the emotion and intent of this customer message in the conversation's history."""
    if turn.emotion is not None:
        state.emotions.append((turn.emotion.label, turn.emotion.intensity))
    state.intents = [*state.intents, turn.intent.name if turn.intent else "out_of_scope"][-10:]
