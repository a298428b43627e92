"""`VerificationService` on SQLite and PostgreSQL: the whole step-up, with an injected clock."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from helixdesk.audit import AuditLog
from helixdesk.bank.demo import DemoBankConnector
from helixdesk.bank.importer import import_bank_file
from helixdesk.core.errors import ValidationFailedError
from helixdesk.db.session import transaction
from helixdesk.identity import (
    IdentityLockedError,
    ResendTooSoonError,
    UnknownPurposeError,
    UnsupportedLanguageError,
    VerificationCustomerNotFoundError,
    VerificationService,
    VerifyStatus,
    load_identity_policy,
)
from helixdesk.identity.codes import code_hmac
from helixdesk.identity.models import IdentityFailure, VerificationChallenge
from helixdesk.notifications import Notification, NotifierError, OutboxNotifier, list_outbox
from helixdesk.privacy.crypto import Keyring, generate_key
from tests.bankfiles import three_customers

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = b"contract-test-secret-0123456789abcdef"
KEYRING = Keyring.parse(generate_key("contract"))


@pytest.fixture
def service(sessions):
    with transaction(sessions) as s:
        import_bank_file(s, three_customers())
    return VerificationService(
        sessions=sessions,
        notifier=OutboxNotifier(sessions=sessions, keyring=KEYRING),
        bank=DemoBankConnector(session_factory=sessions),
        policy=load_identity_policy(),
        secret=SECRET,
        audit=AuditLog(key=SECRET),
        clock=lambda: T0,
    )


def sent_code(sessions, customer_ref: str) -> str:
    latest = list_outbox(sessions, KEYRING, customer_ref=customer_ref, limit=1)[0]
    match = re.search(r"\d{6}", latest.body)
    assert match, latest.body
    return match.group()


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_happy_path(service, sessions):
    ch = service.start(conversation_id="conv-1", customer_ref="C000001", language="zh-Hans")
    assert ch.sent and ch.destination_masked == "138****5678" and ch.channel == "sms"
    assert ch.expires_at == T0 + timedelta(seconds=300)
    assert ch.resend_available_at == T0 + timedelta(seconds=60)
    assert ch.attempts_left == 3
    pending = service.status(conversation_id="conv-1", customer_ref="C000001")
    assert not pending.verified and pending.pending is not None and pending.pending.id == ch.id

    code = sent_code(sessions, "C000001")
    out = service.verify(conversation_id="conv-1", code=code, now=T0 + timedelta(seconds=40))
    assert out.status == VerifyStatus.VERIFIED
    assert out.valid_until == T0 + timedelta(seconds=40, minutes=30)

    st = service.status(conversation_id="conv-1", customer_ref="C000001", now=T0 + timedelta(minutes=10))
    assert st.verified and st.verified_at == T0 + timedelta(seconds=40) and st.pending is None
    assert st.locked_until is None
    # per conversation and per customer
    assert not service.status(conversation_id="conv-2", customer_ref="C000001").verified
    assert not service.status(conversation_id="conv-1", customer_ref="C000003").verified
    # and it lapses after verified_for_minutes
    later = service.status(conversation_id="conv-1", customer_ref="C000001", now=T0 + timedelta(minutes=31))
    assert not later.verified and later.verified_at is not None
    # a used code cannot be used again
    again = service.verify(conversation_id="conv-1", code=code, now=T0 + timedelta(minutes=1))
    assert again.status == VerifyStatus.NO_CHALLENGE


def test_wrong_code_decrements_attempts(service, sessions):
    service.start(conversation_id="c", customer_ref="C000001", language="en")
    code = sent_code(sessions, "C000001")
    first = service.verify(conversation_id="c", code=wrong(code))
    assert (first.status, first.attempts_left) == (VerifyStatus.WRONG_CODE, 2)
    second = service.verify(conversation_id="c", code="not a code")
    assert (second.status, second.attempts_left) == (VerifyStatus.WRONG_CODE, 1)
    st = service.status(conversation_id="c", customer_ref="C000001")
    assert st.pending is not None and st.pending.attempts_left == 1
    ok = service.verify(conversation_id="c", code=f" {code[:3]} {code[3:]} ")
    assert ok.status == VerifyStatus.VERIFIED


def test_code_expires(service, sessions):
    service.start(conversation_id="c", customer_ref="C000001", language="en")
    code = sent_code(sessions, "C000001")
    out = service.verify(conversation_id="c", code=code, now=T0 + timedelta(seconds=300))
    assert out.status == VerifyStatus.EXPIRED
    assert (
        service.verify(conversation_id="c", code=code, now=T0 + timedelta(seconds=10)).status
        == VerifyStatus.EXPIRED
    )
    st = service.status(conversation_id="c", customer_ref="C000001", now=T0 + timedelta(seconds=301))
    assert st.pending is None and not st.verified


def test_max_attempts_kills_the_challenge(service, sessions):
    service.start(conversation_id="c", customer_ref="C000001", language="en")
    code = sent_code(sessions, "C000001")
    outcomes = [service.verify(conversation_id="c", code=wrong(code)) for _ in range(3)]
    assert [o.attempts_left for o in outcomes] == [2, 1, 0]
    assert all(o.status == VerifyStatus.WRONG_CODE for o in outcomes)
    assert service.verify(conversation_id="c", code=code).status == VerifyStatus.NO_CHALLENGE
    assert service.status(conversation_id="c", customer_ref="C000001").pending is None


def test_no_challenge(service):
    assert service.verify(conversation_id="nothing", code="123456").status == VerifyStatus.NO_CHALLENGE


def test_lockout_across_conversations_then_lifted(service, sessions):
    service.start(conversation_id="a", customer_ref="C000001", language="en")
    code_a = sent_code(sessions, "C000001")
    for _ in range(3):
        service.verify(conversation_id="a", code=wrong(code_a), now=T0 + timedelta(seconds=5))
    t1 = T0 + timedelta(minutes=2)
    service.start(conversation_id="b", customer_ref="C000001", language="en", now=t1)
    code_b = sent_code(sessions, "C000001")
    fourth = service.verify(conversation_id="b", code=wrong(code_b), now=t1)
    assert fourth.status == VerifyStatus.WRONG_CODE
    fifth = service.verify(conversation_id="b", code=wrong(code_b), now=t1 + timedelta(seconds=1))
    locked_until = t1 + timedelta(seconds=1, minutes=30)
    assert fifth.status == VerifyStatus.LOCKED and fifth.locked_until == locked_until
    # the right code no longer helps, in this or any conversation
    right = service.verify(conversation_id="b", code=code_b, now=t1 + timedelta(seconds=2))
    assert right.status == VerifyStatus.LOCKED
    with pytest.raises(IdentityLockedError) as e:
        service.start(
            conversation_id="c", customer_ref="C000001", language="en", now=t1 + timedelta(minutes=5)
        )
    assert e.value.code == "identity_locked" and e.value.locked_until == locked_until
    st = service.status(conversation_id="b", customer_ref="C000001", now=t1 + timedelta(minutes=5))
    assert st.locked_until == locked_until and not st.verified and st.pending is None
    # another customer is not affected
    service.start(conversation_id="d", customer_ref="C000003", language="en", now=t1 + timedelta(minutes=5))

    after = locked_until + timedelta(seconds=1)
    ch = service.start(conversation_id="c", customer_ref="C000001", language="en", now=after)
    assert ch.sent and ch.attempts_left == 3
    one_more = service.verify(conversation_id="c", code=wrong(sent_code(sessions, "C000001")), now=after)
    assert one_more.status == VerifyStatus.WRONG_CODE  # the old failures no longer count
    ok = service.verify(conversation_id="c", code=sent_code(sessions, "C000001"), now=after)
    assert ok.status == VerifyStatus.VERIFIED


def test_failures_outside_the_window_do_not_lock(service, sessions):
    service.start(conversation_id="a", customer_ref="C000001", language="en")
    for _ in range(3):
        service.verify(conversation_id="a", code=wrong(sent_code(sessions, "C000001")))
    t1 = T0 + timedelta(minutes=31)
    service.start(conversation_id="b", customer_ref="C000001", language="en", now=t1)
    for _ in range(2):
        out = service.verify(conversation_id="b", code=wrong(sent_code(sessions, "C000001")), now=t1)
        assert out.status == VerifyStatus.WRONG_CODE


def test_resend_throttling(service, sessions):
    first = service.start(conversation_id="a", customer_ref="C000001", language="en")
    again = service.start(
        conversation_id="a", customer_ref="C000001", language="en", now=T0 + timedelta(seconds=30)
    )
    assert again.id == first.id and not again.sent
    assert len(list_outbox(sessions, KEYRING, customer_ref="C000001")) == 1
    with pytest.raises(ResendTooSoonError) as e:
        service.start(
            conversation_id="other", customer_ref="C000001", language="en", now=T0 + timedelta(seconds=30)
        )
    assert e.value.code == "verification_resend_too_soon" and e.value.retry_at == T0 + timedelta(seconds=60)
    old_code = sent_code(sessions, "C000001")
    resent = service.start(
        conversation_id="a", customer_ref="C000001", language="en", now=T0 + timedelta(seconds=60)
    )
    assert resent.sent and resent.id != first.id
    assert len(list_outbox(sessions, KEYRING, customer_ref="C000001")) == 2
    new_code = sent_code(sessions, "C000001")
    if old_code != new_code:
        stale = service.verify(conversation_id="a", code=old_code, now=T0 + timedelta(seconds=61))
        assert stale.status == VerifyStatus.WRONG_CODE
    ok = service.verify(conversation_id="a", code=new_code, now=T0 + timedelta(seconds=62))
    assert ok.status == VerifyStatus.VERIFIED


def test_unknown_customer(service):
    with pytest.raises(VerificationCustomerNotFoundError) as e:
        service.start(conversation_id="a", customer_ref="C999999", language="en")
    assert e.value.code == "customer_not_found"


def test_code_is_never_stored_in_plaintext(service, sessions, engine):
    ch = service.start(conversation_id="a", customer_ref="C000001", language="en")
    code = sent_code(sessions, "C000001")
    service.verify(conversation_id="a", code=wrong(code))
    with engine.connect() as conn:
        for table in ("verification_challenges", "identity_failures", "identity_lockouts"):
            for row in conn.execute(text(f"SELECT * FROM {table}")):
                assert all(code not in str(value) for value in row), (table, row)
        # The demo gateway's copy of the SMS is encrypted at rest, destination included.
        body, destination = conn.execute(text("SELECT body, destination FROM notification_outbox")).one()
        assert body.startswith("hx1:contract:") and destination.startswith("hx1:contract:")
        assert "13812345678" not in destination and "验证码" not in body
    with sessions() as s:
        stored = s.scalar(select(VerificationChallenge.code_hmac).where(VerificationChallenge.id == ch.id))
        assert s.scalar(select(IdentityFailure.challenge_id)) == ch.id
    assert stored == code_hmac(SECRET, ch.id, code)


@pytest.mark.parametrize(
    ("customer_ref", "language", "wording", "masked"),
    [
        ("C000001", None, ["验证码", "5分钟内有效", "请勿告诉他人"], "138****5678"),
        ("C000002", None, ["驗證碼", "5分鐘內有效", "請勿告訴他人"], "+852 ****4567"),
        ("C000003", None, ["Your code", "Valid for 5 minutes", "Never share it"], "159****1111"),
        ("C000001", "en", ["Your code", "Valid for 5 minutes"], "138****5678"),
    ],
)
def test_notification_lands_in_the_outbox_in_the_customers_language(
    service, sessions, customer_ref, language, wording, masked
):
    ch = service.start(conversation_id="a", customer_ref=customer_ref, language=language)
    assert ch.destination_masked == masked
    (entry,) = list_outbox(sessions, KEYRING, customer_ref=customer_ref)
    assert entry.channel == "sms" and entry.purpose == "identity_verification"
    assert entry.created_at == T0 and entry.destination_masked == masked
    for words in wording:
        assert words in entry.body, entry.body


class _BrokenGateway:
    def send(self, notification: Notification) -> str:
        raise ConnectionError("gateway down")


def test_a_failed_send_is_reported_and_leaves_no_usable_challenge(service, sessions):
    broken = VerificationService(
        sessions=sessions,
        notifier=_BrokenGateway(),
        bank=DemoBankConnector(session_factory=sessions),
        policy=service.policy,
        secret=SECRET,
        audit=AuditLog(key=SECRET),
        clock=lambda: T0,
    )
    with pytest.raises(NotifierError) as e:
        broken.start(conversation_id="a", customer_ref="C000001", language="en")
    assert e.value.code == "notification_failed"
    assert service.status(conversation_id="a", customer_ref="C000001").pending is None
    # an undelivered code does not throttle a retry
    assert service.start(conversation_id="a", customer_ref="C000001", language="en").sent


def test_concurrent_wrong_guesses_never_exceed_max_attempts(service, sessions):
    ch = service.start(conversation_id="race", customer_ref="C000001", language="en")
    code = sent_code(sessions, "C000001")
    outcomes = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def guess() -> None:
        barrier.wait()
        out = service.verify(conversation_id="race", code=wrong(code))
        with lock:
            outcomes.append(out)

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counted = sorted(o.attempts_left for o in outcomes if o.status == VerifyStatus.WRONG_CODE)
    assert counted == [0, 1, 2]
    assert all(o.status == VerifyStatus.NO_CHALLENGE for o in outcomes if o.status != VerifyStatus.WRONG_CODE)
    with sessions() as s:
        row = s.get(VerificationChallenge, ch.id)
        assert row is not None and row.attempts == 3 and row.status == "failed"
        failures = s.scalars(select(IdentityFailure).where(IdentityFailure.challenge_id == ch.id)).all()
        assert len(failures) == 3


def test_bad_language_and_purpose_are_refused_before_anything_is_sent(service, sessions):
    with pytest.raises(UnsupportedLanguageError) as e:
        service.start(conversation_id="a", customer_ref="C000001", language="fr")
    assert e.value.code == "unsupported_language"
    with pytest.raises(UnknownPurposeError) as e2:
        service.start(conversation_id="a", customer_ref="C000001", language="en", purpose="wire_transfer")
    assert e2.value.code == "unknown_purpose"
    assert list_outbox(sessions, KEYRING) == []
    assert service.start(conversation_id="a", customer_ref="C000001", language="en").sent


def test_naive_now_is_refused(service):
    with pytest.raises(ValidationFailedError) as e:
        service.status(conversation_id="a", customer_ref="C000001", now=datetime(2026, 11, 23, 9, 0))
    assert e.value.code == "naive_datetime"
