"""WeChat's callback URLs: `/channels/wechat/mp` (the official account) and `/channels/wechat/work`
(the WeCom app). Thin: the channel (`helixdesk.channels.wechat`) checks and handles everything.

WeChat signs each request with the account's token (query string); nothing else authenticates it.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from helixdesk.edge.deps import WeChatDep
from helixdesk.edge.http import ERROR_RESPONSES

# WeChat's servers call these, not the API's clients: they are left out of the OpenAPI description
# (docs/channels.md describes them).
router = APIRouter(
    prefix="/channels/wechat", tags=["wechat"], responses=ERROR_RESPONSES, include_in_schema=False
)

Account = Literal["mp", "work"]


@router.get("/{account}", response_class=PlainTextResponse)
async def check_url(account: Account, request: Request, wechat: WeChatDep) -> PlainTextResponse:
    """WeChat's check of the callback URL: `signature` (WeCom: `msg_signature`), `timestamp`,
    `nonce`, `echostr`; the echostr comes back (WeCom: decrypted) when the signature holds."""
    return PlainTextResponse(wechat.echo(account, dict(request.query_params)))


@router.post("/{account}")
async def callback(account: Account, request: Request, wechat: WeChatDep) -> Response:
    """A message or event from WeChat's servers (XML; encrypted in safe mode). The answer is the
    reply's XML (encrypted in safe mode) or `success` when it follows through the API."""
    body = await request.body()
    out = await wechat.receive(account, dict(request.query_params), body)
    if out == "success":
        return PlainTextResponse(out)
    return Response(out, media_type="application/xml")
