"""The learning loop end to end, on SQLite and PostgreSQL, with the real models and the real app:

customers' messages (over the conversation API) reach the labelling queue masked, with their
reasons; an agent flags one; annotators label them over the console API (a disagreement goes to a
second annotator); the labels make a dataset version; a candidate trained on the pack's examples
plus that version gets its report, rendered by the console; its shadow run parses new traffic
beside the live model and shows where they differ; promotion is picked up by the serving parser
without a restart, and so is the rollback; a candidate that saw three examples per intent is
refused by the gate, and promoted only with an override whose reason is audited.

The candidate is the shipped configuration (the fast member: sentence embeddings and n-grams, a
linear SVM): about ten seconds of training on two cores, so no cut-down model was needed.
"""

from __future__ import annotations

import random

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.audit import Actor, AuditLog
from helixdesk.audit.models import AuditLogRow
from helixdesk.auth.service import StaffAccounts
from helixdesk.bus.memory import MemoryEventBus
from helixdesk.conversations.models import Message
from helixdesk.edge.app import create_app
from helixdesk.edge.container import Container
from helixdesk.edge.wiring import build_nlu
from helixdesk.learning.worker import consumers
from helixdesk.nlu.batcher import ParseBatcher
from helixdesk.nlu.intent.artefacts import save_model
from helixdesk.nlu.intent.data import data_sha256, load_examples
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig
from helixdesk.packs.loader import load_pack
from tests.console_login import sign_in

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
# Customers whose card an ATM kept: the live model scatters them over three intents with low
# confidence; the annotators label them all card_reissue.
ATM = ["卡被ATM机吞了怎么办", "取款机把我的卡吞了", "我的卡被取款机吞了，拿不出来"]
PHONE = "13812345678"


@pytest.fixture
def app(db_url, engine, sessions, model_root, tmp_path, settings_for, keyring):
    models = tmp_path / "models"
    (models / "retail_bank" / "intent").mkdir(parents=True)
    (models / "retail_bank" / "intent" / "v1").symlink_to(model_root / "retail_bank" / "intent" / "v1")
    (models / "retail_bank" / "emotion").symlink_to(model_root / "retail_bank" / "emotion")
    settings = settings_for(
        db_url,
        model_dir=models,
        secret_key="t" * 32,
        learning_sample_low_confidence=100,
        learning_sample_out_of_scope=100,
        learning_sample_handed_over=100,
        learning_low_confidence=0.7,
        learning_double_label_percent=0,
        learning_reload_seconds=600,  # the test checks by hand
        rate_limit_ip_per_minute=0,
        rate_limit_conversation_messages_per_minute=0,
    )
    staff = StaffAccounts(sessions=sessions)
    for username, roles in (
        ("ann.he", ["annotator"]),
        ("ann.ma", ["annotator"]),
        ("sup.liu", ["supervisor"]),
        ("senior.wang", ["senior"]),  # works the senior and general queues
    ):
        staff.create_user(
            username=username, password=PASSWORD, display_name=username, roles=roles, ui_language="en"
        )
    pipeline = build_nlu(settings, load_pack(settings.pack))
    container = Container.build(
        settings,
        engine=engine,
        sessions=sessions,
        bus=MemoryEventBus(),
        keyring=keyring,
        audit=AuditLog(key=b"e" * 32),
        nlu=pipeline,
        parser=ParseBatcher(pipeline),  # its own: promotion reloads it
    )
    with TestClient(create_app(container=container), follow_redirects=False) as client:
        yield client, container


def chat(client, *texts: str) -> str:
    created = client.post("/api/v1/conversations", json={"channel": "web", "language": "zh-Hans"})
    assert created.status_code == 201, created.text
    conv, token = created.json()["id"], created.json()["token"]
    for text in texts:
        r = client.post(
            f"/api/v1/conversations/{conv}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
    return conv


def catch_up(client, container, which: int) -> None:
    """Publish the stored events, then run the learning process's consumer (0: the queue, 1: shadow)."""
    call = client.portal.call
    call(container.settle)
    consumer = consumers(container.settings, container.sessions)[which]
    call(consumer.catch_up)
    call(consumer.stop)


def as_(client, username: str) -> None:
    sign_in(client, username, PASSWORD)


def ok(r, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()


def test_from_conversations_to_a_released_model_and_back(app, sessions, tmp_path):
    client, container = app
    call = client.portal.call

    # 1. Conversations: an ATM kept the card (low confidence, three ways), the weather (out of
    #    scope), a corrected message with a phone number, a complaint (handed over), a balance.
    for text in ATM:
        chat(client, text)
    chat(client, "今天北京天气怎么样")
    chat(client, f"我的手机号{PHONE}收不到验证码", "不是这个，我是说我的卡被冻结了")
    complaint = chat(client, "我要投诉，你们服务太差了")
    balance = chat(client, "查一下余额")
    catch_up(client, container, 0)

    # 2. An agent flags the complaint (waiting in a queue they work) as misunderstood; a conversation
    #    they may not open is refused.
    as_(client, "senior.wang")
    flagged = ok(
        client.post(
            "/console/api/learning/flags",
            json={
                "conversation_id": complaint,
                "seq": 1,
                "intent": "account_closing",
                "note": "wants to close the account",
            },
        )
    )
    assert flagged["reasons"] == ["handed_over", "flagged"]
    refused = client.post("/console/api/learning/flags", json={"conversation_id": balance, "seq": 1})
    assert refused.status_code == 403

    # 3. The queue: every sampled message, masked, with its reasons.
    as_(client, "ann.he")
    queue = ok(client.get("/console/api/learning/queue"))
    reasons = {w["text"]: set(w["reasons"]) for w in queue["waiting"]}
    for text in ATM:
        assert "low_confidence" in reasons[text]
    assert reasons["今天北京天气怎么样"] == {"out_of_scope"}
    assert reasons["我要投诉，你们服务太差了"] == {"handed_over", "flagged"}
    masked = next(t for t in reasons if "收不到验证码" in t)
    assert "corrected" in reasons[masked] and PHONE not in masked and "5678" in masked
    assert all(PHONE not in w["text"] for w in queue["waiting"])
    assert "查一下余额" not in reasons  # confident and unflagged: not sampled
    page = client.get("/console/labelling")
    assert page.status_code == 200 and "今天北京天气怎么样" in page.text

    # 4. Labelling: the ATM messages are card_reissue; the rest is confirmed as the models said.
    #    The complaint's annotator contradicts the agent's flag: a second annotator settles it.
    def label_all(username: str) -> list[str]:
        as_(client, username)
        statuses = []
        while (item := ok(client.get("/console/api/learning/items/next"))["item"]) is not None:
            p = item["prediction"]
            intent = "card_reissue" if "吞" in item["text"] else p["intent"]["name"]
            assert client.get(f"/console/labelling/{item['id']}").status_code == 200
            body = {
                "intent": intent,
                "emotion": p["emotion"]["label"],
                "entities": [{k: e[k] for k in ("type", "start", "end")} for e in p["entities"]],
            }
            statuses.append(
                ok(client.post(f"/console/api/learning/items/{item['id']}/labels", json=body))["status"]
            )
        return statuses

    first = label_all("ann.he")
    assert first.count("second") == 1 and len(first) == len(reasons)
    assert label_all("ann.ma") == ["resolved"]

    # 5. The labels make a dataset version.
    as_(client, "sup.liu")
    made = ok(client.post("/console/api/learning/datasets", json={"note": "first week"}))
    assert made["created"] and made["dataset"]["version"] == "d1"
    assert (
        made["dataset"]["examples"] == len(reasons)
        and made["dataset"]["counts"]["intents"]["card_reissue"] == 3
    )

    # 6. A candidate on the pack's examples plus d1, with its report rendered by the console.
    candidate = container.registry.train(dataset="d1", actor=Actor.system("cli:test"))
    assert candidate.dataset == "d1" and candidate.status == "candidate"
    shown = ok(client.get(f"/console/api/models/{candidate.version}"))
    assert shown["gate"]["passed"], shown["gate"]
    assert {"accuracy", "macro_f1", "per_label", "confusion", "oos_recall", "calibration", "latency"} <= set(
        shown["report"]
    )
    html = client.get(f"/console/models/{candidate.version}")
    assert html.status_code == 200
    for part in (
        'id="accuracy"',
        'id="per-label"',
        'id="confusion"',
        'id="reliability"',
        'id="latency"',
        "d1",
    ):
        assert part in html.text

    # 7. Shadow: the candidate parses new traffic beside the live model; it reads the ATM
    #    messages differently, and only those.
    ok(client.post(f"/console/api/models/{candidate.version}/shadow"))
    for text in [*ATM, "ATM吞卡了", "查一下余额"]:
        chat(client, text)
    catch_up(client, container, 1)
    [run] = ok(client.get(f"/console/api/models/{candidate.version}"))["shadow_runs"]
    assert (run["parsed"], run["disagreed"]) == (5, 3)
    found = ok(client.get(f"/console/api/models/{candidate.version}/disagreements"))["disagreements"]
    assert sorted(d["text"] for d in found) == sorted(ATM)
    assert {d["candidate"]["intent"] for d in found} == {"card_reissue"}
    assert all(d["live"]["intent"] != "card_reissue" for d in found)
    assert "取款机把我的卡吞了" in client.get(f"/console/models/{candidate.version}").text

    # 8. Promotion: the serving parser loads the candidate without a restart.
    served = container.registry.live().version
    before = call(container.parser.parse, "取款机把我的卡吞了").intent.name
    assert before != "card_reissue"
    ok(client.post(f"/console/api/models/{candidate.version}/promote", json={}))
    assert call(container.model_watch.check) is True
    assert container.model_watch.serving["intent"] == candidate.version
    assert call(container.parser.parse, "取款机把我的卡吞了").intent.name == "card_reissue"
    again = chat(client, ATM[0])
    with sessions() as s:
        meta = s.scalar(
            select(Message.meta).where(Message.conversation_id == again, Message.sender == "customer")
        )
    assert meta["nlu"]["intent"]["name"] == "card_reissue"  # a real turn, understood by the new model

    # 9. Rollback in one step: the model served before comes back.
    back = ok(client.post("/console/api/models/rollback", json={"reason": "compare with the old one"}))
    assert back["version"] == served
    assert call(container.model_watch.check) is True
    assert call(container.parser.parse, "取款机把我的卡吞了").intent.name == before

    # 10. A deliberately worse candidate (three examples per intent) is refused; an override
    #     needs a reason, and the audit log keeps it.
    weak = worse_model(tmp_path / "weak")
    bad = container.registry.register(weak, actor=Actor.system("cli:test"), note="most examples dropped")
    refusal = client.post(f"/console/api/models/{bad.version}/promote", json={})
    assert refusal.status_code == 409 and refusal.json()["error"]["code"] == "model_gate_failed"
    assert "worse than the live model" in refusal.json()["error"]["message"]
    no_reason = client.post(f"/console/api/models/{bad.version}/promote", json={"override": True})
    assert no_reason.status_code == 422 and no_reason.json()["error"]["code"] == "override_reason_required"
    assert container.registry.live().version == served
    ok(
        client.post(
            f"/console/api/models/{bad.version}/promote",
            json={"override": True, "reason": "forced for a test"},
        )
    )
    assert container.registry.live().version == bad.version
    ok(client.post("/console/api/models/rollback", json={}))
    with sessions() as s:
        audit = s.execute(select(AuditLogRow.action, AuditLogRow.target_id, AuditLogRow.reason)).all()
    actions = [a for a, *_ in audit]
    for action in (
        "learning.message.flagged",
        "learning.dataset.snapshot",
        "model.trained",
        "model.shadow_started",
    ):
        assert action in actions
    assert ("model.promoted_override", bad.version, "forced for a test") in audit
    assert actions.count("model.rolled_back") == 2


def worse_model(folder):
    """A model that saw three examples per intent, as `helixdesk nlu train --data FILE --out DIR`
    writes one."""
    by_label: dict[str, list] = {}
    for e in load_examples("pack"):
        by_label.setdefault(e.label, []).append(e)
    rng = random.Random(3)
    few = [e for group in by_label.values() for e in rng.sample(group, 3)]
    save_model(IntentClassifier.train(few, IntentConfig()), folder, data_sha256=data_sha256(few))
    return folder
