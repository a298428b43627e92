"""Exchange rates the bank publishes (table `exchange_rates`) and the get_exchange_rate action.

Rates are CNY per 1 unit of the foreign currency, stored as exact decimal text: `buy` is what the
bank pays when it buys the currency from the customer, `sell` what the customer pays when buying it.
The action converts both ways: an amount of foreign currency into CNY (x rate) and an amount of
CNY into the foreign currency (/ rate), each at the rate of the side the customer is on.
They change only through `RateService` (CLI `helixdesk rates ...`, API `PUT /api/v1/rates/{cur}`).
A missing rate is an error (`unknown_currency`); an old one is returned flagged `stale`, never invented.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.actions.base import ActionContext, ActionInput, ActionNotFoundError, ActionOutput, ActionSpec
from helixdesk.actions.models import ExchangeRate
from helixdesk.bank.money import exponent
from helixdesk.core.errors import ValidationFailedError
from helixdesk.db.session import reading, transaction

BASE = "CNY"
CENT = Decimal("0.01")
MAX_RATE = Decimal(100000)
CSV_COLUMNS = ("currency", "buy", "sell", "as_of")

# Demo figures only (CNY per 1 unit); `rates seed-demo` labels them source "demo".
DEMO_RATES: dict[str, tuple[str, str]] = {
    "USD": ("7.1012", "7.1308"),
    "EUR": ("7.6843", "7.7412"),
    "GBP": ("8.9450", "9.0108"),
    "HKD": ("0.9118", "0.9154"),
    "JPY": ("0.046721", "0.047065"),
    "AUD": ("4.6502", "4.6845"),
    "SGD": ("5.2870", "5.3241"),
}


class RateError(ValidationFailedError):
    code = "invalid_rate"


@dataclass(frozen=True, slots=True)
class Rate:
    currency: str
    base: str
    buy: Decimal
    sell: Decimal
    as_of: datetime
    source: str
    updated_by: str
    updated_at: datetime

    def stale(self, now: datetime, max_age_hours: int) -> bool:
        """Older than the bank allows, or dated in the future (a clock or feed error)."""
        age = now - self.as_of
        return age > timedelta(hours=max_age_hours) or age < timedelta(0)


def _rate(r: ExchangeRate) -> Rate:
    return Rate(
        currency=r.currency,
        base=r.base,
        buy=Decimal(r.buy),
        sell=Decimal(r.sell),
        as_of=r.as_of,
        source=r.source,
        updated_by=r.updated_by,
        updated_at=r.updated_at,
    )


def check_currency(text: str) -> str:
    cur = text.strip().upper()
    if len(cur) != 3 or not cur.isalpha() or not cur.isascii():
        raise RateError(f"currency must be a 3-letter ISO code, not {text!r}", code="invalid_currency")
    if cur == BASE:
        raise RateError(f"{BASE} is the base currency", code="invalid_currency")
    return cur


def parse_rate(text: str, name: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation as e:
        raise RateError(f"{name} must be a decimal number, not {text!r}") from e
    if not value.is_finite() or value <= 0 or value > MAX_RATE:
        raise RateError(f"{name} must be a positive number up to {MAX_RATE}, not {text!r}")
    return value


def parse_as_of(text: str | None, default: datetime) -> datetime:
    if text is None or not str(text).strip():
        return default
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError as e:
        raise RateError(f"as_of must be an ISO date-time like 2026-11-23T09:30:00+08:00, not {text!r}") from e
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class RateService:
    """Reads and writes the rate table. Every write is one transaction (all-or-nothing)."""

    def __init__(self, *, sessions: sessionmaker[Session], max_age_hours: int = 24) -> None:
        self._sessions = sessions
        # A rate older than this is shown as stale (the pack's `bank.rates_max_age_hours`).
        self.max_age_hours = max_age_hours

    def all(self) -> list[Rate]:
        with reading(self._sessions) as s:
            return [_rate(r) for r in s.scalars(select(ExchangeRate).order_by(ExchangeRate.currency))]

    def get(self, currency: str) -> Rate:
        cur = check_currency(currency)
        with reading(self._sessions) as s:
            row = s.scalar(select(ExchangeRate).where(ExchangeRate.currency == cur))
            if row is None:
                raise ActionNotFoundError(f"the bank publishes no rate for {cur}", code="unknown_currency")
            return _rate(row)

    def set(
        self,
        currency: str,
        *,
        buy: Decimal | str,
        sell: Decimal | str,
        as_of: datetime,
        source: str,
        updated_by: str,
    ) -> Rate:
        row = _validated(currency, str(buy), str(sell), as_of)
        with transaction(self._sessions) as s:
            return _upsert(s, *row, source=source, updated_by=updated_by)

    def import_csv(self, text: str, *, source: str, updated_by: str, now: datetime) -> list[Rate]:
        """CSV with header `currency,buy,sell[,as_of]`. Any bad line: nothing is written; every error
        is reported with its line number (`rates_import_invalid`)."""
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in CSV_COLUMNS[:3] if c not in header]
        if missing:
            raise RateError(
                f"line 1: the header needs columns {', '.join(CSV_COLUMNS)}; missing {', '.join(missing)}",
                code="rates_import_invalid",
            )
        rows: list[tuple[str, Decimal, Decimal, datetime]] = []
        errors: list[str] = []
        seen: dict[str, int] = {}
        for record in reader:
            line = reader.line_num
            clean = {(k or "").strip(): (v or "").strip() for k, v in record.items()}
            try:
                row = _validated(
                    clean.get("currency", ""),
                    clean.get("buy", ""),
                    clean.get("sell", ""),
                    None,
                    now,
                    clean.get("as_of"),
                )
            except RateError as e:
                errors.append(f"line {line}: {e.detail}")
                continue
            if row[0] in seen:
                errors.append(f"line {line}: {row[0]} already given on line {seen[row[0]]}")
                continue
            seen[row[0]] = line
            rows.append(row)
        if errors:
            raise RateError("; ".join(errors), code="rates_import_invalid")
        if not rows:
            raise RateError("the file has no rates", code="rates_import_invalid")
        with transaction(self._sessions) as s:
            return [_upsert(s, *row, source=source, updated_by=updated_by) for row in rows]

    def seed_demo(self, *, as_of: datetime, updated_by: str = "seed") -> list[Rate]:
        with transaction(self._sessions) as s:
            return [
                _upsert(s, cur, Decimal(b), Decimal(se), as_of, source="demo", updated_by=updated_by)
                for cur, (b, se) in DEMO_RATES.items()
            ]


def _validated(
    currency: str,
    buy: str,
    sell: str,
    as_of: datetime | None,
    now: datetime | None = None,
    as_of_text: str | None = None,
) -> tuple[str, Decimal, Decimal, datetime]:
    cur = check_currency(currency)
    b, s = parse_rate(buy, "buy"), parse_rate(sell, "sell")
    if b > s:
        raise RateError(f"{cur}: buy {b} is above sell {s}")
    when = as_of if as_of is not None else parse_as_of(as_of_text, now or datetime.now(UTC))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return cur, b, s, when


def _upsert(
    s: Session, cur: str, buy: Decimal, sell: Decimal, as_of: datetime, *, source: str, updated_by: str
) -> Rate:
    row = s.scalar(select(ExchangeRate).where(ExchangeRate.currency == cur).with_for_update())
    now = datetime.now(UTC)
    if row is None:
        row = ExchangeRate(currency=cur, base=BASE)
        s.add(row)
    row.buy, row.sell, row.as_of = str(buy), str(sell), as_of
    row.source, row.updated_by, row.updated_at = source[:64], updated_by[:64], now
    s.flush()
    return _rate(row)


# --- the action --------------------------------------------------------------------------------


class RateInput(ActionInput):
    currency: str = Field(min_length=3, max_length=3)
    amount: Decimal | None = Field(default=None, gt=0, description="An amount in the foreign currency")
    base_amount: Decimal | None = Field(
        default=None, gt=0, description="An amount in CNY to convert into the foreign currency"
    )


class RateResult(ActionOutput):
    """Which rate applies: the customer buying foreign currency is the bank selling it (`sell`);
    the customer selling it is the bank buying it (`buy`). Every converted figure is rounded once,
    ROUND_HALF_UP, to the minor unit of the currency it is in (`step`: 0.01, or 1 for JPY)."""

    currency: str
    base: str
    buy: Decimal
    sell: Decimal
    as_of: datetime
    source: str
    stale: bool
    age_hours: Decimal
    max_age_hours: int
    amount: Decimal | None
    base_if_customer_sells: Decimal | None  # amount x buy, to the cent (ROUND_HALF_UP)
    base_if_customer_buys: Decimal | None  # amount x sell, to the cent (ROUND_HALF_UP)
    base_amount: Decimal | None
    foreign_if_customer_buys: Decimal | None  # base_amount / sell: what that much CNY buys
    foreign_if_customer_sells: Decimal | None  # base_amount / buy: what to sell to receive it
    step: Decimal  # the foreign currency's minor unit (0.01; 1 for JPY and KRW)
    base_step: Decimal


def _minor(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def get_exchange_rate(ctx: ActionContext, p: RateInput) -> RateResult:
    rate = RateService(sessions=ctx.sessions).get(p.currency)
    age = ctx.now - rate.as_of
    max_age = ctx.policies.bank.rates_max_age_hours
    step, base_step = _minor(rate.currency), _minor(rate.base)
    amount, base_amount = p.amount, p.base_amount
    return RateResult(
        currency=rate.currency,
        base=rate.base,
        buy=rate.buy,
        sell=rate.sell,
        as_of=rate.as_of,
        source=rate.source,
        stale=rate.stale(ctx.now, max_age),
        age_hours=(Decimal(int(age.total_seconds())) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        max_age_hours=max_age,
        amount=amount,
        base_if_customer_sells=None
        if amount is None
        else (amount * rate.buy).quantize(base_step, ROUND_HALF_UP),
        base_if_customer_buys=None
        if amount is None
        else (amount * rate.sell).quantize(base_step, ROUND_HALF_UP),
        base_amount=base_amount,
        foreign_if_customer_buys=None
        if base_amount is None
        else (base_amount / rate.sell).quantize(step, ROUND_HALF_UP),
        foreign_if_customer_sells=None
        if base_amount is None
        else (base_amount / rate.buy).quantize(step, ROUND_HALF_UP),
        step=step,
        base_step=base_step,
    )


SPECS: tuple[ActionSpec, ...] = (  # type: ignore[type-arg]
    ActionSpec(
        "get_exchange_rate",
        RateInput,
        RateResult,
        get_exchange_rate,
        needs_customer=False,
        summarise=lambda r: (
            f"{r.currency} buy {r.buy} sell {r.sell} as of {r.as_of.isoformat()}"
            + (" (stale)" if r.stale else "")
        ),
    ),
)
