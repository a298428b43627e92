"""Every reply key the pack's policies can reach has a template (in all three languages: the
loader refuses a template without one), so no turn can fail with `template_missing`."""

from __future__ import annotations

import pytest

from helixdesk.dialogue.flows.tasks import slot_prompt
from helixdesk.dialogue.policy import Step
from helixdesk.edge.wiring import PackConfig
from helixdesk.packs.loader import load_pack


@pytest.fixture(scope="module")
def pack() -> PackConfig:
    return PackConfig.load(load_pack("retail_bank"), code_length=6)


def _step_keys(step: Step | None) -> list[str]:
    if step is None:
        return []
    keys = [k for k in (step.ask, step.reply) if k]
    for answer in step.answers.values():
        keys += _step_keys(answer)  # an answer may reply, or ask again
    return keys


def test_every_slot_prompt_and_reply_key_has_a_template(pack):
    missing = []
    for intent, policy in pack.dialogue.policies.intents.items():
        # The slots the bot asks for: required ones, ones chosen from a list, and any of
        # `require_one_of` (it waits on the first and re-asks on whichever it waits on).
        asked = [n for n, sp in policy.slots.items() if sp.required or sp.choose_from is not None]
        keys = [slot_prompt(policy, name) for name in [*asked, *policy.require_one_of]]
        keys += [k for k in (policy.reply, policy.confirm, policy.result) if k]
        keys += _step_keys(policy.after)
        missing += [(intent, key) for key in keys if key not in pack.templates.keys]
    assert missing == []


def test_a_slot_any_of_which_will_do_is_asked_with_the_policys_prompt(pack):
    policy = pack.dialogue.policies.intents["unrecognized_transaction"]
    assert set(policy.require_one_of) == {"amount", "period", "merchant"}
    for name in policy.require_one_of:
        assert slot_prompt(policy, name) == "ask.transaction_hint"


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_confirming_a_dispute_carried_over_without_a_reason_renders(pack, language):
    text = pack.templates.render("confirm.open_dispute", language=language, slots={})
    assert text and "原因" not in text and "reason:" not in text


def test_a_carried_value_can_be_given_in_the_policy():
    from helixdesk.dialogue.flows.tasks import _lookup
    from helixdesk.dialogue.state import Task

    task = Task(intent="unrecognized_transaction", slots={"amount": "12.50"}, result={"best_ref": "T1"})
    assert _lookup(task, "value:unrecognised") == "unrecognised"
    assert _lookup(task, "result.best_ref") == "T1"
    assert _lookup(task, "slots.amount") == "12.50"
    assert _lookup(task, "slots.missing") is None


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_times_in_replies_are_the_banks_local_time(pack, language):
    from datetime import UTC, datetime, timedelta, timezone

    frozen = pack.templates.render(
        "result.freeze_card",
        language=language,
        result={
            "changed": True,
            "card_last4": "6621",
            "card_kind": "debit",
            "frozen_at": datetime(2026, 12, 3, 7, 48, tzinfo=UTC),
        },
    )
    assert "15:48" in frozen and "07:48" not in frozen  # UTC+8, the pack's bank time
    # A time already in local time (a transaction's) stays as it is.
    local = datetime(2026, 12, 3, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    text = pack.templates.render(
        "result.freeze_card",
        language=language,
        result={"changed": True, "card_last4": "1", "card_kind": "debit", "frozen_at": local},
    )
    assert "09:30" in text


SAMPLE_SLOTS = {
    "card_last4": "6621",
    "account_tail": "6621",
    "amount": "88.00",
    "base_amount": "10000.00",
    "merchant": "星巴克",
    "date": {"start": "2026-12-01T00:00:00", "end": "2026-12-02T00:00:00", "grain": "day"},
    "period": {"since": "2026-11-01", "until": "2026-11-30"},
    "currency": "USD",
    "transaction_ref": "TX000001C000",
    "plan_ref": "IP000001",
}
CHOICES = [
    {"value": "6621", "tail": "6621", "label_zh": "借记卡 尾号6621", "label_zh_hant": "扣賬卡 尾號6621", "label_en": "Debit card ending 6621"},
    {"value": "9876", "tail": "9876", "label_zh": "信用卡 尾号9876", "label_zh_hant": "信用卡 尾號9876", "label_en": "Credit card ending 9876"},
]  # fmt: skip


def _slot_combinations(policy, base: dict[str, object]) -> list[dict[str, object]]:
    """`base`, then each other slot added alone (every word value of a slot with words), then all."""
    combos: list[dict[str, object]] = [dict(base)]
    full: dict[str, object] = dict(base)
    for name, slot_policy in policy.slots.items():
        if name in base:
            continue
        values = list(slot_policy.words) + ([slot_policy.default] if slot_policy.default else [])
        for value in values or [SAMPLE_SLOTS.get(name, "x")]:
            combos.append({**base, name: value})
            full[name] = value
    combos.append(full)
    return combos


def _needed_before_confirming(policy) -> dict[str, object]:
    """The slots a confirmation always has: required ones and ones chosen from a list."""
    return {
        n: SAMPLE_SLOTS.get(n, "x")
        for n, sp in policy.slots.items()
        if sp.required or sp.choose_from is not None
    }


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_every_prompt_and_confirmation_renders_with_every_slot_combination(pack, language):
    """What the bot asks before an action runs, with no slot, each slot and all slots filled."""
    failures = []
    for intent, policy in pack.dialogue.policies.intents.items():
        asked = [n for n, sp in policy.slots.items() if sp.required or sp.choose_from is not None]
        keys = {slot_prompt(policy, name): {} for name in [*asked, *policy.require_one_of]}
        keys |= {k: {} for k in (policy.reply,) if k}
        if policy.confirm:
            keys[policy.confirm] = _needed_before_confirming(policy)
        for key, base in sorted(keys.items()):
            for slots in _slot_combinations(policy, base):
                try:
                    text = pack.templates.render(
                        key, language=language, name=None, slots=slots, choices=CHOICES
                    )
                except Exception as e:  # noqa: BLE001 - collect every failure, not the first
                    failures.append((intent, key, slots, repr(e)))
                    continue
                if not text or "{{" in text or "None" in text:
                    failures.append((intent, key, slots, text))
    assert failures == []


@pytest.mark.parametrize("language", ["zh-Hans", "zh-Hant", "en"])
def test_the_fast_lane_and_pick_lines_render(pack, language):
    from datetime import UTC, datetime

    frozen = {
        "card_last4": "6621",
        "card_kind": "credit",
        "frozen_at": datetime(2026, 12, 3, 7, 48, tzinfo=UTC),
    }
    assert "6621" in pack.templates.render("protect.frozen", language=language, result=frozen)
    assert "15:48" in pack.templates.render("protect.frozen", language=language, result=frozen)
    for key in ("protect.specialist_freezes", "protect.how_to_freeze", "ask.pick"):
        assert pack.templates.render(key, language=language, cards=2, choices=CHOICES)
