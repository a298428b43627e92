"""`GET /console/api/conversations/{id}/customer-profile`: who may read it, its 404 codes, and values
that match the bank's data, the lifecycle's stage and a churn model trained for the test (on SQLite
and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.models import BankCustomer, BankMonthlyActivity
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.lifecycle.artefacts import default_root, load_churn_model
from helixdesk.lifecycle.churn import churn_event
from helixdesk.lifecycle.config import load_lifecycle_config
from helixdesk.lifecycle.customer import from_bank
from helixdesk.lifecycle.profile import age_band
from helixdesk.lifecycle.service import describe
from helixdesk.packs.loader import load_pack
from tests.churn_models import models_with_churn
from tests.console_login import sign_in

PASSWORD = "correct horse battery staple"
CONFIG = load_lifecycle_config(load_pack("retail_bank"))
FRAUD_TEXT = "我的卡被盗刷了"


@pytest.fixture(scope="module")
def churn_models(model_root, tmp_path_factory):
    return models_with_churn(model_root, tmp_path_factory.mktemp("models"))


def make_client(url, settings_for, model_dir):
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(5))
    engine.dispose()
    app = create_app(settings_for(url, model_dir=model_dir))
    client = TestClient(app, follow_redirects=False)
    client.__enter__()
    staff = app.state.container.staff
    for name, roles in (("agent.a", ["agent"]), ("fraud.a", ["fraud"]), ("sup.a", ["supervisor"])):
        staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
    return client


@pytest.fixture
def client(db_url, settings_for, churn_models):
    """On SQLite and on PostgreSQL."""
    c = make_client(db_url, settings_for, churn_models)
    yield c
    c.__exit__(None, None, None)


def start(client: TestClient, text: str, customer_ref: str | None = "C000001") -> str:
    body = {"channel": "web"} | ({"customer_ref": customer_ref} if customer_ref else {})
    conv = client.post("/api/v1/conversations", json=body).json()
    r = client.post(
        f"/api/v1/conversations/{conv['id']}/messages",
        json={"text": text},
        headers={"Authorization": f"Bearer {conv['token']}"},
    )
    assert r.status_code == 200, r.text
    return conv["id"]


def profile_of(client: TestClient, conversation_id: str):
    return client.get(f"/console/api/conversations/{conversation_id}/customer-profile")


def test_the_fraud_team_reads_the_profile_and_it_matches_the_bank(client):
    conversation = start(client, FRAUD_TEXT)
    sign_in(client, "fraud.a", PASSWORD)
    r = profile_of(client, conversation)
    assert r.status_code == 200, r.text
    p = r.json()

    container = client.app.state.container
    bank = DemoBankConnector(session_factory=container.sessions)
    customer = bank.get_customer("C000001")
    today = datetime.now(UTC).astimezone(container.config.actions.bank.tz).date()
    assert p["customer_ref"] == "C000001"
    assert p["demographics"]["city"] == {
        "value": customer.city,
        "source": "bank:customer",
        "why": "the city the bank holds for them",
        "why_i18n": {
            "en": "the city the bank holds for them",
            "zh-Hans": "银行记录的所在城市",
            "zh-Hant": "銀行記錄的所在城市",
        },
    }
    assert p["demographics"]["age_band"]["value"] == age_band(customer.age(today), CONFIG.profile.age_bands)
    assert p["value_tier"]["value"] == customer.value_tier
    assert p["risk_tolerance"]["value"] == customer.risk_tolerance
    assert p["language"]["value"] == customer.preferred_language
    held = {item["ref"] for item in p["products"]["value"]}
    assert held == {"****" + a.number[-4:] for a in bank.list_accounts("C000001")} | {
        "****" + c.last4 for c in bank.list_cards("C000001")
    }
    months = bank.monthly_activity("C000001")
    assert p["transactions"]["payroll"]["value"] == (sum(m.payroll for m in months[-3:]) >= 2)
    assert p["transactions"]["cross_border_remittance"]["value"] == (
        sum(m.remittances for m in months[-6:]) >= 3
    )
    for interest in customer.interests:
        assert {"interest": interest, "source": "bank:customer"} in p["interests"]["value"]

    # The stage and the churn risk are the lifecycle's for the same history and the trained model.
    model, report = load_churn_model(default_root(container.settings.model_dir, "retail_bank"))
    expected = describe(
        from_bank(bank, "C000001", today=today), CONFIG, model, model_version=report["version"]
    )
    assert p["stage"]["value"] == expected["stage"]
    assert p["stage"]["source"] == "lifecycle:stages"
    risk = p["churn_risk"]["value"]
    assert risk == expected["churn_risk"]
    assert 0 < risk["probability"] < 1 and risk["band"] in ("low", "medium", "high")
    assert len(risk["reasons"]) == CONFIG.model.top_reasons
    assert risk["model_version"] == report["version"]

    # The customer's own message: short (concise) unless their age says patience first.
    if customer.age(today) >= CONFIG.profile.patience_age:
        assert p["style"]["value"] == "needs_patience"
    else:
        assert p["style"]["value"] == "concise"
        assert (
            p["style"]["why"] == f"their 1 messages average {len(FRAUD_TEXT)} characters (concise up to 20)"
        )


def test_only_staff_who_may_open_the_conversation_read_the_profile(client):
    conversation = start(client, FRAUD_TEXT)
    assert profile_of(client, conversation).status_code == 401
    sign_in(client, "agent.a", PASSWORD)  # the fraud queue is not theirs
    refused = profile_of(client, conversation)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "conversation_forbidden"
    sign_in(client, "sup.a", PASSWORD)
    assert profile_of(client, conversation).status_code == 200


def test_an_unknown_conversation_and_an_anonymous_customer_are_404_with_their_codes(client):
    sign_in(client, "sup.a", PASSWORD)
    missing = profile_of(client, "00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "conversation_not_found"
    anonymous = start(client, "我要转人工", customer_ref=None)
    r = profile_of(client, anonymous)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "customer_anonymous"


def test_without_a_trained_model_the_profile_says_so_and_still_answers(
    tmp_path, sqlite_url, settings_for, model_root
):
    client = make_client(sqlite_url, settings_for, model_root)  # NLU models only, no churn model
    try:
        conversation = start(client, FRAUD_TEXT)
        sign_in(client, "fraud.a", PASSWORD)
        r = profile_of(client, conversation)
        assert r.status_code == 200, r.text
        p = r.json()
        assert p["churn_risk"] == {
            "value": None,
            "source": "lifecycle:churn_model",
            "why": "no churn model is trained: train one with `helixdesk lifecycle train`",
            "why_i18n": {
                "en": "no churn model is trained: train one with `helixdesk lifecycle train`",
                "zh-Hans": "尚未训练流失模型：请用 `helixdesk lifecycle train` 训练",
                "zh-Hant": "尚未訓練流失模型：請用 `helixdesk lifecycle train` 訓練",
            },
        }
        assert p["stage"]["value"]["stage"] in ("exploration", "formation", "stability", "decline")
    finally:
        client.__exit__(None, None, None)


def test_a_customer_who_has_churned_gets_no_churn_risk_but_the_reason(client):
    container = client.app.state.container
    with transaction(container.sessions) as s:
        customer_id = s.scalars(select(BankCustomer.id).where(BankCustomer.ref == "C000002")).one()
        last_two = s.scalars(
            select(BankMonthlyActivity)
            .where(BankMonthlyActivity.customer_id == customer_id)
            .order_by(BankMonthlyActivity.month.desc())
            .limit(2)
        ).all()
        for month in last_two:  # two silent months: churned (inactive) in the last one
            month.transactions = 0
            month.logins = 0
    conversation = start(client, FRAUD_TEXT, customer_ref="C000002")
    sign_in(client, "fraud.a", PASSWORD)
    p = profile_of(client, conversation).json()
    assert p["stage"]["value"]["rule"] == "churned"
    assert p["churn_risk"]["value"] is None
    bank = DemoBankConnector(session_factory=container.sessions)
    event = churn_event(bank.monthly_activity("C000002"), CONFIG.churn)
    assert event is not None
    assert event.reason == "inactive"
    assert p["churn_risk"]["why"] == (
        f"already churned in {event.month:%Y-%m} (no transaction or login) and not come back: "
        "the churn model scores customers still with the bank"
    )
    assert p["churn_risk"]["why_i18n"]["zh-Hans"] == (
        f"已于 {event.month:%Y-%m} 流失（连续无交易也无登录）且没有回来：流失模型只为仍在本行的客户评分"
    )
