"""Staff quality and coaching on SQLite and PostgreSQL: figures per agent and team from known
scorecards and findings, coaching suggestions from the pattern of findings, coaching items
(assigned, worked, tracked, audited), bad input and who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helixdesk.audit import AuditLog, AuditQuery, search
from helixdesk.auth.errors import ForbiddenError
from helixdesk.core.errors import AppError
from helixdesk.db.session import transaction
from helixdesk.packs.loader import load_pack
from helixdesk.quality.coaching import StaffQuality
from helixdesk.quality.coaching_guide import CoachingGuide
from tests.quality_data import add_conversation, add_finding, add_people, add_scorecard

# A Thursday: the 30 days before it start in the week of Monday 2026-11-02.
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KEY = b"contract-coaching-key-0123456789abcdef"


@pytest.fixture(scope="module")
def guide():
    return CoachingGuide.for_pack(load_pack("retail_bank").path)


@pytest.fixture
def quality(sessions, guide):
    return StaffQuality(sessions=sessions, guide=guide, audit=AuditLog(key=KEY), clock=lambda: NOW)


@pytest.fixture
def people(sessions):
    with transaction(sessions) as s:
        return add_people(s)


def scored(sessions, agent_id, *, days_ago: float, score: float, team="general", findings=(), **card):
    """A conversation `days_ago` with its scorecard and (rule, category, verdict, evidence) findings."""
    at = NOW - timedelta(days=days_ago)
    with transaction(sessions) as s:
        conv, msgs = add_conversation(
            s, [("customer", "我想买理财"), ("agent", "这款保本保收益，稳赚不赔")], at=at
        )
        add_scorecard(
            s, conv.id, agent_id=agent_id, team=team, score=score, started_at=at, updated_at=at, **card
        )
        for rule, category, verdict, evidence in findings:
            add_finding(
                s,
                conv.id,
                rule,
                message=msgs[1],
                evidence=evidence,
                category=category,
                verdict=verdict,
                agent_id=agent_id,
                created_at=at,
            )
        return conv.id


def week_scores(stats):
    return {w.week: (w.conversations, w.score) for w in stats.trend if w.conversations}


def test_figures_per_agent_and_team_come_from_the_scorecards_of_the_period(quality, sessions, people):
    li, wang = people["li"].id, people["wang"].id
    promise = ("absolute_promise", "compliance", "pending", "保本保收益")
    scored(
        sessions,
        li,
        days_ago=1,
        score=50,
        fcr=True,
        csat=2,
        handled_seconds=300,
        conflict=True,
        findings=[promise],
    )
    scored(sessions, li, days_ago=2, score=70, fcr=False, csat=4, handled_seconds=500)
    scored(
        sessions,
        li,
        days_ago=9,
        score=90,
        fcr=True,
        findings=[
            ("absolute_promise", "compliance", "confirmed", "稳赚不赔"),
            ("rude", "compliance", "rejected", "这款"),  # a rejected finding does not count
            ("shirking", "conflict", "pending", "我想"),  # not a compliance finding
        ],
    )
    scored(sessions, li, days_ago=40, score=10, fcr=False)  # outside 30 days
    scored(sessions, wang, days_ago=3, score=80, team="senior", fcr=True, csat=5, handled_seconds=200)
    scored(sessions, None, days_ago=3, score=100, team=None)  # the bot alone: nobody's figures

    stats = quality.agent(people["li"], li, days=30)
    assert (stats.name, stats.conversations, stats.score) == ("李娜", 3, 70.0)
    assert stats.compliance == {"absolute_promise": 2} and stats.compliance_total == 2
    assert stats.conflict_rate == pytest.approx(1 / 3)
    assert stats.fcr_rate == pytest.approx(2 / 3)
    assert stats.handled_seconds == 400.0
    assert (stats.csat, stats.csat_count) == (3.0, 2)
    assert stats.teams == ["general"]
    # Weeks start on Monday; 30 days before Thursday 3 December reach back to the week of 2 November.
    assert [w.week for w in stats.trend][:1] == ["2026-11-02"] and stats.trend[-1].week == "2026-11-30"
    assert len(stats.trend) == 5
    assert week_scores(stats) == {"2026-11-23": (1, 90.0), "2026-11-30": (2, 60.0)}
    assert quality.agent(people["li"], li, days=90).conversations == 4
    assert quality.agent(people["li"], li, days=7).compliance == {"absolute_promise": 1}

    overview = quality.overview(people["sup"], days=30)
    assert [(a.name, a.conversations, a.score) for a in overview.agents] == [
        ("李娜", 3, 70.0),
        ("王芳", 1, 80.0),
    ]
    teams = {t.key: (t.conversations, t.score, t.compliance_total, t.fcr_rate) for t in overview.teams}
    assert teams == {"general": (3, 70.0, 2, pytest.approx(2 / 3)), "senior": (1, 80.0, 0, 1.0)}
    assert quality.overview(people["qa"], days=7).agents[0].conversations == 2


def test_an_agent_sees_only_their_own_figures_and_items(quality, sessions, people):
    li, wang = people["li"], people["wang"]
    scored(sessions, wang.id, days_ago=1, score=80, team="senior")
    with pytest.raises(ForbiddenError):
        quality.overview(li, days=30)
    with pytest.raises(ForbiddenError):
        quality.agent(li, wang.id, days=30)
    with pytest.raises(ForbiddenError):
        quality.suggestions(li, wang.id)
    with pytest.raises(ForbiddenError):
        quality.items(li, agent_id=wang.id)
    assert quality.agent(li, li.id).conversations == 0
    assert quality.agent(people["qa"], wang.id).conversations == 1


@pytest.mark.parametrize("days", [0, 14, 365, -7])
def test_a_period_is_7_30_or_90_days(quality, people, days):
    with pytest.raises(AppError) as e:
        quality.agent(people["li"], people["li"].id, days=days)
    assert e.value.code == "invalid_period"


def test_coaching_is_suggested_from_the_pattern_of_findings_with_the_agents_own_examples(
    quality, sessions, people
):
    li = people["li"].id
    convs = [
        scored(
            sessions, li, days_ago=d, score=60, findings=[("absolute_promise", "compliance", v, "保本保收益")]
        )
        for d, v in ((1, "pending"), (2, "confirmed"), (3, "pending"), (4, "confirmed"))
    ]
    scored(
        sessions, li, days_ago=5, score=60, findings=[("absolute_promise", "compliance", "rejected", "保本")]
    )
    scored(sessions, li, days_ago=1, score=60, findings=[("rude", "compliance", "confirmed", "这款")])
    scored(
        sessions,
        people["wang"].id,
        days_ago=1,
        score=60,
        findings=[("rude", "compliance", "confirmed", "这款")],
    )
    scored(
        sessions,
        people["wang"].id,
        days_ago=2,
        score=60,
        findings=[("rude", "compliance", "pending", "这款")],
    )

    found = quality.suggestions(people["sup"], li, days=30, language="en")
    assert [(s.rule, s.findings, s.confirmed, s.pending) for s in found] == [("absolute_promise", 4, 2, 2)]
    tip = found[0]
    assert tip.title == "Avoid promising returns; use the compliant wording from the pack"
    assert tip.name == "Absolute promise" and "risk" in tip.detail
    # Up to three of the agent's own conversations, newest first.
    assert [e["conversation_id"] for e in tip.examples] == convs[:3]
    assert tip.examples[0]["evidence"] == "保本保收益"
    zh = quality.suggestions(people["li"], li, days=30, language="zh-Hant")[0]
    assert zh.title == "避免承諾收益，請使用話術庫中的合規表述"
    # One rude finding is not a pattern; the colleague's two are theirs.
    assert [s.rule for s in quality.suggestions(people["sup"], people["wang"].id)] == ["rude"]
    assert quality.suggestions(people["sup"], li, days=7)[0].findings == 4


def test_a_supervisor_assigns_coaching_and_the_agent_works_through_it(quality, sessions, people):
    sup, li = people["sup"], people["li"]
    example = scored(
        sessions,
        li.id,
        days_ago=1,
        score=60,
        findings=[("absolute_promise", "compliance", "pending", "保本")],
    )
    scored(
        sessions,
        li.id,
        days_ago=2,
        score=60,
        findings=[("absolute_promise", "compliance", "pending", "保本")],
    )
    item = quality.assign(
        sup,
        agent_id=li.id,
        rule="absolute_promise",
        title="Avoid promising returns",
        detail="Read the compliant wording; my number is 13800138000",
        due_on="2026-12-17",
        examples=[example],
    )
    assert (item["status"], item["due_on"], item["agent"], item["assigned_by_name"]) == (
        "assigned",
        "2026-12-17",
        "李娜",
        "Sup A",
    )
    assert "13800138000" not in item["detail"] and item["examples"] == [example] and not item["overdue"]
    # The suggestion now says it is in hand.
    assert quality.suggestions(sup, li.id)[0].open_item == item["id"]

    assert [i["id"] for i in quality.items(li)] == [item["id"]]
    assert quality.items(people["wang"]) == []
    assert [i["id"] for i in quality.items(sup, agent_id=li.id)] == [item["id"]]
    assert [i["id"] for i in quality.items(people["qa"], status="assigned")] == [item["id"]]

    started = quality.update(li, item["id"], status="in_progress", note="reading the pack")
    assert (started["status"], started["agent_note"]) == ("in_progress", "reading the pack")
    done = quality.update(li, item["id"], status="done")
    assert (done["status"], done["agent_note"]) == ("done", "reading the pack")
    assert quality.suggestions(sup, li.id)[0].open_item is None
    reopened = quality.update(sup, item["id"], status="assigned", note="not yet")
    assert (reopened["status"], reopened["agent_note"]) == ("assigned", "reading the pack")

    with sessions() as s:
        actions = [
            (e.action, e.details.get("status")) for e in reversed(search(s, AuditQuery(target_id=item["id"])))
        ]
    assert actions == [
        ("quality.coaching_assigned", None),
        ("quality.coaching_updated", "in_progress"),
        ("quality.coaching_updated", "done"),
        ("quality.coaching_updated", "assigned"),
    ]


def test_overdue_items_are_marked_and_open_items_come_first(quality, sessions, people, guide):
    sup, li = people["sup"], people["li"]
    first = quality.assign(sup, agent_id=li.id, title="Risk disclosure", due_on="2026-12-03")
    second = quality.assign(sup, agent_id=li.id, title="Courtesy", due_on="2026-12-05")
    quality.update(li, first["id"], status="done")
    later = StaffQuality(sessions=sessions, guide=guide, clock=lambda: NOW + timedelta(days=3))
    shown = later.items(li)
    assert [(i["title"], i["overdue"]) for i in shown] == [("Courtesy", True), ("Risk disclosure", False)]
    assert second["overdue"] is False


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": "  "}, "invalid_title"),
        ({"title": "x" * 201}, "invalid_title"),
        ({"due_on": "soon"}, "invalid_due_date"),
        ({"due_on": "2026-12-02"}, "invalid_due_date"),
        ({"due_on": "2028-01-01"}, "invalid_due_date"),
        ({"rule": "be_nicer"}, "invalid_rule"),
        ({"examples": ["a", "b", "c", "d"]}, "invalid_examples"),
        ({"examples": ["no-such-conversation"]}, "invalid_examples"),
        ({"agent_id": "nobody"}, "agent_not_found"),
        ({"detail": "d" * 2001}, "note_too_long"),
    ],
)
def test_bad_coaching_items_are_refused_with_a_stable_code(quality, people, changes, code):
    body = {
        "agent_id": people["li"].id,
        "title": "Avoid promising returns",
        "due_on": "2026-12-17",
        **changes,
    }
    with pytest.raises(AppError) as e:
        quality.assign(people["sup"], **body)
    assert e.value.code == code
    assert quality.items(people["sup"]) == []


def test_only_supervisors_assign_and_only_the_agent_works_their_item(quality, people):
    li, wang = people["li"], people["wang"]
    for who in (li, people["qa"]):
        with pytest.raises(ForbiddenError):
            quality.assign(who, agent_id=li.id, title="x", due_on="2026-12-17")
    item = quality.assign(people["sup"], agent_id=li.id, title="Courtesy", due_on="2026-12-17")
    cases = [
        (lambda: quality.update(wang, item["id"], status="done"), "not_your_coaching_item"),
        (lambda: quality.update(li, item["id"], status="finished"), "invalid_status"),
        (lambda: quality.update(li, item["id"], status="assigned"), "invalid_status"),
        (lambda: quality.update(li, "nope", status="done"), "coaching_item_not_found"),
        (lambda: quality.update(li, item["id"], status="done", note="n" * 2001), "note_too_long"),
        (lambda: quality.items(li, status="someday"), "invalid_status"),
    ]
    for attempt, code in cases:
        with pytest.raises(AppError) as e:
            attempt()
        assert e.value.code == code
    assert quality.items(li)[0]["status"] == "assigned"


def test_the_pack_has_coaching_words_for_every_rule_the_qa_engine_finds(guide):
    import yaml

    pack = load_pack("retail_bank").path
    rules = yaml.safe_load((pack / "quality" / "rules.yaml").read_text(encoding="utf-8"))
    found_by_the_engine = set(rules["rules"]) | set(rules["labels"])
    alerts_only = {"vip_wait"}  # raised on the board, never a finding of a conversation
    assert found_by_the_engine - alerts_only <= set(guide.rules)
    for rule, words in guide.rules.items():
        assert words.min_findings >= 1
        for text in (words.name, words.title, words.detail):
            assert set(text) == {"zh-Hans", "zh-Hant", "en"} and all(text.values()), rule
