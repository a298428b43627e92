"""The bot's turn: NLU over the message, then a reply.

Until the dialogue manager, actions and knowledge base exist, the bot says honestly that it cannot
handle the request yet and where the customer can get help; it never invents an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from helixdesk.domain.turn import Turn
from helixdesk.nlu.pipeline import NLUPipeline

FALLBACK = {
    "zh-Hans": "抱歉，我暂时还不能在这里处理您的这个问题。请拨打本行客服热线或前往就近网点，工作人员会为您办理。",
    "zh-Hant": "抱歉，我暫時還不能在這裡處理您的這個問題。請致電本行客服熱線或前往就近分行，職員會為您辦理。",
    "en": (
        "Sorry, I can't handle this request here yet. Please call our customer service hotline or visit "
        "a branch, and a member of staff will help you."
    ),
}


@dataclass(frozen=True, slots=True)
class BotReply:
    text: str
    kind: str = "text"


@dataclass(frozen=True, slots=True)
class BotResult:
    turn: Turn
    replies: tuple[BotReply, ...]
    reply_language: str


def reply_language(turn: Turn, conversation_language: str | None) -> str:
    """Reply in the customer's language and script; code-switched Chinese gets Chinese."""
    if turn.language in ("zh-Hans", "zh-Hant", "en"):
        return turn.language
    if turn.language == "mixed":
        return conversation_language if conversation_language in ("zh-Hans", "zh-Hant") else "zh-Hans"
    return conversation_language if conversation_language in FALLBACK else "zh-Hans"


class Bot:
    def __init__(self, *, nlu: NLUPipeline) -> None:
        self.nlu = nlu

    def warm_up(self) -> None:
        self.nlu.warm_up()

    def respond(self, text: str, *, language: str | None, now: datetime | None = None) -> BotResult:
        turn = self.nlu.parse(text, reference_time=now)
        lang = reply_language(turn, language)
        return BotResult(turn=turn, replies=(BotReply(FALLBACK[lang], kind="fallback"),), reply_language=lang)
