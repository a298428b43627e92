"""Human review of the QA engine's findings, and staff quality and coaching, in the console.

Pages (`/console/...`):
- `review`: the QA reviewer's queue (flagged and sampled conversations); `review/done`: reviewed;
- `review/{conversation_id}`: the masked transcript with each finding's evidence highlighted, the
  verdicts and the reviewer's own score (agents open their own conversations here, read-only);
- `review/agreement`: the agreement between reviewers and the QA engine per rule;
- `quality`: every agent's and team's figures (supervisors, QA reviewers), or one's own ("my
  quality"), with coaching suggestions and coaching items.

JSON API (`/console/api/quality/...`): the same, plus the verdicts, reviews and coaching items.
Routes are thin: `helixdesk.quality.review` and `helixdesk.quality.coaching` do the work.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import Field, WithJsonSchema

from helixdesk.auth.roles import is_supervisor
from helixdesk.auth.service import SessionView
from helixdesk.core.inputs import Input
from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import (
    QaReviewerDep,
    QualityReviewDep,
    StaffAccountsDep,
    StaffDep,
    StaffQualityDep,
    StaffSessionDep,
    SupervisorDep,
)
from helixdesk.edge.http import ERROR_RESPONSES, NON_BLANK_TEXT
from helixdesk.edge.i18n import ui_language
from helixdesk.quality.coaching import StaffQuality
from helixdesk.quality.review import VerdictInput
from helixdesk.quality.staff_figures import PERIODS, QualityStats

router = APIRouter(prefix="/console", tags=["quality review and coaching"], responses=ERROR_RESPONSES)
API = "/api/quality"


# A period of the staff quality figures, in days: 7, 30 or 90 (read from the query as an integer).
Period = Annotated[int, WithJsonSchema({"type": "integer", "enum": list(PERIODS)})]


# The schema says what the service accepts, so a schema-valid request is never refused for its form
# (bodies stay under the 64 KiB limit even with every character escaped).
class VerdictIn(Input):
    verdict: Literal["confirmed", "rejected"]
    note: str = Field(default="", max_length=500)


class FindingVerdictIn(VerdictIn):
    finding_id: str = Field(max_length=36)


class ReviewIn(Input):
    score: float = Field(ge=0, le=100, description="The reviewer's own score of the conversation, 0-100.")
    note: str = Field(default="", max_length=2000)
    verdicts: list[FindingVerdictIn] = Field(default_factory=list, max_length=20)


class CoachingIn(Input):
    agent_id: str = Field(max_length=36)
    title: str = Field(min_length=1, max_length=200, pattern=NON_BLANK_TEXT)
    due_on: date = Field(description="A date, e.g. 2026-12-31 (the bank's local date).")
    rule: str | None = Field(default=None, max_length=40)
    detail: str = Field(default="", max_length=2000)
    examples: list[str] = Field(default_factory=list, max_length=10)


class CoachingStatusIn(Input):
    status: Literal["assigned", "in_progress", "done"] = Field(
        description="in_progress or done (a supervisor may reopen: assigned)"
    )
    note: str = Field(default="", max_length=2000)


# ---- review: JSON API ----------------------------------------------------------------------------


@router.get(f"{API}/review-queue")
async def review_queue(
    review: QualityReviewDep, user: QaReviewerDep, done: bool = Query(default=False)
) -> dict[str, Any]:
    """Flagged conversations (findings pending) first, then the sampled ones; `done`: reviewed."""
    items = await anyio.to_thread.run_sync(lambda: review.queue(user, done=done))
    return {"items": [i.to_dict() for i in items], "sample_percent": review.sample_percent}


@router.get(f"{API}/conversations/{{conversation_id}}")
async def review_view(conversation_id: str, review: QualityReviewDep, user: StaffDep) -> dict[str, Any]:
    view = await anyio.to_thread.run_sync(review.open, user, conversation_id)
    return view.to_dict()


@router.post(f"{API}/findings/{{finding_id}}/verdict")
async def verdict(
    finding_id: str, body: VerdictIn, review: QualityReviewDep, user: QaReviewerDep
) -> dict[str, Any]:
    """Confirm or reject one finding; giving a verdict again replaces it."""
    return await anyio.to_thread.run_sync(
        lambda: review.judge(user, finding_id, verdict=body.verdict, note=body.note)
    )


@router.post(f"{API}/conversations/{{conversation_id}}/review")
async def review_conversation(
    conversation_id: str, body: ReviewIn, review: QualityReviewDep, user: QaReviewerDep
) -> dict[str, Any]:
    """The reviewer's own score (0-100) and note, with any verdicts, in one step."""
    verdicts = [VerdictInput(v.finding_id, v.verdict, v.note) for v in body.verdicts]
    return await anyio.to_thread.run_sync(
        lambda: review.review(user, conversation_id, score=body.score, note=body.note, verdicts=verdicts)
    )


@router.post(f"{API}/conversations/{{conversation_id}}/second-opinion")
async def second_opinion(
    request: Request, conversation_id: str, review: QualityReviewDep, user: QaReviewerDep
) -> dict[str, Any]:
    """The optional LLM's score and concerns beside the rule-based result (never replacing it);
    `second_opinion` is null when the model gave no answer that passed the guardrails. `llm_off`
    (409) while the LLM or this use is off (docs/llm.md)."""
    lang = ui_language(request, user.ui_language)
    return await anyio.to_thread.run_sync(lambda: review.second_opinion(user, conversation_id, language=lang))


@router.get(f"{API}/agreement")
async def agreement(
    review: QualityReviewDep,
    _user: QaReviewerDep,
    days: int | None = Query(
        default=None, ge=1, le=3650, description="Findings of the last N days (default: all)."
    ),
) -> dict[str, Any]:
    """Per rule: findings, reviewed, confirmed, rejected, pending and agreement (confirmed / reviewed)."""
    report = await anyio.to_thread.run_sync(lambda: review.agreement(days=days))
    return report.to_dict()


# ---- staff quality and coaching: JSON API -------------------------------------------------------


@router.get(f"{API}/staff")
async def staff_overview(quality: StaffQualityDep, user: StaffDep, days: Period = 30) -> dict[str, Any]:
    """Every agent's and team's figures (supervisors and QA reviewers)."""
    overview = await anyio.to_thread.run_sync(lambda: quality.overview(user, days=days))
    return overview.to_dict()


@router.get(f"{API}/staff/{{agent_id}}")
async def staff_member(
    agent_id: str, quality: StaffQualityDep, user: StaffDep, days: Period = 30
) -> dict[str, Any]:
    """One agent's figures (`me` for one's own)."""
    agent_id = user.id if agent_id == "me" else agent_id
    stats = await anyio.to_thread.run_sync(lambda: quality.agent(user, agent_id, days=days))
    return stats.to_dict()


@router.get(f"{API}/staff/{{agent_id}}/suggestions")
async def suggestions(
    request: Request,
    agent_id: str,
    quality: StaffQualityDep,
    user: StaffDep,
    days: Period = 30,
) -> dict[str, Any]:
    """Coaching suggestions from the pattern of the agent's findings, in the viewer's language."""
    agent_id = user.id if agent_id == "me" else agent_id
    lang = ui_language(request, user.ui_language)
    found = await anyio.to_thread.run_sync(
        lambda: quality.suggestions(user, agent_id, days=days, language=lang)
    )
    return {"suggestions": [s.to_dict() for s in found]}


@router.get(f"{API}/coaching")
async def coaching_items(
    quality: StaffQualityDep,
    user: StaffDep,
    agent_id: str | None = Query(default=None, max_length=36),
    status: Literal["assigned", "in_progress", "done"] | None = Query(default=None),
) -> dict[str, Any]:
    """Coaching items: one's own, or anyone's for supervisors and QA reviewers."""
    items = await anyio.to_thread.run_sync(lambda: quality.items(user, agent_id=agent_id, status=status))
    return {"items": items}


@router.post(f"{API}/coaching")
async def assign_coaching(body: CoachingIn, quality: StaffQualityDep, user: SupervisorDep) -> dict[str, Any]:
    """A supervisor assigns a coaching item to an agent, with a due date."""
    return await anyio.to_thread.run_sync(
        lambda: quality.assign(
            user,
            agent_id=body.agent_id,
            title=body.title,
            due_on=body.due_on,
            rule=body.rule,
            detail=body.detail,
            examples=body.examples,
        )
    )


@router.post(f"{API}/coaching/{{item_id}}/status")
async def coaching_status(
    item_id: str, body: CoachingStatusIn, quality: StaffQualityDep, user: StaffDep
) -> dict[str, Any]:
    """The agent marks their item in progress or done, with a note."""
    return await anyio.to_thread.run_sync(
        lambda: quality.update(user, item_id, status=body.status, note=body.note)
    )


# ---- pages --------------------------------------------------------------------------------------


def _review_page(
    request: Request, session: SessionView, quality: StaffQuality, mode: str, **context: Any
) -> HTMLResponse:
    user = session.user
    rules = quality.guide.names(ui_language(request, user.ui_language))
    return page(
        request, "console_review.html", user=user, csrf=session.csrf_token, mode=mode, rules=rules, **context
    )


@router.get("/review", response_class=HTMLResponse, include_in_schema=False)
@router.get("/review/done", response_class=HTMLResponse, include_in_schema=False)
async def review_page(
    request: Request,
    review: QualityReviewDep,
    quality: StaffQualityDep,
    user: QaReviewerDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    """The queue, or (`/done`) the conversations reviewed, most recently reviewed first."""
    done = request.url.path.endswith("/done")
    items = await anyio.to_thread.run_sync(lambda: review.queue(user, done=done))
    mode = "done" if done else "queue"
    return _review_page(request, session, quality, mode, items=items, sample_percent=review.sample_percent)


@router.get("/review/agreement", response_class=HTMLResponse, include_in_schema=False)
async def agreement_page(
    request: Request,
    review: QualityReviewDep,
    quality: StaffQualityDep,
    _user: QaReviewerDep,
    session: StaffSessionDep,
    days: int | None = Query(default=None),
) -> HTMLResponse:
    days = days if days in PERIODS else None
    report = await anyio.to_thread.run_sync(lambda: review.agreement(days=days))
    return _review_page(request, session, quality, "agreement", report=report, days=days, periods=PERIODS)


@router.get("/review/{conversation_id}", response_class=HTMLResponse, include_in_schema=False)
async def review_conversation_page(
    request: Request,
    conversation_id: str,
    review: QualityReviewDep,
    quality: StaffQualityDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    """One conversation to review (or, for its agent, to read)."""
    view = await anyio.to_thread.run_sync(review.open, session.user, conversation_id)
    return _review_page(
        request, session, quality, "conversation", view=view, second_opinion=review.second_opinion_on
    )


@router.get("/quality", response_class=HTMLResponse, include_in_schema=False)
async def quality_page(
    request: Request,
    quality: StaffQualityDep,
    accounts: StaffAccountsDep,
    session: StaffSessionDep,
    days: int = Query(default=30),
    agent: str | None = Query(default=None, max_length=36),
) -> HTMLResponse:
    """Supervisors and QA reviewers: every agent and team, and one agent in detail (`?agent=`);
    everyone else: their own figures, suggestions and coaching items."""
    user = session.user
    lang = ui_language(request, user.ui_language)
    days = days if days in PERIODS else 30
    everyone = quality.sees_everyone(user)
    agent_id = agent if everyone and agent else user.id

    def load() -> dict[str, Any]:
        overview = quality.overview(user, days=days) if everyone else None
        detail = quality.agent(user, agent_id, days=days) if (agent or not everyone) else None
        return {
            "overview": overview,
            "detail": detail,
            "suggestions": quality.suggestions(user, agent_id, days=days, language=lang) if detail else [],
            "items": quality.items(user, agent_id=agent_id if detail else None),
            "staff": accounts.list_users() if is_supervisor(user.roles) else [],
        }

    data = await anyio.to_thread.run_sync(load)
    return page(
        request,
        "console_quality.html",
        user=user,
        csrf=session.csrf_token,
        days=days,
        periods=PERIODS,
        everyone=everyone,
        can_assign=is_supervisor(user.roles),
        agent_id=agent_id if data["detail"] else None,
        rules=quality.guide.names(lang),
        trend_points=trend_points(data["detail"]) if data["detail"] else [],
        **data,
    )


def trend_points(stats: QualityStats, *, width: int = 320, height: int = 80) -> list[tuple[float, float]]:
    """The weekly QA score as points of an SVG chart (0 at the bottom, 100 at the top); weeks
    without a scored conversation are left out."""
    weeks = stats.trend
    step = width / max(len(weeks) - 1, 1)
    return [
        (round(i * step, 1), round(height - (w.score / 100) * height, 1))
        for i, w in enumerate(weeks)
        if w.score is not None
    ]
