"""What an anonymised message keeps: its kind and the NLU labels analytics count, never text."""

from __future__ import annotations

from typing import Any

# Anonymised conversations all belong to this one placeholder customer (no bank reference).
ANONYMOUS_CUSTOMER_ID = "00000000-0000-0000-0000-000000000000"


def reduce_nlu(nlu: Any) -> dict[str, Any] | None:
    """Language, intent (name, confidence), emotion (label, intensity) and risk types only."""
    if not isinstance(nlu, dict):
        return None
    intent = nlu.get("intent") if isinstance(nlu.get("intent"), dict) else None
    emotion = nlu.get("emotion") if isinstance(nlu.get("emotion"), dict) else None
    found = nlu.get("risk")
    risk = found if isinstance(found, list) else []
    return {
        "language": nlu.get("language"),
        "intent": None
        if intent is None
        else {"name": intent.get("name"), "confidence": intent.get("confidence")},
        "emotion": None
        if emotion is None
        else {"label": emotion.get("label"), "intensity": emotion.get("intensity")},
        "risk": sorted({str(r.get("type")) for r in risk if isinstance(r, dict)}),
        "reduced": True,
    }


def reduce_message_meta(meta: dict[str, Any] | None) -> dict[str, Any]:
    """A message's meta with the NLU record reduced and citations dropped (reply kind kept)."""
    meta = dict(meta or {})
    out: dict[str, Any] = {}
    if "kind" in meta:
        out["kind"] = meta["kind"]
    if "nlu" in meta:
        out["nlu"] = reduce_nlu(meta["nlu"])
    if "redacted" in meta:
        out["redacted"] = meta["redacted"]
    return out


def reduce_packet(packet: dict[str, Any] | None) -> dict[str, Any]:
    """A handoff packet without the customer: no summary, words, facts, evidence or profile."""
    packet = dict(packet or {})
    keep: dict[str, Any] = {k: packet[k] for k in ("trigger", "queue", "intents", "next_step") if k in packet}
    keep["emotions"] = [
        {"label": e.get("label"), "intensity": e.get("intensity")} for e in packet.get("emotions") or []
    ]
    keep["risk"] = sorted({str(r.get("type")) for r in packet.get("risk") or []})
    return keep
