"""Feedback from every source into the hotspots: agents' callback notes and social-media comments,
imported through the API or a CSV file, each tagged with its channel.

Every item goes through the same NLU as a chat message (language, intent, emotion, risk), is masked
like every stored text, and becomes an `insight_messages` row of its own source (`callback`,
`social`); the embedder then embeds it and places it in its hotspot, so a complaint on social
media and the same complaint in chat land in one topic. CSAT comments come in through the
conversation they rate (`insight.feed`).

An import is all or nothing: every item is checked first, and one bad item refuses the whole
batch with a stable code and the item's number, so nothing is half-imported. An item with an
`external_id` (the post's id on the social network, say) is imported once: sending it again
changes nothing.

CSV columns: `source,channel,text` and optionally `at` (ISO date-time with offset), `language`,
`external_id`. UTF-8, with or without a byte-order mark.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.ids import new_id
from helixdesk.core.languages import LANGUAGES
from helixdesk.core.turn import Turn
from helixdesk.db.session import transaction
from helixdesk.insight.models import InsightMessage
from helixdesk.insight.rows import SKIPPED_INTENTS
from helixdesk.nlu.emotion.data import NEGATIVE

SOURCES = ("callback", "social")
MAX_ITEMS = 5000
MAX_TEXT = 2000
CSV_COLUMNS = ("source", "channel", "text", "at", "language", "external_id")

Masker = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    source: str
    channel: str
    text: str
    at: datetime | None = None
    language: str | None = None
    external_id: str | None = None


def check(items: Sequence[FeedbackItem], *, now: datetime | None = None) -> list[FeedbackItem]:
    """The items, checked; the first bad one refuses the batch (`invalid_feedback`, with its number)."""
    now = now or utcnow()
    if not items:
        raise ValidationFailedError("give at least one feedback item", code="invalid_feedback")
    if len(items) > MAX_ITEMS:
        raise ValidationFailedError(f"at most {MAX_ITEMS} items per import", code="invalid_feedback")
    out = []
    seen: set[tuple[str, str, str]] = set()
    for n, item in enumerate(items, start=1):

        def bad(why: str, n: int = n) -> ValidationFailedError:
            return ValidationFailedError(f"item {n}: {why}", code="invalid_feedback")

        if item.source not in SOURCES:
            raise bad(f"source must be one of {', '.join(SOURCES)}")
        channel = item.channel.strip().lower()
        if not channel or len(channel) > 16 or not channel.replace("_", "").replace("-", "").isalnum():
            raise bad("channel must be a short name (weibo, wechat, phone, ...)")
        text = item.text.strip()
        if not text or len(text) > MAX_TEXT:
            raise bad(f"text must have 1 to {MAX_TEXT} characters")
        if item.language is not None and item.language not in LANGUAGES:
            raise bad(f"language must be one of {', '.join(LANGUAGES)}")
        if item.at is not None and (item.at.tzinfo is None or item.at > now):
            raise bad("at must be a past date-time with its offset")
        if item.external_id is not None and not 1 <= len(item.external_id) <= 128:
            raise bad("external_id must have 1 to 128 characters")
        if item.external_id:
            key = (item.source, channel, item.external_id)
            if key in seen:
                raise bad("the same external_id twice in one import")
            seen.add(key)
        out.append(
            FeedbackItem(item.source, channel, text, item.at or now, item.language, item.external_id or None)
        )
    return out


def parse_csv(data: bytes) -> list[FeedbackItem]:
    """The items of a CSV file (see the module's columns); a bad file is refused as a whole."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValidationFailedError("the file must be UTF-8 text", code="invalid_feedback_file") from e
    reader = csv.DictReader(io.StringIO(text))
    missing = {"source", "channel", "text"} - set(reader.fieldnames or ())
    if missing:
        raise ValidationFailedError(
            f"the file lacks the column(s) {', '.join(sorted(missing))}", code="invalid_feedback_file"
        )
    items = []
    for n, row in enumerate(reader, start=1):
        at = None
        if row.get("at"):
            try:
                at = datetime.fromisoformat(row["at"])
            except ValueError as e:
                raise ValidationFailedError(
                    f"item {n}: at is not an ISO date-time", code="invalid_feedback"
                ) from e
        items.append(
            FeedbackItem(
                source=(row.get("source") or "").strip(),
                channel=row.get("channel") or "",
                text=row.get("text") or "",
                at=at,
                language=(row.get("language") or "").strip() or None,
                external_id=(row.get("external_id") or "").strip() or None,
            )
        )
    return items


def store(
    sessions: sessionmaker[Session],
    items: Sequence[FeedbackItem],
    turns: Sequence[Turn],
    *,
    mask: Masker,
    products: Mapping[str, str],
) -> dict[str, Any]:
    """Store checked items with what the NLU read in them (`turns`, one each), masked, in one
    transaction; returns how many were added and how many were there already."""
    rows: list[InsightMessage] = []
    for item, turn in zip(items, turns, strict=True):
        intent = turn.intent.name if turn.intent is not None else None
        language = item.language or (turn.language if turn.language in LANGUAGES else "zh-Hans")
        rows.append(
            InsightMessage(
                id=_row_id(item),
                conversation_id=None,
                source=item.source,
                channel=item.channel,
                language=language,
                text=mask(item.text),
                at=item.at,
                intent=None if intent in SKIPPED_INTENTS else intent,
                product=products.get(intent) if intent else None,
                negative=turn.emotion is not None and turn.emotion.label in NEGATIVE,
                handed_off=False,
                answered=None,
                rejected=False,
            )
        )
    for attempt in (1, 2):
        try:
            with transaction(sessions) as s:
                there = set(
                    s.scalars(select(InsightMessage.id).where(InsightMessage.id.in_([r.id for r in rows])))
                )
                new = [_copy(r) for r in rows if r.id not in there]
                s.add_all(new)
            return {"added": len(new), "already": len(rows) - len(new)}
        except IntegrityError:
            if attempt == 2:
                raise
            # Another import of the same items committed first: read again, add what is left.
    raise AssertionError("unreachable")


def _copy(row: InsightMessage) -> InsightMessage:
    """A fresh row with the same values (a row once added to a failed session cannot be re-added)."""
    return InsightMessage(**{c.key: getattr(row, c.key) for c in InsightMessage.__table__.columns})


def _row_id(item: FeedbackItem) -> str:
    if item.external_id is None:
        return new_id()
    digest = hashlib.sha256(f"{item.source}\n{item.channel}\n{item.external_id}".encode()).hexdigest()
    return f"fb-{digest[:32]}"


class FeedbackInbox:
    """Imports feedback in the server: checks it, reads it with the server's NLU, stores it."""

    def __init__(
        self, *, sessions: sessionmaker[Session], parser: Any, mask: Masker, products: Mapping[str, str]
    ) -> None:
        self._sessions = sessions
        self._parser = parser
        self._mask = mask
        self._products = dict(products)

    async def add(self, items: Sequence[FeedbackItem]) -> dict[str, Any]:
        import asyncio

        import anyio

        checked = check(items)
        # Asked together, the parser batches them (one model call for many texts).
        turns = await asyncio.gather(*(self._parser.parse(item.text) for item in checked))
        return await anyio.to_thread.run_sync(
            lambda: store(self._sessions, checked, list(turns), mask=self._mask, products=self._products)
        )
