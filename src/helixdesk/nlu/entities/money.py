"""Money ("三千五", "¥88", "USD 45.99", "45.99美元", "500 bucks", "2k") and currency names ("港币", "GBP").

Matching runs on the matching text (lower-case, Simplified, half-width), so "ＵＳＤ" and "港幣" work.
A bare number is money only with a cue: a currency, a magnitude (万, 千, k) or a money verb before it,
or the form of an amount itself: two decimals ("23977.28", "1,280.50"), which is read in the default
currency and matched against the customer's own data by the actions.
"""

from __future__ import annotations

import re
from decimal import Decimal

from helixdesk.nlu.entities.base import Candidate
from helixdesk.nlu.entities.numbers import ARABIC, CN_DIGIT_CHARS, CN_DIGITS, NUMBER, parse_number

# Symbols and codes written before an amount.
_PREFIX: dict[str, str] = {
    "us$": "USD", "hk$": "HKD", "nt$": "TWD", "s$": "SGD", "a$": "AUD", "c$": "CAD", "mop$": "MOP",
    "$": "USD", "¥": "CNY", "￥": "CNY", "€": "EUR", "£": "GBP", "₩": "KRW",
    "rmb": "CNY", "cny": "CNY", "usd": "USD", "hkd": "HKD", "eur": "EUR", "gbp": "GBP", "jpy": "JPY",
    "aud": "AUD", "cad": "CAD", "sgd": "SGD", "chf": "CHF", "twd": "TWD", "mop": "MOP", "krw": "KRW",
    "nzd": "NZD", "thb": "THB",
    "人民币": "CNY", "美元": "USD", "美金": "USD", "港币": "HKD", "港元": "HKD", "欧元": "EUR",
    "英镑": "GBP", "日元": "JPY", "日圆": "JPY",
}  # fmt: skip

# Chinese currency words written after an amount.
_ZH_UNITS: dict[str, str] = {
    "块钱": "CNY", "块": "CNY", "元": "CNY", "圆": "CNY", "元人民币": "CNY", "人民币": "CNY", "蚊": "HKD",
    # "5000蚊人民币", "5000块人民币": the currency named after the unit decides.
    "蚊人民币": "CNY", "块人民币": "CNY", "块钱人民币": "CNY", "蚊港币": "HKD", "蚊港元": "HKD",
    "美元": "USD", "美金": "USD", "刀": "USD", "港币": "HKD", "港元": "HKD", "港纸": "HKD",
    "日元": "JPY", "日圆": "JPY", "円": "JPY", "日币": "JPY", "欧元": "EUR", "欧罗": "EUR",
    "英镑": "GBP", "澳元": "AUD", "澳币": "AUD",
    "加元": "CAD", "加币": "CAD", "新加坡元": "SGD", "新币": "SGD", "瑞士法郎": "CHF", "法郎": "CHF",
    "韩元": "KRW", "韩币": "KRW", "台币": "TWD", "新台币": "TWD", "澳门币": "MOP", "澳门元": "MOP",
    "卢布": "RUB", "泰铢": "THB", "纽币": "NZD",
}  # fmt: skip

# English currency words and codes written after an amount.
_EN_UNITS: dict[str, str] = {
    "hong kong dollars": "HKD", "hong kong dollar": "HKD", "hk dollars": "HKD", "hk dollar": "HKD",
    "us dollars": "USD", "us dollar": "USD", "american dollars": "USD", "singapore dollars": "SGD",
    "australian dollars": "AUD", "canadian dollars": "CAD", "dollars": "USD", "dollar": "USD",
    "bucks": "USD", "buck": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP", "quid": "GBP",
    "yuan": "CNY", "renminbi": "CNY", "kuai": "CNY", "yen": "JPY", "won": "KRW",
    "rmb": "CNY", "cny": "CNY", "usd": "USD", "hkd": "HKD", "eur": "EUR", "gbp": "GBP", "jpy": "JPY",
    "aud": "AUD", "cad": "CAD", "sgd": "SGD", "chf": "CHF", "twd": "TWD", "mop": "MOP", "krw": "KRW",
    "nzd": "NZD", "thb": "THB",
}  # fmt: skip

# A currency named without an amount.
_CURRENCY_NAMES: dict[str, str] = {
    **{
        k: v
        for k, v in _ZH_UNITS.items()
        if k not in {"块钱", "块", "元", "圆", "蚊", "刀", "法郎"} and not k.startswith(("蚊", "块"))
    },
    "瑞郎": "CHF", "英磅": "GBP",
    **{k: v for k, v in _EN_UNITS.items() if k not in {"bucks", "buck", "kuai", "won", "pounds", "quid"}},
    "pound sterling": "GBP", "sterling": "GBP", "british pounds": "GBP", "british pound": "GBP",
}  # fmt: skip

_MAGNITUDE: dict[str, int] = {"k": 1000, "thousand": 1000, "million": 1_000_000, "mn": 1_000_000}


def _alt(words: dict[str, str] | set[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_LATIN_AFTER = r"(?![a-z])"
_LATIN_BEFORE = r"(?<![a-z])"
# Characters after a bare magnitude number that show it counts something other than money.
_NOT_MONEY_AFTER = (
    r"(?![\d人个次步米字条件只位名户家天年月日号期张笔份台辆倍度斤克岁秒分小周号楼层%‰a-z]|\s?(?:km|kg|m\b))"
)

_PREFIXED = re.compile(
    rf"(?P<sym>{_alt({k for k in _PREFIX if not k[0].isalpha()})}"
    rf"|{_LATIN_BEFORE}(?:{_alt({k for k in _PREFIX if k[0].isalpha()})}))"
    rf"\s?(?P<num>{NUMBER})(?P<mag>\s?(?:k|thousand|million|mn){_LATIN_AFTER})?"
    rf"(?P<tail>\s?(?:{_alt(_ZH_UNITS)}))?"
)

_ZH_SUFFIXED = re.compile(
    rf"(?<![\d.])(?<!\d,)(?P<num>{NUMBER})\s?(?P<unit>{_alt(_ZH_UNITS)})"
    rf"(?:(?P<jiao>[{CN_DIGIT_CHARS}\d])(?:毛|角|(?![\d号日月期天年个次位%点分]))(?:(?P<fen>[{CN_DIGIT_CHARS}\d])分)?)?"
    r"(?:钱)?"
)

_ZH_SMALL = re.compile(rf"(?<![\d{CN_DIGIT_CHARS}十百千万])(?P<jiao>[{CN_DIGIT_CHARS}\d])(?:毛|角)钱?")

_EN_SUFFIXED = re.compile(
    rf"(?<![\d.])(?<!\d,)(?P<num>{ARABIC})(?P<mag>\s?(?:k|thousand|million|mn){_LATIN_AFTER})?"
    rf"\s?(?P<unit>{_alt(_EN_UNITS)}){_LATIN_AFTER}"
)

# "1.2万", "3千", "三千五", "十万八千", "2k": a magnitude is enough of a cue. An amount may follow a
# comma ("换港币，三千港币"), but not a digit and a comma ("1,000" is one number).
_MAGNITUDE_ONLY = re.compile(
    rf"(?<![\d.a-z])(?<!\d,)(?P<num>{NUMBER})(?P<mag>(?<=[\d])\s?(?:k|thousand){_LATIN_AFTER})?{_NOT_MONEY_AFTER}"
)

_CUE = (
    r"(?:转账|转了|转过去|转给|付了|付款|支付了?|扣了|扣款|扣费|扣我|花了|消费了?|借了|还了|还款|取了|取款|"
    r"存了|存款|充值了?|充了|汇了|汇款|额度|金额|余额|收到|退款|退了|罚息|利息|手续费|年费|欠款|欠了|多扣了?|"
    r"charged|paid|spent|withdrew|withdraw|transferred|transfer of|deposited|refund of|refunded|"
    r"balance of|balance is|limit of|amount of|fee of|owe|borrowed)"
)
_CUED = re.compile(
    rf"{_CUE}\s?(?:了|是|为|有|共|:|：|of|is|me|about|around|约|大约|差不多)?\s?(?P<num>{ARABIC})"
    rf"(?![\d号日月期天年个次位%点分:/.\-笔张条单项份台件人岁遍周]|\s?(?:days?|months?|years?|times|installments?|%))"
)

# "23977.28", "1,280.50": two decimals are an amount's own form (not a date, a rate or a version).
_TWO_DECIMALS = re.compile(
    r"(?<![\d.,a-z$¥￥€£:/\-])(?P<num>\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2})(?!\d|[.,]\d|[%‰号日月倍点:/\-]|\s?(?:%|percent|pct))"
)
_RATE_BEFORE = re.compile(r"(?:利率|汇率|年化|收益率|费率|rate|apr|apy)\s?(?:是|为|:|：|of|is)?\s?$")

_CURRENCY = re.compile(
    rf"(?:{_alt({k for k in _CURRENCY_NAMES if not k.isascii()})})"
    rf"|{_LATIN_BEFORE}(?:{_alt({k for k in _CURRENCY_NAMES if k.isascii()})}){_LATIN_AFTER}"
)


def _amount(value: Decimal) -> str:
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return str(value.normalize())
    return str(value.quantize(Decimal("0.01")))


def _magnitude(text: str | None) -> int:
    if not text:
        return 1
    return _MAGNITUDE.get(text.strip(), 1)


def _cents(jiao: str | None, fen: str | None) -> Decimal:
    total = Decimal(0)
    for digit, scale in ((jiao, Decimal("0.1")), (fen, Decimal("0.01"))):
        if digit:
            d = CN_DIGITS.get(digit)
            total += (Decimal(d) if d is not None else Decimal(digit)) * scale
    return total


def _money(start: int, end: int, amount: Decimal, currency: str, bonus: int = 0) -> Candidate:
    return Candidate("money", {"amount": _amount(amount), "currency": currency}, start, end, bonus)


def find_money(norm: str, *, default_currency: str = "CNY") -> list[Candidate]:
    out: list[Candidate] = []
    for m in _PREFIXED.finditer(norm):
        value = parse_number(m["num"])
        if value is None:
            continue
        sym = m["sym"]
        currency = _PREFIX[sym]
        end = m.end()
        tail = m["tail"]
        if tail and _ZH_UNITS.get(tail.strip()) == "CNY" and currency != "CNY" and _is_cjk(sym[0]):
            continue  # "人民币换美元 一万元": the currency word ends a phrase; 一万元 is CNY
        if currency != "CNY" and _is_cjk(sym[0]) and m.start("num") > m.end("sym"):
            continue  # "美元 500": a Chinese currency word before a spaced number is not its prefix
        if (tail and _ZH_UNITS.get(tail.strip()) not in (currency, "CNY") and currency != "CNY") or (
            tail and currency == "CNY" and _ZH_UNITS.get(tail.strip()) != "CNY"
        ):
            end = m.start("tail")
        out.append(_money(m.start(), end, value * _magnitude(m["mag"]), currency, bonus=2))
    for m in _ZH_SUFFIXED.finditer(norm):
        value = parse_number(m["num"])
        if value is None:
            continue
        unit = m["unit"]
        after = norm[m.end()] if m.end() < len(norm) else ""
        if unit == "块" and m["num"] in CN_DIGITS and _is_cjk(after) and after != "钱":
            continue  # 一块去 / 两块蛋糕: "together" or a piece, not money
        if unit == "刀" and m.end() < len(norm) and _is_cjk(norm[m.end()]):
            continue
        cents = _cents(m["jiao"], m["fen"]) if unit in ("块", "块钱", "元", "圆") else Decimal(0)
        end = m.end()
        if m["jiao"] and not cents:
            end = m.start("jiao")
        out.append(_money(m.start(), end, value + cents, _ZH_UNITS[unit], bonus=1))
    for m in _ZH_SMALL.finditer(norm):
        out.append(_money(m.start(), m.end(), _cents(m["jiao"], None), "CNY"))
    for m in _EN_SUFFIXED.finditer(norm):
        value = parse_number(m["num"])
        if value is None:
            continue
        out.append(_money(m.start(), m.end(), value * _magnitude(m["mag"]), _EN_UNITS[m["unit"]], bonus=1))
    for m in _MAGNITUDE_ONLY.finditer(norm):
        num, mag = m["num"], m["mag"]
        if not mag and not any(u in num for u in "百千万亿"):
            continue
        if mag is None and num[-1] in CN_DIGITS and num[-2:-1] == "百" and len(num) == 2:
            continue
        value = parse_number(num)
        if value is None or value == 0:
            continue
        out.append(_money(m.start(), m.end(), value * _magnitude(mag), default_currency))
    for m in _TWO_DECIMALS.finditer(norm):
        if _RATE_BEFORE.search(norm[max(0, m.start() - 12) : m.start()]):
            continue
        value = parse_number(m["num"])
        if value is not None and value > 0:
            out.append(_money(m.start(), m.end(), value, default_currency, bonus=-1))
    for m in _CUED.finditer(norm):
        num = m["num"]
        if len(num.replace(",", "").split(".")[0]) > 9:
            continue  # an account, card or phone number, not an amount
        value = parse_number(num)
        if value is None:
            continue
        out.append(_money(m.start("num"), m.end("num"), value, default_currency))
    return out


def find_currencies(norm: str) -> list[Candidate]:
    return [
        Candidate("currency", _CURRENCY_NAMES[m.group()], m.start(), m.end())
        for m in _CURRENCY.finditer(norm)
    ]


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"
