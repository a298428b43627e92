"""Human review of the QA engine's findings on SQLite and PostgreSQL: the review queue and its stable
sample, the transcript with the evidence highlighted, verdicts and reviews (audited, updated when
given again), the agreement per rule, bad input and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from helixdesk.audit import AuditLog, AuditQuery, search
from helixdesk.auth.errors import ForbiddenError
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError
from helixdesk.db.session import transaction
from helixdesk.quality.models import Finding, Scorecard
from helixdesk.quality.review import QualityReview, VerdictInput
from helixdesk.quality.review_queue import in_sample
from helixdesk.quality.review_view import highlight
from tests.quality_data import add_conversation, add_finding, add_people, add_scorecard

NOW = utcnow()
KEY = b"contract-quality-key-0123456789abcdef"
PROMISE = "这款理财保本保收益，您放心买"


@pytest.fixture
def audit():
    return AuditLog(key=KEY)


@pytest.fixture
def people(sessions):
    with transaction(sessions) as s:
        return add_people(s)


def review_desk(sessions, audit, percent: float = 0.0) -> QualityReview:
    return QualityReview(sessions=sessions, audit=audit, sample_percent=percent, clock=lambda: NOW)


def flagged(sessions, agent_id: str, *, severity: str = "high", rule: str = "absolute_promise"):
    """A closed conversation where the agent promised returns: one pending finding."""
    with transaction(sessions) as s:
        conv, msgs = add_conversation(
            s,
            [("customer", "这个理财产品安全吗？"), ("agent", PROMISE), ("customer", "好的")],
            at=NOW - timedelta(hours=2),
        )
        add_scorecard(s, conv.id, agent_id=agent_id, team="general", score=70.0, updated_at=NOW)
        f = add_finding(
            s, conv.id, rule, message=msgs[1], evidence="保本保收益", severity=severity, agent_id=agent_id
        )
        return conv.id, f.id


def clean(sessions, agent_id: str, *, final: bool = True) -> str:
    with transaction(sessions) as s:
        conv, _ = add_conversation(s, [("customer", "查一下余额"), ("agent", "好的，请稍等")])
        add_scorecard(s, conv.id, agent_id=agent_id, team="general", score=100.0, final=final, updated_at=NOW)
        return conv.id


def code_of(excinfo: pytest.ExceptionInfo[AppError]) -> str:
    return excinfo.value.code


# ---- the sample -----------------------------------------------------------------------------------


def test_the_sample_is_stable_per_conversation_and_about_the_rate():
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(20_000)]
    chosen = [i for i in ids if in_sample(i, 5.0)]
    assert 900 <= len(chosen) <= 1100
    assert chosen == [i for i in ids if in_sample(i, 5.0)]
    # A higher rate keeps everything a lower rate chose.
    assert set(chosen) <= {i for i in ids if in_sample(i, 20.0)}
    assert not any(in_sample(i, 0.0) for i in ids[:500])
    assert all(in_sample(i, 100.0) for i in ids[:500])


# ---- the queue ------------------------------------------------------------------------------------


def test_the_queue_holds_every_flagged_conversation_and_the_sampled_closed_ones(sessions, audit, people):
    li = people["li"]
    low_id, _ = flagged(sessions, li.id, severity="low")
    high_id, _ = flagged(sessions, li.id, severity="high")
    others = [clean(sessions, li.id) for _ in range(40)]
    still_open = [clean(sessions, li.id, final=False) for _ in range(10)]

    none_sampled = review_desk(sessions, audit, 0.0).queue(people["qa"])
    assert [i.conversation_id for i in none_sampled] == [high_id, low_id]
    top = none_sampled[0]
    assert (top.flagged, top.pending, top.severity, top.findings, top.agent_name, top.team) == (
        True,
        1,
        "high",
        1,
        "李娜",
        "general",
    )

    desk = review_desk(sessions, audit, 25.0)
    expected = {c for c in others if in_sample(c, 25.0)}
    assert 0 < len(expected) < len(others)
    items = desk.queue(people["sup"])
    assert [i.conversation_id for i in items[:2]] == [high_id, low_id]
    assert {i.conversation_id for i in items[2:]} == expected
    assert all(i.sampled and not i.flagged for i in items[2:])
    # Stable: asking again gives the same queue; the sample is marked on the scorecards.
    assert [i.conversation_id for i in desk.queue(people["qa"])] == [i.conversation_id for i in items]
    with sessions() as s:
        marked = set(s.scalars(select(Scorecard.conversation_id).where(Scorecard.sampled.is_(True))))
    assert expected <= marked and not marked & set(still_open)


def test_a_conversation_leaves_the_queue_once_judged_and_reviewed(sessions, audit, people):
    conv_id, finding_id = flagged(sessions, people["li"].id)
    desk = review_desk(sessions, audit, 0.0)
    desk.judge(people["qa"], finding_id, verdict="confirmed")
    assert desk.queue(people["qa"]) == []
    assert desk.queue(people["qa"], done=True) == []
    desk.review(people["qa"], conv_id, score=55)
    done = desk.queue(people["qa"], done=True)
    assert [(i.conversation_id, i.review_score) for i in done] == [(conv_id, 55.0)]


def test_an_agent_cannot_see_the_queue_or_review(sessions, audit, people):
    conv_id, finding_id = flagged(sessions, people["li"].id)
    desk = review_desk(sessions, audit)
    for attempt in (
        lambda: desk.queue(people["li"]),
        lambda: desk.judge(people["li"], finding_id, verdict="rejected"),
        lambda: desk.review(people["li"], conv_id, score=100),
    ):
        with pytest.raises(ForbiddenError) as e:
            attempt()
        assert code_of(e) == "forbidden"
    with sessions() as s:
        assert s.get(Finding, finding_id).verdict == "pending"
        assert s.get(Scorecard, conv_id).review_score is None


# ---- one conversation -----------------------------------------------------------------------------


def test_opening_shows_the_transcript_with_the_evidence_highlighted_and_is_audited(sessions, audit, people):
    conv_id, finding_id = flagged(sessions, people["li"].id)
    view = review_desk(sessions, audit).open(people["qa"], conv_id)
    assert view.can_review
    assert [m["sender"] for m in view.messages] == ["customer", "agent", "customer"]
    segments = view.messages[1]["segments"]
    assert [(x["text"], x["finding"]) for x in segments] == [
        ("这款理财", None),
        ("保本保收益", finding_id),
        ("，您放心买", None),
    ]
    assert view.scorecard["score"] == 70.0 and view.scorecard["agent"] == "李娜"
    assert [(f["id"], f["rule"], f["verdict"]) for f in view.findings] == [
        (finding_id, "absolute_promise", "pending")
    ]
    with sessions() as s:
        entries = search(s, AuditQuery(action="conversation.viewed"))
    assert [(e.actor.id, e.target.id, e.details["purpose"]) for e in entries] == [
        (people["qa"].id, conv_id, "qa_review")
    ]


def test_an_agent_opens_only_their_own_conversation_and_cannot_review_it(sessions, audit, people):
    conv_id, _ = flagged(sessions, people["li"].id)
    desk = review_desk(sessions, audit)
    assert desk.open(people["li"], conv_id).can_review is False
    with pytest.raises(ForbiddenError):
        desk.open(people["chen"], conv_id)
    with pytest.raises(AppError) as e:
        desk.open(people["qa"], "no-such-conversation")
    assert code_of(e) == "conversation_not_found"


def test_evidence_is_found_when_the_span_does_not_point_at_it():
    class F:
        def __init__(self, fid, evidence, start=None, end=None):
            self.id, self.rule, self.evidence, self.span_start, self.span_end = fid, "r", evidence, start, end

    text = "I promise a guaranteed return, risk-free!"
    parts = highlight(
        text, [F("a", "guaranteed return", 0, 5), F("b", "risk-free"), F("c", "return"), F("d", "absent")]
    )
    assert [(p.text, p.finding) for p in parts] == [
        ("I promise a ", None),
        ("guaranteed return", "a"),
        (", ", None),
        ("risk-free", "b"),
        ("!", None),
    ]
    assert [(p.text, p.finding) for p in highlight("", [])] == [("", None)]


# ---- verdicts and reviews -------------------------------------------------------------------------


def test_verdicts_are_stored_audited_and_replaced_when_given_again(sessions, audit, people):
    _, finding_id = flagged(sessions, people["li"].id)
    desk = review_desk(sessions, audit)
    first = desk.judge(people["qa"], finding_id, verdict="confirmed", note="clear promise of returns")
    assert (first["verdict"], first["reviewer"], first["review_note"]) == (
        "confirmed",
        "QA A",
        "clear promise of returns",
    )
    again = desk.judge(
        people["sup"], finding_id, verdict="rejected", note="customer quoted the ad, 13800138000"
    )
    assert (again["verdict"], again["reviewer_id"]) == ("rejected", people["sup"].id)
    assert "13800138000" not in again["review_note"]  # personal data in notes is masked
    with sessions() as s:
        f = s.get(Finding, finding_id)
        assert (f.verdict, f.reviewer_id, f.reviewed_at is not None) == ("rejected", people["sup"].id, True)
        entries = search(s, AuditQuery(target_id=f.conversation_id))
    assert [(e.action, e.details["previous"]) for e in reversed(entries)] == [
        ("quality.finding_confirmed", "pending"),
        ("quality.finding_rejected", "confirmed"),
    ]


def test_a_review_scores_the_conversation_with_its_verdicts_in_one_step(sessions, audit, people):
    conv_id, finding_id = flagged(sessions, people["li"].id)
    desk = review_desk(sessions, audit)
    out = desk.review(
        people["qa"],
        conv_id,
        score=62.5,
        note="promised returns, otherwise polite",
        verdicts=[VerdictInput(finding_id, "confirmed", "yes")],
    )
    assert out["scorecard"]["review_score"] == 62.5 and out["scorecard"]["reviewer"] == "QA A"
    assert [f["verdict"] for f in out["findings"]] == ["confirmed"]
    desk.review(people["qa"], conv_id, score=40, note="")
    with sessions() as s:
        card = s.get(Scorecard, conv_id)
        assert (card.review_score, card.review_note, card.reviewed_by) == (40.0, None, people["qa"].id)
        assert card.score == 70.0  # the engine's score is kept beside the reviewer's
        actions = [e.action for e in search(s, AuditQuery(target_id=conv_id))]
    assert actions.count("quality.conversation_reviewed") == 2
    assert actions.count("quality.finding_confirmed") == 1


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"score": -1}, "invalid_score"),
        ({"score": 100.5}, "invalid_score"),
        ({"score": float("nan")}, "invalid_score"),
        ({"score": True}, "invalid_score"),
        ({"score": 80, "note": "x" * 2001}, "note_too_long"),
        ({"score": 80, "verdicts": [VerdictInput("missing", "confirmed")]}, "finding_not_found"),
        ({"score": 80, "verdicts": [VerdictInput("FINDING", "maybe")]}, "invalid_verdict"),
    ],
)
def test_bad_reviews_are_refused_with_a_stable_code_and_change_nothing(sessions, audit, people, kwargs, code):
    conv_id, finding_id = flagged(sessions, people["li"].id)
    if "verdicts" in kwargs:
        kwargs["verdicts"] = [
            VerdictInput(finding_id if v.finding_id == "FINDING" else v.finding_id, v.verdict)
            for v in kwargs["verdicts"]
        ]
    with pytest.raises(AppError) as e:
        review_desk(sessions, audit).review(people["qa"], conv_id, **kwargs)
    assert code_of(e) == code
    with sessions() as s:
        assert s.get(Scorecard, conv_id).review_score is None
        assert s.get(Finding, finding_id).verdict == "pending"


def test_bad_verdicts_and_unscored_conversations_are_refused(sessions, audit, people):
    conv_id, finding_id = flagged(sessions, people["li"].id)
    other_id, other_finding = flagged(sessions, people["chen"].id)
    desk = review_desk(sessions, audit)
    cases = [
        (lambda: desk.judge(people["qa"], finding_id, verdict="pending"), "invalid_verdict"),
        (lambda: desk.judge(people["qa"], "nope", verdict="confirmed"), "finding_not_found"),
        (lambda: desk.judge(people["qa"], finding_id, verdict="confirmed", note="n" * 3000), "note_too_long"),
        (lambda: desk.review(people["qa"], "nope", score=50), "conversation_not_found"),
        (
            lambda: desk.review(
                people["qa"], conv_id, score=50, verdicts=[VerdictInput(other_finding, "rejected")]
            ),
            "finding_not_found",
        ),
    ]
    with transaction(sessions) as s:
        unscored, _ = add_conversation(s, [("customer", "你好")], state="bot")
        unscored_id = unscored.id
    cases.append((lambda: desk.review(people["qa"], unscored_id, score=50), "not_scored"))
    for attempt, code in cases:
        with pytest.raises(AppError) as e:
            attempt()
        assert code_of(e) == code
    with sessions() as s:
        assert s.get(Finding, other_finding).verdict == "pending"
        assert s.get(Scorecard, other_id).review_score is None


# ---- agreement per rule ---------------------------------------------------------------------------


def test_agreement_per_rule_is_confirmed_over_reviewed_and_weak_rules_come_first(sessions, audit, people):
    desk = review_desk(sessions, audit)
    li = people["li"].id
    verdicts = {
        # rule: verdicts of its findings
        "absolute_promise": ["confirmed"] * 9 + ["rejected"] + ["pending"] * 2,
        "rude": ["confirmed", "rejected", "rejected", "rejected"],
        "shirking": ["pending", "pending"],
    }
    for rule, given in verdicts.items():
        for verdict in given:
            _, fid = flagged(sessions, li, rule=rule)
            if verdict != "pending":
                desk.judge(people["qa"], fid, verdict=verdict)
    with transaction(sessions) as s:
        conv, _ = add_conversation(s, [("customer", "太慢了")])
        add_finding(s, conv.id, "low_csat", category="dissatisfaction", created_at=NOW - timedelta(days=40))
    report = desk.agreement()
    rows = {
        r.rule: (r.category, r.findings, r.reviewed, r.confirmed, r.rejected, r.pending) for r in report.rules
    }
    assert rows == {
        "absolute_promise": ("compliance", 12, 10, 9, 1, 2),
        "rude": ("compliance", 4, 4, 1, 3, 0),
        "shirking": ("compliance", 2, 0, 0, 0, 2),
        "low_csat": ("dissatisfaction", 1, 0, 0, 0, 1),
    }
    assert [r.rule for r in report.rules] == ["rude", "absolute_promise", "low_csat", "shirking"]
    assert report.rules[0].rate == 0.25 and report.rules[1].rate == 0.9 and report.rules[2].rate is None
    total = report.to_dict()["total"]
    assert (total["findings"], total["reviewed"], total["confirmed"], total["agreement"]) == (
        19,
        14,
        10,
        10 / 14,
    )
    # The last 30 days leave out the old finding.
    assert "low_csat" not in {r.rule for r in desk.agreement(days=30).rules}
    for days in (0, -3, 5000):
        with pytest.raises(AppError) as e:
            desk.agreement(days=days)
        assert code_of(e) == "invalid_period"
