"""Errors of the audit log (stable codes; see docs/security.md)."""

from __future__ import annotations

from helixdesk.core.errors import AppError, ValidationFailedError


class AuditInvalidError(ValidationFailedError):
    """An entry that cannot be recorded (unknown actor kind, malformed action name, details not JSON)."""

    code = "audit_invalid"


class AuditChainBrokenError(AppError):
    """`audit verify` (or a prune) found a row that breaks the chain; `seq` names the first one."""

    code = "audit_chain_broken"
    http_status = 500

    def __init__(self, detail: str, *, seq: int | None) -> None:
        super().__init__(detail)
        self.seq = seq
