"""Key rotation: re-encrypt every encrypted column to the active key, in batches, while the server runs.

Each batch is its own short transaction, and each row is written only if it still holds the value
that was read (compare-and-set), so a row changed meanwhile by the running server is never
overwritten; it is picked up by the next run. Running it again finds nothing to do (idempotent).
Plain-text values stored before encryption was turned on are encrypted on the way.
A value under a key this server does not know stops the run with `encryption_key_unknown`; every
batch before it stays done.

Every table with encrypted columns is listed once, in `helixdesk.edge.encrypted.ENCRYPTED_COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.db.session import reading, transaction
from helixdesk.privacy.crypto import PREFIX, Keyring, is_encrypted, key_id_of
from helixdesk.privacy.models import PiiValue
from helixdesk.privacy.vault import vault_aad


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    """A column of `hx1:` tokens: how to find its rows and the associated data of each value."""

    name: str
    table: Table
    pk: str
    column: str
    aad: Callable[[Any], str]  # from the row (pk and any other columns it needs)
    key_id_column: str | None = None

    def needs_rotation(self, keyring: Keyring) -> ColumnElement[bool]:
        return ~self.table.c[self.column].startswith(f"{PREFIX}{keyring.active}:", autoescape=True)


def vault_column() -> EncryptedColumn:
    """The vault's column of raw personal values."""
    return EncryptedColumn(
        "pii_values.ciphertext",
        PiiValue.__table__,  # type: ignore[arg-type]
        "id",
        "ciphertext",
        lambda row: vault_aad(row.message_id, row.span_index),
        key_id_column="key_id",
    )


@dataclass(frozen=True, slots=True)
class ColumnStatus:
    name: str
    by_key: dict[str, int]  # key id (or "plain text") → rows
    pending: int  # rows not under the active key


def status(
    sessions: sessionmaker[Session], keyring: Keyring, *, columns: Sequence[EncryptedColumn]
) -> list[ColumnStatus]:
    """How many values each key encrypts, per encrypted column."""
    out: list[ColumnStatus] = []
    with reading(sessions) as s:
        for col in columns:
            by_key: dict[str, int] = {}
            for value in s.scalars(select(col.table.c[col.column]).execution_options(yield_per=2000)):
                kid = key_id_of(value) if is_encrypted(value) else "plain text"
                by_key[kid] = by_key.get(kid, 0) + 1
            pending = sum(n for kid, n in by_key.items() if kid != keyring.active)
            out.append(ColumnStatus(col.name, dict(sorted(by_key.items())), pending))
    return out


def pending_count(
    sessions: sessionmaker[Session], keyring: Keyring, *, columns: Sequence[EncryptedColumn]
) -> int:
    with reading(sessions) as s:
        return sum(
            int(s.scalar(select(func.count()).select_from(c.table).where(c.needs_rotation(keyring))) or 0)
            for c in columns
        )


def rotate(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    *,
    columns: Sequence[EncryptedColumn],
    batch_size: int = 500,
    progress: Callable[[int], None] = lambda _n: None,
) -> int:
    """Re-encrypt every value not under the active key; returns how many were rewritten.

    `progress(n)` is called after each batch with the number of rows it handled.
    """
    done = 0
    for col in columns:
        done += _rotate_column(sessions, keyring, col, batch_size=batch_size, progress=progress)
    return done


def _rotate_column(
    sessions: sessionmaker[Session],
    keyring: Keyring,
    col: EncryptedColumn,
    *,
    batch_size: int,
    progress: Callable[[int], None],
) -> int:
    pk = col.table.c[col.pk]
    value_col = col.table.c[col.column]
    done = 0
    last: Any = None
    while True:
        query = select(col.table).where(col.needs_rotation(keyring)).order_by(pk).limit(batch_size)
        if last is not None:
            query = query.where(pk > last)
        with transaction(sessions) as s:
            rows = s.execute(query).all()
            for row in rows:
                old = row._mapping[col.column]
                aad = col.aad(row)
                new = keyring.encrypt(keyring.reveal(old, aad=aad), aad=aad)
                values: dict[str, Any] = {col.column: new}
                if col.key_id_column is not None:
                    values[col.key_id_column] = keyring.active
                changed = s.execute(
                    update(col.table).where(pk == row._mapping[col.pk], value_col == old).values(**values)
                )
                done += changed.rowcount or 0  # type: ignore[attr-defined]
        if not rows:
            return done
        last = rows[-1]._mapping[col.pk]
        progress(len(rows))
