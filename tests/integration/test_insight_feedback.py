"""Feedback from every source through the console API: agents add callback notes, supervisors import
social-media comments as JSON or CSV; every item goes through the NLU, is masked and tagged with
its channel, and lands in the same hotspot as the chat complaints about the same thing. A bad
import is refused whole with a stable code; an item sent twice is stored once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading
from helixdesk.edge.app import create_app
from helixdesk.insight.models import InsightMessage
from tests.console_login import sign_in
from tests.insight_data import consume_and_mine

PASSWORD = "feedback-pass-2026"
CRASH = "新版APP一登录就闪退"
CHAT = [
    CRASH,
    "更新以后手机银行打不开，一直闪退",
    "手机银行升级后闪退，转账都转不了",
    "app更新完登录就崩溃",
    "昨晚更新了APP，现在一打开就闪退",
    "我的卡被冻结了怎么办",
    "卡突然被冻结了，怎么解冻",
    "银行卡冻结了还能用吗",
    "为什么我的卡被锁了",
    "卡被风控冻结，怎么处理",
    "信用卡年费怎么收",
    "年费可以免吗",
    "信用卡年费是多少钱",
    "怎么减免信用卡年费",
    "年费扣了能退吗",
    "附近的网点在哪里",
    "最近的营业厅几点关门",
    "周末网点开门吗",
    "你们分行地址在哪",
    "哪个网点可以办外币业务",
]


@pytest.fixture
def desk(sqlite_url, settings_for):
    app = create_app(settings_for(sqlite_url))
    with TestClient(app, follow_redirects=False) as client:
        container = client.app.state.container
        for name, roles in (("sup.a", ["supervisor"]), ("agent.li", ["agent"])):
            container.staff.create_user(username=name, password=PASSWORD, display_name=name, roles=roles)
        yield client


def as_user(client: TestClient, username: str) -> TestClient:
    client.headers.pop("X-CSRF-Token", None)
    sign_in(client, username, PASSWORD)
    return client


def rows(client: TestClient) -> list[InsightMessage]:
    with reading(client.app.state.container.sessions) as s:
        return list(s.scalars(select(InsightMessage).order_by(InsightMessage.at)))


def test_callback_notes_and_social_comments_go_through_the_nlu_masked(desk) -> None:
    agent = as_user(desk, "agent.li")
    r = agent.post(
        "/console/api/insight/feedback",
        json={
            "items": [{"source": "callback", "channel": "phone", "text": "客户回访：新版APP登录闪退，很生气"}]
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 1, "already": 0}
    # An agent may not import social media.
    r = agent.post(
        "/console/api/insight/feedback",
        json={"items": [{"source": "social", "channel": "weibo", "text": "x"}]},
    )
    assert r.status_code == 403
    sup = as_user(desk, "sup.a")
    csv = (
        "\ufeffsource,channel,text,language,external_id\n"
        "social,weibo,你们银行APP更新后闪退，打电话13812345678也没人接,zh-Hans,wb-1\n"
        "social,weibo,手機銀行更新後一直閃退,zh-Hant,wb-2\n"
    ).encode()
    r = sup.post("/console/api/insight/feedback.csv", content=csv, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json() == {"added": 2, "already": 0}
    # The same posts again: nothing new.
    r = sup.post("/console/api/insight/feedback.csv", content=csv, headers={"Content-Type": "text/csv"})
    assert r.json() == {"added": 0, "already": 2}
    stored = rows(desk)
    assert sorted((r.source, r.channel) for r in stored) == [
        ("callback", "phone"),
        ("social", "weibo"),
        ("social", "weibo"),
    ]
    weibo = next(r for r in stored if r.language == "zh-Hans" and r.source == "social")
    assert "13812345678" not in weibo.text  # masked like every stored text
    assert weibo.intent is not None and weibo.vector is None  # understood now, embedded by the worker
    assert any(r.negative for r in stored)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("source,channel\nsocial,weibo\n", "invalid_feedback_file"),  # no text column
        ("source,channel,text\nsocial,weibo,ok\nemail,x,bad source\n", "invalid_feedback"),
        ("source,channel,text,at\nsocial,weibo,later,2999-01-01T00:00:00+00:00\n", "invalid_feedback"),
        ("source,channel,text,language\nsocial,weibo,hi,fr\n", "invalid_feedback"),
        ("source,channel,text,external_id\nsocial,weibo,a,p1\nsocial,weibo,b,p1\n", "invalid_feedback"),
    ],
)
def test_a_bad_import_is_refused_whole_with_a_stable_code(desk, body: str, code: str) -> None:
    sup = as_user(desk, "sup.a")
    r = sup.post(
        "/console/api/insight/feedback.csv", content=body.encode(), headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == code
    assert rows(desk) == []  # nothing half-imported
    bad = sup.post(
        "/console/api/insight/feedback.csv", content=b"\xff\xfe\x00", headers={"Content-Type": "text/csv"}
    )
    assert bad.json()["error"]["code"] == "invalid_feedback_file"


def test_a_social_complaint_lands_in_the_hotspot_of_the_same_complaint_in_chat(desk, model_root) -> None:
    client = desk
    sessions = client.app.state.container.sessions
    # Chat: customers complain of the crash, and ask about other things.
    for text in CHAT:
        conv = client.post("/api/v1/conversations", json={"channel": "web"}).json()
        client.post(
            f"/api/v1/conversations/{conv['id']}/messages",
            json={"text": text},
            headers={"Authorization": f"Bearer {conv['token']}"},
        )
    sup = as_user(client, "sup.a")
    r = sup.post(
        "/console/api/insight/feedback",
        json={
            "items": [
                {
                    "source": "social",
                    "channel": "weibo",
                    "text": "这破APP一更新就闪退，登录不了",
                    "external_id": "wb-9",
                },
                {"source": "social", "channel": "douyin", "text": "新版本手机银行又崩了，打开就闪退"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    consume_and_mine(sessions, model_root, days=1)
    with reading(sessions) as s:
        found = {(r.source, r.text): r.topic_id for r in s.scalars(select(InsightMessage))}
    crash_topic = found[("chat", CRASH)]
    assert crash_topic is not None
    assert found[("social", "这破APP一更新就闪退，登录不了")] == crash_topic
    assert found[("social", "新版本手机银行又崩了，打开就闪退")] == crash_topic
    assert found[("chat", "我的卡被冻结了怎么办")] != crash_topic
    assert utcnow() - timedelta(minutes=30) < max(r.at for r in rows(client))
