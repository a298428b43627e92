"""The knowledge workspace's JSON API (`/console/api/kb/...`), for knowledge editors, supervisors and
admins: upload documents (a background job with progress), browse documents, chunks and entries,
edit, retire, date and roll back an entry, and try a question on the bot's own answer path.

Routes are thin: `helixdesk.knowledge.workspace` and `helixdesk.knowledge.uploads` do the work.
Every unsafe call carries the session's CSRF token (`X-CSRF-Token`), as every console call does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field, StringConstraints, field_validator

from helixdesk.core.inputs import Input
from helixdesk.core.languages import LANGUAGES
from helixdesk.dialogue.flows.base import ranking
from helixdesk.edge.deps import (
    KnowledgeEditorDep,
    KnowledgeWorkspaceDep,
    ParserDep,
    UploadJobsDep,
    client_ip,
)
from helixdesk.edge.http import ERROR_RESPONSES, NON_BLANK_TEXT
from helixdesk.knowledge.text import detect_language
from helixdesk.knowledge.versions import Editor

router = APIRouter(prefix="/console/api/kb", tags=["knowledge workspace"], responses=ERROR_RESPONSES)
UPLOAD_PATH = "/console/api/kb/uploads"

Language = Literal["zh-Hans", "zh-Hant", "en"]
Question = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NON_BLANK_TEXT)]
Answer = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=NON_BLANK_TEXT)]
Alternative = Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NON_BLANK_TEXT)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FILENAME = r"^[^/\\]{0,200}\.(yaml|yml|md|markdown|html|htm|txt|text|pdf|YAML|YML|MD|HTML|HTM|TXT|PDF)$"


class EntryIn(Input):
    questions: dict[Language, Question] = Field(min_length=1, description="The question per language.")
    answers: dict[Language, Answer] = Field(min_length=1, description="The answer per language.")
    alternatives: dict[Language, list[Alternative]] = Field(
        default_factory=dict, description="Other wordings customers use (at most 24 in all)."
    )


class ValidityIn(Input):
    valid_from: AwareDatetime | None = Field(default=None, description="From when; none: already valid.")
    valid_until: AwareDatetime | None = Field(default=None, description="Until when; none: no end.")

    @field_validator("valid_from", "valid_until", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        """Only ISO 8601 text (what the schema says), never a number taken as seconds since 1970."""
        if value is not None and not isinstance(value, str):
            raise ValueError("give an ISO 8601 date-time with a zone, e.g. 2027-01-01T00:00:00Z")
        return value


class RetireIn(Input):
    reason: str = Field(default="", max_length=400)


class RollbackIn(Input):
    version: int = Field(ge=1, le=2**31 - 1, description="The version to restore.")


class TryIn(Input):
    text: str = Field(min_length=1, max_length=2000, pattern=NON_BLANK_TEXT)
    language: Language | None = Field(default=None, description="Answer language (default: the question's).")


def _editor(request: Request, user: Any) -> Editor:
    return Editor(user.id, user.display_name, ip=client_ip(request))


# ---- uploads ------------------------------------------------------------------------------------


@router.post(
    "/uploads",
    status_code=202,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(
    request: Request,
    jobs: UploadJobsDep,
    user: KnowledgeEditorDep,
    filename: Annotated[str, Query(max_length=210, pattern=FILENAME, description="The file's name.")],
) -> JSONResponse:
    """Upload one file (the raw bytes as the body): FAQ YAML, Markdown, HTML, text or PDF. Answers
    202 with the ingestion job; poll `GET /console/api/kb/uploads/{job_id}` for its progress."""
    data = await request.body()
    job = await anyio.to_thread.run_sync(
        lambda: jobs.start(_editor(request, user), filename=filename, data=data)
    )
    return JSONResponse(job, status_code=202)


@router.get("/uploads/{job_id}")
async def upload_status(
    job_id: Annotated[str, Path(max_length=64)], jobs: UploadJobsDep, _user: KnowledgeEditorDep
) -> dict[str, Any]:
    """queued, running (stage read, embed or store: `done` of `total`), done (the report) or failed
    (`error.code`: the ingestion's stable code; nothing was stored)."""
    return jobs.get(job_id)


# ---- browsing -----------------------------------------------------------------------------------


@router.get("/documents")
async def documents(ws: KnowledgeWorkspaceDep, _user: KnowledgeEditorDep) -> dict[str, Any]:
    return {"documents": await anyio.to_thread.run_sync(ws.documents)}


@router.get("/documents/{document_id}")
async def document(
    document_id: RowId, ws: KnowledgeWorkspaceDep, _user: KnowledgeEditorDep
) -> dict[str, Any]:
    """A document with its chunks (entries): each one's language, validity and status."""
    return await anyio.to_thread.run_sync(ws.document, document_id)


@router.put("/documents/{document_id}/validity")
async def document_validity(
    request: Request,
    document_id: RowId,
    body: ValidityIn,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
) -> dict[str, Any]:
    """When the whole document (a policy, say) may be quoted; checked at every search."""
    return await anyio.to_thread.run_sync(
        lambda: ws.set_document_validity(
            _editor(request, user), document_id, valid_from=body.valid_from, valid_until=body.valid_until
        )
    )


@router.get("/entries/{entry_id}")
async def entry(entry_id: RowId, ws: KnowledgeWorkspaceDep, _user: KnowledgeEditorDep) -> dict[str, Any]:
    """One entry: questions and alternative wordings per language, answers, validity, status, its
    versions (newest first) and its product -> problem -> solution graph."""
    return await anyio.to_thread.run_sync(ws.entry, entry_id)


# ---- changes ------------------------------------------------------------------------------------


@router.put("/entries/{entry_id}")
async def edit_entry(
    request: Request,
    entry_id: RowId,
    body: EntryIn,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
) -> dict[str, Any]:
    """New questions, answers and alternative wordings of a FAQ entry; the bot answers from them at once."""
    return await anyio.to_thread.run_sync(
        lambda: ws.edit(
            _editor(request, user),
            entry_id,
            questions={str(lang): text for lang, text in body.questions.items()},
            answers={str(lang): text for lang, text in body.answers.items()},
            alternatives={lang: list(items) for lang, items in body.alternatives.items()},
        )
    )


@router.post("/entries/{entry_id}/retire")
async def retire_entry(
    request: Request,
    entry_id: RowId,
    body: RetireIn,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
) -> dict[str, Any]:
    """Retire an entry: it is no longer retrieved."""
    return await anyio.to_thread.run_sync(
        lambda: ws.retire(_editor(request, user), entry_id, retired=True, reason=body.reason)
    )


@router.post("/entries/{entry_id}/restore")
async def restore_entry(
    request: Request,
    entry_id: RowId,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
) -> dict[str, Any]:
    """Bring a retired entry back."""
    return await anyio.to_thread.run_sync(lambda: ws.retire(_editor(request, user), entry_id, retired=False))


@router.put("/entries/{entry_id}/validity")
async def entry_validity(
    request: Request,
    entry_id: RowId,
    body: ValidityIn,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
) -> dict[str, Any]:
    """When the entry may be given as an answer; an expired or not yet valid entry is never retrieved."""
    return await anyio.to_thread.run_sync(
        lambda: ws.set_validity(
            _editor(request, user), entry_id, valid_from=body.valid_from, valid_until=body.valid_until
        )
    )


@router.post("/entries/{entry_id}/rollback")
async def rollback_entry(
    request: Request,
    entry_id: RowId,
    body: RollbackIn,
    ws: KnowledgeWorkspaceDep,
    user: KnowledgeEditorDep,
) -> dict[str, Any]:
    """Restore an earlier version (content, dates, retirement); the restore is a new version."""
    return await anyio.to_thread.run_sync(
        lambda: ws.rollback(_editor(request, user), entry_id, version=body.version)
    )


# ---- trying a question --------------------------------------------------------------------------


@router.post("/try")
async def try_question(
    body: TryIn, ws: KnowledgeWorkspaceDep, parser: ParserDep, _user: KnowledgeEditorDep
) -> dict[str, Any]:
    """What the bot would answer: the NLU reads the question (language, intent ranking) and the
    knowledge base answers as in a conversation, with every candidate's scores and citation."""
    turn = await parser.parse(body.text)
    language = body.language or (turn.language if turn.language in LANGUAGES else detect_language(body.text))
    hint = ranking(turn)
    result = await anyio.to_thread.run_sync(
        lambda: ws.try_question(body.text, language=language, intent=hint)
    )
    top = turn.intent_ranking[0] if turn.intent_ranking else None
    return {**result, "intent": {"name": top.name, "confidence": top.confidence} if top else None}
