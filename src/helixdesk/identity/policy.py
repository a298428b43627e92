"""The identity step-up policy: data in the pack (`policies/identity.yaml`), validated here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.languages import LANGUAGES
from helixdesk.packs.loader import PACKS_DIR

POLICY_FILE = Path("policies") / "identity.yaml"

_Texts = Annotated[dict[str, Annotated[str, Field(min_length=1, max_length=500)]], Field(min_length=1)]


class IdentityPolicyError(ConfigurationError):
    code = "identity_policy_invalid"


class IdentityPolicy(BaseModel):
    """Limits of the one-time-code step-up. Every field is required in the file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code_length: int = Field(ge=4, le=10)
    ttl_seconds: int = Field(ge=30, le=3600)
    max_attempts_per_code: int = Field(ge=1, le=10)
    lockout_after_failures: int = Field(ge=1, le=100)
    lockout_window_minutes: int = Field(ge=1, le=7 * 24 * 60)
    lockout_minutes: int = Field(ge=1, le=7 * 24 * 60)
    resend_interval_seconds: int = Field(ge=0, le=3600)
    verified_for_minutes: int = Field(ge=1, le=24 * 60)
    messages: _Texts
    purposes: dict[str, _Texts] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> IdentityPolicy:
        for lang in LANGUAGES:
            template = self.messages.get(lang)
            if template is None:
                raise ValueError(f"messages.{lang} is missing")
            for field in ("{code}", "{minutes}"):
                if field not in template:
                    raise ValueError(f"messages.{lang} must contain {field}")
            try:
                template.format(code="0", minutes=1, purpose="x")
            except (KeyError, IndexError, ValueError) as e:
                raise ValueError(f"messages.{lang} has a bad placeholder: {e}") from e
        for name, texts in self.purposes.items():
            missing = [lang for lang in LANGUAGES if lang not in texts]
            if missing:
                raise ValueError(f"purposes.{name} lacks {', '.join(missing)}")
        return self


def identity_policy_path(pack: str = "retail_bank") -> Path:
    return PACKS_DIR / pack / POLICY_FILE


def load_identity_policy(pack: str = "retail_bank", *, path: Path | None = None) -> IdentityPolicy:
    """Read and validate the pack's identity policy (or the file at `path`).

    Raises `IdentityPolicyError` (`identity_policy_invalid`) naming the file and the bad field.
    """
    file = path or identity_policy_path(pack)
    if not file.is_file():
        raise IdentityPolicyError(f"no identity policy at {file}", code="identity_policy_missing")
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise IdentityPolicyError(f"{file}: not valid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise IdentityPolicyError(f"{file}: must hold a mapping")
    try:
        return IdentityPolicy.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'policy'}: {err['msg']}" for err in e.errors()
        )
        raise IdentityPolicyError(f"{file}: {problems}") from e
