"""Risk signals in a customer message: fraud, vulnerability, escalation and urgency.

Patterns live in the pack (`packs/retail_bank/nlu/risk_patterns.yaml`) with a weight each, and
optionally a `tag` naming the situation (`RiskSignal.tag`: "bereavement", "age", "complaint", ...). Chinese
and English patterns both match the matching text (lower-case, Simplified, same length as the
original), so spans index `Turn.text` and Traditional input is covered by Simplified patterns.
A cheap negation check drops "没有被骗" and "not urgent" while keeping "是不是被骗了".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.turn import RISK_TYPES, RiskSignal
from helixdesk.nlu.entities.base import matching_text

DEFAULT_RISK_PATTERNS_PATH = (
    Path(__file__).resolve().parents[1] / "packs" / "retail_bank" / "nlu" / "risk_patterns.yaml"
)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[a-z]")
_CLAUSE_END_ZH = re.compile(r"[，。！？,.!?;；、:：\n]")
_CLAUSE_END_EN = re.compile(r"[,.!?;:\n]|\bbut\b|\bhowever\b")


@dataclass(frozen=True, slots=True)
class RiskRule:
    type: str
    lang: str
    pattern: str
    weight: float
    negatable: bool = True
    tag: str = ""


@dataclass(frozen=True, slots=True)
class Negation:
    zh: str = "(?:没有|没|并非|不是|未曾|未|无|不|别|非)"
    zh_gap: int = 2
    zh_question: str = "(?:是不是|有没有|会不会|是否)"
    zh_not_negation: str = "(?:不小心|不慎|不知道?|不懂|不清楚|不明白|不认识|不停|不断|不少|不得不|不到|无故)"
    en: str = "(?:not|no|never|nothing|without|(?:did|was|is|are|do|does|have|has|were|wo)n'?t)"
    en_gap: int = 2


class RiskDetector:
    """Compiled risk patterns: one alternation per (type, language); `detect` is thread-safe."""

    def __init__(self, rules: list[RiskRule], *, negation: Negation | None = None) -> None:
        neg = negation or Negation()
        self.rules = tuple(rules)
        self._zh_neg = re.compile(rf"{neg.zh}.{{0,{neg.zh_gap}}}$")
        self._zh_question = re.compile(rf"{neg.zh_question}.{{0,{neg.zh_gap}}}$")
        self._zh_not_negation = re.compile(neg.zh_not_negation)
        self._en_neg = re.compile(rf"(?<![a-z']){neg.en}(?:\s+[a-z']+){{0,{neg.en_gap}}}\s*$")
        self._compiled: list[tuple[str, str, re.Pattern[str], list[RiskRule]]] = []
        for risk_type in RISK_TYPES:
            for lang in ("zh", "en"):
                group = [r for r in rules if r.type == risk_type and r.lang == lang]
                if not group:
                    continue
                parts = []
                for i, rule in enumerate(group):
                    body = f"(?:{rule.pattern})"
                    if lang == "en":
                        body = rf"(?<![a-z0-9]){body}(?![a-z0-9])"
                    parts.append(f"(?P<r{i}>{body})")
                alternation = "|".join(parts)
                if lang == "en":
                    # Every English rule starts with this look-behind; checked once up front, it
                    # stops the engine at each position inside a word before it tries the rules,
                    # which halves the scan. The matches are the same.
                    alternation = rf"(?<![a-z0-9])(?:{alternation})"
                try:
                    pattern = re.compile(alternation)
                except re.error as e:
                    raise ConfigurationError(f"bad {risk_type}/{lang} risk pattern: {e}") from e
                self._compiled.append((risk_type, lang, pattern, group))

    @classmethod
    def from_yaml(cls, path: str | Path = DEFAULT_RISK_PATTERNS_PATH) -> RiskDetector:
        path = Path(path)
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as e:
            raise ConfigurationError(f"cannot read risk patterns {path}: {e}") from e
        if not isinstance(data, dict) or not isinstance(data.get("types"), dict):
            raise ConfigurationError(
                f"{path}: expected a top-level 'types' mapping of risk type → zh/en lists"
            )
        rules: list[RiskRule] = []
        for risk_type, by_lang in data["types"].items():
            if risk_type not in RISK_TYPES:
                raise ConfigurationError(
                    f"{path}: unknown risk type {risk_type!r}; known: {', '.join(RISK_TYPES)}"
                )
            for lang, entries in (by_lang or {}).items():
                if lang not in ("zh", "en"):
                    raise ConfigurationError(f"{path}: {risk_type}.{lang}: language must be zh or en")
                for i, entry in enumerate(entries or []):
                    if not isinstance(entry, dict) or not isinstance(entry.get("pattern"), str):
                        raise ConfigurationError(f"{path}: {risk_type}.{lang}[{i}] needs a 'pattern'")
                    weight = float(entry.get("weight", 1.0))
                    if not 0 < weight <= 1:
                        raise ConfigurationError(f"{path}: {risk_type}.{lang}[{i}]: weight must be in (0, 1]")
                    rules.append(
                        RiskRule(
                            risk_type,
                            lang,
                            entry["pattern"],
                            weight,
                            bool(entry.get("negatable", True)),
                            str(entry.get("tag") or ""),
                        )
                    )
        raw_neg = data.get("negation") or {}
        negation = Negation(**{k: v for k, v in raw_neg.items() if k in Negation.__dataclass_fields__})
        return cls(rules, negation=negation)

    def detect(self, text: str, normalized: str = "") -> tuple[RiskSignal, ...]:
        norm = matching_text(text, normalized).replace("’", "'")
        has_zh = _CJK.search(norm) is not None
        has_en = _LATIN.search(norm) is not None
        signals: list[RiskSignal] = []
        for risk_type, lang, pattern, group in self._compiled:
            if (lang == "zh" and not has_zh) or (lang == "en" and not has_en):
                continue
            for m in pattern.finditer(norm):
                if m.end() <= m.start():
                    continue
                rule = group[_rule_index(m)]
                if rule.negatable and self._negated(norm, m.start(), lang):
                    continue
                signals.append(
                    RiskSignal(
                        risk_type, text[m.start() : m.end()], m.start(), m.end(), rule.weight, rule.tag
                    )
                )
        signals.sort(key=lambda s: (s.start, s.end, s.type))
        return tuple(signals)

    def _negated(self, norm: str, start: int, lang: str) -> bool:
        if lang == "zh":
            prefix = norm[max(0, start - 8) : start]
            cut = list(_CLAUSE_END_ZH.finditer(prefix))
            if cut:
                prefix = prefix[cut[-1].end() :]
            if self._zh_question.search(prefix):
                return False
            prefix = self._zh_not_negation.sub(lambda w: "_" * len(w.group()), prefix)
            return self._zh_neg.search(prefix) is not None
        prefix = norm[max(0, start - 40) : start]
        cut = list(_CLAUSE_END_EN.finditer(prefix))
        if cut:
            prefix = prefix[cut[-1].end() :]
        return self._en_neg.search(prefix) is not None


def _rule_index(m: re.Match[str]) -> int:
    name = m.lastgroup
    if name is not None and name.startswith("r") and name[1:].isdigit():
        return int(name[1:])
    for key, value in m.groupdict().items():  # a rule with its own named groups
        if value is not None and key.startswith("r") and key[1:].isdigit():
            return int(key[1:])
    return 0
