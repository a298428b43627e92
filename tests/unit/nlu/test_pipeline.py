from __future__ import annotations

import pytest

from helixdesk.core.errors import StageError, UnknownStageError
from helixdesk.core.turn import Turn
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.nlu.stage import build_stage, register_stage, registered_stages
from helixdesk.nlu.stages.language import detect_language
from helixdesk.nlu.text import normalise


def test_builtin_stages_are_registered():
    assert {"normalise", "language"} <= set(registered_stages())


def test_unknown_stage_says_how_to_fix_it():
    with pytest.raises(UnknownStageError) as err:
        build_stage("no_such_stage")
    assert "Registered stages" in err.value.detail and "normalise" in err.value.detail


def test_a_failing_stage_is_named():
    @register_stage("test_exploding")
    class Exploding:
        def warm_up(self) -> None:
            pass

        def run(self, turn: Turn) -> Turn:
            raise ValueError("boom")

    pipeline = NLUPipeline.from_config(["normalise", "test_exploding"])
    with pytest.raises(StageError) as err:
        pipeline.parse("hi")
    assert err.value.stage == "test_exploding" and "boom" in err.value.detail
    assert isinstance(err.value.__cause__, ValueError)


def test_turn_is_frozen():
    turn = Turn(text="x")
    with pytest.raises(AttributeError):
        turn.text = "y"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＡＴＭ吞卡了", "atm吞卡了"),
        ("我的帳戶被凍結了", "我的帐户被冻结了"),
        ("Hello　World", "hello world"),
    ],
)
def test_normalise_keeps_length_and_folds(text, expected):
    assert normalise(text) == expected
    assert len(normalise(text)) == len(text)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("我想查一下余额", "zh-Hans"),
        ("我想查詢帳戶餘額", "zh-Hant"),
        ("張卡唔見咗點算", "zh-Hant"),
        ("what is my balance", "en"),
        ("我的credit card被freeze了", "mixed"),
        ("APP打不开了", "zh-Hans"),
        ("ATM吞卡", "zh-Hans"),
        ("12345", "unknown"),
    ],
)
def test_language_detection(text, language):
    assert detect_language(text) == language
