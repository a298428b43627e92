"""Training mode's page (`/console/training`): an agent picks a practice customer (an angry customer,
a scam victim) and a language, reads the situation, talks to the simulated customer and gets the QA
score of what they wrote, with each finding's reason and a compliant alternative. The page is
marked as practice throughout; `static/training.js` talks to the JSON API
(`edge/console/training_api.py`). The agent's earlier practice and its scores are listed below.
"""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from helixdesk.edge.console.pages import page
from helixdesk.edge.deps import AgentDep, StaffSessionDep, TrainingDep
from helixdesk.edge.i18n import all_keys, translate, ui_language

router = APIRouter(prefix="/console", include_in_schema=False)


@router.get("/training", response_class=HTMLResponse)
async def training_page(
    request: Request, user: AgentDep, session: StaffSessionDep, room: TrainingDep
) -> HTMLResponse:
    lang = ui_language(request, user.ui_language)
    history = await anyio.to_thread.run_sync(lambda: room.history(user.id, 10))
    words = {key: translate(key, lang) for key in all_keys() if key.startswith("tr_")}
    return page(
        request,
        "console_training.html",
        user=user,
        csrf=session.csrf_token,
        customers=room.customers(lang),
        history=history,
        training_words=words,
    )
