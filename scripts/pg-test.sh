#!/usr/bin/env bash
# Start or stop a private PostgreSQL for the test suite (Debian's package, its own
# data directory and port on loopback). Prints the URL on start.
# The test role may end other sessions (pg_signal_backend): DROP DATABASE ... WITH (FORCE)
# after a test must also end an autovacuum worker still in that database.
# PostgreSQL refuses to run as root, so as root it runs as the "postgres" user.
set -euo pipefail
cmd=${1:?start|stop}
dir=${PGTEST_DIR:-/tmp/hall-kiosk-pgtest}
port=${PGTEST_PORT:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[ -n "$bindir" ] || { echo "!! PostgreSQL server binaries not found (apt package postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case "$cmd" in
  start)
    if [ -f "$dir/data/postmaster.pid" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "GRANT pg_signal_backend TO kiosk" >/dev/null
      echo "postgresql+psycopg://kiosk@127.0.0.1:$port/kiosk_test"; exit 0
    fi
    rm -rf "$dir"; mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_pg "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE ROLE kiosk LOGIN CREATEDB" \
      -c "GRANT pg_signal_backend TO kiosk" -c "CREATE DATABASE kiosk_test OWNER kiosk" >/dev/null
    echo "postgresql+psycopg://kiosk@127.0.0.1:$port/kiosk_test"
    ;;
  stop)
    [ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
esac
