"""The vault: raw values behind masked spans, encrypted, revealed one at a time with a stated reason.

    values = list_values(sessions, message_id)          # what can be revealed (masked forms only)
    shown = reveal_value(sessions, keyring, message_id=m, span_index=0,
                         actor="agent:a.lee", reason="customer asked to confirm the card")

`reveal_value` checks its input and decrypts; it does not authorise or audit. The caller (the
agent console's route) checks the actor's role first and writes the audit record with the actor,
the reason and the returned `RevealedValue` (never its `value`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.db.session import reading
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.masking import Masked
from helixdesk.privacy.models import PiiValue

log = logging.getLogger(__name__)

MIN_REASON_CHARS = 4
NOT_KEPT = frozenset({"secret"})  # codes, passwords, PINs and CVVs are never kept, not even encrypted


class PiiValueNotFoundError(NotFoundError):
    code = "pii_value_not_found"


class RevealReasonRequiredError(ValidationFailedError):
    code = "reveal_reason_required"


class RevealActorRequiredError(ValidationFailedError):
    code = "reveal_actor_required"


@dataclass(frozen=True, slots=True)
class MaskedValue:
    message_id: str
    span_index: int
    type: str
    masked: str
    masked_start: int
    masked_end: int


@dataclass(frozen=True, slots=True)
class RevealedValue:
    message_id: str
    span_index: int
    type: str
    masked: str
    value: str
    actor: str
    reason: str
    revealed_at: datetime


def vault_aad(message_id: str, span_index: int) -> str:
    """The associated data that binds a vault token to its row."""
    return f"pii_values:{message_id}:{span_index}"


def store_values(s: Session, keyring: Keyring, *, message_id: str, masked: Masked) -> int:
    """Keep the raw value of every masked span of one message, encrypted (inside the caller's transaction)."""
    kept = 0
    for index, span in enumerate(masked.spans):
        if span.type in NOT_KEPT:
            continue
        s.add(
            PiiValue(
                message_id=message_id,
                span_index=index,
                type=span.type,
                masked=span.masked[:128],
                masked_start=span.masked_start,
                masked_end=span.masked_end,
                ciphertext=keyring.encrypt(span.raw, aad=vault_aad(message_id, index)),
                key_id=keyring.active,
            )
        )
        kept += 1
    return kept


def forget_values(s: Session, message_id: str) -> None:
    """Drop the vault rows of a message whose text is no longer shown (e.g. replaced by a code mask)."""
    s.execute(delete(PiiValue).where(PiiValue.message_id == message_id))


def list_values(sessions: sessionmaker[Session], message_id: str) -> list[MaskedValue]:
    """The revealable spans of one message, in order (masked forms only)."""
    with reading(sessions) as s:
        rows = s.scalars(
            select(PiiValue).where(PiiValue.message_id == message_id).order_by(PiiValue.span_index)
        )
        return [
            MaskedValue(r.message_id, r.span_index, r.type, r.masked, r.masked_start, r.masked_end)
            for r in rows
        ]


def reveal_value(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    *,
    message_id: str,
    span_index: int,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> RevealedValue:
    """Decrypt one kept value. The caller has authorised `actor` and audits the returned record."""
    actor = actor.strip()
    reason = " ".join(reason.split())
    if not actor:
        raise RevealActorRequiredError("say who reveals the value (actor)")
    if len(reason) < MIN_REASON_CHARS:
        raise RevealReasonRequiredError(
            f"state why the value is needed (a reason of at least {MIN_REASON_CHARS} characters)"
        )
    with reading(sessions) as s:
        row = s.scalar(
            select(PiiValue).where(PiiValue.message_id == message_id, PiiValue.span_index == span_index)
        )
        if row is None:
            raise PiiValueNotFoundError(f"message {message_id} has no kept value at span {span_index}")
        value = keyring.decrypt(row.ciphertext, aad=vault_aad(message_id, span_index))
        revealed = RevealedValue(
            message_id=message_id,
            span_index=span_index,
            type=row.type,
            masked=row.masked,
            value=value,
            actor=actor,
            reason=reason,
            revealed_at=now or datetime.now(UTC),
        )
    log.info("revealed the %s at span %d of message %s for %s", revealed.type, span_index, message_id, actor)
    return revealed
