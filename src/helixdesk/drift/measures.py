"""The drift measures of a day against its reference. Pure: figures in, measures out.

Four measures, each judged only when the day holds at least `min_messages` understood messages:

- `intent_shift`: the Jensen-Shannon divergence (base 2, 0 = the same mix, 1 = nothing in common)
  between the day's mix of in-scope intents and the reference's. Beyond when it is at least
  `intent_jsd` *and* above what chance alone gives at these volumes: the 99.95th percentile of
  the divergence between two samples of the day's and the reference's sizes drawn from the
  reference's mix (a few hundred messages over forty intents differ from any mix by chance). Not
  judged against the training reference, whose mix of intents is balanced by design and says
  nothing about traffic.
- `confidence`: the mean confidence of the intent model's best reading. Beyond when it fell by at
  least `confidence_drop` and by `Z_LIMIT` (3.5) standard errors of the difference (the day and
  the reference are both samples).
- `oos_rate`: the share of messages out of scope. Beyond when it rose by at least `oos_rise` and
  by 3.5 standard errors.
- `new_vocabulary`: the share of the day's tokens that neither the pack's training examples nor
  any day of the reference hold. Its reference value is the same share for the reference's own
  days (each against the others), since every day brings a few words of its own. Beyond when it
  rose by at least `vocabulary_rise` and by 3.5 standard errors (counted over messages, as
  words come in messages).

Only the harmful direction raises an alarm: a rise of confidence or a fall of the out-of-scope
share is not drift to act on.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from helixdesk.core.settings import Settings
from helixdesk.nlu.intent.data import OOS_LABEL

MEASURES: tuple[str, ...] = ("intent_shift", "confidence", "oos_rate", "new_vocabulary")
# A change must exceed its threshold *and* this many standard errors of the difference between the
# day and its reference (both are samples): one-sided, about 2 in 10,000 by chance.
Z_LIMIT = 3.5
CHANCE_DRAWS = 2000
CHANCE_QUANTILE = 0.9995


@dataclass(frozen=True, slots=True)
class Figures:
    """What a set of understood customer messages adds up to: a day, a window of days, the held-out set."""

    messages: int = 0
    oos: int = 0
    scored: int = 0
    confidence_sum: float = 0.0
    confidence_squares: float = 0.0
    tokens: int = 0
    intents: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: Figures) -> Figures:
        intents = Counter(self.intents)
        intents.update(other.intents)
        return Figures(
            messages=self.messages + other.messages,
            oos=self.oos + other.oos,
            scored=self.scored + other.scored,
            confidence_sum=self.confidence_sum + other.confidence_sum,
            confidence_squares=self.confidence_squares + other.confidence_squares,
            tokens=self.tokens + other.tokens,
            intents=dict(intents),
        )

    @property
    def in_scope(self) -> dict[str, int]:
        return {k: v for k, v in self.intents.items() if k != OOS_LABEL and v > 0}

    @property
    def oos_rate(self) -> float | None:
        return self.oos / self.messages if self.messages else None

    @property
    def mean_confidence(self) -> float | None:
        return self.confidence_sum / self.scored if self.scored else None

    @property
    def confidence_variance(self) -> float:
        if self.scored < 2:
            return 0.0
        mean = self.confidence_sum / self.scored
        return max(0.0, self.confidence_squares / self.scored - mean * mean)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "intents": dict(self.intents)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figures:
        return cls(
            messages=int(data.get("messages", 0)),
            oos=int(data.get("oos", 0)),
            scored=int(data.get("scored", 0)),
            confidence_sum=float(data.get("confidence_sum", 0.0)),
            confidence_squares=float(data.get("confidence_squares", 0.0)),
            tokens=int(data.get("tokens", 0)),
            intents={str(k): int(v) for k, v in (data.get("intents") or {}).items()},
        )


def _default(name: str) -> Any:
    return Settings.model_fields[name].default


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The settings' `drift_*` thresholds (their defaults unless given)."""

    min_messages: int = _default("drift_min_messages")
    intent_jsd: float = _default("drift_intent_jsd")
    confidence_drop: float = _default("drift_confidence_drop")
    oos_rise: float = _default("drift_oos_rise")
    vocabulary_rise: float = _default("drift_vocabulary_rise")

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(
            min_messages=settings.drift_min_messages,
            intent_jsd=settings.drift_intent_jsd,
            confidence_drop=settings.drift_confidence_drop,
            oos_rise=settings.drift_oos_rise,
            vocabulary_rise=settings.drift_vocabulary_rise,
        )


@dataclass(frozen=True, slots=True)
class Baseline:
    """A reference's figures and its own new-vocabulary share (`new_tokens` of `figures.tokens`)."""

    kind: str  # window, pinned or training
    figures: Figures
    new_tokens: int = 0

    @property
    def new_rate(self) -> float | None:
        return self.new_tokens / self.figures.tokens if self.figures.tokens else None


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    value: float | None  # the day's
    reference: float | None
    threshold: float
    judged: bool  # enough volume on both sides, and a reference that supports it
    beyond: bool
    why: str = ""  # why not judged: too_few_messages, no_reference
    chance: float | None = None  # intent_shift: what chance alone reaches at this volume
    detail: list[dict[str, Any]] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        if self.value is None:
            return None
        if self.name == "intent_shift":
            return self.value
        if self.reference is None:
            return None
        return self.value - self.reference

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("value", "reference", "chance"):
            if out[key] is not None:
                out[key] = round(float(out[key]), 4)
        change = self.change
        out["change"] = None if change is None else round(change, 4)
        return out


def jensen_shannon(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """The Jensen-Shannon divergence of two distributions (normalised here), base 2: in [0, 1]."""
    p, q = shares_of(p), shares_of(q)
    if not p or not q:
        return 0.0
    total = 0.0
    for key in set(p) | set(q):
        a, b = p.get(key, 0.0), q.get(key, 0.0)
        m = (a + b) / 2
        if a > 0:
            total += a * math.log2(a / m)
        if b > 0:
            total += b * math.log2(b / m)
    return min(1.0, max(0.0, total / 2))


def shares_of(weights: Mapping[str, float]) -> dict[str, float]:
    total = float(sum(weights.values()))
    return {k: float(v) / total for k, v in weights.items() if v > 0} if total > 0 else {}


def chance_divergence(reference: Mapping[str, float], n: int, n_reference: int, *, seed: int) -> float:
    """The `CHANCE_QUANTILE` of the divergence between `n` messages and `n_reference` messages
    both drawn from `reference`'s mix: what two samples of the same traffic differ by."""
    q = shares_of(reference)
    if not q or n <= 0 or n_reference <= 0:
        return 0.0
    probs = np.array([q[k] for k in sorted(q)])
    probs = probs / probs.sum()
    rng = np.random.default_rng(seed)
    a = rng.multinomial(n, probs, size=CHANCE_DRAWS) / n
    b = rng.multinomial(n_reference, probs, size=CHANCE_DRAWS) / n_reference
    mid = (a + b) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(a > 0, a * np.log2(a / mid), 0.0).sum(axis=1)
        right = np.where(b > 0, b * np.log2(b / mid), 0.0).sum(axis=1)
    return float(np.quantile((left + right) / 2, CHANCE_QUANTILE))


def seed_for(*parts: object) -> int:
    """A stable seed from a day and scope, so the same figures are judged the same way every time."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:4], "big")


def judge(
    day: Figures,
    new_tokens: Counter[str],
    reference: Baseline | None,
    thresholds: Thresholds,
    *,
    seed: int = 0,
) -> list[Measure]:
    """Every measure of a day (`new_tokens`: the day's tokens the reference does not know, with
    their counts) against its reference."""
    enough = day.messages >= thresholds.min_messages
    ref = reference.figures if reference is not None else None
    ref_enough = ref is not None and ref.messages >= thresholds.min_messages
    why = "" if enough else "too_few_messages"
    if enough and not ref_enough:
        why = "no_reference"
    return [
        _intent_shift(day, reference, thresholds, why, seed),
        _confidence(day, ref, thresholds, why),
        _oos(day, ref, thresholds, why),
        _vocabulary(day, new_tokens, reference, thresholds, why),
    ]


def _intent_shift(day: Figures, reference: Baseline | None, th: Thresholds, why: str, seed: int) -> Measure:
    mine = day.in_scope
    theirs = reference.figures.in_scope if reference is not None else {}
    if not why and reference is not None and reference.kind == "training":
        why = "no_reference"
    if not mine or not theirs:
        return Measure("intent_shift", None, 0.0, th.intent_jsd, False, False, why or "no_reference")
    value = jensen_shannon(mine, theirs)
    day_shares, ref_shares = shares_of(mine), shares_of(theirs)
    grew = sorted(mine, key=lambda k: ref_shares.get(k, 0.0) - day_shares[k])[:3]
    detail = [
        {"intent": k, "share": round(day_shares[k], 4), "reference": round(ref_shares.get(k, 0.0), 4)}
        for k in grew
        if day_shares[k] > ref_shares.get(k, 0.0)
    ]
    if why:
        return Measure("intent_shift", value, 0.0, th.intent_jsd, False, False, why, detail=detail)
    chance = chance_divergence(theirs, sum(mine.values()), sum(theirs.values()), seed=seed)
    beyond = value >= th.intent_jsd and value > chance
    return Measure("intent_shift", value, 0.0, th.intent_jsd, True, beyond, chance=chance, detail=detail)


def _confidence(day: Figures, ref: Figures | None, th: Thresholds, why: str) -> Measure:
    value = day.mean_confidence
    expected = ref.mean_confidence if ref is not None else None
    if not why and day.scored < th.min_messages:
        why = "too_few_messages"  # older records keep no scores (retention)
    if not why and (ref is None or ref.scored < th.min_messages):
        why = "no_reference"
    if why or value is None or expected is None or ref is None:
        return Measure("confidence", value, expected, th.confidence_drop, False, False, why or "no_reference")
    drop = expected - value
    error = math.sqrt(max(ref.confidence_variance, 1e-4) * (1 / day.scored + 1 / ref.scored))
    beyond = drop >= th.confidence_drop and drop / error >= Z_LIMIT
    return Measure("confidence", value, expected, th.confidence_drop, True, beyond)


def _oos(day: Figures, ref: Figures | None, th: Thresholds, why: str) -> Measure:
    value = day.oos_rate
    expected = ref.oos_rate if ref is not None else None
    if why or value is None or expected is None or ref is None:
        return Measure("oos_rate", value, expected, th.oos_rise, False, False, why or "no_reference")
    rise = value - expected
    error = _two_sample_error((day.oos + ref.oos) / (day.messages + ref.messages), day.messages, ref.messages)
    beyond = rise >= th.oos_rise and rise / error >= Z_LIMIT
    return Measure("oos_rate", value, expected, th.oos_rise, True, beyond)


def _two_sample_error(pooled: float, n: int, n_reference: int) -> float:
    """The standard error of the difference between a share of `n` and one of `n_reference`,
    `pooled` over both; floored at a 1% share, so that a reference of none is not certainty."""
    spread = max(pooled * (1 - pooled), 0.01 * 0.99)
    return math.sqrt(spread * (1 / max(1, n) + 1 / max(1, n_reference)))


def _vocabulary(
    day: Figures, new: Counter[str], reference: Baseline | None, th: Thresholds, why: str
) -> Measure:
    value = sum(new.values()) / day.tokens if day.tokens else None
    expected = reference.new_rate if reference is not None else None
    detail = [{"token": t, "count": c} for t, c in sorted(new.items(), key=lambda kv: (-kv[1], kv[0]))[:8]]
    if why or value is None or expected is None or reference is None:
        return Measure(
            "new_vocabulary",
            value,
            expected,
            th.vocabulary_rise,
            False,
            False,
            why or "no_reference",
            detail=detail,
        )
    # Words come in messages, not one by one: the standard error counts messages, not tokens.
    rise = value - expected
    pooled = (sum(new.values()) + reference.new_tokens) / max(1, day.tokens + reference.figures.tokens)
    error = _two_sample_error(pooled, day.messages, reference.figures.messages)
    beyond = rise >= th.vocabulary_rise and rise / error >= Z_LIMIT
    return Measure("new_vocabulary", value, expected, th.vocabulary_rise, True, beyond, detail=detail)
