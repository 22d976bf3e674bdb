#!/usr/bin/env bash
# Set-up shared by the README's two commands: Debian's Ceph packages, a venv, rbdpy itself.
# The venv gets the test and dev extras: pytest, and the checks CI runs (ruff, mypy, import-linter).
# Idempotent: each step is skipped when already done. Must run as root on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

CEPH_PACKAGES="ceph-mon ceph-osd ceph-mgr ceph-common python3-rados python3-rbd"
need_apt=0
for bin in ceph-mon ceph-osd ceph ceph-authtool monmaptool crushtool osdmaptool rbd rados; do
    command -v "$bin" >/dev/null 2>&1 || need_apt=1
done
/usr/bin/python3 -c 'import rados, rbd' >/dev/null 2>&1 || need_apt=1
if [ "$need_apt" = 1 ]; then
    echo "setup: installing Debian's Ceph packages ($CEPH_PACKAGES)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq $CEPH_PACKAGES >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    if ! "$PY" -m venv .venv >/dev/null 2>&1; then
        echo "setup: installing python3-venv" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        rm -rf .venv
        "$PY" -m venv .venv
    fi
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -e '.[test,dev]' >.venv/pip-install.log 2>&1 \
    || { cat .venv/pip-install.log >&2; echo "setup: pip install failed" >&2; exit 1; }
.venv/bin/python -c 'import rbdpy' || { echo "setup: rbdpy failed to install" >&2; exit 1; }
echo "setup: $(ceph --version | cut -d' ' -f1-3), $(.venv/bin/python --version), rbdpy $(.venv/bin/python -c 'import rbdpy; print(rbdpy.__version__)')" >&2
