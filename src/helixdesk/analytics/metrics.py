"""Every metric, defined once: its key, unit and formula over the rollups' sums.

docs/analytics.md is the glossary (a test checks that it documents every key here). Ratios are
0-1; times are seconds; money is in the cost model's currency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from helixdesk.core.settings import Settings

Sums = Mapping[str, float]


@dataclass(frozen=True, slots=True)
class CostModel:
    """What a conversation costs: the bot's share per conversation and people's time by the hour;
    the all-human baseline gives each conversation the bot contained `baseline_minutes` of a
    person's time."""

    agent_per_hour: float = 90.0
    bot_per_conversation: float = 0.6
    baseline_minutes: float = 6.0
    currency: str = "CNY"

    @classmethod
    def from_settings(cls, settings: Settings) -> CostModel:
        return cls(
            agent_per_hour=settings.cost_agent_per_hour,
            bot_per_conversation=settings.cost_bot_per_conversation,
            baseline_minutes=settings.cost_baseline_minutes,
            currency=settings.cost_currency,
        )

    def actual(self, sums: Sums) -> float:
        return (
            sums["conversations"] * self.bot_per_conversation
            + sums["handled_sum"] / 3600 * self.agent_per_hour
        )

    def baseline(self, sums: Sums) -> float:
        person = sums["contained"] * self.baseline_minutes * 60 + sums["handled_sum"]
        return person / 3600 * self.agent_per_hour


@dataclass(frozen=True, slots=True)
class Figure:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    unit: str  # count, ratio, seconds, score, money
    formula: str
    compute: Callable[[Sums, CostModel], Figure]


def _ratio(num: str, den: str) -> Callable[[Sums, CostModel], Figure]:
    def compute(s: Sums, _cost: CostModel) -> Figure:
        d = s[den]
        return Figure(s[num] / d if d else None, s[num], d)

    return compute


def _count(name: str) -> Callable[[Sums, CostModel], Figure]:
    return lambda s, _cost: Figure(s[name], s[name], None)


def _cost_per_conversation(s: Sums, cost: CostModel) -> Figure:
    n = s["conversations"]
    spent = cost.actual(s)
    return Figure(spent / n if n else None, spent, n)


def _cost_saved(s: Sums, cost: CostModel) -> Figure:
    baseline, spent = cost.baseline(s), cost.actual(s)
    return Figure(baseline - spent, baseline, spent)


METRICS: tuple[Metric, ...] = (
    Metric("volume", "count", "conversations started", _count("conversations")),
    Metric("containment", "ratio", "contained / engaged", _ratio("contained", "engaged")),
    Metric("handoff_rate", "ratio", "handed_off / engaged", _ratio("handed_off", "engaged")),
    Metric("fcr", "ratio", "resolved / closed", _ratio("resolved", "closed")),
    Metric("csat", "score", "sum of ratings / rated", _ratio("csat_sum", "rated")),
    Metric(
        "first_response",
        "seconds",
        "sum of first response times / responded",
        _ratio("response_sum", "responded"),
    ),
    Metric("queue_wait", "seconds", "sum of queue waits / claimed", _ratio("wait_sum", "waited")),
    Metric("abandonment", "ratio", "abandoned / handed_off", _ratio("abandoned", "handed_off")),
    Metric("aht", "seconds", "sum of handling times / handled", _ratio("handled_sum", "handled")),
    Metric("transfers", "count", "handoffs transferred", _count("transfers")),
    Metric("negative_rate", "ratio", "negative / engaged", _ratio("negative", "engaged")),
    Metric("risk_rate", "ratio", "risky / engaged", _ratio("risky", "engaged")),
    Metric("sla_compliance", "ratio", "sla_met / sla_due", _ratio("sla_met", "sla_due")),
    Metric(
        "emotional_load",
        "score",
        "sum of claimed handoffs' negativity / handled",
        _ratio("emotional_load", "handled"),
    ),
    Metric(
        "cost_per_conversation",
        "money",
        "(conversations x bot cost + handled hours x agent cost per hour) / conversations",
        _cost_per_conversation,
    ),
    Metric(
        "cost_saved",
        "money",
        "(contained x baseline minutes + handled time) x agent cost per hour - actual cost",
        _cost_saved,
    ),
)
BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}
# Figures the rollups do not hold, read from their own tables for the same period and filters.
EXTERNAL: tuple[str, ...] = ("compliance_findings", "occupancy")
# The per-day series the dashboard draws.
SERIES: tuple[str, ...] = (
    "volume",
    "containment",
    "handoff_rate",
    "csat",
    "first_response",
    "sla_compliance",
    "negative_rate",
)
