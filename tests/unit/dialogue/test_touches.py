"""The bot's one lifecycle touch per conversation: after an answer, where it is natural, the first
strategy for the bot that matches the customer and passes the suitability gate; once; never to a
customer who is upset, has a complaint or fraud report open, or is in the strategy's holdout group."""

from __future__ import annotations

from dataclasses import replace

from helixdesk.core.turn import Emotion
from helixdesk.dialogue.effects import ActionDone, LifecycleTouched, ReadLifecycle, RunAction
from helixdesk.dialogue.state import DialogueState
from helixdesk.lifecycle.recommend import Snapshot
from helixdesk.lifecycle.strategies import Strategy, in_holdout, load_strategies
from helixdesk.lifecycle.touches import TouchRead
from helixdesk.packs.loader import load_pack
from tests.unit.dialogue.test_decide import context, decider, play, says

__all__ = ["decider"]  # the module's Decider fixture

STRATEGIES = load_strategies(load_pack("retail_bank")).strategies
VERSIONS = {s.id: 3 for s in STRATEGIES}


def snapshot(**changes) -> Snapshot:
    base = {
        "ref": "C000042",
        "stage": "exploration",
        "churn_band": "low",
        "interests": (),
        "risk_tolerance": "balanced",
        "age": 40,
    }
    return Snapshot(**(base | changes))


def read(snap: Snapshot | None, strategies: tuple[Strategy, ...] = STRATEGIES) -> TouchRead:
    return TouchRead(snapshot=snap, strategies=strategies, versions=VERSIONS)


def balance_turn(state: DialogueState | None = None, **turn):
    ctx = context(signed_in=True, verified=True, state=state or DialogueState(issues_raised=True))
    return ctx, says("what's my balance?", "balance_inquiry", **turn)


def touches(played) -> list[LifecycleTouched]:
    return [c for c in played.decision.changes if isinstance(c, LifecycleTouched)]


def test_after_an_answer_the_first_matching_strategy_for_the_bot_is_added_once(decider):
    ctx, turn = balance_turn()
    played = play(
        decider, ctx, turn, {RunAction: ActionDone({"accounts": []}), ReadLifecycle: read(snapshot())}
    )
    # An exploring customer: the pack's first strategy for the bot is the app's first steps.
    expected = next(s for s in STRATEGIES if "bot" in s.where and "exploration" in s.when.stages)
    assert [s.key for s in played.decision.says] == ["result.get_balance", "lifecycle.touch"]
    touch = played.decision.says[-1]
    assert touch.kind == "touch" and touch.values["text"] == expected.texts["en"]
    assert touches(played) == [
        LifecycleTouched(strategy_id=expected.id, version=3, kind=expected.what.kind, arm="touched")
    ]
    assert played.decision.state.touch_checked
    # The next turn of the conversation does not look again.
    again_ctx, again = balance_turn(state=played.decision.state)
    later = play(decider, again_ctx, again, {RunAction: ActionDone({"accounts": []})})
    assert ReadLifecycle not in [type(a) for a in later.asked] and touches(later) == []


def test_the_touch_is_in_the_reply_language(decider):
    ctx = context(signed_in=True, verified=True, state=DialogueState(issues_raised=True), language="zh-Hans")
    played = play(
        decider,
        ctx,
        says("我的余额是多少", "balance_inquiry", language="zh-Hans"),
        {RunAction: ActionDone({"accounts": []}), ReadLifecycle: read(snapshot())},
    )
    expected = next(s for s in STRATEGIES if "bot" in s.where and "exploration" in s.when.stages)
    assert played.decision.says[-1].values["text"] == expected.texts["zh-Hans"]


def test_nothing_for_an_upset_customer_and_they_are_not_looked_up(decider):
    ctx, turn = balance_turn(emotion=Emotion("anger", 0.8))
    played = play(decider, ctx, turn, {RunAction: ActionDone({"accounts": []})})
    assert ReadLifecycle not in [type(a) for a in played.asked] and touches(played) == []
    assert not played.decision.state.touch_checked  # a calmer moment may come


def test_an_open_complaint_blocks_every_touch(decider):
    state = DialogueState(issues_raised=True, intents=["complaint"])
    ctx, turn = balance_turn(state=state)
    played = play(
        decider, ctx, turn, {RunAction: ActionDone({"accounts": []}), ReadLifecycle: read(snapshot())}
    )
    assert [s.key for s in played.decision.says] == ["result.get_balance"] and touches(played) == []
    assert played.decision.state.touch_checked


def test_the_gate_has_the_last_word_an_elderly_customer_gets_no_product_above_r2(decider):
    # Interested in funds, stable: the first bot strategy is fund news (no product) - remove the news
    # strategies, and only products remain, of which the R2 savings product is the one allowed.
    products = tuple(
        s for s in STRATEGIES if s.what.item.type == "product" or s.what.kind != "recommendation"
    )
    snap = snapshot(stage="stability", interests=("funds",), risk_tolerance="aggressive", age=78)
    ctx, turn = balance_turn()
    played = play(
        decider, ctx, turn, {RunAction: ActionDone({"accounts": []}), ReadLifecycle: read(snap, products)}
    )
    (touch,) = touches(played)
    given = next(s for s in STRATEGIES if s.id == touch.strategy_id)
    assert given.what.item.risk in (None, "R1", "R2")


def test_a_customer_in_the_holdout_group_gets_nothing_but_the_record(decider):
    first = next(s for s in STRATEGIES if "bot" in s.where and "exploration" in s.when.stages)
    held = first.model_copy(update={"holdout": 0.5})
    others = tuple(held if s.id == first.id else s for s in STRATEGIES)
    ref = next(f"C{i:06d}" for i in range(1, 200) if in_holdout(held, f"C{i:06d}"))
    ctx = context(signed_in=True, verified=True, state=DialogueState(issues_raised=True))
    ctx = replace(ctx, customer=replace(ctx.customer, customer_ref=ref))
    played = play(
        decider,
        ctx,
        says("what's my balance?", "balance_inquiry"),
        {RunAction: ActionDone({"accounts": []}), ReadLifecycle: read(snapshot(ref=ref), others)},
    )
    assert [s.key for s in played.decision.says] == ["result.get_balance"]
    assert touches(played) == [
        LifecycleTouched(strategy_id=first.id, version=3, kind=first.what.kind, arm="holdout")
    ]


def test_an_unknown_customer_gets_nothing(decider):
    ctx, turn = balance_turn()
    played = play(decider, ctx, turn, {RunAction: ActionDone({"accounts": []}), ReadLifecycle: read(None)})
    assert [s.key for s in played.decision.says] == ["result.get_balance"] and touches(played) == []


def test_in_the_anniversary_week_a_stable_customer_gets_the_anniversary_touch(decider):
    ctx, turn = balance_turn()
    snap = snapshot(stage="stability")
    at = TouchRead(snapshot=snap, strategies=STRATEGIES, versions=VERSIONS, trigger="anniversary")
    played = play(decider, ctx, turn, {RunAction: ActionDone({"accounts": []}), ReadLifecycle: at})
    expected = next(s for s in STRATEGIES if "bot" in s.where and "anniversary" in s.when.triggers)
    (touch,) = touches(played)
    assert (touch.strategy_id, touch.trigger) == (expected.id, "anniversary")
    assert played.decision.says[-1].values["text"] == expected.texts["en"]
    # Any other week: the anniversary strategy does not apply.
    other = play(decider, ctx, turn, {RunAction: ActionDone({"accounts": []}), ReadLifecycle: read(snap)})
    assert all(t.strategy_id != expected.id for t in touches(other))
