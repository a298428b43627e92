"""The platforms' side of the social channel, for tests: webhook requests built and signed as the
two example platforms of docs/config/social-platforms.yaml would (with an HMAC written here, not
the product's), and a local fake platform that receives the outbound messages and checks their
signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "config" / "social-platforms.yaml"
WEIBO_SECRET = "weibo-shared-secret-0123456789"
MESSENGER_SECRET = "messenger-app-secret-abcdef0123456789"


def environ(weibo_url: str, messenger_url: str) -> dict[str, str]:
    """The environment the example file names."""
    return {
        "HELIXDESK_SOCIAL_WEIBO_SECRET": WEIBO_SECRET,
        "HELIXDESK_SOCIAL_WEIBO_OUTBOUND_URL": weibo_url,
        "HELIXDESK_SOCIAL_MESSENGER_SECRET": MESSENGER_SECRET,
        "HELIXDESK_SOCIAL_MESSENGER_OUTBOUND_URL": messenger_url,
    }


def weibo_event(
    event_id: str,
    text: str,
    *,
    kind: str = "private_message",
    author: str = "5612345678",
    name: str = "小明爱理财",
    lang: str | None = "zh_CN",
    status: str | None = None,
    at: str = "Tue Dec 02 10:15:00 +0800 2025",
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id,
        "type": kind,
        "sender": {"id": int(author) if author.isdigit() else author, "screen_name": name},
        "text": text,
        "created_at": at,
    }
    if lang is not None:
        event["lang"] = lang
    if status is not None:
        event["status"] = {"id": status}
    return event


def weibo_headers(body: bytes, *, now: float | None = None) -> dict[str, str]:
    """Base64 HMAC-SHA256 of "<timestamp>.<body>", the timestamp in its own header."""
    timestamp = str(int(time.time() if now is None else now))
    digest = hmac.new(WEIBO_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return {
        "X-Weibo-Signature": base64.b64encode(digest).decode(),
        "X-Weibo-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


def weibo_request(events: list[dict[str, Any]], *, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    """A Weibo-like batch, signed."""
    body = json.dumps({"events": events}, ensure_ascii=False).encode()
    return body, weibo_headers(body, now=now)


def messenger_message(mid: str, psid: str, text: str, *, echo: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message["is_echo"] = True
    return {
        "sender": {"id": psid},
        "recipient": {"id": "PAGE-1"},
        "timestamp": 1764641700000,
        "message": message,
    }


def messenger_headers(body: bytes) -> dict[str, str]:
    """Hex HMAC-SHA256 of the body, as "sha256=..."."""
    digest = hmac.new(MESSENGER_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def messenger_request(messaging: list[list[dict[str, Any]]]) -> tuple[bytes, dict[str, str]]:
    """A Messenger-like batch, one entry per inner list, signed."""
    body = json.dumps(
        {
            "object": "page",
            "entry": [{"id": "PAGE-1", "time": 1764641700000, "messaging": m} for m in messaging],
        },
        ensure_ascii=False,
    ).encode()
    return body, messenger_headers(body)


@dataclass
class FakePlatform:
    """Records what Helixdesk sends; `fail_next` answers the next requests with `fail_status`
    (503: busy, worth a retry; 400: a refusal for good). Every request's signature is checked
    with the platform's secret and scheme: a bad one is answered 401 and recorded in `bad`."""

    received: list[dict[str, Any]] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
    url: str = ""
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, n: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.received) >= n, timeout=timeout)
            return list(self.received)


def _signed_well(path: str, headers: Any, raw: bytes) -> bool:
    if path.endswith("/weibo"):
        ts = headers.get("X-Weibo-Timestamp", "")
        digest = hmac.new(WEIBO_SECRET.encode(), ts.encode() + b"." + raw, hashlib.sha256).digest()
        return hmac.compare_digest(headers.get("X-Weibo-Signature", ""), base64.b64encode(digest).decode())
    digest = hmac.new(MESSENGER_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("X-Hub-Signature-256", ""), f"sha256={digest}")


@contextmanager
def fake_platform() -> Iterator[FakePlatform]:
    """Serves `{url}/weibo` and `{url}/messenger` on a free port."""
    fake = FakePlatform()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _answer(self, status: int) -> None:
            raw = b'{"ok": true}' if status < 300 else b'{"error": "no"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            with fake._cond:
                if not _signed_well(self.path, self.headers, raw):
                    fake.bad.append(self.path)
                    self._answer(401)
                    return
                if fake.fail_next:
                    fake.fail_next -= 1
                    self._answer(fake.fail_status)
                    return
                fake.received.append(
                    {
                        "path": self.path,
                        "idempotency_key": self.headers.get("Idempotency-Key"),
                        "body": json.loads(raw),
                    }
                )
                fake._cond.notify_all()
            self._answer(200)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
