"""One contract for both `RateLimiter` backends: in-memory and Redis (a Lua script)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helixdesk.abuse import MemoryRateLimiter, RedisRateLimiter
from tests.conftest import REDIS_URL


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request):
    clock = Clock()
    if request.param == "memory":
        limiter = MemoryRateLimiter(clock=clock)
    else:
        limiter = RedisRateLimiter(url=REDIS_URL, prefix=f"helixdesk-test:{uuid.uuid4().hex}:", clock=clock)
    yield limiter, clock
    await limiter.close()


async def test_a_burst_up_to_the_limit_then_refusal_with_retry_after(backend):
    limiter, _ = backend
    decisions = [await limiter.hit("ip:10.0.0.1", limit=5, window=60) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[-1]
    assert refused.retry_after == pytest.approx(12.0, abs=0.01)  # one request per 60/5 s
    assert refused.retry_after_seconds == 12


async def test_capacity_comes_back_at_the_steady_rate(backend):
    limiter, clock = backend
    for _ in range(3):
        assert (await limiter.hit("k", limit=3, window=30)).allowed
    assert not (await limiter.hit("k", limit=3, window=30)).allowed
    clock.now += 9.9
    assert not (await limiter.hit("k", limit=3, window=30)).allowed
    clock.now += 0.2  # 10.1 s: one request's worth, not more (refusals did not count)
    assert (await limiter.hit("k", limit=3, window=30)).allowed
    assert not (await limiter.hit("k", limit=3, window=30)).allowed
    clock.now += 30
    assert [(await limiter.hit("k", limit=3, window=30)).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


async def test_requests_at_the_steady_rate_are_never_refused(backend):
    limiter, clock = backend
    for _ in range(20):
        assert (await limiter.hit("steady", limit=2, window=10)).allowed
        clock.now += 5


async def test_keys_are_independent(backend):
    limiter, _ = backend
    assert (await limiter.hit("a", limit=1, window=60)).allowed
    assert not (await limiter.hit("a", limit=1, window=60)).allowed
    assert (await limiter.hit("b", limit=1, window=60)).allowed


async def test_concurrent_hits_never_exceed_the_limit(backend):
    limiter, _ = backend
    decisions = await asyncio.gather(*(limiter.hit("busy", limit=10, window=60) for _ in range(40)))
    assert sum(d.allowed for d in decisions) == 10


async def test_a_bad_limit_is_refused(backend):
    limiter, _ = backend
    with pytest.raises(ValueError, match="limit"):
        await limiter.hit("x", limit=0, window=60)


@pytest.mark.redis
async def test_two_redis_clients_share_the_counters():
    """Two workers (two clients) see one limit."""
    clock = Clock()
    prefix = f"helixdesk-test:{uuid.uuid4().hex}:"
    a = RedisRateLimiter(url=REDIS_URL, prefix=prefix, clock=clock)
    b = RedisRateLimiter(url=REDIS_URL, prefix=prefix, clock=clock)
    try:
        results = await asyncio.gather(*(c.hit("shared", limit=6, window=60) for c in (a, b) * 5))
        assert sum(d.allowed for d in results) == 6
    finally:
        await a.close()
        await b.close()


async def test_redis_down_allows_requests():
    limiter = RedisRateLimiter(url="redis://127.0.0.1:1/0")
    try:
        d = await limiter.hit("x", limit=1, window=60)
        assert d.allowed and (await limiter.hit("x", limit=1, window=60)).allowed
    finally:
        await limiter.close()
