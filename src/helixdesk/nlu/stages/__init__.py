"""Built-in NLU stages. Importing this package registers each of them by name."""

from helixdesk.nlu.stages import emotion, entities, intent, language, normalise, risk

__all__ = ["emotion", "entities", "intent", "language", "normalise", "risk"]
