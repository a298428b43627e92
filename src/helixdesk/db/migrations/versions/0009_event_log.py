"""event log (transactional outbox), consumer offsets, leases, turn claims

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helixdesk.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("occurred_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("log_seq", sa.BigInteger(), nullable=True),
        sa.Column("published_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_event_log")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_log_event_id")),
        sa.UniqueConstraint("log_seq", name=op.f("uq_event_log_log_seq")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_log_unpublished",
            ["position"],
            unique=False,
            postgresql_where=sa.text("published_at IS NULL"),
            sqlite_where=sa.text("published_at IS NULL"),
        )
        batch_op.create_index("ix_event_log_conversation", ["conversation_id", "position"], unique=False)

    op.create_table(
        "consumer_offsets",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("log_seq", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", name=op.f("pk_consumer_offsets")),
    )
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=96), nullable=False),
        sa.Column("expires_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("turn_message_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("turn_expires_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_column("turn_expires_at")
        batch_op.drop_column("turn_message_id")
    op.drop_table("leases")
    op.drop_table("consumer_offsets")
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.drop_index("ix_event_log_conversation")
        batch_op.drop_index("ix_event_log_unpublished")
    op.drop_table("event_log")
