"""`helixdesk retention run` and `helixdesk customers export|erase` as an operator runs them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.audit import AuditLog
from helixdesk.audit.keys import resolve_audit_key
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.privacy.crypto import Keyring, generate_key
from tests.cliproc import helixdesk_cli
from tests.ocr_images import draw_lines
from tests.personal_data import add_image, seed

SCREENSHOT = draw_lines(["交易失败", "错误代码：E1023"])

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


SECRET = "privacy-cli-secret-0123456789abcdef"
KEYS = generate_key("cli1")


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'privacy.db'}"
    env = {"HELIXDESK_DATABASE_URL": url, "HELIXDESK_SECRET_KEY": SECRET, "HELIXDESK_ENCRYPTION_KEYS": KEYS}
    helixdesk = helixdesk_cli(tmp_path, env=env)
    assert helixdesk("db", "upgrade").returncode == 0
    engine = make_engine(url)
    audit = AuditLog(key=resolve_audit_key(Settings(_env_file=None, database_url=url, secret_key=SECRET)))  # type: ignore[call-arg]
    now = datetime.now(UTC)
    seed(make_session_factory(engine), audit, "C000001", marker="gamma-note", at=now - timedelta(days=800))
    delta = seed(
        make_session_factory(engine), audit, "C000002", marker="delta-note", at=now - timedelta(hours=2)
    )
    add_image(
        make_session_factory(engine),
        Keyring.parse(KEYS),
        delta["conversation_id"],
        SCREENSHOT,
        marker="delta-note",
        at=now - timedelta(hours=1),
    )
    engine.dispose()
    return helixdesk, tmp_path


def test_retention_dry_run_then_run(cli):
    helixdesk, _ = cli
    dry = helixdesk("retention", "run", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    counts = {r["data_class"]: r["counts"] for r in json.loads(dry.stdout)["results"]}
    assert counts["conversations"] == {"conversations": 1} and counts["outbox"] == {"notifications": 1}
    table = helixdesk("retention", "run", "--by", "ops-alice")
    assert table.returncode == 0 and "recorded in the audit log as entry" in table.stdout
    again = json.loads(helixdesk("retention", "run", "--json").stdout)
    assert all(not any(r["counts"].values()) for r in again["results"])
    runs = json.loads(helixdesk("audit", "search", "--action", "retention.run", "--json").stdout)
    assert [r["actor"]["id"] for r in runs][1] == "cli:ops-alice"
    assert helixdesk("audit", "verify").returncode == 0


def test_export_then_erase(cli):
    helixdesk, tmp_path = cli
    out = tmp_path / "C000002.json"
    done = helixdesk("customers", "export", "C000002", "--out", str(out), "--reason", "R-1")
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["conversations"][0]["messages"][0]["text"] == "delta-note message 1"
    # The screenshot they sent, as they sent it (the seeded footprint's other image is listed too).
    sent = [i["data_base64"] for i in data["conversations"][0]["images"] if i["data_base64"]]
    assert [base64.b64decode(d) for d in sent] == [SCREENSHOT]
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    refused = helixdesk("customers", "erase", "C000002", stdin="n\n")
    assert refused.returncode != 0 and "delta-note" in helixdesk("customers", "export", "C000002").stdout
    erased = helixdesk("customers", "erase", "C000002", "--yes", "--json", "--reason", "R-2")
    assert erased.returncode == 0, erased.stderr
    assert json.loads(erased.stdout)["deleted"]["messages"] == 4  # three seeded, the screenshot
    left = json.loads(helixdesk("customers", "export", "C000002").stdout)
    assert left["conversations"] == [] and left["customers"] == [] and left["notifications"] == []
    assert [d["ref"] for d in left["disputes"]] == ["D-delta-note"]  # the bank's case record is kept
    unknown = helixdesk("customers", "export", "C999999")
    assert unknown.returncode == 2 and "error[customer_not_found]" in unknown.stderr
    entries = json.loads(helixdesk("audit", "search", "--customer", "C000002", "--json").stdout)
    actions = [e["action"] for e in entries]
    assert actions[:3] == ["customer.exported", "customer.erased", "customer.exported"]  # newest first
    assert actions.count("customer.erased") == 1  # the refused erasure did nothing


@pytest.mark.redis
def test_erasure_also_drops_the_customers_events_from_the_log_and_the_redis_stream(tmp_path):
    import asyncio
    import uuid

    from redis import Redis
    from sqlalchemy import func, select

    from helixdesk.bus.outbox import EventRecord
    from helixdesk.bus.redis_streams import RedisStreamsEventBus
    from helixdesk.conversations.models import Conversation, Customer
    from helixdesk.core.events import ConversationStateChanged

    url = f"sqlite:///{tmp_path / 'erase.db'}"
    stream = f"helixdesk:test:{uuid.uuid4().hex}"
    env = {
        "HELIXDESK_DATABASE_URL": url,
        "HELIXDESK_SECRET_KEY": SECRET,
        "HELIXDESK_EVENT_BUS": "redis",
        "HELIXDESK_REDIS_URL": "redis://127.0.0.1:6379/0",
        "HELIXDESK_REDIS_STREAM": stream,
    }
    helixdesk = helixdesk_cli(tmp_path, env=env)
    assert helixdesk("db", "upgrade").returncode == 0
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    audit = AuditLog(key=resolve_audit_key(Settings(_env_file=None, database_url=url, secret_key=SECRET)))  # type: ignore[call-arg]
    now = datetime.now(UTC)
    seed(sessions, audit, "C000003", marker="eps-note", at=now - timedelta(hours=1))
    seed(sessions, audit, "C000004", marker="zeta-note", at=now - timedelta(hours=1))
    with sessions() as s:
        mine = s.scalars(
            select(Conversation.id)
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Customer.bank_ref == "C000003")
        ).all()
        other = s.scalars(
            select(Conversation.id)
            .join(Customer, Customer.id == Conversation.customer_id)
            .where(Customer.bank_ref == "C000004")
        ).all()
    events = [
        ConversationStateChanged(conversation_id=c, old_state="bot", new_state="closed")
        for c in [*mine, *other]
    ]
    with sessions.begin() as s:
        for e in events:
            s.add(
                EventRecord(
                    event_id=e.event_id,
                    conversation_id=e.conversation_id,
                    type=e.type,
                    payload=e.model_dump_json(),
                    occurred_at=now,
                )
            )

    async def publish() -> None:
        bus = RedisStreamsEventBus(url=env["HELIXDESK_REDIS_URL"], stream=stream)
        await bus.connect()
        await bus.publish_many(events)
        await bus.close()

    asyncio.run(publish())
    try:
        erased = helixdesk("customers", "erase", "C000003", "--yes", "--json")
        assert erased.returncode == 0, erased.stderr
        report = json.loads(erased.stdout)
        assert report["deleted"]["events"] == len(mine) and report["event_stream_deleted"] == len(mine)
        with sessions() as s:
            left = set(s.scalars(select(EventRecord.conversation_id)))
            assert left == set(other) and s.scalar(select(func.count()).select_from(EventRecord)) == len(
                other
            )
        redis = Redis.from_url(env["HELIXDESK_REDIS_URL"], decode_responses=True)
        in_stream = {json.loads(f["event"])["conversation_id"] for _, f in redis.xrange(stream)}
        redis.delete(stream)
        redis.close()
        assert in_stream == set(other)
    finally:
        engine.dispose()
