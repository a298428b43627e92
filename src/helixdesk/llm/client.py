"""A client of the OpenAI-compatible chat-completions API (vLLM, Ollama, llama.cpp's server).

    client = ChatClient(base_url="http://127.0.0.1:8000", model="qwen2.5-0.5b-instruct", timeout=8)
    done = client.complete([{"role": "system", "content": ...}, {"role": "user", "content": ...}])
    done.text, done.usage.prompt_tokens, done.seconds

One call is `POST {base}/v1/chat/completions`. With `stream=True` the server answers with
server-sent events (`data: {...}` lines, then `data: [DONE]`): the pieces are joined here, so the
caller always gets the whole answer (the guardrails check it whole before anyone sees it).

Token counts come from the server's `usage` (a stream asks for it with `stream_options`); a server
that sends none gets an estimate (`estimate_tokens`), and the usage says so. The call is given up
once `timeout` seconds have passed since it was sent (checked between the pieces it reads; a server
that stops sending is given up after `timeout` seconds of silence). Environment proxies are not
used: the server is one the bank runs, and nothing goes anywhere else.

The client knows nothing of personal data: `helixdesk.llm.guard` masks what goes out and checks
what comes back. It is the standard library's `urllib` (as the WeChat channel's client), so the
backend adds no dependency.
"""

from __future__ import annotations

import json
import math
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from http.client import HTTPException, HTTPResponse
from typing import Any

from helixdesk.core.errors import AppError

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_CHUNK = 16 * 1024
_MAX_BODY = 4 * 1024 * 1024  # an answer is a few KB; more means something else is talking


class LlmError(AppError):
    """The LLM server could not give an answer; the caller uses its template."""

    code = "llm_failed"
    http_status = 502


class LlmTimeoutError(LlmError):
    code = "llm_timeout"
    http_status = 504


class LlmUnavailableError(LlmError):
    code = "llm_unavailable"
    http_status = 503


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False  # counted here: the server sent no usage


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    usage: Usage
    model: str
    seconds: float
    finish_reason: str | None = None


def estimate_tokens(text: str) -> int:
    """A server-independent estimate: one token per CJK character, one per four other characters."""
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


class ChatClient:
    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        timeout: float,
        max_tokens: int = 512,
        api_key: str | None = None,
        stream: bool = False,
        temperature: float = 0.2,
    ) -> None:
        self.url = base_url.rstrip("/").removesuffix("/v1") + "/v1/chat/completions"
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.stream = stream
        self.temperature = temperature
        self._api_key = api_key
        # No proxies from the environment: the answer comes from the bank's own server or not at all.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def complete(self, messages: Sequence[Mapping[str, str]]) -> Completion:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "stream": self.stream,
        }
        if self.stream:
            body["stream_options"] = {"include_usage": True}
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            self.url,
            data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers=headers,
            method="POST",
        )
        started = time.monotonic()
        deadline = started + self.timeout
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                if self.stream:
                    text, usage, model, finish = _read_stream(response, deadline)
                else:
                    text, usage, model, finish = _read_plain(response, deadline)
        except LlmError:
            raise
        except urllib.error.HTTPError as e:
            raise LlmUnavailableError(f"the LLM server answered HTTP {e.code}") from e
        except TimeoutError as e:
            raise LlmTimeoutError(f"no answer from the LLM server within {self.timeout:g}s") from e
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError | socket.timeout):
                raise LlmTimeoutError(f"no answer from the LLM server within {self.timeout:g}s") from e
            raise LlmUnavailableError(f"the LLM server cannot be reached: {e.reason}") from e
        except (OSError, HTTPException) as e:
            raise LlmUnavailableError(f"the LLM server connection failed: {e}") from e
        seconds = time.monotonic() - started
        if usage is None:
            prompt = sum(estimate_tokens(m["content"]) + 4 for m in messages)
            usage = Usage(prompt, estimate_tokens(text), estimated=True)
        return Completion(
            text=text, usage=usage, model=model or self.model, seconds=seconds, finish_reason=finish
        )


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise LlmTimeoutError("the LLM server's answer took too long")


def _read_plain(response: HTTPResponse, deadline: float) -> tuple[str, Usage | None, str, str | None]:
    chunks: list[bytes] = []
    size = 0
    while True:
        _check_deadline(deadline)
        chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > _MAX_BODY:
            raise LlmError("the LLM server's answer is too large")
        chunks.append(chunk)
    data = _json(b"".join(chunks))
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LlmError("the LLM server's answer has no choices")
    message = choices[0].get("message") or {}
    text = message.get("content") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise LlmError("the LLM server's answer has no text")
    return text, _usage(data.get("usage")), str(data.get("model") or ""), choices[0].get("finish_reason")


def _read_stream(response: HTTPResponse, deadline: float) -> tuple[str, Usage | None, str, str | None]:
    parts: list[str] = []
    usage: Usage | None = None
    model = ""
    finish: str | None = None
    for payload in _events(response, deadline):
        if payload == "[DONE]":
            break
        data = _json(payload.encode("utf-8"))
        model = str(data.get("model") or model)
        usage = _usage(data.get("usage")) or usage
        for choice in data.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            piece = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(piece, str):
                parts.append(piece)
            finish = choice.get("finish_reason") or finish
    return "".join(parts), usage, model, finish


def _events(response: HTTPResponse, deadline: float) -> Iterator[str]:
    """The `data:` payloads of a server-sent event stream, one per event."""
    data: list[str] = []
    size = 0
    while True:
        _check_deadline(deadline)
        raw = response.readline(_MAX_BODY)
        if not raw:
            break
        size += len(raw)
        if size > _MAX_BODY:
            raise LlmError("the LLM server's answer is too large")
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment (keep-alive)
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as e:
        raise LlmError("the LLM server's answer is not JSON") from e
    if not isinstance(data, dict):
        raise LlmError("the LLM server's answer is not a JSON object")
    if isinstance(data.get("error"), dict | str):
        raise LlmError("the LLM server answered with an error")
    return data


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, dict):
        return None
    prompt, completion = value.get("prompt_tokens"), value.get("completion_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt, completion)
