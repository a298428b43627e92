"""Stage `intent`: the customer's intent and the top-k ranking, from a trained model directory.

Configuration (pack.yaml `nlu.pipeline`):

    - name: intent
      model_dir: var/models/retail_bank/intent   # a model directory, or a folder of versions (newest wins)
      model_name: retail_bank/intent             # used when model_dir is absent: MODEL_ROOT/NAME, where
                                                 # MODEL_ROOT is `model_root` or $HELIXDESK_MODEL_DIR
      top_k: 5
      threshold: 0.35                            # optional: override the tuned out-of-scope threshold
      if_missing: error                          # or `skip`: log a warning once, leave Turn.intent empty

Train a model with `helixdesk nlu train --data pack --out DIR`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

from helixdesk.domain.turn import Turn
from helixdesk.nlu.intent.artefacts import ModelArtefactError, load_model
from helixdesk.nlu.intent.model import IntentClassifier
from helixdesk.nlu.stage import register_stage
from helixdesk.nlu.text import normalise

log = logging.getLogger(__name__)


def default_model_root() -> Path:
    from helixdesk.settings import Settings

    return Settings().model_dir


@register_stage("intent")
class IntentStage:
    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        model_name: str = "retail_bank/intent",
        model_root: str | Path | None = None,
        top_k: int = 5,
        threshold: float | None = None,
        if_missing: Literal["error", "skip"] = "error",
        model: IntentClassifier | None = None,
    ) -> None:
        if if_missing not in ("error", "skip"):
            raise ValueError(f"if_missing must be 'error' or 'skip', not {if_missing!r}")
        self.model_dir = model_dir
        self.model_name = model_name
        self.model_root = model_root
        self.if_missing = if_missing
        self._missing = False
        self.top_k = top_k
        self.threshold = threshold
        self.model = model
        self.manifest: dict[str, Any] = {}

    @property
    def location(self) -> Path:
        if self.model_dir is not None:
            return Path(self.model_dir)
        root = Path(self.model_root) if self.model_root is not None else default_model_root()
        return root / self.model_name

    def warm_up(self) -> None:
        if self.model is None and not self._missing:
            try:
                self.model, self.manifest = load_model(self.location)
            except ModelArtefactError as e:
                if self.if_missing == "error" or (self.location / "manifest.json").exists():
                    raise
                self._missing = True
                log.warning("intent stage disabled: %s", e.detail)
                return
        if self.model is not None:
            self.model.predict(["预热 warm up"])

    def run(self, turn: Turn) -> Turn:
        if self.model is None:
            self.warm_up()
            if self.model is None:
                return turn
        text = turn.normalized or normalise(turn.text)
        (prediction,) = self.model.predict(
            [text], normalized=True, top_k=self.top_k, threshold=self.threshold
        )
        return turn.with_(intent=prediction.intent, intent_ranking=prediction.ranking)

    def run_batch(self, turns: list[Turn]) -> list[Turn]:
        """Classify many turns at once (one embedding batch): the fast path for bulk parsing."""
        if self.model is None:
            self.warm_up()
            if self.model is None:
                return list(turns)
        texts = [t.normalized or normalise(t.text) for t in turns]
        predictions = self.model.predict(texts, normalized=True, top_k=self.top_k, threshold=self.threshold)
        return [
            t.with_(intent=p.intent, intent_ranking=p.ranking)
            for t, p in zip(turns, predictions, strict=True)
        ]
