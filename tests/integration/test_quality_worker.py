"""The quality-monitoring process (`helixdesk qa run`) as it runs beside the server: killed with
SIGKILL part-way through the conversation flow and started again, it scores every conversation,
once each: it resumes from its stored offset. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.bus.consumer import ConsumerOffset
from helixdesk.db.session import reading
from helixdesk.quality.models import Alert, Finding, Scorecard
from tests.contract.test_quality_monitor import Desk

pytestmark = pytest.mark.slow


class Worker:
    def __init__(self, db_url: str, log: Path) -> None:
        self.env = {
            **os.environ,
            "HELIXDESK_DATABASE_URL": db_url,
            # No quality model here: the pack's patterns alone (the finding below is one of theirs).
            "HELIXDESK_MODEL_DIR": str(log.parent / "models"),
            "HELIXDESK_LOG_LEVEL": "info",
        }
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "helixdesk", "qa", "run", "--poll", "0.2", "--lease", "3"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with reading(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _wait(condition, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


async def _conversations(desk: Desk, n: int) -> list[str]:
    ids = []
    for i in range(n):
        cid = desk.conversation()
        desk.say(cid, "customer", f"第{i}个问题：这款理财怎么样？")
        desk.say(cid, "agent", "放心，这款理财保本保收益，风险等级R2")
        ids.append(cid)
    await desk.publish()
    return ids


async def test_a_killed_worker_resumes_and_scores_every_conversation_once(
    sessions: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    desk = Desk(sessions)
    worker = Worker(db_url, tmp_path / "qa.log")
    first = await _conversations(desk, 30)
    worker.start()
    try:
        assert _wait(lambda: _count(sessions, Scorecard) > 0), (tmp_path / "qa.log").read_text()
        worker.kill()  # no chance to clean up: its lease (3 s here) stays until it runs out
        scored_before = _count(sessions, Scorecard)

        second = await _conversations(desk, 30)  # the flow goes on while it is down
        assert _count(sessions, Scorecard) == scored_before

        worker.start()
        total = len(first) + len(second)
        assert _wait(lambda: _count(sessions, Scorecard) == total, timeout=90), (
            tmp_path / "qa.log"
        ).read_text()
        assert _wait(lambda: _count(sessions, Alert) == total)
    finally:
        worker.stop()

    with reading(sessions) as s:
        findings = s.execute(select(Finding.conversation_id, Finding.rule)).all()
        assert sorted(findings) == sorted((cid, "absolute_promise") for cid in first + second)
        offset = s.get(ConsumerOffset, "quality")
        assert offset is not None and offset.log_seq > 0
