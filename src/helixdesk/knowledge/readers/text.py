"""Plain text: paragraph chunks; the first short line is the title."""

from __future__ import annotations

from helixdesk.knowledge.readers.base import (
    ParsedDocument,
    document_language,
    paragraphs,
    sections_from_blocks,
)


def read_text(content: str, *, fallback_title: str) -> ParsedDocument:
    paras = paragraphs(content)
    title = fallback_title
    if len(paras) > 1 and len(paras[0]) <= 80 and "\n" not in paras[0]:
        title = paras[0]
        paras = paras[1:]
    sections = sections_from_blocks([("", [p]) for p in paras], title)
    return ParsedDocument(title=title, kind="text", language=document_language(sections), sections=sections)
