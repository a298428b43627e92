"""learning: the labelling queue and its labels, dataset versions, the model registry, shadow runs

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-04 22:06:38
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from helixdesk.db.base import UTCDateTime

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_datasets",
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_learning_datasets")),
        sa.UniqueConstraint("number", name=op.f("uq_learning_datasets_number")),
    )
    op.create_table(
        "learning_models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=False),
        sa.Column("pack_sha256", sa.String(length=64), nullable=True),
        sa.Column("dataset", sa.String(length=16), nullable=True),
        sa.Column("dataset_sha256", sa.String(length=64), nullable=True),
        sa.Column("examples", sa.Integer(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("previous", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("promoted_by", sa.String(length=80), nullable=True),
        sa.Column("promoted_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_learning_models")),
    )
    op.create_index(op.f("ix_learning_models_status"), "learning_models", ["status"], unique=False)
    op.create_table(
        "learning_shadows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("live_version", sa.String(length=64), nullable=True),
        sa.Column("after_seq", sa.BigInteger(), nullable=False),
        sa.Column("parsed", sa.Integer(), nullable=False),
        sa.Column("disagreed", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=80), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_by", sa.String(length=80), nullable=True),
        sa.Column("stopped_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["version"],
            ["learning_models.version"],
            name=op.f("fk_learning_shadows_version_learning_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_shadows")),
    )
    op.create_index(op.f("ix_learning_shadows_version"), "learning_shadows", ["version"], unique=False)
    op.create_table(
        "learning_dataset_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("emotion", sa.String(length=16), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("labelled_by", sa.JSON(), nullable=False),
        sa.Column("resolution", sa.String(length=16), nullable=False),
        sa.Column("labelled_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_learning_dataset_examples_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["dataset"],
            ["learning_datasets.version"],
            name=op.f("fk_learning_dataset_examples_dataset_learning_datasets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_dataset_examples")),
    )
    op.create_index(
        op.f("ix_learning_dataset_examples_conversation_id"),
        "learning_dataset_examples",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_learning_dataset_examples_dataset"), "learning_dataset_examples", ["dataset"], unique=False
    )
    op.create_table(
        "learning_disagreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shadow_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("live_intent", sa.String(length=64), nullable=True),
        sa.Column("live_confidence", sa.Float(), nullable=True),
        sa.Column("candidate_intent", sa.String(length=64), nullable=False),
        sa.Column("candidate_confidence", sa.Float(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_learning_disagreements_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shadow_id"],
            ["learning_shadows.id"],
            name=op.f("fk_learning_disagreements_shadow_id_learning_shadows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_disagreements")),
        sa.UniqueConstraint(
            "shadow_id", "message_id", name=op.f("uq_learning_disagreements_shadow_id_message_id")
        ),
    )
    op.create_index(
        op.f("ix_learning_disagreements_conversation_id"),
        "learning_disagreements",
        ["conversation_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_learning_disagreements_shadow_id"), "learning_disagreements", ["shadow_id"], unique=False
    )
    op.create_table(
        "learning_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("needs", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flagged_by", sa.String(length=36), nullable=True),
        sa.Column("flag_intent", sa.String(length=64), nullable=True),
        sa.Column("flag_note", sa.String(length=500), nullable=False),
        sa.Column("final", sa.JSON(), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolved_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_learning_items_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_learning_items_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_items")),
        sa.UniqueConstraint("message_id", name=op.f("uq_learning_items_message_id")),
    )
    op.create_index(
        op.f("ix_learning_items_conversation_id"), "learning_items", ["conversation_id"], unique=False
    )
    op.create_index(
        "ix_learning_items_status_created", "learning_items", ["status", "created_at"], unique=False
    )
    op.create_table(
        "learning_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("annotator_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=64), nullable=False),
        sa.Column("emotion", sa.String(length=16), nullable=False),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["learning_items.id"],
            name=op.f("fk_learning_labels_item_id_learning_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_labels")),
        sa.UniqueConstraint("item_id", "annotator_id", name=op.f("uq_learning_labels_item_id_annotator_id")),
    )
    op.create_index(op.f("ix_learning_labels_item_id"), "learning_labels", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_learning_labels_item_id"), table_name="learning_labels")
    op.drop_table("learning_labels")
    op.drop_index("ix_learning_items_status_created", table_name="learning_items")
    op.drop_index(op.f("ix_learning_items_conversation_id"), table_name="learning_items")
    op.drop_table("learning_items")
    op.drop_index(op.f("ix_learning_disagreements_shadow_id"), table_name="learning_disagreements")
    op.drop_index(op.f("ix_learning_disagreements_conversation_id"), table_name="learning_disagreements")
    op.drop_table("learning_disagreements")
    op.drop_index(op.f("ix_learning_dataset_examples_dataset"), table_name="learning_dataset_examples")
    op.drop_index(
        op.f("ix_learning_dataset_examples_conversation_id"), table_name="learning_dataset_examples"
    )
    op.drop_table("learning_dataset_examples")
    op.drop_index(op.f("ix_learning_shadows_version"), table_name="learning_shadows")
    op.drop_table("learning_shadows")
    op.drop_index(op.f("ix_learning_models_status"), table_name="learning_models")
    op.drop_table("learning_models")
    op.drop_table("learning_datasets")
