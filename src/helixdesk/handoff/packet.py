"""The handoff packet: what a person needs to pick up a conversation without asking again.

Structured fields (intents, key entities, what the bot tried, identity status, emotion trajectory,
risk flags, open issues, the suggested next step) and a short extractive summary in Simplified and
Traditional Chinese and in English: a few lines built from those fields plus the customer's most
telling sentences, quoted. The console words it again in the agent's language (`summary_in`).
Everything is built from what is already stored (masked transcripts, NLU records), never raw data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from helixdesk.bank.connector import Customer
from helixdesk.conversations.store import StoredMessage

__all__ = ["Labels", "Packet", "PacketInput", "StoredMessage", "build_packet", "negativity_of", "summary_in"]

SUMMARY_LANGUAGES = ("zh-Hans", "zh-Hant", "en")
NEGATIVE = ("anger", "fear", "sadness", "disgust")
# Small talk is not what the customer came for.
NOT_A_REQUEST = ("greeting", "goodbye", "praise", "out_of_scope")
_BOT_TRIED = ("action", "answer", "fallback", "verification", "confirm")


@dataclass(frozen=True, slots=True)
class PacketInput:
    messages: Sequence[StoredMessage]
    trigger: str
    evidence: str
    intent: str | None
    queue: str
    next_step: str
    verified: bool
    customer_ref: str | None
    profile: Customer | None
    open_issues: Sequence[Mapping[str, Any]] = ()
    today: date | None = None


class Labels:
    """The pack's labels (`handoff/labels.yaml`): intents, reasons, next steps, emotions, ..."""

    def __init__(self, data: Mapping[str, Mapping[str, Mapping[str, str]]]) -> None:
        self._data = data

    @classmethod
    def load(
        cls, path: Path, *, defaults: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None
    ) -> Labels:
        """The pack's labels over `defaults` (the product's own value labels): the pack may reword
        any value and adds the groups it owns."""
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        merged: dict[str, dict[str, Mapping[str, str]]] = {g: dict(e) for g, e in (defaults or {}).items()}
        for group, entries in data.items():
            merged.setdefault(group, {}).update(entries or {})
        return cls(merged)

    def get(self, group: str, key: str | None, language: str) -> str:
        if key is None:
            return ""
        entry = self._data.get(group, {}).get(key)
        if not entry:
            return key.replace("_", " ")
        return entry.get(language) or entry.get("en") or key

    def group(self, group: str) -> dict[str, Mapping[str, str]]:
        return dict(self._data.get(group, {}))

    def has(self, group: str, key: str | None) -> bool:
        return key is not None and key in self._data.get(group, {})

    def table(self, groups: Sequence[str], language: str) -> dict[str, dict[str, str]]:
        """These groups worded in `language`, for a page's script to label what it shows."""
        return {g: {k: self.get(g, k, language) for k in self._data.get(g, {})} for g in groups}


@dataclass
class Packet:
    trigger: str
    evidence: str
    queue: str
    intents: list[str] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    bot_tried: list[dict[str, Any]] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)
    customer: dict[str, Any] = field(default_factory=dict)
    emotions: list[dict[str, Any]] = field(default_factory=list)
    risk: list[dict[str, Any]] = field(default_factory=list)
    open_issues: list[dict[str, Any]] = field(default_factory=list)
    next_step: str = "read_and_resolve"
    key_messages: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.trigger,
            "evidence": self.evidence,
            "queue": self.queue,
            "intents": self.intents,
            "entities": self.entities,
            "bot_tried": self.bot_tried,
            "identity": self.identity,
            "customer": self.customer,
            "emotions": self.emotions,
            "risk": self.risk,
            "open_issues": self.open_issues,
            "next_step": self.next_step,
            "key_messages": self.key_messages,
            "summary": self.summary,
        }


def negativity_of(emotions: Sequence[Mapping[str, Any]]) -> float:
    """The conversation's negative intensity: the stronger of the latest and the peak (damped)."""
    values = [float(e["intensity"]) if e["label"] in NEGATIVE else 0.0 for e in emotions]
    if not values:
        return 0.0
    return round(max(values[-1], 0.8 * max(values)), 3)


def build_packet(inp: PacketInput, labels: Labels) -> Packet:
    packet = Packet(trigger=inp.trigger, evidence=inp.evidence, queue=inp.queue, next_step=inp.next_step)
    seen_entities: set[tuple[str, str]] = set()
    scored: list[tuple[float, int, str]] = []
    for m in inp.messages:
        if m.sender == "customer":
            nlu = m.meta.get("nlu") or {}
            intent = (nlu.get("intent") or {}).get("name")
            if intent and intent not in NOT_A_REQUEST and intent not in packet.intents:
                packet.intents.append(intent)
            for e in nlu.get("entities") or []:
                key = (str(e.get("type")), str(e.get("text")))
                if key not in seen_entities:
                    seen_entities.add(key)
                    packet.entities.append(
                        {"type": e.get("type"), "text": e.get("text"), "value": e.get("value")}
                    )
            emotion = nlu.get("emotion")
            if emotion:
                packet.emotions.append(
                    {
                        "seq": m.seq,
                        "label": emotion["label"],
                        "intensity": round(float(emotion["intensity"]), 2),
                    }
                )
            for r in nlu.get("risk") or []:
                packet.risk.append(
                    {
                        "type": r.get("type"),
                        "evidence": r.get("evidence"),
                        "weight": r.get("weight"),
                        "seq": m.seq,
                    }
                )
            said = m.text
            image = m.meta.get("image")
            if isinstance(image, dict) and image.get("text"):
                # An image message: what was read from it (masked) counts as what the customer said.
                said = f"{m.text} 🖼 {image['text']}".strip()
            scored.append((_informative(said, nlu), m.seq, said))
        elif m.sender == "bot" and m.meta.get("kind") in _BOT_TRIED:
            packet.bot_tried.append({"seq": m.seq, "kind": m.meta.get("kind"), "text": _clip(m.text, 160)})
    if inp.intent and inp.intent not in packet.intents and inp.intent not in NOT_A_REQUEST:
        packet.intents.append(inp.intent)
    packet.bot_tried = packet.bot_tried[-6:]
    packet.entities = packet.entities[:12]
    top = sorted((x for x in scored if x[0] > 0), key=lambda x: (-x[0], -x[1]))[:3]
    packet.key_messages = [
        {"seq": seq, "text": _clip(text, 200)} for _, seq, text in sorted(top, key=lambda x: x[1])
    ]
    packet.identity = {"verified": inp.verified, "customer_ref": inp.customer_ref}
    packet.customer = _customer(inp.profile, inp.today)
    packet.open_issues = [dict(i) for i in inp.open_issues]
    packet.summary = {lang: _summary(packet, labels, lang) for lang in SUMMARY_LANGUAGES}
    return packet


def _informative(text: str, nlu: Mapping[str, Any]) -> float:
    """How much a customer sentence tells the agent: facts, risk, feeling, a real request."""
    score = 0.0
    score += 1.0 * len(nlu.get("entities") or [])
    score += 2.0 * len(nlu.get("risk") or [])
    emotion = nlu.get("emotion") or {}
    if emotion.get("label") in NEGATIVE:
        score += float(emotion.get("intensity", 0))
    intent = (nlu.get("intent") or {}).get("name")
    if intent and intent not in (*NOT_A_REQUEST, "human_agent"):
        score += 1.0
    if len(text.strip()) <= 4:
        score -= 2.0
    return score


def _customer(profile: Customer | None, today: date | None) -> dict[str, Any]:
    if profile is None:
        return {"known": False}
    out: dict[str, Any] = {
        "known": True,
        "ref": profile.ref,
        "value_tier": profile.value_tier,
        "segment": profile.segment,
        "risk_tolerance": profile.risk_tolerance,
        "language": profile.preferred_language,
    }
    if today is not None:
        out["age"] = profile.age(today)
    return out


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# The summary's sentences per language; the codes in them are worded by the labels table.
_PHRASES: dict[str, dict[str, str]] = {
    "zh-Hans": {
        "who": "客户（{bits}）",
        "anonymous": "客户（未登录）",
        "age": "{age}岁",
        "bits": "，",
        "asked": "{who}咨询：{intents}。转人工原因：{reason}{evidence}。",
        "unclear": "未明确",
        "evidence": "（“{text}”）",
        "list": "、",
        "facts": "关键信息：{items}。",
        "facts_sep": "，",
        "tried": "机器人已尝试：{items}（{count}次回复）。",
        "verified": "身份：已验证。",
        "not_verified": "身份：未验证。",
        "emotion": "情绪：{items}。",
        "risk": "风险：{items}。",
        "risk_sep": "，",
        "issues": "未结问题：{items}。",
        "issues_sep": "，",
        "next": "建议：{step}。",
        "quotes": "客户原话：{items}",
        "quote": "“{text}”",
    },
    "zh-Hant": {
        "who": "客戶（{bits}）",
        "anonymous": "客戶（未登入）",
        "age": "{age}歲",
        "bits": "，",
        "asked": "{who}查詢：{intents}。轉真人原因：{reason}{evidence}。",
        "unclear": "未明確",
        "evidence": "（「{text}」）",
        "list": "、",
        "facts": "關鍵資料：{items}。",
        "facts_sep": "，",
        "tried": "機械人已嘗試：{items}（{count}次回覆）。",
        "verified": "身份：已驗證。",
        "not_verified": "身份：未驗證。",
        "emotion": "情緒：{items}。",
        "risk": "風險：{items}。",
        "risk_sep": "，",
        "issues": "未結問題：{items}。",
        "issues_sep": "，",
        "next": "建議：{step}。",
        "quotes": "客戶原話：{items}",
        "quote": "「{text}」",
    },
    "en": {
        "who": "Customer ({bits})",
        "anonymous": "Customer (not signed in)",
        "age": "{age} years old",
        "bits": ", ",
        "asked": "{who} asked about: {intents}. Handed over: {reason}{evidence}.",
        "unclear": "unclear",
        "evidence": ' ("{text}")',
        "list": ", ",
        "facts": "Key facts: {items}.",
        "facts_sep": "; ",
        "tried": "The bot tried: {items} ({count} replies).",
        "verified": "Identity: verified.",
        "not_verified": "Identity: not verified.",
        "emotion": "Emotion: {items}.",
        "risk": "Risk: {items}.",
        "risk_sep": "; ",
        "issues": "Open issues from earlier contacts: {items}.",
        "issues_sep": ", ",
        "next": "Next step: {step}.",
        "quotes": "In the customer's words: {items}",
        "quote": '"{text}"',
    },
}


def summary_in(packet: Mapping[str, Any], labels: Labels, lang: str) -> str:
    """A stored packet's summary in `lang`, worded now (so every agent language has one, and a
    label reworded since reads the new way); the stored one if the packet cannot be read."""
    try:
        fields = {k: v for k, v in packet.items() if k in Packet.__dataclass_fields__}
        fields.setdefault("trigger", "")
        fields.setdefault("evidence", "")
        fields.setdefault("queue", "")
        return _summary(Packet(**fields), labels, lang)
    except (TypeError, KeyError, ValueError, AttributeError):
        stored = packet.get("summary") or {}
        return str(stored.get(lang) or stored.get("zh-Hans" if lang != "en" else "en") or "")


def _summary(p: Packet, labels: Labels, lang: str) -> str:
    w = _PHRASES.get(lang) or _PHRASES["zh-Hans"]
    lines: list[str] = []
    c = p.customer
    who_bits: list[str] = []
    if c.get("known"):
        who_bits.append(labels.get("tier", c.get("value_tier"), lang))
        if c.get("age") is not None:
            who_bits.append(w["age"].format(age=c["age"]))
    intents = w["list"].join(labels.get("intent", i, lang) for i in p.intents)
    lines.append(
        w["asked"].format(
            who=w["who"].format(bits=w["bits"].join(who_bits)) if who_bits else w["anonymous"],
            intents=intents or w["unclear"],
            reason=labels.get("reason", p.trigger, lang),
            evidence=w["evidence"].format(text=p.evidence) if p.evidence else "",
        )
    )
    if p.entities:
        facts = [f"{labels.get('entity', e['type'], lang)} {e['text']}" for e in p.entities[:6]]
        lines.append(w["facts"].format(items=w["facts_sep"].join(facts)))
    if p.bot_tried:
        kinds = [labels.get("bot_tried", k, lang) for k in sorted({t["kind"] for t in p.bot_tried})]
        lines.append(w["tried"].format(items=w["list"].join(kinds), count=len(p.bot_tried)))
    lines.append(w["verified"] if p.identity.get("verified") else w["not_verified"])
    if p.emotions:
        path = [e for e in p.emotions if e["label"] != "neutral"] or p.emotions[-1:]
        steps = " → ".join(
            f"{labels.get('emotion', e['label'], lang)} {float(e['intensity']):.1f}" for e in path[-4:]
        )
        lines.append(w["emotion"].format(items=steps))
    if p.risk:
        flags: list[str] = []
        for r in p.risk:
            text = labels.get("risk", r["type"], lang) + w["evidence"].format(text=r["evidence"])
            if text not in flags:
                flags.append(text)
        lines.append(w["risk"].format(items=w["risk_sep"].join(flags[:4])))
    if p.open_issues:
        topics = [_topic(i, labels, lang) for i in p.open_issues]
        lines.append(w["issues"].format(items=w["issues_sep"].join(topics)))
    lines.append(w["next"].format(step=labels.get("next_step", p.next_step, lang)))
    if p.key_messages:
        lines.append(
            w["quotes"].format(items=" ".join(w["quote"].format(text=m["text"]) for m in p.key_messages))
        )
    return "\n".join(lines)


def _topic(issue: Mapping[str, Any], labels: Labels, lang: str) -> str:
    """An open issue's topic in words: its own label, else its intent's."""
    topic = str(issue.get("topic") or "")
    if labels.has("issue_topic", topic) or not labels.has("intent", issue.get("intent") or topic):
        return labels.get("issue_topic", topic, lang)
    return labels.get("intent", issue.get("intent") or topic, lang)
