"""Every code the staff pages show has words in the three console languages, in one labels table;
pages open in the language a browser asks for."""

from __future__ import annotations

import pytest

from helixdesk.auth.roles import ROLES
from helixdesk.auth.service import PRESENCE
from helixdesk.conversations.models import CHANNELS, ConversationState, Sender
from helixdesk.core.languages import LANGUAGES
from helixdesk.edge.i18n import VALUES_FILE, browser_language, language_of_tag, value_labels
from helixdesk.handoff.explain import explain
from helixdesk.handoff.models import HandoffStatus
from helixdesk.handoff.packet import Labels
from helixdesk.incidents.rules import KINDS, PRODUCTS, STATUSES
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.detect import PII_TYPES
from tests.enums import bank_enums

PACK_LABELS = load_pack("retail_bank").path / "handoff" / "labels.yaml"


def test_every_value_label_has_three_languages_and_differs_from_its_code_in_chinese():
    for group, entries in value_labels().items():
        for code, words in entries.items():
            assert set(words) == set(LANGUAGES), (group, code)
            assert all(w.strip() for w in words.values()), (group, code)
            # A Chinese label that is the code itself is no translation (ATM and App are words).
            assert words["zh-Hans"] != code and words["zh-Hant"] != code, (group, code)


def test_every_code_of_the_bank_and_the_product_has_a_label():
    labels = Labels.load(PACK_LABELS, defaults=value_labels())
    expected = {
        **{group: set(values) for group, values in bank_enums().items()},
        "channel": set(CHANNELS),
        "language": {*LANGUAGES, "zh", "en"},
        "presence": set(PRESENCE),
        "role": set(ROLES),
        "conversation_state": {s.value for s in ConversationState},
        "handoff_status": {s.value for s in HandoffStatus},
        "sender": {s.value for s in Sender},
        "resolution": {"resolved", "unresolved", "follow_up"},
        "entity": set(PII_TYPES),
        "incident_kind": set(KINDS),
        "incident_status": set(STATUSES),
        "incident_product": set(PRODUCTS),
    }
    for group, codes in expected.items():
        missing = {code for code in codes if not labels.has(group, code)}
        assert not missing, f"{VALUES_FILE.name}: group {group} has no words for {sorted(missing)}"


def test_every_intent_the_pack_understands_has_a_label():
    labels = Labels.load(PACK_LABELS)
    intents = sorted(p.stem for p in (PACK_LABELS.parents[1] / "nlu" / "intents").glob("*.yaml"))
    assert len(intents) > 30
    assert [i for i in intents if not labels.has("intent", i)] == []


def test_the_pack_rewords_a_value_and_keeps_the_rest():
    merged = Labels.load(PACK_LABELS, defaults={"segment": {"mass": {"en": "Mass"}, "private": {"en": "P"}}})
    assert merged.get("segment", "private", "en") == "P"
    assert merged.get("queue", "fraud", "zh-Hans") == "反欺诈"  # the pack's own groups stay
    assert merged.table(["segment"], "en") == {"segment": {"mass": "Mass", "private": "P"}}


def test_a_relationship_managers_presence_is_worded_in_the_explanation():
    labels = Labels.load(PACK_LABELS, defaults=value_labels())
    factors = {"reason": "vip_wealth", "queue": "relationship_manager", "priority": 70}
    offer = [["own_rm_unavailable", {"name": "孙晴", "status": "away"}], ["nobody_free", {}]]
    assert "（离开）" in explain(factors, offer, labels, "zh-Hans")
    assert "（離開）" in explain(factors, offer, labels, "zh-Hant")
    assert "Sunny is away" in explain(
        factors, [["own_rm_unavailable", {"name": "Sunny", "status": "away"}]], labels, "en"
    )


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-Hans"),
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant-TW;q=0.9, en;q=0.5", "zh-Hant"),
        ("zh-Hans-CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("en-GB,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,zh-TW;q=0.8", "zh-Hant"),  # the first language we speak, by preference
        ("en;q=0.3, zh-tw;q=0.8", "zh-Hant"),  # quality, not order, decides
        ("fr-FR,de;q=0.9", "en"),  # none we speak: English
        ("zh-CN;q=0, en", "en"),  # q=0 means "not this one"
    ],
)
def test_the_browsers_language(header, language):
    assert browser_language(header) == language


def test_no_header_leaves_the_choice_to_the_caller():
    assert browser_language(None) is None and browser_language("  ") is None
    assert language_of_tag("ja") is None and language_of_tag("zh_TW") == "zh-Hant"
