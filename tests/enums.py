"""The codes Helixdesk stores and passes around (the core bank's enumerations, channels, states,
roles, the pack's intents, queues, emotions, ...), collected from the code and the pack, not typed
out: a new code shows up here by itself, and a page that shows it raw is caught."""

from __future__ import annotations

import typing
from typing import Any

import yaml
from pydantic import BaseModel

from helixdesk.auth.roles import ROLES
from helixdesk.auth.service import PRESENCE
from helixdesk.bank import schema
from helixdesk.conversations.models import CHANNELS, ConversationState, Sender
from helixdesk.edge.i18n import value_labels
from helixdesk.handoff.models import HandoffStatus
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.detect import PII_TYPES

# (record, field) of the bank interchange format → the labels group that words it.
_BANK_FIELDS: dict[tuple[type[BaseModel], str], str] = {
    (schema.CustomerIn, "segment"): "segment",
    (schema.CustomerIn, "risk_tolerance"): "risk_tolerance",
    (schema.CustomerIn, "gender"): "gender",
    (schema.CustomerIn, "value_tier"): "tier",
    (schema.AccountIn, "kind"): "account_kind",
    (schema.AccountIn, "status"): "account_status",
    (schema.CardIn, "kind"): "card_kind",
    (schema.CardIn, "status"): "card_status",
    (schema.TransactionIn, "status"): "transaction_status",
    (schema.TransactionIn, "channel"): "transaction_channel",
    (schema.TransferIn, "kind"): "transfer_kind",
    (schema.TransferIn, "status"): "transfer_status",
    (schema.InstallmentPlanIn, "status"): "installment_status",
}


def _literal_values(annotation: Any) -> list[str]:
    if typing.get_origin(annotation) is typing.Literal:
        return [str(v) for v in typing.get_args(annotation)]
    return [v for arg in typing.get_args(annotation) for v in _literal_values(arg)]


def bank_enums() -> dict[str, list[str]]:
    """Labels group → every value the bank format allows for it (its `Literal` types)."""
    out: dict[str, list[str]] = {}
    for (model, name), group in _BANK_FIELDS.items():
        values = _literal_values(model.model_fields[name].annotation)
        assert values, f"{model.__name__}.{name} is not an enumeration any more"
        out.setdefault(group, []).extend(values)
    return out


def all_codes() -> set[str]:
    """Every code a staff page might show: the bank's, the product's and the pack's."""
    codes = {v for values in bank_enums().values() for v in values}
    codes |= set(CHANNELS) | set(PRESENCE) | set(ROLES)
    codes |= {s.value for s in (*ConversationState, *Sender, *HandoffStatus)}
    codes |= {"zh-Hans", "zh-Hant", "resolved", "unresolved", "follow_up", "anonymous", *PII_TYPES}
    for entries in value_labels().values():
        codes |= set(entries)
    pack = load_pack("retail_bank").path
    labels = yaml.safe_load((pack / "handoff" / "labels.yaml").read_text(encoding="utf-8"))
    for entries in labels.values():
        codes |= set(entries)
    codes |= {p.stem for p in (pack / "nlu" / "intents").glob("*.yaml")}  # labelled or not
    return codes
