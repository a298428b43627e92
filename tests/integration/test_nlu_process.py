"""The NLU in a process of its own: the same results as in the worker, and it comes back after a crash."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from helixdesk.nlu.process import NluUnavailableError, ProcessParser
from helixdesk.packs.loader import load_pack

# A real process that loads the models.
pytestmark = pytest.mark.slow


async def test_the_nlu_process_parses_like_the_worker_and_comes_back_after_sigkill(model_root, nlu_pipeline):
    parser = ProcessParser(load_pack("retail_bank").nlu_pipeline, defaults={"model_root": model_root})
    await asyncio.to_thread(parser.start)
    try:
        texts = ["我的卡丢了", "what's my balance?", "請問匯率多少"]
        turns = await asyncio.gather(*(parser.parse(t) for t in texts))
        expected = nlu_pipeline.parse_batch(texts)
        assert [t.intent for t in turns] == [e.intent for e in expected]
        assert [t.emotion.label if t.emotion else None for t in turns] == [
            e.emotion.label if e.emotion else None for e in expected
        ]

        process = parser._process
        assert process is not None and process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(timeout=10)
        with pytest.raises(NluUnavailableError):
            await parser.parse("hello")  # the message that found the process gone is refused clearly
        again = await parser.parse("I lost my card")  # the next one starts a new process
        assert again.intent is not None and again.intent.name == "card_lost_or_stolen"
        assert parser._process is not None and parser._process.pid != process.pid
    finally:
        await asyncio.to_thread(parser.stop)
