"""`helixdesk users` and `helixdesk apikeys` as an administrator uses them (real subprocesses)."""

from __future__ import annotations

import json

import httpx
import pytest

from helixdesk.auth.demo import DEMO_STAFF
from helixdesk.auth.service import StaffAccounts
from helixdesk.db.session import make_engine, make_session_factory
from tests.cliproc import helixdesk_cli

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = pytest.mark.slow


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path / 'staff.db'}"


@pytest.fixture
def run(tmp_path, db):
    helixdesk = helixdesk_cli(tmp_path, env={"HELIXDESK_DATABASE_URL": db}, timeout=120)
    assert helixdesk("db", "upgrade").returncode == 0
    return helixdesk


def test_create_list_disable_and_reset(run, db):
    made = run(
        "users",
        "create",
        "li.na",
        "--role",
        "agent",
        "--role",
        "senior",
        "--name",
        "李娜",
        "--language",
        "zh",
        "--language",
        "en",
        "--password-stdin",
        stdin="a long enough passphrase\n",
    )
    assert made.returncode == 0, made.stderr
    assert "queues: senior, general" in made.stdout
    listed = json.loads(run("users", "list", "--json").stdout)
    assert [(u["username"], u["display_name"], u["queues"]) for u in listed] == [
        ("li.na", "李娜", ["senior", "general"])
    ]
    engine = make_engine(db)
    accounts = StaffAccounts(sessions=make_session_factory(engine))
    assert accounts.sign_in("li.na", "a long enough passphrase").user.roles == ("agent", "senior")
    assert run("users", "disable", "li.na").returncode == 0
    assert accounts.get("li.na").disabled
    assert run("users", "enable", "li.na").returncode == 0
    reset = run("users", "reset-password", "li.na", "--password-stdin", stdin="another long passphrase\n")
    assert reset.returncode == 0
    assert accounts.sign_in("li.na", "another long passphrase").user.username == "li.na"
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "code"),
    [
        (
            ["users", "create", "x.y", "--role", "janitor", "--password-stdin"],
            "a long enough passphrase\n",
            "invalid_role",
        ),
        (["users", "create", "x.y", "--role", "agent", "--password-stdin"], "short\n", "weak_password"),
        (
            ["users", "create", "Bad Name", "--role", "agent", "--password-stdin"],
            "a long enough passphrase\n",
            "invalid_username",
        ),
        (["users", "disable", "nobody"], "", "user_not_found"),
        (["apikeys", "create", "--name", "x", "--channel", "fax"], "", "invalid_channel"),
        (
            ["apikeys", "create", "--name", "x", "--channel", "app", "--scope", "everything"],
            "",
            "invalid_scope",
        ),
        (["apikeys", "revoke", "hdk_nothing"], "", "api_key_not_found"),
    ],
)
def test_bad_input_exits_2_with_a_stable_code(run, args, stdin, code):
    done = run(*args, stdin=stdin)
    assert done.returncode == 2 and f"error[{code}]" in done.stderr, done.stderr


def test_a_duplicate_user_is_refused_and_the_first_is_kept(run):
    ok = run(
        "users", "create", "li.na", "--role", "agent", "--password-stdin", stdin="a long enough passphrase\n"
    )
    assert ok.returncode == 0
    again = run(
        "users", "create", "li.na", "--role", "admin", "--password-stdin", stdin="a long enough passphrase\n"
    )
    assert again.returncode == 2 and "error[user_exists]" in again.stderr
    assert json.loads(run("users", "list", "--json").stdout)[0]["roles"] == ["agent"]


def test_api_keys_work_until_revoked(run, db, tmp_path, server_env):
    from tests.serverproc import Server

    created = run("apikeys", "create", "--name", "mobile app back end", "--channel", "app")
    assert created.returncode == 0, created.stderr
    raw = created.stdout.strip().splitlines()[-1]
    assert raw.startswith("hdk_")
    listed = run("apikeys", "list", "--json").stdout
    assert json.loads(listed)[0]["prefix"] == raw[:12] and raw not in listed
    server = Server({"HELIXDESK_DATABASE_URL": db, **server_env}, log=tmp_path / "server.log").start()
    try:
        ok = httpx.post(
            f"{server.base}/api/v1/conversations", json={"channel": "app"}, headers={"X-Api-Key": raw}
        )
        assert ok.status_code == 201, ok.text
        assert run("apikeys", "revoke", raw[:12]).returncode == 0
        refused = httpx.post(
            f"{server.base}/api/v1/conversations", json={"channel": "app"}, headers={"X-Api-Key": raw}
        )
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    finally:
        server.stop()


def test_the_demo_staff_are_created_once(run):
    first = run("users", "seed-demo", "--password-stdin", stdin="helixdesk-demo-2026\n")
    assert first.returncode == 0 and f"created {len(DEMO_STAFF)} demo accounts" in first.stdout
    second = run("users", "seed-demo", "--password-stdin", stdin="helixdesk-demo-2026\n")
    assert "created 0 demo accounts" in second.stdout
