"""drift monitoring: daily NLU figures and tokens, judgements, alarms, training references, retraining runs

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import helixdesk.db.base

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drift_alarms",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("reference", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("reference_kind", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=36), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drift_alarms")),
        sa.UniqueConstraint("day", "scope", "measure", name=op.f("uq_drift_alarms_day_scope_measure")),
    )
    with op.batch_alter_table("drift_alarms", schema=None) as batch_op:
        batch_op.create_index("ix_drift_alarms_status", ["status", "raised_at"], unique=False)

    op.create_table(
        "drift_checks",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("reference_kind", sa.String(length=16), nullable=False),
        sa.Column("reference_first", sa.Date(), nullable=True),
        sa.Column("reference_last", sa.Date(), nullable=True),
        sa.Column("reference_messages", sa.Integer(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("judged_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "scope", name=op.f("pk_drift_checks")),
    )
    op.create_table(
        "drift_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("oos", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("confidence_sum", sa.Float(), nullable=False),
        sa.Column("confidence_squares", sa.Float(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("intents", sa.JSON(), nullable=False),
        sa.Column("updated_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "language", name=op.f("pk_drift_days")),
    )
    op.create_table(
        "drift_references",
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("created_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("model_version", name=op.f("pk_drift_references")),
    )
    op.create_table(
        "drift_retrain_runs",
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("started_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", helixdesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("candidate", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("week", name=op.f("pk_drift_retrain_runs")),
    )
    op.create_table(
        "drift_tokens",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "language", "token", name=op.f("pk_drift_tokens")),
    )


def downgrade() -> None:
    op.drop_table("drift_tokens")
    op.drop_table("drift_retrain_runs")
    op.drop_table("drift_references")
    op.drop_table("drift_days")
    op.drop_table("drift_checks")
    with op.batch_alter_table("drift_alarms", schema=None) as batch_op:
        batch_op.drop_index("ix_drift_alarms_status")

    op.drop_table("drift_alarms")
