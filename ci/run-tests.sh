#!/usr/bin/env bash
# Run the README's test command in a fresh virtual environment, twice: first exactly as a
# user would (core CPU backends only), then again with the optional CPU backends (PyTorch,
# JAX) installed so their tests run instead of being skipped.
# Fails when a test fails, and also when pytest collects no test at all.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
cd "$repo"

python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install --quiet --upgrade pip

run_tests() {
    local status=0
    "$@" || status=$?
    if [ "$status" -eq 5 ]; then
        echo "ci: pytest collected no tests; that is a failure" >&2
        return 1
    fi
    return "$status"
}

echo "== the README's test command =="
run_tests bash -c 'pip install -e ".[test]" && python -m pytest'

if [ "${XPNET_CI_OPTIONAL_BACKENDS:-1}" != 0 ]; then
    echo "== again with the optional CPU backends (PyTorch, JAX) =="
    python -m pip install --quiet "torch==2.13.0" jax
    run_tests python -m pytest
fi
