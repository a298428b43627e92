"""`AbuseLimits`: which requests count against which limit (settings `rate_limit_*`; 0 turns one off).

- every HTTP request and WebSocket connection, per client IP (`rate_limit_ip_per_minute`);
- every HTTP request carrying `X-Api-Key`, per key (hashed; `rate_limit_api_key_per_minute`);
- every customer message, REST or WebSocket, per conversation
  (`rate_limit_conversation_messages_per_minute`);
- every WebSocket frame, per connection (`rate_limit_ws_frames_per_minute`, counted in-process);
- open WebSockets at once, per client IP and per conversation (`ws_max_per_ip`,
  `ws_max_per_conversation`, counted in each worker process).

Over a limit, HTTP answers 429 `rate_limited` with `Retry-After`; a WebSocket frame gets an error
frame with `retry_after` and the connection stays open.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from helixdesk.abuse.memory import MemoryRateLimiter
from helixdesk.abuse.protocol import Decision, RateLimiter
from helixdesk.abuse.redis_backend import RedisRateLimiter
from helixdesk.audit import api_key_id
from helixdesk.core.errors import RateLimitedError
from helixdesk.core.settings import Settings

WINDOW = 60.0


@dataclass(frozen=True, slots=True)
class LimitConfig:
    ip: int
    api_key: int
    conversation_messages: int
    ws_frames: int
    ws_per_ip: int = 0
    ws_per_conversation: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> LimitConfig:
        return cls(
            ip=settings.rate_limit_ip_per_minute,
            api_key=settings.rate_limit_api_key_per_minute,
            conversation_messages=settings.rate_limit_conversation_messages_per_minute,
            ws_frames=settings.rate_limit_ws_frames_per_minute,
            ws_per_ip=settings.ws_max_per_ip,
            ws_per_conversation=settings.ws_max_per_conversation,
        )


class AbuseLimits:
    def __init__(self, *, limiter: RateLimiter, config: LimitConfig) -> None:
        self.limiter = limiter
        self.config = config
        self._frames = MemoryRateLimiter()
        self._open: Counter[str] = Counter()  # open sockets by "ip:..." and "conv:..."

    @classmethod
    def from_settings(cls, settings: Settings) -> AbuseLimits:
        backend = settings.rate_limit_backend
        if backend == "auto":
            backend = "redis" if settings.event_bus == "redis" else "memory"
        limiter: RateLimiter = (
            RedisRateLimiter(url=settings.redis_url, prefix=f"{settings.redis_stream}:rl:")
            if backend == "redis"
            else MemoryRateLimiter()
        )
        return cls(limiter=limiter, config=LimitConfig.from_settings(settings))

    async def request(self, *, ip: str | None, api_key: str | None) -> Decision | None:
        """The first limit an HTTP request or WebSocket connection is over, or None."""
        if ip and self.config.ip:
            d = await self.limiter.hit(f"ip:{ip}", limit=self.config.ip, window=WINDOW)
            if not d.allowed:
                return d
        if api_key and self.config.api_key:
            d = await self.limiter.hit(f"key:{api_key_id(api_key)}", limit=self.config.api_key, window=WINDOW)
            if not d.allowed:
                return d
        return None

    async def check_message(self, conversation_id: str) -> None:
        """Count one customer message; raises `RateLimitedError` over the conversation's limit."""
        if not self.config.conversation_messages:
            return
        d = await self.limiter.hit(
            f"conv:{conversation_id}", limit=self.config.conversation_messages, window=WINDOW
        )
        if not d.allowed:
            raise RateLimitedError(
                f"too many messages in this conversation; wait {d.retry_after_seconds} s",
                retry_after=d.retry_after_seconds,
            )

    def check_frame(self, connection_id: str) -> None:
        """Count one WebSocket frame of a connection (in this process)."""
        if not self.config.ws_frames:
            return
        d = self._frames.hit_now(f"ws:{connection_id}", limit=self.config.ws_frames, window=WINDOW)
        if not d.allowed:
            raise RateLimitedError(
                f"too many frames on this connection; wait {d.retry_after_seconds} s",
                retry_after=d.retry_after_seconds,
            )

    def open_socket(self, ip: str | None, conversation_id: str) -> str | None:
        """Count a WebSocket as open, or say why it may not open (a cap is reached)."""
        keys = []
        if ip and self.config.ws_per_ip:
            if self._open[f"ip:{ip}"] >= self.config.ws_per_ip:
                return f"too many open connections from this address (at most {self.config.ws_per_ip})"
            keys.append(f"ip:{ip}")
        if self.config.ws_per_conversation:
            if self._open[f"conv:{conversation_id}"] >= self.config.ws_per_conversation:
                return (
                    "too many open connections to this conversation "
                    f"(at most {self.config.ws_per_conversation})"
                )
            keys.append(f"conv:{conversation_id}")
        for key in keys:
            self._open[key] += 1
        return None

    def close_socket(self, ip: str | None, conversation_id: str) -> None:
        """Undo `open_socket` (call it exactly once for each socket it let open)."""
        for key, capped in (
            (f"ip:{ip}", ip and self.config.ws_per_ip),
            (f"conv:{conversation_id}", self.config.ws_per_conversation),
        ):
            if capped and self._open[key] > 0:
                self._open[key] -= 1
                if not self._open[key]:
                    del self._open[key]

    def forget_connection(self, connection_id: str) -> None:
        self._frames.forget(f"ws:{connection_id}")

    async def close(self) -> None:
        await self.limiter.close()
