#!/usr/bin/env bash
# Install everything and run Helixdesk on the embedded SQLite database with the demo bank.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# espeak-ng speaks the voice menu (text to speech; docs/voice.md).
apt_install espeak-ng
ensure_venv
export HELIXDESK_DATABASE_URL="${HELIXDESK_DATABASE_URL:-sqlite:///./var/helixdesk.db}"
mkdir -p var
log "migrating the database"
"$VENV/bin/helixdesk" db upgrade
log "loading the demo bank"
"$VENV/bin/helixdesk" bank seed --customers 200 --if-empty
log "loading the pack's FAQ into the knowledge base (skipped when unchanged)"
"$VENV/bin/helixdesk" kb ingest --pack --if-stale --quiet
if [ "$("$VENV/bin/helixdesk" rates list 2>/dev/null | grep -c USD)" = "0" ]; then
  log "loading demo exchange rates"
  "$VENV/bin/helixdesk" rates seed-demo
fi
DEMO_STAFF_PASSWORD="${HELIXDESK_DEMO_STAFF_PASSWORD:-helixdesk-demo-2026}"
log "creating the demo staff accounts (skipped when they exist)"
printf '%s\n' "$DEMO_STAFF_PASSWORD" | "$VENV/bin/helixdesk" users seed-demo --password-stdin >/dev/null
log "training the NLU models (skipped when they match the pack's data)"
"$VENV/bin/helixdesk" nlu train --if-stale
log "training the churn-risk model on the demo bank's history (skipped when unchanged)"
"$VENV/bin/helixdesk" lifecycle train --if-stale || log "churn model skipped: the bank has no monthly history (helixdesk bank seed --reset gives it one)"
log "writing a month of demo conversations (handoffs to the demo staff, a planted spike for the hotspots; skipped when there is history)"
"$VENV/bin/helixdesk" insight demo --if-empty
# The dashboards' figures now, not when the server's analytics consumer has read the month's events:
# a rebuild computes them from the tables in seconds and moves the consumer past those events.
log "computing the analytics dashboards' figures"
"$VENV/bin/helixdesk" analytics rebuild || log "analytics rebuild skipped: the server's analytics consumer will catch up"
log "agent console: http://${HOST:-127.0.0.1}:${PORT:-8000}/console (demo staff, e.g. fraud.zhao, agent.li, rm.sun, sup.liu; password: $DEMO_STAFF_PASSWORD)"
log "starting Helixdesk"
exec "$VENV/bin/helixdesk" serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
