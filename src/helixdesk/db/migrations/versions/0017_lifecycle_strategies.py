"""lifecycle strategies: the bank's active strategies and their versions

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_strategies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_strategies")),
    )
    op.create_table(
        "lifecycle_strategy_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("strategy_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("actor_name", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_strategy_versions")),
        sa.UniqueConstraint(
            "strategy_id", "version", name=op.f("uq_lifecycle_strategy_versions_strategy_id_version")
        ),
    )
    op.create_index(
        op.f("ix_lifecycle_strategy_versions_strategy_id"),
        "lifecycle_strategy_versions",
        ["strategy_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_lifecycle_strategy_versions_strategy_id"), table_name="lifecycle_strategy_versions"
    )
    op.drop_table("lifecycle_strategy_versions")
    op.drop_table("lifecycle_strategies")
