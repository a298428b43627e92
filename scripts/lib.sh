# Shared set-up steps for scripts/demo.sh and scripts/test.sh (sourced, not run).
# Everything here is idempotent: a second run only checks and moves on.

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

apt_updated=""
apt_install() {
  # apt_install PKG...: install the Debian packages that are missing.
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "missing system packages (${missing[*]}) and no apt-get to install them" >&2; return 1
  fi
  log "installing system packages: ${missing[*]}"
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  # ensure_venv [EXTRAS]: create .venv and install the package (with extras, e.g. "test").
  local extras="${1:-}"
  if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  local stamp="$VENV/.installed-${extras:-runtime}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    log "installing Helixdesk and its dependencies into $VENV"
    "$VENV/bin/python" -m pip install -q -e "$spec" 2>&1 | grep -v "^WARNING: Location" || true
    "$VENV/bin/python" -c 'import helixdesk' && touch "$stamp"
  fi
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    apt_install postgresql postgresql-client
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  local hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q "helixdesk-test" "$hba"; then
    # Local test cluster only: trust connections from this machine (as on the CI machines).
    as_root sed -i '1i host all all 127.0.0.1/32 trust # helixdesk-test\nhost all all ::1/128 trust # helixdesk-test' "$hba"
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='root'" | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -c "CREATE ROLE root SUPERUSER LOGIN" >/dev/null
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test OWNER root" >/dev/null
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return 0; fi
  command -v redis-server >/dev/null || apt_install redis-server
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
}
