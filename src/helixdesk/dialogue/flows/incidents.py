"""An affected customer hears about an incident first: an outage, an app error, a late batch.

The turn's context holds the incidents active when it was claimed (`TurnContext.incidents`). Each
one that affects this customer in this conversation (`helixdesk.incidents.rules.affects`: their
channel, products and city) and was not told in this conversation yet is told once, before
anything else the bot says: its title and explanation in the reply language (with the register's
fallbacks) and when a fix is expected. The dialogue state keeps which incidents were told; the
turn stores an `IncidentExplained` change, so the console can count them.
"""

from __future__ import annotations

from helixdesk.dialogue.effects import IncidentExplained
from helixdesk.dialogue.flows.base import Deciding
from helixdesk.incidents.rules import affects, text_in

TOLD_AT_ONCE = 2  # any others are told in the next reply
_ENDS = ("。", "！", "？", ".", "!", "?", "…")


def explain_incidents(d: Deciding) -> None:
    ctx = d.ctx
    customer = ctx.customer
    region = customer.profile.city if customer.profile is not None else None
    told = 0
    for incident in ctx.incidents:
        if incident.id in d.state.incidents_told or told >= TOLD_AT_ONCE:
            continue
        if not affects(incident, products=customer.products, channel=ctx.channel, region=region, now=ctx.now):
            continue
        told += 1
        d.state.incidents_told.append(incident.id)
        d.changes.append(IncidentExplained(incident_id=incident.id, version=incident.version))
        d.say(
            "incident.notice",
            kind="incident",
            incident_kind=incident.kind,
            status=incident.status,
            title=text_in(incident.title, d.language),
            explanation=_sentence(text_in(incident.explanation, d.language), d.language),
            expected_fix_at=incident.expected_fix_at,
        )


def _sentence(text: str, language: str) -> str:
    """The operator's explanation as a whole sentence, so the next one can follow it."""
    text = text.strip()
    if not text or text.endswith(_ENDS):
        return text
    return text + ("." if language == "en" else "。")
