"""WeChat's server API: the access token (fetched and cached), customer-service messages, and the
pictures customers send (temporary media).

- Official account: `GET {base}/cgi-bin/token?grant_type=client_credential&appid=&secret=`, then
  `POST {base}/cgi-bin/message/custom/send?access_token=` with
  `{"touser": openid, "msgtype": "text", "text": {"content": ...}}`.
- WeCom: `GET {base}/cgi-bin/gettoken?corpid=&corpsecret=`, then
  `POST {base}/cgi-bin/message/send?access_token=` with `touser`, `agentid`, `msgtype`, `text`.
- Both: `GET {base}/cgi-bin/media/get?access_token=&media_id=` gives a file the customer sent (a
  voice message's AMR or Speex recording); an error comes back as JSON instead.

- Temporary media (both): `GET {base}/cgi-bin/media/get?access_token=&media_id=`: the file itself,
  or a JSON error.

The token is kept until five minutes before it expires, and fetched again once when WeChat says it
is invalid or expired (40001, 40014, 42001). Calls are blocking: run them on a worker thread.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from helixdesk.channels.wechat.errors import WeChatApiError, WeChatRefusedError
from helixdesk.ocr.errors import ImageTooLargeError

_TOKEN_INVALID = frozenset({40001, 40014, 42001})
_BUSY = -1  # "system busy": worth trying again later


@dataclass(frozen=True, slots=True)
class ApiAccount:
    kind: str  # "mp" or "work"
    app_id: str  # appid or corpid
    secret: str
    base: str
    agent_id: int | None = None


class WeChatApi:
    def __init__(self, account: ApiAccount, *, timeout: float = 5.0) -> None:
        self.account = account
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self.token_fetches = 0

    def access_token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if not fresh and self._token is not None and time.monotonic() < self._expires:
                return self._token
            a = self.account
            if a.kind == "work":
                query = {"corpid": a.app_id, "corpsecret": a.secret}
                path = "/cgi-bin/gettoken"
            else:
                query = {"grant_type": "client_credential", "appid": a.app_id, "secret": a.secret}
                path = "/cgi-bin/token"
            data = self._call("GET", f"{path}?{urllib.parse.urlencode(query)}", None)
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                raise WeChatApiError(f"WeChat gave no access token (errcode {data.get('errcode')})")
            self.token_fetches += 1
            expires_in = float(data.get("expires_in") or 7200)
            self._token = token
            self._expires = time.monotonic() + max(expires_in - 300, 60)
            return token

    def send_text(self, to_user: str, content: str) -> None:
        """Send one text message to the customer (the customer-service message API)."""
        a = self.account
        if a.kind == "work":
            path = "/cgi-bin/message/send"
            body: dict[str, Any] = {
                "touser": to_user,
                "msgtype": "text",
                "agentid": a.agent_id,
                "text": {"content": content},
            }
        else:
            path = "/cgi-bin/message/custom/send"
            body = {"touser": to_user, "msgtype": "text", "text": {"content": content}}
        for attempt in (0, 1):
            token = self.access_token(fresh=attempt == 1)
            data = self._call("POST", f"{path}?access_token={urllib.parse.quote(token)}", body)
            code = int(data.get("errcode") or 0)
            if code == 0:
                return
            if code == _BUSY:
                raise WeChatApiError(f"WeChat was busy: errcode {code} {data.get('errmsg', '')}")
            if code not in _TOKEN_INVALID or attempt == 1:
                raise WeChatRefusedError(
                    f"WeChat refused the message: errcode {code} {data.get('errmsg', '')}", code
                )

    def get_media(self, media_id: str, *, max_bytes: int) -> bytes:
        """A picture (or other temporary media) a customer sent, by its MediaId (kept 3 days by
        WeChat). At most `max_bytes`; a longer file raises `ImageTooLargeError`."""
        for attempt in (0, 1):
            token = self.access_token(fresh=attempt == 1)
            query = urllib.parse.urlencode({"access_token": token, "media_id": media_id})
            content_type, data = download(
                f"{self.account.base.rstrip('/')}/cgi-bin/media/get?{query}",
                max_bytes=max_bytes,
                timeout=self._timeout,
            )
            if not content_type.startswith(("application/json", "text/plain")):
                return data
            try:
                answer = json.loads(data.decode())
            except (UnicodeDecodeError, ValueError):
                return data  # a file WeChat labelled as text
            code = int(answer.get("errcode") or 0) if isinstance(answer, dict) else 0
            if code in _TOKEN_INVALID and attempt == 0:
                continue
            raise WeChatApiError(f"WeChat gave no media for that MediaId: errcode {code}")
        raise WeChatApiError("WeChat gave no media for that MediaId")  # pragma: no cover

    def media(self, media_id: str, *, max_bytes: int) -> bytes:
        """The file of a media id (a customer's voice message), at most `max_bytes` + 1 bytes of it
        (so that the caller can tell it is over its limit)."""
        for attempt in (0, 1):
            token = self.access_token(fresh=attempt == 1)
            query = urllib.parse.urlencode({"access_token": token, "media_id": media_id})
            raw = self._get(f"/cgi-bin/media/get?{query}", max_bytes + 1)
            if not raw.lstrip().startswith(b"{"):
                return raw  # a recording never starts like a JSON object; an error always does
            try:
                data = json.loads(raw.decode())
                code = int(data.get("errcode") or 0)
            except (ValueError, AttributeError, TypeError) as e:
                raise WeChatApiError("WeChat's media answer could not be read") from e
            if code == _BUSY:
                raise WeChatApiError(f"WeChat was busy: errcode {code} {data.get('errmsg', '')}")
            if code not in _TOKEN_INVALID or attempt == 1:
                raise WeChatRefusedError(
                    f"WeChat refused the media {media_id!r}: errcode {code} {data.get('errmsg', '')}", code
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path_query: str, limit: int) -> bytes:
        url = self.account.base.rstrip("/") + path_query
        try:
            with urllib.request.urlopen(url, timeout=self._timeout) as response:
                return bytes(response.read(limit))
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise WeChatApiError(f"WeChat's API could not be reached: {type(e).__name__}") from e

    def _call(self, method: str, path_query: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = self.account.base.rstrip("/") + path_query
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(
            url, data=payload, method=method, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                data = json.loads(response.read().decode())
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise WeChatApiError(f"WeChat's API could not be reached: {type(e).__name__}") from e
        if not isinstance(data, dict):
            raise WeChatApiError("WeChat's API answered something other than a JSON object")
        return data


def download(url: str, *, max_bytes: int, timeout: float) -> tuple[str, bytes]:
    """GET `url`: its content type and at most `max_bytes` of its body (more: `ImageTooLargeError`,
    nothing more is read)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url), timeout=timeout) as response:
            content_type = response.headers.get("Content-Type", "")
            data = response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise WeChatApiError(f"WeChat's media could not be fetched: {type(e).__name__}") from e
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"the picture has more than {max_bytes} bytes")
    return content_type.lower(), data
