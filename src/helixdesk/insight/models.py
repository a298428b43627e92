"""Insight tables.

`insight_messages` holds one row per piece of customer feedback that feeds the hotspots: every
customer chat message the NLU read, CSAT comments, agents' callback notes and imported social-media
comments (`source`). Each row carries its masked text, where it came from (channel, language,
queue, product, intent), how it went (negative emotion, handed to a person, answered by the bot,
answer rejected, CSAT) and its multilingual-e5 vector and intent probabilities, stored once as it
arrives so that mining a period only clusters stored vectors. `topic_id` is the hotspot the row
belongs to: set by the latest mining run, or by nearest centre for rows that arrived since.

`insight_topics` are the hotspots, with stable ids: a mining run matches its clusters to the
topics of the run before by their centres, so a hotspot keeps its id (and its link) from day to
day. `insight_runs` records each mining run with the space it clustered in (per-language means
and the topic centres, an `.npz`), which the consumer uses to place new rows.

`insight_proposals` are answers proposed from what agents replied to a cluster of questions the
bot could not answer; approved, they become knowledge-base drafts and then entries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.conversations import models as _conversations  # noqa: F401  (the foreign key's table)
from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class InsightMessage(Base):
    __tablename__ = "insight_messages"
    __table_args__ = (
        Index("ix_insight_messages_at", "at"),
        Index("ix_insight_messages_topic_at", "topic_id", "at"),
        # The embedder's "rows still to embed", without scanning every row that has its vector.
        Index(
            "ix_insight_messages_pending",
            "at",
            postgresql_where=text("vector IS NULL AND text <> ''"),
            sqlite_where=text("vector IS NULL AND text <> ''"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # chat, csat, callback, social
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    queue: Mapped[str | None] = mapped_column(String(32))
    product: Mapped[str | None] = mapped_column(String(32))
    intent: Mapped[str | None] = mapped_column(String(64))
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    handed_off: Mapped[bool] = mapped_column(Boolean, default=False)
    # The bot's reply to this message: True an answer from knowledge or an action, False a "don't
    # know" or "unclear", None when it was not the bot's to answer (feedback, an agent's chat).
    answered: Mapped[bool | None] = mapped_column(Boolean)
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    csat: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    intents: Mapped[bytes | None] = mapped_column(LargeBinary)
    topic_id: Mapped[str | None] = mapped_column(String(16))
    topic_score: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InsightTopic(Base):
    __tablename__ = "insight_topics"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InsightRun(Base):
    __tablename__ = "insight_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    messages: Mapped[int] = mapped_column(Integer, default=0)
    topics: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    space: Mapped[bytes | None] = mapped_column(LargeBinary)


class InsightProposal(Base):
    __tablename__ = "insight_proposals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    topic_id: Mapped[str | None] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    # {language: text}, for each language the customers used
    questions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    examples: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    volume: Mapped[int] = mapped_column(Integer, default=0)
    draft_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The space the proposal's cluster was found in, and its centre (an .npz): the effect of an
    # approved entry is measured on the rows near this centre, before and after approval.
    space: Mapped[bytes | None] = mapped_column(LargeBinary)
    decided_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
