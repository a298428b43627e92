"""The AES-GCM keyring: tokens carry their key id, any known key decrypts, bad keys fail clearly."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from helixdesk.core.errors import AppError
from helixdesk.core.settings import Settings
from helixdesk.privacy.crypto import Keyring, generate_key, is_encrypted, key_id_of, parse_keys
from helixdesk.privacy.keys import keys_file, resolve_keyring

OLD = generate_key("k2025")
NEW = generate_key("k2026")


def test_round_trip_with_the_active_key() -> None:
    ring = Keyring.parse(OLD)
    token = ring.encrypt("6222021234567890128", aad="pii_values:m1:0")
    assert is_encrypted(token) and token.startswith("hx1:k2025:") and key_id_of(token) == "k2025"
    assert "6222021234567890128" not in token
    assert ring.decrypt(token, aad="pii_values:m1:0") == "6222021234567890128"
    assert ring.encrypt("x", aad="a") != ring.encrypt("x", aad="a")  # a fresh nonce each time
    assert ring.is_current(token)


def test_any_known_key_decrypts_and_the_active_one_encrypts() -> None:
    old_token = Keyring.parse(OLD).encrypt("秘密", aad="a")
    both = Keyring.parse(f"{OLD},{NEW}", active="k2026")
    assert both.decrypt(old_token, aad="a") == "秘密"
    assert not both.is_current(old_token)
    assert key_id_of(both.encrypt("秘密", aad="a")) == "k2026"
    assert both.key_ids == ("k2025", "k2026")


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(AppError) as e:
        call()
    return e.value.code


def test_errors_have_stable_codes_and_never_echo_key_material() -> None:
    old = Keyring.parse(OLD)
    token = old.encrypt("value", aad="a")
    new_only = Keyring.parse(NEW)
    assert code_of(lambda: new_only.decrypt(token, aad="a")) == "encryption_key_unknown"
    assert code_of(lambda: old.decrypt(token, aad="b")) == "decryption_failed"  # moved to another row
    same_id_other_key = Keyring.parse("k2025:" + NEW.split(":", 1)[1])
    assert code_of(lambda: same_id_other_key.decrypt(token, aad="a")) == "decryption_failed"
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert code_of(lambda: old.decrypt(tampered, aad="a")) == "decryption_failed"
    assert code_of(lambda: old.decrypt("plain text", aad="a")) == "ciphertext_invalid"
    assert code_of(lambda: old.decrypt("hx1:k2025:@@", aad="a")) == "ciphertext_invalid"
    material = OLD.split(":", 1)[1]
    for spec, active in [
        ("nokey", None),
        ("k1:not-base64!", None),
        ("k1:" + base64.b64encode(os.urandom(16)).decode(), None),  # AES-128: refused
        (f"{OLD},{OLD}", None),
        (f"{OLD},{NEW}", None),  # several keys: the active one must be named
        (OLD, "k9"),
        ("", None),
    ]:
        with pytest.raises(AppError) as e:
            Keyring.parse(spec, active=active)
        assert e.value.code == "encryption_keys_invalid", spec
        assert material not in e.value.detail
    assert code_of(lambda: generate_key("bad id")) == "encryption_keys_invalid"


def test_keys_accept_standard_and_url_safe_base64() -> None:
    raw = os.urandom(32)
    std = base64.b64encode(raw).decode()
    url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert parse_keys(f"a:{std}, b:{url}") == {"a": raw, "b": raw}


def test_reveal_passes_plain_text_stored_before_encryption() -> None:
    ring = Keyring.parse(OLD)
    assert ring.reveal("legacy body", aad="a") == "legacy body"
    assert ring.reveal(ring.encrypt("new body", aad="a"), aad="a") == "new body"


def test_configured_keys_come_from_settings(tmp_path) -> None:
    s = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'h.db'}",
        encryption_keys=f"{OLD},{NEW}",
        encryption_active_key="k2026",
    )
    ring = resolve_keyring(s)
    assert ring.active == "k2026" and not keys_file(s).exists()
    assert NEW.split(":", 1)[1] not in repr(s)  # a SecretStr: never printed


def test_without_keys_a_development_key_file_is_generated_once(tmp_path) -> None:
    s = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path / 'h.db'}")  # type: ignore[call-arg]
    first = resolve_keyring(s)
    file = keys_file(s)
    assert file == tmp_path / "encryption_keys" and stat.S_IMODE(file.stat().st_mode) == 0o600
    token = first.encrypt("x", aad="a")
    assert resolve_keyring(s).decrypt(token, aad="a") == "x"
    file.write_text("local:short\n", encoding="ascii")
    with pytest.raises(AppError) as e:
        resolve_keyring(s)
    assert e.value.code == "encryption_keys_invalid" and str(file) in e.value.detail
