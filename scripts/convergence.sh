#!/usr/bin/env bash
# The larger convergence run: N grants (default 600) against an emulated Graph failing about 30%
# of writes, the jitgate serve process killed with SIGKILL every 6-12 s, on SQLite and on
# PostgreSQL (JITGATE_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres).
# Prints the figures recorded in docs/benchmarks.md. Takes about N/5 + 150 seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export JITGATE_CONVERGENCE_GRANTS="${1:-600}"
exec cargo test --release --test convergence kills_and_faults -- --nocapture
