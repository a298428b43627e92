"""The scenario files (`conversations/*.yaml`) as typed data, checked when they are loaded.

A conversation: `id`, `language` (zh-Hans, zh-Hant, en), `category` (`routine`: the bot should
settle it; `risk`: it must reach a person's queue), `customer` (a named picker from `pickers.py`,
or `visitor` for someone not signed in), the customer's `turns` and the expectations.

A turn: `say` (placeholders `{name.field}` are filled from what the picker found in the bank,
`{code}` is the one-time code read from the demo outbox) and optional `expect`:

- `figures`: named checks (`checks.FIGURES`) whose numbers must all appear in the reply;
- `says`: groups of words, each group met when one of its words is in the reply;
- `never`: words that must not be in the reply;
- `faq`: knowledge entries, one of which the reply must cite;
- `bank`: named checks of the bank's state after the turn (`checks.BANK`).

`handoff` (every risk case; a routine one when the product hands it on by design, such as a
dispute for staff review): the `queue`, the customer message (`turn`, from 1, counting the
script's turns) on which the conversation must reach it, and `packet` groups that must be found
in the handover packet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
CATEGORIES = ("routine", "risk")
QUEUES = ("fraud", "senior", "relationship_manager", "general")
HERE = Path(__file__).resolve().parent
CONVERSATIONS = HERE / "conversations"
# The blind set: written after the bot's fixes as new customers would write, never tuned on.
BLIND = HERE / "blind"
SUITES = {"main": CONVERSATIONS, "blind": BLIND}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")


class SuiteError(ValueError):
    """A scenario file that does not follow the format (the message names the conversation)."""


@dataclass(frozen=True)
class Check:
    """A named check with its parameters: `balances`, or `{fx_cost_cny: {currency: JPY, ...}}`."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Any, where: str) -> Check:
        if isinstance(raw, str):
            return cls(raw)
        if isinstance(raw, dict) and len(raw) == 1:
            (name, params), *_ = raw.items()
            if isinstance(params, dict):
                return cls(str(name), dict(params))
        raise SuiteError(f"{where}: a check is a name or {{name: {{params}}}}, not {raw!r}")


@dataclass(frozen=True)
class Expect:
    figures: tuple[Check, ...] = ()
    says: tuple[tuple[str, ...], ...] = ()
    never: tuple[str, ...] = ()
    faq: tuple[str, ...] = ()
    bank: tuple[Check, ...] = ()

    @classmethod
    def parse(cls, raw: Any, where: str) -> Expect:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise SuiteError(f"{where}: expect must be a mapping")
        unknown = set(raw) - {"figures", "says", "never", "faq", "bank"}
        if unknown:
            raise SuiteError(f"{where}: unknown expectation {sorted(unknown)}")
        return cls(
            figures=tuple(Check.parse(c, where) for c in raw.get("figures", [])),
            says=tuple(_group(g) for g in raw.get("says", [])),
            never=tuple(str(w) for w in raw.get("never", [])),
            faq=tuple(str(f) for f in raw.get("faq", [])),
            bank=tuple(Check.parse(c, where) for c in raw.get("bank", [])),
        )

    def empty(self) -> bool:
        return not (self.figures or self.says or self.never or self.faq or self.bank)


@dataclass(frozen=True)
class Turn:
    say: str
    expect: Expect


@dataclass(frozen=True)
class Handoff:
    queue: str
    turn: int
    packet: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Conversation:
    id: str
    language: str
    category: str
    customer: Check | None  # None: a visitor, not signed in
    turns: tuple[Turn, ...]
    handoff: Handoff | None
    channel: str = "web"


def _group(raw: Any) -> tuple[str, ...]:
    return tuple(str(w) for w in raw) if isinstance(raw, list) else (str(raw),)


def parse_conversation(raw: dict[str, Any]) -> Conversation:
    cid = str(raw.get("id", ""))
    if not _ID.match(cid):
        raise SuiteError(f"conversation id {cid!r}: lower-case letters, digits and dashes")
    language, category = raw.get("language"), raw.get("category")
    if language not in LANGUAGES:
        raise SuiteError(f"{cid}: language must be one of {LANGUAGES}")
    if category not in CATEGORIES:
        raise SuiteError(f"{cid}: category must be one of {CATEGORIES}")
    who = raw.get("customer", "visitor")
    customer = None if who == "visitor" else Check.parse(who, cid)
    turns = []
    for n, t in enumerate(raw.get("turns") or [], 1):
        if not isinstance(t, dict) or not isinstance(t.get("say"), str) or not t["say"].strip():
            raise SuiteError(f"{cid} turn {n}: each turn needs `say` as text (quote yes, no, on, off)")
        turns.append(Turn(say=str(t["say"]), expect=Expect.parse(t.get("expect"), f"{cid} turn {n}")))
    if not turns:
        raise SuiteError(f"{cid}: no turns")
    if customer is None and any("{" in t.say for t in turns):
        raise SuiteError(f"{cid}: a visitor's turns cannot use placeholders from the bank")
    handoff = None
    if raw.get("handoff") is not None:
        h = raw["handoff"]
        if h.get("queue") not in QUEUES or not isinstance(h.get("turn"), int):
            raise SuiteError(f"{cid}: handoff needs a queue of {QUEUES} and the customer turn")
        if not 1 <= h["turn"] <= len(turns):
            raise SuiteError(f"{cid}: the handoff turn is not one of the customer's turns")
        packet = tuple(_group(g) for g in h.get("packet") or [])
        if not packet:
            raise SuiteError(f"{cid}: a handoff names the key fact its packet must hold")
        handoff = Handoff(queue=h["queue"], turn=h["turn"], packet=packet)
    if category == "risk" and handoff is None:
        raise SuiteError(f"{cid}: a risk case expects a handoff")
    if category == "routine" and all(t.expect.empty() for t in turns):
        raise SuiteError(f"{cid}: a routine conversation expects something of the bot")
    return Conversation(
        id=cid,
        language=str(language),
        category=str(category),
        customer=customer,
        turns=tuple(turns),
        handoff=handoff,
        channel=str(raw.get("channel", "web")),
    )


def load_suite(folder: Path = CONVERSATIONS) -> list[Conversation]:
    """Every conversation of every file in `folder`, in file order; ids are unique."""
    out: list[Conversation] = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in data.get("conversations") or []:
            out.append(parse_conversation(raw))
    ids = [c.id for c in out]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SuiteError(f"conversation ids used twice: {duplicates}")
    return out
