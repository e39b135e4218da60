#!/usr/bin/env bash
# Run the README's test command in a fresh virtual environment.
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

# The optional CPU backends, so their tests run instead of being skipped.
if [ "${XPNET_CI_OPTIONAL_BACKENDS:-1}" != 0 ]; then
    python -m pip install --quiet "torch==2.13.0" jax
fi

status=0
pip install -e ".[test]" && python -m pytest || status=$?
if [ "$status" -eq 5 ]; then
    echo "ci: pytest collected no tests; that is a failure" >&2
    exit 1
fi
exit "$status"
