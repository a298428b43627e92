"""The strategy store's errors, each with its stable code."""

from __future__ import annotations

from helixdesk.core.errors import ConflictError, NotFoundError, ValidationFailedError


class InvalidStrategyError(ValidationFailedError):
    """An edited strategy is not valid, or offers more than the bank's limit (the message says which)."""

    code = "invalid_strategy"


class StrategyNotFoundError(NotFoundError):
    code = "strategy_not_found"


class StrategyChangedError(ConflictError):
    """Someone changed the strategy since the caller read it (its `version` moved on)."""

    code = "strategy_changed"
