"""Random conversations through the public API: no turn ever answers 5xx or leaks a template.

Hypothesis drives sequences of moves through the real app (real NLU models, dialogue, actions,
identity step-up with the demo outbox, knowledge base, seeded demo bank on SQLite): a new request
of any of the pack's intents (a held-out line of that intent, in the customer's language), the
answers a pending question can get (yes, no, cancel, a person, a dispute, a card's last four
digits, an amount from the customer's own data, "the second one", the one-time code, a wrong code)
and small talk. Every turn must answer 200 with replies (or hand over), and no reply may show
template syntax, a Python repr or an internal key. The example count is bounded; raise it with
HELIXDESK_DIALOGUE_FUZZ_EXAMPLES.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helixdesk.bank.connector import BankConnector
from helixdesk.edge.app import create_app
from tests.seeded import seeded_database

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("HELIXDESK_DIALOGUE_FUZZ_EXAMPLES", "40"))
HELDOUT = Path(__file__).resolve().parents[2] / "src/helixdesk/packs/retail_bank/nlu/heldout/intents.jsonl"
ANSWERS = {
    "zh-Hans": {"yes": "好的，确认", "no": "不是", "cancel": "算了取消吧", "agent": "转人工", "dispute": "我要争议",
                "second": "第二笔", "biggest": "金额最大的那笔", "chat": "嗯嗯", "wrong_code": "000000"},
    "zh-Hant": {"yes": "好呀，確認", "no": "唔係", "cancel": "算了取消", "agent": "轉真人客服", "dispute": "我要爭議",
                "second": "第二筆", "biggest": "金額最大嗰筆", "chat": "哦", "wrong_code": "000000"},
    "en": {"yes": "yes please", "no": "no", "cancel": "cancel", "agent": "I want a person", "dispute": "dispute it",
           "second": "the second one", "biggest": "the biggest one", "chat": "hmm ok", "wrong_code": "000000"},
}  # fmt: skip
# What a reply must never show: template syntax, a Python value, an internal key.
LEAK = re.compile(
    r"\{\{|\}\}|\{%|%\}|\bNone\b|\bTrue\b|\bFalse\b|Decimal\(|datetime\(|\b[a-z]+_[a-z_]+\.[a-z_]+\b"
)


def _utterances() -> dict[tuple[str, str], list[str]]:
    by: dict[tuple[str, str], list[str]] = {}
    for line in HELDOUT.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            by.setdefault((row["label"], row["language"]), []).append(row["text"])
    return by


UTTERANCES = _utterances()
INTENTS = sorted({intent for intent, _ in UTTERANCES})


@pytest.fixture(scope="module")
def app_client(tmp_path_factory, model_root):
    from helixdesk.core.settings import Settings

    path = tmp_path_factory.mktemp("dialogue-fuzz") / "helixdesk.db"
    url = f"sqlite:///{path}"
    engine, _ = seeded_database(url)
    engine.dispose()
    settings_ = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        model_dir=model_root,
        nlu_process=False,
        rate_limit_ip_per_minute=0,
        rate_limit_conversation_messages_per_minute=0,
    )
    with TestClient(create_app(settings_)) as client:
        yield client


move = st.one_of(
    st.tuples(st.just("intent"), st.sampled_from(INTENTS), st.integers(0, 50)),
    st.tuples(st.sampled_from(sorted(ANSWERS["en"])), st.none(), st.none()),
    st.tuples(st.sampled_from(["code", "card", "amount", "bare_amount"]), st.none(), st.none()),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(customer=st.one_of(st.none(), st.integers(1, 60)), moves=st.lists(move, min_size=2, max_size=7))
def test_no_sequence_of_moves_gets_a_5xx_or_a_leaked_template(app_client, customer, moves):
    client: TestClient = app_client
    bank: BankConnector = client.app.state.container.bank
    ref = None if customer is None else f"C{customer:06d}"
    profile = bank.get_customer(ref) if ref else None
    language = profile.preferred_language if profile else "en"
    r = client.post(
        "/api/v1/conversations", json={"channel": "web", **({"customer_ref": ref} if ref else {})}
    )
    assert r.status_code == 201, r.text
    cid, headers = r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}
    played: list[str] = []
    for kind, intent, index in moves:
        text = _text(client, bank, ref, language, kind, intent, index)
        if text is None:
            continue
        played.append(text)
        r = client.post(f"/api/v1/conversations/{cid}/messages", json={"text": text}, headers=headers)
        assert r.status_code == 200, f"{r.status_code} after {played}: {r.text}"
        body = r.json()
        if body["state"] != "bot":
            break  # a person takes over: the bot says nothing more
        assert body["replies"], f"no reply after {played}"
        for reply in body["replies"]:
            assert not LEAK.search(reply["text"]), f"leak in {reply['text']!r} after {played}"


def _text(
    client: TestClient,
    bank: BankConnector,
    ref: str | None,
    language: str,
    kind: str,
    intent: str | None,
    index: int | None,
) -> str | None:
    if kind == "intent":
        assert intent is not None and index is not None
        lines = UTTERANCES.get((intent, language)) or UTTERANCES.get((intent, "en")) or []
        return lines[index % len(lines)] if lines else None
    if kind == "code":
        if ref is None:
            return None
        page = client.get("/demo/outbox", params={"customer": ref, "limit": 1})
        found = re.findall(r"(?<!\d)(\d{6})(?!\d)", page.text)
        return found[0] if found else None
    if kind == "card":
        cards = bank.list_cards(ref) if ref else []
        return (
            f"尾号{cards[0].last4}"
            if cards and language != "en"
            else (f"the one ending {cards[0].last4}" if cards else None)
        )
    if kind in ("amount", "bare_amount"):
        txns = bank.list_transactions(ref, limit=5) if ref else []
        if not txns:
            return None
        amount = f"{abs(txns[0].amount):.2f}"
        return (
            amount
            if kind == "bare_amount"
            else (f"{amount}元那笔" if language != "en" else f"the {amount} one")
        )
    return ANSWERS[language][kind]
