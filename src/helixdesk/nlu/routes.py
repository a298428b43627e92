"""`POST /api/v1/nlu/parse`: the NLU result for one text."""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from helixdesk.deps import ContainerDep, NluKeyDep
from helixdesk.http import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/nlu", tags=["nlu"], responses=ERROR_RESPONSES)


class ParseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=20000)


@router.post("/parse")
async def parse(body: ParseRequest, container: ContainerDep, _key: NluKeyDep) -> dict[str, Any]:
    """Understand one message: language, intent with ranking, entities, emotion, risk signals.

    Needs an API key with the `nlu` scope (`helixdesk apikeys create --scope nlu`).
    """
    container.conversations.check_text(body.text)
    turn = await anyio.to_thread.run_sync(container.nlu.parse, body.text)
    return turn.to_dict()
