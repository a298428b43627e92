"""The demo SMS/e-mail gateway's outbox: every notification the `OutboxNotifier` "sends"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.db.base import Base, UTCDateTime


class OutboxMessage(Base):
    """One notification as the demo gateway received it (the full body, as an SMS gateway would).

    `destination` and `body` are `hx1:` encryption tokens (see `helixdesk.privacy.crypto`); rows
    written before encryption was turned on are plain text until `helixdesk keys rotate`.
    """

    __tablename__ = "notification_outbox"
    __table_args__ = (Index("ix_notification_outbox_customer_created", "customer_ref", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    destination: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OptOutRow(Base):
    """A customer said they want no notifications of this purpose (`service_notice`: incident
    notices). Staff record it on the customer's request; every change is audited."""

    __tablename__ = "notification_opt_outs"
    __table_args__ = (UniqueConstraint("customer_ref", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_ref: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
