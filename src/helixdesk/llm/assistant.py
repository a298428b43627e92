"""The four uses of the LLM, each through the guardrails (`helixdesk.llm.guard`).

- `reword`: a template reply in the customer's style and language (the template is the fallback);
- `compose`: an answer from the knowledge base's passages, citing them [1], [2] (the stored answer
  is the fallback);
- `summarise`: a handoff summary for the agent (the extractive summary stays beside it);
- `second_opinion`: a QA opinion beside the rule-based QA result (never replacing it).

Each returns None when the use is off or the answer failed a check: the caller keeps what the
product says without an LLM. `build_assistant(settings, ...)` is None while `llm_enabled` is off.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.settings import LLM_USES, Settings
from helixdesk.llm import prompts
from helixdesk.llm.client import ChatClient
from helixdesk.llm.guard import CITATION, Ask, BadFormatError, Compliance, Guard
from helixdesk.llm.meter import DbMeter, Prices


@dataclass(frozen=True, slots=True)
class Composed:
    text: str  # citation marks renumbered [1]..[k] in the order of `cited`
    cited: tuple[int, ...]  # 0-based indexes of the passages cited


@dataclass(frozen=True, slots=True)
class Concern:
    message: int  # the message's sequence number
    note: str


@dataclass(frozen=True, slots=True)
class SecondOpinion:
    score: float
    concerns: tuple[Concern, ...]
    model: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "concerns": [{"message": c.message, "note": c.note} for c in self.concerns],
            "model": self.model,
        }


class Assistant:
    def __init__(self, *, guard: Guard, uses: Iterable[str] = LLM_USES) -> None:
        self.guard = guard
        self.uses = frozenset(uses)

    def can(self, use: str) -> bool:
        return use in self.uses

    def reword(
        self,
        *,
        draft: str,
        customer_text: str,
        language: str,
        style: str,
        sources: Sequence[str] = (),
        names: Sequence[str] = (),
        name: str = "",
        conversation_id: str | None = None,
    ) -> str | None:
        """`draft` reworded; `<NAME>` in it stands for `name`. Numbers may come from the draft,
        the customer's message and `sources` (the values the template was given)."""
        if not self.can("reword"):
            return None
        answer = self.guard.ask(
            Ask(
                use="reword",
                system=prompts.reword(language, style),
                user=prompts.reword_material(customer_text, draft),
                sources=(draft, customer_text, *sources),
                names=tuple(names),
                name=name,
                max_chars=max(400, 3 * len(draft)),
                conversation_id=conversation_id,
            )
        )
        return answer.text

    def compose(
        self,
        *,
        question: str,
        passages: Sequence[str],
        language: str,
        names: Sequence[str] = (),
        conversation_id: str | None = None,
    ) -> Composed | None:
        if not self.can("compose") or not passages:
            return None
        answer = self.guard.ask(
            Ask(
                use="compose",
                system=prompts.compose(language),
                user=prompts.compose_material(question, passages),
                sources=(question, *passages),
                names=tuple(names),
                citations=len(passages),
                max_chars=max(600, 2 * sum(len(p) for p in passages)),
                conversation_id=conversation_id,
            )
        )
        if answer.text is None:
            return None
        order = {n: i for i, n in enumerate(answer.cited, start=1)}
        text = CITATION.sub(lambda m: f"[{order[int(m.group(1))]}]", answer.text)
        return Composed(text=text, cited=tuple(n - 1 for n in answer.cited))

    def summarise(
        self,
        *,
        facts: str,
        lines: Sequence[tuple[int, str, str]],
        language: str,
        names: Sequence[str] = (),
        conversation_id: str | None = None,
    ) -> str | None:
        """A handoff summary from the extractive one (`facts`) and the transcript (seq, sender, text)."""
        if not self.can("summary"):
            return None
        material = prompts.summary_material(facts, lines)
        answer = self.guard.ask(
            Ask(
                use="summary",
                system=prompts.summary(language),
                user=material,
                sources=(material,),
                names=tuple(names),
                max_chars=1200,
                conversation_id=conversation_id,
            )
        )
        return answer.text

    def second_opinion(
        self,
        *,
        lines: Sequence[tuple[int, str, str]],
        score: float | None,
        findings: Sequence[str],
        language: str,
        conversation_id: str | None = None,
    ) -> SecondOpinion | None:
        """The model's QA opinion of a (masked) transcript, given the rule-based result. Its notes
        quote the faults it reports, so the compliance check does not judge them; every other
        check does."""
        if not self.can("qa_second_opinion"):
            return None
        material = prompts.second_opinion_material(score, findings, lines)
        seqs = {seq for seq, _, _ in lines}
        answer = self.guard.ask(
            Ask(
                use="qa_second_opinion",
                system=prompts.second_opinion(language),
                user=material,
                sources=(material,),
                max_chars=4000,
                compliance=False,
                conversation_id=conversation_id,
                prose=lambda text: " \n".join(c.note for c in _opinion(text, seqs)[1]),
            )
        )
        if answer.text is None:
            return None
        found, concerns = _opinion(answer.text, seqs)
        return SecondOpinion(score=found, concerns=concerns, model=self.guard.client.model)


def _opinion(text: str, seqs: set[int]) -> tuple[float, tuple[Concern, ...]]:
    """The score and concerns of a second opinion's JSON; BadFormatError when it is not one."""
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start : end + 1]) if 0 <= start < end else None
    except ValueError as e:
        raise BadFormatError("not JSON") from e
    if not isinstance(data, dict):
        raise BadFormatError("not a JSON object")
    score = data.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 100:
        raise BadFormatError("score must be a number from 0 to 100")
    concerns: list[Concern] = []
    for item in data.get("concerns") or []:
        if not isinstance(item, dict):
            raise BadFormatError("a concern must be an object")
        message, note = item.get("message"), item.get("note")
        if (
            not isinstance(message, int)
            or message not in seqs
            or not isinstance(note, str)
            or not note.strip()
        ):
            raise BadFormatError("a concern must name a message of the conversation and say what is wrong")
        concerns.append(Concern(message, note.strip()))
    return float(score), tuple(concerns[:20])


def build_assistant(
    settings: Settings, *, sessions: sessionmaker[Session], compliance: Compliance | None
) -> Assistant | None:
    """The assistant `settings` ask for, or None while `llm_enabled` is off."""
    if not settings.llm_enabled:
        return None
    client = ChatClient(
        base_url=settings.llm_base_url,
        model=settings.llm_model,
        timeout=settings.llm_timeout_seconds,
        max_tokens=settings.llm_max_tokens,
        api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else None,
        stream=settings.llm_stream,
    )
    guard = Guard(
        client=client,
        meter=DbMeter(sessions),
        prices=Prices(settings.llm_cost_per_1k_input_tokens, settings.llm_cost_per_1k_output_tokens),
        compliance=compliance,
    )
    return Assistant(guard=guard, uses=settings.llm_uses)
