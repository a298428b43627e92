"""The learning pages of the console.

- `/console/labelling` (annotators, supervisors): the queue's counts, the items waiting, the dataset
  versions (supervisors make a new one); `/console/labelling/next` opens the next item;
- `/console/labelling/{item_id}`: one item: the masked message in its context, what the models made
  of it, and the form to confirm or correct its intent, emotion and entity spans;
- `/console/models` (supervisors, admins): the model registry; `/console/models/{version}`: one
  version's report (accuracy, per-label P/R/F1, confusion matrix, out-of-scope recall, calibration,
  latency), the gate against the live model, shadow runs and their disagreements (supervisors:
  they show customers' masked messages), and the buttons to shadow, promote and roll back.

`static/labelling.js` and `static/models.js` call the JSON APIs (`learning_api.py`, `models_api.py`).
"""

from __future__ import annotations

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helixdesk.core.turn import EMOTIONS
from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import (
    AnnotatorDep,
    DatasetsDep,
    LabellingDep,
    ModelManagerDep,
    ModelWatchDep,
    RegistryDep,
    StaffSessionDep,
)
from helixdesk.edge.i18n import translate, ui_language
from helixdesk.learning.sampling import REASONS
from helixdesk.nlu.entities import ENTITY_TYPES

router = APIRouter(prefix="/console", include_in_schema=False)
SCRIPT_WORDS = (
    "ln_saved_resolved",
    "ln_saved_waiting",
    "ln_none_left",
    "ln_select_first",
    "ln_remove",
    "md_confirm_promote",
    "md_confirm_rollback",
    "md_override_needed",
)


def _words(lang: str) -> dict[str, str]:
    return {key: translate(key, lang) for key in SCRIPT_WORDS}


@router.get("/labelling", response_class=HTMLResponse)
async def labelling_page(
    request: Request,
    labelling: LabellingDep,
    datasets: DatasetsDep,
    user: AnnotatorDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    counts = await anyio.to_thread.run_sync(labelling.counts)
    waiting = await anyio.to_thread.run_sync(lambda: labelling.waiting(user))
    versions = await anyio.to_thread.run_sync(datasets.versions)
    lang = ui_language(request, user.ui_language)
    return page(
        request,
        "console_labelling.html",
        user=user,
        csrf=session.csrf_token,
        counts=counts,
        waiting=waiting,
        datasets=versions,
        reasons=REASONS,
        done=request.query_params.get("done") == "1",
        ln_words=_words(lang),
    )


@router.get("/labelling/next", response_model=None)
async def next_item_page(labelling: LabellingDep, user: AnnotatorDep) -> Response:
    item = await anyio.to_thread.run_sync(lambda: labelling.next_item(user))
    target = f"/console/labelling/{item.id}" if item is not None else "/console/labelling?done=1"
    return RedirectResponse(target, status_code=303)


@router.get("/labelling/{item_id}", response_class=HTMLResponse)
async def item_page(
    request: Request, item_id: str, labelling: LabellingDep, user: AnnotatorDep, session: StaffSessionDep
) -> HTMLResponse:
    item = await anyio.to_thread.run_sync(labelling.item, user, item_id[:36])
    lang = ui_language(request, user.ui_language)
    labels = request.app.state.container.config.labels
    prediction = item.prediction
    intents = sorted(labelling.vocabulary.intents, key=lambda i: labels.get("intent", i, lang))
    predicted_emotion = (prediction.get("emotion") or {}).get("label")
    return page(
        request,
        "console_label_item.html",
        user=user,
        csrf=session.csrf_token,
        item=item,
        intents=intents,
        emotions=EMOTIONS,
        entity_types=ENTITY_TYPES,
        predicted_intent=(prediction.get("intent") or {}).get("name"),
        predicted_emotion=predicted_emotion,
        label_data={
            "item": item.id,
            "text": item.text,
            "entities": [
                {"type": e["type"], "start": e["start"], "end": e["end"]}
                for e in prediction.get("entities") or []
                if e.get("type") in ENTITY_TYPES
            ],
            "entity_labels": {e: labels.get("entity", e, lang) for e in ENTITY_TYPES},
            "words": _words(lang),
        },
    )


@router.get("/models", response_class=HTMLResponse)
async def models_page(
    request: Request,
    registry: RegistryDep,
    watch: ModelWatchDep,
    user: ModelManagerDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    versions = await anyio.to_thread.run_sync(registry.versions)
    runs = await anyio.to_thread.run_sync(registry.shadow_runs)
    live = next((v for v in versions if v.status == "live"), None)
    return page(
        request,
        "console_models.html",
        user=user,
        csrf=session.csrf_token,
        models=versions,
        live=live,
        shadow=next((r for r in runs if r["stopped_at"] is None), None),
        serving=watch.serving.get("intent") or (live.version if live else None),
        md_words=_words(ui_language(request, user.ui_language)),
    )


@router.get("/models/{version}", response_class=HTMLResponse)
async def model_page(
    request: Request,
    version: str,
    registry: RegistryDep,
    user: ModelManagerDep,
    session: StaffSessionDep,
) -> HTMLResponse:
    def read() -> dict[str, Any]:
        found = registry.get(version[:64])
        report = registry.report(found.version)
        return {
            "model": found,
            "report": report,
            "gate": registry.check_gate(found.version),
            "runs": registry.shadow_runs(found.version),
            "disagreements": registry.disagreements(found.version, limit=100) if user.is_supervisor else [],
            "confusion": compact_confusion(report),
        }

    data = await anyio.to_thread.run_sync(read)
    return page(
        request,
        "console_model.html",
        user=user,
        csrf=session.csrf_token,
        per_label=sorted(data["report"]["per_label"], key=lambda r: (r["f1"], r["label"])),
        md_words=_words(ui_language(request, user.ui_language)),
        **data,
    )


def compact_confusion(report: dict[str, Any]) -> dict[str, Any]:
    """The confusion matrix cut to the labels involved in a confusion (a row or a column with a
    count off the diagonal), each cell with a shade class 0-4 of its share of the row."""
    labels: list[str] = report["confusion"]["labels"]
    matrix: list[list[int]] = report["confusion"]["matrix"]
    keep = [
        i
        for i in range(len(labels))
        if any(matrix[i][j] for j in range(len(labels)) if j != i)
        or any(matrix[j][i] for j in range(len(labels)) if j != i)
    ]
    rows = []
    for i in keep:
        total = sum(matrix[i]) or 1
        rows.append(
            {
                "label": labels[i],
                "cells": [
                    {
                        "count": matrix[i][j],
                        "shade": min(4, (matrix[i][j] * 8 + total - 1) // total),
                        "diagonal": i == j,
                    }
                    for j in keep
                ],
            }
        )
    return {"labels": [labels[j] for j in keep], "rows": rows}
