"""Property-based API tests with schemathesis against the app's own OpenAPI description.

Every operation is called with generated valid and invalid inputs (a bounded number per
operation), each sent to an app on a fresh SQLite database and to one on a fresh PostgreSQL
database (which refuses text that SQLite would take, such as NUL), with the demo bank and demo
rates. The run fails on any
5xx, any response that does not match its declared schema or status codes, and any invalid input
that is accepted. Run it alone with:

    .venv/bin/pytest tests/integration/test_api_fuzz.py -q
    HELIXDESK_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/integration/test_api_fuzz.py -q   # longer
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from helixdesk.actions.rates import RateService
from helixdesk.auth.apikeys import ApiKeys
from helixdesk.auth.service import StaffAccounts
from helixdesk.bank.importer import import_bank_file
from helixdesk.bank.seed import build_demo_bank
from helixdesk.core.settings import Settings
from helixdesk.db.migrate import upgrade_engine
from helixdesk.db.session import make_engine, make_session_factory, transaction
from helixdesk.edge.app import create_app
from tests.conftest import PG_ADMIN_URL

# Real processes (the command line, the server): in the full suite, not the fast lane.
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


EXAMPLES = int(os.environ.get("HELIXDESK_FUZZ_EXAMPLES", "25"))
CREDENTIALS: dict[str, dict[str, dict[str, str]]] = {}  # per database


# The OpenAPI description does not need a running container: read it from an app built with defaults.
# Each generated call names the app under test (one per database, built by the module fixture once
# the trained models exist); schemathesis starts an app's lifespan at a test's first call and ends it
# with the test.
_SPEC = create_app(Settings(_env_file=None, database_url="sqlite:///:memory:")).openapi()  # type: ignore[call-arg]
schema = schemathesis.openapi.from_dict(_SPEC)


@pytest.fixture(scope="module")
def apps(tmp_path_factory, model_root):
    """An app on SQLite and one on PostgreSQL, each with its own credentials. Every generated case
    is sent to both: generating the cases is most of the run's time, so each is generated once."""
    name = f"helixdesk_fuzz_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    postgresql = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    try:
        yield {
            "sqlite": _app(
                "sqlite", f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'helixdesk.db'}", model_root
            ),
            "postgresql": _app("postgresql", postgresql, model_root),
        }
    finally:
        _drop(name)


def _app(database: str, url: str, model_root):
    engine = make_engine(url)
    upgrade_engine(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        import_bank_file(s, build_demo_bank(20))
    RateService(sessions=sessions).seed_demo(as_of=datetime.now(UTC))
    # Every generated call carries real credentials, so the fuzzing reaches past the auth checks:
    # a web-channel key with every scope, and a staff session (agent and supervisor) with its CSRF.
    _, raw_key = ApiKeys(sessions=sessions).create(
        name="fuzz", channel="web", scopes=["conversations", "nlu", "rates:write"]
    )
    staff = StaffAccounts(sessions=sessions)
    staff.create_user(
        username="fuzz.agent",
        password="fuzz passphrase 12",
        display_name="Fuzz",
        roles=["agent", "fraud", "supervisor"],
    )
    signed = staff.sign_in("fuzz.agent", "fuzz passphrase 12")
    CREDENTIALS[database] = {
        "headers": {"X-Api-Key": raw_key, "X-CSRF-Token": signed.csrf_token},
        "cookies": {"hd_session": signed.token},
    }
    engine.dispose()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        model_dir=model_root,
        secret_key="f" * 32,
        rate_limit_ip_per_minute=0,
        rate_limit_conversation_messages_per_minute=0,
        # Schemathesis ends an app's lifespan after each test and starts it again at the next: messages
        # are parsed on a thread, as in every in-process app of the tests, not in an NLU process
        # spawned (and its models loaded) once per operation. The server tests run the process.
        nlu_process=False,
    )
    return create_app(settings)


def _drop(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
    database=None,
)
def test_api_conforms_to_its_schema(case, apps):
    excluded = []
    if case.path == "/api/v1/rates/{currency}":
        # Rules against the data or across fields are not in the schema (a currency is a 3-letter
        # ISO code other than the base CNY; buy <= sell; a rate is positive and at most 1e6; as_of
        # parses as an ISO date-time): schema-valid input may get 422 `invalid_currency` or
        # `invalid_rate`. Every other check, including that invalid input is refused, still runs.
        excluded.append(positive_data_acceptance)
    if case.path in (
        "/console/api/conversations/{conversation_id}/wrap-up",
        "/console/api/conversations/{conversation_id}/goodwill",
    ):
        # Dispositions and goodwill reasons are the pack's data (handoff/labels.yaml,
        # policies/goodwill.yaml), not part of the schema.
        excluded.append(positive_data_acceptance)
    if case.path == "/console/api/quality/coaching" and case.method == "POST":
        # A coaching item's rule is one of the QA engine's rules (the pack's), not in the schema.
        excluded.append(positive_data_acceptance)
    if case.path == "/console/api/conversations/{conversation_id}/reassign":
        # A queue or a colleague must be given (a rule across two optional fields).
        excluded.append(positive_data_acceptance)
    if case.path == "/console/api/conversations/{conversation_id}/follow-ups":
        # The due time must be still to come: a rule against the clock, not in the schema.
        excluded.append(positive_data_acceptance)
    if case.path in (
        "/console/api/kb/uploads",
        "/console/api/kb/entries/{entry_id}/validity",
        "/console/api/kb/documents/{document_id}/validity",
    ) or (case.path == "/console/api/kb/entries/{entry_id}" and case.method == "PUT"):
        # An upload's bytes must hold text in the named format (an empty body is refused with
        # kb_empty_document); a validity's end must come after its start (a rule across two fields);
        # only FAQ entries are edited, not a document's sections (kb_not_editable: the data's rule).
        excluded.append(positive_data_acceptance)
    if case.path.startswith("/console/api/insight/"):
        # A period starts before it ends and spans at most a year, and its dates are real ones (rules
        # across fields and of the calendar); a proposal's edits need a question and an answer in one
        # language; feedback may not come from the future nor repeat an external id in one import,
        # and a CSV body must hold the columns: the data's rules, not the schema's.
        excluded.append(positive_data_acceptance)
    if case.path.startswith("/console/api/analytics/"):
        # A period's dates are real ones, in order and at most 366 days apart; a language filter is
        # one of the three languages; a change names its kind and a real day; a drill-down names a
        # metric the figures have; a report's name is one the scheduler writes: the data's rules.
        excluded.append(positive_data_acceptance)
    if case.path.startswith("/console/api/incidents"):
        # An incident's values are the register's (kinds, products, channels, languages, regions),
        # its times come in order and not over a year ahead, a change is refused on a resolved
        # incident or an old version: the data's rules, checked with `invalid_incident`.
        excluded.append(positive_data_acceptance)
    if case.path.startswith("/console/api/lifecycle/"):
        # A strategy's definition is the pack's strategy (kinds, conditions, three languages, an
        # offer within the bank's limit), and an edit names a strategy the bank has at the version
        # read: the data's rules, checked with `invalid_strategy`. An effect's or the touches'
        # period is real days in order (`bad_date`, `invalid_period`) of a strategy and version
        # the bank has (`strategy_not_found`).
        excluded.append(positive_data_acceptance)
    if case.path.startswith("/console/api/training/"):
        # A practice customer is one of the pack's (`invalid_training_customer`), a practice is one
        # of the agent's own (`training_session_not_found`) and still open (`training_session_ended`),
        # and a message is not blank (`empty_message`): the data's rules, not the schema's.
        excluded.append(positive_data_acceptance)
    if case.path.startswith(("/console/api/learning/", "/console/api/models")):
        # A label's intent, emotion and entity types are the pack's and its spans lie inside the
        # message; an item, a message or a model version must exist; a promotion passes the gate or
        # gives a reason; a dataset version needs resolved labels: the data's rules, not the schema's.
        excluded.append(positive_data_acceptance)
    if case.path == "/api/v1/conversations/{conversation_id}/images":
        # An image's bytes must be a PNG, JPEG or WebP that decodes (`image_invalid`): the data's
        # rule, not the schema's.
        excluded.append(positive_data_acceptance)
    if case.path == "/api/v1/conversations/{conversation_id}/audio":
        # A recording's bytes must be audio that decodes and holds words (`audio_unreadable`,
        # `audio_no_speech`): the data's rules, not the schema's.
        excluded.append(positive_data_acceptance)
    # The live stream never ends by itself: read what it sends in its first second.
    transport = {"timeout": 1.0} if case.path == "/console/api/events" else {}
    headers, cookies = dict(case.headers or {}), dict(case.cookies or {})
    for database, app in apps.items():
        case.headers = {**headers, **CREDENTIALS[database]["headers"]}
        case.cookies = {**cookies, **CREDENTIALS[database]["cookies"]}
        try:
            case.call_and_validate(excluded_checks=excluded, app=app, **transport)
        except Exception as failure:
            failure.add_note(f"on {database}")
            raise
