"""Identity step-up verification: one-time codes before customer data is shown or changed.

See `helixdesk.identity.service` for the flow and docs/identity.md for operators.
"""

from helixdesk.identity.codes import looks_like_code
from helixdesk.identity.errors import (
    IdentityLockedError,
    NoContactOnFileError,
    ResendTooSoonError,
    UnknownPurposeError,
    UnsupportedLanguageError,
    VerificationCustomerNotFoundError,
)
from helixdesk.identity.policy import IdentityPolicy, IdentityPolicyError, load_identity_policy
from helixdesk.identity.service import (
    Challenge,
    VerificationService,
    VerificationStatus,
    VerifyOutcome,
    VerifyStatus,
)

__all__ = [
    "Challenge",
    "IdentityLockedError",
    "IdentityPolicy",
    "IdentityPolicyError",
    "NoContactOnFileError",
    "ResendTooSoonError",
    "UnknownPurposeError",
    "UnsupportedLanguageError",
    "VerificationCustomerNotFoundError",
    "VerificationService",
    "VerificationStatus",
    "VerifyOutcome",
    "VerifyStatus",
    "load_identity_policy",
    "looks_like_code",
]
