"""Tables of the incident campaigns: a campaign per incident, and one notice per customer it targets.

`incident_campaigns.running_key` holds the incident's id while the campaign runs and is empty after,
so the unique constraint allows one running campaign per incident (both databases let many rows
hold NULL). `incident_campaign_notices.once_key` ("<incident>:<customer>") is set on every notice
that is not cancelled, so a customer gets at most one notice per incident, whichever campaign
targets them; a cancelled campaign's notices not sent give the key up for the next campaign.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class CampaignRow(Base):
    __tablename__ = "incident_campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    running_key: Mapped[str | None] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # running, done, cancelled, stopped
    channel: Mapped[str] = mapped_column(String(8))  # sms, email
    message: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # empty: the explanation
    cursor: Mapped[str | None] = mapped_column(String(32))  # the last customer targeted
    targeting_done: Mapped[bool] = mapped_column(default=False)
    started_by: Mapped[str] = mapped_column(String(128))
    started_by_name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(128))


class NoticeRow(Base):
    """One customer a campaign targets. `status`: pending (to send), sending (handed to the
    gateway, the result not recorded yet), sent, skipped_opt_out, skipped_no_contact, failed,
    cancelled."""

    __tablename__ = "incident_campaign_notices"
    __table_args__ = (Index("ix_incident_campaign_notices_campaign_status", "campaign_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("incident_campaigns.id", ondelete="CASCADE"))
    customer_ref: Mapped[str] = mapped_column(String(32))
    once_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivery_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
