"""Tables of the learning loop: the labelling queue and its labels, the dataset versions with their
examples, the model registry, and shadow runs with their disagreements.

Queue items, dataset examples and disagreements belong to a conversation (a foreign key with
`ON DELETE CASCADE`): erasing a customer (`helixdesk customers erase`) removes them with the
conversation. A dataset version records how many examples it was made with, so an erased one shows.
The text an annotator reads is the stored message's (masked); only a dataset version keeps a copy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from helixdesk.core.clock import utcnow
from helixdesk.core.ids import new_id
from helixdesk.db.base import Base, UTCDateTime


class LabelItem(Base):
    """A customer message waiting to be labelled (or labelled): why it was sampled, what the model
    made of it, what an agent said when flagging it, and the label it was resolved to.

    `status`: `open` (waiting for its labels), `second` (one label disagreed with the agent's flag:
    waiting for a second annotator), `disputed` (two annotators differ: waiting for a supervisor),
    `resolved` (`final` holds the label, `resolution` says how: `single`, `agreement`, `supervisor`).
    """

    __tablename__ = "learning_items"
    __table_args__ = (Index("ix_learning_items_status_created", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), unique=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(24))  # the first reason it was sampled for
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    predicted_intent: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float | None] = mapped_column(Float)
    needs: Mapped[int] = mapped_column(Integer, default=1)  # annotators' labels before resolving
    status: Mapped[str] = mapped_column(String(16), default="open")
    flagged_by: Mapped[str | None] = mapped_column(String(36))
    flag_intent: Mapped[str | None] = mapped_column(String(64))
    flag_note: Mapped[str] = mapped_column(String(500), default="")
    final: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Label(Base):
    """One person's label of an item: the intent, the emotion and the entity spans (offsets into
    the masked text), and whether it changed what the model said."""

    __tablename__ = "learning_labels"
    __table_args__ = (UniqueConstraint("item_id", "annotator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("learning_items.id", ondelete="CASCADE"), index=True)
    annotator_id: Mapped[str] = mapped_column(String(36))
    role: Mapped[str] = mapped_column(String(16))  # annotator or supervisor
    intent: Mapped[str] = mapped_column(String(64))
    emotion: Mapped[str] = mapped_column(String(16))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Dataset(Base):
    """An immutable version of the labels: `d1`, `d2`, ... with the SHA-256 of its content."""

    __tablename__ = "learning_datasets"

    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    examples: Mapped[int] = mapped_column(Integer)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DatasetExample(Base):
    """One labelled message of a dataset version, copied when the version was made, with where it
    came from (provenance)."""

    __tablename__ = "learning_dataset_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset: Mapped[str] = mapped_column(
        ForeignKey("learning_datasets.version", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(36))
    item_id: Mapped[str] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    intent: Mapped[str] = mapped_column(String(64))
    emotion: Mapped[str] = mapped_column(String(16))
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    labelled_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    resolution: Mapped[str] = mapped_column(String(16))
    labelled_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModelVersionRow(Base):
    """A model in the registry: its artefact folder, the data it was trained on, its report on the
    fixed regression set, and where it stands (`candidate`, `live`, `retired`). `pinned`: made live
    by a promotion or a rollback, so the folder's `LIVE` file names it."""

    __tablename__ = "learning_models"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="intent")
    status: Mapped[str] = mapped_column(String(16), index=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    folder: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # adopted, trained or registered
    data_sha256: Mapped[str] = mapped_column(String(64))
    pack_sha256: Mapped[str | None] = mapped_column(String(64))
    dataset: Mapped[str | None] = mapped_column(String(16))
    dataset_sha256: Mapped[str | None] = mapped_column(String(64))
    examples: Mapped[int | None] = mapped_column(Integer)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    previous: Mapped[str | None] = mapped_column(String(64))  # live before this one was made live
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    promoted_by: Mapped[str | None] = mapped_column(String(80))
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ShadowRun(Base):
    """A candidate parsing live traffic beside the live model, from log position `after_seq` on."""

    __tablename__ = "learning_shadows"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(
        ForeignKey("learning_models.version", ondelete="CASCADE"), index=True
    )
    live_version: Mapped[str | None] = mapped_column(String(64))
    after_seq: Mapped[int] = mapped_column(BigInteger)
    parsed: Mapped[int] = mapped_column(Integer, default=0)
    disagreed: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stopped_by: Mapped[str | None] = mapped_column(String(80))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Disagreement(Base):
    """A customer message the candidate understood differently from the live model."""

    __tablename__ = "learning_disagreements"
    __table_args__ = (UniqueConstraint("shadow_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shadow_id: Mapped[int] = mapped_column(ForeignKey("learning_shadows.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(36))
    live_intent: Mapped[str | None] = mapped_column(String(64))
    live_confidence: Mapped[float | None] = mapped_column(Float)
    candidate_intent: Mapped[str] = mapped_column(String(64))
    candidate_confidence: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
