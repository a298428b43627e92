"""Social channel figures: how long the webhook takes to handle a signed request through the real
app, for a direct message (signature, mapping, the bot's turn) and a public comment (signature,
mapping, NLU, a masked feedback item), next to the same questions over the web API. The two
example platforms of docs/config/social-platforms.yaml are used, with a local platform receiving
the replies.

    PYTHONPATH=src .venv/bin/python bench/social_bench.py --model-dir var/models

In process (FastAPI's TestClient), SQLite, the demo bank and the pack's FAQ; prints p50 and p95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helixdesk.actions.rates import RateService
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.channels.social.config import Platform
from helixdesk.conversations.models import Conversation, Message
from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.edge.app import create_app
from helixdesk.knowledge.ingest import ingest
from helixdesk.nlu.embeddings import embed

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "config" / "social-platforms.yaml"
QUESTIONS = [
    "信用卡年费怎么收？",
    "怎么申请信用卡分期？",
    "What is the annual fee of the credit card?",
    "How do I open a savings account?",
    "忘记密码怎么办",
    "What are your opening hours?",
]
COMMENTS = [
    "你们APP转账一直失败，客服电话也打不通",
    "信用卡年费太贵了，能不能免",
    "The app keeps crashing when I log in",
    "網銀登錄一直提示系統繁忙",
    "Refund review takes far too long",
    "理财产品收益怎么又降了",
]


@contextmanager
def platform_server() -> Iterator[tuple[str, list[int]]]:
    """A local platform that accepts every outbound message and counts them."""
    received: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            received.append(1)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _app(url: str, model_dir: Path) -> TestClient:
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(20, seed=11))
    ingest(sessions, [], embed=embed, pack="retail_bank")
    RateService(sessions=sessions).seed_demo(as_of=datetime.now(UTC))
    engine.dispose()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        model_dir=model_dir,
        nlu_process=False,
        social_platforms_file=EXAMPLE,
        rate_limit_ip_per_minute=0,
        rate_limit_conversation_messages_per_minute=0,
        rate_limit_api_key_per_minute=0,
    )
    return TestClient(create_app(settings))


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def round_trips(client: TestClient, rounds: int, tag: str) -> dict[str, list[float]]:
    container = client.app.state.container  # type: ignore[attr-defined]
    weibo: Platform = container.social.platform("weibo")
    messenger: Platform = container.social.platform("messenger")
    _, key = container.api_keys.create(name="bench", channel="web")

    def post(platform: Platform, payload: dict[str, object]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = platform.scheme.sign(platform.secret, body, time.time())
        r = client.post(f"/channels/social/{platform.name}", content=body, headers=headers)
        assert r.status_code == 200, r.text
        counts = r.json()
        assert counts["messages"] + counts["comments"] == 1, counts

    ms: dict[str, list[float]] = {
        "weibo DM": [],
        "messenger DM": [],
        "weibo comment": [],
        "web API message": [],
    }
    for r in range(rounds):
        conv = client.post(
            "/api/v1/conversations", json={"channel": "web"}, headers={"X-Api-Key": key}
        ).json()
        for i, (question, comment) in enumerate(zip(QUESTIONS, COMMENTS, strict=True)):
            event = f"{tag}-{r}-{i}"
            dm = {
                "id": f"m{event}",
                "type": "private_message",
                "sender": {"id": f"u{tag}{r}"},
                "text": question,
            }
            ms["weibo DM"].append(_timed(lambda dm=dm: post(weibo, {"events": [dm]})))
            msg = {
                "sender": {"id": f"p{tag}{r}"},
                "recipient": {"id": "PAGE"},
                "timestamp": int(time.time() * 1000),
                "message": {"mid": f"mid.{event}", "text": question},
            }
            ms["messenger DM"].append(
                _timed(lambda msg=msg: post(messenger, {"object": "page", "entry": [{"messaging": [msg]}]}))
            )
            c = {"id": f"c{event}", "type": "comment", "sender": {"id": "x"}, "text": comment}
            ms["weibo comment"].append(_timed(lambda c=c: post(weibo, {"events": [c]})))
            ms["web API message"].append(
                _timed(
                    lambda q=question, cid=conv["id"]: client.post(
                        f"/api/v1/conversations/{cid}/messages",
                        json={"text": q},
                        headers={"X-Api-Key": key},
                    ).raise_for_status()
                )
            )
    return ms


def report(ms: dict[str, list[float]]) -> None:
    for name, values in ms.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"{name}: {len(values)} requests, p50 {statistics.median(values):.1f} ms, p95 {p95:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", default="var/models", help="trained NLU models (helixdesk nlu train)")
    parser.add_argument("--rounds", type=int, default=10, help="authors, each sending every question once")
    args = parser.parse_args()
    with platform_server() as (url, received), tempfile.TemporaryDirectory() as tmp:
        os.environ.update(
            {
                "HELIXDESK_SOCIAL_WEIBO_SECRET": "bench-weibo-secret-0123456789",
                "HELIXDESK_SOCIAL_WEIBO_OUTBOUND_URL": f"{url}/weibo",
                "HELIXDESK_SOCIAL_MESSENGER_SECRET": "bench-messenger-secret-0123456789",
                "HELIXDESK_SOCIAL_MESSENGER_OUTBOUND_URL": f"{url}/messenger",
            }
        )
        with _app(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(args.model_dir).resolve()) as client:
            print("warm-up:")
            round_trips(client, 1, "w")
            print("measured:")
            report(round_trips(client, args.rounds, "m"))
            done = time.perf_counter()
            expected = _bot_replies(client)
            while len(received) < expected and time.perf_counter() - done < 60:
                time.sleep(0.05)
            print(
                f"bot replies delivered to the platform: {len(received)} of {expected}, "
                f"the last {time.perf_counter() - done:.2f} s after the last request"
            )


def _bot_replies(client: TestClient) -> int:
    with reading(client.app.state.container.sessions) as s:  # type: ignore[attr-defined]
        return int(
            s.scalar(
                select(func.count())
                .select_from(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Conversation.channel == "social", Message.sender == "bot")
            )
            or 0
        )


if __name__ == "__main__":
    main()
