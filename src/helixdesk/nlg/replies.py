"""From what the bot decided to say to the words the customer reads.

The dialogue decides `Say` records: a template key, the values it needs, the kind of reply and,
for knowledge answers, where the text comes from. `ReplyWriter.write` words them in the reply
language and style: the customer's name, an empathy opening fitted to their emotion on the first
reply, topic labels, and short prompts joined to the reply before them so the customer gets one
message rather than three.

With the optional LLM on (`assistant`, docs/llm.md), a reply may be reworded in the customer's
style, or a knowledge answer composed from its passages with citations (`helixdesk.nlg.assisted`);
whatever the LLM's answer fails, the template's text is the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from helixdesk.bank.connector import Customer
from helixdesk.core.events import Citation
from helixdesk.core.turn import Turn
from helixdesk.llm.assistant import Assistant
from helixdesk.nlg.assisted import Drafting, assist
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
    llm: str | None = None  # the LLM use that wrote the text (reword, compose); None: the template


class ReplyWriter:
    def __init__(
        self, *, templates: Templates, style_policy: StylePolicy, assistant: Assistant | None = None
    ) -> None:
        self.templates = templates
        self.style_policy = style_policy
        self.assistant = assistant

    def write(
        self,
        says: Sequence[Say],
        *,
        turn: Turn,
        language: str,
        style: str,
        profile: Customer | None,
        conversation_id: str | None = None,
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
            opening_key: str | None = None
            if i == 0 and empathy is not None and say.kind not in _NOTICES:
                feeling, strong = empathy
                opening_key = f"empathy.{feeling}.strong"
                if not (strong and self.templates.has(opening_key)):
                    opening_key = f"empathy.{feeling}"
            worded = _Worded(self.templates, key, values, opening_key, language, style)
            reply = Reply(text=worded.full(name), kind=say.kind, citations=say.citations)
            if self.assistant is not None:
                drafting = Drafting(self.assistant, turn, language, style, profile, name, conversation_id)
                better = assist(drafting, say.kind, say.values, worded)
                if better is not None:
                    text, citations, use = better
                    reply = Reply(text=text, kind=say.kind, citations=citations or say.citations, llm=use)
            replies.append(reply)
        return _merge_short(replies, language)


@dataclass(frozen=True, slots=True)
class _Worded:
    """One `Say` in words: its template's text and the empathy opening before it, for a name."""

    templates: Templates
    key: str
    values: dict[str, Any]
    opening_key: str | None
    language: str
    style: str

    def body(self, name: str) -> str:
        return self.templates.render(
            self.key, language=self.language, style=self.style, name=name, **self.values
        )

    def opening(self, name: str) -> str:
        if self.opening_key is None:
            return ""
        text = self.templates.render(self.opening_key, language=self.language, style=self.style, name=name)
        return f"{text}{_gap(self.language)}"

    def full(self, name: str) -> str:
        return f"{self.opening(name)}{self.body(name)}"


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
            merged[-1] = Reply(
                text=f"{prev.text}{sep}{reply.text}", kind=prev.kind, citations=prev.citations, llm=prev.llm
            )
        else:
            merged.append(reply)
    return merged
