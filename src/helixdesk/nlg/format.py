"""Locale-aware formatting of money, dates and times for replies (zh-Hans, zh-Hant, en).

Amounts are `Decimal` (or decimal strings) and are never rounded here beyond the currency's own
minor unit; the numbers a customer reads are exactly the numbers an action computed.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal

from helixdesk.bank.money import exponent

_CURRENCY_NAMES: dict[str, dict[str, str]] = {
    "zh-Hans": {
        "CNY": "元", "USD": "美元", "HKD": "港元", "EUR": "欧元", "GBP": "英镑", "JPY": "日元",
        "AUD": "澳元", "CAD": "加元", "SGD": "新加坡元", "CHF": "瑞士法郎", "TWD": "新台币",
        "MOP": "澳门元", "KRW": "韩元", "NZD": "新西兰元", "THB": "泰铢",
    },
    "zh-Hant": {
        "CNY": "人民幣", "USD": "美元", "HKD": "港元", "EUR": "歐元", "GBP": "英鎊", "JPY": "日圓",
        "AUD": "澳元", "CAD": "加元", "SGD": "新加坡元", "CHF": "瑞士法郎", "TWD": "新台幣",
        "MOP": "澳門元", "KRW": "韓圜", "NZD": "紐西蘭元", "THB": "泰銖",
    },
}  # fmt: skip

# A currency's name in a sentence ("美元（USD）兑人民币"), not after an amount.
_CURRENCY_WORDS: dict[str, dict[str, str]] = {
    "zh-Hans": {**_CURRENCY_NAMES["zh-Hans"], "CNY": "人民币"},
    "zh-Hant": _CURRENCY_NAMES["zh-Hant"],
    "en": {
        "CNY": "Chinese yuan", "USD": "US dollar", "HKD": "Hong Kong dollar", "EUR": "euro",
        "GBP": "pound sterling", "JPY": "Japanese yen", "AUD": "Australian dollar",
        "CAD": "Canadian dollar", "SGD": "Singapore dollar", "CHF": "Swiss franc",
        "TWD": "New Taiwan dollar", "MOP": "Macau pataca", "KRW": "Korean won",
        "NZD": "New Zealand dollar", "THB": "Thai baht",
    },
}  # fmt: skip

# The bank's time zone as customers call it; other zones are shown as "UTC+08:00".
_ZONE_NAMES: dict[str, dict[str, str]] = {
    "Asia/Shanghai": {"zh-Hans": "北京时间", "zh-Hant": "北京時間", "en": "Beijing time"},
    "Asia/Hong_Kong": {"zh-Hans": "香港时间", "zh-Hant": "香港時間", "en": "Hong Kong time"},
    "Asia/Macau": {"zh-Hans": "澳门时间", "zh-Hant": "澳門時間", "en": "Macau time"},
    "Asia/Taipei": {"zh-Hans": "台北时间", "zh-Hant": "台北時間", "en": "Taipei time"},
    "Asia/Singapore": {"zh-Hans": "新加坡时间", "zh-Hant": "新加坡時間", "en": "Singapore time"},
    "Europe/London": {"zh-Hans": "伦敦时间", "zh-Hant": "倫敦時間", "en": "London time"},
}

_WEEKDAYS = {
    "zh-Hans": "一二三四五六日",
    "zh-Hant": "一二三四五六日",
}


def _decimal(value: Decimal | str | int | float) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money must be a Decimal or a decimal string, never a float")
    return Decimal(str(value))


def number(value: Decimal | str | int, places: int | None = None) -> str:
    """Group thousands; keep the given number of decimal places (or the value's own)."""
    d = _decimal(value)
    if places is not None:
        d = d.quantize(Decimal(1).scaleb(-places))
    sign = "-" if d < 0 else ""
    d = abs(d)
    text = f"{d:f}"
    whole, _, frac = text.partition(".")
    grouped = f"{int(whole):,}"
    return f"{sign}{grouped}.{frac}" if frac else f"{sign}{grouped}"


def money(value: Decimal | str | int, currency: str, language: str) -> str:
    """`1,234.50元`, `1,234.50 美元`, `CNY 1,234.50` — sign kept, exact to the minor unit."""
    text = number(value, exponent(currency))
    if language in _CURRENCY_NAMES:
        name = _CURRENCY_NAMES[language].get(currency.upper(), currency.upper())
        if currency.upper() == "CNY" and language == "zh-Hans":
            return f"{text}元"
        return f"{text} {name}"
    return f"{currency.upper()} {text}"


def day(value: date | datetime | str, language: str) -> str:
    d = _to_date(value)
    if language in _WEEKDAYS:
        weekday = _WEEKDAYS[language][d.weekday()]
        prefix = "週" if language == "zh-Hant" else "周"
        return f"{d.year}年{d.month}月{d.day}日（{prefix}{weekday}）"
    return d.strftime("%a %-d %b %Y")


def moment(value: datetime | str, language: str, tz: tzinfo | None = None) -> str:
    """A date and time in the reply language; an aware time is shown in `tz` (the bank's local
    time), a naive one as it is."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if tz is not None and dt.tzinfo is not None:
        dt = dt.astimezone(tz)
    if language in _WEEKDAYS:
        return f"{dt.year}年{dt.month}月{dt.day}日 {dt:%H:%M}"
    return dt.strftime("%-d %b %Y, %H:%M")


def currency_name(code: str, language: str) -> str:
    """A currency in words: 美元 (zh-Hans), 美元 (zh-Hant), US dollar; else the code itself."""
    names = _CURRENCY_WORDS.get(language, _CURRENCY_WORDS["en"])
    return names.get(code.upper(), code.upper())


def zone_name(tz: tzinfo | None, language: str, at: datetime | None = None) -> str:
    """The bank's time zone in words ("北京时间", "Hong Kong time"), else its offset ("UTC+08:00")."""
    if tz is None:
        return "UTC"
    key = str(getattr(tz, "key", ""))
    if key in _ZONE_NAMES:
        return _ZONE_NAMES[key].get(language, _ZONE_NAMES[key]["en"])
    offset = (at or datetime(2000, 1, 1)).replace(tzinfo=tz).utcoffset()
    if offset is None:
        return key or "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def percent(value: Decimal | str, language: str) -> str:
    """An exact rate as a percentage: Decimal("0.0060") -> "0.60%"."""
    d = _decimal(value) * 100
    text = f"{d.normalize():f}"
    if "." not in text:
        text += ".00"
    elif len(text.split(".")[1]) < 2:
        text += "0"
    return f"{text}%"


def masked_phone(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    return f"{'*' * 4}{digits[-4:]}" if len(digits) >= 4 else "****"


def _to_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(value).date()
