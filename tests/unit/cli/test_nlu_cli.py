"""`helixdesk nlu train | eval | parse` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helixdesk.cli.nlu import app

FIXTURES = Path(__file__).resolve().parents[1] / "nlu" / "fixtures" / "intents"
runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models") / "intent"
    result = runner.invoke(app, ["train", "--data", str(FIXTURES), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "trained 4 intents on 80 examples" in result.stdout
    return out


@pytest.fixture
def heldout(tmp_path) -> Path:
    rows = [
        {"text": "我的卡被偷了", "label": "card_lost"},
        {"text": "how much is in my account", "label": "balance"},
        {"text": "转账还没到账", "label": "transfer"},
        {"text": "what's the weather like", "label": "oos"},
    ]
    path = tmp_path / "heldout.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def test_train_writes_model_and_manifest(model_dir):
    manifest = json.loads((model_dir / "manifest.json").read_text("utf-8"))
    assert (model_dir / manifest["model_file"]).is_file()
    assert manifest["labels"] == ["balance", "card_lost", "out_of_scope", "transfer"]
    assert manifest["examples"] == 80
    assert len(manifest["data_sha256"]) == 64


def test_eval_json(model_dir, heldout):
    result = runner.invoke(app, ["eval", "--model", str(model_dir), "--data", str(heldout), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 4
    assert report["accuracy"] >= 0.75
    assert report["oos_support"] == 1 and report["oos_recall"] is not None
    assert {row["label"] for row in report["per_label"]} == {
        "balance",
        "card_lost",
        "transfer",
        "out_of_scope",
    }
    assert isinstance(report["confused"], list)


def test_eval_table(model_dir, heldout):
    result = runner.invoke(app, ["eval", "--model", str(model_dir), "--data", str(heldout)])
    assert result.exit_code == 0, result.output
    for words in ("accuracy", "macro-F1", "out-of-scope recall", "per label"):
        assert words in result.stdout


@pytest.fixture
def pack_models(model_root, monkeypatch):
    """The pipeline's other model-backed stages (emotion) load from the trained pack models."""
    monkeypatch.setenv("HELIXDESK_MODEL_DIR", str(model_root))


def test_parse_one_message(model_dir, pack_models):
    result = runner.invoke(app, ["parse", "我的信用卡丟了", "--model", str(model_dir)])
    assert result.exit_code == 0, result.output
    turn = json.loads(result.stdout)
    assert turn["text"] == "我的信用卡丟了"
    assert turn["language"] == "zh-Hant"
    assert turn["intent"]["name"] == "card_lost"
    assert 1 <= len(turn["intent_ranking"]) <= 5


def test_parse_jsonl_keeps_order_and_reports_bad_lines(model_dir, pack_models):
    lines = [json.dumps({"text": "check my balance"}), "not json", json.dumps({"text": "我要转账"}), "{}"]
    result = runner.invoke(
        app, ["parse", "--jsonl", "--model", str(model_dir)], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["intent"]["name"] == "balance"
    assert out[1]["error"]["code"] == "bad_input"
    assert out[2]["intent"]["name"] == "transfer"
    assert "error" in out[3]


def test_errors_exit_2_with_a_code(tmp_path):
    result = runner.invoke(app, ["parse", "hello", "--model", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "nlu_model_invalid" in result.stderr
    result = runner.invoke(app, ["parse"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "m")])
    assert result.exit_code == 2
    assert "nlu_data_invalid" in result.stderr


def test_an_emotion_model_is_stale_when_its_settings_changed(tmp_path):
    """`nlu train --if-stale` retrains the emotion model after a change of its settings, not only of
    its data (a model trained with other settings would otherwise stay in use)."""
    from helixdesk.cli.nlu import _current
    from helixdesk.nlu.emotion.model import EmotionConfig

    config = json.loads(json.dumps(EmotionConfig().to_dict()))
    version = tmp_path / "emotion" / "20260101T000000Z"
    version.mkdir(parents=True)
    manifest = {
        "created_at": "2026-01-01T00:00:00+00:00",
        "data": {"pack": {"sha256": "abc"}},
        "config": config,
    }
    (version / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    root = tmp_path / "emotion"
    assert _current(root, ("data", "pack", "sha256"), "abc") and _current(root, "config", config)
    older = {**config, "pack_weight": config["pack_weight"] / 8}
    manifest["config"] = older
    (version / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    assert not _current(root, "config", config)
