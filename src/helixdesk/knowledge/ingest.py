"""Ingestion: files to `kb_documents` + `kb_chunks`, all-or-nothing per run, idempotent by sha256.

    report = ingest(sessions, [Path("docs/policies")], embed=embed)
    report = ingest(sessions, [], embed=embed, pack="retail_bank")   # the pack's faq.yaml

Every file is read, parsed and embedded before anything is written, then one transaction replaces
the changed documents' chunks. An unchanged file (same source, same sha256) is a no-op; a bad file
fails the whole run with a stable code (kb_unsupported_format, kb_empty_document, kb_invalid_faq,
kb_invalid_document, kb_source_not_found) and nothing stored is touched.

    report = ingest_upload(sessions, filename="card-terms.pdf", data=raw, embed=embed, by=editor)

An upload from the console is keyed `upload:<file name>`. Every entry written gets a new version
(`knowledge/versions.py`, action `upload`); an entry that keeps its key (its FAQ id, or its section
position) across a re-upload keeps its validity dates and retirement, which are editors' decisions
rather than the file's content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.clock import utcnow
from helixdesk.db.session import reading, transaction
from helixdesk.knowledge.errors import KnowledgeSourceNotFoundError, UnsupportedFormatError
from helixdesk.knowledge.models import KbChunk, KbDocument, stored_questions
from helixdesk.knowledge.readers import KINDS, ParsedDocument, Section, kind_of, parse
from helixdesk.knowledge.text import LANGUAGES
from helixdesk.knowledge.versions import Editor, record
from helixdesk.nlu.embeddings import FloatArray
from helixdesk.packs.loader import load_pack

EmbedFn = Callable[[Sequence[str]], FloatArray]
Progress = Callable[[str, int, int], None]  # (stage, done, total)


AfterStore = Callable[[Session, "IngestReport"], None]


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    source: str  # stable key: "pack:NAME/kb/faq.yaml" or the absolute path
    title: str


@dataclass(slots=True)
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks: int = 0
    document_ids: list[int] = field(default_factory=list)  # of every document named, unchanged ones too

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced)


def pack_faq_source(pack: str) -> SourceFile:
    path = load_pack(pack).path / "kb" / "faq.yaml"
    if not path.is_file():
        raise KnowledgeSourceNotFoundError(f"pack {pack} has no kb/faq.yaml")
    return SourceFile(path=path, source=f"pack:{pack}/kb/faq.yaml", title=f"{pack} FAQ")


def collect(paths: Sequence[Path]) -> list[SourceFile]:
    """Files to ingest: given files, and the supported files under given folders (recursively)."""
    out: list[SourceFile] = []
    for path in paths:
        if not path.exists():
            raise KnowledgeSourceNotFoundError(f"{path}: no such file or folder")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in KINDS)
            if not files:
                raise UnsupportedFormatError(f"{path}: no supported files ({', '.join(sorted(KINDS))})")
        else:
            kind_of(path)
            files = [path]
        for file in files:
            resolved = file.resolve()
            out.append(SourceFile(path=resolved, source=str(resolved), title=file.stem.replace("_", " ")))
    return out


def embedding_texts(section: Section) -> tuple[list[str], str]:
    """The texts embedded for a chunk and their kinds: q = question/heading, a = answer/body."""
    if section.questions is not None and section.answers is not None:
        qs = [section.questions[lang] for lang in LANGUAGES if lang in section.questions]
        qs += [text for lang in LANGUAGES for text in section.alternatives.get(lang, ())]
        answers = [section.answers[lang] for lang in LANGUAGES if lang in section.answers]
        return [*qs, *answers], "q" * len(qs) + "a" * len(answers)
    return [section.heading, section.text], "qa"


def ingest(
    sessions: sessionmaker[Session],
    paths: Sequence[Path],
    *,
    embed: EmbedFn,
    pack: str | None = None,
    progress: Progress | None = None,
    by: Editor | None = None,
) -> IngestReport:
    files = ([pack_faq_source(pack)] if pack else []) + collect(paths)
    return _ingest(
        sessions,
        [(file, file.path.read_bytes) for file in files],
        embed=embed,
        progress=progress,
        by=by or Editor.system("ingest"),
    )


def ingest_upload(
    sessions: sessionmaker[Session],
    *,
    filename: str,
    data: bytes,
    embed: EmbedFn,
    by: Editor,
    progress: Progress | None = None,
    after_store: AfterStore | None = None,
) -> IngestReport:
    """Ingest one uploaded file (keyed `upload:<file name>`); the same bytes again are a no-op.
    `after_store(session, report)` runs in the writing transaction (an audit entry, say)."""
    name = Path(filename.replace("\\", "/")).name.strip()
    if not name:
        raise UnsupportedFormatError("the upload has no file name")
    kind_of(Path(name))
    file = SourceFile(path=Path(name), source=f"upload:{name}"[:512], title=Path(name).stem.replace("_", " "))
    return _ingest(
        sessions, [(file, lambda: data)], embed=embed, progress=progress, by=by, after_store=after_store
    )


def _ingest(
    sessions: sessionmaker[Session],
    files: Sequence[tuple[SourceFile, Callable[[], bytes]]],
    *,
    embed: EmbedFn,
    progress: Progress | None,
    by: Editor,
    after_store: AfterStore | None = None,
) -> IngestReport:
    report = IngestReport()
    with reading(sessions) as s:
        stored = {d.source: (d.sha256, d.id) for d in s.scalars(select(KbDocument))}
    todo: list[tuple[SourceFile, str, ParsedDocument]] = []
    for done, (file, read) in enumerate(files):
        data = read()
        digest = hashlib.sha256(data).hexdigest()
        if file.source in stored and stored[file.source][0] == digest:
            report.unchanged.append(file.source)
            report.document_ids.append(stored[file.source][1])
        else:
            kind = "faq" if file.source.startswith("pack:") else kind_of(file.path)
            todo.append(
                (file, digest, parse(data, kind=kind, source=str(file.path), fallback_title=file.title))
            )
        if progress:
            progress("read", done + 1, len(files))
    vectors: list[list[tuple[bytes, str]]] = []
    total = sum(len(doc.sections) for _, _, doc in todo)
    done = 0
    for _, _, doc in todo:
        per_doc = []
        for section in doc.sections:
            texts, kinds = embedding_texts(section)
            matrix = np.ascontiguousarray(embed(texts), dtype=np.float32)
            per_doc.append((matrix.tobytes(), kinds))
            done += 1
            if progress:
                progress("embed", done, total)
        vectors.append(per_doc)
    if todo:
        with transaction(sessions) as s:
            for (file, digest, doc), rows in zip(todo, vectors, strict=True):
                _store(s, file, digest, doc, rows, report, by)
            if after_store is not None:
                after_store(s, report)
    if progress:
        progress("store", 1, 1)
    return report


def ingest_entry(
    sessions: sessionmaker[Session],
    *,
    source: str,
    title: str,
    faq_id: str,
    question: str,
    answer: str,
    language: str,
    intents: Sequence[str] = (),
    alternatives: Sequence[str] = (),
    embed: EmbedFn,
    by: Editor | None = None,
) -> IngestReport:
    """Add (or replace) one question-and-answer entry, e.g. an agent's reviewed insight, with
    other ways customers ask it (`alternatives`: searched, never shown)."""
    section = Section(
        heading=question,
        text=answer,
        language=language,
        faq_id=faq_id[:64],
        questions={language: question},
        answers={language: answer},
        alternatives={language: tuple(alternatives)} if alternatives else {},
        intents=tuple(intents),
    )
    doc = ParsedDocument(title=title, kind="faq", language=language, sections=[section])
    texts, kinds = embedding_texts(section)
    matrix = np.ascontiguousarray(embed(texts), dtype=np.float32)
    digest = hashlib.sha256("\n".join([question, answer, language, *alternatives]).encode()).hexdigest()
    report = IngestReport()
    with transaction(sessions) as s:
        _store(
            s,
            SourceFile(path=Path(source), source=source, title=title),
            digest,
            doc,
            [(matrix.tobytes(), kinds)],
            report,
            by or Editor.system("drafts"),
        )
    return report


def _store(
    s: Session,
    file: SourceFile,
    digest: str,
    doc: ParsedDocument,
    rows: list[tuple[bytes, str]],
    report: IngestReport,
    by: Editor,
) -> None:
    existing = s.scalar(select(KbDocument).where(KbDocument.source == file.source))
    kept: dict[str, KbChunk] = {}
    decisions: dict[str, tuple[Any, Any, Any]] = {}
    if existing is None:
        existing = KbDocument(source=file.source)
        s.add(existing)
        report.added.append(file.source)
    else:
        kept = {c.entry_key: c for c in s.scalars(select(KbChunk).where(KbChunk.document_id == existing.id))}
        decisions = {key: (c.valid_from, c.valid_until, c.retired_at) for key, c in kept.items()}
        s.execute(delete(KbChunk).where(KbChunk.document_id == existing.id))
        s.expire_all()
        report.replaced.append(file.source)
    existing.title = doc.title[:256]
    existing.kind = doc.kind
    existing.language = doc.language
    existing.sha256 = digest
    existing.ingested_at = utcnow()
    s.flush()
    report.document_ids.append(existing.id)
    summary = f"{'re-uploaded' if kept else 'uploaded'} {file.source}"
    for order, (section, (embedding, kinds)) in enumerate(zip(doc.sections, rows, strict=True)):
        chunk = KbChunk(
            document_id=existing.id,
            order=order,
            faq_id=section.faq_id,
            language=section.language,
            heading=section.heading[:512],
            text=section.text,
            questions=stored_questions(section.questions, section.alternatives),
            answers=section.answers,
            intents=list(section.intents) if section.intents else None,
            embedding=embedding,
            embedding_kinds=kinds,
        )
        if kept and chunk.entry_key in kept:
            chunk.valid_from, chunk.valid_until, chunk.retired_at = decisions[chunk.entry_key]
        s.add(chunk)
        record(s, chunk, action="upload", summary=summary, by=by)
        report.chunks += 1


__all__ = [
    "EmbedFn",
    "IngestReport",
    "SourceFile",
    "collect",
    "ingest",
    "ingest_entry",
    "ingest_upload",
    "pack_faq_source",
]
