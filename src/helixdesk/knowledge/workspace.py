"""The knowledge workspace of the console: browse documents and entries, edit an entry, retire it,
date it, roll it back, and ask what the bot would answer.

    ws = KnowledgeWorkspace(sessions=sessions, knowledge=kb, embed=embed, audit=audit)
    ws.documents()                                        # every document with its entry counts
    ws.entry(chunk_id)                                    # questions, answers, validity, versions, graph
    ws.edit(editor, chunk_id, questions=..., answers=..., alternatives=...)
    ws.retire(editor, chunk_id, retired=True, reason="product withdrawn")
    ws.set_validity(editor, chunk_id, valid_from=None, valid_until=datetime(2027, 1, 1, tzinfo=UTC))
    ws.rollback(editor, chunk_id, version=2)
    ws.try_question("信用卡在国外被拒怎么办", language="zh-Hans", intent={"card_declined": 0.9})

Every change writes a new version of the entry (`knowledge/versions.py`) and an audit entry in the
same transaction, then reloads the running knowledge base so the bot answers from the change at once
(other workers notice the new version within `KnowledgeBase.refresh_seconds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.knowledge.ingest import EmbedFn, embedding_texts
from helixdesk.knowledge.models import KbChunk, KbDocument, KbEntryVersion, split_questions, stored_questions
from helixdesk.knowledge.readers.base import Section
from helixdesk.knowledge.readers.faq import MAX_ALTERNATIVES
from helixdesk.knowledge.retrieval import IntentHint, KnowledgeBase
from helixdesk.knowledge.text import LANGUAGES
from helixdesk.knowledge.versions import Editor, apply_state, content_of, record, state_of, version_dict

MAX_QUESTION = 500
MAX_ANSWER = 4000
MAX_ALTERNATIVE = 300


class EntryNotFoundError(NotFoundError):
    code = "kb_entry_not_found"


class DocumentNotFoundError(NotFoundError):
    code = "kb_document_not_found"


class VersionNotFoundError(NotFoundError):
    code = "kb_version_not_found"


class InvalidEntryError(ValidationFailedError):
    code = "kb_invalid_entry"


class NotEditableError(ValidationFailedError):
    """A document section is changed by uploading the document again; only FAQ entries are edited."""

    code = "kb_not_editable"


class InvalidValidityError(ValidationFailedError):
    code = "kb_invalid_validity"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def status_of(chunk: KbChunk, doc: KbDocument, now: datetime) -> str:
    """retired, not_yet_valid, expired or active (the chunk's and its document's dates both count)."""
    if chunk.retired_at is not None:
        return "retired"
    starts = [d for d in (chunk.valid_from, doc.valid_from) if d is not None]
    ends = [d for d in (chunk.valid_until, doc.valid_until) if d is not None]
    if starts and now < max(starts):
        return "not_yet_valid"
    if ends and now >= min(ends):
        return "expired"
    return "active"


class KnowledgeWorkspace:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        knowledge: KnowledgeBase,
        embed: EmbedFn,
        audit: AuditLog | None = None,
    ) -> None:
        self._sessions = sessions
        self.knowledge = knowledge
        self._embed = embed
        self._audit = audit

    # ------------------------------------------------------------------ browsing

    def documents(self) -> list[dict[str, Any]]:
        with reading(self._sessions) as s:
            per_document = select(KbChunk.document_id, func.count(KbChunk.id)).group_by(KbChunk.document_id)
            counts = {doc_id: n for doc_id, n in s.execute(per_document)}
            retired_rows = s.execute(per_document.where(KbChunk.retired_at.is_not(None)))
            retired = {doc_id: n for doc_id, n in retired_rows}
            docs = s.scalars(select(KbDocument).order_by(KbDocument.ingested_at.desc(), KbDocument.id))
            return [
                {**_document_dict(d), "entries": counts.get(d.id, 0), "retired": retired.get(d.id, 0)}
                for d in docs
            ]

    def document(self, document_id: int) -> dict[str, Any]:
        now = self.knowledge.clock()
        with reading(self._sessions) as s:
            doc = s.get(KbDocument, document_id)
            if doc is None:
                raise DocumentNotFoundError(f"no knowledge document {document_id}")
            chunks = s.scalars(select(KbChunk).where(KbChunk.document_id == doc.id).order_by(KbChunk.order))
            return {
                **_document_dict(doc),
                "chunks": [_chunk_summary(c, doc, now) for c in chunks],
            }

    def entry(self, chunk_id: int) -> dict[str, Any]:
        """One entry: its content per language, validity, status, versions (newest first), graph."""
        now = self.knowledge.clock()
        with reading(self._sessions) as s:
            chunk = s.get(KbChunk, chunk_id)
            if chunk is None:
                raise EntryNotFoundError(f"no knowledge entry {chunk_id}")
            doc = chunk.document
            questions, alternatives = split_questions(chunk.questions)
            versions = s.scalars(
                select(KbEntryVersion)
                .where(KbEntryVersion.document_id == doc.id, KbEntryVersion.entry_key == chunk.entry_key)
                .order_by(KbEntryVersion.version.desc())
            )
            graph = self.knowledge.graph
            records = graph.by_faq(chunk.faq_id) if graph is not None and chunk.faq_id else []
            return {
                **_chunk_summary(chunk, doc, now),
                "document": _document_dict(doc),
                "text": chunk.text,
                "questions": questions,
                "alternatives": {lang: list(items) for lang, items in alternatives.items()},
                "answers": dict(chunk.answers or {}),
                "intents": list(chunk.intents or ()),
                "editable": chunk.answers is not None,
                "versions": [version_dict(v) for v in versions],
                "graph": [
                    {"product": r.product, "problem": r.problem, "cause": r.cause, "solution": r.solution}
                    for r in records
                ],
            }

    # ------------------------------------------------------------------ changes

    def edit(
        self,
        by: Editor,
        chunk_id: int,
        *,
        questions: Mapping[str, str],
        answers: Mapping[str, str],
        alternatives: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, Any]:
        """New question, answer and alternative wordings per language for a FAQ entry."""
        q = _texts(questions, "question", MAX_QUESTION)
        a = _texts(answers, "answer", MAX_ANSWER)
        alts = _alternatives(alternatives or {})
        with transaction(self._sessions) as s:
            chunk = self._chunk(s, chunk_id)
            if chunk.answers is None:
                raise NotEditableError(
                    "only FAQ entries are edited here; upload a new version of the document to change a section"
                )
            before = state_of(chunk)
            lang = next(lang for lang in LANGUAGES if lang in a)
            chunk.questions = stored_questions(q, alts)
            chunk.answers = a
            chunk.heading = (q.get(lang) or next(iter(q.values())))[:512]
            chunk.text = a[lang]
            changed = _changes(before, state_of(chunk))
            if changed:
                self._embed_chunk(chunk)
                self._change(s, chunk, by, action="edit", summary="changed " + ", ".join(changed))
        return self._reloaded(chunk_id, bool(changed))

    def retire(self, by: Editor, chunk_id: int, *, retired: bool = True, reason: str = "") -> dict[str, Any]:
        """Retire an entry (it is no longer retrieved) or bring it back."""
        with transaction(self._sessions) as s:
            chunk = self._chunk(s, chunk_id)
            changed = (chunk.retired_at is not None) != retired
            if changed:
                chunk.retired_at = utcnow() if retired else None
                note = reason.strip()[:400]
                summary = ("retired" if retired else "restored") + (f": {note}" if note else "")
                self._change(s, chunk, by, action="retire" if retired else "restore", summary=summary)
        return self._reloaded(chunk_id, changed)

    def set_validity(
        self, by: Editor, chunk_id: int, *, valid_from: datetime | None, valid_until: datetime | None
    ) -> dict[str, Any]:
        """When the entry may be given as an answer (either end open with None)."""
        _check_validity(valid_from, valid_until)
        with transaction(self._sessions) as s:
            chunk = self._chunk(s, chunk_id)
            changed = (chunk.valid_from, chunk.valid_until) != (valid_from, valid_until)
            if changed:
                chunk.valid_from, chunk.valid_until = valid_from, valid_until
                summary = f"valid from {_iso(valid_from) or '-'} until {_iso(valid_until) or '-'}"
                self._change(s, chunk, by, action="validity", summary=summary)
        return self._reloaded(chunk_id, changed)

    def set_document_validity(
        self, by: Editor, document_id: int, *, valid_from: datetime | None, valid_until: datetime | None
    ) -> dict[str, Any]:
        """When a whole document (a policy, say) may be quoted; every entry of it gets a version."""
        _check_validity(valid_from, valid_until)
        with transaction(self._sessions) as s:
            doc = s.get(KbDocument, document_id)
            if doc is None:
                raise DocumentNotFoundError(f"no knowledge document {document_id}")
            doc.valid_from, doc.valid_until = valid_from, valid_until
            summary = f"document valid from {_iso(valid_from) or '-'} until {_iso(valid_until) or '-'}"
            chunks = list(s.scalars(select(KbChunk).where(KbChunk.document_id == doc.id)))
            for chunk in chunks:
                record(s, chunk, action="validity", summary=summary, by=by)
            self._audit_record(
                s, by, "knowledge.document_validity", Target("kb_document", str(doc.id)), summary, {}
            )
        self.knowledge.load()
        return self.document(document_id)

    def rollback(self, by: Editor, chunk_id: int, *, version: int) -> dict[str, Any]:
        """Restore an earlier version's content, dates and retirement; itself a new version."""
        with transaction(self._sessions) as s:
            chunk = self._chunk(s, chunk_id)
            old = s.scalar(
                select(KbEntryVersion).where(
                    KbEntryVersion.document_id == chunk.document_id,
                    KbEntryVersion.entry_key == chunk.entry_key,
                    KbEntryVersion.version == version,
                )
            )
            if old is None:
                raise VersionNotFoundError(f"entry {chunk_id} has no version {version}")
            before = state_of(chunk)
            apply_state(chunk, old.state)
            if content_of(before) != content_of(state_of(chunk)):
                self._embed_chunk(chunk)
            self._change(s, chunk, by, action="rollback", summary=f"restored version {version}")
        return self._reloaded(chunk_id)

    # ------------------------------------------------------------------ trying a question

    def try_question(self, text: str, *, language: str, intent: IntentHint = None) -> dict[str, Any]:
        """What the bot would answer (`KnowledgeBase.answer`, as the dialogue calls it)."""
        found = self.knowledge.answer(text, language=language, intent=intent)
        best = found.best
        return {
            "query": text,
            "language": language,
            "grounded": found.grounded,
            "confidence": found.confidence,
            "threshold": found.threshold,
            "answer": found.text,
            "citation": (
                {**_citation(best), "label": best.citation.label()} if found.grounded and best else None
            ),
            "explanations": [
                {"cause": e.cause, "solution": e.solution, "product": e.product, "problem": e.problem}
                for e in found.explanations
            ],
            "candidates": [
                {
                    "chunk_id": h.chunk_id,
                    "faq_id": h.faq_id,
                    "question": h.question,
                    "answer": h.answer,
                    "scores": {
                        "bm25": h.scores.bm25,
                        "dense": h.scores.dense,
                        "fused": h.scores.fused,
                        "rerank": h.scores.rerank,
                        "confidence": h.scores.confidence,
                    },
                    "citation": {**_citation(h), "label": h.citation.label()},
                }
                for h in found.hits
            ],
        }

    # ------------------------------------------------------------------ helpers

    def _chunk(self, s: Session, chunk_id: int) -> KbChunk:
        chunk = s.get(KbChunk, chunk_id, with_for_update=True)
        if chunk is None:
            raise EntryNotFoundError(f"no knowledge entry {chunk_id}")
        return chunk

    def _embed_chunk(self, chunk: KbChunk) -> None:
        questions, alternatives = split_questions(chunk.questions)
        section = Section(
            heading=chunk.heading,
            text=chunk.text,
            language=chunk.language,
            faq_id=chunk.faq_id,
            questions=questions or None,
            answers=chunk.answers,
            alternatives=alternatives,
        )
        texts, kinds = embedding_texts(section)
        chunk.embedding = np.ascontiguousarray(self._embed(texts), dtype=np.float32).tobytes()
        chunk.embedding_kinds = kinds

    def _change(self, s: Session, chunk: KbChunk, by: Editor, *, action: str, summary: str) -> None:
        version = record(s, chunk, action=action, summary=summary, by=by)
        self._audit_record(
            s,
            by,
            f"knowledge.entry_{action}",
            Target("kb_entry", f"{chunk.document_id}/{chunk.entry_key}"),
            summary,
            {"version": version.version, "chunk_id": chunk.id},
        )

    def _audit_record(
        self, s: Session, by: Editor, action: str, target: Target, summary: str, details: dict[str, Any]
    ) -> None:
        if self._audit is None:
            return
        actor = (
            Actor.system(by.name)
            if by.id.startswith("system:")
            else Actor.staff(by.id, ip=by.ip, channel="console")
        )
        self._audit.record(
            s, actor=actor, action=action, target=target, reason=summary[:500], details=details
        )

    def _reloaded(self, chunk_id: int, changed: bool = True) -> dict[str, Any]:
        """The entry after a change; the running knowledge base reloads first (searchable at once)."""
        if changed:
            self.knowledge.load()
        return self.entry(chunk_id)


def _document_dict(d: KbDocument) -> dict[str, Any]:
    return {
        "id": d.id,
        "source": d.source,
        "title": d.title,
        "kind": d.kind,
        "language": d.language,
        "ingested_at": d.ingested_at.isoformat(),
        "valid_from": _iso(d.valid_from),
        "valid_until": _iso(d.valid_until),
    }


def _chunk_summary(c: KbChunk, doc: KbDocument, now: datetime) -> dict[str, Any]:
    return {
        "id": c.id,
        "document_id": c.document_id,
        "order": c.order,
        "entry_key": c.entry_key,
        "faq_id": c.faq_id,
        "language": c.language,
        "heading": c.heading,
        "preview": c.text[:240],
        "valid_from": _iso(c.valid_from),
        "valid_until": _iso(c.valid_until),
        "retired_at": _iso(c.retired_at),
        "status": status_of(c, doc, now),
    }


def _citation(hit: Any) -> dict[str, Any]:
    c = hit.citation
    return {
        "document_title": c.document_title,
        "source": c.source,
        "kind": c.kind,
        "faq_id": c.faq_id,
        "section": c.section,
        "chunk_id": c.chunk_id,
    }


def _texts(value: Mapping[str, str], what: str, limit: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise InvalidEntryError(f"unknown language {lang!r} in the {what} (use {', '.join(LANGUAGES)})")
        text = (text or "").strip()
        if len(text) > limit:
            raise InvalidEntryError(f"the {what} in {lang} is longer than {limit} characters")
        if text:
            out[lang] = text
    if not out:
        raise InvalidEntryError(f"an entry needs a {what} in at least one language")
    return out


def _alternatives(value: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in value.items():
        if lang not in LANGUAGES:
            raise InvalidEntryError(f"unknown language {lang!r} in the alternatives")
        clean = tuple(dict.fromkeys(t.strip() for t in items if t and t.strip()))
        if any(len(t) > MAX_ALTERNATIVE for t in clean):
            raise InvalidEntryError(f"an alternative wording is longer than {MAX_ALTERNATIVE} characters")
        if clean:
            out[lang] = clean
    if sum(len(items) for items in out.values()) > MAX_ALTERNATIVES:
        raise InvalidEntryError(f"an entry can have at most {MAX_ALTERNATIVES} alternative wordings")
    return out


def _changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed, e.g. ["answer.en", "alternatives.zh-Hans"]."""
    out: list[str] = []
    bq, balt = split_questions(before.get("questions"))
    aq, aalt = split_questions(after.get("questions"))
    ba, aa = before.get("answers") or {}, after.get("answers") or {}
    for lang in LANGUAGES:
        if bq.get(lang) != aq.get(lang):
            out.append(f"question.{lang}")
        if ba.get(lang) != aa.get(lang):
            out.append(f"answer.{lang}")
        if balt.get(lang, ()) != aalt.get(lang, ()):
            out.append(f"alternatives.{lang}")
    return out


def _check_validity(valid_from: datetime | None, valid_until: datetime | None) -> None:
    for value in (valid_from, valid_until):
        if value is not None and value.tzinfo is None:
            raise InvalidValidityError(
                "validity dates need a time zone (send UTC, e.g. 2027-01-01T00:00:00Z)"
            )
    if valid_from is not None and valid_until is not None and valid_until <= valid_from:
        raise InvalidValidityError("`valid_until` must come after `valid_from`")


__all__ = [
    "DocumentNotFoundError",
    "EntryNotFoundError",
    "InvalidEntryError",
    "InvalidValidityError",
    "KnowledgeWorkspace",
    "NotEditableError",
    "VersionNotFoundError",
    "status_of",
]
