"""The register's vocabulary and its pure rules: no database, no clock of its own.

    affects(incident, products=..., channel="app", region="上海", now=now)   # -> bool
    text_in(incident.explanation, "zh-Hant")                                 # with the fallbacks

An incident is *active* from `started_at` until it is resolved (`resolved_at`); open and monitoring
incidents have no end yet. It *affects* a customer when it is active and every restriction it has
holds: the conversation's channel is one of its channels, the customer holds one of its products,
the customer's city lies in one of its regions. An empty list restricts nothing. What is not known
restricts: a customer whose products were not read (an anonymous visitor) is affected only by an
incident that names no product, and one without a known city only by an incident that names no
region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from helixdesk.core.languages import LANGUAGES
from helixdesk.incidents.regions import region_keys
from helixdesk.nlu.text import to_simplified, to_traditional

KINDS: tuple[str, ...] = ("outage", "app_error", "delayed_batch", "other")
STATUSES: tuple[str, ...] = ("open", "monitoring", "resolved")
OPEN_STATUSES: tuple[str, ...] = ("open", "monitoring")
# What a customer may hold, as `helixdesk.incidents.products` reads it from the bank connector.
PRODUCTS: tuple[str, ...] = (
    "mobile_app",
    "transfer",
    "debit_card",
    "credit_card",
    "savings_account",
    "current_account",
    "time_deposit",
    "payroll",
    "wealth",
)
# The channels conversations come in on (`helixdesk.conversations.models.CHANNELS`; a test keeps
# the two the same: this package sits below conversations and cannot import it).
CHANNELS: tuple[str, ...] = ("web", "app", "api", "wechat", "social", "voice", "cli")


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident as the dialogue and the matching read it."""

    id: str
    kind: str
    title: Mapping[str, str]  # language -> text; at least one language
    explanation: Mapping[str, str]
    products: frozenset[str]
    channels: frozenset[str]
    regions: frozenset[str]  # canonical region keys (`helixdesk.incidents.regions`)
    started_at: datetime
    expected_fix_at: datetime | None
    status: str
    resolved_at: datetime | None
    version: int = 1


def is_active(incident: Incident, now: datetime) -> bool:
    """Started, and not resolved by `now`."""
    if now < incident.started_at:
        return False
    if incident.status in OPEN_STATUSES:
        return True
    return incident.resolved_at is not None and now < incident.resolved_at


def affects(
    incident: Incident,
    *,
    products: frozenset[str] | None,
    channel: str | None,
    region: str | None,
    now: datetime,
) -> bool:
    """Whether the incident affects this customer in this conversation now (see the module doc).

    `products`: what the customer holds, None when not known (an anonymous visitor); `region`: the
    customer's city, None when not known.
    """
    if not is_active(incident, now):
        return False
    if incident.channels and channel not in incident.channels:
        return False
    if incident.products and (products is None or not incident.products & products):
        return False
    return not (incident.regions and not incident.regions & region_keys(region))


def text_in(texts: Mapping[str, str], language: str) -> str:
    """The text in `language`, else the nearest: the other Chinese script converted (OpenCC), for
    English the Simplified (else the Traditional) Chinese text, for Chinese the English one."""
    given = {k: v for k, v in texts.items() if k in LANGUAGES and v and v.strip()}
    if language in given:
        return given[language]
    if language == "zh-Hant" and "zh-Hans" in given:
        return to_traditional(given["zh-Hans"])
    if language == "zh-Hans" and "zh-Hant" in given:
        return to_simplified(given["zh-Hant"])
    for fallback in ("zh-Hans", "zh-Hant", "en"):
        if fallback in given:
            return given[fallback]
    return ""
