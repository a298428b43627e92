"""The bot's lifecycle touch: what the turn's executor reads for it, and how a touch is stored.

`TouchReader.read(ref, today)` gives the customer's `Snapshot` (`CustomerProfiles.read`, from the
bank alone: the conversation's own signals are the dialogue's) and the active strategies with their
versions; the dialogue decides (`helixdesk.dialogue.flows.touches`). `record_touch` stores what it
decided, as a row of `lifecycle_touches`, in the turn's transaction, once per strategy and
conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.lifecycle.models import TouchRow
from helixdesk.lifecycle.profile import ConversationSignals
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.recommend import Snapshot, moment
from helixdesk.lifecycle.store import StrategyStore
from helixdesk.lifecycle.strategies import Strategy

BOT_TRIGGER = "conversation"


@dataclass(frozen=True, slots=True)
class TouchRead:
    snapshot: Snapshot | None
    strategies: tuple[Strategy, ...]
    versions: dict[str, int]
    trigger: str = BOT_TRIGGER  # `anniversary` in the customer's anniversary week (`recommend.moment`)


class TouchReader:
    def __init__(self, *, profiles: CustomerProfiles, strategies: StrategyStore, tz: tzinfo) -> None:
        self._profiles = profiles
        self._strategies = strategies
        self._tz = tz

    def read(self, ref: str, *, now: datetime) -> TouchRead:
        """The customer as they stand on the bank's day of `now`, and the active strategies."""
        today = now.astimezone(self._tz).date()
        view = self._profiles.read(ref, ConversationSignals(), today=today)
        active, versions = self._strategies.active_versions()
        return TouchRead(
            snapshot=view.snapshot if view is not None else None,
            strategies=active.strategies,
            versions=versions,
            trigger=moment(view.customer_since, today) if view is not None else BOT_TRIGGER,
        )


def bot_touch_key(strategy_id: str, conversation_id: str) -> str:
    """One bot touch per strategy and conversation, whatever the moment."""
    return f"{strategy_id}:bot:{conversation_id}"


def record_touch(
    s: Session,
    *,
    strategy_id: str,
    version: int,
    kind: str,
    arm: str,
    value: str | None,
    trigger: str = BOT_TRIGGER,
    customer_id: str,
    conversation_id: str,
    at: datetime,
) -> bool:
    """Store the bot's touch (or its holdout) in the caller's transaction; False when this
    conversation has it already."""
    key = bot_touch_key(strategy_id, conversation_id)
    if s.scalar(select(TouchRow.id).where(TouchRow.key == key)) is not None:
        return False
    s.add(
        TouchRow(
            key=key,
            strategy_id=strategy_id,
            strategy_version=version,
            kind=kind,
            channel="bot",
            trigger=trigger,
            customer_id=customer_id,
            conversation_id=conversation_id,
            arm=arm,
            status="given" if arm == "touched" else "held_out",
            value_minor=None if value is None else int(Decimal(value) * 100),
            created_at=at,
        )
    )
    return True
