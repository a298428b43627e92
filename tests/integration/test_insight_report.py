"""The hotspot report against hand-computed figures, on SQLite and PostgreSQL: sizes, the previous
period, the baseline and the spike, the shares, languages, filters, representatives and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.db.session import reading, transaction
from helixdesk.insight.hotspots import Filters, Period, hotspots, report_csv
from helixdesk.insight.models import InsightMessage, InsightTopic

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
DAY = Period(NOW - timedelta(days=1), NOW)


def _row(n: int, topic: str | None, at: datetime, **kw: object) -> InsightMessage:
    values: dict[str, object] = {
        "id": f"{topic}-{at:%m%d%H%M}-{n}",
        "source": "chat",
        "channel": "web",
        "language": "zh-Hans",
        "text": f"{topic} message {n}",
        "negative": False,
        "handed_off": False,
        "answered": True,
        "rejected": False,
        "topic_id": topic,
        "topic_score": 0.5,
        "at": at,
    } | kw
    return InsightMessage(**values)


def _seed(sessions: sessionmaker[Session]) -> None:
    rows: list[InsightMessage] = []
    with transaction(sessions) as s:
        s.add(InsightTopic(id="t-crash", keywords=["闪退", "app"], size=0))
        s.add(InsightTopic(id="t-fee", keywords=["年费", "fee"], size=0))
        # The app crash: 2, 1, 0, 1 in the four days before, 20 in the last day.
        for back, count in ((1, 2), (2, 1), (3, 0), (4, 1)):
            for i in range(count):
                rows.append(_row(i, "t-crash", NOW - timedelta(days=back, hours=3 + i)))
        for i in range(20):
            rows.append(
                _row(
                    i,
                    "t-crash",
                    NOW - timedelta(minutes=30 + 10 * i),
                    language=("zh-Hans", "zh-Hant", "en", "en")[i % 4],
                    channel="app" if i < 15 else "web",
                    handed_off=i < 10,  # 10 of 20
                    negative=i < 5,  # 5 of 20
                    answered=i >= 16,  # 16 of 20 unanswered
                    rejected=False,
                    topic_score=i / 20,  # the nearest to the centre: 19, 18, 17
                )
            )
        # The annual fee: steady at 6 a day, 6 in the last day (one handed off, one rejected).
        for back in range(0, 5):
            for i in range(6):
                rows.append(
                    _row(
                        i,
                        "t-fee",
                        NOW - timedelta(days=back, hours=2 + i),
                        handed_off=back == 0 and i == 0,
                        rejected=back == 0 and i == 1,
                    )
                )
        # Three rows not mined yet, in the last day.
        for i in range(3):
            rows.append(_row(i, None, NOW - timedelta(minutes=5 + i)))
        # Outside every window: ignored.
        rows.append(_row(0, "t-crash", NOW + timedelta(minutes=1)))
        s.add_all(rows)


def test_report_equals_the_hand_computed_figures(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with reading(sessions) as s:
        report = hotspots(s, DAY)
    assert report.total == 20 + 6 + 3
    by_id = {h.topic_id: h for h in report.hotspots}
    assert [h.topic_id for h in report.hotspots] == ["t-crash", "t-fee", "unassigned"]
    crash = by_id["t-crash"]
    assert (crash.size, crash.previous, crash.baseline) == (20, 2, 1.0)
    assert crash.trend == 9.0  # (20 - 2) / 2
    assert crash.spike is True
    assert (crash.handoff_share, crash.negative_share, crash.unanswered_share, crash.rejected_share) == (
        0.5,
        0.25,
        0.8,
        0.0,
    )
    assert crash.languages == {"zh-Hans": 5, "zh-Hant": 5, "en": 10}
    assert crash.keywords == ["闪退", "app"]
    assert [r["text"] for r in crash.representatives] == [
        "t-crash message 19",
        "t-crash message 18",
        "t-crash message 17",
    ]
    fee = by_id["t-fee"]
    assert (fee.size, fee.previous, fee.baseline, fee.trend, fee.spike) == (6, 6, 6.0, 0.0, False)
    assert (fee.handoff_share, fee.rejected_share) == (round(1 / 6, 3), round(1 / 6, 3))
    unassigned = by_id["unassigned"]
    assert (unassigned.size, unassigned.spike, unassigned.keywords) == (3, False, [])


def test_filters_narrow_every_figure(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with reading(sessions) as s:
        app = hotspots(s, DAY, Filters(channel="app"))
        english = hotspots(s, DAY, Filters(language="en"))
        week = hotspots(s, Period(NOW - timedelta(days=7), NOW))
    assert [(h.topic_id, h.size) for h in app.hotspots] == [("t-crash", 15)]
    assert app.hotspots[0].handoff_share == round(10 / 15, 3)
    assert [(h.topic_id, h.size) for h in english.hotspots] == [("t-crash", 10)]
    assert {h.topic_id: h.size for h in week.hotspots} == {"t-crash": 24, "t-fee": 30, "unassigned": 3}
    # The data began five days ago: no earlier week to compare with, so nothing spikes.
    assert [(h.baseline, h.spike) for h in week.hotspots] == [(0.0, False)] * 3


def test_the_csv_export_has_one_row_per_hotspot_with_its_link(sessions: sessionmaker[Session]) -> None:
    _seed(sessions)
    with reading(sessions) as s:
        report = hotspots(s, DAY)
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert [r["topic_id"] for r in rows] == ["t-crash", "t-fee", "unassigned"]
    assert rows[0]["spike"] == "yes" and rows[0]["size"] == "20" and rows[0]["trend"] == "9.0"
    assert rows[0]["languages"] == "en:10;zh-Hans:5;zh-Hant:5"
    assert rows[0]["link"] == "/console/insight/topics/t-crash"
    assert rows[0]["representative_1"] == "t-crash message 19"


def test_rows_of_an_anonymised_conversation_keep_their_figures_only(sessions: sessionmaker[Session]) -> None:
    from helixdesk.conversations.models import Conversation, Customer
    from helixdesk.insight.embedder import Vectoriser, embed_next
    from helixdesk.insight.feed import forget_anonymised

    with transaction(sessions) as s:
        customer = Customer(language="zh-Hans")
        s.add(customer)
        s.flush()
        old = Conversation(customer_id=customer.id, channel="web", anonymised_at=NOW)
        live = Conversation(customer_id=customer.id, channel="web")
        s.add_all([old, live])
        s.flush()
        s.add(_row(1, "t-fee", NOW - timedelta(days=200), conversation_id=old.id, vector=b"\0" * 8))
        s.add(_row(2, "t-fee", NOW - timedelta(hours=1), conversation_id=live.id))
        old_id, live_id = old.id, live.id
    assert forget_anonymised(sessions) == 1
    assert forget_anonymised(sessions) == 0
    with reading(sessions) as s:
        rows = {r.conversation_id: r for r in s.query(InsightMessage)}
    assert (rows[old_id].text, rows[old_id].vector, rows[old_id].topic_id) == ("", None, "t-fee")
    assert rows[live_id].text == "t-fee message 2"
    # The embedder never embeds a cleared row again.
    picked = embed_next(sessions, Vectoriser(), limit=10)
    assert picked is not None and picked.ids == [rows[live_id].id]


def test_an_erased_or_anonymised_conversation_leaves_the_proposals_that_quoted_it(
    sessions: sessionmaker[Session],
) -> None:
    from helixdesk.insight.clusters import forget_in_proposals
    from helixdesk.insight.models import InsightProposal

    quote = [{"conversation_id": c, "question": f"q {c}", "reply": "r"} for c in ("c1", "c2")]
    with transaction(sessions) as s:
        s.add(InsightProposal(questions={}, answers={}, sources=quote, examples=quote, volume=2))
        s.add(InsightProposal(questions={}, answers={}, sources=quote[1:], examples=[], volume=1))
    with transaction(sessions) as s:
        assert forget_in_proposals(s, ["c1"]) == 1
    with reading(sessions) as s:
        kept = [[x["conversation_id"] for x in p.sources + p.examples] for p in s.query(InsightProposal)]
    assert sorted(kept) == [["c2"], ["c2", "c2"]]
