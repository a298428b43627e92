"""Versioned datasets of the labels: `snapshot` copies every resolved label into a new immutable
version (`d1`, `d2`, ...) with the SHA-256 of its content, its counts and each example's provenance
(conversation, message, why it was sampled, who labelled it, when, how it was resolved); `export`
writes a version in the pack's training-data format.

A snapshot of exactly the labels of the newest version makes no new one: it returns that version.
Erasing a customer removes their conversations' examples from every version (a foreign key); a
version then holds fewer examples than it records, and its content hash no longer matches.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.conversations.models import Message
from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.learning.errors import DatasetNotFoundError, NoLabelsError
from helixdesk.learning.models import Dataset, DatasetExample, Label, LabelItem
from helixdesk.nlu.intent.data import Example

EXPORT_FORMAT = "helixdesk.labels/1"


@dataclass(frozen=True, slots=True)
class DatasetView:
    version: str
    content_sha256: str
    examples: int
    present: int  # examples still held (fewer after an erasure)
    counts: dict[str, Any]
    note: str
    created_by: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _view(d: Dataset, present: int) -> DatasetView:
    return DatasetView(
        version=d.version,
        content_sha256=d.content_sha256,
        examples=d.examples,
        present=present,
        counts=dict(d.counts),
        note=d.note,
        created_by=d.created_by,
        created_at=d.created_at.isoformat(),
    )


def content_sha256(rows: Iterable[dict[str, Any]]) -> str:
    """The fingerprint of a dataset's content: each example's message, text and label, in order of
    message id, as canonical JSON."""
    digest = hashlib.sha256()
    for row in sorted(rows, key=lambda r: r["message_id"]):
        keep = {k: row[k] for k in ("message_id", "text", "intent", "emotion", "entities")}
        digest.update(json.dumps(keep, ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


class Datasets:
    def __init__(self, *, sessions: sessionmaker[Session], audit: AuditLog | None = None) -> None:
        self._sessions = sessions
        self._audit = audit

    def snapshot(self, *, actor: Actor, note: str = "") -> tuple[DatasetView, bool]:
        """A new version of every resolved label (or the newest, when nothing changed); returns it
        and whether it is new. Raises `NoLabelsError` when no label is resolved yet."""
        with transaction(self._sessions) as s:
            rows = _resolved(s)
            if not rows:
                raise NoLabelsError("no resolved labels yet: label some messages first")
            digest = content_sha256(rows)
            newest = s.scalar(select(Dataset).order_by(Dataset.number.desc()).limit(1))
            if newest is not None and newest.content_sha256 == digest:
                return _view(newest, _present(s, newest.version)), False
            number = (newest.number if newest is not None else 0) + 1
            dataset = Dataset(
                version=f"d{number}",
                number=number,
                content_sha256=digest,
                examples=len(rows),
                counts=_counts(rows),
                note=note.strip()[:500],
                created_by=f"{actor.kind}:{actor.id}",
                created_at=utcnow(),
            )
            s.add(dataset)
            s.flush()
            s.add_all(DatasetExample(dataset=dataset.version, **row) for row in rows)
            if self._audit is not None:
                self._audit.record(
                    s,
                    actor=actor,
                    action="learning.dataset.snapshot",
                    target=Target("dataset", dataset.version),
                    details={"examples": len(rows), "sha256": digest},
                )
            s.flush()
            return _view(dataset, len(rows)), True

    def versions(self) -> list[DatasetView]:
        with reading(self._sessions) as s:
            present = dict(
                s.execute(select(DatasetExample.dataset, func.count()).group_by(DatasetExample.dataset)).all()
            )
            found = s.scalars(select(Dataset).order_by(Dataset.number.desc()))
            return [_view(d, int(present.get(d.version, 0))) for d in found]

    def get(self, version: str) -> DatasetView:
        with reading(self._sessions) as s:
            d = s.get(Dataset, version)
            if d is None:
                raise DatasetNotFoundError(f"no dataset version {version!r}")
            return _view(d, _present(s, version))

    def newest(self) -> DatasetView | None:
        with reading(self._sessions) as s:
            d = s.scalar(select(Dataset).order_by(Dataset.number.desc()).limit(1))
            return _view(d, _present(s, d.version)) if d is not None else None

    def rows(self, version: str) -> list[dict[str, Any]]:
        """The examples of a version, with their provenance, in message order."""
        with reading(self._sessions) as s:
            if s.get(Dataset, version) is None:
                raise DatasetNotFoundError(f"no dataset version {version!r}")
            found = s.scalars(
                select(DatasetExample)
                .where(DatasetExample.dataset == version)
                .order_by(DatasetExample.message_id)
            )
            return [_row(e) for e in found]

    def intent_examples(self, version: str) -> list[Example]:
        """The version's messages with their intents, as intent training examples."""
        return [Example(r["text"], r["intent"], r["language"] or "") for r in self.rows(version)]

    def resolved_since(self, since: datetime) -> int:
        """How many labels were resolved at or after `since`."""
        with reading(self._sessions) as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(LabelItem)
                    .where(LabelItem.status == "resolved", LabelItem.resolved_at >= since)
                )
                or 0
            )

    def export(self, version: str, out: Path) -> dict[str, Any]:
        """Write the version into `out` in the pack's training-data format: `intents/NAME.yaml` as
        the pack's `nlu/intents/`, `emotions.yaml` as the pack's `nlu/emotions.yaml`,
        `entities.jsonl` (spans), `provenance.jsonl`, and `manifest.json`; returns the manifest."""
        view = self.get(version)
        rows = self.rows(version)
        out.mkdir(parents=True, exist_ok=True)
        (out / "intents").mkdir(exist_ok=True)
        by_intent: dict[str, dict[str, list[str]]] = {}
        by_emotion: dict[str, dict[str, list[str]]] = {}
        for r in rows:
            language = r["language"] or "unknown"
            by_intent.setdefault(r["intent"], {}).setdefault(language, []).append(r["text"])
            by_emotion.setdefault(r["emotion"], {}).setdefault(language, []).append(r["text"])
        for intent, examples in sorted(by_intent.items()):
            doc = {"intent": intent, "examples": examples}
            (out / "intents" / f"{intent}.yaml").write_text(_yaml(doc), encoding="utf-8")
        (out / "emotions.yaml").write_text(_yaml(dict(sorted(by_emotion.items()))), encoding="utf-8")
        _jsonl(
            out / "entities.jsonl",
            ({"text": r["text"], "language": r["language"], "entities": r["entities"]} for r in rows),
        )
        _jsonl(out / "provenance.jsonl", rows)
        manifest = {
            "format": EXPORT_FORMAT,
            "dataset": view.version,
            "content_sha256": view.content_sha256,
            "examples": view.examples,
            "present": view.present,
            "counts": view.counts,
            "created_by": view.created_by,
            "created_at": view.created_at,
            "exported_at": utcnow().isoformat(timespec="seconds"),
        }
        (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
        return manifest


def _resolved(s: Session) -> list[dict[str, Any]]:
    """Every resolved item with its message's (masked) text, as example rows with provenance."""
    found = s.execute(
        select(LabelItem, Message.text)
        .join(Message, Message.id == LabelItem.message_id)
        .where(LabelItem.status == "resolved", Message.text != "")
        .order_by(LabelItem.message_id)
    ).all()
    ids = [item.id for item, _ in found]
    by: dict[str, list[str]] = {}
    for item_id, who in s.execute(select(Label.item_id, Label.annotator_id).where(Label.item_id.in_(ids))):
        by.setdefault(item_id, []).append(who)
    rows = []
    for item, text in found:
        final = item.final or {}
        rows.append(
            {
                "conversation_id": item.conversation_id,
                "message_id": item.message_id,
                "item_id": item.id,
                "text": text,
                "language": item.language,
                "intent": str(final["intent"]),
                "emotion": str(final["emotion"]),
                "entities": list(final.get("entities") or []),
                "reasons": list(item.reasons),
                "labelled_by": sorted(by.get(item.id, [])),
                "resolution": item.resolution or "single",
                "labelled_at": item.resolved_at or item.updated_at,
            }
        )
    return rows


def _row(e: DatasetExample) -> dict[str, Any]:
    return {
        "conversation_id": e.conversation_id,
        "message_id": e.message_id,
        "item_id": e.item_id,
        "text": e.text,
        "language": e.language,
        "intent": e.intent,
        "emotion": e.emotion,
        "entities": list(e.entities),
        "reasons": list(e.reasons),
        "labelled_by": list(e.labelled_by),
        "resolution": e.resolution,
        "labelled_at": e.labelled_at.isoformat(),
    }


def _counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def count(values: Iterable[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    return {
        "intents": count(r["intent"] for r in rows),
        "emotions": count(r["emotion"] for r in rows),
        "entities": count(e["type"] for r in rows for e in r["entities"]),
        "reasons": count(reason for r in rows for reason in r["reasons"]),
        "languages": count(r["language"] or "unknown" for r in rows),
        "resolutions": count(r["resolution"] for r in rows),
    }


def _present(s: Session, version: str) -> int:
    return int(
        s.scalar(select(func.count()).select_from(DatasetExample).where(DatasetExample.dataset == version))
        or 0
    )


def _yaml(doc: Any) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)


def _jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
