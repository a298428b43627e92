"""The guardrails' overhead per reply: what `Guard.ask` adds to a call of the chat-completions API.

Against the local fake of the API (tests/llm_fake.py, a real HTTP server in a process of its own,
answering at once), each reply goes through the guard: masking every message, the call, restoring
placeholders, the citation and number checks, the personal-data check, the pack's compliance check,
and metering (into memory). The overhead is the guard's time minus the time spent in the call
itself; the steps are also timed one by one, and the bare call for scale. Replies are the kinds the
bot rewords, in zh-Hans, zh-Hant and en, with figures, dates and a masked card, and the customer's
personal data in their message.

    .venv/bin/python bench/llm_bench.py [--n 200] [--stream]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from helixdesk.llm import prompts
from helixdesk.llm.client import ChatClient, Completion
from helixdesk.llm.guard import Ask, Guard
from helixdesk.llm.meter import CallRecord
from helixdesk.llm.numbers import invented
from helixdesk.llm.redact import Redaction
from helixdesk.packs.loader import load_pack
from helixdesk.privacy.detect import find_pii
from helixdesk.quality.rules import RuleBook

CASES = [
    (
        "zh-Hans",
        "我的卡号是 6222 0212 3456 7890 128，手机 13912345670，帮我查下上个月的账单",
        "您尾号0128的信用卡2026年11月账单：本期应还 ¥3,280.50，最低还款 ¥328.05，到期还款日为2026年12月25日。",
    ),
    (
        "zh-Hant",
        "身份證 A123456(3)，我想知道美元匯率",
        "美元（USD）兌人民幣牌價（北京時間 2026年12月5日 06:15更新）：每1美元，銀行買入價 7.1012元，銀行賣出價 7.1308元。",
    ),
    (
        "en",
        "hi, my email is li.na.private@example.com, where is my transfer of 5,000 HKD?",
        "Your transfer of HKD 5,000.00 to Chan Tai Man was sent on 3 Dec 2026 at 14:20 and should arrive within 2 working days.",
    ),
]


class TimedClient(ChatClient):
    """The client, keeping the time each call took."""

    spent: list[float]

    def complete(self, messages):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            done: Completion = super().complete(messages)
        finally:
            self.spent.append(time.perf_counter() - t0)
        return done


class Memory:
    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {statistics.median(ordered) * 1000:7.3f} ms   p95 {p95 * 1000:7.3f} ms"


def _time(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="replies per case and way")
    parser.add_argument("--stream", action="store_true", help="streamed answers (server-sent events)")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the guard logs a line per call
    book = RuleBook.load(load_pack("retail_bank"))

    def compliance(text: str) -> list[str]:
        return [h.rule for h in book.check_message(text, "bot")]

    root = Path(__file__).resolve().parents[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.llm_fake"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        run(url, args.n, stream=args.stream, compliance=compliance)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def run(url: str, n: int, *, stream: bool, compliance: Callable[[str], list[str]]) -> None:
    client = TimedClient(base_url=url, model="bench", timeout=10, stream=stream)
    client.spent = []
    guard = Guard(client=client, meter=Memory(), compliance=compliance)
    overhead_all: list[float] = []
    steps: dict[str, list[float]] = {
        k: [] for k in ("mask", "restore", "numbers", "personal data", "compliance")
    }
    print(
        f"{n} replies per case, {'streamed' if stream else 'plain'} answers from the local fake (its own process)\n"
    )
    for language, customer, draft in CASES:
        ask = Ask(
            use="reword",
            system=prompts.reword(language, "warm"),
            user=prompts.reword_material(customer, draft),
            sources=(draft, customer),
        )
        messages, redaction = guard.outgoing(ask)
        for _ in range(5):  # warm up the connection path and the converters
            assert guard.ask(ask).used, "the fake's answer passes every check"
        client.spent = []
        total = _time(lambda a=ask: guard.ask(a), n)  # type: ignore[misc]
        calls = list(client.spent)
        overhead = [t - c for t, c in zip(total, calls, strict=True)]
        answer = client.complete(messages).text
        restored = redaction.restore(answer)
        sources = ask.sources
        steps["mask"] += _time(lambda a=ask: Redaction().mask(a.system) + Redaction().mask(a.user), n)  # type: ignore[misc]
        steps["restore"] += _time(lambda r=redaction, a=answer: r.restore(a), n)  # type: ignore[misc]
        steps["numbers"] += _time(
            lambda r=redaction, t=restored, s=sources: invented(r.without_shown(t), [r.seen(x) for x in s]),  # type: ignore[misc]
            n,
        )
        steps["personal data"] += _time(lambda t=restored: find_pii(t), n)  # type: ignore[misc]
        steps["compliance"] += _time(lambda t=restored: compliance(t), n)  # type: ignore[misc]
        print(f"{language:8} the call     {_ms(calls)}")
        print(f"{'':8} guardrails   {_ms(overhead)}")
        overhead_all += overhead
    print(f"\nGuardrails per reply, all cases: {_ms(overhead_all)}")
    print("\nSteps (per reply):")
    for name, samples in steps.items():
        print(f"  {name:14} {_ms(samples)}")


if __name__ == "__main__":
    main()
