"""The platforms file (`social_platforms_file`, docs/channels.md): each platform's shared secret,
signature scheme, payload mapping and outbound URL, read and checked once at start-up.

`${NAME}` in any string is replaced by the environment variable NAME (upper case), so secrets and
URLs stay out of the file. Anything wrong stops the start with a stable code:
`social_config_missing` (no file), `social_config_invalid` (not YAML, an unknown or missing key, a
bad value), `social_mapping_invalid` (a path or a body placeholder that cannot work) and
`social_secret_missing` (a secret, or the variable holding it, unset or shorter than 16).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path as FilePath
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helixdesk.channels.social.errors import SocialConfigError
from helixdesk.channels.social.mapping import TIME_FORMATS, Mapping
from helixdesk.channels.social.outbound import PLACEHOLDERS, Outbound, placeholders_in
from helixdesk.channels.social.paths import BadPathError, Path
from helixdesk.channels.social.signing import SignatureScheme

PLATFORM_NAME = r"^[a-z0-9][a-z0-9_-]{0,15}$"  # also the feedback items' channel
MIN_SECRET = 16
_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")
_HEADER = r"^[A-Za-z0-9-]{1,64}$"

Kind = Literal["direct_message", "comment"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignatureIn(_Strict):
    header: str = Field(pattern=_HEADER)
    encoding: Literal["hex", "base64"] = "hex"
    prefix: str = Field(default="", max_length=32)
    timestamp_header: str | None = Field(default=None, pattern=_HEADER)
    tolerance_seconds: int = Field(default=300, ge=1, le=86400)
    signed: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _template(self) -> SignatureIn:
        signed = self.signed
        if signed is None:
            return self
        if signed.count("{body}") != 1:
            raise ValueError("signed must hold {body} exactly once")
        if ("{timestamp}" in signed) != (self.timestamp_header is not None):
            raise ValueError("signed holds {timestamp} exactly when there is a timestamp_header")
        if set(re.findall(r"\{([^}]*)\}", signed)) - {"body", "timestamp"}:
            raise ValueError("signed may hold only {body} and {timestamp}")
        return self

    def scheme(self) -> SignatureScheme:
        default = "{timestamp}.{body}" if self.timestamp_header else "{body}"
        return SignatureScheme(
            header=self.header,
            encoding=self.encoding,
            prefix=self.prefix,
            timestamp_header=self.timestamp_header,
            tolerance_seconds=self.tolerance_seconds,
            signed=self.signed or default,
        )


_PathText = Annotated[str, Field(max_length=200)]


class FieldsIn(_Strict):
    id: _PathText
    text: _PathText
    author_id: _PathText
    kind: _PathText | None = None
    author_name: _PathText | None = None
    created_at: _PathText | None = None
    language: _PathText | None = None
    reply_to: _PathText | None = None


class OutboundIn(_Strict):
    url: str = Field(pattern=r"^https?://\S+$", max_length=2000)
    secret: str | None = None  # default: the platform's secret
    signature: SignatureIn | None = None  # default: the platform's scheme
    body: dict[str, Any] = Field(min_length=1)
    timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    max_age_hours: float = Field(default=24.0, gt=0, le=24 * 30)


class PlatformIn(_Strict):
    secret: str
    signature: SignatureIn
    fields: FieldsIn
    events: _PathText | None = None
    kinds: dict[str, Kind] = Field(default_factory=dict)
    default_kind: Kind | None = None
    created_at_format: str = Field(default="iso", max_length=64)
    skip_without: list[_PathText] = Field(default_factory=list, max_length=8)
    skip_if: list[_PathText] = Field(default_factory=list, max_length=8)
    outbound: OutboundIn | None = None

    @model_validator(mode="after")
    def _kinds(self) -> PlatformIn:
        if self.fields.kind is None and self.default_kind is None:
            raise ValueError("give fields.kind with kinds, or default_kind")
        if self.fields.kind is not None and not self.kinds:
            raise ValueError("fields.kind needs kinds: the platform's values and what each is")
        fmt = self.created_at_format
        if fmt not in TIME_FORMATS and "%z" not in fmt:
            raise ValueError(
                f"created_at_format is one of {', '.join(TIME_FORMATS)}, or a strptime format with %z"
            )
        return self


class PlatformsIn(_Strict):
    platforms: dict[Annotated[str, Field(pattern=PLATFORM_NAME)], PlatformIn] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Platform:
    name: str
    secret: bytes
    scheme: SignatureScheme
    mapping: Mapping
    outbound: Outbound | None


def load_platforms(file: FilePath, environ: MappingType[str, str] | None = None) -> dict[str, Platform]:
    """Read and check the platforms file; `environ` (default: the process's) fills `${NAME}`."""
    env = os.environ if environ is None else environ
    if not file.is_file():
        raise SocialConfigError(f"no social platforms file at {file}", code="social_config_missing")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise SocialConfigError(f"{file}: not valid UTF-8 YAML: {e}") from e
    if not isinstance(raw, dict):
        raise SocialConfigError(f"{file}: must hold a mapping with `platforms`")
    raw = _expand(raw, env, file, ())
    try:
        parsed = PlatformsIn.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in e.errors()
        )
        raise SocialConfigError(f"{file}: {problems}") from e
    return {name: _platform(file, name, p) for name, p in parsed.platforms.items()}


def _expand(value: Any, env: MappingType[str, str], file: FilePath, where: tuple[str, ...]) -> Any:
    if isinstance(value, str):

        def one(m: re.Match[str]) -> str:
            if m.group(1) not in env:
                code = "social_secret_missing" if where[-1:] == ("secret",) else "social_config_invalid"
                raise SocialConfigError(
                    f"{file}: {'.'.join(where)} names the environment variable {m.group(1)}, which is not set",
                    code=code,
                )
            return env[m.group(1)]

        return _ENV.sub(one, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, file, (*where, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, file, (*where, str(i))) for i, v in enumerate(value)]
    return value


def _secret(file: FilePath, where: str, value: str) -> bytes:
    if len(value) < MIN_SECRET:
        raise SocialConfigError(
            f"{file}: {where} must have at least {MIN_SECRET} characters", code="social_secret_missing"
        )
    return value.encode()


def _platform(file: FilePath, name: str, p: PlatformIn) -> Platform:
    def parse(key: str, text: str, *, wildcard: bool = False) -> Path:
        try:
            return Path.parse(text, wildcard=wildcard)
        except BadPathError as e:
            raise SocialConfigError(
                f"{file}: platforms.{name}.{key}: {e}", code="social_mapping_invalid"
            ) from e

    def maybe(key: str, text: str | None, *, wildcard: bool = False) -> Path | None:
        return None if text is None else parse(key, text, wildcard=wildcard)

    f = p.fields
    mapping = Mapping(
        event_id=parse("fields.id", f.id),
        text=parse("fields.text", f.text),
        author_id=parse("fields.author_id", f.author_id),
        kind=maybe("fields.kind", f.kind),
        author_name=maybe("fields.author_name", f.author_name),
        created_at=maybe("fields.created_at", f.created_at),
        language=maybe("fields.language", f.language),
        reply_to=maybe("fields.reply_to", f.reply_to),
        events=maybe("events", p.events, wildcard=True),
        kinds=dict(p.kinds),
        default_kind=p.default_kind,
        time_format=p.created_at_format,
        skip_without=tuple(parse("skip_without", t) for t in p.skip_without),
        skip_if=tuple(parse("skip_if", t) for t in p.skip_if),
    )
    secret = _secret(file, f"platforms.{name}.secret", p.secret)
    scheme = p.signature.scheme()
    outbound = None
    if p.outbound is not None:
        o = p.outbound
        used = placeholders_in(o.body)
        unknown = used - set(PLACEHOLDERS)
        if unknown or "text" not in used:
            raise SocialConfigError(
                f"{file}: platforms.{name}.outbound.body must use {{text}} and only "
                f"{', '.join('{' + n + '}' for n in PLACEHOLDERS)}"
                + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else ""),
                code="social_mapping_invalid",
            )
        outbound = Outbound(
            url=o.url,
            secret=_secret(file, f"platforms.{name}.outbound.secret", o.secret) if o.secret else secret,
            scheme=o.signature.scheme() if o.signature else scheme,
            body=o.body,
            timeout_seconds=o.timeout_seconds,
            max_age=timedelta(hours=o.max_age_hours),
        )
    return Platform(name=name, secret=secret, scheme=scheme, mapping=mapping, outbound=outbound)
