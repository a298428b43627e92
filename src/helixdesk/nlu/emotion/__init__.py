"""Emotion detection: Plutchik's eight emotions plus neutral, with an intensity in [0, 1].

`train_emotion_model(out_dir, ...)` trains on the pack's own labelled examples plus XED and writes a
versioned artefact; `load_emotion_model(dir)` reads it back; the `emotion` NLU stage uses it.
"""

from helixdesk.nlu.emotion.artefacts import (
    EmotionModelError,
    TrainResult,
    evaluate,
    load_emotion_model,
    read_manifest,
    train_emotion_model,
)
from helixdesk.nlu.emotion.data import EmotionExample, load_examples, load_xed
from helixdesk.nlu.emotion.model import LABELS, EmotionClassifier, EmotionConfig

__all__ = [
    "LABELS",
    "EmotionClassifier",
    "EmotionConfig",
    "EmotionExample",
    "EmotionModelError",
    "TrainResult",
    "evaluate",
    "load_emotion_model",
    "load_examples",
    "load_xed",
    "read_manifest",
    "train_emotion_model",
]
