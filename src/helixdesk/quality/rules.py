"""The pack's quality rules, compiled, and the checks of one message and of product talk.

`RuleBook.load(pack)` reads `quality/rules.yaml`. Messages are matched in their normalised form
(`helixdesk.nlu.text.normalise`: width folded, lower case, Simplified, same length as the text),
so one rule list serves zh-Hans, zh-Hant and en and every span points into the original text.

- `check_message(text, sender)`: the wording rules (absolute promises, asking for secrets,
  personal data in clear, rude wording, shirking), each hit with its span.
- `check_products(messages, customer)`: the rules that need the conversation and the customer:
  a missing risk disclosure, and a product above the customer's risk tolerance (or a high-risk
  product for an elderly or vulnerable customer).

Both are pure: no database, no clock. The QA engine, the live check of an agent's draft and the
test of the bot's templates all call them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from helixdesk.core.errors import ConfigurationError
from helixdesk.nlu.text import normalise
from helixdesk.packs.loader import Pack
from helixdesk.privacy.detect import find_pii
from helixdesk.quality.spans import clause_end, clause_start, sentence_around, sentences, trim

if TYPE_CHECKING:
    from helixdesk.quality.model import QualityClassifier

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
# Clause boundaries: a negator or a context word counts only within the same clause.
_CJK = re.compile(r"[\u3400-\u9fff]")
# Talk of returns: a rate, or the words for return and yield.
_RETURNS = re.compile(
    r"\d+(\.\d+)?\s*(%|厘)|收益|回报|利息|息口|年化|赚|\breturns?\b|\byield|\binterest\b|\bgains?\b"
)


@dataclass(frozen=True, slots=True)
class Customer:
    """What suitability needs to know of the customer (from the bank's records)."""

    risk_tolerance: str | None = None
    age: int | None = None
    vulnerable: bool = False


@dataclass(frozen=True, slots=True)
class Line:
    """One message of a conversation as the checks see it."""

    sender: str  # customer, bot, agent, system
    text: str


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule broken in one message: the span `[start, end)` of its text is the evidence."""

    rule: str
    category: str
    severity: str
    start: int
    end: int
    evidence: str
    line: int = 0  # index of the message in the conversation (0 for a single message)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    category: str
    severity: str
    senders: frozenset[str]
    sources: tuple[str, ...]
    reason: dict[str, str]
    alternative: dict[str, str]
    patterns: tuple[re.Pattern[str], ...] = ()
    negators: tuple[str, ...] = ()
    negation_window: int = 6
    negators_inside: bool = False
    unless: tuple[re.Pattern[str], ...] = ()
    unless_in_message: tuple[re.Pattern[str], ...] = ()
    unless_sentence: tuple[re.Pattern[str], ...] = ()
    # (what the candidate is, what its sentence says): such a candidate in such a sentence is fine.
    unless_claim_in: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = ()
    allowed_for: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _compile(patterns: Iterable[str], where: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise ConfigurationError(f"{where}: bad pattern {p!r}: {exc}", code="bad_quality_rule") from exc
    return tuple(out)


def _texts(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or any(lang not in raw for lang in LANGUAGES):
        raise ConfigurationError(f"{where} needs zh-Hans, zh-Hant and en", code="bad_quality_rule")
    return {lang: str(raw[lang]) for lang in LANGUAGES}


class RuleBook:
    def __init__(self, config: dict[str, Any], *, origin: str = "rules.yaml") -> None:
        self.origin = origin
        self.model: QualityClassifier | None = None
        self.config = config
        self.sources: dict[str, dict[str, str]] = dict(config.get("sources") or {})
        rules: dict[str, Rule] = {}
        for name, raw in (config.get("rules") or {}).items():
            where = f"{origin}: rules.{name}"
            known = {"category", "severity", "senders", "sources", "reason", "alternative", "patterns"}
            known |= {"negators", "negation_window", "negators_inside", "unless", "unless_in_message"}
            known |= {"allowed_for", "unless_sentence", "unless_claim_in"}
            unknown_sources = [s for s in raw.get("sources", []) if s not in self.sources]
            if unknown_sources:
                raise ConfigurationError(
                    f"{where}: unknown sources {unknown_sources}", code="bad_quality_rule"
                )
            rules[name] = Rule(
                name=name,
                category=str(raw.get("category", "compliance")),
                severity=str(raw.get("severity", "medium")),
                senders=frozenset(raw.get("senders", ["agent", "bot"])),
                sources=tuple(raw.get("sources", [])),
                reason=_texts(raw.get("reason"), f"{where}.reason"),
                alternative=_texts(raw.get("alternative"), f"{where}.alternative"),
                patterns=_compile(raw.get("patterns", []), where),
                negators=tuple(str(n) for n in raw.get("negators", [])),
                negation_window=int(raw.get("negation_window", 6)),
                negators_inside=bool(raw.get("negators_inside", False)),
                unless=_compile(raw.get("unless", []), where),
                unless_in_message=_compile(raw.get("unless_in_message", []), where),
                unless_sentence=_compile(raw.get("unless_sentence", []), where),
                unless_claim_in=tuple(
                    (_compile([c["claim"]], where)[0], _compile([c["sentence"]], where)[0])
                    for c in raw.get("unless_claim_in", [])
                ),
                allowed_for={
                    who: _compile(patterns, f"{where}.allowed_for.{who}")
                    for who, patterns in (raw.get("allowed_for") or {}).items()
                },
                extra={k: v for k, v in raw.items() if k not in known},
            )
        for needed in ("missing_risk_disclosure", "unsuitable_sale", "pii_in_clear"):
            if needed not in rules:
                raise ConfigurationError(f"{origin}: rules.{needed} is missing", code="bad_quality_rule")
        self.rules = rules
        talk = config.get("product_talk") or {}
        self._products = _compile(talk.get("products", []), f"{origin}: product_talk.products")
        self._presenting = _compile(talk.get("presenting", []), f"{origin}: product_talk.presenting")
        self._disclosures = _compile(talk.get("disclosures", []), f"{origin}: product_talk.disclosures")
        levels = config.get("product_levels") or {}
        self._explicit_level = re.compile(str(levels.get("explicit", r"r([1-5])")))
        self._level_words = tuple(
            (int(w["level"]), re.compile(str(w["pattern"]))) for w in levels.get("words", [])
        )
        self.risk_levels: dict[str, int] = {k: int(v) for k, v in (config.get("risk_levels") or {}).items()}
        self.elderly_age = int(config.get("elderly_age", 65))
        self.high_risk_level = int(config.get("high_risk_level", 4))
        pii = rules["pii_in_clear"].extra
        self._pii_types = frozenset(pii.get("pii_types", []))
        self._pii_allow = _compile(pii.get("allow", []), f"{origin}: rules.pii_in_clear.allow")
        self._addresses = _compile(pii.get("addresses", []), f"{origin}: rules.pii_in_clear.addresses")
        self._pii_unless = rules["pii_in_clear"].unless_sentence
        self._not_recommending = _compile(
            rules["unsuitable_sale"].extra.get("not_recommending", []), f"{origin}: unsuitable_sale"
        )
        self.conversation: dict[str, Any] = dict(config.get("conversation") or {})
        self.penalties: dict[str, float] = {
            k: float(v) for k, v in (config.get("penalties") or {"high": 25, "medium": 12, "low": 5}).items()
        }
        self.alert_rules = frozenset((config.get("alerts") or {}).get("rules", []))
        self.labels: dict[str, dict[str, str]] = {
            name: _texts(raw, f"{origin}: labels.{name}")
            for name, raw in (config.get("labels") or {}).items()
        }

    @classmethod
    def load(cls, pack: Pack) -> RuleBook:
        return _load(str(pack.path / "quality" / "rules.yaml"))

    def with_model(self, model: QualityClassifier | None) -> RuleBook:
        """This book, also asking `model` (`helixdesk.quality.model`) about the rules it learnt."""
        book = copy.copy(self)
        book.model = model
        return book

    # ---- one message --------------------------------------------------------------------------

    def check_message(self, text: str, sender: str = "agent") -> list[Hit]:
        """Every wording rule `text` breaks, said by `sender`; one hit per rule and span."""
        if not text:
            return []
        norm = normalise(text)
        hits: list[Hit] = []
        # Rules whose wording is here but whose context clears it (a negation, a deposit): the
        # book's explicit knowledge of context outweighs the classifier's guess.
        cleared: set[str] = set()
        for rule in self.rules.values():
            if sender not in rule.senders or not rule.patterns:
                continue
            if any(p.search(norm) for p in rule.unless_in_message):
                cleared.add(rule.name)
                continue
            if any(p.search(norm) for p in rule.allowed_for.get(sender, ())):
                continue
            for pattern in rule.patterns:
                for m in pattern.finditer(norm):
                    if m.end() == m.start():
                        continue
                    if self._cancelled(rule, norm, m.start(), m.end()):
                        cleared.add(rule.name)
                        continue
                    if any(h.rule == rule.name and h.start < m.end() and m.start() < h.end for h in hits):
                        continue
                    hits.append(_hit(rule, text, m.start(), m.end()))
        if sender in self.rules["pii_in_clear"].senders or sender in self.rules["asks_secret"].senders:
            hits += self._personal_data(text, sender, hits)
        if self.model is not None and sender == "agent":
            hits += self._learnt(text, norm, sender, hits, cleared)
        return sorted(hits, key=lambda h: (h.start, h.rule))

    def _learnt(
        self, text: str, norm: str, sender: str, found: list[Hit], cleared: set[str] | None = None
    ) -> list[Hit]:
        """What the classifier finds that the patterns did not (nor cleared by context); the
        best-scoring sentence is the evidence."""
        assert self.model is not None
        candidates = []
        for name in self.model.rules:
            rule = self.rules.get(name)
            if rule is None or sender not in rule.senders or any(h.rule == name for h in found):
                continue
            if cleared and name in cleared:
                continue
            if any(p.search(norm) for p in (*rule.unless_in_message, *rule.allowed_for.get(sender, ()))):
                continue
            candidates.append(rule)
        if not candidates:
            return []
        fired = self.model.fired(text)
        rules = [r for r in candidates if r.name in fired]
        if not rules:
            return []
        spans = sentences(norm) or [(0, len(norm))]
        scores = self.model.scores([text[a:b] for a, b in spans]) if len(spans) > 1 else None
        out = []
        for rule in rules:
            best = 0 if scores is None else int(scores[rule.name].argmax())
            start, end = spans[best]
            out.append(_hit(rule, text, start, end, detail={"learnt": round(fired[rule.name], 3)}))
        return out

    def _cancelled(self, rule: Rule, norm: str, start: int, end: int) -> bool:
        c_start = clause_start(norm, start)
        if rule.negators:
            cjk = bool(_CJK.match(norm[start : start + 1]))
            window = rule.negation_window if cjk else rule.negation_window * 4
            before = norm[max(c_start, start - window) : end if rule.negators_inside else start]
            if any(n in before for n in rule.negators):
                return True
        c_end = clause_end(norm, end)
        if rule.unless_sentence or rule.unless_claim_in:
            s_start, s_end = sentence_around(norm, start)
            sentence = norm[s_start:s_end]
            if any(u.search(sentence) for u in rule.unless_sentence):
                return True
            claim = norm[start:end]
            if any(c.search(claim) and u.search(sentence) for c, u in rule.unless_claim_in):
                return True
        for u in rule.unless:
            for m in u.finditer(norm, max(0, c_start), c_end):
                if m.start() <= end and start <= m.end():
                    return True
        return False

    def _personal_data(self, text: str, sender: str, found: list[Hit]) -> list[Hit]:
        out: list[Hit] = []
        pii = self.rules["pii_in_clear"]
        secret = self.rules["asks_secret"]
        if sender in pii.senders and self._addresses:
            norm = normalise(text)
            for pattern in self._addresses:
                for m in pattern.finditer(norm):
                    if any(h.start < m.end() and m.start() < h.end for h in out):
                        continue  # one address, matched by two patterns
                    if not self._bank_own(norm, m.start()):
                        out.append(_hit(pii, text, m.start(), m.end(), detail={"pii": "address"}))
        for span in find_pii(text):
            if span.type == "secret" and sender in secret.senders:
                if not any(h.rule == secret.name and h.start <= span.start < h.end for h in found):
                    out.append(_hit(secret, text, span.start, span.end, detail={"pii": span.type}))
                continue
            if sender not in pii.senders or span.type not in self._pii_types:
                continue
            compact = re.sub(r"[\s\-()]", "", span.text)
            if any(a.search(compact) for a in self._pii_allow):
                continue
            # The bank's own hotline in a sentence about a branch; an account or ID number is the
            # customer's wherever it stands.
            if span.type == "phone" and self._bank_own(normalise(text), span.start):
                continue
            out.append(_hit(pii, text, span.start, span.end, detail={"pii": span.type}))
            if span.type == "card_number" and sender == "agent":
                # A person writing out the full card number repeats it back: asking for it too.
                out.append(_hit(secret, text, span.start, span.end, detail={"pii": span.type}))
        return out

    def _bank_own(self, norm: str, pos: int) -> bool:
        s_start, s_end = sentence_around(norm, pos)
        return any(u.search(norm[s_start:s_end]) for u in self._pii_unless)

    # ---- product talk over a conversation ------------------------------------------------------

    def check_products(self, lines: Sequence[Line], customer: Customer | None = None) -> list[Hit]:
        """A missing risk disclosure, and an unsuitable product, over the staff side of `lines`."""
        disclosure_rule = self.rules["missing_risk_disclosure"]
        suit_rule = self.rules["unsuitable_sale"]
        presenting: list[tuple[int, int, int]] = []  # (line, start, end) of each product sentence
        disclosed = False
        # Investment talk anywhere in the conversation (the customer's words count): then a staff
        # sentence pitching returns or promising them presents the product even without its name.
        topic = False
        staff = set(disclosure_rule.senders) | set(suit_rule.senders)
        learnt = self._learnt_signals([line for line in lines if line.sender in staff])
        norms = [normalise(line.text) for line in lines]
        for i, (line, norm) in enumerate(zip(lines, norms, strict=True)):
            topic = topic or any(p.search(norm) for p in self._products)
            if line.sender not in staff:
                continue
            signal = learnt.get(line.text, {})
            if any(d.search(norm) for d in self._disclosures) or (
                signal.get("risk_stated") and not self._promises(norm)
            ):
                disclosed = True
            found = len(presenting)
            for start, end in sentences(norm):
                sentence = norm[start:end]
                pitched = any(p.search(sentence) for p in self._presenting)
                named = any(p.search(sentence) for p in self._products)
                promised = self._promises(norm, start, end)
                returns = bool(_RETURNS.search(sentence))
                if (
                    (named and pitched)
                    or (topic and pitched and returns)
                    or (promised and (topic or returns))
                ):
                    presenting.append((i, start, end))
            # The classifier's pitch counts in investment talk only (it reads any offer as one).
            if len(presenting) == found and topic and signal.get("product_pitch"):
                presenting.append((i, *self._pitching_sentence(line.text, norm)))
        hits: list[Hit] = []
        if presenting and not disclosed:
            i, start, end = presenting[0]
            hits.append(_hit(disclosure_rule, lines[i].text, start, end, line=i))
        if customer is not None:
            pitches: set[int] | None = None
            if self.model is not None and self.model.signals:
                pitches = {
                    n for n, line in enumerate(lines) if learnt.get(line.text, {}).get("product_pitch")
                }
            hits += self._unsuitable(lines, norms, presenting, customer, pitches)
        return hits

    def _promises(self, norm: str, start: int = 0, end: int | None = None) -> bool:
        """Whether `norm` (or its span `start:end`) makes an absolute promise, context considered."""
        promise = self.rules["absolute_promise"]
        stop = len(norm) if end is None else end
        return any(
            not self._cancelled(promise, norm, m.start(), m.end())
            for p in promise.patterns
            for m in p.finditer(norm, start, stop)
        )

    def _learnt_signals(self, lines: Sequence[Line]) -> dict[str, dict[str, bool]]:
        """What the classifier reads in each staff message: it presents an investment product, it
        states a product's risk (none without a model)."""
        if self.model is None or not self.model.signals:
            return {}
        texts = list(dict.fromkeys(line.text for line in lines if line.text))
        scores = self.model.signal_scores(texts)
        return {
            text: {name: bool(scores[name][j] >= self.model.thresholds[name]) for name in scores}
            for j, text in enumerate(texts)
        }

    def _pitching_sentence(self, text: str, norm: str) -> tuple[int, int]:
        """The sentence of `text` the classifier finds most like a product pitch (its evidence)."""
        assert self.model is not None
        spans = sentences(norm) or [(0, len(norm))]
        if len(spans) == 1:
            return spans[0]
        scores = self.model.signal_scores([text[a:b] for a, b in spans])["product_pitch"]
        return spans[int(scores.argmax())]

    def _unsuitable(
        self,
        lines: Sequence[Line],
        norms: Sequence[str],
        presenting: list[tuple[int, int, int]],
        customer: Customer,
        pitched: set[int] | None = None,
    ) -> list[Hit]:
        """The first product presented above the customer's tolerance (or high-risk to a fragile
        customer) that staff did not then decline to sell. With the classifier (`pitched`: the
        lines it reads as a pitch), a sale needs a pitch: explaining a product's risks is none."""
        rule = self.rules["unsuitable_sale"]
        tolerance = self.risk_levels.get(customer.risk_tolerance or "")
        fragile = customer.vulnerable or (customer.age is not None and customer.age >= self.elderly_age)
        if tolerance is None and not fragile:
            return []
        staff = [(n, norms[n]) for n, line in enumerate(lines) if line.sender in ("agent", "bot")]
        for i, start, end in presenting:
            if pitched is not None and i not in pitched:
                continue
            norm = norms[i]
            # Declined here or later in the conversation ("not suitable for you, we can't sell it").
            if any(n >= i and any(p.search(text) for p in self._not_recommending) for n, text in staff):
                continue
            level = self._level(norm[start:end], norm, i, staff)
            if level is None:
                continue
            too_high = tolerance is not None and level > tolerance
            too_risky = fragile and level >= self.high_risk_level
            if too_high or too_risky:
                detail = {"product_level": level, "tolerance": tolerance, "fragile": fragile}
                return [_hit(rule, lines[i].text, start, end, line=i, detail=detail)]
        return []

    def _level(self, sentence: str, message: str, i: int, staff: list[tuple[int, str]]) -> int | None:
        """A presented product's risk level: a level stated in its sentence, its message, or by
        staff elsewhere in the conversation (the nearest before, then after), before a level
        guessed from the kind of product ("股票" in a balanced fund's description is not its level)."""
        for text in (sentence, message):
            level = self.stated_level(text)
            if level is not None:
                return level
        before = [text for n, text in staff if n < i][::-1]
        after = [text for n, text in staff if n > i]
        for text in (*before, *after):
            level = self.stated_level(text)
            if level is not None:
                return level
        return self.kind_level(sentence) or self.kind_level(message)

    def stated_level(self, norm: str) -> int | None:
        m = self._explicit_level.search(norm)
        if m is not None:
            digits = [g for g in m.groups() if g and g.isdigit()]
            if digits:
                return int(digits[0])
        return None

    def kind_level(self, norm: str) -> int | None:
        for level, pattern in self._level_words:
            if pattern.search(norm):
                return level
        return None

    # ---- words for people -----------------------------------------------------------------------

    def reason(self, rule: str, language: str) -> str:
        """Why `rule` matters, in `language` (a wording rule's reason, or a check's label)."""
        texts = self.rules[rule].reason if rule in self.rules else self.labels.get(rule)
        if texts is None:
            return rule
        return texts.get(language) or texts["en"]

    def alternative(self, rule: str, language: str) -> str | None:
        if rule not in self.rules:
            return None
        return self.rules[rule].alternative.get(language) or self.rules[rule].alternative["en"]

    def source_titles(self, rule: str, language: str) -> list[str]:
        if rule not in self.rules:
            return []
        key = "en" if language == "en" else "zh"
        return [self.sources[s].get(key, s) for s in self.rules[rule].sources]


def _hit(
    rule: Rule, text: str, start: int, end: int, *, line: int = 0, detail: dict[str, Any] | None = None
) -> Hit:
    start, end = trim(text, start, end)
    return Hit(
        rule=rule.name,
        category=rule.category,
        severity=rule.severity,
        start=start,
        end=end,
        evidence=text[start:end],
        line=line,
        detail=detail or {},
    )


@lru_cache(maxsize=8)
def _load(path: str) -> RuleBook:
    file = Path(path)
    if not file.is_file():
        raise ConfigurationError(f"no quality rules at {file}", code="bad_quality_rule")
    with file.open(encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    if not isinstance(config, dict):
        raise ConfigurationError(f"{file} must hold a mapping", code="bad_quality_rule")
    return RuleBook(config, origin=str(file))
