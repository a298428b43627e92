"""Entity extraction: one module per entity family, combined by `EntityExtractor`.

Every extractor matches on the matching text (see `base.matching_text`), which has exactly the length
of the original message, so spans index `Turn.text` directly. Overlapping candidates are resolved by
`base.resolve`: the longest span wins, then the type priority (a card number beats a phone number).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from helixdesk.core.turn import Entity
from helixdesk.nlu.entities.base import Candidate, matching_text, resolve
from helixdesk.nlu.entities.cards import find_card_numbers, find_card_tails
from helixdesk.nlu.entities.dates import find_dates
from helixdesk.nlu.entities.identity import find_id_numbers
from helixdesk.nlu.entities.merchants import DEFAULT_MERCHANTS_PATH, MerchantGazetteer
from helixdesk.nlu.entities.money import find_currencies, find_money
from helixdesk.nlu.entities.periods import find_periods
from helixdesk.nlu.entities.phone import find_phones
from helixdesk.nlu.entities.transactions import find_transaction_ids

ENTITY_TYPES: tuple[str, ...] = (
    "money",
    "currency",
    "date",
    "card_tail",
    "card_number",
    "id_number",
    "phone",
    "transaction_id",
    "merchant",
    "period",
)

__all__ = ["DEFAULT_MERCHANTS_PATH", "ENTITY_TYPES", "EntityExtractor", "MerchantGazetteer"]


class EntityExtractor:
    """Finds every entity type in one message. Build once; `extract` is thread-safe."""

    def __init__(
        self,
        *,
        merchants: MerchantGazetteer | None = None,
        default_currency: str = "CNY",
        day_first: bool = False,
        types: Collection[str] | None = None,
    ) -> None:
        self.merchants = merchants if merchants is not None else MerchantGazetteer({})
        self.default_currency = default_currency
        self.day_first = day_first
        self.types = frozenset(types) if types is not None else frozenset(ENTITY_TYPES)
        unknown = self.types - set(ENTITY_TYPES)
        if unknown:
            raise ValueError(f"unknown entity types {sorted(unknown)}; known: {', '.join(ENTITY_TYPES)}")

    @classmethod
    def from_pack(
        cls, merchants_path: str | Path = DEFAULT_MERCHANTS_PATH, **options: object
    ) -> EntityExtractor:
        return cls(merchants=MerchantGazetteer.from_yaml(merchants_path), **options)  # type: ignore[arg-type]

    def extract(
        self, text: str, *, normalized: str = "", reference_time: datetime | None = None
    ) -> tuple[Entity, ...]:
        norm = matching_text(text, normalized)
        has_digit = any(map(str.isdigit, norm))  # in C; a generator costs a bytecode loop per character
        want = self.types
        found: list[Candidate] = []
        if has_digit:
            if "card_number" in want:
                found += find_card_numbers(norm)
            if "id_number" in want:
                found += find_id_numbers(norm)
            if "phone" in want:
                found += find_phones(norm)
            if "card_tail" in want:
                found += find_card_tails(norm)
            if "transaction_id" in want:
                found += find_transaction_ids(norm, text)
        if "money" in want:
            found += find_money(norm, default_currency=self.default_currency)
        if "currency" in want:
            found += find_currencies(norm)
        if "date" in want:
            found += find_dates(norm, _reference(reference_time), day_first=self.day_first)
        if "period" in want:
            found += find_periods(norm)
        if "merchant" in want:
            found += self.merchants.find(norm)
        return resolve(found, text)


def _reference(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now()  # the caller's local wall-clock time
    return value.replace(tzinfo=None) if value.tzinfo is not None else value
