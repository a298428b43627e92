"""Reading platforms' payloads through their mapping: the two example platforms of
docs/config/social-platforms.yaml, paths, batches, kinds, times, and payloads that do not match."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from helixdesk.channels.social.config import load_platforms
from helixdesk.channels.social.errors import SocialPayloadMismatchError
from helixdesk.channels.social.mapping import language_of, parse_time
from helixdesk.channels.social.paths import BadPathError, Path, found
from tests.social_sim import (
    EXAMPLE,
    environ,
    messenger_message,
    messenger_request,
    weibo_event,
    weibo_request,
)


@pytest.fixture(scope="module")
def platforms():
    return load_platforms(EXAMPLE, environ("http://127.0.0.1:9/w", "http://127.0.0.1:9/m"))


def _read(platform, body: bytes):
    return platform.mapping.read(json.loads(body))


# ---- paths ---------------------------------------------------------------------------------------


def test_dotted_paths_and_json_pointers_reach_the_same_values():
    doc = {"a": {"b/c": [10, {"d~e": "x"}]}, "sender": {"id": 7}, "": {"empty": True}}
    assert Path.parse("sender.id").get(doc) == 7
    assert Path.parse("/sender/id").get(doc) == 7
    assert Path.parse("/a/b~1c/1/d~0e").get(doc) == "x"
    assert Path.parse("/a/b~1c/0").get(doc) == 10
    assert Path.parse("/").steps == ("",) and Path.parse("//empty").get(doc) is True
    assert Path.parse("").get(doc) is doc
    for missing in ("sender.name", "/a/b~1c/5", "sender.id.x", "/a/b~1c/-1"):
        assert not found(Path.parse(missing).get(doc)), missing
    assert not found(Path.parse("sender.id").get({"sender": None}))


def test_a_wildcard_steps_into_every_item_and_only_where_allowed():
    doc = {"entry": [{"messaging": [1, 2]}, {"messaging": [3]}]}
    assert Path.parse("entry.*.messaging", wildcard=True).get_all(doc) == [[1, 2], [3]]
    assert Path.parse("/entry/*/messaging", wildcard=True).get_all(doc) == [[1, 2], [3]]
    assert Path.parse("entry.*.nothing", wildcard=True).get_all(doc) is None
    assert Path.parse("*", wildcard=True).get_all([[1], [2]]) == [[1], [2]]
    with pytest.raises(BadPathError, match="only in the path to the list"):
        Path.parse("entry.*.text")
    for bad in ("a..b", ".a", "a.", "/a/~2", "/a~"):
        with pytest.raises(BadPathError):
            Path.parse(bad)


# ---- the Weibo-like example ----------------------------------------------------------------------


def test_a_weibo_batch_of_a_direct_message_and_comments(platforms):
    body, _ = weibo_request(
        [
            weibo_event("m1", "信用卡年费怎么收？", author="5612345678"),
            weibo_event("c1", "你们的APP又崩了", kind="comment", status="4937000000000001", lang="zh_TW"),
            weibo_event("c2", "Great service", kind="mention", lang="en_US", name="Amy"),
            weibo_event("l1", "", kind="like"),
        ]
    )
    events, skipped = _read(platforms["weibo"], body)
    assert skipped == 1  # a like: a kind the channel does not handle
    dm, comment, mention = events
    assert (dm.number, dm.event_id, dm.kind, dm.author_id, dm.author_name) == (
        1,
        "m1",
        "direct_message",
        "5612345678",  # a number in the payload, a string here
        "小明爱理财",
    )
    assert dm.created_at == datetime(2025, 12, 2, 10, 15, tzinfo=timezone(timedelta(hours=8)))
    assert dm.language == "zh-Hans" and dm.reply_to is None
    assert (comment.kind, comment.reply_to, comment.language) == ("comment", "4937000000000001", "zh-Hant")
    assert (mention.kind, mention.language, mention.author_name) == ("comment", "en", "Amy")


def test_fields_that_do_not_match_refuse_the_request_and_name_the_event(platforms):
    weibo = platforms["weibo"]
    good = weibo_event("m1", "你好")
    cases = [
        ({**good, "text": None}, "event 2 has no text at 'text'"),
        ({k: v for k, v in good.items() if k != "id"}, "event 2 has no id at 'id'"),
        ({**good, "sender": {"screen_name": "x"}}, "event 2 has no author_id at 'sender.id'"),
        ({**good, "text": 42}, "event 2 has a text at 'text' that is not a string"),
        ({**good, "id": {"nested": 1}}, "not a string or a whole number"),
        ({**good, "id": "x" * 129}, "longer than 128"),
        ({**good, "created_at": "2025-12-02"}, "has a time at 'created_at'"),
        ({k: v for k, v in good.items() if k != "type"}, "event 2 has no kind at 'type'"),
        ("not an object", "event 2 is not a JSON object"),
    ]
    for bad, message in cases:
        body, _ = weibo_request([good, bad])  # type: ignore[list-item]
        with pytest.raises(SocialPayloadMismatchError, match=message) as e:
            _read(weibo, body)
        assert e.value.code == "social_payload_mismatch" and e.value.http_status == 422
    with pytest.raises(SocialPayloadMismatchError, match="no list of events at 'events'"):
        weibo.mapping.read({"event": good})
    with pytest.raises(SocialPayloadMismatchError, match="no list of events"):
        weibo.mapping.read({"events": {"0": good}})


def test_a_comment_needs_no_author_and_empty_text_is_skipped(platforms):
    comment = weibo_event("c9", "太慢了", kind="comment")
    del comment["sender"]
    blank = weibo_event("m9", "   ")
    events, skipped = platforms["weibo"].mapping.read({"events": [comment, blank]})
    assert [e.event_id for e in events] == ["c9"] and events[0].author_id is None and skipped == 1
    # NUL cannot be stored: it is dropped from the text.
    events, _ = platforms["weibo"].mapping.read({"events": [weibo_event("m8", "余额\x00查询")]})
    assert events[0].text == "余额查询"


# ---- the Messenger-like example -----------------------------------------------------------------


def test_a_messenger_batch_across_entries_skips_echoes_and_receipts(platforms):
    receipt = {"sender": {"id": "P1"}, "recipient": {"id": "PAGE-1"}, "read": {"watermark": 1}}
    picture = {**messenger_message("mid.pic", "P1", ""), "message": {"mid": "mid.pic", "attachments": []}}
    body, _ = messenger_request(
        [
            [messenger_message("mid.1", "P1", "How do I freeze my card?"), receipt],
            [
                messenger_message("mid.2", "P2", "Hello", echo=True),
                picture,
                messenger_message("mid.3", "P2", "hi"),
            ],
        ]
    )
    events, skipped = _read(platforms["messenger"], body)
    assert [(e.event_id, e.author_id, e.kind) for e in events] == [
        ("mid.1", "P1", "direct_message"),
        ("mid.3", "P2", "direct_message"),
    ]
    assert skipped == 3 and [e.number for e in events] == [1, 5]
    assert events[0].created_at == datetime(2025, 12, 2, 2, 15, tzinfo=UTC)
    assert events[0].reply_to == "PAGE-1" and events[0].author_name is None and events[0].language is None


# ---- values --------------------------------------------------------------------------------------


def test_times_and_languages():
    assert parse_time("2025-12-02T10:15:00+08:00", "iso") == datetime(2025, 12, 2, 2, 15, tzinfo=UTC)
    assert parse_time("2025-12-02T02:15:00Z", "iso") == datetime(2025, 12, 2, 2, 15, tzinfo=UTC)
    assert parse_time("2025-12-02T10:15:00", "iso") is None  # no offset
    assert parse_time(1764641700, "epoch_s") == datetime(2025, 12, 2, 2, 15, tzinfo=UTC)
    assert parse_time("1764641700000", "epoch_ms") == datetime(2025, 12, 2, 2, 15, tzinfo=UTC)
    for bad in (True, None, "soon", 10**30, [1]):
        assert parse_time(bad, "epoch_s") is None
    assert parse_time(1764641700, "iso") is None
    assert [
        language_of(v) for v in ("zh_CN", "zh", "ZH-hans", "zh-TW", "zh_HK", "en", "en_GB", "ja", None)
    ] == [
        "zh-Hans",
        "zh-Hans",
        "zh-Hans",
        "zh-Hant",
        "zh-Hant",
        "en",
        "en",
        None,
        None,
    ]


def test_an_event_id_becomes_a_client_message_id_that_fits():
    from helixdesk.channels.social.channel import client_message_id

    assert client_message_id("weibo", "4937164816012345") == "weibo:4937164816012345"
    long_a, long_b = (
        client_message_id("messenger", "m_" + "a" * 120),
        client_message_id("messenger", "m_" + "b" * 120),
    )
    assert len(long_a) <= 64 and len(long_b) <= 64 and long_a != long_b
    assert long_a == client_message_id("messenger", "m_" + "a" * 120)  # the same id, the same key
