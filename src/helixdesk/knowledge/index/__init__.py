"""In-memory indexes over the chunks: BM25 (lexical) and USE-multilingual vectors (dense)."""

from helixdesk.knowledge.index.bm25 import BM25Index
from helixdesk.knowledge.index.dense import DenseIndex, DenseScores

__all__ = ["BM25Index", "DenseIndex", "DenseScores"]
