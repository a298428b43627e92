"""Errors of the human side (stable codes; documented in docs/agents.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, ConflictError, NotFoundError


class HandoffNotFoundError(NotFoundError):
    code = "handoff_not_found"


class AlreadyClaimedError(ConflictError):
    code = "already_claimed"


class AgentAtCapacityError(ConflictError):
    code = "agent_at_capacity"


class NotYourConversationError(AppError):
    code = "not_your_conversation"
    http_status = 403


class QueueNotAllowedError(AppError):
    code = "queue_not_allowed"
    http_status = 403


class NothingToClaimError(NotFoundError):
    code = "queue_empty"


class AgentNotOnlineError(ConflictError):
    """Only a person who is online takes conversations (claim, take next)."""

    code = "agent_offline"


class AgentAwayError(AgentNotOnlineError):
    code = "agent_away"


class ColleagueUnavailableError(ConflictError):
    """A conversation is transferred by name only to a colleague who is online."""

    code = "colleague_unavailable"


class SupervisorOnlyError(AppError):
    """Reassigning a conversation someone else handles, whispering, deciding on goodwill: supervisors."""

    code = "supervisor_only"
    http_status = 403


class NotWithAPersonError(ConflictError):
    """Reassign or whisper: the conversation is neither waiting for nor with a person."""

    code = "not_with_a_person"


class GoodwillOverLimitError(AppError):
    """A goodwill amount above the pack's limits (per conversation, per customer in a window)."""

    code = "goodwill_over_limit"
    http_status = 422
