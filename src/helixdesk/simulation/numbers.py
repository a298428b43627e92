"""Numbers in replies, and which of them the bot had no source for (invented numbers).

A reply's dates (`2026年12月4日`, `Fri 4 Dec 2026`, `2026-12-04`, `2026-12`) and times (`00:25`)
are read as dates and times first; every other number is compared, as an exact decimal, with the
figures the bot may rightly show:

- the customer's own data in the bank: balances, limits, amounts, card and account tails, the
  phone's last digits, numbers in merchant and payee names, counts of periods;
- figures worked out from that data: totals and counts of transactions over the periods a reply
  names, instalment arithmetic, days until a due date;
- what the customer wrote so far (Arabic or Chinese numerals) and exchange rates applied to it;
- the pack's own numbers (FAQ, templates, policies, the lifecycle strategies' texts) and the
  published rates;
- dates of the data, of today, of the days just ahead (delivery, effective dates) and of the
  months around now; times of the data and of the conversation itself.

Numbers inside references (`TX000014C012`, `R2`), list markers (`1. ...`) and counts of the
customer's records next to a count word are not figures the bot could invent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

from helixdesk.actions.rates import Rate
from helixdesk.bank.connector import InstallmentPlan
from helixdesk.simulation.bankdata import CustomerData

CENT = Decimal("0.01")
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_MONTH_NO = {m: i for i, m in enumerate(_MONTHS.split("|"), 1)}
DATE_PATTERNS = (
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号號]"),
    re.compile(
        r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? )?(?P<d>\d{1,2}) (?P<mon>" + _MONTHS + r")[a-z]* (?P<y>\d{4})"
    ),
    re.compile(r"(?P<mon>" + _MONTHS + r")[a-z]* (?P<d>\d{1,2}),? (?P<y>\d{4})"),
    re.compile(r"(?<![\d.])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\d])"),
    re.compile(r"(?<![\d年])(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号號]"),
)
MONTH_PATTERNS = (
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?!\d)"),
    re.compile(r"(?<![\d.])(?P<y>\d{4})-(?P<m>\d{2})(?![\d-])"),
)
TIME = re.compile(r"(?<![\d:])(?P<h>\d{1,2}):(?P<mi>\d{2})(?!\d|:\d)")
NUMBER = re.compile(r"(?<![A-Za-z0-9_.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![A-Za-z0-9_])")
REFERENCE = re.compile(r"\b[A-Za-z]+[-_]?\d[\w-]*|\b\d+[A-Za-z][\w-]*")
LIST_MARKER = re.compile(r"(?m)^\s*\d{1,2}[.、)]\s")
# A count of the customer's own records (or of tries left) next to its count word.
COUNT_AFTER = re.compile(r"^\s*(?:笔|筆|次|similar|transactions?|match(?:es)?|tries|try)(?![A-Za-z])")


def expected_prepayment(plan: InstallmentPlan) -> tuple[Decimal, Decimal]:
    """An early repayment's quote worked out by hand under the pack's example policy (apart from the
    action's own arithmetic): the remaining principal, and the fee of every remaining period."""
    per_period = (plan.principal / plan.periods).quantize(CENT, rounding=ROUND_DOWN)
    remaining = plan.principal - per_period * plan.periods_paid
    fee = (plan.principal * plan.fee_rate_per_period * (plan.periods - plan.periods_paid)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    return remaining, fee


def to_decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


# ---- Chinese numerals in what the customer wrote --------------------------------------------------

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_LARGE = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}
ZH_AMOUNT = re.compile(
    r"(?:\d+(?:\.\d+)?|[零〇一二两兩三四五六七八九十拾百佰千仟])+[十百千万萬亿億kK]*[零〇一二两兩三四五六七八九十拾百佰千仟万萬亿億]*"
)


def zh_amount(text: str) -> Decimal | None:
    """`二十萬` 200000, `3千` 3000, `1.5万` 15000, `五千五` 5500, `10k` 10000; None if not a number."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?[kK]", text):
        return Decimal(text[:-1]) * 1000
    total, section, number = Decimal(0), Decimal(0), Decimal(0)
    last_unit = 0
    i = 0
    while i < len(text):
        ch = text[i]
        lead = re.match(r"\d+(?:\.\d+)?", text[i:])
        if lead:
            number = Decimal(lead.group(0))
            i += len(lead.group(0))
            continue
        if ch in _DIGITS:
            number = Decimal(_DIGITS[ch])
        elif ch in _SMALL:
            unit = _SMALL[ch]
            section += (number or Decimal(1)) * unit
            number, last_unit = Decimal(0), unit
        elif ch in _LARGE:
            total += (section + number) * _LARGE[ch]
            section, number, last_unit = Decimal(0), Decimal(0), _LARGE[ch]
        else:
            return None
        i += 1
    if number and last_unit >= 10 and not re.search(r"[零〇]", text):
        number *= last_unit // 10  # 五千五 = 5500, 一万二 = 12000
    value = total + section + number
    return value if value > 0 else None


def numbers_in(text: str) -> list[Decimal]:
    """Every plain number of a text (thousands separators allowed), as exact decimals."""
    return [to_decimal(m.group(1) + (m.group(2) or "")) for m in NUMBER.finditer(text)]


def customer_numbers(text: str) -> set[Decimal]:
    found = set(numbers_in(text))
    for m in ZH_AMOUNT.finditer(text):
        value = zh_amount(m.group(0))
        if value is not None:
            found.add(value)
    return found


# ---- where legitimate numbers come from ---------------------------------------------------------


def pack_numbers(pack_dir: Path) -> set[Decimal]:
    """Every number written in the pack's FAQ, templates, policies and lifecycle strategies (and
    seconds as minutes)."""
    found: set[Decimal] = set()
    for path in [
        *pack_dir.glob("kb/*.yaml"),
        *pack_dir.glob("nlg/**/*.yaml"),
        *pack_dir.glob("policies/*.yaml"),
        *pack_dir.glob("lifecycle/strategies.yaml"),  # the strategies' texts the bot may say
    ]:
        for n in numbers_in(path.read_text(encoding="utf-8")):
            found.update({n, n / 60, n / 3600} if n >= 60 and n % 60 == 0 else {n})
    return found


# Not figures about anyone's money: the cent a conversion is rounded to.
CONSTANTS = frozenset({CENT})


@dataclass
class Sources:
    """The numbers, dates and times a conversation's replies may rightly contain."""

    numbers: set[Decimal] = field(default_factory=lambda: set(CONSTANTS))
    dates: set[date] = field(default_factory=set)
    times: set[tuple[int, int]] = field(default_factory=set)
    amounts: set[Decimal] = field(default_factory=set)  # from the customer's words
    counts_up_to: int = 0

    def add_customer_text(self, text: str, rates: dict[str, tuple[Decimal, Decimal]]) -> None:
        for n in customer_numbers(text):
            self.numbers.add(n)
            self.amounts.add(n)
            for buy, sell in rates.values():
                for rate in (buy, sell):
                    for x in (n * rate, n / rate):
                        self.numbers.update({x.quantize(CENT, ROUND_HALF_UP), x.quantize(CENT, ROUND_DOWN)})
        for d in _dates_in(text, year_hint=None):
            self.dates.add(d)

    def allow_times(self, start: datetime, end: datetime) -> None:
        t = start.replace(second=0, microsecond=0)
        while t <= end:
            self.times.add((t.hour, t.minute))
            t += timedelta(minutes=1)


def customer_sources(data: CustomerData) -> Sources:
    src = Sources()
    n, d, tm = src.numbers, src.dates, src.times
    c = data.customer
    digits = "".join(ch for ch in c.phone if ch.isdigit())
    n.update({Decimal(digits[-4:]), Decimal(data.age)})
    for a in data.accounts:
        n.update({abs(a.balance), abs(a.available), Decimal(a.number[-4:]), Decimal(a.number)})
        d.add(a.opened_on)
    for card in data.cards:
        n.add(Decimal(card.last4))
        n.update(v for v in (card.credit_limit, card.daily_limit) if v is not None)
    for t in data.transactions:
        n.add(abs(t.amount))
        n.update(numbers_in(t.merchant))
        n.update(numbers_in(t.description or ""))
        when = data.local(t.occurred_at)
        d.add(when.date())
        tm.add((when.hour, when.minute))
    for s in data.statements:
        n.update({s.amount_due, s.minimum_payment, s.paid, s.amount_due - s.paid, s.minimum_payment - s.paid})
        n.add(Decimal((s.due_date - data.today).days))
        # A statement's own dates, the day the next cycle starts, and the next statement's date
        # (the same day a month on: 31 days ahead when today is a statement day).
        d.update({s.statement_date, s.due_date, s.statement_date + timedelta(days=1)})
        d.add(_month_on(s.statement_date))
    for p in data.plans:
        remaining, fee = expected_prepayment(p)
        per = (p.principal / p.periods).quantize(CENT, ROUND_DOWN)
        left = p.periods - p.periods_paid
        n.update({p.principal, Decimal(p.periods), Decimal(p.periods_paid), Decimal(left), per})
        n.update({p.principal - per * (p.periods - 1), per * p.periods_paid, remaining, fee, remaining + fee})
        n.update({p.fee_rate_per_period, p.fee_rate_per_period * 100, p.principal * p.fee_rate_per_period})
        n.add(p.principal * p.fee_rate_per_period * left)
        d.add(p.start_date)
    for tr in data.transfers:
        n.update({abs(tr.amount), *numbers_in(tr.payee_name), *numbers_in(tr.failure_reason or "")})
        tail = "".join(ch for ch in tr.payee_account if ch.isdigit())[-4:]
        if tail:
            n.add(Decimal(tail))
        for moment in (tr.created_at, tr.expected_arrival, tr.completed_at):
            if moment is not None:
                local = data.local(moment)
                d.add(local.date())
                tm.add((local.hour, local.minute))
    src.counts_up_to = len(data.transactions)
    return src


def _month_on(day: date) -> date:
    """The same day of the next month (its last day when the month is shorter)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    last = ((date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def calendar_dates(today: date) -> set[date]:
    """Today, the next few weeks (deliveries, effective dates) and the bounds of nearby months."""
    out = {today + timedelta(days=k) for k in range(-1, 22)}
    first = today.replace(day=1)
    for _ in range(6):
        out.update({first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)})
        first = (first - timedelta(days=1)).replace(day=1)
    return out


def _date_of(m: re.Match[str], year_hint: int | None) -> date | None:
    g = m.groupdict()
    month = _MONTH_NO[g["mon"]] if g.get("mon") else int(g["m"])
    year = int(g["y"]) if g.get("y") else year_hint
    if year is None:
        return None
    try:
        return date(year, month, int(g["d"]))
    except ValueError:
        return None


def _dates_in(text: str, year_hint: int | None) -> list[date]:
    found = []
    for pattern in DATE_PATTERNS:
        for m in pattern.finditer(text):
            day = _date_of(m, year_hint)
            if day is not None:
                found.append(day)
    return found


# ---- judging one reply --------------------------------------------------------------------------


def _period_totals(data: CustomerData, dates: list[date]) -> set[Decimal]:
    """Totals and counts, for all cards and per card, over every period a reply names: between two
    of its dates, from one of them up to today, and over all time."""
    out: set[Decimal] = set()
    ranges: list[tuple[date | None, date | None]] = [(None, None)]
    ranges += [(a, b) for a in dates for b in dates if a <= b] + [(a, None) for a in dates]
    cards = {t.card_last4 for t in data.transactions}
    for since, until in ranges:
        txns = data.between(since, until)
        for subset in [txns, *([t for t in txns if t.card_last4 == c] for c in cards)]:
            out.add(Decimal(len(subset)))
            for debit, credit in data.totals(subset).values():
                out.update({debit, credit})
    return out


def invented(text: str, src: Sources, data: CustomerData | None, today: date) -> list[str]:
    """The numbers, dates and times of a reply that come from none of the sources."""
    bad: list[str] = []
    rest = LIST_MARKER.sub(" ", text)
    dates: list[date] = []
    known = src.dates | calendar_dates(today)
    known_days = {(x.month, x.day) for x in known}
    for pattern in DATE_PATTERNS:
        bare = pattern is DATE_PATTERNS[-1]  # 12月3日: no year
        for m in pattern.finditer(rest):
            day = _date_of(m, today.year)
            if day is None or (((day.month, day.day) not in known_days) if bare else (day not in known)):
                bad.append(m.group(0))
            if day is not None:
                dates.append(day)
        rest = pattern.sub(" ", rest)
    for pattern in MONTH_PATTERNS:
        for m in pattern.finditer(rest):
            y, mo = int(m.group("y")), int(m.group("m"))
            if not any((x.year, x.month) == (y, mo) for x in known):
                bad.append(m.group(0))
        rest = pattern.sub(" ", rest)
    for m in TIME.finditer(rest):
        if (int(m.group("h")), int(m.group("mi"))) not in src.times:
            bad.append(m.group(0))
    rest = TIME.sub(" ", rest)
    rest = REFERENCE.sub(" ", rest)
    derived = _period_totals(data, dates) if data is not None else set()
    for m in NUMBER.finditer(rest):
        value = to_decimal(m.group(1) + (m.group(2) or ""))
        if value in src.numbers or value in derived:
            continue
        after = rest[m.end() : m.end() + 14]
        if value == value.to_integral() and value <= src.counts_up_to and COUNT_AFTER.match(after):
            continue
        bad.append(m.group(0))
    return bad


# ---- one run's sources ---------------------------------------------------------------------------


@dataclass
class NumberCheck:
    """What every reply of a run may rightly show besides the customer's own data: the pack's
    numbers, the published exchange rates and the times they were set, and the minutes of the run
    itself (times shown "as of now")."""

    pack: set[Decimal]
    rates: dict[str, tuple[Decimal, Decimal]]
    rate_times: set[tuple[int, int]]
    tz: tzinfo
    started: datetime

    @classmethod
    def build(cls, pack_dir: Path, rates: Iterable[Rate], tz: tzinfo, started: datetime) -> NumberCheck:
        published = list(rates)
        return cls(
            pack=pack_numbers(pack_dir),
            rates={r.currency: (r.buy, r.sell) for r in published},
            rate_times={(r.as_of.astimezone(tz).hour, r.as_of.astimezone(tz).minute) for r in published},
            tz=tz,
            started=started,
        )

    def today(self) -> date:
        return datetime.now(self.tz).date()

    def sources(self, said: Iterable[str], data: CustomerData | None) -> Sources:
        """The sources of a reply after the customer wrote `said`, for a customer holding `data`
        (None: a visitor)."""
        src = customer_sources(data) if data else Sources(counts_up_to=5)
        src.counts_up_to = max(src.counts_up_to, 5)
        src.numbers |= self.pack
        src.numbers.update(v for pair in self.rates.values() for v in pair)
        src.times |= self.rate_times
        src.allow_times(
            self.started.astimezone(self.tz) - timedelta(minutes=1),
            datetime.now(self.tz) + timedelta(minutes=31),
        )
        for text in said:
            src.add_customer_text(text, self.rates)
        return src

    def invented_in(
        self, replies: Iterable[str], said: Iterable[str], data: CustomerData | None
    ) -> list[str]:
        """The invented numbers of these replies, each once, in order."""
        src, today = self.sources(said, data), self.today()
        return list(dict.fromkeys(n for reply in replies for n in invented(reply, src, data, today)))
