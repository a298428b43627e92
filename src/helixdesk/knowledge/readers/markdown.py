"""Markdown: one section per heading (ATX `#` headings), body paragraphs in plain text."""

from __future__ import annotations

import re

from helixdesk.knowledge.readers.base import (
    ParsedDocument,
    document_language,
    paragraphs,
    sections_from_blocks,
)

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(.+?)\1")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_HTML = re.compile(r"<[^>]+>")


def _plain(line: str) -> str:
    line = _LIST.sub("", _QUOTE.sub("", line))
    line = _LINK.sub(r"\1", line)
    line = _EMPHASIS.sub(r"\2", line)
    return _HTML.sub("", line)


def read_markdown(content: str, *, fallback_title: str) -> ParsedDocument:
    title = ""
    blocks: list[tuple[str, list[str]]] = []
    heading = ""
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        paras = paragraphs("\n".join(lines))
        if paras:
            blocks.append((heading, paras))

    for raw in content.replace("\r\n", "\n").split("\n"):
        if _FENCE.match(raw):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(raw)
        if match:
            flush()
            lines = []
            heading = _plain(match.group(2)).strip()
            if not title and len(match.group(1)) == 1:
                title = heading
            continue
        lines.append(raw if in_fence else _plain(raw))
    flush()
    title = title or fallback_title
    sections = sections_from_blocks(blocks, title)
    return ParsedDocument(
        title=title, kind="markdown", language=document_language(sections), sections=sections
    )
