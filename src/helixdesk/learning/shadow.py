"""Shadow runs: a candidate parses live traffic beside the live model, off the customer's path.

The durable consumer `learning-shadow` (in `helixdesk learning run`, a process of its own, its
reading and parsing at idle CPU priority) takes each bot turn from the event log once the turn is
stored (its first `reply.sent`), parses the customer's message (the stored, masked text) with the
candidate, and compares the intent with the one the live model gave in that turn (kept with the
message). Agreements are counted; each disagreement is kept, for the console to show. Nothing of
this reaches the reply: the turn was answered and stored before the consumer sees it.

One run at a time; it covers the events logged after it started (`after_seq`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.bus.outbox import last_log_seq
from helixdesk.conversations.models import Message
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event, ReplySent
from helixdesk.learning.errors import NoShadowError
from helixdesk.learning.models import Disagreement, ModelVersionRow, ShadowRun
from helixdesk.nlu.intent.artefacts import load_model
from helixdesk.nlu.intent.model import IntentClassifier

CONSUMER = "learning-shadow"
log = logging.getLogger(__name__)


def _run(r: ShadowRun) -> dict[str, Any]:
    return {
        "id": r.id,
        "version": r.version,
        "live_version": r.live_version,
        "after_seq": r.after_seq,
        "parsed": r.parsed,
        "disagreed": r.disagreed,
        "agreement": round(1 - r.disagreed / r.parsed, 4) if r.parsed else None,
        "started_by": r.started_by,
        "started_at": r.started_at.isoformat(),
        "stopped_by": r.stopped_by,
        "stopped_at": r.stopped_at.isoformat() if r.stopped_at else None,
    }


def active(s: Session) -> ShadowRun | None:
    return s.scalar(
        select(ShadowRun).where(ShadowRun.stopped_at.is_(None)).order_by(ShadowRun.id.desc()).limit(1)
    )


def start(s: Session, version: str, live_version: str | None, by: str) -> dict[str, Any]:
    """Stop the running shadow (if any) and start `version`'s from the end of the event log."""
    now = utcnow()
    for running in s.scalars(select(ShadowRun).where(ShadowRun.stopped_at.is_(None)).with_for_update()):
        running.stopped_at, running.stopped_by = now, by
    run = ShadowRun(
        version=version, live_version=live_version, after_seq=last_log_seq(s), started_by=by, started_at=now
    )
    s.add(run)
    s.flush()
    return _run(run)


def stop(s: Session, by: str) -> dict[str, Any]:
    run = s.scalar(select(ShadowRun).where(ShadowRun.stopped_at.is_(None)).with_for_update().limit(1))
    if run is None:
        raise NoShadowError("no shadow run is running")
    run.stopped_at, run.stopped_by = utcnow(), by
    s.flush()
    return _run(run)


def runs(s: Session, version: str | None) -> list[dict[str, Any]]:
    query = select(ShadowRun).order_by(ShadowRun.id.desc()).limit(50)
    if version is not None:
        query = query.where(ShadowRun.version == version)
    return [_run(r) for r in s.scalars(query)]


def disagreements(s: Session, version: str, *, limit: int) -> list[dict[str, Any]]:
    """The version's disagreements, newest first, with the customer's (masked) message."""
    rows = s.execute(
        select(Disagreement, Message.text, Message.seq)
        .join(ShadowRun, ShadowRun.id == Disagreement.shadow_id)
        .join(Message, Message.id == Disagreement.message_id)
        .where(ShadowRun.version == version)
        .order_by(Disagreement.at.desc(), Disagreement.id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "shadow": d.shadow_id,
            "conversation_id": d.conversation_id,
            "seq": seq,
            "text": text,
            "live": {"intent": d.live_intent, "confidence": d.live_confidence},
            "candidate": {"intent": d.candidate_intent, "confidence": d.candidate_confidence},
            "at": d.at.isoformat(),
        }
        for d, text, seq in rows
    ]


@dataclass(frozen=True, slots=True)
class Parsed:
    message_id: str
    conversation_id: str
    live_intent: str | None
    live_confidence: float | None
    intent: str
    confidence: float


class ShadowFeed:
    """The consumer's work: `prepare` reads and parses a batch (idle priority); `handle` writes the
    results of the events it is given (a few conversations at a time), parsing any that `prepare`
    did not see."""

    def __init__(self, *, root: Path) -> None:
        self.root = root  # MODEL_DIR/PACK/intent
        self._model: tuple[str, IntentClassifier] | None = None
        # run id, the turns (customer message ids) looked at, and the parsed ones by message id
        self._prepared: tuple[int, set[str], dict[str, Parsed]] | None = None

    @staticmethod
    def _turns(run: ShadowRun, events: list[Event]) -> dict[str, int]:
        """Customer message id -> the lowest reply seq among `events`, for the turns logged after
        the run began."""
        firsts: dict[str, int] = {}
        for e in events:
            if isinstance(e, ReplySent) and (e.log_seq or 0) > run.after_seq and e.message.in_reply_to:
                mid = e.message.in_reply_to
                firsts[mid] = min(firsts.get(mid, e.message.seq), e.message.seq)
        return firsts

    def prepare(self, s: Session, events: list[Event]) -> None:
        run = active(s)
        self._prepared = None
        if run is not None:
            turns = self._turns(run, events)
            self._prepared = (run.id, set(turns), {p.message_id: p for p in self.parse(s, run, turns)})

    def handle(self, s: Session, events: list[Event]) -> None:
        run = active(s)
        if run is None:
            return
        turns = self._turns(run, events)
        if not turns:
            return
        ready = self._prepared if self._prepared is not None and self._prepared[0] == run.id else None
        seen, parsed = (ready[1], ready[2]) if ready is not None else (set(), {})
        results = [parsed[mid] for mid in turns if mid in parsed]
        results += self.parse(s, run, {mid: seq for mid, seq in turns.items() if mid not in seen})
        done = set(
            s.scalars(
                select(Disagreement.message_id).where(
                    Disagreement.shadow_id == run.id,
                    Disagreement.message_id.in_([p.message_id for p in results]),
                )
            )
        )
        now = utcnow()
        for p in results:
            if p.message_id in done:
                continue
            run.parsed += 1
            if p.intent == p.live_intent:
                continue
            run.disagreed += 1
            s.add(
                Disagreement(
                    shadow_id=run.id,
                    conversation_id=p.conversation_id,
                    message_id=p.message_id,
                    live_intent=p.live_intent,
                    live_confidence=p.live_confidence,
                    candidate_intent=p.intent,
                    candidate_confidence=p.confidence,
                    at=now,
                )
            )

    def parse(self, s: Session, run: ShadowRun, firsts: dict[str, int]) -> list[Parsed]:
        """The customer messages of these turns parsed by the candidate, each once: at the turn's
        first reply (`firsts`: message id -> the reply seq seen)."""
        if not firsts:
            return []
        first_seq = dict(
            s.execute(
                select(Message.in_reply_to, func.min(Message.seq))
                .where(Message.in_reply_to.in_(list(firsts)), Message.sender == "bot")
                .group_by(Message.in_reply_to)
            ).all()
        )
        wanted = [mid for mid, seq in firsts.items() if first_seq.get(mid) == seq]
        rows = s.execute(
            select(Message.id, Message.conversation_id, Message.text, Message.meta).where(
                Message.id.in_(wanted), Message.sender == "customer", Message.text != ""
            )
        ).all()
        if not rows:
            return []
        model = self._candidate(s, run.version)
        predictions = model.predict([r.text for r in rows], top_k=1)
        out = []
        for r, p in zip(rows, predictions, strict=True):
            live = ((r.meta or {}).get("nlu") or {}).get("intent") or {}
            out.append(
                Parsed(
                    message_id=r.id,
                    conversation_id=r.conversation_id,
                    live_intent=live.get("name"),
                    live_confidence=live.get("confidence"),
                    intent=p.intent.name,
                    confidence=round(p.intent.confidence, 4),
                )
            )
        return out

    def _candidate(self, s: Session, version: str) -> IntentClassifier:
        if self._model is None or self._model[0] != version:
            folder = s.scalar(select(ModelVersionRow.folder).where(ModelVersionRow.version == version))
            model, _ = load_model(self.root / str(folder))
            self._model = (version, model)
            log.info("shadow run parses with model %s", version)
        return self._model[1]
