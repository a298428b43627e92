"""The chat-completions client against a real local HTTP server (tests/llm_fake.py): plain and
streamed answers, the server's usage or an estimate, and every way a call can fail."""

from __future__ import annotations

import socket

import pytest

from helixdesk.llm.client import ChatClient, LlmError, LlmTimeoutError, LlmUnavailableError, estimate_tokens
from tests.llm_fake import MODEL, FakeLlm

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "您好，查一下余额"}]
PROMPT_CHARS = len("Be brief.") + len("您好，查一下余额")


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeLlm() as server:
        yield server


def client(fake: FakeLlm, **options: object) -> ChatClient:
    return ChatClient(base_url=fake.url, model="local", timeout=options.pop("timeout", 5.0), **options)  # type: ignore[arg-type]


def test_a_plain_answer_with_the_servers_usage(fake: FakeLlm) -> None:
    fake.script("您的可用余额为 1,000.00 元。")
    done = client(fake, max_tokens=64, api_key="k-123").complete(MESSAGES)
    assert done.text == "您的可用余额为 1,000.00 元。"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.estimated) == (
        PROMPT_CHARS,
        len(done.text),
        False,
    )
    assert done.model == MODEL and done.finish_reason == "stop" and done.seconds > 0
    body = fake.requests[0]
    assert body["model"] == "local" and body["max_tokens"] == 64 and body["stream"] is False
    assert body["messages"] == MESSAGES


def test_a_streamed_answer_is_joined_and_asks_for_usage(fake: FakeLlm) -> None:
    fake.script("Your balance is CNY 1,000.00, as of today.")
    done = client(fake, stream=True).complete(MESSAGES)
    assert done.text == "Your balance is CNY 1,000.00, as of today."
    assert done.usage.estimated is False and done.usage.completion_tokens == len(done.text)
    assert fake.requests[0]["stream"] is True
    assert fake.requests[0]["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("stream", [False, True])
def test_without_usage_the_tokens_are_estimated(fake: FakeLlm, stream: bool) -> None:
    fake.script("好的，马上为您处理。", usage=False)
    done = client(fake, stream=stream).complete(MESSAGES)
    assert done.usage.estimated is True
    assert done.usage.completion_tokens == estimate_tokens("好的，马上为您处理。") == 10
    assert done.usage.prompt_tokens == sum(estimate_tokens(m["content"]) + 4 for m in MESSAGES)


def test_a_server_that_does_not_answer_in_time_is_a_timeout(fake: FakeLlm) -> None:
    fake.script("too late", hold=True)
    with pytest.raises(LlmTimeoutError) as e:
        client(fake, timeout=0.3).complete(MESSAGES)
    assert e.value.code == "llm_timeout"


def test_http_errors_and_an_unreachable_server_are_unavailable(fake: FakeLlm) -> None:
    fake.script("x", status=503)
    with pytest.raises(LlmUnavailableError):
        client(fake).complete(MESSAGES)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LlmUnavailableError):
        ChatClient(base_url=f"http://127.0.0.1:{port}", model="m", timeout=2).complete(MESSAGES)


def test_the_base_url_may_name_v1_or_not(fake: FakeLlm) -> None:
    assert (
        ChatClient(base_url=f"{fake.url}/v1/", model="m", timeout=1).url == f"{fake.url}/v1/chat/completions"
    )
    assert client(fake).url == f"{fake.url}/v1/chat/completions"


def test_an_answer_that_is_not_a_completion_is_an_error(fake: FakeLlm) -> None:
    for raw in (b"<html>gateway</html>", b'{"choices": []}', b'{"error": {"message": "model not loaded"}}'):
        fake.script("", raw=raw)
        with pytest.raises(LlmError) as e:
            client(fake).complete(MESSAGES)
        assert e.value.code == "llm_failed"
    fake.script("")  # an empty answer is still an answer: the guardrails refuse it, not the client
    assert client(fake).complete(MESSAGES).text == ""
