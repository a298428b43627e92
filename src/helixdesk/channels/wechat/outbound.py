"""Agents' messages to WeChat customers: a durable consumer of `message.sent` events.

When a person has the conversation, what they write is a `MessageSent` event (sender `agent`). For a
conversation of a WeChat openid this consumer sends it through the customer-service message API.
The message is taken for delivery (`wechat_deliveries`) in the same transaction as the consumer's
offset, so a restart neither sends it again nor skips it; a send that fails stops the batch, which
is retried. Messages older than WeChat's 48-hour customer-service window are not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import DurableConsumer
from helixdesk.channels.wechat.channel import WeChatAccount
from helixdesk.channels.wechat.models import WeChatDelivery, WeChatUser
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event, MessageSent

log = logging.getLogger(__name__)

CONSUMER = "wechat_outbound"
WINDOW = timedelta(hours=48)


class AgentMessagesOut:
    def __init__(self, accounts: Mapping[str, WeChatAccount]) -> None:
        self._accounts = dict(accounts)
        self.sent = 0

    def handle(self, s: Session, event: Event) -> None:
        if not isinstance(event, MessageSent) or event.message.sender != "agent":
            return
        message = event.message
        if utcnow() - message.created_at > WINDOW:
            return
        row = s.execute(
            select(WeChatUser.account, WeChatUser.openid).where(
                WeChatUser.conversation_id == event.conversation_id
            )
        ).first()
        if row is None:
            return
        account = self._accounts.get(row.account)
        if account is None or account.api is None:
            log.warning("an agent's message to a WeChat customer was not sent: the account has no API secret")
            return
        if s.get(WeChatDelivery, message.id) is not None:
            return
        s.add(WeChatDelivery(message_id=message.id, conversation_id=event.conversation_id, via="api"))
        s.flush()
        account.api.send_text(row.openid, message.text)
        self.sent += 1


def outbound_consumer(
    sessions: sessionmaker[Session], accounts: Mapping[str, WeChatAccount], *, poll_seconds: float = 1.0
) -> DurableConsumer:
    return DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        handler=AgentMessagesOut(accounts).handle,
        poll_interval=poll_seconds,
    )
