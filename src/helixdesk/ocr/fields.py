"""Key fields of an image's text: pure functions over the OCR's lines, no OCR here.

OCR of a screenshot gives lines such as `商户：星巴克咖啡`, `金額 HK$1,280.00`, `Errorcode:NET-502`
or `交易时间:2026-11-0314:22`. What OCR does to them is expected: full-width or half-width colons,
spaces inside a line dropped (`Errorcode`, `0314:22`), Traditional or Simplified labels, a label
and its value read as one line or as two boxes joined on a row (`reader.rows`).

`extract(lines)` finds, each at most once (the first labelled value wins, then an unlabelled one):
- `transaction_id`: after 交易编号/交易編號/流水号/订单号/参考号/Transaction ID/Reference/Order no;
- `amount` and `currency`: after 金额/金額/Amount/Total/应还…, or a currency-marked number anywhere;
- `date` and `time`: after 交易时间/時間/日期/Date/Time, or the first date anywhere;
- `merchant`: after 商户/商戶/商家/收款方/Merchant/Payee;
- `card_tail`: the last four digits after 卡号/卡號/尾号/Card, or in `尾号1234`, `ending 1234`, `**** 1234`;
- `error_code`: after 错误代码/錯誤代碼/错误码/Error code, or a code such as `E1023`/`NET-502` in
  an error line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from helixdesk.core.turn import Entity

Kind = Literal["charge", "bill", "error", "unknown"]

FIELD_NAMES: tuple[str, ...] = (
    "transaction_id",
    "amount",
    "currency",
    "date",
    "time",
    "merchant",
    "card_tail",
    "error_code",
)


@dataclass(frozen=True, slots=True)
class ImageFields:
    """What an image says; every field is optional. `amount` is positive, two decimals."""

    kind: Kind = "unknown"
    transaction_id: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    date: date | None = None
    time: str | None = None  # "HH:MM"
    merchant: str | None = None
    card_tail: str | None = None
    error_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: strings, or null."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            out[key] = (
                None if value is None else str(value) if not isinstance(value, date) else value.isoformat()
            )
        return out

    def found(self) -> dict[str, str]:
        """The fields found, as strings (what the bench compares)."""
        return {k: v for k, v in self.to_dict().items() if v is not None and k in FIELD_NAMES}


# ---- labels ---------------------------------------------------------------------------------------

# Each English label allows dropped spaces between its words; matching is case-insensitive.
_LABELS: dict[str, tuple[str, ...]] = {
    "transaction_id": (
        "交易编号",
        "交易編號",
        "交易单号",
        "交易單號",
        "交易流水号",
        "交易流水號",
        "流水号",
        "流水號",
        "订单号",
        "訂單號",
        "订单编号",
        "訂單編號",
        "参考号",
        "參考號",
        "凭证号",
        "憑證號",
        r"transaction\s*id",
        r"transaction\s*no\.?",
        r"txn\s*id",
        r"reference\s*no\.?",
        "reference",
        r"ref\.?\s*no\.?",
        r"order\s*no\.?",
        r"order\s*id",
    ),
    "amount": (
        "交易金额",
        "交易金額",
        "扣款金额",
        "扣款金額",
        "支付金额",
        "支付金額",
        "消费金额",
        "消費金額",
        "本期应还金额",
        "本期應還金額",
        "本期应还",
        "本期應還",
        "应还金额",
        "應還金額",
        "账单金额",
        "賬單金額",
        "帳單金額",
        "金额",
        "金額",
        "合计",
        "合計",
        r"amount\s*due",
        r"total\s*due",
        "amount",
        "total",
    ),
    "date": (
        "交易时间",
        "交易時間",
        "交易日期",
        "消费时间",
        "消費時間",
        "支付时间",
        "支付時間",
        "到期还款日",
        "到期還款日",
        "还款日",
        "還款日",
        "账单日",
        "賬單日",
        "帳單日",
        "日期",
        "时间",
        "時間",
        r"transaction\s*date",
        r"date\s*/\s*time",
        r"due\s*date",
        r"payment\s*due",
        "date",
        "time",
    ),
    "merchant": (
        "商户名称",
        "商戶名稱",
        "商户",
        "商戶",
        "商家",
        "收款方",
        "收款商户",
        "收款商戶",
        r"merchant\s*name",
        "merchant",
        "payee",
    ),
    "card_tail": (
        "卡号尾号",
        "卡號尾號",
        "银行卡",
        "銀行卡",
        "信用卡",
        "卡号",
        "卡號",
        "尾号",
        "尾號",
        "付款卡",
        r"card\s*no\.?",
        r"card\s*number",
        r"card\s*ending",
        r"paid\s*with",
        "card",
    ),
    "error_code": (
        "错误代码",
        "錯誤代碼",
        "错误码",
        "錯誤碼",
        "错误编号",
        "錯誤編號",
        "故障代码",
        "故障代碼",
        r"error\s*code",
        r"error\s*no\.?",
        r"err\s*code",
        "error",
    ),
}

_SEPARATOR = r"\s*[:：]?\s*"
_LABEL_RES: dict[str, re.Pattern[str]] = {
    name: re.compile(
        r"^\s*(?:" + "|".join(sorted(labels, key=len, reverse=True)) + r")" + _SEPARATOR + r"(?P<value>.*)$",
        re.IGNORECASE,
    )
    for name, labels in _LABELS.items()
}

_BILL_CUES = re.compile(r"应还|應還|账单|賬單|帳單|amount\s*due|statement|minimum\s*payment", re.IGNORECASE)
_ERROR_CUES = re.compile(r"错误|錯誤|失败|失敗|异常|異常|error|failed|failure", re.IGNORECASE)

# ---- values ---------------------------------------------------------------------------------------

_CURRENCY_WORDS: dict[str, str] = {
    "CNY": "CNY",
    "RMB": "CNY",
    "¥": "CNY",
    "元": "CNY",
    "人民币": "CNY",
    "人民幣": "CNY",
    "HKD": "HKD",
    "HK$": "HKD",
    "港元": "HKD",
    "港币": "HKD",
    "港幣": "HKD",
    "USD": "USD",
    "US$": "USD",
    "$": "USD",
    "美元": "USD",
    "EUR": "EUR",
    "€": "EUR",
    "欧元": "EUR",
    "歐元": "EUR",
    "GBP": "GBP",
    "£": "GBP",
    "英镑": "GBP",
    "英鎊": "GBP",
    "JPY": "JPY",
    "日元": "JPY",
    "MOP": "MOP",
    "澳门元": "MOP",
    "澳門元": "MOP",
}
_CUR = "|".join(re.escape(c) for c in sorted(_CURRENCY_WORDS, key=len, reverse=True))
_MONEY = re.compile(
    rf"(?P<before>{_CUR})?\s*(?P<sign>[-+−])?\s*(?P<before2>{_CUR})?\s*"
    r"(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?P<dec>\.\d{1,2})?(?!\d)"
    rf"\s*(?P<after>{_CUR})?",
    re.IGNORECASE,
)
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_YMD = re.compile(r"(?P<y>20\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{2}|\d(?!\d))\s*日?")
_DMY_EN = re.compile(
    r"(?P<d>\d{1,2})\s*(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s*(?P<y>20\d{2})",
    re.IGNORECASE,
)
_MDY_EN = re.compile(
    r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*(?P<d>\d{1,2}),?\s*(?P<y>20\d{2})",
    re.IGNORECASE,
)
_TIME = re.compile(r"(?<!\d)(?P<h>[01]?\d|2[0-3])\s*[:：]\s*(?P<mi>[0-5]\d)(?:\s*[:：]\s*[0-5]\d)?(?!\d)")
_TAIL_CUES = re.compile(
    r"(?:尾号|尾號|ending(?:\s*in)?|end\s*in|[*＊xX•·]{2,}[\s*＊xX•·]*)\s*[:：(（]?\s*(?P<tail>\d{4})(?!\d)",
    re.IGNORECASE,
)
_ERROR_CODE = re.compile(r"(?<![A-Za-z0-9])(?P<code>[A-Z]{1,6}-?\d{2,6}|\d{3,6})(?![A-Za-z0-9])")
_ID_TOKEN = re.compile(r"(?P<id>[A-Za-z0-9][A-Za-z0-9-]{5,39})")


def normalise_line(line: str) -> str:
    """Width-folded (full-width colons, digits and letters become ASCII), with `¥`/`￥` kept as `¥`."""
    folded = unicodedata.normalize("NFKC", line).replace("￥", "¥").replace("−", "-")
    return folded.replace("：", ":").strip()


def parse_amount(text: str) -> tuple[Decimal, str | None] | None:
    """The first number in `text` with its currency if one is written next to it (`¥`, `HK$`, `元`…)."""
    for m in _MONEY.finditer(text):
        cur = m.group("before") or m.group("before2") or m.group("after")
        try:
            value = Decimal(m.group("num").replace(",", "") + (m.group("dec") or ""))
        except InvalidOperation:
            continue
        return value.quantize(Decimal("0.01")), (_CURRENCY_WORDS[_currency_key(cur)] if cur else None)
    return None


def _currency_key(word: str) -> str:
    upper = word.upper()
    return upper if upper in _CURRENCY_WORDS else word


def _marked_amount(text: str) -> tuple[Decimal, str | None] | None:
    """A number with a currency written next to it (not a bare number)."""
    for m in _MONEY.finditer(text):
        if m.group("before") or m.group("before2") or m.group("after"):
            return parse_amount(m.group(0))
    return None


def parse_date(text: str) -> date | None:
    for pattern in (_YMD, _DMY_EN, _MDY_EN):
        m = pattern.search(text)
        if m is None:
            continue
        month = int(m.group("m")) if "m" in m.groupdict() else _MONTHS[m.group("mon")[:3].lower()]
        try:
            return date(int(m.group("y")), month, int(m.group("d")))
        except ValueError:
            continue
    return None


def parse_time(text: str) -> str | None:
    """The first `HH:MM` after any date in `text` (`2026-11-0314:22` reads 14:22)."""
    rest = text
    for pattern in (_YMD, _DMY_EN, _MDY_EN):
        m = pattern.search(text)
        if m is not None:
            rest = text[m.end() :]
            break
    t = _TIME.search(rest)
    if t is None:
        return None
    return f"{int(t.group('h')):02d}:{t.group('mi')}"


def _tail(text: str) -> str | None:
    m = _TAIL_CUES.search(text)
    if m is not None:
        return m.group("tail")
    digits = re.findall(r"\d{4,}", text)
    return digits[-1][-4:] if digits else None


def _identifier(text: str) -> str | None:
    m = _ID_TOKEN.search(text.replace(" ", ""))
    if m is None or not any(ch.isdigit() for ch in m.group("id")):
        return None
    return m.group("id").upper()


def _error_code(text: str) -> str | None:
    m = _ERROR_CODE.search(text.upper().replace(" ", ""))
    return m.group("code") if m else None


def _merchant(text: str) -> str | None:
    value = text.strip(" :-·|")
    return value[:128] or None


def extract(lines: Iterable[str]) -> ImageFields:
    """The fields of an image whose OCR read `lines` (top to bottom)."""
    norm = [normalise_line(line) for line in lines]
    norm = [line for line in norm if line]
    found: dict[str, Any] = {}
    labelled = [(_label_of(line), line) for line in norm]
    for i, (hit, _line) in enumerate(labelled):
        if hit is None:
            continue
        name, value = hit
        if not value and i + 1 < len(labelled) and labelled[i + 1][0] is None:
            value = labelled[i + 1][1]  # the value on the next line (a label above its value)
        _take(found, name, value)
    whole = "\n".join(norm)
    if found.get("amount") is None:
        for line in norm:
            money = _marked_amount(line)
            if money is not None:
                found["amount"], found["currency"] = money
                break
    if found.get("date") is None:
        for line in norm:
            day = parse_date(line)
            if day is not None:
                found["date"] = day
                found["time"] = found.get("time") or parse_time(line)
                break
    if found.get("card_tail") is None:
        m = _TAIL_CUES.search(whole)
        if m is not None:
            found["card_tail"] = m.group("tail")
    if found.get("error_code") is None:
        for line in norm:
            if _ERROR_CUES.search(line):
                code = _error_code(_ERROR_CUES.sub(" ", line))
                if code is not None:
                    found["error_code"] = code
                    break
    found = {k: v for k, v in found.items() if v is not None}
    return ImageFields(kind=_kind(found, whole), **found)


def _label_of(line: str) -> tuple[str, str] | None:
    for name, pattern in _LABEL_RES.items():
        m = pattern.match(line)
        if m is not None:
            return name, m.group("value").strip()
    return None


def _take(found: dict[str, Any], name: str, value: str) -> None:
    """Keep the first labelled value of each field that parses."""
    if name == "amount":
        money = parse_amount(value)
        if money is not None and found.get("amount") is None:
            found["amount"], found["currency"] = money
    elif name == "date":
        day, at = parse_date(value), parse_time(value)
        if day is not None and found.get("date") is None:
            found["date"] = day
            found["time"] = at or found.get("time")
        elif at is not None and found.get("time") is None:
            found["time"] = at
    else:
        parse = {
            "merchant": _merchant,
            "card_tail": _tail,
            "transaction_id": _identifier,
            "error_code": _error_code,
        }[name]
        parsed = parse(value)
        if parsed is not None and found.get(name) is None:
            found[name] = parsed


def _kind(found: dict[str, Any], whole: str) -> Kind:
    if "error_code" in found and "amount" not in found:
        return "error"
    if "amount" in found and _BILL_CUES.search(whole):
        return "bill"
    if "amount" in found and ("merchant" in found or "date" in found or "transaction_id" in found):
        return "charge"
    if "error_code" in found:
        return "error"
    return "unknown"


# ---- entities of the turn -------------------------------------------------------------------------


def entities(fields: ImageFields, *, at: int, default_currency: str = "CNY") -> tuple[Entity, ...]:
    """The fields as NLU entities (the same value shapes as the text's), with empty spans at `at`
    (the end of the customer's caption): they come from the image, not from the text."""
    out: list[Entity] = []

    def add(kind: str, value: Any, text: str) -> None:
        out.append(Entity(type=kind, value=value, text=text, start=at, end=at))

    if fields.amount is not None:
        currency = fields.currency or default_currency
        add("money", {"amount": str(fields.amount), "currency": currency}, f"{currency} {fields.amount}")
    if fields.date is not None:
        start = datetime.combine(fields.date, datetime.min.time())
        add(
            "date",
            {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(), "grain": "day"},
            fields.date.isoformat(),
        )
    if fields.merchant is not None:
        add("merchant", fields.merchant, fields.merchant)
    if fields.card_tail is not None:
        add("card_tail", fields.card_tail, fields.card_tail)
    if fields.transaction_id is not None:
        add("transaction_id", fields.transaction_id, fields.transaction_id)
    if fields.error_code is not None:
        add("error_code", fields.error_code, fields.error_code)
    return tuple(out)


def summary_lines(fields: ImageFields) -> Sequence[tuple[str, str]]:
    """(field, value) pairs of what was read, in a fixed order, for the bot's reply."""
    order = ("merchant", "amount", "date", "time", "card_tail", "transaction_id", "error_code")
    values = fields.found()
    out = []
    for key in order:
        if key in values:
            value = values[key]
            if key == "amount" and fields.currency:
                value = f"{fields.currency} {value}"
            out.append((key, value))
    return out
