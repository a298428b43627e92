"""The lifecycle's explanations in the console's three languages (pure).

An explanation is written in English and in Simplified Chinese; the Traditional text is the
Simplified one converted with OpenCC (`helixdesk.nlu.text.to_traditional`), as the incident
register does for its texts.
"""

from __future__ import annotations

from helixdesk.nlu.text import to_traditional

# How a churn rule is said (`helixdesk.lifecycle.churn.ChurnReason`).
CHURN_REASONS: dict[str, tuple[str, str]] = {
    "products_closed": ("every product closed", "所有产品均已关闭"),
    "balance_drained": ("balance drained", "余额被转空"),
    "inactive": ("no transaction or login", "连续无交易也无登录"),
}


def said(en: str, hans: str) -> dict[str, str]:
    """One explanation as `{"en", "zh-Hans", "zh-Hant"}`."""
    return {"en": en, "zh-Hans": hans, "zh-Hant": to_traditional(hans)}


def churn_reason(reason: str) -> tuple[str, str]:
    """A churn rule's name in English and Simplified Chinese (its code when unknown)."""
    return CHURN_REASONS.get(reason, (reason.replace("_", " "), reason))
