"""The hotspot report: what customers asked and complained about in a period, by topic.

    report = hotspots(s, Period.last("week", now), Filters(channel="web"))

For each topic with rows in the period (after the filters): its size, the size in the previous
period of the same length and the trend, its shares of handed-off and negative rows, of questions
the bot could not answer and of answers rejected, its languages, keywords and three
representative messages (masked, nearest the topic's centre), and whether it spikes.

**Spike.** A topic spikes when its count in the period is far above its usual count: its mean
over the `BASELINE_PERIODS` periods of the same length before this one is the baseline `b`, and
the count `n` spikes when `n >= SPIKE_MIN`, `n >= SPIKE_RATIO * max(b, 1)` and the Poisson
z-score `(n - b) / sqrt(max(b, 1))` is at least `SPIKE_Z`. Only periods after the first row
count towards `b`, and only those wholly after it (before the data began a topic was not "usually
zero"); with fewer than `MIN_OBSERVED` such periods nothing spikes. A topic new this period (baseline 0) spikes on its count alone.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, and_, case, func, select, true
from sqlalchemy.orm import Session

from helixdesk.core.errors import ValidationFailedError
from helixdesk.insight.models import InsightMessage, InsightTopic

SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")
BASELINE_PERIODS = 4
# A usual count read from one earlier period alone is that period's chance: spikes need two.
MIN_OBSERVED = 2
SPIKE_MIN = 8
SPIKE_RATIO = 3.0
SPIKE_Z = 4.0
UNASSIGNED = "unassigned"
SOURCES = ("chat", "csat", "callback", "social")
MAX_DAYS = 366


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime

    @classmethod
    def last(cls, kind: Literal["day", "week", "month"], now: datetime) -> Period:
        days = {"day": 1, "week": 7, "month": 30}[kind]
        return cls(now - timedelta(days=days), now)

    @classmethod
    def checked(cls, since: datetime, until: datetime) -> Period:
        if since.tzinfo is None or until.tzinfo is None:
            raise ValidationFailedError("give the period's times with their offset", code="invalid_period")
        if not since < until or until - since > timedelta(days=MAX_DAYS):
            raise ValidationFailedError(
                f"a period starts before it ends and spans at most {MAX_DAYS} days", code="invalid_period"
            )
        return cls(since, until)

    @property
    def length(self) -> timedelta:
        return self.until - self.since

    def before(self, n: int = 1) -> Period:
        return Period(self.since - n * self.length, self.until - n * self.length)


@dataclass(frozen=True, slots=True)
class Filters:
    channel: str | None = None
    language: str | None = None
    product: str | None = None
    queue: str | None = None
    source: str | None = None

    def where(self, query: SelectT) -> SelectT:
        for name in ("channel", "language", "product", "queue", "source"):
            value = getattr(self, name)
            if value:
                query = query.where(getattr(InsightMessage, name) == value)
        return query


@dataclass
class Hotspot:
    topic_id: str
    keywords: list[str]
    size: int
    previous: int
    trend: float | None  # (size - previous) / previous; None when the topic is new this period
    baseline: float
    spike: bool
    handoff_share: float
    negative_share: float
    unanswered_share: float
    rejected_share: float
    languages: dict[str, int]
    representatives: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Report:
    since: datetime
    until: datetime
    filters: dict[str, str | None]
    total: int
    hotspots: list[Hotspot]

    @property
    def spikes(self) -> list[Hotspot]:
        return [h for h in self.hotspots if h.spike]

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "filters": self.filters,
            "total": self.total,
            "hotspots": [asdict(h) for h in self.hotspots],
        }


def is_spike(count: int, baseline: float) -> bool:
    b = max(baseline, 1.0)
    return count >= SPIKE_MIN and count >= SPIKE_RATIO * b and (count - baseline) / math.sqrt(b) >= SPIKE_Z


def hotspots(
    s: Session,
    period: Period,
    filters: Filters = Filters(),
    *,
    top: int = 50,
    only: str | None = None,
    examples: bool = True,
) -> Report:
    """The topics of `period` (after `filters`), largest first, at most `top` (or just `only`);
    `examples=False` leaves the representatives out (a read that wants the figures only)."""
    topic = func.coalesce(InsightMessage.topic_id, UNASSIGNED)
    current = s.execute(
        filters.where(
            select(
                topic,
                func.count(),
                func.sum(case((InsightMessage.handed_off, 1), else_=0)),
                func.sum(case((InsightMessage.negative, 1), else_=0)),
                func.sum(case((InsightMessage.answered.is_(False), 1), else_=0)),
                func.sum(case((InsightMessage.rejected, 1), else_=0)),
            )
            .where(_in(period), _topic(only) if only else true())
            .group_by(topic)
        )
    ).all()
    total = sum(int(r[1]) for r in current)
    ranked = sorted(current, key=lambda r: (-int(r[1]), str(r[0])))[:top]
    ids = [str(r[0]) for r in ranked]
    earlier = _counts_before(s, period, filters, ids)
    observed = _observed_periods(s, period, filters)
    languages = _languages(s, period, filters, ids)
    names = {
        t.id: list(t.keywords or []) for t in s.scalars(select(InsightTopic).where(InsightTopic.id.in_(ids)))
    }
    out: list[Hotspot] = []
    for topic_id, size, handed, negative, unanswered, rejected in ranked:
        tid, n = str(topic_id), int(size)
        history = earlier.get(tid, [0] * BASELINE_PERIODS)
        previous = history[0]
        # Only periods with data count: a topic is not "usual at zero" before the data began.
        baseline = sum(history[:observed]) / observed if observed else 0.0
        out.append(
            Hotspot(
                topic_id=tid,
                keywords=names.get(tid, []),
                size=n,
                previous=previous,
                trend=round((n - previous) / previous, 3) if previous else None,
                baseline=round(baseline, 2),
                spike=tid != UNASSIGNED and observed >= MIN_OBSERVED and is_spike(n, baseline),
                handoff_share=_share(handed, n),
                negative_share=_share(negative, n),
                unanswered_share=_share(unanswered, n),
                rejected_share=_share(rejected, n),
                languages=languages.get(tid, {}),
                representatives=representatives(s, tid, period, filters) if examples else [],
            )
        )
    return Report(period.since, period.until, _filters_dict(filters), total, out)


def representatives(
    s: Session, topic_id: str, period: Period, filters: Filters, n: int = 3
) -> list[dict[str, Any]]:
    """The topic's `n` rows nearest its centre in the period, each text once (masked text,
    language, source, conversation)."""
    query = filters.where(
        select(
            InsightMessage.id,
            InsightMessage.text,
            InsightMessage.language,
            InsightMessage.source,
            InsightMessage.conversation_id,
        )
        .where(_in(period), _topic(topic_id), InsightMessage.text != "")
        .order_by(InsightMessage.topic_score.desc().nulls_last(), InsightMessage.at.desc())
        .limit(n * 5)
    )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in s.execute(query):
        if r.text in seen:
            continue
        seen.add(r.text)
        out.append(
            {
                "id": r.id,
                "text": r.text,
                "language": r.language,
                "source": r.source,
                "conversation_id": r.conversation_id,
            }
        )
        if len(out) == n:
            break
    return out


def topic_days(
    s: Session, topic_id: str, period: Period, filters: Filters = Filters(), tz: tzinfo = UTC
) -> list[tuple[str, int]]:
    """The topic's rows per day of the period (days in `tz`, the bank's zone), every day listed."""
    rows = s.execute(filters.where(select(InsightMessage.at).where(_in(period), _topic(topic_id)))).scalars()
    counts: dict[str, int] = defaultdict(int)
    for at in rows:
        counts[at.astimezone(tz).date().isoformat()] += 1
    day = period.since.astimezone(tz).date()
    last = (period.until - timedelta(microseconds=1)).astimezone(tz).date()
    out = []
    while day <= last:
        out.append((day.isoformat(), counts.get(day.isoformat(), 0)))
        day += timedelta(days=1)
    return out


def _counts_before(s: Session, period: Period, filters: Filters, ids: Sequence[str]) -> dict[str, list[int]]:
    """Each topic's count in each of the `BASELINE_PERIODS` periods before `period` (nearest
    first), counted in the database."""
    out: dict[str, list[int]] = {tid: [0] * BASELINE_PERIODS for tid in ids}
    if not ids:
        return out
    topic = func.coalesce(InsightMessage.topic_id, UNASSIGNED)
    bucket = case(
        *((InsightMessage.at >= period.before(n).since, n - 1) for n in range(1, BASELINE_PERIODS + 1)),
        else_=BASELINE_PERIODS,
    )
    rows = s.execute(
        filters.where(
            select(topic, bucket, func.count())
            .where(
                InsightMessage.at >= period.before(BASELINE_PERIODS).since,
                InsightMessage.at < period.since,
                topic.in_(ids),
            )
            .group_by(topic, bucket)
        )
    ).all()
    for tid, back, n in rows:
        if 0 <= int(back) < BASELINE_PERIODS:
            out[str(tid)][int(back)] += int(n)
    return out


def _observed_periods(s: Session, period: Period, filters: Filters) -> int:
    """How many of the `BASELINE_PERIODS` periods before `period` lie wholly after the first row
    (of these filters): the periods a usual count can be read from."""
    first = s.scalar(filters.where(select(func.min(InsightMessage.at))))
    if first is None:
        return 0
    if first.tzinfo is None:
        first = first.replace(tzinfo=UTC)
    return sum(1 for n in range(1, BASELINE_PERIODS + 1) if period.before(n).since >= first)


def _languages(s: Session, period: Period, filters: Filters, ids: Sequence[str]) -> dict[str, dict[str, int]]:
    topic = func.coalesce(InsightMessage.topic_id, UNASSIGNED)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for tid, language, n in s.execute(
        filters.where(
            select(topic, InsightMessage.language, func.count())
            .where(_in(period), topic.in_(ids))
            .group_by(topic, InsightMessage.language)
        )
    ):
        out[str(tid)][str(language)] = int(n)
    return out


def _in(period: Period) -> Any:
    return and_(InsightMessage.at >= period.since, InsightMessage.at < period.until)


def _topic(topic_id: str) -> Any:
    return (
        InsightMessage.topic_id.is_(None) if topic_id == UNASSIGNED else InsightMessage.topic_id == topic_id
    )


def _share(part: Any, whole: int) -> float:
    return round(int(part or 0) / whole, 3) if whole else 0.0


def _filters_dict(filters: Filters) -> dict[str, str | None]:
    return {name: getattr(filters, name) for name in ("channel", "language", "product", "queue", "source")}


CSV_COLUMNS = (
    "topic_id",
    "keywords",
    "size",
    "previous",
    "trend",
    "baseline",
    "spike",
    "handoff_share",
    "negative_share",
    "unanswered_share",
    "rejected_share",
    "languages",
    "representative_1",
    "representative_2",
    "representative_3",
    "link",
)


def report_csv(report: Report, link: str = "/console/insight/topics/{topic_id}") -> str:
    """The report as CSV (UTF-8, one hotspot a row, a link to each hotspot's page)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for h in report.hotspots:
        texts = [r["text"] for r in h.representatives] + ["", "", ""]
        writer.writerow(
            [
                h.topic_id,
                " ".join(h.keywords),
                h.size,
                h.previous,
                "" if h.trend is None else h.trend,
                h.baseline,
                "yes" if h.spike else "no",
                h.handoff_share,
                h.negative_share,
                h.unanswered_share,
                h.rejected_share,
                ";".join(f"{k}:{v}" for k, v in sorted(h.languages.items())),
                *texts[:3],
                link.format(topic_id=h.topic_id),
            ]
        )
    return buf.getvalue()
