"""The effect of an approved proposal: among the customers' questions near the proposal's centre, the
shares the bot answered, handed over and had rejected, and the mean CSAT, in the `EFFECT_BEFORE`
before approval and since, with a verdict (`working`, `not_working`, `too_early`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from helixdesk.insight.clusters import JOIN, aware, proposal_dict, stack_intents, unpack
from helixdesk.insight.models import InsightMessage, InsightProposal
from helixdesk.insight.space import style_of

EFFECT_BEFORE = timedelta(days=14)


def effect_of(s: Session, proposal: InsightProposal, now: datetime) -> dict[str, Any]:
    """The proposal's cluster before approval (`EFFECT_BEFORE`) and after: questions, the shares
    the bot answered, handed over and had rejected, and the mean CSAT."""
    assert proposal.space is not None and proposal.decided_at is not None
    space, centre, members = unpack(proposal.space)
    decided = proposal.decided_at
    rows = s.execute(
        select(
            InsightMessage.id,
            InsightMessage.vector,
            InsightMessage.intents,
            InsightMessage.language,
            InsightMessage.channel,
            InsightMessage.at,
            InsightMessage.answered,
            InsightMessage.handed_off,
            InsightMessage.rejected,
            InsightMessage.csat,
        ).where(
            InsightMessage.source == "chat",
            InsightMessage.at >= decided - EFFECT_BEFORE,
            InsightMessage.at < now,
            InsightMessage.vector.is_not(None),
        )
    ).all()
    near: list[Any] = []
    if rows:
        vectors = np.stack([np.frombuffer(r.vector, dtype=np.float32) for r in rows])
        intents = stack_intents(rows) if space.intent_means is not None else None
        # After the intent model is retrained with other intents, its probabilities no longer fit
        # this space: the effect is then unknown (too early), never an error.
        if space.fits(intents):
            styles = [style_of("chat", r.channel) for r in rows]
            feats = space.features(vectors, intents, [r.language for r in rows], styles)
            feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-9)
            sims = feats @ centre
            near = [r for r, sim in zip(rows, sims, strict=True) if sim >= JOIN or r.id in members]
    before = [r for r in near if aware(r.at) < decided]
    after = [r for r in near if aware(r.at) >= decided]
    figures_before, figures_after = _figures(before), _figures(after)
    return {
        "proposal": proposal_dict(proposal),
        "before": figures_before,
        "after": figures_after,
        "verdict": _verdict(figures_before, figures_after),
    }


def _figures(rows: Sequence[Any]) -> dict[str, Any]:
    n = len(rows)
    rated = [r.csat for r in rows if r.csat is not None]
    return {
        "questions": n,
        "answered": round(sum(1 for r in rows if r.answered) / n, 3) if n else None,
        "handed_off": round(sum(1 for r in rows if r.handed_off) / n, 3) if n else None,
        "rejected": round(sum(1 for r in rows if r.rejected) / n, 3) if n else None,
        "csat": round(sum(rated) / len(rated), 2) if rated else None,
    }


def _verdict(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    """working / not_working / too_early: at least 3 questions since approval, the bot answering
    most of them with few rejected, or not."""
    if after["questions"] < 3:
        return "too_early"
    if after["answered"] >= 0.6 and (after["rejected"] or 0) <= 0.3:
        return "working"
    return "not_working"
