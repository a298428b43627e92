"""WeChat channel figures: the message crypto, a callback's round trip through the real app
(signature, decryption, the bot's turn, the encrypted passive reply) next to the same question
over the web API, and pictures: fetched from a local fake of WeChat's API, read by the OCR and
answered (how many within the callback's reply budget).

    PYTHONPATH=src .venv/bin/python bench/wechat_bench.py --model-dir var/models

In process (FastAPI's TestClient), SQLite, the demo bank and the pack's FAQ; prints medians.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from helixdesk.actions.rates import RateService
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.channels.wechat import xml as wx
from helixdesk.channels.wechat.crypto import MessageCrypto
from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.knowledge.ingest import ingest
from helixdesk.nlu.embeddings import embed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ocr_images import draw_lines
from tests.wechat_sim import FakeWeChatApi, fake_wechat_api, media_xml

APP_ID, TOKEN = "wx5823bf96d3bd56c7", "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
QUESTIONS = [
    "信用卡年费怎么收？",
    "怎么申请信用卡分期？",
    "What is the annual fee of the credit card?",
    "How do I open a savings account?",
    "忘记密码怎么办",
    "What are your opening hours?",
]


def crypto_figures(n: int) -> None:
    crypto = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    message = wx.text_reply(to_user="o" * 28, from_user="gh_x", create_time=1, content="信用卡年费" * 20)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            enc = crypto.encrypt(message)
            sig = crypto.msg_signature("1", "n", enc)
            crypto.check(sig, "1", "n", enc)
            crypto.decrypt(enc)
        runs.append((time.perf_counter() - start) / n * 1e6)
    print(
        f"crypto: encrypt + sign + check + decrypt of a {len(message.encode())}-byte reply: "
        f"{statistics.median(runs):.1f} µs (median of 5 runs of {n})"
    )


def _app(url: str, model_dir: Path, api_base: str) -> TestClient:
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
        wechat_app_id=APP_ID,
        wechat_token=TOKEN,
        wechat_encoding_aes_key=AES_KEY,
        wechat_app_secret="bench-secret",
        wechat_api_base=api_base,
        rate_limit_ip_per_minute=0,
        rate_limit_conversation_messages_per_minute=0,
        rate_limit_api_key_per_minute=0,
    )
    return TestClient(create_app(settings))


def round_trips(client: TestClient, rounds: int) -> None:
    crypto = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    _, key = client.app.state.container.api_keys.create(name="bench", channel="web")  # type: ignore[attr-defined]
    wechat_ms: list[float] = []
    web_ms: list[float] = []
    passive = 0
    for r in range(rounds):
        openid = f"oBench{r:022d}"
        conv = client.post(
            "/api/v1/conversations", json={"channel": "web"}, headers={"X-Api-Key": key}
        ).json()
        for i, question in enumerate(QUESTIONS):
            msg_id = f"{r:06d}{i:04d}"
            plain = wx.text_reply(
                to_user="gh_x", from_user=openid, create_time=int(time.time()), content=question
            )
            plain = plain.replace("</Content></xml>", f"</Content><MsgId>{msg_id}</MsgId></xml>")
            enc = crypto.encrypt(plain)
            ts, nonce = str(int(time.time())), secrets.token_hex(5)
            body = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
            params = {"timestamp": ts, "nonce": nonce, "msg_signature": crypto.msg_signature(ts, nonce, enc)}
            start = time.perf_counter()
            res = client.post("/channels/wechat/mp", params=params, content=body.encode())
            wechat_ms.append((time.perf_counter() - start) * 1000)
            assert res.status_code == 200, res.text
            passive += res.text.startswith("<xml><Encrypt>")
            start = time.perf_counter()
            res = client.post(
                f"/api/v1/conversations/{conv['id']}/messages",
                json={"text": question},
                headers={"X-Api-Key": key},
            )
            web_ms.append((time.perf_counter() - start) * 1000)
            assert res.status_code == 200, res.text
    print(f"passive (in-callback) replies: {passive} of {len(wechat_ms)}")
    for name, ms in (("WeChat callback (safe mode)", wechat_ms), ("web API message", web_ms)):
        ms.sort()
        print(
            f"{name}: {len(ms)} turns, p50 {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9)]:.1f} ms"
        )


def _callback(crypto: MessageCrypto, plain: str) -> tuple[dict[str, str], bytes]:
    enc = crypto.encrypt(plain)
    ts, nonce = str(int(time.time())), secrets.token_hex(5)
    body = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>"
    return {
        "timestamp": ts,
        "nonce": nonce,
        "msg_signature": crypto.msg_signature(ts, nonce, enc),
    }, body.encode()


def pictures(client: TestClient, fake: FakeWeChatApi, n: int) -> None:
    """Error screens sent as WeChat pictures: each fetched by MediaId, read and answered."""
    crypto = MessageCrypto(token=TOKEN, encoding_aes_key=AES_KEY, app_id=APP_ID)
    ms: list[float] = []
    passive = read = 0
    for i in range(n):
        code = f"E{1000 + i}"
        fake.media[f"BENCH_{i}"] = draw_lines(["登录失败", f"错误代码：{code}", "请稍后重试"])
        params, body = _callback(crypto, media_xml(f"oBenchPic{i:019d}", "image", f"BENCH_{i}", f"7{i:09d}"))
        start = time.perf_counter()
        res = client.post("/channels/wechat/mp", params=params, content=body)
        ms.append((time.perf_counter() - start) * 1000)
        assert res.status_code == 200, res.text
        if res.text.startswith("<xml><Encrypt>"):
            passive += 1
            envelope = wx.parse(res.text)
            read += code in wx.parse(crypto.decrypt(envelope["Encrypt"]))["Content"]
    client.portal.call(client.app.state.container.wechat.settle)  # type: ignore[attr-defined]
    ms.sort()
    print(
        f"WeChat pictures (fetch + OCR + turn): {n}, p50 {statistics.median(ms):.0f} ms, "
        f"p90 {ms[int(len(ms) * 0.9)]:.0f} ms; in the callback: {passive} of {n} "
        f"(the error code in the answer: {read}); the rest through the customer-service API"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", default="var/models", help="trained NLU models (helixdesk nlu train)")
    parser.add_argument("--rounds", type=int, default=10, help="customers, each asking every question once")
    parser.add_argument("--crypto-n", type=int, default=2000)
    parser.add_argument("--pictures", type=int, default=20, help="pictures sent (0: none)")
    args = parser.parse_args()
    crypto_figures(args.crypto_n)
    with (
        tempfile.TemporaryDirectory() as tmp,
        fake_wechat_api() as fake,
        _app(f"sqlite:///{Path(tmp) / 'bench.db'}", Path(args.model_dir).resolve(), fake.url) as client,
    ):
        print("warm-up:")
        round_trips(client, 1)
        if args.pictures:
            client.app.state.container.images.reader.warm_up()  # type: ignore[attr-defined]
        print("measured:")
        round_trips(client, args.rounds)
        if args.pictures:
            pictures(client, fake, args.pictures)


if __name__ == "__main__":
    main()
