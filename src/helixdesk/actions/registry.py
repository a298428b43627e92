"""The action registry: name -> `ActionSpec`. Dialogue policies (YAML) name actions by these names.

The names follow the `action:` fields of the intent taxonomy (shared spec intents.yaml), plus
`request_card_reissue` and `get_refund_status`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from helixdesk.actions import accounts, cards, credit, disputes, rates, transfers
from helixdesk.actions.base import ActionSpec

_SPECS: tuple[ActionSpec, ...] = (  # type: ignore[type-arg]
    *accounts.SPECS,
    *cards.SPECS,
    *transfers.SPECS,
    *credit.SPECS,
    *rates.SPECS,
    *disputes.SPECS,
)


def registered_actions() -> Mapping[str, ActionSpec]:  # type: ignore[type-arg]
    """Every action by name (read-only)."""
    return MappingProxyType({spec.name: spec for spec in _SPECS})
