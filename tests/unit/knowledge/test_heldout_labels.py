"""The pack's held-out KB questions are labelled with FAQ ids that exist."""

from __future__ import annotations

import json

import yaml

from helixdesk.packs.loader import load_pack

KB = load_pack("retail_bank").path / "kb"


def test_every_heldout_faq_id_exists_and_unanswerable_ones_have_none():
    ids = {entry["id"] for entry in yaml.safe_load((KB / "faq.yaml").read_text(encoding="utf-8"))}
    lines = (KB / "heldout" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 230
    for number, line in enumerate(lines, start=1):
        item = json.loads(line)
        assert isinstance(item["faq"], list), f"line {number}: faq must be a list"
        unknown = [f for f in item["faq"] if f not in ids]
        assert not unknown, f"line {number}: unknown FAQ ids {unknown}"
        assert (item["intent"] == "none") == (item["faq"] == []), f"line {number}"


def test_faq_ids_are_unique():
    ids = [entry["id"] for entry in yaml.safe_load((KB / "faq.yaml").read_text(encoding="utf-8"))]
    assert len(ids) == len(set(ids)) == 111
