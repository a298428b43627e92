"""The labelling queue on SQLite and PostgreSQL: messages sampled from conversations (masked, once
each), annotators' labels, agents' flags, disagreements settled by a second annotator or a
supervisor, and dataset versions with their provenance, export and erasure."""

from __future__ import annotations

import json

import pytest
import yaml
from sqlalchemy import delete, select

from helixdesk.audit import Actor, AuditLog
from helixdesk.audit.models import AuditLogRow
from helixdesk.conversations.models import Conversation
from helixdesk.db.session import reading, transaction
from helixdesk.learning.datasets import Datasets
from helixdesk.learning.errors import (
    AlreadyLabelledError,
    ItemNotFoundError,
    ItemResolvedError,
    LabelError,
    MessageNotFoundError,
    NeedsSupervisorError,
    NoLabelsError,
)
from helixdesk.learning.feed import LabellingFeed, store
from helixdesk.learning.labels import Vocabulary
from helixdesk.learning.models import LabelItem
from helixdesk.learning.queue import Labelling
from helixdesk.learning.sampling import Corrections, SamplingRates
from helixdesk.nlu.intent.data import load_examples
from helixdesk.packs.loader import load_pack
from tests.learning_data import add_conversation
from tests.quality_data import add_staff

PACK = load_pack("retail_bank").path
ALL = SamplingRates(low_confidence=100, out_of_scope=100, corrected=100, handed_over=100)


@pytest.fixture
def desk(sessions):
    audit = AuditLog(key=b"l" * 32)
    with transaction(sessions) as s:
        people = {
            "a1": add_staff(s, "ann.a", ["annotator"], "标注员甲"),
            "a2": add_staff(s, "ann.b", ["annotator"], "标注员乙"),
            "a3": add_staff(s, "ann.c", ["annotator"], "标注员丙"),
            "sup": add_staff(s, "sup.a", ["supervisor"], "主管"),
            "agent": add_staff(s, "agent.li", ["agent"], "李娜"),
        }
    labelling = Labelling(sessions=sessions, vocabulary=Vocabulary.for_pack(PACK), audit=audit)
    return people, labelling, Datasets(sessions=sessions, audit=audit)


def sample(sessions, lines, *, double: float = 0.0, minutes_ago: int = 60) -> str:
    """A conversation, its messages sampled into the queue as the `learning` consumer does."""
    feed = LabellingFeed(rates=ALL, corrections=Corrections.load(PACK), double_percent=double)
    with transaction(sessions) as s:
        conv, _ = add_conversation(s, lines, minutes_ago=minutes_ago)
        cid = conv.id
    with transaction(sessions) as s:
        store(s, cid, feed.plan(s, cid))
    return cid


def items(sessions, cid=None):
    with reading(sessions) as s:
        query = select(LabelItem).order_by(LabelItem.seq)
        if cid is not None:
            query = query.where(LabelItem.conversation_id == cid)
        return [(i.seq, i.reason, list(i.reasons), i.status, i.needs) for i in s.scalars(query)]


def label(intent, emotion="neutral", entities=()):
    return {"intent": intent, "emotion": emotion, "entities": list(entities)}


def test_messages_are_sampled_once_with_their_reasons_and_annotators_resolve_them(sessions, desk):
    people, labelling, _ = desk
    cid = sample(
        sessions,
        [
            ("customer", "帮我写首诗", "out_of_scope", 0.7),
            ("bot", "抱歉，这个我帮不上忙"),
            ("customer", "尾号****1234那张卡", "card_activation", 0.32),
            ("bot", "请问您要激活哪张卡？"),
            ("customer", "不是这个，我是说这张卡的还款日", "credit_card_repayment", 0.9),
        ],
    )
    assert items(sessions) == [
        (1, "out_of_scope", ["out_of_scope"], "open", 1),
        (3, "low_confidence", ["low_confidence", "corrected"], "open", 1),
    ]
    with transaction(sessions) as s:  # the consumer replays a batch after a crash: nothing changes
        feed = LabellingFeed(rates=ALL, corrections=Corrections.load(PACK), double_percent=0)
        store(s, cid, feed.plan(s, cid))
    assert len(items(sessions)) == 2

    first = labelling.next_item(people["a1"])
    assert first is not None and first.seq == 1 and first.text == "帮我写首诗"
    assert first.prediction["intent"] == {"name": "out_of_scope", "confidence": 0.7}
    assert [m["seq"] for m in first.context] == [1, 2, 3] and first.labels == []
    done = labelling.submit(people["a1"], first.id, label("out_of_scope"))
    assert (done.status, done.resolution, done.final["intent"]) == ("resolved", "single", "out_of_scope")
    second = labelling.next_item(people["a1"])
    assert second is not None and second.seq == 3 and "****1234" in second.text  # masked, as stored
    assert labelling.next_item(people["a1"], skip=[second.id]) is None
    done = labelling.submit(
        people["a1"],
        second.id,
        label("credit_card_repayment", "neutral", [{"type": "card_tail", "start": 2, "end": 10}]),
    )
    assert done.final["entities"] == [{"type": "card_tail", "start": 2, "end": 10, "text": "****1234"}]
    assert labelling.counts()["status"] == {"open": 0, "second": 0, "disputed": 0, "resolved": 2}
    with pytest.raises(ItemResolvedError):
        labelling.submit(people["a2"], second.id, label("credit_card_repayment"))
    with pytest.raises(ItemNotFoundError):
        labelling.item(people["a1"], "no-such-item")


def test_a_bad_label_is_refused_and_changes_nothing(sessions, desk):
    people, labelling, _ = desk
    sample(sessions, [("customer", "帮我写首诗", "out_of_scope", 0.7)])
    item = labelling.next_item(people["a1"])
    for bad in (
        label("poetry"),
        label("out_of_scope", "happy"),
        label("out_of_scope", "neutral", [{"type": "money", "start": 3, "end": 99}]),
    ):
        with pytest.raises(LabelError) as e:
            labelling.submit(people["a1"], item.id, bad)
        assert e.value.code == "invalid_label"
    assert labelling.item(people["a1"], item.id).status == "open"
    assert labelling.next_item(people["a1"]).id == item.id


def test_an_agents_flag_that_the_annotator_contradicts_goes_to_a_second_annotator(sessions, desk):
    people, labelling, _ = desk
    cid = sample(sessions, [("customer", "我要查一下", "balance_inquiry", 0.95), ("bot", "您的余额是…")])
    assert items(sessions, cid) == []  # confident: not sampled
    flagged = labelling.flag(
        people["agent"], cid, 1, intent="transaction_history", note="客户想看明细 13812345678"
    )
    assert (flagged.reason, flagged.flag["by"], flagged.flag["intent"]) == (
        "flagged",
        "李娜",
        "transaction_history",
    )
    assert "13812345678" not in flagged.flag["note"]  # the note is masked too
    with pytest.raises(MessageNotFoundError):
        labelling.flag(people["agent"], cid, 9)
    with pytest.raises(Exception, match="only a customer") as e:
        labelling.flag(people["agent"], cid, 2)
    assert e.value.code == "not_a_customer_message"

    assert labelling.next_item(people["a1"]).id == flagged.id  # flags come first
    after = labelling.submit(people["a1"], flagged.id, label("balance_inquiry"))
    assert after.status == "second"
    with pytest.raises(AlreadyLabelledError):
        labelling.submit(people["a1"], flagged.id, label("balance_inquiry"))
    assert labelling.next_item(people["a1"]) is None
    assert labelling.next_item(people["a2"]).id == flagged.id
    settled = labelling.submit(people["a2"], flagged.id, label("transaction_history"))
    assert (settled.status, settled.resolution, settled.final["intent"]) == (
        "resolved",
        "agreement",
        "transaction_history",
    )


def test_two_annotators_who_differ_need_a_supervisor_whose_decision_is_audited(sessions, desk):
    people, labelling, _ = desk
    sample(sessions, [("customer", "那笔钱怎么回事", "transfer_failed", 0.3)], double=100)
    item = labelling.next_item(people["a1"])
    assert item.needs == 2
    assert labelling.submit(people["a1"], item.id, label("transfer_failed", "fear")).status == "open"
    assert (
        labelling.submit(people["a2"], item.id, label("unrecognized_transaction", "fear")).status
        == "disputed"
    )
    assert labelling.next_item(people["a3"]) is None
    with pytest.raises(NeedsSupervisorError):
        labelling.submit(people["a3"], item.id, label("transfer_failed", "fear"))
    seen = labelling.next_item(people["sup"])
    assert seen.id == item.id and [g["by"] for g in seen.labels] == ["标注员甲", "标注员乙"]
    assert labelling.item(people["a1"], item.id).labels == []  # annotators label blind
    done = labelling.submit(people["sup"], item.id, label("unrecognized_transaction", "fear"))
    assert (done.status, done.resolution) == ("resolved", "supervisor")
    with reading(sessions) as s:
        actions = s.scalars(select(AuditLogRow.action)).all()
    assert "learning.label.settled" in actions


def test_dataset_versions_hold_the_labels_with_provenance_and_export_in_the_packs_format(
    sessions, desk, tmp_path
):
    people, labelling, datasets = desk
    with pytest.raises(NoLabelsError):
        datasets.snapshot(actor=Actor.system("test"))
    first_cid = sample(sessions, [("customer", "帮我写首诗", "out_of_scope", 0.7)], minutes_ago=90)
    other_cid = sample(sessions, [("customer", "卡被吞了怎么办", "card_lost_or_stolen", 0.41)])
    for _ in range(2):
        item = labelling.next_item(people["a1"])
        intent = "out_of_scope" if item.conversation_id == first_cid else "card_reissue"
        labelling.submit(
            people["a1"], item.id, label(intent, "sadness" if intent == "card_reissue" else "neutral")
        )
    d1, created = datasets.snapshot(actor=Actor.system("cli:test"), note="first week")
    assert created and (d1.version, d1.examples, d1.present) == ("d1", 2, 2)
    assert d1.counts["intents"] == {"card_reissue": 1, "out_of_scope": 1}
    assert d1.counts["reasons"] == {"low_confidence": 1, "out_of_scope": 1}
    again, created = datasets.snapshot(actor=Actor.system("cli:test"))
    assert not created and again.version == "d1" and again.content_sha256 == d1.content_sha256
    rows = datasets.rows("d1")
    reissue = next(r for r in rows if r["intent"] == "card_reissue")
    assert reissue["conversation_id"] == other_cid and reissue["reasons"] == ["low_confidence"]
    assert reissue["labelled_by"] == [people["a1"].id] and reissue["resolution"] == "single"

    manifest = datasets.export("d1", tmp_path / "d1")
    assert manifest["content_sha256"] == d1.content_sha256
    trained = load_examples(tmp_path / "d1" / "intents")
    assert sorted((e.text, e.label) for e in trained) == [
        ("卡被吞了怎么办", "card_reissue"),
        ("帮我写首诗", "out_of_scope"),
    ]
    emotions = yaml.safe_load((tmp_path / "d1" / "emotions.yaml").read_text("utf-8"))
    assert emotions == {"neutral": {"zh-Hans": ["帮我写首诗"]}, "sadness": {"zh-Hans": ["卡被吞了怎么办"]}}
    provenance = [
        json.loads(line) for line in (tmp_path / "d1" / "provenance.jsonl").read_text("utf-8").splitlines()
    ]
    assert {p["message_id"] for p in provenance} == {r["message_id"] for r in rows}

    sample(sessions, [("customer", "信用卡能分期吗", "installment_inquiry", 0.45)], minutes_ago=10)
    item = labelling.next_item(people["a2"])
    labelling.submit(people["a2"], item.id, label("installment_inquiry"))
    d2, created = datasets.snapshot(actor=Actor.system("cli:test"))
    assert created and d2.version == "d2" and d2.examples == 3 and d2.content_sha256 != d1.content_sha256
    assert [e.label for e in datasets.intent_examples("d1")] == [
        r["intent"] for r in rows
    ]  # d1 never changes
    assert [d.version for d in datasets.versions()] == ["d2", "d1"]

    # Erasing a customer takes their conversation's examples out of every version.
    with transaction(sessions) as s:
        s.execute(delete(Conversation).where(Conversation.id == other_cid))
    assert (datasets.get("d1").present, datasets.get("d1").examples) == (1, 2)
    assert datasets.get("d2").present == 2
