"""Notifications to customers (one-time codes and, later, alerts) through a pluggable `Notifier`.

- `Notification`: one message to one customer (frozen).
- `Notifier`: the protocol a bank implements to plug in its SMS gateway or mail server.
- `OutboxNotifier`: the embedded demo gateway; it writes to the `notification_outbox` table, which
  `helixdesk outbox list` and the `/demo/outbox` page show.
"""

from helixdesk.notifications.notifier import (
    CHANNELS,
    Notification,
    Notifier,
    NotifierError,
    OutboxEntry,
    OutboxNotifier,
    list_outbox,
)
from helixdesk.privacy.masking import mask_destination

__all__ = [
    "CHANNELS",
    "Notification",
    "Notifier",
    "NotifierError",
    "OutboxEntry",
    "OutboxNotifier",
    "list_outbox",
    "mask_destination",
]
