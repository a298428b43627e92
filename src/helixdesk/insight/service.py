"""What the console and the API ask of insight: the hotspot report of a period, one hotspot in
detail, and the latest feedback items, read in one read-only session each."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.errors import NotFoundError
from helixdesk.db.session import reading
from helixdesk.insight.feedback import SOURCES as FEEDBACK_SOURCES
from helixdesk.insight.hotspots import (
    UNASSIGNED,
    Filters,
    Period,
    Report,
    hotspots,
    representatives,
    topic_days,
)
from helixdesk.insight.models import InsightMessage, InsightRun, InsightTopic


class Insight:
    def __init__(self, *, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def report(self, period: Period, filters: Filters) -> Report:
        with reading(self._sessions) as s:
            return hotspots(s, period, filters)

    def topic(self, topic_id: str, period: Period, filters: Filters, tz: tzinfo = UTC) -> dict[str, Any]:
        """One hotspot: its figures in the period (as in the report), its rows per day, and more
        examples."""
        with reading(self._sessions) as s:
            if topic_id != UNASSIGNED and s.get(InsightTopic, topic_id) is None:
                raise NotFoundError(f"no hotspot {topic_id}", code="hotspot_not_found")
            report = hotspots(s, period, filters, only=topic_id)
            found = next((h for h in report.hotspots if h.topic_id == topic_id), None)
            topic = s.get(InsightTopic, topic_id)
            return {
                "topic_id": topic_id,
                "keywords": list(topic.keywords) if topic is not None else [],
                "figures": asdict(found) if found is not None else None,
                "days": topic_days(s, topic_id, period, filters, tz),
                "examples": representatives(s, topic_id, period, filters, n=12),
            }

    def feedback(self, *, source: str | None, channel: str | None, limit: int) -> list[dict[str, Any]]:
        """The latest feedback items (callback notes, social-media comments), newest first, with
        their masked text and what the NLU read in them."""
        sources = (source,) if source else FEEDBACK_SOURCES
        query = select(InsightMessage).where(
            InsightMessage.source.in_(sources), InsightMessage.conversation_id.is_(None)
        )
        if channel:
            query = query.where(InsightMessage.channel == channel)
        with reading(self._sessions) as s:
            rows = s.scalars(query.order_by(InsightMessage.at.desc(), InsightMessage.id).limit(limit))
            return [
                {
                    "id": r.id,
                    "source": r.source,
                    "channel": r.channel,
                    "language": r.language,
                    "text": r.text,
                    "at": r.at,
                    "intent": r.intent,
                    "product": r.product,
                    "negative": r.negative,
                    "topic_id": r.topic_id,
                }
                for r in rows
            ]

    def last_run(self) -> dict[str, Any] | None:
        with reading(self._sessions) as s:
            run = s.scalar(select(InsightRun).order_by(InsightRun.id.desc()).limit(1))
            if run is None:
                return None
            return {
                "id": run.id,
                "finished_at": run.finished_at,
                "messages": run.messages,
                "topics": run.topics,
                "seconds": run.seconds,
            }
