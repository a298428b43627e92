"""PDF text layer (pypdf): paragraphs of every page; scanned PDFs without text are empty documents."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from helixdesk.knowledge.errors import InvalidDocumentError
from helixdesk.knowledge.readers.base import (
    ParsedDocument,
    document_language,
    join_lines,
    paragraphs,
    sections_from_blocks,
)


def read_pdf(data: bytes, *, fallback_title: str, source: str) -> ParsedDocument:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise InvalidDocumentError(f"{source}: not a readable PDF ({e})") from e
    blocks: list[tuple[str, list[str]]] = []
    for page in pages:
        paras = paragraphs(page.replace("\n", "\n\n"))
        paras = _merge_lines(paras)
        if not paras:
            continue
        heading = ""
        if len(paras) > 1 and len(paras[0]) <= 60 and not paras[0].endswith(_SENTENCE_END):
            heading, paras = paras[0], paras[1:]
        blocks.append((heading, paras))
    title = str(meta_title).strip() or fallback_title
    sections = sections_from_blocks(blocks, title)
    return ParsedDocument(title=title, kind="pdf", language=document_language(sections), sections=sections)


_SENTENCE_END = tuple("。！？；.!?;:：")


def _merge_lines(lines: list[str]) -> list[str]:
    """Text extraction gives one entry per printed line; a line ending a sentence closes a paragraph."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line.endswith(_SENTENCE_END) or len(line) < 30:
            out.append(join_lines(current))
            current = []
    if current:
        out.append(join_lines(current))
    return out
