"""A conversation's facts, computed from its stored parts, in the cases the fixture leaves out; and
every metric documented in docs/analytics.md with its formula."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from helixdesk.analytics.facts import Conv, Hand, Msg, conversation_fact
from helixdesk.analytics.metrics import EXTERNAL, METRICS, CostModel
from helixdesk.analytics.rollup import MEASURES, Tally, contribution
from helixdesk.core.timezones import zone

T = datetime(2026, 11, 1, 16, 0, 10, tzinfo=UTC)  # 00:00:10 on 2 November in Shanghai
TZ = zone("Asia/Shanghai")
DOCS = Path(__file__).resolve().parents[3] / "docs" / "analytics.md"


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def conv(state: str = "closed", closed: float | None = 500) -> Conv:
    return Conv(
        id="c",
        customer_id="u",
        channel="web",
        language="en",
        state=state,
        created_at=T,
        closed_at=at(closed) if closed is not None else None,
    )


def asked(seq: int, seconds: float, **nlu: object) -> Msg:
    return Msg(seq=seq, sender="customer", at=at(seconds), nlu=nlu or None)


def fact(c: Conv, msgs: list[Msg], hands: list[Hand], **kw: object):
    return conversation_fact(
        c, msgs, hands, csat=kw.get("csat"), tier=kw.get("tier"), came_back=bool(kw.get("came_back")), tz=TZ
    )


def test_the_day_is_the_banks_and_an_open_wait_is_not_yet_judged():
    hand = Hand(
        queue="general", reason="customer_request", status="waiting", created_at=at(5), sla_seconds=20
    )
    f = fact(conv(state="handoff", closed=None), [asked(1, 0), Msg(seq=2, sender="bot", at=at(5))], [hand])
    assert f.day == date(2026, 11, 2)  # the bank's day, though still 1 November in UTC
    assert f.handed_off and not f.contained and not f.closed and not f.abandoned
    assert f.sla_met is None and f.queue_wait_seconds is None and f.first_response_seconds == 5


def test_a_customer_who_leaves_before_the_target_is_not_a_breach():
    hand = Hand(queue="general", reason="customer_request", status="closed", created_at=at(5), sla_seconds=60)
    early = fact(conv(closed=30), [asked(1, 0), Msg(seq=2, sender="system", at=at(30))], [hand])
    late = fact(conv(closed=300), [asked(1, 0), Msg(seq=2, sender="system", at=at(300))], [hand])
    assert early.abandoned and early.sla_met is None
    assert late.abandoned and late.sla_met is False


def test_reduced_nlu_records_still_count_risks_and_the_intent_skips_greetings():
    msgs = [
        asked(1, 0, intent={"name": "greeting"}, emotion={"label": "neutral"}),
        asked(2, 3, intent={"name": "card_fraud_report"}, emotion={"label": "fear"}, risk=["fraud"]),
    ]
    f = fact(conv(), msgs, [], tier="vip")
    assert f.intent == "card_fraud_report" and f.risks == ("fraud",) and f.negative and f.tier == "vip"
    assert f.emotions == {"fear": 1, "neutral": 1} and f.first_response_seconds is None
    assert f.contained and f.resolved


def test_a_conversation_the_customer_never_spoke_in_is_volume_only():
    f = fact(conv(), [Msg(seq=1, sender="system", at=at(0))], [])
    c = contribution(f)
    assert c["conversations"] == 1 and sum(v for k, v in c.items() if k != "conversations") == 0


def test_taking_a_fact_out_of_a_tally_leaves_nothing():
    f = fact(conv(), [asked(1, 0, emotion={"label": "anger"})], [], csat=4)
    tally = Tally()
    tally.add(f)
    tally.add(f, -1)
    assert all(v == 0 for cell in tally.cells.values() for v in cell.values())
    assert all(n == 0 for n in tally.counts.values())
    assert set(next(iter(tally.cells.values()))) == set(MEASURES)


def test_the_cost_model_is_linear_in_the_sums():
    sums = dict.fromkeys(MEASURES, 0.0) | {"conversations": 10, "contained": 6, "handled_sum": 3600}
    cost = CostModel(agent_per_hour=100, bot_per_conversation=1, baseline_minutes=6)
    assert cost.actual(sums) == 10 + 100
    assert cost.baseline(sums) == (6 * 360 + 3600) / 3600 * 100


def test_every_metric_is_in_the_glossary_with_its_formula():
    text = DOCS.read_text(encoding="utf-8")
    for m in METRICS:
        assert f"| `{m.key}` | {m.formula} |" in text.replace("×", "x").replace("−", "-"), m.key
    for key in EXTERNAL:
        assert f"| `{key}` |" in text
