"""Only a person who is online takes conversations, on SQLite and PostgreSQL: claiming a row, taking
the next one and a transfer by name to someone away or offline are refused with a stable code, and
nothing stored changes (handoffs, conversations, messages, the audit log, the event log, staff)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.edge.container import Container
from helixdesk.handoff.errors import AgentAwayError, AgentNotOnlineError, ColleagueUnavailableError
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"
# Everything a claim or a transfer writes.
TABLES = ("handoffs", "conversations", "messages", "audit_log", "event_log", "staff_users")


@pytest.fixture
async def desk(db_url, settings_for):
    container = Container.build(settings_for(db_url, secret_key="s" * 32))
    with transaction(container.sessions) as s:
        import_bank_file(s, build_demo_bank(5))
    await container.start()
    try:
        yield container
    finally:
        await container.stop()


def person(desk: Container, username: str, roles: list[str], presence: str):  # type: ignore[no-untyped-def]
    user = desk.staff.create_user(
        username=username, password=PASSWORD, display_name=username, roles=roles, languages=["zh", "en"]
    )
    desk.agents.set_presence(user.id, presence)
    return desk.staff.get(username)


def snapshot(sessions: Any) -> dict[str, list[tuple[Any, ...]]]:
    with sessions() as s:
        return {
            t: sorted((tuple(r) for r in s.execute(text(f"SELECT * FROM {t}"))), key=repr) for t in TABLES
        }


async def fraud_handoff(desk: Container) -> tuple[str, str]:
    conv = await desk.conversations.create_conversation(channel="web", customer_ref="C000001")
    result = await desk.conversations.post_customer_message(conv.id, "我的卡被盗刷了，好害怕，怎么办")
    assert result.state == "waiting_for_agent"
    await desk.settle()
    return conv.id, desk.queue.queue_for(desk.staff.get("boss"))[0].handoff_id


@pytest.mark.parametrize(("presence", "error"), [("offline", AgentNotOnlineError), ("away", AgentAwayError)])
async def test_a_person_who_is_not_online_cannot_claim_and_nothing_changes(desk, presence, error):
    person(desk, "boss", ["supervisor"], "online")
    conv_id, handoff_id = await fraud_handoff(desk)
    zhao = person(desk, "fraud.zhao", ["fraud"], presence)
    before = snapshot(desk.sessions)

    with pytest.raises(error) as refused:
        await desk.claims.claim(zhao, handoff_id)
    assert refused.value.code == f"agent_{presence}" and refused.value.http_status == 409
    with pytest.raises(error):
        await desk.claims.claim_next(zhao)
    await desk.settle()
    assert snapshot(desk.sessions) == before
    assert (await desk.conversations.get_conversation(conv_id)).state == "waiting_for_agent"

    # Online, the same person takes it.
    desk.agents.set_presence(zhao.id, "online")
    item = await desk.claims.claim(zhao, handoff_id)
    assert item.status == "active" and item.agent_id == zhao.id


async def test_a_supervisor_steps_in_only_when_online(desk):
    boss = person(desk, "boss", ["supervisor"], "offline")
    _, handoff_id = await fraud_handoff(desk)
    with pytest.raises(AgentNotOnlineError):
        await desk.claims.claim(boss, handoff_id)


async def test_going_offline_releases_the_offer_and_the_conversation_waits_for_someone_online(desk):
    person(desk, "boss", ["supervisor"], "online")
    zhao = person(desk, "fraud.zhao", ["fraud"], "online")
    conv_id, _ = await fraud_handoff(desk)
    assert desk.queue.queue_for(zhao)[0].offered_to == zhao.id
    desk.agents.set_presence(zhao.id, "offline")
    assert desk.queue.queue_for(zhao)[0].offered_to is None
    with pytest.raises(AgentNotOnlineError):
        await desk.claims.claim_next(zhao)
    qian = person(desk, "fraud.qian", ["fraud"], "online")
    assert (await desk.claims.claim_next(qian)).conversation_id == conv_id
    assert desk.queue.queue_for(zhao) == []


async def test_a_transfer_by_name_to_a_colleague_who_is_not_online_is_refused(desk):
    person(desk, "boss", ["supervisor"], "online")
    zhao = person(desk, "fraud.zhao", ["fraud"], "online")
    person(desk, "fraud.qian", ["fraud"], "away")
    conv_id, handoff_id = await fraud_handoff(desk)
    await desk.claims.claim(zhao, handoff_id)
    await desk.settle()
    before = snapshot(desk.sessions)
    with pytest.raises(ColleagueUnavailableError) as refused:
        await desk.transfers.transfer(zhao, conv_id, to_username="fraud.qian", note="请接手")
    assert refused.value.code == "colleague_unavailable" and "away" in refused.value.detail
    await desk.settle()
    assert snapshot(desk.sessions) == before


def test_the_console_api_answers_409_with_a_stable_code(db_url, settings_for):
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(5))
    engine.dispose()
    with TestClient(create_app(settings_for(db_url, secret_key="s" * 32)), follow_redirects=False) as client:
        staff = client.app.state.container.staff  # type: ignore[attr-defined]
        staff.create_user(username="fraud.zhao", password=PASSWORD, display_name="赵强", roles=["fraud"])
        conv = client.post("/api/v1/conversations", json={"channel": "web", "customer_ref": "C000001"}).json()
        r = client.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            json={"text": "我的卡被盗刷了"},
            headers={"Authorization": f"Bearer {conv['token']}"},
        )
        assert r.json()["state"] == "waiting_for_agent"
        sign_in(client, "fraud.zhao", PASSWORD)  # a new session starts offline
        sessions = client.app.state.container.sessions  # type: ignore[attr-defined]
        handoff = client.get("/console/api/queue").json()["items"][0]["handoff_id"]
        before = snapshot(sessions)

        for path in (f"/console/api/handoffs/{handoff}/claim", "/console/api/claim-next"):
            r = client.post(path)
            assert r.status_code == 409, r.text
            assert r.json()["error"]["code"] == "agent_offline"
            assert re.search(r"offline", r.json()["error"]["message"])
        assert client.post("/console/api/presence", json={"presence": "away"}).status_code == 200
        r = client.post(f"/console/api/handoffs/{handoff}/claim")
        assert (r.status_code, r.json()["error"]["code"]) == (409, "agent_away")
        after = snapshot(sessions)
        # Only the person's own presence moved (away, then nothing else).
        assert {t: rows for t, rows in after.items() if t != "staff_users"} == {
            t: rows for t, rows in before.items() if t != "staff_users"
        }

        assert client.post("/console/api/presence", json={"presence": "online"}).status_code == 200
        r = client.post(f"/console/api/handoffs/{handoff}/claim")
        assert r.status_code == 200 and r.json()["status"] == "active"
