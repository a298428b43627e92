#!/usr/bin/env bash
# Install everything the tests need (system packages, services, Python packages) and run
# the linters, the type checker and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

apt_install chromium fonts-wqy-microhei nats-server
ensure_venv test
ensure_postgres
ensure_redis

log "ruff"
"$VENV/bin/ruff" check src tests bench
"$VENV/bin/ruff" format --check src tests bench
log "mypy (strict)"
"$VENV/bin/mypy"
log "import-linter (packages import only downward)"
"$VENV/bin/lint-imports"
log "pytest"
"$VENV/bin/pytest" "$@"
