"""The agent console's JSON API and its live event stream (`/console/api/...`).

Every call needs a staff session cookie; every unsafe call also needs the session's CSRF token in
`X-CSRF-Token`. Routes are thin: the handoff service and the agent workspace do the work.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import Field

from helixdesk.auth.service import StaffView
from helixdesk.core.errors import ConflictError
from helixdesk.core.events import (
    ConversationStateChanged,
    Event,
    HandoffAnswered,
    HandoffClaimed,
    HandoffEnded,
    HandoffQueued,
    MessageReceived,
    MessageSent,
    NoteWhispered,
    QualityAlertRaised,
    ReplySent,
)
from helixdesk.core.inputs import Input
from helixdesk.edge.deps import (
    SESSION_COOKIE,
    AgentDep,
    AgentsDep,
    ClaimsDep,
    DisclosureDep,
    DraftCheckDep,
    DraftsDep,
    HandBackDep,
    LiveDep,
    QueueDep,
    StaffAccountsDep,
    StaffDep,
    SupervisorDep,
    TransfersDep,
    WorkspaceDep,
    WrapUpDep,
)
from helixdesk.edge.http import ERROR_RESPONSES, NON_BLANK_TEXT
from helixdesk.edge.i18n import ui_language
from helixdesk.edge.live import StreamEnded
from helixdesk.routing.queues import queues_for

router = APIRouter(prefix="/console/api", tags=["agent console"], responses=ERROR_RESPONSES)
HEARTBEAT_SECONDS = 15.0
# How often an open stream checks that its session still stands (signed out, expired, account
# disabled): a revoked session stops receiving within this many seconds.
RECHECK_SECONDS = 5.0
# Most missed events a reconnecting stream replays; beyond that it is told to reload.
REPLAY_LIMIT = 1000


class PresenceIn(Input):
    presence: Literal["online", "away", "offline"]


class TextIn(Input):
    text: str = Field(min_length=1, max_length=4000, pattern=NON_BLANK_TEXT)


class SendIn(TextIn):
    override_reason: str | None = Field(
        default=None,
        max_length=500,
        description="Why the message is sent although the live quality check warned about it (kept).",
    )


class TransferIn(Input):
    queue: Literal["fraud", "senior", "relationship_manager", "general"] | None = None
    to_username: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=1000)


class WrapUpIn(Input):
    disposition: str = Field(min_length=1, max_length=32)
    resolution: Literal["resolved", "unresolved", "follow_up"]
    note: str = Field(default="", max_length=4000)


class DraftIn(Input):
    question: str = Field(min_length=4, max_length=500, pattern=NON_BLANK_TEXT)
    answer: str = Field(min_length=4, max_length=4000, pattern=NON_BLANK_TEXT)
    language: Literal["zh-Hans", "zh-Hant", "en"]
    intent: str | None = Field(default=None, max_length=48)
    conversation_id: str | None = Field(default=None, max_length=36)


class ReviewIn(Input):
    approve: bool
    note: str = Field(default="", max_length=2000)


class RevealIn(Input):
    message_id: str = Field(min_length=1, max_length=36)
    span_index: int = Field(ge=0, le=10_000)
    reason: str = Field(
        min_length=1, max_length=500, description="Why the value is needed (audited; 8+ characters)."
    )


class ImageOpenIn(Input):
    reason: str = Field(
        min_length=4, max_length=500, description="Why the original image is needed (audited; 4+ characters)."
    )


class AudioOpenIn(Input):
    reason: str = Field(
        min_length=4,
        max_length=500,
        description="Why the original recording is needed (audited; 4+ characters).",
    )


class LanguageIn(Input):
    language: Literal["zh-Hans", "zh-Hant", "en"]


# ---- me and my queue ----------------------------------------------------------------------------


@router.get("/me")
async def me(agents: AgentsDep, user: StaffDep) -> dict[str, Any]:
    load = await anyio.to_thread.run_sync(lambda: agents.load_of(user.id))
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "roles": list(user.roles),
        "queues": list(user.queues),
        "presence": load.state.presence if load else user.presence,
        "load": load.load.load if load else 0.0,
        "active": load.state.active if load else 0,
        "break_suggested": load.load.break_suggested if load else False,
    }


@router.post("/presence")
async def presence(body: PresenceIn, agents: AgentsDep, user: AgentDep) -> dict[str, str]:
    await anyio.to_thread.run_sync(agents.set_presence, user.id, body.presence)
    return {"presence": body.presence}


@router.post("/language")
async def language(body: LanguageIn, staff: StaffAccountsDep, user: StaffDep) -> dict[str, str]:
    await anyio.to_thread.run_sync(staff.set_ui_language, user.id, body.language)
    return {"language": body.language}


@router.get("/queue")
async def queue(request: Request, queue: QueueDep, user: StaffDep) -> dict[str, Any]:
    """Waiting conversations of my queues (most urgent first) and my open ones, with labels."""
    lang = ui_language(request, user.ui_language)
    items = await anyio.to_thread.run_sync(lambda: queue.queue_for(user, language=lang))
    labels = queue.labels
    return {
        "items": [
            {
                **i.to_dict(),
                "queue_label": labels.get("queue", i.queue, lang),
                "intent_label": labels.get("intent", i.intent, lang) if i.intent else "",
                "reason_label": labels.get("reason", i.reason, lang),
            }
            for i in items
        ]
    }


@router.post("/claim-next")
async def claim_next(claims: ClaimsDep, user: AgentDep) -> dict[str, Any]:
    item = await claims.claim_next(user)
    return item.to_dict()


@router.post("/handoffs/{handoff_id}/claim")
async def claim(handoff_id: str, claims: ClaimsDep, user: AgentDep) -> dict[str, Any]:
    item = await claims.claim(user, handoff_id)
    return item.to_dict()


# ---- one conversation ---------------------------------------------------------------------------


@router.get("/conversations/{conversation_id}")
async def conversation(
    conversation_id: str, workspace: WorkspaceDep, disclosure: DisclosureDep, user: StaffDep
) -> dict[str, Any]:
    view = await anyio.to_thread.run_sync(lambda: workspace.view(user, conversation_id))
    return {
        "conversation": view.conversation,
        "messages": [m.model_dump(mode="json") for m in view.messages],
        "handoff": view.handoff,
        "history": view.history,
        "past": view.past,
        "notes": view.notes,
        "customer": view.customer,
        "products": view.products,
        "transactions": view.transactions,
        "mine": view.mine,
        "revealable": await anyio.to_thread.run_sync(disclosure.revealable, user, conversation_id),
    }


@router.post("/conversations/{conversation_id}/reveal")
async def reveal(
    conversation_id: str, body: RevealIn, disclosure: DisclosureDep, user: AgentDep
) -> dict[str, Any]:
    """Show one masked value (a card or phone number the customer typed) for a stated reason.

    Every reveal is an audit entry: who, which value, why, from where."""
    revealed = await anyio.to_thread.run_sync(
        lambda: disclosure.reveal(
            user, conversation_id, message_id=body.message_id, span_index=body.span_index, reason=body.reason
        )
    )
    return {"type": revealed.type, "masked": revealed.masked, "value": revealed.value}


@router.post("/conversations/{conversation_id}/images/{message_id}")
async def open_image(
    conversation_id: str, message_id: str, body: ImageOpenIn, disclosure: DisclosureDep, user: AgentDep
) -> Response:
    """The original of an image the customer sent (decrypted), for a stated reason.

    Every opening is an audit entry (`image.opened`: who, which message, why, from where); the
    response is not cached. The text read from it and its fields are on the message already."""
    original = await anyio.to_thread.run_sync(
        lambda: disclosure.open_image(user, conversation_id, message_id=message_id, reason=body.reason)
    )
    return Response(
        original.data,
        media_type=original.content_type,
        headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
    )


@router.post("/conversations/{conversation_id}/audio/{message_id}")
async def open_audio(
    conversation_id: str, message_id: str, body: AudioOpenIn, disclosure: DisclosureDep, user: AgentDep
) -> Response:
    """The original recording of a voice message the customer sent (decrypted), for a stated reason.

    Every opening is an audit entry (`audio.opened`: who, which message, why, from where); the
    response is not cached. Its transcript is the message's text."""
    original = await anyio.to_thread.run_sync(
        lambda: disclosure.open_audio(user, conversation_id, message_id=message_id, reason=body.reason)
    )
    return Response(
        original.data,
        media_type=original.content_type,
        headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
    )


@router.get("/conversations/{conversation_id}/messages")
async def messages(
    conversation_id: str,
    workspace: WorkspaceDep,
    user: StaffDep,
    after_seq: int = Query(default=0, ge=0, le=2**31 - 1),
) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(workspace.messages_after, user, conversation_id, after_seq)
    return {"messages": [m.model_dump(mode="json") for m in found]}


@router.post("/conversations/{conversation_id}/messages")
async def send(
    conversation_id: str, body: SendIn, workspace: WorkspaceDep, checker: DraftCheckDep, user: AgentDep
) -> dict[str, Any]:
    """Send a message to the customer. A message the pack's quality rules flag is refused
    (409 `compliance_warning`) unless `override_reason` says why it must go as it is."""
    await anyio.to_thread.run_sync(workspace.check_access, user, conversation_id)
    found = await anyio.to_thread.run_sync(
        lambda: checker.check(conversation_id, body.text, user.ui_language)
    )
    meta: dict[str, Any] = {}
    if found:
        reason = (body.override_reason or "").strip()
        if not reason:
            rules = ", ".join(sorted({f.rule for f in found}))
            raise ConflictError(
                f"the message breaks the quality rules ({rules}); change it, or send it with a reason",
                code="compliance_warning",
            )
        meta["qa_override"] = {"reason": reason, "rules": sorted({f.rule for f in found})}
    message = await workspace.post_message(user, conversation_id, body.text, meta=meta)
    return {"message": message.model_dump(mode="json")}


@router.get("/conversations/{conversation_id}/suggestions")
async def suggestions(conversation_id: str, workspace: WorkspaceDep, user: StaffDep) -> dict[str, Any]:
    found = await anyio.to_thread.run_sync(workspace.suggestions, user, conversation_id)
    return {
        "suggestions": [
            {"kind": s.kind, "text": s.text, "title": s.title, "source": s.source, "score": s.score}
            for s in found
        ]
    }


@router.post("/conversations/{conversation_id}/notes")
async def add_note(
    conversation_id: str, body: TextIn, workspace: WorkspaceDep, user: AgentDep
) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(workspace.add_note, user, conversation_id, body.text)


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(
    conversation_id: str, body: TransferIn, transfers: TransfersDep, user: AgentDep
) -> dict[str, str]:
    await transfers.transfer(
        user, conversation_id, queue=body.queue, to_username=body.to_username, note=body.note
    )
    return {"state": "waiting_for_agent"}


@router.post("/conversations/{conversation_id}/hand-back")
async def hand_back(conversation_id: str, hand_back: HandBackDep, user: AgentDep) -> dict[str, str]:
    await hand_back.hand_back(user, conversation_id)
    return {"state": "bot"}


@router.post("/conversations/{conversation_id}/wrap-up")
async def wrap_up(conversation_id: str, body: WrapUpIn, wrap_up: WrapUpDep, user: AgentDep) -> dict[str, str]:
    await wrap_up.wrap_up(
        user, conversation_id, disposition=body.disposition, resolution=body.resolution, note=body.note
    )
    return {"state": "closed"}


# ---- the agent-to-bot loop ----------------------------------------------------------------------


@router.post("/drafts")
async def create_draft(body: DraftIn, drafts: DraftsDep, user: AgentDep) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(
        lambda: drafts.create(
            user,
            question=body.question,
            answer=body.answer,
            language=body.language,
            intent=body.intent,
            conversation_id=body.conversation_id,
        )
    )


@router.get("/drafts")
async def list_drafts(
    drafts: DraftsDep,
    _user: SupervisorDep,
    status: Literal["draft", "approved", "rejected"] | None = "draft",
) -> dict[str, Any]:
    return {"drafts": await anyio.to_thread.run_sync(lambda: drafts.list(status=status))}


@router.post("/drafts/{draft_id}/review")
async def review_draft(
    draft_id: str, body: ReviewIn, drafts: DraftsDep, user: SupervisorDep
) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(
        lambda: drafts.review(user, draft_id, approve=body.approve, note=body.note)
    )


# ---- supervisors --------------------------------------------------------------------------------


@router.get("/agents")
async def agents(agents: AgentsDep, _user: SupervisorDep) -> dict[str, Any]:
    loads = await anyio.to_thread.run_sync(agents.loads)
    return {
        "agents": [
            {
                "id": a.state.id,
                "username": a.username,
                "display_name": a.state.display_name,
                "roles": list(a.state.roles),
                "presence": a.state.presence,
                "active": a.state.active,
                "max_concurrent": a.state.max_concurrent,
                "load": a.load.load,
                "intense_in_a_row": a.load.intense_in_a_row,
                "conversations": a.load.conversations,
                "break_suggested": a.load.break_suggested,
            }
            for a in loads
        ]
    }


@router.get("/sla/breaches")
async def sla_breaches(queue: QueueDep, _user: SupervisorDep) -> dict[str, Any]:
    """First-response SLAs now, over every queue: conversations waiting, or claimed with no reply
    from the person yet, past their target (`breaches`, the furthest over first, with `count` and
    `by_queue`), and those still within it (`upcoming`, the soonest due first)."""
    return await anyio.to_thread.run_sync(lambda: queue.sla_board())


# ---- live updates -------------------------------------------------------------------------------


def visible(event: Event, user: StaffView, watching: str | None) -> bool:
    """Queue events of this person's queues; messages of the conversation they have open; quality
    alerts for supervisors."""
    if isinstance(event, QualityAlertRaised):
        return user.is_supervisor
    if isinstance(event, NoteWhispered):
        # A whisper: for the agent it is meant for, and supervisors watching that conversation.
        return event.to_agent_id == user.id or (user.is_supervisor and event.conversation_id == watching)
    if isinstance(event, HandoffQueued | HandoffClaimed | HandoffAnswered | HandoffEnded):
        return event.queue in queues_for(user.roles) or getattr(event, "agent_id", None) == user.id
    if isinstance(event, MessageReceived | ReplySent | MessageSent | ConversationStateChanged):
        return watching is not None and event.conversation_id == watching
    return False


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-sent events",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def events(
    request: Request,
    hub: LiveDep,
    workspace: WorkspaceDep,
    accounts: StaffAccountsDep,
    user: StaffDep,
    conversation: str | None = Query(default=None, max_length=36),
) -> StreamingResponse:
    """Server-sent events: `handoff.*` for this person's queues, and the messages and state of
    `?conversation=` when they have one open (access is checked first).

    Each event carries its place in the event log as its SSE `id`; a browser that reconnects sends
    it back (`Last-Event-ID`) and gets every event it missed first. When it missed too many to
    replay, it gets a `resync` event and reloads what it shows."""
    if conversation is not None:
        await anyio.to_thread.run_sync(workspace.check_access, user, conversation)
    inbox = hub.listen_all()
    last_seen = _last_event_id(request)
    missed = (
        await anyio.to_thread.run_sync(lambda: hub.replay(last_seen, limit=REPLAY_LIMIT)) if last_seen else []
    )

    token = request.cookies.get(SESSION_COOKIE, "")

    async def still_signed_in() -> bool:
        found = await anyio.to_thread.run_sync(lambda: accounts.session(token, touch=False))
        return found is not None and found.user.id == user.id

    async def stream() -> AsyncIterator[str]:
        seen = last_seen
        checked = time.monotonic()
        try:
            yield "retry: 2000\n\n"
            if len(missed) >= REPLAY_LIMIT:
                yield "event: resync\ndata: {}\n\n"
            for event in missed:
                seen = max(seen, event.log_seq or 0)
                if visible(event, user, conversation):
                    yield _sse(event)
            # The browser's reconnect point moves with every event passed, shown or not (an `id:`
            # without data sets it and fires nothing): a quiet page does not replay the whole bank.
            if seen:
                yield f"id: {seen}\n\n"
            while True:
                if await request.is_disconnected():
                    return
                if time.monotonic() - checked >= RECHECK_SECONDS:
                    if not await still_signed_in():
                        yield "event: signed_out\ndata: {}\n\n"
                        return
                    checked = time.monotonic()
                try:
                    next_one = await hub.next_event(inbox, timeout=min(HEARTBEAT_SECONDS, RECHECK_SECONDS))
                except StreamEnded as ended:
                    # Shutting down, or too far behind: the browser reconnects (to a running
                    # worker) with the last id it saw and replays the rest.
                    yield f"event: reconnect\ndata: {json.dumps({'reason': ended.reason})}\n\n"
                    return
                if next_one is None:
                    yield f"id: {seen}\n: keep-alive\n\n" if seen else ": keep-alive\n\n"
                    continue
                event = next_one
                if event.log_seq is not None and event.log_seq <= seen:
                    continue  # replayed already
                seen = max(seen, event.log_seq or 0)
                if visible(event, user, conversation):
                    yield _sse(event)
        finally:
            hub.unlisten_all(inbox)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _sse(event: Event) -> str:
    payload = json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
    head = f"id: {event.log_seq}\n" if event.log_seq is not None else ""
    return f"{head}event: {event.type}\ndata: {payload}\n\n"


def _last_event_id(request: Request) -> int:
    raw = request.headers.get("last-event-id") or request.query_params.get("after") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else 0
