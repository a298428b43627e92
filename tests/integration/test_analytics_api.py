"""The analytics API as a manager uses it: the summary of the fixture's period, its CSV, the
drill-down and its CSV; agents are refused; bad periods and metrics get stable codes."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from helixdesk.edge.app import create_app
from tests.analytics_data import EXPECTED, STAFF_PASSWORD, consume, seed
from tests.console_login import sign_in

PERIOD = {"from": "2026-11-02", "to": "2026-11-05"}


@pytest.fixture
def desk(sqlite_url, settings_for):
    app = create_app(settings_for(sqlite_url))
    with TestClient(app, follow_redirects=False) as client:
        sessions = client.app.state.container.sessions
        client.names = seed(sessions)
        consume(sessions)
        yield client


def as_user(client: TestClient, username: str) -> TestClient:
    client.headers.pop("X-CSRF-Token", None)
    sign_in(client, username, STAFF_PASSWORD)
    return client


def test_a_manager_reads_the_figures_exports_them_and_drills_down(desk) -> None:
    manager = as_user(desk, "mgr.gao")
    r = manager.get("/console/api/analytics/summary", params=PERIOD)
    assert r.status_code == 200, r.text
    body = r.json()
    values = {m["key"]: m["value"] for m in body["metrics"]}
    assert values["volume"] == 7 and values["containment"] == pytest.approx(EXPECTED["containment"])
    assert values["cost_saved"] == pytest.approx(EXPECTED["cost_saved"])
    assert body["options"]["queues"] == ["fraud", "general"]
    assert {a["label"] for a in body["options"]["agents"]} == {"李娜", "王芳"}

    r = manager.get("/console/api/analytics/summary.csv", params=PERIOD)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["metric", "value"] and rows[1][:2] == ["volume", "7"]

    r = manager.get("/console/api/analytics/conversations", params={**PERIOD, "metric": "abandonment"})
    assert r.status_code == 200
    listed = r.json()
    assert listed["total"] == 1 and listed["conversations"][0]["id"] == desk.names["c4"]
    assert listed["conversations"][0]["url"] == f"/console/conversations/{desk.names['c4']}"
    r = manager.get(
        "/console/api/analytics/conversations.csv",
        params={**PERIOD, "metric": "handoff_reasons", "key": "customer_request"},
    )
    ids = {row[0] for row in list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]}
    assert ids == {desk.names["c2"], desk.names["c4"]}


def test_agents_are_refused_and_bad_queries_get_stable_codes(desk) -> None:
    agent = as_user(desk, "agent.li")
    assert agent.get("/console/api/analytics/summary").status_code == 403
    manager = as_user(desk, "mgr.gao")
    for params, code in (
        ({"from": "2026-11-05", "to": "2026-11-01"}, "invalid_period"),
        ({"from": "2026-11-05"}, "invalid_period"),
        ({"from": "2025-01-01", "to": "2026-11-05"}, "invalid_period"),
        ({"language": "fr"}, "invalid_language"),
    ):
        r = manager.get("/console/api/analytics/summary", params=params)
        assert r.status_code in (400, 422), r.text
        assert r.json()["error"]["code"] == code, r.text
    r = manager.get("/console/api/analytics/conversations", params={"metric": "nope"})
    assert r.status_code in (400, 422) and r.json()["error"]["code"] == "invalid_metric"
    r = manager.get("/console/api/analytics/summary", params={"period": "decade"})
    assert r.status_code == 422 and r.json()["error"]["code"]


def test_the_effect_of_a_change_against_comparable_customers(desk) -> None:
    manager = as_user(desk, "mgr.gao")
    # From 5 November on: customer A's second conversation (c5) against their first (c1), the only
    # other card-activation question in Simplified Chinese; c6 and c7 have no comparison.
    r = manager.get("/console/api/analytics/effect", params={**PERIOD, "change": "after:2026-11-05"})
    assert r.status_code == 200, r.text
    outcomes = {o["key"]: o for o in r.json()["outcomes"]}
    assert outcomes["fcr"]["difference"] == 1.0 and outcomes["fcr"]["touched"] == 1
    assert (
        outcomes["repeat_contact"]["difference"] == -1.0 and outcomes["repeat_contact"]["better"] == "lower"
    )
    assert outcomes["csat"]["touched"] == 0 and outcomes["csat"]["difference"] is None
    # One conversation a side: no variance to draw an interval from.
    assert outcomes["fcr"]["verdict"] == "too_few" and outcomes["csat"]["verdict"] == "no_data"
    assert r.json()["touched"] == 1 and r.json()["left_out"] == 0
    r = manager.get("/console/api/analytics/effect", params={**PERIOD, "change": "weather:sunny"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_change"


def test_the_choices_of_an_evaluation(desk) -> None:
    manager = as_user(desk, "mgr.gao")
    r = manager.get("/console/api/analytics/effect/choices", params={**PERIOD, "lang": "en"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"] == {"from": "2026-11-02", "to": "2026-11-05", "days": 4}
    # c2 and c4 asked for a person in the general queue, c3 went to the fraud queue.
    assert body["queues"] == [{"key": "general", "count": 2}, {"key": "fraud", "count": 1}]
    assert body["reasons"] == [{"key": "customer_request", "count": 2}, {"key": "fraud", "count": 1}]
    assert body["knowledge"] == []  # the fixture's bot answers cite nothing
    assert body["options"]["queues"] == ["fraud", "general"]  # the filter bar's, as the summary's
    r = manager.get("/console/api/analytics/effect/choices", params={**PERIOD, "queue": "fraud"})
    assert r.json()["reasons"] == [{"key": "fraud", "count": 1}]
    r = manager.get("/console/api/analytics/effect/choices", params={**PERIOD, "lang": "fr"})
    assert r.status_code == 422
    agent = as_user(desk, "agent.li")
    assert agent.get("/console/api/analytics/effect/choices", params=PERIOD).status_code == 403
