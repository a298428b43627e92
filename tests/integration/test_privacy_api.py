"""Personal data typed through the real API is stored nowhere in clear (SQLite and PostgreSQL), nor logged."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, Engine, String, Text, inspect, select, text

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.conversations.models import Message
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.privacy import SECRET_MASK
from helixdesk.privacy.crypto import Keyring, generate_key
from helixdesk.privacy.vault import list_values, reveal_value

KEY = generate_key("it1")
CARD = "6222 0212 3456 7890 128"
CARD_EN = "4111-1111-1111-1111"
PHONE = "13912345670"
ID = "11010519491231002X"
EMAIL = "li.na.private@example.com"
RAW = [
    CARD,
    CARD.replace(" ", ""),
    CARD_EN,
    CARD_EN.replace("-", ""),
    PHONE,
    ID,
    ID.lower(),
    EMAIL,
]


@pytest.fixture
def client(db_url, settings_for):
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(3))
    engine.dispose()
    with TestClient(create_app(settings_for(db_url, encryption_keys=KEY))) as c:
        yield c


def scan(engine: Engine, needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a text or JSON column holds one of `needles`."""
    hits = []
    inspector = inspect(engine)
    textual = {
        table: [
            c["name"] for c in inspector.get_columns(table) if isinstance(c["type"], String | Text | JSON)
        ]
        for table in inspector.get_table_names()
    }
    with engine.connect() as conn:
        for table, columns in textual.items():
            if not columns:
                continue
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in conn.execute(text(f'SELECT {quoted} FROM "{table}"')):
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    cell = str(value)
                    hits += [(table, column, n) for n in needles if n in cell]
    return hits


def test_typed_card_numbers_are_stored_nowhere_in_clear_nor_logged(client, db_url, caplog):
    caplog.set_level(logging.DEBUG)
    engine = make_engine(db_url)
    try:
        assert scan(engine, RAW) == []  # none of them is in the demo bank to begin with

        conv = client.post("/api/v1/conversations", json={"channel": "web", "customer_ref": "C000001"}).json()
        client.headers["Authorization"] = f"Bearer {conv['token']}"
        url = f"/api/v1/conversations/{conv['id']}/messages"
        # A balance needs the one-time code (a lost card would be frozen without one).
        first = client.post(url, json={"text": f"我的卡号是 {CARD}，帮我查余额，手机 {PHONE}"}).json()
        assert first["message"]["text"] == "我的卡号是 **** **** **** 0128，帮我查余额，手机 139****5670"
        page = client.get("/demo/outbox", params={"customer": "C000001", "limit": 1}).text
        code = re.findall(
            r"(?<!\d)(\d{6})(?!\d)", re.search(r'<td class="body">(.*?)</td>', page, re.S).group(1)
        )[0]
        answered = client.post(url, json={"text": code}).json()
        assert answered["message"]["text"] == SECRET_MASK
        client.post(url, json={"text": f"my other card {CARD_EN} too, ID {ID.lower()}, mail {EMAIL}"})

        assert scan(engine, RAW) == []
        # The scan does read text and JSON columns: the masked forms are there.
        seen = {(table, column) for table, column, _ in scan(engine, ["**** **** **** 0128"])}
        assert {("messages", "text"), ("messages", "meta"), ("pii_values", "masked")} <= seen
        with engine.connect() as conn:
            for table in ("messages", "notification_outbox", "pii_values", "dialogue_states", "action_audit"):
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    assert all(code not in str(v) for v in row), (table, row)
        for record in caplog.records:
            assert all(raw not in record.getMessage() for raw in RAW)
        assert all(raw not in caplog.text for raw in RAW)
    finally:
        engine.dispose()

    # The raw values are in the vault, encrypted, for an agent who states a reason.
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    with sessions() as s:
        first_id = s.scalar(select(Message.id).where(Message.conversation_id == conv["id"], Message.seq == 1))
        meta = s.scalar(select(Message.meta).where(Message.id == first_id))
    assert first_id is not None and meta["pii"] == ["card_number", "phone"]
    nlu_card = [e for e in meta["nlu"]["entities"] if e["type"] == "card_number"]
    assert nlu_card == [{"type": "card_number", "value": "**** **** **** 0128", "text": "**** **** **** 0128",
                         "start": 6, "end": 25}]  # fmt: skip
    assert [v.type for v in list_values(sessions, first_id)] == ["card_number", "phone"]
    shown = reveal_value(
        sessions,
        Keyring.parse(KEY),
        message_id=first_id,
        span_index=0,
        actor="agent:test",
        reason="test reveal",
    )
    engine.dispose()
    assert shown.value == CARD
