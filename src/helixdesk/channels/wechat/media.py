"""Fetching the picture of a WeChat image message.

By its `MediaId` through the account's API (`{api base}/cgi-bin/media/get`, with the access token)
when the account has its secret; else, or when that fails, from the message's `PicUrl`, only when
that URL is on one of the hosts of `wechat_picture_hosts` (WeChat's picture CDN by default): a URL
taken from a message is never fetched wherever it points. Blocking: run it on a worker thread.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterable

from helixdesk.channels.wechat.api import WeChatApi, download
from helixdesk.channels.wechat.errors import WeChatApiError

log = logging.getLogger(__name__)


class PictureFetcher:
    def __init__(self, *, max_bytes: int, picture_hosts: Iterable[str], timeout: float = 5.0) -> None:
        self._max_bytes = max_bytes
        self._hosts = frozenset(h.strip().lower() for h in picture_hosts if h.strip())
        self._timeout = timeout

    def fetch(self, api: WeChatApi | None, *, media_id: str, pic_url: str) -> bytes:
        """The picture's bytes (`WeChatApiError` when it cannot be had, `ImageTooLargeError` when it
        is over the image size limit)."""
        failed: WeChatApiError | None = None
        if media_id and api is not None:
            try:
                return api.get_media(media_id, max_bytes=self._max_bytes)
            except WeChatApiError as e:
                failed = e
                log.warning("a WeChat picture could not be fetched by its MediaId: %s", e)
        if pic_url and self.allowed(pic_url):
            _, data = download(pic_url, max_bytes=self._max_bytes, timeout=self._timeout)
            return data
        raise failed or WeChatApiError(
            "the picture cannot be fetched: no API secret for its MediaId, and its PicUrl is not on "
            "a host of wechat_picture_hosts"
        )

    def allowed(self, url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        return parts.scheme in ("http", "https") and (parts.hostname or "").lower() in self._hosts
