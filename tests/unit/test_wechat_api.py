"""The customer-service message API client against a local fake of WeChat's server: the access
token fetched once and reused, fetched again when WeChat says it is invalid, refusals raised."""

from __future__ import annotations

import pytest

from helixdesk.channels.wechat.api import ApiAccount, WeChatApi
from helixdesk.channels.wechat.errors import WeChatApiError
from tests.wechat_sim import fake_wechat_api


def test_the_token_is_cached_and_fetched_again_when_invalid():
    with fake_wechat_api() as fake:
        api = WeChatApi(ApiAccount("mp", "wxAPP", "secret", fake.url))
        api.send_text("o1", "一")
        api.send_text("o1", "二")
        assert len(fake.token_calls) == 1 and fake.tokens_seen == ["TOKEN-1", "TOKEN-1"]
        fake.invalid_tokens.add("TOKEN-1")  # WeChat revoked it (another server fetched a new one)
        api.send_text("o1", "三")
        assert len(fake.token_calls) == 2 and fake.tokens_seen[-2:] == ["TOKEN-1", "TOKEN-2"]
        assert [m["text"]["content"] for m in fake.messages] == ["一", "二", "三"]
        assert fake.token_calls[0] == {
            "path": "/cgi-bin/token",
            "grant_type": "client_credential",
            "appid": "wxAPP",
            "secret": "secret",
        }


def test_wecom_uses_gettoken_and_message_send_with_the_agent_id():
    with fake_wechat_api() as fake:
        api = WeChatApi(ApiAccount("work", "wwCORP", "s", fake.url, agent_id=1000002))
        api.send_text("zhangsan", "您好")
        assert (
            fake.token_calls[0]["path"] == "/cgi-bin/gettoken" and fake.token_calls[0]["corpid"] == "wwCORP"
        )
        assert fake.messages == [
            {
                "path": "/cgi-bin/message/send",
                "touser": "zhangsan",
                "msgtype": "text",
                "agentid": 1000002,
                "text": {"content": "您好"},
            }
        ]


def test_refusals_and_an_unreachable_server_raise_with_their_code():
    with fake_wechat_api() as fake:
        api = WeChatApi(ApiAccount("mp", "wxAPP", "secret", fake.url))
        fake.fail_next = 1
        with pytest.raises(WeChatApiError) as e:
            api.send_text("o1", "x")
        assert e.value.code == "wechat_api_error" and "45015" in e.value.detail
        url = fake.url
    with pytest.raises(WeChatApiError):
        WeChatApi(ApiAccount("mp", "wxAPP", "secret", url), timeout=2).send_text("o1", "x")


def test_long_texts_are_split_within_wechats_limit():
    from helixdesk.channels.wechat.channel import TEXT_LIMIT, split_text

    assert split_text("短") == ["短"]
    text = "\n".join(f"第{i}行：信用卡年费可以通过消费次数减免。" for i in range(200))
    parts = split_text(text)
    assert len(parts) > 1 and all(len(p.encode()) <= TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == text  # cut at line breaks, nothing lost
    no_breaks = "年" * 3000
    assert "".join(split_text(no_breaks)) == no_breaks
    assert all(len(p.encode()) <= TEXT_LIMIT for p in split_text(no_breaks))
