"""Staff pages: sign-in, the agent's queue, a conversation, the supervisor's board, knowledge drafts,
users. Server-rendered (Jinja2) with small vendored-free scripts; live updates come over
`/console/api/events` (server-sent events). Every page checks the person's role; every unsafe
request carries the session's CSRF token.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from helixdesk.audit import AuditQuery
from helixdesk.auth.errors import AccountDisabledError, AccountLockedError, InvalidCredentialsError
from helixdesk.auth.service import StaffView
from helixdesk.edge.deps import (
    ANALYTICS_ROLES,
    SESSION_COOKIE,
    AdminDep,
    AgentsDep,
    AuditSearchDep,
    DisclosureDep,
    DraftsDep,
    GoodwillDep,
    LabellingDep,
    LiveDep,
    QueueDep,
    SettingsDep,
    StaffAccountsDep,
    StaffSessionDep,
    SupervisorDep,
    WorkspaceDep,
    client_ip,
)
from helixdesk.edge.i18n import LANG_COOKIE, UI_LANGUAGES, translate, ui_language
from helixdesk.edge.pages import WEB_DIR
from helixdesk.routing.queues import QUEUES

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=WEB_DIR / "templates")
LOGIN_CSRF_COOKIE = "hd_login_csrf"
# Roles that may claim conversations (the console API's AgentDep).
CLAIMING_ROLES = frozenset({"agent", "senior", "fraud", "relationship_manager", "supervisor"})
SCRIPT_LABEL_GROUPS = (
    "sender",
    "conversation_state",
    "presence",
    # the supervisor's board and the interventions on a conversation (supervisor.js, intervene.js)
    "queue",
    "role",
    "channel",
    "goodwill_status",
    "goodwill_reason",
    "tier",  # the SLA breaches on the supervisor's board
    # the customer profile beside a conversation (profile.js)
    "risk_tolerance",
    "language",
    "account_kind",
    "card_kind",
    "churn_band",
    "churn_feature",
    "stage_rule",
    "profile_style",
    "profile_source",
    "interest",
    "spend_category",
)
# Refusals the console words in the person's language (the API's message is in English).
SCRIPT_ERROR_CODES = (
    "compliance_warning",
    # opening the original of an image (a reason is required; helixdesk.handoff.disclosure)
    "reveal_reason_required",
    "image_not_found",
    "agent_offline",
    "agent_away",
    "agent_at_capacity",
    "already_claimed",
    "queue_empty",
    "queue_not_allowed",
    "handoff_not_found",
    "not_your_conversation",
    "colleague_unavailable",
    "user_not_found",
    "invalid_target",
    # interventions (helixdesk.handoff.transfer, .whisper, .goodwill, .follow_up)
    "supervisor_only",
    "not_with_a_person",
    "invalid_queue",
    "invalid_note",
    "goodwill_over_limit",
    "invalid_goodwill_reason",
    "invalid_amount",
    "goodwill_needs_customer",
    "goodwill_decided",
    "goodwill_not_offered",
    "no_account_for_goodwill",
    "due_in_past",
    "due_too_far",
    "invalid_follow_up_title",
    "invalid_owner",
    "follow_up_needs_customer",
    "follow_up_not_found",
    # training mode (helixdesk.simulation.practice)
    "training_session_ended",
    "training_session_not_found",
    "training_session_changed",
    "invalid_training_customer",
    "empty_message",
    # the learning loop (helixdesk.learning: labels, flags, datasets, the model registry)
    "invalid_label",
    "label_item_not_found",
    "already_labelled",
    "item_resolved",
    "needs_supervisor",
    "not_a_customer_message",
    "message_not_found",
    "no_labels",
    "model_not_found",
    "model_gate_failed",
    "override_reason_required",
    "model_already_live",
    "no_previous_model",
    "no_shadow",
)


def cookie_secure(request: Request, setting: str) -> bool:
    if setting == "always":
        return True
    if setting == "never":
        return False
    return request.url.scheme == "https"


def _safe_next(value: str | None) -> str:
    """Only a path inside the console: never an absolute URL (no open redirects)."""
    if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


def page(
    request: Request, name: str, *, user: StaffView | None, csrf: str = "", status: int = 200, **context: Any
) -> HTMLResponse:
    lang = ui_language(request, user.ui_language if user else None)
    # One table words every code a page shows: the product's value labels under the pack's labels.
    labels = request.app.state.container.config.labels
    claims = user is not None and bool(set(user.roles) & CLAIMING_ROLES)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "user": user,
            "csrf": csrf,
            "lang": lang,
            "languages": UI_LANGUAGES,
            "t": lambda key: translate(key, lang),
            "label": lambda group, key: labels.get(group, key, lang),
            "can_claim": claims,
            "analytics_roles": ANALYTICS_ROLES,  # who sees the dashboards' link
            # What the page's script words itself: codes it receives live, and refusals.
            "words": {
                "labels": labels.table(SCRIPT_LABEL_GROUPS, lang),
                "errors": {code: translate(f"error_{code}", lang) for code in SCRIPT_ERROR_CODES},
            },
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang") in UI_LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


# ---- signing in ---------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/console") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    response = page(request, "console_login.html", user=None, csrf=token, next=_safe_next(next), error=None)
    secure = cookie_secure(request, request.app.state.container.settings.cookie_secure)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/console"
    )
    return response


@router.post("/login", response_model=None)
async def login(
    request: Request,
    settings: SettingsDep,
    staff: StaffAccountsDep,
    username: str = Form(max_length=64),
    password: str = Form(max_length=256),
    csrf_token: str = Form(max_length=128),
    next: str = Form(default="/console", max_length=512),
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    error: str | None = None
    status = 401
    if not expected or not secrets.compare_digest(expected, csrf_token):
        error, status = "the sign-in form expired; please try again", 403
    else:
        try:
            signed = await anyio.to_thread.run_sync(
                lambda: staff.sign_in(
                    username, password, ip=client_ip(request), user_agent=request.headers.get("user-agent")
                )
            )
        except (InvalidCredentialsError, AccountLockedError, AccountDisabledError) as e:
            error, status = e.detail, e.http_status
        else:
            redirect = RedirectResponse(_safe_next(next), status_code=303)
            redirect.set_cookie(
                SESSION_COOKIE,
                signed.token,
                httponly=True,
                samesite="lax",
                secure=cookie_secure(request, settings.cookie_secure),
                path="/",
                max_age=int(staff.max_age.total_seconds()),
            )
            redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/console")
            return redirect
    token = secrets.token_urlsafe(24)
    response = page(
        request,
        "console_login.html",
        user=None,
        csrf=token,
        next=_safe_next(next),
        error=error,
        username=username,
        status=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request, settings.cookie_secure),
        path="/console",
    )
    return response


@router.post("/logout")
async def logout(
    request: Request, agents: AgentsDep, staff: StaffAccountsDep, session: StaffSessionDep
) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE, "")
    await anyio.to_thread.run_sync(staff.sign_out, token)
    if session.user.presence != "offline":
        await anyio.to_thread.run_sync(agents.set_presence, session.user.id, "offline")
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- pages --------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse, response_model=None)
async def queue_page(
    request: Request, queue: QueueDep, agents: AgentsDep, hub: LiveDep, session: StaffSessionDep
) -> Response:
    user = session.user
    if user.can_label and not set(user.roles) & CLAIMING_ROLES:
        return RedirectResponse("/console/labelling", status_code=303)  # an annotator's desk
    lang = ui_language(request, user.ui_language)
    events_after = await anyio.to_thread.run_sync(hub.newest)  # read before the data it shows
    items = await anyio.to_thread.run_sync(lambda: queue.queue_for(user, language=lang))
    load = await anyio.to_thread.run_sync(lambda: agents.load_of(user.id))
    return page(
        request,
        "console_queue.html",
        user=user,
        csrf=session.csrf_token,
        items=items,
        load=load,
        queues=user.queues,
        events_after=events_after,
    )


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(
    request: Request,
    conversation_id: str,
    queue: QueueDep,
    workspace: WorkspaceDep,
    disclosure: DisclosureDep,
    goodwill: GoodwillDep,
    labelling: LabellingDep,
    hub: LiveDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    user = session.user
    lang = ui_language(request, user.ui_language)
    events_after = await anyio.to_thread.run_sync(hub.newest)  # read before the data it shows
    view = await anyio.to_thread.run_sync(lambda: workspace.view(user, conversation_id, language=lang))
    revealable = await anyio.to_thread.run_sync(disclosure.revealable, user, conversation_id)
    labels = queue.labels
    return page(
        request,
        "console_conversation.html",
        user=user,
        csrf=session.csrf_token,
        view=view,
        events_after=events_after,
        revealable=revealable,
        queues=QUEUES,
        dispositions=list(labels.group("disposition")),
        goodwill=goodwill.policy,
        # "misunderstood?" on a customer message: what the customer meant (flag.js)
        flag_intents=sorted(labelling.vocabulary.intents, key=lambda i: labels.get("intent", i, lang)),
    )


@router.get("/supervisor", response_class=HTMLResponse)
async def supervisor_page(
    request: Request,
    queue: QueueDep,
    agents: AgentsDep,
    hub: LiveDep,
    user: SupervisorDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    events_after = await anyio.to_thread.run_sync(hub.newest)  # read before the data it shows
    loads = await anyio.to_thread.run_sync(agents.loads)
    lang = ui_language(request, user.ui_language)
    items = await anyio.to_thread.run_sync(lambda: queue.queue_for(user, language=lang))
    return page(
        request,
        "console_supervisor.html",
        user=user,
        csrf=session.csrf_token,
        loads=sorted(loads, key=lambda a: -a.load.load),
        items=items,
        queues=QUEUES,
        events_after=events_after,
        # The intents a drift alarm names, in the page's language.
        drift_intents=request.app.state.container.config.labels.table(("intent",), lang)["intent"],
    )


@router.get("/drafts", response_class=HTMLResponse)
async def drafts_page(
    request: Request, drafts: DraftsDep, user: SupervisorDep, session: StaffSessionDep
) -> HTMLResponse:
    waiting = await anyio.to_thread.run_sync(drafts.list)
    return page(request, "console_drafts.html", user=user, csrf=session.csrf_token, drafts=waiting)


@router.get("/users", response_class=HTMLResponse)
async def users_page(
    request: Request, staff: StaffAccountsDep, user: AdminDep, session: StaffSessionDep
) -> HTMLResponse:
    users = await anyio.to_thread.run_sync(staff.list_users)
    return page(request, "console_users.html", user=user, csrf=session.csrf_token, users=users)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request,
    audit: AuditSearchDep,
    user: SupervisorDep,
    actor_kind: str = "",
    actor_id: str = "",
    customer_ref: str = "",
    action: str = "",
    target_id: str = "",
    since: str = "",
    until: str = "",
    before_seq: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> HTMLResponse:
    """The audit log for supervisors: who did what to which customer's data, newest first."""
    query = AuditQuery(
        actor_kind=actor_kind[:16] or None,
        actor_id=actor_id[:128] or None,
        customer_ref=customer_ref[:36] or None,
        action=action[:64] or None,
        target_id=target_id[:128] or None,
        since=_local_time(since),
        until=_local_time(until),
        before_seq=before_seq,
        limit=100,
    )

    entries = await anyio.to_thread.run_sync(audit.search, query)
    next_before = entries[-1].seq if len(entries) == query.limit else None
    return templates.TemplateResponse(
        request,
        "audit.html",
        {
            "title": "Helixdesk",
            "entries": entries,
            "query": query,
            "action_url": "/console/audit",
            "next_before_seq": next_before,
        },
    )


def _local_time(value: str) -> datetime | None:
    """A `datetime-local` form value (taken as UTC); anything unparsable is ignored."""
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
