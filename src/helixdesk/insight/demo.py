"""The demo month: realistic past conversations with a planted spike, so a fresh demo's insight
pages have something to show (`helixdesk insight demo`; `scripts/demo.sh` runs it once).

Every day of the month gets about `per_day` conversations, in bank hours, over web, app and WeChat,
in zh-Hans, zh-Hant and English:

- **everyday requests**, drawn from the pack's intent examples; the bot answers from its FAQ when
  it has an entry for the intent (citing the entry, as a live answer does), and now and then the
  customer is handed to an agent;
- **themes the bot cannot answer** (the pack's `insight/demo.yaml`): the bot says it does not know
  and hands over, and an agent answers with one of the theme's replies. A theme with `spike_days`
  runs at a small share of its weight until its last days, then at its full weight: the planted
  spike.

Customer messages go through the real NLU (intent, emotion) and every conversation is written by
`conversations.history.import_past`, with its events, so the insight consumer reads them as it
reads live ones. The same seed gives the same month.

A conversation that goes to a person is a real handoff too (`handoff.history.import_past_handoffs`,
with its events, so the analytics consumer builds the dashboards from them): a fraud report goes to
the fraud queue, a complaint or a distressed customer to a senior agent, a VIP's wealth question to
a relationship manager, the rest to the general queue when the customer asks or the bot did not
help. A demo agent claims it (the demo staff, created with the demo password when missing), most
within the queue's service level, some late (slower agents more often), a few customers leave
before anyone claims, a few are transferred to a senior agent; the person's replies are messages.
About a third of the conversations are by the demo bank's customers (their tier; some come back
within the week), the rest by visitors. Ratings are mostly 4-5, lower after a late answer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helixdesk.actions.policies import load_action_policies
from helixdesk.auth.demo import DEMO_STAFF, demo_password, seed_demo_staff
from helixdesk.auth.models import PresenceChange
from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.models import BankCustomer
from helixdesk.conversations.history import PastConversation, PastMessage, import_past
from helixdesk.conversations.models import Conversation, Sender
from helixdesk.conversations.writer import ConversationWriter
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConfigurationError
from helixdesk.core.settings import Settings
from helixdesk.core.turn import Turn
from helixdesk.db.session import make_engine, make_session_factory, reading, transaction
from helixdesk.handoff.history import PastHandoff, import_past_handoffs
from helixdesk.handoff.policy import load_handoff_policy
from helixdesk.knowledge.ingest import pack_faq_source
from helixdesk.nlu.emotion.data import NEGATIVE
from helixdesk.packs.loader import load_pack
from helixdesk.routing.config import Routing

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
AGENT_GREETING = {
    "zh-Hans": "您好，我是{name}，我来为您处理。",
    "zh-Hant": "您好，我是{name}，我來為您處理。",
    "en": "Hello, this is {name}. I'm looking at it now.",
}
AGENT_QUEUE_REPLY = {
    "fraud": {
        "zh-Hans": "您好，涉事卡片已为您冻结，可疑交易我已提交调查，调查结果会在三个工作日内通知您，新卡会寄到您的账单地址。",
        "zh-Hant": "您好，涉事卡片已為您凍結，可疑交易我已提交調查，結果會在三個工作日內通知您，新卡會寄到您的賬單地址。",
        "en": "The card is frozen now and I have opened an investigation into the charges; you will hear from us within three working days, and a new card is on its way to your billing address.",
    },
    "senior": {
        "zh-Hans": "非常抱歉给您带来困扰，我已经详细记录了您的情况，并为您登记处理，今天之内会有专人跟进。",
        "zh-Hant": "非常抱歉為您帶來困擾，我已詳細記錄您的情況並為您登記處理，今天之內會有專人跟進。",
        "en": "I'm sorry for the trouble. I have written down everything you told me and logged it; a specialist will follow up with you today.",
    },
    "relationship_manager": {
        "zh-Hans": "感谢您的信任。根据您的风险等级，我为您整理了几款合适的产品，稍后把对比发到您的手机银行消息中心。",
        "zh-Hant": "感謝您的信任。根據您的風險等級，我為您整理了幾款合適的產品，稍後把比較發到您的手機銀行訊息中心。",
        "en": "Thank you. Based on your risk profile I have put together a few suitable products and will send a comparison to your app inbox shortly.",
    },
}
TRANSFERRING = {
    "zh-Hans": "这个问题我为您转接资深同事处理，请稍候。",
    "zh-Hant": "這個問題我為您轉接資深同事處理，請稍候。",
    "en": "I'm passing you to a senior colleague for this one, please hold on.",
}
CUSTOMER_THANKS = {"zh-Hans": "好的，谢谢", "zh-Hant": "好的，謝謝", "en": "OK, thanks"}
AGENT_CLOSING = {
    "zh-Hans": "请问还有其他可以帮您的吗？",
    "zh-Hant": "請問還有其他可以幫您的嗎？",
    "en": "Is there anything else I can help with?",
}
CUSTOMER_LEFT = "The customer left."
# Who works each queue (demo usernames, by how often they take it) and how quickly each works
# (a factor on handling time; slower agents also answer late more often).
QUEUE_STAFF: dict[str, tuple[tuple[str, float], ...]] = {
    "general": (("agent.li", 3), ("agent.chen", 3), ("agent.amy", 2), ("senior.wang", 1)),
    "senior": (("senior.wang", 1),),
    "fraud": (("fraud.zhao", 1),),
    "relationship_manager": (("rm.sun", 2), ("rm.zhou", 1), ("rm.wu", 1), ("rm.zheng", 1)),
}
SPEED = {
    "agent.li": 0.8,
    "agent.chen": 1.35,
    "agent.amy": 1.0,
    "senior.wang": 0.9,
    "fraud.zhao": 0.75,
    "rm.sun": 1.0,
    "rm.zhou": 1.25,
    "rm.wu": 0.9,
    "rm.zheng": 1.1,
}
WEALTH_INTENTS = frozenset(
    {"wealth_product_inquiry", "deposit_interest_rate", "mortgage_inquiry", "cross_border_remittance"}
)
KNOWN_CUSTOMERS = 0.3  # the share of conversations by the demo bank's customers
LATE = 0.08  # the chance a handoff is answered after its target, times the agent's speed factor
ABANDONED = 0.045  # the chance the customer leaves before anyone claims the handoff
TRANSFERRED = 0.07  # the chance a general handoff is transferred to a senior agent


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


@dataclass(frozen=True)
class _Answer:
    """The pack's FAQ entry the bot answers an intent from: its id and its answer per language."""

    entry: str
    text: dict[str, str]


def _faq_answers(pack_path: Path) -> dict[str, _Answer]:
    raw = yaml.safe_load((pack_path / "kb" / "faq.yaml").read_text(encoding="utf-8")) or []
    out: dict[str, _Answer] = {}
    for entry in raw:
        for intent in entry.get("intents") or ():
            out.setdefault(intent, _Answer(entry=str(entry["id"]), text=entry["answer"]))
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
    settings: Settings,
    *,
    days: int = 30,
    per_day: int = 40,
    seed: int = 7,
    if_empty: bool = False,
    staff_password: str | None = None,
) -> str:
    """Write the demo month; returns what it wrote. Demo staff who are missing are created with
    `staff_password` (default: `HELIXDESK_DEMO_STAFF_PASSWORD`, else the demo password)."""

    engine = make_engine(settings.database_url)
    try:
        return _generate(
            settings,
            make_session_factory(engine),
            days=days,
            per_day=per_day,
            seed=seed,
            if_empty=if_empty,
            staff_password=staff_password,
        )
    finally:
        engine.dispose()


@dataclass(frozen=True)
class DemoAgent:
    id: str
    username: str
    name: str
    role: str
    english: bool
    speed: float


def _demo_agents(sessions: Any, password: str | None) -> dict[str, DemoAgent]:
    """The demo staff who take handoffs, by username (created when missing)."""
    accounts = StaffAccounts(sessions=sessions)
    wanted = {name for staff in QUEUE_STAFF.values() for name, _ in staff}
    users = {u.username: u for u in accounts.list_users()}
    if not wanted <= set(users):
        seed_demo_staff(accounts, password=password or demo_password())
        users = {u.username: u for u in accounts.list_users()}
    demo = {d.username: d for d in DEMO_STAFF}
    return {
        name: DemoAgent(
            id=users[name].id,
            username=name,
            name=users[name].display_name,
            role=demo[name].roles[0],
            english="en" in users[name].languages,
            speed=SPEED.get(name, 1.0),
        )
        for name in sorted(wanted)
    }


@dataclass(frozen=True)
class _Desk:
    """What a conversation's story draws on besides its text."""

    answers: dict[str, _Answer]
    faq: tuple[str, str]  # the pack's FAQ document: its source and title, as answers cite it
    agents: dict[str, DemoAgent]
    routing: Routing  # the first-response targets, by queue and tier
    customers: list[tuple[str, str | None]]  # the demo bank's (ref, tier)


def _generate(
    settings: Settings,
    sessions: Any,
    *,
    days: int,
    per_day: int,
    seed: int,
    if_empty: bool,
    staff_password: str | None,
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
    routing = load_handoff_policy(pack.path / "handoff" / "policy.yaml").routing
    with reading(sessions) as s:
        customers = [
            (str(ref), str(tier) if tier else None)
            for ref, tier in s.execute(
                select(BankCustomer.ref, BankCustomer.value_tier).order_by(BankCustomer.ref)
            )
        ]
    faq = pack_faq_source(settings.pack)
    desk = _Desk(
        answers=_faq_answers(pack.path),
        faq=(faq.source, faq.title),
        agents=_demo_agents(sessions, staff_password),
        routing=routing,
        customers=customers,
    )
    rng = random.Random(seed + 1)
    people = random.Random(seed + 2)  # the handoffs, customers and ratings
    spiked = {t.name for t in load_themes(pack.path) if t.spike_days}
    messages = handoffs = 0
    for start in range(0, len(plan), 100):
        with transaction(sessions) as s:
            for at, channel, language, text, theme in plan[start : start + 100]:
                past, handed = _conversation(
                    rng, people, at, channel, language, text, turns[text], theme, desk
                )
                messages += len(past.messages)
                handoffs += len(handed)
                conversation_id = import_past(s, writer, past)
                if handed:
                    import_past_handoffs(s, conversation_id, handed)
    with transaction(sessions) as s:
        _shifts(s, desk.agents, plan[0][0] if plan else now, now, settings)
    first = plan[0][0].astimezone(UTC).date() if plan else now.date()
    return (
        f"wrote {len(plan)} conversations ({messages} messages, {handoffs} handoffs) from {first} "
        f"to {now.date()}; planted spike: {', '.join(sorted(spiked)) or 'none'}"
    )


def _shifts(
    s: Session, agents: dict[str, DemoAgent], first: datetime, last: datetime, settings: Settings
) -> None:
    """The demo staff's presence, day by day: online from 08:00 to 22:00 in the bank's time zone,
    away for lunch from 12:00 to 13:00 (occupancy is handling time over online time)."""
    tz = load_action_policies(load_pack(settings.pack), timezone=settings.bank_timezone).bank.tz
    day = first.astimezone(tz).date()
    while day <= last.astimezone(tz).date():
        for agent in agents.values():
            for hour, presence in ((8, "online"), (12, "away"), (13, "online"), (22, "offline")):
                at = datetime.combine(day, time(hour), tzinfo=tz)
                if at <= last:
                    s.add(PresenceChange(user_id=agent.id, presence=presence, at=at))
        day += timedelta(days=1)


def _route(people: random.Random, turn: Turn, tier: str | None, answered: bool) -> tuple[str, str] | None:
    """Where an everyday request goes, if to a person: (queue, reason)."""
    intent = turn.intent.name if turn.intent else None
    fraud = any(r.type == "fraud" and r.weight >= 0.8 for r in turn.risk)
    emotion = turn.emotion
    upset = emotion is not None and emotion.label in NEGATIVE and emotion.intensity >= 0.6
    draw = people.random()
    if intent == "card_fraud_report" or (fraud and draw < 0.8):
        return "fraud", "fraud_risk"
    if intent == "unrecognized_transaction" and draw < 0.3:
        return "fraud", "fraud_risk"
    if intent == "complaint" and draw < 0.5:
        return "senior", "escalation"
    if upset and draw < 0.3:
        return "senior", "emotion_rising"
    if tier in ("vip", "platinum") and intent in WEALTH_INTENTS and draw < 0.9:
        return "relationship_manager", "vip_wealth"
    if tier in ("vip", "platinum") and draw < 0.2:
        return "relationship_manager", "customer_request"  # a private client asks for their manager
    if draw < (0.12 if answered else 0.3):
        reason = people.choices(("customer_request", "bot_failed", "not_helped"), weights=(55, 25, 20))[0]
        return "general", reason
    return None


def _agent_for(people: random.Random, desk: _Desk, queue: str, language: str) -> DemoAgent:
    staff = [
        (desk.agents[name], weight)
        for name, weight in QUEUE_STAFF[queue]
        if language != "en" or desk.agents[name].english
    ] or [(desk.agents[name], weight) for name, weight in QUEUE_STAFF[queue]]
    return people.choices([a for a, _ in staff], weights=[w for _, w in staff])[0]


def _conversation(
    rng: random.Random,
    people: random.Random,
    at: datetime,
    channel: str,
    language: str,
    text: str,
    turn: Turn,
    theme: Theme | None,
    desk: _Desk,
) -> tuple[PastConversation, list[PastHandoff]]:
    t = at
    messages = [PastMessage(Sender.CUSTOMER, text, t, turn=turn)]

    def later(seconds: float) -> datetime:
        nonlocal t
        t = t + timedelta(seconds=seconds)
        return t

    ref, tier = (
        people.choice(desk.customers)
        if desk.customers and people.random() < KNOWN_CUSTOMERS
        else (None, None)
    )
    intent = turn.intent.name if turn.intent else None
    answered = intent in desk.answers
    route = (theme.queue, "bot_failed") if theme is not None else _route(people, turn, tier, answered)
    if theme is not None:
        messages.append(
            PastMessage(Sender.BOT, DONT_KNOW[language], later(1.2), meta={"kind": "fallback"}, reply_to=0)
        )
    elif answered and route is None:
        answer = desk.answers[intent or ""]
        source, title = desk.faq
        messages.append(
            PastMessage(
                Sender.BOT,
                answer.text[language],
                later(1.1),
                meta={
                    "kind": "answer",
                    "citations": [{"title": title, "source": source, "ref": answer.entry}],
                },
                reply_to=0,
            )
        )
    else:
        messages.append(
            PastMessage(Sender.BOT, HELPING[language], later(1.0), meta={"kind": "text"}, reply_to=0)
        )
    handoffs: list[PastHandoff] = []
    late = False
    if route is not None:
        queue, reason = route
        handed_at = later(0.5)
        messages.append(
            PastMessage(
                Sender.BOT,
                DONT_KNOW[language] if theme else HELPING[language],
                handed_at,
                meta={"kind": "handoff", "queue": queue},
            )
        )
        if theme is not None:
            reply = rng.choice(theme.agent.get(language) or theme.agent["zh-Hans"])
        else:
            reply = AGENT_QUEUE_REPLY.get(queue, AGENT_GENERIC)[language]
        negativity = (
            round(turn.emotion.intensity, 3)
            if turn.emotion is not None and turn.emotion.label in NEGATIVE
            else round(people.uniform(0.0, 0.15), 3)
        )
        story = _handover(
            people, desk, queue, reason, handed_at, language, reply, negativity, tier, theme is not None
        )
        handoffs, told, late = story
        messages.extend(told)
    rating = _rating(
        people,
        handed=bool(handoffs),
        handoffs=handoffs,
        late=late,
        themed=theme is not None,
        answered=answered and route is None,
    )
    return (
        PastConversation(
            channel=channel, language=language, messages=messages, customer_ref=ref, rating=rating
        ),
        handoffs,
    )


def _handover(
    people: random.Random,
    desk: _Desk,
    queue: str,
    reason: str,
    at: datetime,
    language: str,
    reply: str,
    negativity: float,
    tier: str | None,
    themed: bool,
) -> tuple[list[PastHandoff], list[PastMessage], bool]:
    """A handoff as it went: (its handoff rows, the messages after it, answered late)."""
    sla = desk.routing.sla_for(queue, tier)

    def row(**fields: Any) -> PastHandoff:
        return PastHandoff(negativity=negativity, tier=tier, language=language, **fields)

    if people.random() < ABANDONED:
        left = at + timedelta(seconds=sla * people.uniform(0.4, 3.0))
        return (
            [row(queue=queue, reason=reason, at=at, sla_seconds=sla)],
            [PastMessage(Sender.SYSTEM, CUSTOMER_LEFT, left, meta={"kind": "customer_left"})],
            False,
        )
    agent = _agent_for(people, desk, queue, language)
    late = people.random() < LATE * agent.speed
    # The person's first message after the handoff, against the queue's target.
    answer = sla * (people.uniform(1.05, 2.6) if late else people.uniform(0.2, 0.95))
    greet = min(answer * 0.4, people.uniform(4, 18) * agent.speed)
    claimed = at + timedelta(seconds=answer - greet)
    said: list[PastMessage] = []

    def say(who: DemoAgent, text: str, when: datetime) -> None:
        said.append(
            PastMessage(
                Sender.AGENT,
                text,
                when,
                meta={"author": who.name, "author_role": who.role, "agent_id": who.id, "queue": queue},
            )
        )

    say(agent, AGENT_GREETING[language].format(name=agent.name), at + timedelta(seconds=answer))
    handle = people.uniform(150, 540) * agent.speed
    transfer = (
        queue == "general"
        and agent.username != "senior.wang"
        and not themed
        and people.random() < TRANSFERRED
    )
    disposition = "knowledge_gap" if themed else _disposition(people, queue)
    resolution = people.choices(("resolved", "follow_up", "unresolved"), weights=(85, 8, 7))[0]
    if transfer:
        ended = claimed + timedelta(seconds=handle * 0.4)
        say(agent, TRANSFERRING[language], ended - timedelta(seconds=2))
        first = row(
            queue=queue,
            reason=reason,
            at=at,
            sla_seconds=sla,
            status="transferred",
            claimed_at=claimed,
            ended_at=ended,
            agent_id=agent.id,
        )
        senior = desk.agents["senior.wang"]
        claimed2 = ended + timedelta(seconds=people.uniform(15, 110))
        handle2 = people.uniform(200, 600) * senior.speed
        say(senior, AGENT_GREETING[language].format(name=senior.name), claimed2 + timedelta(seconds=8))
        say(senior, reply, claimed2 + timedelta(seconds=handle2 * 0.5))
        said.append(
            PastMessage(
                Sender.CUSTOMER, CUSTOMER_THANKS[language], claimed2 + timedelta(seconds=handle2 * 0.8)
            )
        )
        say(senior, AGENT_CLOSING[language], claimed2 + timedelta(seconds=handle2 * 0.95))
        second = row(
            queue="senior",
            reason="transfer",
            at=ended,
            sla_seconds=desk.routing.sla_for("senior", tier),
            claimed_at=claimed2,
            ended_at=claimed2 + timedelta(seconds=handle2),
            agent_id=senior.id,
            resolution=resolution,
            disposition=disposition,
        )
        return [first, second], said, late
    say(agent, reply, claimed + timedelta(seconds=max(handle * 0.5, greet + 20)))
    said.append(
        PastMessage(Sender.CUSTOMER, CUSTOMER_THANKS[language], claimed + timedelta(seconds=handle * 0.8))
    )
    say(agent, AGENT_CLOSING[language], claimed + timedelta(seconds=handle * 0.95))
    done = row(
        queue=queue,
        reason=reason,
        at=at,
        sla_seconds=sla,
        claimed_at=claimed,
        ended_at=claimed + timedelta(seconds=handle),
        agent_id=agent.id,
        resolution=resolution,
        disposition=disposition,
    )
    return [done], said, late


def _disposition(people: random.Random, queue: str) -> str:
    options = {
        "fraud": (("card_frozen", 6), ("dispute_opened", 3), ("answered", 1)),
        "senior": (("complaint_logged", 5), ("answered", 3), ("callback_scheduled", 2)),
        "relationship_manager": (("advice_given", 7), ("callback_scheduled", 3)),
        "general": (("answered", 7), ("advice_given", 2), ("referred_to_branch", 1)),
    }[queue]
    return people.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _rating(
    people: random.Random,
    *,
    handed: bool,
    handoffs: list[PastHandoff],
    late: bool,
    themed: bool,
    answered: bool,
) -> int | None:
    """Mostly 4-5; lower after a late answer, an unresolved wrap-up or a wait that ended in leaving."""
    if handed and handoffs[-1].claimed_at is None:
        return people.choice((1, 1, 2)) if people.random() < 0.15 else None
    if people.random() >= (0.45 if handed else 0.35):
        return None
    if late:
        return people.choice((4, 3, 3, 2, 2, 1))
    if handed and handoffs[-1].resolution == "unresolved":
        return people.choice((3, 2, 2, 1))
    if themed:
        return people.choice((4, 4, 3, 3, 2, 5))
    if handed:
        return people.choice((5, 5, 5, 4, 4, 3))
    if answered:
        return people.choice((5, 5, 5, 4, 4, 4, 3, 2))
    return people.choice((5, 4, 4, 4, 3, 3))


def summary_of(plan: list[Any]) -> dict[str, int]:
    """How many conversations of each theme a plan holds (everyday requests under "")."""
    out: dict[str, int] = {}
    for *_, theme in plan:
        key = theme.name if theme is not None else ""
        out[key] = out.get(key, 0) + 1
    return out
