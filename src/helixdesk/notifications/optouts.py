"""Each customer's notification choices: the purposes they want no messages for.

    optouts = OptOuts(sessions=sessions, bank=bank, audit=audit)
    optouts.opt_out(Actor.staff("u-7"), "C000042", "service_notice", note="asked on the phone")
    optouts.opt_in(Actor.staff("u-7"), "C000042", "service_notice")
    opted_out(s, ["C000042", "C000043"], "service_notice")      # -> {"C000042"}

Staff record a choice on the customer's request; every change is audited (`notification.opted_out`,
`notification.opted_in`, target the customer) in the same transaction. Whatever sends a message of a
purpose asks `opted_out` right before it sends, so a choice is honoured from the moment it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.bank.connector import BankConnector
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.notifications.models import OptOutRow

# What a customer may say no to: `service_notice`, the notices of an incident that affects them.
PURPOSES: tuple[str, ...] = ("service_notice",)


class InvalidOptOutError(ValidationFailedError):
    """An unknown purpose or a note too long."""

    code = "invalid_opt_out"


class OptOutCustomerNotFoundError(NotFoundError):
    code = "customer_not_found"


def opted_out(s: Session, customer_refs: Iterable[str], purpose: str) -> set[str]:
    """Which of these customers said no to messages of `purpose` (in the caller's session)."""
    refs = list(dict.fromkeys(customer_refs))
    found: set[str] = set()
    for start in range(0, len(refs), 500):
        found |= set(
            s.scalars(
                select(OptOutRow.customer_ref).where(
                    OptOutRow.purpose == purpose, OptOutRow.customer_ref.in_(refs[start : start + 500])
                )
            )
        )
    return found


class OptOuts:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        bank: BankConnector,
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._bank = bank
        self._audit = audit
        self.clock = clock

    def of(self, customer_ref: str) -> dict[str, Any]:
        """The customer's choices: every purpose with `opted_out` and, when so, since when and why."""
        self._known(customer_ref)
        with reading(self._sessions) as s:
            rows = {
                r.purpose: r
                for r in s.scalars(select(OptOutRow).where(OptOutRow.customer_ref == customer_ref))
            }
        return {
            "customer_ref": customer_ref,
            "purposes": [
                {
                    "purpose": p,
                    "opted_out": p in rows,
                    "since": rows[p].created_at.isoformat() if p in rows else None,
                    "note": rows[p].note if p in rows else "",
                }
                for p in PURPOSES
            ],
        }

    def opt_out(self, by: Actor, customer_ref: str, purpose: str, *, note: str = "") -> dict[str, Any]:
        """Record that the customer wants no messages of `purpose` (again: nothing changes)."""
        _check(purpose, note)
        self._known(customer_ref)
        with transaction(self._sessions) as s:
            exists = s.scalar(
                select(OptOutRow.id).where(
                    OptOutRow.customer_ref == customer_ref, OptOutRow.purpose == purpose
                )
            )
            if exists is None:
                s.add(
                    OptOutRow(
                        customer_ref=customer_ref,
                        purpose=purpose,
                        note=note.strip(),
                        created_by=by.id[:128],
                        created_at=self.clock(),
                    )
                )
                self._record(s, by, "notification.opted_out", customer_ref, purpose, note)
        return self.of(customer_ref)

    def opt_in(self, by: Actor, customer_ref: str, purpose: str, *, note: str = "") -> dict[str, Any]:
        """The customer wants messages of `purpose` again (not opted out: nothing changes)."""
        _check(purpose, note)
        self._known(customer_ref)
        with transaction(self._sessions) as s:
            gone = s.execute(
                delete(OptOutRow).where(OptOutRow.customer_ref == customer_ref, OptOutRow.purpose == purpose)
            )
            if gone.rowcount:  # type: ignore[attr-defined]
                self._record(s, by, "notification.opted_in", customer_ref, purpose, note)
        return self.of(customer_ref)

    def _known(self, customer_ref: str) -> None:
        if self._bank.get_customer(customer_ref) is None:
            raise OptOutCustomerNotFoundError(f"the bank has no customer {customer_ref!r}")

    def _record(self, s: Session, by: Actor, action: str, ref: str, purpose: str, note: str) -> None:
        if self._audit is not None:
            self._audit.record(
                s,
                actor=by,
                action=action,
                target=Target("customer", ref),
                reason=note.strip()[:500],
                details={"purpose": purpose},
                customer_ref=ref,
            )


def _check(purpose: str, note: str) -> None:
    if purpose not in PURPOSES:
        raise InvalidOptOutError(f"purpose must be one of {', '.join(PURPOSES)}, not {purpose!r}")
    if len(note) > 200:
        raise InvalidOptOutError("note: at most 200 characters")
