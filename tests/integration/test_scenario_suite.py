"""Our own scenario suite (tests/scenarios/conversations/*.yaml), end to end through the public API
on the seeded demo bank with the real NLU models, held to the bar:

- at least 90% of routine conversations resolved, every figure checked against the bank's data;
- every risk case at the right queue, on the expected customer message (fraud on the first), with
  the key fact in the handover packet;
- no invented number, no 5xx, every reply in the customer's language and script.

Each failure message lists the conversations that miss the bar, with the customer's words and the
bot's replies. `bench/scenario_bench.py` prints the same figures.
"""

from __future__ import annotations

import re

import pytest
import yaml
from fastapi.testclient import TestClient

from helixdesk.edge.app import create_app
from tests.scenarios.model import load_suite
from tests.scenarios.report import failure_lines, summarise
from tests.scenarios.runner import CUSTOMERS, PACK, Result, SuiteRun
from tests.seeded import seeded_database

# The suite runs once for the module (about a minute on an idle machine, after the models train).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

ROUTINE_BAR = 0.90


@pytest.fixture(scope="module")
def results(tmp_path_factory, model_root) -> list[Result]:
    from helixdesk.core.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('scenario-suite') / 'helixdesk.db'}"
    engine, _ = seeded_database(url, customers=CUSTOMERS)
    engine.dispose()
    # Every customer of the suite writes from the test client's one address: no per-IP limit.
    settings = Settings(_env_file=None, database_url=url, model_dir=model_root, rate_limit_ip_per_minute=0)  # type: ignore[call-arg]
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        return SuiteRun(client).run(load_suite())


def _report(results: list[Result]) -> str:
    return "\n" + "\n".join(failure_lines(results))


def _none_fail(failing: list[Result], what: str = "") -> None:
    """Fails with the wording of every failing conversation (and not the results' repr)."""
    count = len(failing)
    assert count == 0, f"{count} conversations {what}" + _report(failing)


def test_no_reply_is_a_server_error(results):
    _none_fail([r for r in results if r.server_errors], "got a 5xx")


def test_routine_conversations_are_resolved_with_the_right_figures(results):
    routine = [r for r in results if r.conversation.category == "routine"]
    resolved, total = sum(r.resolved for r in routine), len(routine)
    failing = [r for r in routine if not r.resolved]
    assert resolved >= ROUTINE_BAR * total, (
        f"{resolved}/{total} routine conversations resolved (bar {ROUTINE_BAR:.0%})" + _report(failing)
    )


def test_every_risk_case_reaches_the_right_queue_on_time_with_the_key_fact(results):
    _none_fail([r for r in results if r.conversation.category == "risk" and not r.resolved], "missed")


def test_fraud_reaches_the_fraud_queue_on_the_first_message(results):
    """On the customer's first message, or (in the middle of another task) on the one reporting it."""
    fraud = [r for r in results if r.conversation.handoff and r.conversation.handoff.queue == "fraud"]
    assert len(fraud) >= 6
    assert sum(r.conversation.handoff.turn == 1 for r in fraud if r.conversation.handoff) >= 6
    late = [
        r
        for r in fraud
        if r.conversation.handoff
        and (r.handoff_queue, r.handoff_turn) != ("fraud", r.conversation.handoff.turn)
    ]
    _none_fail(late, "did not reach the fraud queue on the message that reported it")


def test_no_reply_invents_a_number(results):
    failing = [r for r in results if r.invented]
    _none_fail(failing, f"with {sum(len(r.invented) for r in failing)} invented numbers")


def test_every_reply_is_in_the_customers_language(results):
    failing = [r for r in results if r.language]
    _none_fail(failing, f"with {sum(len(r.language) for r in failing)} replies out of language")


def test_the_summary_counts_every_conversation(results):
    summary = summarise(results)
    assert summary.overall.total == len(load_suite()) == len(results)
    assert summary.routine.total + summary.risk.total == summary.overall.total


# ---- the suite itself -----------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[\s\W_]+", "", text.lower())


def test_the_suite_is_large_balanced_and_in_our_own_words():
    suite = load_suite()
    assert len(suite) >= 66
    for language in ("zh-Hans", "zh-Hant", "en"):
        share = sum(c.language == language for c in suite) / len(suite)
        assert 0.28 <= share <= 0.40, (language, share)
    pack_texts: set[str] = set()
    for path in (PACK / "nlu" / "intents").glob("*.yaml"):
        for examples in (yaml.safe_load(path.read_text(encoding="utf-8")).get("examples") or {}).values():
            pack_texts.update(_norm(e) for e in examples)
    for entry in yaml.safe_load((PACK / "kb" / "faq.yaml").read_text(encoding="utf-8")):
        for field in ("question", "answer", "alternatives"):
            for value in (entry.get(field) or {}).values():
                pack_texts.update(_norm(v) for v in (value if isinstance(value, list) else [value]))
    copied = [
        (c.id, t.say)
        for c in suite
        for t in c.turns
        if len(_norm(t.say)) > 6 and "{" not in t.say and _norm(t.say) in pack_texts
    ]
    assert not copied, copied
