"""Knowledge-base tables: one row per ingested source document, one row per retrievable chunk.

A FAQ entry is one chunk carrying its question and answer in every language (`questions`,
`answers`); a Markdown/HTML/text/PDF section is one chunk in its detected language. Each chunk
keeps its USE-multilingual vectors (`embedding`, float32 rows, `embedding_kinds` says which row is a
question/heading `q` and which is body text `a`) so loading the index at start-up needs no model call.

`questions` maps each language to the FAQ question; a FAQ entry's alternative wordings are kept
in the same JSON under the key "alternatives" ({language: [question, ...]}). Use
`stored_questions` / `split_questions` rather than reading the JSON directly.

Validity (`valid_from`, `valid_until`, on a document and on each chunk) and retirement
(`retired_at`) are checked by retrieval at query time. `KbEntryVersion` keeps every state an entry
(a chunk, keyed by its document and `entry_key`) has had: who changed it, when and what, so that any
earlier version can be restored (see `knowledge/versions.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helixdesk.db.base import Base, UTCDateTime

ALTERNATIVES_KEY = "alternatives"


def stored_questions(
    questions: dict[str, str] | None, alternatives: dict[str, tuple[str, ...]]
) -> dict[str, Any] | None:
    """The `questions` JSON of a chunk: the question per language plus its alternative wordings."""
    if questions is None:
        return None
    if not alternatives:
        return dict(questions)
    return {**questions, ALTERNATIVES_KEY: {lang: list(items) for lang, items in alternatives.items()}}


def split_questions(raw: dict[str, Any] | None) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(question per language, alternative wordings per language) from a chunk's `questions` JSON."""
    if not raw:
        return {}, {}
    questions = {
        lang: text for lang, text in raw.items() if lang != ALTERNATIVES_KEY and isinstance(text, str)
    }
    extra = raw.get(ALTERNATIVES_KEY) or {}
    alternatives = {lang: tuple(items) for lang, items in extra.items() if isinstance(items, list)}
    return questions, alternatives


class KbDocument(Base):
    __tablename__ = "kb_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(512), unique=True)
    title: Mapped[str] = mapped_column(String(256))
    kind: Mapped[str] = mapped_column(String(16))  # faq, markdown, html, text, pdf
    language: Mapped[str] = mapped_column(String(8))  # zh-Hans, zh-Hant, en, mul
    sha256: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)

    chunks: Mapped[list[KbChunk]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="KbChunk.order",
    )


class KbChunk(Base):
    __tablename__ = "kb_chunks"
    __table_args__ = (UniqueConstraint("document_id", "order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("kb_documents.id", ondelete="CASCADE"), index=True)
    order: Mapped[int] = mapped_column(Integer)
    faq_id: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    heading: Mapped[str] = mapped_column(String(512))
    text: Mapped[str] = mapped_column(Text)
    questions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    intents: Mapped[list[str] | None] = mapped_column(JSON)
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    embedding_kinds: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(timezone=True), default=None)

    document: Mapped[KbDocument] = relationship(back_populates="chunks")

    @property
    def entry_key(self) -> str:
        """The entry's stable key within its document: the FAQ id, or the section's position."""
        return self.faq_id or f"section-{self.order + 1}"


class KbEntryVersion(Base):
    """One state of one entry: the content, validity and retirement after a change, who made it
    (`actor`: a staff id, or `system:...`), when, and what (`action`, `summary`)."""

    __tablename__ = "kb_entry_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "entry_key", "version"),
        Index("ix_kb_entry_versions_entry", "document_id", "entry_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("kb_documents.id", ondelete="CASCADE"))
    entry_key: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # upload, edit, retire, restore, validity, rollback
    summary: Mapped[str] = mapped_column(String(512))
    actor: Mapped[str] = mapped_column(String(128))
    actor_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
