"""What the model-backed stages (intent, emotion) and their artefact folders share."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helixdesk.core.errors import ConfigurationError
from helixdesk.nlu.emotion.artefacts import EmotionModelError
from helixdesk.nlu.emotion.artefacts import resolve_model_dir as resolve_emotion_dir
from helixdesk.nlu.intent.artefacts import ModelArtefactError
from helixdesk.nlu.intent.artefacts import resolve_model_dir as resolve_intent_dir
from helixdesk.nlu.stages.emotion import EmotionStage
from helixdesk.nlu.stages.intent import IntentStage


@pytest.mark.parametrize("stage_cls", [IntentStage, EmotionStage])
@pytest.mark.parametrize("if_missing", ["error", "skip"])
def test_a_stage_without_model_root_or_model_dir_says_so(stage_cls, if_missing):
    stage = stage_cls(if_missing=if_missing)
    with pytest.raises(ConfigurationError, match=r"pass model_root .* or model_dir") as info:
        stage.warm_up()
    assert type(info.value) is ConfigurationError


@pytest.mark.parametrize("stage_cls", [IntentStage, EmotionStage])
def test_model_root_and_model_name_make_the_location(stage_cls, tmp_path):
    assert stage_cls(model_root=tmp_path, model_name="pack/x").location == tmp_path / "pack" / "x"
    assert stage_cls(model_root=tmp_path, model_dir=tmp_path / "d").location == tmp_path / "d"


def _version(folder: Path, created_at: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"created_at": created_at}), "utf-8")
    return folder


@pytest.mark.parametrize(
    ("resolve", "sub"), [(resolve_intent_dir, "intent"), (resolve_emotion_dir, "emotion")]
)
def test_resolve_picks_the_manifest_the_subfolder_or_the_newest_version(resolve, sub, tmp_path):
    old = _version(tmp_path / "root" / sub / "b-old", "2024-01-01T00:00:00+00:00")
    new = _version(tmp_path / "root" / sub / "a-new", "2025-01-01T00:00:00+00:00")
    (tmp_path / "root" / sub / "junk").mkdir()
    assert resolve(tmp_path / "root") == new
    assert resolve(tmp_path / "root" / sub) == new
    assert resolve(old) == old


@pytest.mark.parametrize(
    ("resolve", "error", "message"),
    [
        (resolve_intent_dir, ModelArtefactError, r"no intent model at .*: expected manifest.json there"),
        (resolve_emotion_dir, EmotionModelError, r"no emotion model at .* \(expected manifest.json there"),
    ],
)
def test_resolve_raises_the_models_own_error(resolve, error, message, tmp_path):
    with pytest.raises(error, match=message):
        resolve(tmp_path / "absent")
