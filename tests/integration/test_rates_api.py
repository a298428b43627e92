"""The exchange-rate endpoints through the real ASGI app (SQLite, in-memory bus)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from helixdesk.edge.app import create_app


@pytest.fixture
def client(sqlite_url, settings_for):
    with TestClient(create_app(settings_for(sqlite_url))) as c:
        _, raw = c.app.state.container.api_keys.create(name="treasury", channel="api", scopes=["rates:write"])
        c.headers["X-Api-Key"] = raw
        yield c


def test_changing_rates_needs_a_key_with_the_rates_scope(client):
    body = {"buy": "7.1", "sell": "7.2"}
    anonymous = client.put("/api/v1/rates/USD", json=body, headers={"X-Api-Key": ""})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "auth_required"
    _, other = client.app.state.container.api_keys.create(name="app", channel="app")
    wrong = client.put("/api/v1/rates/USD", json=body, headers={"X-Api-Key": other})
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/rates").json()["rates"] == []


def test_put_get_and_list(client):
    assert client.get("/api/v1/rates").json()["rates"] == []
    r = client.put(
        "/api/v1/rates/usd", json={"buy": "7.1012", "sell": "7.1308", "as_of": "2020-01-02T09:30:00+08:00"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["currency"], body["base"], body["buy"], body["sell"]) == ("USD", "CNY", "7.1012", "7.1308")
    assert body["source"] == "api" and body["stale"] is True  # dated long before "now"
    got = client.get("/api/v1/rates/USD").json()
    assert got["buy"] == "7.1012" and got["as_of"].startswith("2020-01-02T01:30:00")
    fresh = client.put(
        "/api/v1/rates/EUR", json={"buy": "7.6843", "sell": "7.7412", "updated_by": "treasury"}
    )
    assert fresh.json()["stale"] is False and fresh.json()["updated_by"] == "treasury"
    listed = client.get("/api/v1/rates").json()
    assert listed["base"] == "CNY" and [x["currency"] for x in listed["rates"]] == ["EUR", "USD"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("get", "/api/v1/rates/CHF", None, 404, "unknown_currency"),
        ("get", "/api/v1/rates/C1F", None, 422, "invalid_currency"),
        ("put", "/api/v1/rates/USD", {"buy": "7.2", "sell": "7.1"}, 422, "invalid_rate"),
        ("put", "/api/v1/rates/USD", {"buy": 7.1, "sell": "7.2"}, 422, "invalid_request"),
        (
            "put",
            "/api/v1/rates/USD",
            {"buy": "7.1", "sell": "7.2", "as_of": "yesterday"},
            422,
            "invalid_rate",
        ),
        ("put", "/api/v1/rates/CNY", {"buy": "1", "sell": "1"}, 422, "invalid_currency"),
    ],
)
def test_errors_have_stable_codes_and_store_nothing(client, method, path, body, status, code):
    kwargs = {} if body is None else {"json": body}
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert client.get("/api/v1/rates").json()["rates"] == []
