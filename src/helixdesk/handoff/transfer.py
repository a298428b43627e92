"""Transferring a conversation to another queue or a named colleague, and a supervisor reassigning it.

The person's part ends; a new handoff waits in the target queue, routed by the same decision as a
first handover (`helixdesk.handoff.queueing.route`) from the packet's risk and emotion, never less
urgent than it was. A named colleague who is online gets the offer; otherwise the routing offers it.

`reassign` is the same move made by a supervisor on a conversation they are not handling: one still
waiting in a queue, or one another person has. It is audited as `handoff.reassigned` (who had it,
from and to which queue, the note), with the same handoff events and the same word to the customer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio
from sqlalchemy import select

from helixdesk.auth.models import StaffUser
from helixdesk.auth.service import StaffView
from helixdesk.bus import outbox
from helixdesk.conversations.models import ConversationState, Sender
from helixdesk.conversations.writer import NewMessage
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.core.events import HandoffQueued
from helixdesk.core.languages import language_or_default
from helixdesk.db.session import transaction
from helixdesk.handoff.common import Desk, active_handoff, end, own, record
from helixdesk.handoff.errors import ColleagueUnavailableError, NotWithAPersonError, SupervisorOnlyError
from helixdesk.handoff.models import Handoff, HandoffStatus
from helixdesk.handoff.queueing import route
from helixdesk.routing.queues import QUEUES, queues_for


class Transfers:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

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
        await anyio.to_thread.run_sync(
            lambda: self._transfer(
                user, conversation_id, queue, to_username, note.strip(), now or utcnow(), reassign=False
            )
        )
        self._desk.committed()

    async def reassign(
        self,
        user: StaffView,
        conversation_id: str,
        *,
        queue: str | None = None,
        to_username: str | None = None,
        note: str = "",
        now: datetime | None = None,
    ) -> None:
        """A supervisor moves a conversation waiting for or with a person to a queue or a colleague."""
        if not user.is_supervisor:
            raise SupervisorOnlyError("only a supervisor may reassign a conversation")
        if not queue and not to_username:
            raise ValidationFailedError("give a queue or a colleague to reassign to", code="invalid_target")
        await anyio.to_thread.run_sync(
            lambda: self._transfer(
                user, conversation_id, queue, to_username, note.strip(), now or utcnow(), reassign=True
            )
        )
        self._desk.committed()

    def _transfer(
        self,
        user: StaffView,
        conversation_id: str,
        queue: str | None,
        to_username: str | None,
        note: str,
        now: datetime,
        *,
        reassign: bool,
    ) -> None:
        desk = self._desk
        privacy = desk.writer.privacy
        with transaction(desk.sessions) as s:
            if reassign:
                found = active_handoff(s, conversation_id)
                if found is None:
                    raise NotWithAPersonError("the conversation is not waiting for or with a person")
                current = found
            else:
                current = own(s, user, conversation_id)
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
                if target.presence != "online":
                    # An offer to someone who is not there would hold the conversation back.
                    raise ColleagueUnavailableError(f"{target.display_name} is {target.presence}")
            if queue not in QUEUES:
                raise ValidationFailedError(f"queue must be one of {', '.join(QUEUES)}", code="invalid_queue")
            if target is not None and target.id == current.agent_id:
                raise ValidationFailedError(
                    f"{target.display_name} is handling this conversation already", code="invalid_target"
                )
            if target is None and current.status == HandoffStatus.WAITING.value and queue == current.queue:
                raise ValidationFailedError(
                    f"the conversation is waiting in the {queue} queue already", code="invalid_target"
                )
            # The note is the agent's words: stored masked, like every message.
            masked_note = privacy.mask(note[:1000]).text
            conv = desk.writer.lock(s, conversation_id)
            had = current.agent_id
            end(desk, s, current, conv, "transferred", ConversationState.WAITING_FOR_AGENT, now, queue=queue)
            record(
                desk,
                s,
                user,
                "handoff.reassigned" if reassign else "handoff.transferred",
                conv.id,
                reason=masked_note[:500],
                details={
                    "from": current.queue,
                    "to": queue,
                    "to_user": target.username if target else None,
                    **({"had": had} if reassign else {}),
                },
            )
            packet = dict(current.packet or {})
            packet["transfer_note"] = masked_note
            routed = route(
                desk,
                s,
                queue=queue,
                reason="transfer",
                evidence=masked_note[:200],
                intent=current.intent,
                language=current.language,
                risk=packet.get("risk") or [],
                emotions=packet.get("emotions") or [],
                profile=None,
                now=now,
                # The first-response target is the new queue's for this customer and channel.
                channel=conv.channel,
                tier=(packet.get("customer") or {}).get("value_tier"),
            )
            decision = routed.decision
            priority = max(decision.priority, current.priority)
            offer: list[list[Any]] = [["transfer", {"name": user.display_name, "from_queue": current.queue}]]
            offered_to: str | None
            if target is not None:
                offered_to, offer_note = target.id, f"offered to {target.display_name}"
                offer.append(["offered", {"name": target.display_name, "load": "-"}])
            else:
                offered_to, offer_note = routed.offer.agent_id, routed.offer.note
                offer += [[c, v] for c, v in routed.offer.reasons]
            packet["routing"] = {"factors": {**decision.factors, "priority": priority}, "offer": offer}
            new = Handoff(
                conversation_id=conv.id,
                customer_id=conv.customer_id,
                queue=queue,
                status=HandoffStatus.WAITING.value,
                reason="transfer",
                intent=current.intent,
                language=current.language,
                priority=priority,
                score=max(decision.score, current.score or current.priority),
                sla_seconds=decision.sla_seconds,
                explanation=f"{'reassigned' if reassign else 'transferred'} by {user.display_name} "
                f"from the {current.queue} queue"
                + (f": {masked_note[:200]}" if masked_note else "")
                + f" → {queue} queue, priority {priority}",
                negativity=current.negativity,
                skills=list(decision.skills),
                packet=packet,
                offered_to=offered_to,
                offered_at=now if offered_to else None,
                offer_note=offer_note,
                transferred_from=current.id,
                created_at=now,
            )
            s.add(new)
            s.flush()
            outbox.record(
                s,
                [
                    HandoffQueued(
                        conversation_id=conv.id,
                        handoff_id=new.id,
                        queue=queue,
                        priority=new.priority,
                        reason="transfer",
                        explanation=new.explanation,
                        language=new.language,
                        offered_to=new.offered_to,
                    )
                ],
            )
            language = language_or_default(conv.language)
            text = desk.templates.render(
                "handoff.transferred",
                language=language,
                queue_label=desk.templates.render(f"queue.{queue}", language=language),
            )
            desk.writer.append(
                s, conv, NewMessage(sender=Sender.SYSTEM, text=text, meta={"kind": "transferred"})
            )
