"""Log records never carry raw personal data: message, arguments, exception text, stack."""

from __future__ import annotations

import io
import logging

import pytest

from helixdesk.privacy.logs import PiiLogFilter, install_log_masking

CARD = "6222021234567890128"
PHONE = "13812345678"


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("helixdesk.test.privacy")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream, handler
    logger.removeHandler(handler)


def test_installed_masking_covers_every_record(captured) -> None:
    logger, stream, _ = captured
    install_log_masking()
    install_log_masking()  # idempotent
    logger.info("customer wrote %r from %s", f"卡号{CARD}", PHONE)
    logger.warning("login for %(email)s failed", {"email": "zhang.san@example.com"})
    try:
        int(f"card {CARD}")
    except ValueError:
        logger.exception("turn failed for phone %s", PHONE)
    logger.info("nothing personal in %d turns", 3)
    out = stream.getvalue()
    assert CARD not in out and PHONE not in out and "zhang.san" not in out, out
    assert "**** **** **** 0128" in out and "138****5678" in out and "z***@example.com" in out
    assert "ValueError: invalid literal for int() with base 10: 'card **** **** **** 0128'" in out
    assert "Traceback" in out
    assert "nothing personal in 3 turns" in out


def test_a_record_without_personal_data_keeps_its_arguments() -> None:
    install_log_masking()
    record = logging.getLogger("helixdesk.test.privacy").makeRecord(
        "x", logging.INFO, __file__, 1, "%s %s", ("GET", "/healthz"), None
    )
    assert record.args == ("GET", "/healthz")
    with_pii = logging.getLogger("helixdesk.test.privacy").makeRecord(
        "x", logging.INFO, __file__, 1, "sms to %s", (PHONE,), None
    )
    assert with_pii.getMessage() == "sms to 138****5678" and with_pii.args == ()


def test_the_filter_masks_records_on_a_handler_of_its_own() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(PiiLogFilter())
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "id %s", ("11010519491231002X",), None)
    record.stack_info = f"Stack (most recent call last):\n  card={CARD}"
    handler.handle(record)
    out = stream.getvalue()
    assert "11010519491231002X" not in out and CARD not in out
    assert "**************002X" in out


def test_conversation_tokens_and_api_keys_never_reach_a_log(captured) -> None:
    logger, stream, _ = captured
    install_log_masking()
    token = "hdc_" + "Ab3_-x" * 7
    key = "hdk_" + "Zq9" * 14
    # Like uvicorn's access log line of a WebSocket handshake, and a client error message.
    logger.info(
        '%s - "WebSocket %s" [accepted]',
        "10.0.0.7:51234",
        f"/api/v1/conversations/c1/ws?after_seq=0&token={token}",
    )
    logger.warning("rejected key %s", key)
    out = stream.getvalue()
    assert token not in out and key not in out
    assert "token=hdc_***" in out and "rejected key hdk_***" in out
