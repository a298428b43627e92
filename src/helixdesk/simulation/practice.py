"""Agents' practice conversations with a simulated customer (the console's training mode).

An agent starts one with a practice customer (`training.PracticeCustomer`: an angry customer, a
scam victim) in a language; the customer opens, every message of the agent gets its answer
(`training.respond`), and when the customer is satisfied or leaves, or the agent stops, the
conversation is scored by the pack's QA rules (`quality.engine.assess`, the scoring of real
conversations) on what the agent wrote, with the emotion the NLU read in each customer message.

Practice is marked as such by where it lives: its own table (`training_sessions`), never a
conversation, an event, a customer or a bank action, so analytics, QA statistics, insight and
customer histories never count it. Agents' words are stored masked, as in real conversations.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.db.session import reading, transaction
from helixdesk.privacy.masking import mask_text
from helixdesk.quality.engine import Facts, Msg, assess
from helixdesk.quality.rules import RuleBook
from helixdesk.simulation.models import TrainingSession
from helixdesk.simulation.training import CallerState, PracticeCustomer, opening, respond

MAX_TEXT = 2000
# What the NLU read in a customer message: {"label", "intensity"}, or None without a reading.
EmotionOf = Callable[[str], dict[str, Any] | None]


class TrainingNotFoundError(NotFoundError):
    code = "training_session_not_found"


class TrainingEndedError(ConflictError):
    code = "training_session_ended"


class TrainingChangedError(ConflictError):
    code = "training_session_changed"


class TrainingCustomerError(ValidationFailedError):
    code = "invalid_training_customer"


class TrainingRoom:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        customers: dict[str, PracticeCustomer],
        book: RuleBook,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions, self._customers, self._book, self._clock = sessions, customers, book, clock

    def customers(self, language: str) -> list[dict[str, Any]]:
        """The practice customers, with the situation the agent reads first (in `language`)."""
        return [
            {
                "customer": c.kind,
                "persona": c.persona.name,
                "situation": c.situation.get(language) or c.situation["en"],
                "patience": c.patience,
                "needs": [n.id for n in c.needs],
            }
            for c in self._customers.values()
        ]

    def start(
        self, staff_id: str, customer: str, language: str, *, emotion: EmotionOf, seed: int | None = None
    ) -> dict[str, Any]:
        caller = self._customers.get(customer)
        if caller is None:
            raise TrainingCustomerError(
                f"no practice customer {customer!r}; one of {', '.join(self._customers)}"
            )
        if language not in LANGUAGES:
            raise ValidationFailedError(
                f"language must be one of {', '.join(LANGUAGES)}", code="invalid_language"
            )
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        text = opening(caller, language, random.Random(f"{seed}:0"))
        now = self._clock()
        row = TrainingSession(
            staff_id=staff_id,
            customer=customer,
            language=language,
            seed=seed,
            status="open",
            state=CallerState(caller.mood).to_dict(),
            transcript=[_line("customer", text, now, emotion(text), None)],
            findings=[],
            created_at=now,
            updated_at=now,
        )
        with transaction(self._sessions) as s:
            s.add(row)
            s.flush()
            return _view(row)

    def send(self, staff_id: str, session_id: str, text: str, *, emotion: EmotionOf) -> dict[str, Any]:
        """The agent's message and the customer's answer; scored when the customer ends it."""
        if not text.strip():
            raise ValidationFailedError("the message is empty", code="empty_message")
        if len(text) > MAX_TEXT:
            raise ValidationFailedError(
                f"a message is at most {MAX_TEXT} characters", code="message_too_long"
            )
        row = self._open(staff_id, session_id)
        caller = self._customers[row.customer]
        said = mask_text(text).text
        broke = bool(self._book.check_message(said, "agent"))
        state = CallerState.of(row.state)
        rng = random.Random(f"{row.seed}:{state.turns + 1}")
        answer = respond(caller, row.language, state, said, broke_rules=broke, rng=rng)
        now = self._clock()
        transcript = [
            *row.transcript,
            _line("agent", said, now, None, None),
            _line("customer", answer.text, now, emotion(answer.text), answer.outcome),
        ]
        changes: dict[str, Any] = {"state": answer.state.to_dict(), "transcript": transcript}
        if answer.ends:
            outcome = "satisfied" if answer.outcome == "satisfied" else "left"
            changes.update(self._ending(row, transcript, outcome, now))
        return self._save(row, changes, now)

    def end(self, staff_id: str, session_id: str) -> dict[str, Any]:
        """The agent stops the practice: it is scored as it stands."""
        row = self._open(staff_id, session_id)
        now = self._clock()
        return self._save(row, self._ending(row, row.transcript, "stopped", now), now)

    def get(self, staff_id: str, session_id: str) -> dict[str, Any]:
        with reading(self._sessions) as s:
            row = s.get(TrainingSession, session_id)
            if row is None or row.staff_id != staff_id:
                raise TrainingNotFoundError(f"no practice conversation {session_id} of yours")
            return _view(row)

    def history(self, staff_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The agent's practice conversations, newest first (without their transcripts)."""
        with reading(self._sessions) as s:
            rows = s.scalars(
                select(TrainingSession)
                .where(TrainingSession.staff_id == staff_id)
                .order_by(TrainingSession.created_at.desc())
                .limit(limit)
            )
            return [{k: v for k, v in _view(r).items() if k not in ("transcript", "findings")} for r in rows]

    def reason(self, rule: str, language: str) -> tuple[str, str | None]:
        """Why a finding's rule matters and its compliant alternative, in `language`."""
        return self._book.reason(rule, language), self._book.alternative(rule, language)

    # ---- inside ----------------------------------------------------------------------------------

    def _open(self, staff_id: str, session_id: str) -> TrainingSession:
        with reading(self._sessions) as s:
            row = s.get(TrainingSession, session_id)
            if row is None or row.staff_id != staff_id:
                raise TrainingNotFoundError(f"no practice conversation {session_id} of yours")
            if row.status != "open":
                raise TrainingEndedError("this practice conversation has ended; start a new one")
            s.expunge(row)
            return row

    def _ending(
        self, row: TrainingSession, transcript: list[dict[str, Any]], outcome: str, now: datetime
    ) -> dict[str, Any]:
        msgs = tuple(
            Msg(
                id=f"m{i}",
                seq=i,
                sender=line["sender"],
                text=line["text"],
                created_at=datetime.fromisoformat(line["at"]),
                meta=_meta(line, row.staff_id),
            )
            for i, line in enumerate(transcript, start=1)
        )
        scored = assess(
            self._book,
            Facts(conversation_id=row.id, channel="training", language=row.language, messages=msgs),
        )
        findings = [
            {
                "rule": f.rule,
                "category": f.category,
                "severity": f.severity,
                "seq": f.seq,
                "evidence": f.evidence,
            }
            for f in scored.findings
        ]
        return {
            "status": "ended",
            "outcome": outcome,
            "score": scored.score,
            "findings": findings,
            "ended_at": now,
        }

    def _save(self, row: TrainingSession, changes: dict[str, Any], now: datetime) -> dict[str, Any]:
        with transaction(self._sessions) as s:
            done = s.execute(
                update(TrainingSession)
                .where(TrainingSession.id == row.id, TrainingSession.version == row.version)
                .values(**changes, updated_at=now, version=row.version + 1)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise TrainingChangedError("this practice conversation changed meanwhile; reload it")
            saved = s.get(TrainingSession, row.id, populate_existing=True)
            assert saved is not None
            return _view(saved)


def _meta(line: dict[str, Any], staff_id: str) -> dict[str, Any]:
    """What QA reads beside a message's text: who wrote an agent's; the emotion of a customer's."""
    if line["sender"] == "agent":
        return {"agent_id": staff_id}
    return {"nlu": {"emotion": line["emotion"]}} if line.get("emotion") else {}


def _line(
    sender: str, text: str, at: datetime, emotion: dict[str, Any] | None, outcome: str | None
) -> dict[str, Any]:
    return {"sender": sender, "text": text, "at": at.isoformat(), "emotion": emotion, "outcome": outcome}


def _view(row: TrainingSession) -> dict[str, Any]:
    state = CallerState.of(row.state)
    return {
        "id": row.id,
        "training": True,
        "customer": row.customer,
        "language": row.language,
        "status": row.status,
        "outcome": row.outcome,
        "mood": round(state.mood, 2),
        "needs_met": list(state.met),
        "turns": state.turns,
        "transcript": list(row.transcript),
        "score": row.score,
        "findings": list(row.findings),
        "created_at": row.created_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
    }
