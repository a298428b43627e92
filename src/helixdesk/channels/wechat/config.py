"""The configured accounts, from the settings (docs/configuration.md, WeChat)."""

from __future__ import annotations

import logging

from pydantic import SecretStr

from helixdesk.channels.wechat.api import ApiAccount, WeChatApi
from helixdesk.channels.wechat.channel import WeChatAccount
from helixdesk.channels.wechat.crypto import MessageCrypto
from helixdesk.channels.wechat.replay import MemoryNonces, NonceMemory, RedisNonces, ReplayGuard
from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings

log = logging.getLogger(__name__)


def _s(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def accounts_from_settings(settings: Settings) -> dict[str, WeChatAccount]:
    """The official account when its app id and token are set; the WeCom app when its corp id, token
    and EncodingAESKey are set (WeCom callbacks are always encrypted)."""
    accounts: dict[str, WeChatAccount] = {}
    token, aes, secret = (
        _s(settings.wechat_token),
        _s(settings.wechat_encoding_aes_key),
        _s(settings.wechat_app_secret),
    )
    if settings.wechat_app_id:
        if not token:
            raise ConfigurationError(
                "HELIXDESK_WECHAT_APP_ID is set without HELIXDESK_WECHAT_TOKEN", code="wechat_config"
            )
        if not aes:
            log.warning(
                "the WeChat official account is in plain mode (no HELIXDESK_WECHAT_ENCODING_AES_KEY): "
                "messages arrive unencrypted and their signature does not cover the body; callbacks "
                "are checked against replays only by their timestamp and nonce. Use safe mode "
                "(安全模式) with an EncodingAESKey (docs/channels.md)"
            )
        accounts["mp"] = WeChatAccount(
            kind="mp",
            app_id=settings.wechat_app_id,
            token=token,
            crypto=MessageCrypto(token=token, encoding_aes_key=aes, app_id=settings.wechat_app_id)
            if aes
            else None,
            api=WeChatApi(ApiAccount("mp", settings.wechat_app_id, secret, settings.wechat_api_base))
            if secret
            else None,
        )
    token, aes, secret = (
        _s(settings.wecom_token),
        _s(settings.wecom_encoding_aes_key),
        _s(settings.wecom_secret),
    )
    if settings.wecom_corp_id:
        if not token or not aes:
            raise ConfigurationError(
                "HELIXDESK_WECOM_CORP_ID needs HELIXDESK_WECOM_TOKEN and HELIXDESK_WECOM_ENCODING_AES_KEY",
                code="wechat_config",
            )
        accounts["work"] = WeChatAccount(
            kind="work",
            app_id=settings.wecom_corp_id,
            token=token,
            crypto=MessageCrypto(token=token, encoding_aes_key=aes, app_id=settings.wecom_corp_id),
            api=WeChatApi(
                ApiAccount(
                    "work", settings.wecom_corp_id, secret, settings.wecom_api_base, settings.wecom_agent_id
                )
            )
            if secret
            else None,
        )
    return accounts


def replay_guard_from_settings(settings: Settings) -> ReplayGuard | None:
    """The replay check of plain-mode callbacks: only for an official account without an
    EncodingAESKey (WeCom is always encrypted). Nonces in Redis when the event bus is Redis."""
    if not settings.wechat_app_id or settings.wechat_encoding_aes_key is not None:
        return None
    nonces: NonceMemory = (
        RedisNonces(url=settings.redis_url, prefix=f"{settings.redis_stream}:wechat-nonce:")
        if settings.event_bus == "redis"
        else MemoryNonces()
    )
    return ReplayGuard(tolerance_seconds=settings.wechat_timestamp_tolerance_seconds, nonces=nonces)
