"""`VerificationService`: one-time-code step-up before the bot shows or changes customer data.

Construct once (the integrator's container does it):

    VerificationService(sessions=sessions, notifier=OutboxNotifier(sessions=sessions), bank=bank,
                        policy=load_identity_policy(settings.pack), secret=resolve_secret_key(settings))

and call, from a worker thread (the methods are synchronous and do database I/O):

- `start(conversation_id=, customer_ref=, language=)` sends a code to the phone on file and returns
  a `Challenge` (masked destination, expiry, attempts left, when a resend is possible). Raises
  `IdentityLockedError` (`identity_locked`), `VerificationCustomerNotFoundError`
  (`customer_not_found`), `ResendTooSoonError` (`verification_resend_too_soon`),
  `NoContactOnFileError`, `NotifierError` (`notification_failed`).
- `verify(conversation_id=, code=)` returns a `VerifyOutcome` (`verified`, `wrong_code`, `expired`,
  `locked`, `no_challenge`); it never raises for a wrong code.
- `status(conversation_id=, customer_ref=)` returns a `VerificationStatus`: verification is per
  conversation and lasts `verified_for_minutes`; a customer lock-out suspends it.

Codes are stored only as HMAC-SHA256(secret, challenge id + ":" + code) and compared in constant
time. Each code sent and each verification outcome is an entry in the audit log
(`identity.code_sent`, `identity.verified`, `identity.wrong_code`, ...; actor: the customer, via the
bot; target: the conversation), written in the same transaction. Every write is one transaction
that first locks the customer's `identity_lockouts` row, so concurrent calls for one customer are
serialised; the attempt counter is also guarded by
`UPDATE ... WHERE attempts < max_attempts RETURNING`.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.bank.connector import BankConnector, Customer
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ConfigurationError, ConflictError, ValidationFailedError
from helixdesk.core.languages import LANGUAGES
from helixdesk.db.session import reading, transaction
from helixdesk.identity.codes import code_hmac, codes_match, generate_code
from helixdesk.identity.errors import (
    IdentityLockedError,
    NoContactOnFileError,
    ResendTooSoonError,
    UnknownPurposeError,
    UnsupportedLanguageError,
    VerificationCustomerNotFoundError,
)
from helixdesk.identity.models import (
    ChallengeStatus,
    IdentityFailure,
    IdentityLockout,
    VerificationChallenge,
)
from helixdesk.identity.policy import IdentityPolicy
from helixdesk.notifications import Notification, Notifier, NotifierError, mask_destination
from helixdesk.notifications.notifier import Channel

log = logging.getLogger(__name__)

PURPOSE = "identity_verification"


class VerifyStatus(enum.StrEnum):
    VERIFIED = "verified"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"
    LOCKED = "locked"
    NO_CHALLENGE = "no_challenge"


@dataclass(frozen=True, slots=True)
class Challenge:
    """A code sent in one conversation. `sent` is False when `start` returned the existing one."""

    id: str
    conversation_id: str
    customer_ref: str
    channel: str
    destination_masked: str
    created_at: datetime
    expires_at: datetime
    attempts_left: int
    resend_available_at: datetime
    sent: bool


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    status: VerifyStatus
    attempts_left: int
    locked_until: datetime | None = None
    valid_until: datetime | None = None
    challenge_id: str | None = None


@dataclass(frozen=True, slots=True)
class VerificationStatus:
    verified: bool
    verified_at: datetime | None
    valid_until: datetime | None
    locked_until: datetime | None
    pending: Challenge | None


class VerificationService:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        bank: BankConnector,
        policy: IdentityPolicy,
        secret: bytes | str,
        audit: AuditLog,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        key = secret.encode() if isinstance(secret, str) else secret
        if len(key) < 16:
            raise ConfigurationError("the HMAC secret must be at least 16 bytes", code="secret_key_invalid")
        self._sessions = sessions
        self._notifier = notifier
        self._bank = bank
        self._policy = policy
        self._secret = key
        self._audit = audit
        self._clock = clock or utcnow

    @property
    def policy(self) -> IdentityPolicy:
        return self._policy

    # ---- start ----------------------------------------------------------------------------------

    def start(
        self,
        *,
        conversation_id: str,
        customer_ref: str,
        language: str | None = None,
        purpose: str = "service_chat",
        now: datetime | None = None,
    ) -> Challenge:
        """Send a new code to the customer's phone on file (e-mail if there is no phone)."""
        now = self._now(now)
        if language is not None and language not in LANGUAGES:
            raise UnsupportedLanguageError(
                f"language must be one of {', '.join(LANGUAGES)}, not {language!r}"
            )
        if purpose not in self._policy.purposes:
            raise UnknownPurposeError(
                f"unknown purpose {purpose!r}; the policy knows {', '.join(sorted(self._policy.purposes))}"
            )
        customer = self._bank.get_customer(customer_ref)
        if customer is None:
            raise VerificationCustomerNotFoundError(f"no customer with reference {customer_ref!r}")
        lang = language or (customer.preferred_language if customer.preferred_language in LANGUAGES else "en")
        channel, destination = _contact(customer)
        code = generate_code(self._policy.code_length)
        challenge_id = str(uuid.uuid4())
        resend = timedelta(seconds=self._policy.resend_interval_seconds)

        with transaction(self._sessions) as s:
            lock = self._lock_customer(s, customer_ref)
            if lock.locked_until is not None and lock.locked_until > now:
                raise IdentityLockedError(lock.locked_until)
            last = s.scalar(
                select(VerificationChallenge)
                .where(
                    VerificationChallenge.customer_ref == customer_ref,
                    VerificationChallenge.status != ChallengeStatus.UNDELIVERED.value,
                )
                .order_by(VerificationChallenge.created_at.desc())
                .limit(1)
            )
            if last is not None and now < last.created_at + resend:
                if last.conversation_id == conversation_id and self._is_open(last, now):
                    return self._challenge(last, sent=False)
                raise ResendTooSoonError(last.created_at + resend)
            s.execute(
                update(VerificationChallenge)
                .where(
                    VerificationChallenge.conversation_id == conversation_id,
                    VerificationChallenge.status == ChallengeStatus.PENDING.value,
                )
                .values(status=ChallengeStatus.SUPERSEDED.value)
            )
            row = VerificationChallenge(
                id=challenge_id,
                conversation_id=conversation_id,
                customer_ref=customer_ref,
                channel=channel,
                destination_masked=mask_destination(channel, destination),
                code_hmac=code_hmac(self._secret, challenge_id, code),
                created_at=now,
                expires_at=now + timedelta(seconds=self._policy.ttl_seconds),
                attempts=0,
                max_attempts=self._policy.max_attempts_per_code,
                status=ChallengeStatus.PENDING.value,
            )
            s.add(row)
            challenge = self._challenge(row, sent=True)
            self._audit.record(
                s,
                actor=Actor.customer(customer_ref),
                action="identity.code_sent",
                target=Target.conversation(conversation_id),
                details={"via": "bot", "challenge_id": challenge_id, "channel": channel, "purpose": purpose},
            )

        # The notifier writes in its own transaction (the demo outbox) or calls a gateway: after commit.
        notification = Notification(
            customer_ref=customer_ref,
            channel=channel,
            destination=destination,
            body=self._body(lang, purpose, code),
            purpose=PURPOSE,
            created_at=now,
        )
        try:
            self._notifier.send(notification)
        except Exception as e:
            self._mark(challenge_id, ChallengeStatus.UNDELIVERED)
            if isinstance(e, NotifierError):
                raise
            raise NotifierError(f"the code could not be sent: {type(e).__name__}") from e
        return challenge

    # ---- verify ---------------------------------------------------------------------------------

    def verify(self, *, conversation_id: str, code: str, now: datetime | None = None) -> VerifyOutcome:
        """Check a code against the conversation's latest challenge. Every call uses one attempt."""
        now = self._now(now)
        typed = "".join(code.split())
        with transaction(self._sessions) as s:
            outcome, customer_ref = self._check(s, conversation_id, typed, now)
            if customer_ref is not None:
                self._audit.record(
                    s,
                    actor=Actor.customer(customer_ref),
                    action=f"identity.{outcome.status.value}",
                    target=Target.conversation(conversation_id),
                    details={
                        "via": "bot",
                        "challenge_id": outcome.challenge_id,
                        "attempts_left": outcome.attempts_left,
                        "locked_until": outcome.locked_until,
                    },
                )
        return outcome

    def _check(
        self, s: Session, conversation_id: str, typed: str, now: datetime
    ) -> tuple[VerifyOutcome, str | None]:
        """The outcome of one attempt and whose challenge it was (None: no challenge at all)."""
        head = self._latest(s, conversation_id)
        if head is None:
            return VerifyOutcome(VerifyStatus.NO_CHALLENGE, 0), None
        return self._attempt(s, head, typed, now), head.customer_ref

    def _attempt(self, s: Session, head: VerificationChallenge, typed: str, now: datetime) -> VerifyOutcome:
        lock = self._lock_customer(s, head.customer_ref)
        ch = s.get(VerificationChallenge, head.id, populate_existing=True, with_for_update=True)
        if ch is None:  # pragma: no cover - rows are never deleted inside a transaction
            return VerifyOutcome(VerifyStatus.NO_CHALLENGE, 0)
        if lock.locked_until is not None and lock.locked_until > now:
            return VerifyOutcome(VerifyStatus.LOCKED, 0, locked_until=lock.locked_until, challenge_id=ch.id)
        if ch.status == ChallengeStatus.EXPIRED.value or (
            ch.status == ChallengeStatus.PENDING.value and ch.expires_at <= now
        ):
            ch.status = ChallengeStatus.EXPIRED.value
            return VerifyOutcome(VerifyStatus.EXPIRED, 0, challenge_id=ch.id)
        if ch.status != ChallengeStatus.PENDING.value:
            return VerifyOutcome(VerifyStatus.NO_CHALLENGE, 0, challenge_id=ch.id)
        counted = s.execute(
            update(VerificationChallenge)
            .where(
                VerificationChallenge.id == ch.id,
                VerificationChallenge.status == ChallengeStatus.PENDING.value,
                VerificationChallenge.attempts < VerificationChallenge.max_attempts,
            )
            .values(attempts=VerificationChallenge.attempts + 1)
            .returning(VerificationChallenge.attempts, VerificationChallenge.max_attempts)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if counted is None:
            return VerifyOutcome(VerifyStatus.NO_CHALLENGE, 0, challenge_id=ch.id)
        attempts, max_attempts = counted
        left = max_attempts - attempts
        if codes_match(self._secret, ch.id, typed, ch.code_hmac):
            valid_until = now + timedelta(minutes=self._policy.verified_for_minutes)
            self._set_status(s, ch.id, ChallengeStatus.VERIFIED, verified_at=now)
            return VerifyOutcome(VerifyStatus.VERIFIED, left, valid_until=valid_until, challenge_id=ch.id)
        return self._wrong_code(s, ch, lock, left, now)

    def _wrong_code(
        self, s: Session, ch: VerificationChallenge, lock: IdentityLockout, left: int, now: datetime
    ) -> VerifyOutcome:
        s.add(
            IdentityFailure(
                customer_ref=ch.customer_ref,
                conversation_id=ch.conversation_id,
                challenge_id=ch.id,
                failed_at=now,
            )
        )
        if left <= 0:
            self._set_status(s, ch.id, ChallengeStatus.FAILED)
        s.flush()
        since = now - timedelta(minutes=self._policy.lockout_window_minutes)
        query = select(func.count()).where(
            IdentityFailure.customer_ref == ch.customer_ref, IdentityFailure.failed_at > since
        )
        if lock.locked_at is not None:
            query = query.where(IdentityFailure.failed_at > lock.locked_at)
        failures = s.scalar(query) or 0
        if failures < self._policy.lockout_after_failures:
            return VerifyOutcome(VerifyStatus.WRONG_CODE, left, challenge_id=ch.id)
        lock.locked_at = now
        lock.locked_until = now + timedelta(minutes=self._policy.lockout_minutes)
        lock.lockouts = (lock.lockouts or 0) + 1
        s.execute(
            update(VerificationChallenge)
            .where(
                VerificationChallenge.customer_ref == ch.customer_ref,
                VerificationChallenge.status == ChallengeStatus.PENDING.value,
            )
            .values(status=ChallengeStatus.LOCKED.value)
            .execution_options(synchronize_session=False)
        )
        log.warning(
            "customer %s locked out of identity verification until %s", ch.customer_ref, lock.locked_until
        )
        return VerifyOutcome(VerifyStatus.LOCKED, 0, locked_until=lock.locked_until, challenge_id=ch.id)

    # ---- status ---------------------------------------------------------------------------------

    def status(
        self, *, conversation_id: str, customer_ref: str, now: datetime | None = None
    ) -> VerificationStatus:
        """Whether this conversation is verified for this customer now, and what is pending."""
        now = self._now(now)
        with reading(self._sessions) as s:
            lock = s.get(IdentityLockout, customer_ref)
            locked_until = (
                lock.locked_until
                if lock is not None and lock.locked_until is not None and lock.locked_until > now
                else None
            )
            mine = (
                VerificationChallenge.conversation_id == conversation_id,
                VerificationChallenge.customer_ref == customer_ref,
            )
            done = s.scalar(
                select(VerificationChallenge)
                .where(*mine, VerificationChallenge.status == ChallengeStatus.VERIFIED.value)
                .order_by(VerificationChallenge.verified_at.desc())
                .limit(1)
            )
            open_row = s.scalar(
                select(VerificationChallenge)
                .where(
                    *mine,
                    VerificationChallenge.status == ChallengeStatus.PENDING.value,
                    VerificationChallenge.expires_at > now,
                )
                .order_by(VerificationChallenge.created_at.desc())
                .limit(1)
            )
            pending = None if open_row is None or locked_until else self._challenge(open_row, sent=False)
        verified_at = done.verified_at if done is not None else None
        valid_until = (
            verified_at + timedelta(minutes=self._policy.verified_for_minutes) if verified_at else None
        )
        verified = valid_until is not None and valid_until > now and locked_until is None
        return VerificationStatus(
            verified=verified,
            verified_at=verified_at,
            valid_until=valid_until,
            locked_until=locked_until,
            pending=pending,
        )

    # ---- helpers --------------------------------------------------------------------------------

    def _now(self, now: datetime | None) -> datetime:
        value = now if now is not None else self._clock()
        if value.tzinfo is None:
            raise ValidationFailedError("now must be timezone-aware", code="naive_datetime")
        return value

    def _is_open(self, row: VerificationChallenge, now: datetime) -> bool:
        return row.status == ChallengeStatus.PENDING.value and row.expires_at > now

    def _challenge(self, row: VerificationChallenge, *, sent: bool) -> Challenge:
        return Challenge(
            id=row.id,
            conversation_id=row.conversation_id,
            customer_ref=row.customer_ref,
            channel=row.channel,
            destination_masked=row.destination_masked,
            created_at=row.created_at,
            expires_at=row.expires_at,
            attempts_left=max(0, row.max_attempts - (row.attempts or 0)),
            resend_available_at=row.created_at + timedelta(seconds=self._policy.resend_interval_seconds),
            sent=sent,
        )

    def _body(self, language: str, purpose: str, code: str) -> str:
        return self._policy.messages[language].format(
            code=code,
            minutes=max(1, self._policy.ttl_seconds // 60),
            purpose=self._policy.purposes[purpose][language],
        )

    def _latest(self, s: Session, conversation_id: str) -> VerificationChallenge | None:
        return s.scalar(
            select(VerificationChallenge)
            .where(
                VerificationChallenge.conversation_id == conversation_id,
                VerificationChallenge.status.not_in(
                    (ChallengeStatus.SUPERSEDED.value, ChallengeStatus.UNDELIVERED.value)
                ),
            )
            .order_by(VerificationChallenge.created_at.desc())
            .limit(1)
        )

    def _lock_customer(self, s: Session, customer_ref: str) -> IdentityLockout:
        """Create the customer's row if needed and lock it (FOR UPDATE) for this transaction."""
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        for _attempt in range(3):
            s.execute(
                insert(IdentityLockout)
                .values(customer_ref=customer_ref, lockouts=0)
                .on_conflict_do_nothing(index_elements=["customer_ref"])
            )
            row = s.scalars(
                select(IdentityLockout)
                .where(IdentityLockout.customer_ref == customer_ref)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one_or_none()
            if row is not None:
                return row
            # Retention deleted an idle row between the two statements: create it again.
        raise ConflictError(f"could not lock identity state of {customer_ref}", code="conversation_busy")

    def _set_status(
        self, s: Session, challenge_id: str, status: ChallengeStatus, *, verified_at: datetime | None = None
    ) -> None:
        values: dict[str, object] = {"status": status.value}
        if verified_at is not None:
            values["verified_at"] = verified_at
        s.execute(
            update(VerificationChallenge)
            .where(VerificationChallenge.id == challenge_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    def _mark(self, challenge_id: str, status: ChallengeStatus) -> None:
        with transaction(self._sessions) as s:
            self._set_status(s, challenge_id, status)


def _contact(customer: Customer) -> tuple[Channel, str]:
    if customer.phone.strip():
        return "sms", customer.phone.strip()
    if customer.email and customer.email.strip():
        return "email", customer.email.strip()
    raise NoContactOnFileError(f"the bank has no phone number or e-mail address for {customer.ref}")
