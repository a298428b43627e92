"""Stage `language`: zh-Hans, zh-Hant, en, mixed (code-switched) or unknown."""

from __future__ import annotations

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


def detect_language(text: str, *, mixed_ratio: float = 0.2) -> Language:
    cjk = cjk_count(text)
    words = [w for w in latin_words(text) if len(w) > 1]
    if cjk == 0:
        return "en" if words else "unknown"
    foreign = [w for w in words if w.lower() not in _LOANWORDS]
    latin_chars = sum(len(w) for w in foreign)
    chinese: Language = "zh-Hant" if is_traditional(text) else "zh-Hans"
    if foreign and latin_chars / (latin_chars + cjk) >= mixed_ratio:
        return "mixed"
    return chinese


@register_stage("language")
class LanguageStage:
    def __init__(self, *, mixed_ratio: float = 0.2) -> None:
        self.mixed_ratio = mixed_ratio

    def warm_up(self) -> None:
        detect_language("预热")

    def run(self, turn: Turn) -> Turn:
        return turn.with_(language=detect_language(turn.text, mixed_ratio=self.mixed_ratio))
