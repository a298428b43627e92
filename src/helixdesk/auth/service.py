"""Staff accounts and sessions: create, disable, reset passwords, sign in with lock-out, sign out.

Every write goes through these functions; they open their own transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.auth.errors import (
    AccountDisabledError,
    AccountLockedError,
    InvalidCredentialsError,
    UserExistsError,
    UserNotFoundError,
)
from helixdesk.auth.models import PresenceChange, StaffSession, StaffUser
from helixdesk.auth.passwords import check_password, hash_password, needs_rehash, verify_password
from helixdesk.auth.roles import (
    can_edit_knowledge,
    can_label,
    can_manage_incidents,
    can_release_models,
    check_roles,
    is_admin,
    is_supervisor,
)
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import ValidationFailedError
from helixdesk.core.languages import LANGUAGES as REPLY_LANGUAGES
from helixdesk.db.session import reading, transaction
from helixdesk.routing.queues import queues_for

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LANGUAGES = ("zh", "en")
PRESENCE = ("online", "away", "offline")
UI_LANGUAGES = REPLY_LANGUAGES
# A session's last-seen time is written at most this often (fewer writes on busy pages).
TOUCH_EVERY = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StaffView:
    id: str
    username: str
    display_name: str
    roles: tuple[str, ...]
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    employee_code: str | None
    max_concurrent: int
    presence: str
    ui_language: str
    disabled: bool
    locked_until: datetime | None

    @property
    def queues(self) -> tuple[str, ...]:
        return queues_for(self.roles)

    @property
    def is_supervisor(self) -> bool:
        return is_supervisor(self.roles)

    @property
    def is_admin(self) -> bool:
        return is_admin(self.roles)

    @property
    def can_edit_knowledge(self) -> bool:
        return can_edit_knowledge(self.roles)

    @property
    def can_manage_incidents(self) -> bool:
        return can_manage_incidents(self.roles)

    @property
    def can_label(self) -> bool:
        return can_label(self.roles)

    @property
    def can_release_models(self) -> bool:
        return can_release_models(self.roles)

    @property
    def role_label(self) -> str:
        """The role shown to customers and colleagues: the most specific working role."""
        for role in ("fraud", "relationship_manager", "senior", "supervisor", "agent", "admin"):
            if role in self.roles:
                return role
        return "agent"


def staff_view(u: StaffUser) -> StaffView:
    return StaffView(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        roles=tuple(u.roles or ()),
        languages=tuple(u.languages or ()),
        skills=tuple(u.skills or ()),
        employee_code=u.employee_code,
        max_concurrent=u.max_concurrent,
        presence=u.presence,
        ui_language=u.ui_language,
        disabled=u.disabled,
        locked_until=u.locked_until,
    )


def staff_names(s: Session, ids: Iterable[str | None]) -> dict[str, str]:
    """The display names of the staff members named by `ids` (empty and unknown ones left out)."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    rows = s.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(wanted)))
    return {i: n for i, n in rows}


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: StaffView
    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SessionView:
    user: StaffView
    csrf_token: str
    expires_at: datetime


class StaffAccounts:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        max_failures: int = 5,
        lockout: timedelta = timedelta(minutes=15),
        idle: timedelta = timedelta(minutes=30),
        max_age: timedelta = timedelta(hours=12),
        password_min_length: int = 12,
        audit: AuditLog | None = None,
        actor: Actor | None = None,
    ) -> None:
        """`actor`: who changes accounts through this object (an operator's command); staff
        sign-ins are recorded as the person signing in."""
        self._audit = audit
        self._actor = actor or Actor.system("accounts")
        self._sessions = sessions
        self.max_failures = max_failures
        self.lockout = lockout
        self.idle = idle
        self.max_age = max_age
        self.password_min_length = password_min_length

    # ---- accounts -------------------------------------------------------------------------------

    def check_new_user(
        self,
        *,
        username: str,
        password: str,
        roles: Iterable[str],
        languages: Iterable[str],
        max_concurrent: int,
    ) -> tuple[str, list[str], list[str]]:
        name = username.strip().lower()
        if not USERNAME.fullmatch(name):
            raise ValidationFailedError(
                "user names are 2-64 characters: lower-case letters, digits, '.', '_' or '-'",
                code="invalid_username",
            )
        try:
            role_list = check_roles(roles)
        except ValueError as e:
            raise ValidationFailedError(str(e), code="invalid_role") from e
        langs = [x.strip() for x in languages if x.strip()] or ["zh"]
        for lang in langs:
            if lang not in LANGUAGES:
                raise ValidationFailedError(
                    f"unknown language {lang!r}; use {' or '.join(LANGUAGES)}", code="invalid_language"
                )
        if not 1 <= max_concurrent <= 20:
            raise ValidationFailedError("max concurrent chats must be 1-20", code="invalid_capacity")
        check_password(password, username=name, min_length=self.password_min_length)
        return name, role_list, langs

    def create_user(
        self,
        *,
        username: str,
        password: str,
        display_name: str,
        roles: Sequence[str],
        languages: Sequence[str] = ("zh",),
        skills: Sequence[str] = (),
        employee_code: str | None = None,
        max_concurrent: int = 3,
        ui_language: str = "zh-Hans",
    ) -> StaffView:
        name, role_list, langs = self.check_new_user(
            username=username,
            password=password,
            roles=roles,
            languages=languages,
            max_concurrent=max_concurrent,
        )
        if ui_language not in UI_LANGUAGES:
            raise ValidationFailedError(f"ui_language must be one of {UI_LANGUAGES}", code="invalid_language")
        hashed = hash_password(password)
        with transaction(self._sessions) as s:
            if s.scalar(select(StaffUser.id).where(StaffUser.username == name)) is not None:
                raise UserExistsError(f"a user named {name!r} already exists")
            if employee_code and s.scalar(
                select(StaffUser.id).where(StaffUser.employee_code == employee_code)
            ):
                raise UserExistsError(f"employee code {employee_code!r} is already in use")
            user = StaffUser(
                username=name,
                display_name=display_name.strip() or name,
                password_hash=hashed,
                roles=role_list,
                languages=langs,
                skills=[x.strip() for x in skills if x.strip()],
                employee_code=employee_code or None,
                max_concurrent=max_concurrent,
                ui_language=ui_language,
            )
            s.add(user)
            s.flush()
            self._record(s, "staff.created", user, roles=role_list)
            return staff_view(user)

    def get(self, username: str) -> StaffView:
        with reading(self._sessions) as s:
            return staff_view(self._user(s, username))

    def by_id(self, user_id: str) -> StaffView | None:
        with reading(self._sessions) as s:
            u = s.get(StaffUser, user_id)
            return None if u is None else staff_view(u)

    def list_users(self) -> list[StaffView]:
        with reading(self._sessions) as s:
            return [staff_view(u) for u in s.scalars(select(StaffUser).order_by(StaffUser.username))]

    def set_disabled(self, username: str, disabled: bool) -> StaffView:
        """Disable (or enable again) an account; disabling signs the person out everywhere."""
        with transaction(self._sessions) as s:
            user = self._user(s, username)
            user.disabled = disabled
            self._record(s, "staff.disabled" if disabled else "staff.enabled", user)
            if disabled:
                if user.presence != "offline":
                    s.add(PresenceChange(user_id=user.id, presence="offline", at=utcnow()))
                user.presence = "offline"
                s.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            return staff_view(user)

    def reset_password(self, username: str, password: str) -> StaffView:
        """Set a new password, clear any lock-out and sign the person out everywhere."""
        with transaction(self._sessions) as s:
            user = self._user(s, username)
            check_password(password, username=user.username, min_length=self.password_min_length)
            user.password_hash = hash_password(password)
            user.password_changed_at = utcnow()
            user.failed_logins = 0
            user.locked_until = None
            s.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            self._record(s, "staff.password_reset", user)
            return staff_view(user)

    def set_ui_language(self, user_id: str, language: str) -> None:
        if language not in UI_LANGUAGES:
            raise ValidationFailedError(f"language must be one of {UI_LANGUAGES}", code="invalid_language")
        with transaction(self._sessions) as s:
            user = s.get(StaffUser, user_id)
            if user is not None:
                user.ui_language = language

    def _record(
        self, s: Session, action: str, user: StaffUser, *, actor: Actor | None = None, **details: Any
    ) -> None:
        if self._audit is not None:
            self._audit.record(
                s,
                actor=actor or self._actor,
                action=action,
                target=Target("staff", user.id),
                details={"username": user.username, **details},
            )

    @staticmethod
    def _user(s: Session, username: str) -> StaffUser:
        user = s.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
        if user is None:
            raise UserNotFoundError(f"no user named {username!r}")
        return user

    # ---- signing in -----------------------------------------------------------------------------

    def sign_in(
        self,
        username: str,
        password: str,
        *,
        now: datetime | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> SignedIn:
        """Check the password; repeated failures lock the account for a while."""
        now = now or utcnow()
        name = username.strip().lower()
        with reading(self._sessions) as s:
            found = s.scalar(select(StaffUser).where(StaffUser.username == name))
            stored_hash = found.password_hash if found is not None else None
        # Hash outside the transaction (tens of milliseconds), also for unknown names.
        ok = verify_password(stored_hash, password)
        with transaction(self._sessions) as s:
            user = s.scalar(select(StaffUser).where(StaffUser.username == name).with_for_update())
            if user is None:
                raise InvalidCredentialsError("wrong user name or password")
            if user.locked_until is not None and user.locked_until > now:
                raise AccountLockedError(
                    f"too many failed sign-ins; try again after {user.locked_until:%H:%M} UTC "
                    "or ask an administrator to reset the password"
                )
            me = Actor.staff(user.id, ip=ip, channel="console")
            if not ok or user.password_hash != stored_hash:
                user.failed_logins += 1
                self._record(s, "staff.sign_in_failed", user, actor=me)
                if user.failed_logins >= self.max_failures:
                    user.failed_logins = 0
                    user.locked_until = now + self.lockout
                    self._record(
                        s, "staff.locked", user, actor=me, minutes=int(self.lockout.total_seconds() // 60)
                    )
                return_error: Exception = InvalidCredentialsError("wrong user name or password")
            elif user.disabled:
                return_error = AccountDisabledError("this account is disabled")
            else:
                user.failed_logins = 0
                user.locked_until = None
                if needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                token = secrets.token_urlsafe(32)
                csrf = secrets.token_urlsafe(32)
                expires = now + self.max_age
                s.add(
                    StaffSession(
                        token_hash=token_hash(token),
                        user_id=user.id,
                        csrf_token=csrf,
                        created_at=now,
                        last_seen_at=now,
                        expires_at=expires,
                        ip=(ip or "")[:64] or None,
                        user_agent=(user_agent or "")[:256] or None,
                    )
                )
                self._record(s, "staff.signed_in", user, actor=me)
                return SignedIn(user=staff_view(user), token=token, csrf_token=csrf, expires_at=expires)
        # Failed attempts are counted (committed above) before the error is raised.
        raise return_error

    def session(self, token: str, *, now: datetime | None = None, touch: bool = True) -> SessionView | None:
        """The signed-in person behind a session cookie, or None (unknown, expired, idle, disabled).

        `touch=False` checks without counting as activity (an open live stream re-checking)."""
        if not token or len(token) > 128:
            return None
        now = now or utcnow()
        key = token_hash(token)
        with reading(self._sessions) as s:
            row = s.get(StaffSession, key)
            if row is None:
                return None
            user = s.get(StaffUser, row.user_id)
            expired = row.expires_at <= now or row.last_seen_at + self.idle <= now
            if user is None or user.disabled or expired:
                stale = True
            else:
                stale = False
                view = SessionView(
                    user=staff_view(user), csrf_token=row.csrf_token, expires_at=row.expires_at
                )
                touch = touch and row.last_seen_at + TOUCH_EVERY <= now
        if stale:
            with transaction(self._sessions) as s:
                s.execute(delete(StaffSession).where(StaffSession.token_hash == key))
            return None
        if touch:
            with transaction(self._sessions) as s:
                current = s.get(StaffSession, key)
                if current is not None:
                    current.last_seen_at = now
        return view

    def sign_out(self, token: str) -> None:
        with transaction(self._sessions) as s:
            s.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))

    def purge_sessions(self, *, now: datetime | None = None) -> int:
        """Delete expired sessions; returns how many."""
        now = now or utcnow()
        with transaction(self._sessions) as s:
            result = s.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
            return int(getattr(result, "rowcount", 0) or 0)
