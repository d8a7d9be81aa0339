#!/usr/bin/env bash
# Run every test (ruff and the import contracts are tests too) under Xvfb with a private PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export PATH="$PWD/$VENV/bin:$PATH"

echo ">> starting PostgreSQL for the storage tests"
# A private server per run (own directory and free port), so runs never share one.
PGTEST_PORT=$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PGTEST_DIR=/tmp/hall-kiosk-pgtest-$PGTEST_PORT
export PGTEST_PORT PGTEST_DIR
KIOSK_TEST_PG_URL=$(scripts/pg-test.sh start) || { echo "!! could not start PostgreSQL" >&2; exit 1; }
export KIOSK_TEST_PG_URL
trap 'scripts/pg-test.sh stop' EXIT

mkdir -p artifacts
echo ">> pytest (under Xvfb)"
export KIVY_NO_ARGS=1 KIVY_USE_DEFAULTCONFIG=1 KIVY_NO_CONSOLELOG=1
xvfb-run -a -s "-screen 0 1280x1024x24" python -m pytest "$@"
