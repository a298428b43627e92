"""Insight end to end below the pages, on SQLite and PostgreSQL: the demo month (real NLU, written
as past conversations with their events), the outbox relay, the `insight` consumer, the embedder
and a mining run find the planted spike; a second run keeps the hotspot's id; a message arriving
later joins its hotspot; replaying the event log changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from helixdesk.bus.consumer import ConsumerOffset
from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.insight.demo import generate, load_themes
from helixdesk.insight.feed import CONSUMER
from helixdesk.insight.hotspots import Period, hotspots
from helixdesk.insight.mining import mine_window
from helixdesk.insight.models import InsightMessage
from helixdesk.insight.proposals import Proposals
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.insight_data import PACK, consume, embed_all, vectoriser

pytestmark = pytest.mark.slow
CRASH = next(t for t in load_themes(PACK) if t.spike_days)
CRASH_TEXTS = {text for lines in CRASH.customer.values() for text in lines}


def test_the_planted_spike_is_found_and_keeps_its_id(db_url: str, sessions, settings_for, model_root) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(db_url)
    made = generate(settings, days=14, per_day=24, seed=3)
    assert "app_crash_after_update" in made
    assert consume(sessions) > 0
    vectorise = vectoriser(model_root)
    embed_all(sessions, vectorise)
    now = utcnow()
    first = mine_window(sessions, since=now - timedelta(days=30), until=now)
    assert first is not None and first.topics >= 8

    # The demo writes each day's conversations between 01:00 and 13:00 UTC and plants the spike on
    # the last three days before today: the period is those three whole days, whatever the hour.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    last3 = Period(midnight - timedelta(days=3), midnight)
    with reading(sessions) as s:
        report = hotspots(s, last3)
        crash_rows = s.execute(
            select(InsightMessage.topic_id, InsightMessage.text).where(InsightMessage.at >= last3.since)
        ).all()
    in_crash = [topic for topic, text in crash_rows if text in CRASH_TEXTS]
    assert len(in_crash) >= 8, "the demo plants the spike in the last three days"
    crash_topic = max(set(in_crash), key=in_crash.count)
    assert in_crash.count(crash_topic) / len(in_crash) >= 0.8, "one hotspot holds the planted theme"
    spikes = [h.topic_id for h in report.spikes]
    assert spikes == [crash_topic], report.to_dict()
    (hot,) = report.spikes
    assert set(hot.languages) == {"zh-Hans", "zh-Hant", "en"}
    # The planted theme is always handed over; a stray everyday message may join the hotspot.
    assert hot.handoff_share >= 0.8 and hot.unanswered_share >= 0.8
    assert all(r["text"] in CRASH_TEXTS for r in hot.representatives)

    # The next day's run keeps the hotspot's id (and so its link).
    second = mine_window(sessions, since=now - timedelta(days=30), until=now + timedelta(seconds=1))
    assert second is not None and second.run_id > first.run_id
    with reading(sessions) as s:
        again = hotspots(s, last3)
    assert [h.topic_id for h in again.spikes] == [crash_topic]

    # A message arriving after the run joins the hotspot as soon as it is embedded.
    writer = ConversationWriter(privacy=TranscriptPrivacy())
    when = utcnow() - timedelta(seconds=30)
    with transaction(sessions) as s:
        import_past(
            s,
            writer,
            PastConversation(
                channel="app",
                language="en",
                messages=[
                    PastMessage(
                        Sender.CUSTOMER, "Since this morning's update the app crashes when I log in", when
                    )
                ],
            ),
        )
    with reading(sessions) as s:
        before = s.scalar(select(func.count()).select_from(InsightMessage))
    assert consume(sessions) > 0
    embed_all(sessions, vectorise)
    with reading(sessions) as s:
        latest = s.scalars(select(InsightMessage).where(InsightMessage.at == when)).one()
        assert latest.topic_id == crash_topic
        rows_before = {
            r.id: (r.topic_id, r.handed_off, r.answered) for r in s.scalars(select(InsightMessage))
        }
    assert len(rows_before) == before + 1

    # The themes the bot cannot answer become proposals drafted from the agents' own replies,
    # each with its sources; everyday requests the bot answered do not.
    made = Proposals(sessions=sessions).generate()
    themes = {t.name: t for t in load_themes(PACK)}
    found: dict[str, dict[str, object]] = {}
    for proposal in Proposals(sessions=sessions).listed():
        texts = {e["text"] for e in proposal["examples"]}
        name = next(
            n for n, t in themes.items() if texts & {x for lines in t.customer.values() for x in lines}
        )
        found[name] = proposal
        for language, answer in proposal["answers"].items():
            assert answer in themes[name].agent[language], (name, language, answer)
        assert proposal["sources"] and all(src["reply"] for src in proposal["sources"])
    assert set(found) == set(themes) and len(made) == len(found)
    assert Proposals(sessions=sessions).generate() == []  # covered already

    # Replaying the whole log (a lost offset) changes no row.
    with transaction(sessions) as s:
        s.execute(update(ConsumerOffset).where(ConsumerOffset.consumer == CONSUMER).values(log_seq=0))
    assert consume(sessions) > 0
    with reading(sessions) as s:
        rows_after = {r.id: (r.topic_id, r.handed_off, r.answered) for r in s.scalars(select(InsightMessage))}
    assert rows_after == rows_before
