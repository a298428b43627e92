"""One message of a sender at a time: a lock per key, dropped once nobody holds or waits for it."""

from __future__ import annotations

import asyncio

from helixdesk.channels.locks import KeyedLocks


async def test_one_holder_per_key_and_no_lock_left_behind():
    locks = KeyedLocks()
    order: list[str] = []
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def first() -> None:
        async with locks.hold("weibo:1"):
            order.append("first in")
            first_in.set()
            await let_go.wait()
            order.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with locks.hold("weibo:1"):
            order.append("second in")

    async def other() -> None:
        await first_in.wait()
        async with locks.hold("weibo:2"):  # another key does not wait
            order.append("other in")
        let_go.set()

    await asyncio.gather(first(), second(), other())
    assert order == ["first in", "other in", "first out", "second in"]
    assert len(locks) == 0
