"""The handoff packet: what a person needs to pick up a conversation without asking again.

Structured fields (intents, key entities, what the bot tried, identity status, emotion trajectory,
risk flags, open issues, the suggested next step) and a short extractive summary in Chinese and in
English: a few lines built from those fields plus the customer's most telling sentences, quoted.
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

__all__ = ["Labels", "Packet", "PacketInput", "StoredMessage", "build_packet", "negativity_of"]

SUMMARY_LANGUAGES = ("zh-Hans", "en")
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
    def load(cls, path: Path) -> Labels:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def get(self, group: str, key: str | None, language: str) -> str:
        if key is None:
            return ""
        entry = self._data.get(group, {}).get(key)
        if not entry:
            return key.replace("_", " ")
        return entry.get(language) or entry.get("en") or key

    def group(self, group: str) -> dict[str, Mapping[str, str]]:
        return dict(self._data.get(group, {}))


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
            scored.append((_informative(m.text, nlu), m.seq, m.text))
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


def _summary(p: Packet, labels: Labels, lang: str) -> str:
    zh = lang != "en"
    lines: list[str] = []
    c = p.customer
    who_bits: list[str] = []
    if c.get("known"):
        tier = labels.get("tier", c.get("value_tier"), lang)
        who_bits.append(tier)
        if c.get("age") is not None:
            who_bits.append(f"{c['age']}岁" if zh else f"{c['age']} years old")
    intents = (
        "、".join(labels.get("intent", i, lang) for i in p.intents)
        if zh
        else ", ".join(labels.get("intent", i, lang) for i in p.intents)
    )
    reason = labels.get("reason", p.trigger, lang)
    if zh:
        who = f"客户（{'，'.join(who_bits)}）" if who_bits else "客户（未登录）"
        lines.append(
            f"{who}咨询：{intents or '未明确'}。转人工原因：{reason}"
            + (f"（“{p.evidence}”）" if p.evidence else "")
            + "。"
        )
    else:
        who = f"Customer ({', '.join(who_bits)})" if who_bits else "Customer (not signed in)"
        lines.append(
            f"{who} asked about: {intents or 'unclear'}. Handed over: {reason}"
            + (f' ("{p.evidence}")' if p.evidence else "")
            + "."
        )
    if p.entities:
        facts = [f"{labels.get('entity', e['type'], lang)} {e['text']}" for e in p.entities[:6]]
        lines.append(
            ("关键信息：" + "，".join(facts) + "。") if zh else ("Key facts: " + "; ".join(facts) + ".")
        )
    if p.bot_tried:
        kinds = sorted({t["kind"] for t in p.bot_tried})
        if zh:
            names = {
                "action": "办理/查询",
                "answer": "知识库解答",
                "fallback": "未能回答",
                "verification": "身份验证",
                "confirm": "确认操作",
            }
            lines.append(
                "机器人已尝试："
                + "、".join(names.get(k, k) for k in kinds)
                + f"（{len(p.bot_tried)}次回复）。"
            )
        else:
            names = {
                "action": "ran an action",
                "answer": "answered from the knowledge base",
                "fallback": "could not answer",
                "verification": "identity check",
                "confirm": "asked to confirm",
            }
            lines.append(
                "The bot tried: "
                + ", ".join(names.get(k, k) for k in kinds)
                + f" ({len(p.bot_tried)} replies)."
            )
    verified = p.identity.get("verified")
    if zh:
        lines.append("身份：" + ("已验证。" if verified else "未验证。"))
    else:
        lines.append("Identity: " + ("verified." if verified else "not verified."))
    if p.emotions:
        path = [e for e in p.emotions if e["label"] != "neutral"] or p.emotions[-1:]
        steps = " → ".join(
            f"{labels.get('emotion', e['label'], lang)} {e['intensity']:.1f}" for e in path[-4:]
        )
        lines.append(("情绪：" + steps + "。") if zh else ("Emotion: " + steps + "."))
    if p.risk:
        flags = []
        for r in p.risk:
            text = (
                f"{labels.get('risk', r['type'], lang)}（“{r['evidence']}”）"
                if zh
                else f'{labels.get("risk", r["type"], lang)} ("{r["evidence"]}")'
            )
            if text not in flags:
                flags.append(text)
        lines.append(
            ("风险：" + "，".join(flags[:4]) + "。") if zh else ("Risk: " + "; ".join(flags[:4]) + ".")
        )
    if p.open_issues:
        topics = [str(i.get("topic", "")) for i in p.open_issues]
        lines.append(
            ("未结问题：" + "，".join(topics) + "。")
            if zh
            else ("Open issues from earlier contacts: " + ", ".join(topics) + ".")
        )
    lines.append(
        ("建议：" if zh else "Next step: ")
        + labels.get("next_step", p.next_step, lang)
        + ("。" if zh else ".")
    )
    if p.key_messages:
        quotes = " ".join(f"“{m['text']}”" if zh else f'"{m["text"]}"' for m in p.key_messages)
        lines.append(("客户原话：" if zh else "In the customer's words: ") + quotes)
    return "\n".join(lines)
