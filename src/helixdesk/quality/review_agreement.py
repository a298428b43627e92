"""Agreement between QA reviewers and the QA engine, per rule: findings, how many were reviewed,
confirmed, rejected and still pending, and the agreement rate (confirmed / reviewed), which shows
the rules that misfire."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.quality.models import Finding, Verdict


@dataclass(frozen=True, slots=True)
class RuleAgreement:
    rule: str
    category: str
    findings: int
    reviewed: int
    confirmed: int
    rejected: int
    pending: int

    @property
    def rate(self) -> float | None:
        """Confirmed / reviewed: how often the reviewers agreed with the engine (None: none reviewed)."""
        return self.confirmed / self.reviewed if self.reviewed else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "agreement": self.rate}


@dataclass(frozen=True, slots=True)
class AgreementReport:
    days: int | None
    rules: list[RuleAgreement] = field(default_factory=list)

    @property
    def total(self) -> RuleAgreement:
        return RuleAgreement(
            rule="*",
            category="*",
            findings=sum(r.findings for r in self.rules),
            reviewed=sum(r.reviewed for r in self.rules),
            confirmed=sum(r.confirmed for r in self.rules),
            rejected=sum(r.rejected for r in self.rules),
            pending=sum(r.pending for r in self.rules),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "rules": [r.to_dict() for r in self.rules],
            "total": self.total.to_dict(),
        }


def agreement_report(s: Session, *, days: int | None, since: datetime | None) -> AgreementReport:
    """The agreement per rule over the findings created since `since` (all: None), the weakest
    rules (lowest agreement) first, rules nobody reviewed yet last; `days` names the period."""
    query = select(Finding.rule, Finding.category, Finding.verdict, func.count()).group_by(
        Finding.rule, Finding.category, Finding.verdict
    )
    if since is not None:
        query = query.where(Finding.created_at >= since)
    counts: dict[str, dict[str, int]] = {}
    category: dict[str, str] = {}
    for rule, cat, verdict, n in s.execute(query):
        counts.setdefault(rule, {})
        counts[rule][verdict] = counts[rule].get(verdict, 0) + n
        category.setdefault(rule, cat)
    rules = []
    for rule, by in counts.items():
        confirmed = by.get(Verdict.CONFIRMED.value, 0)
        rejected = by.get(Verdict.REJECTED.value, 0)
        rules.append(
            RuleAgreement(
                rule=rule,
                category=category[rule],
                findings=sum(by.values()),
                reviewed=confirmed + rejected,
                confirmed=confirmed,
                rejected=rejected,
                pending=by.get(Verdict.PENDING.value, 0),
            )
        )
    rules.sort(key=lambda r: (r.rate is None, r.rate if r.rate is not None else 0.0, r.rule))
    return AgreementReport(days=days, rules=rules)
