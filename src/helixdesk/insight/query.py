"""Reading a hotspot query from the outside (the API, the page, the CLI): a period and filters,
checked, with stable error codes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.insight.hotspots import SOURCES, Filters, Period

PERIODS = ("day", "week", "month")


def parse_period(kind: str | None, since: datetime | None, until: datetime | None, now: datetime) -> Period:
    """`since`/`until` when given (both), else the last day, week or month up to `now`."""
    if since is not None or until is not None:
        if since is None or until is None:
            raise ValidationFailedError("give both since and until, or a period", code="invalid_period")
        return Period.checked(since, until)
    kind = kind or "week"
    if kind not in PERIODS:
        raise ValidationFailedError(f"period must be one of {', '.join(PERIODS)}", code="invalid_period")
    return Period.last(cast(Literal["day", "week", "month"], kind), now)


def parse_filters(
    *,
    channel: str | None = None,
    language: str | None = None,
    product: str | None = None,
    queue: str | None = None,
    source: str | None = None,
) -> Filters:
    if language and language not in LANGUAGES:
        raise ValidationFailedError(
            f"language must be one of {', '.join(LANGUAGES)}", code="invalid_language"
        )
    if source and source not in SOURCES:
        raise ValidationFailedError(f"source must be one of {', '.join(SOURCES)}", code="invalid_source")
    for name, value in (("channel", channel), ("product", product), ("queue", queue)):
        if value is not None and (len(value) > 32 or not value.replace("_", "").replace("-", "").isalnum()):
            raise ValidationFailedError(f"{name} must be a short name", code=f"invalid_{name}")
    return Filters(
        channel=channel or None,
        language=language or None,
        product=product or None,
        queue=queue or None,
        source=source or None,
    )
