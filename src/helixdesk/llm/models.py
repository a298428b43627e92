"""The meter's table: one row per call to the LLM, with what it cost and whether its answer was used.

A row holds no text: the use, the model, the tokens (from the server's usage, or estimated), the
latency, the cost in the cost model's currency, and the outcome with its reason (`ok`, or why the
template was used instead: `timeout`, `invented_number`, `compliance`, ...).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class LlmCall(Base):
    __tablename__ = "llm_calls"
    __table_args__ = (Index("ix_llm_calls_use_created", "use", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(timezone=True), default=utcnow, index=True)
    use: Mapped[str] = mapped_column(String(24))  # reword, compose, summary, qa_second_opinion
    model: Mapped[str] = mapped_column(String(200))
    used: Mapped[bool] = mapped_column(Boolean)  # False: the template (or nothing) was used instead
    reason: Mapped[str] = mapped_column(String(32))  # ok, or why the answer was not used
    streamed: Mapped[bool] = mapped_column(Boolean, default=False)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    tokens_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    conversation_id: Mapped[str | None] = mapped_column(String(36), index=True)
