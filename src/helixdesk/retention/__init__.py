"""Retention: each data class is kept for its configured number of days, then deleted or anonymised.

`RetentionJob.run(dry_run=...)` is what `helixdesk retention run` calls. See docs/security.md.
"""

from helixdesk.retention.job import ClassResult, RetentionJob, RetentionReport
from helixdesk.retention.policy import DATA_CLASSES, RetentionPolicy
from helixdesk.retention.scrub import ANONYMOUS_CUSTOMER_ID, reduce_message_meta, reduce_nlu

__all__ = [
    "ANONYMOUS_CUSTOMER_ID",
    "DATA_CLASSES",
    "ClassResult",
    "RetentionJob",
    "RetentionPolicy",
    "RetentionReport",
    "reduce_message_meta",
    "reduce_nlu",
]
