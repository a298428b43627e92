"""Hybrid retrieval over the knowledge base: jieba BM25 + USE-multilingual, fused, then re-ranked.

    kb = KnowledgeBase(sessions=sessions, embed=embed)       # nothing loaded yet
    kb.load()                                                 # read chunks + stored vectors from the DB
    hits = kb.search("在国外刷不了卡", language="zh-Hans", intent="card_declined", top_k=5)
    reply = kb.answer("why was my card declined abroad?", language="en")
    if reply.grounded: say(reply.text, cite=reply.citation)   # verbatim FAQ/document text
    else: say_i_dont_know_and_offer_an_agent()

`load()` needs no model call (vectors are stored at ingest time), so start-up costs one query of
the chunks. `refresh_if_changed()` is a cheap revision check (count and max id of chunks, latest
ingest time) that reloads when another process ingested; call it every few seconds or per turn.
A search costs one cached query embedding plus microseconds of numpy. Thread-safe for readers:
a reload swaps one immutable snapshot.

Retired chunks are left out of the indexes. Validity dates (a chunk's and its document's
`valid_from`/`valid_until`) are checked at every search against `clock()`: an entry that expires
is not found from that moment on, without a reload.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading
from helixdesk.knowledge.cues import cue_vector, mean_cues
from helixdesk.knowledge.graph import KnowledgeGraph, is_why_how_question
from helixdesk.knowledge.index import BM25Index, DenseIndex, DenseScores
from helixdesk.knowledge.models import KbChunk, KbDocument, KbEntryVersion, split_questions
from helixdesk.knowledge.rerank import (
    BASE_FEATURES,
    BM25_SATURATION,
    ConfidenceWeights,
    FusionWeights,
    RankingModel,
)
from helixdesk.knowledge.text import LANGUAGES, detect_language, tokens
from helixdesk.knowledge.types import Citation, Explanation, HitScores, KnowledgeAnswer, KnowledgeHit
from helixdesk.nlu.embeddings import FloatArray
from helixdesk.nlu.text import to_simplified, to_traditional

EmbedFn = Callable[[Sequence[str]], FloatArray]
Method = Literal["bm25", "dense", "fused", "rerank"]
# The NLU's intent: a name, or a ranking {intent: probability} (Turn.intent_ranking), or None.
IntentHint = str | Mapping[str, float] | None

# Grounding threshold on the confidence (rerank.ConfidenceWeights), chosen on bench/data/kb_dev.jsonl
# with NLU intent hints (bench/knowledge_tune.py prints the trade-off).
DEFAULT_THRESHOLD = 0.46
# When the NLU is this sure of the intent, an answer filed under that intent comes before answers on
# other topics among the top hits (「信用卡怎麼突然刷不過」 is a declined card, not card activation).
INTENT_TRUST = 0.8


@dataclass(frozen=True, slots=True)
class _Chunk:
    id: int
    faq_id: str | None
    language: str
    heading: str
    text: str
    questions: dict[str, str]
    answers: dict[str, str]
    intents: tuple[str, ...]
    tokens: frozenset[str]
    cues: npt.NDArray[np.float64]  # share of the chunk's questions carrying each question-type cue
    citation: Citation


@dataclass(frozen=True, slots=True)
class _Stage:
    """The first stage of one search: the query's tokens, BM25 and dense scores, their fusion."""

    query: str
    tokens: tuple[str, ...]
    bm25: npt.NDArray[np.float64]
    dense: DenseScores
    best_dense: npt.NDArray[np.float64]
    fused: npt.NDArray[np.float64]


Revision = tuple[int, int, datetime | None, int]
_NO_START = -np.inf
_NO_END = np.inf


@dataclass(frozen=True, slots=True)
class _Snapshot:
    revision: Revision
    chunks: tuple[_Chunk, ...]
    bm25: BM25Index
    bm25_q: BM25Index
    dense: DenseIndex
    # Per chunk: the start and end of its validity (POSIX seconds; -inf/inf when open), the
    # narrower of the chunk's and its document's dates.
    valid_from: npt.NDArray[np.float64]
    valid_until: npt.NDArray[np.float64]

    def valid_at(self, now: datetime) -> npt.NDArray[np.bool_]:
        t = now.timestamp()
        return (self.valid_from <= t) & (t < self.valid_until)


def _bound(*values: datetime | None, latest: bool) -> float:
    stamps = [v.timestamp() for v in values if v is not None]
    if not stamps:
        return _NO_START if latest else _NO_END
    return max(stamps) if latest else min(stamps)


class KnowledgeBase:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        embed: EmbedFn,
        graph: KnowledgeGraph | None = None,
        fusion: FusionWeights | None = None,
        ranking: RankingModel | None = None,
        confidence: ConfidenceWeights | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        refresh_seconds: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`refresh_seconds`: how often a search checks whether the stored knowledge changed (an
        entry approved or a file ingested through another worker or the CLI) and reloads; 0 never.
        `clock`: the time validity dates are checked against (at every search)."""
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self._checked_at = 0.0
        self._sessions = sessions
        self._embed = embed
        self.graph = graph
        self.fusion = fusion or FusionWeights()
        self.ranking = ranking or RankingModel.default()
        self.confidence_weights = confidence or ConfidenceWeights()
        self.threshold = threshold
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ loading

    def _revision(self, s: Session) -> Revision:
        count, max_id = s.execute(select(func.count(KbChunk.id), func.max(KbChunk.id))).one()
        latest = s.scalar(select(func.max(KbDocument.ingested_at)))
        # Every edit, retirement, validity change and rollback writes a version.
        version = s.scalar(select(func.max(KbEntryVersion.id)))
        return int(count or 0), int(max_id or 0), latest, int(version or 0)

    def load(self) -> int:
        """(Re)build the in-memory indexes from the database; returns the number of chunks."""
        with self._lock, self._sessions() as s:
            revision = self._revision(s)
            rows = s.execute(
                select(KbChunk, KbDocument)
                .join(KbDocument)
                .where(KbChunk.retired_at.is_(None))
                .order_by(KbChunk.id)
            ).all()
            chunks: list[_Chunk] = []
            starts: list[float] = []
            ends: list[float] = []
            full_tokens: list[tuple[str, ...]] = []
            q_tokens: list[tuple[str, ...]] = []
            vectors: list[FloatArray] = []
            kinds: list[str] = []
            for chunk, doc in rows:
                questions, alternatives = split_questions(chunk.questions)
                answers = dict(chunk.answers or {})
                a_text = " ".join(answers.get(lang, "") for lang in ("zh-Hans", "en")) or chunk.text
                all_questions = (
                    [*questions.values(), *(t for alts in alternatives.values() for t in alts)]
                    if questions
                    else [chunk.heading]
                )
                qt = tokens(" ".join(all_questions))
                ft = qt + tokens(a_text)
                dim = len(chunk.embedding) // 4 // max(1, len(chunk.embedding_kinds))
                vectors.append(np.frombuffer(chunk.embedding, dtype=np.float32).reshape(-1, dim))
                kinds.append(chunk.embedding_kinds)
                full_tokens.append(ft)
                q_tokens.append(qt)
                starts.append(_bound(chunk.valid_from, doc.valid_from, latest=True))
                ends.append(_bound(chunk.valid_until, doc.valid_until, latest=False))
                chunks.append(
                    _Chunk(
                        id=chunk.id,
                        faq_id=chunk.faq_id,
                        language=chunk.language,
                        heading=chunk.heading,
                        text=chunk.text,
                        questions=questions,
                        answers=answers,
                        intents=tuple(chunk.intents or ()),
                        tokens=frozenset(ft),
                        cues=mean_cues(all_questions),
                        citation=Citation(
                            document_title=doc.title,
                            source=doc.source,
                            kind=doc.kind,
                            faq_id=chunk.faq_id,
                            section=chunk.heading,
                            chunk_id=chunk.id,
                        ),
                    )
                )
            self._snapshot = _Snapshot(
                revision=revision,
                chunks=tuple(chunks),
                bm25=BM25Index(docs=full_tokens),
                bm25_q=BM25Index(docs=q_tokens),
                dense=DenseIndex(vectors=vectors, kinds=kinds),
                valid_from=np.array(starts, dtype=np.float64),
                valid_until=np.array(ends, dtype=np.float64),
            )
            return len(chunks)

    def refresh_if_changed(self) -> bool:
        """Reload when the stored knowledge changed since the last load; True when it reloaded."""
        self._checked_at = time.monotonic()
        with reading(self._sessions) as s:
            revision = self._revision(s)
        if self._snapshot is not None and self._snapshot.revision == revision:
            return False
        self.load()
        return True

    @property
    def size(self) -> int:
        return len(self._snapshot.chunks) if self._snapshot else 0

    def _current(self) -> _Snapshot:
        if self._snapshot is None:
            self._checked_at = time.monotonic()
            self.load()
        elif self.refresh_seconds and time.monotonic() - self._checked_at >= self.refresh_seconds:
            self.refresh_if_changed()
        assert self._snapshot is not None
        return self._snapshot

    # ------------------------------------------------------------------ search

    def search(
        self,
        query: str,
        *,
        language: str | None = None,
        intent: IntentHint = None,
        top_k: int = 5,
        method: Method = "rerank",
    ) -> list[KnowledgeHit]:
        """The best `top_k` chunks for `query`, best first; answers in `language` (default: the query's)."""
        snap = self._current()
        if not snap.chunks or not query.strip():
            return []
        lang = language if language in LANGUAGES else detect_language(query)
        stage = self._first_stage(snap, query)
        valid = snap.valid_at(self.clock())
        if not valid.any():
            return []
        if method == "rerank":
            cand = _top(stage.fused, max(top_k, self.fusion.candidates), valid)
            feats = self._features(snap, cand, stage, intent)
            scores = feats @ self.ranking.vector()
            ranked = np.argsort(-scores, kind="stable")[:top_k]
            order, rank_scores, base = cand[ranked], scores[ranked], feats[ranked, : len(BASE_FEATURES)]
        else:
            primary = {"bm25": stage.bm25, "dense": stage.best_dense, "fused": stage.fused}[method]
            order = _top(primary, top_k, valid)
            rank_scores = primary[order]
            base = self._features(snap, order, stage, intent)[:, : len(BASE_FEATURES)]
        confidence = base @ self.confidence_weights.vector()
        return [
            self._hit(
                snap.chunks[i],
                lang,
                HitScores(
                    bm25=float(stage.bm25[i]),
                    dense=float(stage.best_dense[i]),
                    fused=float(stage.fused[i]),
                    rerank=float(rank_scores[row]),
                    confidence=float(confidence[row]),
                ),
            )
            for row, i in enumerate(order)
        ]

    def candidates(
        self, query: str, *, intent: IntentHint = None
    ) -> tuple[list[str | None], npt.NDArray[np.float64]]:
        """The first-stage candidates' FAQ ids and re-ranking features (for learning the weights)."""
        snap = self._current()
        stage = self._first_stage(snap, query)
        cand = _top(stage.fused, self.fusion.candidates, snap.valid_at(self.clock()))
        return [snap.chunks[i].faq_id for i in cand], self._features(snap, cand, stage, intent)

    def _first_stage(self, snap: _Snapshot, query: str) -> _Stage:
        q_tokens = tokens(query)
        bm = snap.bm25.scores(q_tokens)
        dense = snap.dense.scores(self._embed([query])[0])
        best_dense = np.maximum(dense.q, dense.a).astype(np.float64)
        top_bm = float(bm.max())
        w = self.fusion.bm25_weight
        fused = w * (bm / top_bm if top_bm > 0 else bm) + (1.0 - w) * best_dense
        return _Stage(query=query, tokens=q_tokens, bm25=bm, dense=dense, best_dense=best_dense, fused=fused)

    def _features(
        self, snap: _Snapshot, cand: npt.NDArray[np.intp], stage: _Stage, intent: IntentHint
    ) -> npt.NDArray[np.float64]:
        """Re-ranking features (rerank.FEATURES, in that order) of the candidate chunks, (n, features)."""
        k = BM25_SATURATION
        bm = stage.bm25[cand]
        bmq = snap.bm25_q.scores(stage.tokens)[cand]
        dq = np.maximum(stage.dense.q[cand], 0.0).astype(np.float64)
        dq2 = np.maximum(stage.dense.q2[cand], 0.0).astype(np.float64)
        da = np.maximum(stage.dense.a[cand], 0.0).astype(np.float64)
        unique = set(stage.tokens)
        ranking: Mapping[str, float] = {intent: 1.0} if isinstance(intent, str) else (intent or {})
        top_intent = max(ranking, key=lambda name: ranking[name]) if ranking else None
        chunks = [snap.chunks[i] for i in cand]
        coverage = [len(unique & c.tokens) / len(unique) if unique else 0.0 for c in chunks]
        intent_p = [max((ranking.get(name, 0.0) for name in c.intents), default=0.0) for c in chunks]
        intent_top = [1.0 if top_intent in c.intents else 0.0 for c in chunks]
        query_cues = cue_vector(stage.query)
        chunk_cues = np.array([c.cues for c in chunks]).reshape(len(chunks), -1)
        columns = [
            dq,
            da,
            bm / (bm + k),
            bmq / (bmq + k),
            np.array(coverage),
            np.array(intent_p),
            np.array(intent_top),
            bmq / bmq.max() if len(bmq) and bmq.max() > 0 else np.zeros(len(cand)),
            dq2,
        ]
        agree = query_cues * chunk_cues
        missing = query_cues * (1.0 - np.minimum(1.0, chunk_cues * 3.0))
        return np.column_stack([*columns, agree, missing]).astype(np.float64)

    def _hit(self, chunk: _Chunk, lang: str, scores: HitScores) -> KnowledgeHit:
        if chunk.answers:
            answer, answer_lang = _in_language(chunk.answers, lang)
            question, _ = (
                _in_language(chunk.questions, answer_lang) if chunk.questions else (chunk.heading, lang)
            )
        else:
            answer, answer_lang = _convert_script(chunk.text, chunk.language, lang)
            question, _ = _convert_script(chunk.heading, chunk.language, lang)
        return KnowledgeHit(
            chunk_id=chunk.id,
            faq_id=chunk.faq_id,
            language=answer_lang,
            question=question,
            answer=answer,
            intents=chunk.intents,
            scores=scores,
            citation=chunk.citation,
        )

    # ------------------------------------------------------------------ grounding

    def answer(
        self, query: str, *, language: str, intent: IntentHint = None, top_k: int = 3
    ) -> KnowledgeAnswer:
        """Grounded answer or an honest "not grounded": never more than the stored text verbatim."""
        hits = _trusted_intent_first(
            self.search(query, language=language, intent=intent, top_k=top_k), intent
        )
        confidence = hits[0].scores.confidence if hits else 0.0
        grounded = bool(hits) and confidence >= self.threshold
        explanations: tuple[Explanation, ...] = ()
        if grounded and self.graph is not None and hits[0].faq_id and is_why_how_question(query):
            explanations = tuple(self.graph.explain(hits[0].faq_id, language))
        return KnowledgeAnswer(
            query=query,
            language=language,
            grounded=grounded,
            confidence=confidence,
            threshold=self.threshold,
            hits=tuple(hits),
            explanations=explanations,
        )


def _trusted_intent_first(hits: list[KnowledgeHit], intent: IntentHint) -> list[KnowledgeHit]:
    """The first hit filed under the intent the NLU is sure of (INTENT_TRUST) moves to the front."""
    ranking: Mapping[str, float] = {intent: 1.0} if isinstance(intent, str) else (intent or {})
    if not ranking or not hits:
        return hits
    top = max(ranking, key=lambda name: ranking[name])
    if ranking[top] < INTENT_TRUST or top in hits[0].intents:
        return hits
    for i, hit in enumerate(hits):
        if top in hit.intents:
            return [hit, *hits[:i], *hits[i + 1 :]]
    return hits


def _top(scores: np.ndarray, k: int, valid: npt.NDArray[np.bool_]) -> np.ndarray:
    """Indexes of the `k` best valid scores, best first."""
    allowed = np.flatnonzero(valid)
    k = min(k, len(allowed))
    if k == 0:
        return allowed
    part = allowed[np.argpartition(-scores[allowed], k - 1)[:k]]
    return part[np.argsort(-scores[part], kind="stable")]


def _in_language(texts: dict[str, str], lang: str) -> tuple[str, str]:
    """The text in `lang`; zh-Hant from zh-Hans (or the reverse) by OpenCC; else English; else any."""
    if lang in texts:
        return texts[lang], lang
    if lang == "zh-Hant" and "zh-Hans" in texts:
        return to_traditional(texts["zh-Hans"]), lang
    if lang == "zh-Hans" and "zh-Hant" in texts:
        return to_simplified(texts["zh-Hant"]), lang
    for fallback in ("en", "zh-Hans", "zh-Hant"):
        if fallback in texts:
            return texts[fallback], fallback
    first_lang, first_text = next(iter(texts.items()))
    return first_text, first_lang


def _convert_script(text: str, source_lang: str, lang: str) -> tuple[str, str]:
    if source_lang == "zh-Hans" and lang == "zh-Hant":
        return to_traditional(text), lang
    if source_lang == "zh-Hant" and lang == "zh-Hans":
        return to_simplified(text), lang
    return text, source_lang


__all__ = ["DEFAULT_THRESHOLD", "KnowledgeBase"]
