"""Routing explanations in the agent's language, from the factors a decision stored.

"疑似欺诈（“被盗刷”）+ 风险：欺诈 + 恐惧 0.78 + 白金 → 反欺诈队列，优先级 100；分配给赵强（负荷 0.00）"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from helixdesk.handoff.packet import Labels

_RISK = {"zh-Hans": "风险：", "zh-Hant": "風險：", "en": "risk: "}
_TAIL = {
    "zh-Hans": "{queue}队列，优先级 {priority}",
    "zh-Hant": "{queue}隊列，優先級 {priority}",
    "en": "{queue} queue, priority {priority}",
}


def explain(factors: Mapping[str, Any], offer: Sequence[Sequence[Any]], labels: Labels, language: str) -> str:
    zh = language != "en"
    parts: list[str] = []
    reason = labels.get("reason", factors.get("reason"), language)
    evidence = factors.get("evidence")
    if evidence:
        reason += f"（“{evidence}”）" if zh else f' ("{evidence}")'
    parts.append(reason)
    risks = [labels.get("risk", r, language) for r in factors.get("risk_types") or []]
    if risks:
        parts.append(_RISK[language if language in _RISK else "zh-Hans"] + ("、" if zh else ", ").join(risks))
    if factors.get("negativity"):
        emotion = labels.get("emotion", factors.get("emotion_label") or "neutral", language)
        parts.append(f"{emotion} {float(factors['negativity']):.2f}")
    if factors.get("tier"):
        parts.append(labels.get("tier", factors["tier"], language))
    queue = labels.get("queue", factors.get("queue"), language)
    priority = factors.get("priority")
    tail = _TAIL[language if language in _TAIL else "zh-Hans"].format(queue=queue, priority=priority)
    text = " + ".join(parts) + " → " + tail
    notes = []
    for code, values in offer:
        template = labels.get("offer", str(code), language)
        try:
            shown = {k: str(v) for k, v in dict(values).items()}
            if "from_queue" in shown:
                shown["from_queue"] = labels.get("queue", shown["from_queue"], language)
            if "status" in shown:  # the relationship manager's presence: away, offline, busy
                status = labels.get("presence", shown["status"], language)
                shown["status"] = status if zh else status.lower()
            notes.append(template.format(**shown))
        except (KeyError, IndexError):
            notes.append(template)
    if notes:
        text += ("；" if zh else "; ") + ("；" if zh else "; ").join(notes)
    return text
