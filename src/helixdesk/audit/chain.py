"""The hash chain: canonical serialisation of a row and its keyed hash.

A row's hash is HMAC-SHA256(audit key, canonical bytes) where the canonical bytes are the compact
JSON array (UTF-8, no spaces, fixed field order) of:

    [version, seq, at, actor_kind, actor_id, actor_ip, channel, process, action,
     target_kind, target_id, customer_ref, reason, details, prev_hash]

with `at` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds) and `details` as the stored canonical
JSON text. Anyone holding the key can recompute every hash; without it an edited, inserted or
appended row cannot be given a valid hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any, Protocol

VERSION = 1
GENESIS = "0" * 64
_KEY_LABEL = b"helixdesk audit chain v1"


def derive_key(secret: bytes) -> bytes:
    """The chain key derived from a server secret (a label keeps it apart from other HMAC uses)."""
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ChainRow(Protocol):
    """An `audit_log` row: the ORM object when appending, a plain result row when verifying."""

    @property
    def seq(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor_kind(self) -> str: ...
    @property
    def actor_id(self) -> str: ...
    @property
    def actor_ip(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def process(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def target_kind(self) -> str: ...
    @property
    def target_id(self) -> str: ...
    @property
    def customer_ref(self) -> str | None: ...
    @property
    def reason(self) -> str: ...
    @property
    def details(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...


def canonical(row: ChainRow) -> bytes:
    fields = [
        VERSION,
        row.seq,
        timestamp(row.at),
        row.actor_kind,
        row.actor_id,
        row.actor_ip,
        row.channel,
        row.process,
        row.action,
        row.target_kind,
        row.target_id,
        row.customer_ref,
        row.reason,
        row.details,
        row.prev_hash,
    ]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(key: bytes, row: ChainRow) -> str:
    return hmac.new(key, canonical(row), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, hash_: str) -> str:
    return hmac.new(key, f"head:{seq}:{hash_}".encode(), hashlib.sha256).hexdigest()
