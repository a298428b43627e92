"""Drift monitoring on SQLite and PostgreSQL: a shifted day of traffic raises the alarms and an
ordinary day does not (real NLU, the real `drift` consumer, the real judge); each understood
message is counted once, live turns too; alarms are stored once per day and measure, resolvable,
and keep their day out of later references while open; a pinned period and the training
reference stand in for the window."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helixdesk.bus.memory import MemoryEventBus
from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConflictError, NotFoundError
from helixdesk.core.timezones import zone
from helixdesk.db.session import reading, transaction
from helixdesk.drift.board import DriftBoard
from helixdesk.drift.judge import DriftJudge
from helixdesk.drift.measures import MEASURES
from helixdesk.drift.models import AlarmStatus, DriftAlarm, DriftCheck, DriftDay, DriftReference, DriftToken
from helixdesk.drift.reference import ModelHeldOut
from helixdesk.drift.vocabulary import tokens
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.transcripts import TranscriptPrivacy
from tests.drift_data import consume, days_ago, ordinary_day, shifted_day, stored_day, write_days

TZ = zone("Asia/Shanghai")
PACK = load_pack("retail_bank").path
FIRST = days_ago(10)  # the flooded day two days ago


def held_out(model_root) -> ModelHeldOut:
    return ModelHeldOut(model_dir=model_root / "retail_bank" / "intent", pack_path=PACK)


def alarms(sessions, day: date) -> list[DriftAlarm]:
    with reading(sessions) as s:
        return list(s.scalars(select(DriftAlarm).where(DriftAlarm.day == day)))


async def test_a_shifted_day_raises_the_alarms_and_an_ordinary_day_does_not(
    sessions, keyring, nlu_pipeline, model_root
):
    rng = random.Random(19)
    days = {FIRST + timedelta(days=i): ordinary_day(rng, 80) for i in range(8)}
    ordinary, shifted = FIRST + timedelta(days=7), FIRST + timedelta(days=8)
    days[shifted] = shifted_day(rng, 80)
    assert write_days(sessions, keyring, nlu_pipeline, days, TZ) == 9 * 80
    assert await consume(sessions, TZ) > 9 * 80 * 2  # each conversation's events

    judge = DriftJudge(sessions=sessions, tz=TZ, pack_path=PACK, held_out=held_out(model_root))
    judged = judge.run([ordinary, shifted])
    assert judged.days == [ordinary, shifted]

    # The ordinary day: judged against the seven days before it, and quiet.
    with reading(sessions) as s:
        quiet = s.get(DriftCheck, (ordinary, "all"))
        assert quiet is not None and quiet.messages == 80
        assert (quiet.reference_kind, quiet.reference_first, quiet.reference_last) == (
            "window",
            ordinary - timedelta(days=28),
            ordinary - timedelta(days=1),
        )
        assert quiet.reference_messages == 7 * 80
        assert all(m["judged"] and not m["beyond"] for m in quiet.measures), quiet.measures
    assert alarms(sessions, ordinary) == []

    # The shifted day: every measure beyond its threshold, for all languages together.
    raised = {(a.scope, a.measure): a for a in alarms(sessions, shifted)}
    assert {m for scope, m in raised if scope == "all"} == set(MEASURES), sorted(raised)
    assert {f"{shifted} all {m}" for m in MEASURES} <= set(judged.raised)
    vocabulary = raised[("all", "new_vocabulary")]
    assert vocabulary.value - vocabulary.reference >= 0.04 and vocabulary.detail
    new_words = {d["token"] for d in vocabulary.detail}
    assert new_words & {"数币", "硬钱包", "数字", "兑回", "yuan", "ecny"}, new_words
    assert raised[("all", "oos_rate")].value > raised[("all", "oos_rate")].reference + 0.06
    assert raised[("all", "confidence")].value < raised[("all", "confidence")].reference - 0.05
    assert all(a.status == AlarmStatus.OPEN.value and a.reference_kind == "window" for a in raised.values())

    # Judged again (more traffic that day, or a restart): the same alarms, not new ones.
    again = judge.run([shifted])
    assert again.raised == []
    assert {a.id for a in alarms(sessions, shifted)} == {a.id for a in raised.values()}

    # Resolved by a person: recorded, and judging the day again does not reopen it.
    board = DriftBoard(sessions=sessions)
    shown = board.alarms()
    assert {a["id"] for a in shown} == {a.id for a in raised.values()}
    one = vocabulary.id
    done = board.resolve(one, None, note="  new e-CNY wallet launched; FAQ and intent on the way ")
    assert (
        done["status"] == "resolved"
        and done["note"] == "new e-CNY wallet launched; FAQ and intent on the way"
    )
    judge.run([shifted])
    assert next(a for a in alarms(sessions, shifted) if a.id == one).status == "resolved"
    assert one not in {a["id"] for a in board.alarms()}
    assert one in {a["id"] for a in board.alarms(status="resolved")}
    with pytest.raises(ConflictError) as twice:
        board.resolve(one, None)
    assert twice.value.code == "drift_alarm_resolved"
    with pytest.raises(NotFoundError) as missing:
        board.resolve("no-such-alarm", None)
    assert missing.value.code == "drift_alarm_not_found"

    # The analytics' view of the period: each day's stored judgement and the period's alarms.
    view = board.days(ordinary, shifted)
    assert [d["day"] for d in view["days"]] == [ordinary.isoformat(), shifted.isoformat()]
    assert [m["beyond"] for m in view["days"][1]["measures"]] == [True] * 4
    assert len(view["alarms"]) == 4


def _conversation(writer, s, turns, at: datetime, replies: int) -> None:
    """Two customer messages, the first answered with `replies` bot messages, the second with one,
    and an agent's message with a customer's thanks (not understood by the bot)."""
    first, second = turns
    messages = [PastMessage(Sender.CUSTOMER, first.text, at, turn=first)]
    messages += [
        PastMessage(
            Sender.BOT, f"reply {i}", at + timedelta(seconds=1 + i), meta={"kind": "text"}, reply_to=0
        )
        for i in range(replies)
    ]
    asked = len(messages)
    messages.append(PastMessage(Sender.CUSTOMER, second.text, at + timedelta(seconds=30), turn=second))
    messages.append(
        PastMessage(Sender.BOT, "ok", at + timedelta(seconds=31), meta={"kind": "text"}, reply_to=asked)
    )
    messages.append(PastMessage(Sender.AGENT, "hello", at + timedelta(seconds=40), meta={"author": "A"}))
    messages.append(PastMessage(Sender.CUSTOMER, "thanks", at + timedelta(seconds=50)))
    import_past(s, writer, PastConversation(channel="web", language="zh-Hans", messages=messages))


@pytest.mark.parametrize("batch", [1, 3, 1000])
async def test_each_understood_message_is_counted_once_however_the_batches_fall(
    sessions, keyring, nlu_pipeline, batch
):
    texts = ["我的信用卡账单是多少", "转账失败了怎么办", "How do I reset my password?", "挂失我的借记卡"]
    turns = nlu_pipeline.parse_batch(texts)
    writer = ConversationWriter(privacy=TranscriptPrivacy(keyring=keyring))
    at = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    with transaction(sessions) as s:
        for i in range(4):
            _conversation(
                writer, s, (turns[i], turns[(i + 1) % 4]), at + timedelta(minutes=i), replies=1 + i % 3
            )
    await consume(sessions, TZ, batch=batch)
    with transaction(sessions) as s:  # a second round of traffic after the first was counted
        _conversation(writer, s, (turns[0], turns[1]), at + timedelta(hours=1), replies=3)
    await consume(sessions, TZ, batch=batch)
    with reading(sessions) as s:
        rows = {row.language: row for row in s.scalars(select(DriftDay))}
        words = dict(
            s.execute(select(DriftToken.token, func.sum(DriftToken.count)).group_by(DriftToken.token)).all()
        )
    day = date(2026, 11, 2)
    assert set(rows) == {"zh-Hans", "en"} and {r.day for r in rows.values()} == {day}
    assert sum(r.messages for r in rows.values()) == 10  # two per conversation, the thanks not
    assert rows["en"].messages == 2
    intents = Counter()
    for r in rows.values():
        intents.update(r.intents)
    by_text = {t.text: t.intent.name for t in turns}
    expected = Counter(by_text[texts[i]] for i in range(4)) + Counter(
        by_text[texts[(i + 1) % 4]] for i in range(4)
    )
    expected += Counter([by_text[texts[0]], by_text[texts[1]]])
    assert intents == expected
    counted = Counter()
    for i in range(4):
        counted.update(tokens(texts[i]))
        counted.update(tokens(texts[(i + 1) % 4]))
    counted.update(tokens(texts[0]))
    counted.update(tokens(texts[1]))
    assert words == dict(counted)
    assert sum(r.tokens for r in rows.values()) == sum(counted.values())
    assert sum(r.scored for r in rows.values()) == 10


async def test_live_turns_are_counted_on_the_day_they_happen(sessions, make_conversations):
    bus = MemoryEventBus()
    service = make_conversations(sessions, bus).conversations
    conv = await service.create_conversation(channel="web", language="zh-Hans")
    for text in ("你好", "信用卡年费怎么收", "外币汇款手续费多少"):
        await service.post_customer_message(conv.id, text)
    await bus.stop()
    await consume(sessions, TZ)
    today = utcnow().astimezone(TZ).date()
    with reading(sessions) as s:
        row = s.get(DriftDay, (today, "zh-Hans"))
        assert row is not None and row.messages == 3 and row.scored == 3
        assert sum(row.intents.values()) == 3 and row.tokens > 0


def test_a_day_with_an_open_alarm_stays_out_of_later_references_until_it_is_resolved(sessions):
    """The new words of a day under an open alarm stay new for the days after it; once a person
    resolved it, they are part of the reference vocabulary."""
    with transaction(sessions) as s:
        for i in range(8):
            stored_day(s, FIRST + timedelta(days=i), 100, {"余额": 400, "查询": 400})
        flood, after = FIRST + timedelta(days=8), FIRST + timedelta(days=9)
        stored_day(s, flood, 100, {"余额": 200, "数币": 200, "硬钱包": 100})
        stored_day(s, after, 100, {"余额": 300, "数币": 150, "硬钱包": 50})
    judge = DriftJudge(sessions=sessions, tz=TZ, pack_path=PACK)
    judge.run([flood, after])
    raised = alarms(sessions, flood)
    assert {(a.scope, a.measure) for a in raised} == {
        ("all", "new_vocabulary"),
        ("zh-Hans", "new_vocabulary"),
    }
    (still,) = [a for a in alarms(sessions, after) if a.scope == "all"]
    assert still.measure == "new_vocabulary" and {d["token"] for d in still.detail} == {"数币", "硬钱包"}
    with reading(sessions) as s:
        check = s.get(DriftCheck, (after, "all"))
        assert check is not None and check.reference_messages == 8 * 100  # the flood left out
    board = DriftBoard(sessions=sessions)
    board.resolve(raised[0].id, None, note="known now")
    judge.run([after])
    with reading(sessions) as s:
        check = s.get(DriftCheck, (after, "all"))
        assert check is not None and check.reference_messages == 8 * 100  # one of its alarms is open
    board.resolve(raised[1].id, None, note="known now")
    judge.run([after])
    with reading(sessions) as s:
        check = s.get(DriftCheck, (after, "all"))
        assert check is not None and check.reference_messages == 9 * 100
        vocabulary = next(m for m in check.measures if m["name"] == "new_vocabulary")
        assert vocabulary["value"] == 0.0 and not vocabulary["beyond"]


def test_a_pinned_period_is_the_reference_of_every_day(sessions):
    start = days_ago(19)
    pinned = (start, start + timedelta(days=6))
    with transaction(sessions) as s:
        for i in range(20):
            stored_day(s, start + timedelta(days=i), 100, {"余额": 400}, oos=5 if i < 7 else 20)
    judge = DriftJudge(sessions=sessions, tz=TZ, pack_path=PACK, pinned=pinned)
    late = start + timedelta(days=19)
    judge.run([late])
    with reading(sessions) as s:
        check = s.get(DriftCheck, (late, "all"))
        assert check is not None
        assert (check.reference_kind, check.reference_first, check.reference_last) == ("pinned", *pinned)
    # Against the pinned week (5%), 20% out of scope is an alarm; a window of the days just
    # before (20% too) would not have raised it.
    assert {a.measure for a in alarms(sessions, late)} == {"oos_rate"}
    DriftJudge(sessions=sessions, tz=TZ, pack_path=PACK).run([late])
    with reading(sessions) as s:
        check = s.get(DriftCheck, (late, "all"))
        assert check is not None and check.reference_kind == "window"
        assert not next(m for m in check.measures if m["name"] == "oos_rate")["beyond"]


def test_a_day_older_than_a_week_is_judged_without_raising_an_alarm(sessions):
    """History read when drift monitoring first starts: its days are judged and shown, and a past
    flood is not news on the board."""
    start = days_ago(30)
    with transaction(sessions) as s:
        for i in range(8):
            stored_day(s, start + timedelta(days=i), 100, {"余额": 400}, oos=5)
        stored_day(s, start + timedelta(days=8), 100, {"余额": 400}, oos=40)
    DriftJudge(sessions=sessions, tz=TZ, pack_path=PACK).run()
    with reading(sessions) as s:
        check = s.get(DriftCheck, (start + timedelta(days=8), "all"))
        assert check is not None
        assert next(m for m in check.measures if m["name"] == "oos_rate")["beyond"]
        assert s.scalar(select(func.count()).select_from(DriftAlarm)) == 0


def test_without_history_the_model_reading_its_held_out_examples_is_the_reference(sessions, model_root):
    with transaction(sessions) as s:
        stored_day(s, FIRST, 100, {"余额": 300, "查询": 100}, oos=40)
    judge = DriftJudge(sessions=sessions, tz=TZ, pack_path=PACK, held_out=held_out(model_root))
    judge.run([FIRST])
    with reading(sessions) as s:
        check = s.get(DriftCheck, (FIRST, "all"))
        assert check is not None and check.reference_kind == "training" and check.reference_first is None
        measures = {m["name"]: m for m in check.measures}
        stored = s.scalars(select(DriftReference)).all()
    assert len(stored) == 1
    figures = stored[0].figures["all"]
    assert figures["messages"] == 1106 and 0 < figures["oos"] < 200  # the pack's held-out set
    assert measures["intent_shift"]["why"] == "no_reference" and not measures["intent_shift"]["judged"]
    assert measures["oos_rate"]["judged"] and measures["oos_rate"]["beyond"]  # 40% against the held-out share
    assert measures["confidence"]["judged"]
    # Computed once per model version, then read back.
    created = stored[0].created_at
    DriftJudge(sessions=sessions, tz=TZ, pack_path=PACK, held_out=held_out(model_root)).run([FIRST])
    with reading(sessions) as s:
        assert [r.created_at for r in s.scalars(select(DriftReference))] == [created]
