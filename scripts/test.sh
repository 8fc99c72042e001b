#!/usr/bin/env bash
# Runs pytest. The store tests also run against a real PostgreSQL server when
# scripts/pg.sh can install and start one; the server is stopped on exit. The
# HTML report is also rendered in headless Chromium, installed by
# scripts/browser.sh when missing.
#
# The tests run in parallel, one pytest-xdist worker per CPU core (at most 4),
# so the suite takes about half as long on a 2-core machine as in one process.
# Every test is independent of the others' order and of the worker it runs in:
# each store test has its own SQLite file or PostgreSQL schema, each worker its
# own report cache. KYPHO_TEST_WORKERS=0 runs them in this process (for a
# debugger, or `-x` on the first failure in order).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
if [ -x scripts/pg.sh ] && [ "${KYPHO_NO_PG:-0}" != "1" ]; then
  if url=$(bash scripts/pg.sh start); then
    export KYPHO_PG_URL="$url"
    trap 'bash scripts/pg.sh stop || true' EXIT
  else
    echo "scripts/test.sh: PostgreSQL could not be started; store tests run on SQLite only" >&2
  fi
fi
if [ "${KYPHO_NO_BROWSER:-0}" != "1" ]; then
  bash scripts/browser.sh || echo "scripts/test.sh: no Chromium; the browser test is skipped" >&2
fi
workers="${KYPHO_TEST_WORKERS:-auto}"
if [ "$workers" = "0" ]; then
  "$BIN/pytest" "$@"
else
  "$BIN/pytest" -n "$workers" --maxprocesses 4 "$@"
fi
