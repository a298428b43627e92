"""The customer's lifecycle stage, by documented rules (pure; docs/lifecycle.md#stages).

The rules are tried in this order, and the first that holds decides (thresholds from the pack's
`lifecycle/rules.yaml`, `stages:` section; the retail_bank pack's values in brackets):

1. 退化期 `decline`, whatever the tenure, when
   - `churned`: the customer churned (`helixdesk.lifecycle.churn`: balance drained, inactive, or
     every product closed) at some month of the history and has not come back: fewer than
     `trend_months` [3] months follow the churn month, or their average activity (transactions +
     logins) is below `comeback_share` [50%] of that of the `churn.balance_window_months` [6]
     months before it; or
   - `activity_drop`: activity of the last `trend_months` [3] months is below that of the
     `trend_months` before by more than `decline_activity_drop` [40%]; or
   - `balance_drop`: the average balance of the last `trend_months` months is below that of the
     `trend_months` before by more than `decline_balance_drop` [50%].
2. 考察期 `exploration` (`short_tenure`): tenure below `exploration_months` [6].
3. 形成期 `formation`, when
   - `building_tenure`: tenure below `formation_months` [24]; or
   - `depth_growing`: more products held now than `depth_window_months` [6] months ago (or than
     in the first month, with a shorter history).
4. 稳定期 `stability` (`established`): otherwise.

A trend needs 2 x `trend_months` months of history; with fewer, its rule does not hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from helixdesk.bank.connector import MonthlyActivity
from helixdesk.lifecycle.churn import ChurnEvent, churn_event
from helixdesk.lifecycle.config import LifecycleConfig
from helixdesk.lifecycle.customer import CustomerHistory, mean, trend
from helixdesk.lifecycle.words import churn_reason, said


class Stage(StrEnum):
    EXPLORATION = "exploration"
    FORMATION = "formation"
    STABILITY = "stability"
    DECLINE = "decline"


STAGE_NAMES: dict[Stage, dict[str, str]] = {
    Stage.EXPLORATION: {"zh-Hans": "考察期", "zh-Hant": "考察期", "en": "exploration"},
    Stage.FORMATION: {"zh-Hans": "形成期", "zh-Hant": "形成期", "en": "formation"},
    Stage.STABILITY: {"zh-Hans": "稳定期", "zh-Hant": "穩定期", "en": "stability"},
    Stage.DECLINE: {"zh-Hans": "退化期", "zh-Hant": "退化期", "en": "decline"},
}


@dataclass(frozen=True, slots=True)
class StageResult:
    stage: Stage
    rule: str  # which rule decided: churned, activity_drop, balance_drop, short_tenure, ...
    explanation: str
    explanation_zh: str  # the same in Simplified Chinese
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage.value,
            "name": STAGE_NAMES[self.stage],
            "rule": self.rule,
            "explanation": self.explanation,
            "explanation_i18n": said(self.explanation, self.explanation_zh),
            "figures": self.figures,
        }


def came_back(months: Sequence[MonthlyActivity], event: ChurnEvent, config: LifecycleConfig) -> bool:
    """After churning at `event`, the customer's activity has returned: at least `trend_months`
    months follow it, with at least `comeback_share` of the activity of the months before it."""
    after = [float(m.activity) for m in months[event.index + 1 :]]
    if len(after) < config.stages.trend_months:
        return False
    window = config.churn.balance_window_months
    before = mean([float(m.activity) for m in months[max(0, event.index - window) : event.index]])
    return mean(after) > 0 and mean(after) >= config.stages.comeback_share * before


def lifecycle_stage(history: CustomerHistory, config: LifecycleConfig) -> StageResult:
    """The customer's stage at `history.as_of` and the rule that decided it."""
    rules = config.stages
    months = history.months
    tenure = history.tenure_months
    activity = trend([float(m.activity) for m in months], rules.trend_months)
    balance = trend([float(m.balance) for m in months], rules.trend_months)
    products = months[-1].products_held if months else None
    back = min(rules.depth_window_months, len(months) - 1) if months else 0
    products_before = months[-1 - back].products_held if months else None
    event = churn_event(months, config.churn)
    figures: dict[str, Any] = {
        "tenure_months": tenure,
        "months_of_history": len(months),
        "activity_trend": None if activity is None else round(activity, 4),
        "balance_trend": None if balance is None else round(balance, 4),
        "products_held": products,
        "products_held_before": products_before,
        "months_back": back,
        "churned_in": None if event is None else event.month.isoformat(),
    }
    if event is not None and not came_back(months, event, config):
        return StageResult(
            Stage.DECLINE,
            "churned",
            f"churned in {event.month:%Y-%m} ({churn_reason(event.reason)[0]}) and has not come back",
            f"已于 {event.month:%Y-%m} 流失（{churn_reason(event.reason)[1]}），此后没有回来",
            figures,
        )
    if activity is not None and activity < -rules.decline_activity_drop:
        return StageResult(
            Stage.DECLINE,
            "activity_drop",
            f"activity of the last {rules.trend_months} months is {-activity:.0%} below the "
            f"{rules.trend_months} before (more than {rules.decline_activity_drop:.0%})",
            f"最近 {rules.trend_months} 个月的活跃度比之前 {rules.trend_months} 个月低 {-activity:.0%}"
            f"（超过 {rules.decline_activity_drop:.0%}）",
            figures,
        )
    if balance is not None and balance < -rules.decline_balance_drop:
        return StageResult(
            Stage.DECLINE,
            "balance_drop",
            f"the balance of the last {rules.trend_months} months is {-balance:.0%} below the "
            f"{rules.trend_months} before (more than {rules.decline_balance_drop:.0%})",
            f"最近 {rules.trend_months} 个月的余额比之前 {rules.trend_months} 个月低 {-balance:.0%}"
            f"（超过 {rules.decline_balance_drop:.0%}）",
            figures,
        )
    if tenure < rules.exploration_months:
        return StageResult(
            Stage.EXPLORATION,
            "short_tenure",
            f"a customer for {tenure} months (fewer than {rules.exploration_months})",
            f"成为客户 {tenure} 个月（不足 {rules.exploration_months} 个月）",
            figures,
        )
    if tenure < rules.formation_months:
        return StageResult(
            Stage.FORMATION,
            "building_tenure",
            f"a customer for {tenure} months (fewer than {rules.formation_months})",
            f"成为客户 {tenure} 个月（不足 {rules.formation_months} 个月）",
            figures,
        )
    if products is not None and products_before is not None and products > products_before:
        return StageResult(
            Stage.FORMATION,
            "depth_growing",
            f"{products} products held, {products - products_before} more than {back} months ago",
            f"持有 {products} 个产品，比 {back} 个月前多 {products - products_before} 个",
            figures,
        )
    return StageResult(
        Stage.STABILITY,
        "established",
        f"a customer for {tenure} months, activity, balance and product depth holding",
        f"成为客户 {tenure} 个月，活跃度、余额和持有产品数保持稳定",
        figures,
    )
