"""`helixdesk kb`: ingest documents into the knowledge base, search it, list it, explain via the graph.

    helixdesk kb ingest --pack --if-stale          # the pack's FAQ (a no-op when unchanged)
    helixdesk kb ingest docs/policies/ card-terms.pdf
    helixdesk kb search "在国外刷不了卡" [--language zh-Hans] [--intent card_declined] [--json]
    helixdesk kb list [--json]
    helixdesk kb explain card-declined-abroad [--language en]

Errors exit with code 2 and print `error[code]: message` on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory

app = typer.Typer(help="Knowledge base: ingest, search, list, explain.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

LANGS = LANGUAGES


def _fail(e: AppError) -> NoReturn:
    err.print(f"[bold red]error\\[{escape(e.code)}][/]: {escape(e.detail)}", highlight=False)
    raise typer.Exit(2)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.database_url))


def _language(value: str | None) -> str | None:
    if value is not None and value not in LANGS:
        _fail(ValidationFailedError(f"--language must be one of {', '.join(LANGS)}", code="bad_language"))
    return value


@app.command("ingest")
def ingest_cmd(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (FAQ YAML, .md, .html, .txt, .pdf).")
    ] = None,
    pack: Annotated[
        bool, typer.Option("--pack", help="Also ingest the configured pack's kb/faq.yaml.")
    ] = False,
    if_stale: Annotated[
        bool, typer.Option(help="Print nothing when every source is already current (for set-up scripts).")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
) -> None:
    """Ingest documents; unchanged files are skipped, and a bad file aborts the run with nothing written."""
    from helixdesk.knowledge.ingest import ingest
    from helixdesk.nlu.embeddings import embed

    settings = Settings()
    if not paths and not pack:
        _fail(
            ValidationFailedError("give files or folders to ingest, or --pack", code="kb_nothing_to_ingest")
        )
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=quiet or if_stale,
    )
    tasks: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        with bar:
            report = ingest(
                _sessions(settings),
                paths or [],
                embed=embed,
                pack=settings.pack if pack else None,
                progress=progress,
            )
    except AppError as e:
        _fail(e)
    if if_stale and not report.changed:
        return
    for source in report.added:
        out.print(f"added     {source}")
    for source in report.replaced:
        out.print(f"replaced  {source}")
    for source in report.unchanged:
        out.print(f"unchanged {source}")
    out.print(f"{report.chunks} chunks written")


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="The customer's question.")],
    language: Annotated[str | None, typer.Option(help="Answer language: zh-Hans, zh-Hant or en.")] = None,
    intent: Annotated[str | None, typer.Option(help="The NLU intent, used as a re-ranking hint.")] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50, help="How many hits.")] = 5,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the grounded answer and hits as JSON.")
    ] = False,
) -> None:
    """Hybrid search; shows whether the best hit is grounded enough to answer, and its citation."""
    from helixdesk.knowledge.graph import KnowledgeGraph
    from helixdesk.knowledge.retrieval import KnowledgeBase
    from helixdesk.knowledge.text import detect_language
    from helixdesk.nlu.embeddings import embed

    settings = Settings()
    lang = _language(language) or detect_language(query)
    try:
        graph = KnowledgeGraph.from_pack(settings.pack)
    except AppError:
        graph = None
    kb = KnowledgeBase(sessions=_sessions(settings), embed=embed, graph=graph)
    try:
        kb.load()
        answer = kb.answer(query, language=lang, intent=intent, top_k=top_k)
    except AppError as e:
        _fail(e)
    if as_json:
        out.print_json(json.dumps(answer.to_dict(), ensure_ascii=False, default=str))
        return
    verdict = (
        "[green]grounded[/]" if answer.grounded else "[yellow]not grounded: say so and offer an agent[/]"
    )
    out.print(f"{verdict} (confidence {answer.confidence:.3f}, threshold {answer.threshold:.3f})")
    table = Table()
    for col in ("#", "FAQ / section", "confidence", "rerank", "fused", "bm25", "dense", "question"):
        table.add_column(col)
    for i, hit in enumerate(answer.hits, start=1):
        table.add_row(
            str(i),
            escape(hit.faq_id or hit.citation.section),
            f"{hit.scores.confidence:.3f}",
            f"{hit.scores.rerank:.2f}",
            f"{hit.scores.fused:.3f}",
            f"{hit.scores.bm25:.2f}",
            f"{hit.scores.dense:.3f}",
            escape(hit.question),
        )
    out.print(table)
    if answer.grounded and answer.best is not None:
        out.print(escape(answer.best.answer))
        out.print(
            f"[dim]source: {escape(answer.best.citation.label())} {escape(answer.best.citation.source)}[/]"
        )
    for link in answer.explanations:
        out.print(f"- {escape(link.cause)} → {escape(link.solution)}")


@app.command("list")
def list_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the documents as JSON.")] = False,
) -> None:
    """Documents in the knowledge base with their kind, language, chunk count and ingest time."""
    from helixdesk.knowledge.models import KbChunk, KbDocument

    settings = Settings()
    with _sessions(settings)() as s:
        rows = s.execute(
            select(KbDocument, func.count(KbChunk.id))
            .outerjoin(KbChunk)
            .group_by(KbDocument.id)
            .order_by(KbDocument.source)
        ).all()
    docs = [
        {
            "source": d.source,
            "title": d.title,
            "kind": d.kind,
            "language": d.language,
            "chunks": n,
            "sha256": d.sha256,
            "ingested_at": d.ingested_at.isoformat(),
        }
        for d, n in rows
    ]
    if as_json:
        out.print_json(json.dumps(docs, ensure_ascii=False))
        return
    table = Table(title=f"{len(docs)} documents")
    for col in ("source", "title", "kind", "language", "chunks", "ingested"):
        table.add_column(col)
    for d in docs:
        table.add_row(
            escape(str(d["source"])),
            escape(str(d["title"])),
            str(d["kind"]),
            str(d["language"]),
            str(d["chunks"]),
            str(d["ingested_at"])[:19],
        )
    out.print(table)


@app.command("explain")
def explain_cmd(
    faq_id: Annotated[str, typer.Argument(help="A FAQ id, e.g. card-declined-abroad.")],
    language: Annotated[str, typer.Option(help="zh-Hans, zh-Hant or en.")] = "en",
) -> None:
    """Causes and solutions the pack's knowledge graph links to a FAQ entry."""
    from helixdesk.knowledge.graph import KnowledgeGraph

    lang = _language(language) or "en"
    try:
        graph = KnowledgeGraph.from_pack(Settings().pack)
    except AppError as e:
        _fail(e)
    explanations = graph.explain(faq_id, lang)
    if not explanations:
        _fail(
            ValidationFailedError(
                f"the knowledge graph has no record for FAQ {faq_id!r}", code="kb_not_in_graph"
            )
        )
    for link in explanations:
        out.print(
            f"[bold]{escape(link.product)} / {escape(link.problem)}[/]: "
            f"{escape(link.cause)} → {escape(link.solution)}"
        )
