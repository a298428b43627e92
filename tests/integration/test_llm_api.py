"""The optional LLM end to end, through the real chat API and console, against a local fake of the
chat-completions API (tests/llm_fake.py): replies reworded and knowledge answers composed, every
guardrail falling back to the template, personal data never reaching the server, handoff summaries,
the QA second opinion, the metering of each call, and nothing at all while the LLM is off."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.conversations.models import Message
from helixdesk.core.settings import Settings
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from helixdesk.handoff.models import Handoff
from helixdesk.llm.meter import usage
from helixdesk.llm.models import LlmCall
from tests.console_login import sign_in
from tests.llm_fake import MODEL, FakeLlm
from tests.quality_data import add_conversation, add_finding, add_scorecard
from tests.seeded import seeded_database

CARD = "6222 0212 3456 7890 128"
PHONE = "13912345670"
ID = "11010519491231002X"
RAW = [CARD, CARD.replace(" ", ""), PHONE, ID, ID.lower(), "139 1234 5670"]
PASSWORD = "correct horse battery staple"
PRICES = {"llm_cost_per_1k_input_tokens": 0.4, "llm_cost_per_1k_output_tokens": 1.6}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the demo bank, the pack's FAQ and rates, made once for the module."""
    path = tmp_path_factory.mktemp("llm") / "seeded.db"
    engine, _ = seeded_database(f"sqlite:///{path}", customers=3)
    engine.dispose()
    return path


def settings(url: str, model_root: Path, fake: FakeLlm, **llm: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_enabled": True,
        "llm_base_url": fake.url,
        "llm_model": "local-instruct",
        "llm_timeout_seconds": 1.0,
        **PRICES,
    }
    values.update(llm)
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        model_dir=model_root,
        nlu_process=False,
        secret_key="t" * 32,
        **values,
    )


@pytest.fixture(scope="module")
def llm(seeded: Path, model_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One server with the LLM on (plain answers), for the tests of this module that share it."""
    path = tmp_path_factory.mktemp("llm-on") / "helixdesk.db"
    shutil.copyfile(seeded, path)
    app = create_app(settings(f"sqlite:///{path}", model_root, fake := FakeLlm()))
    with fake, TestClient(app, follow_redirects=False) as client:
        yield {"client": client, "fake": fake, "container": client.app.state.container}


@pytest.fixture
def on(llm: dict[str, Any]) -> dict[str, Any]:
    """The shared server with the LLM on, its fake's script empty."""
    llm["fake"].clear()
    return llm


class Chat:
    def __init__(self, client: TestClient, customer_ref: str = "C000001") -> None:
        conv = client.post(
            "/api/v1/conversations", json={"channel": "web", "customer_ref": customer_ref}
        ).json()
        self.client = client
        self.id = conv["id"]
        self.headers = {"Authorization": f"Bearer {conv['token']}"}

    def say(self, text: str) -> list[dict[str, Any]]:
        r = self.client.post(
            f"/api/v1/conversations/{self.id}/messages", json={"text": text}, headers=self.headers
        )
        assert r.status_code == 200, r.text
        replies: list[dict[str, Any]] = r.json()["replies"]
        return replies


def bot_messages(container: Any, conversation_id: str) -> list[Message]:
    with container.sessions() as s:
        return list(
            s.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.sender == "bot")
                .order_by(Message.seq)
            )
        )


def calls(container: Any, conversation_id: str) -> list[LlmCall]:
    with container.sessions() as s:
        return list(
            s.scalars(
                select(LlmCall).where(LlmCall.conversation_id == conversation_id).order_by(LlmCall.created_at)
            )
        )


def draft_of(body: dict[str, Any]) -> str:
    """The template reply a reword request carried."""
    return str(body["messages"][-1]["content"].split("The reply to reword:\n", 1)[1])


def template_of(container: Any, body: dict[str, Any], customer_ref: str = "C000001") -> str:
    """The template's reply: the draft with the customer's name where it says <NAME>."""
    profile = container.bank.get_customer(customer_ref)
    return draft_of(body).replace("<NAME>", profile.name_zh[:1])


def test_a_reply_is_reworded_end_to_end_through_the_chat_api(on: dict[str, Any]) -> None:
    fake, container = on["fake"], on["container"]
    chat = Chat(on["client"])
    seen = len(fake.requests)
    greeting = chat.say("你好")[0]
    body = fake.requests[seen]
    assert body["model"] == "local-instruct" and body["stream"] is False
    assert body["messages"][0]["content"].startswith("You reword")
    assert "Write in Simplified Chinese" in body["messages"][0]["content"]
    assert "<NAME>" in draft_of(body)  # the customer's name is not sent
    assert greeting["text"] == "好的，" + template_of(container, body)
    rates = chat.say("美元汇率多少")
    assert rates[0]["text"].startswith(
        "好的，美元（USD）兑人民币牌价"
    )  # figures checked, all from the template
    stored = bot_messages(container, chat.id)
    assert [m.meta.get("llm") for m in stored[:2]] == ["reword", "reword"]
    assert [(c.use, c.used, c.reason) for c in calls(container, chat.id)] == [("reword", True, "ok")] * 2


def test_a_knowledge_answer_is_composed_with_citations_to_its_passages(on: dict[str, Any]) -> None:
    fake, container = on["fake"], on["container"]
    chat = Chat(on["client"])
    answer = chat.say("信用卡年费怎么收？")[0]
    assert answer["kind"] == "answer"
    body = fake.requests[-1]
    assert body["messages"][0]["content"].startswith("You answer")
    passage = body["messages"][-1]["content"].split("Passages:\n[1] ", 1)[1].split("\n\n[2] ", 1)[0]
    assert answer["text"] == f"{passage} [1]"
    assert [c["ref"] for c in answer["citations"]] == ["annual-fee-waiver"]
    answers = lambda: [m for m in bot_messages(container, chat.id) if m.meta["kind"] == "answer"]  # noqa: E731
    assert answers()[0].meta["llm"] == "compose"
    # A citation of a passage it was not given: the stored answer, as without the LLM.
    fake.script(f"{passage} [7]", use="compose")
    again = chat.say("信用卡年费怎么收？")[0]
    assert again["text"] == passage and [c["ref"] for c in again["citations"]] == ["annual-fee-waiver"]
    assert "llm" not in answers()[1].meta
    assert [c.reason for c in calls(container, chat.id)] == ["ok", "citation"]


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ("本月还有优惠，返现88元。", "invented_number"),
        ("另外我行理财稳赚不赔，欢迎了解。", "compliance"),
        ("如需帮助请拨打 <PHONE_3>。", "placeholder"),
    ],
)
def test_an_answer_that_fails_a_guardrail_gives_the_template_reply(
    on: dict[str, Any], extra: str, reason: str
) -> None:
    fake, container = on["fake"], on["container"]
    chat = Chat(on["client"])
    fake.script(lambda body: "好的，" + draft_of(body) + extra, use="reword")
    reply = chat.say("你好")[0]
    assert reply["text"] == template_of(container, fake.requests[-1])
    assert "88" not in reply["text"] and "稳赚" not in reply["text"]
    assert "llm" not in bot_messages(container, chat.id)[0].meta
    assert [(c.used, c.reason) for c in calls(container, chat.id)] == [(False, reason)]


def test_a_timeout_gives_the_template_reply(on: dict[str, Any]) -> None:
    fake, container = on["fake"], on["container"]
    chat = Chat(on["client"])
    fake.script("来不及了", hold=True, use="reword")  # the server holds the answer past llm_timeout_seconds
    reply = chat.say("你好")[0]
    assert reply["text"] == template_of(container, fake.requests[-1])
    [call] = calls(container, chat.id)
    assert (call.used, call.reason, call.completion_tokens, call.tokens_estimated) == (
        False,
        "timeout",
        0,
        True,
    )


def test_personal_data_never_reaches_the_llm_and_no_reply_leaks_it(on: dict[str, Any]) -> None:
    fake, container = on["fake"], on["container"]
    chat = Chat(on["client"])
    seen = len(fake.requests)
    # The model repeats the phone and the card it was given, as placeholders.
    fake.script(
        lambda body: "好的，" + draft_of(body) + "已记下您的手机 <PHONE_1> 和卡 <CARD_1>。", use="reword"
    )
    replies = chat.say(f"你好，我的卡号是 {CARD}，手机 {PHONE}，身份证 {ID}")
    sent = fake.requests[seen:]
    assert sent, "the LLM was asked"
    received = "\n".join(
        [r.decode("utf-8") for r in fake.raw[seen:]] + [m["content"] for b in sent for m in b["messages"]]
    )
    for raw in RAW:
        assert raw not in received
    assert "<CARD_1>" in received and "<PHONE_1>" in received and "<ID_1>" in received
    shown = "\n".join(r["text"] for r in replies) + "\n".join(
        m.text for m in bot_messages(container, chat.id)
    )
    for raw in RAW:
        assert raw not in shown
    assert "139****5670" in shown and "**** **** **** 0128" in shown


def test_a_handoff_gets_the_models_summary_beside_the_extractive_one(on: dict[str, Any]) -> None:
    fake, container = on["fake"], on["container"]
    chat = Chat(on["client"])
    chat.say("我要转人工")
    summary_asks = [b for b in fake.requests if b["messages"][0]["content"].startswith("You summarise")]
    assert summary_asks and "我要转人工" in summary_asks[-1]["messages"][-1]["content"]
    with container.sessions() as s:
        packet = s.scalar(select(Handoff.packet).where(Handoff.conversation_id == chat.id))
    assert packet["llm_summary"] == {"language": "zh-Hans", "text": "客户需要人工协助处理。"}
    assert packet["summary"]["zh-Hans"]  # the extractive summary stays
    client = on["client"]
    container.staff.create_user(
        username="sup.llm", password=PASSWORD, display_name="Sup", roles=["supervisor"]
    )
    sign_in(client, "sup.llm", PASSWORD)
    try:
        page = client.get(f"/console/conversations/{chat.id}").text
    finally:
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)
    assert '<p class="summary">' in page  # the extractive summary, then the model's beside it
    assert '<p class="summary summary--llm" id="llm-summary" lang="zh-Hans">' in page
    assert "模型摘要" in page and "客户需要人工协助处理。" in page
    # A summary that invents a figure is not kept: the extractive one stands alone.
    other = Chat(on["client"], "C000002")
    fake.script("客户要求转人工，涉及金额5000元。", use="summary")
    other.say("我要转人工")
    with container.sessions() as s:
        packet = s.scalar(select(Handoff.packet).where(Handoff.conversation_id == other.id))
    assert "llm_summary" not in packet and packet["summary"]["zh-Hans"]
    assert [c.reason for c in calls(container, other.id) if c.use == "summary"] == ["invented_number"]


def test_the_qa_second_opinion_is_shown_beside_the_rule_based_result(on: dict[str, Any]) -> None:
    fake, container, client = on["fake"], on["container"], on["client"]
    container.staff.create_user(
        username="qa.llm", password=PASSWORD, display_name="QA", roles=["qa_reviewer"]
    )
    with transaction(container.sessions) as s:
        conv, msgs = add_conversation(
            s, [("customer", "这个理财安全吗？"), ("agent", "这款理财保本保收益，您放心买")]
        )
        add_scorecard(s, conv.id, agent_id=None, team="general", score=75.0)
        add_finding(s, conv.id, "absolute_promise", message=msgs[1], evidence="保本保收益")
    sign_in(client, "qa.llm", PASSWORD)
    try:
        page = client.get(f"/console/review/{conv.id}")
        assert 'id="ask-second-opinion"' in page.text
        fake.script(
            '{"score": 40, "concerns": [{"message": 2, "note": "坐席作出了保本保收益的承诺。"}]}',
            use="qa_second_opinion",
        )
        r = client.post(f"/console/api/quality/conversations/{conv.id}/second-opinion")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "conversation_id": conv.id,
            "rule_based": {"score": 75.0, "findings": 1},
            "second_opinion": {
                "score": 40.0,
                "concerns": [{"message": 2, "note": "坐席作出了保本保收益的承诺。"}],
                "model": "local-instruct",
            },
        }
        asked = fake.requests[-1]["messages"][-1]["content"]
        assert "absolute_promise" in asked and "2. agent: 这款理财保本保收益" in asked
        # An opinion about a message that is not there: none is shown; the rule-based result stands.
        fake.script(
            '{"score": 40, "concerns": [{"message": 9, "note": "不存在的消息"}]}', use="qa_second_opinion"
        )
        r = client.post(f"/console/api/quality/conversations/{conv.id}/second-opinion")
        assert r.json()["second_opinion"] is None and r.json()["rule_based"]["score"] == 75.0
        assert [(c.use, c.reason) for c in calls(container, conv.id)] == [
            ("qa_second_opinion", "ok"),
            ("qa_second_opinion", "bad_format"),
        ]
    finally:
        client.cookies.clear()
        client.headers.pop("X-CSRF-Token", None)


def test_streamed_answers_reword_replies_too(seeded: Path, model_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "helixdesk.db"
    shutil.copyfile(seeded, path)
    with (
        FakeLlm() as fake,
        TestClient(create_app(settings(f"sqlite:///{path}", model_root, fake, llm_stream=True))) as c,
    ):
        container = c.app.state.container
        chat = Chat(c)
        reply = chat.say("你好")[0]
        assert fake.requests[0]["stream"] is True
        assert reply["text"] == "好的，" + template_of(container, fake.requests[0])
        fake.script(lambda body: "好的，" + draft_of(body) + "3天内有惊喜。", usage=False, use="reword")
        plain = chat.say("你好")[0]
        assert plain["text"] == template_of(container, fake.requests[1])
        assert [(c.streamed, c.reason, c.tokens_estimated) for c in calls(container, chat.id)] == [
            (True, "ok", False),
            (True, "invented_number", True),
        ]


def test_each_call_is_metered_with_its_tokens_and_cost(db_url: str, model_root: Path) -> None:
    """On SQLite and PostgreSQL: one llm_calls row per call, and the totals per use."""
    engine = make_engine(db_url)
    with transaction(make_session_factory(engine)) as s:
        import_bank_file(s, build_demo_bank(3))
    engine.dispose()
    with FakeLlm() as fake, TestClient(create_app(settings(db_url, model_root, fake))) as c:
        container = c.app.state.container
        chat = Chat(c)
        chat.say("你好")
        fake.script(lambda body: "好的，" + draft_of(body) + "送您100积分。", use="reword")
        chat.say("你好")
        ok, refused = calls(container, chat.id)
        for call, body in zip((ok, refused), fake.requests, strict=True):
            answer = "好的，" + draft_of(body) + ("" if call is ok else "送您100积分。")
            prompt = sum(len(m["content"]) for m in body["messages"])
            assert (call.model, call.prompt_tokens, call.completion_tokens) == (MODEL, prompt, len(answer))
            assert call.cost == pytest.approx(prompt * 0.4 / 1000 + len(answer) * 1.6 / 1000)
            assert call.latency_ms >= 0 and not call.tokens_estimated and not call.streamed
        assert (ok.used, ok.reason, refused.used, refused.reason) == (True, "ok", False, "invented_number")
        with container.sessions() as s:
            [totals] = usage(s)
        assert (totals.use, totals.calls, totals.used, totals.fallbacks) == (
            "reword",
            2,
            1,
            {"invented_number": 1},
        )
        assert totals.prompt_tokens == ok.prompt_tokens + refused.prompt_tokens
        assert totals.cost == pytest.approx(ok.cost + refused.cost)


def test_with_the_llm_off_nothing_is_sent_and_nothing_changes(
    seeded: Path, model_root: Path, tmp_path: Path
) -> None:
    path = tmp_path / "helixdesk.db"
    shutil.copyfile(seeded, path)
    with FakeLlm() as fake:
        off = settings(f"sqlite:///{path}", model_root, fake, llm_enabled=False)
        assert Settings(_env_file=None).llm_enabled is False  # type: ignore[call-arg]
        with TestClient(create_app(off), follow_redirects=False) as c:
            container = c.app.state.container
            assert container.llm is None and container.bot.writer.assistant is None
            chat = Chat(c)
            greeting = chat.say("你好")
            answer = chat.say("信用卡年费怎么收？")
            chat.say(f"我的卡号是 {CARD}，手机 {PHONE}，卡丢了怎么办")
            chat.say("我要转人工")
            assert fake.requests == []
            assert not greeting[0]["text"].startswith("好的，")
            assert "[1]" not in answer[0]["text"]
            assert all("llm" not in m.meta for m in bot_messages(container, chat.id))
            with container.sessions() as s:
                assert s.scalars(select(LlmCall)).all() == []
                packet = s.scalar(select(Handoff.packet).where(Handoff.conversation_id == chat.id))
            assert "llm_summary" not in packet
            container.staff.create_user(
                username="qa.off", password=PASSWORD, display_name="QA", roles=["qa_reviewer"]
            )
            sign_in(c, "qa.off", PASSWORD)
            assert 'id="ask-second-opinion"' not in c.get(f"/console/review/{chat.id}").text
            r = c.post(f"/console/api/quality/conversations/{chat.id}/second-opinion")
            assert r.status_code == 409 and r.json()["error"]["code"] == "llm_off"
