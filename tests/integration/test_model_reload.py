"""The serving parsers load the model version the folder's LIVE file names without a restart: on a
thread of the worker (`ParseBatcher`) and in the NLU process (`ProcessParser`); a version that
fails to load leaves the old one serving."""

from __future__ import annotations

import json
import shutil

import pytest

from helixdesk.core.errors import AppError
from helixdesk.nlu.artefacts import write_live_version
from helixdesk.nlu.batcher import ParseBatcher
from helixdesk.nlu.intent.artefacts import read_manifest
from helixdesk.nlu.pipeline import NLUPipeline
from helixdesk.nlu.process import ProcessParser
from helixdesk.packs.loader import load_pack

pytestmark = pytest.mark.slow


@pytest.fixture
def models(model_root, tmp_path):
    """A model folder with two versions of the intent model (the second a copy under another name)."""
    root = tmp_path / "models" / "retail_bank"
    (root / "intent").mkdir(parents=True)
    (root / "emotion").symlink_to(model_root / "retail_bank" / "emotion")
    (root / "intent" / "v1").symlink_to(model_root / "retail_bank" / "intent" / "v1")
    shutil.copytree(model_root / "retail_bank" / "intent" / "v1", root / "intent" / "v2")
    manifest = read_manifest(root / "intent" / "v2")
    manifest["version"] = "second-version"
    (root / "intent" / "v2" / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    write_live_version(root / "intent", "v1")
    return tmp_path / "models"


@pytest.mark.parametrize("kind", ["thread", "process"])
async def test_a_parser_reloads_the_live_version_between_batches(models, kind):
    config = load_pack("retail_bank").nlu_pipeline
    defaults = {"model_root": models}
    parser = (
        ProcessParser(config, defaults=defaults)
        if kind == "process"
        else ParseBatcher(NLUPipeline.from_config(config, defaults=defaults))
    )
    parser.start()
    try:
        first = await parser.reload()
        assert first["intent"] == read_manifest(models / "retail_bank" / "intent" / "v1")["version"]
        write_live_version(models / "retail_bank" / "intent", "v2")
        assert (await parser.reload())["intent"] == "second-version"
        assert (await parser.parse("查一下余额")).intent.name == "balance_inquiry"
        write_live_version(models / "retail_bank" / "intent", "gone")
        with pytest.raises(AppError, match="names 'gone'"):
            await parser.reload()
        assert (await parser.parse("我的卡丢了")).intent is not None  # the old model keeps serving
    finally:
        parser.stop()
