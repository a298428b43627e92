"""Training mode over HTTP: an agent practises on a simulated customer and gets the QA score of what
they wrote; practice is the agent's own, marked as training, refused once ended, and never becomes a
conversation, an event, a customer, a bank action, a QA scorecard, an analytics fact or insight."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from helixdesk.actions.models import ActionAudit
from helixdesk.analytics.models import AnalyticsFact
from helixdesk.bus.outbox import EventRecord
from helixdesk.conversations.models import Conversation, Customer, Message
from helixdesk.db.session import reading
from helixdesk.edge.app import create_app
from helixdesk.insight.models import InsightMessage
from helixdesk.quality.models import Finding, Scorecard
from helixdesk.simulation.models import TrainingSession
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(sqlite_url, settings_for):
    with TestClient(create_app(settings_for(sqlite_url)), follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (("agent.a", ["agent"]), ("agent.b", ["agent"]), ("qa.a", ["qa_reviewer"])):
            staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield c


def as_(client: TestClient, username: str) -> TestClient:
    sign_in(client, username, PASSWORD)
    return client


def start(client: TestClient, customer: str, language: str = "zh-Hans", seed: int = 3) -> dict:
    r = client.post(
        "/console/api/training/sessions", json={"customer": customer, "language": language, "seed": seed}
    )
    assert r.status_code == 201, r.text
    return r.json()


def say(client: TestClient, session: dict, text: str) -> dict:
    r = client.post(f"/console/api/training/sessions/{session['id']}/messages", json={"text": text})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_caring_agent_satisfies_the_angry_customer_and_is_scored(client):
    as_(client, "agent.a")
    customers = client.get("/console/api/training/customers").json()
    assert {c["customer"] for c in customers["customers"]} == {"angry", "scam_victim"}
    session = start(client, "angry")
    assert session["training"] is True and session["status"] == "open"
    opening = session["transcript"][0]
    assert opening["sender"] == "customer" and "368" in opening["text"]
    assert opening["emotion"]["label"] == "anger"  # read by the NLU
    view = say(client, session, "非常抱歉给您添麻烦了，我马上为您核实并提交退款申请。")
    assert view["status"] == "open" and set(view["needs_met"]) == {"apology", "fix"}
    assert view["transcript"][-1]["outcome"] == "better"
    view = say(client, session, "多扣的368元会在3个工作日内退回您的卡上，我会全程跟进。")
    assert view["status"] == "ended" and view["outcome"] == "satisfied"
    assert view["score"] is not None and view["score"] >= 75
    assert not [f for f in view["findings"] if f["rule"] in ("rude", "shirking", "asks_secret")]
    # The same seed gives the same customer words.
    again = start(client, "angry")
    assert again["transcript"][0]["text"] == opening["text"]


def test_an_agent_who_asks_a_scam_victim_for_the_code_loses_points_and_the_customer(client):
    as_(client, "agent.a")
    session = start(client, "scam_victim", language="en")
    view = say(
        client, session, "Please tell me the verification code we sent you so I can check your account."
    )
    assert view["transcript"][-1]["outcome"] == "worse"
    assert view["mood"] == 1.0
    for _ in range(5):
        if view["status"] != "open":
            break
        view = say(client, session, "ok")
    assert view["status"] == "ended" and view["outcome"] == "left"
    rules = {f["rule"] for f in view["findings"]}
    assert "asks_secret" in rules
    secret = next(f for f in view["findings"] if f["rule"] == "asks_secret")
    assert secret["reason"] and secret["alternative"]  # worded for the agent
    assert view["score"] <= 75


def test_stopping_scores_it_and_an_ended_practice_takes_no_more_messages(client):
    as_(client, "agent.a")
    session = start(client, "angry", language="en")
    view = client.post(f"/console/api/training/sessions/{session['id']}/end").json()
    assert view["status"] == "ended" and view["outcome"] == "stopped" and view["score"] is not None
    refused = client.post(f"/console/api/training/sessions/{session['id']}/messages", json={"text": "sorry"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "training_session_ended"
    again = client.post(f"/console/api/training/sessions/{session['id']}/end")
    assert again.status_code == 409


def test_bad_input_gets_a_clear_code_and_stores_nothing(client):
    as_(client, "agent.a")
    r = client.post("/console/api/training/sessions", json={"customer": "cheerful", "language": "en"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_training_customer"
    r = client.post("/console/api/training/sessions", json={"customer": "angry", "language": "fr"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"
    session = start(client, "angry")
    r = client.post(f"/console/api/training/sessions/{session['id']}/messages", json={"text": "   "})
    assert r.status_code == 422 and r.json()["error"]["code"] == "empty_message"
    r = client.post(f"/console/api/training/sessions/{session['id']}/messages", json={"text": "x" * 2001})
    assert r.status_code == 422
    view = client.get(f"/console/api/training/sessions/{session['id']}").json()
    assert len(view["transcript"]) == 1 and view["turns"] == 0
    missing = client.get("/console/api/training/sessions/no-such-session")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "training_session_not_found"


def test_practice_is_the_agents_own_and_needs_an_agent_role(client):
    as_(client, "agent.a")
    session = start(client, "scam_victim")
    as_(client, "agent.b")
    r = client.get(f"/console/api/training/sessions/{session['id']}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "training_session_not_found"
    r = client.post(f"/console/api/training/sessions/{session['id']}/messages", json={"text": "别担心"})
    assert r.status_code == 404
    assert client.get("/console/api/training/sessions").json()["sessions"] == []
    as_(client, "qa.a")
    assert (
        client.post(
            "/console/api/training/sessions", json={"customer": "angry", "language": "en"}
        ).status_code
        == 403
    )
    assert client.get("/console/training").status_code == 403
    client.cookies.clear()
    client.headers.pop("X-CSRF-Token", None)
    assert client.get("/console/api/training/customers").status_code == 401


def test_practice_never_reaches_conversations_events_qa_analytics_or_customers(client):
    as_(client, "agent.a")
    for customer in ("angry", "scam_victim"):
        session = start(client, customer)
        say(client, session, "抱歉让您久等了，别担心，我马上帮您冻结并处理。")
        client.post(f"/console/api/training/sessions/{session['id']}/end")
    history = client.get("/console/api/training/sessions").json()["sessions"]
    assert len(history) == 2 and all(h["training"] and h["score"] is not None for h in history)
    sessions = client.app.state.container.sessions
    with reading(sessions) as s:
        assert s.scalar(select(func.count()).select_from(TrainingSession)) == 2
        for table in (
            Conversation,
            Message,
            Customer,
            EventRecord,
            ActionAudit,
            Scorecard,
            Finding,
            AnalyticsFact,
            InsightMessage,
        ):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__
