"""Which WeChat accounts the settings turn on, and the plain-mode URL check."""

from __future__ import annotations

import pytest

from helixdesk.channels.wechat.channel import WeChatChannel
from helixdesk.channels.wechat.config import accounts_from_settings
from helixdesk.channels.wechat.crypto import signature
from helixdesk.channels.wechat.errors import WeChatBadXmlError, WeChatNotConfiguredError, WeChatSignatureError
from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings
from tests.wechat_sim import AES_KEY, APP_ID, CORP_ID, TOKEN


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


def _channel(accounts):  # type: ignore[no-untyped-def]
    # The URL check and the signature come before any storage: no store, binder or service needed.
    return WeChatChannel(
        accounts=accounts,
        store=None,  # type: ignore[arg-type]
        binder=None,  # type: ignore[arg-type]
        conversations=None,  # type: ignore[arg-type]
        reply_budget_seconds=4.0,
    )


def test_nothing_configured_means_both_accounts_are_off():
    channel = _channel(accounts_from_settings(_settings()))
    assert channel.configured == ()
    for kind in ("mp", "work"):
        with pytest.raises(WeChatNotConfiguredError) as e:
            channel.echo(kind, {"echostr": "1"})
        assert e.value.code == "wechat_not_configured" and e.value.http_status == 404


def test_incomplete_accounts_stop_the_start():
    with pytest.raises(ConfigurationError) as e:
        accounts_from_settings(_settings(wechat_app_id=APP_ID))
    assert e.value.code == "wechat_config"
    with pytest.raises(ConfigurationError):
        accounts_from_settings(_settings(wecom_corp_id=CORP_ID, wecom_token=TOKEN))
    with pytest.raises(ConfigurationError) as e:
        accounts_from_settings(
            _settings(wechat_app_id=APP_ID, wechat_token=TOKEN, wechat_encoding_aes_key="short")
        )
    assert e.value.code == "wechat_bad_aes_key"


def test_plain_and_safe_mode_and_the_api_follow_the_settings():
    plain = accounts_from_settings(_settings(wechat_app_id=APP_ID, wechat_token=TOKEN))["mp"]
    assert plain.crypto is None and plain.api is None
    safe = accounts_from_settings(
        _settings(
            wechat_app_id=APP_ID,
            wechat_token=TOKEN,
            wechat_encoding_aes_key=AES_KEY,
            wechat_app_secret="s",
            wecom_corp_id=CORP_ID,
            wecom_token=TOKEN,
            wecom_encoding_aes_key=AES_KEY,
        )
    )
    assert safe["mp"].crypto is not None and safe["mp"].api is not None
    assert (
        safe["work"].crypto is not None and safe["work"].crypto.app_id == CORP_ID and safe["work"].api is None
    )


def test_plain_mode_url_check_and_refusals():
    channel = _channel(accounts_from_settings(_settings(wechat_app_id=APP_ID, wechat_token=TOKEN)))
    query = {"timestamp": "1409304348", "nonce": "xxxxxx", "echostr": "hello"}
    assert channel.echo("mp", {**query, "signature": signature(TOKEN, "1409304348", "xxxxxx")}) == "hello"
    with pytest.raises(WeChatSignatureError):
        channel.echo("mp", {**query, "signature": signature("other", "1409304348", "xxxxxx")})
    with pytest.raises(WeChatBadXmlError):
        channel.echo("mp", {"timestamp": "1", "nonce": "2", "signature": signature(TOKEN, "1", "2")})


async def test_plain_mode_callback_with_a_bad_signature_is_refused_before_anything_is_read():
    channel = _channel(accounts_from_settings(_settings(wechat_app_id=APP_ID, wechat_token=TOKEN)))
    body = b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>"
    with pytest.raises(WeChatSignatureError):
        await channel.receive("mp", {"timestamp": "1", "nonce": "2", "signature": "0" * 40}, body)


async def test_the_callbacks_are_not_limited_per_ip_but_the_rest_is():
    from types import SimpleNamespace

    from helixdesk.abuse.protocol import Decision
    from helixdesk.edge.ratelimit import RateLimitMiddleware

    class Refuse:
        async def request(self, *, ip: str | None, api_key: str | None) -> Decision:
            return Decision(allowed=False, limit=1, remaining=0, retry_after=30)

    reached: list[str] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        reached.append(scope["path"])

    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    async def receive():  # type: ignore[no-untyped-def]
        return {"type": "http.request", "body": b""}

    state = SimpleNamespace(container=SimpleNamespace(limits=Refuse()))
    middleware = RateLimitMiddleware(app)
    # The social webhooks are signed by their platform likewise (docs/channels.md).
    for path in (
        "/channels/wechat/mp",
        "/channels/wechat/work",
        "/channels/social/weibo",
        "/api/v1/conversations",
    ):
        scope = {
            "type": "http",
            "path": path,
            "app": SimpleNamespace(state=state),
            "client": ("1.2.3.4", 1),
            "headers": [],
            "method": "POST",
        }
        await middleware(scope, receive, send)
    assert reached == ["/channels/wechat/mp", "/channels/wechat/work", "/channels/social/weibo"]
    assert sent[0]["status"] == 429
