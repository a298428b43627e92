"""Domain packs: a pack holds a domain's intents, training data, FAQ, templates and NLU configuration."""
