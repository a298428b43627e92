"""Intent classification: features, model, artefacts, data loaders and evaluation."""

from helixdesk.nlu.intent.data import OOS_LABEL, Example, load_examples
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig, IntentPrediction, MemberConfig

__all__ = [
    "OOS_LABEL",
    "Example",
    "IntentClassifier",
    "IntentConfig",
    "IntentPrediction",
    "MemberConfig",
    "load_examples",
]
