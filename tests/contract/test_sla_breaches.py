"""First-response SLAs on SQLite and PostgreSQL: the target in force is stored on each handoff (by
queue, tier and channel; a transfer re-evaluates it), and `GET /console/api/sla/breaches` lists
every conversation waiting, or claimed with no reply yet, past it, until a person answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.bus.outbox import EventRecord
from helixdesk.core.clock import utcnow
from helixdesk.core.events import HandoffAnswered, event_from_json
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.handoff.models import Handoff
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"
QUEUES = ("fraud", "senior", "relationship_manager", "general")


@pytest.fixture
def client(db_url, settings_for):
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(40))
    engine.dispose()
    with TestClient(create_app(settings_for(db_url)), follow_redirects=False) as c:
        container = c.app.state.container
        for name, roles in (("fraud.a", ["fraud"]), ("senior.a", ["senior"]), ("sup.a", ["supervisor"])):
            user = container.staff.create_user(
                username=name, password=PASSWORD, display_name=name, roles=roles
            )
            container.agents.set_presence(user.id, "online")
        yield c


def customers(client: TestClient) -> tuple[str, str]:
    """A VIP and a customer of no tier with a rule (standard, silver or gold)."""
    bank = client.app.state.container.bank
    found = [c for c in (bank.get_customer(f"C{i:06d}") for i in range(1, 41)) if c]
    vip = next(c.ref for c in found if c.value_tier == "vip")
    plain = next(c.ref for c in found if c.value_tier not in ("vip", "platinum"))
    return vip, plain


def fraud_report(client: TestClient, ref: str, channel: str = "web") -> str:
    headers = {}
    if channel != "web":  # a channel's back end signs in with its API key
        _, key = client.app.state.container.api_keys.create(name=f"{channel} back end", channel=channel)
        headers = {"X-Api-Key": key}
    conv = client.post(
        "/api/v1/conversations", json={"channel": channel, "customer_ref": ref}, headers=headers
    ).json()
    r = client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": "我的卡被盗刷了，好害怕"},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    assert r.json()["state"] == "waiting_for_agent"
    return conv["id"]


def handoff(client: TestClient, conversation_id: str) -> Handoff:
    with client.app.state.container.sessions() as s:
        found = s.scalars(
            select(Handoff)
            .where(Handoff.conversation_id == conversation_id)
            .order_by(Handoff.created_at.desc())
        ).first()
        assert found is not None
        return found


def queued_earlier(client: TestClient, conversation_id: str, seconds: int) -> None:
    """The customer has been waiting `seconds` longer (the handoff's queueing moved back)."""
    h = handoff(client, conversation_id)
    with transaction(client.app.state.container.sessions) as s:
        s.execute(
            update(Handoff)
            .where(Handoff.id == h.id)
            .values(created_at=h.created_at - timedelta(seconds=seconds))
        )


def answered_events(client: TestClient) -> list[HandoffAnswered]:
    with client.app.state.container.sessions() as s:
        payloads = s.scalars(select(EventRecord.payload).where(EventRecord.type == "handoff.answered")).all()
    return [e for e in map(event_from_json, payloads) if isinstance(e, HandoffAnswered)]


def test_each_handoff_keeps_the_target_of_its_queue_tier_and_channel_and_a_transfer_re_evaluates_it(client):
    vip, plain = customers(client)
    vip_conv = fraud_report(client, vip)
    plain_conv = fraud_report(client, plain)
    caller = fraud_report(client, plain, channel="voice")
    assert handoff(client, vip_conv).sla_seconds == 20  # a VIP, in any queue
    assert handoff(client, plain_conv).sla_seconds == 60  # the fraud queue's own
    assert handoff(client, caller).sla_seconds == 30  # a caller holding the line
    assert handoff(client, vip_conv).packet["routing"]["factors"]["sla_seconds"] == 20

    sign_in(client, "sup.a", PASSWORD)
    for conv in (vip_conv, plain_conv):
        r = client.post(f"/console/api/conversations/{conv}/reassign", json={"queue": "general"})
        assert r.status_code == 200, r.text
    assert (handoff(client, vip_conv).queue, handoff(client, vip_conv).sla_seconds) == ("general", 20)
    assert (handoff(client, plain_conv).queue, handoff(client, plain_conv).sla_seconds) == ("general", 180)


def test_breaches_now_until_the_person_answers(client):
    vip, plain = customers(client)
    late = fraud_report(client, plain)
    soon = fraud_report(client, vip)
    sign_in(client, "sup.a", PASSWORD)

    board = client.get("/console/api/sla/breaches").json()
    assert board["count"] == 0 and board["breaches"] == []
    assert board["by_queue"] == dict.fromkeys(QUEUES, 0)
    # Within their targets, the soonest due first: what the page ticks against.
    assert [(i["conversation_id"], i["sla_seconds"]) for i in board["upcoming"]] == [(soon, 20), (late, 60)]
    assert all(i["over_seconds"] < 0 and i["status"] == "waiting" for i in board["upcoming"])

    queued_earlier(client, late, 100)
    board = client.get("/console/api/sla/breaches").json()
    assert board["count"] == 1 and board["by_queue"] == {**dict.fromkeys(QUEUES, 0), "fraud": 1}
    [b] = board["breaches"]
    assert (b["conversation_id"], b["queue"], b["status"], b["tier"], b["channel"]) == (
        late,
        "fraud",
        "waiting",
        handoff(client, late).packet["customer"]["value_tier"],
        "web",
    )
    assert b["sla_seconds"] == 60 and 100 <= b["waited_seconds"] < 130
    assert b["over_seconds"] == b["waited_seconds"] - 60
    assert b["url"] == f"/console/conversations/{late}" and b["customer_label"] == plain
    assert [i["conversation_id"] for i in board["upcoming"]] == [soon]

    # Claimed is not answered: the breach stays, with who has it.
    sign_in(client, "fraud.a", PASSWORD)
    assert client.post(f"/console/api/handoffs/{handoff(client, late).id}/claim").status_code == 200
    assert client.get("/console/api/sla/breaches").status_code == 403  # supervisors only
    sign_in(client, "sup.a", PASSWORD)
    [b] = client.get("/console/api/sla/breaches").json()["breaches"]
    assert (b["conversation_id"], b["status"], b["agent_name"]) == (late, "active", "fraud.a")

    # The person's first reply ends it, once.
    sign_in(client, "fraud.a", PASSWORD)
    for text in ("您好，我是反欺诈专员", "我先帮您冻结卡片"):
        r = client.post(f"/console/api/conversations/{late}/messages", json={"text": text})
        assert r.status_code == 200, r.text
    [answered] = answered_events(client)
    assert (answered.conversation_id, answered.queue, answered.sla_seconds) == (late, "fraud", 60)
    assert answered.waited_seconds >= 100
    sign_in(client, "sup.a", PASSWORD)
    board = client.get("/console/api/sla/breaches").json()
    assert board["count"] == 0 and [i["conversation_id"] for i in board["upcoming"]] == [soon]

    # Time passes for the VIP (20 s): the service reads as of any moment.
    later = client.app.state.container.queue.sla_board(now=utcnow() + timedelta(seconds=30))
    assert [(b["conversation_id"], b["tier"]) for b in later["breaches"]] == [(soon, "vip")]
    assert later["by_queue"]["fraud"] == 1

    client.cookies.clear()
    assert client.get("/console/api/sla/breaches").status_code == 401
