"""Errors of the conversation API (stable codes; documented in docs/api.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, ConflictError, NotFoundError, ValidationFailedError


class ConversationClosedError(ConflictError):
    code = "conversation_closed"


class MessageTooLongError(ValidationFailedError):
    code = "message_too_long"


class EmptyMessageError(ValidationFailedError):
    code = "empty_message"


class CustomerNotFoundError(NotFoundError):
    code = "customer_not_found"


class ConversationNotFoundError(NotFoundError):
    code = "conversation_not_found"


class ConversationForbiddenError(AppError):
    """The credentials given do not open this conversation (another customer's, or another channel's)."""

    code = "conversation_forbidden"
    http_status = 403


class ChannelMismatchError(AppError):
    code = "channel_mismatch"
    http_status = 403


class IllegalTransitionError(ConflictError):
    """The conversation is not in a state it can move from that way (it changed hands meanwhile)."""

    code = "conversation_state_conflict"


class ConversationBusyError(ConflictError):
    """Another turn of this conversation is still being answered (after waiting for it)."""

    code = "conversation_busy"


class InvalidScoreError(ValidationFailedError):
    """A rating's score is not a whole number from 1 to 5."""

    code = "invalid_score"


class CommentTooLongError(ValidationFailedError):
    code = "comment_too_long"


class AlreadyRatedError(ConflictError):
    """The conversation has its rating already (one per conversation; it is not changed)."""

    code = "already_rated"


class NothingToRateError(ConflictError):
    """The customer has not written in this conversation yet."""

    code = "nothing_to_rate"


class RatingClosedError(ConflictError):
    """The conversation closed longer ago than a rating is taken, or its text was removed."""

    code = "rating_closed"


class ImageNotFoundError(NotFoundError):
    """The message has no stored image."""

    code = "image_not_found"


class AudioNotFoundError(NotFoundError):
    """The message has no stored recording."""

    code = "audio_not_found"


class InvalidCursorError(ValidationFailedError):
    """A page cursor (`before`) that this server did not give out, or that was cut or changed."""

    code = "invalid_cursor"
