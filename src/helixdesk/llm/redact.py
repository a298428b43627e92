"""Personal data out of what goes to the LLM, and back only in its masked form.

`Redaction.mask(text)` finds personal data with the product's own detector (`helixdesk.privacy`:
card, ID, phone, account numbers, e-mails, codes and passwords) and puts a placeholder in its place:
`<CARD_1>`, `<ID_1>`, `<PHONE_1>`, `<ACCOUNT_1>`, `<EMAIL_1>`, `<SECRET_1>`. The customer's own
names (from the bank's records) become `<NAME_1>`, ...; a reply that greets the customer by name
is drafted with `<NAME>` where the name goes. The same value gets the same placeholder in every
text of one call, so the model can tell that two mentions are one number.

`Redaction.restore(answer)` puts back, for each placeholder, what the product shows anyway: the
masked form (`**** **** **** 6621`, `138****5678`, `••••••`), never the raw value. `<NAME>` becomes
the name the reply would have used. A placeholder the redaction did not hand out (the model made it
up) is an error: the answer is not used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from helixdesk.bank.connector import Customer
from helixdesk.privacy.masking import mask_text

KINDS: dict[str, str] = {
    "card_number": "CARD",
    "id_number": "ID",
    "phone": "PHONE",
    "account_number": "ACCOUNT",
    "email": "EMAIL",
    "secret": "SECRET",
}
NAME = "<NAME>"
# What a model writes for a placeholder: <PHONE_1>, [PHONE_1], <PHONE 1>, ＜PHONE_1＞, <NAME>.
_PLACEHOLDER = re.compile(
    r"[<\[＜【]\s*(CARD|ID|PHONE|ACCOUNT|EMAIL|SECRET|NAME)(?:[_\s]?(\d{1,3}))?\s*[>\]＞】]"
)
_MIN_NAME = 2  # a one-character surname is too common a character to mask in running text


class UnknownPlaceholderError(ValueError):
    """The answer holds a placeholder this redaction did not hand out."""


@dataclass
class Redaction:
    """One call's placeholders. `names` are the customer's names to hide; `name` is what `<NAME>`
    stands for in a draft (the name the template would use; empty: none)."""

    names: Iterable[str] = ()
    name: str = ""
    _by_raw: dict[tuple[str, str], str] = field(default_factory=dict, init=False)
    _shown: dict[str, str] = field(default_factory=dict, init=False)
    _counts: dict[str, int] = field(default_factory=dict, init=False)
    _name_pattern: re.Pattern[str] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        known = sorted({n.strip() for n in self.names if len(n.strip()) >= _MIN_NAME}, key=len, reverse=True)
        if known:
            # A Latin name is a whole word ("Na" is not the "na" of "finance"); a Chinese one is not
            # cut into words.
            self._name_pattern = re.compile(
                "|".join(
                    rf"(?<![A-Za-z]){re.escape(n)}(?![A-Za-z])" if n.isascii() else re.escape(n)
                    for n in known
                ),
                re.IGNORECASE,
            )
        self._shown[NAME] = self.name

    @property
    def placeholders(self) -> dict[str, str]:
        """Each placeholder handed out, with what it is restored to."""
        return {k: v for k, v in self._shown.items() if k != NAME or self.name}

    def mask(self, text: str) -> str:
        masked = mask_text(text)
        out: list[str] = []
        pos = 0
        for span in masked.spans:
            out.append(text[pos : span.start])
            out.append(self._placeholder(KINDS.get(span.type, "SECRET"), span.raw, span.masked))
            pos = span.end
        out.append(text[pos:])
        result = "".join(out)
        if self._name_pattern is not None:
            result = self._name_pattern.sub(
                lambda m: self._placeholder("NAME", m.group().lower(), ""), result
            )
        return result

    def _placeholder(self, kind: str, raw: str, shown: str) -> str:
        key = (kind, raw)
        known = self._by_raw.get(key)
        if known is not None:
            return known
        n = self._counts.get(kind, 0) + 1
        self._counts[kind] = n
        placeholder = f"<{kind}_{n}>"
        self._by_raw[key] = placeholder
        # A name in the customer's words goes back as the name the reply uses (or nothing).
        self._shown[placeholder] = shown if kind != "NAME" else self.name
        return placeholder

    def restore(self, answer: str) -> str:
        def put_back(m: re.Match[str]) -> str:
            kind, n = m.group(1), m.group(2)
            key = f"<{kind}_{n}>" if n else f"<{kind}>"
            if key not in self._shown or (key == NAME and not self.name):
                raise UnknownPlaceholderError(f"the answer holds {key}, which was never handed out")
            return self._shown[key]

        return _PLACEHOLDER.sub(put_back, answer)

    def shown_forms(self) -> list[str]:
        """The masked forms the restored answer may hold."""
        return [v for v in self._shown.values() if v]

    def without_shown(self, answer: str) -> str:
        """`answer` without the masked forms its placeholders became: their digits (a card's last
        four) are personal data put back, not figures the model wrote."""
        for shown in sorted(self.shown_forms(), key=len, reverse=True):
            answer = answer.replace(shown, " ")
        return answer

    def seen(self, text: str) -> str:
        """`text` as the model saw it, placeholders left out: where its figures may come from
        (the digits inside personal data were never shown, so they are no source)."""
        return _PLACEHOLDER.sub(" ", self.mask(text))


def customer_names(profile: Customer | None) -> tuple[str, ...]:
    """The customer's names as the bank records them, to be masked like personal data."""
    if profile is None:
        return ()
    return tuple(n for n in (profile.name_zh, profile.name_en, *profile.name_en.split()) if n)
