"""incident campaigns: notices to the affected customers, and each customer's notification opt-outs

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_ref", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_opt_outs")),
        sa.UniqueConstraint(
            "customer_ref", "purpose", name=op.f("uq_notification_opt_outs_customer_ref_purpose")
        ),
    )
    op.create_table(
        "incident_campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("running_key", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.String(length=32), nullable=True),
        sa.Column("targeting_done", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("started_by_name", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_campaigns_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_campaigns")),
        sa.UniqueConstraint("running_key", name=op.f("uq_incident_campaigns_running_key")),
    )
    op.create_index(
        op.f("ix_incident_campaigns_incident_id"), "incident_campaigns", ["incident_id"], unique=False
    )
    op.create_table(
        "incident_campaign_notices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("customer_ref", sa.String(length=32), nullable=False),
        sa.Column("once_key", sa.String(length=80), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["incident_campaigns.id"],
            name=op.f("fk_incident_campaign_notices_campaign_id_incident_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_campaign_notices")),
        sa.UniqueConstraint("once_key", name=op.f("uq_incident_campaign_notices_once_key")),
    )
    op.create_index(
        "ix_incident_campaign_notices_campaign_status",
        "incident_campaign_notices",
        ["campaign_id", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_incident_campaign_notices_attempted_at"),
        "incident_campaign_notices",
        ["attempted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_campaign_notices_attempted_at"), table_name="incident_campaign_notices")
    op.drop_index("ix_incident_campaign_notices_campaign_status", table_name="incident_campaign_notices")
    op.drop_table("incident_campaign_notices")
    op.drop_index(op.f("ix_incident_campaigns_incident_id"), table_name="incident_campaigns")
    op.drop_table("incident_campaigns")
    op.drop_table("notification_opt_outs")
