"""Binding an openid to a bank customer, as a short exchange in the chat.

"绑定" / "bind" (or the menu key `HELIXDESK_BIND`) → the phone number on file or the customer number →
a one-time code sent to the phone on file by the identity service (`helixdesk.identity`) → the code → bound.

The chat cannot be used to find out which numbers are the bank's: every answer is the same whether
or not the number is known, or a code could be sent to it.
- After the number: "if that number is ours, a code was sent". The code is sent after that answer
  is given (`BindTurn.send_code`, `Binder.send_code`), so the answer does not wait for the identity
  service either; a code that cannot be sent (one was sent to that customer a moment ago from
  another conversation, the customer is locked out, has no phone, the SMS gateway is down) is
  logged, and the answer stays the same.
- After a code: a wrong code gets "N tries left" counted here (the step `code`, `code1`, ...), from
  the identity policy's attempts per code, until the last try ends the binding: a number nobody has
  gets the same answers, and so does a known one whose code was not sent.
Binding is audited (`wechat.bound`, in the same transaction).

"解绑" / "解綁" / "unbind" removes the binding (audited `wechat.unbound`); the openid's next messages
go to a conversation of an anonymous visitor again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.bank.connector import BankConnector
from helixdesk.channels.wechat.models import WeChatUser
from helixdesk.channels.wechat.store import Outgoing, UserView, WeChatStore
from helixdesk.channels.wechat.texts import BIND_WORDS, CANCEL_WORDS, UNBIND_WORDS, command, say
from helixdesk.conversations.models import Sender
from helixdesk.core.clock import utcnow
from helixdesk.db.session import transaction
from helixdesk.identity import (
    IdentityLockedError,
    NoContactOnFileError,
    ResendTooSoonError,
    VerificationService,
    VerifyStatus,
    looks_like_code,
)
from helixdesk.notifications import NotifierError

log = logging.getLogger(__name__)

_REF = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_CODE_STEP = re.compile(r"^code(\d?)$")  # waiting for the code; the digit: wrong codes so far
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


def e164(said: str) -> str | None:
    """A phone number as the bank stores it (E.164), from what a customer types: a mainland mobile
    ("138 1234 5678", "+86 13812345678", "8613812345678") or any number with its "+" country code."""
    text = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", said))
    if re.fullmatch(r"1[3-9]\d{9}", text):
        return f"+86{text}"
    if re.fullmatch(r"861[3-9]\d{9}", text):
        return f"+{text}"
    if re.fullmatch(r"\+[1-9]\d{6,14}", text):
        return text
    return None


@dataclass(frozen=True, slots=True)
class Rebound:
    """The openid now belongs to `customer_ref` (None: to nobody, it was unbound)."""

    customer_ref: str | None


@dataclass(frozen=True, slots=True)
class CodeRequest:
    """A one-time code to send once the answer has been given."""

    conversation_id: str
    customer_ref: str
    language: str


@dataclass(frozen=True, slots=True)
class BindTurn:
    """One message of the exchange: what to say, whom the openid now belongs to when that changed,
    and a code to send after the answer (`Binder.send_code`)."""

    out: list[Outgoing]
    bound: Rebound | None = None
    send_code: CodeRequest | None = None


def _wrong_codes(step: str | None) -> int | None:
    """How many wrong codes were typed in the code step; None: not waiting for a code."""
    m = _CODE_STEP.match(step or "")
    return None if m is None else int(m.group(1) or 0)


def wants_binding(user: UserView, text: str) -> bool:
    words = command(text)
    return user.bind_step is not None or words in BIND_WORDS or words in UNBIND_WORDS


class Binder:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        store: WeChatStore,
        identity: VerificationService,
        bank: BankConnector,
        audit: AuditLog,
    ) -> None:
        self._sessions = sessions
        self._store = store
        self._identity = identity
        self._bank = bank
        self._audit = audit

    def turn(self, user: UserView, conversation_id: str, text: str, key: str, language: str) -> BindTurn:
        """One message of the binding exchange."""
        said = self._store.seen(conversation_id, key)
        if said is not None:
            return BindTurn(said)  # a retry: the same answer, no second code
        words = command(text)
        if user.bind_step is not None and user.bind_language:
            language = user.bind_language  # a customer number or a code says nothing of the language
        bound: Rebound | None = None
        send: CodeRequest | None = None
        expect_code = _wrong_codes(user.bind_step) is not None
        if user.bind_step is not None and words in CANCEL_WORDS:
            self._store.set_bind(user.id, step=None, ref=None)
            reply = say("bind_cancelled", language)
        elif user.bind_step is None and words in UNBIND_WORDS:
            if user.customer_ref is None:
                reply = say("unbind_none", language)
            else:
                self._unbind(user, conversation_id)
                reply, bound = say("unbind_done", language), Rebound(None)
        elif user.bind_step is None:
            if user.customer_ref is not None:
                reply = say("bind_already", language)
            else:
                self._store.set_bind(user.id, step="ref", ref=None, language=language)
                reply = say("bind_ask_ref", language)
        elif user.bind_step == "ref":
            reply, send = self._ref(user, conversation_id, text.strip(), language)
        else:
            reply, ref = self._code(user, conversation_id, text, language)
            bound = Rebound(ref) if ref is not None else None
        out, _ = self._store.store_with_ack(
            conversation_id,
            sender=Sender.CUSTOMER,
            text=text,
            meta={"wechat": {"step": "bind"}},
            client_message_id=key,
            ack=reply,
            expect_code=expect_code,
            always_ack=True,
        )
        return BindTurn(out, bound, send)

    def _ref(
        self, user: UserView, conversation_id: str, said: str, language: str
    ) -> tuple[str, CodeRequest | None]:
        phone = e164(said)
        if phone is not None:
            customer = self._bank.find_by_phone(phone)
            ref = customer.ref if customer is not None else None
        elif _REF.match(said):
            ref = said.upper()
            ref = ref if self._bank.get_customer(ref) is not None else None
        else:
            return say("bind_bad_ref", language), None
        self._store.set_bind(user.id, step="code", ref=ref)
        send = None if ref is None else CodeRequest(conversation_id, ref, language)
        return say("bind_code_sent", language), send

    def send_code(self, request: CodeRequest) -> None:
        """Send the binding's one-time code (after the answer was given). A code that cannot be sent
        is logged; the customer's answer was the same either way."""
        try:
            self._identity.start(
                conversation_id=request.conversation_id,
                customer_ref=request.customer_ref,
                language=request.language,
            )
        except (ResendTooSoonError, IdentityLockedError, NoContactOnFileError, NotifierError) as e:
            log.info("no WeChat binding code was sent: %s", type(e).__name__)

    def _code(self, user: UserView, conversation_id: str, text: str, language: str) -> tuple[str, str | None]:
        code = looks_like_code(text, self._identity.policy.code_length)
        if code is None:
            return say("bind_ask_code", language), None
        verified = (
            user.bind_ref is not None
            and self._identity.verify(conversation_id=conversation_id, code=code).status
            == VerifyStatus.VERIFIED
        )
        if not verified:
            # Counted here, not by the identity service, so that a number nobody has (no code
            # to check) and a known one get the same answers.
            wrong = (_wrong_codes(user.bind_step) or 0) + 1
            left = self._identity.policy.max_attempts_per_code - wrong
            if left > 0:
                self._store.set_bind(user.id, step=f"code{wrong}", ref=user.bind_ref)
                return say("bind_wrong_code", language, left=left), None
            self._store.set_bind(user.id, step=None, ref=None)
            return say("bind_failed", language), None
        ref = user.bind_ref
        assert ref is not None
        with transaction(self._sessions) as s:
            s.execute(
                update(WeChatUser)
                .where(WeChatUser.id == user.id)
                .values(customer_ref=ref, bound_at=utcnow(), bind_step=None, bind_ref=None)
            )
            self._record(s, "wechat.bound", user, ref, conversation_id)
        return say("bind_done", language), ref

    def _record(self, s: Session, action: str, user: UserView, ref: str, conversation_id: str) -> None:
        """Audit a binding change; the openid itself stays in wechat_users, the log keeps a
        fingerprint."""
        self._audit.record(
            s,
            actor=Actor.customer(ref, channel="wechat"),
            action=action,
            target=Target.customer(ref),
            details={
                "account": user.account,
                "openid_sha256": hashlib.sha256(user.openid.encode()).hexdigest()[:16],
                "conversation_id": conversation_id,
            },
            customer_ref=ref,
        )

    def _unbind(self, user: UserView, conversation_id: str) -> None:
        ref = user.customer_ref
        assert ref is not None
        with transaction(self._sessions) as s:
            s.execute(
                update(WeChatUser)
                .where(WeChatUser.id == user.id)
                .values(customer_ref=None, bound_at=None, bind_step=None, bind_ref=None)
            )
            self._record(s, "wechat.unbound", user, ref, conversation_id)
