#!/usr/bin/env bash
# The README's main-job command: all set-up, a devcluster, then rbdpy doing the most
# complete real work it can today (see `rbdpy demo --help`), then the cluster is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
DIR=${RBDPY_DEMO_DIR:-/tmp/rbdpy-demo}
.venv/bin/rbdpy devcluster stop --dir "$DIR" >/dev/null 2>&1 || true
trap '.venv/bin/rbdpy devcluster stop --dir "$DIR" >/dev/null 2>&1 || true' EXIT
echo "== rbdpy devcluster start --dir $DIR"
CONF=$(.venv/bin/rbdpy devcluster start --dir "$DIR" --osds 3 --mgr --pool rbd)
echo "$CONF"
.venv/bin/python -m rbdpy.cli.demo --conf "$CONF" --pool rbd
