"""HTML: scripts, styles and navigation dropped; one section per h1-h4 heading."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from helixdesk.knowledge.readers.base import (
    ParsedDocument,
    document_language,
    paragraphs,
    sections_from_blocks,
)

_HEADINGS = ("h1", "h2", "h3", "h4")
_BLOCKS = ("p", "li", "td", "th", "dd", "dt", "pre", "blockquote", "div")
_DROP = ("script", "style", "noscript", "template", "nav", "header", "footer", "form", "svg", "iframe")


def read_html(content: str, *, fallback_title: str) -> ParsedDocument:
    soup = BeautifulSoup(content, "html.parser")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    title_tag = soup.find("title")
    title = title_tag.get_text(" ", strip=True) if title_tag else ""
    body = soup.body or soup
    blocks: list[tuple[str, list[str]]] = []
    heading = ""
    current: list[str] = []
    for element in body.find_all([*_HEADINGS, *_BLOCKS]):
        if not isinstance(element, Tag):
            continue
        if element.name in _HEADINGS:
            if current:
                blocks.append((heading, current))
                current = []
            heading = element.get_text(" ", strip=True)
            if not title and element.name == "h1":
                title = heading
            continue
        # Only leaf-level blocks: a div or li that contains other blocks is read through its children.
        if element.find(_BLOCKS) is not None:
            continue
        text = element.get_text("\n", strip=True)
        current.extend(paragraphs(text.replace("\n", " ")))
    if current:
        blocks.append((heading, current))
    title = title or fallback_title
    sections = sections_from_blocks(blocks, title)
    return ParsedDocument(title=title, kind="html", language=document_language(sections), sections=sections)
