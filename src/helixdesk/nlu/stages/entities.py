"""Stage `entities`: money, currency, date, card and id numbers, phone, transaction id, merchant, period."""

from __future__ import annotations

from pathlib import Path

from helixdesk.core.turn import Turn
from helixdesk.nlu.entities import DEFAULT_MERCHANTS_PATH, EntityExtractor, MerchantGazetteer
from helixdesk.nlu.stage import register_stage


@register_stage("entities")
class EntitiesStage:
    """Fills `Turn.entities`, with spans into `Turn.text`; dates resolve against `Turn.reference_time`.

    Options: `merchants_path` (the gazetteer YAML), `default_currency` for amounts without one
    ("两千块", "2k"), `day_first` to read "5/3" as 5 March, and `types` to restrict what is extracted.
    """

    def __init__(
        self,
        *,
        merchants_path: str | Path = DEFAULT_MERCHANTS_PATH,
        default_currency: str = "CNY",
        day_first: bool = False,
        types: list[str] | None = None,
    ) -> None:
        self.merchants_path = Path(merchants_path)
        self.default_currency = default_currency
        self.day_first = day_first
        self.types = types
        self._extractor: EntityExtractor | None = None

    def warm_up(self) -> None:
        if self._extractor is None:
            self._extractor = EntityExtractor(
                merchants=MerchantGazetteer.from_yaml(self.merchants_path),
                default_currency=self.default_currency,
                day_first=self.day_first,
                types=self.types,
            )
            self._extractor.extract("预热 warm up 2024-03-05 ¥88")

    def run(self, turn: Turn) -> Turn:
        if self._extractor is None:
            self.warm_up()
        assert self._extractor is not None
        entities = self._extractor.extract(
            turn.text, normalized=turn.normalized, reference_time=turn.reference_time
        )
        return turn.with_(entities=entities)
