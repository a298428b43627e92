"""Retrieval evaluation: top-1, MRR and recall@3 on labelled questions; grounding on unanswerable ones.

Labelled question files are JSONL with `text`, `language` and `faq` (a list of acceptable FAQ ids;
empty for a question the knowledge base cannot answer), like the pack's kb/heldout/questions.jsonl.
Used by bench/knowledge_bench.py and bench/knowledge_tune.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.knowledge.ingest import EmbedFn, ingest
from helixdesk.knowledge.rerank import RankingModel
from helixdesk.knowledge.retrieval import IntentHint, KnowledgeBase, Method


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    text: str
    language: str
    faq: tuple[str, ...]
    intent: IntentHint = None

    @property
    def answerable(self) -> bool:
        return bool(self.faq)


@dataclass(frozen=True, slots=True)
class RetrievalScores:
    n: int
    top1: float
    mrr: float
    recall3: float


@dataclass(frozen=True, slots=True)
class GroundingScores:
    threshold: float
    unanswerable: int
    answerable: int
    refusal_precision: float  # of the questions refused, the share that were truly unanswerable
    refusal_recall: float  # of the unanswerable questions, the share refused
    answered_correct: float  # of the answerable questions, the share grounded with a right top-1
    false_refusals: float  # of the answerable questions, the share refused


def load_questions(path: Path) -> list[LabelledQuestion]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        faq = item.get("faq")
        if not isinstance(faq, list):
            raise TypeError(f"{path}:{number}: `faq` must be a list of FAQ ids")
        intent = item.get("intent")
        out.append(
            LabelledQuestion(
                text=item["text"],
                language=item.get("language", "en"),
                faq=tuple(faq),
                intent=None if intent in (None, "none") else intent,
            )
        )
    return out


def retrieval_scores(
    kb: KnowledgeBase,
    questions: list[LabelledQuestion],
    *,
    method: Method = "rerank",
    use_intent: bool = False,
) -> RetrievalScores:
    answerable = [q for q in questions if q.answerable]
    top1 = mrr = recall3 = 0.0
    for q in answerable:
        hits = kb.search(
            q.text, language=q.language, intent=q.intent if use_intent else None, top_k=10, method=method
        )
        ranks = [i for i, h in enumerate(hits, start=1) if h.faq_id in q.faq]
        if ranks:
            top1 += ranks[0] == 1
            mrr += 1.0 / ranks[0]
            recall3 += ranks[0] <= 3
    n = max(1, len(answerable))
    return RetrievalScores(n=len(answerable), top1=top1 / n, mrr=mrr / n, recall3=recall3 / n)


def grounding_scores(
    kb: KnowledgeBase, questions: list[LabelledQuestion], *, threshold: float, use_intent: bool = False
) -> GroundingScores:
    refused_unanswerable = refused_answerable = correct = 0
    unanswerable = [q for q in questions if not q.answerable]
    answerable = [q for q in questions if q.answerable]
    for q in questions:
        hits = kb.search(q.text, language=q.language, intent=q.intent if use_intent else None, top_k=1)
        grounded = bool(hits) and hits[0].scores.confidence >= threshold
        if not q.answerable:
            refused_unanswerable += not grounded
        elif not grounded:
            refused_answerable += 1
        elif hits[0].faq_id in q.faq:
            correct += 1
    refused = refused_unanswerable + refused_answerable
    return GroundingScores(
        threshold=threshold,
        unanswerable=len(unanswerable),
        answerable=len(answerable),
        refusal_precision=refused_unanswerable / refused if refused else 1.0,
        refusal_recall=refused_unanswerable / len(unanswerable) if unanswerable else 1.0,
        answered_correct=correct / len(answerable) if answerable else 1.0,
        false_refusals=refused_answerable / len(answerable) if answerable else 0.0,
    )


def pack_knowledge_base(
    sessions: sessionmaker[Session],
    *,
    embed: EmbedFn,
    pack: str = "retail_bank",
    ranking: RankingModel | None = None,
) -> KnowledgeBase:
    """Ingest the pack's FAQ into `sessions`' database (a no-op when current) and load a KnowledgeBase."""
    ingest(sessions, [], embed=embed, pack=pack)
    kb = KnowledgeBase(sessions=sessions, embed=embed, ranking=ranking)
    kb.load()
    return kb


__all__ = [
    "GroundingScores",
    "LabelledQuestion",
    "RetrievalScores",
    "grounding_scores",
    "load_questions",
    "pack_knowledge_base",
    "retrieval_scores",
]
