"""The pack's simulation: its scenarios (goal, customer, words, expected outcome, persona mix), its
personas and its release gate, read from `packs/<pack>/simulation/` and checked when loaded.

`load_simulation(pack)` reads `personas.yaml` and `scenarios.yaml`; `scenarios=PATH` reads another
scenarios file (a bank's own, or one broken on purpose to see the gate fail). Any mistake is a
`SimulationConfigError` (`simulation_config_invalid`) naming the file and the scenario.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helixdesk.core.languages import LANGUAGES
from helixdesk.packs.loader import Pack
from helixdesk.routing.queues import QUEUES
from helixdesk.simulation.bankdata import PICKERS
from helixdesk.simulation.personas import Persona, SimulationConfigError, parse_personas

VISITOR = "visitor"
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
_PLACEHOLDER = re.compile(r"\{(\w+)(?:\.(\w+))?\}")
_SCENARIO_KEYS = frozenset({"id", "goal", "customer", "say", "details", "expect", "personas"})
_EXPECT_KEYS = frozenset({"intent", "action", "faq", "says", "handoff"})
_GATE_KEYS = ("completion_rate", "wrong_handoffs", "missed_handoffs", "invented_numbers", "server_errors")


@dataclass(frozen=True)
class Expect:
    intent: str | None = None
    action: str | None = None
    faq: tuple[str, ...] = ()
    says: tuple[tuple[str, ...], ...] = ()
    queues: frozenset[str] = frozenset()  # where a person may be reached
    settle: bool = True  # the bot may settle it without a person

    @property
    def needs_person(self) -> bool:
        """The goal is a person: only reaching one of `queues` reaches it."""
        return not self.settle


@dataclass(frozen=True)
class Scenario:
    id: str
    goal: str
    customer: tuple[str, dict[str, Any]] | None  # a picker and its parameters; None: a visitor
    say: dict[str, tuple[str, ...]]
    details: dict[str, tuple[str, ...]]
    expect: Expect
    personas: dict[str, int]  # persona -> weight


@dataclass(frozen=True)
class Gate:
    completion_rate: float = 0.8
    wrong_handoffs: int = 0
    missed_handoffs: int = 0
    invented_numbers: int = 0
    server_errors: int = 0


@dataclass(frozen=True)
class Simulation:
    personas: dict[str, Persona]
    scenarios: tuple[Scenario, ...]
    gate: Gate
    source: str


def load_simulation(pack: Pack, scenarios: Path | None = None) -> Simulation:
    folder = pack.path / "simulation"
    personas = parse_personas(read_yaml(folder / "personas.yaml"), "personas.yaml")
    path = scenarios or folder / "scenarios.yaml"
    raw = read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("scenarios"), list) or not raw["scenarios"]:
        raise SimulationConfigError(f"{path.name}: a mapping with a list of `scenarios`")
    unknown = set(raw) - {"gate", "scenarios"}
    if unknown:
        raise SimulationConfigError(f"{path.name}: unknown keys {sorted(unknown)}")
    parsed = tuple(_scenario(s, personas, path.name) for s in raw["scenarios"])
    ids = [s.id for s in parsed]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise SimulationConfigError(f"{path.name}: scenario ids used twice: {twice}")
    return Simulation(personas, parsed, _gate(raw.get("gate"), path.name), str(path))


def fill(text: str, values: dict[str, Any]) -> str:
    """`{txn.amount}` and `{tier}` from a picker's values; an unknown name is a scenario error."""

    def one(m: re.Match[str]) -> str:
        name, part = m.group(1), m.group(2)
        if name not in values:
            raise KeyError(f"no value {name!r} for {text!r}")
        value = values[name]
        return str(value[part] if part else value)

    return _PLACEHOLDER.sub(one, text)


def read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise SimulationConfigError(f"{path}: no such file") from e
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise SimulationConfigError(f"{path.name}: not a readable YAML file ({e})") from e


def _gate(raw: Any, where: str) -> Gate:
    if raw is None:
        return Gate()
    if not isinstance(raw, dict) or set(raw) - set(_GATE_KEYS):
        raise SimulationConfigError(f"{where}: gate holds only {', '.join(_GATE_KEYS)}")
    rate = raw.get("completion_rate", Gate.completion_rate)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
        raise SimulationConfigError(f"{where}: gate.completion_rate is a share from 0 to 1")
    counts: dict[str, int] = {}
    for key in _GATE_KEYS[1:]:
        value = raw.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SimulationConfigError(f"{where}: gate.{key} is a whole number, 0 or more")
        counts[key] = value
    return Gate(completion_rate=float(rate), **counts)


def _lines(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or set(raw) - set(LANGUAGES):
        raise SimulationConfigError(f"{where}: texts per language ({', '.join(LANGUAGES)})")
    out: dict[str, tuple[str, ...]] = {}
    for lang, texts in raw.items():
        if (
            not isinstance(texts, list)
            or not texts
            or not all(isinstance(t, str) and t.strip() for t in texts)
        ):
            raise SimulationConfigError(f"{where}.{lang}: a list of texts")
        out[lang] = tuple(texts)
    return out


def _customer(raw: Any, where: str) -> tuple[str, dict[str, Any]] | None:
    if raw in (None, VISITOR):
        return None
    params: dict[str, Any]
    if isinstance(raw, str):
        name, params = raw, {}
    elif isinstance(raw, dict) and len(raw) == 1 and isinstance(next(iter(raw.values())), dict):
        name, params = next(iter(raw.items()))
    else:
        raise SimulationConfigError(f"{where}.customer: a picker's name, or {{name: {{parameters}}}}")
    if name not in PICKERS:
        raise SimulationConfigError(
            f"{where}.customer: unknown picker {name!r}; one of {VISITOR}, {', '.join(sorted(PICKERS))}"
        )
    return str(name), dict(params)


def _expect(raw: Any, where: str) -> Expect:
    if not isinstance(raw, dict) or not raw or set(raw) - _EXPECT_KEYS:
        raise SimulationConfigError(f"{where}.expect: some of {', '.join(sorted(_EXPECT_KEYS))}")
    handoff = raw.get("handoff", "none")
    wanted = handoff if isinstance(handoff, list) else [handoff]
    bad = [q for q in wanted if q != "none" and q not in QUEUES]
    if not wanted or bad:
        raise SimulationConfigError(f"{where}.expect.handoff: none or a queue of {', '.join(QUEUES)}")
    says = raw.get("says") or []
    if not isinstance(says, list):
        raise SimulationConfigError(f"{where}.expect.says: a list of word groups")
    faq = raw.get("faq") or []
    if not isinstance(faq, list) or not all(isinstance(f, str) for f in faq):
        raise SimulationConfigError(f"{where}.expect.faq: a list of knowledge entry ids")
    return Expect(
        intent=str(raw["intent"]) if raw.get("intent") else None,
        action=str(raw["action"]) if raw.get("action") else None,
        faq=tuple(faq),
        says=tuple(tuple(str(w) for w in (g if isinstance(g, list) else [g])) for g in says),
        queues=frozenset(str(q) for q in wanted if q != "none"),
        settle="none" in wanted,
    )


def _scenario(raw: Any, personas: dict[str, Persona], file: str) -> Scenario:
    if not isinstance(raw, dict):
        raise SimulationConfigError(f"{file}: each scenario is a mapping")
    sid = str(raw.get("id", ""))
    if not _ID.match(sid):
        raise SimulationConfigError(f"{file}: scenario id {sid!r}: lower-case letters, digits and dashes")
    where = f"{file}: scenario {sid}"
    unknown = set(raw) - _SCENARIO_KEYS
    if unknown:
        raise SimulationConfigError(f"{where}: unknown keys {sorted(unknown)}")
    say = _lines(raw.get("say"), f"{where}.say")
    if not say:
        raise SimulationConfigError(f"{where}.say: what the customer says, in at least one language")
    details = _lines(raw.get("details"), f"{where}.details")
    customer = _customer(raw.get("customer", VISITOR), where)
    if customer is None and any("{" in t for texts in (*say.values(), *details.values()) for t in texts):
        raise SimulationConfigError(f"{where}: a visitor's words cannot use the bank's values")
    mix = raw.get("personas")
    if not isinstance(mix, dict) or not mix:
        raise SimulationConfigError(f"{where}.personas: a mapping of persona to weight")
    for name, weight in mix.items():
        if name not in personas:
            raise SimulationConfigError(f"{where}.personas: unknown persona {name!r}")
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise SimulationConfigError(f"{where}.personas.{name}: a whole weight from 1 to 100")
        if not set(personas[name].languages) & set(say):
            raise SimulationConfigError(f"{where}: persona {name} writes none of the scenario's languages")
    expect = _expect(raw.get("expect"), where)
    if expect.settle and not (expect.intent or expect.action or expect.faq or expect.says):
        raise SimulationConfigError(f"{where}.expect: what the bot must do (intent, action, faq or says)")
    return Scenario(
        id=sid,
        goal=str(raw.get("goal") or sid),
        customer=customer,
        say=say,
        details=details,
        expect=expect,
        personas={str(k): int(v) for k, v in mix.items()},
    )
