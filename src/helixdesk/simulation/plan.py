"""Which conversations a run holds, and which bank customer plays each.

`plan()` takes the scenarios' persona mixes and lays out `count` conversations, the personas in
turn (so a short run still meets every persona), each persona's scenarios shuffled by the seed and
drawn as often as their weights say, each conversation in one of the persona's languages with a
seed of its own. `Casting` gives every conversation its own customer of the bank (one-time codes to
one customer are spaced out, and an issue left open would change the next conversation): the
scenario's picker and the persona (an elderly customer is 65 or over) must both fit, and a
customer who prefers the conversation's language comes first.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from helixdesk.bank.connector import BankConnector
from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.simulation.bankdata import PICKERS, CustomerData
from helixdesk.simulation.personas import PERSONAS, Persona
from helixdesk.simulation.scenarios import Scenario, Simulation


class CustomersExhaustedError(AppError):
    code = "simulation_customers_exhausted"
    http_status = 409


@dataclass(frozen=True)
class Planned:
    number: int  # 1, 2, ... in the run
    scenario: Scenario
    persona: Persona
    language: str
    seed: int  # this conversation's own seed: its words, its choices


@dataclass(frozen=True)
class Cast:
    """The customer playing a conversation: their bank number (None: a visitor), the values the
    scenario's placeholders take, and what the bank holds about them."""

    ref: str | None
    values: dict[str, Any] = field(default_factory=dict)
    data: CustomerData | None = None


def plan(
    sim: Simulation,
    count: int,
    seed: int,
    *,
    personas: Sequence[str] = (),
    scenarios: Sequence[str] = (),
) -> list[Planned]:
    """`count` conversations of the simulation, restricted to some personas or scenarios if named."""
    unknown = [p for p in personas if p not in sim.personas] + [
        s for s in scenarios if s not in {x.id for x in sim.scenarios}
    ]
    if unknown:
        raise ValidationFailedError(f"no persona or scenario named {unknown}", code="invalid_option")
    rng = random.Random(seed)
    decks: dict[str, list[Scenario]] = {}
    for sc in sim.scenarios:
        if scenarios and sc.id not in scenarios:
            continue
        for name, weight in sc.personas.items():
            if not personas or name in personas:
                decks.setdefault(name, []).extend([sc] * weight)
    order = [p for p in PERSONAS if p in decks]
    if not order:
        raise ValidationFailedError("no scenario is played by the personas chosen", code="invalid_option")
    drawn: dict[str, list[Scenario]] = {}
    out: list[Planned] = []
    while len(out) < count:
        name = order[len(out) % len(order)]
        if not drawn.get(name):
            drawn[name] = rng.sample(decks[name], len(decks[name]))
        scenario = drawn[name].pop()
        persona = sim.personas[name]
        language = rng.choice([lang for lang in persona.languages if lang in scenario.say])
        out.append(Planned(len(out) + 1, scenario, persona, language, rng.randrange(2**31)))
    return out


class Casting:
    """Chooses the customers of a run from the bank, reading each customer's data once."""

    def __init__(
        self,
        bank: BankConnector,
        refs: Sequence[str],
        tz: tzinfo,
        now: datetime,
        *,
        seed: int,
        skip: set[str] | None = None,
    ) -> None:
        self._bank, self._tz, self._now = bank, tz, now
        self._refs = [r for r in refs if r not in (skip or set())]
        random.Random(seed).shuffle(self._refs)
        self._data: dict[str, CustomerData] = {}

    def data(self, ref: str) -> CustomerData:
        if ref not in self._data:
            self._data[ref] = CustomerData.read(self._bank, ref, self._tz, self._now)
        return self._data[ref]

    def cast(self, planned: Sequence[Planned]) -> list[Cast]:
        """A customer for each planned conversation (visitors need none); the scarcest first."""
        options: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        found: dict[tuple[Any, ...], list[tuple[str, dict[str, Any]]]] = {}
        for p in planned:
            if p.scenario.customer is None:
                continue
            name, params = p.scenario.customer
            key = (name, repr(sorted(params.items())), p.persona.name)
            if key not in found:
                found[key] = [
                    (ref, values)
                    for ref in self._refs
                    if (values := self._fits(ref, name, params, p.persona)) is not None
                ]
            options[p.number] = sorted(
                found[key], key=lambda rv: self.data(rv[0]).customer.preferred_language != p.language
            )
        by_number = {p.number: p for p in planned}
        chosen: dict[int, Cast] = {}
        used: set[str] = set()
        for number in sorted(options, key=lambda n: len(options[n])):
            pick = next(((r, v) for r, v in options[number] if r not in used), None)
            if pick is None:
                p = by_number[number]
                raise CustomersExhaustedError(
                    f"the bank has no customer left for scenario {p.scenario.id} played by "
                    f"{p.persona.name} ({len(options[number])} fit, each plays once per run); "
                    "run fewer conversations or load more demo customers"
                )
            used.add(pick[0])
            chosen[number] = Cast(pick[0], pick[1], self.data(pick[0]))
        return [chosen.get(p.number, Cast(None)) for p in planned]

    def _fits(self, ref: str, picker: str, params: dict[str, Any], persona: Persona) -> dict[str, Any] | None:
        data = self.data(ref)
        if not persona.fits(data.customer, data.age):
            return None
        return PICKERS[picker](data, params)
