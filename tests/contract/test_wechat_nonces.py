"""Plain-mode replay protection: one contract for the nonce memory in this process and in Redis,
the timestamp window, and Redis down (this process's memory stands in)."""

from __future__ import annotations

import logging
import uuid

import pytest

from helixdesk.channels.wechat.errors import WeChatReplayError
from helixdesk.channels.wechat.replay import MemoryNonces, RedisNonces, ReplayGuard
from tests.conftest import REDIS_URL
from tests.serverproc import free_port

NOW = 1_800_000_000


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def nonces(request):
    memory = (
        MemoryNonces()
        if request.param == "memory"
        else RedisNonces(url=REDIS_URL, prefix=f"helixdesk-test:{uuid.uuid4().hex}:")
    )
    yield memory
    await memory.close()


async def test_the_first_value_of_a_key_is_kept(nonces):
    assert await nonces.remember("mp:1:n1", "body-a", ttl=60) == "body-a"
    assert await nonces.remember("mp:1:n1", "body-b", ttl=60) == "body-a"
    assert await nonces.remember("mp:1:n2", "body-b", ttl=60) == "body-b"


async def test_a_nonce_is_forgotten_after_its_time():
    clock = Clock(100.0)
    memory = MemoryNonces(clock=clock)
    await memory.remember("k", "a", ttl=10)
    clock.now += 9
    assert await memory.remember("k", "b", ttl=10) == "a"
    clock.now += 2
    assert await memory.remember("k", "b", ttl=10) == "b"


async def test_the_guard_refuses_old_or_future_timestamps_and_a_nonce_reused_with_another_body(nonces):
    guard = ReplayGuard(tolerance_seconds=300, nonces=nonces, clock=Clock(NOW))
    await guard.check("mp", str(NOW - 290), "n-1", b"<xml>first</xml>")
    # WeChat retrying the same callback: the same body under the same nonce passes.
    await guard.check("mp", str(NOW - 290), "n-1", b"<xml>first</xml>")
    with pytest.raises(WeChatReplayError) as e:
        await guard.check("mp", str(NOW - 290), "n-1", b"<xml>forged</xml>")
    assert e.value.code == "wechat_replayed" and e.value.http_status == 403
    for stale in (NOW - 301, NOW + 301, 0):
        with pytest.raises(WeChatReplayError):
            await guard.check("mp", str(stale), "n-2", b"<xml/>")
    for bad in ("", "abc", "-5", "１８００"):
        with pytest.raises(WeChatReplayError):
            await guard.check("mp", bad, "n-3", b"<xml/>")
    with pytest.raises(WeChatReplayError):
        await guard.check("mp", str(NOW), "", b"<xml/>")
    # Another account's nonce is another key.
    await guard.check("work", str(NOW - 290), "n-1", b"<xml>forged</xml>")


@pytest.mark.redis
async def test_redis_down_this_process_remembers_the_nonces(caplog):
    down = RedisNonces(url=f"redis://127.0.0.1:{free_port()}/0", prefix="helixdesk-test:down:")
    guard = ReplayGuard(tolerance_seconds=300, nonces=down, clock=Clock(NOW))
    with caplog.at_level(logging.WARNING, logger="helixdesk.channels.wechat.replay"):
        await guard.check("mp", str(NOW), "n-1", b"<xml>first</xml>")
        with pytest.raises(WeChatReplayError):
            await guard.check("mp", str(NOW), "n-1", b"<xml>forged</xml>")
    await down.close()
    # Warned once, not at every callback.
    assert sum("Redis unavailable" in r.getMessage() for r in caplog.records) == 1
