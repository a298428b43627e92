"""WeChat's side of the channel, for tests: callbacks signed and encrypted as WeChat's servers do
(with the product's crypto and, as an independent oracle, wechatpy's), and a local fake of WeChat's
server API (access token, customer-service messages, temporary media (pictures and voice recordings), and a picture host standing
in for the PicUrl CDN) on a free port."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wechatpy.crypto import WeChatCrypto as OracleCrypto

from helixdesk.channels.wechat import xml as wx
from helixdesk.channels.wechat.crypto import MessageCrypto, signature

APP_ID = "wx5823bf96d3bd56c7"
CORP_ID = "ww1436e0e65a779aee"
TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
APP_SECRET = "helixdesk-test-secret"


def text_xml(
    openid: str, content: str, msg_id: str, *, to: str = "gh_helixdesk", at: int | None = None
) -> str:
    return wx.text_reply(
        to_user=to, from_user=openid, create_time=at or int(time.time()), content=content
    ).replace("</Content></xml>", f"</Content><MsgId>{msg_id}</MsgId></xml>")


def media_xml(
    openid: str,
    kind: str,
    media_id: str,
    msg_id: str,
    *,
    pic_url: str = "http://mmbiz.example/p.jpg",
    recognition: str | None = None,
) -> str:
    extra = (
        f"<PicUrl><![CDATA[{pic_url}]]></PicUrl>" if kind == "image" else "<Format><![CDATA[amr]]></Format>"
    )
    if recognition is not None:  # WeChat's own transcript (an account with recognition on)
        extra += f"<Recognition><![CDATA[{recognition}]]></Recognition>"
    return (
        f"<xml><ToUserName><![CDATA[gh_helixdesk]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
        f"<MediaId><![CDATA[{media_id}]]></MediaId>{extra}<MsgId>{msg_id}</MsgId></xml>"
    )


def event_xml(openid: str, event: str, *, key: str = "", at: int = 1700000000) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_helixdesk]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>"
    )


@dataclass
class Sent:
    """What WeChat's servers would send: the query string and body of one callback."""

    params: dict[str, str]
    body: str


class WeChatServers:
    """Signs and encrypts callbacks like WeChat; `oracle=True` encrypts with wechatpy instead."""

    def __init__(self, *, app_id: str = APP_ID, token: str = TOKEN, aes_key: str = AES_KEY) -> None:
        self.ours = MessageCrypto(token=token, encoding_aes_key=aes_key, app_id=app_id)
        self.oracle = OracleCrypto(token, aes_key, app_id)
        self.token = token

    def callback(self, plain_xml: str, *, oracle: bool = False) -> Sent:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        if oracle:
            envelope = self.oracle.encrypt_message(plain_xml, nonce, timestamp)
            fields = wx.parse(envelope)
            encrypted = fields["Encrypt"]
        else:
            encrypted = self.ours.encrypt(plain_xml)
        body = f"<xml><ToUserName><![CDATA[gh_helixdesk]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        params = {
            "signature": signature(self.token, timestamp, nonce),
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": "o-any",
            "encrypt_type": "aes",
            "msg_signature": self.ours.msg_signature(timestamp, nonce, encrypted),
        }
        return Sent(params, body)

    def plain_callback(self, plain_xml: str, *, timestamp: int | None = None, nonce: str = "") -> Sent:
        """A plain-mode callback (no EncodingAESKey): the body as it is, the query signed."""
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(5)
        params = {"signature": signature(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        return Sent({**params, "openid": "o-any"}, plain_xml)

    def open_reply(self, reply_body: str) -> dict[str, str]:
        """The reply's fields, decrypted by wechatpy (which checks its signature) and by our code."""
        envelope = wx.parse(reply_body)
        by_oracle = self.oracle.decrypt_message(
            reply_body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
        )
        self.ours.check(
            envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
        )
        assert self.ours.decrypt(envelope["Encrypt"]) == by_oracle
        return wx.parse(by_oracle)


@dataclass
class FakeWeChatApi:
    """Records token requests and messages; `fail_next` makes the next sends fail with `fail_code`
    (45015: out of the customer-service window, a refusal for good; -1: busy, worth a retry).
    `media` holds the files customers sent (media id -> bytes) for `media/get`; an unknown id is
    answered as WeChat does (errcode 40007); `media_calls` records the queries (media id and token) asked with."""

    token_calls: list[dict[str, str]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    tokens_seen: list[str] = field(default_factory=list)
    fail_next: int = 0
    fail_code: int = 45015
    invalid_tokens: set[str] = field(default_factory=set)  # answered with errcode 40001
    media: dict[str, bytes] = field(default_factory=dict)  # MediaId → the file (cgi-bin/media/get)
    media_calls: list[dict[str, str]] = field(default_factory=list)
    pictures: dict[str, bytes] = field(default_factory=dict)  # /pic/NAME, as PicUrl's CDN
    url: str = ""
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, n: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= n, timeout=timeout)
            return list(self.messages)


@contextmanager
def fake_wechat_api() -> Iterator[FakeWeChatApi]:
    fake = FakeWeChatApi()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _json(self, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _file(self, data: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/cgi-bin/media/get":
                with fake._cond:
                    fake.media_calls.append(query)
                    data = fake.media.get(query.get("media_id", ""))
                if query.get("access_token", "") in fake.invalid_tokens:
                    self._json({"errcode": 40001, "errmsg": "invalid credential"})
                elif data is None:
                    self._json({"errcode": 40007, "errmsg": "invalid media_id"})
                else:
                    self._file(data)
            elif url.path.startswith("/pic/") and url.path[5:] in fake.pictures:
                self._file(fake.pictures[url.path[5:]])
            elif url.path in ("/cgi-bin/token", "/cgi-bin/gettoken"):
                with fake._cond:
                    fake.token_calls.append({"path": url.path, **query})
                    n = len(fake.token_calls)
                self._json({"access_token": f"TOKEN-{n}", "expires_in": 7200})
            else:
                self._json({"errcode": 404, "errmsg": "unknown"})

        def do_POST(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with fake._cond:
                fake.tokens_seen.append(query.get("access_token", ""))
                if query.get("access_token", "") in fake.invalid_tokens:
                    self._json({"errcode": 40001, "errmsg": "invalid credential"})
                    return
                if fake.fail_next:
                    fake.fail_next -= 1
                    self._json({"errcode": fake.fail_code, "errmsg": "refused"})
                    return
                fake.messages.append({"path": url.path, **body})
                fake._cond.notify_all()
            self._json({"errcode": 0, "errmsg": "ok"})

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
