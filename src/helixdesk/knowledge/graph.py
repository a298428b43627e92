"""The product -> problem -> (cause, solution) knowledge graph of a pack (kb/graph.yaml).

    graph = KnowledgeGraph.from_pack("retail_bank")
    graph.by_faq("card-declined-abroad")                  # records linked to a FAQ entry
    graph.by_problem("credit_card", "declined_abroad")    # records of one product/problem
    graph.explain("card-declined-abroad", "en")           # [Explanation(cause=..., solution=...), ...]
    is_why_how_question("为什么我在国外刷不了卡")          # True: answer with causes and solutions

Record format (a YAML list): product, problem (snake_case), cause and solution ({zh-Hans, zh-Hant,
en}), faq (an id in the pack's faq.yaml).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helixdesk.knowledge.errors import InvalidGraphError, KnowledgeSourceNotFoundError
from helixdesk.knowledge.text import LANGUAGES
from helixdesk.knowledge.types import Explanation
from helixdesk.nlu.text import normalise, to_simplified, to_traditional
from helixdesk.packs.loader import load_pack

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")

# Cues of a why/how question (matched on the normalised text: lower-case, Simplified Chinese).
WHY_HOW_CUES_ZH = (
    "为什么",
    "为何",
    "怎么回事",
    "怎么办",
    "如何",
    "怎么",
    "怎样",
    "咋办",
    "咋回事",
    "啥原因",
    "什么原因",
    "原因",
    "该怎么",
    "要怎么",
    "为啥",
    "干嘛",
)
WHY_HOW_CUES_EN = (
    "why",
    "how come",
    "how do i",
    "how can i",
    "how to",
    "what should i do",
    "what can i do",
    "what do i do",
    "what's wrong",
    "what is wrong",
    "reason",
    "fix",
)
_EN_CUE = re.compile(r"\b(" + "|".join(re.escape(c) for c in WHY_HOW_CUES_EN) + r")\b")


def is_why_how_question(text: str) -> bool:
    """True for a question asking why something happened or how to solve it (zh + en cues)."""
    norm = normalise(text)
    return any(cue in norm for cue in WHY_HOW_CUES_ZH) or _EN_CUE.search(norm) is not None


@dataclass(frozen=True, slots=True)
class GraphRecord:
    product: str
    problem: str
    cause: dict[str, str]
    solution: dict[str, str]
    faq: str

    def explain(self, language: str) -> Explanation:
        return Explanation(
            product=self.product,
            problem=self.problem,
            cause=_pick(self.cause, language),
            solution=_pick(self.solution, language),
            faq_id=self.faq,
        )


def _pick(texts: dict[str, str], language: str) -> str:
    if language in texts:
        return texts[language]
    if language == "zh-Hant" and "zh-Hans" in texts:
        return to_traditional(texts["zh-Hans"])
    if language == "zh-Hans" and "zh-Hant" in texts:
        return to_simplified(texts["zh-Hant"])
    return texts.get("en") or next(iter(texts.values()))


class KnowledgeGraph:
    def __init__(self, *, records: list[GraphRecord]) -> None:
        self.records = list(records)
        self._by_faq: dict[str, list[GraphRecord]] = {}
        self._by_problem: dict[tuple[str, str], list[GraphRecord]] = {}
        for record in self.records:
            self._by_faq.setdefault(record.faq, []).append(record)
            self._by_problem.setdefault((record.product, record.problem), []).append(record)

    @classmethod
    def from_file(cls, path: Path, *, faq_ids: set[str] | None = None) -> KnowledgeGraph:
        if not path.is_file():
            raise KnowledgeSourceNotFoundError(f"{path}: no such graph file")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise InvalidGraphError(f"{path}: not valid YAML ({e})") from e
        if not isinstance(data, list):
            raise InvalidGraphError(f"{path}: the graph must be a YAML list of records")
        return cls(records=[_record(item, f"{path}: record {i + 1}", faq_ids) for i, item in enumerate(data)])

    @classmethod
    def from_pack(cls, pack: str = "retail_bank") -> KnowledgeGraph:
        root = load_pack(pack).path / "kb"
        faq = yaml.safe_load((root / "faq.yaml").read_text(encoding="utf-8")) or []
        return cls.from_file(
            root / "graph.yaml", faq_ids={str(e.get("id")) for e in faq if isinstance(e, dict)}
        )

    def by_faq(self, faq_id: str) -> list[GraphRecord]:
        return list(self._by_faq.get(faq_id, ()))

    def by_problem(self, product: str, problem: str) -> list[GraphRecord]:
        return list(self._by_problem.get((product, problem), ()))

    def products(self) -> list[str]:
        return sorted({r.product for r in self.records})

    def problems(self, product: str) -> list[str]:
        return sorted({r.problem for r in self.records if r.product == product})

    def explain(self, faq_id: str, language: str) -> list[Explanation]:
        """Causes and solutions linked to a FAQ entry (or to a hit's faq_id), in `language`."""
        return [record.explain(language) for record in self.by_faq(faq_id)]


def _record(item: Any, where: str, faq_ids: set[str] | None) -> GraphRecord:
    if not isinstance(item, dict):
        raise InvalidGraphError(f"{where}: must be a mapping")
    for key in ("product", "problem"):
        if not isinstance(item.get(key), str) or not _SNAKE.match(item[key]):
            raise InvalidGraphError(f"{where}: `{key}` must be snake_case text")
    texts: dict[str, dict[str, str]] = {}
    for key in ("cause", "solution"):
        value = item.get(key)
        if (
            not isinstance(value, dict)
            or not value
            or not all(lang in LANGUAGES and isinstance(text, str) and text for lang, text in value.items())
        ):
            raise InvalidGraphError(f"{where}: `{key}` must map {', '.join(LANGUAGES)} to text")
        texts[key] = {str(k): str(v) for k, v in value.items()}
    faq = item.get("faq")
    if not isinstance(faq, str) or (faq_ids is not None and faq not in faq_ids):
        raise InvalidGraphError(f"{where}: `faq` {faq!r} is not an id of the FAQ")
    return GraphRecord(
        product=item["product"],
        problem=item["problem"],
        cause=texts["cause"],
        solution=texts["solution"],
        faq=faq,
    )


__all__ = ["WHY_HOW_CUES_EN", "WHY_HOW_CUES_ZH", "GraphRecord", "KnowledgeGraph", "is_why_how_question"]
