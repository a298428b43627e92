"""Uploads from the console: each file is ingested by a background job whose progress can be polled.

    jobs = UploadJobs(sessions=sessions, knowledge=kb, embed=embed, audit=audit)
    job = jobs.start(editor, filename="card-terms.pdf", data=raw)   # {"id": ..., "status": "queued"}
    jobs.get(job["id"])     # {"status": "running", "stage": "embed", "done": 3, "total": 12, ...}
    jobs.wait(job["id"])    # tests: block until it has finished

One job runs at a time on a worker thread of its own (ingestion embeds every chunk; it never runs
on the server's event loop). A job ends `done` (with the ingestion report; the running knowledge
base is reloaded, so the bot can answer from the file at once) or `failed` with the ingestion's
stable error code (`kb_unsupported_format`, `kb_empty_document`, `kb_invalid_faq`,
`kb_invalid_document`): ingestion is all-or-nothing, so a failed job changed nothing. The same
file uploaded again is `done` with the source listed as unchanged. Jobs live in the memory of the
worker that took the upload (the last 100 are kept).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import AppError, NotFoundError
from helixdesk.knowledge.errors import EmptyDocumentError
from helixdesk.knowledge.ingest import EmbedFn, IngestReport, ingest_upload
from helixdesk.knowledge.readers import kind_of
from helixdesk.knowledge.retrieval import KnowledgeBase
from helixdesk.knowledge.versions import Editor

log = logging.getLogger(__name__)
KEEP_JOBS = 100


class UploadNotFoundError(NotFoundError):
    code = "kb_upload_not_found"


class UploadJobs:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        knowledge: KnowledgeBase,
        embed: EmbedFn,
        audit: AuditLog | None = None,
    ) -> None:
        self._sessions = sessions
        self._knowledge = knowledge
        self._embed = embed
        self._audit = audit
        self._executor: ThreadPoolExecutor | None = None
        self._jobs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def start(self, by: Editor, *, filename: str, data: bytes) -> dict[str, Any]:
        """Check the file's name and size at once (a stable error code), then ingest it in the background."""
        name = Path(filename.replace("\\", "/")).name.strip()
        kind_of(Path(name or "unnamed"))
        if not data:
            raise EmptyDocumentError(f"{name}: the file is empty")
        job: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "filename": name,
            "bytes": len(data),
            "status": "queued",
            "stage": None,
            "done": 0,
            "total": 0,
            "error": None,
            "report": None,
            "created_at": utcnow().isoformat(),
        }
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-upload")
            self._jobs[job["id"]] = job
            while len(self._jobs) > KEEP_JOBS:
                old, _ = self._jobs.popitem(last=False)
                self._futures.pop(old, None)
            self._futures[job["id"]] = self._executor.submit(self._run, job["id"], by, name, data)
            return dict(job)

    def get(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise UploadNotFoundError(f"no upload {job_id} (this server keeps the last {KEEP_JOBS})")
            return dict(job)

    def wait(self, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)
        return self.get(job_id)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                job.update(changes)

    def _run(self, job_id: str, by: Editor, filename: str, data: bytes) -> None:
        self._update(job_id, status="running", stage="read")

        def progress(stage: str, done: int, total: int) -> None:
            self._update(job_id, stage=stage, done=done, total=total)

        def audit(s: Session, report: IngestReport) -> None:
            if self._audit is None or not report.changed:
                return
            self._audit.record(
                s,
                actor=Actor.staff(by.id, ip=by.ip, channel="console"),
                action="knowledge.document_uploaded",
                target=Target("kb_document", str(report.document_ids[0])),
                reason=f"{'replaced' if report.replaced else 'added'} upload:{filename}"[:500],
                details={"chunks": report.chunks},
            )

        try:
            report = ingest_upload(
                self._sessions,
                filename=filename,
                data=data,
                embed=self._embed,
                by=by,
                progress=progress,
                after_store=audit,
            )
            if report.changed:
                self._knowledge.load()
        except AppError as e:
            self._update(job_id, status="failed", error={"code": e.code, "detail": e.detail})
            return
        except Exception as e:  # the job reports every failure; nothing was stored
            log.exception("knowledge upload %s failed", job_id)
            self._update(
                job_id,
                status="failed",
                error={"code": "kb_ingest_failed", "detail": f"{type(e).__name__}: ingestion failed"},
            )
            return
        self._update(
            job_id,
            status="done",
            report={
                "added": report.added,
                "replaced": report.replaced,
                "unchanged": report.unchanged,
                "chunks": report.chunks,
                "document_id": report.document_ids[0] if report.document_ids else None,
            },
        )


__all__ = ["UploadJobs", "UploadNotFoundError"]
