"""Persona customers: who they are (the languages they write, their patience, which of the bank's
customers they can be, the handoffs their manner explains) and how they write: the style generator.

The material is the pack's `simulation/personas.yaml`; `Style` turns a goal's words into the
persona's (an elderly customer's polite, long-winded request, a busy one's clipped words with a
typo, Cantonese particles, English terms in Mandarin, capitals and exclamation marks). Every choice
comes from the `random.Random` it is given, so a seed gives the same words every time. Pure.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from helixdesk.bank.connector import Customer
from helixdesk.core.errors import AppError
from helixdesk.core.languages import LANGUAGES

PERSONAS = ("elderly", "busy", "chatty", "angry", "code_switching", "cantonese", "scam_victim", "vip")
_PLACEHOLDER = re.compile(r"(\{[^{}]*\})")
_WORD = re.compile(r"[A-Za-z]{5,}")
_END = re.compile(r"([？?！!。.]*)$")
_STYLE_KEYS = frozenset(
    {
        "before",
        "after",
        "after_share",
        "replace",
        "replace_share",
        "drop",
        "upper",
        "lower",
        "typo_share",
        "particles",
        "agree",
        "decline",
        "pick",
        "code",
        "again",
        "closing",
    }
)


class SimulationConfigError(AppError):
    """A persona or scenario file that does not follow the format (the message says where)."""

    code = "simulation_config_invalid"
    http_status = 422


def _texts(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise SimulationConfigError(f"{where}: a list of texts")
    return tuple(raw)


def _share(raw: Any, where: str, default: float) -> float:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
        raise SimulationConfigError(f"{where}: a share from 0 to 1")
    return float(raw)


@dataclass(frozen=True)
class StyleWords:
    """A persona's material in one language (see the header of personas.yaml)."""

    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    after_share: float = 1.0
    replace: tuple[tuple[str, str], ...] = ()
    replace_share: float = 1.0
    drop: tuple[str, ...] = ()
    upper: bool = False
    lower: bool = False
    typo_share: float = 0.0
    particles: tuple[str, ...] = ()
    agree: tuple[str, ...] = ()
    decline: tuple[str, ...] = ()
    pick: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    again: tuple[str, ...] = ()
    closing: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Any, where: str) -> StyleWords:
        if not isinstance(raw, dict):
            raise SimulationConfigError(f"{where}: a mapping")
        unknown = set(raw) - _STYLE_KEYS
        if unknown:
            raise SimulationConfigError(f"{where}: unknown keys {sorted(unknown)}")
        replace = raw.get("replace") or {}
        if not isinstance(replace, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in replace.items()
        ):
            raise SimulationConfigError(f"{where}.replace: a mapping of words to words")
        words = cls(
            before=_texts(raw.get("before"), f"{where}.before"),
            after=_texts(raw.get("after"), f"{where}.after"),
            after_share=_share(raw.get("after_share"), f"{where}.after_share", 1.0),
            # Longest first, so 「不見了」 is rewritten before 「不」.
            replace=tuple(sorted(replace.items(), key=lambda kv: -len(kv[0]))),
            replace_share=_share(raw.get("replace_share"), f"{where}.replace_share", 1.0),
            drop=_texts(raw.get("drop"), f"{where}.drop"),
            upper=bool(raw.get("upper", False)),
            lower=bool(raw.get("lower", False)),
            typo_share=_share(raw.get("typo_share"), f"{where}.typo_share", 0.0),
            particles=_texts(raw.get("particles"), f"{where}.particles"),
            agree=_texts(raw.get("agree"), f"{where}.agree"),
            decline=_texts(raw.get("decline"), f"{where}.decline"),
            pick=_texts(raw.get("pick"), f"{where}.pick"),
            code=_texts(raw.get("code"), f"{where}.code"),
            again=_texts(raw.get("again"), f"{where}.again"),
            closing=_texts(raw.get("closing"), f"{where}.closing"),
        )
        for name in ("agree", "pick", "code"):
            if not getattr(words, name):
                raise SimulationConfigError(f"{where}.{name}: at least one text")
        if any("{n}" not in t for t in words.pick) or any("{code}" not in t for t in words.code):
            raise SimulationConfigError(f"{where}: every `pick` holds {{n}} and every `code` {{code}}")
        return words


@dataclass(frozen=True)
class Persona:
    name: str
    languages: tuple[str, ...]
    patience: int
    styles: dict[str, StyleWords]
    min_age: int | None = None
    tiers: tuple[str, ...] = ()
    # Handoffs this persona's manner explains (a trigger, such as emotion_rising, or the intent that
    # handed over, such as complaint) where the scenario expects none.
    explained_handoffs: frozenset[str] = field(default_factory=frozenset)

    def fits(self, customer: Customer, age: int) -> bool:
        """Whether this bank customer can play the persona (an elderly one is 65 or over)."""
        if self.min_age is not None and age < self.min_age:
            return False
        return not self.tiers or customer.value_tier in self.tiers

    def style(self, language: str, rng: random.Random) -> Style:
        return Style(self.styles[language], rng)


def parse_personas(raw: Any, where: str = "personas.yaml") -> dict[str, Persona]:
    if not isinstance(raw, dict) or not isinstance(raw.get("personas"), dict):
        raise SimulationConfigError(f"{where}: a mapping with `personas`")
    out: dict[str, Persona] = {}
    for name, body in raw["personas"].items():
        here = f"{where}: persona {name}"
        if name not in PERSONAS:
            raise SimulationConfigError(f"{here}: not one of {', '.join(PERSONAS)}")
        if not isinstance(body, dict):
            raise SimulationConfigError(f"{here}: a mapping")
        unknown = set(body) - {"languages", "patience", "customer", "style", "explained_handoffs"}
        if unknown:
            raise SimulationConfigError(f"{here}: unknown keys {sorted(unknown)}")
        languages = _texts(body.get("languages"), f"{here}.languages")
        if not languages or any(lang not in LANGUAGES for lang in languages):
            raise SimulationConfigError(f"{here}.languages: some of {', '.join(LANGUAGES)}")
        patience = body.get("patience")
        if isinstance(patience, bool) or not isinstance(patience, int) or not 1 <= patience <= 30:
            raise SimulationConfigError(f"{here}.patience: a whole number of messages from 1 to 30")
        style = body.get("style") or {}
        if not isinstance(style, dict) or set(style) != set(languages):
            raise SimulationConfigError(f"{here}.style: the words of each of its languages {list(languages)}")
        who = body.get("customer") or {}
        if not isinstance(who, dict) or set(who) - {"min_age", "tiers"}:
            raise SimulationConfigError(f"{here}.customer: `min_age` and/or `tiers`")
        out[name] = Persona(
            name=name,
            languages=languages,
            patience=patience,
            styles={lang: StyleWords.parse(style[lang], f"{here}.style.{lang}") for lang in languages},
            min_age=int(who["min_age"]) if who.get("min_age") is not None else None,
            tiers=_texts(who.get("tiers"), f"{here}.customer.tiers"),
            explained_handoffs=frozenset(
                _texts(body.get("explained_handoffs"), f"{here}.explained_handoffs")
            ),
        )
    missing = [p for p in PERSONAS if p not in out]
    if missing:
        raise SimulationConfigError(f"{where}: personas {missing} are missing")
    return out


class Style:
    """One persona's style generator in one language."""

    def __init__(self, words: StyleWords, rng: random.Random) -> None:
        self.words = words
        self.rng = rng

    def _one(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options) if options else ""

    def request(self, text: str, *, opening: bool = True) -> str:
        """The persona's way of putting `text` (placeholders such as `{txn.amount}` are kept as they
        are, to be filled after); `opening`: with the persona's greeting or outburst first."""
        w = self.words
        body = _outside_placeholders(text, self._rewrite)
        if w.particles:
            body = _END.sub(lambda m: self._one(w.particles) + m.group(1), body, count=1)
        if w.typo_share and self.rng.random() < w.typo_share:
            body = _outside_placeholders(body, self._typo)
        after = self._one(w.after) if w.after and self.rng.random() < w.after_share else ""
        if after[:2].strip()[:1].isupper() and body[-1:].isalnum():
            body += "."  # "... freeze it. Thank you ever so much."
        out = (self._one(w.before) if opening else "") + body + after
        return _outside_placeholders(out, self._case)

    def again(self, text: str) -> str:
        """Putting the request once more after the bot missed it."""
        return _outside_placeholders(self._one(self.words.again), self._case) + self.request(
            text, opening=False
        )

    def agree(self) -> str:
        return self._one(self.words.agree)

    def decline(self) -> str:
        return self._one(self.words.decline)

    def pick(self, n: int) -> str:
        return self._one(self.words.pick).replace("{n}", str(n))

    def code(self, code: str) -> str:
        return self._one(self.words.code).replace("{code}", code)

    def closing(self) -> str | None:
        return self._one(self.words.closing) or None

    def _rewrite(self, part: str) -> str:
        w = self.words
        for word in w.drop:
            part = part.replace(word, "")
        for old, new in w.replace:
            if old in part and self.rng.random() < w.replace_share:
                part = part.replace(old, new)
        return part

    def _typo(self, part: str) -> str:
        words = list(_WORD.finditer(part))
        if not words:
            return part
        m = self.rng.choice(words)
        i = self.rng.randrange(1, len(m.group()) - 2)
        word = m.group()
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        return part[: m.start()] + swapped + part[m.end() :]

    def _case(self, part: str) -> str:
        if self.words.upper:
            return part.upper()
        if self.words.lower:
            return part.lower()
        return part


def _outside_placeholders(text: str, change: Any) -> str:
    """`change` applied to the text between placeholders, the placeholders left as they are."""
    return "".join(p if _PLACEHOLDER.fullmatch(p) else change(p) for p in _PLACEHOLDER.split(text))
