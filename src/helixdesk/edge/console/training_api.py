"""Training mode's JSON API (`/console/api/training`): an agent practises on a simulated customer.

- `GET /customers`: the practice customers (an angry customer, a scam victim) with the situation
  the agent reads first, in the agent's language;
- `POST /sessions` `{customer, language, seed?}`: start one; the customer's first message comes back;
- `POST /sessions/{id}/messages` `{text}`: the agent's message and the customer's answer; when the
  customer is satisfied or leaves, the practice ends with its QA score;
- `POST /sessions/{id}/end`: stop and be scored;
- `GET /sessions/{id}`, `GET /sessions`: one practice conversation, the agent's latest ones.

Every answer is marked `"training": true`. A practice conversation is the agent's own (another
agent gets `training_session_not_found`); nothing of it is a conversation, a customer or an event
(`helixdesk.simulation.practice`). Each customer message is read by the NLU for its emotion, which
the QA score's emotion checks use.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from anyio.from_thread import run as from_thread
from fastapi import APIRouter, Query, Request
from pydantic import Field

from helixdesk.core.errors import AppError
from helixdesk.core.inputs import Input
from helixdesk.edge.deps import AgentDep, ParserDep, TrainingDep
from helixdesk.edge.http import ERROR_RESPONSES
from helixdesk.edge.i18n import ui_language
from helixdesk.nlu.batcher import Parser
from helixdesk.simulation.practice import MAX_TEXT, EmotionOf, TrainingRoom

router = APIRouter(prefix="/console/api/training", tags=["training"], responses=ERROR_RESPONSES)


class StartIn(Input):
    customer: str = Field(max_length=32, description="The practice customer: angry or scam_victim.")
    language: Literal["zh-Hans", "zh-Hant", "en"] = Field(description="The language the customer writes in.")
    seed: int | None = Field(
        default=None, ge=0, lt=2**31, description="The same seed gives the same customer words."
    )


class MessageIn(Input):
    text: str = Field(max_length=MAX_TEXT, description="What the agent writes to the practice customer.")


def emotion_reader(parser: Parser) -> EmotionOf:
    """The NLU's emotion of a message, read from a worker thread; none when the NLU is not there."""

    def read(text: str) -> dict[str, Any] | None:
        try:
            turn = from_thread(parser.parse, text)
        except AppError:
            return None
        if turn.emotion is None:
            return None
        return {"label": turn.emotion.label, "intensity": round(turn.emotion.intensity, 3)}

    return read


def worded(room: TrainingRoom, view: dict[str, Any], language: str) -> dict[str, Any]:
    """A practice conversation with each finding's reason and compliant alternative in `language`."""
    findings = []
    for f in view.get("findings") or []:
        reason, alternative = room.reason(f["rule"], language)
        findings.append({**f, "reason": reason, "alternative": alternative})
    return {**view, "findings": findings}


@router.get("/customers")
async def customers(request: Request, room: TrainingDep, user: AgentDep) -> dict[str, Any]:
    return {"training": True, "customers": room.customers(ui_language(request, user.ui_language))}


@router.post("/sessions", status_code=201)
async def start(
    request: Request, body: StartIn, room: TrainingDep, parser: ParserDep, user: AgentDep
) -> dict[str, Any]:
    """Start a practice conversation; the simulated customer writes first."""
    read = emotion_reader(parser)
    view = await anyio.to_thread.run_sync(
        lambda: room.start(user.id, body.customer, body.language, emotion=read, seed=body.seed)
    )
    return worded(room, view, ui_language(request, user.ui_language))


@router.get("/sessions")
async def history(
    room: TrainingDep, user: AgentDep, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> dict[str, Any]:
    """The agent's practice conversations, newest first, with their scores."""
    found = await anyio.to_thread.run_sync(lambda: room.history(user.id, limit))
    return {"training": True, "sessions": found}


@router.get("/sessions/{session_id}")
async def get_session(request: Request, session_id: str, room: TrainingDep, user: AgentDep) -> dict[str, Any]:
    view = await anyio.to_thread.run_sync(lambda: room.get(user.id, session_id))
    return worded(room, view, ui_language(request, user.ui_language))


@router.post("/sessions/{session_id}/messages")
async def send(
    request: Request, session_id: str, body: MessageIn, room: TrainingDep, parser: ParserDep, user: AgentDep
) -> dict[str, Any]:
    """The agent's message and the customer's answer (scored when the customer ends it)."""
    read = emotion_reader(parser)
    view = await anyio.to_thread.run_sync(lambda: room.send(user.id, session_id, body.text, emotion=read))
    return worded(room, view, ui_language(request, user.ui_language))


@router.post("/sessions/{session_id}/end")
async def end(request: Request, session_id: str, room: TrainingDep, user: AgentDep) -> dict[str, Any]:
    """Stop the practice and get its QA score."""
    view = await anyio.to_thread.run_sync(lambda: room.end(user.id, session_id))
    return worded(room, view, ui_language(request, user.ui_language))
