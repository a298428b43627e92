"""Training a candidate for the registry, and the weekly proposal from new labels.

A candidate learns from the pack's own training examples plus a dataset version's labelled messages
(their masked text and intent), with the configuration `helixdesk nlu train` uses (the fast member:
sentence embeddings with character and word n-grams, a linear SVM, temperature scaling and the
out-of-scope threshold tuned on a held-out slice). About ten seconds on two cores for the pack's
~6,000 examples. The emotion and entity labels are kept in the datasets and exported; the registry
manages the intent model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog
from helixdesk.audit.keys import resolve_audit_key
from helixdesk.core.clock import utcnow
from helixdesk.core.settings import Settings
from helixdesk.learning.datasets import Datasets
from helixdesk.nlu.intent.artefacts import save_model
from helixdesk.nlu.intent.data import data_sha256, load_examples, pack_dir
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig

if TYPE_CHECKING:
    from helixdesk.learning.registry import ModelRegistry

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Trained:
    model: IntentClassifier
    manifest: dict[str, Any]
    folder: Path


def train_artefact(
    registry: ModelRegistry, *, dataset: str | None, seed: int = 0, progress: Progress | None = None
) -> Trained:
    """Train on the pack's examples plus `dataset`'s and write the artefact into the registry's folder."""
    pack_examples = load_examples(pack_dir(registry.pack))
    extra: dict[str, Any] = {
        "pack_sha256": data_sha256(pack_examples),
        "dataset": None,
        "dataset_sha256": None,
    }
    examples = list(pack_examples)
    if dataset is not None:
        datasets = Datasets(sessions=registry.sessions)
        view = datasets.get(dataset)
        examples += datasets.intent_examples(view.version)
        extra.update(dataset=view.version, dataset_sha256=view.content_sha256)
    digest = data_sha256(examples)
    started = time.perf_counter()
    model = IntentClassifier.train(examples, IntentConfig(seed=seed), progress=progress)
    seconds = time.perf_counter() - started
    version = f"{utcnow():%Y%m%dT%H%M%SZ}-{digest[:8]}"  # the folder is named after the version
    folder = registry.root / version
    manifest = save_model(
        model,
        folder,
        data_sha256=digest,
        extra={
            **extra,
            "version": version,
            "data": "pack" if dataset is None else f"pack+{dataset}",
            "examples": len(examples),
            "train_seconds": round(seconds, 1),
        },
    )
    return Trained(model, manifest, folder)


def propose_candidate(
    sessions: sessionmaker[Session],
    settings: Settings,
    since: datetime,
    *,
    audit: AuditLog | None = None,
    actor: Actor | None = None,
) -> str | None:
    """Train a candidate from the newest labels when any label was resolved at or after `since`:
    a dataset version of every resolved label (the newest one when nothing changed), then a
    candidate on the pack's examples plus it. Returns the candidate's version, or None when there
    are no new labels. It never promotes: a person looks at the report, the gate and a shadow run."""
    from helixdesk.learning.registry import ModelRegistry

    audit = audit or AuditLog(key=resolve_audit_key(settings))
    actor = actor or Actor.system("learning:proposal")
    datasets = Datasets(sessions=sessions, audit=audit)
    if datasets.resolved_since(since) == 0:
        return None
    view, _ = datasets.snapshot(actor=actor, note=f"labels up to {utcnow():%Y-%m-%d}")
    registry = ModelRegistry.from_settings(settings, sessions, audit)
    note = f"proposed from the labels resolved since {since:%Y-%m-%d %H:%M} (dataset {view.version})"
    return registry.train(dataset=view.version, actor=actor, note=note).version
