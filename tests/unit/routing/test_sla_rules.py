"""First-response targets (SLAs) by queue, customer tier and channel: the most specific matching rule
wins, the strictest of equally specific ones; no rule, the queue's own; bad rules are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from helixdesk.core.errors import ConfigurationError
from helixdesk.handoff.policy import load_handoff_policy
from helixdesk.packs.loader import load_pack
from helixdesk.routing.config import Routing
from helixdesk.routing.priority import RoutingInput, decide

PACK_POLICY = load_pack("retail_bank").path / "handoff" / "policy.yaml"
QUEUES = {
    "fraud": {"base": 80, "sla_seconds": 60},
    "senior": {"base": 55, "sla_seconds": 120},
    "relationship_manager": {"base": 50, "sla_seconds": 180},
    "general": {"base": 30, "sla_seconds": 180},
}


def routing(*rules: dict[str, object]) -> Routing:
    return Routing.model_validate({"queues": QUEUES, "sla_rules": list(rules)})


RULES = routing(
    {"tier": "vip", "seconds": 20},
    {"queue": "fraud", "seconds": 50},
    {"queue": "general", "channel": "app", "seconds": 120},
    {"channel": "voice", "seconds": 30},
    {"queue": "general", "tier": "gold", "channel": "wechat", "seconds": 150},
)


@pytest.mark.parametrize(
    ("queue", "tier", "channel", "expected", "why"),
    [
        ("senior", None, "web", 120, "no rule matches: the queue's own"),
        ("fraud", None, "web", 50, "a queue rule"),
        ("senior", "vip", "web", 20, "a tier rule, in any queue"),
        ("fraud", "vip", "web", 20, "queue and tier rules equally specific: the strictest"),
        ("fraud", None, "voice", 30, "queue and channel rules equally specific: the strictest"),
        ("general", None, "app", 120, "queue + channel"),
        ("general", "vip", "app", 120, "queue + channel is more specific than tier, though laxer"),
        ("general", "gold", "wechat", 150, "three names beat none"),
        ("general", "gold", "app", 120, "the three-name rule needs all three"),
        ("relationship_manager", "vip", "voice", 20, "tier and channel tie: the strictest"),
        ("relationship_manager", "gold", None, 180, "an unknown channel matches no channel rule"),
    ],
)
def test_the_most_specific_rule_wins_and_a_tie_goes_to_the_strictest(queue, tier, channel, expected, why):
    assert RULES.sla_for(queue, tier, channel) == expected, why


def test_without_rules_every_target_is_the_queues():
    plain = routing()
    for queue, rule in QUEUES.items():
        assert plain.sla_for(queue, "vip", "voice") == rule["sla_seconds"]


def test_the_decision_carries_the_target_in_force():
    base = {"reason": "customer_request", "evidence": "", "intent": None, "language": "en"}
    vip = decide(RoutingInput(queue="general", value_tier="vip", channel="web", **base), RULES)
    assert vip.sla_seconds == 20
    assert vip.factors["sla_seconds"] == 20
    anyone = decide(RoutingInput(queue="general", **base), RULES)
    assert anyone.sla_seconds == 180


def test_the_default_pack_answers_vips_within_20_seconds_and_fraud_within_a_minute():
    policy = load_handoff_policy(PACK_POLICY).routing
    for queue in QUEUES:
        assert policy.sla_for(queue, "vip", "web") <= 20
        assert policy.sla_for(queue, "vip", "voice") <= 20
    assert policy.sla_for("fraud", None, "web") <= 60
    assert policy.sla_for("fraud", "gold", "app") <= 60
    assert policy.sla_for("general", None, "web") == 180


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"seconds": 30}, "at least one of queue, tier, channel"),
        ({"queue": "loans", "seconds": 30}, "unknown queue 'loans'; queues are fraud, senior"),
        ({"tier": "vip", "seconds": 4}, "greater than or equal to 5"),
        ({"tier": "vip", "seconds": 86_401}, "less than or equal to 86400"),
        ({"tier": "vip", "seconds": 20, "segment": "retail"}, "Extra inputs are not permitted"),
    ],
)
def test_a_bad_rule_is_refused_with_a_clear_message(rule, message):
    with pytest.raises(ValidationError, match=message):
        routing(rule)


def _policy_with(tmp_path: Path, rules: list[dict[str, object]]) -> Path:
    raw = yaml.safe_load(PACK_POLICY.read_text(encoding="utf-8"))
    raw["routing"]["sla_rules"] = rules
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_a_bad_rule_in_the_policy_file_fails_loading_with_its_place(tmp_path):
    with pytest.raises(ConfigurationError, match=r"routing\.sla_rules\.1: .*unknown queue 'vip'") as e:
        load_handoff_policy(
            _policy_with(tmp_path, [{"tier": "vip", "seconds": 20}, {"queue": "vip", "seconds": 9}])
        )
    assert e.value.code == "handoff_policy_invalid"
    with pytest.raises(ConfigurationError, match=r"unknown channel 'fax'; channels are web, app"):
        load_handoff_policy(_policy_with(tmp_path, [{"channel": "fax", "seconds": 20}]))
