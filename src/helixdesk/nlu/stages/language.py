"""Stage `language`: zh-Hans, zh-Hant, en, mixed (code-switched) or unknown."""

from __future__ import annotations

import re

from helixdesk.core.turn import Language, Turn
from helixdesk.nlu.stage import register_stage
from helixdesk.nlu.text import cjk_count, is_traditional, latin_words

# Short upper-case tokens that Chinese speakers use inside Chinese sentences without switching language.
_LOANWORDS = {
    "app",
    "atm",
    "otp",
    "pin",
    "vip",
    "ok",
    "id",
    "sms",
    "swift",
    "usd",
    "eur",
    "hkd",
    "jpy",
    "gbp",
    "cny",
    "rmb",
    "pos",
    "etc",
    "wifi",
    "qq",
    "cvv",
    "visa",
    "mastercard",
    "unionpay",
    "apple",
    "pay",
}


_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# An English sentence may name a person, a payee or a shop in Chinese: up to this many runs of
# Chinese characters, each no longer than a name, among at least this many English words.
_NAME_RUNS, _NAME_CHARS, _ENGLISH_WORDS = 2, 12, 3


def detect_language(text: str, *, mixed_ratio: float = 0.2) -> Language:
    cjk = cjk_count(text)
    words = [w for w in latin_words(text) if len(w) > 1]
    if cjk == 0:
        return "en" if words else "unknown"
    foreign = [w for w in words if w.lower() not in _LOANWORDS]
    latin_chars = sum(len(w) for w in foreign)
    chinese: Language = "zh-Hant" if is_traditional(text) else "zh-Hans"
    if foreign and latin_chars / (latin_chars + cjk) >= mixed_ratio:
        return "en" if _english_with_names(text, len(foreign), latin_chars, cjk) else "mixed"
    return chinese


def _english_with_names(text: str, english_words: int, latin_chars: int, cjk: int) -> bool:
    """Mostly English, the Chinese only a name or two ("please send 500 to 王建国")."""
    if english_words < _ENGLISH_WORDS or latin_chars < 2 * cjk:
        return False
    runs = _CJK_RUN.findall(text)
    return len(runs) <= _NAME_RUNS and all(len(r) <= _NAME_CHARS for r in runs)


@register_stage("language")
class LanguageStage:
    def __init__(self, *, mixed_ratio: float = 0.2) -> None:
        self.mixed_ratio = mixed_ratio

    def warm_up(self) -> None:
        detect_language("预热")

    def run(self, turn: Turn) -> Turn:
        return turn.with_(language=detect_language(turn.text, mixed_ratio=self.mixed_ratio))
