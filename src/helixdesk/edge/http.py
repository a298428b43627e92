"""HTTP edge: error mapping to `{error: {code, message}}`, request size limits, error docs for OpenAPI."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from helixdesk.audit.context import caller_ip
from helixdesk.core.errors import AppError, RateLimitedError
from helixdesk.core.inputs import INVALID_CHARACTERS

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "Credentials missing or not valid"},
    403: {"model": ErrorResponse, "description": "Not allowed for these credentials"},
    404: {"model": ErrorResponse, "description": "Not found"},
    409: {"model": ErrorResponse, "description": "Conflict with the resource's state"},
    413: {"model": ErrorResponse, "description": "Request body too large"},
    422: {"model": ErrorResponse, "description": "Invalid input"},
    429: {
        "model": ErrorResponse,
        "description": "Rate limited (`rate_limited`); retry after the `Retry-After` header's seconds",
    },
}

RETRY_AFTER_SECONDS = 5  # what a client is told to wait when the database or the bus is down

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _refusal_page(exc: AppError) -> str:
    message = html.escape(exc.detail)
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Helixdesk</title>'
        '<link rel="stylesheet" href="/static/console.css"></head><body><main class="main">'
        f'<section class="panel"><h1>{exc.http_status}</h1><p id="refusal" data-code="{html.escape(exc.code)}">{message}</p>'
        '<p><a href="/console">Helixdesk</a></p></section></main></body></html>'
    )


def error_json(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        if request.url.path.startswith("/console") and not request.url.path.startswith("/console/api"):
            # Staff pages: send people to sign in, or show the refusal as a page.
            if exc.http_status == 401:
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
                return RedirectResponse(f"/console/login?next={target}", status_code=303)
            if exc.http_status in (403, 404):
                return HTMLResponse(_refusal_page(exc), status_code=exc.http_status)
        detail = exc.detail
        if exc.http_status >= 500:
            # Logged in full; the client gets the code and no internals (docs/api.md).
            log.error("request failed: %s (%s)", exc.code, exc.detail)
            detail = "the request could not be completed; it has been logged"
        response = error_json(exc.http_status, exc.code, detail)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        code = "invalid_request"
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            # A field name is the client's text: never echo control characters (NUL) back.
            loc = "".join(ch if ch.isprintable() else "?" for ch in loc)[:80]
            problems.append(f"{loc or 'body'}: {err.get('msg', 'invalid')}")
            if err.get("type") == "json_invalid":
                code = "malformed_json"
            elif err.get("type") == INVALID_CHARACTERS:
                code = INVALID_CHARACTERS
        return error_json(422, code, "; ".join(problems)[:2000])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # A body that is not even text (bad UTF-8, broken form data): malformed, like bad JSON.
            return error_json(422, "malformed_json", "the request body could not be parsed")
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        response = error_json(exc.status_code, code, str(exc.detail))
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    @app.exception_handler(DataError)
    async def _bad_value(_request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value from the request (a number out of its range, text it cannot
        # keep); the transaction was rolled back, so nothing stored is touched.
        log.info("refused a value the database cannot take: %s", type(exc.orig).__name__)
        return error_json(
            422,
            "invalid_value",
            "a value in the request is out of range or holds characters that cannot be stored",
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(SATimeoutError)
    @app.exception_handler(RedisError)
    async def _unavailable(_request: Request, exc: Exception) -> JSONResponse:
        # The database or the bus is down, busy or out of disk: an outage, not a bug. Nothing was
        # half-stored (the transaction rolled back); the client may send the same request again.
        log.warning("service unavailable: %s: %s", type(exc).__name__, str(exc).splitlines()[0][:200])
        response = error_json(
            503, "unavailable", "the service is unavailable for a moment; please try again shortly"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_json(500, "internal_error", "an unexpected error occurred; it has been logged")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE and route.methods:
            methods |= route.methods
    return sorted(methods)


# A character that is not white space, for ECMA-262 (JSON Schema) and Python alike: ECMA's \s
# plus the separators \x1c-\x1f and NEL that Python's str.isspace() also counts (check_text).
NON_BLANK = r"[^\s\x1c-\x1f\x85]"


NO_NUL = r"[^\x00]"
# Text with a character that is not white space, and no NUL anywhere (as `pattern` of a field).
NON_BLANK_TEXT = r"^[^\x00]*[^\s\x00\x1c-\x1f\x85][^\x00]*$"


def _no_nul(node: Any) -> None:
    """Every free-text string of the description says it takes no NUL (`invalid_characters`)."""
    if isinstance(node, dict):
        free = node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys()
        if free:
            node["pattern"] = f"^{NO_NUL}*$"
        for value in node.values():
            _no_nul(value)
    elif isinstance(node, list):
        for value in node:
            _no_nul(value)


def publish_text_limits(app: FastAPI, *, max_chars: int) -> None:
    """Publish the configured text limits in the OpenAPI description (`text` of messages and parse).

    The request models accept up to 20,000 characters so that a longer text gets the clearer
    `message_too_long` (and a blank one `empty_message`); the description tells clients the limit
    this server applies, `max_message_chars`, and that a text needs a character that is not
    white space (`NON_BLANK`). No text anywhere may hold NUL (refused as `invalid_characters`).
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for name in ("MessageCreate", "ParseRequest"):
                text = schema.get("components", {}).get("schemas", {}).get(name, {}).get("properties", {})
                if "text" in text:
                    text["text"]["maxLength"] = max_chars
                    text["text"]["pattern"] = NON_BLANK_TEXT
            _no_nul(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class ClientIpContext:
    """Remember the client's address for the request (audit entries record where staff acted from)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = caller_ip.set(client[0] if client else None)
        try:
            await self.app(scope, receive, send)
        finally:
            caller_ip.reset(token)


class UnstorableUrl:
    """Refuse a path or query holding NUL (`%00`) with 422 `invalid_characters`, as request bodies
    are refused (`helixdesk.core.inputs`): no lookup runs on text the database cannot take."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            response = error_json(422, INVALID_CHARACTERS, "the address may not contain NUL characters")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BodySizeLimit:
    """Reject request bodies larger than `max_bytes` with 413, whether or not Content-Length is sent."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        larger: Mapping[str, int] | None = None,
        larger_matching: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        """`larger`: a bigger limit for the POSTs to these exact paths (document uploads);
        `larger_matching`: for the POSTs to paths that match (a conversation's images)."""
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})
        self.larger_matching = tuple(larger_matching)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if scope.get("method") == "POST":
            path = scope.get("path", "")
            limit = self.larger.get(path, limit)
            for pattern, bigger in self.larger_matching:
                if pattern.fullmatch(path):
                    limit = bigger
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(scope, receive, send, limit)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException passes through FastAPI's body parsing and reaches our handler.
                    raise StarletteHTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = error_json(413, "payload_too_large", f"the request body is larger than {limit} bytes")
        await response(scope, receive, send)
