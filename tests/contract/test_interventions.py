"""A supervisor's interventions on SQLite and PostgreSQL: reassigning a conversation (waiting, or
with another person) to a queue or a named senior, and whispering to the agent handling it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from helixdesk.audit.models import AuditLogRow
from helixdesk.core.errors import AppError
from helixdesk.core.events import HandoffEnded, HandoffQueued, NoteWhispered
from helixdesk.handoff.models import AgentNote, Handoff
from tests.contract.test_handoff_service import desk, events_of, fraud_conversation, handoff_of, staff

__all__ = ["desk"]


def audit_of(container, conversation_id: str, action: str) -> list[dict]:
    with container.sessions() as s:
        rows = s.scalars(
            select(AuditLogRow)
            .where(AuditLogRow.target_id == conversation_id, AuditLogRow.action == action)
            .order_by(AuditLogRow.seq)
        ).all()
        return [{**json.loads(r.details), "actor": r.actor_id, "why": r.reason} for r in rows]


def handoffs_of(container, conversation_id: str) -> list[tuple[str, str]]:
    with container.sessions() as s:
        rows = s.scalars(
            select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.created_at)
        ).all()
        return [(h.queue, h.status) for h in rows]


# ---- reassign -----------------------------------------------------------------------------------


async def test_a_supervisor_reassigns_a_conversation_another_agent_has_to_the_senior_queue(desk):
    seen = await events_of(desk)
    conv_id = await fraud_conversation(desk)
    fraud = staff(desk, "fraud.a", ["fraud"])
    senior = staff(desk, "senior.a", ["senior"], online=False)
    boss = staff(desk, "sup.a", ["supervisor"])
    await desk.claims.claim(fraud, handoff_of(desk, conv_id).id)

    await desk.transfers.reassign(boss, conv_id, queue="senior", note="客户情绪激动，请资深同事接手")
    assert handoffs_of(desk, conv_id) == [("fraud", "transferred"), ("senior", "waiting")]
    moved = handoff_of(desk, conv_id)
    assert moved.explanation.startswith("reassigned by sup.a from the fraud queue")
    assert moved.packet["transfer_note"] == "客户情绪激动，请资深同事接手"
    assert moved.priority >= 95  # never less urgent than it was
    assert (await desk.conversations.get_conversation(conv_id)).state == "waiting_for_agent"
    assert [i.conversation_id for i in desk.queue.queue_for(senior)] == [conv_id]
    # The agent who had it can no longer write; the customer hears they are being transferred.
    from helixdesk.handoff.errors import NotYourConversationError

    with pytest.raises(NotYourConversationError):
        await desk.workspace.post_message(fraud, conv_id, "还在吗")
    last = (await desk.conversations.list_messages(conv_id))[-1]
    assert last.sender == "system" and "转接" in last.text
    (entry,) = audit_of(desk, conv_id, "handoff.reassigned")
    assert entry["actor"] == boss.id and entry["had"] == fraud.id
    assert (entry["from"], entry["to"]) == ("fraud", "senior")
    await desk.settle()
    assert [(e.status, e.agent_id) for e in seen if isinstance(e, HandoffEnded)] == [
        ("transferred", fraud.id)
    ]
    assert [e.queue for e in seen if isinstance(e, HandoffQueued)] == ["fraud", "senior"]


async def test_a_waiting_conversation_is_reassigned_to_a_named_senior_who_gets_the_offer(desk):
    conv_id = await fraud_conversation(desk)
    senior = staff(desk, "senior.b", ["senior"])
    boss = staff(desk, "sup.a", ["supervisor"])
    await desk.transfers.reassign(boss, conv_id, to_username="Senior.B")
    moved = handoff_of(desk, conv_id)
    assert (moved.queue, moved.status, moved.offered_to) == ("senior", "waiting", senior.id)
    assert handoffs_of(desk, conv_id) == [("fraud", "transferred"), ("senior", "waiting")]
    assert (await desk.conversations.get_conversation(conv_id)).state == "waiting_for_agent"
    item = await desk.claims.claim_next(senior)
    assert item.conversation_id == conv_id


@pytest.mark.parametrize(
    ("who", "kwargs", "code", "status"),
    [
        ("agent", {"queue": "senior"}, "supervisor_only", 403),
        ("boss", {"queue": "vip_lounge"}, "invalid_queue", 422),
        ("boss", {"to_username": "nobody.here"}, "user_not_found", 404),
        ("boss", {}, "invalid_target", 422),
        ("boss", {"queue": "fraud"}, "invalid_target", 422),  # waiting there already
    ],
)
async def test_a_refused_reassign_changes_nothing(desk, who, kwargs, code, status):
    conv_id = await fraud_conversation(desk)
    people = {"agent": staff(desk, "fraud.a", ["fraud"]), "boss": staff(desk, "sup.a", ["supervisor"])}
    before = handoffs_of(desk, conv_id)
    with pytest.raises(AppError) as refused:
        await desk.transfers.reassign(people[who], conv_id, **kwargs)
    assert (refused.value.code, refused.value.http_status) == (code, status)
    assert handoffs_of(desk, conv_id) == before
    assert audit_of(desk, conv_id, "handoff.reassigned") == []


async def test_a_conversation_with_the_bot_has_nothing_to_reassign(desk):
    conv = await desk.conversations.create_conversation(channel="web", customer_ref="C000003")
    await desk.conversations.post_customer_message(conv.id, "今天美元汇率多少")
    boss = staff(desk, "sup.a", ["supervisor"])
    with pytest.raises(AppError) as refused:
        await desk.transfers.reassign(boss, conv.id, queue="senior")
    assert refused.value.code == "not_with_a_person"
    assert handoffs_of(desk, conv.id) == []


# ---- whisper ------------------------------------------------------------------------------------


async def test_a_whisper_reaches_the_agent_only_and_never_the_customer(desk):
    seen = await events_of(desk)
    conv_id = await fraud_conversation(desk)
    fraud = staff(desk, "fraud.a", ["fraud"])
    boss = staff(desk, "sup.a", ["supervisor"])
    await desk.claims.claim(fraud, handoff_of(desk, conv_id).id)
    before = await desk.conversations.list_messages(conv_id)

    note = await desk.whispers.whisper(boss, conv_id, "先安抚客户，再核实身份；客户电话13812345678")
    assert note["kind"] == "whisper" and note["to_agent_id"] == fraud.id and note["author"] == "sup.a"
    assert "13812345678" not in note["text"]  # stored masked, like every note
    assert await desk.conversations.list_messages(conv_id) == before
    view = desk.workspace.view(fraud, conv_id)
    assert [(n["kind"], n["to_agent_id"]) for n in view.notes] == [("whisper", fraud.id)]
    (entry,) = audit_of(desk, conv_id, "conversation.whispered")
    assert entry["to_agent"] == fraud.id and entry["note_id"] == note["id"]
    await desk.settle()
    (event,) = [e for e in seen if isinstance(e, NoteWhispered)]
    assert (event.to_agent_id, event.author_name, event.text) == (fraud.id, "sup.a", note["text"])


async def test_only_a_supervisor_whispers_and_only_to_someone_handling_it(desk):
    conv_id = await fraud_conversation(desk)
    fraud = staff(desk, "fraud.a", ["fraud"])
    boss = staff(desk, "sup.a", ["supervisor"])
    with pytest.raises(AppError) as nobody:
        await desk.whispers.whisper(boss, conv_id, "hello")
    assert nobody.value.code == "not_with_a_person"
    await desk.claims.claim(fraud, handoff_of(desk, conv_id).id)
    with pytest.raises(AppError) as agent:
        await desk.whispers.whisper(fraud, conv_id, "hello")
    assert (agent.value.code, agent.value.http_status) == ("supervisor_only", 403)
    with pytest.raises(AppError) as blank:
        await desk.whispers.whisper(boss, conv_id, "   ")
    assert blank.value.code == "invalid_note"
    with desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AgentNote)) == 0
