"""A console stream's reconnect point moves with every event, shown or not: a page whose stream
passes nothing (another team's conversations) still reconnects from the newest event, not from where
it was loaded, so a restart does not make it replay, or resync on, what the whole bank did since."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from helixdesk.auth.service import StaffAccounts
from helixdesk.bus.outbox import last_log_seq
from helixdesk.db.session import make_engine, make_session_factory, reading
from tests.console_login import sign_in
from tests.serverproc import Server
from tests.waiting import wait_for

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"


class _Lines(threading.Thread):
    def __init__(self, client: httpx.Client, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.client, self.headers = client, headers
        self.lines: list[str] = []

    def run(self) -> None:
        try:
            with self.client.stream("GET", "/console/api/events", headers=self.headers, timeout=60) as r:
                for line in r.iter_lines():
                    self.lines.append(line)
        except httpx.HTTPError:
            pass


def test_a_quiet_stream_keeps_its_reconnect_point_at_the_newest_event(sqlite_url, tmp_path, server_env):
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    StaffAccounts(sessions=sessions).create_user(
        username="agent.quiet", password=PASSWORD, display_name="Quiet", roles=["fraud"], languages=["en"]
    )
    server = Server({"HELIXDESK_DATABASE_URL": sqlite_url, **server_env}, log=tmp_path / "server.log").start()
    client = httpx.Client(base_url=server.base, timeout=30)
    try:
        sign_in(client, "agent.quiet", PASSWORD)
        stream = _Lines(client, {})
        stream.start()
        # Conversations that are none of this agent's business: their events are not shown here.
        for _ in range(2):
            r = httpx.post(f"{server.base}/api/v1/conversations", json={"channel": "web", "language": "en"})
            assert r.status_code == 201, r.text

        def newest() -> int:
            with reading(sessions) as s:
                return last_log_seq(s)

        assert wait_for(lambda: newest() > 0), "the conversations' events were never logged"
        target = newest()
        # The keep-alive (every few seconds) carries the place of the newest event passed.
        seen = wait_for(lambda: [line for line in stream.lines if line == f"id: {target}"])
        assert seen, stream.lines
        assert not [line for line in stream.lines if line.startswith("event: ")], stream.lines

        # Reconnecting from there replays nothing; from the start it would replay what it skipped.
        again = _Lines(client, {"Last-Event-ID": str(target)})
        again.start()
        assert wait_for(lambda: any(line == "retry: 2000" for line in again.lines))
        time.sleep(1.0)
        assert not [line for line in again.lines if line.startswith("event: ")], again.lines
    finally:
        client.close()
        server.stop()
        engine.dispose()
