#!/usr/bin/env bash
# The README's test command: all set-up, then the checks pyproject declares (ruff, the
# import-linter contracts, mypy) and the whole test suite against one devcluster.
# Cheap checks run first; every check runs even when an earlier one failed, a summary lists
# each result, and the run fails if any check failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

declare -a summary=()
failed=0

# run_check NAME CMD...: run one check, record "NAME: ok" or "NAME: FAILED (rc N)".
run_check() {
    local name=$1 rc=0
    shift
    echo "test.sh: == $name: $*" >&2
    "$@" || rc=$?
    if [ "$rc" = 0 ]; then
        summary+=("$name: ok")
    else
        summary+=("$name: FAILED (rc $rc)")
        failed=1
    fi
}

pytest_rc() {
    local rc=0
    .venv/bin/python -m pytest -p no:cacheprovider "$@" || rc=$?
    if [ "$rc" = 5 ]; then
        echo "test.sh: pytest collected no tests — that is a failure" >&2
    fi
    return "$rc"
}

run_check ruff .venv/bin/ruff check .
run_check import-linter .venv/bin/lint-imports
run_check import-cycles .venv/bin/python tools/import_cycles.py
run_check mypy .venv/bin/mypy
run_check pytest pytest_rc "$@"

echo "test.sh: summary" >&2
for line in "${summary[@]}"; do
    echo "test.sh:   $line" >&2
done
exit "$failed"
