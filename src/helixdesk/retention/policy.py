"""How long each data class is kept (from the `retention_*_days` settings; 0 keeps it for ever)."""

from __future__ import annotations

from dataclasses import dataclass

from helixdesk.core.settings import Settings

# data class -> what happens when it expires
DATA_CLASSES: dict[str, str] = {
    "nlu": "NLU records of messages cut to language, intent and emotion (no text, entities or scores)",
    "conversations": "conversation text removed, the conversation unlinked from its customer "
    "(counts, timings, intents kept); its dialogue state, issues and codes deleted",
    "dialogue_state": "dialogue state of idle conversations deleted",
    "verification": "one-time-code challenges, failed attempts and ended lock-outs deleted",
    "outbox": "demo outbox notifications deleted",
    "action_records": "action run records and idempotency results deleted",
    "audit": "audit entries deleted as one verified prefix of the chain, anchored by an audit.pruned entry",
}


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    days: dict[str, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            days={
                "nlu": settings.retention_nlu_days,
                "conversations": settings.retention_conversations_days,
                "dialogue_state": settings.retention_dialogue_state_days,
                "verification": settings.retention_verification_days,
                "outbox": settings.retention_outbox_days,
                "action_records": settings.retention_action_records_days,
                "audit": settings.retention_audit_days,
            }
        )
