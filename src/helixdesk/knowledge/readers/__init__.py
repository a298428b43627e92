"""Per-format readers: bytes of a file to a `ParsedDocument` (title, kind, language, sections)."""

from __future__ import annotations

from pathlib import Path

from helixdesk.knowledge.errors import EmptyDocumentError, InvalidDocumentError, UnsupportedFormatError
from helixdesk.knowledge.readers.base import ParsedDocument, Section
from helixdesk.knowledge.readers.faq import read_faq
from helixdesk.knowledge.readers.html import read_html
from helixdesk.knowledge.readers.markdown import read_markdown
from helixdesk.knowledge.readers.pdf import read_pdf
from helixdesk.knowledge.readers.text import read_text

KINDS = {
    ".yaml": "faq",
    ".yml": "faq",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".text": "text",
    ".pdf": "pdf",
}


def kind_of(path: Path) -> str:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise UnsupportedFormatError(
            f"{path}: unsupported format {path.suffix or '(no extension)'!r}; "
            f"use one of {', '.join(sorted(KINDS))} (FAQ YAML, Markdown, HTML, plain text, PDF)"
        )
    return kind


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidDocumentError(f"{source}: text is neither UTF-8 nor GB18030 ({e})") from e


def parse(data: bytes, *, kind: str, source: str, fallback_title: str) -> ParsedDocument:
    """Parse one file's bytes; raises kb_empty_document when nothing retrievable is in it."""
    if kind == "pdf":
        doc = read_pdf(data, fallback_title=fallback_title, source=source)
    else:
        content = _decode(data, source)
        if kind == "faq":
            doc = read_faq(content, source=source, fallback_title=fallback_title)
        elif kind == "markdown":
            doc = read_markdown(content, fallback_title=fallback_title)
        elif kind == "html":
            doc = read_html(content, fallback_title=fallback_title)
        elif kind == "text":
            doc = read_text(content, fallback_title=fallback_title)
        else:
            raise UnsupportedFormatError(f"{source}: unsupported kind {kind!r}")
    if not doc.sections:
        raise EmptyDocumentError(f"{source}: no text to index (an empty file, or a scanned PDF without text)")
    return doc


__all__ = ["KINDS", "ParsedDocument", "Section", "kind_of", "parse"]
