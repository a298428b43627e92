"""Every encrypted column, for key rotation (`helixdesk keys rotate`, `helixdesk keys status`)."""

from __future__ import annotations

from helixdesk.conversations.images import image_column
from helixdesk.conversations.models import MessageAudio
from helixdesk.conversations.originals import original_column
from helixdesk.notifications.notifier import outbox_columns
from helixdesk.privacy.rotation import EncryptedColumn, vault_column

ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    vault_column(),
    *outbox_columns(),
    image_column(),
    original_column(MessageAudio),
)
