"""lifecycle touches: what each strategy gave a customer (or held back from its holdout group)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_touches",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=False),
        sa.Column("strategy_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("trigger", sa.String(length=24), nullable=True),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("arm", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=48), nullable=True),
        sa.Column("value_minor", sa.Integer(), nullable=True),
        sa.Column("goodwill_credit_id", sa.String(length=36), nullable=True),
        sa.Column("notice_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_lifecycle_touches_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_lifecycle_touches_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_touches")),
        sa.UniqueConstraint("key", name=op.f("uq_lifecycle_touches_key")),
    )
    for column in ("strategy_id", "customer_id", "conversation_id", "created_at"):
        op.create_index(op.f(f"ix_lifecycle_touches_{column}"), "lifecycle_touches", [column], unique=False)


def downgrade() -> None:
    for column in ("strategy_id", "customer_id", "conversation_id", "created_at"):
        op.drop_index(op.f(f"ix_lifecycle_touches_{column}"), table_name="lifecycle_touches")
    op.drop_table("lifecycle_touches")
