"""The practice customers of the console's training mode: an angry customer, a scam victim.

The pack's `simulation/training.yaml` gives each one its persona, patience, starting mood, the
situation the agent reads, its opening words, what it needs to hear and what it says. `respond()`
is the customer's answer to one agent message, rule-based and seeded: a message that breaks one of
the pack's QA rules makes it worse; one that meets a need calms it; once every need is met it is
satisfied; when its patience runs out it leaves. While heated it speaks in its persona's style
(`personas.Style`). Pure: the state goes in and comes out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from helixdesk.core.languages import LANGUAGES
from helixdesk.nlu.text import normalise
from helixdesk.packs.loader import Pack
from helixdesk.simulation.personas import Persona, SimulationConfigError, parse_personas
from helixdesk.simulation.scenarios import read_yaml

OUTCOMES = ("worse", "better", "same", "satisfied", "leaves")
HEATED = 0.6  # from this mood on, the customer writes in its persona's style


@dataclass(frozen=True)
class Need:
    id: str
    words: tuple[str, ...]  # normalised: lower case, Simplified
    ask: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class PracticeCustomer:
    kind: str
    persona: Persona
    patience: int
    mood: float
    situation: dict[str, str]
    opening: dict[str, tuple[str, ...]]
    needs: tuple[Need, ...]
    replies: dict[str, dict[str, tuple[str, ...]]]  # outcome -> language -> texts


@dataclass
class CallerState:
    """Where a practice conversation stands (stored with it)."""

    mood: float
    met: list[str] = field(default_factory=list)
    turns: int = 0  # agent messages answered

    def to_dict(self) -> dict[str, Any]:
        return {"mood": self.mood, "met": list(self.met), "turns": self.turns}

    @classmethod
    def of(cls, raw: dict[str, Any]) -> CallerState:
        return cls(float(raw["mood"]), [str(m) for m in raw.get("met") or []], int(raw.get("turns") or 0))


@dataclass(frozen=True)
class Response:
    text: str
    outcome: str  # one of OUTCOMES
    met: tuple[str, ...]  # needs this message met
    state: CallerState

    @property
    def ends(self) -> bool:
        return self.outcome in ("satisfied", "leaves")


def load_practice_customers(pack: Pack) -> dict[str, PracticeCustomer]:
    """The pack's practice customers (`simulation/training.yaml`, in the styles of its personas)."""
    personas = parse_personas(read_yaml(pack.path / "simulation" / "personas.yaml"), "personas.yaml")
    raw = read_yaml(pack.path / "simulation" / "training.yaml")
    if not isinstance(raw, dict) or not isinstance(raw.get("customers"), dict):
        raise SimulationConfigError("training.yaml: a mapping with `customers`")
    return {str(kind): _customer(str(kind), body, personas) for kind, body in raw["customers"].items()}


def opening(customer: PracticeCustomer, language: str, rng: random.Random) -> str:
    text = rng.choice(customer.opening[language])
    return customer.persona.style(language, rng).request(text)


def respond(
    customer: PracticeCustomer,
    language: str,
    state: CallerState,
    agent_text: str,
    *,
    broke_rules: bool,
    rng: random.Random,
) -> Response:
    """The customer's answer to the agent's message (`broke_rules`: it has a QA finding)."""
    norm = normalise(agent_text)
    met = tuple(n.id for n in customer.needs if n.id not in state.met and any(w in norm for w in n.words))
    after = CallerState(state.mood, [*state.met, *met], state.turns + 1)
    if broke_rules:
        outcome, after.mood = "worse", min(1.0, state.mood + 0.2)
    elif met:
        outcome, after.mood = "better", max(0.0, state.mood - 0.25 * len(met))
    else:
        outcome, after.mood = "same", min(1.0, state.mood + 0.05)
    missing = [n for n in customer.needs if n.id not in after.met]
    if not missing and outcome != "worse":
        outcome = "satisfied"
    elif after.turns >= customer.patience:
        outcome = "leaves"
    text = rng.choice(customer.replies[outcome][language])
    if outcome not in ("satisfied", "leaves") and missing:
        text = f"{text}{' ' if language == 'en' else ''}{rng.choice(missing[0].ask[language])}"
    if after.mood >= HEATED and outcome != "satisfied":
        text = customer.persona.style(language, rng).request(text, opening=outcome == "worse")
    return Response(text, outcome, met, after)


# ---- reading the file --------------------------------------------------------------------------


def _by_language(raw: Any, where: str, single: bool = False) -> dict[str, Any]:
    if not isinstance(raw, dict) or set(raw) != set(LANGUAGES):
        raise SimulationConfigError(f"{where}: one entry for each of {', '.join(LANGUAGES)}")
    for lang, value in raw.items():
        ok = (
            isinstance(value, str)
            if single
            else isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        )
        if not ok:
            raise SimulationConfigError(f"{where}.{lang}: {'a text' if single else 'a list of texts'}")
    return {lang: (value if single else tuple(value)) for lang, value in raw.items()}


def _customer(kind: str, raw: Any, personas: dict[str, Persona]) -> PracticeCustomer:
    where = f"training.yaml: {kind}"
    if not isinstance(raw, dict):
        raise SimulationConfigError(f"{where}: a mapping")
    persona = personas.get(str(raw.get("persona")))
    if persona is None:
        raise SimulationConfigError(f"{where}.persona: one of {', '.join(personas)}")
    if set(persona.languages) != set(LANGUAGES):
        raise SimulationConfigError(f"{where}.persona: a persona that writes {', '.join(LANGUAGES)}")
    patience, mood = raw.get("patience"), raw.get("mood")
    if isinstance(patience, bool) or not isinstance(patience, int) or not 1 <= patience <= 30:
        raise SimulationConfigError(f"{where}.patience: a whole number of messages from 1 to 30")
    if isinstance(mood, bool) or not isinstance(mood, int | float) or not 0 <= mood <= 1:
        raise SimulationConfigError(f"{where}.mood: from 0 to 1")
    needs = []
    for i, n in enumerate(raw.get("needs") or []):
        here = f"{where}.needs[{i}]"
        if (
            not isinstance(n, dict)
            or not isinstance(n.get("id"), str)
            or not isinstance(n.get("words"), dict)
        ):
            raise SimulationConfigError(f"{here}: `id`, `words` (zh, en) and `ask`")
        words = [normalise(str(w)) for group in n["words"].values() for w in group or ()]
        if not words or set(n["words"]) - {"zh", "en"}:
            raise SimulationConfigError(f"{here}.words: words under zh and en")
        needs.append(Need(n["id"], tuple(words), _by_language(n.get("ask"), f"{here}.ask")))
    if not needs:
        raise SimulationConfigError(f"{where}.needs: at least one")
    replies = raw.get("replies")
    if not isinstance(replies, dict) or set(replies) != set(OUTCOMES):
        raise SimulationConfigError(f"{where}.replies: {', '.join(OUTCOMES)}")
    return PracticeCustomer(
        kind=kind,
        persona=persona,
        patience=patience,
        mood=float(mood),
        situation=_by_language(raw.get("situation"), f"{where}.situation", single=True),
        opening=_by_language(raw.get("opening"), f"{where}.opening"),
        needs=tuple(needs),
        replies={o: _by_language(replies[o], f"{where}.replies.{o}") for o in OUTCOMES},
    )
