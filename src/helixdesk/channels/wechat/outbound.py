"""Agents' messages to WeChat customers: a durable consumer of `message.sent` events.

When a person has the conversation, what they write is a `MessageSent` event (sender `agent`). For a
conversation of a WeChat openid this consumer sends it through the customer-service message API, to
that conversation's own openid (`wechat_conversations`), also when the openid has moved on to a
new conversation since (the customer bound or unbound in between).
The message is taken for delivery first (a `wechat_deliveries` row, committed before the call), so
a restart, or the batch run again, never sends it twice. When WeChat cannot be reached (or is
busy), the message is given back and the batch stops, to be retried. When WeChat refuses it for
good (out of its 48-hour customer-service window, the customer unsubscribed, ...), it is logged and
the consumer moves on: sending it again would be refused again and hold up every later message.
(A crash between taking and sending loses that one message rather than risk sending it twice.)
Messages older than the 48-hour window are not sent; a long message goes in parts of at most
2,048 bytes, as the bot's answers do.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import DurableConsumer
from helixdesk.channels.wechat.channel import WeChatAccount, split_text
from helixdesk.channels.wechat.errors import WeChatRefusedError
from helixdesk.channels.wechat.store import WeChatStore
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event, MessageSent

log = logging.getLogger(__name__)

CONSUMER = "wechat_outbound"
WINDOW = timedelta(hours=48)


class AgentMessagesOut:
    def __init__(self, accounts: Mapping[str, WeChatAccount], store: WeChatStore) -> None:
        self._accounts = dict(accounts)
        self._store = store
        self.sent = 0

    def send(self, s: Session, events: list[Event]) -> None:
        """Runs before the consumer's write transaction (its `prepare`), in a read-only session: the
        deliveries are taken in transactions of their own, which SQLite's one write lock allows."""
        for event in events:
            self._one(s, event)

    def _one(self, s: Session, event: Event) -> None:
        if not isinstance(event, MessageSent) or event.message.sender != "agent":
            return
        message = event.message
        if utcnow() - message.created_at > WINDOW:
            return
        # The conversation's own openid, even when the openid's current conversation has moved
        # on since (the customer bound or unbound): the agent writes to that person.
        found = self._store.openid_of(s, event.conversation_id)
        if found is None:
            return  # not a WeChat conversation
        kind, openid = found
        account = self._accounts.get(kind)
        if account is None or account.api is None:
            log.warning("an agent's message to a WeChat customer was not sent: the account has no API secret")
            return
        if self._store.take(message.id, event.conversation_id, "api") is not None:
            return  # sent before (a batch run again after a restart)
        try:
            for part in split_text(message.text):
                account.api.send_text(openid, part)
        except WeChatRefusedError as e:
            log.warning("WeChat refused an agent's message (errcode %s); it is not sent again", e.errcode)
            return
        except Exception:
            self._store.release(message.id)
            raise
        self.sent += 1


def outbound_consumer(
    sessions: sessionmaker[Session],
    accounts: Mapping[str, WeChatAccount],
    store: WeChatStore,
    *,
    poll_seconds: float = 1.0,
) -> DurableConsumer:
    out = AgentMessagesOut(accounts, store)
    return DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        handler=_moved_past,
        prepare=out.send,
        # The batch is read and sent first, and the offset then moves past exactly those events
        # (a batch bounded by what was prepared: an event published meanwhile waits for the next).
        prepare_at_idle=True,
        poll_interval=poll_seconds,
    )


def _moved_past(_s: Session, _event: Event) -> None:
    """Nothing to write: the messages were sent (and recorded) before; the offset moves on."""
