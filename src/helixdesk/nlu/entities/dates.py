"""Dates and date ranges, resolved against the turn's reference time.

The value is a half-open range `{"start": ISO, "end": ISO, "grain": ...}` in naive local time:
`[start, end)`, so "今天" is today 00:00 to tomorrow 00:00. Conventions:

- A day without a month ("5号", "the 5th") is in the reference month; a month without a year is in
  the reference year ("3月5日", "March 5"; "last March" is the most recent past March).
- "上周五" / "last Friday" is the Friday of the previous calendar week (weeks start on Monday);
  "这周五" / "this Friday" is in the current week; a bare weekday ("周五", "on Friday") is the most
  recent one on or before the reference day, since customers mostly report what already happened.
- "最近三天" / "past 3 days" is a rolling window that ends at the end of today.
- A week, month or year that holds today ends at the end of today: "这个月" / "this month" is the
  1st of the month up to today, not to the month's last day (nothing after today has happened).
- The reference time is the bank's local wall-clock time (the caller converts it to the bank's
  time zone), so "今天" on a server running in UTC is still the bank's today.
- "5/3" is month/day (May 3) unless `day_first=True`, or unless the first number cannot be a month.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from helixdesk.nlu.entities.base import Candidate
from helixdesk.nlu.entities.numbers import parse_number

_CN = "零〇一二两三四五六七八九十"
_DNUM = rf"(?:\d{{1,2}}|[{_CN}]{{1,3}})"

# part of day → (start hour, end hour); the end may pass midnight.
_POD_HOURS: dict[str, tuple[int, int]] = {
    "凌晨": (0, 6), "清晨": (5, 9), "早上": (6, 12), "早晨": (6, 12), "上午": (6, 12), "中午": (11, 14),
    "下午": (12, 18), "傍晚": (17, 20), "晚上": (18, 24), "夜里": (22, 30), "夜间": (22, 30),
    "半夜": (22, 30), "深夜": (22, 30),
    "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 24), "night": (22, 30),
}  # fmt: skip
_ZH_DAY_POD: dict[str, tuple[int, str]] = {
    "今早": (0, "早上"), "今晨": (0, "早上"), "今晚": (0, "晚上"), "昨晚": (-1, "晚上"),
    "昨夜": (-1, "半夜"), "明早": (1, "早上"), "明晚": (1, "晚上"),
}  # fmt: skip
_ZH_REL_DAY: dict[str, int] = {
    "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨儿": -1, "今天": 0, "今日": 0, "今儿": 0,
    "当天": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3,
}  # fmt: skip
_ZH_REL_YEAR: dict[str, int] = {"大前": -3, "前": -2, "去": -1, "今": 0, "明": 1, "后": 2}
_ZH_WEEKDAY: dict[str, int] = {
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
    "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6,
}  # fmt: skip
# 呢 and 今 are Cantonese for "this" (呢个月, 今个礼拜).
_ZH_SHIFT: dict[str, int] = {
    "上上": -2,
    "上": -1,
    "这": 0,
    "本": 0,
    "当": 0,
    "呢": 0,
    "今": 0,
    "下": 1,
    "下下": 2,
}

_POD_ZH = "凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|夜间|半夜|深夜"

_ZH_DATE = re.compile(
    rf"(?<![\d{_CN}百千万第])(?:"
    # relative day, week, weekday
    rf"(?P<drel>{'|'.join(sorted(_ZH_REL_DAY, key=len, reverse=True))})"
    r"|(?P<wk>(?:上上|上|这|本|呢|今个|下下|下)个?(?:周|星期|礼拜))(?P<wd>[一二三四五六日天1-7](?![\d十百千万块元]))?"
    r"|(?:周|星期|礼拜)(?P<wd2>[一二三四五六日天1-7])(?![\d十百千万块元])"
    # absolute: year? month? day?
    rf"|(?:(?P<y>\d{{4}}|[零〇一二三四五六七八九]{{4}})年|(?P<yrel>大前|前|去|今|明|后)年)?"
    rf"(?:(?P<m>{_DNUM})月份?|(?P<mrel>上上个?|上个?|这个?|呢个|今个|本|当|下下个?|下个?)月)?"
    rf"(?:(?P<d>{_DNUM})[日号](?![线楼店门窗柜机床房位码车楼])|(?<=月)(?P<d2>{_DNUM})(?![\d{_CN}个]))?"
    rf")(?P<p>{_POD_ZH})?"
    rf"|(?P<dp>{'|'.join(_ZH_DAY_POD)})"
)

_ISO = re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d\d)(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?![\d])")
_SLASH = re.compile(r"(?<![\d/.\-$¥￥:])(?P<a>\d{1,2})/(?P<b>\d{1,2})(?:/(?P<y>\d{4}|\d{2}))?(?![\d/%])")

_ZH_RECENT = re.compile(
    r"(?:最近|近|过去的?|这)(?P<n>\d+|[一二两三四五六七八九十几]{1,3})个?(?P<unit>天|日|周|星期|礼拜|月|年)"
    r"(?:内|以来|里|之内)?"
)
_ZH_AGO = re.compile(
    rf"(?<![\d{_CN}])(?P<n>\d+|[一二两三四五六七八九十几]{{1,3}})(?P<ge>个)?"
    r"(?P<unit>天|日|周|星期|礼拜|月|年)(?:以前|之前|前)"
)

_MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MON_FULL = "|".join(k for k in _MONTHS if len(k) > 4 or k == "june" or k == "july")
_WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
_NUM_WORDS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2, "couple of": 2,
    "a few": 3, "few": 3, "several": 3,
}  # fmt: skip
_NW = "|".join(sorted((re.escape(k) for k in _NUM_WORDS), key=len, reverse=True))

_EN_MD = re.compile(
    rf"(?<![a-z])(?P<mon>{_MON})\.?\s(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?![\d:a-z])(?:,?\s(?P<y>(?:19|20)\d\d))?"
    rf"(?![\d])"
)
_EN_DM = re.compile(
    rf"(?<![\d.$])(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s(?:of\s)?(?P<mon>{_MON})(?![a-z])\.?"
    rf"(?:,?\s(?P<y>(?:19|20)\d\d)(?![\d]))?"
)
_EN_MONTH = re.compile(
    rf"(?<![a-z])(?:(?P<which>in|since|during|last|this|early|late|mid|end of)\s(?P<mon>{_MON_FULL})(?![a-z])"
    rf"(?:\s(?P<y>(?:19|20)\d\d))?|(?P<mon2>{_MON_FULL}|may)\s(?P<y2>(?:19|20)\d\d))(?![\d])"
)
_EN_THE_DAY = re.compile(r"(?<![a-z])(?:on\s)?the\s(?P<d>\d{1,2})(?:st|nd|rd|th)(?![a-z\d])")
_EN_REL = re.compile(
    r"(?<![a-z])(?P<rel>the day before yesterday|day before yesterday|the day after tomorrow|"
    r"yesterday|today|tomorrow|tonight|last night|this morning|this afternoon|this evening|earlier today)"
    r"(?:\s(?P<pod>morning|afternoon|evening|night))?(?![a-z])"
)
_EN_WEEKDAY = re.compile(
    rf"(?<![a-z])(?:(?P<which>last|this|next|on|past|previous)\s)?(?P<wd>{'|'.join(_WEEKDAYS)})"
    r"(?:\s(?P<pod>morning|afternoon|evening|night))?(?![a-z])"
)
_EN_PERIOD = re.compile(
    r"(?<![a-z])(?P<which>last|this|next|previous|current|past)\s(?P<unit>week|month|year)(?![a-z])"
)
_EN_AGO = re.compile(
    rf"(?<![a-z])(?P<n>\d+|{_NW})\s(?P<unit>days?|weeks?|months?|years?)\s(?:ago|back|before)(?![a-z])"
)
_EN_LAST_N = re.compile(
    rf"(?<![a-z])(?:in\s)?(?:the\s)?(?:last|past|previous)\s(?P<n>\d+|{_NW})\s"
    r"(?P<unit>days|weeks|months|years)(?![a-z])"
)


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _range(start: datetime, end: datetime, grain: str) -> dict[str, Any]:
    return {"start": _iso(start), "end": _iso(end), "grain": grain}


def _day(d: date, pod: str | None = None) -> dict[str, Any]:
    start = datetime.combine(d, time())
    if pod:
        hours = _POD_HOURS[pod]
        return _range(start + timedelta(hours=hours[0]), start + timedelta(hours=hours[1]), "part_of_day")
    return _range(start, start + timedelta(days=1), "day")


def _up_to_today(value: dict[str, Any], today: date) -> dict[str, Any]:
    """A week, month or year that holds today, cut at the end of today ("this month" so far)."""
    if value["grain"] not in ("week", "month", "year"):
        return value
    start = datetime.fromisoformat(value["start"])
    end = datetime.fromisoformat(value["end"])
    tomorrow = datetime.combine(today + timedelta(days=1), time())
    if start.date() <= today and end > tomorrow:
        return {**value, "end": _iso(tomorrow)}
    return value


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _month(year: int, month: int) -> dict[str, Any]:
    ny, nm = _add_months(year, month, 1)
    return _range(datetime(year, month, 1), datetime(ny, nm, 1), "month")


def _year(year: int) -> dict[str, Any]:
    return _range(datetime(year, 1, 1), datetime(year + 1, 1, 1), "year")


def _week(monday: date) -> dict[str, Any]:
    start = datetime.combine(monday, time())
    return _range(start, start + timedelta(days=7), "week")


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _valid_day(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _small(text: str | None) -> int | None:
    """A small count or day number: '5', '十五', '两', '几' (a few = 3)."""
    if not text:
        return None
    if text == "几":
        return 3
    if text in _NUM_WORDS:
        return _NUM_WORDS[text]
    value = parse_number(text)
    if value is None or value != value.to_integral_value():
        return None
    return int(value)


def _rolling(today: date, n: int, unit: str) -> dict[str, Any] | None:
    if n <= 0 or n > 1000:
        return None
    end = datetime.combine(today + timedelta(days=1), time())
    if unit == "day":
        start_day = today - timedelta(days=n - 1)
    elif unit == "week":
        start_day = today - timedelta(days=7 * n - 1)
    else:
        months = n if unit == "month" else 12 * n
        y, m = _add_months(today.year, today.month, -months)
        start_day = date(y, m, min(today.day, calendar.monthrange(y, m)[1])) + timedelta(days=1)
    return _range(datetime.combine(start_day, time()), end, unit)


def _ago(today: date, n: int, unit: str) -> dict[str, Any] | None:
    if n <= 0 or n > 1000:
        return None
    if unit == "day":
        return _day(today - timedelta(days=n))
    if unit == "week":
        return _week(_monday(today) - timedelta(days=7 * n))
    if unit == "month":
        y, m = _add_months(today.year, today.month, -n)
        return _month(y, m)
    return _year(today.year - n)


_ZH_UNIT = {
    "天": "day",
    "日": "day",
    "周": "week",
    "星期": "week",
    "礼拜": "week",
    "月": "month",
    "年": "year",
}


def _zh_absolute(m: re.Match[str], today: date) -> dict[str, Any] | None:
    year, month = today.year, today.month
    has_year = has_month = False
    if m["y"]:
        y = m["y"] if m["y"].isdigit() else "".join(str(parse_number(c) or 0) for c in m["y"])
        year, has_year = int(y), True
    elif m["yrel"]:
        year, has_year = today.year + _ZH_REL_YEAR[m["yrel"]], True
    if m["m"]:
        mv = _small(m["m"])
        if mv is None or not 1 <= mv <= 12:
            return None
        month, has_month = mv, True
    elif m["mrel"]:
        shift = _ZH_SHIFT[m["mrel"].rstrip("个")]
        year, month = _add_months(year, month, shift)
        has_month = True
    day_text = m["d"] or m["d2"]
    pod = m["p"]
    if day_text:
        dv = _small(day_text)
        if dv is None or not _valid_day(year, month, dv):
            return None
        return _day(date(year, month, dv), pod)
    if pod:
        return None  # "3月晚上" is not a date we can place
    if has_month:
        return _month(year, month)
    if has_year:
        return _year(year)
    return None


def _zh_date(m: re.Match[str], today: date) -> dict[str, Any] | None:
    if m["dp"]:
        shift, pod = _ZH_DAY_POD[m["dp"]]
        return _day(today + timedelta(days=shift), pod)
    pod = m["p"]
    if m["drel"]:
        return _day(today + timedelta(days=_ZH_REL_DAY[m["drel"]]), pod)
    if m["wk"]:
        prefix = m["wk"].rstrip("周星期礼拜").rstrip("个")
        monday = _monday(today) + timedelta(days=7 * _ZH_SHIFT[prefix])
        if m["wd"]:
            return _day(monday + timedelta(days=_ZH_WEEKDAY[m["wd"]]), pod)
        return None if pod else _week(monday)
    if m["wd2"]:
        wd = _ZH_WEEKDAY[m["wd2"]]
        return _day(today - timedelta(days=(today.weekday() - wd) % 7), pod)
    return _zh_absolute(m, today)


def find_dates(norm: str, reference: datetime, *, day_first: bool = False) -> list[Candidate]:
    today = reference.date()
    out: list[Candidate] = []

    def add(m: re.Match[str], value: dict[str, Any] | None) -> None:
        if value is not None and m.end() > m.start():
            out.append(Candidate("date", _up_to_today(value, today), m.start(), m.end()))

    if _has_cjk_date_cue(norm):
        for m in _ZH_DATE.finditer(norm):
            if m.end() > m.start():
                add(m, _zh_date(m, today))
        for m in _ZH_RECENT.finditer(norm):
            n = _small(m["n"])
            add(m, _rolling(today, n, _ZH_UNIT[m["unit"]]) if n else None)
        for m in _ZH_AGO.finditer(norm):
            n = _small(m["n"])
            unit = _ZH_UNIT[m["unit"]]
            if unit == "month" and not m["ge"]:
                continue  # "3月前" is "before March", not "three months ago"
            add(m, _ago(today, n, unit) if n else None)
    if any(map(str.isdigit, norm)):  # both tests in C, not a generator per character
        for m in _ISO.finditer(norm):
            y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
            add(m, _day(date(y, mo, d)) if _valid_day(y, mo, d) else None)
        for m in _SLASH.finditer(norm):
            a, b = int(m["a"]), int(m["b"])
            mo, d = (b, a) if day_first or a > 12 else (a, b)
            y = today.year if not m["y"] else int(m["y"]) + (2000 if len(m["y"]) == 2 else 0)
            add(m, _day(date(y, mo, d)) if _valid_day(y, mo, d) else None)
    if _LOWER_LATIN.search(norm):  # in C, not a generator per character
        _english(norm, today, add)
    return out


def _english(norm: str, today: date, add: Any) -> None:
    for m in _EN_MD.finditer(norm):
        y = int(m["y"]) if m["y"] else today.year
        mo, d = _MONTHS[m["mon"]], int(m["d"])
        add(m, _day(date(y, mo, d)) if _valid_day(y, mo, d) else None)
    for m in _EN_DM.finditer(norm):
        y = int(m["y"]) if m["y"] else today.year
        mo, d = _MONTHS[m["mon"]], int(m["d"])
        add(m, _day(date(y, mo, d)) if _valid_day(y, mo, d) else None)
    for m in _EN_MONTH.finditer(norm):
        if m["mon2"]:
            add(m, _month(int(m["y2"]), _MONTHS[m["mon2"]]))
            continue
        mo = _MONTHS[m["mon"]]
        if m["y"]:
            year = int(m["y"])
        elif m["which"] == "last":
            year = today.year if mo < today.month else today.year - 1
        else:
            year = today.year
        add(m, _month(year, mo))
    for m in _EN_THE_DAY.finditer(norm):
        d = int(m["d"])
        add(m, _day(date(today.year, today.month, d)) if _valid_day(today.year, today.month, d) else None)
    for m in _EN_REL.finditer(norm):
        rel, pod = m["rel"], m["pod"]
        shift = {
            "the day before yesterday": -2, "day before yesterday": -2, "the day after tomorrow": 2,
            "yesterday": -1, "tomorrow": 1, "last night": -1,
        }.get(rel, 0)  # fmt: skip
        fixed = {"tonight": "evening", "last night": "night", "this morning": "morning",
                 "this afternoon": "afternoon", "this evening": "evening"}.get(rel)  # fmt: skip
        if fixed and pod:
            continue
        add(m, _day(today + timedelta(days=shift), fixed or pod))
    for m in _EN_WEEKDAY.finditer(norm):
        wd, which = _WEEKDAYS[m["wd"]], m["which"]
        if which in ("last", "previous"):
            day = _monday(today) - timedelta(days=7) + timedelta(days=wd)
        elif which == "this":
            day = _monday(today) + timedelta(days=wd)
        elif which == "next":
            day = _monday(today) + timedelta(days=7 + wd)
        else:
            day = today - timedelta(days=(today.weekday() - wd) % 7)
        add(m, _day(day, m["pod"]))
    for m in _EN_PERIOD.finditer(norm):
        which, unit = m["which"], m["unit"]
        if which == "past":
            add(m, _rolling(today, 1, unit))
            continue
        shift = {"last": -1, "previous": -1, "next": 1}.get(which, 0)
        if unit == "week":
            add(m, _week(_monday(today) + timedelta(days=7 * shift)))
        elif unit == "month":
            y, mo = _add_months(today.year, today.month, shift)
            add(m, _month(y, mo))
        else:
            add(m, _year(today.year + shift))
    for m in _EN_AGO.finditer(norm):
        n = _small(m["n"])
        add(m, _ago(today, n, m["unit"].rstrip("s")) if n else None)
    for m in _EN_LAST_N.finditer(norm):
        n = _small(m["n"])
        add(m, _rolling(today, n, m["unit"].rstrip("s")) if n else None)


_LOWER_LATIN = re.compile("[a-z]")
_CJK_DATE_CHARS = frozenset("年月日号天周星期礼拜晚早晨前近今昨明后凌午夜")


def _has_cjk_date_cue(norm: str) -> bool:
    return not _CJK_DATE_CHARS.isdisjoint(norm)
