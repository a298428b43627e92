"""Logs never hold raw personal data: every log record is masked before any handler sees it.

`install_log_masking()` (called by the server and the CLI at start-up) wraps the logging record
factory, so every record of every logger, whichever handlers are configured now or later, has its
message, arguments, exception text and stack masked with `mask_text`. `PiiLogFilter` does the same
as a `logging.Filter`, for a logging configuration of your own:

    "filters": {"pii": {"()": "helixdesk.privacy.logs.PiiLogFilter"}}

A record without personal data is left exactly as it was (formatters that read `record.args`, such
as uvicorn's access log, keep working); one with personal data gets the masked message and no
arguments, and an exception whose text holds personal data is kept only as masked `exc_text`
(`exc_info` is dropped, so no handler can render the raw traceback).
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from helixdesk.privacy.masking import mask_text

_MARK = "_pii_masked"
# Helixdesk's own credentials (conversation tokens, API keys) may appear in URLs that get logged,
# e.g. a WebSocket's `?token=hdc_…` in the access log: only their prefix is kept.
_CREDENTIAL = re.compile(r"\b(hd[ck]_)[A-Za-z0-9_-]{8,}")


def _mask(text: str) -> str:
    return _CREDENTIAL.sub(r"\1***", mask_text(text).text)


def mask_record(record: logging.LogRecord) -> None:
    """Mask a record in place (once)."""
    if getattr(record, _MARK, False):
        return
    setattr(record, _MARK, True)
    try:
        message = record.getMessage()
    except (TypeError, ValueError, KeyError):
        message = f"{record.msg} {record.args!r}"  # a broken format: keep what there is, masked
    masked = _mask(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        exc_type, exc, tb = record.exc_info
        if exc is not None:
            record.exc_text = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n")
    if record.exc_text:
        masked_exc = _mask(record.exc_text)
        if masked_exc != record.exc_text:
            # Formatters print `exc_text`; without `exc_info` no handler can render the raw one.
            record.exc_text, record.exc_info = masked_exc, None
    if record.stack_info:
        record.stack_info = _mask(record.stack_info)


class PiiLogFilter(logging.Filter):
    """Masks personal data in each record it sees; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_masking() -> None:
    """Mask every log record created from now on, in this process (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        mask_record(record)
        return record

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)
