"""Checking an incident before it is stored: every field and the order of its times.

`check_incident(draft, now=now)` returns the draft cleaned (texts stripped, lists without repeats,
blank languages dropped) or raises `InvalidIncidentError` naming the field. Pure: the caller gives
the time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from helixdesk.core.languages import LANGUAGES
from helixdesk.incidents.errors import InvalidIncidentError
from helixdesk.incidents.regions import canonical_region
from helixdesk.incidents.rules import CHANNELS, KINDS, OPEN_STATUSES, PRODUCTS

MAX_TITLE = 120
MAX_EXPLANATION = 1000
MAX_REGION = 40
MAX_REGIONS = 30
MAX_NOTE = 400
# How far ahead an incident may be planned (a maintenance window), and how long a fix may be expected.
MAX_AHEAD = timedelta(days=366)
FIELDS: tuple[str, ...] = (
    "kind",
    "title",
    "explanation",
    "products",
    "channels",
    "regions",
    "started_at",
    "expected_fix_at",
    "status",
)


@dataclass(frozen=True, slots=True)
class IncidentDraft:
    """An incident as staff give it (on creation, or the whole of it after an update)."""

    kind: str
    title: Mapping[str, str]
    explanation: Mapping[str, str]
    products: Sequence[str] = ()
    channels: Sequence[str] = ()
    regions: Sequence[str] = ()
    started_at: datetime | None = None  # None: now
    expected_fix_at: datetime | None = None  # None: not known yet
    status: str = "open"

    def with_changes(self, changes: Mapping[str, Any]) -> IncidentDraft:
        """This draft with some fields replaced; only `expected_fix_at` may be cleared (null)."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise InvalidIncidentError(
                f"unknown fields: {', '.join(unknown)}; fields are {', '.join(FIELDS)}"
            )
        cleared = sorted(k for k, v in changes.items() if v is None and k != "expected_fix_at")
        if cleared:
            raise InvalidIncidentError(f"{cleared[0]} cannot be null (leave it out to keep it)")
        return replace(self, **dict(changes))


def _invalid(message: str) -> InvalidIncidentError:
    return InvalidIncidentError(message)


def _texts(name: str, value: Mapping[str, str], limit: int) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _invalid(f"{name} maps languages ({', '.join(LANGUAGES)}) to text")
    unknown = sorted(str(k) for k in value if k not in LANGUAGES)
    if unknown:
        raise _invalid(f"{name}: unknown language {unknown[0]!r}; languages are {', '.join(LANGUAGES)}")
    out: dict[str, str] = {}
    for language in LANGUAGES:
        text = value.get(language)
        if text is None:
            continue
        if not isinstance(text, str):
            raise _invalid(f"{name}.{language} must be text")
        text = text.strip()
        if len(text) > limit:
            raise _invalid(f"{name}.{language} is longer than {limit} characters")
        if text:
            out[language] = text
    if not out:
        raise _invalid(f"{name} needs text in at least one language ({', '.join(LANGUAGES)})")
    return out


def _codes(name: str, values: Sequence[str], allowed: tuple[str, ...]) -> list[str]:
    if isinstance(values, str):
        raise _invalid(f"{name} is a list")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise _invalid(f"{name}: unknown {unknown[0]!r}; one of {', '.join(allowed)}")
    return [v for v in allowed if v in set(values)]


def _regions(values: Sequence[str]) -> list[str]:
    if isinstance(values, str):
        raise _invalid("regions is a list")
    out: list[str] = []
    keys: set[str] = set()
    for value in values:
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            raise _invalid("regions: a region is a city or a province name, not blank")
        if len(text) > MAX_REGION:
            raise _invalid(f"regions: {text[:20]!r}… is longer than {MAX_REGION} characters")
        key = canonical_region(text)
        if key not in keys:
            keys.add(key)
            out.append(text)
    if len(out) > MAX_REGIONS:
        raise _invalid(f"regions: at most {MAX_REGIONS}")
    return out


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise _invalid(f"{name} needs a time zone (e.g. 2026-12-04T09:30:00+08:00)")


def check_incident(draft: IncidentDraft, *, now: datetime) -> IncidentDraft:
    """The draft, cleaned, or `InvalidIncidentError` (see the module doc)."""
    if draft.kind not in KINDS:
        raise _invalid(f"kind must be one of {', '.join(KINDS)}, not {draft.kind!r}")
    if draft.status not in OPEN_STATUSES:
        raise _invalid(
            f"status must be one of {', '.join(OPEN_STATUSES)} (resolve an incident to close it), "
            f"not {draft.status!r}"
        )
    _aware("started_at", draft.started_at)
    _aware("expected_fix_at", draft.expected_fix_at)
    started = draft.started_at or now
    if started > now + MAX_AHEAD:
        raise _invalid("started_at is more than a year ahead")
    fix = draft.expected_fix_at
    if fix is not None and fix <= started:
        raise _invalid("expected_fix_at must be after started_at")
    if fix is not None and fix > started + MAX_AHEAD:
        raise _invalid("expected_fix_at is more than a year after started_at")
    return IncidentDraft(
        kind=draft.kind,
        title=_texts("title", draft.title, MAX_TITLE),
        explanation=_texts("explanation", draft.explanation, MAX_EXPLANATION),
        products=_codes("products", draft.products, PRODUCTS),
        channels=_codes("channels", draft.channels, CHANNELS),
        regions=_regions(draft.regions),
        started_at=started,
        expected_fix_at=fix,
        status=draft.status,
    )


def check_resolution(
    started_at: datetime, resolved_at: datetime | None, note: str, *, now: datetime
) -> tuple[datetime, str]:
    """When the incident ended and the note on it. Without a time: now, or, for an incident that had
    not started yet (a maintenance called off), its start, so it was never active."""
    _aware("resolved_at", resolved_at)
    if len(note) > MAX_NOTE:
        raise _invalid(f"note is longer than {MAX_NOTE} characters")
    if resolved_at is None:
        return max(now, started_at), note.strip()
    if resolved_at < started_at:
        raise _invalid("resolved_at must not be before started_at")
    if resolved_at > now:
        raise _invalid("resolved_at must not be in the future")
    return resolved_at, note.strip()
