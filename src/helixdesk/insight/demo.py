"""The demo month: realistic past conversations with a planted spike, so a fresh demo's insight
pages have something to show (`helixdesk insight demo`; `scripts/demo.sh` runs it once).

Every day of the month gets about `per_day` conversations, in bank hours, over web, app and WeChat,
in zh-Hans, zh-Hant and English:

- **everyday requests**, drawn from the pack's intent examples; the bot answers from its FAQ when
  it has an entry for the intent, and now and then the customer is handed to an agent;
- **themes the bot cannot answer** (the pack's `insight/demo.yaml`): the bot says it does not know
  and hands over, and an agent answers with one of the theme's replies. A theme with `spike_days`
  runs at a small share of its weight until its last days, then at its full weight: the planted
  spike.

Customer messages go through the real NLU (intent, emotion) and every conversation is written by
`conversations.history.import_past`, with its events, so the insight consumer reads them as it
reads live ones. The same seed gives the same month.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Conversation, Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings
from helixdesk.core.turn import Turn
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.packs.loader import load_pack

LANGUAGE_MIX = (("zh-Hans", 0.55), ("zh-Hant", 0.2), ("en", 0.25))
CHANNEL_MIX = (("web", 0.5), ("app", 0.35), ("wechat", 0.15))
SKIP = frozenset({"greeting", "goodbye", "praise", "human_agent", "out_of_scope"})
DONT_KNOW = {
    "zh-Hans": "抱歉，这个问题我暂时无法回答。我为您转接人工客服，请稍候。",
    "zh-Hant": "抱歉，這個問題我暫時無法回答。我為您轉接真人客服，請稍候。",
    "en": "Sorry, I can't answer that one yet. I'm passing you to a colleague, please hold on.",
}
HELPING = {
    "zh-Hans": "好的，我来帮您处理。",
    "zh-Hant": "好的，我來幫您處理。",
    "en": "Sure, let me help you with that.",
}
AGENT_GENERIC = {
    "zh-Hans": "您好，我是人工客服，已经看到您的问题，我来帮您处理。",
    "zh-Hant": "您好，我是真人客服，已看到您的問題，我來幫您處理。",
    "en": "Hello, I'm an agent and I can see your question; I'll take care of it.",
}
AGENTS = ("Lin Yue", "Chen Hao", "Wong Ka-yan", "Sarah Lee")


@dataclass(frozen=True)
class Theme:
    name: str
    queue: str
    weight: float
    before: float
    spike_days: int
    customer: dict[str, list[str]]
    agent: dict[str, list[str]]


def load_themes(pack_path: Path) -> list[Theme]:
    path = pack_path / "insight" / "demo.yaml"
    if not path.is_file():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Theme(
            name=t["name"],
            queue=t.get("queue", "general"),
            weight=float(t["weight"]),
            before=float(t.get("before", 1.0)),
            spike_days=int(t.get("spike_days", 0)),
            customer=t["customer"],
            agent=t["agent"],
        )
        for t in raw.get("themes", [])
    ]


def _examples(pack_path: Path) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for path in sorted((pack_path / "nlu" / "intents").glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if raw.get("intent") in SKIP:
            continue
        examples = raw.get("examples") or {}
        if all(examples.get(lang) for lang, _ in LANGUAGE_MIX):
            out[raw["intent"]] = {lang: list(examples[lang]) for lang, _ in LANGUAGE_MIX}
    return out


def _faq_answers(pack_path: Path) -> dict[str, dict[str, str]]:
    raw = yaml.safe_load((pack_path / "kb" / "faq.yaml").read_text(encoding="utf-8")) or []
    out: dict[str, dict[str, str]] = {}
    for entry in raw:
        for intent in entry.get("intents") or ():
            out.setdefault(intent, entry["answer"])
    return out


def _pick(rng: random.Random, mix: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in mix], weights=[w for _, w in mix])[0]


def plan_month(
    pack_path: Path, *, days: int, per_day: int, seed: int, now: datetime
) -> list[tuple[datetime, str, str, str, Theme | None]]:
    """(start, channel, language, customer text, theme or None for an everyday request) for every
    conversation of the month, in time order."""
    rng = random.Random(seed)
    themes = load_themes(pack_path)
    examples = _examples(pack_path)
    intents = sorted(examples)
    plan = []
    for back in range(days, 0, -1):
        day_start = (now - timedelta(days=back)).replace(hour=1, minute=0, second=0, microsecond=0)
        count = max(1, int(rng.gauss(per_day, per_day * 0.15)))
        for _ in range(count):
            at = day_start + timedelta(seconds=rng.uniform(0, 12 * 3600))
            if at >= now:
                continue
            channel, language = _pick(rng, CHANNEL_MIX), _pick(rng, LANGUAGE_MIX)
            theme = None
            draw = rng.random()
            for t in themes:
                in_spike = t.spike_days and back <= t.spike_days
                weight = t.weight if (not t.spike_days or in_spike) else t.weight * t.before
                if draw < weight:
                    theme = t
                    break
                draw -= weight
            if theme is not None:
                text = rng.choice(theme.customer[language])
            else:
                text = rng.choice(examples[rng.choice(intents)][language])
            plan.append((at, channel, language, text, theme))
    return sorted(plan, key=lambda p: p[0])


def generate(
    settings: Settings, *, days: int = 30, per_day: int = 40, seed: int = 7, if_empty: bool = False
) -> str:
    """Write the demo month; returns what it wrote."""

    engine = make_engine(settings.database_url)
    try:
        return _generate(
            settings, make_session_factory(engine), days=days, per_day=per_day, seed=seed, if_empty=if_empty
        )
    finally:
        engine.dispose()


def _generate(
    settings: Settings, sessions: Any, *, days: int, per_day: int, seed: int, if_empty: bool
) -> str:
    from helixdesk.nlu.pipeline import NLUPipeline
    from helixdesk.privacy.keys import resolve_keyring
    from helixdesk.privacy.transcripts import TranscriptPrivacy

    pack = load_pack(settings.pack)
    now = utcnow()
    if if_empty:
        with reading(sessions) as s:
            older = s.scalar(
                select(func.count())
                .select_from(Conversation)
                .where(Conversation.created_at < now - timedelta(days=2))
            )
        if older:
            return "demo history is there already: nothing written"
    plan = plan_month(pack.path, days=days, per_day=per_day, seed=seed, now=now)
    try:
        nlu = NLUPipeline.from_config(pack.nlu_pipeline, defaults={"model_root": settings.model_dir})
        texts = sorted({p[3] for p in plan})
        turns = dict(zip(texts, nlu.parse_batch(texts), strict=True))
    except FileNotFoundError as e:
        raise ConfigurationError(f"the NLU models are not trained: run `helixdesk nlu train` ({e})") from e
    writer = ConversationWriter(privacy=TranscriptPrivacy(keyring=resolve_keyring(settings)))
    answers = _faq_answers(pack.path)
    rng = random.Random(seed + 1)
    spiked = {t.name for t in load_themes(pack.path) if t.spike_days}
    messages = 0
    for start in range(0, len(plan), 100):
        with transaction(sessions) as s:
            for at, channel, language, text, theme in plan[start : start + 100]:
                past = _conversation(rng, at, channel, language, text, turns[text], theme, answers)
                messages += len(past.messages)
                import_past(s, writer, past)
    first = plan[0][0].astimezone(UTC).date() if plan else now.date()
    return (
        f"wrote {len(plan)} conversations ({messages} messages) from {first} to {now.date()}; "
        f"planted spike: {', '.join(sorted(spiked)) or 'none'}"
    )


def _conversation(
    rng: random.Random,
    at: datetime,
    channel: str,
    language: str,
    text: str,
    turn: Turn,
    theme: Theme | None,
    answers: dict[str, dict[str, str]],
) -> PastConversation:
    t = at
    messages = [PastMessage(Sender.CUSTOMER, text, t, turn=turn)]

    def later(seconds: float) -> datetime:
        nonlocal t
        t = t + timedelta(seconds=seconds)
        return t

    intent = turn.intent.name if turn.intent else None
    handed = theme is not None or rng.random() < 0.08
    queue = theme.queue if theme is not None else "general"
    if theme is not None:
        messages.append(
            PastMessage(Sender.BOT, DONT_KNOW[language], later(1.2), meta={"kind": "fallback"}, reply_to=0)
        )
    elif intent in answers and not handed:
        messages.append(
            PastMessage(
                Sender.BOT, answers[intent][language], later(1.1), meta={"kind": "answer"}, reply_to=0
            )
        )
    else:
        messages.append(
            PastMessage(Sender.BOT, HELPING[language], later(1.0), meta={"kind": "text"}, reply_to=0)
        )
    if handed:
        messages.append(
            PastMessage(
                Sender.BOT,
                DONT_KNOW[language] if theme else HELPING[language],
                later(0.5),
                meta={"kind": "handoff", "queue": queue},
            )
        )
        reply = (
            rng.choice(theme.agent.get(language) or theme.agent["zh-Hans"])
            if theme
            else AGENT_GENERIC[language]
        )
        agent = rng.choice(AGENTS)
        messages.append(
            PastMessage(
                Sender.AGENT,
                reply,
                later(rng.uniform(30, 240)),
                meta={"author": agent, "author_role": "agent", "queue": queue},
            )
        )
    rating: int | None = None
    if rng.random() < 0.3:
        rating = rng.choice((1, 2, 2, 3)) if theme is not None else rng.choice((3, 4, 5, 5, 5))
    return PastConversation(channel=channel, language=language, messages=messages, rating=rating)


def summary_of(plan: list[Any]) -> dict[str, int]:
    """How many conversations of each theme a plan holds (everyday requests under "")."""
    out: dict[str, int] = {}
    for *_, theme in plan:
        key = theme.name if theme is not None else ""
        out[key] = out.get(key, 0) + 1
    return out
