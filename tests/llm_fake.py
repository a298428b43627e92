"""A small local stand-in for an OpenAI-compatible chat-completions server, for tests and the bench.

    with FakeLlm() as fake:                     # a real HTTP server on a free port, in a thread
        settings = ...(llm_base_url=fake.url)
        fake.script("您好！余额为 1,000 元。")    # the next answer (else: the default answers below)
        fake.script("...", hold=True)           # the next request waits until fake.release()
        fake.script("...", use="summary")       # the next answer to a summary request
        fake.requests                           # every request body, as JSON, in order

It answers `POST /v1/chat/completions` plainly, or as server-sent events when the body says
`"stream": true` (with a usage chunk when `stream_options.include_usage` is set). Usage counts are
characters, so a test can compute them: prompt = the characters of every message's content,
completion = the characters of the answer. `usage=False` leaves usage out.

Without a script it answers like a well-behaved model, by what the instructions ask:
- rewording: the reply given, after a short friendly opening ("好的，" / "Sure. ");
- composing: the first passage, citing it [1];
- summarising: one line about the customer's request;
- a QA second opinion: `{"score": 88, "concerns": []}`.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "fake-0.5b-instruct"


@dataclass(frozen=True)
class Scripted:
    text: str | Callable[[dict[str, Any]], str]
    usage: bool = True
    hold: bool = False  # wait for release() before answering (a server that does not answer in time)
    status: int = 200
    raw: bytes | None = None  # sent as the body as it is (a server that answers something else)
    use: str | None = None  # only for a request of this use (reword, compose, summary, qa_second_opinion)


_USES = {
    "You reword": "reword",
    "You answer": "compose",
    "You summarise": "summary",
    "You review": "qa_second_opinion",
}


def use_of(body: dict[str, Any]) -> str | None:
    system = str(body["messages"][0]["content"])
    return next((use for start, use in _USES.items() if system.startswith(start)), None)


def default_answer(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    if system.startswith("You reword"):
        draft = user.split("The reply to reword:\n", 1)[1]
        return ("Sure. " if "Write in English" in system else "好的，") + draft
    if system.startswith("You answer"):
        passages = user.split("Passages:\n", 1)[1]
        first = passages.split("\n\n[2] ", 1)[0].removeprefix("[1] ")
        return f"{first} [1]"
    if system.startswith("You summarise"):
        return (
            "Customer needs a person to help." if "Write in English" in system else "客户需要人工协助处理。"
        )
    if system.startswith("You review"):
        return '{"score": 88, "concerns": []}'
    return "OK"


class FakeLlm:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []  # every request body as received, byte for byte
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._released = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw)
                with fake._lock:
                    fake.raw.append(raw)
                    fake.requests.append(body)
                    step = fake._next(use_of(body))
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                if step.hold:
                    fake._released.wait()
                if step.status != 200:
                    self.send_error(step.status)
                    return
                if step.raw is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(step.raw)
                    return
                text = step.text(body) if callable(step.text) else step.text
                usage = {
                    "prompt_tokens": sum(len(m["content"]) for m in body["messages"]),
                    "completion_tokens": len(text),
                }
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                if body.get("stream"):
                    self._stream(text, usage if step.usage and _wants_usage(body) else None)
                else:
                    self._plain(text, usage if step.usage else None)

            def _plain(self, text: str, usage: dict[str, int] | None) -> None:
                data: dict[str, Any] = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "model": MODEL,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                }
                if usage is not None:
                    data["usage"] = usage
                raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _stream(self, text: str, usage: dict[str, int] | None) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [text[i : i + 3] for i in range(0, len(text), 3)]
                for i, piece in enumerate(pieces):
                    delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                    self._event({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
                self.wfile.write(b": keep-alive\n\n")
                self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if usage is not None:
                    self._event({"choices": [], "usage": usage})
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, data: dict[str, Any]) -> None:
                chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": MODEL, **data}
                self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                self.wfile.flush()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-llm", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(
        self,
        text: str | Callable[[dict[str, Any]], str],
        *,
        usage: bool = True,
        hold: bool = False,
        status: int = 200,
        raw: bytes | None = None,
        use: str | None = None,
    ) -> None:
        with self._lock:
            self._script.append(Scripted(text, usage=usage, hold=hold, status=status, raw=raw, use=use))

    def _next(self, use: str | None) -> Scripted:
        """The first scripted answer for a request of `use` (taken off the script), or the default."""
        for i, step in enumerate(self._script):
            if step.use is None or step.use == use:
                del self._script[i]
                return step
        return Scripted(default_answer)

    def clear(self) -> None:
        """Forget the scripted answers not given yet."""
        with self._lock:
            self._script.clear()

    def release(self) -> None:
        self._released.set()

    def received(self) -> str:
        """Every request body as received, decoded, and every message's content as the model reads
        it (JSON escapes undone)."""
        contents = [m["content"] for body in self.requests for m in body["messages"]]
        return "\n".join([*(r.decode("utf-8") for r in self.raw), *contents])

    def __enter__(self) -> FakeLlm:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timed out) before the answer: nothing to report


def _wants_usage(body: dict[str, Any]) -> bool:
    return bool((body.get("stream_options") or {}).get("include_usage"))


def main() -> None:
    """`python -m tests.llm_fake`: serve the default answers on a free port (printed) until stdin closes;
    the bench runs it in a process of its own, so the server does not share the measured interpreter."""
    import sys

    with FakeLlm() as fake:
        print(fake.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
