"""Security headers on every response, strict CORS, and the offline API docs page.

Every response carries a Content-Security-Policy that allows scripts, styles and connections from
this origin only (no inline scripts or styles: the pages load theirs from /static), plus
`X-Content-Type-Options`, `Referrer-Policy`, `X-Frame-Options` / `frame-ancestors`, and HSTS
when the request came over TLS (`https`/`wss`, as uvicorn sees it; behind a TLS-terminating
proxy run uvicorn with `--proxy-headers` and `FORWARDED_ALLOW_IPS`). API responses are
`Cache-Control: no-store`. CORS is off unless `cors_origins` lists origins.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helixdesk.core.settings import Settings
from helixdesk.edge.pages import templates

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), geolocation=(), payment=(), usb=()",
}
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tls = scope.get("scheme") == "https"
        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if tls:
                    headers["Strict-Transport-Security"] = HSTS
                if api and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_security(app: FastAPI, settings: Settings) -> None:
    """CORS (only when `cors_origins` is set), then the security headers as the outermost layer."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Content-Type", "X-Api-Key"],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)


docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from the vendored copy in /static (no CDN, no inline script)."""
    return templates.TemplateResponse(request, "api_docs.html", {"openapi_url": request.app.openapi_url})
