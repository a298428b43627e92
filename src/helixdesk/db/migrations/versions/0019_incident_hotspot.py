"""incident hotspot: the insight hotspot an incident was opened from, and spikes judged not incidents

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 15:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hotspot_id", sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_hotspot_id"), ["hotspot_id"], unique=False)
    op.create_table(
        "incident_spike_dismissals",
        sa.Column("hotspot_id", sa.String(length=16), nullable=False),
        sa.Column("dismissed_by", sa.String(length=128), nullable=False),
        sa.Column("dismissed_by_name", sa.String(length=128), nullable=False),
        sa.Column("dismissed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("hotspot_id", name=op.f("pk_incident_spike_dismissals")),
    )


def downgrade() -> None:
    op.drop_table("incident_spike_dismissals")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_hotspot_id"))
        batch_op.drop_column("hotspot_id")
