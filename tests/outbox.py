"""Filling the demo outbox with encrypted one-time-code messages, for tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from helixdesk.notifications import Notification, OutboxNotifier
from helixdesk.privacy.crypto import Keyring


def send_codes(
    sessions: sessionmaker[Session], keyring: Keyring, n: int, *, body: str = "验证码 65432{i}"
) -> None:
    """`n` SMS notifications to C000001 through the demo gateway, bodies `body.format(i=...)`."""
    notifier = OutboxNotifier(sessions=sessions, keyring=keyring)
    for i in range(n):
        notifier.send(
            Notification(
                customer_ref="C000001",
                channel="sms",
                destination="+8613812345678",
                body=body.format(i=i),
                purpose="verify",
                created_at=datetime(2026, 11, 23, 9, i, tzinfo=UTC),
            )
        )
