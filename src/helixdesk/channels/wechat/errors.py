"""Errors of the WeChat callback (stable codes; documented in docs/channels.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, NotFoundError, ValidationFailedError


class WeChatSignatureError(AppError):
    """`signature` / `msg_signature` does not match the token: not from WeChat's servers."""

    code = "wechat_bad_signature"
    http_status = 403


class WeChatAppIdMismatchError(AppError):
    """The decrypted message names another official account / WeCom corp than the configured one."""

    code = "wechat_appid_mismatch"
    http_status = 403


class WeChatDecryptError(ValidationFailedError):
    """The encrypted payload is not valid base64 / AES-256-CBC / PKCS#7 with the EncodingAESKey."""

    code = "wechat_decrypt_failed"
    http_status = 400


class WeChatBadXmlError(ValidationFailedError):
    """The body is not the XML WeChat sends (malformed, a DOCTYPE, a missing field)."""

    code = "wechat_bad_xml"
    http_status = 400


class WeChatNotConfiguredError(NotFoundError):
    """No official account (or WeCom app) is configured for this callback URL."""

    code = "wechat_not_configured"


class WeChatApiError(AppError):
    """WeChat's API refused a call (errcode != 0) or could not be reached."""

    code = "wechat_api_error"
    http_status = 502


class WeChatRefusedError(WeChatApiError):
    """WeChat answered and refused the message for good (out of the 48-hour window, the customer
    unsubscribed, too long, ...): sending it again would be refused again."""

    def __init__(self, message: str, errcode: int) -> None:
        super().__init__(message)
        self.errcode = errcode


class WeChatReplayError(AppError):
    """Plain mode: the callback's timestamp is outside `wechat_timestamp_tolerance_seconds`, or its
    nonce was used before with another body (a signed query string reused)."""

    code = "wechat_replayed"
    http_status = 403
