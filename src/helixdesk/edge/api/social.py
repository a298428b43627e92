"""Social platforms' webhooks: `POST /channels/social/{platform}`. Thin: the channel
(`helixdesk.channels.social`) checks the signature, reads the payload and handles every event.

Each request is signed with the platform's shared secret (HMAC-SHA256); nothing else
authenticates it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from helixdesk.edge.deps import SocialDep
from helixdesk.edge.http import ERROR_RESPONSES

PREFIX = "/channels/social/"

# The platforms call this, not the API's clients: it is left out of the OpenAPI description
# (docs/channels.md describes it).
router = APIRouter(
    prefix=PREFIX.rstrip("/"), tags=["social"], responses=ERROR_RESPONSES, include_in_schema=False
)


@router.post("/{platform}")
async def webhook(platform: str, request: Request, social: SocialDep) -> dict[str, int]:
    """One request of the platform (one event or a batch); the counts of what it held: `events`,
    `messages` (direct messages stored and answered), `comments` (feedback items added),
    `duplicates` (events seen before) and `skipped` (kinds the channel does not handle)."""
    body = await request.body()
    headers = {k.lower(): v for k, v in request.headers.items()}
    return await social.receive(platform, headers, body)
