"""Authentication and authorisation errors (stable codes, mapped at the edge)."""

from __future__ import annotations

from helixdesk.core.errors import AppError


class AuthRequiredError(AppError):
    code = "auth_required"
    http_status = 401


class InvalidCredentialsError(AppError):
    code = "invalid_credentials"
    http_status = 401


class AccountLockedError(AppError):
    code = "account_locked"
    http_status = 423


class AccountDisabledError(AppError):
    code = "account_disabled"
    http_status = 403


class InvalidApiKeyError(AppError):
    code = "invalid_api_key"
    http_status = 401


class ForbiddenError(AppError):
    code = "forbidden"
    http_status = 403


class CsrfError(AppError):
    code = "csrf_failed"
    http_status = 403


class WeakPasswordError(AppError):
    code = "weak_password"
    http_status = 422


class UserExistsError(AppError):
    code = "user_exists"
    http_status = 409


class UserNotFoundError(AppError):
    code = "user_not_found"
    http_status = 404
