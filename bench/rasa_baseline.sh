#!/usr/bin/env bash
# Baseline for the NLU parse benchmark: a Rasa 3.6 NLU server trained on Banking77 with Rasa's
# documented LogisticRegressionClassifier pipeline, to compare against POST /api/v1/nlu/parse.
#
#   bash bench/rasa_baseline.sh
#
# Idempotent: an existing venv, training file or up-to-date model is reused. Settings (env):
#   RASA_DIR              where the venv and project go (default: var/rasa of this checkout)
#   RASA_PYTHON           a Python 3.10 (Rasa 3.6 supports 3.8-3.10; default: python3.10 on
#                         PATH if it runs, else a pyenv 3.10)
#   RASA_PORT             port of the start-up check (default 5005)
#   HELIXDESK_SHARED_DATA folder holding banking77/ (default: ../shared/data next to the checkout)
# It ends by starting the server once to check /model/parse (start-up time, memory), stopping
# it, and printing the model path and the command that starts the server.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RASA_DIR="${RASA_DIR:-$ROOT/var/rasa}"
DATA="${HELIXDESK_SHARED_DATA:-$ROOT/../shared/data}/banking77"
PORT="${RASA_PORT:-5005}"
export RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore
log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

if [ ! -f "$DATA/train.csv" ]; then
  echo "Banking77 not found: $DATA/train.csv is missing." >&2
  echo "Set HELIXDESK_SHARED_DATA to the folder that holds banking77/ (train.csv: text,category)." >&2
  exit 1
fi
mkdir -p "$RASA_DIR/project/data"
VENV="$RASA_DIR/venv" PROJECT="$RASA_DIR/project"
MODEL="$PROJECT/models/banking77-nlu.tar.gz"

# 1. Rasa in its own venv. The venv's own pip installs it as is, no extra pins needed; it pulls
#    TensorFlow 2.12 (CPU), about 1.5 minutes from a warm cache.
if [[ "$("$VENV/bin/rasa" --version 2>/dev/null || true)" != *"Rasa Version"*"3.6.21"* ]]; then
  PY=""
  for c in ${RASA_PYTHON:-python3.10 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10}; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then PY="$c"; break; fi
  done
  [ -n "$PY" ] || { echo "no working Python 3.10 found; set RASA_PYTHON" >&2; exit 1; }
  log "creating $VENV with $PY and installing rasa==3.6.21"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install rasa==3.6.21 > "$RASA_DIR/pip.log" 2>&1 \
    || { tail -20 "$RASA_DIR/pip.log" >&2; exit 1; }
fi

# 2. The project: pipeline config and the Banking77 training set as Rasa NLU yaml.
cat > "$PROJECT/config.yml.new" <<'EOF'
recipe: default.v1
assistant_id: helixdesk-banking77-baseline
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: LogisticRegressionClassifier
policies: []
EOF
# Only replace config.yml when it changed, so its timestamp keeps an up-to-date model valid.
cmp -s "$PROJECT/config.yml.new" "$PROJECT/config.yml" && rm "$PROJECT/config.yml.new" \
  || mv "$PROJECT/config.yml.new" "$PROJECT/config.yml"
if [ ! -f "$PROJECT/data/nlu.yml" ] || [ "$DATA/train.csv" -nt "$PROJECT/data/nlu.yml" ]; then
  log "writing $PROJECT/data/nlu.yml from $DATA/train.csv"
  # One line per example: whitespace (a few texts hold line breaks) is collapsed to single spaces.
  "$VENV/bin/python" - "$DATA/train.csv" "$PROJECT/data/nlu.yml" <<'EOF'
import collections, csv, sys
by_intent = collections.defaultdict(list)
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        by_intent[row["category"]].append(" ".join(row["text"].split()))
with open(sys.argv[2], "w") as out:
    out.write('version: "3.1"\nnlu:\n')
    for intent in sorted(by_intent):
        out.write(f"- intent: {intent}\n  examples: |\n")
        out.writelines(f"    - {text}\n" for text in by_intent[intent])
print(f"{sum(map(len, by_intent.values()))} examples, {len(by_intent)} intents")
EOF
fi
if [ ! -f "$MODEL" ] || [ "$PROJECT/config.yml" -nt "$MODEL" ] || [ "$PROJECT/data/nlu.yml" -nt "$MODEL" ]; then
  log "training (about a minute on 2 cores)"
  start=$(date +%s)
  (cd "$PROJECT" && "$VENV/bin/rasa" train nlu --config config.yml --nlu data \
    --out models --fixed-model-name banking77-nlu > train.log 2>&1) \
    || { tail -20 "$PROJECT/train.log" >&2; exit 1; }
  log "trained in $(( $(date +%s) - start )) s (log: $PROJECT/train.log)"
fi

# 3. Start the server once: time until POST /model/parse answers, resident memory, then stop it.
RUN=("$VENV/bin/rasa" run --enable-api -m "$MODEL" -i 127.0.0.1 -p "$PORT")
log "checking the server on 127.0.0.1:$PORT"
(cd "$PROJECT" && exec "${RUN[@]}" > "$PROJECT/server.log" 2>&1) &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
"$VENV/bin/python" - "$PORT" "$pid" <<'EOF'
import json, sys, time, urllib.request
port, pid = sys.argv[1], sys.argv[2]
start = time.monotonic()
req = urllib.request.Request(f"http://127.0.0.1:{port}/model/parse", headers={"Content-Type": "application/json"},
                             data=json.dumps({"text": "I am still waiting on my card?"}).encode())
while True:
    try:
        body = json.load(urllib.request.urlopen(req, timeout=5))
        break
    except OSError:
        if time.monotonic() - start > 120:
            sys.exit("the server did not answer within 120 s; see server.log")
        try:
            alive = "\tZ" not in open(f"/proc/{pid}/status").read().split("State:")[1][:3]
        except OSError:
            alive = False
        if not alive:
            sys.exit("the server exited; see server.log")
        time.sleep(0.2)
rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS:"))
print(f"start-up {time.monotonic() - start:.1f} s, {rss / 1024:.0f} MiB resident; "
      f"parse -> {body['intent']['name']} ({body['intent']['confidence']:.2f})")
EOF
kill "$pid"; wait "$pid" 2>/dev/null || true; trap - EXIT

echo "model: $MODEL"
echo "start: (cd $PROJECT && RASA_TELEMETRY_ENABLED=false ${RUN[*]})"
