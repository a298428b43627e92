"""Tables of the social channel: who each platform's author is (their open conversation), and which
messages were sent to the platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.db.base import Base, UTCDateTime


class SocialAuthor(Base):
    """One author of direct messages on one platform, and their current conversation.

    `author_name` and `reply_to` (the platform's thread or post id) are the latest the platform
    sent; the outbound body may use them. Comments' authors are not kept."""

    __tablename__ = "social_authors"
    __table_args__ = (UniqueConstraint("platform", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str] = mapped_column(String(128))
    author_name: Mapped[str | None] = mapped_column(String(64))
    reply_to: Mapped[str | None] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SocialDelivery(Base):
    """A message sent to a platform's outbound URL (taken once: the row is committed first)."""

    __tablename__ = "social_deliveries"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
