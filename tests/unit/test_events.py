"""Every event type has a schema and round-trips through JSON unchanged."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from helixdesk.core.events import (
    EVENT_TYPES,
    Citation,
    ConversationCreated,
    ConversationRated,
    ConversationStateChanged,
    HandoffAnswered,
    HandoffClaimed,
    HandoffEnded,
    HandoffQueued,
    MessageData,
    MessageReceived,
    MessageSent,
    NoteWhispered,
    QualityAlertRaised,
    ReplySent,
    event_from_json,
    event_to_json,
)

MESSAGE = MessageData(
    id="m1",
    conversation_id="c1",
    seq=1,
    sender="customer",
    text="你好",
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
)

EXAMPLES = [
    ConversationRated(conversation_id="c1", score=2, has_comment=True),
    NoteWhispered(conversation_id="c1", note_id=3, to_agent_id="a1", author_name="Lin", text="先道歉"),
    QualityAlertRaised(
        conversation_id="c1", alert_id="x1", kind="rising_anger", severity="high", reason="anger rose"
    ),
    ConversationCreated(conversation_id="c1", channel="web", customer_id="u1", customer_ref="C000001"),
    MessageReceived(conversation_id="c1", message=MESSAGE),
    ReplySent(
        conversation_id="c1", message=MESSAGE.model_copy(update={"sender": "bot", "seq": 2}), intent=None
    ),
    ReplySent(
        conversation_id="c1",
        message=MESSAGE.model_copy(
            update={
                "sender": "bot",
                "seq": 3,
                "kind": "answer",
                "citations": (
                    Citation(title="retail_bank FAQ", source="pack:retail_bank/kb/faq.yaml", ref="x"),
                ),
            }
        ),
        intent="account_opening",
    ),
    ConversationStateChanged(
        conversation_id="c1", old_state="bot", new_state="waiting_for_agent", reason="asked"
    ),
    MessageSent(
        conversation_id="c1",
        message=MESSAGE.model_copy(
            update={"sender": "agent", "seq": 3, "author": "李娜", "author_role": "fraud"}
        ),
    ),
    HandoffQueued(
        conversation_id="c1",
        handoff_id="h1",
        queue="fraud",
        priority=95,
        reason="fraud_risk",
        explanation='fraud_risk ("被盗刷") + fear 0.80 → fraud queue, priority 95',
        language="zh-Hans",
        offered_to=None,
    ),
    HandoffClaimed(
        conversation_id="c1",
        handoff_id="h1",
        queue="fraud",
        agent_id="a1",
        agent_name="李娜",
        agent_role="fraud",
    ),
    HandoffAnswered(
        conversation_id="c1", handoff_id="h1", queue="fraud", agent_id="a1", waited_seconds=25, sla_seconds=20
    ),
    HandoffEnded(
        conversation_id="c1",
        handoff_id="h1",
        queue="fraud",
        status="closed",
        agent_id="a1",
        disposition="card_frozen",
        resolution="resolved",
    ),
]


def test_every_event_type_has_an_example():
    assert {type(e) for e in EXAMPLES} == set(EVENT_TYPES)


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_round_trip(event):
    back = event_from_json(event_to_json(event))
    assert back == event
    assert type(back) is type(event)


def test_event_ids_are_unique():
    assert (
        len(
            {
                ConversationStateChanged(conversation_id="c", old_state="a", new_state="b").event_id
                for _ in range(100)
            }
        )
        == 100
    )


def test_unknown_type_is_rejected():
    with pytest.raises(ValidationError):
        event_from_json('{"type": "nope", "conversation_id": "c"}')
