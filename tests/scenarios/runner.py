"""Holds every conversation of the suite against the app, through the public API, and judges it.

Shared by `tests/integration/test_scenario_suite.py` and `bench/scenario_bench.py`. For each
conversation it records the customer's turns and the bot's replies, any 5xx, whether every
expectation was met (`resolved`), invented numbers (`numbers.py`), replies out of the customer's
language or with code-like text (`language.py`), and where and when a person took over.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from helixdesk.actions.rates import RateService
from helixdesk.bank.connector import BankConnector
from helixdesk.handoff.models import Handoff
from helixdesk.simulation.bankdata import PICKERS, CustomerData
from helixdesk.simulation.numbers import NumberCheck, invented, numbers_in
from helixdesk.simulation.runner import outbox_codes
from helixdesk.simulation.scenarios import fill
from tests.scenarios.checks import BANK, FIGURES, Context
from tests.scenarios.language import language_problems
from tests.scenarios.model import Conversation, Expect

PACK = Path(__file__).resolve().parents[2] / "src" / "helixdesk" / "packs" / "retail_bank"
CUSTOMERS = 120  # the seeded bank the suite runs on (tests.seeded.seeded_database)


@dataclass
class TurnLog:
    n: int
    said: str
    status: int
    replies: list[str] = field(default_factory=list)
    state: str = ""
    skipped: str = ""


@dataclass
class Result:
    conversation: Conversation
    customer_ref: str | None
    turns: list[TurnLog] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # unmet expectations, with the turn
    server_errors: list[str] = field(default_factory=list)
    invented: list[tuple[int, str, str]] = field(default_factory=list)  # turn, number, reply
    language: list[tuple[int, str, str]] = field(default_factory=list)  # turn, problem, reply
    handoff_queue: str | None = None
    handoff_turn: int | None = None
    packet_ok: bool | None = None

    @property
    def resolved(self) -> bool:
        return not self.failures and not self.server_errors

    def turn(self, n: int) -> TurnLog | None:
        return next((t for t in self.turns if t.n == n), None)


class SuiteRun:
    """One run of the suite on an app whose bank was seeded with `CUSTOMERS` customers."""

    def __init__(self, client: TestClient, *, customers: int = CUSTOMERS) -> None:
        self.client = client
        self.container = client.app.state.container  # type: ignore[attr-defined]
        self.bank: BankConnector = self.container.bank
        policy = yaml.safe_load((PACK / "policies" / "bank.yaml").read_text(encoding="utf-8"))
        self.tz = ZoneInfo(policy["timezone"])
        self.started = datetime.now(UTC)
        self.numbers = NumberCheck.build(
            PACK, RateService(sessions=self.container.sessions).all(), self.tz, self.started
        )
        self.rates = self.numbers.rates
        self.refs = [f"C{i:06d}" for i in range(1, customers + 1)]
        self._data = {ref: CustomerData.read(self.bank, ref, self.tz, self.started) for ref in self.refs}

    # ---- choosing customers -------------------------------------------------------------------

    def assign(self, suite: list[Conversation]) -> dict[str, tuple[str, dict[str, Any]]]:
        """A customer for every signed-in conversation, each used once; the scarcest needs first.
        A customer who writes in the conversation's language is preferred."""
        options: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for conv in suite:
            if conv.customer is None:
                continue
            picker = PICKERS[conv.customer.name]
            found = []
            for ref in self.refs:
                values = picker(self._data[ref], conv.customer.params)
                if values is not None:
                    found.append((ref, values))
            found.sort(key=lambda rv: self._data[rv[0]].customer.preferred_language != conv.language)
            options[conv.id] = found
        chosen: dict[str, tuple[str, dict[str, Any]]] = {}
        used: set[str] = set()
        for cid in sorted(options, key=lambda c: len(options[c])):
            pick = next(((r, v) for r, v in options[cid] if r not in used), None)
            if pick is None:
                raise AssertionError(f"{cid}: the seeded bank has no customer left for this scenario")
            used.add(pick[0])
            chosen[cid] = pick
        return chosen

    # ---- one conversation ------------------------------------------------------------------------

    def run(self, suite: list[Conversation]) -> list[Result]:
        chosen = self.assign(suite)
        return [self.hold(conv, *chosen.get(conv.id, (None, {}))) for conv in suite]

    def hold(self, conv: Conversation, ref: str | None, values: dict[str, Any]) -> Result:
        result = Result(conv, ref)
        data = self._data[ref] if ref else None
        ctx = Context(
            data=data,
            vars=values,
            rates=self.rates,
            bank=self.bank,
            snapshot={c.last4: c.status for c in data.cards} if data else {},
        )
        body = {"channel": conv.channel, **({"customer_ref": ref} if ref else {})}
        r = self.client.post("/api/v1/conversations", json=body)
        if r.status_code >= 500:
            result.server_errors.append(f"opening the conversation: HTTP {r.status_code}")
            return result
        assert r.status_code == 201, r.text
        chat = _Chat(self, result, r.json()["id"], {"Authorization": f"Bearer {r.json()['token']}"}, ref)
        last: list[dict[str, Any]] = []
        for n, turn in enumerate(conv.turns, 1):
            if turn.say.strip() == "{code}":
                # The customer types the code the bot sent; when it sent none (the flow needed no
                # step-up), there is nothing to type and the turn's expectations apply to the last reply.
                code = chat.pending_code()
                if code is None:
                    result.turns.append(TurnLog(n, turn.say, 0, skipped="no code was asked for"))
                    self._expect(result, n, turn.expect, last, ctx)
                    continue
                outs = chat.send(n, code)
            else:
                outs = chat.send(n, fill(turn.say, values))
            if outs is None:
                break
            nxt = conv.turns[n].say.strip() if n < len(conv.turns) else ""
            if (
                outs[-1]["state"] == "bot"
                and nxt != "{code}"
                and not turn.expect.empty()
                and self._unmet(n, turn.expect, outs, ctx)
                and (code := chat.pending_code()) is not None
            ):
                # Asked for a code the script did not foresee: a customer types it, then reads on.
                more = chat.send(n, code, auto=True)
                if more is None:
                    break
                outs += more
            last = outs
            self._expect(result, n, turn.expect, outs, ctx)
            if outs[-1]["state"] != "bot":
                handoff = outs[-1].get("handoff") or {}
                result.handoff_queue, result.handoff_turn = handoff.get("queue"), n
                break
        self._judge_handoff(result, chat.cid, values)
        return result

    def _outbox(self, ref: str | None) -> list[str]:
        """The one-time codes sent to the customer, newest first."""
        if ref is None:
            return []
        page = self.client.get("/demo/outbox", params={"customer": ref, "limit": 50})
        return outbox_codes(page.text) if page.status_code == 200 else []

    # ---- judging ---------------------------------------------------------------------------------

    def _judge_replies(
        self,
        result: Result,
        n: int,
        replies: list[str],
        said: list[str],
        data: CustomerData | None,
    ) -> None:
        src, today = self.numbers.sources(said, data), self.numbers.today()
        quoted = _quotable(said, data)
        for reply in replies:
            for number in dict.fromkeys(invented(reply, src, data, today)):
                result.invented.append((n, number, reply))
            for problem in dict.fromkeys(language_problems(reply, result.conversation.language, quoted)):
                result.language.append((n, problem, reply))

    def _expect(
        self, result: Result, n: int, expect: Expect, outs: list[dict[str, Any]], ctx: Context
    ) -> None:
        result.failures += self._unmet(n, expect, outs, ctx)

    def _unmet(self, n: int, expect: Expect, outs: list[dict[str, Any]], ctx: Context) -> list[str]:
        """What the replies of turn `n` (and the bank after it) miss of the turn's expectations."""
        replies = [x for out in outs for x in out["replies"]]
        text = "\n".join(x["text"] for x in replies)
        low = text.lower()
        shown = set(numbers_in(text))
        missing: list[str] = []
        for check in expect.figures:
            for fig in FIGURES[check.name](ctx, check.params):
                if not fig.values & shown:
                    missing.append(f"turn {n}: {fig.label} ({fig.shown()}) not in the reply")
        for group in expect.says:
            words = [fill(w, ctx.vars) for w in group]
            if not any(w.lower() in low for w in words):
                missing.append(f"turn {n}: none of {words} in the reply")
        for word in expect.never:
            if fill(word, ctx.vars).lower() in low:
                missing.append(f"turn {n}: {fill(word, ctx.vars)!r} should not be in the reply")
        if expect.faq:
            cited = [c.get("ref", "") for x in replies for c in x.get("citations") or []]
            if not any(f in ref for f in expect.faq for ref in cited):
                missing.append(f"turn {n}: not answered from {list(expect.faq)} (cited {cited})")
        for check in expect.bank:
            problem = BANK[check.name](ctx, check.params)
            if problem:
                missing.append(f"turn {n}: {problem}")
        return missing

    def _judge_handoff(self, result: Result, cid: str, values: dict[str, Any]) -> None:
        expected = result.conversation.handoff
        if expected is None:
            if result.handoff_queue is not None:
                result.failures.append(
                    f"turn {result.handoff_turn}: handed to the {result.handoff_queue} queue "
                    "instead of being settled by the bot"
                )
            return
        if result.handoff_queue is None:
            result.failures.append(f"never reached a person (expected the {expected.queue} queue)")
            result.packet_ok = False
            return
        if result.handoff_queue != expected.queue:
            result.failures.append(
                f"turn {result.handoff_turn}: went to the {result.handoff_queue} queue, not {expected.queue}"
            )
        if result.handoff_turn != expected.turn:
            result.failures.append(
                f"reached a person on customer message {result.handoff_turn}, not {expected.turn}"
            )
        with self.container.sessions() as s:
            row = s.scalars(
                select(Handoff).where(Handoff.conversation_id == cid).order_by(Handoff.created_at.desc())
            ).first()
        packet = json.dumps(row.packet if row else {}, ensure_ascii=False).lower()
        missing = [
            [fill(w, values) for w in group]
            for group in expected.packet
            if not any(fill(w, values).lower() in packet for w in group)
        ]
        result.packet_ok = not missing
        if missing:
            result.failures.append(f"the handover packet lacks the key fact {missing}")


class _Chat:
    """One conversation's messages: sending, logging, judging every reply, reading the outbox."""

    def __init__(
        self, run: SuiteRun, result: Result, cid: str, headers: dict[str, str], ref: str | None
    ) -> None:
        self.run, self.result, self.cid, self.headers, self.ref = run, result, cid, headers, ref
        self.typed = set(run._outbox(ref))  # codes already used (or there before)
        self.said: list[str] = []

    def pending_code(self) -> str | None:
        """The newest one-time code sent since the customer last typed one, if any."""
        codes = self.run._outbox(self.ref)
        code = next((c for c in codes if c not in self.typed), None)
        if code is not None:
            self.typed.update(codes)
        return code

    def send(self, n: int, text: str, *, auto: bool = False) -> list[dict[str, Any]] | None:
        """Post one customer message; None when the conversation cannot go on (a 5xx or 4xx)."""
        run, result = self.run, self.result
        self.said.append(text)
        r = run.client.post(
            f"/api/v1/conversations/{self.cid}/messages", json={"text": text}, headers=self.headers
        )
        log = TurnLog(n, text + ("   (the code the bot asked for)" if auto else ""), r.status_code)
        result.turns.append(log)
        if r.status_code >= 500:
            result.server_errors.append(f"turn {n} {text!r}: HTTP {r.status_code} {r.text[:200]}")
            return None
        if r.status_code != 200:
            result.failures.append(f"turn {n} {text!r}: HTTP {r.status_code} {r.text[:200]}")
            return None
        out: dict[str, Any] = r.json()
        log.replies = [x["text"] for x in out["replies"]]
        log.state = out["state"]
        data = CustomerData.read(run.bank, self.ref, run.tz, run.started) if self.ref else None
        run._judge_replies(result, n, log.replies, self.said, data)
        return [out]


def _quotable(said: list[str], data: CustomerData | None) -> list[str]:
    """What a reply may quote in another script: the customer's own words (a name they typed).
    Names from the bank's records are shown in the reply's language and script like the rest."""
    del data
    return [w for text in said for w in re.findall(r"[\u3400-\u9fff]{2,}", text)]
