"""QA review and coaching over HTTP: the pages and the JSON API, who may use which, stable codes for
bad input, and `helixdesk qa agreement`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from helixdesk.core.clock import utcnow
from helixdesk.db.session import transaction
from helixdesk.edge.app import create_app
from helixdesk.quality.models import Finding
from tests.cliproc import helixdesk_cli
from tests.console_login import sign_in
from tests.quality_data import add_conversation, add_finding, add_scorecard

PASSWORD = "correct horse battery staple"
PROMISE = "这款理财保本保收益，您放心买"


@pytest.fixture
def desk(sqlite_url, settings_for):
    app = create_app(settings_for(sqlite_url))
    with TestClient(app, follow_redirects=False) as client:
        container = client.app.state.container
        people = {
            name: container.staff.create_user(
                username=name, password=PASSWORD, display_name=shown, roles=roles
            )
            for name, shown, roles in (
                ("qa.a", "QA A", ["qa_reviewer"]),
                ("sup.a", "Sup A", ["supervisor"]),
                ("agent.li", "李娜", ["agent"]),
                ("agent.chen", "陈明", ["agent"]),
            )
        }
        with transaction(container.sessions) as s:
            conv, msgs = add_conversation(s, [("customer", "这个理财安全吗？"), ("agent", PROMISE)])
            add_scorecard(s, conv.id, agent_id=people["agent.li"].id, team="general", score=75.0)
            finding = add_finding(
                s,
                conv.id,
                "absolute_promise",
                message=msgs[1],
                evidence="保本保收益",
                agent_id=people["agent.li"].id,
            )
            second, msgs2 = add_conversation(
                s, [("agent", "保证收益，稳赚不赔")], at=utcnow() - timedelta(days=2)
            )
            add_scorecard(s, second.id, agent_id=people["agent.li"].id, team="general", score=75.0)
            add_finding(
                s,
                second.id,
                "absolute_promise",
                message=msgs2[0],
                evidence="保证收益",
                agent_id=people["agent.li"].id,
            )
        yield {
            "client": client,
            "url": sqlite_url,
            "people": people,
            "conversation": conv.id,
            "second": second.id,
            "finding": finding.id,
        }


def as_user(desk, username: str) -> TestClient:
    client = desk["client"]
    client.headers.pop("X-CSRF-Token", None)
    sign_in(client, username, PASSWORD)
    return client


def error_code(response) -> str:
    return response.json()["error"]["code"]


def test_a_reviewer_reviews_a_flagged_conversation_in_the_console(desk):
    client = as_user(desk, "qa.a")
    conv, finding = desk["conversation"], desk["finding"]
    queue = client.get("/console/review")
    assert queue.status_code == 200 and f'href="/console/review/{conv}"' in queue.text
    assert 'id="nav-review"' in queue.text
    page = client.get(f"/console/review/{conv}")
    assert page.status_code == 200
    assert (
        f'<mark class="evidence" data-finding="{finding}" title="绝对化承诺">保本保收益</mark>' in page.text
    )
    api = client.get("/console/api/quality/review-queue").json()
    assert {i["conversation_id"] for i in api["items"]} == {conv, desk["second"]}
    judged = client.post(f"/console/api/quality/findings/{finding}/verdict", json={"verdict": "confirmed"})
    assert judged.status_code == 200 and judged.json()["verdict"] == "confirmed"
    reviewed = client.post(
        f"/console/api/quality/conversations/{conv}/review", json={"score": 60, "note": "ok"}
    )
    assert reviewed.status_code == 200 and reviewed.json()["scorecard"]["review_score"] == 60.0
    agreement = client.get("/console/api/quality/agreement").json()
    assert agreement["rules"] == [
        {
            "rule": "absolute_promise",
            "category": "compliance",
            "findings": 2,
            "reviewed": 1,
            "confirmed": 1,
            "rejected": 0,
            "pending": 1,
            "agreement": 1.0,
        }
    ]
    shown = client.get("/console/review/agreement?lang=en")
    assert 'data-rule="absolute_promise"' in shown.text and "Absolute promise" in shown.text


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        # The schema refuses these before the review service sees them (422 invalid_request); the
        # service's own codes (invalid_verdict, note_too_long, invalid_score) guard its other callers.
        ("findings/{finding}/verdict", {"verdict": "maybe"}, "invalid_request"),
        ("findings/nope/verdict", {"verdict": "confirmed"}, "finding_not_found"),
        ("findings/{finding}/verdict", {"verdict": "confirmed", "note": "x" * 2500}, "invalid_request"),
        ("findings/{finding}/verdict", {"verdict": "confirmed", "extra": 1}, "invalid_request"),
        ("conversations/{conversation}/review", {"score": 101}, "invalid_request"),
        ("conversations/{conversation}/review", {"score": "high"}, "invalid_request"),
        ("conversations/nope/review", {"score": 50}, "conversation_not_found"),
    ],
)
def test_bad_review_input_gets_a_stable_code(desk, path, body, code):
    client = as_user(desk, "qa.a")
    r = client.post("/console/api/quality/" + path.format(**desk), json=body)
    assert r.status_code in (404, 422) and error_code(r) == code
    with desk["client"].app.state.container.sessions() as s:
        assert s.get(Finding, desk["finding"]).verdict == "pending"


def test_an_agent_cannot_review_and_sees_only_their_own_quality(desk):
    client = as_user(desk, "agent.chen")
    conv, finding = desk["conversation"], desk["finding"]
    for r in (
        client.get("/console/api/quality/review-queue"),
        client.post(f"/console/api/quality/findings/{finding}/verdict", json={"verdict": "rejected"}),
        client.post(f"/console/api/quality/conversations/{conv}/review", json={"score": 100}),
        client.get("/console/api/quality/agreement"),
        client.get(f"/console/api/quality/conversations/{conv}"),
        client.get("/console/api/quality/staff"),
        client.get(f"/console/api/quality/staff/{desk['people']['agent.li'].id}"),
        client.get(f"/console/api/quality/staff/{desk['people']['agent.li'].id}/suggestions"),
        client.get(f"/console/api/quality/coaching?agent_id={desk['people']['agent.li'].id}"),
    ):
        assert r.status_code == 403 and error_code(r) == "forbidden", r.text
    assert client.get("/console/review").status_code == 403
    mine = client.get("/console/api/quality/staff/me").json()
    assert (mine["key"], mine["conversations"]) == (desk["people"]["agent.chen"].id, 0)
    page = client.get("/console/quality?lang=en")
    assert page.status_code == 200 and "My quality" in page.text and 'id="teams"' not in page.text
    # The agent whose conversation it is may read it, not review it.
    li = as_user(desk, "agent.li")
    view = li.get(f"/console/api/quality/conversations/{conv}").json()
    assert view["can_review"] is False and view["findings"][0]["rule"] == "absolute_promise"
    assert "judge" not in li.get(f"/console/review/{conv}").text


def test_a_supervisor_assigns_coaching_from_a_suggestion_and_the_agent_works_it(desk):
    li_id = desk["people"]["agent.li"].id
    sup = as_user(desk, "sup.a")
    page = sup.get(f"/console/quality?agent={li_id}&days=7&lang=en")
    assert page.status_code == 200 and 'id="teams"' in page.text
    assert "Avoid promising returns; use the compliant wording from the pack" in page.text
    assert page.text.count('class="trend__dot"') == 1  # both conversations fall in this week or the last
    suggestion = sup.get(f"/console/api/quality/staff/{li_id}/suggestions?days=7&lang=en").json()[
        "suggestions"
    ][0]
    assert (suggestion["rule"], suggestion["findings"]) == ("absolute_promise", 2)
    due = (utcnow() + timedelta(days=14)).date().isoformat()
    body = {
        "agent_id": li_id,
        "rule": "absolute_promise",
        "title": suggestion["title"],
        "detail": suggestion["detail"],
        "due_on": due,
        "examples": [e["conversation_id"] for e in suggestion["examples"]],
    }
    bad = sup.post("/console/api/quality/coaching", json={**body, "due_on": "next week"})
    assert bad.status_code == 422 and error_code(bad) == "invalid_request"  # not a date (the schema says so)
    item = sup.post("/console/api/quality/coaching", json=body)
    assert item.status_code == 200 and item.json()["status"] == "assigned"
    item_id = item.json()["id"]

    chen = as_user(desk, "agent.chen")
    assert chen.post("/console/api/quality/coaching", json=body).status_code == 403
    other = chen.post(f"/console/api/quality/coaching/{item_id}/status", json={"status": "done"})
    assert other.status_code == 403 and error_code(other) == "not_your_coaching_item"

    li = as_user(desk, "agent.li")
    mine = li.get("/console/api/quality/coaching").json()["items"]
    assert [(i["id"], i["due_on"], i["assigned_by_name"]) for i in mine] == [(item_id, due, "Sup A")]
    assert 'data-item="' + item_id + '"' in li.get("/console/quality").text
    done = li.post(
        f"/console/api/quality/coaching/{item_id}/status", json={"status": "done", "note": "read the pack"}
    )
    assert done.status_code == 200 and (done.json()["status"], done.json()["agent_note"]) == (
        "done",
        "read the pack",
    )

    sup = as_user(desk, "sup.a")
    tracked = sup.get(f"/console/api/quality/coaching?agent_id={li_id}").json()["items"]
    assert [(i["status"], i["agent_note"]) for i in tracked] == [("done", "read the pack")]


@pytest.mark.slow
def test_the_agreement_command_prints_the_figures(desk, tmp_path):
    client = as_user(desk, "qa.a")
    client.post(f"/console/api/quality/findings/{desk['finding']}/verdict", json={"verdict": "rejected"})
    helixdesk = helixdesk_cli(tmp_path, env={"HELIXDESK_DATABASE_URL": desk["url"]})
    out = helixdesk("qa", "agreement", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert [(r["rule"], r["reviewed"], r["rejected"], r["agreement"]) for r in report["rules"]] == [
        ("absolute_promise", 1, 1, 0.0)
    ]
    table = helixdesk("qa", "agreement", "--days", "7")
    assert table.returncode == 0 and "absolute_promise" in table.stdout and "0%" in table.stdout
    bad = helixdesk("qa", "agreement", "--days", "0")
    assert bad.returncode == 2
