"""One error hierarchy, mapped at the edge to JSON, WebSocket close codes or CLI exit codes."""

from __future__ import annotations


class AppError(Exception):
    """An error with a stable machine-readable code.

    `code` never changes once published; clients branch on it. `detail` is for humans.
    """

    code: str = "internal_error"
    http_status: int = 500

    def __init__(self, detail: str, *, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.detail}}


class NotFoundError(AppError):
    code = "not_found"
    http_status = 404


class ValidationFailedError(AppError):
    code = "validation_failed"
    http_status = 422


class ConflictError(AppError):
    code = "conflict"
    http_status = 409


class PayloadTooLargeError(AppError):
    code = "payload_too_large"
    http_status = 413


class RateLimitedError(AppError):
    """Over a rate limit; `retry_after` (seconds) becomes the `Retry-After` header."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ConfigurationError(AppError):
    code = "configuration_error"
    http_status = 500


class StageError(AppError):
    """An exception raised inside a pipeline stage, wrapped with the stage's name."""

    code = "stage_failed"
    http_status = 500

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"stage {stage!r} failed: {detail}")
        self.stage = stage


class UnknownStageError(ConfigurationError):
    code = "unknown_stage"
