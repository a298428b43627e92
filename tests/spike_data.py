"""Hotspot rows of a mined month with two planted spikes and a steady hotspot, written straight to
the insight tables (the figures the suggestions read are counted from these rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.db.session import transaction
from helixdesk.insight.models import InsightMessage, InsightRun, InsightTopic

T0 = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # where the latest mining run's window ends
LANGS = ("zh-Hans", "zh-Hant", "en")
# Each planted hotspot: rows per day over the 30 mined days, and on the last one.
PLAN = {
    "t-crash": {
        "usual": 2,
        "last": 16,
        "texts": ("更新后手机银行闪退", "更新後手機銀行閃退", "app crashes after update"),
    },
    "t-cards": {
        "usual": 1,
        "last": 12,
        "texts": ("信用卡刷不了", "信用卡刷不了", "card declined everywhere"),
    },
    "t-steady": {"usual": 3, "last": 3, "texts": ("怎么查余额", "怎麼查餘額", "how to check my balance")},
}
CHANNELS = ("app", "app", "web")


def plant(sessions: sessionmaker[Session]) -> list[InsightMessage]:
    """The month's rows of each hotspot (day 0 is the run's last day), and the run."""
    ids = count()
    rows: list[InsightMessage] = []
    for topic, plan in PLAN.items():
        for day in range(30):
            n = plan["last"] if day == 0 else plan["usual"]
            for i in range(n):
                at = T0 - timedelta(days=day) - timedelta(minutes=1 + i * (1430 // n))
                lang = i % 3
                rows.append(
                    InsightMessage(
                        id=f"m{next(ids)}",
                        source="chat",
                        channel=CHANNELS[i % 3],
                        language=LANGS[lang],
                        text=f"{plan['texts'][lang]} {day}-{i}",
                        topic_id=topic,
                        topic_score=round(0.5 + (i * 7 % 11) / 100 + (30 - day) / 1000, 4),
                        at=at,
                    )
                )
    with transaction(sessions) as s:
        for topic in PLAN:
            s.add(InsightTopic(id=topic, keywords=[topic.removeprefix("t-"), "plan"], size=0))
        s.add_all(rows)
        s.add(
            InsightRun(
                started_at=T0, finished_at=T0, since=T0 - timedelta(days=30), until=T0, messages=len(rows)
            )
        )
    return rows
