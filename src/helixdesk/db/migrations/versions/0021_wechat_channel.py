"""wechat channel: openids and their binding to bank customers, and messages sent out

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=8), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=True),
        sa.Column("customer_ref", sa.String(length=32), nullable=True),
        sa.Column("bind_step", sa.String(length=8), nullable=True),
        sa.Column("bind_ref", sa.String(length=32), nullable=True),
        sa.Column("bind_language", sa.String(length=8), nullable=True),
        sa.Column("bound_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_users")),
        sa.UniqueConstraint("account", "openid", name=op.f("uq_wechat_users_account_openid")),
    )
    op.create_index(op.f("ix_wechat_users_customer_ref"), "wechat_users", ["customer_ref"])
    op.create_table(
        "wechat_deliveries",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_wechat_deliveries")),
    )
    op.create_index(op.f("ix_wechat_deliveries_conversation_id"), "wechat_deliveries", ["conversation_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_wechat_deliveries_conversation_id"), table_name="wechat_deliveries")
    op.drop_table("wechat_deliveries")
    op.drop_index(op.f("ix_wechat_users_customer_ref"), table_name="wechat_users")
    op.drop_table("wechat_users")
