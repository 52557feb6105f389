#!/usr/bin/env bash
# Start a throwaway PostgreSQL server (Debian's `postgresql`) on 127.0.0.1:${PGPORT:-5433} for tests,
# and print the SQLAlchemy URL of its test database. Installs the package if missing.
set -euo pipefail
PORT="${PGPORT:-5433}"
DIR="${TRUSTDESK_PG_DIR:-/tmp/trustdesk-pg}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  $SUDO apt-get update -qq >&2 && $SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
RUN=(); if [ "$(id -u)" -eq 0 ]; then RUN=(runuser -u postgres --); fi
if [ ! -f "$DIR/PG_VERSION" ]; then
  mkdir -p "$DIR"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$DIR"
  "${RUN[@]}" "$BIN/initdb" -D "$DIR" -U postgres -A trust >/dev/null
fi
if ! "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
    -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
fi
psql -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='trustdesk_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE trustdesk_test" >/dev/null
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/trustdesk_test"
