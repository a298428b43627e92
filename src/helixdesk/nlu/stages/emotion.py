"""Stage `emotion`: Plutchik's eight emotions plus neutral, with an intensity, from a trained model.

Configuration (pack.yaml `nlu.pipeline`):

    - name: emotion
      model_dir: var/models/retail_bank            # the `helixdesk nlu train` output (its `emotion/`
                                                   # sub-folder is used), an emotion model folder, or a
                                                   # folder of versions (newest wins)
      model_name: retail_bank/emotion              # used when model_dir is absent: MODEL_ROOT/NAME, where
                                                   # MODEL_ROOT is `model_root` (the application passes
                                                   # $HELIXDESK_MODEL_DIR); one of the two is required
      if_missing: error                            # or `skip`: log a warning once, leave Turn.emotion empty

`Turn.emotion` is `Emotion(label, intensity, scores)`: `scores` covers all nine labels and sums to 1;
`intensity` in [0, 1] combines the model's confidence with wording cues (see
`helixdesk.nlu.emotion.model`). `Turn.previous_emotion`, when the conversation service gives it (the
emotion of the customer's previous message), is weighed in as context ("那现在怎么办" after "my
card was skimmed" reads as fear).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from helixdesk.core.turn import Turn
from helixdesk.nlu.emotion.artefacts import EmotionModelError, load_emotion_model, resolve_model_dir
from helixdesk.nlu.emotion.model import EmotionClassifier
from helixdesk.nlu.stage import register_stage
from helixdesk.nlu.stages._model import ModelBackedStage
from helixdesk.nlu.text import normalise


@register_stage("emotion")
class EmotionStage(ModelBackedStage[EmotionClassifier]):
    load_error = EmotionModelError

    def __init__(
        self,
        *,
        model_dir: str | Path | None = None,
        model_name: str = "retail_bank/emotion",
        model_root: str | Path | None = None,
        if_missing: Literal["error", "skip"] = "error",
        model: EmotionClassifier | None = None,
    ) -> None:
        super().__init__(
            model_dir=model_dir,
            model_name=model_name,
            model_root=model_root,
            if_missing=if_missing,
            model=model,
        )

    def _load(self, location: Path) -> EmotionClassifier:
        return load_emotion_model(location)

    def _model_present(self, location: Path) -> bool:
        try:
            resolve_model_dir(location)
        except EmotionModelError:
            return False
        return True

    def run(self, turn: Turn) -> Turn:
        model = self._loaded_model()
        if model is None:
            return turn
        normalized = turn.normalized or normalise(turn.text)
        emotion = model.predict([turn.text], normalized=[normalized], previous=[turn.previous_emotion])[0]
        return turn.with_(emotion=emotion)

    def run_batch(self, turns: list[Turn]) -> list[Turn]:
        """Score many turns at once (one embedding batch)."""
        model = self._loaded_model()
        if model is None:
            return list(turns)
        texts = [t.text for t in turns]
        normalized = [t.normalized or normalise(t.text) for t in turns]
        emotions = model.predict(texts, normalized=normalized, previous=[t.previous_emotion for t in turns])
        return [t.with_(emotion=e) for t, e in zip(turns, emotions, strict=True)]
