"""A platform's payload, read through its mapping into events: who wrote what, when, and whether it
is a direct message (a conversation) or a public comment (feedback).

A request holds one event, or a batch (`events`, the path to the list; `*` steps into every item
of a list on the way). Each event's fields are read at their paths, relative to the event. Every
event is read before anything is stored: one that does not match refuses the whole request with
`social_payload_mismatch` and the event's number, so a batch is never half-stored.

Events the channel does not handle are skipped and counted: a kind missing from `kinds` (a like,
a follow), one without a `skip_without` path or with a true `skip_if` value (read receipts, the
platform's echo of our own messages), and one with empty text (a sticker, a picture).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from helixdesk.channels.social.errors import SocialPayloadMismatchError
from helixdesk.channels.social.paths import Path, found

DIRECT_MESSAGE = "direct_message"
COMMENT = "comment"
KINDS = (DIRECT_MESSAGE, COMMENT)
MAX_ID = 128  # characters of an event, author or post id
MAX_NAME = 64  # characters of a display name kept (longer ones are cut)
TIME_FORMATS = ("iso", "epoch_s", "epoch_ms")  # or a strptime format with %z


@dataclass(frozen=True, slots=True)
class SocialEvent:
    number: int  # its place in the request, from 1 (error messages name it)
    event_id: str
    kind: str  # DIRECT_MESSAGE or COMMENT
    author_id: str | None
    author_name: str | None
    text: str
    created_at: datetime | None
    language: str | None
    reply_to: str | None


@dataclass(frozen=True, slots=True)
class Mapping:
    event_id: Path
    text: Path
    author_id: Path
    kind: Path | None = None
    author_name: Path | None = None
    created_at: Path | None = None
    language: Path | None = None
    reply_to: Path | None = None
    events: Path | None = None  # None: the body is one event
    kinds: dict[str, str] = field(default_factory=dict)  # the platform's value -> DIRECT_MESSAGE/COMMENT
    default_kind: str | None = None  # without a kind path, or when the event has none
    time_format: str = "iso"
    skip_without: tuple[Path, ...] = ()
    skip_if: tuple[Path, ...] = ()

    def read(self, document: Any) -> tuple[list[SocialEvent], int]:
        """The events of a request's JSON, and how many were skipped."""
        items = self._items(document)
        events: list[SocialEvent] = []
        skipped = 0
        for number, item in enumerate(items, start=1):
            event = self._event(number, item)
            if event is None:
                skipped += 1
            else:
                events.append(event)
        return events, skipped

    def _items(self, document: Any) -> Sequence[Any]:
        if self.events is None:
            return [document]
        lists = self.events.get_all(document)
        if lists is None or not all(isinstance(v, list) for v in lists):
            raise SocialPayloadMismatchError(f"the body has no list of events at {self.events.text!r}")
        return [item for v in lists for item in v]

    def _event(self, number: int, item: Any) -> SocialEvent | None:
        if not isinstance(item, dict):
            raise _mismatch(number, "is not a JSON object")
        if any(not found(p.get(item)) for p in self.skip_without) or any(
            found(v := p.get(item)) and bool(v) for p in self.skip_if
        ):
            return None
        kind = self._kind(number, item)
        if kind is None:
            return None
        text = _text(number, "text", self.text, item, required=True) or ""
        if not text.strip():
            return None
        return SocialEvent(
            number=number,
            event_id=_ident(number, "id", self.event_id, item, required=True) or "",
            kind=kind,
            author_id=_ident(number, "author_id", self.author_id, item, required=kind == DIRECT_MESSAGE),
            author_name=(_text(number, "author_name", self.author_name, item) or "")[:MAX_NAME] or None,
            text=text,
            created_at=self._time(number, item),
            language=language_of(_text(number, "language", self.language, item)),
            reply_to=_ident(number, "reply_to", self.reply_to, item),
        )

    def _kind(self, number: int, item: Any) -> str | None:
        if self.kind is None:
            return self.default_kind
        value = self.kind.get(item)
        if not found(value) or value is None:
            if self.default_kind is None:
                raise _mismatch(number, f"has no kind at {self.kind.text!r}")
            return self.default_kind
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise _mismatch(number, f"has a kind at {self.kind.text!r} that is not a string")
        return self.kinds.get(str(value))  # another kind (a like, a follow): skipped

    def _time(self, number: int, item: Any) -> datetime | None:
        if self.created_at is None:
            return None
        value = self.created_at.get(item)
        if not found(value) or value is None:
            return None
        when = parse_time(value, self.time_format)
        if when is None:
            raise _mismatch(
                number,
                f"has a time at {self.created_at.text!r} that is not {self.time_format} with its offset",
            )
        return when


def parse_time(value: Any, time_format: str) -> datetime | None:
    """An aware datetime from the platform's value, or None when it does not fit the format."""
    try:
        if time_format in ("epoch_s", "epoch_ms"):
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return None
            seconds = float(value) / (1000 if time_format == "epoch_ms" else 1)
            return datetime.fromtimestamp(seconds, UTC)
        if not isinstance(value, str):
            return None
        when = (
            datetime.fromisoformat(value)
            if time_format == "iso"
            else datetime.strptime(value, time_format)  # the format has %z
        )
    except (ValueError, OverflowError, OSError):
        return None
    return when if when.tzinfo is not None else None


def language_of(value: str | None) -> str | None:
    """The product's language code for a platform's (`zh_CN`, `zh-TW`, `en-US`, ...); None for others."""
    if value is None:
        return None
    code = value.strip().replace("_", "-").lower()
    if code in ("zh-hans", "zh", "zh-cn", "zh-sg", "zh-hans-cn", "cmn"):
        return "zh-Hans"
    if code in ("zh-hant", "zh-tw", "zh-hk", "zh-mo", "zh-hant-tw", "zh-hant-hk"):
        return "zh-Hant"
    if code == "en" or code.startswith("en-"):
        return "en"
    return None


def _mismatch(number: int, what: str) -> SocialPayloadMismatchError:
    return SocialPayloadMismatchError(f"event {number} {what}; nothing in this request was stored")


def _text(number: int, name: str, path: Path | None, item: Any, *, required: bool = False) -> str | None:
    if path is None:
        return None
    value = path.get(item)
    if not found(value) or value is None:
        if required:
            raise _mismatch(number, f"has no {name} at {path.text!r}")
        return None
    if not isinstance(value, str):
        raise _mismatch(number, f"has a {name} at {path.text!r} that is not a string")
    return value.replace("\x00", "")  # the database cannot keep NUL


def _ident(number: int, name: str, path: Path | None, item: Any, *, required: bool = False) -> str | None:
    if path is None:
        return None
    value = path.get(item)
    if not found(value) or value is None or value == "":
        if required:
            raise _mismatch(number, f"has no {name} at {path.text!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _mismatch(number, f"has a {name} at {path.text!r} that is not a string or a whole number")
    text = str(value)
    if len(text) > MAX_ID or "\x00" in text:
        raise _mismatch(number, f"has a {name} at {path.text!r} longer than {MAX_ID} characters")
    return text
