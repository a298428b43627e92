#!/usr/bin/env bash
# Install everything the tests need (system packages, services, Python packages) and run
# the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install chromium fonts-wqy-microhei nats-server espeak-ng
# The tests cover the optional English voice too (Piper, GPL-3.0: only in the test environment).
ensure_venv test,voice-piper
ensure_postgres
ensure_redis

log "ruff"
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/ruff" format --check src tests bench
log "mypy (strict)"
"$VENV/bin/mypy"
log "import-linter (packages import only downward)"
"$VENV/bin/lint-imports"
# Two test processes (one per core of the machines we target); each module's tests stay in one
# process (`loadscope`), so a module's server or database fixture starts once.
# HELIXDESK_TEST_WORKERS=0 runs everything in this process.
log "pytest (${HELIXDESK_TEST_WORKERS:-2} workers)"
"$VENV/bin/pytest" -n "${HELIXDESK_TEST_WORKERS:-2}" --dist loadscope "$@"
