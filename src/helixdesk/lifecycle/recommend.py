"""Which strategies reach a customer now, each with why — and the suitability gate, last.

`recommend` reads a small `Snapshot` of the customer (their stage and churn band from the lifecycle,
their interests, risk tolerance, age and whether they are vulnerable, and whether a complaint or a
fraud report is open: whoever builds the customer's profile fills it), matches every enabled
strategy's conditions, and then asks `suitability.gate` about each match. Only what the gate lets
through is recommended; what it holds back is listed with the gate's rule, for the console. Nothing
a strategy says is read by the gate. Pure: it reads its arguments and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from helixdesk.lifecycle.strategies import Strategy
from helixdesk.lifecycle.suitability import Subject, SuitabilityPolicy, gate

AT_RISK_STAGE = "decline"
AT_RISK_BAND = "high"

_STAGE = {
    "exploration": ("考察期", "考察期"),
    "formation": ("形成期", "形成期"),
    "stability": ("稳定期", "穩定期"),
    "decline": ("退化期", "退化期"),
}
_BAND = {"low": ("低", "低"), "medium": ("中", "中"), "high": ("高", "高")}
_TRIGGER = {
    "complaint_resolved": ("投诉已解决", "投訴已解決", "a complaint was just resolved"),
    "anniversary": ("开户周年", "開戶週年", "the anniversary of joining"),
    "conversation": ("正在对话", "正在對話", "in a conversation"),
}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What matching and the gate need to know about one customer (not a profile)."""

    ref: str
    stage: str | None  # exploration, formation, stability, decline; None: not known
    churn_band: str | None  # low, medium, high; None: no churn model
    interests: tuple[str, ...] = ()
    risk_tolerance: str | None = None
    age: int | None = None
    vulnerable: bool = False
    open_complaint: bool = False
    fraud_report: bool = False

    @property
    def at_risk(self) -> bool:
        return self.stage == AT_RISK_STAGE or self.churn_band == AT_RISK_BAND

    def subject(self) -> Subject:
        return Subject(
            risk_tolerance=self.risk_tolerance,
            age=self.age,
            vulnerable=self.vulnerable,
            open_complaint=self.open_complaint,
            fraud_report=self.fraud_report,
        )


@dataclass(frozen=True, slots=True)
class Recommendation:
    strategy_id: str
    kind: str
    item: dict[str, Any]
    value: Decimal | None
    texts: dict[str, str]
    where: tuple[str, ...]
    reasons: tuple[str, ...]  # the conditions that matched, as codes: stage:exploration, interest:funds
    explanation: dict[str, str]  # why this customer, per language

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy_id": self.strategy_id,
            "kind": self.kind,
            "item": self.item,
            "value": None if self.value is None else str(self.value),
            "texts": self.texts,
            "where": list(self.where),
            "reasons": list(self.reasons),
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class Withheld:
    strategy_id: str
    rule: str  # the gate's rule: blocked, above_tolerance, fragile_cap, unknown_risk


@dataclass(frozen=True, slots=True)
class Recommendations:
    shown: tuple[Recommendation, ...]
    withheld: tuple[Withheld, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "recommendations": [r.to_dict() for r in self.shown],
            "withheld": [{"strategy_id": w.strategy_id, "rule": w.rule} for w in self.withheld],
        }


def matches(strategy: Strategy, snap: Snapshot, trigger: str | None) -> tuple[str, ...] | None:
    """The reasons the strategy applies to this customer now, or None when a condition fails."""
    when = strategy.when
    reasons: list[str] = []
    if when.triggers:
        if trigger not in when.triggers:
            return None
        reasons.append(f"trigger:{trigger}")
    if when.stages:
        if snap.stage not in when.stages:
            return None
        reasons.append(f"stage:{snap.stage}")
    if when.churn_bands:
        if snap.churn_band not in when.churn_bands:
            return None
        reasons.append(f"churn_band:{snap.churn_band}")
    if when.at_risk is not None:
        if snap.at_risk != when.at_risk:
            return None
        if when.at_risk:
            reasons.append("at_risk:decline" if snap.stage == AT_RISK_STAGE else "at_risk:high_churn")
        else:
            reasons.append("not_at_risk")
    if when.interests:
        shared = [i for i in when.interests if i in snap.interests]
        if not shared:
            return None
        reasons.extend(f"interest:{i}" for i in shared)
    return tuple(reasons)


def explain(reasons: Sequence[str], strategy: Strategy, snap: Snapshot) -> dict[str, str]:
    """Why this customer, in each language, from the reasons and the risk level checked."""
    hans: list[str] = []
    hant: list[str] = []
    en: list[str] = []
    for reason in reasons:
        key, _, value = reason.partition(":")
        if key == "stage":
            hans.append(f"处于{_STAGE[value][0]}")
            hant.append(f"處於{_STAGE[value][1]}")
            en.append(f"in the {value} stage")
        elif key == "churn_band":
            hans.append(f"流失风险{_BAND[value][0]}")
            hant.append(f"流失風險{_BAND[value][1]}")
            en.append(f"{value} churn risk")
        elif key == "at_risk":
            hans.append("处于退化期" if value == "decline" else "流失风险高")
            hant.append("處於退化期" if value == "decline" else "流失風險高")
            en.append("in decline" if value == "decline" else "high churn risk")
        elif key == "not_at_risk":
            hans.append("无流失风险")
            hant.append("無流失風險")
            en.append("not at risk of churning")
        elif key == "interest":
            hans.append(f"关注{value}")
            hant.append(f"關注{value}")
            en.append(f"interested in {value}")
        elif key == "trigger":
            hans.append(_TRIGGER[value][0])
            hant.append(_TRIGGER[value][1])
            en.append(_TRIGGER[value][2])
    risk = strategy.what.item.risk
    if risk is not None:
        tolerance = snap.risk_tolerance or "unknown"
        hans.append(f"产品风险 {risk} 在客户风险承受能力（{tolerance}）之内")
        hant.append(f"產品風險 {risk} 在客戶風險承受能力（{tolerance}）之內")
        en.append(f"product risk {risk} within the customer's {tolerance} tolerance")
    if not en:
        hans.append("适用于所有客户")
        hant.append("適用於所有客戶")
        en.append("applies to every customer")
    return {"zh-Hans": "；".join(hans), "zh-Hant": "；".join(hant), "en": "; ".join(en)}


ANNIVERSARY_DAYS = 7  # the days from the anniversary of joining on which it is "the anniversary"


def moment(customer_since: date, today: date, *, days: int = ANNIVERSARY_DAYS) -> str:
    """The trigger of a contact today: `anniversary` from the anniversary of joining (a whole year
    or more; 1 March for 29 February) for `days` days, otherwise `conversation`."""
    for year in (today.year, today.year - 1):
        if year - customer_since.year < 1:
            continue
        try:
            day = customer_since.replace(year=year)
        except ValueError:
            day = date(year, 3, 1)
        if 0 <= (today - day).days < days:
            return "anniversary"
    return "conversation"


def recommend(
    snap: Snapshot,
    strategies: Iterable[Strategy],
    policy: SuitabilityPolicy,
    *,
    trigger: str | None = None,
    where: str | None = None,
) -> Recommendations:
    """Every enabled strategy that matches the customer now (on `where`: bot or console; None: any),
    in the set's order, once the suitability gate has had the last word on each."""
    subject = snap.subject()
    shown: list[Recommendation] = []
    withheld: list[Withheld] = []
    for s in strategies:
        if not s.enabled or (where is not None and where not in s.where):
            continue
        reasons = matches(s, snap, trigger)
        if reasons is None:
            continue
        verdict = gate(subject, s.what.item.risk, policy)  # last, and on what the strategy cannot set
        if not verdict.allowed:
            withheld.append(Withheld(s.id, verdict.rule))
            continue
        shown.append(
            Recommendation(
                strategy_id=s.id,
                kind=s.what.kind,
                item=s.what.item.model_dump(exclude_none=True),
                value=s.what.value,
                texts=dict(s.texts),
                where=s.where,
                reasons=reasons,
                explanation=explain(reasons, s, snap),
            )
        )
    return Recommendations(tuple(shown), tuple(withheld))


def bot_touch(
    snap: Snapshot,
    strategies: Iterable[Strategy],
    policy: SuitabilityPolicy,
    *,
    given: Sequence[str],
    trigger: str | None = None,
) -> Recommendation | None:
    """The one touch the bot may add in a conversation: none once one was given (`given`)."""
    if given:
        return None
    found = recommend(snap, strategies, policy, trigger=trigger, where="bot").shown
    return found[0] if found else None
