"""social channel: direct-message authors and their conversation, and messages sent out

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "social_authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.String(length=128), nullable=False),
        sa.Column("author_name", sa.String(length=64), nullable=True),
        sa.Column("reply_to", sa.String(length=128), nullable=True),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_social_authors")),
        sa.UniqueConstraint("platform", "author_id", name=op.f("uq_social_authors_platform_author_id")),
    )
    op.create_index(op.f("ix_social_authors_conversation_id"), "social_authors", ["conversation_id"])
    op.create_table(
        "social_deliveries",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_social_deliveries")),
    )
    op.create_index(op.f("ix_social_deliveries_conversation_id"), "social_deliveries", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_social_deliveries_conversation_id"), table_name="social_deliveries")
    op.drop_table("social_deliveries")
    op.drop_index(op.f("ix_social_authors_conversation_id"), table_name="social_authors")
    op.drop_table("social_authors")
