"""The `Notifier` protocol and the demo `OutboxNotifier`.

A bank plugs in its SMS gateway (or mail server) by implementing `Notifier`:

    class BankSmsGateway:
        def send(self, notification: Notification) -> str:
            response = gateway_client.send_sms(notification.destination, notification.body)
            return response.message_id          # the delivery id, kept for audit

`send` either hands the message over and returns a delivery id, or raises (any exception is
reported as `NotifierError`, code `notification_failed`, by the caller).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.core.errors import AppError, ValidationFailedError
from helixdesk.db.session import reading, transaction
from helixdesk.notifications.models import OutboxMessage
from helixdesk.privacy.crypto import Keyring
from helixdesk.privacy.masking import mask_destination
from helixdesk.privacy.rotation import EncryptedColumn

Channel = Literal["sms", "email"]
CHANNELS: tuple[Channel, ...] = ("sms", "email")


class NotifierError(AppError):
    """The notifier could not hand the message over (gateway down, bad destination...)."""

    code = "notification_failed"
    http_status = 503


@dataclass(frozen=True, slots=True)
class Notification:
    customer_ref: str
    channel: Channel
    destination: str
    body: str
    purpose: str
    created_at: datetime

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValidationFailedError(
                f"channel must be one of {', '.join(CHANNELS)}, not {self.channel!r}", code="bad_channel"
            )
        if self.created_at.tzinfo is None:
            raise ValidationFailedError("created_at must be timezone-aware", code="naive_datetime")


@runtime_checkable
class Notifier(Protocol):
    """Delivers a notification to the customer; returns the gateway's delivery id."""

    def send(self, notification: Notification) -> str: ...


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: str
    customer_ref: str
    channel: str
    destination: str
    body: str
    purpose: str
    created_at: datetime

    @property
    def destination_masked(self) -> str:
        return mask_destination(self.channel, self.destination)

    def to_dict(self, *, mask: bool = True) -> dict[str, str]:
        return {
            "id": self.id,
            "customer_ref": self.customer_ref,
            "channel": self.channel,
            "destination": self.destination_masked if mask else self.destination,
            "body": self.body,
            "purpose": self.purpose,
            "created_at": self.created_at.isoformat(),
        }


def outbox_aad(column: str, delivery_id: str) -> str:
    """The associated data that binds an encrypted outbox value to its row and column."""
    return f"notification_outbox.{column}:{delivery_id}"


class OutboxNotifier:
    """The demo gateway: "sends" by writing the notification to the `notification_outbox` table.

    The body (it carries the one-time code) and the destination are stored encrypted with the
    keyring's active key; `list_outbox` decrypts them for the demo page and CLI.
    Each `send` is its own committed transaction, so call it after your own transaction has
    committed (on SQLite a second writer waits for the first).
    """

    def __init__(self, *, sessions: sessionmaker[Session], keyring: Keyring) -> None:
        self._sessions = sessions
        self._keyring = keyring

    def send(self, notification: Notification) -> str:
        delivery_id = str(uuid.uuid4())
        seal = self._keyring.encrypt
        with transaction(self._sessions) as s:
            s.add(
                OutboxMessage(
                    id=delivery_id,
                    customer_ref=notification.customer_ref,
                    channel=notification.channel,
                    destination=seal(notification.destination, aad=outbox_aad("destination", delivery_id)),
                    body=seal(notification.body, aad=outbox_aad("body", delivery_id)),
                    purpose=notification.purpose,
                    created_at=notification.created_at,
                )
            )
        return delivery_id


class OutboxReader:
    """The demo outbox for the demo page: the latest notifications, decrypted."""

    def __init__(self, *, sessions: sessionmaker[Session], keyring: Keyring) -> None:
        self._sessions = sessions
        self._keyring = keyring

    def latest(self, *, customer_ref: str | None = None, limit: int = 50) -> list[OutboxEntry]:
        return list_outbox(self._sessions, self._keyring, customer_ref=customer_ref, limit=limit)


def list_outbox(
    sessions: sessionmaker[Session], keyring: Keyring, *, customer_ref: str | None = None, limit: int = 50
) -> list[OutboxEntry]:
    """The latest notifications in the outbox, newest first, decrypted."""
    if limit < 1:
        raise ValidationFailedError("limit must be at least 1", code="bad_limit")
    query = select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id).limit(limit)
    if customer_ref:
        query = query.where(OutboxMessage.customer_ref == customer_ref)
    with reading(sessions) as s:
        return [
            OutboxEntry(
                id=r.id,
                customer_ref=r.customer_ref,
                channel=r.channel,
                destination=keyring.reveal(r.destination, aad=outbox_aad("destination", r.id)),
                body=keyring.reveal(r.body, aad=outbox_aad("body", r.id)),
                purpose=r.purpose,
                created_at=r.created_at,
            )
            for r in s.scalars(query)
        ]


def outbox_columns() -> tuple[EncryptedColumn, ...]:
    """The outbox's encrypted columns, for key rotation (`helixdesk.privacy.rotation`)."""
    table = OutboxMessage.__table__
    return (
        EncryptedColumn(
            "notification_outbox.body",
            table,  # type: ignore[arg-type]
            "id",
            "body",
            lambda row: outbox_aad("body", row.id),
        ),
        EncryptedColumn(
            "notification_outbox.destination",
            table,  # type: ignore[arg-type]
            "id",
            "destination",
            lambda row: outbox_aad("destination", row.id),
        ),
    )
