"""The `pii_values` vault: the raw value behind each masked span of a stored message, encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.db.base import Base, UTCDateTime


class PiiValue(Base):
    """One masked span of one message: its type, masked form and the raw value as an `hx1:` token.

    Secrets (one-time codes, passwords, PINs, CVVs) never get a row: they are not kept in any form.
    """

    __tablename__ = "pii_values"
    __table_args__ = (UniqueConstraint("message_id", "span_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    span_index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(24))
    masked: Mapped[str] = mapped_column(String(128))
    # Where the masked form stands in the stored message text.
    masked_start: Mapped[int] = mapped_column(Integer)
    masked_end: Mapped[int] = mapped_column(Integer)
    ciphertext: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
