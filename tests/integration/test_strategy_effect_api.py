"""A strategy's effect against its holdout group through the real app: supervisors, admins and
managers read it, others are refused; the figures equal those computed from the strategy-effect
fixture (tests/strategy_effect_data.py); unknown strategies and bad dates get their stable codes.
The console page lists the strategies with their touches counted by arm and status."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.edge.app import create_app
from tests.console_login import sign_in
from tests.strategy_effect_data import ROWS, SINCE, STRATEGY, UNTIL, counted, expected, seed_strategy_effect

PASSWORD = "correct horse battery staple"
EFFECT = f"/console/api/lifecycle/strategies/{STRATEGY}/effect"
OCTOBER = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


@pytest.fixture
def client(sqlite_url, settings_for):
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    seed_strategy_effect(make_session_factory(engine))
    engine.dispose()
    with TestClient(create_app(settings_for(sqlite_url)), follow_redirects=False) as c:
        staff = c.app.state.container.staff
        for name, roles in (
            ("sup.a", ["supervisor"]),
            ("admin.a", ["admin"]),
            ("boss.a", ["manager"]),
            ("agent.a", ["agent"]),
            ("qa.a", ["qa_reviewer"]),
        ):
            staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield c


@pytest.mark.parametrize("username", ["sup.a", "admin.a", "boss.a"])
def test_supervisors_admins_and_managers_read_the_effect(client, username):
    sign_in(client, username, PASSWORD)
    r = client.get(EFFECT, params=OCTOBER)
    assert r.status_code == 200, r.text
    got = {o["key"]: o for o in r.json()["outcomes"]}
    for key, figures in expected(counted()).items():
        for name, value in figures.items():
            assert got[key][name] == pytest.approx(value, abs=1e-4), (key, name)
    counts = client.get("/console/api/lifecycle/touches", params=OCTOBER).json()["strategies"]
    in_october = [r for r in ROWS if r.strategy == STRATEGY and SINCE <= r.day <= UNTIL]
    assert counts[STRATEGY]["holdout:held_out"] == sum(1 for r in in_october if r.arm == "holdout")


@pytest.mark.parametrize("username", ["agent.a", "qa.a"])
def test_others_are_refused(client, username):
    sign_in(client, username, PASSWORD)
    r = client.get(EFFECT)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert client.get("/console/api/lifecycle/touches").status_code == 403
    assert client.get("/console/lifecycle").status_code == 403


def test_unknown_strategies_and_bad_dates_have_their_codes(client):
    sign_in(client, "boss.a", PASSWORD)
    r = client.get("/console/api/lifecycle/strategies/nope/effect")
    assert r.status_code == 404 and r.json()["error"]["code"] == "strategy_not_found"
    r = client.get(EFFECT, params={"version": 7})
    assert r.status_code == 404 and r.json()["error"]["code"] == "strategy_not_found"
    r = client.get(EFFECT, params={"since": "2026-02-30"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_date"
    r = client.get(EFFECT, params={"since": "2026-11-02", "until": "2026-11-01"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_period"
    r = client.get("/console/api/lifecycle/touches", params={"until": "soon"})
    assert r.json()["error"]["code"] == "bad_date"


def test_the_page_lists_the_strategies_with_their_touches(client):
    sign_in(client, "admin.a", PASSWORD)
    r = client.get("/console/lifecycle", params={**OCTOBER, "strategy": STRATEGY, "lang": "en"})
    assert r.status_code == 200
    assert 'id="nav-lifecycle"' in r.text and f'data-strategy="{STRATEGY}"' in r.text
    given = sum(
        1 for r in ROWS if r.strategy == STRATEGY and SINCE <= r.day <= UNTIL and r.touch_status == "given"
    )
    row = r.text.split(f'<tr data-strategy="{STRATEGY}"')[1].split("</tr>")[0]
    assert f'<td class="num lc__given">{given}</td>' in row
    assert '<td class="num lc__holdout">20%</td>' in row  # version 2 holds out a fifth
    # A bad date is said, and the counts are of all time.
    bad = client.get("/console/lifecycle", params={"since": "2026-13-01", "lang": "en"})
    assert bad.status_code == 200 and "A date is not valid" in bad.text
