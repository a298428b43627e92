"""Choosing among the charges an action found: "the biggest", "the second one", "the one at KFC".

When an action's result holds several matching transactions (`pick_from` in the intent's policy),
the result lists them and the bot waits for the customer to pick one before its follow-up question
("do you recognise it now?"). The pick narrows the result to that transaction; nothing runs again.
A customer picks by position (第二笔, "the second one", "2"), by amount ("the biggest", 最小的,
"the 88 one"), by time ("the latest", 最早那笔) or by merchant ("the one at KFC").
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from helixdesk.core.turn import Turn
from helixdesk.dialogue.answers import pick_choice
from helixdesk.dialogue.flows.base import Deciding
from helixdesk.dialogue.flows.tasks import current_step, do_step, is_new_request, reprompt_or_give_up
from helixdesk.dialogue.state import Task
from helixdesk.nlu.text import normalise, to_simplified

_SUPERLATIVES: tuple[tuple[str, bool, tuple[str, ...]], ...] = (
    # (field, highest?, words)
    ("amount", True, ("最大", "最多", "最贵", "金额最高", "最高", "大的那", "biggest", "largest", "highest", "most expensive", "big one", "larger")),
    ("amount", False, ("最小", "最少", "最便宜", "金额最低", "最低", "小的那", "smallest", "lowest", "cheapest", "small one", "smaller")),
    ("time", True, ("最近", "最新", "最后", "最晚", "latest", "most recent", "newest", "last one", "the last")),
    ("time", False, ("最早", "最先", "earliest", "oldest")),
)  # fmt: skip


def on_pick(d: Deciding, task: Task) -> bool:
    policy = d.policy(task.intent)
    field = policy.pick_from
    items = (task.result or {}).get(field) if field else None
    if not isinstance(items, list) or not items:
        d.state.task = None
        return False
    choice = pick_item(d.turn, task.choices)
    if choice is None:
        if is_new_request(d, task):
            return False
        return reprompt_or_give_up(d, task)
    item = items[int(choice["value"])]
    assert field is not None
    result = dict(task.result or {})
    result[field] = [item]
    if isinstance(item, dict) and "transaction" in item and "best_ref" in result:
        result["best_ref"] = item["transaction"].get("ref")
    task.result = result
    task.choices = []
    task.awaiting = None
    task.reprompts = 0
    d.say(policy.result or "dialogue.done", kind="action", result=result, slots=task.slots)
    d.state.task = None
    d.state.last = task
    step = current_step(task, policy)
    if step is not None:
        do_step(d, task, step, [])
    return True


def pick_item(turn: Turn, choices: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The choice the customer named: by superlative, merchant, amount, or position."""
    if not choices:
        return None
    text = to_simplified(turn.normalized or normalise(turn.text))
    for key, highest, words in _SUPERLATIVES:
        if any(w in text for w in words):
            ranked = sorted(choices, key=lambda c: _decimal(c[key]) or 0 if key == "amount" else c[key])
            return ranked[-1] if highest else ranked[0]
    merchants = {str(e.value).lower() for e in turn.entities if e.type == "merchant"}
    by_merchant = [
        c
        for c in choices
        if any(m and (m in c["merchant"].lower() or c["merchant"].lower() in m) for m in merchants)
    ]
    if len({c["merchant"] for c in by_merchant}) == 1 and len(by_merchant) == 1:
        return by_merchant[0]
    amounts = {
        _decimal(e.value.get("amount"))
        for e in turn.entities
        if e.type == "money" and isinstance(e.value, dict)
    }
    by_amount = [c for c in choices if _decimal(c["amount"]) in amounts]
    if len(by_amount) == 1:
        return by_amount[0]
    return pick_choice(turn, choices)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
