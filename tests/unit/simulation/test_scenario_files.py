"""The pack's simulation scenarios load, are in our own words, and a broken file is refused with
where it is broken; the plan meets every persona and is the same for the same seed."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from helixdesk.packs.loader import load_pack
from helixdesk.simulation.personas import PERSONAS, SimulationConfigError
from helixdesk.simulation.plan import plan
from helixdesk.simulation.scenarios import fill, load_simulation

PACK = load_pack("retail_bank")
SIM = load_simulation(PACK)


def _norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text.lower())


def test_the_packs_scenarios_cover_the_goals_and_every_persona():
    ids = {s.id for s in SIM.scenarios}
    assert {"check-balance", "lost-card", "dispute-charge", "scam-report", "vip-wants-a-person"} <= ids
    assert {p for s in SIM.scenarios for p in s.personas} == set(PERSONAS)
    scam = next(s for s in SIM.scenarios if s.id == "scam-report")
    assert scam.expect.needs_person and scam.expect.queues == {"fraud"}
    balance = next(s for s in SIM.scenarios if s.id == "check-balance")
    assert balance.expect.action == "get_balance" and balance.expect.settle and not balance.expect.queues
    assert (
        SIM.gate.invented_numbers == 0 and SIM.gate.wrong_handoffs == 0 and 0 < SIM.gate.completion_rate <= 1
    )


def test_the_scenarios_words_are_not_the_nlus_training_examples():
    examples: set[str] = set()
    for path in (PACK.path / "nlu" / "intents").glob("*.yaml"):
        for texts in (yaml.safe_load(path.read_text(encoding="utf-8")).get("examples") or {}).values():
            examples.update(_norm(t) for t in texts)
    said = [t for s in SIM.scenarios for texts in s.say.values() for t in texts]
    copied = [t for t in said if "{" not in t and _norm(t) in examples]
    assert not copied, copied


def _broken(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    raw = yaml.safe_load((PACK.path / "simulation" / "scenarios.yaml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "scenarios.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _first(raw: dict) -> dict:
    return raw["scenarios"][0]


def _dispute(raw: dict) -> dict:
    return next(s for s in raw["scenarios"] if s["id"] == "dispute-charge")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: _first(r).update(customer="millionaire"), "unknown picker 'millionaire'"),
        (lambda r: _first(r)["personas"].update(robot=1), "unknown persona 'robot'"),
        (lambda r: _first(r)["expect"].update(handoff="helpdesk"), "expect.handoff"),
        (lambda r: _first(r).pop("say"), "say"),
        (lambda r: _dispute(r).update(customer="visitor"), "a visitor's words"),
        (lambda r: r["scenarios"].append(dict(_first(r))), "used twice"),
        (lambda r: _first(r).update(personas={"cantonese": 1}, say={"en": ["hi"]}), "writes none of"),
        (lambda r: r["gate"].update(completion_rate=1.5), "completion_rate"),
        (lambda r: _first(r).update(expect={"handoff": "none"}), "what the bot must do"),
    ],
)
def test_a_broken_scenario_file_is_refused_with_where(tmp_path, change, words):
    with pytest.raises(SimulationConfigError) as e:
        load_simulation(PACK, scenarios=_broken(tmp_path, change))
    assert e.value.code == "simulation_config_invalid"
    assert words in e.value.detail


def test_a_missing_or_unreadable_file_is_a_clear_error(tmp_path):
    with pytest.raises(SimulationConfigError, match="no such file"):
        load_simulation(PACK, scenarios=tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scenarios: [", encoding="utf-8")
    with pytest.raises(SimulationConfigError, match="not a readable YAML file"):
        load_simulation(PACK, scenarios=bad)


def test_the_plan_meets_every_persona_in_turn_and_follows_the_seed():
    planned = plan(SIM, 16, 3)
    assert Counter(p.persona.name for p in planned) == dict.fromkeys(PERSONAS, 2)
    assert all(p.language in p.persona.languages and p.language in p.scenario.say for p in planned)
    assert all(p.persona.name in p.scenario.personas for p in planned)
    again = plan(SIM, 16, 3)
    assert [(p.scenario.id, p.persona.name, p.language, p.seed) for p in planned] == [
        (p.scenario.id, p.persona.name, p.language, p.seed) for p in again
    ]
    assert [p.scenario.id for p in plan(SIM, 16, 4)] != [p.scenario.id for p in planned]
    only = plan(SIM, 5, 1, scenarios=["scam-report"])
    assert {p.scenario.id for p in only} == {"scam-report"} and {p.persona.name for p in only} <= {
        "scam_victim",
        "elderly",
    }


def test_a_plan_naming_what_does_not_exist_is_refused():
    from helixdesk.core.errors import ValidationFailedError

    with pytest.raises(ValidationFailedError) as e:
        plan(SIM, 3, 1, personas=["pirate"])
    assert e.value.code == "invalid_option"


def test_placeholders_are_filled_from_the_pickers_values():
    assert (
        fill("{txn.amount}的那笔，{tier}", {"txn": {"amount": "12.30"}, "tier": "vip"}) == "12.30的那笔，vip"
    )
    with pytest.raises(KeyError):
        fill("{card.last4}", {})
