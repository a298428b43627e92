"""Personal data typed by staff is masked like the customer's: cards, IDs and phones in several
formats, typed into every text field an agent or supervisor has and into the customer's chat, are
found nowhere in clear: no table, no log line, no entry of the Redis stream, no page, no API answer."""

from __future__ import annotations

import json
import logging
import re
import uuid

import pytest
from fastapi.testclient import TestClient
from redis import Redis

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.privacy.keys import generate_key
from tests.console_login import sign_in
from tests.integration.test_privacy_api import scan

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
REDIS_URL = "redis://127.0.0.1:6379/0"
# One card, ID and phone, each written the ways people write them.
CARDS = [
    "4012.8888.8888.1881",
    "4012 8888 8888 1881",
    "4012-8888-8888-1881",
    "４０１２８８８８８８８８１８８１",
]
IDS = ["11010519491231002X", "110105 19491231 002X"]
PHONES = ["13912345670", "139 1234 5670", "+86 139-1234-5670"]
# What must not appear anywhere: every format, and the bare digits.
RAW = [*CARDS, "4012888888881881", *IDS, "11010519491231002x", *PHONES]


def _text(i: int) -> str:
    return f"卡号 {CARDS[i % 4]} 身份证 {IDS[i % 2]} 电话 {PHONES[i % 3]} (#{i})"


@pytest.fixture
def setup(db_url, settings_for):
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(3))
    engine.dispose()
    stream = f"helixdesk:test:{uuid.uuid4().hex}"
    settings = settings_for(
        db_url,
        encryption_keys=generate_key("sp1"),
        event_bus="redis",
        redis_url=REDIS_URL,
        redis_stream=stream,
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        staff = client.app.state.container.staff
        staff.create_user(username="fraud.p", password=PASSWORD, display_name="F", roles=["fraud", "agent"])
        staff.create_user(username="sup.p", password=PASSWORD, display_name="S", roles=["supervisor"])
        yield client, stream
    redis = Redis.from_url(REDIS_URL)
    redis.delete(stream)
    redis.close()


def test_personal_data_typed_by_staff_and_customers_is_nowhere_in_clear(setup, db_url, caplog):
    client, stream = setup
    caplog.set_level(logging.DEBUG)
    engine = make_engine(db_url)
    try:
        assert scan(engine, RAW) == []
        seen: list[str] = []  # every page and API answer the people involved get

        # The customer writes every format, then is handed to the fraud queue.
        conv = client.post("/api/v1/conversations", json={"channel": "web", "customer_ref": "C000001"}).json()
        auth = {"Authorization": f"Bearer {conv['token']}"}
        url = f"/api/v1/conversations/{conv['id']}/messages"
        for i in range(3):
            seen.append(client.post(url, json={"text": _text(i)}, headers=auth).text)
        seen.append(client.post(url, json={"text": "我的卡被盗刷了，快帮我冻结"}, headers=auth).text)
        assert (
            client.get(f"/api/v1/conversations/{conv['id']}", headers=auth).json()["state"]
            == "waiting_for_agent"
        )

        # The agent: claims it, writes to the customer, a note, a draft, reveals with a reason,
        # transfers with a note; claims again, wraps up with a note.
        sign_in(client, "fraud.p", PASSWORD)
        assert client.post("/console/api/presence", json={"presence": "online"}).status_code == 200
        api = f"/console/api/conversations/{conv['id']}"
        handoff = client.get("/console/api/queue").json()["items"][0]["handoff_id"]
        assert client.post(f"/console/api/handoffs/{handoff}/claim").status_code == 200
        # Personal data typed in clear is stopped by the live quality check unless the agent says why.
        r = client.post(api + "/messages", json={"text": "请核对 " + _text(3)})
        assert r.status_code == 409 and r.json()["error"]["code"] == "compliance_warning", r.text
        for i, path in enumerate(("/messages", "/notes")):
            body = {"text": "请核对 " + _text(i + 3)}
            if path == "/messages":
                body["override_reason"] = "客户要求核对"
            r = client.post(api + path, json=body)
            assert r.status_code == 200, r.text
            seen.append(r.text)
        r = client.post(
            "/console/api/drafts",
            json={
                "question": "卡号 " + CARDS[3] + " 怎么办",
                "answer": "请回电 " + PHONES[2],
                "language": "zh-Hans",
            },
        )
        assert r.status_code == 200, r.text
        draft_id = r.json()["id"]
        page = client.get(f"/console/conversations/{conv['id']}").text
        button = re.search(r'class="reveal" data-message="([^"]+)" data-span="(\d+)"', page)
        assert button is not None, "the conversation page offers no masked value to reveal"
        r = client.post(
            api + "/reveal",
            json={
                "message_id": button.group(1),
                "span_index": int(button.group(2)),
                "reason": "客户说卡号 " + CARDS[0] + " 需核对",
            },
        )
        assert r.status_code == 200, r.text  # the value itself is shown on purpose, not scanned
        r = client.post(
            api + "/transfer", json={"queue": "fraud", "note": "卡号 " + CARDS[1] + " 需补卡 " + IDS[1]}
        )
        assert r.status_code == 200, r.text
        handoff = client.get("/console/api/queue").json()["items"][0]["handoff_id"]
        assert client.post(f"/console/api/handoffs/{handoff}/claim").status_code == 200
        r = client.post(
            api + "/wrap-up",
            json={
                "disposition": "card_frozen",
                "resolution": "resolved",
                "note": "已冻结 " + CARDS[2] + " 回电 " + PHONES[1],
            },
        )
        assert r.status_code == 200, r.text
        for path in (
            "/console",
            f"/console/conversations/{conv['id']}",
            "/console/api/queue",
            api,
            api + "/messages",
        ):
            seen.append(client.get(path).text)

        # The supervisor reviews the draft with a note and reads the audit log and the board.
        sign_in(client, "sup.p", PASSWORD)
        r = client.post(
            f"/console/api/drafts/{draft_id}/review", json={"approve": False, "note": "电话 " + PHONES[0]}
        )
        assert r.status_code == 200, r.text
        for path in (
            "/console/audit",
            "/console/supervisor",
            "/console/drafts",
            "/console/api/drafts",
            "/console/api/agents",
        ):
            seen.append(client.get(path).text)
        assert client.portal is not None
        client.portal.call(client.app.state.container.settle)  # every event published

        assert scan(engine, RAW) == [], "raw personal data in the database"
        leaked_pages = [(i, raw) for i, page in enumerate(seen) for raw in RAW if raw in page]
        assert leaked_pages == [], "raw personal data on a page or in an API answer"
        assert [raw for raw in RAW if raw in caplog.text] == [], "raw personal data in the logs"
        redis = Redis.from_url(REDIS_URL, decode_responses=True)
        entries = redis.xrange(stream)
        redis.close()
        assert entries, "the events reached the Redis stream"
        payloads = [json.dumps(json.loads(fields["event"]), ensure_ascii=False) for _, fields in entries]
        assert [raw for raw in RAW for p in payloads if raw in p] == [], "raw personal data on the bus"
        # The masked forms are there: the scan reads the columns it should.
        assert scan(engine, ["1881"]) != []
    finally:
        engine.dispose()
