"""Exact money conversions between integer minor units and `Decimal`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 exponents for the currencies the demo bank uses; two decimals unless listed.
_EXPONENT = {"JPY": 0, "KRW": 0}


def exponent(currency: str) -> int:
    return _EXPONENT.get(currency.upper(), 2)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def to_minor(amount: Decimal, currency: str) -> int:
    exp = exponent(currency)
    quantum = Decimal(1).scaleb(-exp)
    quantised = amount.quantize(quantum, rounding=ROUND_HALF_UP)
    if quantised != amount:
        raise ValueError(f"{amount} has more than {exp} decimal places for {currency}")
    return int(quantised.scaleb(exp))
