"""Exchange-rate API: GET /api/v1/rates, GET and PUT /api/v1/rates/{currency}.

There is no authentication yet (docs/api.md says so): expose PUT only on a trusted network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import anyio
from fastapi import APIRouter
from pydantic import BaseModel, Field

from helixdesk.actions.rates import Rate, parse_as_of
from helixdesk.core.inputs import Input
from helixdesk.edge.deps import RatesDep, RatesKeyDep
from helixdesk.edge.http import ERROR_RESPONSES

router = APIRouter(prefix="/api/v1/rates", tags=["rates"], responses=ERROR_RESPONSES)

_DECIMAL = r"^[0-9]+(\.[0-9]+)?$"


class RateOut(BaseModel):
    currency: str
    base: str
    buy: Decimal
    sell: Decimal
    as_of: datetime
    source: str
    updated_by: str
    updated_at: datetime
    stale: bool


class RateList(BaseModel):
    base: str
    max_age_hours: int
    rates: list[RateOut]


class RateIn(Input):
    buy: str = Field(pattern=_DECIMAL, max_length=32, description="CNY per 1 unit, as exact decimal text")
    sell: str = Field(pattern=_DECIMAL, max_length=32)
    as_of: str | None = Field(default=None, max_length=40, description="ISO date-time; default now")
    source: str = Field(default="api", min_length=1, max_length=64)
    updated_by: str = Field(default="api", min_length=1, max_length=64)


def _out(rate: Rate, max_age_hours: int, now: datetime) -> RateOut:
    return RateOut(
        currency=rate.currency,
        base=rate.base,
        buy=rate.buy,
        sell=rate.sell,
        as_of=rate.as_of,
        source=rate.source,
        updated_by=rate.updated_by,
        updated_at=rate.updated_at,
        stale=rate.stale(now, max_age_hours),
    )


@router.get("")
async def list_rates(service: RatesDep) -> RateList:
    """Every published rate (CNY per 1 unit), with `stale` when older than the pack's limit."""
    rates = await anyio.to_thread.run_sync(service.all)
    max_age, now = service.max_age_hours, datetime.now(UTC)
    return RateList(base="CNY", max_age_hours=max_age, rates=[_out(r, max_age, now) for r in rates])


@router.get("/{currency}")
async def get_rate(currency: str, service: RatesDep) -> RateOut:
    """One currency's rate; `unknown_currency` (404) when the bank publishes none."""
    rate = await anyio.to_thread.run_sync(service.get, currency)
    return _out(rate, service.max_age_hours, datetime.now(UTC))


@router.put("/{currency}")
async def put_rate(currency: str, body: RateIn, service: RatesDep, _key: RatesKeyDep) -> RateOut:
    """Set one currency's buy/sell rate (creates or replaces it)."""
    now = datetime.now(UTC)

    def write() -> Rate:
        return service.set(
            currency,
            buy=body.buy,
            sell=body.sell,
            as_of=parse_as_of(body.as_of, now),
            source=body.source,
            updated_by=body.updated_by,
        )

    rate = await anyio.to_thread.run_sync(write)
    return _out(rate, service.max_age_hours, now)
