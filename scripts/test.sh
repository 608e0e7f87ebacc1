#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the store contract on SQLite and PostgreSQL, the API
# end to end against the built-in Entra emulator, and sign-in against a real OpenID provider.
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

# The OpenID interoperability tests (tests/oidc_interop.rs) sign in against a real provider from
# npm (tests/oidc). Install it from the committed lockfile when missing or out of date.
OIDC_DIR=tests/oidc
for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "$tool is not installed: the OpenID interoperability tests ($OIDC_DIR) need Node.js 20 or later with npm" >&2
        exit 1
    fi
done
if [ ! -f "$OIDC_DIR/node_modules/.package-lock.json" ] ||
    [ "$OIDC_DIR/package-lock.json" -nt "$OIDC_DIR/node_modules/.package-lock.json" ]; then
    echo "Installing the OpenID provider for the interoperability tests (npm ci in $OIDC_DIR)"
    if ! (cd "$OIDC_DIR" && npm ci --no-audit --no-fund); then
        echo "npm ci failed in $OIDC_DIR: the OpenID interoperability tests cannot run" >&2
        exit 1
    fi
fi

cargo test --all-targets --locked "$@"
