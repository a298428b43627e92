"""The instructions of each use. They carry no data: the material goes in the user message, which
`helixdesk.llm.guard` masks. Instructions are in English (every instruct model follows English);
each names the language the answer must be in."""

from __future__ import annotations

from collections.abc import Sequence

LANGUAGE_NAMES = {
    "zh-Hans": "Simplified Chinese (简体中文)",
    "zh-Hant": "Traditional Chinese (繁體中文, as written in Hong Kong and Taiwan)",
    "en": "English",
}
STYLES = {
    "concise": "short and direct, no pleasantries beyond one word of courtesy",
    "warm": "warm and polite",
    "lively": "lively and friendly, like the customer's own cheerful tone",
    "patient": "patient and simple: short sentences, plain words, one step at a time",
}
_KEEP = (
    "Placeholders such as <CARD_1>, <PHONE_1>, <ID_1>, <ACCOUNT_1> or <NAME> stand for personal data: "
    "copy any you need exactly as written and never invent new ones."
)


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, LANGUAGE_NAMES["zh-Hans"])


def reword(language: str, style: str) -> str:
    return (
        "You reword one reply of a bank's customer-service assistant so that it suits the customer. "
        "Keep its meaning and every fact, figure, date, time and step exactly; add nothing: no new "
        "facts, numbers, promises, products, advice or questions. Do not leave out a question the "
        f"reply asks. {_KEEP} Write in {language_name(language)}. Tone: {STYLES.get(style, STYLES['warm'])}; "
        "follow the way the customer writes. Answer with the reworded reply only."
    )


def reword_material(customer_text: str, draft: str) -> str:
    return f"The customer wrote:\n{customer_text}\n\nThe reply to reword:\n{draft}"


def compose(language: str) -> str:
    return (
        "You answer a bank customer's question from the numbered passages of the bank's knowledge "
        "base, and from nothing else. Cite each passage you use by its number in square brackets, "
        "e.g. [1], right after what it supports. Add no fact, number, promise or advice the passages "
        "do not hold. If they do not answer the question, answer only NO_ANSWER. "
        f"{_KEEP} Write in {language_name(language)}, in a few short sentences. Answer only."
    )


def compose_material(question: str, passages: Sequence[str]) -> str:
    numbered = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, start=1))
    return f"The customer's question:\n{question}\n\nPassages:\n{numbered}"


def summary(language: str) -> str:
    return (
        "You summarise a bank customer-service conversation for the colleague who takes it over. "
        "In at most five short sentences: what the customer wants, the key facts, what has been "
        "tried, how the customer feels, and the next step. Use only what the conversation and the "
        f"facts say; add no number they do not hold. {_KEEP} Write in {language_name(language)}. "
        "Answer with the summary only."
    )


def summary_material(facts: str, lines: Sequence[tuple[int, str, str]]) -> str:
    return f"Facts:\n{facts}\n\nConversation:\n{transcript(lines)}"


def second_opinion(language: str) -> str:
    return (
        "You review a bank customer-service conversation for quality and compliance, as a second "
        "opinion beside the bank's rule-based review. Look for false or absolute promises, "
        "guaranteed returns, a missing risk disclosure, asking for a password or a code, rudeness, "
        "shirking, and questions left unanswered. Answer with JSON only, in this form: "
        '{"score": <0-100, 100 is faultless>, "concerns": [{"message": <the message number>, '
        '"note": "<what is wrong, one short sentence>"}]}. '
        f"Write the notes in {language_name(language)}. {_KEEP}"
    )


def second_opinion_material(
    score: float | None, findings: Sequence[str], lines: Sequence[tuple[int, str, str]]
) -> str:
    found = "\n".join(f"- {f}" for f in findings) or "- none"
    scored = "not scored yet" if score is None else f"{score:.0f}"
    return f"The rule-based review: score {scored}; findings:\n{found}\n\nConversation:\n{transcript(lines)}"


def transcript(lines: Sequence[tuple[int, str, str]]) -> str:
    return "\n".join(f"{seq}. {sender}: {' '.join(text.split())}" for seq, sender, text in lines)
