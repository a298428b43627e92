"""After the claim: transfer to another queue or colleague, hand back to the bot, wrap up."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import anyio
from sqlalchemy import select

from helixdesk.auth.models import StaffUser
from helixdesk.auth.roles import QUEUES, queues_for
from helixdesk.auth.service import StaffView
from helixdesk.conversations.models import Conversation, ConversationState, Sender
from helixdesk.conversations.store import add_message, lock_open_conversation
from helixdesk.db.base import utcnow
from helixdesk.db.session import transaction
from helixdesk.dialogue.state import DialogueState, load_state, save_state
from helixdesk.errors import NotFoundError, ValidationFailedError
from helixdesk.events import (
    ConversationStateChanged,
    Event,
    HandoffEnded,
    HandoffQueued,
    MessageSent,
)
from helixdesk.handoff.base import HandoffBase, language_of
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.memory.service import IssueOp, apply_issue_ops

RESOLUTIONS = ("resolved", "unresolved", "follow_up")


class ClosingMixin(HandoffBase):
    async def transfer(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        queue: str | None = None,
        to_username: str | None = None,
        note: str = "",
        now: datetime | None = None,
    ) -> None:
        events = await anyio.to_thread.run_sync(
            lambda: self._do_transfer(user, conversation_id, queue, to_username, note, now or utcnow())
        )
        await self.publish(events)

    def _do_transfer(
        self,
        user: StaffView,
        conversation_id: str,
        queue: str | None,
        to_username: str | None,
        note: str,
        now: datetime,
    ) -> list[Event]:
        with transaction(self._sessions) as s:
            current = self._own(s, user, conversation_id)
            target: StaffUser | None = None
            if to_username:
                target = s.scalar(select(StaffUser).where(StaffUser.username == to_username.strip().lower()))
                if target is None or target.disabled:
                    raise NotFoundError(f"no active colleague named {to_username!r}", code="user_not_found")
                allowed = queues_for(target.roles)
                if not allowed:
                    raise ValidationFailedError(
                        f"{target.display_name} does not take conversations", code="invalid_target"
                    )
                queue = queue or (current.queue if current.queue in allowed else allowed[0])
                if queue not in allowed:
                    raise ValidationFailedError(
                        f"{target.display_name} does not work the {queue} queue", code="invalid_target"
                    )
            if queue not in QUEUES:
                raise ValidationFailedError(f"queue must be one of {', '.join(QUEUES)}", code="invalid_queue")
            conv = lock_open_conversation(s, conversation_id)
            ended = _end(current, conv, "transferred", ConversationState.WAITING_FOR_AGENT, now, queue=queue)
            self.record(
                s,
                user,
                "handoff.transferred",
                conv.id,
                reason=note.strip()[:500],
                details={"from": current.queue, "to": queue, "to_user": target.username if target else None},
            )
            packet = dict(current.packet or {})
            packet["transfer_note"] = note.strip()[:1000]
            rule = self.policy.routing.queues[queue]
            priority = max(current.priority, rule.base)
            offer: list[list[Any]] = [["transfer", {"name": user.display_name, "from_queue": current.queue}]]
            if target is not None:
                offer.append(["offered", {"name": target.display_name, "load": "-"}])
            packet["routing"] = {
                "factors": {
                    "reason": "transfer",
                    "evidence": note.strip()[:200],
                    "queue": queue,
                    "priority": priority,
                },
                "offer": offer,
            }
            new = Handoff(
                conversation_id=conv.id,
                customer_id=conv.customer_id,
                queue=queue,
                status=HandoffStatus.WAITING.value,
                reason="transfer",
                intent=current.intent,
                language=current.language,
                priority=priority,
                score=max(current.score or current.priority, float(rule.base)),
                sla_seconds=rule.sla_seconds,
                explanation=f"transferred by {user.display_name} from the {current.queue} queue"
                + (f": {note.strip()[:200]}" if note.strip() else "")
                + f" → {queue} queue, priority {priority}",
                negativity=current.negativity,
                skills=list(current.skills or []),
                packet=packet,
                offered_to=target.id if target else None,
                offered_at=now if target else None,
                offer_note=f"offered to {target.display_name}" if target else "",
                transferred_from=current.id,
                created_at=now,
            )
            s.add(new)
            s.flush()
            language = language_of(conv)
            text = self.templates.render(
                "handoff.transferred",
                language=language,
                queue_label=self.templates.render(f"queue.{queue}", language=language),
            )
            msg = add_message(s, conv.id, sender=Sender.SYSTEM.value, text=text, meta={"kind": "transferred"})
            return [
                *ended,
                HandoffQueued(
                    conversation_id=conv.id,
                    handoff_id=new.id,
                    queue=queue,
                    priority=new.priority,
                    reason="transfer",
                    explanation=new.explanation,
                    language=new.language,
                    offered_to=new.offered_to,
                ),
                MessageSent(conversation_id=conv.id, message=msg),
            ]

    async def hand_back(self, user: StaffView, conversation_id: str, *, now: datetime | None = None) -> None:
        """Give the conversation back to the bot, which greets the customer again."""
        events = await anyio.to_thread.run_sync(self._do_hand_back, user, conversation_id, now or utcnow())
        await self.publish(events)

    def _do_hand_back(self, user: StaffView, conversation_id: str, now: datetime) -> list[Event]:
        with transaction(self._sessions) as s:
            current = self._own(s, user, conversation_id)
            conv = lock_open_conversation(s, conversation_id)
            ended = _end(current, conv, "handed_back", ConversationState.BOT, now)
            self.record(s, user, "handoff.handed_back", conv.id, details={"queue": current.queue})
            state = load_state(s, conv.id)
            # The bot starts fresh: nothing half-done, no history that would hand over again at once.
            fresh = DialogueState(
                style=state.style, issues_raised=True, tips_given=state.tips_given, version=state.version
            )
            save_state(s, conv.id, fresh)
            text = self.templates.render("handoff.handed_back", language=language_of(conv))
            msg = add_message(s, conv.id, sender=Sender.BOT.value, text=text, meta={"kind": "text"})
            return [*ended, MessageSent(conversation_id=conv.id, message=msg)]

    async def wrap_up(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        disposition: str,
        resolution: str,
        note: str = "",
        now: datetime | None = None,
    ) -> None:
        """Close the conversation with a disposition and a resolution status.

        `follow_up` and `unresolved` leave an open issue on the customer, which the bot raises
        first when they come back.
        """
        if resolution not in RESOLUTIONS:
            raise ValidationFailedError(
                f"resolution must be one of {', '.join(RESOLUTIONS)}", code="invalid_resolution"
            )
        dispositions = self.labels.group("disposition")
        if disposition not in dispositions:
            raise ValidationFailedError(
                f"disposition must be one of {', '.join(dispositions)}", code="invalid_disposition"
            )
        events = await anyio.to_thread.run_sync(
            lambda: self._do_wrap_up(user, conversation_id, disposition, resolution, note, now or utcnow())
        )
        await self.publish(events)

    def _do_wrap_up(
        self,
        user: StaffView,
        conversation_id: str,
        disposition: str,
        resolution: str,
        note: str,
        now: datetime,
    ) -> list[Event]:
        with transaction(self._sessions) as s:
            current = self._own(s, user, conversation_id)
            conv = lock_open_conversation(s, conversation_id)
            current.disposition = disposition
            current.resolution = resolution
            current.wrap_note = note.strip()[:4000] or None
            if resolution != "resolved":
                topic = "agent_follow_up"
                apply_issue_ops(
                    s,
                    [
                        IssueOp(
                            "open",
                            topic=topic,
                            intent=current.intent or "human_agent",
                            facts={"disposition": disposition, "handoff_id": current.id},
                        )
                    ],
                    customer_id=conv.customer_id,
                    conversation_id=conv.id,
                    now=now,
                )
            text = self.templates.render("handoff.wrapped_up", language=language_of(conv))
            msg = add_message(s, conv.id, sender=Sender.SYSTEM.value, text=text, meta={"kind": "closed"})
            ended = _end(current, conv, "closed", ConversationState.CLOSED, now)
            self.record(
                s,
                user,
                "handoff.wrapped_up",
                conv.id,
                details={"queue": current.queue, "disposition": disposition, "resolution": resolution},
            )
            conv.closed_at = now
            return [MessageSent(conversation_id=conv.id, message=msg), *ended]


def _end(
    current: Handoff,
    conv: Conversation,
    status: Literal["transferred", "handed_back", "closed"],
    new_state: ConversationState,
    now: datetime,
    *,
    queue: str | None = None,
) -> list[Event]:
    """End the person's part (in the caller's transaction) and say so to everyone listening."""
    current.status = status
    current.closed_at = now
    old = conv.state
    conv.state = new_state.value
    return [
        HandoffEnded(
            conversation_id=conv.id,
            handoff_id=current.id,
            queue=current.queue,
            status=status,
            agent_id=current.agent_id,
            disposition=current.disposition,
            resolution=current.resolution,
        ),
        ConversationStateChanged(
            conversation_id=conv.id, old_state=old, new_state=conv.state, reason=status, queue=queue
        ),
    ]
