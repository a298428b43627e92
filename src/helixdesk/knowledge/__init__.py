"""Knowledge base: ingestion, hybrid retrieval, grounding and the product-problem-solution graph.

    kb = KnowledgeBase(sessions=sessions, embed=embed, graph=KnowledgeGraph.from_pack("retail_bank"))
    kb.load()
    reply = kb.answer("为什么我在国外刷不了卡", language="zh-Hans", intent="card_declined")

See docs/knowledge.md. Heavy imports (jieba, the embedding model) happen on first use.
"""

from helixdesk.knowledge.graph import KnowledgeGraph, is_why_how_question
from helixdesk.knowledge.ingest import IngestReport, ingest
from helixdesk.knowledge.retrieval import DEFAULT_THRESHOLD, IntentHint, KnowledgeBase
from helixdesk.knowledge.types import Citation, Explanation, HitScores, KnowledgeAnswer, KnowledgeHit

__all__ = [
    "DEFAULT_THRESHOLD",
    "Citation",
    "Explanation",
    "HitScores",
    "IngestReport",
    "IntentHint",
    "KnowledgeAnswer",
    "KnowledgeBase",
    "KnowledgeGraph",
    "KnowledgeHit",
    "ingest",
    "is_why_how_question",
]
