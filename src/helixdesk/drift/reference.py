"""What a day is compared with: its reference, per scope (`all` and each language).

- **window** (the default): the `drift_reference_days` days before the day;
- **pinned**: a fixed period (`drift_reference_start` to `drift_reference_end`), e.g. the month
  after a model went live; a day inside it is compared with the rest of it;
- **training**: while there is too little history (fewer than `MIN_DAYS` days with messages, or
  fewer than `drift_min_messages` messages of the scope), how the live intent model reads the
  pack's held-out examples (`nlu/heldout/intents.jsonl`), stored once per model version in
  `drift_references`. Its intent mix is balanced by design, so the intent shift is not judged
  against it; confidence, the out-of-scope share and new vocabulary are.

Days of the window with an open alarm are left out of it until the alarm is resolved, so the drift
an alarm shows does not become the norm unnoticed.

The reference vocabulary is the pack's training examples' tokens, plus for a window or a pinned
period every token of its days. The reference's own new-vocabulary share counts, on each of its
days, the tokens that neither the training examples nor any other of its days hold.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.core.languages import LANGUAGES, language_or_default
from helixdesk.drift.measures import Baseline, Figures
from helixdesk.drift.models import AlarmStatus, DriftAlarm, DriftDay, DriftReference, DriftToken
from helixdesk.drift.vocabulary import tokens
from helixdesk.nlu.intent.data import OOS_LABEL, load_examples

ALL = "all"
SCOPES: tuple[str, ...] = (ALL, *LANGUAGES)
MIN_DAYS = 7  # days with messages a window needs before it is a reference
HELDOUT = Path("nlu") / "heldout" / "intents.jsonl"


@dataclass(frozen=True, slots=True)
class Reference:
    """One scope's reference: its kind and period, its figures and its vocabulary."""

    baseline: Baseline
    vocabulary: frozenset[str]
    first: date | None = None
    last: date | None = None

    @property
    def kind(self) -> str:
        return self.baseline.kind


@dataclass(frozen=True, slots=True)
class Reading:
    """How the intent model read one held-out example."""

    language: str
    intent: str
    confidence: float
    text: str


class HeldOut(Protocol):
    """The live intent model's reading of the pack's held-out examples."""

    def version(self) -> str | None: ...

    def readings(self) -> list[Reading]: ...


def period(day: date, *, days: int, pinned: tuple[date, date] | None) -> tuple[str, date, date]:
    """The reference period of `day`: (kind, first, last); `day` itself is never part of it."""
    if pinned is not None:
        return "pinned", pinned[0], pinned[1]
    return "window", day - timedelta(days=days), day - timedelta(days=1)


def figures_of(rows: Iterable[DriftDay]) -> dict[str, Figures]:
    """Stored day rows summed per scope."""
    out = {scope: Figures() for scope in SCOPES}
    for row in rows:
        f = Figures(
            messages=row.messages,
            oos=row.oos,
            scored=row.scored,
            confidence_sum=row.confidence_sum,
            confidence_squares=row.confidence_squares,
            tokens=row.tokens,
            intents=dict(row.intents or {}),
        )
        out[ALL] = out[ALL] + f
        if row.language in out:
            out[row.language] = out[row.language] + f
    return out


def open_alarm_days(s: Session, first: date, last: date) -> set[date]:
    return set(
        s.scalars(
            select(DriftAlarm.day).where(
                DriftAlarm.day.between(first, last), DriftAlarm.status == AlarmStatus.OPEN.value
            )
        )
    )


def history(
    s: Session,
    kind: str,
    first: date,
    last: date,
    *,
    judged: date,
    training_vocabulary: frozenset[str],
) -> dict[str, Reference] | None:
    """The stored days of a period as references per scope (None: fewer than `MIN_DAYS` days)."""
    excluded = open_alarm_days(s, first, last) | {judged}
    rows = [
        r
        for r in s.scalars(select(DriftDay).where(DriftDay.day.between(first, last)))
        if r.day not in excluded and r.messages > 0
    ]
    if len({r.day for r in rows}) < MIN_DAYS:
        return None
    days_of: dict[str, set[date]] = defaultdict(set)
    counts: list[tuple[date, str, str, int]] = []
    for day, language, token, count in s.execute(
        select(DriftToken.day, DriftToken.language, DriftToken.token, DriftToken.count).where(
            DriftToken.day.between(first, last)
        )
    ):
        if day in excluded:
            continue
        days_of[token].add(day)
        counts.append((day, language, token, count))
    new: Counter[str] = Counter()
    for day, language, token, count in counts:
        if token not in training_vocabulary and days_of[token] == {day}:
            new[ALL] += count
            new[language] += count
    vocabulary = training_vocabulary | frozenset(days_of)
    return {
        scope: Reference(Baseline(kind, figures, new[scope]), vocabulary, first, last)
        for scope, figures in figures_of(rows).items()
    }


def stored_training(
    s: Session, version: str, training_vocabulary: frozenset[str]
) -> dict[str, Reference] | None:
    """The training reference of a model version, if stored (`store_training` stores it)."""
    row = s.get(DriftReference, version)
    if row is None:
        return None
    return {
        scope: Reference(
            Baseline(
                "training",
                Figures.from_dict(row.figures.get(scope) or {}),
                int((row.figures.get(scope) or {}).get("new_tokens", 0)),
            ),
            training_vocabulary,
        )
        for scope in SCOPES
    }


def store_training(s: Session, version: str, figures: dict[str, Any]) -> None:
    if s.get(DriftReference, version) is None:
        s.add(DriftReference(model_version=version, figures=figures))


def heldout_figures(readings: Sequence[Reading], training_vocabulary: frozenset[str]) -> dict[str, Any]:
    """The figures of the model's readings of the held-out examples, per scope, with the count of
    their tokens outside the training examples' vocabulary (`new_tokens`)."""
    figures = {scope: Figures() for scope in SCOPES}
    new = Counter[str]()
    for r in readings:
        words = tokens(r.text)
        one = Figures(
            messages=1,
            oos=int(r.intent == OOS_LABEL),
            scored=1,
            confidence_sum=r.confidence,
            confidence_squares=r.confidence * r.confidence,
            tokens=len(words),
            intents={r.intent: 1},
        )
        language = language_or_default(r.language)
        unknown = sum(1 for w in words if w not in training_vocabulary)
        for scope in (ALL, language):
            figures[scope] = figures[scope] + one
            new[scope] += unknown
    return {scope: {**f.to_dict(), "new_tokens": new[scope]} for scope, f in figures.items()}


class ModelHeldOut:
    """`HeldOut` from a trained intent model folder (the newest version under it) and a pack."""

    def __init__(self, *, model_dir: Path, pack_path: Path) -> None:
        self.model_dir = model_dir
        self.pack_path = pack_path

    def version(self) -> str | None:
        from helixdesk.nlu.intent.artefacts import ModelArtefactError, read_manifest, resolve_model_dir

        if not (self.pack_path / HELDOUT).is_file():
            return None
        try:
            return str(read_manifest(resolve_model_dir(self.model_dir)).get("version") or "") or None
        except ModelArtefactError:
            return None

    def readings(self) -> list[Reading]:
        from helixdesk.nlu.intent.artefacts import load_model

        model, _ = load_model(self.model_dir)
        examples = load_examples(self.pack_path / HELDOUT)
        predictions = model.predict([e.text for e in examples], top_k=1)
        return [
            Reading(e.language, p.intent.name, p.ranking[0].confidence if p.ranking else 0.0, e.text)
            for e, p in zip(examples, predictions, strict=True)
        ]
