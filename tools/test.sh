#!/usr/bin/env bash
# The README's test command: all set-up, then the whole test suite against one devcluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
    echo "test.sh: pytest collected no tests — that is a failure" >&2
    exit 1
fi
exit "$rc"
