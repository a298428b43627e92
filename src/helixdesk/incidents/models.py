"""Tables of the incident register: the incidents, every version of each, each explanation given,
and the hotspot spikes an operator judged not to be incidents.

`incident_explanations` has one row per incident and conversation in which the bot told the
customer about it, stored with the turn that told it; the console counts them per incident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_status_started", "status", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[dict[str, str]] = mapped_column(JSON)  # language -> text
    explanation: Mapped[dict[str, str]] = mapped_column(JSON)
    products: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)  # as the operator wrote them
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expected_fix_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # open, monitoring, resolved
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The insight hotspot (`insight_topics.id`) the incident was opened from, when it was: the
    # incident covers that hotspot's spike, so the console stops suggesting an incident for it.
    hotspot_id: Mapped[str | None] = mapped_column(String(16), index=True)


class IncidentVersionRow(Base):
    """One state of an incident after a change: who (`actor`: a staff id or `system:...`), when, what."""

    __tablename__ = "incident_versions"
    __table_args__ = (UniqueConstraint("incident_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))  # create, update, resolve
    summary: Mapped[str] = mapped_column(String(512))
    actor: Mapped[str] = mapped_column(String(128))
    actor_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentExplanationRow(Base):
    """The bot told the customer of this conversation about the incident (at this version)."""

    __tablename__ = "incident_explanations"
    __table_args__ = (UniqueConstraint("incident_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(36))  # the customer message the turn answered
    version: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    explained_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SpikeDismissalRow(Base):
    """An operator judged a hotspot's spike not to be an incident ("not an incident"): the console
    suggests no incident for that hotspot again. One row per hotspot (`insight_topics.id`)."""

    __tablename__ = "incident_spike_dismissals"

    hotspot_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    dismissed_by: Mapped[str] = mapped_column(String(128))
    dismissed_by_name: Mapped[str] = mapped_column(String(128))
    dismissed_at: Mapped[datetime] = mapped_column(UTCDateTime())
