"""Stage `emotion`: Plutchik's eight emotions plus neutral, with an intensity, from a trained model.

Configuration (pack.yaml `nlu.pipeline`):

    - name: emotion
      model_dir: var/models/retail_bank            # the `helixdesk nlu train` output (its `emotion/`
                                                   # sub-folder is used), an emotion model folder, or a
                                                   # folder of versions (newest wins)
      model_name: retail_bank/emotion              # used when model_dir is absent: MODEL_ROOT/NAME, where
                                                   # MODEL_ROOT is `model_root` or $HELIXDESK_MODEL_DIR
      if_missing: error                            # or `skip`: log a warning once, leave Turn.emotion empty

`Turn.emotion` is `Emotion(label, intensity, scores)`: `scores` covers all nine labels and sums to 1;
`intensity` in [0, 1] combines the model's confidence with wording cues (see
`helixdesk.nlu.emotion.model`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from helixdesk.domain.turn import Turn
from helixdesk.nlu.emotion.artefacts import EmotionModelError, load_emotion_model, resolve_model_dir
from helixdesk.nlu.emotion.model import EmotionClassifier
from helixdesk.nlu.stage import register_stage
from helixdesk.nlu.text import normalise

log = logging.getLogger(__name__)


def default_model_root() -> Path:
    from helixdesk.settings import Settings

    return Settings().model_dir


@register_stage("emotion")
class EmotionStage:
    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        model_name: str = "retail_bank/emotion",
        model_root: str | Path | None = None,
        if_missing: Literal["error", "skip"] = "error",
        model: EmotionClassifier | None = None,
    ) -> None:
        if if_missing not in ("error", "skip"):
            raise ValueError(f"if_missing must be 'error' or 'skip', not {if_missing!r}")
        self.model_dir = model_dir
        self.model_name = model_name
        self.model_root = model_root
        self.if_missing = if_missing
        self.model = model
        self._missing = False

    @property
    def location(self) -> Path:
        if self.model_dir is not None:
            return Path(self.model_dir)
        root = Path(self.model_root) if self.model_root is not None else default_model_root()
        return root / self.model_name

    def warm_up(self) -> None:
        if self.model is None and not self._missing:
            try:
                self.model = load_emotion_model(self.location)
            except EmotionModelError as e:
                if self.if_missing == "error" or _has_manifest(self.location):
                    raise
                self._missing = True
                log.warning("emotion stage disabled: %s", e.detail)
                return
        if self.model is not None:
            self.model.predict(["预热 warm up"])

    def run(self, turn: Turn) -> Turn:
        if self.model is None:
            self.warm_up()
            if self.model is None:
                return turn
        normalized = turn.normalized or normalise(turn.text)
        return turn.with_(emotion=self.model.predict_one(turn.text, normalized=normalized))

    def run_batch(self, turns: list[Turn]) -> list[Turn]:
        """Score many turns at once (one embedding batch)."""
        if self.model is None:
            self.warm_up()
            if self.model is None:
                return list(turns)
        texts = [t.text for t in turns]
        normalized = [t.normalized or normalise(t.text) for t in turns]
        emotions = self.model.predict(texts, normalized=normalized)
        return [t.with_(emotion=e) for t, e in zip(turns, emotions, strict=True)]


def _has_manifest(location: Path) -> bool:
    try:
        resolve_model_dir(location)
    except EmotionModelError:
        return False
    return True
