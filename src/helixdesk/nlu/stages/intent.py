"""Stage `intent`: the customer's intent and the top-k ranking, from a trained model directory.

Configuration (pack.yaml `nlu.pipeline`):

    - name: intent
      model_dir: var/models/retail_bank/intent   # a model directory, or a folder of versions (newest wins)
      model_name: retail_bank/intent             # used when model_dir is absent: MODEL_ROOT/NAME, where
                                                 # MODEL_ROOT is `model_root` (the application passes
                                                 # $HELIXDESK_MODEL_DIR); one of the two is required
      top_k: 5
      threshold: 0.35                            # optional: override the tuned out-of-scope threshold
      if_missing: error                          # or `skip`: log a warning once, leave Turn.intent empty

Train a model with `helixdesk nlu train --data pack --out DIR`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from helixdesk.core.turn import Turn
from helixdesk.nlu.intent.artefacts import MANIFEST_FILE, ModelArtefactError, load_model
from helixdesk.nlu.intent.model import IntentClassifier
from helixdesk.nlu.stage import register_stage
from helixdesk.nlu.stages._model import ModelBackedStage
from helixdesk.nlu.text import normalise


@register_stage("intent")
class IntentStage(ModelBackedStage[IntentClassifier]):
    load_error = ModelArtefactError

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
        super().__init__(
            model_dir=model_dir,
            model_name=model_name,
            model_root=model_root,
            if_missing=if_missing,
            model=model,
        )
        self.top_k = top_k
        self.threshold = threshold
        self.manifest: dict[str, Any] = {}

    def _load(self, location: Path) -> IntentClassifier:
        model, self.manifest = load_model(location)
        return model

    def _model_present(self, location: Path) -> bool:
        return (location / MANIFEST_FILE).exists()

    def version(self) -> str | None:
        value = self.manifest.get("version")
        return str(value) if value is not None else None

    def run(self, turn: Turn) -> Turn:
        model = self._loaded_model()
        if model is None:
            return turn
        text = turn.normalized or normalise(turn.text)
        (prediction,) = model.predict([text], normalized=True, top_k=self.top_k, threshold=self.threshold)
        return turn.with_(intent=prediction.intent, intent_ranking=prediction.ranking)

    def run_batch(self, turns: list[Turn]) -> list[Turn]:
        """Classify many turns at once (one embedding batch): the fast path for bulk parsing."""
        model = self._loaded_model()
        if model is None:
            return list(turns)
        texts = [t.normalized or normalise(t.text) for t in turns]
        predictions = model.predict(texts, normalized=True, top_k=self.top_k, threshold=self.threshold)
        return [
            t.with_(intent=p.intent, intent_ranking=p.ranking)
            for t, p in zip(turns, predictions, strict=True)
        ]
