"""The pack FAQ format (YAML): a list of entries with id, intents, question and answer per language.

    - id: card-declined-abroad          # stable, kebab-case, unique
      intents: [card_declined]
      question: {zh-Hans: ..., zh-Hant: ..., en: ...}
      answer:   {zh-Hans: ..., zh-Hant: ..., en: ...}
      alternatives:                     # optional: other ways customers ask the same question
        zh-Hans: [..., ...]
        en: [...]
      tags: [card, overseas]

A language may be missing from `question`/`answer` except that at least one must be there; answers
in zh-Hant missing from a FAQ are derived from zh-Hans with OpenCC at answer time. Alternative
questions are only searched (BM25 and embeddings), never shown; an entry has at most
MAX_ALTERNATIVES of them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from helixdesk.knowledge.errors import InvalidFaqError
from helixdesk.knowledge.readers.base import ParsedDocument, Section
from helixdesk.knowledge.text import LANGUAGES

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Questions, alternatives and answers are embedded as one row each; kb_chunks.embedding_kinds
# (32 characters) names every row, so 3 questions + 3 answers leave room for 26 alternatives.
MAX_ALTERNATIVES = 24


def read_faq(content: str, *, source: str, fallback_title: str) -> ParsedDocument:
    try:
        root = yaml.compose(content)
        data = yaml.safe_load(content)
    except yaml.YAMLError as e:
        raise InvalidFaqError(f"{source}: not valid YAML ({e})") from e
    if not isinstance(data, list) or root is None or not isinstance(root, yaml.SequenceNode):
        raise InvalidFaqError(f"{source}: a FAQ file must be a YAML list of entries")
    sections: list[Section] = []
    seen: set[str] = set()
    for index, (entry, node) in enumerate(zip(data, root.value, strict=True)):
        where = f"{source}: entry {index + 1} (line {node.start_mark.line + 1})"
        sections.append(_entry(entry, where, seen))
    return ParsedDocument(title=fallback_title, kind="faq", language="mul", sections=sections)


def _texts(entry: dict[str, Any], key: str, where: str) -> dict[str, str]:
    value = entry.get(key)
    if not isinstance(value, dict) or not value:
        raise InvalidFaqError(f"{where}: `{key}` must map languages ({', '.join(LANGUAGES)}) to text")
    out: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise InvalidFaqError(
                f"{where}: unknown language {lang!r} in `{key}` (use {', '.join(LANGUAGES)})"
            )
        if not isinstance(text, str) or not text.strip():
            raise InvalidFaqError(f"{where}: `{key}.{lang}` must be non-empty text")
        out[lang] = text.strip()
    return out


def _entry(entry: Any, where: str, seen: set[str]) -> Section:
    if not isinstance(entry, dict):
        raise InvalidFaqError(f"{where}: an entry must be a mapping with id, question and answer")
    faq_id = entry.get("id")
    if not isinstance(faq_id, str) or not _ID.match(faq_id):
        raise InvalidFaqError(
            f"{where}: `id` must be kebab-case text like card-declined-abroad, not {faq_id!r}"
        )
    where = f"{where}, id {faq_id}"
    if faq_id in seen:
        raise InvalidFaqError(f"{where}: duplicate id")
    seen.add(faq_id)
    intents = entry.get("intents", [])
    if not isinstance(intents, list) or not all(isinstance(i, str) for i in intents):
        raise InvalidFaqError(f"{where}: `intents` must be a list of intent names")
    questions = _texts(entry, "question", where)
    answers = _texts(entry, "answer", where)
    alternatives = _alternatives(entry, where)
    lang = next(lang for lang in LANGUAGES if lang in answers)
    return Section(
        heading=questions.get(lang) or next(iter(questions.values())),
        text=answers[lang],
        language="mul",
        faq_id=faq_id,
        questions=questions,
        answers=answers,
        intents=tuple(intents),
        alternatives=alternatives,
    )


def _alternatives(entry: dict[str, Any], where: str) -> dict[str, tuple[str, ...]]:
    value = entry.get("alternatives")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidFaqError(f"{where}: `alternatives` must map languages to lists of questions")
    out: dict[str, tuple[str, ...]] = {}
    for lang, items in value.items():
        if lang not in LANGUAGES:
            raise InvalidFaqError(
                f"{where}: unknown language {lang!r} in `alternatives` (use {', '.join(LANGUAGES)})"
            )
        if not isinstance(items, list) or not all(isinstance(t, str) and t.strip() for t in items):
            raise InvalidFaqError(f"{where}: `alternatives.{lang}` must be a list of non-empty questions")
        out[lang] = tuple(dict.fromkeys(t.strip() for t in items))
    count = sum(len(items) for items in out.values())
    if count > MAX_ALTERNATIVES:
        raise InvalidFaqError(
            f"{where}: {count} alternative questions; an entry can have at most {MAX_ALTERNATIVES}"
        )
    return out
