"""The lifecycle strategies' console API through the real app: who may use it, CSRF, an edit that is
versioned and audited, a refused edit with its stable code that stores nothing, and the preview, in
which the suitability gate has the last word whatever a strategy says."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from helixdesk.audit import AuditQuery
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine
from helixdesk.edge.app import create_app
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"
BASE = "/console/api/lifecycle"


@pytest.fixture
def client(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    engine.dispose()
    with TestClient(create_app(settings_for(sqlite_url)), follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (
            ("sup.a", ["supervisor"]),
            ("admin.a", ["admin"]),
            ("agent.a", ["agent"]),
            ("ops.a", ["operator"]),
        ):
            staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield c


@pytest.mark.parametrize("username", ["agent.a", "ops.a"])
def test_only_supervisors_and_admins_get_in(client, username):
    sign_in(client, username, PASSWORD)
    assert client.get(f"{BASE}/strategies").json()["error"]["code"] == "forbidden"
    assert client.put(f"{BASE}/strategies/first_steps_app", json={"definition": {}}).status_code == 403
    sign_in(client, "admin.a", PASSWORD)
    listed = client.get(f"{BASE}/strategies").json()
    assert listed["limits"] == {"max_offer_value": "200.00"}
    assert listed["strategies"][0]["id"] == "first_steps_app" and listed["strategies"][0]["version"] == 1


def test_an_edit_needs_the_csrf_token(client):
    sign_in(client, "sup.a", PASSWORD)
    definition = client.get(f"{BASE}/strategies/first_steps_app").json()["definition"]
    del client.headers["X-CSRF-Token"]
    r = client.put(f"{BASE}/strategies/first_steps_app", json={"definition": definition})
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"


def test_an_edit_is_a_new_version_with_an_audit_entry(client):
    sign_in(client, "sup.a", PASSWORD)
    before = client.get(f"{BASE}/strategies/retention_fee_waiver").json()
    definition = {**before["definition"], "what": {**before["definition"]["what"], "value": "150.00"}}
    r = client.put(f"{BASE}/strategies/retention_fee_waiver", json={"definition": definition, "version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["definition"]["what"]["value"] == "150.00"
    stale = client.put(
        f"{BASE}/strategies/retention_fee_waiver", json={"definition": definition, "version": 1}
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "strategy_changed"
    (entry,) = client.app.state.container.audit_search.search(AuditQuery(action="lifecycle.strategy_updated"))
    assert entry.target.id == "retention_fee_waiver" and entry.details["version"] == 2


def test_a_bad_edit_is_refused_with_its_code_and_stores_nothing(client):
    sign_in(client, "sup.a", PASSWORD)
    definition = client.get(f"{BASE}/strategies/retention_fee_waiver").json()["definition"]
    over = {**definition, "what": {**definition["what"], "value": "5000"}}
    r = client.put(f"{BASE}/strategies/retention_fee_waiver", json={"definition": over})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_strategy"
    assert "limit" in r.json()["error"]["message"]
    no_en = {**definition, "texts": {"zh-Hans": "好", "zh-Hant": "好"}}
    r = client.put(f"{BASE}/strategies/retention_fee_waiver", json={"definition": no_en})
    assert r.json()["error"]["code"] == "invalid_strategy"
    missing = client.put(f"{BASE}/strategies/nope", json={"definition": {**definition, "id": "nope"}})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "strategy_not_found"
    assert client.get(f"{BASE}/strategies/retention_fee_waiver").json()["version"] == 1


def test_the_preview_says_why_and_the_gate_holds_back_what_does_not_suit(client):
    sign_in(client, "sup.a", PASSWORD)
    fund_holder = {
        "stage": "stability",
        "churn_band": "low",
        "interests": ["funds"],
        "risk_tolerance": "balanced",
        "age": 40,
    }
    r = client.post(f"{BASE}/recommendations/preview", json=fund_holder).json()
    shown = {x["strategy_id"]: x for x in r["recommendations"]}
    assert "fund_news_for_holders" in shown and "balanced_fund" in shown
    assert shown["fund_news_for_holders"]["explanation"]["en"] == "interested in funds"
    assert {"strategy_id": "equity_fund", "rule": "above_tolerance"} in r["withheld"]
    # Loosen a strategy to everyone at R5: the gate still holds it back from an elderly customer.
    equity = client.get(f"{BASE}/strategies/equity_fund").json()["definition"]
    wide = {
        **equity,
        "when": {"interests": ["funds"]},
        "what": {**equity["what"], "item": {"type": "product", "ref": "equity_fund", "risk": "R5"}},
    }
    assert client.put(f"{BASE}/strategies/equity_fund", json={"definition": wide}).status_code == 200
    elderly = {**fund_holder, "risk_tolerance": "aggressive", "age": 78}
    r = client.post(f"{BASE}/recommendations/preview", json=elderly).json()
    assert {"strategy_id": "equity_fund", "rule": "fragile_cap"} in r["withheld"]
    assert "equity_fund" not in [x["strategy_id"] for x in r["recommendations"]]
    blocked = client.post(
        f"{BASE}/recommendations/preview", json={**fund_holder, "fraud_report": True}
    ).json()
    assert blocked["recommendations"] == [] and blocked["withheld"]
