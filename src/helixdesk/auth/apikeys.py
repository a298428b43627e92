"""Channel API keys (hashed at rest, revocable) and per-conversation tokens.

- A channel's back end (mobile app, WeChat adapter, ...) authenticates the customer itself and calls
  the API with its key in `X-Api-Key`. A key may act on conversations of its own channel only.
- Every conversation gets a token when it is created. The customer's device sends it as
  `Authorization: Bearer <token>` (or `?token=` on the WebSocket); it opens that conversation only.
Both are random 256-bit secrets; only their SHA-256 is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from helixdesk.audit import Actor, AuditLog, Target
from helixdesk.auth.errors import InvalidApiKeyError
from helixdesk.auth.models import ApiKey
from helixdesk.auth.service import token_hash
from helixdesk.core.clock import utcnow
from helixdesk.core.errors import NotFoundError, ValidationFailedError
from helixdesk.db.session import reading, transaction

API_KEY_PREFIX = "hdk_"
CONVERSATION_TOKEN_PREFIX = "hdc_"
SCOPES = ("conversations", "nlu", "rates:write")
CHANNELS = ("web", "app", "api", "wechat", "social", "voice")
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: str
    name: str
    channel: str
    scopes: tuple[str, ...]
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


def _view(k: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=k.id,
        name=k.name,
        channel=k.channel,
        scopes=tuple(k.scopes or ()),
        prefix=k.prefix,
        created_at=k.created_at,
        last_used_at=k.last_used_at,
        revoked_at=k.revoked_at,
    )


def new_conversation_token() -> tuple[str, str]:
    """A fresh conversation token and the hash to store."""
    token = CONVERSATION_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return token, token_hash(token)


class ApiKeys:
    def __init__(
        self, *, sessions: sessionmaker[Session], audit: AuditLog | None = None, actor: Actor | None = None
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self._actor = actor or Actor.system("api-keys")

    def _record(self, s: Session, action: str, row: ApiKey) -> None:
        if self._audit is not None:
            self._audit.record(
                s,
                actor=self._actor,
                action=action,
                target=Target("api_key", row.id),
                details={"prefix": row.prefix, "channel": row.channel, "scopes": list(row.scopes or [])},
            )

    def create(self, *, name: str, channel: str, scopes: list[str] | None = None) -> tuple[ApiKeyView, str]:
        """Create a key; the raw key is returned once and never stored."""
        if channel not in CHANNELS:
            raise ValidationFailedError(
                f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}", code="invalid_channel"
            )
        scopes = scopes or ["conversations"]
        for scope in scopes:
            if scope not in SCOPES:
                raise ValidationFailedError(
                    f"unknown scope {scope!r}; scopes are {', '.join(SCOPES)}", code="invalid_scope"
                )
        if not name.strip() or len(name) > 128:
            raise ValidationFailedError("give the key a name of 1-128 characters", code="invalid_name")
        raw = API_KEY_PREFIX + secrets.token_urlsafe(32)
        with transaction(self._sessions) as s:
            row = ApiKey(
                name=name.strip(),
                channel=channel,
                scopes=list(dict.fromkeys(scopes)),
                prefix=raw[:12],
                key_hash=token_hash(raw),
            )
            s.add(row)
            s.flush()
            self._record(s, "api_key.created", row)
            return _view(row), raw

    def verify(self, raw: str, *, now: datetime | None = None) -> ApiKeyView:
        """The key behind a raw value; unknown and revoked keys raise `invalid_api_key`."""
        if not raw.startswith(API_KEY_PREFIX) or len(raw) > 128:
            raise InvalidApiKeyError("the API key is not valid")
        now = now or utcnow()
        with reading(self._sessions) as s:
            row = s.scalar(select(ApiKey).where(ApiKey.key_hash == token_hash(raw)))
            if row is None or row.revoked_at is not None:
                raise InvalidApiKeyError("the API key is not valid or has been revoked")
            view = _view(row)
            touch = row.last_used_at is None or row.last_used_at + TOUCH_EVERY <= now
        if touch:
            with transaction(self._sessions) as s:
                current = s.get(ApiKey, view.id)
                if current is not None:
                    current.last_used_at = now
        return view

    def revoke(self, key: str) -> ApiKeyView:
        """Revoke by id or by the printed prefix (e.g. `hdk_AbCdEfGh`)."""
        with transaction(self._sessions) as s:
            rows = s.scalars(select(ApiKey).where((ApiKey.id == key) | (ApiKey.prefix == key))).all()
            if not rows:
                raise NotFoundError(f"no API key {key!r}", code="api_key_not_found")
            if len(rows) > 1:
                raise ValidationFailedError(f"{key!r} matches several keys; use the id", code="ambiguous_key")
            row = rows[0]
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                self._record(s, "api_key.revoked", row)
            return _view(row)

    def list(self) -> list[ApiKeyView]:
        with reading(self._sessions) as s:
            return [_view(k) for k in s.scalars(select(ApiKey).order_by(ApiKey.created_at))]


@dataclass(frozen=True, slots=True)
class ChannelCaller:
    """Who is calling the customer API: a channel's key, a conversation's token, or neither."""

    api_key: ApiKeyView | None = None
    token: str | None = None
    ip: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.api_key is None and self.token is None
