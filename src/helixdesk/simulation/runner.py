"""Persona customers talking to the bot through the public API, and what came of each conversation.

A simulated customer opens a conversation (`POST /api/v1/conversations`, as the bank customer cast
for it, or as a visitor), puts their goal in their persona's words, and then reads every answer as
a customer would:

- asked for the one-time code, they read the newest one from the demo outbox (`/demo/outbox`, the
  server's demo SMS gateway) and type it their way;
- asked to confirm, they agree; shown a numbered list, they pick the first; asked a question,
  they give the scenario's details (which charge);
- not understood (a fallback, an answer to something else), they put the request again in other
  words, which counts as a repeat;
- handed to a person, they wait: the conversation ends there.

They stop when the goal is reached (a polite persona says thank you first) or when their patience
(messages sent) runs out: they gave up. Every reply is checked for invented numbers
(`numbers.NumberCheck`) against the customer's bank data, the pack and what the customer wrote;
the goal is judged from the replies, the handoff and the record (`record.Record`: the intents the
NLU stored and the actions that ran). Conversations run concurrently, `concurrency` at a time.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import httpx

from helixdesk.bank.connector import BankConnector
from helixdesk.simulation.bankdata import CustomerData
from helixdesk.simulation.numbers import NumberCheck
from helixdesk.simulation.plan import Cast, Planned
from helixdesk.simulation.record import Record
from helixdesk.simulation.scenarios import Expect, fill

# Handoffs where the bot gave up on understanding: a person takes over, the goal is not the bot's.
FALLBACK_TRIGGERS = frozenset({"bot_failed", "not_helped", "repeated_request"})
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_OUTBOX_ROW = re.compile(r'<td class="body">(.*?)</td>', re.S)
_LIST = re.compile(r"(?m)^\s*1[.、)]\s*\S")
_QUESTION = re.compile(r"[?？]\s*$")
_CONFIRM = re.compile(r'“确认”|「確認」|"yes"')  # "reply 确认 or 取消": a confirmation asked for
_RETRIES = 4


def outbox_codes(page: str) -> list[str]:
    """The one-time codes on the demo outbox page, newest first."""
    return [m.group(1) for row in _OUTBOX_ROW.findall(page) if (m := _CODE.search(row))]


@dataclass
class TurnLog:
    said: str  # as stored: personal data and the code masked
    status: int
    ms: float
    state: str = ""
    replies: list[dict[str, str]] = field(default_factory=list)  # kind, text


@dataclass
class Outcome:
    number: int
    scenario: str
    persona: str
    language: str
    customer_ref: str | None
    patience: int
    conversation_id: str | None = None
    turns: list[TurnLog] = field(default_factory=list)
    completed: bool = False
    turns_to_goal: int | None = None
    unmet: list[str] = field(default_factory=list)  # what the goal still lacked at the end
    handoff: dict[str, Any] | None = None  # queue, trigger, intent, reason
    verdict: str | None = None  # the handoff: expected, explained, fallback or wrong
    missed: bool = False  # the goal was a person and none came
    invented: list[dict[str, Any]] = field(default_factory=list)  # turn, number, reply
    server_errors: list[str] = field(default_factory=list)
    gave_up: bool = False
    repeats: int = 0

    @property
    def messages(self) -> int:
        """The customer's messages up to the end of the goal or of their patience."""
        return self.turns_to_goal or len(self.turns)


class Simulator:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        record: Record,
        numbers: NumberCheck,
        bank: BankConnector,
        tz: tzinfo,
        started: datetime,
        channel: str = "web",
        api_key: str | None = None,
        concurrency: int = 8,
    ) -> None:
        self.client, self.record, self.numbers, self.bank = client, record, numbers, bank
        self.tz, self.started, self.channel = tz, started, channel
        self.key = {"X-Api-Key": api_key} if api_key else {}
        self.concurrency = max(1, concurrency)

    async def run(
        self, work: Sequence[tuple[Planned, Cast]], done: Callable[[Outcome], None] | None = None
    ) -> list[Outcome]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(planned: Planned, cast: Cast) -> Outcome:
            async with gate:
                outcome = await self.converse(planned, cast)
            if done is not None:
                done(outcome)
            return outcome

        return list(await asyncio.gather(*(one(p, c) for p, c in work)))

    # ---- one conversation --------------------------------------------------------------------

    async def converse(self, p: Planned, cast: Cast) -> Outcome:
        out = Outcome(p.number, p.scenario.id, p.persona.name, p.language, cast.ref, p.persona.patience)
        rng = random.Random(p.seed)
        style = p.persona.style(p.language, rng)
        says = rng.sample(p.scenario.say[p.language], len(p.scenario.say[p.language]))
        details = list(p.scenario.details.get(p.language, ()))
        body: dict[str, Any] = {"channel": self.channel}
        if cast.ref:
            body["customer_ref"] = cast.ref
        r = await self._request("POST", "/api/v1/conversations", json=body, headers=self.key)
        if r.status_code != 201:
            out.server_errors.append(f"starting the conversation: HTTP {r.status_code} {r.text[:200]}")
            return out
        out.conversation_id = r.json()["id"]
        chat = _Chat(self, out, cast, {"Authorization": f"Bearer {r.json()['token']}", **self.key})
        chat.codes.update(await chat.read_codes())  # codes sent before this conversation
        text = fill(style.request(says.pop(0)), cast.values)
        while True:
            if len(out.turns) >= p.persona.patience:
                out.gave_up = True
                break
            result = await chat.send(text)
            if result is None:
                break
            out.unmet = await chat.unmet(p.scenario.expect)
            if not out.unmet:
                out.completed, out.turns_to_goal = True, len(out.turns)
                closing = style.closing()
                if closing and result["state"] == "bot":
                    await chat.send(closing)
                break
            if result["state"] != "bot":
                break
            replies = result["replies"]
            code = await chat.fresh_code() if any(x["kind"] == "verification" for x in replies) else None
            last = replies[-1] if replies else {"kind": "", "text": ""}
            if code is not None:
                text = style.code(code)
            elif last["kind"] == "confirm" or _CONFIRM.search(last["text"]):
                text = style.agree()
            elif any(_LIST.search(x["text"]) for x in replies):
                text = style.pick(1)
            elif _QUESTION.search(last["text"]) and details:
                text = fill(style.request(details.pop(0), opening=False), cast.values)
            else:
                out.repeats += 1
                again = says.pop(0) if says else rng.choice(p.scenario.say[p.language])
                text = fill(style.again(again), cast.values)
        out.verdict, out.missed = _verdict(out.handoff, p)
        if out.verdict == "wrong":
            out.completed = False
        return out

    async def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """One request, sent again (the same body, so the same `client_message_id`) while the server
        answers 429 or 503 with a `Retry-After`."""
        for attempt in range(_RETRIES + 1):
            r = await self.client.request(method, url, **kw)
            if r.status_code not in (429, 503) or attempt == _RETRIES:
                return r
            await asyncio.sleep(min(float(r.headers.get("Retry-After") or 1), 10.0))
        raise AssertionError("unreachable")


class _Chat:
    """One conversation's messages: sending and timing them, the codes in the outbox, the judging."""

    def __init__(self, sim: Simulator, out: Outcome, cast: Cast, headers: dict[str, str]) -> None:
        self.sim, self.out, self.cast, self.headers = sim, out, cast, headers
        self.data: CustomerData | None = cast.data
        self.said: list[str] = []
        self.texts: list[str] = []
        self.cited: list[str] = []
        self.codes: set[str] = set()

    async def read_codes(self) -> list[str]:
        if not self.cast.ref:
            return []
        page = await self.sim._request("GET", "/demo/outbox", params={"customer": self.cast.ref, "limit": 5})
        return outbox_codes(page.text) if page.status_code == 200 else []

    async def fresh_code(self) -> str | None:
        """The newest code sent to the customer since they last typed one (older ones are stale)."""
        codes = await self.read_codes()
        code = next((c for c in codes if c not in self.codes), None)
        if code is not None:
            self.codes.update(codes)
        return code

    async def send(self, text: str) -> dict[str, Any] | None:
        """Post one customer message; None when the conversation cannot go on."""
        sim, out = self.sim, self.out
        self.said.append(text)
        body = {"text": text, "client_message_id": uuid.uuid4().hex}
        url = f"/api/v1/conversations/{out.conversation_id}/messages"
        started = time.perf_counter()
        r = await sim._request("POST", url, json=body, headers=self.headers)
        log = TurnLog(text, r.status_code, round((time.perf_counter() - started) * 1000, 1))
        out.turns.append(log)
        if r.status_code >= 500:
            out.server_errors.append(f"message {len(out.turns)}: HTTP {r.status_code} {r.text[:200]}")
            return None
        if r.status_code != 200:
            out.unmet = [f"message {len(out.turns)} refused: HTTP {r.status_code} {r.text[:200]}"]
            return None
        result: dict[str, Any] = r.json()
        log.said, log.state = result["message"]["text"], result["state"]
        log.replies = [{"kind": x["kind"], "text": x["text"]} for x in result["replies"]]
        texts = [x["text"] for x in result["replies"]]
        self.texts += texts
        self.cited += [c.get("ref", "") for x in result["replies"] for c in x.get("citations") or []]
        if result.get("handoff"):
            out.handoff = dict(result["handoff"])
        if self.cast.ref and any(x["kind"] == "action" for x in result["replies"]):
            ref = self.cast.ref  # the action may have changed the data (a refund, a frozen card)
            self.data = await asyncio.to_thread(CustomerData.read, sim.bank, ref, sim.tz, sim.started)
        invented = await asyncio.to_thread(sim.numbers.invented_in, texts, self.said, self.data)
        for number in invented:
            reply = next((t for t in texts if number in t), "")
            out.invented.append({"turn": len(out.turns), "number": number, "reply": reply})
        return result

    async def unmet(self, expect: Expect) -> list[str]:
        """What the goal still lacks."""
        missing: list[str] = []
        handoff = self.out.handoff
        queue = handoff.get("queue") if handoff else None
        if expect.needs_person and queue not in expect.queues:
            missing.append(f"a person in the {'/'.join(sorted(expect.queues))} queue")
        elif queue is not None and queue not in expect.queues:
            missing.append(f"settled without the {queue} queue")
        if expect.faq and not any(f in ref for f in expect.faq for ref in self.cited):
            missing.append(f"an answer from {'/'.join(expect.faq)}")
        low = "\n".join(self.texts).lower()
        for group in expect.says:
            words = [fill(w, self.cast.values) for w in group]
            if not any(w.lower() in low for w in words):
                missing.append(f"one of {words} in a reply")
        cid = self.out.conversation_id or ""
        if expect.intent and expect.intent not in await asyncio.to_thread(self.sim.record.intents, cid):
            missing.append(f"understood as {expect.intent}")
        if expect.action and expect.action not in await asyncio.to_thread(self.sim.record.actions, cid):
            missing.append(f"the action {expect.action}")
        return missing


def _verdict(handoff: dict[str, Any] | None, p: Planned) -> tuple[str | None, bool]:
    """Whether a handoff was right: to a queue the scenario expects, explained by the persona's
    manner (an angry customer's rising emotion), the bot giving up, or wrong; and whether a
    conversation that needed a person got none."""
    expect = p.scenario.expect
    if handoff is None:
        return None, expect.needs_person
    if handoff.get("queue") in expect.queues:
        return "expected", False
    explained = p.persona.explained_handoffs
    if handoff.get("trigger") in explained or handoff.get("intent") in explained:
        return "explained", False
    if handoff.get("trigger") in FALLBACK_TRIGGERS:
        return "fallback", False
    return "wrong", False
