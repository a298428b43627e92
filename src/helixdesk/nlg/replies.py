"""From what the bot decided to say to the words the customer reads.

The dialogue decides `Say` records: a template key, the values it needs, the kind of reply and,
for knowledge answers, where the text comes from. `ReplyWriter.write` words them in the reply
language and style: the customer's name, an empathy opening fitted to their emotion on the first
reply, topic labels, and short prompts joined to the reply before them so the customer gets one
message rather than three.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from helixdesk.bank.connector import Customer
from helixdesk.core.events import Citation
from helixdesk.core.turn import Turn
from helixdesk.nlg.empathy import choose_empathy
from helixdesk.nlg.style import StylePolicy
from helixdesk.nlg.templates import Templates

# Replies that stand on their own before the answer: an incident's explanation, an open issue. No
# empathy opening goes before them, and no prompt is joined to them.
_NOTICES = ("incident", "issue")


@dataclass(frozen=True, slots=True)
class Say:
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    kind: str = "text"
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    kind: str = "text"
    citations: tuple[Citation, ...] = ()


class ReplyWriter:
    def __init__(self, *, templates: Templates, style_policy: StylePolicy) -> None:
        self.templates = templates
        self.style_policy = style_policy

    def write(
        self,
        says: Sequence[Say],
        *,
        turn: Turn,
        language: str,
        style: str,
        profile: Customer | None,
    ) -> list[Reply]:
        name = display_name(profile, language)
        replies: list[Reply] = []
        empathy = choose_empathy(turn, self.style_policy.empathy)
        for i, say in enumerate(says):
            key = say.key
            if not self.templates.has(key) and key.startswith(("action_error.", "none.")):
                key = "action_error.generic"
            values = dict(say.values)
            if "topic" in values:
                topic_key = f"topic.{values['topic']}"
                values["topic_label"] = self.templates.render(
                    topic_key if self.templates.has(topic_key) else "topic.generic", language=language
                )
            text = self.templates.render(key, language=language, style=style, name=name, **values)
            if i == 0 and empathy is not None and say.kind not in _NOTICES:
                opening, strong = empathy
                key = f"empathy.{opening}.strong"
                if not (strong and self.templates.has(key)):
                    key = f"empathy.{opening}"
                opening_text = self.templates.render(key, language=language, style=style, name=name)
                text = f"{opening_text}{_gap(language)}{text}"
            replies.append(Reply(text=text, kind=say.kind, citations=say.citations))
        return _merge_short(replies, language)


def display_name(profile: Customer | None, language: str) -> str:
    """How a reply addresses the customer: the family name in English, the surname in Chinese."""
    if profile is None:
        return ""
    if language == "en":
        return profile.name_en.split(" ")[-1] if profile.name_en else ""
    return profile.name_zh[:1] if profile.name_zh else ""


def _gap(language: str) -> str:
    return " " if language == "en" else ""


def _merge_short(replies: list[Reply], language: str) -> list[Reply]:
    """Join consecutive plain prompts to the reply before them, so the customer gets one message."""
    merged: list[Reply] = []
    for reply in replies:
        if merged and reply.kind in ("prompt", "confirm") and merged[-1].kind not in _NOTICES:
            prev = merged[-1]
            sep = "\n\n" if language == "en" else "\n"
            merged[-1] = Reply(text=f"{prev.text}{sep}{reply.text}", kind=prev.kind, citations=prev.citations)
        else:
            merged.append(reply)
    return merged
