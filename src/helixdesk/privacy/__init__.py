"""Personal-data protection: finding and masking PII, encryption at rest, the vault, clean logs.

- `detect`: `find_pii(text)` finds card, ID, phone, account numbers, e-mails and secrets.
- `masking`: `mask_text(text)`, `scrub(json)` and the masks of each type.
- `crypto`: the AES-GCM `Keyring` (`hx1:<key id>:<data>` tokens).
- `keys`: the keyring from settings (or a generated key file in development).
- `vault`: raw values of masked spans, encrypted (`pii_values`), and `reveal_value`.
- `transcripts`: what the conversation service calls to store messages masked.
- `rotation`: re-encrypting every encrypted column to the active key.
- `logs`: the logging filter that masks log records.
"""

from helixdesk.privacy.detect import PII_TYPES, PiiSpan, find_pii
from helixdesk.privacy.masking import SECRET_MASK, Masked, MaskedSpan, mask_text, scrub

__all__ = ["PII_TYPES", "SECRET_MASK", "Masked", "MaskedSpan", "PiiSpan", "find_pii", "mask_text", "scrub"]
