"""Shared by the bench scripts: run a measurement in its own Python process.

A fresh process per side gives each its own peak RSS (``ru_maxrss`` never goes down), and
its own Keras backend (``KERAS_BACKEND`` is read once, at import).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def child(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` with this interpreter; it must print one JSON object as its last line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **(env or {})})
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])
