"""The human side on SQLite and PostgreSQL: queueing with a packet, role-scoped queues, atomic claims,
capacity, agent messages, transfer, hand-back, wrap-up, offers and wellbeing, knowledge drafts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.conversations.errors import ConversationClosedError, ConversationForbiddenError
from helixdesk.core.clock import utcnow
from helixdesk.core.events import Event, HandoffClaimed, HandoffEnded, HandoffQueued, MessageSent
from helixdesk.db.session import transaction
from helixdesk.edge.container import Container
from helixdesk.handoff.errors import (
    AgentAtCapacityError,
    AlreadyClaimedError,
    NothingToClaimError,
    NotYourConversationError,
    QueueNotAllowedError,
)
from helixdesk.handoff.models import Handoff
from helixdesk.memory.models import CustomerIssue
from helixdesk.notifications import list_outbox

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def desk(db_url, settings_for):
    container = Container.build(settings_for(db_url, secret_key="s" * 32))
    with transaction(container.sessions) as s:
        import_bank_file(s, build_demo_bank(40))
    await container.start()
    try:
        yield container
    finally:
        await container.stop()


def staff(
    desk: Container, username: str, roles, *, languages=("zh", "en"), capacity=3, code=None, online=True
):
    user = desk.staff.create_user(
        username=username,
        password=PASSWORD,
        display_name=username,
        roles=roles,
        languages=languages,
        max_concurrent=capacity,
        employee_code=code,
    )
    if online:
        desk.agents.set_presence(user.id, "online")
    return desk.staff.get(username)


async def events_of(desk: Container) -> list[Event]:
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    await desk.bus.subscribe("test-watch", handler)
    return seen


async def fraud_conversation(desk: Container, ref: str | None = "C000001") -> str:
    conv = await desk.conversations.create_conversation(channel="web", customer_ref=ref)
    result = await desk.conversations.post_customer_message(conv.id, "我的卡被盗刷了，好害怕，怎么办")
    assert result.state == "waiting_for_agent" and result.handoff["queue"] == "fraud"
    return conv.id


def handoff_of(desk: Container, conversation_id: str) -> Handoff:
    with desk.sessions() as s:
        return s.scalars(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.created_at.desc())
        ).first()


async def test_a_fraud_report_is_queued_with_priority_explanation_and_packet(desk):
    seen = await events_of(desk)
    conv_id = await fraud_conversation(desk)
    h = handoff_of(desk, conv_id)
    assert (h.queue, h.status, h.reason) == ("fraud", "waiting", "fraud_risk")
    # The person takes over before the bot starts anything: no one-time code went out.
    assert list_outbox(desk.sessions, desk.keyring, customer_ref="C000001") == []
    assert h.priority >= 95 and "fraud queue" in h.explanation and "被盗刷" in h.explanation
    assert h.packet["summary"]["zh-Hans"].startswith("客户（") and "盗刷" in h.packet["summary"]["zh-Hans"]
    assert h.packet["identity"] == {"verified": False, "customer_ref": "C000001"}
    assert h.negativity > 0
    await desk.settle()
    queued = [e for e in seen if isinstance(e, HandoffQueued)]
    assert len(queued) == 1 and queued[0].queue == "fraud" and queued[0].priority == h.priority


async def test_each_person_sees_only_their_queues(desk):
    conv_id = await fraud_conversation(desk)
    fraud = staff(desk, "fraud.a", ["fraud"])
    general = staff(desk, "agent.a", ["agent"])
    boss = staff(desk, "sup.a", ["supervisor"])
    assert [i.conversation_id for i in desk.queue.queue_for(fraud)] == [conv_id]
    assert desk.queue.queue_for(general) == []
    assert [i.conversation_id for i in desk.queue.queue_for(boss)] == [conv_id]
    with pytest.raises(ConversationForbiddenError):
        desk.workspace.view(general, conv_id)
    assert desk.workspace.view(boss, conv_id).handoff["queue"] == "fraud"
    view = desk.workspace.view(fraud, conv_id)
    assert view.customer["ref"] == "C000001" and "****" in view.customer["phone"]
    assert all(a["number"].startswith("****") for a in view.products["accounts"])


async def test_claiming_is_atomic_and_the_customer_hears_who_joined(desk):
    seen = await events_of(desk)
    conv_id = await fraud_conversation(desk)
    h = handoff_of(desk, conv_id)
    a, b = staff(desk, "fraud.a", ["fraud"]), staff(desk, "fraud.b", ["fraud"])
    general = staff(desk, "agent.a", ["agent"])
    with pytest.raises(QueueNotAllowedError):
        await desk.claims.claim(general, h.id)
    item = await desk.claims.claim(a, h.id)
    assert item.status == "active" and item.agent_id == a.id
    with pytest.raises(AlreadyClaimedError):
        await desk.claims.claim(b, h.id)
    conv = await desk.conversations.get_conversation(conv_id)
    assert conv.state == "with_agent"
    messages = await desk.conversations.list_messages(conv_id)
    joined = messages[-1]
    assert joined.sender == "system" and "fraud.a" in joined.text and "反欺诈专员" in joined.text
    await desk.settle()
    assert [e.agent_id for e in seen if isinstance(e, HandoffClaimed)] == [a.id]


async def test_many_agents_claiming_at_once_get_one_conversation_each(desk):
    conv_id = await fraud_conversation(desk)
    h = handoff_of(desk, conv_id)
    agents = [staff(desk, f"fraud.{i}", ["fraud"]) for i in range(8)]

    def try_claim(user):
        try:
            desk.claims._claim(user, h.id, utcnow())
        except AlreadyClaimedError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(try_claim, agents))
    assert wins.count(True) == 1
    with desk.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Handoff).where(Handoff.status == "active")) == 1


async def test_capacity_is_respected(desk):
    first, second = await fraud_conversation(desk, "C000001"), await fraud_conversation(desk, "C000002")
    agent = staff(desk, "fraud.one", ["fraud"], capacity=1)
    await desk.claims.claim(agent, handoff_of(desk, first).id)
    with pytest.raises(AgentAtCapacityError):
        await desk.claims.claim(agent, handoff_of(desk, second).id)


async def test_the_agent_talks_the_bot_stays_silent_then_transfer_hand_back_and_wrap_up(desk):
    seen = await events_of(desk)
    conv_id = await fraud_conversation(desk)
    fraud = staff(desk, "fraud.a", ["fraud"])
    senior = staff(desk, "senior.a", ["senior"])
    other = staff(desk, "fraud.b", ["fraud"])
    await desk.claims.claim(fraud, handoff_of(desk, conv_id).id)
    with pytest.raises(NotYourConversationError):
        await desk.workspace.post_message(other, conv_id, "hello")
    sent = await desk.workspace.post_message(fraud, conv_id, "您好，我是反欺诈专员，我来帮您。")
    assert sent.sender == "agent" and sent.author == "fraud.a"
    quiet = await desk.conversations.post_customer_message(conv_id, "好的谢谢")
    assert quiet.replies == [] and quiet.state == "with_agent"
    note = desk.workspace.add_note(fraud, conv_id, "customer confirmed the card is in hand")
    assert note["author"] == "fraud.a"

    await desk.transfers.transfer(fraud, conv_id, queue="senior", note="needs a fee refund decision")
    assert (await desk.conversations.get_conversation(conv_id)).state == "waiting_for_agent"
    moved = handoff_of(desk, conv_id)
    assert moved.queue == "senior" and moved.reason == "transfer" and moved.packet["transfer_note"]
    assert [i.conversation_id for i in desk.queue.queue_for(senior)] == [conv_id]
    await desk.claims.claim(senior, moved.id)

    await desk.hand_back.hand_back(senior, conv_id)
    assert (await desk.conversations.get_conversation(conv_id)).state == "bot"
    back = await desk.conversations.post_customer_message(conv_id, "查一下汇率")
    assert back.replies and back.state == "bot"

    await desk.conversations.post_customer_message(conv_id, "我要投诉你们的服务")
    again = handoff_of(desk, conv_id)
    assert again.queue == "senior" and again.status == "waiting"
    await desk.claims.claim(senior, again.id)
    await desk.wrap_up.wrap_up(
        senior, conv_id, disposition="complaint_logged", resolution="follow_up", note="x"
    )
    assert (await desk.conversations.get_conversation(conv_id)).state == "closed"
    with pytest.raises(ConversationClosedError):
        await desk.conversations.post_customer_message(conv_id, "还在吗")
    with desk.sessions() as s:
        issue = s.scalar(select(CustomerIssue).where(CustomerIssue.topic == "agent_follow_up"))
    assert issue is not None and issue.status == "open"
    await desk.settle()
    ended = [(e.status, e.queue) for e in seen if isinstance(e, HandoffEnded)]
    assert ended == [("transferred", "fraud"), ("handed_back", "senior"), ("closed", "senior")]
    assert any(isinstance(e, MessageSent) and e.message.sender == "agent" for e in seen)


async def test_wrap_up_rejects_unknown_codes_and_keeps_the_conversation(desk):
    from helixdesk.core.errors import ValidationFailedError

    conv_id = await fraud_conversation(desk)
    fraud = staff(desk, "fraud.a", ["fraud"])
    await desk.claims.claim(fraud, handoff_of(desk, conv_id).id)
    with pytest.raises(ValidationFailedError) as e:
        await desk.wrap_up.wrap_up(fraud, conv_id, disposition="made_up", resolution="resolved")
    assert e.value.code == "invalid_disposition"
    assert (await desk.conversations.get_conversation(conv_id)).state == "with_agent"


async def test_take_next_prefers_my_offer_then_priority_and_spares_a_tired_agent(desk):
    first = await fraud_conversation(desk, "C000001")
    assert handoff_of(desk, first).offered_to is None  # nobody was online to offer it to
    fraud = staff(desk, "fraud.a", ["fraud"])
    second = await fraud_conversation(desk, "C000002")
    assert handoff_of(desk, second).offered_to == fraud.id
    item = await desk.claims.claim_next(fraud)
    assert item.conversation_id == second  # offered to me comes before an older, equally urgent one
    item = await desk.claims.claim_next(fraud)
    assert item.conversation_id == first
    with pytest.raises(NothingToClaimError):
        await desk.claims.claim_next(fraud)


async def test_an_approved_insight_becomes_searchable_knowledge(desk):
    conv_id = await fraud_conversation(desk)
    fraud = staff(desk, "fraud.a", ["fraud"])
    boss = staff(desk, "sup.a", ["supervisor"])
    await desk.claims.claim(fraud, handoff_of(desk, conv_id).id)
    question = "海外酒店预授权冻结的额度多久解冻？"
    answer = "酒店预授权一般在退房后7至30个工作日内由收单行解除，具体以酒店和发卡行处理为准。"
    draft = desk.drafts.create(
        fraud, question=question, answer=answer, language="zh-Hans", conversation_id=conv_id
    )
    assert draft["status"] == "draft" and [d["id"] for d in desk.drafts.list()] == [draft["id"]]
    before = desk.knowledge.search("酒店预授权多久解冻", language="zh-Hans", top_k=1)
    assert not before or before[0].answer != answer
    reviewed = desk.drafts.review(boss, draft["id"], approve=True)
    assert reviewed["status"] == "approved" and reviewed["kb_source"] == f"agent-insight:{draft['id']}"
    hit = desk.knowledge.search("酒店预授权多久解冻", language="zh-Hans", top_k=1)[0]
    assert hit.answer == answer
    assert desk.drafts.list() == []
