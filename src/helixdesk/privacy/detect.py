"""Finding personal data in free text (Simplified and Traditional Chinese, English).

`find_pii(text)` returns non-overlapping `PiiSpan`s of these types:

| type | found by |
|---|---|
| `card_number` | 13-19 digits passing Luhn, with spaces or dashes, full-width too (the NLU's card finder); any 13-19 digits right after 卡号 / card number |
| `id_number` | Chinese resident IDs with a valid region, birth date and check character (the NLU's finder); 15-digit first-generation IDs and any ID-length number after 身份证 / ID no.; Hong Kong identity card numbers with their check digit (A123456(3)); Taiwan IDs with their check digit (A123456789); after their name, Singapore NRIC/FIN numbers, UK National Insurance numbers and Taiwan IDs |
| `phone` | mainland mobiles with or without +86, Hong Kong numbers with +852 or a phone cue (the NLU's finder) |
| `account_number` | 8-30 digits after 账号 / 帳號 / 账户 / 戶口(號碼係) / account no. / acct / a/c |
| `email` | e-mail addresses |
| `secret` | a one-time code, password, PIN or CVV after 验证码 / 密码 / PIN / CVV / OTP / "code is" |

Numbers that the customer labels as an order, transaction or tracking number (订单号, 流水号,
reference, tracking number, 快递单号 ...) are not personal data: such a cue beats a card or phone
match on the same digits. Matching runs on the width-folded, lower-cased text (same length as the
input), so spans index the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from helixdesk.core.identifiers import hkid_ok, twid_ok
from helixdesk.nlu.entities.base import Candidate, resolve
from helixdesk.nlu.entities.cards import find_card_numbers
from helixdesk.nlu.entities.identity import find_id_numbers
from helixdesk.nlu.entities.phone import find_phones
from helixdesk.nlu.entities.transactions import find_transaction_ids
from helixdesk.nlu.text import fold_lower

PII_TYPES: tuple[str, ...] = ("card_number", "id_number", "phone", "account_number", "email", "secret")

# Candidate types that only suppress a look-alike: never reported.
_NOT_PII = frozenset({"transaction_id", "tracking"})

# Extra priority (on top of the NLU's type priorities) when two candidates cover the same characters.
_SECRET_BONUS = 200  # a code after 验证码 is a secret even if it also looks like something else
_ACCOUNT_BONUS = 95  # "账号 6222…" is an account even when the digits pass Luhn
_TRACKING_BONUS = 100
_ANCHORED_ID_BONUS = 5

# Every type needs one of these: three digits close together, an at sign, four Chinese digits (a
# code), or a password cue (a password may have no digit). Text without any is not scanned further.
_ANY_SIGNAL = re.compile(r"\d[\s-]?\d[\s-]?\d|[@＠]|[零〇一二三四五六七八九]{4}|密码|密碼|(?i:pass|pwd)")

_SEP = r"(?:\s?(?:是|为|為|係|系|:|：|#|=|is|was))?\s?"
_NUMBER = r"(?P<n>\d(?:[\s-]?\d){{{min},{max}}})(?![\d])"

_ACCOUNT = re.compile(
    r"(?:(?:账号|帐号|賬號|帳號|账户|帐户|賬戶|帳戶|户口|戶口)"
    r"(?:号码|號碼|号|號)?"
    r"|(?<![a-z])(?:account|acct\.?|a/c)(?:\s?(?:number|no\.?|num|#))?)"
    + _SEP
    + _NUMBER.format(min=7, max=29)
)
_CARD_ANCHOR = re.compile(
    r"(?:卡号|卡號|卡号码|卡號碼|(?<![a-z])card\s?(?:number|no\.?|num|#))"
    + _SEP
    + _NUMBER.format(min=12, max=18)
)
_ANCHORED_ID = re.compile(
    r"(?:(?:身份证|身份證|证件|證件)(?:号码|號碼|号|號)?"
    r"|(?<![a-z])(?:id(?:\s?card)?|identity\s?card|national\sid)(?:\s?(?:number|no\.?|num|#))?)"
    + _SEP
    + r"(?P<n>\d(?:[\s-]?\d){13,16}(?:[\s-]?[\dx])?)(?![\da-z])"
)
# Hong Kong identity card: one or two letters, six digits and the check character in brackets.
_HKID = re.compile(r"(?<![a-z\d])(?P<p>[a-z]{1,2})(?P<d>\d{6})\s?\((?P<c>[\da])\)")
# Taiwan national ID: a letter, 1 or 2 (sex), eight digits, the last a check digit.
_TWID = re.compile(r"(?<![a-z\d])(?P<id>[a-z][12]\d{8})(?![a-z\d])")
# Identity numbers after their name, checked or not (the sentence says what they are): Singapore
# NRIC/FIN, the UK's National Insurance number, a Taiwan ID.
_ANCHORED_FOREIGN_ID = re.compile(
    r"(?:(?<![a-z])(?:nric|fin|ni number|national insurance(?: number)?|ni no\.?)|身分證(?:字號|號碼)?|身份證字號)"
    + r"[^.!?。！？\d]{0,24}?\s?"  # "NI number on your profile is ..."
    + r"(?P<n>[stfgm]\d{7}[a-z]|[a-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[a-d]|[a-z][12]\d{8})(?![a-z\d])"
)
_EMAIL = re.compile(
    r"(?<![a-z0-9._%+-])[a-z0-9][a-z0-9._%+-]{0,63}@[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)*\.[a-z]{2,24}(?![a-z0-9-])"
)

_CN_DIGIT = "零〇一二三四五六七八九"
_CODE_VALUE = rf"(?P<v>\d(?:[\s-]?\d){{2,7}}|[{_CN_DIGIT}]{{4,8}})(?![\d{_CN_DIGIT}])"
_CODE = re.compile(
    r"(?:验证码|驗證碼|校验码|校驗碼|动态码|動態碼|动态密码|動態密碼|短信码|短信碼|确认码|確認碼|安全码|安全碼"
    r"|交易码|交易碼|口令|pin码|pin碼"
    r"|(?<![a-z])(?:cvv2?|cvc2?|cvn2?|otp|pin|passcode|security\scode|verification\scode|one[\s-]time\s(?:pass)?code"
    r"|sms\scode|auth(?:entication)?\scode|(?:my|the|your)\scode)(?![a-z]))"
    r"(?:\s?(?:码|碼|number|code|no\.?))?"
    r"(?:\s?(?:是|为|為|:|：|=|#|is|was|of)){0,2}\s?" + _CODE_VALUE
)
_PASSWORD = re.compile(
    r"(?:密码|密碼|(?<![a-z])(?:password|passwd|pwd)(?![a-z]))"
    r"(?P<sep>(?:\s?(?:是|为|為|:|：|=|is|was)){0,2})\s?"
    r"(?P<v>[!-~]{4,64})"
)
# Words after "password is" that are not the password ("my password is wrong").
_NOT_A_PASSWORD = frozenset(
    [
        "wrong",
        "incorrect",
        "invalid",
        "not",
        "no",
        "too",
        "still",
        "the",
        "my",
        "your",
        "a",
        "an",
        "expired",
        "locked",
        "blocked",
        "forgotten",
        "reset",
        "changed",
        "correct",
        "right",
        "weak",
        "strong",
        "required",
        "needed",
        "missing",
        "empty",
        "same",
        "different",
    ]
)
_TRAILING_PUNCT = ".,;:!?)]}'\""
_EXPECTED_CODE = re.compile(rf"(?<![\d{_CN_DIGIT}])" + _CODE_VALUE.replace("{2,7}", "{3,7}"))
_TRACKING = re.compile(
    r"(?:快递单号|快遞單號|运单号|運單號|物流单号|物流單號|包裹号|包裹號|tracking\s?(?:number|no\.?|#|id)?"
    r"|waybill(?:\s?(?:number|no\.?))?|parcel\s(?:number|no\.?))"
    r"\s?(?:是|为|為|:|：|#|is)?\s?(?P<id>[a-z0-9][a-z0-9-]{5,39})(?![a-z0-9-])"
)


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """Personal data at `text[start:end]` of the scanned text; `value` is its normalised form."""

    type: str
    start: int
    end: int
    text: str
    value: str


def find_pii(text: str, *, expect_code: bool = False) -> tuple[PiiSpan, ...]:
    """Every piece of personal data in `text`, in order, without overlaps.

    `expect_code=True` (the bot is waiting for a one-time code) also takes any lone run of 4-8
    digits, or Chinese digits, as a secret.
    """
    if not _ANY_SIGNAL.search(text):
        return ()
    norm = fold_lower(text)
    found: list[Candidate] = []
    if any(ch.isdigit() for ch in norm):
        found += find_card_numbers(norm)
        found += find_id_numbers(norm)
        found += find_phones(norm)
        found += find_transaction_ids(norm, text)
        found += _anchored(norm)
        found += _hkids(norm)
        found += _foreign_ids(norm)
        found += _tracking(norm)
    found += _secrets(norm, text, expect_code=expect_code)
    if "@" in norm:
        found += [Candidate("email", m.group(), m.start(), m.end()) for m in _EMAIL.finditer(norm)]
    return tuple(
        PiiSpan(e.type, e.start, e.end, e.text, str(e.value))
        for e in resolve(found, text)
        if e.type not in _NOT_PII
    )


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum()).upper()


def _anchored(norm: str) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _ACCOUNT.finditer(norm):
        out.append(Candidate("account_number", _digits(m["n"]), m.start("n"), m.end("n"), _ACCOUNT_BONUS))
    for m in _CARD_ANCHOR.finditer(norm):
        # The customer says it is a card number: masked even when a digit is mistyped (fails Luhn).
        out.append(Candidate("card_number", _digits(m["n"]), m.start("n"), m.end("n")))
    for m in _ANCHORED_ID.finditer(norm):
        value = _digits(m["n"])
        if len(value) in (15, 18):  # checked or not: the customer says it is their ID
            out.append(Candidate("id_number", value, m.start("n"), m.end("n"), _ANCHORED_ID_BONUS))
    return out


def _hkids(norm: str) -> list[Candidate]:
    return [
        Candidate("id_number", f"{m['p'].upper()}{m['d']}({m['c'].upper()})", m.start(), m.end())
        for m in _HKID.finditer(norm)
        if hkid_ok(m["p"], m["d"], m["c"])
    ]


def _foreign_ids(norm: str) -> list[Candidate]:
    out = [
        Candidate("id_number", _digits(m["n"]), m.start("n"), m.end("n"), _ANCHORED_ID_BONUS)
        for m in _ANCHORED_FOREIGN_ID.finditer(norm)
    ]
    out += [
        Candidate("id_number", m["id"].upper(), m.start("id"), m.end("id"))
        for m in _TWID.finditer(norm)
        if twid_ok(m["id"])
    ]
    return out


def _tracking(norm: str) -> list[Candidate]:
    return [
        Candidate("tracking", m["id"], m.start("id"), m.end("id"), _TRACKING_BONUS)
        for m in _TRACKING.finditer(norm)
    ]


def _secrets(norm: str, text: str, *, expect_code: bool) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _CODE.finditer(norm):
        out.append(Candidate("secret", "", m.start("v"), m.end("v"), _SECRET_BONUS))
    for m in _PASSWORD.finditer(norm):
        # Trailing ASCII punctuation is masked with the password: it may be part of it ("abc123!");
        # full-width punctuation in the original text ends the sentence, not the password.
        end = m.end("v")
        while end > m.start("v") and ord(text[end - 1]) > 0x7E:
            end -= 1
        value = norm[m.start("v") : end]
        word = value.rstrip(_TRAILING_PUNCT)
        if len(word) < 4:
            continue
        if not m["sep"].strip() and not any(ch.isdigit() for ch in word):
            continue  # "password reset": a word, not a password typed after a separator
        if word in _NOT_A_PASSWORD:
            continue
        out.append(Candidate("secret", "", m.start("v"), end, _SECRET_BONUS))
    if expect_code:
        for m in _EXPECTED_CODE.finditer(norm):
            out.append(Candidate("secret", "", m.start("v"), m.end("v"), _SECRET_BONUS))
    return out
