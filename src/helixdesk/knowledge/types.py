"""Typed results of the knowledge base (framework-free, frozen)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Citation:
    """Where an answer comes from: the document, its source and the FAQ id or section heading."""

    document_title: str
    source: str
    kind: str
    faq_id: str | None
    section: str
    chunk_id: int

    def label(self) -> str:
        where = f"FAQ {self.faq_id}" if self.faq_id else f"§ {self.section}"
        return f"{self.document_title} ({where})"


@dataclass(frozen=True, slots=True)
class HitScores:
    bm25: float  # raw BM25 of the query over the chunk
    dense: float  # best cosine of the query to the chunk's question/heading or text vectors
    fused: float  # first-stage score (normalised BM25 + dense)
    rerank: float  # second-stage ranking score (learned; comparable within one search only)
    confidence: float  # absolute match quality in [0, 1]; the best hit's is compared with the threshold


@dataclass(frozen=True, slots=True)
class KnowledgeHit:
    chunk_id: int
    faq_id: str | None
    language: str  # language/script of `question` and `answer`
    question: str  # the FAQ question or the section heading
    answer: str  # verbatim FAQ answer / document text (script-converted only)
    intents: tuple[str, ...]
    scores: HitScores
    citation: Citation

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Explanation:
    """One cause -> solution link of the knowledge graph, in the customer's language."""

    product: str
    problem: str
    cause: str
    solution: str
    faq_id: str


@dataclass(frozen=True, slots=True)
class KnowledgeAnswer:
    query: str
    language: str
    grounded: bool  # False: say "I don't know" and offer an agent; never answer from `hits`
    confidence: float  # the best hit's confidence (0 when there is none)
    threshold: float
    hits: tuple[KnowledgeHit, ...] = ()
    explanations: tuple[Explanation, ...] = field(default=())  # for why/how questions

    @property
    def best(self) -> KnowledgeHit | None:
        return self.hits[0] if self.hits else None

    @property
    def text(self) -> str | None:
        """The grounded answer (verbatim), or None when the bot must not answer."""
        return self.hits[0].answer if self.grounded and self.hits else None

    @property
    def citation(self) -> Citation | None:
        return self.hits[0].citation if self.grounded and self.hits else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["text"] = self.text
        return out
