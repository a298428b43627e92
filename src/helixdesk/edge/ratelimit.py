"""ASGI middleware applying the per-IP and per-API-key limits to every request and WebSocket."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from helixdesk.abuse.limits import AbuseLimits
from helixdesk.abuse.protocol import Decision
from helixdesk.edge.http import error_json

CLOSE_RATE_LIMITED = 4429
# WeChat's callbacks all come from a few of Tencent's addresses, signed with the account's token
# (checked first, cheaply): a per-IP limit would refuse a busy official account's customers.
EXEMPT_PATHS = frozenset({"/healthz", "/channels/wechat/mp", "/channels/wechat/work"})
# The same holds for social platforms' webhooks, each signed with the platform's shared secret.
EXEMPT_PREFIXES = ("/channels/social/",)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] not in ("http", "websocket")
            or path in EXEMPT_PATHS
            or path.startswith(EXEMPT_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        container = getattr(scope["app"].state, "container", None)
        limits: AbuseLimits | None = getattr(container, "limits", None)
        if limits is None:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        denied = await limits.request(
            ip=client[0] if client else None, api_key=Headers(scope=scope).get("x-api-key")
        )
        if denied is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "http":
            await _too_many(denied, scope, receive, send)
        else:
            # Accept, then close with an application code the client can read (a refused
            # handshake would only show as HTTP 403).
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": CLOSE_RATE_LIMITED, "reason": "rate_limited"})


async def _too_many(decision: Decision, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_json(
        429, "rate_limited", f"too many requests; retry in {decision.retry_after_seconds} s"
    )
    response.headers["Retry-After"] = str(decision.retry_after_seconds)
    await response(scope, receive, send)
