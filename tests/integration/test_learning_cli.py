"""`helixdesk learning` and `helixdesk model` as an operator runs them: the queue's counts, dataset
versions (snapshot, list, show, export), a registered candidate the gate refuses, the audited
override, rollback, shadow runs, and a candidate proposed from new labels."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest

from helixdesk.core.clock import utcnow
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.learning.feed import LabellingFeed, store
from helixdesk.learning.labels import Vocabulary
from helixdesk.learning.queue import Labelling
from helixdesk.learning.sampling import Corrections, SamplingRates
from helixdesk.learning.training import propose_candidate
from helixdesk.nlu.intent.artefacts import save_model
from helixdesk.nlu.intent.data import data_sha256, load_examples
from helixdesk.nlu.intent.model import IntentClassifier, IntentConfig
from helixdesk.packs.loader import load_pack
from tests.cliproc import helixdesk_cli
from tests.learning_data import add_conversation
from tests.quality_data import add_staff

pytestmark = pytest.mark.slow

SECRET = "cli-test-secret-0123456789abcdef0123"
PACK = load_pack("retail_bank").path


@pytest.fixture
def desk(tmp_path, model_root, settings_for):
    url = f"sqlite:///{tmp_path / 'learning.db'}"
    models = tmp_path / "models"
    (models / "retail_bank" / "intent").mkdir(parents=True)
    (models / "retail_bank" / "intent" / "v1").symlink_to(model_root / "retail_bank" / "intent" / "v1")
    env = {"HELIXDESK_DATABASE_URL": url, "HELIXDESK_SECRET_KEY": SECRET, "HELIXDESK_MODEL_DIR": str(models)}
    helixdesk = helixdesk_cli(tmp_path, env=env, timeout=600)
    assert helixdesk("db", "upgrade").returncode == 0
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    feed = LabellingFeed(
        rates=SamplingRates(out_of_scope=100, low_confidence=100),
        corrections=Corrections.load(PACK),
        double_percent=0,
    )
    with transaction(sessions) as s:
        annotator = add_staff(s, "ann.he", ["annotator"])
        for text, intent, confidence in (
            ("今天北京天气怎么样", "out_of_scope", 1.0),
            ("取款机把我的卡吞了", "dispute_charge", 0.41),
        ):
            conv, _ = add_conversation(s, [("customer", text, intent, confidence)])
            store(s, conv.id, feed.plan(s, conv.id))
    labelling = Labelling(sessions=sessions, vocabulary=Vocabulary.for_pack(PACK))
    settings = settings_for(url, model_dir=models, secret_key=SECRET)
    yield helixdesk, sessions, labelling, annotator, settings, tmp_path
    engine.dispose()


def label_all(labelling, annotator) -> None:
    while (item := labelling.next_item(annotator)) is not None:
        intent = "card_reissue" if "吞" in item.text else "out_of_scope"
        labelling.submit(annotator, item.id, {"intent": intent, "emotion": "neutral", "entities": []})


def weak_model(folder):
    by_label: dict[str, list] = {}
    for e in load_examples("pack"):
        by_label.setdefault(e.label, []).append(e)
    few = [e for group in by_label.values() for e in random.Random(9).sample(group, 3)]
    save_model(
        IntentClassifier.train(few, IntentConfig()),
        folder,
        data_sha256=data_sha256(few),
        extra={"version": "weak-cli"},
    )
    return folder


def test_datasets_from_the_command_line(desk):
    helixdesk, _, labelling, annotator, _, tmp_path = desk
    queue = json.loads(helixdesk("learning", "queue", "--json").stdout)
    assert queue["status"]["open"] == 2 and queue["reasons"] == {"low_confidence": 1, "out_of_scope": 1}
    refused = helixdesk("learning", "dataset", "snapshot")
    assert refused.returncode == 2 and "error[no_labels]" in refused.stderr
    label_all(labelling, annotator)
    made = helixdesk("learning", "dataset", "snapshot", "--note", "week 49", "--by", "tester")
    assert made.returncode == 0 and "new dataset d1: 2 examples" in made.stdout, made.stdout + made.stderr
    again = helixdesk("learning", "dataset", "snapshot")
    assert "no label changed since" in again.stdout and "d1" in again.stdout
    [listed] = json.loads(helixdesk("learning", "dataset", "list", "--json").stdout)
    assert (listed["version"], listed["examples"], listed["note"], listed["created_by"]) == (
        "d1",
        2,
        "week 49",
        "system:cli:tester",
    )
    shown = json.loads(helixdesk("learning", "dataset", "show", "d1", "--json").stdout)
    assert shown["counts"]["intents"] == {"card_reissue": 1, "out_of_scope": 1}
    assert helixdesk("learning", "dataset", "show", "d9").stderr.startswith("error[dataset_not_found]")
    out = tmp_path / "export"
    assert helixdesk("learning", "dataset", "export", "d1", "--out", str(out)).returncode == 0
    assert sorted(p.name for p in (out / "intents").iterdir()) == ["card_reissue.yaml", "out_of_scope.yaml"]
    assert (
        json.loads((out / "manifest.json").read_text("utf-8"))["content_sha256"] == listed["content_sha256"]
    )


def test_the_gate_the_override_rollback_and_shadow_from_the_command_line(desk):
    helixdesk, *_, tmp_path = desk
    [served] = json.loads(helixdesk("model", "list", "--json").stdout)
    assert (served["status"], served["source"]) == ("live", "adopted")
    assert helixdesk("model", "register", str(weak_model(tmp_path / "weak"))).returncode == 0
    shown = json.loads(helixdesk("model", "show", "weak-cli", "--json").stdout)
    assert not shown["gate"]["passed"] and shown["report"]["regression"]["n"] > 1000

    refused = helixdesk("model", "promote", "weak-cli")
    assert (
        refused.returncode == 2
        and "error[model_gate_failed]" in refused.stderr
        and "--override" in refused.stderr
    )
    no_reason = helixdesk("model", "promote", "weak-cli", "--override")
    assert "error[override_reason_required]" in no_reason.stderr
    forced = helixdesk("model", "promote", "weak-cli", "--override", "--reason", "cli test", "--by", "ops")
    assert forced.returncode == 0 and f"was {served['version']}" in forced.stdout
    audit = json.loads(helixdesk("audit", "search", "--action", "model.*", "--json").stdout)
    assert next((e["action"], e["reason"], e["actor"]["id"]) for e in audit) == (
        "model.promoted_override",
        "cli test",
        "cli:ops",
    )
    assert helixdesk("model", "rollback", "--reason", "back").returncode == 0
    assert helixdesk("model", "rollback").stderr.startswith("error[no_previous_model]")
    assert (
        json.loads(helixdesk("model", "list", "--json").stdout)[-1]["status"] == "live"
    )  # the served one, again

    assert helixdesk("model", "shadow").stderr.startswith("error[bad_input]")
    assert helixdesk("model", "shadow", "--stop").stderr.startswith("error[no_shadow]")
    started = helixdesk("model", "shadow", "weak-cli")
    assert started.returncode == 0 and "parses live traffic" in started.stdout
    assert json.loads(helixdesk("model", "disagreements", "weak-cli", "--json").stdout) == []
    assert helixdesk("model", "shadow", "--stop").returncode == 0
    assert helixdesk("model", "show", "nothing-like-it").stderr.startswith("error[model_not_found]")


def test_a_candidate_is_proposed_from_new_labels_only(desk):
    helixdesk, sessions, labelling, annotator, settings, _ = desk
    assert "no label resolved since" in helixdesk("learning", "propose", "--days", "7").stdout
    label_all(labelling, annotator)
    assert propose_candidate(sessions, settings, utcnow() + timedelta(minutes=1)) is None
    version = propose_candidate(sessions, settings, utcnow() - timedelta(days=7))
    assert version is not None
    models = {m["version"]: m for m in json.loads(helixdesk("model", "list", "--json").stdout)}
    assert (models[version]["status"], models[version]["dataset"], models[version]["source"]) == (
        "candidate",
        "d1",
        "trained",
    )
    assert [m["status"] for m in models.values()].count("live") == 1  # proposed, never promoted
