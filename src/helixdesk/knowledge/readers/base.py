"""What every reader returns: a titled document cut into sections (the future chunks)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from helixdesk.knowledge.text import detect_language

MAX_CHUNK_CHARS = 1200  # longer sections are cut at paragraph boundaries


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    text: str
    language: str
    faq_id: str | None = None
    questions: dict[str, str] | None = None
    answers: dict[str, str] | None = None
    intents: tuple[str, ...] = ()
    # FAQ only: other wordings of the question per language (searched, never shown).
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    title: str
    kind: str
    language: str
    sections: list[Section] = field(default_factory=list)


_BLANK_LINES = re.compile(r"\n\s*\n")
_SPACES = re.compile(r"[ \t\u3000]+")


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, inner whitespace collapsed, empty ones dropped."""
    out = []
    for block in _BLANK_LINES.split(text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [_SPACES.sub(" ", line).strip() for line in block.split("\n")]
        joined = join_lines([line for line in lines if line])
        if joined:
            out.append(joined)
    return out


def join_lines(lines: list[str]) -> str:
    """Join wrapped lines: no space between two Chinese characters, one space otherwise."""
    out = ""
    for line in lines:
        if out and not (_is_cjk(out[-1]) and _is_cjk(line[0])):
            out += " "
        out += line
    return out


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"


def sections_from_blocks(blocks: list[tuple[str, list[str]]], default_heading: str) -> list[Section]:
    """Sections from (heading, paragraphs) blocks; long blocks are split at paragraph boundaries."""
    out: list[Section] = []
    for heading, paras in blocks:
        title = heading or default_heading
        current: list[str] = []
        size = 0
        for para in paras:
            if current and size + len(para) > MAX_CHUNK_CHARS:
                out.append(_section(title, current))
                current, size = [], 0
            current.append(para)
            size += len(para)
        if current:
            out.append(_section(title, current))
    return out


def _section(heading: str, paras: list[str]) -> Section:
    text = "\n\n".join(paras)
    return Section(heading=heading, text=text, language=detect_language(f"{heading} {text}"))


def document_language(sections: list[Section]) -> str:
    langs = {s.language for s in sections}
    if len(langs) == 1:
        return langs.pop()
    return "mul"
