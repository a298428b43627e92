"""Messages out to a platform: the bot's replies and agents' messages, through its outbound URL.

Each platform's `outbound` is a URL, a JSON body template and a signature scheme: every string in
the template has its placeholders filled (`{text}`, `{author_id}`, `{author_name}`, `{reply_to}`,
`{message_id}`, `{platform}`; a string that is exactly one placeholder takes its value, null when
there is none), and the body is POSTed signed like the platform's own requests (HMAC-SHA256 in
the configured header), with the message id as `Idempotency-Key`.

The `social_outbound` durable consumer reads `reply.sent` (the bot) and `message.sent` of agents
from the event log; for a conversation of a social author it sends the message. Each message is
taken first (a `social_deliveries` row, committed), so a restart or a batch run again never sends
it twice. When the platform cannot be reached, times out or answers 408, 429 or 5xx, the message
is given back and the batch stops, to be tried again. Any other answer outside 2xx is a refusal
for good: logged, not sent again, and later messages go on. A crash between taking a message and
sending it loses that one message rather than risk sending it twice (as for WeChat, ADR 0006).
Messages older than the platform's `max_age_hours` (24 by default) are not sent.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import DurableConsumer
from helixdesk.channels.social.errors import SocialOutboundError, SocialRefusedError
from helixdesk.channels.social.signing import SignatureScheme
from helixdesk.channels.social.store import Recipient, SocialStore
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event, MessageSent, ReplySent

log = logging.getLogger(__name__)

CONSUMER = "social_outbound"
PLACEHOLDERS = ("text", "author_id", "author_name", "reply_to", "message_id", "platform")
PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
_RETRY_STATUSES = frozenset({408, 429})


def placeholders_in(template: Any) -> set[str]:
    """Every placeholder name used in a body template's strings (keys are left as they are)."""
    if isinstance(template, str):
        return set(PLACEHOLDER.findall(template))
    if isinstance(template, dict):
        return set().union(*(placeholders_in(v) for v in template.values()))
    if isinstance(template, list):
        return set().union(*(placeholders_in(v) for v in template))
    return set()


def render(template: Any, values: Mapping[str, str | None]) -> Any:
    """The template with its placeholders filled in."""
    if isinstance(template, str):
        whole = PLACEHOLDER.fullmatch(template)
        if whole:
            return values.get(whole.group(1))
        return PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or "", template)
    if isinstance(template, dict):
        return {k: render(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, values) for v in template]
    return template


@dataclass(frozen=True, slots=True)
class Outbound:
    url: str
    secret: bytes
    scheme: SignatureScheme
    body: dict[str, Any]
    timeout_seconds: float = 5.0
    max_age: timedelta = timedelta(hours=24)  # older messages are not sent (a platform's reply window)

    def send(self, platform: str, to: Recipient, message_id: str, text: str) -> None:
        """POST one message; raises `SocialRefusedError` (for good) or `SocialOutboundError` (retry)."""
        values = {
            "text": text,
            "author_id": to.author_id,
            "author_name": to.author_name,
            "reply_to": to.reply_to,
            "message_id": message_id,
            "platform": platform,
        }
        raw = json.dumps(render(self.body, values), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message_id,
            **self.scheme.sign(self.secret, raw, time.time()),
        }
        request = urllib.request.Request(self.url, data=raw, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                response.read()
        except urllib.error.HTTPError as e:
            e.close()
            if 400 <= e.code < 500 and e.code not in _RETRY_STATUSES:
                raise SocialRefusedError(f"{platform} refused the message: HTTP {e.code}", e.code) from e
            raise SocialOutboundError(f"{platform} answered HTTP {e.code}") from e
        except (urllib.error.URLError, OSError) as e:
            raise SocialOutboundError(f"{platform} could not be reached: {type(e).__name__}") from e


class MessagesOut:
    """The consumer's work: send each bot reply and agent message of a social conversation once."""

    def __init__(self, outbound: Mapping[str, Outbound | None], store: SocialStore) -> None:
        self._outbound = dict(outbound)
        self._store = store
        self.sent = 0
        self.refused = 0

    def send(self, s: Session, events: list[Event]) -> None:
        """Runs before the consumer's write transaction (its `prepare`), in a read-only session; the
        deliveries are taken in transactions of their own."""
        wanted = [e for e in events if _outgoing(e)]
        if not wanted:
            return
        recipients = self._store.recipients(s, (e.conversation_id for e in wanted))
        for event in wanted:
            to = recipients.get(event.conversation_id)
            if to is not None:
                self._one(event, to)

    def _one(self, event: Event, to: Recipient) -> None:
        assert isinstance(event, ReplySent | MessageSent)
        message = event.message
        outbound = self._outbound.get(to.platform)
        if outbound is None:
            log.warning(
                "a message to a %s author was not sent: the platform has no outbound URL", to.platform
            )
            return
        if utcnow() - message.created_at > outbound.max_age:
            log.warning(
                "a message to a %s author was not sent: it is older than the reply window", to.platform
            )
            return
        if not self._store.take(message.id, event.conversation_id):
            return  # sent before (a batch run again after a restart)
        try:
            outbound.send(to.platform, to, message.id, message.text)
        except SocialRefusedError as e:
            self.refused += 1
            log.warning("%s refused a message (HTTP %s); it is not sent again", to.platform, e.status)
            return
        except Exception:
            self._store.release(message.id)
            raise
        self.sent += 1


def _outgoing(event: Event) -> bool:
    if isinstance(event, ReplySent):
        return True
    return isinstance(event, MessageSent) and event.message.sender == "agent"


def outbound_consumer(
    sessions: sessionmaker[Session],
    out: MessagesOut,
    *,
    poll_seconds: float = 1.0,
) -> DurableConsumer:
    return DurableConsumer(
        name=CONSUMER,
        sessions=sessions,
        handler=_moved_past,
        prepare=out.send,
        # The batch is read and sent first; the offset then moves past exactly those events.
        prepare_at_idle=True,
        poll_interval=poll_seconds,
    )


def _moved_past(_s: Session, _event: Event) -> None:
    """Nothing to write: the messages were sent (and recorded) before; the offset moves on."""
