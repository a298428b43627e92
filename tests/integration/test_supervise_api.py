"""The interventions over HTTP: who may reassign and whisper (403 `supervisor_only` for others), a
whisper that never reaches the customer's WebSocket or REST API, goodwill and follow-ups with their
refusals, and which staff stream a whisper goes to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.core.events import NoteWhispered
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.edge.console.api import visible
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"
WHISPER = "请先核实客户身份再操作，注意语气"


@pytest.fixture
def client(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(5))
    engine.dispose()
    with TestClient(create_app(settings_for(sqlite_url)), follow_redirects=False) as c:
        container = c.app.state.container
        for name, roles in (
            ("fraud.a", ["fraud"]),
            ("senior.a", ["senior"]),
            ("sup.a", ["supervisor"]),
        ):
            user = container.staff.create_user(
                username=name, password=PASSWORD, display_name=name, roles=roles
            )
            container.agents.set_presence(user.id, "online")
        yield c


def as_(client: TestClient, username: str) -> TestClient:
    sign_in(client, username, PASSWORD)
    return client


def customer_conversation(client: TestClient) -> dict:
    conv = client.post("/api/v1/conversations", json={"channel": "web", "customer_ref": "C000001"}).json()
    r = client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": "我的卡被盗刷了"},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    assert r.json()["state"] == "waiting_for_agent"
    return conv


def claimed(client: TestClient) -> dict:
    conv = customer_conversation(client)
    as_(client, "fraud.a")
    assert client.post("/console/api/claim-next").status_code == 200
    return conv


def test_only_a_supervisor_reassigns_and_the_senior_then_sees_it(client):
    conv = claimed(client)
    refused = client.post(f"/console/api/conversations/{conv['id']}/reassign", json={"queue": "senior"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "supervisor_only"
    as_(client, "sup.a")
    unknown = client.post(f"/console/api/conversations/{conv['id']}/reassign", json={"queue": "vip"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "invalid_queue"
    done = client.post(
        f"/console/api/conversations/{conv['id']}/reassign", json={"queue": "senior", "note": "情绪激动"}
    )
    assert done.status_code == 200 and done.json() == {"state": "waiting_for_agent"}
    as_(client, "senior.a")
    items = client.get("/console/api/queue").json()["items"]
    assert [(i["conversation_id"], i["queue"], i["status"]) for i in items] == [
        (conv["id"], "senior", "waiting")
    ]


def test_a_whisper_reaches_neither_the_customers_socket_nor_their_api(client):
    conv = claimed(client)
    url = f"/api/v1/conversations/{conv['id']}/ws?token={conv['token']}&after_seq=1000"
    with client.websocket_connect(url) as ws:
        as_(client, "fraud.a")
        refused = client.post(f"/console/api/conversations/{conv['id']}/whisper", json={"text": "x"})
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "supervisor_only"
        as_(client, "sup.a")
        note = client.post(f"/console/api/conversations/{conv['id']}/whisper", json={"text": WHISPER})
        assert note.status_code == 200 and note.json()["kind"] == "whisper"
        as_(client, "fraud.a")
        sent = client.post(
            f"/console/api/conversations/{conv['id']}/messages", json={"text": "您好，我来帮您"}
        )
        assert sent.status_code == 200
        frames = []
        while not any(f.get("type") == "message" and f["message"]["sender"] == "agent" for f in frames):
            frames.append(ws.receive_json())
    assert all(WHISPER not in str(f) and "whisper" not in str(f) for f in frames)
    listed = client.get(
        f"/api/v1/conversations/{conv['id']}/messages", headers={"Authorization": f"Bearer {conv['token']}"}
    ).json()
    assert listed["messages"] and all(WHISPER not in m["text"] for m in listed["messages"])
    whispers = [n for n in client.get(f"/console/api/conversations/{conv['id']}").json()["notes"]]
    assert [(n["kind"], n["text"]) for n in whispers] == [("whisper", WHISPER)]


def test_a_whisper_goes_only_to_its_agent_and_supervisors_watching_that_conversation(client):
    staff = client.app.state.container.staff
    agent, other, boss = (staff.get(n) for n in ("fraud.a", "senior.a", "sup.a"))
    event = NoteWhispered(
        conversation_id="c1", note_id=1, to_agent_id=agent.id, author_name="sup.a", text="t"
    )
    assert visible(event, agent, None) and visible(event, agent, "c2")
    assert visible(event, boss, "c1")
    assert not visible(event, boss, None) and not visible(event, boss, "c2")
    assert not visible(event, other, "c1")


def test_goodwill_and_follow_ups_over_http_with_their_refusals(client):
    conv = claimed(client)
    base = f"/console/api/conversations/{conv['id']}"
    policy = client.get("/console/api/goodwill/policy").json()
    assert policy["offered"] and policy["currency"] == "CNY" and "long_wait" in policy["reasons"]
    small = client.post(f"{base}/goodwill", json={"amount": "20.00", "reason": "long_wait"})
    assert small.status_code == 200 and small.json()["status"] == "credited"
    asked = client.post(f"{base}/goodwill", json={"amount": 90, "reason": "long_wait"}).json()
    assert asked["status"] == "pending"
    over = client.post(f"{base}/goodwill", json={"amount": "500", "reason": "long_wait"})
    assert over.status_code == 422 and over.json()["error"]["code"] == "goodwill_over_limit"
    assert [g["status"] for g in client.get(f"{base}/goodwill").json()["goodwill"]] == ["credited", "pending"]
    assert client.get("/console/api/goodwill").json()["error"]["code"] == "supervisor_only"
    as_(client, "sup.a")
    assert [g["id"] for g in client.get("/console/api/goodwill").json()["goodwill"]] == [asked["id"]]
    assert client.post(f"/console/api/goodwill/{asked['id']}/approve").json()["status"] == "credited"

    as_(client, "fraud.a")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    late = client.post(f"{base}/follow-ups", json={"title": "call back", "due_at": past})
    assert late.status_code == 422 and late.json()["error"]["code"] == "due_in_past"
    soon = (datetime.now(UTC) + timedelta(days=1)).replace(tzinfo=None).isoformat(timespec="minutes")
    made = client.post(f"{base}/follow-ups", json={"title": "call back", "due_at": soon, "owner": "senior.a"})
    assert made.status_code == 200 and made.json()["owner_name"] == "senior.a"
    assert client.get("/console/api/follow-ups").json() == {"follow_ups": []}
    as_(client, "senior.a")
    (mine,) = client.get("/console/api/follow-ups").json()["follow_ups"]
    assert mine["conversation_id"] == conv["id"] and mine["customer_ref"] == "C000001"
    assert client.post(f"/console/api/follow-ups/{mine['id']}/done").json()["status"] == "resolved"
    assert client.get("/console/api/follow-ups").json() == {"follow_ups": []}


def test_the_pages_show_each_person_the_interventions_they_may_make(client):
    conv = claimed(client)
    agent_page = client.get(f"/console/conversations/{conv['id']}").text
    assert 'id="goodwill-form"' in agent_page and 'id="follow-up-form"' in agent_page
    assert 'id="supervise"' not in agent_page and 'id="whisper-form"' not in agent_page
    assert "intervene.js" in agent_page
    assert 'id="my-follow-ups"' in client.get("/console").text
    as_(client, "sup.a")
    boss_page = client.get(f"/console/conversations/{conv['id']}").text
    assert 'id="reassign-form"' in boss_page and 'id="whisper-form"' in boss_page
    board = client.get("/console/supervisor").text
    assert 'id="alerts"' in board and "supervisor.js" in board and 'id="goodwill-waiting"' in board
