"""Tables of the WeChat channel: who each openid is (and their binding), whose each conversation is,
and what was sent out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.db.base import Base, UTCDateTime


class WeChatUser(Base):
    """One openid (WeCom: userid) of one account, its conversation, and its binding to a bank customer.

    `bind_step` is the binding in progress: "ref" (waiting for the phone number or customer number),
    "code" (waiting for the code for `bind_ref`, which is None for a number nobody has; "code1",
    "code2", ...: after that many wrong codes); `customer_ref` is set once it is bound.
    """

    __tablename__ = "wechat_users"
    __table_args__ = (UniqueConstraint("account", "openid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(8))  # "mp" (official account) or "work" (WeCom)
    openid: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(36))
    customer_ref: Mapped[str | None] = mapped_column(String(32), index=True)
    bind_step: Mapped[str | None] = mapped_column(String(8))
    bind_ref: Mapped[str | None] = mapped_column(String(32))
    bind_language: Mapped[str | None] = mapped_column(String(8))  # the binding's replies' language
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WeChatDelivery(Base):
    """A message sent to WeChat through the customer-service API (once: the row is taken first)."""

    __tablename__ = "wechat_deliveries"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(36), index=True)
    via: Mapped[str] = mapped_column(String(8))  # "passive" (in the callback's reply) or "api"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WeChatConversation(Base):
    """Whose conversation each WeChat conversation is (its account and openid), for good: the
    openid's current conversation (`WeChatUser.conversation_id`) moves on when the customer binds
    or unbinds, and a message for an earlier conversation still goes to its own openid."""

    __tablename__ = "wechat_conversations"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    account: Mapped[str] = mapped_column(String(8))
    openid: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
