"""`POST /api/v1/nlu/parse`: the NLU result for one text."""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from helixdesk.core.clock import utcnow
from helixdesk.core.inputs import Input
from helixdesk.edge.deps import BankZoneDep, ConversationsDep, NluKeyDep, ParserDep
from helixdesk.edge.http import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/nlu", tags=["nlu"], responses=ERROR_RESPONSES)


class ParseRequest(Input):
    text: str = Field(min_length=1, max_length=20000)


@router.post("/parse", response_class=JSONResponse, responses={200: {"description": "The NLU result"}})
async def parse(
    body: ParseRequest,
    conversations: ConversationsDep,
    parser: ParserDep,
    zone: BankZoneDep,
    _key: NluKeyDep,
) -> Response:
    """Understand one message: language, intent with ranking, entities, emotion, risk signals.

    Needs an API key with the `nlu` scope (`helixdesk apikeys create --scope nlu`).
    """
    conversations.check_text(body.text)
    # Dates ("today", "this month") are read in the bank's time zone, as in a conversation.
    turn = await parser.parse(body.text, reference_time=utcnow().astimezone(zone))
    # The result is plain JSON already: written once, without a second pass over it.
    return Response(json.dumps(turn.to_dict(), ensure_ascii=False), media_type="application/json")
