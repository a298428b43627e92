"""wechat conversations: the account and openid of each WeChat conversation, for good

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_conversations",
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("account", sa.String(length=8), nullable=False),
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_wechat_conversations_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_wechat_conversations")),
    )
    # The conversations each openid points at now (earlier ones were not recorded before).
    op.execute(
        "INSERT INTO wechat_conversations (conversation_id, account, openid, created_at) "
        "SELECT u.conversation_id, u.account, u.openid, u.created_at FROM wechat_users u "
        "JOIN conversations c ON c.id = u.conversation_id"
    )


def downgrade() -> None:
    op.drop_table("wechat_conversations")
