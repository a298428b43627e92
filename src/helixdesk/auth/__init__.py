"""Staff accounts, roles and sessions; channel API keys and per-conversation tokens."""
