"""Every guardrail, in `Guard.ask`, against a real local chat-completions server: personal data never
leaves, an answer that fails a check is not used (and why is metered), a timeout keeps the template."""

from __future__ import annotations

import pytest

from helixdesk.llm.client import ChatClient
from helixdesk.llm.guard import Ask, Guard
from helixdesk.llm.meter import CallRecord, Prices
from helixdesk.packs.loader import load_pack
from helixdesk.quality.rules import RuleBook
from tests.llm_fake import FakeLlm

CARD = "6222 0212 3456 7890 128"
PHONE = "13912345670"
ID = "11010519491231002X"
DRAFT = "您尾号0128的卡已冻结，解冻请在3个工作日内到网点办理。"


class Recorded:
    """A meter that keeps its records in memory (the database meter is tested with the database)."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)


@pytest.fixture(scope="module")
def book() -> RuleBook:
    return RuleBook.load(load_pack("retail_bank"))


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeLlm() as server:
        yield server


def guard(
    fake: FakeLlm, book: RuleBook, meter: Recorded, *, timeout: float = 5.0, stream: bool = False
) -> Guard:
    return Guard(
        client=ChatClient(base_url=fake.url, model="local", timeout=timeout, stream=stream),
        meter=meter,
        prices=Prices(per_1k_input=0.5, per_1k_output=2.0),
        compliance=lambda text: [h.rule for h in book.check_message(text, "bot")],
    )


def reword(customer: str = "我的卡丢了，卡号 " + CARD + "，手机 " + PHONE + "，身份证 " + ID) -> Ask:
    return Ask(
        use="reword",
        system="You reword one reply. Write in Simplified Chinese.",
        user=f"The customer wrote:\n{customer}\n\nThe reply to reword:\n{DRAFT}",
        sources=(DRAFT, customer),
        conversation_id="c-1",
    )


def test_an_answer_that_passes_every_check_is_used_and_metered(fake: FakeLlm, book: RuleBook) -> None:
    meter = Recorded()
    said = "别担心，尾号0128的卡已经冻结了，3个工作日内到网点就能解冻，卡 <CARD_1> 很安全。"
    fake.script(said)
    answer = guard(fake, book, meter).ask(reword())
    assert answer.reason == "ok"
    assert (
        answer.text
        == "别担心，尾号0128的卡已经冻结了，3个工作日内到网点就能解冻，卡 **** **** **** 0128 很安全。"
    )
    sent = fake.received()
    for raw in (CARD, CARD.replace(" ", ""), PHONE, ID):
        assert raw not in sent
    assert "<CARD_1>" in sent and "<PHONE_1>" in sent and "<ID_1>" in sent
    [call] = meter.calls
    prompt = sum(len(m["content"]) for m in fake.requests[0]["messages"])
    assert (call.use, call.used, call.reason, call.conversation_id) == ("reword", True, "ok", "c-1")
    assert (call.prompt_tokens, call.completion_tokens, call.tokens_estimated) == (prompt, len(said), False)
    assert call.cost == pytest.approx(prompt / 1000 * 0.5 + call.completion_tokens / 1000 * 2.0)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("您尾号0128的卡已冻结，解冻请在2个工作日内到网点办理。", "invented_number"),
        ("您的卡已冻结，如有疑问请拨打 <PHONE_2>。", "placeholder"),
        ("您的卡已冻结，详情请写信到 help@elsewhere.example 查询。", "personal_data"),
        ("您的卡已冻结。另外我行理财稳赚不赔，欢迎了解。", "compliance"),
        ("您的卡已冻结 [1]。", "citation"),
        ("   ", "empty"),
        ("已冻结。" * 600, "too_long"),
    ],
)
def test_an_answer_that_fails_a_check_is_not_used(
    fake: FakeLlm, book: RuleBook, answer: str, reason: str
) -> None:
    meter = Recorded()
    fake.script(answer)
    result = guard(fake, book, meter).ask(reword())
    assert (result.text, result.reason) == (None, reason)
    assert [(c.used, c.reason) for c in meter.calls] == [(False, reason)]


def test_a_timeout_gives_no_answer_and_the_prompt_is_metered(fake: FakeLlm, book: RuleBook) -> None:
    meter = Recorded()
    fake.script("too late", hold=True)
    result = guard(fake, book, meter, timeout=0.3).ask(reword())
    assert (result.text, result.reason) == (None, "timeout")
    [call] = meter.calls
    assert call.reason == "timeout" and call.tokens_estimated and call.prompt_tokens > 0
    assert call.completion_tokens == 0


def test_citations_must_point_at_the_given_sources(fake: FakeLlm, book: RuleBook) -> None:
    meter = Recorded()
    ask = Ask(
        use="compose",
        system="You answer from the passages.",
        user="[1] 挂失后 3 个工作日内补卡。\n\n[2] 补卡免费。",
        sources=("挂失后 3 个工作日内补卡。", "补卡免费。"),
        citations=2,
    )
    g = guard(fake, book, meter)
    fake.script("挂失后3个工作日内补卡 [1]，补卡免费【2】。")
    ok = g.ask(ask)
    assert (ok.reason, ok.cited) == ("ok", (1, 2))
    fake.script("挂失后3个工作日内补卡 [3]。")
    assert g.ask(ask).reason == "citation"
    fake.script("挂失后3个工作日内补卡。")  # had to cite
    assert g.ask(ask).reason == "citation"


def test_a_streamed_answer_goes_through_the_same_checks(fake: FakeLlm, book: RuleBook) -> None:
    meter = Recorded()
    g = guard(fake, book, meter, stream=True)
    fake.script("好的，您尾号0128的卡已冻结，3个工作日内可到网点解冻。")
    assert g.ask(reword()).reason == "ok"
    fake.script("好的，您尾号0128的卡已冻结，10个工作日内可到网点解冻。", usage=False)
    assert g.ask(reword()).reason == "invented_number"
    assert [(c.streamed, c.tokens_estimated) for c in meter.calls] == [(True, False), (True, True)]


def test_a_failing_check_is_an_error_and_the_template_stays(fake: FakeLlm, book: RuleBook) -> None:
    meter = Recorded()

    def broken(text: str) -> list[str]:
        raise RuntimeError("the rule book could not be read")

    g = Guard(client=ChatClient(base_url=fake.url, model="local", timeout=5), meter=meter, compliance=broken)
    fake.script("好的，您尾号0128的卡已冻结，3个工作日内可到网点解冻。")
    result = g.ask(reword())
    assert (result.text, result.reason) == (None, "error")
    assert [(c.used, c.reason) for c in meter.calls] == [(False, "error")]
