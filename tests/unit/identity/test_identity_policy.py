"""The identity policy file and the HMAC secret: loaded, validated, failing with clear codes."""

from __future__ import annotations

import stat

import pytest
import yaml
from pydantic import ValidationError

from helixdesk.core.errors import ConfigurationError
from helixdesk.core.secrets import resolve_secret_key, secret_key_file
from helixdesk.core.settings import Settings
from helixdesk.identity import IdentityPolicyError, load_identity_policy
from helixdesk.identity.policy import identity_policy_path


def test_the_pack_policy_loads():
    p = load_identity_policy("retail_bank")
    assert (p.code_length, p.ttl_seconds, p.max_attempts_per_code) == (6, 300, 3)
    assert (p.lockout_after_failures, p.lockout_window_minutes, p.lockout_minutes) == (5, 30, 30)
    assert (p.resend_interval_seconds, p.verified_for_minutes) == (60, 30)
    assert set(p.messages) == {"zh-Hans", "zh-Hant", "en"}


def _write(tmp_path, **changes):
    raw = yaml.safe_load(identity_policy_path().read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "identity.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"code_length": 2}, "code_length"),
        ({"ttl_seconds": "five minutes"}, "ttl_seconds"),
        ({"max_attempts_per_code": 0}, "max_attempts_per_code"),
        ({"lockout_minutes": -1}, "lockout_minutes"),
        ({"surprise": 1}, "surprise"),
        (
            {"messages": {"zh-Hans": "验证码 {code}", "zh-Hant": "{code}{minutes}", "en": "{code}{minutes}"}},
            "{minutes}",
        ),
        ({"messages": {"zh-Hans": "{code}{minutes}", "en": "{code}{minutes}"}}, "zh-Hant"),
        ({"purposes": {"service_chat": {"en": "x"}}}, "purposes.service_chat"),
    ],
)
def test_bad_values_fail_with_a_clear_code(tmp_path, changes, needle):
    with pytest.raises(IdentityPolicyError) as e:
        load_identity_policy(path=_write(tmp_path, **changes))
    assert e.value.code == "identity_policy_invalid"
    assert needle in e.value.detail


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(IdentityPolicyError) as e:
        load_identity_policy(path=tmp_path / "nope.yaml")
    assert e.value.code == "identity_policy_missing"
    bad = tmp_path / "bad.yaml"
    bad.write_text("code_length: [6\n", encoding="utf-8")
    with pytest.raises(IdentityPolicyError) as e:
        load_identity_policy(path=bad)
    assert e.value.code == "identity_policy_invalid"


def test_secret_key_setting_is_used_and_hidden():
    s = Settings(_env_file=None, database_url="sqlite:///:memory:", secret_key="s" * 40)
    assert resolve_secret_key(s) == b"s" * 40
    assert "sss" not in repr(s)


def test_short_secret_key_is_refused_without_echoing_it():
    with pytest.raises(ValidationError) as e:
        Settings(_env_file=None, secret_key="tooshort-secret")
    assert "secret_key" in str(e.value) and "tooshort-secret" not in str(e.value)


def test_generated_key_is_persisted_privately(tmp_path):
    s = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'var' / 'h.db'}")
    first = resolve_secret_key(s)
    file = secret_key_file(s)
    assert file == tmp_path / "var" / "secret_key"
    assert len(first) == 64
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert resolve_secret_key(s) == first
    assert [p.name for p in file.parent.iterdir() if p.name.startswith(".")] == []


def test_corrupt_key_file_is_reported(tmp_path):
    s = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'h.db'}")
    secret_key_file(s).write_text("short\n", encoding="ascii")
    with pytest.raises(ConfigurationError) as e:
        resolve_secret_key(s)
    assert e.value.code == "secret_key_invalid"
