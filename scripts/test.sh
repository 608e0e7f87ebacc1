#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the store contract on SQLite and PostgreSQL, the API
# end to end against the built-in Entra emulator.
#
# PostgreSQL: JITGATE_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres). If it is
# not answering, this script tries to start the local cluster. Under CI (CI=true) an unreachable
# PostgreSQL fails the run; elsewhere the PostgreSQL half of each store test is skipped, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${JITGATE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
export JITGATE_TEST_POSTGRES="$PG_URL"

pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -d "$PG_URL"
    else
        (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
    fi
}

if ! pg_up; then
    echo "PostgreSQL is not answering at $PG_URL; trying to start the local cluster"
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        for v in /etc/postgresql/*; do
            pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start || true
        done
        for _ in $(seq 1 30); do pg_up && break; sleep 1; done
    fi
fi
if pg_up; then
    echo "PostgreSQL is up at $PG_URL"
    if command -v psql >/dev/null 2>&1; then
        # Databases left behind by interrupted test runs.
        psql -q -X -d "$PG_URL" -At -c "SELECT datname FROM pg_database WHERE datname LIKE 'jitgate\_t\_%'" 2>/dev/null |
            while read -r db; do psql -q -X -d "$PG_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
    fi
elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is required under CI but cannot be reached at $PG_URL" >&2
    exit 1
else
    echo "WARNING: PostgreSQL cannot be reached; PostgreSQL halves of the store tests will be skipped" >&2
fi

cargo test --all-targets --locked "$@"
