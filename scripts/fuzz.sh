#!/usr/bin/env bash
# Fuzzes the parsers with cargo-fuzz (libFuzzer): the configuration file and durations, the
# sign-in log reader, the Graph error parser, webhook and anchor signatures, and the audit
# chain reader (fuzz/fuzz_targets/, one file each, saying what it checks).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  how long each target runs (default 60)
#   TARGET   which targets (default: all of them)
#
# Each run starts from the committed seeds (fuzz/seeds/<target>/, the inputs that found bugs,
# kept as regression tests) and the working corpus (fuzz/corpus/<target>/, not committed). A
# target that fails leaves the input in fuzz/artifacts/<target>/ and the script exits 1 after
# running the rest. Installs cargo-fuzz when it is missing. cargo-fuzz needs nightly flags;
# RUSTC_BOOTSTRAP=1 lets a stable toolchain take them. The build goes to fuzz/target (or
# CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(config sign_ins graph_error webhook audit_chain)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "Installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
# No sanitizer: the code under test is safe Rust, so AddressSanitizer would find nothing and
# halve the speed; overflow checks and debug assertions stay on (cargo fuzz's default).
FLAGS=(--sanitizer none --codegen-units 16)

cargo fuzz build "${FLAGS[@]}"
failed=()
for t in "${TARGETS[@]}"; do
    mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t"
    echo "== $t: ${SECONDS_EACH}s"
    if ! cargo fuzz run "${FLAGS[@]}" "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "Failed: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "No target failed."
