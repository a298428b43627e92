"""The public API v1: conversations (REST and WebSocket), NLU, exchange rates."""
