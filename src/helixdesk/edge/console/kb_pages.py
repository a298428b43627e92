"""The knowledge workspace's pages (`/console/knowledge/...`) for knowledge editors, supervisors and
admins: the documents with the upload form and "try a question", one document with its chunks, one
entry with its editor, validity, retirement, graph and versions. `static/knowledge.js` calls the
JSON API (`edge/console/kb_api.py`)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from helixdesk.core.languages import LANGUAGES
from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import KnowledgeEditorDep, KnowledgeWorkspaceDep, StaffSessionDep
from helixdesk.edge.i18n import translate, ui_language

router = APIRouter(prefix="/console/knowledge", include_in_schema=False)
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# What knowledge.js words itself (progress, results, refusals), in the page's language.
SCRIPT_WORDS = (
    "kb_stage_queued",
    "kb_stage_read",
    "kb_stage_embed",
    "kb_stage_store",
    "kb_upload_done",
    "kb_upload_unchanged",
    "kb_upload_failed",
    "kb_open_document",
    "kb_saved",
    "kb_bot_answers",
    "kb_not_grounded",
    "kb_citation",
    "kb_confidence",
    "kb_threshold",
    "kb_nlu_intent",
    "kb_explanations",
    "kb_cause",
    "kb_solution",
)
SCRIPT_ERRORS = (
    "kb_unsupported_format",
    "kb_empty_document",
    "kb_invalid_faq",
    "kb_invalid_document",
    "kb_invalid_entry",
    "kb_invalid_validity",
    "kb_not_editable",
    "kb_entry_not_found",
    "kb_version_not_found",
    "kb_ingest_failed",
    "payload_too_large",
)


def _words(request: Request, lang: str) -> dict[str, dict[str, str]]:
    labels = request.app.state.container.config.labels
    return {
        "words": {key: translate(key, lang) for key in SCRIPT_WORDS},
        "errors": {code: translate(f"error_{code}", lang) for code in SCRIPT_ERRORS},
        # The NLU's intents, worded as the pack words them (the intent "try a question" shows).
        "intents": dict(labels.table(("intent",), lang).get("intent", {})),
        "languages": dict(labels.table(("language",), lang).get("language", {})),
    }


@router.get("", response_class=HTMLResponse)
async def knowledge_page(
    request: Request, ws: KnowledgeWorkspaceDep, user: KnowledgeEditorDep, session: StaffSessionDep
) -> HTMLResponse:
    docs = await anyio.to_thread.run_sync(ws.documents)
    lang = ui_language(request, user.ui_language)
    return page(
        request,
        "console_knowledge.html",
        user=user,
        csrf=session.csrf_token,
        documents=docs,
        answer_languages=LANGUAGES,
        kb_words=_words(request, lang),
    )


@router.get("/documents/{document_id}", response_class=HTMLResponse)
async def document_page(
    request: Request,
    document_id: RowId,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    doc = await anyio.to_thread.run_sync(ws.document, document_id)
    lang = ui_language(request, user.ui_language)
    return page(
        request,
        "console_kb_document.html",
        user=user,
        csrf=session.csrf_token,
        doc=doc,
        kb_words=_words(request, lang),
    )


@router.get("/entries/{entry_id}", response_class=HTMLResponse)
async def entry_page(
    request: Request,
    entry_id: RowId,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    entry = await anyio.to_thread.run_sync(ws.entry, entry_id)
    lang = ui_language(request, user.ui_language)
    return page(
        request,
        "console_kb_entry.html",
        user=user,
        csrf=session.csrf_token,
        entry=entry,
        entry_languages=LANGUAGES,
        kb_words=_words(request, lang),
    )
