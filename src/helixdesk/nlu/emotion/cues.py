"""Surface cues of how strongly an emotion is expressed, in Chinese and English.

The cue lists are short, hand-written for this project (no research-only lexicon such as NRC or
DUTIR is used). They serve twice:

- as a small dense feature block for the classifier (`cue_features`), because the shared TF-IDF
  featuriser drops punctuation, and "!!!" or "?" carry emotion;
- as the cue part of the intensity (`cue_strength`, see `helixdesk.nlu.emotion.model` for the
  formula).

A negated negative feeling ("我没生气", "不是投诉，就是问问", "不着急", "唔使急", "no complaints", "I'm
not worried") is a downtoner, not a cue: the strong phrase inside it is not counted, and it counts as
a hedge, so "不是投诉" reads calm and low in intensity instead of angry.

All functions take the raw message (case and punctuation kept: all-caps words are a cue).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Degree adverbs and emphatic particles ("very", "so", "really", "what on earth").
INTENSIFIERS_ZH: tuple[str, ...] = (
    "非常",
    "十分",
    "特别",
    "极其",
    "极度",
    "超级",
    "相当",
    "太",
    "真的",
    "真是",
    "简直",
    "实在",
    "完全",
    "根本",
    "到底",
    "究竟",
    "一直",
    "总是",
    "老是",
    "每次",
    "居然",
    "竟然",
    "怎么又",
    "好烦",
    "死了",
    "透了",
    "极了",
    "不得了",
    "要命",
    "无比",
    "万分",
    "多么",
    "一点都不",
    "一点也不",
)
INTENSIFIERS_EN: tuple[str, ...] = (
    "very",
    "so",
    "really",
    "extremely",
    "totally",
    "absolutely",
    "completely",
    "utterly",
    "terribly",
    "incredibly",
    "seriously",
    "super",
    "such",
    "ever",
    "again",
    "always",
    "never",
    "at all",
    "what the",
    "the hell",
    "damn",
    "deeply",
    "truly",
    "too",
)
# Phrases that on their own express a strong feeling (mostly anger, fear, despair, delight).
STRONG_ZH: tuple[str, ...] = (
    "气死",
    "受够",
    "忍无可忍",
    "崩溃",
    "垃圾",
    "太过分",
    "过分",
    "欺人太甚",
    "岂有此理",
    "混蛋",
    "骗子",
    "骗人",
    "坑人",
    "黑心",
    "投诉",
    "曝光",
    "报警",
    "起诉",
    "告你们",
    "无语",
    "恶心",
    "离谱",
    "吓死",
    "急死",
    "怕死",
    "慌",
    "绝望",
    "完蛋",
    "救命",
    "怎么办",
    "哭",
    "心累",
    "伤心",
    "难过",
    "太棒",
    "太好了",
    "感激",
    "万分感谢",
    "爱死",
    "开心死",
)
STRONG_EN: tuple[str, ...] = (
    "furious",
    "outrageous",
    "ridiculous",
    "unacceptable",
    "disgusting",
    "worst",
    "hate",
    "fed up",
    "sick of",
    "scam",
    "fraud",
    "thieves",
    "liars",
    "pathetic",
    "useless",
    "terrified",
    "panic",
    "desperate",
    "devastated",
    "heartbroken",
    "nightmare",
    "disaster",
    "sue",
    "lawyer",
    "complaint",
    "wtf",
    "omg",
    "amazing",
    "fantastic",
    "brilliant",
    "love you",
    "thrilled",
    "awful",
    "horrible",
)
# Hedges and downtoners ("a bit", "slightly"): the feeling is there but mild.
HEDGES_ZH: tuple[str, ...] = (
    "有点",
    "有些",
    "稍微",
    "略微",
    "一点",
    "一些",
    "还行",
    "还好",
    "不太",
    "不大",
    "些许",
    "似乎",
    "好像",
)
HEDGES_EN: tuple[str, ...] = (
    "a bit",
    "a little",
    "slightly",
    "somewhat",
    "kind of",
    "kinda",
    "sort of",
    "a tad",
    "mildly",
    "not very",
    "not too",
    "i guess",
    "perhaps",
    "maybe",
)

# A negation, then (optionally) a filler, then a word for a negative feeling: a calm message.
_NEGATED_ZH = re.compile(
    r"(?:一点也不|一点都不|从来不|从不|并不|并没有|并没|不是|没有|唔係|唔使|不|没|别|无|唔|冇)"
    r"(?:很|太|是|再|要|用|在|那么|来|想|算|会|必)?"
    r"(?:生气|生氣|气|氣|嬲|担心|擔心|着急|著急|急|慌|怕|害怕|投诉|投訴|不满|不滿|意见|意見|赶|趕|介意)"
)
_NEGATED_EN = re.compile(
    r"(?<![a-z'])(?:not|no|never|nothing|without|(?:is|are|was|were|do|does|did|have|has|wo)n't)"
    r"(?:\s+[a-z']+){0,2}?\s+(?:angry|annoyed|upset|worried|worry|worrying|concerned|scared|afraid|frightened|"
    r"panic|panicking|complain|complaining|complaint|complaints|rush|hurry|urgent|unhappy|cross|mad|fuss|"
    r"hard feelings|bothered|stressed)(?![a-z])"
)
_EXCLAIM = re.compile(r"[!！]")
_QUESTION = re.compile(r"[?？]")
_REPEATED_PUNCT = re.compile(r"[!！?？]{2,}|[.。…]{3,}|…{2,}")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_REPEATED_CHAR = re.compile(r"([\u4e00-\u9fffA-Za-z])\1{2,}")  # 啊啊啊, sooo
_ACRONYMS = frozenset(
    {"ATM", "PIN", "OTP", "ID", "SMS", "APP", "VIP", "USD", "EUR", "HKD", "CNY", "RMB", "OK"}
)


def _pattern(phrases: tuple[str, ...], *, words: bool) -> re.Pattern[str]:
    body = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![a-z])(?:{body})(?![a-z])" if words else f"(?:{body})")


_INTENSIFIERS = (_pattern(INTENSIFIERS_ZH, words=False), _pattern(INTENSIFIERS_EN, words=True))
_STRONG = (_pattern(STRONG_ZH, words=False), _pattern(STRONG_EN, words=True))
_HEDGES = (_pattern(HEDGES_ZH, words=False), _pattern(HEDGES_EN, words=True))


def _count(lowered: str, patterns: tuple[re.Pattern[str], ...]) -> int:
    return sum(len(p.findall(lowered)) for p in patterns)


@dataclass(frozen=True, slots=True)
class Cues:
    """Counts of each cue in one message."""

    exclamations: int = 0
    questions: int = 0
    repeated_punct: int = 0
    caps_words: int = 0
    repeated_chars: int = 0
    intensifiers: int = 0
    strong: int = 0
    hedges: int = 0
    latin_words: int = 0


def _negated_spans(lowered: str) -> list[tuple[int, int]]:
    return [m.span() for p in (_NEGATED_ZH, _NEGATED_EN) for m in p.finditer(lowered)]


def _count_outside(lowered: str, patterns: tuple[re.Pattern[str], ...], spans: list[tuple[int, int]]) -> int:
    """Matches of `patterns` that do not fall inside one of `spans`."""
    return sum(
        1
        for p in patterns
        for m in p.finditer(lowered)
        if not any(start <= m.start() and m.end() <= end for start, end in spans)
    )


def find_cues(text: str) -> Cues:
    lowered = text.lower().replace("’", "'")
    latin = _LATIN_WORD.findall(text)
    caps = [w for w in _CAPS_WORD.findall(text) if w not in _ACRONYMS]
    negated = _negated_spans(lowered)
    # A message written entirely in capitals shouts; a lone acronym does not.
    return Cues(
        exclamations=len(_EXCLAIM.findall(text)),
        questions=len(_QUESTION.findall(text)),
        repeated_punct=len(_REPEATED_PUNCT.findall(text)),
        caps_words=len(caps),
        repeated_chars=len(_REPEATED_CHAR.findall(text)),
        intensifiers=_count(lowered, _INTENSIFIERS),
        strong=_count_outside(lowered, _STRONG, negated) if negated else _count(lowered, _STRONG),
        hedges=_count(lowered, _HEDGES) + len(negated),
        latin_words=len(latin),
    )


# Weights of each cue in the intensity's cue strength (before saturation).
CUE_WEIGHTS: dict[str, float] = {
    "exclamations": 0.25,  # per mark, at most 3 counted
    "repeated_punct": 0.5,  # "!!!", "？？", "。。。"
    "caps_words": 0.3,  # per shouted word, at most 3 counted
    "repeated_chars": 0.3,  # 啊啊啊, sooo
    "intensifiers": 0.35,  # per intensifier, at most 3 counted
    "strong": 0.8,  # per strong phrase, at most 2 counted
}
CUE_CAPS: dict[str, int] = {"exclamations": 3, "caps_words": 3, "intensifiers": 3, "strong": 2}
HEDGE_FACTOR = 0.7  # each hedge (at most 2) multiplies the intensity by this


def cue_strength(cues: Cues) -> float:
    """How emphatic the wording is, in [0, 1): 1 - exp(-sum of capped, weighted cue counts)."""
    total = 0.0
    for name, weight in CUE_WEIGHTS.items():
        count = getattr(cues, name)
        total += weight * min(count, CUE_CAPS.get(name, 2))
    return 1.0 - math.exp(-total)


def hedge_factor(cues: Cues) -> float:
    """Multiplier in (0, 1] for hedged wording ("有点不满意", "a bit annoyed")."""
    return float(HEDGE_FACTOR ** min(cues.hedges, 2))


CUE_FEATURE_NAMES: tuple[str, ...] = (
    "exclamations",
    "questions",
    "repeated_punct",
    "caps_words",
    "repeated_chars",
    "intensifiers",
    "strong",
    "hedges",
    "all_caps_message",
)


def cue_features(texts: list[str]) -> npt.NDArray[np.float32]:
    """A dense (n, 9) block of log-scaled cue counts for the classifier."""
    return cue_rows([find_cues(text) for text in texts])


def cue_rows(cues: Sequence[Cues]) -> npt.NDArray[np.float32]:
    """`cue_features` from cues already found (the emotion model also needs them for the intensity)."""
    rows = []
    for c in cues:
        all_caps = c.latin_words >= 2 and c.caps_words >= max(2, c.latin_words - 1)
        rows.append(
            (
                c.exclamations,
                c.questions,
                c.repeated_punct,
                c.caps_words,
                c.repeated_chars,
                c.intensifiers,
                c.strong,
                c.hedges,
                int(all_caps),
            )
        )
    counts = np.array(rows, dtype=np.float32).reshape(len(rows), len(CUE_FEATURE_NAMES))
    # One log1p over the block: elementwise, so each value is what a row-at-a-time call gave.
    return np.log1p(counts)
