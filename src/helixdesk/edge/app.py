"""`create_app(settings)`: the ASGI application. Everything is built in the lifespan."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from helixdesk import __version__
from helixdesk.core.settings import Settings
from helixdesk.edge import demo, pages
from helixdesk.edge.api import conversations as conversation_routes
from helixdesk.edge.api import nlu as nlu_routes
from helixdesk.edge.api import rates as rate_routes
from helixdesk.edge.api import social as social_routes
from helixdesk.edge.api import wechat as wechat_routes
from helixdesk.edge.api import ws as conversation_ws
from helixdesk.edge.console import (
    alerts_api,
    analytics_api,
    analytics_pages,
    campaigns_api,
    drift_api,
    incidents_api,
    incidents_pages,
    insight_api,
    learning_api,
    learning_pages,
    lifecycle_api,
    lifecycle_pages,
    models_api,
    profile_api,
    quality_api,
    supervise_api,
    training_api,
    training_pages,
)
from helixdesk.edge.console import api as console_api
from helixdesk.edge.console import kb_api as knowledge_api
from helixdesk.edge.console import kb_pages as knowledge_pages
from helixdesk.edge.console import pages as console
from helixdesk.edge.container import Container
from helixdesk.edge.http import (
    BodySizeLimit,
    ClientIpContext,
    UnstorableUrl,
    install_error_handlers,
    publish_text_limits,
)
from helixdesk.edge.pages import WEB_DIR
from helixdesk.edge.ratelimit import RateLimitMiddleware
from helixdesk.edge.security import docs_router, install_security
from helixdesk.privacy.logs import install_log_masking

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, container: Container | None = None) -> FastAPI:
    settings = settings or (container.settings if container else Settings())
    install_log_masking()  # no personal data in any log record from here on

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        built = container or Container.build(settings)
        app.state.container = built
        await built.start()
        restore = _drain_on_shutdown_signals(built.live.drain)
        log.info(
            "Helixdesk %s ready (database %s, bus %s)", __version__, _safe_url(settings), settings.event_bus
        )
        try:
            yield
        finally:
            restore()
            await built.stop()

    app = FastAPI(
        title="Helixdesk API",
        version=__version__,
        description="Self-hosted intelligent customer service for banks. See docs/api.md.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    # Outermost last: security headers, CORS, rate limits, body size.
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        larger={
            knowledge_api.UPLOAD_PATH: settings.kb_upload_max_bytes,
            insight_api.FEEDBACK_CSV_PATH: settings.kb_upload_max_bytes,
        },
        # An image or voice message: the file and its multipart envelope.
        larger_matching=[
            (conversation_routes.IMAGES_PATH, settings.image_max_bytes + 64 * 1024),
            (conversation_routes.AUDIO_PATH, settings.audio_max_bytes + 64 * 1024),
        ],
    )
    app.add_middleware(UnstorableUrl)
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(ClientIpContext)
    install_security(app, settings)
    install_error_handlers(app)
    publish_text_limits(app, max_chars=settings.max_message_chars)
    app.include_router(docs_router)
    app.include_router(conversation_routes.router)
    app.include_router(conversation_ws.router)
    app.include_router(nlu_routes.router)
    app.include_router(rate_routes.router)
    app.include_router(wechat_routes.router)  # WeChat and WeCom callbacks
    app.include_router(social_routes.router)  # social platforms' webhooks
    app.include_router(pages.router)
    app.include_router(demo.router)
    app.include_router(console.router)
    app.include_router(console_api.router)
    app.include_router(profile_api.router)  # the customer profile beside a conversation
    app.include_router(knowledge_api.router)  # the knowledge workspace
    app.include_router(knowledge_pages.router)
    app.include_router(incidents_api.router)  # the incident register
    app.include_router(campaigns_api.router)  # its campaigns, and the customers' opt-outs
    app.include_router(incidents_pages.router)
    app.include_router(lifecycle_api.router)  # the bank's lifecycle strategies
    app.include_router(alerts_api.router)
    app.include_router(supervise_api.router)
    app.include_router(quality_api.router)
    app.include_router(insight_api.router)
    app.include_router(analytics_api.router)
    app.include_router(analytics_pages.router)  # the historical dashboard
    app.include_router(drift_api.router)  # drift of the bot's understanding
    app.include_router(lifecycle_pages.router)  # the lifecycle strategies and their effect
    app.include_router(training_api.router)  # agents practising on a simulated customer
    app.include_router(training_pages.router)
    app.include_router(learning_api.router)  # the labelling queue, agents' flags, dataset versions
    app.include_router(models_api.router)  # the model registry: reports, shadow, promotion, rollback
    app.include_router(learning_pages.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def _safe_url(settings: Settings) -> str:
    url = settings.database_url
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def _drain_on_shutdown_signals(drain: Callable[[], None]) -> Callable[[], None]:
    """Run `drain` as soon as SIGTERM or SIGINT arrives, then the server's own handler.

    The server waits for open connections to end before it runs the lifespan's shutdown, and a
    live stream never ends by itself: without this, shutdown waits on every open console. Signal
    handlers can only be set in the main thread (not under the test client); there it is a no-op.
    Returns a function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(drain)
        prev = previous.get(signum)
        if callable(prev):
            prev(signum, frame)

    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)

    def restore() -> None:
        for sig, prev in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, prev)

    return restore
