"""The model registry on SQLite and PostgreSQL, with real intent models: it adopts the model served
now, registers candidates with their reports, the gate refuses a worse one unless overridden with
a reason (audited), promotion and rollback move the folder's LIVE file, and shadow runs start
and stop one at a time."""

from __future__ import annotations

import json
import random
import shutil

import pytest
from sqlalchemy import select

from helixdesk.audit import Actor, AuditLog
from helixdesk.audit.models import AuditLogRow
from helixdesk.db.session import reading
from helixdesk.learning.errors import (
    AmbiguousVersionError,
    GateFailedError,
    ModelAlreadyLiveError,
    ModelExistsError,
    ModelNotFoundError,
    NoPreviousModelError,
    NoShadowError,
    OverrideReasonError,
)
from helixdesk.learning.registry import ModelRegistry
from helixdesk.nlu.artefacts import live_version
from helixdesk.nlu.intent.artefacts import read_manifest, save_model
from helixdesk.nlu.intent.data import data_sha256, load_examples
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig

ACTOR = Actor.system("cli:test")


@pytest.fixture(scope="module")
def artefacts(model_root, tmp_path_factory):
    """The pack's model (as served), the same model under another version (a retrain on the same
    data would score the same), and a weak one that saw a few examples of each intent."""
    folder = tmp_path_factory.mktemp("artefacts")
    served = model_root / "retail_bank" / "intent" / "v1"
    twin = folder / "twin"
    shutil.copytree(served, twin)
    manifest = read_manifest(twin)
    manifest["version"] = manifest["version"] + "-twin"
    (twin / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    examples = load_examples("pack")
    by_label: dict[str, list] = {}
    for e in examples:
        by_label.setdefault(e.label, []).append(e)
    rng = random.Random(7)
    few = [e for group in by_label.values() for e in rng.sample(group, 3)]  # most examples dropped
    weak = IntentClassifier.train(few, IntentConfig())
    save_model(
        weak,
        folder / "weak",
        data_sha256=data_sha256(few),
        extra={"version": "weak-3-per-intent", "examples": len(few)},
    )
    return {"served": served, "twin": twin, "weak": folder / "weak"}


@pytest.fixture
def registry(sessions, artefacts, tmp_path):
    root = tmp_path / "models" / "retail_bank" / "intent"
    root.mkdir(parents=True)
    (root / "v1").symlink_to(artefacts["served"], target_is_directory=True)
    return ModelRegistry(
        sessions=sessions, model_dir=tmp_path / "models", tolerance=0.02, audit=AuditLog(key=b"r" * 32)
    )


def actions(sessions) -> list[tuple[str, str, str]]:
    with reading(sessions) as s:
        rows = s.execute(
            select(AuditLogRow.action, AuditLogRow.target_id, AuditLogRow.reason).order_by(AuditLogRow.seq)
        )
        return [tuple(r) for r in rows]


def test_the_registry_adopts_the_served_model_and_pins_it_before_a_candidate_arrives(registry, artefacts):
    served = read_manifest(artefacts["served"])["version"]
    [adopted] = registry.versions()
    assert (adopted.version, adopted.status, adopted.source, adopted.pinned) == (
        served,
        "live",
        "adopted",
        False,
    )
    assert live_version(registry.root) is None  # the newest folder is still served, as always
    twin = registry.register(artefacts["twin"], actor=ACTOR, note="same data")
    assert (twin.status, twin.source, twin.folder) == ("candidate", "registered", twin.version)
    assert live_version(registry.root) == "v1"  # the served model stays served across a restart
    assert registry.live().version == served and registry.live().pinned
    with pytest.raises(ModelExistsError):
        registry.register(artefacts["twin"], actor=ACTOR)


def test_the_report_has_every_figure_on_the_fixed_regression_set(registry, artefacts):
    report = registry.report(registry.live().version)
    assert report["regression"]["n"] > 1000 and report["regression"]["path"].endswith("heldout/intents.jsonl")
    assert 0.8 < report["accuracy"] <= 1 and report["oos_support"] > 0 and report["oos_recall"] is not None
    labels = {r["label"] for r in report["per_label"]}
    assert "out_of_scope" in labels and len(labels) > 30
    assert len(report["confusion"]["matrix"]) == len(report["confusion"]["labels"])
    assert sum(map(sum, report["confusion"]["matrix"])) == report["n"]
    assert len(report["calibration"]["bins"]) == 10 and 0 <= report["calibration"]["ece"] < 0.2
    assert report["latency"]["p50_ms"] > 0 and report["latency"]["messages"] == 100
    assert registry.report(registry.live().version) == report  # kept, not computed again


def test_promotion_passes_the_gate_and_rollback_returns_in_one_step(registry, artefacts, sessions):
    served = registry.live().version
    twin = registry.register(artefacts["twin"], actor=ACTOR)
    assert registry.check_gate(twin.version).passed
    promoted = registry.promote(twin.version[:-2], actor=ACTOR)  # a unique beginning names it
    assert (promoted.status, promoted.previous, promoted.pinned) == ("live", served, True)
    assert live_version(registry.root) == twin.folder
    with pytest.raises(ModelAlreadyLiveError):
        registry.promote(twin.version, actor=ACTOR)
    back = registry.rollback(actor=ACTOR, reason="compare again")
    assert back.version == served and live_version(registry.root) == "v1"
    assert {v.version: v.status for v in registry.versions()} == {served: "live", twin.version: "retired"}
    with pytest.raises(NoPreviousModelError):
        registry.rollback(actor=ACTOR)
    assert [a for a, *_ in actions(sessions)] == ["model.registered", "model.promoted", "model.rolled_back"]


def test_a_worse_candidate_is_refused_unless_overridden_with_a_reason_that_is_audited(
    registry, artefacts, sessions
):
    served = registry.live().version
    weak = registry.register(artefacts["weak"], actor=ACTOR, note="three examples per intent")
    gate = registry.check_gate(weak.version)
    assert not gate.passed and gate.live_version == served and len(gate.worse) > 5
    with pytest.raises(GateFailedError, match="worse than the live model") as refused:
        registry.promote(weak.version, actor=ACTOR)
    assert refused.value.code == "model_gate_failed"
    with pytest.raises(OverrideReasonError):
        registry.promote(weak.version, actor=ACTOR, override=True, reason=" ")
    assert registry.live().version == served and live_version(registry.root) == "v1"
    forced = registry.promote(weak.version, actor=ACTOR, override=True, reason="demo of a forced release")
    assert forced.status == "live" and live_version(registry.root) == weak.folder
    assert actions(sessions)[-1] == ("model.promoted_override", weak.version, "demo of a forced release")
    assert registry.rollback(actor=ACTOR).version == served


def test_versions_are_found_by_a_unique_beginning_only(registry, artefacts):
    registry.register(artefacts["twin"], actor=ACTOR)
    registry.register(artefacts["weak"], actor=ACTOR)
    assert registry.get("weak-3").version == "weak-3-per-intent"
    with pytest.raises(ModelNotFoundError):
        registry.get("nothing-like-it")
    with pytest.raises(ModelNotFoundError):
        registry.get("we")  # too short to stand for a version
    prefix = registry.live().version[:6]  # the served model and its twin share their beginning
    with pytest.raises(AmbiguousVersionError):
        registry.get(prefix)


def test_one_shadow_run_at_a_time(registry, artefacts, sessions):
    twin = registry.register(artefacts["twin"], actor=ACTOR)
    weak = registry.register(artefacts["weak"], actor=ACTOR)
    with pytest.raises(NoShadowError):
        registry.stop_shadow(actor=ACTOR)
    with pytest.raises(ModelAlreadyLiveError):
        registry.start_shadow(registry.live().version, actor=ACTOR)
    first = registry.start_shadow(twin.version, actor=ACTOR)
    second = registry.start_shadow(weak.version, actor=ACTOR)
    runs = {r["id"]: r for r in registry.shadow_runs()}
    assert runs[first["id"]]["stopped_at"] is not None and runs[second["id"]]["stopped_at"] is None
    assert second["live_version"] == registry.live().version and second["parsed"] == 0
    stopped = registry.stop_shadow(actor=ACTOR)
    assert stopped["id"] == second["id"] and stopped["stopped_by"] == "system:cli:test"
    assert [a for a, *_ in actions(sessions)][-3:] == [
        "model.shadow_started",
        "model.shadow_started",
        "model.shadow_stopped",
    ]
