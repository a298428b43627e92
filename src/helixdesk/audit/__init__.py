"""The tamper-evident audit log: who did what to which customer data, when, why and from where.

`AuditLog.record(session, actor=Actor..., action=..., target=Target...)` appends inside the
caller's transaction; `search` lists entries; `verify_chain` checks the hash chain. See
docs/security.md.
"""

from helixdesk.audit.errors import AuditChainBrokenError, AuditInvalidError
from helixdesk.audit.service import (
    ACTOR_KINDS,
    Actor,
    AuditEntry,
    AuditLog,
    AuditQuery,
    Target,
    api_key_id,
    search,
)
from helixdesk.audit.verify import ChainReport, PruneResult, prune_before, verify_chain

__all__ = [
    "ACTOR_KINDS",
    "Actor",
    "AuditChainBrokenError",
    "AuditEntry",
    "AuditInvalidError",
    "AuditLog",
    "AuditQuery",
    "ChainReport",
    "PruneResult",
    "Target",
    "api_key_id",
    "prune_before",
    "search",
    "verify_chain",
]
