"""Running one python-rbd/python-rados script under Ceph's binding and under rbdpy.

Ceph's modules work only on the system interpreter, so a parity test runs the same script
text twice in subprocesses: on ``/usr/bin/python3`` with ``import rados, rbd`` and on this
interpreter with ``from rbdpy import rados, rbd``. The script prints its results as JSON
on its last line of output.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"

#: The interpreter that runs each implementation of the python-rbd API.
PYTHONS = {"librbd": SYSTEM_PYTHON, "rbdpy": sys.executable}


def run_json(python: str, script: str, *args: str, timeout: float = 600) -> Any:
    """Run ``python -c script *args``; it must exit 0. Its last output line, as JSON."""
    proc = subprocess.run([python, "-c", script, *args], capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
