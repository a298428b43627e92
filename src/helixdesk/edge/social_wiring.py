"""Wiring of the social channel: its platforms from the settings, public comments into insight's
feedback (the channel sits below insight, so the edge joins the two), and the outbound consumer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import DurableConsumer
from helixdesk.channels.social.channel import Comment, CommentSink, SocialChannel
from helixdesk.channels.social.config import load_platforms
from helixdesk.channels.social.outbound import MessagesOut, outbound_consumer
from helixdesk.channels.social.store import SocialStore
from helixdesk.conversations.service import ConversationService
from helixdesk.core.settings import Settings
from helixdesk.insight.feedback import MAX_TEXT, FeedbackInbox, FeedbackItem


def build_social(
    settings: Settings,
    *,
    sessions: sessionmaker[Session],
    conversations: ConversationService,
    feedback: FeedbackInbox,
) -> SocialChannel:
    file = settings.social_platforms_file
    return SocialChannel(
        platforms=load_platforms(file) if file is not None else {},
        store=SocialStore(sessions=sessions),
        conversations=conversations,
        comments=feedback_sink(feedback),
    )


def feedback_sink(feedback: FeedbackInbox) -> CommentSink:
    """Public comments become feedback items of source `social`, their platform as the channel
    (a longer comment is cut at the feedback items' limit)."""

    async def add(comments: Sequence[Comment]) -> Mapping[str, int]:
        items = [
            FeedbackItem(
                source="social",
                channel=c.platform,
                text=c.text[:MAX_TEXT],
                at=c.at,
                language=c.language,
                external_id=c.event_id,
            )
            for c in comments
        ]
        result = await feedback.add(items)
        return {"added": int(result["added"]), "already": int(result["already"])}

    return add


def social_consumer(
    settings: Settings, sessions: sessionmaker[Session], social: SocialChannel
) -> DurableConsumer | None:
    """The `social_outbound` consumer, when any platform is configured."""
    if not social.configured:
        return None
    out = MessagesOut({name: social.platform(name).outbound for name in social.configured}, social.store)
    return outbound_consumer(sessions, out, poll_seconds=settings.outbox_poll_seconds)
