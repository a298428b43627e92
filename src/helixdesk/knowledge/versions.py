"""Versions of knowledge entries: every change (upload, edit, retire, restore, validity, rollback)
stores the entry's whole state after it, with who, when and what.

    record(s, chunk, action="edit", summary="answer.en", by=Editor("u-1", "Li Na"))
    apply_state(chunk, state)          # a rollback: the chunk takes an earlier version's state

An entry is one chunk, keyed by its document and `KbChunk.entry_key` (the FAQ id, or the section's
position), so its history survives a re-upload that replaces the chunk rows. Writes happen in the
caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.core.clock import utcnow
from helixdesk.knowledge.models import KbChunk, KbEntryVersion

ACTIONS = ("upload", "edit", "retire", "restore", "validity", "rollback")


@dataclass(frozen=True, slots=True)
class Editor:
    """Who made a change: a staff id and display name, or a system actor (`system:cli`)."""

    id: str
    name: str
    ip: str | None = None  # where the change came from (written to the audit log)

    @classmethod
    def system(cls, name: str) -> Editor:
        return cls(f"system:{name}", name)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def state_of(chunk: KbChunk) -> dict[str, Any]:
    """Everything a version restores: the content, the validity dates and whether it is retired."""
    return {
        "heading": chunk.heading,
        "text": chunk.text,
        "language": chunk.language,
        "questions": chunk.questions,
        "answers": chunk.answers,
        "intents": chunk.intents,
        "valid_from": _iso(chunk.valid_from),
        "valid_until": _iso(chunk.valid_until),
        "retired": chunk.retired_at is not None,
    }


def content_of(state: dict[str, Any]) -> tuple[Any, ...]:
    """The parts of a state that are embedded (a change to them needs new vectors)."""
    return (state.get("heading"), state.get("text"), state.get("questions"), state.get("answers"))


def apply_state(chunk: KbChunk, state: dict[str, Any]) -> None:
    """Put an earlier version's state on the chunk (the caller re-embeds it if the content changed)."""
    chunk.heading = str(state.get("heading") or chunk.heading)[:512]
    chunk.text = str(state.get("text") or chunk.text)
    chunk.language = str(state.get("language") or chunk.language)
    chunk.questions = state.get("questions")
    chunk.answers = state.get("answers")
    chunk.intents = state.get("intents")
    chunk.valid_from = _parse(state.get("valid_from"))
    chunk.valid_until = _parse(state.get("valid_until"))
    if not state.get("retired"):
        chunk.retired_at = None
    elif chunk.retired_at is None:
        chunk.retired_at = utcnow()


def latest_version(s: Session, document_id: int, entry_key: str) -> int:
    found = s.scalar(
        select(func.max(KbEntryVersion.version)).where(
            KbEntryVersion.document_id == document_id, KbEntryVersion.entry_key == entry_key
        )
    )
    return int(found or 0)


def record(s: Session, chunk: KbChunk, *, action: str, summary: str, by: Editor) -> KbEntryVersion:
    """Store the chunk's current state as the entry's next version."""
    assert action in ACTIONS, action
    s.flush()
    row = KbEntryVersion(
        document_id=chunk.document_id,
        entry_key=chunk.entry_key,
        version=latest_version(s, chunk.document_id, chunk.entry_key) + 1,
        action=action,
        summary=summary[:512],
        actor=by.id[:128],
        actor_name=by.name[:128],
        created_at=utcnow(),
        state=state_of(chunk),
    )
    s.add(row)
    s.flush()
    return row


def version_dict(v: KbEntryVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "version": v.version,
        "action": v.action,
        "summary": v.summary,
        "actor": v.actor,
        "actor_name": v.actor_name,
        "created_at": v.created_at.isoformat(),
        "state": v.state,
    }


__all__ = ["ACTIONS", "Editor", "apply_state", "content_of", "record", "state_of", "version_dict"]
