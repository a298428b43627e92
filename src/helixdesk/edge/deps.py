"""FastAPI dependencies as `Annotated` aliases: each route asks for the one service it uses.

The container is built in the app's lifespan (`helixdesk.edge.app`); nothing here is global.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.abuse import AbuseLimits
from helixdesk.actions.rates import RateService
from helixdesk.agents.service import AgentDirectory
from helixdesk.analytics.service import AnalyticsReader
from helixdesk.audit.service import AuditSearch
from helixdesk.auth.apikeys import ApiKeys, ApiKeyView, ChannelCaller
from helixdesk.auth.errors import AuthRequiredError, CsrfError, ForbiddenError
from helixdesk.auth.roles import INCIDENT_ROLES, LABELLING_ROLES, MODEL_ROLES, STRATEGY_ROLES
from helixdesk.auth.service import SessionView, StaffAccounts, StaffView
from helixdesk.channels.social.channel import SocialChannel
from helixdesk.channels.wechat.channel import WeChatChannel
from helixdesk.conversations.earlier import EarlierConversations
from helixdesk.conversations.images import ImageMessages
from helixdesk.conversations.ratings import Ratings
from helixdesk.conversations.service import ConversationService
from helixdesk.conversations.voice import VoiceMessages
from helixdesk.core.settings import Settings
from helixdesk.drift.board import DriftBoard
from helixdesk.edge.container import Container
from helixdesk.edge.live import LiveHub
from helixdesk.handoff.claiming import Claims
from helixdesk.handoff.disclosure import Disclosure
from helixdesk.handoff.drafts import KnowledgeDrafts
from helixdesk.handoff.follow_up import FollowUps
from helixdesk.handoff.goodwill import Goodwill
from helixdesk.handoff.hand_back import HandBack
from helixdesk.handoff.queue_view import QueueView
from helixdesk.handoff.transfer import Transfers
from helixdesk.handoff.whisper import Whispers
from helixdesk.handoff.workspace import AgentWorkspace
from helixdesk.handoff.wrap_up import WrapUp
from helixdesk.incidents.register import IncidentRegister
from helixdesk.insight.feedback import FeedbackInbox
from helixdesk.insight.proposals import Proposals
from helixdesk.insight.service import Insight
from helixdesk.insight.spikes import SpikeSuggestions
from helixdesk.knowledge.uploads import UploadJobs
from helixdesk.knowledge.workspace import KnowledgeWorkspace
from helixdesk.learning.datasets import Datasets
from helixdesk.learning.queue import Labelling
from helixdesk.learning.registry import ModelRegistry
from helixdesk.learning.watch import LiveModelWatch
from helixdesk.lifecycle.profiles import CustomerProfiles
from helixdesk.lifecycle.store import StrategyStore
from helixdesk.nlu.batcher import Parser
from helixdesk.notifications.notifier import OutboxReader
from helixdesk.notifications.optouts import OptOuts
from helixdesk.outreach.campaigns import Campaigns
from helixdesk.quality.coaching import StaffQuality
from helixdesk.quality.live import AlertBoard, DraftCheck
from helixdesk.quality.review import QualityReview
from helixdesk.simulation.practice import TrainingRoom

SESSION_COOKIE = "hd_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _part(name: str) -> Callable[[Request], Any]:
    def get(request: Request) -> Any:
        return getattr(_container(request), name)

    get.__name__ = f"get_{name}"
    return get


def _bank_zone(request: Request) -> tzinfo:
    """The bank's time zone (the pack's, or the `bank_timezone` setting)."""
    return _container(request).config.actions.bank.tz


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _channel_caller(request: Request) -> ChannelCaller:
    """The caller of the customer API: `X-Api-Key`, a conversation token, or nobody."""
    container = _container(request)
    api_key = None
    raw_key = request.headers.get("x-api-key")
    if raw_key:
        api_key = await anyio.to_thread.run_sync(container.api_keys.verify, raw_key)
    token = request.headers.get("x-conversation-token")
    auth = request.headers.get("authorization", "")
    if not token and auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
    return ChannelCaller(api_key=api_key, token=token or None, ip=client_ip(request))


class LoginRequiredError(AuthRequiredError):
    """No valid staff session: pages redirect to the sign-in page, the staff API answers 401."""


async def _staff_session(request: Request) -> SessionView:
    cached: SessionView | None = getattr(request.state, "staff_session", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await anyio.to_thread.run_sync(_container(request).staff.session, token) if token else None
    if session is None:
        raise LoginRequiredError("sign in first")
    await _check_csrf(request, session)
    request.state.staff_session = session
    return session


async def _check_csrf(request: Request, session: SessionView) -> None:
    """Unsafe requests made with the session cookie must carry the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, session.csrf_token):
        raise CsrfError("the form has expired or did not come from this site; reload the page and try again")


async def _staff(session: Annotated[SessionView, Depends(_staff_session)]) -> StaffView:
    return session.user


def require_scope(scope: str) -> Callable[..., Awaitable[ApiKeyView]]:
    """A dependency that lets in only callers with an API key holding `scope`."""

    async def check(caller: Annotated[ChannelCaller, Depends(_channel_caller)]) -> ApiKeyView:
        if caller.api_key is None:
            raise AuthRequiredError(f"send an API key with the '{scope}' scope (X-Api-Key)")
        if not caller.api_key.allows(scope):
            raise ForbiddenError(f"this API key lacks the '{scope}' scope")
        return caller.api_key

    return check


def require_roles(*roles: str) -> Callable[..., Awaitable[StaffView]]:
    """A dependency that lets in only staff holding one of `roles`."""

    async def check(user: Annotated[StaffView, Depends(_staff)]) -> StaffView:
        if not set(roles) & set(user.roles):
            raise ForbiddenError(f"this needs one of the roles: {', '.join(roles)}")
        return user

    return check


ContainerDep = Annotated[Container, Depends(_container)]
SettingsDep = Annotated[Settings, Depends(_part("settings"))]
ConversationsDep = Annotated[ConversationService, Depends(_part("conversations"))]
EarlierDep = Annotated[EarlierConversations, Depends(_part("earlier"))]
WeChatDep = Annotated[WeChatChannel, Depends(_part("wechat"))]
SocialDep = Annotated[SocialChannel, Depends(_part("social"))]
ImagesDep = Annotated[ImageMessages, Depends(_part("images"))]
VoiceDep = Annotated[VoiceMessages, Depends(_part("voice"))]
ParserDep = Annotated[Parser, Depends(_part("parser"))]
BankZoneDep = Annotated[tzinfo, Depends(_bank_zone)]
LiveDep = Annotated[LiveHub, Depends(_part("live"))]
QueueDep = Annotated[QueueView, Depends(_part("queue"))]
ClaimsDep = Annotated[Claims, Depends(_part("claims"))]
TransfersDep = Annotated[Transfers, Depends(_part("transfers"))]
HandBackDep = Annotated[HandBack, Depends(_part("hand_back"))]
WrapUpDep = Annotated[WrapUp, Depends(_part("wrap_up"))]
WorkspaceDep = Annotated[AgentWorkspace, Depends(_part("workspace"))]
DisclosureDep = Annotated[Disclosure, Depends(_part("disclosure"))]
DraftsDep = Annotated[KnowledgeDrafts, Depends(_part("drafts"))]
# The knowledge workspace.
KnowledgeWorkspaceDep = Annotated[KnowledgeWorkspace, Depends(_part("kb_workspace"))]
UploadJobsDep = Annotated[UploadJobs, Depends(_part("kb_uploads"))]
KnowledgeEditorDep = Annotated[StaffView, Depends(require_roles("knowledge_editor", "supervisor", "admin"))]
AgentsDep = Annotated[AgentDirectory, Depends(_part("agents"))]
StaffAccountsDep = Annotated[StaffAccounts, Depends(_part("staff"))]
ApiKeysDep = Annotated[ApiKeys, Depends(_part("api_keys"))]
RatesDep = Annotated[RateService, Depends(_part("rates"))]
OutboxDep = Annotated[OutboxReader, Depends(_part("outbox"))]
AuditSearchDep = Annotated[AuditSearch, Depends(_part("audit_search"))]
ChannelCallerDep = Annotated[ChannelCaller, Depends(_channel_caller)]
StaffSessionDep = Annotated[SessionView, Depends(_staff_session)]
StaffDep = Annotated[StaffView, Depends(_staff)]
SupervisorDep = Annotated[StaffView, Depends(require_roles("supervisor"))]
AdminDep = Annotated[StaffView, Depends(require_roles("admin"))]
NluKeyDep = Annotated[ApiKeyView, Depends(require_scope("nlu"))]
RatesKeyDep = Annotated[ApiKeyView, Depends(require_scope("rates:write"))]
AgentDep = Annotated[
    StaffView, Depends(require_roles("agent", "senior", "fraud", "relationship_manager", "supervisor"))
]
LimitsDep = Annotated[AbuseLimits, Depends(_part("limits"))]
DraftCheckDep = Annotated[DraftCheck, Depends(_part("draft_check"))]
AlertBoardDep = Annotated[AlertBoard, Depends(_part("alert_board"))]
TrainingDep = Annotated[TrainingRoom, Depends(_part("training"))]
WhispersDep = Annotated[Whispers, Depends(_part("whispers"))]
GoodwillDep = Annotated[Goodwill, Depends(_part("goodwill"))]
FollowUpsDep = Annotated[FollowUps, Depends(_part("follow_ups"))]
RatingsDep = Annotated[Ratings, Depends(_part("ratings"))]
# Quality review and coaching.
QualityReviewDep = Annotated[QualityReview, Depends(_part("qa_review"))]
StaffQualityDep = Annotated[StaffQuality, Depends(_part("staff_quality"))]
QaReviewerDep = Annotated[StaffView, Depends(require_roles("qa_reviewer", "supervisor"))]
# Insight: hotspots.
InsightDep = Annotated[Insight, Depends(_part("insight"))]
ProposalsDep = Annotated[Proposals, Depends(_part("proposals"))]
FeedbackDep = Annotated[FeedbackInbox, Depends(_part("feedback"))]
# Admins run the system and see no customer text: insight is for supervisors and QA reviewers.
INSIGHT_ROLES = ("supervisor", "qa_reviewer")
InsightReaderDep = Annotated[StaffView, Depends(require_roles(*INSIGHT_ROLES))]
FeedbackImporterDep = Annotated[StaffView, Depends(require_roles("supervisor"))]
# Analytics: the dashboards, for supervisors and managers.
ANALYTICS_ROLES = ("supervisor", "manager")
AnalyticsDep = Annotated[AnalyticsReader, Depends(_part("analytics"))]
AnalyticsReaderDep = Annotated[StaffView, Depends(require_roles(*ANALYTICS_ROLES))]
# Drift of the bot's understanding: read with the analytics, alarms resolved by supervisors.
DriftBoardDep = Annotated[DriftBoard, Depends(_part("drift_board"))]
# The incident register: operators, supervisors and admins.
IncidentsDep = Annotated[IncidentRegister, Depends(_part("incidents"))]
CampaignsDep = Annotated[Campaigns, Depends(_part("campaigns"))]
# A customer's notification opt-outs: staff who speak with customers, on their request.
OptOutsDep = Annotated[OptOuts, Depends(_part("opt_outs"))]
OPT_OUT_ROLES = ("agent", "senior", "fraud", "relationship_manager", "supervisor")
OptOutStaffDep = Annotated[StaffView, Depends(require_roles(*OPT_OUT_ROLES))]
# The customer profile beside a conversation (the churn model loaded once).
ProfilesDep = Annotated[CustomerProfiles, Depends(_part("profiles"))]
SessionsDep = Annotated[sessionmaker[Session], Depends(_part("sessions"))]
IncidentManagerDep = Annotated[StaffView, Depends(require_roles(*INCIDENT_ROLES))]
# Spikes the register suggests opening an incident for: operators and supervisors (they quote
# customers' messages, which admins do not see), who may also open the hotspot's page.
SPIKE_ROLES = ("operator", "supervisor")
SpikesDep = Annotated[SpikeSuggestions, Depends(_part("spikes"))]
SpikeReaderDep = Annotated[StaffView, Depends(require_roles(*SPIKE_ROLES))]
HotspotReaderDep = Annotated[StaffView, Depends(require_roles(*INSIGHT_ROLES, "operator"))]
# The lifecycle strategies: supervisors and admins.
StrategiesDep = Annotated[StrategyStore, Depends(_part("strategies"))]
StrategyEditorDep = Annotated[StaffView, Depends(require_roles(*STRATEGY_ROLES))]
# A strategy's effect against its holdout group: its editors and the analytics' readers.
STRATEGY_EFFECT_ROLES = tuple(dict.fromkeys((*STRATEGY_ROLES, *ANALYTICS_ROLES)))
StrategyEffectReaderDep = Annotated[StaffView, Depends(require_roles(*STRATEGY_EFFECT_ROLES))]
# Learning: the labelling queue (annotators, supervisors) and the model registry (supervisors, admins).
LabellingDep = Annotated[Labelling, Depends(_part("labelling"))]
DatasetsDep = Annotated[Datasets, Depends(_part("datasets"))]
RegistryDep = Annotated[ModelRegistry, Depends(_part("registry"))]
ModelWatchDep = Annotated[LiveModelWatch, Depends(_part("model_watch"))]
AnnotatorDep = Annotated[StaffView, Depends(require_roles(*LABELLING_ROLES))]
ModelManagerDep = Annotated[StaffView, Depends(require_roles(*MODEL_ROLES))]
