#!/usr/bin/env bash
# Runs the whole test suite: unit tests, the store contract on SQLite and PostgreSQL, the API
# and pages end to end against the built-in Entra emulator, sign-in against a real OpenID provider
# (npm oidc-provider), and the portal in headless Chromium; and renders and validates the Kubernetes
# manifests (scripts/k8s-check.sh).
#
# PostgreSQL: JITGATE_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres). If it is
# not answering, this script tries to start the local cluster. Under CI (CI=true) an unreachable
# PostgreSQL fails the run; elsewhere the PostgreSQL half of each store test is skipped, loudly.
#
# Browser tests: Debian's chromium and chromium-driver, installed here when missing. Under CI a
# failed install fails the run; elsewhere the browser tests are skipped, loudly.
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
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "Node.js or npm is missing; installing Debian's nodejs and npm"
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
        { $SUDO apt-get update &&
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; } ||
            echo "Installing nodejs and npm failed" >&2
    fi
fi
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

browser_ok() { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }

if ! browser_ok; then
    echo "Chromium or chromedriver is missing; installing Debian's chromium and chromium-driver"
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
        { $SUDO apt-get update &&
            $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; } ||
            echo "Installing chromium and chromium-driver failed" >&2
    fi
fi
if browser_ok; then
    echo "Browser tests will use $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and $(/usr/bin/chromedriver --version 2>/dev/null | cut -d' ' -f1-2)"
elif [ "${CI:-}" = "true" ]; then
    echo "Chromium and chromedriver are required under CI but could not be installed" >&2
    exit 1
else
    echo "WARNING: Chromium or chromedriver could not be installed; the browser tests will be skipped" >&2
fi

# A Python virtual environment in $1, created when missing (installing Debian's python3-venv if
# the venv module is missing). Fails quietly: the callers check what they need.
make_venv() {
    [ -x "$1/bin/python" ] && return 0
    command -v python3 >/dev/null 2>&1 || return 1
    if ! python3 -m venv "$1"; then
        rm -rf "$1"
        # Debian ships the venv module apart from python3.
        if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
            { $SUDO apt-get update &&
                $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv; } ||
                echo "Installing python3-venv failed" >&2
        fi
        python3 -m venv "$1" || { rm -rf "$1"; return 1; }
    fi
}

# The SMTP tests (tests/channels.rs) send mail to a real SMTP server, aiosmtpd, run from a virtual
# environment in tests/channels/.venv; the webhook signature check there runs python3 itself.
# Under CI a failed install fails the run; elsewhere the SMTP tests are skipped, loudly.
SMTP_VENV=tests/channels/.venv
SMTP_PIN="aiosmtpd==1.4.6"
smtp_ok() {
    "$SMTP_VENV/bin/python" -c 'import sys, aiosmtpd; sys.exit(aiosmtpd.__version__ != "1.4.6")' >/dev/null 2>&1
}
if ! smtp_ok; then
    echo "Installing $SMTP_PIN for the SMTP tests (virtual environment in $SMTP_VENV)"
    if make_venv "$SMTP_VENV"; then
        "$SMTP_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$SMTP_PIN" ||
            echo "pip install $SMTP_PIN failed" >&2
    fi
fi
if smtp_ok; then
    JITGATE_TEST_SMTP_PYTHON="$(pwd)/$SMTP_VENV/bin/python"
    export JITGATE_TEST_SMTP_PYTHON
    echo "SMTP tests will use $SMTP_PIN ($JITGATE_TEST_SMTP_PYTHON)"
elif [ "${CI:-}" = "true" ]; then
    echo "python3 with $SMTP_PIN is required under CI but could not be installed in $SMTP_VENV" >&2
    exit 1
else
    echo "WARNING: python3 with $SMTP_PIN could not be installed; the SMTP tests will be skipped" >&2
fi

# The property-based run of the JSON API against its OpenAPI document (tests/api/schema_run.rs)
# uses Schemathesis, pinned in tests/openapi/requirements.txt, from a virtual environment in
# tests/openapi/.venv (reinstalled when the pins change). The test itself fails under CI without
# it and is skipped, loudly, elsewhere.
ST_VENV=tests/openapi/.venv
ST_PINS=tests/openapi/requirements.txt
if ! cmp -s "$ST_PINS" "$ST_VENV/installed-requirements.txt"; then
    echo "Installing Schemathesis for the OpenAPI property run (virtual environment in $ST_VENV)"
    if make_venv "$ST_VENV" &&
        "$ST_VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ST_PINS"; then
        cp "$ST_PINS" "$ST_VENV/installed-requirements.txt"
    else
        echo "Installing Schemathesis into $ST_VENV failed" >&2
    fi
fi
if [ -x "$ST_VENV/bin/schemathesis" ] && cmp -s "$ST_PINS" "$ST_VENV/installed-requirements.txt"; then
    JITGATE_TEST_SCHEMATHESIS="$(pwd)/$ST_VENV/bin/schemathesis"
    export JITGATE_TEST_SCHEMATHESIS
    echo "The OpenAPI property run will use $("$JITGATE_TEST_SCHEMATHESIS" --version 2>/dev/null || echo schemathesis)"
fi

# The Kubernetes manifests (deploy/kubernetes): both overlays rendered with `kubectl kustomize`
# and validated against the Kubernetes schemas; the script installs its pinned tools itself.
bash scripts/k8s-check.sh

cargo test --all-targets --locked "$@"
