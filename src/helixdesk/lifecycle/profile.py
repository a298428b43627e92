"""The customer profile an agent reads beside a conversation (pure; docs/lifecycle.md#profile).

`build_profile` reads only values handed to it: the bank's customer, accounts, cards and recent
transactions, the monthly history, the lifecycle stage and churn risk already worked out, and a
few conversation signals (`ConversationSignals`: the intents of the customer's recent
conversations, the average length of their own messages). It writes nothing.

Every derived field is a `{"value", "source", "why", "why_i18n"}` mapping: `source` names where the value came
from (`bank:customer`, `bank:accounts`, `bank:cards`, `bank:transactions`, `bank:monthly_activity`,
`conversations`, `lifecycle:stages`, `lifecycle:churn_model`, `default`), `why` says in words how it
was worked out (in English; `why_i18n` says it in zh-Hans, zh-Hant and English). Thresholds and the interest maps are the pack's (`lifecycle/rules.yaml`,
`profile:` section).

The risk tolerance is the bank's own assessment. It is never raised from behaviour: without an
assessment the profile says `conservative` (the most careful level) and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from helixdesk.bank.connector import Account, Card, Customer, MonthlyActivity, Transaction
from helixdesk.lifecycle.config import ProfileRules
from helixdesk.lifecycle.words import said

RISK_LEVELS = ("conservative", "moderate", "balanced", "growth", "aggressive")
STYLES = ("concise", "chatty", "needs_patience")
# Transactions that are not card spending: income and the bank's own credits.
NOT_SPENDING = frozenset({"income", "refund", "transfer"})
NO_CHURN_MODEL = said("no churn model", "没有流失模型")


@dataclass(frozen=True, slots=True)
class ConversationSignals:
    """What the customer's conversations say about them, as plain values (gathered by the caller)."""

    intents: tuple[str, ...] = ()  # the intents their recent messages were understood as
    messages: int = 0  # how many of their own messages were measured
    average_length: float | None = None  # their own messages' average length in characters


def field(value: Any, source: str, why: str, why_zh: str) -> dict[str, Any]:
    """A derived value, where it came from, and how it was worked out: `why` in English and
    `why_i18n` in the console's three languages (`why_zh` is the Simplified Chinese)."""
    return {"value": value, "source": source, "why": why, "why_i18n": said(why, why_zh)}


def age_band(age: int, bands: Sequence[int]) -> str:
    """`under_30`, `30_44`, `45_59`, `60_plus` for the bands (30, 45, 60)."""
    if not bands or age < bands[0]:
        return f"under_{bands[0]}" if bands else "all"
    for low, high in pairwise(bands):
        if low <= age < high:
            return f"{low}_{high - 1}"
    return f"{bands[-1]}_plus"


def products(
    accounts: Sequence[Account], cards: Sequence[Card], transactions: Sequence[Transaction]
) -> dict[str, Any]:
    """The accounts and cards held, each with how many of the recent transactions used it."""
    by_account = Counter(t.account_number for t in transactions)
    by_card = Counter(t.card_last4 for t in transactions if t.card_last4)
    held = [
        {
            "product": a.kind,
            "kind": "account",
            "ref": "****" + a.number[-4:],
            "status": a.status,
            "transactions": by_account[a.number],
            "in_use": by_account[a.number] > 0,
        }
        for a in accounts
    ] + [
        {
            "product": f"{c.kind}_card",
            "kind": "card",
            "ref": "****" + c.last4,
            "name": c.product,
            "status": c.status,
            "transactions": by_card[c.last4],
            "in_use": by_card[c.last4] > 0,
        }
        for c in cards
    ]
    used = sum(1 for p in held if p["in_use"])
    return field(
        held,
        "bank:accounts+bank:cards+bank:transactions",
        f"{len(held)} products held, {used} used in the {len(transactions)} recent transactions",
        f"持有 {len(held)} 个产品，其中 {used} 个在最近 {len(transactions)} 笔交易中使用过",
    )


def card_categories(transactions: Sequence[Transaction], rules: ProfileRules) -> dict[str, Any]:
    """The largest card spending categories by amount (CNY-equivalent amounts are not converted:
    spending in other currencies counts at its face value, enough to rank categories)."""
    spend: dict[str, float] = {}
    for t in transactions:
        if t.card_last4 and t.amount < 0 and t.status != "failed" and t.category not in NOT_SPENDING:
            spend[t.category] = spend.get(t.category, 0.0) + float(-t.amount)
    total = sum(spend.values())
    top = [
        {"category": c, "share": round(v / total, 3)}
        for c, v in sorted(spend.items(), key=lambda kv: (-kv[1], kv[0]))
        if total > 0 and v / total >= rules.min_category_share
    ][: rules.top_categories]
    if total == 0:
        return field(
            top,
            "bank:transactions",
            "no card spending among the recent transactions",
            "最近的交易中没有刷卡消费",
        )
    return field(
        top,
        "bank:transactions",
        f"the largest shares of {total:,.2f} card spending in the recent transactions "
        f"(from {rules.min_category_share:.0%} each)",
        f"最近交易中 {total:,.2f} 刷卡消费里占比最大的类别（每类至少 {rules.min_category_share:.0%}）",
    )


def remittance(months: Sequence[MonthlyActivity], rules: ProfileRules) -> dict[str, Any]:
    recent = months[-rules.remittance_months :]
    count = sum(m.remittances for m in recent)
    frequent = count >= rules.frequent_remittances
    return field(
        frequent,
        "bank:monthly_activity",
        f"{count} cross-border remittances in the last {len(recent)} months "
        f"(frequent from {rules.frequent_remittances} in {rules.remittance_months})",
        f"最近 {len(recent)} 个月跨境汇款 {count} 笔（{rules.remittance_months} 个月内达 "
        f"{rules.frequent_remittances} 笔即为频繁）",
    )


def payroll(months: Sequence[MonthlyActivity], rules: ProfileRules) -> dict[str, Any]:
    recent = months[-rules.payroll_months :]
    paid = sum(1 for m in recent if m.payroll)
    return field(
        paid >= rules.payroll_min_months,
        "bank:monthly_activity",
        f"payroll arrived in {paid} of the last {len(recent)} months "
        f"(paid through the bank from {rules.payroll_min_months} of {rules.payroll_months})",
        f"最近 {len(recent)} 个月中有 {paid} 个月收到工资（{rules.payroll_months} 个月中达 "
        f"{rules.payroll_min_months} 个月即为代发工资客户）",
    )


def risk_tolerance(customer: Customer) -> dict[str, Any]:
    """The bank's assessment as it stands; never raised from behaviour."""
    if customer.risk_tolerance in RISK_LEVELS:
        return field(
            customer.risk_tolerance,
            "bank:customer",
            "the bank's risk assessment, as recorded; never raised from behaviour",
            "银行记录的风险评估结果；不会根据客户行为调高",
        )
    return field(
        "conservative",
        "default",
        f"the bank has no valid risk assessment ({customer.risk_tolerance or 'none'}): the most careful "
        "level is assumed until it has one",
        f"银行没有有效的风险评估（{customer.risk_tolerance or '无'}）：在评估之前按最谨慎的等级处理",
    )


def interests(
    customer: Customer,
    categories: Sequence[dict[str, Any]],
    signals: ConversationSignals,
    rules: ProfileRules,
) -> dict[str, Any]:
    """The bank's recorded interests, then those the pack reads from spending and from conversations."""
    found: dict[str, str] = {}
    for i in customer.interests:
        found.setdefault(i, "bank:customer")
    for c in categories:
        mapped = rules.spending_interests.get(c["category"])
        if mapped:
            found.setdefault(mapped, "bank:transactions")
    for intent in signals.intents:
        mapped = rules.intent_interests.get(intent)
        if mapped:
            found.setdefault(mapped, "conversations")
    value = [{"interest": k, "source": v} for k, v in found.items()]
    counts = Counter(found.values())
    return field(
        value,
        "bank:customer+bank:transactions+conversations",
        f"{counts['bank:customer']} recorded by the bank, {counts['bank:transactions']} from card "
        f"spending, {counts['conversations']} from conversation topics (the pack's maps)",
        f"银行记录 {counts['bank:customer']} 项，来自刷卡消费 {counts['bank:transactions']} 项，"
        f"来自对话主题 {counts['conversations']} 项（按业务包的对应表）",
    )


def style(age: int, signals: ConversationSignals, rules: ProfileRules) -> dict[str, Any]:
    if age >= rules.patience_age:
        return field(
            "needs_patience",
            "bank:customer",
            f"{age} years old (from {rules.patience_age}): explain step by step, without hurry",
            f"{age} 岁（{rules.patience_age} 岁及以上）：请一步一步讲解，不要催促",
        )
    if signals.average_length is None or signals.messages == 0:
        return field(
            None, "conversations", "no messages of theirs to read yet", "还没有客户本人的消息可供判断"
        )
    length = signals.average_length
    measured = f"their {signals.messages} messages average {length:.0f} characters"
    measured_zh = f"客户的 {signals.messages} 条消息平均 {length:.0f} 个字符"
    if length <= rules.concise_max_chars:
        return field(
            "concise",
            "conversations",
            f"{measured} (concise up to {rules.concise_max_chars})",
            f"{measured_zh}（不超过 {rules.concise_max_chars} 为简洁）",
        )
    if length >= rules.chatty_min_chars:
        return field(
            "chatty",
            "conversations",
            f"{measured} (chatty from {rules.chatty_min_chars})",
            f"{measured_zh}（达到 {rules.chatty_min_chars} 为健谈）",
        )
    return field(
        None,
        "conversations",
        f"{measured}: between concise ({rules.concise_max_chars}) and chatty ({rules.chatty_min_chars})",
        f"{measured_zh}：介于简洁（{rules.concise_max_chars}）和健谈（{rules.chatty_min_chars}）之间",
    )


def build_profile(
    *,
    customer: Customer,
    accounts: Sequence[Account],
    cards: Sequence[Card],
    transactions: Sequence[Transaction],
    months: Sequence[MonthlyActivity],
    stage: dict[str, Any],
    churn_risk: dict[str, Any] | None,
    churn_unavailable: dict[str, str] | None,
    signals: ConversationSignals,
    rules: ProfileRules,
    today: date,
) -> dict[str, Any]:
    """The profile as a JSON-ready mapping (see the module's docstring)."""
    age = customer.age(today)
    categories = card_categories(transactions, rules)
    balance = sum((a.balance for a in accounts if a.currency == "CNY"), Decimal("0"))
    return {
        "customer_ref": customer.ref,
        "as_of": today.isoformat(),
        "demographics": {
            "age_band": field(
                age_band(age, rules.age_bands),
                "bank:customer",
                f"born {customer.birth_date:%Y}: {age} years old",
                f"{customer.birth_date:%Y} 年出生：{age} 岁",
            ),
            "city": field(
                customer.city, "bank:customer", "the city the bank holds for them", "银行记录的所在城市"
            ),
        },
        "products": products(accounts, cards, transactions),
        "transactions": {
            "cross_border_remittance": remittance(months, rules),
            "card_categories": categories,
            "payroll": payroll(months, rules),
            "cny_balance": field(
                str(balance),
                "bank:accounts",
                "the CNY balance of their accounts today",
                "各账户今天的人民币余额合计",
            ),
        },
        "risk_tolerance": risk_tolerance(customer),
        "interests": interests(customer, categories["value"], signals, rules),
        "language": field(
            customer.preferred_language,
            "bank:customer",
            "the language the bank records as preferred",
            "银行记录的首选语言",
        ),
        "style": style(age, signals, rules),
        "value_tier": field(
            customer.value_tier, "bank:customer", "the bank's value tier", "银行评定的客户等级"
        ),
        "stage": field(stage, "lifecycle:stages", stage["explanation"], stage["explanation_i18n"]["zh-Hans"]),
        "churn_risk": (
            field(
                churn_risk,
                "lifecycle:churn_model",
                f"the churn model {churn_risk.get('model_version')}: the chance they churn within "
                f"{churn_risk.get('horizon_months')} months",
                f"流失模型 {churn_risk.get('model_version')}：客户在 {churn_risk.get('horizon_months')} "
                "个月内流失的概率",
            )
            if churn_risk is not None
            else field(
                None,
                "lifecycle:churn_model",
                (churn_unavailable or NO_CHURN_MODEL)["en"],
                (churn_unavailable or NO_CHURN_MODEL)["zh-Hans"],
            )
        ),
    }
