"""`helixdesk kb` as an operator uses it (real subprocesses, real SQLite file, real embeddings)."""

from __future__ import annotations

import json

import pytest

from tests.cliproc import helixdesk_cli

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


@pytest.fixture
def run(tmp_path):
    helixdesk = helixdesk_cli(
        tmp_path, env={"HELIXDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.db'}"}, timeout=300
    )

    return helixdesk


def test_ingest_pack_and_documents_search_list_and_errors(run, tmp_path):
    assert run("db", "upgrade").returncode == 0
    first = run("kb", "ingest", "--pack", "--quiet")
    assert first.returncode == 0, first.stderr
    assert "added     pack:retail_bank/kb/faq.yaml" in first.stdout
    assert "111 chunks written" in first.stdout
    stale = run("kb", "ingest", "--pack", "--if-stale")
    assert stale.returncode == 0 and stale.stdout == ""

    doc = tmp_path / "lobby.md"
    doc.write_text("# Branch lobby\n\n## Coffee\n\nCoffee in the branch lobby is free for every visitor.\n")
    added = run("kb", "ingest", str(doc), "--quiet")
    assert added.returncode == 0, added.stderr
    assert f"added     {doc.resolve()}" in added.stdout

    found = run("kb", "search", "为什么我在国外刷卡被拒绝了", "--intent", "card_declined", "--json")
    assert found.returncode == 0, found.stderr
    answer = json.loads(found.stdout)
    assert answer["grounded"] is True
    assert answer["hits"][0]["faq_id"] == "card-declined-abroad"
    assert answer["hits"][0]["citation"]["source"] == "pack:retail_bank/kb/faq.yaml"
    assert answer["text"] == answer["hits"][0]["answer"]
    assert answer["explanations"][0]["cause"] == "境外交易功能未开通"

    unknown = run("kb", "search", "who is the CEO of your bank", "--language", "en", "--json")
    assert json.loads(unknown.stdout)["grounded"] is False
    assert json.loads(unknown.stdout)["text"] is None

    table = run("kb", "search", "is the coffee in the lobby free", "--language", "en")
    assert table.returncode == 0 and "Coffee" in table.stdout

    listed = json.loads(run("kb", "list", "--json").stdout)
    assert [(d["kind"], d["chunks"]) for d in listed] == [("markdown", 1), ("faq", 111)]

    bad = tmp_path / "terms.docx"
    bad.write_text("x")
    failed = run("kb", "ingest", str(doc), str(bad))
    assert failed.returncode == 2
    assert "error[kb_unsupported_format]" in failed.stderr
    missing = run("kb", "ingest", str(tmp_path / "nope.pdf"))
    assert missing.returncode == 2 and "error[kb_source_not_found]" in missing.stderr
    assert json.loads(run("kb", "list", "--json").stdout) == listed

    explained = run("kb", "explain", "card-declined-abroad", "--language", "zh-Hant")
    assert explained.returncode == 0 and "海外交易功能未開通" in explained.stdout
    assert run("kb", "explain", "no-such-faq").returncode == 2
