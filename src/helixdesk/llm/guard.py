"""The guardrails, all in one place: every call to the LLM goes through `Guard.ask`.

1. **Masked before it leaves.** Every message sent (instructions included) goes through the
   product's masker (`helixdesk.llm.redact`): card, ID, phone, account numbers, e-mails, codes and
   passwords, and the customer's names, become placeholders. Nothing else is sent.
2. **A timeout or any error** (unreachable, HTTP error, malformed answer) gives no answer: the
   caller keeps its template.
3. **The answer is checked whole** before anyone sees it; the first failed check is the reason
   the template is used instead:
   - `empty`, `too_long`;
   - `placeholder`: a placeholder that was never handed out (restored ones come back masked);
   - `bad_format`: a structured answer that cannot be read;
   - `citation`: a citation mark that points at no given source, or an answer that had to cite
     and did not (and citations where none were asked for);
   - `invented_number`: a number whose value is in none of the sources as the model saw them
     (the customer's message, the template's text with the customer's data, the passages;
     `helixdesk.llm.numbers`: 1,000 = 1000 = 一千 = 1千; dates written any way). Digits inside
     personal data are no source (the model never saw them), and the masked forms placeholders
     become are not read as figures;
   - `personal_data`: personal data in clear in the answer (the model made some up);
   - `compliance`: a wording rule of the product's compliance check broken (`Compliance`, the
     QA rule book's check of a bot message).
4. **Metered:** each call is a `llm_calls` row (tokens from the server's usage or estimated,
   latency, cost, the outcome and its reason) and a log line (no text).
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from helixdesk.llm.client import ChatClient, Completion, LlmError, LlmTimeoutError, estimate_tokens
from helixdesk.llm.meter import CallRecord, Meter, Prices
from helixdesk.llm.numbers import invented
from helixdesk.llm.redact import Redaction, UnknownPlaceholderError
from helixdesk.privacy.detect import find_pii

log = logging.getLogger(__name__)

# The rules (by name) an answer breaks, as the product's compliance check sees a bot's message.
Compliance = Callable[[str], Sequence[str]]

CITATION = re.compile(r"[\[【]\s*(\d{1,3})\s*[\]】]")
REASONS = (
    "ok",
    "timeout",
    "unavailable",
    "error",
    "empty",
    "too_long",
    "placeholder",
    "bad_format",
    "citation",
    "invented_number",
    "personal_data",
    "compliance",
)


class BadFormatError(ValueError):
    """A structured answer (JSON) that cannot be read."""


@dataclass(frozen=True, slots=True)
class Ask:
    """One question to the LLM and what its answer is checked against."""

    use: str  # reword, compose, summary, qa_second_opinion
    system: str  # the instructions
    user: str  # the material; masked here before it is sent
    sources: tuple[str, ...]  # texts the answer's numbers may come from (never sent as such)
    names: tuple[str, ...] = ()  # the customer's names, masked like personal data
    name: str = ""  # what `<NAME>` in `user` stands for (the name the reply uses)
    citations: int = 0  # numbered sources the answer must cite ([1]..[n]); 0: it must not cite
    max_chars: int = 2000
    compliance: bool = True
    conversation_id: str | None = None
    # The part of the answer the checks read (a structured answer's text); may raise BadFormatError.
    prose: Callable[[str], str] | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    text: str | None  # the checked answer, placeholders restored; None: keep the template
    reason: str  # "ok" or why the answer is not used
    cited: tuple[int, ...] = ()  # the sources cited, in the order first cited
    call: CallRecord | None = None  # what the call cost, as metered

    @property
    def used(self) -> bool:
        return self.text is not None


class Guard:
    def __init__(
        self,
        *,
        client: ChatClient,
        meter: Meter,
        prices: Prices | None = None,
        compliance: Compliance | None = None,
    ) -> None:
        self.client = client
        self.meter = meter
        self.prices = prices or Prices()
        self.compliance = compliance

    def outgoing(self, ask: Ask) -> tuple[list[dict[str, str]], Redaction]:
        """The messages as they leave the process, and the redaction that masked them."""
        redaction = Redaction(names=ask.names, name=ask.name)
        messages = [
            {"role": "system", "content": redaction.mask(ask.system)},
            {"role": "user", "content": redaction.mask(ask.user)},
        ]
        return messages, redaction

    def ask(self, ask: Ask) -> Answer:
        messages, redaction = self.outgoing(ask)
        started = time.monotonic()
        done: Completion | None = None
        try:
            done = self.client.complete(messages)
            answer = self.check(done.text, ask, redaction)
        except LlmTimeoutError:
            answer = Answer(None, "timeout")
        except LlmError as e:
            answer = Answer(None, "unavailable" if e.code == "llm_unavailable" else "error")
        except Exception:
            # The LLM is never worth a failed reply: whatever went wrong, the template is used.
            log.exception("llm %s: the call or its checks failed; the template is used", ask.use)
            answer = Answer(None, "error")
        call = self._meter(ask, messages, done, answer, time.monotonic() - started)
        return dataclasses.replace(answer, call=call)

    def check(self, raw: str, ask: Ask, redaction: Redaction) -> Answer:
        """The checks of step 3, on one answer."""
        text = _unfence(raw.strip())
        if not text:
            return Answer(None, "empty")
        if len(text) > ask.max_chars:
            return Answer(None, "too_long")
        try:
            restored = redaction.restore(text)
        except UnknownPlaceholderError:
            return Answer(None, "placeholder")
        try:
            prose = ask.prose(restored) if ask.prose is not None else restored
        except BadFormatError:
            return Answer(None, "bad_format")
        cited = tuple(dict.fromkeys(int(n) for n in CITATION.findall(prose)))
        if ask.citations:
            if not cited or any(not 1 <= n <= ask.citations for n in cited):
                return Answer(None, "citation")
        elif cited:
            return Answer(None, "citation")
        if invented(redaction.without_shown(prose), [redaction.seen(source) for source in ask.sources]):
            return Answer(None, "invented_number")
        if find_pii(prose):
            return Answer(None, "personal_data")
        if ask.compliance and self.compliance is not None and self.compliance(prose):
            return Answer(None, "compliance")
        return Answer(restored, "ok", cited)

    def _meter(
        self,
        ask: Ask,
        messages: list[dict[str, str]],
        done: Completion | None,
        answer: Answer,
        seconds: float,
    ) -> CallRecord:
        if done is not None:
            prompt, completion, estimated = (
                done.usage.prompt_tokens,
                done.usage.completion_tokens,
                done.usage.estimated,
            )
            model = done.model
        else:  # no answer: the prompt was sent all the same
            prompt = sum(estimate_tokens(m["content"]) + 4 for m in messages)
            completion, estimated, model = 0, True, self.client.model
        cost = self.prices.cost(prompt, completion)
        log.info(
            "llm %s: %s (%s) in %.0f ms, %d+%d tokens%s, cost %.6f",
            ask.use,
            "used" if answer.used else "template kept",
            answer.reason,
            seconds * 1000,
            prompt,
            completion,
            " (estimated)" if estimated else "",
            cost,
        )
        call = CallRecord(
            use=ask.use,
            model=model,
            used=answer.used,
            reason=answer.reason,
            streamed=self.client.stream,
            prompt_tokens=prompt,
            completion_tokens=completion,
            tokens_estimated=estimated,
            seconds=seconds,
            cost=cost,
            conversation_id=ask.conversation_id,
        )
        self.meter.record(call)
        return call


_FENCE = re.compile(r"^```[a-zA-Z]*\n(.*)\n```$", re.S)


def _unfence(text: str) -> str:
    """An answer a model wrapped in a code fence, unwrapped."""
    m = _FENCE.match(text)
    return m.group(1).strip() if m else text
