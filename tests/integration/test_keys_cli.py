"""`helixdesk keys generate | status | rotate` as an operator runs them."""

from __future__ import annotations

import json

import pytest

from helixdesk.db.session import make_engine, make_session_factory
from helixdesk.privacy.crypto import Keyring, generate_key
from tests.cliproc import helixdesk_cli
from tests.outbox import send_codes

K1 = generate_key("k1")


# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


def test_generate_then_rotate_while_the_old_key_is_still_known(tmp_path):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    old = helixdesk_cli(tmp_path, env={"HELIXDESK_DATABASE_URL": url, "HELIXDESK_ENCRYPTION_KEYS": K1})
    assert old("db", "upgrade").returncode == 0
    engine = make_engine(url)
    send_codes(make_session_factory(engine), Keyring.parse(K1), 3)
    engine.dispose()

    generated = old("keys", "generate", "--id", "k2")
    assert generated.returncode == 0 and "HELIXDESK_ENCRYPTION_ACTIVE_KEY" in generated.stderr
    k2 = generated.stdout.strip()
    assert k2.startswith("k2:") and Keyring.parse(k2).active == "k2"
    assert old("keys", "generate", "--id", "bad id").returncode == 2

    both = helixdesk_cli(
        tmp_path,
        env={
            "HELIXDESK_DATABASE_URL": url,
            "HELIXDESK_ENCRYPTION_KEYS": f"{K1},{k2}",
            "HELIXDESK_ENCRYPTION_ACTIVE_KEY": "k2",
        },
    )
    before = both("keys", "status")
    assert before.returncode == 0 and "k1: 3" in before.stdout
    rotated = both("keys", "rotate", "--batch-size", "2")
    assert rotated.returncode == 0, rotated.stderr
    assert "re-encrypted 6 value(s) to key k2; 0 left" in rotated.stdout
    assert "0 value(s)" in both("keys", "rotate", "--quiet").stdout  # idempotent
    after = both("keys", "status").stdout
    assert "k2: 3" in after and "k1" not in after.split("active key")[1]

    new_only = helixdesk_cli(tmp_path, env={"HELIXDESK_DATABASE_URL": url, "HELIXDESK_ENCRYPTION_KEYS": k2})
    listed = new_only("outbox", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert sorted(e["body"] for e in json.loads(listed.stdout)) == [f"验证码 65432{i}" for i in range(3)]
    gone = old("outbox", "list")
    assert gone.returncode == 2 and "encryption_key_unknown" in gone.stderr
    bad = helixdesk_cli(
        tmp_path, env={"HELIXDESK_DATABASE_URL": url, "HELIXDESK_ENCRYPTION_KEYS": "k1:short"}
    )
    refused = bad("keys", "status")
    assert (
        refused.returncode == 2
        and "encryption_keys_invalid" in refused.stderr
        and "short" not in refused.stderr
    )
