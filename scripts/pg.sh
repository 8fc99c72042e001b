#!/usr/bin/env bash
# A throwaway PostgreSQL server for kypho's store tests and benchmarks.
#
#   bash scripts/pg.sh start   # prints ONLY the SQLAlchemy URL on stdout
#   bash scripts/pg.sh stop    # stops the server and removes its directory
#   bash scripts/pg.sh url     # prints the URL of the running server
#
# The cluster lives in $KYPHO_PG_DIR (default: <repo>/.pg/), listens on a free
# loopback port and on a unix socket in that directory, and trusts local
# connections: it holds test data only. When the server's user cannot reach that
# directory (a checkout under /root, say), the cluster goes to a fresh folder
# under /tmp and $KYPHO_PG_DIR only records where. PostgreSQL is installed with apt-get when
# no server binaries are found (root only, non-interactive, so it runs in CI).
# Everything except the URL goes to stderr, so `url=$(bash scripts/pg.sh start)` works.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${KYPHO_PG_DIR:-$ROOT/.pg}"
DBNAME="kypho"

log() { echo "pg.sh: $*" >&2; }

find_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  fi
  # Debian/Ubuntu keep server binaries out of PATH, one folder per major version.
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

install_postgres() {
  if [ "$(id -u)" != "0" ]; then
    log "PostgreSQL is not installed and installing it needs root"
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  log "installing PostgreSQL with apt-get"
  if ! apt-get install -y -q postgresql >&2 </dev/null; then
    apt-get update -q >&2 </dev/null
    apt-get install -y -q postgresql >&2 </dev/null
  fi
}

# Run a command as the cluster's owner: initdb and postgres refuse to run as root.
as_owner() {
  if [ "$(id -u)" = "0" ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

free_port() {
  local py
  for py in python3 python "$ROOT/.venv/bin/python"; do
    if command -v "$py" >/dev/null 2>&1 || [ -x "$py" ]; then
      "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
      return 0
    fi
  done
  # No Python: a port from the dynamic range, checked with bash's /dev/tcp.
  local p
  for p in $(seq 55432 55532); do
    if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# where the cluster's files are: $DIR itself, or the folder recorded in $DIR/run
run_dir() {
  if [ -f "$DIR/run" ]; then cat "$DIR/run"; else echo "$DIR"; fi
}

url_of() {
  echo "postgresql+psycopg://postgres@127.0.0.1:$(cat "$DIR/port")/$DBNAME"
}

running() {
  [ -f "$DIR/port" ] && [ -f "$DIR/bindir" ] && [ -f "$(run_dir)/data/postmaster.pid" ] \
    && as_owner "$(cat "$DIR/bindir")/pg_ctl" -D "$(run_dir)/data" status >/dev/null 2>&1
}

start() {
  if running; then
    url_of
    return 0
  fi
  local bindir
  if ! bindir="$(find_bindir)"; then
    install_postgres
    bindir="$(find_bindir)" || { log "no PostgreSQL server binaries after installing"; return 1; }
  fi
  stop_server
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  local run="$DIR"
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || { log "user 'postgres' does not exist"; return 1; }
    chown postgres: "$DIR"
    if ! as_owner test -w "$DIR"; then
      run="$(mktemp -d /tmp/kypho-pg.XXXXXX)"
      chown postgres: "$run"
      chmod 700 "$run"
      echo "$run" >"$DIR/run"
      log "postgres cannot reach $DIR; the cluster lives in $run"
    fi
  fi
  echo "$bindir" >"$DIR/bindir"
  local port
  port="$(free_port)"
  echo "$port" >"$DIR/port"
  as_owner "$bindir/initdb" -D "$run/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$run/initdb.log" 2>&1 \
    || { cat "$run/initdb.log" >&2; return 1; }
  as_owner "$bindir/pg_ctl" -D "$run/data" -l "$run/server.log" -w -t 60 \
    -o "-p $port -k $run -c listen_addresses=127.0.0.1 -c max_connections=100" start >&2 \
    || { cat "$run/server.log" >&2; return 1; }
  as_owner "$bindir/createdb" -h "$run" -p "$port" -U postgres "$DBNAME" >&2
  url_of
}

# stop a server left by an earlier start and remove every file of it
stop_server() {
  local run
  run="$(run_dir)"
  if [ -f "$DIR/bindir" ] && [ -f "$run/data/postmaster.pid" ]; then
    as_owner "$(cat "$DIR/bindir")/pg_ctl" -D "$run/data" -m fast -w stop >&2 || true
  fi
  if [ "$run" != "$DIR" ]; then rm -rf "$run"; fi
  rm -rf "$DIR"
}

stop() {
  stop_server
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running && url_of ;;
  *)
    echo "usage: bash scripts/pg.sh start|stop|url" >&2
    exit 2
    ;;
esac
